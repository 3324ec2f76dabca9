package verify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// awsChecks are the checks answered by AWS APIs alone.
type awsChecks struct {
	cfg   *envs.Config
	names naming.Names
	d     *Deps
	// cluster and dist are looked up once and shared by later checks; a
	// failed lookup is kept too, so dependent checks report "not run".
	cluster    *ekstypes.Cluster
	clusterErr error
	dist       *cftypes.Distribution
	distErr    error
	// existsCheck maps a bucket to the id of the check that reports its
	// absence, so its other checks do not report it again.
	existsCheck map[string]string
}

// clusterInfo describes the cluster once.
func (a *awsChecks) clusterInfo(ctx context.Context) (*ekstypes.Cluster, error) {
	if a.cluster != nil || a.clusterErr != nil {
		return a.cluster, a.clusterErr
	}
	out, err := a.d.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(a.names.Cluster())})
	if err != nil {
		err = callErr(err, "cluster "+a.names.Cluster())
		if !isNotRun(err) {
			a.clusterErr = err // a not-run lookup is retried by the next check
		}
		return nil, err
	}
	a.cluster = out.Cluster
	return a.cluster, nil
}

func (a *awsChecks) clusterActive(ctx context.Context) (string, error) {
	c, err := a.clusterInfo(ctx)
	if err != nil {
		return "", err
	}
	if c.Status != ekstypes.ClusterStatusActive {
		return "", failf("cluster %s is %s, not ACTIVE", a.names.Cluster(), c.Status)
	}
	if v := aws.ToString(c.Version); v != a.cfg.Cluster.Version {
		return "", failf("cluster %s runs Kubernetes %s but %s says %s", a.names.Cluster(), v, a.cfg.File(), a.cfg.Cluster.Version)
	}
	return fmt.Sprintf("%s ACTIVE, Kubernetes %s", a.names.Cluster(), aws.ToString(c.Version)), nil
}

// oidcProvider finds the IAM OIDC provider for host and checks its audience.
func (a *awsChecks) oidcProvider(ctx context.Context, host string) (string, error) {
	out, err := a.d.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return "", notRunf("list IAM OIDC providers: could not look: %s", brief(err))
	}
	for _, p := range out.OpenIDConnectProviderList {
		arn := aws.ToString(p.Arn)
		if !strings.HasSuffix(arn, ":oidc-provider/"+host) {
			continue
		}
		got, err := a.d.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: p.Arn})
		if err != nil {
			return "", callErr(err, "OIDC provider "+arn)
		}
		if !slices.Contains(got.ClientIDList, "sts.amazonaws.com") {
			return "", failf("OIDC provider %s does not list audience sts.amazonaws.com (has %v)", arn, got.ClientIDList)
		}
		return arn, nil
	}
	return "", failf("no IAM OIDC provider for %s", host)
}

func (a *awsChecks) irsa(ctx context.Context) (string, error) {
	c, err := a.clusterInfo(ctx)
	if err != nil {
		return "", prerequisite(err, "cluster", "e1.1/cluster-active")
	}
	if c.Identity == nil || c.Identity.Oidc == nil || aws.ToString(c.Identity.Oidc.Issuer) == "" {
		return "", failf("cluster %s has no OIDC issuer", a.names.Cluster())
	}
	issuer := aws.ToString(c.Identity.Oidc.Issuer)
	arn, err := a.oidcProvider(ctx, strings.TrimPrefix(issuer, "https://"))
	if isNotRun(err) {
		return "", err
	}
	if err != nil {
		return "", failf("IRSA: %v (cluster issuer %s)", err, issuer)
	}
	return "provider " + arn + " matches the cluster issuer", nil
}

func (a *awsChecks) bucketExists(bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if _, err := a.d.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
			if isNotFound(err) {
				return "", failf("bucket %s does not exist", bucket)
			}
			return "", callErr(err, "bucket "+bucket)
		}
		return bucket, nil
	}
}

// bucketEncryption: packs and stac use the data key (SSE-KMS); logs uses
// SSE-S3 on purpose, because S3 server access logs cannot be delivered to
// an SSE-KMS bucket.
func (a *awsChecks) bucketEncryption(kind, bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := a.d.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
		if err != nil {
			return "", a.bucketErr(err, bucket, "no default encryption")
		}
		if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) == 0 ||
			out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
			return "", failf("%s: no default encryption rule", bucket)
		}
		def := out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
		want := s3types.ServerSideEncryptionAwsKms
		if kind == "logs" {
			want = s3types.ServerSideEncryptionAes256
		}
		if def.SSEAlgorithm != want {
			return "", failf("%s: default encryption is %s, want %s", bucket, def.SSEAlgorithm, want)
		}
		if want == s3types.ServerSideEncryptionAwsKms {
			if aws.ToString(def.KMSMasterKeyID) == "" {
				return "", failf("%s: SSE-KMS without a customer-managed key", bucket)
			}
			return "SSE-KMS with " + aws.ToString(def.KMSMasterKeyID), nil
		}
		return "SSE-S3 (access-log delivery cannot use SSE-KMS)", nil
	}
}

