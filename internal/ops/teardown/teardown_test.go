package teardown

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

var fast = wait.Options{Interval: time.Millisecond}

// GIVEN a versioned bucket with two versions of a key and a delete marker
// WHEN emptied THEN no version and no marker is left (a plain `s3 rm`
// leaves both, and the bucket then cannot be deleted).
func TestEmptyBucketRemovesVersionsAndDeleteMarkers(t *testing.T) {
	ctx := context.Background()
	s3c := s3.NewFromConfig(opstest.AWS(t, motoserver.Region), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := motoserver.UniqueName("versioned")
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: motoserver.Region}})
	require.NoError(t, err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("a.pmtiles"), Body: strings.NewReader("v")})
		require.NoError(t, err)
	}
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("b.json"), Body: strings.NewReader("v")})
	require.NoError(t, err)
	_, err = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("a.pmtiles")}) // delete marker
	require.NoError(t, err)

	var out bytes.Buffer
	n, err := EmptyBucket(ctx, &out, s3c, bucket)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "3 versions + 1 delete marker")
	t.Log("\n" + out.String()) // the runbook's example output
	left, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	require.NoError(t, err)
	assert.Empty(t, left.Versions)
	assert.Empty(t, left.DeleteMarkers)
	_, err = s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	assert.NoError(t, err, "an emptied bucket can be deleted")

	n, err = EmptyBucket(ctx, &out, s3c, bucket)
	assert.NoError(t, err, "a bucket that is already gone is done, so a resumed run passes")
	assert.Zero(t, n)
}

// GIVEN an enabled distribution WHEN torn down THEN it is disabled, waited
// for, and deleted with the disabled config's ETag; a second run finds
// nothing and succeeds.
func TestDistributionDisableThenDelete(t *testing.T) {
	ctx := context.Background()
	cf := cloudfront.NewFromConfig(opstest.AWS(t, "us-east-1"))
	domain := motoserver.UniqueName("cdn") + ".example.org"
	_, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String(domain), Comment: aws.String("t"), Enabled: aws.Bool(true),
		Aliases: &cftypes.Aliases{Quantity: aws.Int32(1), Items: []string{domain}},
		Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{Id: aws.String("o"), DomainName: aws.String("b.s3.ap-southeast-2.amazonaws.com"),
			S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")}}}},
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("o"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")},
	}})
	require.NoError(t, err)
	rec := &recordingCF{CloudFrontAPI: cf}
	var out bytes.Buffer
	require.NoError(t, DisableAndDeleteDistribution(ctx, &out, rec, domain, time.Minute, fast))
	assert.Equal(t, []string{"update:enabled=false", "delete"}, rec.calls, "disable first, then delete")
	assert.NotEmpty(t, rec.deleteETag, "delete carries the ETag")
	assert.Contains(t, out.String(), "elapsed", "the wait shows progress")
	t.Log("\n" + out.String()) // the runbook's example output

	rec.calls = nil
	require.NoError(t, DisableAndDeleteDistribution(ctx, &out, rec, domain, time.Minute, fast))
	assert.Empty(t, rec.calls, "nothing left to do on a resumed run")
}

// recordingCF passes calls to moto and records the mutating ones.
type recordingCF struct {
	CloudFrontAPI
	calls      []string
	deleteETag string
}

func (r *recordingCF) UpdateDistribution(ctx context.Context, in *cloudfront.UpdateDistributionInput, o ...func(*cloudfront.Options)) (*cloudfront.UpdateDistributionOutput, error) {
	r.calls = append(r.calls, "update:enabled="+map[bool]string{true: "true", false: "false"}[aws.ToBool(in.DistributionConfig.Enabled)])
	return r.CloudFrontAPI.UpdateDistribution(ctx, in, o...)
}

func (r *recordingCF) DeleteDistribution(ctx context.Context, in *cloudfront.DeleteDistributionInput, o ...func(*cloudfront.Options)) (*cloudfront.DeleteDistributionOutput, error) {
	r.calls, r.deleteETag = append(r.calls, "delete"), aws.ToString(in.IfMatch)
	return r.CloudFrontAPI.DeleteDistribution(ctx, in, o...)
}

type recorder struct {
	log    *[]string
	failAt string
}

func (r recorder) Uninstall(_ context.Context, ns, rel string) error {
	*r.log = append(*r.log, "helm "+ns+"/"+rel)
	return nil
}

