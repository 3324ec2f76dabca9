package edge

import "regexp"

// Per-device identity (contracts.md, "Device identity"): a device
// certificate names its device in the subject CN and in one URI SAN,
// DeviceURISAN(id).

// DeviceURISANPrefix + device id is a device certificate's URI SAN.
const DeviceURISANPrefix = "urn:spatial-properties:device:"

// deviceIDRe is a device id: it becomes one NATS subject token
// (edge.device.<id>.>), so it may not hold '.', '*', '>' or whitespace:
// a device "a.b" would otherwise live inside device "a"'s subjects.
var deviceIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidDeviceID reports whether id is a device id (1-64 letters, digits,
// '_' or '-', starting with a letter or digit).
func ValidDeviceID(id string) bool { return deviceIDRe.MatchString(id) }

// DeviceURISAN is the URI SAN of the device's certificate.
func DeviceURISAN(id string) string { return DeviceURISANPrefix + id }
