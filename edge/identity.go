package edge

import (
	"fmt"
	"strings"
)

// Identities in client certificates. Every NATS client is mapped to a user
// by the auth callout (natsauth.go) from its verified certificate chain:
//
//   - a device certificate, from the device CA, carries exactly one URI SAN
//     DeviceURISAN(<device id>) and maps to a user of its own whose
//     permissions name that id (DevicePermissions);
//   - a service certificate, from the service CA, carries
//     ServiceUserName(<user>) and maps to that service user.
//
// Neither CA can stand in for the other: the callout accepts a device SAN
// only on a chain that ends at the device CA and a service SAN only on one
// that ends at the service CA, so no certificate a device can obtain ever
// maps to a service user (the system account included).
const (
	// NATSUserURISANPrefix + user name is a service certificate's URI SAN.
	NATSUserURISANPrefix = "urn:spatial-properties:nats-user:"
	// RouteURISAN is the URI SAN of the NATS servers' route certificate:
	// the cluster's route authorization admits only that identity, so no
	// service certificate (whose SANs are nats-user ones) can open a route.
	RouteURISAN = "urn:spatial-properties:nats-route"
)

// DeviceIDFromURISAN returns the device id a URI SAN names.
func DeviceIDFromURISAN(uri string) (string, error) {
	id, ok := strings.CutPrefix(uri, DeviceURISANPrefix)
	if !ok {
		return "", fmt.Errorf("URI SAN %q is not a device identity (%s<id>)", uri, DeviceURISANPrefix)
	}
	if !ValidDeviceID(id) {
		return "", fmt.Errorf("URI SAN %q names device %q, which is not a device id (letters, digits, '_' and '-' only)", uri, id)
	}
	return id, nil
}

// DeviceSubjectPrefix is the device's own subject space: edge.device.<id>.
func DeviceSubjectPrefix(id string) string { return "edge.device." + id }

// DevicePeerSyncSubject is the subject a device publishes its own peer-sync
// messages on: edge.peer.sync.<id>.
func DevicePeerSyncSubject(id string) string { return SubjectPeerSync + "." + id }

// DeviceInboxPrefix is the reply inbox prefix a device must use
// (nats.CustomInboxPrefix): _INBOX.device.<id>. It may subscribe to nothing
// else under _INBOX, so it cannot read another user's replies.
func DeviceInboxPrefix(id string) string { return "_INBOX.device." + id }

// ServiceInboxPrefix is a service user's reply inbox prefix:
// _INBOX.service.<user>.
func ServiceInboxPrefix(user string) string { return "_INBOX.service." + user }
