package verify

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

// breakage lists what a fixture gets wrong; the zero value is compliant.
type breakage struct {
	unversioned   string // bucket kind left unversioned
	noCors        string // asset bucket kind without CORS
	noLifecycle   string // bucket kind without lifecycle
	noScan        string // service whose repository does not scan on push
	globalOrigin  bool   // origin uses s3.amazonaws.com (the guide's 403)
	bigQueue      bool   // DTN queue accepts 256 KB
	wrongRepoSub  bool   // deploy role trusts another repository
	noImage       bool   // pack-service never pushed
	expiringCertD int    // days left on the certificate (default 90)
	caNoOCSP      bool   // device CA without OCSP
	pendingCA     bool   // device CA whose certificate the PKI ceremony never installed
	deviceCAMode  string // device CA created in this usage mode, not the env's
	pendingSvcCA  bool   // service CA whose certificate was never installed
	beaconNoTTL   bool   // beacon table without TTL on expiresAt
	billingNoDLQ  bool   // billing queue without a dead-letter queue
	symmetricProv bool   // provenance key is a symmetric encrypt key
	noPublishDeny bool   // packs bucket policy lacks the published/ deny
}

// clients are the real SDK clients on moto.
type clients struct {
	s3  *s3.Client
	eks *eks.Client
	iam *iam.Client
	ecr *ecr.Client
	cf  *cloudfront.Client
	acm *acm.Client
	sqs *sqs.Client
	pca *acmpca.Client
	ddb *dynamodb.Client
	kms *kms.Client
	// caModes are the usage modes the fixture asked for, by CA ARN (pcaGap).
	caModes map[string]pcatypes.CertificateAuthorityUsageMode
}

func newClients(t *testing.T) clients {
	cfg := opstest.AWS(t, "ap-southeast-2")
	east := opstest.AWS(t, "us-east-1")
	return clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		eks: eks.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), ecr: ecr.NewFromConfig(cfg),
		cf: cloudfront.NewFromConfig(east), acm: acm.NewFromConfig(east), sqs: sqs.NewFromConfig(cfg),
		pca: acmpca.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg),
		caModes: map[string]pcatypes.CertificateAuthorityUsageMode{},
	}
}

func (c clients) deps() Deps {
	return Deps{S3: c.s3, EKS: c.eks, IAM: c.iam, ECR: c.ecr, CloudFront: oacGap{c.cf}, ACM: c.acm, SQS: c.sqs, PCA: pcaGap{c.pca, c.caModes}, DynamoDB: c.ddb, KMS: c.kms}
}

// oacGap fills in what moto 5.2.1 drops: it accepts an origin's
// OriginAccessControlId but never returns it. The fixture also records the
// OAC id in the origin's Id ("packs|<oac id>"), and this wrapper moves it
// back to where AWS returns it. Everything else is moto's own answer.
type oacGap struct{ *cloudfront.Client }

func (g oacGap) GetDistribution(ctx context.Context, in *cloudfront.GetDistributionInput, opts ...func(*cloudfront.Options)) (*cloudfront.GetDistributionOutput, error) {
	out, err := g.Client.GetDistribution(ctx, in, opts...)
	if err != nil || out.Distribution.DistributionConfig.Origins == nil {
		return out, err
	}
	for i, o := range out.Distribution.DistributionConfig.Origins.Items {
		if id, oac, ok := strings.Cut(aws.ToString(o.Id), "|"); ok && o.OriginAccessControlId == nil {
			o.Id, o.OriginAccessControlId = aws.String(id), aws.String(oac)
			out.Distribution.DistributionConfig.Origins.Items[i] = o
		}
	}
	return out, nil
}