func (r recorder) Destroy(_ context.Context, id string) error {
	if id == r.failAt {
		return errors.New("boom")
	}
	*r.log = append(*r.log, "destroy "+id)
	return nil
}

func loadDev(t *testing.T) *envs.Config {
	cfg, err := envs.Load("dev", envs.Overrides{Env: "dev"})
	require.NoError(t, err)
	return cfg
}

// GIVEN dev WHEN planned THEN the guide's order holds: releases, namespaces
// (the LB controller last, so it can remove its load balancers), the
// distribution, the buckets, then stacks in reverse deploy order without
// state; an interrupted run resumes after its last finished step.
func TestPlanOrderAndResume(t *testing.T) {
	cfg := loadDev(t)
	var log []string
	kube := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "observability"}})
	d := Deps{Helm: recorder{log: &log}, CDKTF: recorder{log: &log, failAt: "dev-storage"}, Kube: kube, Out: &bytes.Buffer{}, Wait: fast, Timeout: time.Second}
	steps := Plan(cfg, d, Options{})
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	idx := func(s string) int {
		for i, n := range names {
			if n == s {
				return i
			}
		}
		t.Fatalf("no step %q in %v", s, names)
		return -1
	}
	assert.Less(t, idx("helm uninstall observability/kube-prometheus-stack"), idx("delete namespace observability"))
	assert.Less(t, idx("delete namespace spatial-properties"), idx("helm uninstall aws-lbc/aws-load-balancer-controller"))
	// The presigner's mTLS ALB, the NATS agents' NLB and the marketplace
	// ALB belong to the LB controller too: their namespaces go before it.
	for _, ns := range []string{"edge-sync", "cdn-presigner", "marketplace"} {
		assert.Less(t, idx("delete namespace "+ns), idx("helm uninstall aws-lbc/aws-load-balancer-controller"), ns)
	}
	// cert-manager outlives the namespaces whose Certificates it manages,
	// the issuer goes before cert-manager, and the namespace after both.
	for _, ns := range []string{"edge-sync", "cdn-presigner"} {
		assert.Less(t, idx("delete namespace "+ns), idx("helm uninstall cert-manager/aws-privateca-issuer"), ns)
	}
	assert.Less(t, idx("helm uninstall cert-manager/aws-privateca-issuer"), idx("helm uninstall cert-manager/cert-manager"))
	assert.Less(t, idx("helm uninstall cert-manager/cert-manager-approver-policy"), idx("helm uninstall cert-manager/cert-manager"))
	assert.Less(t, idx("helm uninstall cert-manager/cert-manager"), idx("delete namespace cert-manager"))
	assert.Less(t, idx("delete namespace cert-manager"), idx("cdktf destroy dev-edge"), "the edge stack's ClusterIssuer is deleted through its kept CRD")
	assert.Less(t, idx("delete namespace aws-lbc"), idx("disable and delete CloudFront distribution cdn.dev.spatial.properties"))
	assert.Less(t, idx("empty bucket spatial-logs-spatialprops-dev-ap-southeast-2"), idx("cdktf destroy dev-edge"))
	assert.Less(t, idx("cdktf destroy dev-edge"), idx("cdktf destroy dev-observability"))
	assert.Less(t, idx("cdktf destroy dev-cluster"), idx("cdktf destroy dev-network"))
	assert.NotContains(t, names, "cdktf destroy dev-state", "the state stack stays unless --include-state")
	assert.Equal(t, "cdktf destroy dev-network", names[len(names)-1], "network is the first stack deployed, so the last destroyed")
	withState := Plan(cfg, d, Options{IncludeState: true})
	assert.Equal(t, "cdktf destroy dev-state", withState[len(withState)-1].Name)

	// Run only the stack steps (the AWS ones are tested above on moto).
	var stackSteps []Step
	for _, s := range steps {
		if strings.HasPrefix(s.Name, "cdktf destroy") && s.Name != "cdktf destroy dev-storage" && s.Name != "cdktf destroy dev-edge" || strings.HasPrefix(s.Name, "helm") || strings.HasPrefix(s.Name, "delete namespace") {
			stackSteps = append(stackSteps, s)
		}
	}
	stackSteps = append(stackSteps, Step{Name: "cdktf destroy dev-storage", Run: func(ctx context.Context) error { return d.CDKTF.Destroy(ctx, "dev-storage") }})
	progressFile := filepath.Join(t.TempDir(), "teardown-dev.json")
	err := Run(context.Background(), &bytes.Buffer{}, "dev", stackSteps, Options{ProgressFile: progressFile})
	require.Error(t, err, "dev-storage fails")
	assert.Contains(t, err.Error(), "run the same command again")
	first := len(log)

	var out bytes.Buffer
	log = nil
	d.CDKTF = recorder{log: &log}
	stackSteps[len(stackSteps)-1].Run = func(ctx context.Context) error { return d.CDKTF.Destroy(ctx, "dev-storage") }
	require.NoError(t, Run(context.Background(), &out, "dev", stackSteps, Options{ProgressFile: progressFile}))
	assert.Equal(t, []string{"destroy dev-storage"}, log, "only the failed step runs again")
	assert.Equal(t, len(stackSteps)-1, strings.Count(out.String(), "done in an earlier run, skipped"))
	assert.Positive(t, first)
	_, err = kube.CoreV1().Namespaces().Get(context.Background(), "observability", metav1.GetOptions{})
	assert.Error(t, err, "namespace deleted")
}

