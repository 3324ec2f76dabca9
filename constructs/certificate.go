package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificatevalidation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// DnsValidatedCertificateProps requests an ACM certificate validated
// through Route53, so issuance and renewal need no human.
type DnsValidatedCertificateProps struct {
	DomainName string
	ZoneID     *string
	// Provider selects the region; CloudFront only accepts us-east-1.
	Provider cdktf.TerraformProvider
}

// NewDnsValidatedCertificate creates the certificate, one validation record
// per domain validation option, and waits for issuance. It returns the ARN
// of the validated certificate, which is only known once it is ISSUED.
func NewDnsValidatedCertificate(scope constructs.Construct, id string, props *DnsValidatedCertificateProps) (*string, error) {
	if props == nil || props.DomainName == "" || props.ZoneID == nil || props.Provider == nil {
		return nil, fmt.Errorf("%s: domainName, zoneId and provider are required", id)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	cert := acmcertificate.NewAcmCertificate(node, jsii.String("cert"), &acmcertificate.AcmCertificateConfig{
		Provider:         props.Provider,
		DomainName:       jsii.String(props.DomainName),
		ValidationMethod: jsii.String("DNS"),
		KeyAlgorithm:     jsii.String("EC_prime256v1"),
		Lifecycle:        &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})
	// domain_validation_options is a set; iterate it instead of indexing.
	options := cdktf.TerraformIterator_FromComplexList(cert.DomainValidationOptions(), jsii.String("domain_name"))
	records := route53record.NewRoute53Record(node, jsii.String("validation"), &route53record.Route53RecordConfig{
		ForEach:        options,
		ZoneId:         props.ZoneID,
		Name:           options.GetString(jsii.String("resource_record_name")),
		Type:           options.GetString(jsii.String("resource_record_type")),
		Records:        &[]*string{options.GetString(jsii.String("resource_record_value"))},
		Ttl:            jsii.Number(60),
		AllowOverwrite: jsii.Bool(true),
	})
	fqdns := cdktf.TerraformIterator_FromResources(records).PluckProperty(jsii.String("fqdn"))
	validation := acmcertificatevalidation.NewAcmCertificateValidation(node, jsii.String("validated"), &acmcertificatevalidation.AcmCertificateValidationConfig{
		Provider:              props.Provider,
		CertificateArn:        cert.Arn(),
		ValidationRecordFqdns: cdktf.Token_AsList(fqdns, nil),
	})
	return validation.CertificateArn(), nil
}
