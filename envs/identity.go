package envs

import "regexp"

// Identity configures the private CA behind device and in-cluster
// certificates (the <env>-identity stack). Every field has a default, so an
// env file may leave the whole block out.
type Identity struct {
	// DeviceCertDays is the validity of a device certificate. Default and
	// maximum: 30, so a lost device stops being trusted within a month even
	// if nobody revokes it; devices renew at two thirds of it.
	DeviceCertDays int `yaml:"deviceCertDays"`
	// KeyAlgorithm is the CA's key: EC_prime256v1 (default) or RSA_2048,
	// the two that agents and NATS both support.
	KeyAlgorithm string `yaml:"keyAlgorithm"`
	// CAValidityYears is the root CA certificate's lifetime. Default: 10.
	CAValidityYears int `yaml:"caValidityYears"`
	// Subject is the CA's distinguished name.
	Subject CASubject `yaml:"subject"`
}

// CASubject is the distinguished name written into the CA certificate.
type CASubject struct {
	// Organization, default "Spatial Properties".
	Organization string `yaml:"organization"`
	// OrganizationalUnit, default "Edge"; may be set to "" to leave it out.
	OrganizationalUnit string `yaml:"organizationalUnit"`
	// CommonName, default "<org> <env> device root CA" when left out.
	CommonName string `yaml:"commonName"`
	// Country is a two-letter ISO 3166 code, default "AU".
	Country string `yaml:"country"`
}

// Identity defaults.
const (
	DefaultDeviceCertDays  = 30
	MaxDeviceCertDays      = 30
	DefaultKeyAlgorithm    = "EC_prime256v1"
	DefaultCAValidityYears = 10
	DefaultCAOrganization  = "Spatial Properties"
	DefaultCAOrgUnit       = "Edge"
	DefaultCACountry       = "AU"
)

// KeyAlgorithms are the accepted identity.keyAlgorithm values (ACM PCA names).
var KeyAlgorithms = []string{"EC_prime256v1", "RSA_2048"}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)

func applyIdentityDefaults(c *Config) {
	i := &c.Identity
	setInt(&i.DeviceCertDays, DefaultDeviceCertDays)
	setStr(&i.KeyAlgorithm, DefaultKeyAlgorithm)
	setInt(&i.CAValidityYears, DefaultCAValidityYears)
	setStr(&i.Subject.Organization, DefaultCAOrganization)
	setStr(&i.Subject.OrganizationalUnit, DefaultCAOrgUnit)
	setStr(&i.Subject.Country, DefaultCACountry)
	// CommonName is filled by CACommonName so it can name the env.
}

// CACommonName is the CA certificate's CN: the configured one, or
// "<org> <env> device root CA".
func (c *Config) CACommonName() string {
	if c.Identity.Subject.CommonName != "" {
		return c.Identity.Subject.CommonName
	}
	return c.Org + " " + c.Env + " device root CA"
}

func validateIdentity(p *problems, c *Config) {
	i := c.Identity
	if i.DeviceCertDays < 1 || i.DeviceCertDays > MaxDeviceCertDays {
		p.add("identity.deviceCertDays", "%d must be between 1 and %d days: a device certificate outlives a lost device by at most a month; set 1 to 30, or leave it out for the default %d", i.DeviceCertDays, MaxDeviceCertDays, DefaultDeviceCertDays)
	}
	switch i.KeyAlgorithm {
	case "EC_prime256v1", "RSA_2048":
	default:
		p.add("identity.keyAlgorithm", "%q is not supported; use EC_prime256v1 (the default) or RSA_2048", i.KeyAlgorithm)
	}
	if i.CAValidityYears < 1 || i.CAValidityYears > 30 {
		p.add("identity.caValidityYears", "%d must be between 1 and 30 years; leave it out for the default %d", i.CAValidityYears, DefaultCAValidityYears)
	}
	if i.Subject.Organization == "" || len(i.Subject.Organization) > 64 {
		p.add("identity.subject.organization", "%q must be 1 to 64 characters, e.g. %q", i.Subject.Organization, DefaultCAOrganization)
	}
	if len(i.Subject.OrganizationalUnit) > 64 {
		p.add("identity.subject.organizationalUnit", "%q is longer than 64 characters", i.Subject.OrganizationalUnit)
	}
	if len(i.Subject.CommonName) > 64 {
		p.add("identity.subject.commonName", "%q is longer than 64 characters; shorten it or leave it out for %q", i.Subject.CommonName, c.Org+" "+c.Env+" device root CA")
	}
	if !countryRe.MatchString(i.Subject.Country) {
		p.add("identity.subject.country", "%q must be a two-letter upper-case ISO 3166 code, e.g. AU", i.Subject.Country)
	}
}
