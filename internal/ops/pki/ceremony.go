package pki

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 5280 method 1 key identifier, not a security use
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/nats-io/nkeys"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// PCA is the part of the ACM PCA API the ceremony uses.
type PCA interface {
	ListCertificateAuthorities(ctx context.Context, in *acmpca.ListCertificateAuthoritiesInput, opts ...func(*acmpca.Options)) (*acmpca.ListCertificateAuthoritiesOutput, error)
	ListTags(ctx context.Context, in *acmpca.ListTagsInput, opts ...func(*acmpca.Options)) (*acmpca.ListTagsOutput, error)
	GetCertificateAuthorityCsr(ctx context.Context, in *acmpca.GetCertificateAuthorityCsrInput, opts ...func(*acmpca.Options)) (*acmpca.GetCertificateAuthorityCsrOutput, error)
	GetCertificateAuthorityCertificate(ctx context.Context, in *acmpca.GetCertificateAuthorityCertificateInput, opts ...func(*acmpca.Options)) (*acmpca.GetCertificateAuthorityCertificateOutput, error)
	ImportCertificateAuthorityCertificate(ctx context.Context, in *acmpca.ImportCertificateAuthorityCertificateInput, opts ...func(*acmpca.Options)) (*acmpca.ImportCertificateAuthorityCertificateOutput, error)
}

// Secrets is the part of the Secrets Manager API the ceremony uses: it
// writes the callout key and never reads a value.
type Secrets interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Ceremony signs an environment's subordinate CAs with its offline root.
type Ceremony struct {
	Cfg     *envs.Config
	KMS     KMS
	PCA     PCA
	Secrets Secrets
	Out     io.Writer
	// DryRun reads and signs nothing it would install: it reports.
	DryRun bool
	// Renew re-signs subordinates that already hold a certificate (before
	// it expires, or after a root change); by default they are left alone.
	Renew bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Result is what one run did.
type Result struct {
	Root *x509.Certificate
	// Signed are the purposes whose CA got a certificate now; Kept those
	// that already had one.
	Signed, Kept []string
	// CalloutKey is "written", "kept" or "would write".
	CalloutKey string
}

// subordinate is one ACM PCA subordinate CA of the environment.
type subordinate struct {
	purpose, arn string
	status       pcatypes.CertificateAuthorityStatus
}

// Run performs the ceremony. It is safe to rerun: signed CAs and a written
// callout key are left as they are.
func (c *Ceremony) Run(ctx context.Context) (*Result, error) {
	names := naming.New(c.Cfg.Org, c.Cfg.Env, c.Cfg.Region)
	signer, err := NewKMSSigner(ctx, c.KMS, names.PKIRootKeyAlias())
	if err != nil {
		return nil, err
	}
	cas, err := c.findSubordinates(ctx)
	if err != nil {
		return nil, err
	}
	root, err := c.root(ctx, signer, cas)
	if err != nil {
		return nil, err
	}
	res := &Result{Root: root}
	for _, purpose := range []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose} {
		ca := cas[purpose]
		if ca.status == pcatypes.CertificateAuthorityStatusActive && !c.Renew {
			c.say("%s CA %s already holds a certificate: kept (--renew re-signs it)", purpose, ca.arn)
			res.Kept = append(res.Kept, purpose)
			continue
		}
		if err := c.signSubordinate(ctx, signer, root, ca); err != nil {
			return res, err
		}
		res.Signed = append(res.Signed, purpose)
	}
	res.CalloutKey, err = c.calloutKey(ctx, names.Secret(naming.NATSAuthCalloutSecret))
	return res, err
}

func (c *Ceremony) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Ceremony) say(format string, args ...any) {
	if c.Out != nil {
		fmt.Fprintf(c.Out, format+"\n", args...)
	}
}

