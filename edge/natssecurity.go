package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// NATS accounts. EDGE holds devices and services (they exchange the edge
// subjects, so they share one account and its JetStream); SYS is the
// system account (server events, monitoring); AUTH holds only the auth
// callout service; P2P exists only when the P2P bridge is on and isolates
// whatever a peer hub sends in over the leaf connection from EDGE.
const (
	AccountEdge = "EDGE"
	AccountSys  = "SYS"
	AccountAuth = "AUTH"
	AccountP2P  = "P2P"
)

// Service users. Each authenticates with a TLS client certificate from the
// service CA whose URI SAN is NATSUserURISANPrefix + name (issued in-cluster
// by cert-manager), so no password exists anywhere.
const (
	UserDTNGateway       = "dtn-gateway"
	UserBeaconRotate     = "beacon-rotate"
	UserSecurityDetector = "security-detector"
	UserStreamAdmin      = "stream-admin"
	UserSystem           = "system"
	// UserAuthCallout is the auth callout service: the one static user of
	// the server config (account AUTH), mapped by its certificate
	// (verify_and_map); every other client is mapped by it.
	UserAuthCallout = "auth-callout"
)

// AppUsers are the service users of workloads the service workflows deploy
// (namespace edge-sync); PrivilegedUsers are those only the infra stacks
// run (namespace edge-nats). The split decides which namespace may request
// which certificate (the approver policies in stacks/edge_issuers.go).
var (
	AppUsers        = []string{UserDTNGateway, UserBeaconRotate, UserSecurityDetector}
	PrivilegedUsers = []string{UserStreamAdmin, UserSystem, UserAuthCallout}
)

// ServiceUsers lists every service user in a stable order.
func ServiceUsers() []string { return append(append([]string(nil), AppUsers...), PrivilegedUsers...) }

// ServiceUserName is the NATS user name (and certificate URI SAN) of a
// service user.
func ServiceUserName(user string) string { return NATSUserURISANPrefix + user }

// Permissions is one user's NATS permission block.
type Permissions struct {
	PublishAllow   []string
	PublishDeny    []string
	SubscribeAllow []string
	SubscribeDeny  []string
	// AllowResponses lets the user publish one reply to each request it
	// received, whatever the reply subject.
	AllowResponses bool
}

// adminSubjects are never open to devices or non-admin services: the whole
// JetStream API (stream/consumer create, update, delete, purge) and the
// system subjects. An explicit deny wins over any allow, so a later,
// broader allow cannot re-open them.
var adminSubjects = []string{"$JS.API.>", "$SYS.>", "$JS.>"}

// DevicePermissions are what device id may do, and all it may do: publish
// and subscribe in its own space edge.device.<id>.>, publish its own peer
// sync messages (edge.peer.sync.<id>), receive replies on its own inbox
// (DeviceInboxPrefix) and answer requests it received. It never publishes
// edge.beacon.updated (the rotation job's announcement), never raises a
// security alert, never touches the JetStream API or another device's
// subjects or replies.
func DevicePermissions(id string) Permissions {
	own := DeviceSubjectPrefix(id) + ".>"
	return Permissions{
		PublishAllow:   []string{own, DevicePeerSyncSubject(id)},
		PublishDeny:    append([]string{SubjectBeaconUpdated, "security.>"}, adminSubjects...),
		SubscribeAllow: []string{own, DeviceInboxPrefix(id) + ".>"},
		SubscribeDeny:  []string{"security.>", "$JS.>", "$SYS.>"},
		AllowResponses: true,
	}
}

