package verify

import (
	"fmt"
	"slices"
	"time"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// Checks returns the checklist for cfg's environment, in the guide's
// order: E1.1 … E1.5, then the edge pieces when edge.enabled.
func Checks(cfg *envs.Config, d Deps) []Check {
	if d.Now == nil {
		d.Now = time.Now
	}
	names := naming.New(cfg.Org, cfg.Env, cfg.Region)
	a := &awsChecks{cfg: cfg, names: names, d: &d, existsCheck: map[string]string{}}
	h := &httpChecks{a: a}
	k := &kubeChecks{a: a}
	env := cfg.Env
	autoscaler := fmt.Sprintf(fixAutoscaler, env)

	cs := []Check{
		{ID: "e1.1/cluster-active", Section: "E1.1 VPC & EKS", Title: "EKS cluster active", Run: a.clusterActive, Fix: redeploy(env, naming.ComponentCluster)},
		{ID: "e1.1/cluster-reachable", Section: "E1.1 VPC & EKS", Title: "EKS cluster accessible", Cluster: true, Run: k.reachable,
			Fix: fmt.Sprintf("aws eks update-kubeconfig --name %s --region %s; your principal needs an EKS access entry", names.Cluster(), cfg.Region)},
		{ID: "e1.1/irsa", Section: "E1.1 VPC & EKS", Title: "IRSA enabled (OIDC provider matches the cluster issuer)", Run: a.irsa, Fix: redeploy(env, naming.ComponentCluster)},
		{ID: "e1.1/nodes-ready", Section: "E1.1 VPC & EKS", Title: "Nodes Ready", Cluster: true, Run: k.nodesReady,
			Fix: fmt.Sprintf("kubectl describe nodes; check the node group in the EKS console (%s)", names.Cluster())},
		{ID: "e1.1/metrics-server", Section: "E1.1 VPC & EKS", Title: "Metrics Server running", Cluster: true, Run: k.releaseReady(naming.NamespaceKubeSystem, naming.ReleaseMetricsServer), Fix: autoscaler},
		{ID: "e1.1/cluster-autoscaler", Section: "E1.1 VPC & EKS", Title: "Autoscaling configured (cluster-autoscaler ready)", Cluster: true, Run: k.releaseReady(naming.NamespaceKubeSystem, naming.ReleaseClusterAutoscaler), Fix: autoscaler},
		{ID: "e1.1/lb-controller", Section: "E1.1 VPC & EKS", Title: "Load Balancer Controller running", Cluster: true, Run: k.releaseReady(naming.NamespaceLBC, naming.ReleaseLBC),
			Fix: fmt.Sprintf("kubectl -n %s logs deploy/%s; it needs vpcId and region (IMDSv2 hop limit 1): make deploy STACK=%s-platform", naming.NamespaceLBC, naming.ReleaseLBC, env)},
	}
	storage := redeploy(env, naming.ComponentStorage)
	for _, kind := range naming.DataBucketKinds {
		b := names.DataBucket(kind)
		a.existsCheck[b] = "e1.2/" + kind + "/exists"
		sec := "E1.2 Object Storage"
		cs = append(cs,
			Check{ID: "e1.2/" + kind + "/exists", Section: sec, Title: "bucket " + b + " exists", Run: a.bucketExists(b), Fix: storage},
			Check{ID: "e1.2/" + kind + "/encryption", Section: sec, Title: kind + ": encryption", Run: a.bucketEncryption(kind, b), Fix: storage},
			Check{ID: "e1.2/" + kind + "/versioning", Section: sec, Title: kind + ": versioning enabled", Run: a.bucketVersioning(b), Fix: storage},
			Check{ID: "e1.2/" + kind + "/public-access", Section: sec, Title: kind + ": public access blocked", Run: a.bucketPublicAccess(b), Fix: storage},
			Check{ID: "e1.2/" + kind + "/lifecycle", Section: sec, Title: kind + ": lifecycle rules active", Run: a.bucketLifecycle(b), Fix: storage},
		)
		if kind != "logs" {
			cs = append(cs, Check{ID: "e1.2/" + kind + "/cors", Section: sec, Title: kind + ": CORS configured", Run: a.bucketCors(b), Fix: storage})
		}
	}
	cdn403 := fmt.Sprintf(fixCDN403, env)
	sec := "E1.3 CDN"
	cs = append(cs,
		Check{ID: "e1.3/distribution", Section: sec, Title: "CloudFront distribution deployed", Run: a.distDeployed, Fix: redeploy(env, naming.ComponentCDN)},
		Check{ID: "e1.3/dns", Section: sec, Title: "custom domain " + cfg.CDN.Domain + " resolves", Run: a.domainResolves,
			Fix: fmt.Sprintf("the alias record lives in the %s zone: make deploy STACK=%s-cdn; check the registrar delegates to Route53", cfg.Domain, env)},
		Check{ID: "e1.3/oac", Section: sec, Title: "OAC configured on the regional packs origin", Run: a.distOAC, Fix: cdn403},
		Check{ID: "e1.3/certificate", Section: sec, Title: "TLS certificate valid", Run: a.distCertificate,
			Fix: fmt.Sprintf("the certificate must be in us-east-1 and DNS-validated through Route53: make deploy STACK=%s-cdn", env)},
		Check{ID: "e1.3/range", Section: sec, Title: "Range requests working (206 + Content-Range)", Run: h.rangeRequest, Fix: cdn403},
		Check{ID: "e1.3/cors", Section: sec, Title: "CORS headers present", Run: h.cors,
			Fix: "the packs bucket's CORS rule must allow the Origin, and the distribution must forward Origin to S3; " + storage},
		Check{ID: "e1.3/staging-hidden", Section: sec, Title: "staging/ is not served", Run: h.stagingHidden,
			Fix: "the distribution's origin path must be /published and the bucket policy must let CloudFront read published/* only: " + redeploy(env, naming.ComponentCDN)},
		Check{ID: "e1.3/licensed-signed", Section: sec, Title: "an unsigned licensed/ request is refused", Run: h.licensedNeedsSignature,
			Fix: "the /licensed/* behaviour must trust the licensed-packs key group: " + redeploy(env, naming.ComponentCDN)},
	)
	cicd := fmt.Sprintf(fixOIDC, env)
	sec = "E1.4 CI/CD"
	cs = append(cs,
		Check{ID: "e1.4/ecr", Section: sec, Title: "ECR repositories created, scan on push", Run: a.ecrScanOnPush, Fix: redeploy(env, naming.ComponentCICD)},
		Check{ID: "e1.4/github-oidc", Section: sec, Title: "GitHub OIDC configured", Run: a.githubOIDC, Fix: cicd},
	)
	if slices.Contains(cfg.CICD.Services, PackService) {
		cs = append(cs,
			Check{ID: "e1.4/image-pushed", Section: sec, Title: "merges push images (" + PackService + ")", Run: a.imagePushed(PackService),
				Fix: "run the deploy-pack-service workflow (Actions tab) and read its logs; " + cicd},
			Check{ID: "e1.4/pods-rolled", Section: sec, Title: "Helm deploys roll pods (" + PackService + ")", Cluster: true, Run: k.releaseReady(naming.NamespaceServices, PackService),
				Fix: fmt.Sprintf("kubectl -n %s rollout status deploy/%s; kubectl -n %s describe pods -l app.kubernetes.io/instance=%s", naming.NamespaceServices, PackService, naming.NamespaceServices, PackService)},
		)
	}
	grafana := fixGrafana
	obsFix := fmt.Sprintf("kubectl -n %s get pods; make deploy STACK=%s-observability", obs.Namespace, env)
	sec = "E1.5 Observability"
	cs = append(cs,
		Check{ID: "e1.5/prometheus-targets", Section: sec, Title: "Prometheus targets up", Cluster: true, Run: k.prometheusTargets, Fix: obsFix},
		Check{ID: "e1.5/service-metrics", Section: sec, Title: PackService + " metrics scraped", Cluster: true, Run: k.serviceTarget,
			Fix: "the chart's ServiceMonitor must select the Service's metrics port and carry the release label Prometheus selects; " + obsFix},
		Check{ID: "e1.5/loki-logs", Section: sec, Title: "Loki collecting logs", Cluster: true, Run: k.lokiLogs, Fix: "check Alloy: kubectl -n observability logs ds/alloy; " + obsFix},
		Check{ID: "e1.5/tempo-trace", Section: sec, Title: "Tempo collecting traces", Cluster: true, Run: k.tempoTrace,
			Fix: "the service must export OTLP to opentelemetry-collector.observability.svc:4317 (OTEL_EXPORTER_OTLP_ENDPOINT); " + obsFix},
		Check{ID: "e1.5/grafana-datasources", Section: sec, Title: "Grafana datasources connected", Cluster: true, Run: k.grafanaDatasources, Fix: grafana},
	)
	identity := redeploy(env, naming.ComponentIdentity)
	ceremony := "a CA left PENDING_CERTIFICATE needs the PKI ceremony: bin/spctl pki ceremony --env " + env + " (docs/edge-identity.md)"
	pki := names.DataBucket(PKIBucketKind)
	sec = "Device identity"
	cs = append(cs,
		Check{ID: "identity/ca", Section: sec, Title: "device CA active (" + cfg.Identity.DeviceCAMode + ") with OCSP and CRL", Run: a.deviceCA, Fix: identity + "; " + ceremony},
		Check{ID: "identity/service-ca", Section: sec, Title: "service CA active (" + envs.CAModeShortLived + ")", Run: a.serviceCA, Fix: identity + "; " + ceremony},
		Check{ID: "identity/pki-private", Section: sec, Title: "PKI bucket " + pki + ": public access blocked", Run: a.bucketPublicAccess(pki), Fix: identity},
		Check{ID: "identity/pki-encryption", Section: sec, Title: "PKI bucket: encryption", Run: a.bucketEncryption(PKIBucketKind, pki), Fix: identity},
		Check{ID: "identity/cert-manager", Section: sec, Title: "cert-manager running", Cluster: true, Run: k.releaseReady(naming.NamespaceCertManager, naming.ReleaseCertManager),
			Fix: fmt.Sprintf("kubectl -n %s get pods; make deploy STACK=%s-platform", naming.NamespaceCertManager, env)},
		Check{ID: "identity/pca-issuer", Section: sec, Title: "AWS Private CA issuer running", Cluster: true, Run: k.releaseReady(naming.NamespaceCertManager, naming.ReleasePCAIssuer),
			Fix: fmt.Sprintf("kubectl -n %s logs deploy/%s; its role is %s (identity stack): make deploy STACK=%s-platform", naming.NamespaceCertManager, naming.ReleasePCAIssuer, names.Role("irsa-pca-issuer"), env)},
	)
	if cfg.Edge.Enabled {
		sec = "Edge"
		edgeFix := fmt.Sprintf("kubectl -n %s get pods,jobs; make deploy STACK=%s-edge", naming.NamespaceNATS, env)
		cs = append(cs,
			Check{ID: "edge/nats-streams", Section: sec, Title: "NATS streams present with the 50 KB limit", Cluster: true, Run: k.natsStreams, Fix: edgeFix},
			Check{ID: "edge/dtn-queue", Section: sec, Title: "DTN outbox queue capped at the envelope size", Run: a.dtnQueue, Fix: redeploy(env, naming.ComponentEdge)},
			Check{ID: "edge/beacon-table", Section: sec, Title: "beacon registry: key, TTL on expiresAt, PITR, KMS", Run: a.beaconTable, Fix: redeploy(env, naming.ComponentEdge)},
		)
	}
	if !cfg.Marketplace.Enabled {
		return cs
	}
	market := redeploy(env, naming.ComponentMarketplace)
	sec = "Marketplace"
	cs = append(cs,
		Check{ID: "market/billing-queue", Section: sec, Title: "billing events queue encrypted, with a dead-letter queue", Run: a.billingQueue, Fix: market},
		Check{ID: "market/provenance-key", Section: sec, Title: "provenance signing key is ECC P-256 sign/verify", Run: a.provenanceKey, Fix: market},
		Check{ID: "market/publish-gate", Section: sec, Title: "packs bucket denies publishing outside the provenance gate", Run: a.publishGate,
			Fix: "the deny lives in the packs bucket's one policy, owned by the cdn stack: " + redeploy(env, naming.ComponentCDN)},
	)
	return cs
}
