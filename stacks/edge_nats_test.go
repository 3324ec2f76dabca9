package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

func edgeTestConfig(t *testing.T, p2p bool) *envs.Config {
	t.Helper()
	cfg := &envs.Config{Org: "sp", Env: "dev", Region: "eu-west-1", Domain: "example.com"}
	cfg.Edge.EnvelopeMaxBytes = edge.MaxEnvelopeBytes
	cfg.Edge.JetStreamStorageGi = 10
	cfg.Edge.P2PBridge = envs.P2PBridge{Enabled: p2p, HubURL: "tls://hub.peer.example:7422", CredentialsSecret: "nats-hub-creds",
		Limits: envs.P2PLimits{MaxConnections: 4, MaxSubscriptions: 256, MaxPayloadBytes: 51200, MaxLeafNodes: 1, JetStreamMaxFileMi: 1024}}
	return cfg
}

func TestNATSValuesRequireVerifiedClientCertificates(t *testing.T) {
	cfg := edgeTestConfig(t, false)
	v := natsValues(cfg, 3, "gp3")
	if err := addNATSSecurity(v, cfg, true); err != nil {
		t.Fatal(err)
	}
	config := v["config"].(map[string]any)
	tls := config["nats"].(map[string]any)["tls"].(map[string]any)
	if tls["enabled"] != true || tls["secretName"] != NATSServerTLSSecret {
		t.Fatalf("client TLS not on: %v", tls)
	}
	if m := tls["merge"].(map[string]any); m["verify_and_map"] != true || m["ca_file"] != NATSCADir+"/"+ServiceCAAnchorKey {
		t.Fatalf("client certificates must be verified against the service CA and mapped: %v", m)
	}
	ws := config["websocket"].(map[string]any)["tls"].(map[string]any)["merge"].(map[string]any)
	if ws["verify"] != true || ws["ca_file"] != NATSCADir+"/"+DeviceCAAnchorKey {
		t.Fatalf("the agents' listener must verify against the device CA only: %v", ws)
	}
	cluster := config["cluster"].(map[string]any)
	if cluster["tls"].(map[string]any)["secretName"] != NATSRouteTLSSecret || cluster["merge"].(map[string]any)["authorization"].(map[string]any)["user"] != edge.RouteURISAN {
		t.Fatalf("routes must be TLS with route authorization: %v", cluster)
	}
	if env := v["container"].(map[string]any)["env"].(map[string]any)[NATSAuthIssuerEnv]; env == nil {
		t.Fatal("the callout issuer must come from the Secret")
	}
	merge := v["config"].(map[string]any)["merge"].(map[string]any)
	if merge["system_account"] != edge.AccountSys || merge["max_payload"] != edge.MaxEnvelopeBytes {
		t.Fatalf("accounts or max_payload lost: %v", merge)
	}
	if _, ok := merge["leafnodes"]; ok {
		t.Fatal("no leaf remote while the bridge is off")
	}
	if p2pBridgeObjects(cfg, naming.New("sp", "dev", "eu-west-1")) != nil {
		t.Fatal("no bridge objects while the bridge is off")
	}
}

func TestP2PBridgeValuesMountCertAndCredsWithoutSecrets(t *testing.T) {
	cfg := edgeTestConfig(t, true)
	v := natsValues(cfg, 1, "gp3")
	if err := addNATSSecurity(v, cfg, false); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	s := string(b)
	for _, want := range []string{`"leafnodes"`, `"tls://hub.peer.example:7422"`, `"/etc/nats-leaf-creds/leaf.creds"`, `"account":"P2P"`, `"max_connections":4`, `"/spec/volumes/-"`} {
		if !strings.Contains(s, want) {
			t.Errorf("values lack %s", want)
		}
	}
	objs := p2pBridgeObjects(cfg, naming.New("sp", "dev", "eu-west-1"))
	es, _ := json.Marshal(objs["nats-leaf-creds"])
	if !strings.Contains(string(es), `"key":"sp/dev/nats-hub-creds"`) {
		t.Errorf("creds must come from the env's Secrets Manager prefix: %s", es)
	}
	if strings.Contains(string(es), "SUAC") || strings.Contains(string(es), "BEGIN NATS") {
		t.Error("no creds material in the synthesized object")
	}
}