// findSubordinates finds the env's device and service CAs: tagged
// CAPurpose, with the common name the identity stack gives them (which
// names the org and env, so another env of the account never matches).
func (c *Ceremony) findSubordinates(ctx context.Context) (map[string]subordinate, error) {
	want := map[string]string{}
	for _, p := range []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose} {
		want[c.Cfg.SubordinateCommonName(p)] = p
	}
	out := map[string]subordinate{}
	var token *string
	for {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		page, err := c.PCA.ListCertificateAuthorities(cctx, &acmpca.ListCertificateAuthoritiesInput{NextToken: token})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list certificate authorities: %w", err)
		}
		for _, ca := range page.CertificateAuthorities {
			if ca.Status == pcatypes.CertificateAuthorityStatusDeleted || ca.CertificateAuthorityConfiguration == nil ||
				ca.CertificateAuthorityConfiguration.Subject == nil {
				continue
			}
			purpose, ok := want[aws.ToString(ca.CertificateAuthorityConfiguration.Subject.CommonName)]
			if !ok {
				continue
			}
			if ca.Type != pcatypes.CertificateAuthorityTypeSubordinate {
				return nil, fmt.Errorf("CA %s is %s, not SUBORDINATE: the root of this hierarchy is the KMS key", aws.ToString(ca.Arn), ca.Type)
			}
			tagged, err := c.tagged(ctx, aws.ToString(ca.Arn), purpose)
			if err != nil {
				return nil, err
			}
			if !tagged {
				continue
			}
			if prev, dup := out[purpose]; dup {
				return nil, fmt.Errorf("two %s CAs (%s, %s): delete the stale one before the ceremony", purpose, prev.arn, aws.ToString(ca.Arn))
			}
			out[purpose] = subordinate{purpose: purpose, arn: aws.ToString(ca.Arn), status: ca.Status}
		}
		if page.NextToken == nil {
			break
		}
		token = page.NextToken
	}
	for _, p := range []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose} {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("no %s CA named %q tagged %s=%s: apply %s-identity first", p, c.Cfg.SubordinateCommonName(p), naming.CAPurposeTag, p, c.Cfg.Env)
		}
	}
	return out, nil
}

func (c *Ceremony) tagged(ctx context.Context, arn, purpose string) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	tags, err := c.PCA.ListTags(cctx, &acmpca.ListTagsInput{CertificateAuthorityArn: aws.String(arn)})
	if err != nil {
		return false, fmt.Errorf("tags of %s: %w", arn, err)
	}
	for _, t := range tags.Tags {
		if aws.ToString(t.Key) == naming.CAPurposeTag && aws.ToString(t.Value) == purpose {
			return true, nil
		}
	}
	return false, nil
}

// root returns the root certificate: the one an installed subordinate
// already chains to, when that certificate's key is the KMS key, so every
// run of the ceremony keeps the same root; otherwise a new self-signed one.
func (c *Ceremony) root(ctx context.Context, signer *KMSSigner, cas map[string]subordinate) (*x509.Certificate, error) {
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	for _, p := range []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose} {
		ca := cas[p]
		if ca.status != pcatypes.CertificateAuthorityStatusActive {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		out, err := c.PCA.GetCertificateAuthorityCertificate(cctx, &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: aws.String(ca.arn)})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("certificate of %s: %w", ca.arn, err)
		}
		chain, err := parseCerts([]byte(aws.ToString(out.CertificateChain)))
		if err != nil || len(chain) == 0 {
			continue
		}
		last := chain[len(chain)-1]
		if bytes.Equal(last.RawSubjectPublicKeyInfo, pub) && last.CheckSignatureFrom(last) == nil {
			c.say("root: the certificate %s's chain ends at (serial %x, valid until %s)", ca.arn, last.SerialNumber, last.NotAfter.Format(time.DateOnly))
			return last, nil
		}
	}
	id := c.Cfg.Identity
	now := c.now()
	subject := pkix.Name{CommonName: c.Cfg.CACommonName(), Organization: []string{id.Subject.Organization}, Country: []string{id.Subject.Country}}
	if id.Subject.OrganizationalUnit != "" {
		subject.OrganizationalUnit = []string{id.Subject.OrganizationalUnit}
	}
	ski := sha1.Sum(pub) //nolint:gosec // a key identifier
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: subject,
		NotBefore: now.Add(-5 * time.Minute), NotAfter: now.AddDate(id.CAValidityYears, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1,
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId: ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("self-sign the root with the KMS key: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("the root the KMS key signed does not verify: %w", err)
	}
	c.say("root: new self-signed %q (serial %x, valid until %s)", subject.CommonName, root.SerialNumber, root.NotAfter.Format(time.DateOnly))
	return root, nil
}

