// Package tests holds the app-level checks: golden snapshots of every stack
// of every environment, policy-as-code over the synthesized JSON, wiring
// between stacks, and the command-line behaviour of the app.
package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/tfjson"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// synthesized is one stack's Terraform JSON as CDKTF wrote it.
type synthesized struct {
	ID  string // e.g. dev-network
	Env string
	Raw []byte
	Doc gjson.Result
}

var (
	synthOnce   sync.Once
	synthStacks []synthesized
	synthDir    string
	synthErr    error
)

// allStacks synthesizes every environment once per test binary, through a
// real app synth, exactly as `make synth` does.
func allStacks(t *testing.T) []synthesized {
	t.Helper()
	synthOnce.Do(func() { synthStacks, synthDir, synthErr = synthAll() })
	if synthErr != nil {
		t.Fatalf("synth failed: %v", synthErr)
	}
	return synthStacks
}

func synthAll() (out []synthesized, dir string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	cfgs, err := envs.LoadSelected(envs.Overrides{})
	if err != nil {
		return nil, "", err
	}
	dir, err = os.MkdirTemp("", "spatialprops-synth-")
	if err != nil {
		return nil, "", err
	}
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(dir), StackTraces: jsii.Bool(false)})
	for _, cfg := range cfgs {
		if _, err := stacks.NewEnvironment(app, cfg); err != nil {
			return nil, dir, err
		}
	}
	if err := stacks.NewGitHubStack(app, cfgs); err != nil {
		return nil, dir, err
	}
	app.Synth()
	ids, err := filepath.Glob(filepath.Join(dir, "stacks", "*"))
	if err != nil {
		return nil, dir, err
	}
	sort.Strings(ids)
	for _, path := range ids {
		raw, err := os.ReadFile(filepath.Join(path, "cdk.tf.json"))
		if err != nil {
			return nil, dir, err
		}
		id := filepath.Base(path)
		var env string
		for _, e := range envs.Order {
			if len(id) > len(e) && id[:len(e)+1] == e+"-" {
				env = e
			}
		}
		out = append(out, synthesized{ID: id, Env: env, Raw: raw, Doc: gjson.ParseBytes(raw)})
	}
	return out, dir, nil
}

// stack returns one synthesized stack by id.
func stack(t *testing.T, id string) synthesized {
	t.Helper()
	for _, s := range allStacks(t) {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("stack %s was not synthesized", id)
	return synthesized{}
}

// resources returns every resource of type typ in doc.
func resources(doc gjson.Result, typ string) []gjson.Result { return tfjson.Resources(doc, typ) }

// normalize strips CDKTF's "//" metadata (construct paths, versions) and
// re-indents with sorted keys, so golden files change only when
// infrastructure does.
func normalize(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	// No HTML escaping: ">= 5.99.1" should read as written in the review.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(stripMeta(v))
	return buf.Bytes(), err
}

func stripMeta(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "//")
		for k, c := range x {
			x[k] = stripMeta(c)
		}
	case []any:
		for i, c := range x {
			x[i] = stripMeta(c)
		}
	}
	return v
}

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
