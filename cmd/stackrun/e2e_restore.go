package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// buildSpctl builds the operator CLI once for the verify and restore steps.
func (e *e2e) buildSpctl() error {
	out, err := exec.Command("go", "build", "-o", e.path("spctl"), "./cmd/spctl").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/spctl: %v\n%s", err, out)
	}
	return nil
}

// spctl runs the operator CLI against the emulator and returns its
// combined output and exit code.
func (e *e2e) spctl(ctx context.Context, args ...string) (string, int) {
	cmd := exec.CommandContext(ctx, e.path("spctl"), args...)
	cmd.Env = e.tfEnv
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		return out.String() + err.Error(), -1
	}
	return out.String(), 0
}

// objectFixture is a few objects of one bucket: two are damaged after the
// restore time (the first overwritten, the second deleted), one is added.
type objectFixture struct {
	kind, prefix string
	keys         []string
}

// The fixtures look like what each bucket holds: a pack's files (the
// contract's published/ layout), a Loki chunk and index file of the single
// tenant ("fake"), a Tempo block of "single-tenant".
var objectFixtures = []objectFixture{
	{"packs", "published/open/e2e-parcels/1/", []string{"parcels.pmtiles", "attestation.json"}},
	{"loki", "fake/", []string{"5d1e2f3a4b5c6d7e/18c0a1b2c3d:18c0a1b2c3e:1a2b3c4d", "index_20431/compactor-1765000000.tsdb.gz"}},
	{"tempo", "single-tenant/0f8e1b7a-2c34-4d5e-9f60-718293a4b5c6/", []string{"data.parquet", "meta.json"}},
}

// tableFixture is a few items of one table, and what happens to them.
type tableFixture struct {
	which     string // restore.Tables key
	items     map[string]string
	deleted   string // deleted after the restore time; must come back
	changed   string // overwritten after it; back only with overwrite
	overwrite bool
	added     string // written after it; must stay
}

var tableFixtures = []tableFixture{
	{which: "beacons", overwrite: true,
		items: map[string]string{
			"b1": `{"venueId":{"S":"perth-1"},"beaconId":{"S":"b1"},"packetPointer":{"S":"p/1"}}`,
			"b2": `{"venueId":{"S":"perth-1"},"beaconId":{"S":"b2"},"packetPointer":{"S":"p/2"}}`,
		},
		deleted: "b1", changed: "b2", added: `{"venueId":{"S":"perth-1"},"beaconId":{"S":"b3"},"packetPointer":{"S":"p/3"}}`},
	{which: "device-ledger",
		items: map[string]string{
			"s1": `{"serial":{"S":"s1"},"device":{"S":"d1"},"cohort":{"S":"c1"},"revoked":{"BOOL":false}}`,
			"s2": `{"serial":{"S":"s2"},"device":{"S":"d2"},"cohort":{"S":"c1"},"revoked":{"BOOL":false}}`,
		},
		deleted: "s1", changed: "s2", added: `{"serial":{"S":"s3"},"device":{"S":"d3"},"cohort":{"S":"c1"},"revoked":{"BOOL":false}}`},
}

// restores damages data in every store the deploy created after a noted
// time, runs the matching `spctl restore` and checks the data came back:
// objects in the packs, loki and tempo buckets, items of the beacons and
// device-ledger tables, and the storage stack's state file.
func (e *e2e) restores(ctx context.Context) error {
	storage, ok := e.stackByID(e.env + "-storage")
	if !ok {
		return errors.New("no storage stack to restore in")
	}
	n := naming.New("spatialprops", e.env, "ap-southeast-2")
	if err := e.readNames(&n); err != nil {
		return err
	}
	edge := terraform.Stack{ID: e.env + "-edge"}
	var tables map[string]string
	var createdTables []string
	if err := e.do(edge, "fixture", func() (string, error) {
		var err error
		tables, createdTables, err = e.tableFixtures(n)
		return describeTables(tables, createdTables), err
	}); err != nil {
		return err
	}
	var at time.Time
	if err := e.do(terraform.Stack{ID: e.env}, "damage", func() (string, error) {
		if err := e.writeFixtures(n, tables); err != nil {
			return "", err
		}
		time.Sleep(1100 * time.Millisecond) // S3 versions carry whole seconds
		at = time.Now().UTC()
		time.Sleep(1100 * time.Millisecond)
		if err := e.damage(n, tables); err != nil {
			return "", err
		}
		return fmt.Sprintf("fixtures written, time noted (%s), then objects overwritten and deleted, items deleted and changed, newer ones added",
			at.Format(time.RFC3339)), nil
	}); err != nil {
		return err
	}
	to := at.Format(time.RFC3339)
	// The five restores touch different stores: run them side by side.
	var jobs []job
	for _, f := range objectFixtures {
		jobs = append(jobs, job{storage, func() (string, error) { return e.restoreObjects(ctx, n, f, to) }})
	}
	for _, f := range tableFixtures {
		jobs = append(jobs, job{edge, func() (string, error) { return e.restoreTable(ctx, tables[f.which], f, at) }})
	}
	if err := e.doAll("restore", jobs); err != nil {
		return err
	}
	// Only the tables this run made itself go; the edge stack's stay
	// for the re-plan and its destroy.
	for _, name := range createdTables {
		if err := e.aws(nil, "dynamodb", "delete-table", "--table-name", name); err != nil {
			return err
		}
	}
	return e.do(storage, "restore", func() (string, error) { return e.restoreState(ctx, storage) })
}

