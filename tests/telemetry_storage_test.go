package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// The pod labels each chart puts on the pods of a component, read from its
// templates at the pinned version (loki.selectorLabels plus
// app.kubernetes.io/component; tempo.selectorLabels): a spread constraint
// whose selector matches no pod spreads nothing.
func chartPodLabels(release, component string) map[string]any {
	return map[string]any{"app.kubernetes.io/name": release, "app.kubernetes.io/instance": release, "app.kubernetes.io/component": component}
}

// writePath is what decides whether losing one pod or one AZ can lose
// acknowledged logs or traces: how many copies a write keeps, how many
// pods hold them, and how the pods are spread.
type writePath struct {
	replicationFactor, replicas int
	spread                      []map[string]any
	component, release          string
	persistent                  bool
}

// survivesOneZoneLoss holds when every acknowledged write is on at least
// two pods in different AZs after any single AZ (or pod) is gone: a
// quorum of the replication factor acknowledges (2 of 3), every pod holds
// every stream (replicas == RF), the pods are forced into different zones,
// and each keeps its WAL on a volume (a restart on the same node replays it).
func (w writePath) survivesOneZoneLoss(zones int) error {
	switch {
	case w.replicationFactor < 3:
		return fmt.Errorf("replication factor %d: a quorum of fewer than 3 copies cannot lose one", w.replicationFactor)
	case w.replicas != w.replicationFactor:
		return fmt.Errorf("%d pods at replication factor %d: copies of a stream could share an AZ without zone-aware replication", w.replicas, w.replicationFactor)
	case zones < w.replicas:
		return fmt.Errorf("%d AZs for %d pods: two copies would share an AZ", zones, w.replicas)
	case !w.persistent:
		return fmt.Errorf("no volume: a restarted pod loses its WAL")
	}
	for _, c := range w.spread {
		labels, _ := c["labelSelector"].(map[string]any)["matchLabels"].(map[string]any)
		if c["topologyKey"] == "topology.kubernetes.io/zone" && c["whenUnsatisfiable"] == "DoNotSchedule" &&
			fmt.Sprint(c["maxSkew"]) == "1" && fmt.Sprint(labels) == fmt.Sprint(chartPodLabels(w.release, w.component)) {
			return nil
		}
	}
	return fmt.Errorf("no zone spread (maxSkew 1, DoNotSchedule) selecting the %s pods: %v", w.component, w.spread)
}

func asInt(t *testing.T, v any) int {
	t.Helper()
	n, ok := v.(int)
	require.True(t, ok, "%v is not an int", v)
	return n
}

func m(v any) map[string]any { out, _ := v.(map[string]any); return out }

