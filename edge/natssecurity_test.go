package edge

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAgentCanNeverRaiseAlertsOrAdministerStreams(t *testing.T) {
	p := AgentPermissions()
	for _, s := range []string{SubjectReplayDetected, "$JS.API.>"} {
		if !contains(p.PublishDeny, s) {
			t.Errorf("agent publish deny lacks %q", s)
		}
		if contains(p.PublishAllow, s) {
			t.Errorf("agent may publish %q", s)
		}
	}
	if len(p.PublishAllow) != 2 || !contains(p.PublishAllow, SubjectPeerSync) || !contains(p.PublishAllow, SubjectBeaconUpdated) {
		t.Errorf("agent publish allow = %v, want only peer sync and beacon updates", p.PublishAllow)
	}
}

func TestOnlyTheDetectorRaisesReplayAlerts(t *testing.T) {
	for name, p := range ServicePermissions() {
		may := contains(p.PublishAllow, SubjectReplayDetected)
		if may != (name == UserSecurityDetector) {
			t.Errorf("%s may publish %s: %v", name, SubjectReplayDetected, may)
		}
		if name != UserStreamAdmin && contains(p.PublishAllow, "$JS.API.>") {
			t.Errorf("%s may use the whole JetStream API", name)
		}
	}
}

func TestClientTLSFailsClosed(t *testing.T) {
	tls := ClientTLS(TLSFiles{})
	if tls["verify_and_map"] != true {
		t.Fatal("client certificates must be verified and mapped")
	}
	o := tls["ocsp_peer"].(map[string]any)
	if o["verify"] != true || o["unknown_is_good"] != false || o["allow_when_ca_unreachable"] != false || o["warn_only"] != false {
		t.Fatalf("ocsp_peer must fail closed: %v", o)
	}
	if _, ok := tls["cert_file"]; ok {
		t.Fatal("empty files must be left to the chart")
	}
}

func TestAuthorizationMapsUsersByURISAN(t *testing.T) {
	a, err := Authorization(SecurityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	s := string(b)
	for _, want := range []string{AgentURISAN, ServiceUserName(UserStreamAdmin), `"system_account":"SYS"`} {
		if !strings.Contains(s, want) {
			t.Errorf("authorization lacks %s", want)
		}
	}
	if strings.Contains(s, "password") || strings.Contains(s, AccountP2P) {
		t.Errorf("no passwords and no P2P account when the bridge is off: %s", s)
	}
}

func TestP2PLimitsAreValidated(t *testing.T) {
	good := AccountLimits{MaxConnections: 4, MaxSubscriptions: 100, MaxPayloadBytes: 1024, MaxLeafNodes: 1, JetStreamMaxFileBytes: 1 << 20}
	if _, err := Authorization(SecurityOptions{P2P: true, Limits: good}); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*AccountLimits){
		"maxConnections":   func(l *AccountLimits) { l.MaxConnections = 0 },
		"maxSubscriptions": func(l *AccountLimits) { l.MaxSubscriptions = 0 },
		"maxPayloadBytes":  func(l *AccountLimits) { l.MaxPayloadBytes = MaxEnvelopeBytes + 1 },
		"maxLeafNodes":     func(l *AccountLimits) { l.MaxLeafNodes = 0 },
		"jetStreamMaxFile": func(l *AccountLimits) { l.JetStreamMaxFileBytes = 0 },
	} {
		l := good
		mut(&l)
		_, err := Authorization(SecurityOptions{P2P: true, Limits: l})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming the field, got %v", name, err)
		}
	}
	if _, err := Authorization(SecurityOptions{P2P: true, Limits: good, Leaf: &LeafRemote{URL: "tls://hub:7422"}}); err == nil {
		t.Error("a leaf remote without credentials must be refused")
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
