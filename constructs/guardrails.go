package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// guardrails is an aspect that turns two costly mistakes into synth errors:
// a stack whose state would silently live on one laptop, and a taggable AWS
// resource that would be created without the tags cost reports and the
// policy checks rely on.
type guardrails struct{}

// AddGuardrails attaches the guardrail aspect to stack. Violations become
// error annotations, which make `cdktf synth` (and main) fail before any file
// is written to cdktf.out.
func AddGuardrails(stack cdktf.TerraformStack) {
	cdktf.Aspects_Of(stack).Add(&guardrails{})
}

// Visit implements cdktf.IAspect.
func (g *guardrails) Visit(node constructs.IConstruct) {
	switch {
	case *cdktf.TerraformStack_IsStack(node):
		g.checkBackend(node.(cdktf.TerraformStack))
	case *cdktf.TerraformResource_IsTerraformResource(node):
		g.checkTags(node.(cdktf.TerraformResource))
	}
}

func (g *guardrails) checkBackend(stack cdktf.TerraformStack) {
	var kinds []string
	for _, child := range *stack.Node().Children() {
		if !*cdktf.TerraformBackend_IsBackend(child) {
			continue
		}
		kind, _ := backendOf(child.(cdktf.TerraformBackend))
		kinds = append(kinds, kind)
		if kind != "s3" {
			errorOn(stack, "stack %s has a %s backend and would keep its state on this machine; call constructs.NewRemoteBackend for it", *stack.Node().Id(), kind)
		}
	}
	if len(kinds) == 0 {
		errorOn(stack, "stack %s has no backend; call constructs.NewRemoteBackend for it", *stack.Node().Id())
	}
}

// backendOf returns the backend type ("s3", "local", ...) and its settings.
func backendOf(b cdktf.TerraformBackend) (string, map[string]any) {
	tf, _ := b.ToTerraform().(map[string]any)
	terraform, _ := tf["terraform"].(map[string]any)
	backend, _ := terraform["backend"].(map[string]any)
	for kind, v := range backend {
		settings, _ := v.(map[string]any)
		return kind, settings
	}
	return "", nil
}

// taggable matches every generated AWS resource that has a tags argument.
type taggable interface {
	TagsInput() *map[string]*string
}

func (g *guardrails) checkTags(res cdktf.TerraformResource) {
	if !strings.HasPrefix(*res.TerraformResourceType(), "aws_") {
		return
	}
	t, ok := res.(taggable)
	if !ok {
		return
	}
	effective := providerDefaultTags(res)
	if own := t.TagsInput(); own != nil {
		for k, v := range *own {
			if v == nil {
				effective[k] = ""
				continue
			}
			effective[k] = *v
		}
	}
	if missing := MissingTags(effective); len(missing) > 0 {
		errorOn(res, "%s %s would be created without required tag(s) %s; give its provider default_tags (constructs.NewAwsProvider) or tag it",
			*res.TerraformResourceType(), *res.Node().Path(), strings.Join(missing, ", "))
	}
}

// providerDefaultTags returns the default_tags of the provider that manages
// res: its explicit provider, else the stack's un-aliased AWS provider.
func providerDefaultTags(res cdktf.TerraformResource) map[string]string {
	out := map[string]string{}
	p := res.Provider()
	if p == nil {
		for _, candidate := range *cdktf.TerraformStack_Of(res).AllProviders() {
			if *candidate.TerraformResourceType() == "aws" && candidate.Alias() == nil {
				p = candidate
			}
		}
	}
	if p == nil {
		return out
	}
	tf, _ := p.ToTerraform().(map[string]any)
	providers, _ := tf["provider"].(map[string]any)
	blocks, _ := providers["aws"].([]any)
	for _, b := range blocks {
		block, _ := b.(map[string]any)
		dts, _ := block["default_tags"].([]any)
		for _, dt := range dts {
			m, _ := dt.(map[string]any)
			tags, _ := m["tags"].(map[string]any)
			for k, v := range tags {
				s, _ := v.(string)
				out[k] = s
			}
		}
	}
	return out
}

func errorOn(node constructs.IConstruct, format string, args ...any) {
	cdktf.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(format, args...)))
}