func (a *awsChecks) bucketVersioning(bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := a.d.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if apiCode(err) == "NoSuchBucket" {
			return "", a.noBucket(bucket)
		}
		if err != nil {
			return "", callErr(err, bucket+": versioning")
		}
		if out.Status != s3types.BucketVersioningStatusEnabled {
			state := string(out.Status)
			if state == "" {
				state = "never enabled"
			}
			return "", failf("%s: versioning is %s", bucket, state)
		}
		return "Enabled", nil
	}
}

func (a *awsChecks) bucketPublicAccess(bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := a.d.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
		if err != nil {
			return "", a.bucketErr(err, bucket, "no public access block")
		}
		c := out.PublicAccessBlockConfiguration
		if c == nil || !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
			return "", failf("%s: public access is not fully blocked", bucket)
		}
		return "all four blocks on", nil
	}
}

func (a *awsChecks) bucketLifecycle(bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := a.d.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			return "", a.bucketErr(err, bucket, "no lifecycle configuration")
		}
		var active []string
		for _, r := range out.Rules {
			if r.Status == s3types.ExpirationStatusEnabled {
				active = append(active, aws.ToString(r.ID))
			}
		}
		if len(active) == 0 {
			return "", failf("%s: no enabled lifecycle rule", bucket)
		}
		return "rules " + strings.Join(active, ", "), nil
	}
}

// bucketCors checks the asset buckets' browser access: GET and HEAD from the
// configured origins, with the Range headers exposed.
func (a *awsChecks) bucketCors(bucket string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := a.d.S3.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if apiCode(err) == "NoSuchBucket" {
			return "", a.noBucket(bucket)
		}
		if err != nil && !isNotFound(err) {
			return "", callErr(err, bucket+": CORS")
		}
		if err != nil || len(out.CORSRules) == 0 {
			return "", failf("%s: no CORS configuration (browsers cannot read assets cross-origin)", bucket)
		}
		for _, r := range out.CORSRules {
			if !slices.Contains(r.AllowedMethods, "GET") || !slices.Contains(r.AllowedMethods, "HEAD") {
				continue
			}
			want := a.cfg.Storage.CorsAllowedOrigins
			if !sameSet(r.AllowedOrigins, want) {
				return "", failf("%s: CORS origins %v, %s says %v", bucket, r.AllowedOrigins, a.cfg.File(), want)
			}
			for _, h := range naming.CorsExposeHeaders {
				if !containsFold(r.ExposeHeaders, h) {
					return "", failf("%s: CORS does not expose %s (Range reads need it)", bucket, h)
				}
			}
			return fmt.Sprintf("GET/HEAD from %v, exposes %s", r.AllowedOrigins, strings.Join(naming.CorsExposeHeaders, ", ")), nil
		}
		return "", failf("%s: no CORS rule allows GET and HEAD", bucket)
	}
}

// distribution finds the env's distribution by its alias (the CDN domain).
func (a *awsChecks) distribution(ctx context.Context) (*cftypes.Distribution, error) {
	if a.dist != nil || a.distErr != nil {
		return a.dist, a.distErr
	}
	id, err := FindDistribution(ctx, a.d.CloudFront, a.cfg.CDN.Domain)
	if err == nil {
		var out *cloudfront.GetDistributionOutput
		if out, err = a.d.CloudFront.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)}); err == nil {
			a.dist = out.Distribution
			return a.dist, nil
		}
	}
	if IsNotFound(err) {
		a.distErr = failf("%v", err)
		return nil, a.distErr
	}
	return nil, callErr(err, "CloudFront distribution "+a.cfg.CDN.Domain)
}

