// Command synthbench times `make synth` (the app synthesizing every stack
// of dev, staging and prod) against a one-bucket app that loads the same
// provider assemblies (AWS, Kubernetes, Helm, GitHub), in paired,
// alternating runs of the two compiled binaries, and prints the medians and
// their ratio. The fixed cost of starting the jsii runtime and loading the
// assemblies is in both; what the ratio shows is what our own stacks add.
//
//	go run ./cmd/synthbench -runs 5     # or: make bench-synth
//
// It is a benchmark, not a test: run it alone on a quiet machine (parallel
// compiles make every figure meaningless). It is not part of make test.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	awsprovider "github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	githubprovider "github.com/cdktf/cdktf-provider-github-go/github/v14/provider"
	helmprovider "github.com/cdktf/cdktf-provider-helm-go/helm/v10/provider"
	k8sprovider "github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/provider"
)

func main() {
	baseline := flag.Bool("baseline", false, "synthesize the one-bucket app (the child process of a paired run)")
	runs := flag.Int("runs", 5, "paired runs; the medians are reported")
	flag.Parse()
	if *baseline {
		oneBucket()
		return
	}
	if err := bench(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "synthbench:", err)
		os.Exit(1)
	}
}

// oneBucket is the baseline app: one stack, one bucket, and one provider
// of each kind, so every assembly the real app loads is loaded here too.
func oneBucket() {
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(os.Getenv("CDKTF_OUTDIR"))})
	stack := cdktf.NewTerraformStack(app, jsii.String("bench"))
	awsprovider.NewAwsProvider(stack, jsii.String("aws"), &awsprovider.AwsProviderConfig{Region: jsii.String("ap-southeast-2")})
	k8sprovider.NewKubernetesProvider(stack, jsii.String("kubernetes"), &k8sprovider.KubernetesProviderConfig{})
	helmprovider.NewHelmProvider(stack, jsii.String("helm"), &helmprovider.HelmProviderConfig{})
	githubprovider.NewGithubProvider(stack, jsii.String("github"), &githubprovider.GithubProviderConfig{})
	s3bucket.NewS3Bucket(stack, jsii.String("bucket"), &s3bucket.S3BucketConfig{Bucket: jsii.String("synthbench")})
	app.Synth()
}

func bench(runs int) error {
	tmp, err := os.MkdirTemp("", "synthbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	app, self := filepath.Join(tmp, "app"), filepath.Join(tmp, "baseline")
	fmt.Println("building the app and the baseline (not timed)")
	for _, b := range [][]string{{"-o", app, "."}, {"-o", self, "./cmd/synthbench"}} {
		cmd := exec.Command("go", append([]string{"build"}, b...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %v: %w (run it from the repository root after make gen)", b, err)
		}
	}
	timeIt := func(name string, args ...string) (time.Duration, error) {
		out := filepath.Join(tmp, "out-"+filepath.Base(name))
		os.RemoveAll(out)
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "CDKTF_OUTDIR="+out)
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s: %w\n%s", name, err, b)
		}
		return time.Since(start), nil
	}
	var ours, base []time.Duration
	for i := 1; i <= runs; i++ {
		a, err := timeIt(app)
		if err != nil {
			return err
		}
		b, err := timeIt(self, "-baseline")
		if err != nil {
			return err
		}
		ours, base = append(ours, a), append(base, b)
		fmt.Printf("run %d/%d: app %.1fs, one-bucket baseline %.1fs\n", i, runs, a.Seconds(), b.Seconds())
	}
	ma, mb := median(ours), median(base)
	fmt.Printf("median: app %.1fs, baseline %.1fs, ratio %.2f (target <= 1.30)\n", ma.Seconds(), mb.Seconds(), ma.Seconds()/mb.Seconds())
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