func spreadList(t *testing.T, v any) []map[string]any {
	t.Helper()
	if s, ok := v.(string); ok { // tempo-distributed passes it through tpl
		var out []map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(s), &out))
		return out
	}
	var out []map[string]any
	for _, c := range v.([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func lokiWritePath(t *testing.T, v map[string]any) writePath {
	w := m(v["write"])
	return writePath{
		replicationFactor: asInt(t, m(m(v["loki"])["commonConfig"])["replication_factor"]),
		replicas:          asInt(t, w["replicas"]), spread: spreadList(t, w["topologySpreadConstraints"]),
		component: "write", release: "loki", persistent: m(w["persistence"])["volumeClaimsEnabled"] == true,
	}
}

func tempoWritePath(t *testing.T, v map[string]any) writePath {
	in := m(v["ingester"])
	return writePath{
		replicationFactor: asInt(t, m(in["config"])["replication_factor"]),
		replicas:          asInt(t, in["replicas"]), spread: spreadList(t, in["topologySpreadConstraints"]),
		component: "ingester", release: "tempo", persistent: m(in["persistence"])["enabled"] == true,
	}
}

func TestLokiAndTempoSurviveOnePodOrAZInStagingAndProd(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		doc := stack(t, env+"-observability").Doc
		_, loki := releaseValues(t, doc, "loki")
		assert.Equal(t, "SimpleScalable", loki["deploymentMode"], "%s: replication needs separate writers", env)
		assert.Equal(t, 0, m(loki["singleBinary"])["replicas"], "%s: no monolithic pod beside the writers", env)
		assert.NoError(t, lokiWritePath(t, loki).survivesOneZoneLoss(len(cfg.Network.AZs)), "%s: loki", env)

		r, tempo := releaseValues(t, doc, "tempo")
		assert.Equal(t, "tempo-distributed", r.Get("chart").String(), env)
		assert.Equal(t, stacks.TempoDistributedChart.Version, r.Get("version").String(), env)
		assert.NoError(t, tempoWritePath(t, tempo).survivesOneZoneLoss(len(cfg.Network.AZs)), "%s: tempo", env)
		// the read side is spread too, so queries survive the AZ as well
		for _, c := range []string{"read", "backend"} {
			assert.Equal(t, 3, m(loki[c])["replicas"], "%s: loki %s", env, c)
			assert.NotEmpty(t, m(loki[c])["topologySpreadConstraints"], "%s: loki %s", env, c)
		}
	}
}

func TestTheWritePathCheckRejectsWhatWouldLoseData(t *testing.T) {
	// GIVEN prod's real values
	_, loki := releaseValues(t, stack(t, "prod-observability").Doc, "loki")
	good := lokiWritePath(t, loki)
	require.NoError(t, good.survivesOneZoneLoss(3))
	// WHEN any one property is weakened THEN the check names it: each is a
	// way a prod install would silently keep a single copy.
	for name, w := range map[string]func(writePath) writePath{
		"replication factor 1": func(w writePath) writePath { w.replicationFactor = 1; return w },
		"five writers, RF 3":   func(w writePath) writePath { w.replicas = 5; return w },
		"spread only preferred": func(w writePath) writePath {
			w.spread = withSpread(w.spread, "whenUnsatisfiable", "ScheduleAnyway")
			return w
		},
		"spread by host only": func(w writePath) writePath {
			w.spread = withSpread(w.spread, "topologyKey", "kubernetes.io/hostname")
			return w
		},
		"selector of no pod": func(w writePath) writePath { w.component = "ingester"; return w },
		"WAL on an emptyDir": func(w writePath) writePath { w.persistent = false; return w },
	} {
		assert.Error(t, w(good).survivesOneZoneLoss(3), name)
	}
	assert.Error(t, good.survivesOneZoneLoss(2), "two AZs cannot hold three copies apart")
}

func withSpread(in []map[string]any, key, value string) []map[string]any {
	var out []map[string]any
	for _, c := range in {
		cp := map[string]any{}
		for k, v := range c {
			cp[k] = v
		}
		cp[key] = value
		out = append(out, cp)
	}
	return out
}

func TestDevKeepsOneLokiAndOneTempoOnS3(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	_, loki := releaseValues(t, doc, "loki")
	assert.Equal(t, "Monolithic", loki["deploymentMode"])
	assert.Equal(t, 1, m(loki["singleBinary"])["replicas"])
	assert.Equal(t, 1, m(m(loki["loki"])["commonConfig"])["replication_factor"], "one pod cannot hold more copies")
	assert.Equal(t, true, m(m(loki["singleBinary"])["persistence"])["enabled"], "the WAL survives a restart")
	for _, c := range []string{"read", "write", "backend"} {
		assert.Equal(t, 0, m(loki[c])["replicas"], c)
	}
	r, _ := releaseValues(t, doc, "tempo")
	assert.Equal(t, "tempo", r.Get("chart").String(), "dev runs the single-binary chart")
}

// tempoStorage is Tempo's storage.trace block: in the values for
// tempo-distributed, in the whole config file for the single binary.
func tempoStorage(t *testing.T, v map[string]any) map[string]any {
	if cfg, ok := v["config"].(string); ok {
		var c map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(cfg), &c))
		return m(m(c["storage"])["trace"])
	}
	return m(m(v["storage"])["trace"])
}

func TestLokiAndTempoStoreInTheirBucketThroughIRSA(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		n := naming.New(cfg.Org, cfg.Env, cfg.Region)
		doc := stack(t, env+"-observability").Doc
		storage := stack(t, env+"-storage").Doc
		buckets := map[string]bool{}
		for _, b := range resources(storage, "aws_s3_bucket") {
			buckets[b.Get("bucket").String()] = true
		}

		_, loki := releaseValues(t, doc, "loki")
		ls := m(m(loki["loki"])["storage"])
		assert.Equal(t, "s3", ls["type"], env)
		assert.Equal(t, n.DataBucket("loki"), m(ls["bucketNames"])["chunks"], env)
		assert.Equal(t, cfg.Region, m(ls["s3"])["region"], env)
		assert.NotContains(t, m(ls["s3"]), "accessKeyId", "%s: IRSA, never keys", env)
		schema := m(m(loki["loki"])["schemaConfig"])["configs"].([]any)
		for _, s := range schema {
			assert.Equal(t, "s3", m(s)["object_store"], "%s: every schema period reads the bucket", env)
		}
		assert.Equal(t, "s3", m(m(loki["loki"])["compactor"])["delete_request_store"], env)
		assert.Equal(t, fmt.Sprintf("%dh", cfg.Observability.LokiRetentionDays*24), m(m(loki["loki"])["limits_config"])["retention_period"], env)

		_, tempo := releaseValues(t, doc, "tempo")
		ts := tempoStorage(t, tempo)
		assert.Equal(t, "s3", ts["backend"], env)
		assert.Equal(t, n.DataBucket("tempo"), m(ts["s3"])["bucket"], env)
		assert.Equal(t, "s3."+cfg.Region+".amazonaws.com", m(ts["s3"])["endpoint"], env)
		assert.NotContains(t, m(ts["s3"]), "access_key", "%s: IRSA, never keys", env)

		for kind, v := range map[string]map[string]any{"loki": loki, "tempo": tempo} {
			assert.True(t, buckets[n.DataBucket(kind)], "%s: the storage stack creates %s", env, n.DataBucket(kind))
			sa := m(v["serviceAccount"])
			assert.Equal(t, kind, sa["name"], env)
			role := m(sa["annotations"])["eks.amazonaws.com/role-arn"]
			assert.Regexp(t, `^\$\{aws_iam_role\.`+kind+`-irsa_role_\w+\.arn\}$`, role, "%s: %s runs as its own IRSA role", env, kind)
			assertTelemetryRole(t, doc, env, kind, n.DataBucket(kind))
		}
	}
}

