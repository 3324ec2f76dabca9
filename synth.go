package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/stacks"
)

// outdir is where the cdktf CLI asked us to write (CDKTF_OUTDIR), or the
// cdktf.json default.
func outdir() string {
	if d := os.Getenv("CDKTF_OUTDIR"); d != "" {
		return d
	}
	return "cdktf.out"
}

// synthesize builds the app into a staging directory next to dir and swaps
// it into place only when every stack synthesized cleanly, so a failure
// (bad props, a guardrail error) never leaves a half-written cdktf.out.
// It returns the stack ids written, in deploy order.
func synthesize(dir string, build func(app constructs.Construct) error) (written []string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".staging-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
		if err != nil {
			os.RemoveAll(stage)
		}
	}()

	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(stage), StackTraces: jsii.Bool(false)})
	if err := build(app); err != nil {
		return nil, err
	}
	app.Synth()

	written, err = stackIDs(stage)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(abs); err != nil {
		return nil, err
	}
	return written, os.Rename(stage, abs)
}

// stackIDs reads the manifest CDKTF wrote and orders its stacks the way
// they are deployed: by environment, then by component.
func stackIDs(dir string) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Stacks map[string]json.RawMessage `json:"stacks"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(manifest.Stacks))
	for id := range manifest.Stacks {
		ids = append(ids, id)
	}
	rank := func(id string) (int, int) {
		env, component, _ := strings.Cut(id, "-")
		return slices.Index([]string{"dev", "staging", "prod"}, env), slices.Index(stacks.DeployOrder, component)
	}
	slices.SortFunc(ids, func(a, b string) int {
		ea, ca := rank(a)
		eb, cb := rank(b)
		if ea != eb {
			return ea - eb
		}
		if ca != cb {
			return ca - cb
		}
		return strings.Compare(a, b)
	})
	return ids, nil
}