// FindDistribution returns the id of the distribution whose aliases include
// domain. Summaries without aliases (moto leaves them out) are read in full.
func FindDistribution(ctx context.Context, cf CloudFrontAPI, domain string) (string, error) {
	var marker *string
	for {
		out, err := cf.ListDistributions(ctx, &cloudfront.ListDistributionsInput{Marker: marker})
		if err != nil {
			return "", err
		}
		if out.DistributionList == nil {
			break
		}
		for _, d := range out.DistributionList.Items {
			aliases := d.Aliases
			if aliases == nil {
				full, err := cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: d.Id})
				if err != nil {
					return "", err
				}
				aliases = full.Distribution.DistributionConfig.Aliases
			}
			if aliases != nil && slices.Contains(aliases.Items, domain) {
				return aws.ToString(d.Id), nil
			}
		}
		if !aws.ToBool(out.DistributionList.IsTruncated) {
			break
		}
		marker = out.DistributionList.NextMarker
	}
	return "", &NotFoundError{What: "CloudFront distribution with alias " + domain}
}

// NotFoundError is a resource that does not exist.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " not found" }

// IsNotFound reports whether err is a NotFoundError.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

func (a *awsChecks) distDeployed(ctx context.Context) (string, error) {
	d, err := a.distribution(ctx)
	if err != nil {
		return "", err
	}
	if aws.ToString(d.Status) != "Deployed" {
		return "", failf("distribution %s is %s, not Deployed", aws.ToString(d.Id), aws.ToString(d.Status))
	}
	if !aws.ToBool(d.DistributionConfig.Enabled) {
		return "", failf("distribution %s is disabled", aws.ToString(d.Id))
	}
	return fmt.Sprintf("%s Deployed (%s)", aws.ToString(d.Id), aws.ToString(d.DomainName)), nil
}

// distOAC: the packs origin is the regional S3 endpoint and signs with
// the env's OAC; either mistake gives the guide's CDN 403s.
func (a *awsChecks) distOAC(ctx context.Context) (string, error) {
	d, err := a.distribution(ctx)
	if err != nil {
		return "", prerequisite(err, "distribution", "e1.3/distribution")
	}
	regional := fmt.Sprintf("%s.s3.%s.amazonaws.com", a.names.DataBucket("packs"), a.cfg.Region)
	if d.DistributionConfig.Origins == nil {
		return "", failf("distribution %s has no origins", aws.ToString(d.Id))
	}
	for _, o := range d.DistributionConfig.Origins.Items {
		if aws.ToString(o.DomainName) != regional {
			continue
		}
		id := aws.ToString(o.OriginAccessControlId)
		if id == "" {
			return "", failf("origin %s has no origin access control", regional)
		}
		oac, err := a.d.CloudFront.GetOriginAccessControl(ctx, &cloudfront.GetOriginAccessControlInput{Id: aws.String(id)})
		if err != nil {
			return "", callErr(err, "origin access control "+id)
		}
		if c := oac.OriginAccessControl.OriginAccessControlConfig; aws.ToString(c.Name) != a.names.OAC() || c.SigningBehavior != cftypes.OriginAccessControlSigningBehaviorsAlways {
			return "", failf("origin access control %s is %q signing %s, want %q signing always", id, aws.ToString(c.Name), c.SigningBehavior, a.names.OAC())
		}
		return fmt.Sprintf("origin %s signs with OAC %s", regional, a.names.OAC()), nil
	}
	return "", failf("no origin is the regional packs endpoint %s", regional)
}

// distCertificate: the viewer certificate is an ACM certificate in
// us-east-1, ISSUED, covering the CDN domain and not expiring within 14 days.
func (a *awsChecks) distCertificate(ctx context.Context) (string, error) {
	d, err := a.distribution(ctx)
	if err != nil {
		return "", prerequisite(err, "distribution", "e1.3/distribution")
	}
	vc := d.DistributionConfig.ViewerCertificate
	if vc == nil || aws.ToString(vc.ACMCertificateArn) == "" {
		return "", failf("distribution %s has no ACM certificate", aws.ToString(d.Id))
	}
	arn := aws.ToString(vc.ACMCertificateArn)
	out, err := a.d.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return "", callErr(err, "certificate "+arn)
	}
	c := out.Certificate
	if c.Status != acmtypes.CertificateStatusIssued {
		return "", failf("certificate %s is %s, not ISSUED", arn, c.Status)
	}
	if !slices.Contains(append([]string{aws.ToString(c.DomainName)}, c.SubjectAlternativeNames...), a.cfg.CDN.Domain) {
		return "", failf("certificate %s does not cover %s", arn, a.cfg.CDN.Domain)
	}
	left := aws.ToTime(c.NotAfter).Sub(a.d.Now())
	if left < 14*24*time.Hour {
		return "", failf("certificate %s expires in %s", arn, left.Round(time.Hour))
	}
	return fmt.Sprintf("ISSUED for %s, %d days left", a.cfg.CDN.Domain, int(left.Hours()/24)), nil
}

