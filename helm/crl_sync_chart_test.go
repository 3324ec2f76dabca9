package helm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/lint/support"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// crlSyncDeployValues are what deploy-crl-sync.yml sets with --set in dev.
func crlSyncDeployValues() map[string]any {
	v := deployValues("crl-sync")
	v["serviceAccount"] = map[string]any{"roleArn": "arn:aws:iam::111122223333:role/workload/spatialprops-dev-irsa-crl-sync"}
	v["awsRegion"] = "ap-southeast-2"
	return v
}

func renderCRLSync(t *testing.T, overrides map[string]any) (*rendered, error) {
	t.Helper()
	vals := crlSyncDeployValues()
	for k, v := range overrides {
		vals[k] = v
	}
	return render(t, "crl-sync", vals)
}

// GIVEN the workflow's values THEN the chart lints strictly without
// warnings, and ci/ci-values.yaml sets exactly what the workflow sets (or
// lint and chart-testing prove nothing about a real rollout).
func TestCRLSyncChartLintsWithTheWorkflowValues(t *testing.T) {
	res := lint("crl-sync", crlSyncDeployValues())
	assert.Empty(t, res.Errors)
	for _, m := range res.Messages {
		assert.Less(t, m.Severity, support.WarningSev, "%s", m)
	}
	assert.Equal(t, crlSyncDeployValues(), ciValues(t, "crl-sync"))
}

// GIVEN the chart with the workflow's values THEN it renders a service
// account and a CronJob every 10 minutes that never overlaps itself, runs
// as cdn-presigner/crl-sync with the irsa-crl-sync role, gets exactly the
// environment services/crl-sync reads, and serves nothing (cdn-presigner is
// default-deny ingress; no Service, so no policy admits anything to it).
func TestCRLSyncCronJob(t *testing.T) {
	r, err := renderCRLSync(t, nil)
	require.NoError(t, err)
	require.NotNil(t, r.CronJob)
	assert.Nil(t, r.Deployment)
	assert.Nil(t, r.Service, "the job serves nothing")
	assert.Nil(t, r.Ingress)
	cj := r.CronJob
	assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy, "two runs at once could remove each other's list")
	assert.Equal(t, "*/10 * * * *", cj.Spec.Schedule, "docs/edge-identity.md promises at most 10 minutes after the CA publishes")
	require.NotNil(t, cj.Spec.StartingDeadlineSeconds)
	job := cj.Spec.JobTemplate.Spec
	require.NotNil(t, job.ActiveDeadlineSeconds, "a hung run must end before it blocks the next (Forbid)")
	assert.Less(t, *job.ActiveDeadlineSeconds, int64(600), "a run ends inside one schedule interval")
	pod := job.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	assert.Equal(t, "crl-sync", pod.ServiceAccountName, "the only service account irsa-crl-sync trusts")
	assert.Equal(t, "crl-sync", r.ServiceAccount.Name)
	assert.Equal(t, "arn:aws:iam::111122223333:role/workload/spatialprops-dev-irsa-crl-sync", r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"])
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken, "the job never calls the Kubernetes API")

	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/spatialprops/crl-sync:0123456789abcdef0123456789abcdef01234567", c.Image)
	env := map[string]string{}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		env[e.Name] = e.Value
		if e.Name == "AWS_REGION" {
			continue
		}
		// the bucket and ARNs come from the ConfigMap the edge stack
		// writes from the identity outputs, key = variable name
		require.NotNil(t, e.ValueFrom, e.Name)
		require.NotNil(t, e.ValueFrom.ConfigMapKeyRef, e.Name)
		assert.Equal(t, "crl-sync", e.ValueFrom.ConfigMapKeyRef.Name, e.Name)
		assert.Equal(t, e.Name, e.ValueFrom.ConfigMapKeyRef.Key)
		assert.Empty(t, e.Value, e.Name)
	}
	assert.ElementsMatch(t, []string{"PKI_BUCKET", "CA_ARN", "TRUST_STORE_ARN", "AWS_REGION"}, names, "exactly what services/crl-sync requires")
	assert.Equal(t, "ap-southeast-2", env["AWS_REGION"])

	assertRestrictedPod(t, pod, c)
}

// GIVEN a value the job cannot run without THEN rendering fails and names
// it, instead of a CronJob whose every run fails.
func TestCRLSyncRefusesMissingValues(t *testing.T) {
	for key, msg := range map[string]string{
		"identityConfigMap": "identityConfigMap is required",
		"awsRegion":         "awsRegion is required",
		"schedule":          "schedule is required",
	} {
		_, err := renderCRLSync(t, map[string]any{key: ""})
		assert.ErrorContains(t, err, msg, key)
	}
	_, err := renderCRLSync(t, map[string]any{"image": map[string]any{"repository": "x", "tag": ""}})
	assert.ErrorContains(t, err, "image.tag is required")
}
