package verify

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// awsOnly keeps the checks AWS alone answers (no cluster, no CDN fetch).
var awsOnly = map[string]bool{
	"e1.1/cluster-active": true, "e1.1/irsa": true, "e1.3/distribution": true, "e1.3/oac": true, "e1.3/certificate": true,
	"e1.4/ecr": true, "e1.4/github-oidc": true, "e1.4/image-pushed": true, "edge/dtn-queue": true,
	"identity/ca": true, "identity/service-ca": true, "identity/pki-private": true, "identity/pki-encryption": true, "edge/beacon-table": true,
	"market/billing-queue": true, "market/provenance-key": true, "market/publish-gate": true,
}

func runAWS(t *testing.T, b breakage) map[string]Result {
	cfg := opstest.Env(t, "dev")
	c := newClients(t)
	buildEnv(t, c, cfg, b)
	var checks []Check
	for _, ch := range Checks(cfg, c.deps()) {
		if awsOnly[ch.ID] || strings.HasPrefix(ch.ID, "e1.2/") {
			checks = append(checks, ch)
		}
	}
	rep := Run(context.Background(), cfg.Env, checks)
	out := map[string]Result{}
	for _, r := range rep.Results {
		out[r.ID] = r
	}
	return out
}

// GIVEN an env built the way the stacks build it WHEN verified THEN every
// AWS check passes (a check that fails on a good env is noise at 3 a.m.).
func TestAWSChecksPassOnCompliantEnv(t *testing.T) {
	res := runAWS(t, breakage{})
	require.Len(t, res, len(awsOnly)+17, "5 checks per bucket, CORS on the two asset buckets")
	for id, r := range res {
		assert.True(t, r.OK, "%s: %s", id, r.Detail)
	}
}

// GIVEN an env with one mistake per resource WHEN verified THEN each
// mistake fails its own check with a reason naming it and a fix, and the
// untouched checks still pass.
func TestAWSChecksReportEachBrokenItem(t *testing.T) {
	res := runAWS(t, breakage{
		unversioned: "packs", noCors: "stac", noLifecycle: "logs", noScan: "frontend", globalOrigin: true,
		bigQueue: true, wrongRepoSub: true, noImage: true, expiringCertD: 5,
		caNoOCSP: true, beaconNoTTL: true, billingNoDLQ: true, symmetricProv: true, noPublishDeny: true,
	})
	want := map[string]string{
		"e1.2/packs/versioning": "versioning is never enabled",
		"e1.2/stac/cors":        "no CORS configuration",
		"e1.2/logs/lifecycle":   "no lifecycle configuration",
		"e1.4/ecr":              "/frontend: scan on push is off",
		"e1.3/oac":              "no origin is the regional packs endpoint",
		"edge/dtn-queue":        "accepts 262144-byte messages",
		"e1.4/github-oidc":      "does not trust exactly its own workflow on main",
		"e1.4/image-pushed":     "has no tagged image",
		"e1.3/certificate":      "expires in",
		"identity/ca":           "OCSP off",
		"edge/beacon-table":     "TTL is not enabled on expiresAt",
		"market/billing-queue":  "no dead-letter queue",
		"market/provenance-key": "want ECC_NIST_P256/SIGN_VERIFY",
		"market/publish-gate":   "no Deny of s3:PutObject on published/*",
	}
	for id, reason := range want {
		r, ok := res[id]
		require.True(t, ok, id)
		assert.False(t, r.OK, "%s must fail", id)
		assert.Contains(t, r.Detail, reason, id)
		assert.NotEmpty(t, r.Fix, "%s: a failure always carries a fix", id)
	}
	assert.Contains(t, res["e1.3/oac"].Fix, "regional endpoint <bucket>.s3.<region>.amazonaws.com", "the guide's 403 pitfall is the fix")
	assert.Contains(t, res["e1.4/github-oidc"].Fix, "repo:ORG/REPO:ref:refs/heads/BRANCH", "the guide's OIDC pitfall is the fix")
	for _, id := range []string{"e1.2/packs/encryption", "e1.2/stac/versioning", "e1.2/packs/cors", "e1.1/irsa", "e1.3/distribution", "identity/pki-private"} {
		assert.True(t, res[id].OK, "%s was not broken: %s", id, res[id].Detail)
	}
}

// GIVEN subordinate CAs the PKI ceremony never signed WHEN verified THEN
// each CA check fails on its status, not on a missing CA, and names the
// ceremony as the fix.
func TestPendingCAsFail(t *testing.T) {
	res := runAWS(t, breakage{pendingCA: true, pendingSvcCA: true})
	for _, id := range []string{"identity/ca", "identity/service-ca"} {
		assert.False(t, res[id].OK, id)
		assert.Contains(t, res[id].Detail, "status PENDING_CERTIFICATE", id)
		assert.Contains(t, res[id].Fix, "spctl pki ceremony --env dev", id)
	}
}

// GIVEN a dev device CA in general-purpose mode (dev's is short-lived:
// 7-day certificates) WHEN verified THEN the device CA check names the mode.
func TestDeviceCAInTheWrongModeFails(t *testing.T) {
	res := runAWS(t, breakage{deviceCAMode: "GENERAL_PURPOSE"})
	assert.False(t, res["identity/ca"].OK)
	assert.Contains(t, res["identity/ca"].Detail, "usage mode GENERAL_PURPOSE, want SHORT_LIVED_CERTIFICATE")
	assert.True(t, res["identity/service-ca"].OK, res["identity/service-ca"].Detail)
}

// GIVEN no cluster of that name WHEN verified THEN the cluster checks fail
// with the cluster's name instead of crashing.
func TestMissingClusterIsAFailure(t *testing.T) {
	cfg := opstest.Env(t, "dev")
	c := newClients(t)
	rep := Run(context.Background(), "dev", []Check{Checks(cfg, Deps{EKS: c.eks, Now: time.Now})[0]})
	require.Equal(t, 1, rep.Failed)
	assert.Contains(t, rep.Results[0].Detail, cfg.Org+"-dev-eks")
}
