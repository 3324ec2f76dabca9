package main

import (
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
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

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

// clients returns the clientset and service proxy, or nils (the in-cluster
// checks then fail with "no cluster access").
func (k *kubeFlags) clients() (kubernetes.Interface, kubeapi.ServiceGetter) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if k.kubeconfig != "" {
		rules.ExplicitPath = k.kubeconfig
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context}).ClientConfig()
	if err != nil {
		return nil, nil
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil
	}
	p, err := kubeapi.NewProxy(rc)
	if err != nil {
		return cs, nil
	}
	return cs, p
}

func newVerifyCmd() *cobra.Command {
	var env, asset string
	var asJSON bool
	var kf kubeFlags
	c := &cobra.Command{
		Use:   "verify --env <env>",
		Short: "Check a live environment against the guide's E1 exit checklist (and the edge pieces)",
		Long: "Runs every item of E1.1–E1.5 plus the edge checks, one line each (✅/❌, the reason, and the fix from\n" +
			"the guide's Common Pitfalls). AWS through the standard credential chain; the cluster through your\n" +
			"kubeconfig; Prometheus, Loki, Tempo, Grafana and NATS monitoring through the API server's service\n" +
			"proxy (needs get on services/proxy; no port-forward). Exit 1 when any check fails.",
		Example: "  aws eks update-kubeconfig --name spatialprops-dev-eks --region ap-southeast-2\n  spctl verify --env dev\n  spctl verify --env dev --json | jq '.results[] | select(.ok == false)'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ac, err := awsenv.Load(ctx, cfg.Region)
			if err != nil {
				return err
			}
			east := ac.Copy()
			east.Region = "us-east-1" // CloudFront certificates live there
			kube, svc := kf.clients()
			d := verify.Deps{
				S3:  s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = awsenv.PathStyle(ac) }),
				EKS: eks.NewFromConfig(ac), IAM: iam.NewFromConfig(ac), ECR: ecr.NewFromConfig(ac), SQS: sqs.NewFromConfig(ac),
				PCA: acmpca.NewFromConfig(ac), DynamoDB: dynamodb.NewFromConfig(ac), KMS: kms.NewFromConfig(ac),
				CloudFront: cloudfront.NewFromConfig(east), ACM: acm.NewFromConfig(east),
				Resolver: net.DefaultResolver, HTTP: &http.Client{Timeout: 20 * time.Second},
				Asset: asset, Kube: kube, Services: svc, Now: time.Now,
			}
			rep := verify.Run(ctx, cfg.Env, verify.Checks(cfg, d))
			if asJSON {
				if err := rep.WriteJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if !rep.OK() {
				return errFailed
			}
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev, staging or prod")
	c.Flags().StringVar(&asset, "asset", "", "CDN path of an open pack probed for Range and CORS, e.g. open/<pack>/<version>/<file> (default: the first object under published/open/ in the packs bucket)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	kf.add(c)
	return c
}