// signSubordinate signs the CA's CSR with the root key and installs the
// certificate with the root as its chain. The CSR must name the CA the
// identity stack created; the certificate may sign end-entity certificates
// only (path length 0) and ends before the root does.
func (c *Ceremony) signSubordinate(ctx context.Context, signer *KMSSigner, root *x509.Certificate, ca subordinate) error {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	out, err := c.PCA.GetCertificateAuthorityCsr(cctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: aws.String(ca.arn)})
	cancel()
	if err != nil {
		return fmt.Errorf("CSR of the %s CA %s: %w", ca.purpose, ca.arn, err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(out.Csr)))
	if block == nil {
		return fmt.Errorf("CSR of the %s CA %s is not PEM", ca.purpose, ca.arn)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return fmt.Errorf("CSR of the %s CA %s: %w", ca.purpose, ca.arn, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return fmt.Errorf("CSR of the %s CA %s is not signed by its key: %w", ca.purpose, ca.arn, err)
	}
	if want := c.Cfg.SubordinateCommonName(ca.purpose); csr.Subject.CommonName != want {
		return fmt.Errorf("CSR of %s names %q, not the %s CA %q: refusing to sign", ca.arn, csr.Subject.CommonName, ca.purpose, want)
	}
	now := c.now()
	notAfter := now.AddDate(c.Cfg.Identity.SubordinateValidityYears, 0, 0)
	if limit := root.NotAfter.Add(-24 * time.Hour); notAfter.After(limit) {
		notAfter = limit
	}
	tmpl := &x509.Certificate{
		// The CSR's subject bytes as they are: verifiers match a child's
		// issuer to its parent's subject byte for byte, and the CA writes
		// its issuer name the way it encoded its own CSR.
		SerialNumber: serial(), Subject: csr.Subject, RawSubject: csr.RawSubject,
		NotBefore: now.Add(-5 * time.Minute), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, csr.PublicKey, signer)
	if err != nil {
		return fmt.Errorf("sign the %s CA with the root key: %w", ca.purpose, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	if err := cert.CheckSignatureFrom(root); err != nil {
		return fmt.Errorf("the %s CA certificate does not verify against the root: %w", ca.purpose, err)
	}
	if c.DryRun {
		c.say("%s CA %s: would install %q (valid until %s) — dry run, nothing installed", ca.purpose, ca.arn, cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly))
		return nil
	}
	cctx, cancel = context.WithTimeout(ctx, CallTimeout)
	_, err = c.PCA.ImportCertificateAuthorityCertificate(cctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: aws.String(ca.arn),
		Certificate:             pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		CertificateChain:        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}),
	})
	cancel()
	if err != nil {
		return fmt.Errorf("install the %s CA certificate on %s: %w", ca.purpose, ca.arn, err)
	}
	c.say("%s CA %s: installed %q (valid until %s)", ca.purpose, ca.arn, cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly))
	return nil
}

// calloutKey writes a new NATS account key into the callout's secret when
// the secret has no value yet. The seed is never printed or read back.
func (c *Ceremony) calloutKey(ctx context.Context, name string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	d, err := c.Secrets.DescribeSecret(cctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	cancel()
	if err != nil {
		return "", fmt.Errorf("secret %s: %w (apply %s-identity first)", name, err, c.Cfg.Env)
	}
	for _, stages := range d.VersionIdsToStages {
		for _, s := range stages {
			if s == "AWSCURRENT" {
				c.say("NATS callout key: %s already holds one: kept", name)
				return "kept", nil
			}
		}
	}
	if c.DryRun {
		c.say("NATS callout key: would write a new account key to %s — dry run", name)
		return "would write", nil
	}
	kp, err := nkeys.CreateAccount()
	if err != nil {
		return "", err
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(map[string]string{"seed": string(seed), "public": pub})
	if err != nil {
		return "", err
	}
	cctx, cancel = context.WithTimeout(ctx, CallTimeout)
	_, err = c.Secrets.PutSecretValue(cctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(body))})
	cancel()
	if err != nil {
		return "", fmt.Errorf("write the NATS callout key to %s: %w", name, err)
	}
	c.say("NATS callout key: wrote account key %s to %s", pub, name)
	return "written", nil
}

func parseCerts(pemBytes []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, pemBytes = pem.Decode(pemBytes)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}

// serial is a random 127-bit serial number (RFC 5280: positive, at most
// 20 octets).
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}