// must stops the test (by panicking, which fails it) when a fixture call
// fails; Go cannot pass a (value, error) pair next to t.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// buildEnv creates cfg's AWS resources in moto as the stacks would, minus
// whatever b breaks.
func buildEnv(t *testing.T, c clients, cfg *envs.Config, b breakage) {
	ctx := context.Background()
	n := naming.New(cfg.Org, cfg.Env, cfg.Region)

	cl := must(c.eks.CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String(n.Cluster()), Version: aws.String(cfg.Cluster.Version),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/" + n.Role("eks-cluster")),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1", "subnet-2"}},
	}))
	issuer := aws.ToString(cl.Cluster.Identity.Oidc.Issuer)
	oidc(t, c, issuer)
	oidc(t, c, "https://"+naming.OIDCGitHubHost)

	for _, kind := range naming.DataBucketKinds {
		bucket := aws.String(n.DataBucket(kind))
		must(c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket,
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}}))
		sse := s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:ap-southeast-2:123456789012:key/data")}
		if kind == "logs" {
			sse = s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}
		}
		must(c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &sse}}}}))
		if b.unversioned != kind {
			must(c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
		}
		must(c.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
		if b.noLifecycle != kind {
			must(c.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: bucket,
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
					ID: aws.String("abort-multipart"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
					AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}}}))
		}
		if kind != "logs" && b.noCors != kind {
			must(c.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: bucket, CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{{
				AllowedMethods: []string{"GET", "HEAD"}, AllowedOrigins: cfg.Storage.CorsAllowedOrigins, AllowedHeaders: []string{"*"}, ExposeHeaders: naming.CorsExposeHeaders}}}}))
		}
	}

	days := 90
	if b.expiringCertD > 0 {
		days = b.expiringCertD
	}
	certPEM, keyPEM := opstest.SelfSignedCert(t, cfg.CDN.Domain, days)
	cert := must(c.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM}))
	oac := must(c.cf.CreateOriginAccessControl(ctx, &cloudfront.CreateOriginAccessControlInput{OriginAccessControlConfig: &cftypes.OriginAccessControlConfig{
		Name: aws.String(n.OAC()), OriginAccessControlOriginType: cftypes.OriginAccessControlOriginTypesS3,
		SigningBehavior: cftypes.OriginAccessControlSigningBehaviorsAlways, SigningProtocol: cftypes.OriginAccessControlSigningProtocolsSigv4}}))
	origin := fmt.Sprintf("%s.s3.%s.amazonaws.com", n.DataBucket("packs"), cfg.Region)
	if b.globalOrigin {
		origin = n.DataBucket("packs") + ".s3.amazonaws.com"
	}
	CreateTestDistribution(t, c.cf, cfg.CDN.Domain, origin, aws.ToString(oac.OriginAccessControl.Id), aws.ToString(cert.CertificateArn))

	for _, svc := range cfg.CICD.Services {
		must(c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(n.EcrRepository(svc)),
			ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: b.noScan != svc}}))
	}
	if !b.noImage {
		must(c.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(n.EcrRepository(PackService)), ImageTag: aws.String("abc123"),
			ImageManifest: aws.String(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:aa"},"layers":[]}`)}))
	}
	repo := cfg.CICD.GitHubOrg + "/" + cfg.CICD.GitHubRepo
	if b.wrongRepoSub {
		repo = "someone-else/fork"
	}
	for _, svc := range cfg.CICD.Services {
		sub := fmt.Sprintf("repo:%s:environment:%s:job_workflow_ref:%s/.github/workflows/deploy-%s.yml@refs/heads/main", repo, cfg.ServiceEnvironment(svc), repo, svc)
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:sub":"%s"}}}]}`, naming.OIDCGitHubHost, sub)
		must(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n.Role("gha-deploy-" + svc)), AssumeRolePolicyDocument: aws.String(trust)}))
	}

	size := "51200"
	if b.bigQueue {
		size = "262144"
	}
	must(c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.DTNOutboxQueue()), Attributes: map[string]string{"MaximumMessageSize": size}}))
	buildAdditions(t, c, cfg, n, b)
}

// oidc creates an IAM OIDC provider; providers are account-wide in moto,
// so one that exists already (another test's GitHub provider) is fine.
func oidc(t *testing.T, c clients, issuer string) {
	u, _ := url.Parse(issuer)
	list := must(c.iam.ListOpenIDConnectProviders(context.Background(), &iam.ListOpenIDConnectProvidersInput{}))
	for _, p := range list.OpenIDConnectProviderList {
		if len(aws.ToString(p.Arn)) > 0 && aws.ToString(p.Arn)[len(aws.ToString(p.Arn))-len(u.Host+u.Path):] == u.Host+u.Path {
			return
		}
	}
	must(c.iam.CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(issuer), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{"0123456789012345678901234567890123456789"}}))
}

// CreateTestDistribution creates an enabled distribution with one S3
// origin signed by oacID, aliased to domain, with certificate certArn.
func CreateTestDistribution(t *testing.T, cf *cloudfront.Client, domain, origin, oacID, certArn string) string {
	out := must(cf.CreateDistribution(context.Background(), &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String(domain), Comment: aws.String("test"), Enabled: aws.Bool(true),
		Aliases: &cftypes.Aliases{Quantity: aws.Int32(1), Items: []string{domain}},
		Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
			Id: aws.String("packs|" + oacID), DomainName: aws.String(origin), OriginAccessControlId: aws.String(oacID),
			S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")}}}},
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("packs|" + oacID), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")},
		ViewerCertificate: &cftypes.ViewerCertificate{ACMCertificateArn: aws.String(certArn), SSLSupportMethod: cftypes.SSLSupportMethodSniOnly,
			MinimumProtocolVersion: cftypes.MinimumProtocolVersionTLSv122021},
	}}))
	id := aws.ToString(out.Distribution.Id)
	// moto moves a distribution from InProgress to Deployed when it is read.
	must(cf.GetDistribution(context.Background(), &cloudfront.GetDistributionInput{Id: aws.String(id)}))
	return id
}
