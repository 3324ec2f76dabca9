package tests

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Columns of docs/recovery.md's table.
const (
	colRPO = iota + 2
	colBack
	colRTO
	colRestore
	colSetting
)

// figure is text a cell of one row must hold, derived from cdktf.out.
type figure struct {
	row    string // first cell, e.g. "`packs` bucket"
	col    int
	want   string
	prefix bool // the cell must start with want
	why    string
}

// recoveryRows reads the table: first cell -> cells.
func recoveryRows(doc string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| `") && !strings.HasPrefix(line, "| Terraform") && !strings.HasPrefix(line, "| NATS") &&
			!strings.HasPrefix(line, "| KMS") && !strings.HasPrefix(line, "| private CA") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		rows[strings.TrimSpace(cells[0])] = cells
	}
	return rows
}

var space = regexp.MustCompile(`\s+`)

// checkRecoveryDoc returns every figure the doc does not state as the
// synthesized stacks have it, and every sentence of the "not recoverable"
// list whose number disagrees.
func checkRecoveryDoc(doc string, figs []figure, sentences []string) []string {
	rows := recoveryRows(doc)
	var problems []string
	for _, f := range figs {
		cells, ok := rows[f.row]
		if !ok {
			problems = append(problems, fmt.Sprintf("no row %q", f.row))
			continue
		}
		if f.col >= len(cells) {
			problems = append(problems, fmt.Sprintf("row %q has %d cells", f.row, len(cells)))
			continue
		}
		cell := cells[f.col]
		if (f.prefix && !strings.HasPrefix(cell, f.want)) || (!f.prefix && !strings.Contains(cell, f.want)) {
			problems = append(problems, fmt.Sprintf("%s, column %d: want %q (%s), the doc says %q", f.row, f.col+1, f.want, f.why, cell))
		}
	}
	flat := space.ReplaceAllString(doc, " ")
	for _, s := range sentences {
		if !strings.Contains(flat, s) {
			problems = append(problems, fmt.Sprintf("the doc does not say %q", s))
		}
	}
	return problems
}

// recoveryFacts derives, from prod's synthesized stacks, each figure
// docs/recovery.md states.
func recoveryFacts(t *testing.T) ([]figure, []string) {
	cfg, err := envs.Load("prod", envs.Overrides{})
	require.NoError(t, err)
	n := naming.New(cfg.Org, cfg.Env, cfg.Region)
	storage, state := stack(t, "prod-storage").Doc, stack(t, "prod-state").Doc
	var figs []figure
	add := func(row string, col int, want, why string, prefix bool) {
		figs = append(figs, figure{row, col, want, prefix, why})
	}
	days := func(r gjson.Result) string { return fmt.Sprintf("%d days", r.Int()) }

	// Versioned buckets: RPO 0 needs versioning on; the window is the
	// noncurrent expiry; "minutes" needs noncurrent classes readable at once.
	instant := map[string]bool{"STANDARD_IA": true, "GLACIER_IR": true, "ONEZONE_IA": true}
	bucket := func(row string, doc gjson.Result, name string) gjson.Result {
		status := bucketResource(t, doc, "aws_s3_bucket_versioning", name).Get("versioning_configuration.0.status").String()
		if status == "" {
			status = bucketResource(t, doc, "aws_s3_bucket_versioning", name).Get("versioning_configuration.status").String()
		}
		require.Equal(t, "Enabled", status, name)
		add(row, colRPO, "0: every write is kept as a version", "versioning Enabled", true)
		rule := bucketLifecycle(t, doc, name)
		add(row, colBack, days(rule.Get("noncurrent_version_expiration.0.noncurrent_days")), "noncurrent_days of "+name, true)
		add(row, colSetting, fmt.Sprintf("`noncurrent_days` %d", rule.Get("noncurrent_version_expiration.0.noncurrent_days").Int()), "the setting named", false)
		for _, tr := range rule.Get("noncurrent_version_transition").Array() {
			class := tr.Get("storage_class").String()
			require.True(t, instant[class], "%s moves old versions to %s, which must be thawed before a copy: the RTO is no longer minutes", name, class)
			add(row, colSetting, "`"+class+"`", "a noncurrent class", false)
		}
		add(row, colRTO, "minutes", "old versions read at once", true)
		return rule
	}
	bucket("`packs` bucket", storage, n.DataBucket("packs"))
	bucket("`stac` bucket", storage, n.DataBucket("stac"))
	bucket("`loki` bucket (chunks, index)", storage, n.DataBucket("loki"))
	bucket("`tempo` bucket (trace blocks)", storage, n.DataBucket("tempo"))

	// What is not yet flushed: copies on writers/ingesters.
	obsDoc := stack(t, "prod-observability").Doc
	_, loki := releaseValues(t, obsDoc, "loki")
	lw := lokiWritePath(t, loki)
	add("`loki` bucket (chunks, index)", colRPO, fmt.Sprintf("held by %d copies on %d writers in %d AZs", lw.replicationFactor, lw.replicas, len(cfg.Network.AZs)), "Loki write path", false)
	add("`loki` bucket (chunks, index)", colSetting, fmt.Sprintf("Loki `replication_factor` %d", lw.replicationFactor), "the setting named", false)
	_, tempo := releaseValues(t, obsDoc, "tempo")
	tw := tempoWritePath(t, tempo)
	add("`tempo` bucket (trace blocks)", colRPO, fmt.Sprintf("held by %d copies on %d ingesters in %d AZs", tw.replicationFactor, tw.replicas, len(cfg.Network.AZs)), "Tempo write path", false)
	add("`tempo` bucket (trace blocks)", colSetting, fmt.Sprintf("ingester `replication_factor` %d", tw.replicationFactor), "the setting named", false)

	// Tables: PITR on, and its period.
	var period int64
	var tables []gjson.Result
	for _, id := range []string{"prod-edge", "prod-marketplace"} {
		tables = append(tables, resources(stack(t, id).Doc, "aws_dynamodb_table")...)
	}
	for _, tbl := range tables {
		row := map[string]string{n.BeaconTable(): "`beacons` table", n.DeviceLedgerTable(): "`device-ledger` table",
			n.DevicesTable(): "`devices` table", n.EntitlementsTable(): "`entitlements` table"}[tbl.Get("name").String()]
		require.NotEmpty(t, row, tbl.Get("name").String())
		pitr := tbl.Get("point_in_time_recovery")
		if pitr.IsArray() {
			pitr = pitr.Get("0")
		}
		require.True(t, pitr.Get("enabled").Bool(), row)
		period = pitr.Get("recovery_period_in_days").Int()
		add(row, colBack, fmt.Sprintf("%d days", period), "recovery_period_in_days", true)
		add(row, colSetting, fmt.Sprintf("`recovery_period_in_days` %d", period), "the setting named", false)
	}

	// Vault copies: a daily schedule is an RPO of 24 hours.
	plan := resources(state, "aws_backup_plan")
	require.Len(t, plan, 1)
	rule := plan[0].Get("rule.0")
	schedule := rule.Get("schedule").String()
	require.Regexp(t, `^cron\(\d+ \d+ \* \* \? \*\)$`, schedule, "a daily schedule; change the doc's 24 hours with it")
	keep := rule.Get("lifecycle.delete_after").Int()
	require.Equal(t, keep, rule.Get("copy_action.0.lifecycle.delete_after").Int())
	copyRegion := ""
	for _, p := range state.Get("provider.aws").Array() {
		if p.Get("alias").String() == "backup_copy" {
			copyRegion = p.Get("region").String()
		}
	}
	for _, row := range []string{"`packs` bucket, vault copy", "`beacons` table, vault copy", "`device-ledger` table, vault copy",
		"`devices` table, vault copy", "`entitlements` table, vault copy"} {
		add(row, colRPO, "24 hours", "daily schedule "+schedule, true)
		add(row, colBack, fmt.Sprintf("%d days", keep), "delete_after", true)
		add(row, colBack, "two regions", "a copy action", false)
	}
	add("`packs` bucket, vault copy", colSetting, "schedule `"+schedule+"`", "the setting named", false)
	add("`packs` bucket, vault copy", colSetting, fmt.Sprintf("`delete_after` %d", keep), "the setting named", false)
	add("`packs` bucket, vault copy", colBack, copyRegion, "copy region", false)

	// State: its bucket's history.
	stateRule := bucketLifecycle(t, state, n.StateBucket())
	add("Terraform state", colBack, days(stateRule.Get("noncurrent_version_expiration.0.noncurrent_days")), "state bucket noncurrent_days", true)

	// NATS: stream copies.
	streams := configMap(t, stack(t, "prod-edge").Doc, "edge-streams")
	replicas := gjson.Parse(streams.Get("data." + gjson.Escape("EDGE.json")).String()).Get("num_replicas").Int()
	add("NATS JetStream streams", colRPO, fmt.Sprintf("0: each stream keeps %d copies on %d servers", replicas, replicas), "num_replicas", true)

	// KMS: the shortest deletion window of any prod key.
	minWindow := int64(0)
	for _, id := range []string{"prod-state", "prod-network", "prod-cluster", "prod-cicd", "prod-storage", "prod-identity", "prod-cdn", "prod-edge", "prod-marketplace"} {
		for _, k := range resources(stack(t, id).Doc, "aws_kms_key") {
			if w := k.Get("deletion_window_in_days").Int(); minWindow == 0 || w < minWindow {
				minWindow = w
			}
		}
	}
	add("KMS keys", colBack, fmt.Sprintf("%d days", minWindow), "deletion_window_in_days", true)

	// Private CA: its permanent deletion window, prod and dev.
	for env, col := range map[string]int{"prod": colBack, "dev": colSetting} {
		cas := resources(stack(t, env+"-identity").Doc, "aws_acmpca_certificate_authority")
		require.NotEmpty(t, cas)
		w := cas[0].Get("permanent_deletion_time_in_days").Int()
		want := fmt.Sprintf("%d days", w)
		if env == "dev" {
			want = fmt.Sprintf("dev %d", w)
		}
		add("private CA", col, want, env+" permanent_deletion_time_in_days", col == colBack)
	}

	// The "not recoverable" list repeats some of the same numbers.
	packsDays := bucketLifecycle(t, storage, n.DataBucket("packs")).Get("noncurrent_version_expiration.0.noncurrent_days").Int()
	lokiDays := bucketLifecycle(t, storage, n.DataBucket("loki")).Get("noncurrent_version_expiration.0.noncurrent_days").Int()
	var lokiValues map[string]any
	r, _ := releaseValues(t, obsDoc, "loki")
	require.NoError(t, yaml.Unmarshal([]byte(r.Get("values.0").String()), &lokiValues))
	sentences := []string{
		fmt.Sprintf("Object versions older than %d days", packsDays),
		fmt.Sprintf("state versions older than %d days", stateRule.Get("noncurrent_version_expiration.0.noncurrent_days").Int()),
		fmt.Sprintf("A table state older than %d days", period),
		fmt.Sprintf("deleted more than %d days ago has no version left", lokiDays),
		fmt.Sprintf("%d days in prod; Tempo: %d days", cfg.Observability.LokiRetentionDays, 7),
		fmt.Sprintf("(`prometheusRetention` %s days)", strings.TrimSuffix(cfg.Observability.PrometheusRetention, "d")),
	}
	return figs, sentences
}

// GIVEN the synthesized prod stacks WHEN docs/recovery.md is read THEN each
// RPO, window and RTO it states is the one the settings give.
func TestRecoveryDocMatchesTheSynthesizedConfig(t *testing.T) {
	raw, err := os.ReadFile("../docs/recovery.md")
	require.NoError(t, err)
	figs, sentences := recoveryFacts(t)
	assert.Empty(t, checkRecoveryDoc(string(raw), figs, sentences))
	assert.GreaterOrEqual(t, len(figs), 40, "every row is checked")
}

// GIVEN the doc with one figure changed WHEN checked THEN the check names
// the row, the column and the setting: the test can fail.
func TestRecoveryDocCheckCatchesAWrongFigure(t *testing.T) {
	raw, err := os.ReadFile("../docs/recovery.md")
	require.NoError(t, err)
	figs, sentences := recoveryFacts(t)
	for name, edit := range map[string]func(string) string{
		"packs window": func(s string) string { return strings.Replace(s, "| 365 days |", "| 180 days |", 1) },
		"vault RPO": func(s string) string {
			return strings.Replace(s, "| 24 hours: one recovery point a day |", "| 1 hour |", 1)
		},
		"PITR window": func(s string) string {
			return strings.Replace(s, "`recovery_period_in_days` 35 |", "`recovery_period_in_days` 7 |", 1)
		},
		"state history": func(s string) string {
			return strings.Replace(s, "versions older than 90 days", "versions older than 30 days", 1)
		},
		"loki copies": func(s string) string {
			return strings.Replace(s, "held by 3 copies on 3 writers", "held by 2 copies on 3 writers", 1)
		},
		"a row removed": func(s string) string { return strings.Replace(s, "| KMS keys |", "| keys |", 1) },
	} {
		changed := edit(string(raw))
		require.NotEqual(t, string(raw), changed, name)
		assert.NotEmpty(t, checkRecoveryDoc(changed, figs, sentences), name)
	}
}
