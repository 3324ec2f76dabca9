package synth

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// listStacks builds the app, which runs every construct's props checks,
// and returns its stack ids in deploy order. It never synthesizes: the app
// points at a throwaway folder that is removed again, so the real output
// (and Terraform's working state in it) is never touched.
func listStacks(build func(app constructs.Construct) error) (ids []string, err error) {
	scratch, err := os.MkdirTemp("", "spatialprops-list-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	defer func() {
		if r := recover(); r != nil {
			ids, err = nil, fmt.Errorf("%v", r)
		}
	}()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(filepath.Join(scratch, "cdktf.out")), StackTraces: jsii.Bool(false)})
	if err := build(app); err != nil {
		return nil, err
	}
	for _, c := range *app.Node().Children() {
		if *cdktf.TerraformStack_IsStack(c) {
			ids = append(ids, *c.Node().Id())
		}
	}
	return deployOrder(ids), nil
}
