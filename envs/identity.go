package envs

import "regexp"

// Identity configures the private CA behind device and in-cluster
// certificates (the <env>-identity stack). Every field has a default, so an
// env file may leave the whole block out.
type Identity struct {
	// DeviceCertDays is the validity of a device certificate. Default 30,
	// the maximum with a GENERAL_PURPOSE device CA, so a lost device stops
	// being trusted within a month even if nobody revokes it; at most 7 with
	// a SHORT_LIVED_CERTIFICATE device CA (ACM PCA refuses longer). Devices
	// renew at two thirds of it.
	DeviceCertDays int `yaml:"deviceCertDays"`
	// DeviceCAMode is the ACM PCA usage mode of the device subordinate CA:
	// GENERAL_PURPOSE (default; USD 400/month, any validity, so devices that
	// stay offline for days on a DTN uplink keep a valid certificate) or
	// SHORT_LIVED_CERTIFICATE (USD 50/month, certificates of 7 days at most).
	// The service subordinate CA is always SHORT_LIVED_CERTIFICATE: cert-manager
	// renews in-cluster certificates without anyone noticing.
	DeviceCAMode string `yaml:"deviceCAMode"`
	// KeyAlgorithm is the subordinate CAs' key: EC_prime256v1 (default) or
	// RSA_2048, the two that agents and NATS both support. The root key is
	// a KMS ECC_NIST_P384 key whatever this says.
	KeyAlgorithm string `yaml:"keyAlgorithm"`
	// CAValidityYears is the root CA certificate's lifetime. Default: 10.
	CAValidityYears int `yaml:"caValidityYears"`
	// SubordinateValidityYears is the lifetime of the device and service
	// CA certificates the PKI ceremony signs. Default 5; it must end before
	// the root does.
	SubordinateValidityYears int `yaml:"subordinateValidityYears"`
	// Subject is the CAs' distinguished name; the common names default to
	// "<org> <env> root CA", "... device CA" and "... service CA".
	Subject CASubject `yaml:"subject"`
}

// CASubject is the distinguished name written into the CA certificate.
type CASubject struct {
	// Organization, default "Spatial Properties".
	Organization string `yaml:"organization"`
	// OrganizationalUnit, default "Edge"; may be set to "" to leave it out.
	OrganizationalUnit string `yaml:"organizationalUnit"`
	// CommonName of the root, default "<org> <env> root CA" when left out.
	CommonName string `yaml:"commonName"`
	// Country is a two-letter ISO 3166 code, default "AU".
	Country string `yaml:"country"`
}

// Identity defaults.
const (
	DefaultDeviceCertDays = 30
	MaxDeviceCertDays     = 30
	// MaxShortLivedCertDays is ACM PCA's limit in SHORT_LIVED_CERTIFICATE mode.
	MaxShortLivedCertDays           = 7
	DefaultKeyAlgorithm             = "EC_prime256v1"
	DefaultCAValidityYears          = 10
	DefaultSubordinateValidityYears = 5
	DefaultCAOrganization           = "Spatial Properties"
	DefaultCAOrgUnit                = "Edge"
	DefaultCACountry                = "AU"
)

// ACM PCA usage modes (identity.deviceCAMode).
const (
	CAModeGeneralPurpose = "GENERAL_PURPOSE"
	CAModeShortLived     = "SHORT_LIVED_CERTIFICATE"
)

// KeyAlgorithms are the accepted identity.keyAlgorithm values (ACM PCA names).
var KeyAlgorithms = []string{"EC_prime256v1", "RSA_2048"}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)

func applyIdentityDefaults(c *Config) {
	i := &c.Identity
	setInt(&i.DeviceCertDays, DefaultDeviceCertDays)
	setStr(&i.KeyAlgorithm, DefaultKeyAlgorithm)
	setInt(&i.CAValidityYears, DefaultCAValidityYears)
	setInt(&i.SubordinateValidityYears, DefaultSubordinateValidityYears)
	setStr(&i.DeviceCAMode, CAModeGeneralPurpose)
	setStr(&i.Subject.Organization, DefaultCAOrganization)
	setStr(&i.Subject.OrganizationalUnit, DefaultCAOrgUnit)
	setStr(&i.Subject.Country, DefaultCACountry)
	// CommonName is filled by CACommonName so it can name the env.
}

