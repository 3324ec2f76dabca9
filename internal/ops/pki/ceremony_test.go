package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// fixture is what the identity stack creates, on moto: the root key (KMS
// ECC_NIST_P384, SIGN_VERIFY, by its alias), the two subordinate CAs
// (PENDING_CERTIFICATE, tagged, named as the stack names them) and the
// empty callout secret.
type fixture struct {
	cfg     *envs.Config
	kms     *kms.Client
	pca     *acmpca.Client
	sm      *secretsmanager.Client
	cas     map[string]string
	keyID   string
	secret  string
	names   naming.Names
	ceremon func(out *bytes.Buffer) *Ceremony
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := opstest.Env(t, "dev")
	ac := opstest.AWS(t, cfg.Region)
	f := &fixture{cfg: cfg, kms: kms.NewFromConfig(ac), pca: acmpca.NewFromConfig(ac), sm: secretsmanager.NewFromConfig(ac),
		cas: map[string]string{}, names: naming.New(cfg.Org, cfg.Env, cfg.Region)}
	key, err := f.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP384, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	require.NoError(t, err)
	f.keyID = aws.ToString(key.KeyMetadata.KeyId)
	_, err = f.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(f.names.PKIRootKeyAlias()), TargetKeyId: key.KeyMetadata.KeyId})
	require.NoError(t, err)
	for _, p := range []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose} {
		out, err := f.pca.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
			CertificateAuthorityType: pcatypes.CertificateAuthorityTypeSubordinate,
			CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{
				KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa,
				Subject: &pcatypes.ASN1Subject{CommonName: aws.String(cfg.SubordinateCommonName(p)), Organization: aws.String("Spatial Properties"), Country: aws.String("AU")},
			},
			Tags: []pcatypes.Tag{{Key: aws.String(naming.CAPurposeTag), Value: aws.String(p)}, {Key: aws.String("Environment"), Value: aws.String(cfg.Env)}},
		})
		require.NoError(t, err)
		f.cas[p] = aws.ToString(out.CertificateAuthorityArn)
	}
	f.secret = f.names.Secret(naming.NATSAuthCalloutSecret)
	_, err = f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(f.secret)})
	require.NoError(t, err)
	f.ceremon = func(out *bytes.Buffer) *Ceremony {
		return &Ceremony{Cfg: cfg, KMS: f.kms, PCA: f.pca, Secrets: f.sm, Out: out}
	}
	return f
}

// caCert returns a CA's installed certificate and chain.
func (f *fixture) caCert(t *testing.T, purpose string) (*x509.Certificate, []*x509.Certificate) {
	t.Helper()
	out, err := f.pca.GetCertificateAuthorityCertificate(context.Background(), &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: aws.String(f.cas[purpose])})
	require.NoError(t, err)
	certs, err := parseCerts([]byte(aws.ToString(out.Certificate)))
	require.NoError(t, err)
	chain, err := parseCerts([]byte(aws.ToString(out.CertificateChain)))
	require.NoError(t, err)
	return certs[0], chain
}

// issueLeaf has the CA issue a client certificate for a fresh key, as the
// enrollment service (device CA) or cert-manager (service CA) would.
func (f *fixture) issueLeaf(t *testing.T, purpose, cn, uri string) *x509.Certificate {
	t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	u, _ := url.Parse(uri)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, URIs: []*url.URL{u}}, key)
	require.NoError(t, err)
	issued, err := f.pca.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: aws.String(f.cas[purpose]), Csr: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}),
		SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, TemplateArn: aws.String("arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"),
		Validity: &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(7)},
	})
	require.NoError(t, err)
	got, err := f.pca.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: aws.String(f.cas[purpose]), CertificateArn: issued.CertificateArn})
	require.NoError(t, err)
	certs, err := parseCerts([]byte(aws.ToString(got.Certificate)))
	require.NoError(t, err)
	return certs[0]
}