// ServicePermissions is each EDGE service user's permission block. The
// system user is not here: it lives in SYS with that account's full rights.
func ServicePermissions() map[string]Permissions {
	jsConsume := func(streams ...string) []string {
		var out []string
		for _, stream := range streams {
			out = append(out,
				"$JS.API.CONSUMER.INFO."+stream+".>",
				"$JS.API.CONSUMER.MSG.NEXT."+stream+".>",
				"$JS.ACK."+stream+".>")
		}
		return out
	}
	inbox := func(user string) string { return ServiceInboxPrefix(user) + ".>" }
	return map[string]Permissions{
		// The DTN gateway carries device traffic both ways: it republishes
		// what arrives over a DTN uplink (device and peer-sync subjects)
		// and pulls EDGE, BEACONS and DEVICES for devices that are offline
		// (consumers are made by stream-admin). Beacon updates it only
		// forwards; it never announces one.
		UserDTNGateway: {
			PublishAllow: append([]string{SubjectPeerSync, SubjectPeerSyncTree, SubjectDeviceTree},
				jsConsume(StreamEdge, StreamBeacons, StreamDevices)...),
			PublishDeny: []string{SubjectBeaconUpdated, "security.>", "$JS.API.STREAM.>", "$JS.API.CONSUMER.CREATE.>",
				"$JS.API.CONSUMER.DELETE.>", "$SYS.>"},
			SubscribeAllow: []string{SubjectPeerSync, SubjectPeerSyncTree, SubjectDeviceTree, SubjectBeaconUpdated, inbox(UserDTNGateway)},
		},
		// beacon-rotate announces new beacon keys.
		UserBeaconRotate: {
			PublishAllow:   []string{SubjectBeaconUpdated},
			PublishDeny:    append([]string{"security.>"}, adminSubjects...),
			SubscribeAllow: []string{inbox(UserBeaconRotate)},
		},
		// The security detector watches peer sync and device traffic and is
		// the only user that may raise a replay alert.
		UserSecurityDetector: {
			PublishAllow:   []string{SubjectReplayDetected},
			PublishDeny:    adminSubjects,
			SubscribeAllow: []string{SubjectPeerSync, SubjectPeerSyncTree, SubjectDeviceTree, SubjectBeaconUpdated, inbox(UserSecurityDetector)},
		},
		// stream-admin (the stream-setup Job) creates and updates streams
		// through the JetStream API; it publishes no data.
		UserStreamAdmin: {
			PublishAllow:   []string{"$JS.API.>"},
			PublishDeny:    []string{SubjectPeerSync, SubjectPeerSyncTree, SubjectDeviceTree, SubjectBeaconUpdated, "security.>"},
			SubscribeAllow: []string{inbox(UserStreamAdmin)},
		},
	}
}

// AccountLimits bound what a peer hub can do through the P2P bridge.
type AccountLimits struct {
	MaxConnections   int
	MaxSubscriptions int
	MaxPayloadBytes  int
	// MaxLeafNodes bounds leaf connections into the account.
	MaxLeafNodes int
	// JetStreamMaxFileBytes bounds the account's JetStream file storage.
	JetStreamMaxFileBytes int64
}

// Validate refuses limits that would leave the bridge unbounded.
func (l AccountLimits) Validate() error {
	switch {
	case l.MaxConnections < 1:
		return fmt.Errorf("edge.p2pBridge.limits.maxConnections=%d: set at least 1", l.MaxConnections)
	case l.MaxSubscriptions < 1:
		return fmt.Errorf("edge.p2pBridge.limits.maxSubscriptions=%d: set at least 1", l.MaxSubscriptions)
	case l.MaxPayloadBytes < 1 || l.MaxPayloadBytes > MaxEnvelopeBytes:
		return fmt.Errorf("edge.p2pBridge.limits.maxPayloadBytes=%d: set between 1 and %d (the 50 KB envelope)", l.MaxPayloadBytes, MaxEnvelopeBytes)
	case l.MaxLeafNodes < 1:
		return fmt.Errorf("edge.p2pBridge.limits.maxLeafNodes=%d: set at least 1", l.MaxLeafNodes)
	case l.JetStreamMaxFileBytes < 1:
		return fmt.Errorf("edge.p2pBridge.limits.jetStreamMaxFileBytes=%d: set a positive byte count", l.JetStreamMaxFileBytes)
	}
	return nil
}

func (l AccountLimits) conf() map[string]any {
	return map[string]any{
		"max_connections": l.MaxConnections, "max_subscriptions": l.MaxSubscriptions,
		"max_payload": l.MaxPayloadBytes, "max_leafnodes": l.MaxLeafNodes,
	}
}

// LeafRemote is the P2P bridge's leaf-node remote to a peer hub.
type LeafRemote struct {
	// URL is the hub's tls:// leaf URL.
	URL string
	// CredentialsFile is the NATS JWT/nkey creds file (mounted from a
	// Kubernetes Secret synced from Secrets Manager).
	CredentialsFile string
	// TLS files of the client certificate from the service CA.
	CertFile, KeyFile, CAFile string
}

