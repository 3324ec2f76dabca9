package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Problem is what the preflight found that keeps checks from running. Its
// Message is the one line the operator reads; Short is the reason each
// blocked check carries ("not run: …").
type Problem struct {
	Code    int    `json:"code"`
	Kind    string `json:"kind"` // credentials, region or cluster
	Message string `json:"message"`
	Short   string `json:"-"`
}

// STSAPI tells who the credentials belong to.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// DefaultProbeTimeout bounds each preflight probe.
const DefaultProbeTimeout = 10 * time.Second

// Preflight asks, before any check, the three questions whose answer
// changes what verify can say: do AWS accept these credentials (STS
// GetCallerIdentity), is the env in this region (its state bucket, the
// first thing `make bootstrap` creates, answers HeadBucket), and does the
// cluster's API answer (GET /version). It returns the first problem, or
// nil. fileRegion is the region envs/<env>.yaml names, to tell an
// AWS_REGION override apart.
func Preflight(ctx context.Context, cfg *envs.Config, fileRegion string, d Deps, timeout time.Duration) *Problem {
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	if p := probeCredentials(ctx, cfg, d, timeout); p != nil {
		return p
	}
	if p := probeRegion(ctx, cfg, fileRegion, d, timeout); p != nil {
		return p
	}
	return probeCluster(ctx, cfg, d, timeout)
}

func probeCredentials(ctx context.Context, cfg *envs.Config, d Deps, timeout time.Duration) *Problem {
	if d.STS == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := d.STS.GetCallerIdentity(pctx, &sts.GetCallerIdentityInput{})
	if err == nil {
		if cfg.AccountID != "" && aws.ToString(out.Account) != cfg.AccountID {
			return credentialsProblem(fmt.Sprintf("AWS credentials are for account %s (%s), but %s pins accountId %s: use the env's account (AWS_PROFILE)",
				aws.ToString(out.Account), aws.ToString(out.Arn), cfg.File(), cfg.AccountID))
		}
		return nil
	}
	if ctx.Err() != nil {
		return nil // interrupted: Run reports every check not run
	}
	switch code := apiCode(err); {
	case isMissingCredentials(err):
		return credentialsProblem("no AWS credentials found (environment, shared config, SSO or instance role): " +
			"set AWS_PROFILE or run aws sso login, then rerun")
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
		return credentialsProblem(fmt.Sprintf("AWS credentials have expired (%s): refresh them (aws sso login, or new session credentials), then rerun", code))
	case code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" || code == "UnrecognizedClientException" || code == "InvalidAccessKeyId" || code == "AccessDenied":
		return credentialsProblem(fmt.Sprintf("AWS rejected the credentials (%s): check AWS_PROFILE or the access key, then rerun", code))
	case code != "":
		return credentialsProblem(fmt.Sprintf("AWS STS refused GetCallerIdentity (%s): %v", code, err))
	}
	return unreachable(cfg, "AWS STS", err, timeout)
}

func credentialsProblem(msg string) *Problem {
	return &Problem{Code: ExitCredentials, Kind: "credentials", Message: msg, Short: "AWS credentials missing, expired or rejected"}
}

// unreachable is AWS not answering at all in the region.
func unreachable(cfg *envs.Config, what string, err error, timeout time.Duration) *Problem {
	why := err.Error()
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		why = "host " + dns.Name + " does not resolve"
	case errors.Is(err, context.DeadlineExceeded):
		why = fmt.Sprintf("no answer within %s", timeout)
	}
	return &Problem{Code: ExitRegion, Kind: "region",
		Message: fmt.Sprintf("%s gave no usable answer in region %s (%s): check the region and the network, then rerun", what, cfg.Region, why),
		Short:   "AWS gave no usable answer in region " + cfg.Region}
}

