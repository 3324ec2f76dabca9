package edge

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDevicesCanNeverRaiseAlertsAnnounceBeaconsOrAdministerStreams(t *testing.T) {
	p := DevicePermissions("dev-0001")
	for _, s := range []string{SubjectBeaconUpdated, SubjectReplayDetected, "$JS.API.>"} {
		if contains(p.PublishAllow, s) {
			t.Errorf("a device may publish %q", s)
		}
	}
	if !contains(p.PublishDeny, SubjectBeaconUpdated) || !contains(p.PublishDeny, "$JS.API.>") {
		t.Errorf("device publish deny = %v, want the beacon announcement and the JetStream API", p.PublishDeny)
	}
	want := []string{"edge.device.dev-0001.>", "edge.peer.sync.dev-0001"}
	if strings.Join(p.PublishAllow, ",") != strings.Join(want, ",") {
		t.Errorf("device publish allow = %v, want only its own subjects %v", p.PublishAllow, want)
	}
	wantSub := []string{"edge.device.dev-0001.>", "_INBOX.device.dev-0001.>"}
	if strings.Join(p.SubscribeAllow, ",") != strings.Join(wantSub, ",") {
		t.Errorf("device subscribe allow = %v, want only its own subjects and inbox %v", p.SubscribeAllow, wantSub)
	}
}

func TestOnlyTheDetectorRaisesReplayAlertsAndOnlyRotateAnnouncesBeacons(t *testing.T) {
	for name, p := range ServicePermissions() {
		if may := contains(p.PublishAllow, SubjectReplayDetected); may != (name == UserSecurityDetector) {
			t.Errorf("%s may publish %s: %v", name, SubjectReplayDetected, may)
		}
		if may := contains(p.PublishAllow, SubjectBeaconUpdated); may != (name == UserBeaconRotate) {
			t.Errorf("%s may publish %s: %v", name, SubjectBeaconUpdated, may)
		}
		if name != UserStreamAdmin && contains(p.PublishAllow, "$JS.API.>") {
			t.Errorf("%s may use the whole JetStream API", name)
		}
		for _, s := range p.SubscribeAllow {
			if strings.HasPrefix(s, "_INBOX.") && s != ServiceInboxPrefix(name)+".>" {
				t.Errorf("%s subscribes %s, outside its own inbox", name, s)
			}
		}
	}
}

func TestListenersTrustOneCAEachAndFailClosed(t *testing.T) {
	c := ClientTLS(TLSFiles{CAFile: "/ca/service-ca.pem"})
	if c["verify_and_map"] != true || c["ca_file"] != "/ca/service-ca.pem" {
		t.Fatalf("client port: certificates must be verified against the service CA and mapped: %v", c)
	}
	a := AgentsTLS(TLSFiles{CAFile: "/ca/device-ca.pem"})
	if a["verify"] != true || a["ca_file"] != "/ca/device-ca.pem" {
		t.Fatalf("agents' listener: certificates must be verified against the device CA: %v", a)
	}
	for name, tls := range map[string]map[string]any{"client": c, "agents": a} {
		o := tls["ocsp_peer"].(map[string]any)
		if o["verify"] != true || o["unknown_is_good"] != false || o["allow_when_ca_unreachable"] != false || o["warn_only"] != false {
			t.Fatalf("%s: ocsp_peer must fail closed: %v", name, o)
		}
		if _, ok := tls["cert_file"]; ok {
			t.Fatalf("%s: empty files must be left to the chart", name)
		}
	}
	r := RouteTLS(TLSFiles{})
	if r["verify_and_map"] != true || RouteAuthorization()["user"] != RouteURISAN {
		t.Fatalf("routes must be mutual TLS mapped to the route identity: %v %v", r, RouteAuthorization())
	}
}

func TestAuthorizationHasOneStaticUserAndTheCallout(t *testing.T) {
	if _, err := Authorization(SecurityOptions{}); err == nil {
		t.Fatal("an authorization without the callout issuer must be refused")
	}
	a, err := Authorization(SecurityOptions{CalloutIssuer: "AISSUER"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	s := string(b)
	for _, want := range []string{`"system_account":"SYS"`, `"issuer":"AISSUER"`, `"auth_users":["` + ServiceUserName(UserAuthCallout) + `"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("authorization lacks %s: %s", want, s)
		}
	}
	if strings.Count(s, `"user":`) != 1 {
		t.Errorf("the callout's user must be the only static user: %s", s)
	}
	if strings.Contains(s, "password") || strings.Contains(s, AccountP2P) {
		t.Errorf("no passwords and no P2P account when the bridge is off: %s", s)
	}
}

func TestP2PLimitsAreValidated(t *testing.T) {
	good := AccountLimits{MaxConnections: 4, MaxSubscriptions: 100, MaxPayloadBytes: 1024, MaxLeafNodes: 1, JetStreamMaxFileBytes: 1 << 20}
	if _, err := Authorization(SecurityOptions{CalloutIssuer: "A", P2P: true, Limits: good}); err != nil {
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
		_, err := Authorization(SecurityOptions{CalloutIssuer: "A", P2P: true, Limits: l})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming the field, got %v", name, err)
		}
	}
	if _, err := Authorization(SecurityOptions{CalloutIssuer: "A", P2P: true, Limits: good, Leaf: &LeafRemote{URL: "tls://hub:7422"}}); err == nil {
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
