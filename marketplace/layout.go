package marketplace

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// The packs bucket layout (spatial-packs-<org>-<env>-<region>):
//
//	staging/<publisher>/<pack>/<version>/<file>       publisher uploads; never served
//	published/<access>/<pack>/<version>/<file>        attested packs; only the gate writes
//	published/<access>/<pack>/<version>/attestation.json
//
// where access is AccessOpen (served by the CDN at /open/... unsigned) or
// AccessLicensed (served at /licensed/... only with a CloudFront signed
// URL). The CDN's origin path is /published, so a CDN path is the
// published key without that prefix.
const (
	AccessOpen     = "open"
	AccessLicensed = "licensed"
	// AttestationFile is the attestation document beside a version's file.
	AttestationFile = "attestation.json"
)

// idRe is a publisher, pack, version or file name: safe in a key and a
// URL path, and never "." or "..".
var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether s may be a publisher, pack, version or file name.
func ValidID(s string) bool { return idRe.MatchString(s) && !strings.Contains(s, "..") }

// Pack names one file of one version of a pack.
type Pack struct {
	Pack, Version, File string
}

// Validate refuses names that would escape their place in the layout.
func (p Pack) Validate() error {
	for field, v := range map[string]string{"pack": p.Pack, "version": p.Version, "file": p.File} {
		if !ValidID(v) {
			return fmt.Errorf("%s %q must be 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit", field, v)
		}
	}
	if p.File == AttestationFile {
		return fmt.Errorf("file %q is reserved for the attestation", p.File)
	}
	return nil
}

// StagingKey is where publisher uploads p.
func StagingKey(publisher string, p Pack) string {
	return naming.PacksStagingPrefix + publisher + "/" + p.Pack + "/" + p.Version + "/" + p.File
}

// PublishedKey is where the gate publishes p under access.
func PublishedKey(access string, p Pack) string {
	return naming.PacksPublishedPrefix + access + "/" + p.Pack + "/" + p.Version + "/" + p.File
}

// AttestationKey is the attestation document of p's version under access.
func AttestationKey(access string, p Pack) string {
	return naming.PacksPublishedPrefix + access + "/" + p.Pack + "/" + p.Version + "/" + AttestationFile
}

// CDNPath is p's path on the CDN: /<access>/<pack>/<version>/<file>.
func CDNPath(access string, p Pack) string {
	return "/" + strings.TrimPrefix(PublishedKey(access, p), naming.PacksPublishedPrefix)
}

// ErrNotPublished is wrapped by ParseCDNPath for any path outside
// /open/... and /licensed/... (staging/ included): the CDN serves only
// published packs.
var ErrNotPublished = fmt.Errorf("only published packs are served: the path must be /%s/<pack>/<version>/<file> or /%s/<pack>/<version>/<file>", AccessOpen, AccessLicensed)

// ParseCDNPath splits a CDN path into its access and pack file.
func ParseCDNPath(path string) (access string, p Pack, err error) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 4 || (parts[0] != AccessOpen && parts[0] != AccessLicensed) {
		return "", Pack{}, fmt.Errorf("%q: %w", path, ErrNotPublished)
	}
	p = Pack{Pack: parts[1], Version: parts[2], File: parts[3]}
	if err := p.Validate(); err != nil {
		return "", Pack{}, fmt.Errorf("%q: %w", path, err)
	}
	return parts[0], p, nil
}
