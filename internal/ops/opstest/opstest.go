// Package opstest gives the operator CLI's tests an isolated environment on
// moto_server: a config whose org is unique per test (moto state is shared),
// and SDK configuration pointing at the emulator.
package opstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// Env loads envs/<env>.yaml with a unique org, so every derived name
// (buckets, cluster, queues, tables, CDN alias) is this test's own.
func Env(t testing.TB, env string) *envs.Config {
	t.Helper()
	org := motoserver.UniqueName("t")
	cfg, err := envs.Load(env, envs.Overrides{Org: org, Env: env, Region: motoserver.Region})
	if err != nil {
		t.Fatal(err)
	}
	// The CDN domain does not derive from the org; make it unique too, since
	// CloudFront aliases are global.
	cfg.CDN.Domain = "cdn." + org + "." + cfg.Domain
	return cfg
}

// AWS is SDK configuration for the test's moto_server in region.
func AWS(t testing.TB, region string) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(motoserver.Endpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		HTTPClient: &http.Client{Transport: &http.Transport{
			// moto_server may serve TLS with a self-signed certificate (MOTO_ENDPOINT from make test).
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback emulator only
		}},
	}
}

// SelfSignedCert returns a PEM certificate and key for domain valid for
// days, for importing into ACM.
func SelfSignedCert(t testing.TB, domain string, days int) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: domain}, DNSNames: []string{domain},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(days) * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