// assertTelemetryRole: the role trusts only its service account, reaches
// only its own bucket and the telemetry key, and cannot delete versions.
func assertTelemetryRole(t *testing.T, doc gjson.Result, env, kind, bucket string) {
	t.Helper()
	var perms, trust gjson.Result
	doc.Get("data.aws_iam_policy_document").ForEach(func(k, d gjson.Result) bool {
		switch {
		case strings.HasPrefix(k.String(), kind+"-irsa_permissions"):
			perms = d
		case strings.HasPrefix(k.String(), kind+"-irsa_trust"):
			trust = d
		}
		return true
	})
	require.True(t, perms.Exists() && trust.Exists(), "%s: %s role documents", env, kind)
	assert.Contains(t, trust.Get("statement.0.condition.#.values|@flatten").String(), "system:serviceaccount:observability:"+kind)
	for _, s := range perms.Get("statement").Array() {
		for _, r := range s.Get("resources").Array() {
			ok := r.String() == "arn:aws:s3:::"+bucket || r.String() == "arn:aws:s3:::"+bucket+"/*" ||
				strings.Contains(r.String(), "cross-stack-output-aws_kms_keytelemetry-key")
			assert.True(t, ok, "%s: %s role reaches %s", env, kind, r.String())
		}
		for _, a := range s.Get("actions").Array() {
			assert.NotContains(t, []string{"s3:DeleteObjectVersion", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"}, a.String(),
				"%s: %s could purge history", env, kind)
		}
	}
}

func TestTelemetryBucketsFollowRetention(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		n := naming.New(cfg.Org, cfg.Env, cfg.Region)
		doc := stack(t, env+"-storage").Doc
		retention := stacks.TelemetryRetentionDays(cfg.Observability.LokiRetentionDays)
		for _, kind := range naming.TelemetryBucketKinds {
			rule := bucketLifecycle(t, doc, n.DataBucket(kind))
			assert.Equal(t, int64(retention[kind]+stacks.TelemetryExpiryMarginDays), rule.Get("expiration.0.days").Int(),
				"%s: %s objects expire after the store's own retention", env, kind)
			assert.Equal(t, int64(stacks.TelemetryUndeleteDays), rule.Get("noncurrent_version_expiration.0.noncurrent_days").Int(), env)
			enc := bucketResource(t, doc, "aws_s3_bucket_server_side_encryption_configuration", n.DataBucket(kind))
			assert.Equal(t, "aws:kms", enc.Get("rule.0.apply_server_side_encryption_by_default.sse_algorithm").String())
			assert.Contains(t, enc.Get("rule.0.apply_server_side_encryption_by_default.kms_master_key_id").String(), "aws_kms_key.telemetry-key")
		}
	}
}

// bucketResource finds the resource of typ configuring the bucket named name.
func bucketResource(t *testing.T, doc gjson.Result, typ, name string) gjson.Result {
	t.Helper()
	var id string
	doc.Get("resource.aws_s3_bucket").ForEach(func(k, b gjson.Result) bool {
		if b.Get("bucket").String() == name {
			id = k.String()
		}
		return id == ""
	})
	require.NotEmpty(t, id, "bucket %s", name)
	for _, r := range resources(doc, typ) {
		if r.Get("bucket").String() == "${aws_s3_bucket."+id+".id}" {
			return r
		}
	}
	t.Fatalf("no %s for %s", typ, name)
	return gjson.Result{}
}

func bucketLifecycle(t *testing.T, doc gjson.Result, name string) gjson.Result {
	t.Helper()
	return bucketResource(t, doc, "aws_s3_bucket_lifecycle_configuration", name).Get("rule.0")
}

func TestReplicatedEndpointsReachTheComponentsThatServeThem(t *testing.T) {
	// staging and prod write to loki-write and tempo-distributor and query
	// loki-read and tempo-query-frontend (Service names from the charts'
	// templates); dev's single pods serve both at loki and tempo.
	doc := stack(t, "prod-observability").Doc
	cm := configMap(t, doc, "spatialprops-datasources")
	ds := cm.Get("data.datasources\\.yaml").String()
	assert.Contains(t, ds, "http://loki-read.observability.svc:3100")
	assert.Contains(t, ds, "http://tempo-query-frontend.observability.svc:3200")
	_, c := releaseValues(t, doc, "opentelemetry-collector")
	exporters := m(m(c["config"])["exporters"])
	assert.Equal(t, "tempo-distributor.observability.svc:4317", m(exporters["otlp_grpc/tempo"])["endpoint"])
	assert.Equal(t, "http://loki-write.observability.svc:3100/otlp", m(exporters["otlp_http/loki"])["endpoint"])
	_, a := releaseValues(t, doc, "alloy")
	assert.Contains(t, m(m(a["alloy"])["configMap"])["content"], `url = "http://loki-write.observability.svc:3100/loki/api/v1/push"`)
}
