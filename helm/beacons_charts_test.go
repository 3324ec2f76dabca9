package helm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/lint/support"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// beaconServices are the beacon registry charts in edge-sync: the API
// (services/beacons), the admin UI (services/beacons-admin) and the
// rotation CronJob (services/beacon-rotate).
var beaconServices = []string{"beacons", "beacons-admin", "beacon-rotate"}

// beaconRoles are the edge stack's IRSA roles, one per service account.
var beaconRoles = map[string]string{
	"beacons":       "irsa-beacons",
	"beacons-admin": "irsa-beacons-admin",
	"beacon-rotate": "irsa-beacon-rotate",
}

// beaconDeployValues are what deploy-<svc>.yml sets with --set in dev.
func beaconDeployValues(svc string) map[string]any { return deployValues(svc) }

// renderBeacon renders svc with the workflow's values, then overrides.
func renderBeacon(t *testing.T, svc string, overrides map[string]any) (*rendered, error) {
	t.Helper()
	vals := beaconDeployValues(svc)
	for k, v := range overrides {
		vals[k] = v
	}
	return render(t, svc, vals)
}

// GIVEN the workflows' values THEN every beacon chart lints strictly without
// warnings, and ci/ci-values.yaml sets exactly what the workflow sets (or
// lint and chart-testing prove nothing about a real rollout).
func TestBeaconChartsLintWithTheWorkflowValues(t *testing.T) {
	for _, svc := range beaconServices {
		res := lint(svc, beaconDeployValues(svc))
		assert.Empty(t, res.Errors, svc)
		for _, m := range res.Messages {
			assert.Less(t, m.Severity, support.WarningSev, "%s: %s", svc, m)
		}
		assert.Equal(t, beaconDeployValues(svc), ciValues(t, svc), svc)
	}
}

// GIVEN the API and the admin UI THEN each pod carries the label its
// NetworkPolicy selects (allow-beacons-api, allow-beacons-admin-alb), listens
// on 8080 (stacks.BeaconsPort, the only port those policies open), runs under
// the service account its IRSA role trusts with that role, and reads the
// table the workflow names. The UI's Service and pods are what the edge
// stack's internal ALB Service selects; neither chart makes an Ingress.
func TestBeaconServicesWiring(t *testing.T) {
	for _, svc := range []string{"beacons", "beacons-admin"} {
		r, err := renderBeacon(t, svc, nil)
		require.NoError(t, err, svc)
		env := podEnv(t, r)
		assert.Equal(t, "spatialprops-dev-beacons", env["BEACON_TABLE"], svc)
		assert.Equal(t, "ap-southeast-2", env["AWS_REGION"], svc)
		c := r.Deployment.Spec.Template.Spec.Containers[0]
		assert.Equal(t, int32(8080), c.Ports[0].ContainerPort, svc)
		assert.Equal(t, svc, r.Deployment.Spec.Template.Labels["app.kubernetes.io/name"], "%s: the label the NetworkPolicy selects", svc)
		assert.Equal(t, svc, r.Deployment.Spec.Template.Labels["app.kubernetes.io/instance"], "%s: the edge stack's ALB Service selects the release too", svc)
		assert.Equal(t, svc, r.ServiceAccount.Name, "%s: the only service account the IRSA role trusts", svc)
		assert.Equal(t, "arn:aws:iam::111122223333:role/workload/spatialprops-dev-"+beaconRoles[svc], r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"], svc)
		assert.Equal(t, svc, r.Deployment.Spec.Template.Spec.ServiceAccountName, svc)
		assert.Nil(t, r.Ingress, "%s: no chart Ingress (the UI's internal ALB is the edge stack's)", svc)
		assert.NotNil(t, r.ServiceMonitor, "%s: beacons_* series are scraped from the kit's metrics port", svc)
		assert.Equal(t, svc, r.Service.Name, svc)
		assert.Equal(t, int32(80), r.Service.Spec.Ports[0].Port, svc)
		require.NotNil(t, c.SecurityContext)
		assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, svc)
		assert.True(t, *c.SecurityContext.RunAsNonRoot, svc)
	}
	admin, err := renderBeacon(t, "beacons-admin", nil)
	require.NoError(t, err)
	assert.Equal(t, "/readyz", admin.Deployment.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path,
		"the ALB health check (stacks/edge_beacons_admin.go) asks the same path")
}

// GIVEN the rotation chart with the workflow's values THEN it renders a
// service account and a CronJob, nothing that serves traffic.
func renderRotate(t *testing.T, overrides map[string]any) (*batchv1.CronJob, *rendered) {
	t.Helper()
	r, err := renderBeacon(t, "beacon-rotate", overrides)
	require.NoError(t, err)
	require.NotNil(t, r.CronJob)
	assert.Nil(t, r.Deployment)
	assert.Nil(t, r.Service, "the job serves nothing, so no NetworkPolicy admits anything to it")
	return r.CronJob, r
}