func probeRegion(ctx context.Context, cfg *envs.Config, fileRegion string, d Deps, timeout time.Duration) *Problem {
	if d.S3 == nil {
		return nil
	}
	bucket := naming.New(cfg.Org, cfg.Env, cfg.Region).StateBucket()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := d.S3.HeadBucket(pctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil || ctx.Err() != nil {
		return nil
	}
	override := ""
	if fileRegion != "" && fileRegion != cfg.Region {
		override = fmt.Sprintf(" %s says region %s; AWS_REGION=%s overrides it: unset AWS_REGION or set it to %s.", cfg.File(), fileRegion, cfg.Region, fileRegion)
	}
	switch status := httpStatus(err); {
	case status == http.StatusNotFound:
		return &Problem{Code: ExitRegion, Kind: "region",
			Message: fmt.Sprintf("%s is not deployed in region %s: its state bucket %s does not exist there.%s", cfg.Env, cfg.Region, bucket, override),
			Short:   fmt.Sprintf("%s not found in region %s", cfg.Env, cfg.Region)}
	case status == http.StatusMovedPermanently || status == http.StatusBadRequest:
		return &Problem{Code: ExitRegion, Kind: "region",
			Message: fmt.Sprintf("state bucket %s is in another region than %s (HTTP %d).%s", bucket, cfg.Region, status, override),
			Short:   fmt.Sprintf("%s not in region %s", cfg.Env, cfg.Region)}
	case status == http.StatusForbidden:
		return credentialsProblem(fmt.Sprintf("these AWS credentials may not read %s's state bucket %s (HTTP 403): wrong account or profile, or a principal without read access to %s", cfg.Env, bucket, cfg.Env))
	case status != 0:
		return nil // an answer we cannot interpret: let the checks speak
	}
	return unreachable(cfg, "AWS S3", err, timeout)
}

func probeCluster(ctx context.Context, cfg *envs.Config, d Deps, timeout time.Duration) *Problem {
	cluster := naming.New(cfg.Org, cfg.Env, cfg.Region).Cluster()
	fix := fmt.Sprintf("aws eks update-kubeconfig --name %s --region %s", cluster, cfg.Region)
	if d.Kube == nil {
		why := "no kubeconfig"
		if d.KubeErr != nil {
			why = d.KubeErr.Error()
		}
		return &Problem{Code: ExitCluster, Kind: "cluster",
			Message: fmt.Sprintf("no access to cluster %s (%s): in-cluster checks not run; %s, or pass --kubeconfig", cluster, why, fix),
			Short:   "no access to the cluster"}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := serverVersion(pctx, d)
	if err == nil || ctx.Err() != nil {
		return nil
	}
	var why string
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pctx.Err() != nil:
		why = fmt.Sprintf("its API %s did not answer within %s", d.KubeHost, timeout)
	case apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err):
		why = fmt.Sprintf("its API %s refused these credentials (%v); your principal needs an EKS access entry", d.KubeHost, err)
	default:
		why = fmt.Sprintf("its API %s is not reachable: %v", d.KubeHost, err)
	}
	return &Problem{Code: ExitCluster, Kind: "cluster",
		Message: fmt.Sprintf("cluster %s: %s; in-cluster checks not run (%s)", cluster, why, fix),
		Short:   "the cluster's API did not answer or refused access"}
}

// serverVersion asks the API server for /version under ctx. client-go's
// ServerVersion() takes no context; the REST client does.
func serverVersion(ctx context.Context, d Deps) (string, error) {
	disc := d.Kube.Discovery()
	if rc := disc.RESTClient(); rc != nil {
		var v struct {
			GitVersion string `json:"gitVersion"`
		}
		raw, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
		if err != nil {
			return "", err
		}
		if err := jsonUnmarshal(raw, &v); err != nil {
			return "", err
		}
		return v.GitVersion, nil
	}
	// A fake clientset has no REST client; its answer is immediate.
	v, err := disc.ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// apiCode is the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus is the HTTP status of an AWS answer, or 0 when none came.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// isMissingCredentials recognises the SDK's "no credentials in the chain"
// (the request never left: no provider had any).
func isMissingCredentials(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "get credentials:") || strings.Contains(msg, "failed to refresh cached credentials")
}