// SecurityOptions configure NATS authentication and authorization.
type SecurityOptions struct {
	// CalloutIssuer is the account public nkey the auth callout signs user
	// JWTs with. The stack passes the chart token "<< $NATS_AUTH_ISSUER >>"
	// (the container reads it from a Secret); edge/natstest a real key.
	CalloutIssuer string
	// P2P turns on the P2P account (with Limits) and, when Leaf is set,
	// the leaf remote bound to it.
	P2P    bool
	Limits AccountLimits
	Leaf   *LeafRemote
}

// TLSFiles locate a listener's certificate, key and the one CA it trusts
// for client certificates. The chart fills cert and key in itself
// (config.*.tls.secretName), so the stack sets only CAFile; edge/natstest
// sets all three.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// OCSPPeerTimeoutSeconds bounds one OCSP request to the CA's responder.
const OCSPPeerTimeoutSeconds = 2

func tlsBlock(files TLSFiles, extra map[string]any) map[string]any {
	out := map[string]any{"timeout": 2}
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range map[string]string{"cert_file": files.CertFile, "key_file": files.KeyFile, "ca_file": files.CAFile} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// ocspPeer checks each client certificate against its CA's OCSP responder
// (NATS reads no CRL) and fails closed: an unknown status or an unreachable
// responder refuses the client. A certificate without an OCSP URL (the
// service CA keeps no responder) is not checked.
func ocspPeer() map[string]any {
	return map[string]any{
		"verify": true, "ca_timeout": OCSPPeerTimeoutSeconds, "allowed_clockskew": 30,
		"warn_only": false, "unknown_is_good": false, "allow_when_ca_unreachable": false,
	}
}

// ClientTLS is the in-cluster client listener's tls block (port 4222):
// client certificates are required and verified against the service CA
// only (files.CAFile), and mapped by URI SAN (verify_and_map) to the one
// static user, the auth callout; every other certificate goes to the
// callout. A device certificate never completes this handshake.
func ClientTLS(files TLSFiles) map[string]any {
	return tlsBlock(files, map[string]any{"verify_and_map": true, "ocsp_peer": ocspPeer()})
}

// AgentsTLS is the agents' listener's tls block (the websocket listener the
// internet-facing NLB forwards to): client certificates are required and
// verified against the device CA only (files.CAFile) and OCSP; the auth
// callout maps each to its device. No service certificate completes this
// handshake.
func AgentsTLS(files TLSFiles) map[string]any {
	return tlsBlock(files, map[string]any{"verify": true, "ocsp_peer": ocspPeer()})
}

// RouteTLS is the cluster block's tls: routes are mutual TLS against the
// service CA, and the peer's certificate must map (verify_and_map) to the
// route user, RouteAuthorization.
func RouteTLS(files TLSFiles) map[string]any {
	return tlsBlock(files, map[string]any{"verify_and_map": true})
}

// RouteAuthorization admits a route only from a certificate carrying
// RouteURISAN: no password exists, and no service certificate (whose SAN is
// a nats-user one) can open a route.
func RouteAuthorization() map[string]any { return map[string]any{"user": RouteURISAN} }

// Authorization returns the accounts, the system account and the auth
// callout: the part of the server config that decides who may do what.
// Only the callout's own user is static; devices and services are mapped
// by the callout (services/nats-auth, rules in natsauth.go) into EDGE or
// SYS. The stack merges this into the chart's config; edge/natstest runs a
// server with it.
func Authorization(o SecurityOptions) (map[string]any, error) {
	if o.CalloutIssuer == "" {
		return nil, fmt.Errorf("edge: the auth callout needs its issuer (an account public nkey)")
	}
	callout := ServiceUserName(UserAuthCallout)
	accounts := map[string]any{
		AccountEdge: map[string]any{"jetstream": "enabled"},
		AccountSys:  map[string]any{},
		AccountAuth: map[string]any{"users": []any{map[string]any{"user": callout}}},
	}
	out := map[string]any{
		"accounts": accounts, "system_account": AccountSys,
		"authorization": map[string]any{"auth_callout": map[string]any{
			"issuer": o.CalloutIssuer, "account": AccountAuth, "auth_users": []string{callout},
			// Only users bound for these accounts are the callout's to
			// decide; the callout's own user (AUTH) and a P2P probe keep
			// their static mapping.
			"allowed_accounts": []string{AccountEdge, AccountSys},
		}},
	}
	if o.P2P {
		if err := o.Limits.Validate(); err != nil {
			return nil, err
		}
		accounts[AccountP2P] = map[string]any{
			"limits":    o.Limits.conf(),
			"jetstream": map[string]any{"max_file": o.Limits.JetStreamMaxFileBytes, "max_mem": 0},
		}
		if o.Leaf != nil {
			if o.Leaf.URL == "" || o.Leaf.CredentialsFile == "" {
				return nil, fmt.Errorf("edge.p2pBridge: hubURL and credentials are required when the bridge is enabled")
			}
			remote := map[string]any{
				"urls": []string{o.Leaf.URL}, "account": AccountP2P, "credentials": o.Leaf.CredentialsFile,
			}
			tls := map[string]any{}
			for k, v := range map[string]string{"cert_file": o.Leaf.CertFile, "key_file": o.Leaf.KeyFile, "ca_file": o.Leaf.CAFile} {
				if v != "" {
					tls[k] = v
				}
			}
			remote["tls"] = tls
			out["leafnodes"] = map[string]any{"remotes": []any{remote}}
		}
	}
	return out, nil
}

// OCSPCache keeps OCSP responses in dir. Without it nats-server writes
// its cache to "_rc_" in its working directory, which is read-only in the
// pod; the stack points it at the JetStream volume.
func OCSPCache(dir string) map[string]any {
	return map[string]any{"type": "local", "local_store": dir}
}

// ServerFiles are the files a test server runs with: its certificate and
// key (served on every listener) and the two trust anchors.
type ServerFiles struct {
	CertFile, KeyFile string
	// ServiceCA anchors the client port and routes; DeviceCA the agents'
	// listener.
	ServiceCA, DeviceCA string
}

// ServerListeners place a test server: its client listener, the agents'
// (websocket) port, and, for a cluster, the route port and the routes to
// dial.
type ServerListeners struct {
	Client    string
	AgentsWS  int
	Cluster   int
	Routes    []string
	Name      string
	StoreDir  string
	RouteCert *TLSFiles
}

// ServerConfig renders a complete server config (NATS reads JSON) from the
// same blocks the chart gets, plus the listener and JetStream settings the
// chart adds itself. edge/natstest starts nats-server from it.
func ServerConfig(l ServerListeners, f ServerFiles, o SecurityOptions) ([]byte, error) {
	auth, err := Authorization(o)
	if err != nil {
		return nil, err
	}
	auth["listen"] = l.Client
	if l.Name != "" {
		auth["server_name"] = l.Name
	}
	auth["max_payload"] = MaxEnvelopeBytes
	auth["tls"] = ClientTLS(TLSFiles{CertFile: f.CertFile, KeyFile: f.KeyFile, CAFile: f.ServiceCA})
	auth["websocket"] = map[string]any{
		"host": "127.0.0.1", "port": l.AgentsWS, "compression": false,
		"tls": AgentsTLS(TLSFiles{CertFile: f.CertFile, KeyFile: f.KeyFile, CAFile: f.DeviceCA}),
	}
	if l.Cluster != 0 {
		rc := TLSFiles{CertFile: f.CertFile, KeyFile: f.KeyFile, CAFile: f.ServiceCA}
		if l.RouteCert != nil {
			rc = *l.RouteCert
		}
		cluster := map[string]any{
			"name": "edge", "listen": fmt.Sprintf("127.0.0.1:%d", l.Cluster),
			"tls": RouteTLS(rc), "authorization": RouteAuthorization(),
		}
		if len(l.Routes) > 0 {
			cluster["routes"] = l.Routes
		}
		auth["cluster"] = cluster
	}
	auth["jetstream"] = map[string]any{"store_dir": l.StoreDir}
	auth["ocsp_cache"] = OCSPCache(l.StoreDir + "/ocsp-cache")
	return MarshalConf(auth)
}

// MarshalConf writes JSON the NATS config parser reads: without Go's HTML
// escaping, which turns the ">" wildcard into "\u003e", an escape NATS
// refuses.
func MarshalConf(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
