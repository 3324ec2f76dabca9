package e2e

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// ownSeries are the prefixes of the series the walking skeletons export;
// the rest an edge rule reads (certmanager_*) comes from cert-manager.
var ownSeries = regexp.MustCompile(`^(edge|provenance|marketplace|device|cdn|dtn|beacons|billing)_`)

var seriesRef = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[|\))`)

type rule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

// edgeRules reads the edge alert rules the observability stack loads.
func edgeRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile("../../stacks/observability/rules/edge.rules.yaml")
	require.NoError(t, err)
	var doc struct {
		Groups []struct{ Rules []rule } `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	var out []rule
	for _, g := range doc.Groups {
		out = append(out, g.Rules...)
	}
	require.NotEmpty(t, out)
	return out
}

// series lists the services' series names an expression reads.
func series(expr string) []string {
	var out []string
	for _, m := range seriesRef.FindAllStringSubmatch(expr, -1) {
		if ownSeries.MatchString(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// checkAlertSeries: every series an edge alert reads is one the running
// services export (a renamed metric would silently disable its alert), and
// every such series has an absent() rule (a service that stops exporting
// must not look healthy). It runs inside TestEdgeScenario, on its services.
func checkAlertSeries(t *testing.T, x *world) {
	exported := map[string]bool{}
	for name, svc := range x.svc {
		code, body := kittest.Get(svc.ops + "/metrics")
		require.Equal(t, 200, code, name)
		for _, line := range strings.Split(body, "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			n := line[:strings.IndexAny(line, "{ ")]
			exported[strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count")] = true
		}
	}
	absent := map[string]bool{}
	read := map[string][]string{}
	for _, r := range edgeRules(t) {
		if m := regexp.MustCompile(`^absent\(([a-z_]+)\)$`).FindStringSubmatch(strings.TrimSpace(r.Expr)); m != nil {
			absent[m[1]] = true
			continue
		}
		for _, s := range series(r.Expr) {
			read[s] = append(read[s], r.Alert)
		}
	}
	require.NotEmpty(t, read, "the rules must read the services' series")
	names := make([]string, 0, len(read))
	for s := range read {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		assert.True(t, exported[s], "%v read %s, which no service exports", read[s], s)
		assert.True(t, absent[s], "%v read %s, which has no absent() rule", read[s], s)
	}
	for s := range absent {
		assert.True(t, exported[s], "absent(%s) watches a series no service exports: it would always fire", s)
	}
	t.Logf("alert series exported and guarded by absent(): %v", names)
}
