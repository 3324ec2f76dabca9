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
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 31; with usage mode GENERAL_PURPOSE it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"zero days": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("0")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 0; with usage mode GENERAL_PURPOSE it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"tag missing": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+sprintfDays("")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to missing; with usage mode GENERAL_PURPOSE it must be a whole number of days from 1 to 30 (identity.deviceCertDays)"}},
		"7 days in short-lived mode is fine": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+shortLivedDays("7")+`}`), nil},
		"30 days in short-lived mode": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+shortLivedDays("30")+`}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca sets device certificate validity (tag DeviceCertDays) to 30; with usage mode SHORT_LIVED_CERTIFICATE it must be a whole number of days from 1 to 7 (identity.deviceCertDays)"}},
		"an ACM PCA root": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+`"aws_acmpca_certificate_authority":{"ca":{"type":"ROOT","tags":{"CAPurpose":"device","DeviceCertDays":"30"}}}}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca is a ROOT CA; the root is the offline KMS key, ACM PCA holds subordinates only"}},
		"a service CA in general-purpose mode": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+`"aws_acmpca_certificate_authority":{"ca":{"type":"SUBORDINATE","usage_mode":"GENERAL_PURPOSE","tags":{"CAPurpose":"service"}}}}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca is the service CA but not in SHORT_LIVED_CERTIFICATE mode"}},
		"a CA of no purpose": {stackDoc("dev-identity", `"resource":{`+pkiBucket(true, ",")+`"aws_acmpca_certificate_authority":{"ca":{"type":"SUBORDINATE","tags":{}}}}`),
			[]string{"identity: aws_acmpca_certificate_authority.ca has no CAPurpose tag device or service"}},
		"a certificate issued by Terraform": {stackDoc("dev-x", `"resource":{"aws_acmpca_certificate":{"leaf":{"template_arn":"arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1","validity":{"type":"DAYS","value":"7"}}}}`),
			[]string{"identity: aws_acmpca_certificate.leaf issues a certificate from Terraform; CA certificates come from the PKI ceremony, leaves from enrollment and cert-manager"}},
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

// sprintfDays is a general-purpose device CA whose DeviceCertDays tag is v
// ("" leaves the tag out).
func sprintfDays(v string) string { return deviceCA("GENERAL_PURPOSE", v) }

// shortLivedDays is the same in short-lived mode.
func shortLivedDays(v string) string { return deviceCA("SHORT_LIVED_CERTIFICATE", v) }

func deviceCA(mode, v string) string {
	tags := `{"CAPurpose":"device","DeviceCertDays":"` + v + `"}`
	if v == "" {
		tags = `{"CAPurpose":"device"}`
	}
	return `"aws_acmpca_certificate_authority":{"ca":{"type":"SUBORDINATE","usage_mode":"` + mode + `","tags":` + tags + `}}`
}