// job is one step of doAll.
type job struct {
	st terraform.Stack
	f  func() (string, error)
}

// doAll runs independent steps at the same time and records them in the
// order given, each with its own time; it returns the first failure.
func (e *e2e) doAll(phase string, jobs []job) error {
	steps := make([]terraform.Step, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			detail, err := j.f()
			steps[i] = terraform.Step{Stack: j.st.ID, Phase: phase, Took: time.Since(start), OK: err == nil, Detail: detail}
			if err != nil {
				steps[i].Detail = err.Error()
			}
		}()
	}
	wg.Wait()
	var errs []error
	for _, s := range steps {
		e.add(s)
		if !s.OK {
			errs = append(errs, fmt.Errorf("%s %s: %s", s.Stack, phase, s.Detail))
		}
	}
	return errors.Join(errs...)
}

func (e *e2e) stackByID(id string) (terraform.Stack, bool) {
	for _, st := range e.stacks {
		if st.ID == id {
			return st, true
		}
	}
	return terraform.Stack{}, false
}

// readNames takes the org and region from the state stack's backend
// (tfstate-<org>-<env>-<region>), so the names follow the synthesized env.
func (e *e2e) readNames(n *naming.Names) error {
	bucket, _, err := backendOf(e.stacks[0])
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(bucket, "tfstate-")
	org, region, ok2 := strings.Cut(rest, "-"+e.env+"-")
	if !ok || !ok2 {
		return fmt.Errorf("state bucket %q is not tfstate-<org>-%s-<region>", bucket, e.env)
	}
	*n = naming.New(org, e.env, region)
	return nil
}

// tableDef is the part of a synthesized aws_dynamodb_table the fixture uses.
type tableDef struct {
	Name      string `json:"name"`
	HashKey   string `json:"hash_key"`
	RangeKey  string `json:"range_key"`
	Attribute []struct{ Name, Type string }
	GSI       []struct {
		Name           string `json:"name"`
		HashKey        string `json:"hash_key"`
		ProjectionType string `json:"projection_type"`
	} `json:"global_secondary_index"`
	TTL struct {
		AttributeName string `json:"attribute_name"`
	} `json:"ttl"`
}

