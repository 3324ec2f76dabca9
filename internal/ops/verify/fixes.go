package verify

import "fmt"

// Fix hints: the guide's "Common Pitfalls & Fixes", in the project's words,
// plus the command that repairs a drifted resource.
const (
	// fixCDN403 is the guide's "403 Errors via CDN".
	fixCDN403 = "CDN 403s: the packs bucket policy must allow cloudfront.amazonaws.com for this distribution (OAC), " +
		"and the origin must be the regional endpoint <bucket>.s3.<region>.amazonaws.com; redeploy: make deploy STACK=%s-cdn"
	// fixAutoscaler is the guide's "Autoscaler Not Scaling".
	fixAutoscaler = "autoscaler not scaling: check metrics-server (kubectl -n kube-system get pods | grep metrics-server) and the " +
		"autoscaler's logs (kubectl -n kube-system logs -l app.kubernetes.io/instance=cluster-autoscaler); its IRSA role needs the ASG permissions: make deploy STACK=%s-platform"
	// fixGrafana is the guide's "Grafana Dashboards Empty".
	fixGrafana = "Grafana empty: the datasource ConfigMap needs label grafana_datasource=\"1\" in namespace observability " +
		"(Grafana's namespace); then restart Grafana: kubectl -n observability rollout restart deploy/kube-prometheus-stack-grafana"
	// fixOIDC is the guide's "OIDC Role Errors".
	fixOIDC = "GitHub cannot assume the role: the trust policy must match repo:ORG/REPO:ref:refs/heads/BRANCH (or environment:NAME) exactly, " +
		"and the OIDC provider must exist in IAM (cicd.createOidcProvider in exactly one env per account): make deploy STACK=%s-cicd"
)

// redeploy is the generic fix for drift in a stack's resources.
func redeploy(env, component string) string {
	return fmt.Sprintf("the %s stack drifted or is not deployed: make diff STACK=%s-%s, then make deploy STACK=%s-%s", component, env, component, env, component)
}
