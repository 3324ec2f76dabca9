package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// pkiBucket is a PKI bucket with the given extra resources; blocked adds
// the full public access block.
func pkiBucket(blocked bool, extra string) string {
	pab := ""
	if blocked {
		pab = `,"aws_s3_bucket_public_access_block":{"pab":{"bucket":"${aws_s3_bucket.pki.id}","block_public_acls":true,"block_public_policy":true,"ignore_public_acls":true,"restrict_public_buckets":true}}`
	}
	return `"aws_s3_bucket":{"pki":{"bucket":"spatial-pki-x-dev-ap-southeast-2"}},
		"aws_s3_bucket_server_side_encryption_configuration":{"e":{"bucket":"${aws_s3_bucket.pki.id}"}},
		"aws_s3_bucket_versioning":{"v":{"bucket":"${aws_s3_bucket.pki.id}","versioning_configuration":{"status":"Enabled"}}}` + pab + extra
}

// Each case breaks one device-identity rule; the policy must name it.
func TestDeviceIdentityPolicyCatchesViolations(t *testing.T) {
	q := policies(t)
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"30 days is fine": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("30")+`}`), nil},
		"31 days": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("31")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 31; it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"zero days": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("0")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 0; it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"tag missing": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to missing; it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"365 days": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("365")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 365; it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"a one-year end-entity certificate": {stackDoc("dev-x", `"resource":{"aws_acmpca_certificate":{"leaf":{"template_arn":"arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1","validity":{"type":"YEARS","value":"1"}}}}`),
			[]string{"identity: aws_acmpca_certificate.leaf is valid for 1 YEARS; end-entity certificates may live at most 30 days"}},
		"root CA certificate may be long": {stackDoc("dev-x", `"resource":{"aws_acmpca_certificate":{"root":{"template_arn":"arn:aws:acm-pca:::template/RootCACertificate/V1","validity":{"type":"YEARS","value":"10"}}}}`), nil},
		"PKI bucket without public access block": {stackDoc("dev-identity", `"resource":{`+pkiBucket(false, ",")+sprintfDays("30")+`}`),
			[]string{
				"identity: PKI bucket pki lacks a public access block with all four settings on; serve the CRL through CloudFront OAC instead",
				"s3: bucket pki lacks a public access block with all four settings on",
			}},
		"PKI bucket with a website": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, `,"aws_s3_bucket_website_configuration":{"w":{"bucket":"${aws_s3_bucket.pki.id}"}},`)+sprintfDays("30")+`}`),
			[]string{"identity: PKI bucket pki has an aws_s3_bucket_website_configuration; it must stay private"}},
		"PKI bucket policy for everyone": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, `,"aws_s3_bucket_policy":{"p":{"bucket":"${aws_s3_bucket.pki.id}","policy":"${data.aws_iam_policy_document.pd.json}"}},`)+sprintfDays("30")+`},
			"data":{"aws_iam_policy_document":{"pd":{"statement":[{"actions":["s3:GetObject"],"principals":[{"type":"*","identifiers":["*"]}]}]}}}`),
			[]string{"identity: PKI bucket pki's policy allows the anonymous principal"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := deny(t, q, []byte(tc.doc))
			if tc.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}

// sprintfDays is a private CA whose DeviceCertDays tag is v ("" leaves the
// tag out).
func sprintfDays(v string) string {
	tags := `{"DeviceCertDays":"` + v + `"}`
	if v == "" {
		tags = `{}`
	}
	return `"aws_acmpca_certificate_authority":{"ca":{"type":"ROOT","tags":` + tags + `}}`
}