// GIVEN the rotation CronJob THEN two runs never overlap, its schedule is
// the chart value, it runs under edge-sync/beacon-rotate with the
// irsa-beacon-rotate role, and it gets exactly the environment the program
// reads, with the NATS files on the mounted cert-manager Secret.
func TestBeaconRotateCronJob(t *testing.T) {
	cj, r := renderRotate(t, nil)
	assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy, "two rotations at once would race on the same beacons")
	assert.Equal(t, "*/15 * * * *", cj.Spec.Schedule)
	require.NotNil(t, cj.Spec.StartingDeadlineSeconds)
	job := cj.Spec.JobTemplate.Spec
	require.NotNil(t, job.ActiveDeadlineSeconds, "a hung run must end before it blocks the next (Forbid)")
	pod := job.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	assert.Equal(t, "beacon-rotate", job.Template.Labels["app.kubernetes.io/name"])
	assert.Equal(t, "beacon-rotate", pod.ServiceAccountName, "the only service account irsa-beacon-rotate trusts")
	assert.Equal(t, "beacon-rotate", r.ServiceAccount.Name)
	assert.Equal(t, "arn:aws:iam::111122223333:role/workload/spatialprops-dev-irsa-beacon-rotate", r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"])
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken, "the job never calls the Kubernetes API")

	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/spatialprops/beacon-rotate:0123456789abcdef0123456789abcdef01234567", c.Image)
	var names []string
	env := map[string]string{}
	for _, e := range c.Env {
		names = append(names, e.Name)
		env[e.Name] = e.Value
	}
	assert.ElementsMatch(t, []string{"BEACON_TABLE", "AWS_REGION", "NATS_URL", "NATS_CA_FILE", "NATS_CERT_FILE", "NATS_KEY_FILE"}, names,
		"exactly what services/beacon-rotate reads")
	assert.Equal(t, "spatialprops-dev-beacons", env["BEACON_TABLE"])
	assert.Equal(t, "ap-southeast-2", env["AWS_REGION"])
	assert.Equal(t, "tls://nats.edge-nats.svc:4222", env["NATS_URL"], "the TLS-only client listener (tests/beacons_deploy_test.go ties it to stacks/edge.go)")
	assert.Equal(t, "/etc/nats-user/ca.crt", env["NATS_CA_FILE"])
	assert.Equal(t, "/etc/nats-user/tls.crt", env["NATS_CERT_FILE"])
	assert.Equal(t, "/etc/nats-user/tls.key", env["NATS_KEY_FILE"])

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	assert.Equal(t, "/etc/nats-user", mounts["nats-user"].MountPath)
	assert.True(t, mounts["nats-user"].ReadOnly)
	assert.Equal(t, "/tmp", mounts["tmp"].MountPath)
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	sec := vols["nats-user"].Secret
	require.NotNil(t, sec, "the client certificate comes from a Secret")
	assert.Equal(t, "nats-user-beacon-rotate", sec.SecretName, "stacks.NATSUserSecret(edge.UserBeaconRotate)")
	var keys []string
	for _, it := range sec.Items {
		keys = append(keys, it.Key)
		assert.Equal(t, it.Key, it.Path, "the file names the env points at")
	}
	assert.ElementsMatch(t, []string{"ca.crt", "tls.crt", "tls.key"}, keys, "the keys cert-manager writes")
	require.NotNil(t, sec.DefaultMode)
	assert.Equal(t, int32(0o440), *sec.DefaultMode, "the private key is not world-readable")

	assertRestrictedPod(t, pod, c)
	require.NotNil(t, pod.SecurityContext.FSGroup, "the Secret's files belong to the pod's group (mode 0440)")
	assert.Equal(t, *pod.SecurityContext.RunAsUser, *pod.SecurityContext.FSGroup)
}

// GIVEN another schedule THEN the CronJob takes it (envs may rotate faster).
func TestBeaconRotateScheduleComesFromValues(t *testing.T) {
	cj, _ := renderRotate(t, map[string]any{"schedule": "*/5 * * * *"})
	assert.Equal(t, "*/5 * * * *", cj.Spec.Schedule)
	assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy, "Forbid is not a value anyone can turn off")
}

// GIVEN a value the job cannot run without THEN rendering fails and names it,
// instead of a CronJob whose every run fails at 3 a.m.
func TestBeaconRotateRefusesMissingValues(t *testing.T) {
	for key, msg := range map[string]string{
		"beaconTable": "beaconTable is required",
		"awsRegion":   "awsRegion is required",
		"schedule":    "schedule is required",
	} {
		_, err := renderBeacon(t, "beacon-rotate", map[string]any{key: ""})
		assert.ErrorContains(t, err, msg, key)
	}
	_, err := renderBeacon(t, "beacon-rotate", map[string]any{"image": map[string]any{"repository": "x", "tag": ""}})
	assert.ErrorContains(t, err, "image.tag is required")
}