// tableFixtures makes sure the two tables exist with PITR on. The edge
// stack also holds Kubernetes objects, so the emulated deploy does not
// apply it: a table it has not created is created here from the edge
// stack's synthesized definition (keys, index, TTL; not its KMS key).
func (e *e2e) tableFixtures(n naming.Names) (map[string]string, []string, error) {
	raw, err := os.ReadFile(e.path(filepath.Join("synth", "stacks", e.env+"-edge", "cdk.tf.json")))
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Resource struct {
			Tables map[string]tableDef `json:"aws_dynamodb_table"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, err
	}
	out := map[string]string{"beacons": n.BeaconTable(), "device-ledger": n.DeviceLedgerTable()}
	var created []string
	for _, name := range out {
		if e.aws(nil, "dynamodb", "describe-table", "--table-name", name) == nil {
			continue // the deploy created it
		}
		var def *tableDef
		for _, t := range doc.Resource.Tables {
			if t.Name == name {
				def = &t
				break
			}
		}
		if def == nil {
			return nil, nil, fmt.Errorf("%s-edge defines no table %s", e.env, name)
		}
		created = append(created, name)
		args := []string{"dynamodb", "create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST"}
		attrs, keys := []string{}, []string{"AttributeName=" + def.HashKey + ",KeyType=HASH"}
		for _, a := range def.Attribute {
			attrs = append(attrs, "AttributeName="+a.Name+",AttributeType="+a.Type)
		}
		if def.RangeKey != "" {
			keys = append(keys, "AttributeName="+def.RangeKey+",KeyType=RANGE")
		}
		args = append(append(append(args, "--attribute-definitions"), attrs...), append([]string{"--key-schema"}, keys...)...)
		if len(def.GSI) > 0 {
			gsi, _ := json.Marshal([]map[string]any{{
				"IndexName": def.GSI[0].Name, "KeySchema": []map[string]string{{"AttributeName": def.GSI[0].HashKey, "KeyType": "HASH"}},
				"Projection": map[string]string{"ProjectionType": def.GSI[0].ProjectionType},
			}})
			args = append(args, "--global-secondary-indexes", string(gsi))
		}
		if err := e.aws(nil, args...); err != nil {
			return nil, nil, err
		}
		if def.TTL.AttributeName != "" {
			if err := e.aws(nil, "dynamodb", "update-time-to-live", "--table-name", name,
				"--time-to-live-specification", "Enabled=true,AttributeName="+def.TTL.AttributeName); err != nil {
				return nil, nil, err
			}
		}
		if err := e.aws(nil, "dynamodb", "update-continuous-backups", "--table-name", name,
			"--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true"); err != nil {
			return nil, nil, err
		}
	}
	return out, created, nil
}

func describeTables(t map[string]string, created []string) string {
	var names []string
	for _, n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(created) == 0 {
		return "the edge stack's tables, with PITR as deployed: " + strings.Join(names, ", ")
	}
	sort.Strings(created)
	return "tables with PITR: " + strings.Join(names, ", ") + "; created from the synthesized edge stack (not deployed here): " + strings.Join(created, ", ")
}

func (e *e2e) putObject(bucket, key, body string) error {
	f := e.path(filepath.Join("fixtures", strings.ReplaceAll(key, "/", "_")))
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		return err
	}
	return e.aws(nil, "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", f)
}

func (e *e2e) getObject(bucket, key string) (string, error) {
	f := e.path(filepath.Join("fixtures", "got-"+strings.ReplaceAll(bucket+"/"+key, "/", "_")))
	if err := e.aws(nil, "s3api", "get-object", "--bucket", bucket, "--key", key, f); err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return "", nil
		}
		return "", err
	}
	b, err := os.ReadFile(f)
	return string(b), err
}

func fixtureBody(kind, key string) string { return "e2e " + kind + " " + key }

// writeFixtures writes the objects and items as they should be restored.
func (e *e2e) writeFixtures(n naming.Names, tables map[string]string) error {
	for _, f := range objectFixtures {
		for _, k := range f.keys {
			if err := e.putObject(n.DataBucket(f.kind), f.prefix+k, fixtureBody(f.kind, k)); err != nil {
				return err
			}
		}
	}
	for _, f := range tableFixtures {
		for _, item := range f.items {
			if err := e.aws(nil, "dynamodb", "put-item", "--table-name", tables[f.which], "--item", item); err != nil {
				return err
			}
		}
	}
	return nil
}

// damage is the accident: overwrite, delete, and a write that must survive.
func (e *e2e) damage(n naming.Names, tables map[string]string) error {
	for _, f := range objectFixtures {
		b := n.DataBucket(f.kind)
		if err := e.putObject(b, f.prefix+f.keys[0], "corrupted"); err != nil {
			return err
		}
		if err := e.aws(nil, "s3api", "delete-object", "--bucket", b, "--key", f.prefix+f.keys[1]); err != nil {
			return err
		}
		if err := e.putObject(b, f.prefix+"written-later", "newer"); err != nil {
			return err
		}
	}
	for _, f := range tableFixtures {
		t := tables[f.which]
		if err := e.aws(nil, "dynamodb", "delete-item", "--table-name", t, "--key", keyJSON(f.which, f.items[f.deleted])); err != nil {
			return err
		}
		changed := strings.Replace(f.items[f.changed], `"d2"`, `"d2-reassigned"`, 1)
		changed = strings.Replace(changed, `"p/2"`, `"p/overwritten"`, 1)
		if err := e.aws(nil, "dynamodb", "put-item", "--table-name", t, "--item", changed); err != nil {
			return err
		}
		if err := e.aws(nil, "dynamodb", "put-item", "--table-name", t, "--item", f.added); err != nil {
			return err
		}
	}
	return nil
}

// keyJSON keeps an item's key attributes (hash and range of the table).
func keyJSON(which, item string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(item), &m)
	keep := map[string][]string{"beacons": {"venueId", "beaconId"}, "device-ledger": {"serial"}}[which]
	k := map[string]any{}
	for _, a := range keep {
		k[a] = m[a]
	}
	b, _ := json.Marshal(k)
	return string(b)
}

func (e *e2e) restoreObjects(ctx context.Context, n naming.Names, f objectFixture, to string) (string, error) {
	out, code := e.spctl(ctx, "restore", "objects", "--env", e.env, "--bucket", f.kind, "--prefix", f.prefix, "--to", to, "--confirm", e.env)
	if code != 0 {
		return "", fmt.Errorf("spctl restore objects --bucket %s exited %d:\n%s", f.kind, code, out)
	}
	b := n.DataBucket(f.kind)
	for _, k := range f.keys {
		got, err := e.getObject(b, f.prefix+k)
		if err != nil {
			return "", err
		}
		if got != fixtureBody(f.kind, k) {
			return "", fmt.Errorf("%s/%s%s is %q after the restore", f.kind, f.prefix, k, got)
		}
	}
	if got, err := e.getObject(b, f.prefix+"written-later"); err != nil || got != "newer" {
		return "", fmt.Errorf("the object written after %s is gone (%q, %v)", to, got, err)
	}
	again, code := e.spctl(ctx, "restore", "objects", "--env", e.env, "--bucket", f.kind, "--prefix", f.prefix, "--to", to, "--dry-run")
	if code != 0 || !strings.Contains(again, ": 0 to restore") {
		return "", fmt.Errorf("a second run would restore again:\n%s", again)
	}
	return fmt.Sprintf("%s: 1 deleted and 1 overwritten object back as of %s, the newer one kept; a rerun has nothing to do", f.kind, to), nil
}

func (e *e2e) restoreTable(ctx context.Context, table string, f tableFixture, at time.Time) (string, error) {
	args := []string{"restore", "table", "--env", e.env, "--table", f.which, "--to", at.Format(time.RFC3339), "--confirm", e.env, "--timeout", "2m"}
	if f.overwrite {
		args = append(args, "--overwrite")
	}
	out, code := e.spctl(ctx, args...)
	if code != 0 {
		return "", fmt.Errorf("spctl restore table --table %s exited %d:\n%s", f.which, code, out)
	}
	item := func(src string) (string, error) {
		var got struct{ Item map[string]any }
		if err := e.aws(&got, "dynamodb", "get-item", "--table-name", table, "--key", keyJSON(f.which, src)); err != nil {
			return "", err
		}
		b, _ := json.Marshal(got.Item)
		return string(b), nil
	}
	same := func(a, b string) bool {
		var x, y any
		_ = json.Unmarshal([]byte(a), &x)
		_ = json.Unmarshal([]byte(b), &y)
		return fmt.Sprint(x) == fmt.Sprint(y)
	}
	if got, err := item(f.items[f.deleted]); err != nil || !same(got, f.items[f.deleted]) {
		return "", fmt.Errorf("deleted item %s did not come back (%s, %v)", f.deleted, got, err)
	}
	got, err := item(f.items[f.changed])
	if err != nil {
		return "", err
	}
	if f.overwrite != same(got, f.items[f.changed]) {
		return "", fmt.Errorf("changed item %s is %s (overwrite %v)", f.changed, got, f.overwrite)
	}
	if got, err := item(f.added); err != nil || !same(got, f.added) {
		return "", fmt.Errorf("the item written after the restore time is gone (%s, %v)", got, err)
	}
	changed := "the changed item kept (no --overwrite)"
	if f.overwrite {
		changed = "the changed item back (--overwrite)"
	}
	return fmt.Sprintf("%s: PITR to a new table, copied back: the deleted item back, %s, the newer item kept", f.which, changed), nil
}

// restoreState loses a resource from the stack's state (as a bad apply or
// a wrong `state rm` would), then restores the previous state version: the
// plan wants to create it again before the restore and nothing after.
func (e *e2e) restoreState(ctx context.Context, st terraform.Stack) (string, error) {
	list, _, err := e.tc.runner.Run(ctx, st.Dir, "state", "list")
	if err != nil {
		return "", err
	}
	var addr string
	for _, a := range strings.Fields(list) {
		if strings.HasPrefix(a, "aws_s3_bucket_cors_configuration.") {
			addr = a
		}
	}
	if addr == "" {
		return "", errors.New("no CORS configuration in the storage state to lose")
	}
	if _, _, err := e.tc.runner.Run(ctx, st.Dir, "state", "rm", "-no-color", addr); err != nil {
		return "", err
	}
	if _, code, _ := e.tc.runner.Run(ctx, st.Dir, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 2 {
		return "", fmt.Errorf("after state rm %s the plan exited %d, not 2 (changes)", addr, code)
	}
	out, code := e.spctl(ctx, "restore", "state", "--env", e.env, "--stack", st.ID, "--confirm", e.env)
	if code != 0 {
		return "", fmt.Errorf("spctl restore state exited %d:\n%s", code, out)
	}
	if plan, code, _ := e.tc.runner.Run(ctx, st.Dir, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		return "", fmt.Errorf("after the restore the plan exited %d:\n%s", code, planChanges(plan))
	}
	return fmt.Sprintf("state: lost %s, restored the previous state version under the lock; plan clean again", addr), nil
}