// CACommonName is the root CA certificate's CN: the configured one, or
// "<org> <env> root CA".
func (c *Config) CACommonName() string {
	if c.Identity.Subject.CommonName != "" {
		return c.Identity.Subject.CommonName
	}
	return c.Org + " " + c.Env + " root CA"
}

// SubordinateCommonName is the CN of a subordinate CA: "<org> <env>
// <purpose> CA" (purpose "device" or "service"). Distinct names let a
// verifier that sees only the issuer's name (the ALB's
// X-Amzn-Mtls-Clientcert-Issuer header) tell the two apart.
func (c *Config) SubordinateCommonName(purpose string) string {
	return c.Org + " " + c.Env + " " + purpose + " CA"
}

// MaxCertDays is the longest device certificate the device CA's mode allows.
func (i Identity) MaxCertDays() int {
	if i.DeviceCAMode == CAModeShortLived {
		return MaxShortLivedCertDays
	}
	return MaxDeviceCertDays
}

func validateIdentity(p *problems, c *Config) {
	i := c.Identity
	switch i.DeviceCAMode {
	case CAModeGeneralPurpose:
		if i.DeviceCertDays < 1 || i.DeviceCertDays > MaxDeviceCertDays {
			p.add("identity.deviceCertDays", "%d must be between 1 and %d days: a device certificate outlives a lost device by at most a month; set 1 to 30, or leave it out for the default %d", i.DeviceCertDays, MaxDeviceCertDays, DefaultDeviceCertDays)
		}
	case CAModeShortLived:
		if i.DeviceCertDays < 1 || i.DeviceCertDays > MaxShortLivedCertDays {
			p.add("identity.deviceCertDays", "%d must be between 1 and %d days with deviceCAMode %s (ACM PCA issues nothing longer in that mode); lower it, or set deviceCAMode %s", i.DeviceCertDays, MaxShortLivedCertDays, CAModeShortLived, CAModeGeneralPurpose)
		}
	default:
		p.add("identity.deviceCAMode", "%q is not a usage mode; use %s (the default) or %s", i.DeviceCAMode, CAModeGeneralPurpose, CAModeShortLived)
	}
	switch i.KeyAlgorithm {
	case "EC_prime256v1", "RSA_2048":
	default:
		p.add("identity.keyAlgorithm", "%q is not supported; use EC_prime256v1 (the default) or RSA_2048", i.KeyAlgorithm)
	}
	if i.CAValidityYears < 1 || i.CAValidityYears > 30 {
		p.add("identity.caValidityYears", "%d must be between 1 and 30 years; leave it out for the default %d", i.CAValidityYears, DefaultCAValidityYears)
	}
	if i.SubordinateValidityYears < 1 || i.SubordinateValidityYears >= i.CAValidityYears {
		p.add("identity.subordinateValidityYears", "%d must be at least 1 and less than caValidityYears (%d): a subordinate CA certificate must expire before the root that signs it", i.SubordinateValidityYears, i.CAValidityYears)
	}
	if i.Subject.Organization == "" || len(i.Subject.Organization) > 64 {
		p.add("identity.subject.organization", "%q must be 1 to 64 characters, e.g. %q", i.Subject.Organization, DefaultCAOrganization)
	}
	if len(i.Subject.OrganizationalUnit) > 64 {
		p.add("identity.subject.organizationalUnit", "%q is longer than 64 characters", i.Subject.OrganizationalUnit)
	}
	if len(i.Subject.CommonName) > 64 {
		p.add("identity.subject.commonName", "%q is longer than 64 characters; shorten it or leave it out for %q", i.Subject.CommonName, c.Org+" "+c.Env+" root CA")
	}
	if !countryRe.MatchString(i.Subject.Country) {
		p.add("identity.subject.country", "%q must be a two-letter upper-case ISO 3166 code, e.g. AU", i.Subject.Country)
	}
}
