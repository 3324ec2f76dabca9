package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// runValidate runs `terraform init -backend=false` and `terraform validate`
// in every synthesized stack whose providers the mirror holds. Stacks that
// need a provider it lacks are listed with the reason, never passed.
func runValidate(args []string) error {
	fs := newFlags("validate")
	out := fs.String("out", "cdktf.out", "synthesized output to validate")
	_ = fs.Parse(args)

	tc, reason, err := setup(true)
	if err != nil {
		return err
	}
	if reason != "" {
		return skipped("validate", reason)
	}
	dirs, err := filepath.Glob(filepath.Join(*out, "stacks", "*"))
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("no stacks under %s/stacks: run `make synth` first", *out)
	}
	sort.Strings(dirs)
	fmt.Printf("validate: terraform %s, providers from %s (%s)\n", tc.version, tc.mirror.Dir, tc.mirror.Describe())

	var failed, notValidated []string
	validated := 0
	for _, dir := range dirs {
		st, err := terraform.ReadStack(dir)
		if err != nil {
			return err
		}
		if missing := st.Missing(tc.mirror); len(missing) > 0 {
			notValidated = append(notValidated, fmt.Sprintf("%s (needs %s)", st.ID, strings.Join(missing, ", ")))
			continue
		}
		start := time.Now()
		step := terraform.Step{Stack: st.ID, Phase: "validate", OK: true}
		ctx, cancel := context.WithTimeout(runCtx, 5*time.Minute)
		if _, _, err := tc.runner.Run(ctx, dir, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
			step.OK, step.Detail = false, err.Error()
		} else if vout, _, err := tc.runner.Run(ctx, dir, "validate", "-no-color"); err != nil {
			step.OK, step.Detail = false, err.Error()
		} else if w := terraform.Warnings(vout); len(w) > 0 {
			step.OK, step.Detail = false, "warnings: "+strings.Join(w, "; ")
		} else {
			step.Detail = "configuration is valid"
		}
		cancel()
		step.Took = time.Since(start)
		step.Print(stdout)
		if !step.OK {
			failed = append(failed, st.ID+":\n"+step.Detail)
			continue
		}
		validated++
	}
	fmt.Printf("validate: %d stack(s) valid, %d failed, %d not validated\n", validated, len(failed), len(notValidated))
	for _, nv := range notValidated {
		fmt.Printf("  not validated: %s: not in the mirror at %s (the infra workflows plan it with registry providers)\n", nv, tc.mirror.Dir)
	}
	if len(failed) > 0 {
		return fmt.Errorf("terraform validate failed:\n%s", strings.Join(failed, "\n"))
	}
	return nil
}