func (a *awsChecks) domainResolves(ctx context.Context) (string, error) {
	addrs, err := a.d.Resolver.LookupHost(ctx, a.cfg.CDN.Domain)
	if err != nil && !isNotFound(err) {
		return "", notRunf("look up %s: could not look: %v", a.cfg.CDN.Domain, err)
	}
	if err != nil || len(addrs) == 0 {
		return "", failf("%s does not resolve: %v", a.cfg.CDN.Domain, err)
	}
	return fmt.Sprintf("%s -> %s", a.cfg.CDN.Domain, strings.Join(addrs[:min(len(addrs), 2)], ", ")), nil
}

func (a *awsChecks) ecrScanOnPush(ctx context.Context) (string, error) {
	var bad, ok, unread []string
	for _, svc := range a.cfg.CICD.Services {
		name := a.names.EcrRepository(svc)
		out, err := a.d.ECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		if err != nil && !isNotFound(err) {
			unread = append(unread, name+": "+brief(err))
			continue
		}
		if err != nil || len(out.Repositories) == 0 {
			bad = append(bad, name+": missing")
			continue
		}
		r := out.Repositories[0]
		if r.ImageScanningConfiguration == nil || !r.ImageScanningConfiguration.ScanOnPush {
			bad = append(bad, name+": scan on push is off")
			continue
		}
		ok = append(ok, name)
	}
	if len(bad) > 0 {
		if len(unread) > 0 {
			bad = append(bad, "could not read "+strings.Join(unread, "; "))
		}
		return "", failf("%s", strings.Join(bad, "; "))
	}
	if len(unread) > 0 {
		return "", notRunf("could not read %s", strings.Join(unread, "; "))
	}
	return strings.Join(ok, ", ") + " (scan on push)", nil
}

func (a *awsChecks) githubOIDC(ctx context.Context) (string, error) {
	arn, err := a.oidcProvider(ctx, naming.OIDCGitHubHost)
	if err != nil {
		return "", err
	}
	// every service has its own deploy role, trusted by its own GitHub
	// environment <env>-deploy-<svc> only
	var checked []string
	for _, svc := range a.cfg.CICD.Services {
		role := a.names.Role("gha-deploy-" + svc)
		out, err := a.d.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			return "", callErr(err, "deploy role "+role)
		}
		trust, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
		sub := a.cfg.ServiceDeploySubject(svc)
		if !strings.Contains(trust, `"`+sub+`"`) {
			return "", failf("role %s does not trust exactly its own workflow on main in its own environment (%s)", role, sub)
		}
		checked = append(checked, role)
	}
	return fmt.Sprintf("%s; %d deploy roles each trust their own service's environment", arn, len(checked)), nil
}

func (a *awsChecks) imagePushed(svc string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		name := a.names.EcrRepository(svc)
		out, err := a.d.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(name)})
		if err != nil {
			return "", callErr(err, name)
		}
		var latest *time.Time
		tags := 0
		for _, img := range out.ImageDetails {
			if len(img.ImageTags) > 0 {
				tags++
				if latest == nil || (img.ImagePushedAt != nil && img.ImagePushedAt.After(*latest)) {
					latest = img.ImagePushedAt
				}
			}
		}
		if tags == 0 {
			return "", failf("%s has no tagged image: the deploy workflow has not pushed yet", name)
		}
		return fmt.Sprintf("%s: %d tagged images, latest pushed %s", name, tags, aws.ToTime(latest).UTC().Format(time.RFC3339)), nil
	}
}

// dtnQueue: the outbox exists and refuses envelopes over 50 KB.
func (a *awsChecks) dtnQueue(ctx context.Context) (string, error) {
	name := a.names.DTNOutboxQueue()
	u, err := a.d.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", callErr(err, "queue "+name)
	}
	out, err := a.d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMaximumMessageSize},
	})
	if err != nil {
		return "", callErr(err, "queue "+name)
	}
	size := out.Attributes[string(sqstypes.QueueAttributeNameMaximumMessageSize)]
	var n int
	if _, err := fmt.Sscan(size, &n); err != nil || n > edge.MaxEnvelopeBytes {
		return "", failf("queue %s accepts %s-byte messages, more than the %d-byte envelope limit", name, size, edge.MaxEnvelopeBytes)
	}
	return fmt.Sprintf("%s, max message %d bytes", name, n), nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
