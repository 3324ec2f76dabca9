package stacks

import (
	"fmt"

	"gopkg.in/yaml.v3"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// Loki and Tempo keep what they acknowledged in S3 (storage stack,
// newTelemetryStorage). Every values key below was read from the pinned
// chart at its tag: grafana-community/helm-charts charts/loki/values.yaml
// and templates/_helpers.tpl at loki-18.11.0, charts/tempo at tempo-2.2.4
// and charts/tempo-distributed at tempo-distributed-2.26.2.

// TelemetryReplication is how many copies of each log stream (Loki) and
// trace (Tempo ingesters) the write path keeps before anything reaches S3,
// when replicated: a write is acknowledged once two of the three hold it.
const TelemetryReplication = 3

// Replica counts of the replicated deployments (staging and prod). With
// exactly three Loki writers and three Tempo ingesters, spread one per AZ,
// replication factor 3 puts every stream and trace on all three, so losing
// one pod or one AZ loses nothing acknowledged. Scaling writers or
// ingesters beyond three needs zone-aware replication first.
const (
	LokiWriteReplicas    = 3
	LokiReadReplicas     = 3
	LokiBackendReplicas  = 3
	TempoIngesters       = 3
	TempoDistributors    = 2
	TempoQueriers        = 2
	TempoQueryFrontends  = 2
	TempoCompactors      = 1
	TempoMetricsGenerate = 1
)

// Service accounts the charts create (loki.serviceAccountName and
// tempo.serviceAccountName: the release name); the IRSA roles admit exactly
// these.
const (
	LokiServiceAccount  = obs.LokiRelease
	TempoServiceAccount = obs.TempoRelease
)

// telemetryRolePurpose is each store's IRSA role, "<org>-<env>-irsa-<kind>".
func telemetryRolePurpose(kind string) string { return "irsa-" + kind }

// newTelemetryRoles creates one IRSA role per store: read, write and
// delete (retention) in its own bucket, and the telemetry key. Neither can
// delete an object version, so a compromised pod cannot purge history:
// every deletion leaves a noncurrent version for TelemetryUndeleteDays.
func newTelemetryRoles(b *base, cluster *ClusterOutputs, t *TelemetryStorage) (map[string]*sp.IrsaRole, error) {
	accounts := map[string]string{"loki": LokiServiceAccount, "tempo": TempoServiceAccount}
	roles := map[string]*sp.IrsaRole{}
	for _, kind := range []string{"loki", "tempo"} {
		arn := "arn:aws:s3:::" + b.names.DataBucket(kind)
		role, err := sp.NewIrsaRole(b.stack, kind+"-irsa", &sp.IrsaRoleProps{
			RoleName: b.names.Role(telemetryRolePurpose(kind)), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
			PermissionsBoundary: b.boundaryArn(),
			Namespace:           obs.Namespace, ServiceAccount: accounts[kind],
			Statements: []sp.Statement{
				{Sid: "ListTheBucket", Actions: []string{"s3:ListBucket"}, Resources: []string{arn}},
				{Sid: "ReadWriteObjects", Actions: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resources: []string{arn + "/*"}},
				{Sid: "UseTheTelemetryKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{*t.KeyArn},
					Conditions: []sp.Condition{viaServices(b.cfg.Region, "s3")}},
			},
		})
		if err != nil {
			return nil, err
		}
		roles[kind] = role
	}
	return roles, nil
}

// zoneSpread keeps the pods of one component in different AZs: a
// replicated write path survives an AZ only if its copies are in different
// ones. DoNotSchedule: a pod waits for a node in an empty zone (the
// autoscaler adds one) rather than double up.
func zoneSpread(labels map[string]any) []map[string]any {
	return []map[string]any{{
		"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
		"labelSelector": map[string]any{"matchLabels": labels},
	}}
}

// lokiValues: chunks and index in the loki bucket through the IRSA role
// (no keys anywhere), retention by the compactor. Replicated, Loki runs in
// simple scalable mode: three writers (each with its WAL on a volume) at
// replication factor 3, spread over the AZs, plus read and backend pods.
// Otherwise (dev) one monolithic pod at replication factor 1 keeps its WAL
// on a volume and flushes to the same kind of bucket.
func lokiValues(cfg *envs.Config, names naming.Names, storageClass string, role *sp.IrsaRole) map[string]any {
	o := cfg.Observability
	replicated := obs.Replicated(cfg)
	rf := 1
	if replicated {
		rf = TelemetryReplication
	}
	volume := map[string]any{"size": fmt.Sprintf("%dGi", o.LokiStorageGi), "storageClass": storageClass}
	values := map[string]any{
		"loki": map[string]any{
			// One tenant. Safe only because the network policies let
			// nothing but the collectors and Grafana reach Loki.
			"auth_enabled": false,
			"commonConfig": map[string]any{"replication_factor": rf},
			"storage": map[string]any{
				"type":        "s3",
				"bucketNames": map[string]any{"chunks": names.DataBucket("loki")},
				"s3":          map[string]any{"region": cfg.Region},
			},
			"schemaConfig": map[string]any{"configs": []map[string]any{{
				"from": "2024-04-01", "store": "tsdb", "object_store": "s3", "schema": "v13",
				"index": map[string]any{"prefix": "index_", "period": "24h"},
			}}},
			// Retention: the compactor deletes chunks older than
			// retention_period (merged into the chart's limits_config);
			// Loki 3 refuses retention without a delete-request store.
			"compactor": map[string]any{
				"retention_enabled":    true,
				"delete_request_store": "s3",
			},
			"limits_config": map[string]any{"retention_period": fmt.Sprintf("%dh", o.LokiRetentionDays*24)},
			// No anonymous usage reports to the vendor.
			"analytics": map[string]any{"reporting_enabled": false},
		},
		"serviceAccount": map[string]any{"create": true, "name": LokiServiceAccount, "annotations": role.Annotation},
		// Alerts come from Prometheus; the ruler would need a bucket of its own.
		"ruler":        map[string]any{"enabled": false},
		"gateway":      map[string]any{"enabled": false},
		"chunksCache":  map[string]any{"enabled": false},
		"resultsCache": map[string]any{"enabled": false},
		"lokiCanary":   map[string]any{"enabled": false},
		"test":         map[string]any{"enabled": false},
		"minio":        map[string]any{"enabled": false},
	}
	if !replicated {
		values["deploymentMode"] = "Monolithic"
		values["singleBinary"] = map[string]any{"replicas": 1, "persistence": mergeValues(map[string]any{"enabled": true}, volume)}
		for _, c := range []string{"read", "write", "backend"} {
			values[c] = map[string]any{"replicas": 0}
		}
		return values
	}
	spread := func(component string) []map[string]any {
		return zoneSpread(map[string]any{
			"app.kubernetes.io/name": obs.LokiRelease, "app.kubernetes.io/instance": obs.LokiRelease, "app.kubernetes.io/component": component,
		})
	}
	values["deploymentMode"] = "SimpleScalable"
	values["singleBinary"] = map[string]any{"replicas": 0}
	values["write"] = map[string]any{
		"replicas": LokiWriteReplicas, "topologySpreadConstraints": spread("write"),
		"persistence": mergeValues(map[string]any{"volumeClaimsEnabled": true}, volume),
	}
	values["read"] = map[string]any{"replicas": LokiReadReplicas, "topologySpreadConstraints": spread("read")}
	values["backend"] = map[string]any{
		"replicas": LokiBackendReplicas, "topologySpreadConstraints": spread("backend"),
		"persistence": map[string]any{"volumeClaimsEnabled": true, "size": "10Gi", "storageClass": storageClass},
	}
	return values
}

// tempoS3 is Tempo's S3 backend: the tempo bucket through the IRSA role.
func tempoS3(cfg *envs.Config, names naming.Names) map[string]any {
	return map[string]any{
		"bucket":   names.DataBucket("tempo"),
		"endpoint": "s3." + cfg.Region + ".amazonaws.com",
		"region":   cfg.Region,
	}
}

// tempoDistributedValues (staging and prod): three ingesters at replication
// factor 3, one per AZ, each with its WAL on a volume; stateless
// distributors, queriers and query frontends; one compactor (retention)
// and one metrics generator. Blocks go to the tempo bucket. OTLP is the
// only receiver; memcached is off (a cache only, and one more pod).
func tempoDistributedValues(cfg *envs.Config, names naming.Names, storageClass string, role *sp.IrsaRole) (map[string]any, error) {
	// The chart passes each component's topologySpreadConstraints through
	// tpl, so they are a YAML string.
	spread := map[string]string{}
	for _, c := range []string{"ingester", "distributor", "querier", "query-frontend"} {
		out, err := yaml.Marshal(zoneSpread(map[string]any{
			"app.kubernetes.io/name": obs.TempoRelease, "app.kubernetes.io/instance": obs.TempoRelease, "app.kubernetes.io/component": c,
		}))
		if err != nil {
			return nil, err
		}
		spread[c] = string(out)
	}
	return map[string]any{
		"reportingEnabled": false,
		"serviceAccount":   map[string]any{"create": true, "name": TempoServiceAccount, "annotations": role.Annotation},
		"storage": map[string]any{"trace": map[string]any{
			"backend": "s3",
			"s3":      tempoS3(cfg, names),
		}},
		"traces": map[string]any{"otlp": map[string]any{
			"grpc": map[string]any{"enabled": true}, "http": map[string]any{"enabled": true},
		}},
		"ingester": map[string]any{
			"replicas":                  TempoIngesters,
			"config":                    map[string]any{"replication_factor": TelemetryReplication},
			"topologySpreadConstraints": spread["ingester"],
			"persistence": map[string]any{
				"enabled": true, "size": fmt.Sprintf("%dGi", cfg.Observability.TempoStorageGi), "storageClass": storageClass,
			},
		},
		"distributor":   map[string]any{"replicas": TempoDistributors, "topologySpreadConstraints": spread["distributor"]},
		"querier":       map[string]any{"replicas": TempoQueriers, "topologySpreadConstraints": spread["querier"]},
		"queryFrontend": map[string]any{"replicas": TempoQueryFrontends, "topologySpreadConstraints": spread["query-frontend"]},
		"compactor":     map[string]any{"replicas": TempoCompactors, "config": map[string]any{"compaction": map[string]any{"block_retention": TempoRetention}}},
		"metricsGenerator": map[string]any{
			"enabled": true, "replicas": TempoMetricsGenerate,
			"config": map[string]any{"storage": map[string]any{
				"remote_write": []map[string]any{{"url": obs.PrometheusURL + "/api/v1/write"}},
			}},
		},
		"overrides": map[string]any{"defaults": map[string]any{
			"metrics_generator": map[string]any{"processors": []string{"service-graphs", "span-metrics"}},
		}},
		"memcached": map[string]any{"enabled": false},
		"cache":     map[string]any{"caches": []any{}},
	}, nil
}