func verifies(leaf *x509.Certificate, anchors ...*x509.Certificate) error {
	roots := x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// GIVEN the identity stack's resources on moto WHEN the ceremony runs THEN
// the KMS key self-signs the root (kms:Sign, RAW), both subordinates get a
// certificate signed by it and become ACTIVE, the callout key is written;
// a leaf of the device CA chains to the root through the device CA and is
// refused by a verifier that trusts the service CA alone (and vice versa),
// which is what the ALB trust store and the NATS listeners rely on; and a
// second run changes nothing.
func TestCeremonySignsTheSubordinatesWithTheKMSRoot(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var out bytes.Buffer
	res, err := f.ceremon(&out).Run(ctx)
	require.NoError(t, err, out.String())
	assert.ElementsMatch(t, []string{"device", "service"}, res.Signed)
	assert.Equal(t, "written", res.CalloutKey)

	// the root: self-signed by the KMS key, and its public key is the KMS key's
	pub, err := f.kms.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(f.keyID)})
	require.NoError(t, err)
	root := res.Root
	assert.Equal(t, pub.PublicKey, root.RawSubjectPublicKeyInfo, "the root's key is the KMS key")
	require.NoError(t, root.CheckSignatureFrom(root))
	assert.True(t, root.IsCA)
	assert.Equal(t, f.cfg.CACommonName(), root.Subject.CommonName)
	assert.Equal(t, x509.ECDSAWithSHA384, root.SignatureAlgorithm)

	anchors := map[string]*x509.Certificate{}
	for _, p := range []string{"device", "service"} {
		d, err := f.pca.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: aws.String(f.cas[p])})
		require.NoError(t, err)
		assert.Equal(t, pcatypes.CertificateAuthorityStatusActive, d.CertificateAuthority.Status, p)
		cert, chain := f.caCert(t, p)
		require.Len(t, chain, 1, "%s: the chain is the root", p)
		assert.True(t, chain[0].Equal(root), p)
		require.NoError(t, cert.CheckSignatureFrom(root), "%s CA certificate signed by the root", p)
		assert.True(t, cert.IsCA && cert.MaxPathLenZero, "%s CA signs end-entity certificates only", p)
		assert.True(t, cert.NotAfter.Before(root.NotAfter), "%s CA expires before the root", p)
		assert.Equal(t, f.cfg.SubordinateCommonName(p), cert.Subject.CommonName)
		anchors[p] = cert
	}

	device := f.issueLeaf(t, "device", "dev-1", "urn:spatial-properties:device:dev-1")
	service := f.issueLeaf(t, "service", "dtn-gateway", "urn:spatial-properties:nats-user:dtn-gateway")
	require.NoError(t, verifies(device, anchors["device"]), "the device trust anchor admits a device certificate")
	require.NoError(t, verifies(service, anchors["service"]), "the service anchor admits a service certificate")
	assert.Error(t, verifies(service, anchors["device"]), "a service CA certificate is refused where only the device CA is trusted (ALB, agents' listener)")
	assert.Error(t, verifies(device, anchors["service"]), "a device certificate is refused where only the service CA is trusted (client port, routes)")
	rootPool := x509.NewCertPool()
	rootPool.AddCert(root)
	inter := x509.NewCertPool()
	inter.AddCert(anchors["device"])
	_, err = device.Verify(x509.VerifyOptions{Roots: rootPool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err, "and the whole chain leads to the offline root")

	// the callout key: an account seed whose public half is stored beside it
	sv, err := f.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secret)})
	require.NoError(t, err)
	var key map[string]string
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(sv.SecretString)), &key))
	kp, err := nkeys.FromSeed([]byte(key["seed"]))
	require.NoError(t, err)
	kpub, _ := kp.PublicKey()
	assert.Equal(t, key["public"], kpub)
	assert.True(t, nkeys.IsValidPublicAccountKey(kpub), "an account key: the server's auth_callout issuer")
	assert.NotContains(t, out.String(), key["seed"], "the seed is never printed")

	// a second run: nothing to do, same root, same key
	out.Reset()
	again, err := f.ceremon(&out).Run(ctx)
	require.NoError(t, err, out.String())
	assert.Empty(t, again.Signed)
	assert.ElementsMatch(t, []string{"device", "service"}, again.Kept)
	assert.Equal(t, "kept", again.CalloutKey)
	assert.True(t, again.Root.Equal(root), "the root is read back from the installed chain, not made anew")
	sv2, err := f.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secret)})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(sv.SecretString), aws.ToString(sv2.SecretString))

	// --renew re-signs under the same root
	renew := f.ceremon(&out)
	renew.Renew = true
	renewed, err := renew.Run(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"device", "service"}, renewed.Signed)
	assert.True(t, renewed.Root.Equal(root))
}

// GIVEN a dry run THEN nothing is installed or written.
func TestCeremonyDryRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var out bytes.Buffer
	c := f.ceremon(&out)
	c.DryRun = true
	res, err := c.Run(ctx)
	require.NoError(t, err, out.String())
	assert.Equal(t, "would write", res.CalloutKey)
	assert.Contains(t, out.String(), "dry run, nothing installed")
	for _, p := range []string{"device", "service"} {
		d, err := f.pca.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: aws.String(f.cas[p])})
		require.NoError(t, err)
		assert.Equal(t, pcatypes.CertificateAuthorityStatusPendingCertificate, d.CertificateAuthority.Status, p)
	}
	d, err := f.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.secret)})
	require.NoError(t, err)
	assert.Empty(t, d.VersionIdsToStages)
}

// GIVEN a root key that is not a signing key, or no subordinate CAs THEN
// the ceremony refuses before it signs anything, naming what is wrong.
func TestCeremonyRefusesWhatIsNotTheHierarchy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(f.names.PKIRootKeyAlias())})
	require.NoError(t, err)
	sym, err := f.kms.CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)
	_, err = f.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(f.names.PKIRootKeyAlias()), TargetKeyId: sym.KeyMetadata.KeyId})
	require.NoError(t, err)
	_, err = f.ceremon(nil).Run(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs SIGN_VERIFY")

	// a CA without its purpose tag is not the identity stack's
	other := newFixture(t)
	_, err = other.pca.UntagCertificateAuthority(ctx, &acmpca.UntagCertificateAuthorityInput{
		CertificateAuthorityArn: aws.String(other.cas["device"]), Tags: []pcatypes.Tag{{Key: aws.String(naming.CAPurposeTag), Value: aws.String("device")}},
	})
	require.NoError(t, err)
	_, err = other.ceremon(nil).Run(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no device CA named")
	d, err := other.pca.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: aws.String(other.cas["service"])})
	require.NoError(t, err)
	assert.Equal(t, pcatypes.CertificateAuthorityStatusPendingCertificate, d.CertificateAuthority.Status, "nothing was signed")
}
