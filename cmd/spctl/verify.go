package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/kubeapi"
	"github.com/spatialprops/spatialprops-infra/internal/ops/verify"
)

// kubeFlags select the cluster credentials (kubeconfig as written by
// `aws eks update-kubeconfig`).
type kubeFlags struct{ kubeconfig, context string }

func (k *kubeFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	c.Flags().StringVar(&k.context, "context", "", "kubeconfig context (default: the current one)")
}

// kubeTimeout bounds each request to the Kubernetes API (client-go has no
// timeout of its own: a silent API server would hold spctl forever).
var kubeTimeout = 15 * time.Second

// kubeClients is the cluster access a kubeconfig gives, or why there is none.
type kubeClients struct {
	kube kubernetes.Interface
	svc  kubeapi.ServiceGetter
	host string
	err  error
}

// connect builds the clients; every request they make has kubeTimeout.
func (k *kubeFlags) connect() kubeClients {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if k.kubeconfig != "" {
		rules.ExplicitPath = k.kubeconfig
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return kubeClients{err: errors.New("no kubeconfig found")}
	}
	if err != nil {
		return kubeClients{err: err}
	}
	rc.Timeout = kubeTimeout
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return kubeClients{err: err, host: rc.Host}
	}
	kc := kubeClients{kube: cs, host: rc.Host}
	if p, err := kubeapi.NewProxy(rc); err == nil {
		kc.svc = p
	}
	return kc
}

// clients returns the clientset and service proxy, or nils.
func (k *kubeFlags) clients() (kubernetes.Interface, kubeapi.ServiceGetter) {
	kc := k.connect()
	return kc.kube, kc.svc
}

// verifyTimeouts are the bounds of one verify run; tests shorten them.
var verifyTimeouts = struct{ probe, check time.Duration }{verify.DefaultProbeTimeout, verify.DefaultCheckTimeout}

const verifyExitCodes = `
Exit status:
  0  every check ran and passed
  1  a check ran and found something wrong (its fix is printed under it)
  2  bad usage
  3  AWS credentials missing, expired or rejected: nothing checked
  4  AWS did not answer in the env's region, or the env is not deployed there: nothing checked
  5  the cluster's API did not answer or refused access: in-cluster checks not run (the AWS ones ran)
  6  some checks could not run (no permission, no answer, no asset); none failed
  130, 143  interrupted by SIGINT or SIGTERM: what ran is printed, the rest is "not run"`

func newVerifyCmd() *cobra.Command {
	var env, asset string
	var asJSON bool
	var kf kubeFlags
	c := &cobra.Command{
		Use:   "verify --env <env>",
		Short: "Check a live environment against the guide's E1 exit checklist (and the edge pieces)",
		Long: "Runs every item of E1.1–E1.5 plus the edge checks, one line each: ✅ passed, ❌ failed (with the fix\n" +
			"from the guide's Common Pitfalls), or ⏭ not run (it could not look, and says why). First it checks that AWS\n" +
			"accepts the credentials, that the env is deployed in the region and that the cluster answers; each problem\n" +
			"there is one line and its own exit code. AWS through the standard credential chain; the cluster through\n" +
			"your kubeconfig; Prometheus, Loki, Tempo, Grafana and NATS monitoring through the API server's service\n" +
			"proxy (needs get on services/proxy; no port-forward). Every call has a deadline; Ctrl-C stops the run.",
		Example: "  aws eks update-kubeconfig --name spatialprops-dev-eks --region ap-southeast-2\n  spctl verify --env dev\n  spctl verify --env dev --json | jq '.results[] | select(.status != \"passed\")'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			fileRegion := cfg.Region
			if plain, err := envs.Load(cfg.Env, envs.Overrides{Env: cfg.Env, Org: cfg.Org}); err == nil {
				fileRegion = plain.Region
			}
			ctx := cmd.Context()
			ac, err := awsenv.Load(ctx, cfg.Region)
			if err != nil {
				return err
			}
			east := ac.Copy()
			east.Region = "us-east-1" // CloudFront certificates live there
			kc := kf.connect()
			d := verify.Deps{
				S3:  s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = awsenv.PathStyle(ac) }),
				EKS: eks.NewFromConfig(ac), IAM: iam.NewFromConfig(ac), ECR: ecr.NewFromConfig(ac), SQS: sqs.NewFromConfig(ac),
				PCA: acmpca.NewFromConfig(ac), DynamoDB: dynamodb.NewFromConfig(ac), KMS: kms.NewFromConfig(ac),
				CloudFront: cloudfront.NewFromConfig(east), ACM: acm.NewFromConfig(east), STS: sts.NewFromConfig(ac),
				Resolver: net.DefaultResolver, HTTP: &http.Client{Timeout: 20 * time.Second},
				Asset: asset, Kube: kc.kube, Services: kc.svc, KubeErr: kc.err, KubeHost: kc.host, Now: time.Now,
			}
			problem := verify.Preflight(ctx, cfg, fileRegion, d, verifyTimeouts.probe)
			rep := verify.Run(ctx, cfg.Env, verify.Checks(cfg, d), verify.Options{
				CheckTimeout: verifyTimeouts.check, Problem: problem,
				Interrupted: func() string { name, _ := interruptedBy(ctx); return name },
			})
			if asJSON {
				if err := rep.WriteJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else if rep.Problem != nil && rep.Problem.Code != verify.ExitCluster {
				fmt.Fprintln(cmd.ErrOrStderr(), rep.Problem.Message)
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if code := rep.ExitCode(); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev, staging or prod")
	c.Flags().StringVar(&asset, "asset", "", "CDN path of an open pack probed for Range and CORS, e.g. open/<pack>/<version>/<file> (default: the first object under published/open/ in the packs bucket)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	kf.add(c)
	// verify's own exit statuses replace the shared table.
	c.SetUsageTemplate((&cobra.Command{}).UsageTemplate() + verifyExitCodes + "\n")
	return c
}