// GIVEN prod THEN refused even with --confirm prod, and allowed only with
// --break-glass as well (or as a dry run); GIVEN staging without --confirm
// THEN refused; with --confirm staging or --dry-run THEN allowed.
func TestSafetyRules(t *testing.T) {
	for _, env := range []string{"prod", "staging"} {
		cfg, err := envs.Load(env, envs.Overrides{Env: env})
		require.NoError(t, err)
		err = Check(cfg, Options{Confirm: env})
		if env == "prod" {
			require.ErrorIs(t, err, ErrRefused)
			assert.Contains(t, err.Error(), "spctl does not tear down prod")
			assert.ErrorIs(t, Check(cfg, Options{BreakGlass: true}), ErrRefused, "break-glass still needs the name typed back")
			assert.NoError(t, Check(cfg, Options{Confirm: "prod", BreakGlass: true}))
			assert.NoError(t, Check(cfg, Options{DryRun: true}))
			continue
		}
		assert.NoError(t, err)
		assert.ErrorIs(t, Check(cfg, Options{}), ErrRefused)
		assert.ErrorIs(t, Check(cfg, Options{Confirm: "dev"}), ErrRefused)
		assert.NoError(t, Check(cfg, Options{DryRun: true}))
	}
}

// GIVEN dev's cicd.services WHEN planned THEN the beacon registry's releases
// are uninstalled from edge-sync, where their workflows install them
// (uninstalling from spatial-properties would find nothing and leave the
// pods and the CronJob running), before edge-sync itself goes.
func TestPlanUninstallsTheBeaconReleasesFromEdgeSync(t *testing.T) {
	cfg := loadDev(t)
	var log []string
	d := Deps{Helm: recorder{log: &log}, CDKTF: recorder{log: &log}, Kube: fake.NewClientset(), Out: &bytes.Buffer{}, Wait: fast, Timeout: time.Second}
	names := map[string]int{}
	for i, s := range Plan(cfg, d, Options{}) {
		names[s.Name] = i
	}
	for _, svc := range []string{"beacons", "beacons-admin", "beacon-rotate"} {
		i, ok := names["helm uninstall edge-sync/"+svc]
		require.True(t, ok, "%s is uninstalled from edge-sync", svc)
		assert.NotContains(t, names, "helm uninstall spatial-properties/"+svc)
		assert.Less(t, i, names["delete namespace edge-sync"], svc)
	}
}

// GIVEN cdktf destroy running (npx → a child standing in for terraform)
// WHEN the command's context ends (Ctrl-C, SIGTERM to spctl) THEN the whole
// process group gets SIGINT, so the terraform below npx can release its
// lock; nothing is left running.
func TestDestroyInterruptReachesTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	// npx runs "terraform" as its child and waits; the child records SIGINT.
	require.NoError(t, os.WriteFile(filepath.Join(bin, "npx"), []byte("#!/bin/sh\nsh -c 'trap \"echo released > "+dir+"/released; exit 130\" INT; echo $$ > "+dir+"/child; while :; do sleep 0.05; done'\n"), 0o755))
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- CDKTFCLI{Dir: dir, Out: io.Discard}.Destroy(ctx, "dev-network") }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "child")); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "npx never started its child")
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { // never leave the stand-in running, even when the test fails
		if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	cancel()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Destroy did not return after its context ended")
	}
	got, err := os.ReadFile(filepath.Join(dir, "released"))
	require.NoError(t, err, "the child below npx must get SIGINT")
	assert.Equal(t, "released\n", string(got))
}
