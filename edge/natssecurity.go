package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// NATS accounts. EDGE holds agents and services (they exchange the edge
// subjects, so they share one account and its JetStream); SYS is the
// system account (server events, monitoring); P2P exists only when the
// P2P bridge is on and isolates whatever a peer hub sends in over the leaf
// connection from EDGE.
const (
	AccountEdge = "EDGE"
	AccountSys  = "SYS"
	AccountP2P  = "P2P"
)

// Service users. Each authenticates with a TLS client certificate from the
// private CA whose URI SAN is NATSUserURISANPrefix + name (issued in-cluster
// by cert-manager), so no password exists anywhere.
const (
	UserDTNGateway       = "dtn-gateway"
	UserBeaconRotate     = "beacon-rotate"
	UserSecurityDetector = "security-detector"
	UserStreamAdmin      = "stream-admin"
	UserSystem           = "system"
)

// ServiceUsers lists the service users in a stable order (one cert-manager
// Certificate each).
func ServiceUsers() []string {
	return []string{UserDTNGateway, UserBeaconRotate, UserSecurityDetector, UserStreamAdmin, UserSystem}
}

// ServiceUserName is the NATS user name (and certificate URI SAN) of a
// service user.
func ServiceUserName(user string) string { return NATSUserURISANPrefix + user }

// AgentInboxPrefix: nats.go's request/reply and JetStream publish acks
// arrive on "_INBOX.<random>"; an agent must subscribe there to get acks.
const AgentInboxPrefix = "_INBOX.>"

// Permissions is one user's NATS permission block.
type Permissions struct {
	PublishAllow   []string
	PublishDeny    []string
	SubscribeAllow []string
	SubscribeDeny  []string
	// AllowResponses lets the user publish one reply to a request it
	// received, whatever the reply subject.
	AllowResponses bool
}

func (p Permissions) conf() map[string]any {
	out := map[string]any{}
	pub := map[string]any{}
	if len(p.PublishAllow) > 0 {
		pub["allow"] = p.PublishAllow
	}
	if len(p.PublishDeny) > 0 {
		pub["deny"] = p.PublishDeny
	}
	sub := map[string]any{}
	if len(p.SubscribeAllow) > 0 {
		sub["allow"] = p.SubscribeAllow
	}
	if len(p.SubscribeDeny) > 0 {
		sub["deny"] = p.SubscribeDeny
	}
	out["publish"] = pub
	out["subscribe"] = sub
	if p.AllowResponses {
		out["allow_responses"] = true
	}
	return out
}

// adminSubjects are never open to agents or non-admin services: the whole
// JetStream API (stream/consumer create, update, delete, purge) and the
// system subjects. An explicit deny wins over any allow, so a later,
// broader allow cannot re-open them.
var adminSubjects = []string{"$JS.API.>", "$SYS.>", "$JS.>"}

// AgentPermissions: agents publish peer sync and beacon updates only, and
// subscribe to those subjects and their own reply inbox. Every agent maps
// to the same user (AgentURISAN), so "own inbox" is the unguessable random
// inbox token nats.go generates per connection: the permission allows
// _INBOX.> because NATS conf users have no per-connection subject
// templates (those need JWT users). See docs/edge-sync-security.md.
func AgentPermissions() Permissions {
	return Permissions{
		PublishAllow:   []string{SubjectPeerSync, SubjectBeaconUpdated},
		PublishDeny:    append([]string{SubjectReplayDetected, "security.>"}, adminSubjects...),
		SubscribeAllow: []string{SubjectPeerSync, SubjectBeaconUpdated, AgentInboxPrefix},
		SubscribeDeny:  []string{"security.>", "$JS.>", "$SYS.>"},
	}
}

