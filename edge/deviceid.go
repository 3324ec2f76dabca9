package edge

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Per-device identity (contracts.md, "Device identity"): every device
// certificate names exactly one device, in its subject CN and in one URI
// SAN DeviceURISAN(id), and nothing else (no DNS name, IP or e-mail), so
// NATS, the presigner's ALB and the ledger all map it to that device alone.
const DeviceURISANPrefix = "urn:spatial-properties:device:"

// DeviceURISAN is the URI SAN of device id.
func DeviceURISAN(id string) string { return DeviceURISANPrefix + id }

var deviceIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidDeviceID reports whether id may name a device (1-64 letters,
// digits, '_' or '-', starting with a letter or digit). An id becomes one
// NATS subject token (edge.device.<id>.>), so it may not hold '.', '*', '>'
// or whitespace: a device "a.b" would otherwise live inside device "a"'s
// subjects.
func ValidDeviceID(id string) bool { return deviceIDRe.MatchString(id) }

// ErrSANNotDevice is wrapped when a certificate or request names anything
// but one device.
var ErrSANNotDevice = errors.New("the subject alternative names must be exactly one URI " + DeviceURISANPrefix + "<device-id>, naming the device itself")

// DeviceSANs checks the SANs a CSR or certificate carries and returns the
// device id they name: exactly one URI, DeviceURISAN(id) with a valid id,
// and no DNS name, IP address or e-mail address.
func DeviceSANs(dns, emails []string, ips int, uris []string) (string, error) {
	switch {
	case len(dns) > 0:
		return "", fmt.Errorf("%w (found DNS names %v)", ErrSANNotDevice, dns)
	case len(emails) > 0:
		return "", fmt.Errorf("%w (found e-mail addresses %v)", ErrSANNotDevice, emails)
	case ips > 0:
		return "", fmt.Errorf("%w (found %d IP address(es))", ErrSANNotDevice, ips)
	case len(uris) != 1:
		return "", fmt.Errorf("%w (found %d URIs: %v)", ErrSANNotDevice, len(uris), uris)
	}
	id, ok := strings.CutPrefix(uris[0], DeviceURISANPrefix)
	if !ok || !ValidDeviceID(id) {
		return "", fmt.Errorf("%w (found %q)", ErrSANNotDevice, uris[0])
	}
	return id, nil
}

// CertDeviceID returns the device a certificate names (DeviceSANs), and
// checks that its subject CN names the same device.
func CertDeviceID(c *x509.Certificate) (string, error) {
	var uris []string
	for _, u := range c.URIs {
		uris = append(uris, u.String())
	}
	id, err := DeviceSANs(c.DNSNames, c.EmailAddresses, len(c.IPAddresses), uris)
	if err != nil {
		return "", err
	}
	if c.Subject.CommonName != id {
		return "", fmt.Errorf("subject CN %q is not the device %q its URI SAN names", c.Subject.CommonName, id)
	}
	return id, nil
}

// SerialHex is how the ledger keys a certificate: its serial number as
// lowercase hex, two digits per byte (what ACM PCA RevokeCertificate takes).
func SerialHex(n *big.Int) string {
	s := n.Text(16)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// Fingerprint is the SHA-256 of a certificate's DER, lowercase hex: the
// ledger keeps it so a certificate presented later can be matched to the
// exact one issued, not only to its serial.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Device records: attribute names of the ledger (one item per issued
// certificate) and of the devices table (one item per device).
const (
	LedgerSerial      = "serial"
	LedgerDevice      = "device"
	LedgerCohort      = "cohort"
	LedgerNotAfter    = "notAfter" // RFC 3339
	LedgerRevoked     = "revoked"  // bool
	LedgerFingerprint = "fingerprint"
	LedgerIssuedAt    = "issuedAt" // RFC 3339

	DeviceKey           = "device"
	DeviceCohort        = "cohort"
	DeviceStatus        = "status" // DeviceActive or DeviceRevoked
	DeviceTokenHash     = "tokenHash"
	DeviceTokenExpires  = "tokenExpires" // epoch seconds
	DeviceCurrentSerial = "currentSerial"

	DeviceActive  = "active"
	DeviceRevoked = "revoked"
)