// ServicePermissions is each service user's permission block.
func ServicePermissions() map[string]Permissions {
	jsConsume := func(stream string) []string {
		return []string{
			"$JS.API.CONSUMER.INFO." + stream + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + stream + ".>",
			"$JS.ACK." + stream + ".>",
		}
	}
	return map[string]Permissions{
		// The DTN gateway forwards envelopes both ways: it republishes what
		// arrives over DTN and pulls from EDGE/BEACONS (consumers are made
		// by stream-admin).
		UserDTNGateway: {
			PublishAllow:   append([]string{SubjectPeerSync, SubjectBeaconUpdated}, append(jsConsume(StreamEdge), jsConsume(StreamBeacons)...)...),
			PublishDeny:    []string{"security.>", "$JS.API.STREAM.>", "$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.DELETE.>", "$SYS.>"},
			SubscribeAllow: []string{SubjectPeerSync, SubjectBeaconUpdated, AgentInboxPrefix},
		},
		// beacon-rotate announces new beacon keys.
		UserBeaconRotate: {
			PublishAllow:   []string{SubjectBeaconUpdated},
			PublishDeny:    append([]string{"security.>"}, adminSubjects...),
			SubscribeAllow: []string{AgentInboxPrefix},
		},
		// The security detector watches peer sync and is the only user
		// that may raise a replay alert.
		UserSecurityDetector: {
			PublishAllow:   []string{SubjectReplayDetected},
			PublishDeny:    adminSubjects,
			SubscribeAllow: []string{SubjectPeerSync, SubjectBeaconUpdated, AgentInboxPrefix},
		},
		// stream-admin (the stream-setup Job) creates and updates streams
		// through the JetStream API; it publishes no data.
		UserStreamAdmin: {
			PublishAllow:   []string{"$JS.API.>"},
			PublishDeny:    []string{SubjectPeerSync, SubjectBeaconUpdated, "security.>"},
			SubscribeAllow: []string{AgentInboxPrefix},
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
	// TLS files of the client certificate from the private CA.
	CertFile, KeyFile, CAFile string
}

// SecurityOptions configure NATS authentication and authorization.
type SecurityOptions struct {
	// P2P turns on the P2P account (with Limits) and, when Leaf is set,
	// the leaf remote bound to it.
	P2P    bool
	Limits AccountLimits
	Leaf   *LeafRemote
}

// TLSFiles locate the server certificate, key and CA bundle. The chart
// fills them in itself (config.nats.tls / tlsCA), so the stack leaves them
// empty; edge/natstest sets them.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// OCSPPeerTimeoutSeconds bounds one OCSP request to the CA's responder.
const OCSPPeerTimeoutSeconds = 2

// ClientTLS is the client listener's tls block: client certificates are
// required and verified against the private CA and mapped to a user by
// their URI SAN (verify_and_map), and each one is checked against the
// CA's OCSP responder (NATS reads no CRL). OCSP fails closed: an unknown
// status or an unreachable responder refuses the client.
func ClientTLS(files TLSFiles) map[string]any {
	out := map[string]any{
		"verify_and_map": true,
		"timeout":        2,
		"ocsp_peer": map[string]any{
			"verify": true, "ca_timeout": OCSPPeerTimeoutSeconds, "allowed_clockskew": 30,
			"warn_only": false, "unknown_is_good": false, "allow_when_ca_unreachable": false,
		},
	}
	for k, v := range map[string]string{"cert_file": files.CertFile, "key_file": files.KeyFile, "ca_file": files.CAFile} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func user(name string, p *Permissions) map[string]any {
	u := map[string]any{"user": name}
	if p != nil {
		u["permissions"] = p.conf()
	}
	return u
}

// Authorization returns the accounts block and system account: the part
// of the server config that decides who may do what. The stack merges it
// into the chart's config; edge/natstest runs a server with it.
func Authorization(o SecurityOptions) (map[string]any, error) {
	agent := AgentPermissions()
	edgeUsers := []any{user(AgentURISAN, &agent)}
	perms := ServicePermissions()
	names := make([]string, 0, len(perms))
	for n := range perms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := perms[n]
		edgeUsers = append(edgeUsers, user(ServiceUserName(n), &p))
	}
	accounts := map[string]any{
		AccountEdge: map[string]any{"jetstream": "enabled", "users": edgeUsers},
		AccountSys:  map[string]any{"users": []any{user(ServiceUserName(UserSystem), nil)}},
	}
	out := map[string]any{"accounts": accounts, "system_account": AccountSys}
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

// ServerConfig renders a complete server config (NATS reads JSON) from
// the same blocks the chart gets, plus the listener and JetStream settings
// the chart adds itself. edge/natstest starts nats-server from it.
func ServerConfig(listen string, storeDir string, files TLSFiles, o SecurityOptions) ([]byte, error) {
	auth, err := Authorization(o)
	if err != nil {
		return nil, err
	}
	auth["listen"] = listen
	auth["max_payload"] = MaxEnvelopeBytes
	auth["tls"] = ClientTLS(files)
	auth["jetstream"] = map[string]any{"store_dir": storeDir}
	auth["ocsp_cache"] = OCSPCache(storeDir + "/ocsp-cache")
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
