package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spatialprops/spatialprops-infra/internal/emulator"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// e2e is one emulated deploy: its work directory, the emulator, and the
// steps taken so far (for the summary).
type e2e struct {
	env, work string
	tc        *toolchain
	tfEnv     []string
	steps     []terraform.Step
	stacks    []terraform.Stack // AWS-side stacks in deploy order, state first
	deps      map[string][]string
	mu        sync.Mutex // guards steps: stacks apply and destroy concurrently
}

// runE2E synthesizes the env into .e2e/<env>/synth, copies it, adapts the
// copy to moto (internal/emulator), then applies every AWS-side stack in
// deploy order (interrupting the network stack's apply and converging,
// e2e_interrupt.go), runs every `spctl restore` on what was deployed
// (e2e_restore.go), proves a second plan is empty, proves the state stack
// refuses destruction, destroys the rest in reverse order and checks that
// nothing they created is left.
func runE2E(args []string) error {
	fs := newFlags("e2e")
	env := fs.String("env", "dev", "environment to deploy")
	keep := fs.Bool("keep", false, "leave moto running and the work directory in place for inspection")
	_ = fs.Parse(args)

	tc, reason, err := setup(true)
	if err != nil {
		return err
	}
	if reason != "" {
		return skipped("e2e", reason)
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		return skipped("e2e", "moto_server is not on PATH (python package moto[server])")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		return skipped("e2e", "the aws CLI is not on PATH")
	}
	work := absPath(filepath.Join(".e2e", *env))
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	e := &e2e{env: *env, work: work, tc: tc}
	total := time.Now()
	fmt.Printf("e2e: emulated deploy of %s with terraform %s, providers from %s (%s); log in %s\n",
		*env, tc.version, tc.mirror.Dir, tc.mirror.Describe(), e.path("terraform.log"))

	if err := e.prepare(); err != nil {
		return err
	}
	server, err := e.startEmulator()
	if err != nil {
		return err
	}
	if !*keep {
		defer server.Stop()
	} else {
		fmt.Printf("e2e: -keep: moto stays up at %s (AWS_CA_BUNDLE=%s)\n", server.URL, e.path("cert.pem"))
	}
	runErr := e.run()
	e.summary(time.Since(total), runErr)
	if runErr != nil {
		return fmt.Errorf("%w\n(full terraform output: %s)", runErr, e.path("terraform.log"))
	}
	return nil
}

func (e *e2e) path(name string) string { return filepath.Join(e.work, name) }

// callLog is where a terraform command's debug log goes: the commands a
// deploy runs (init, plan, apply) log every AWS request into
// calls/<stack>.log, which checkCalls evaluates for the infra deploy role;
// a destroy (a person's teardown, never CI's) logs into
// calls/<stack>.destroy.log; an operator's commands (state, force-unlock)
// are not recorded.
func (e *e2e) callLog(dir string, args []string) string {
	if len(args) == 0 {
		return ""
	}
	switch args[0] {
	case "init", "plan", "apply":
		return e.path(filepath.Join("calls", filepath.Base(dir)+".log"))
	case "destroy":
		return e.path(filepath.Join("calls", filepath.Base(dir)+".destroy.log"))
	}
	return ""
}

// prepare synthesizes the env, copies its AWS-side stacks and adapts them.
func (e *e2e) prepare() error {
	synthDir := e.path("synth")
	start := time.Now()
	cmd := exec.Command("go", "run", ".")
	cmd.Env = append(os.Environ(), "ENV="+e.env, "CDKTF_OUTDIR="+synthDir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("synth of %s failed: %v\n%s", e.env, err, errOut.String())
	}
	var order []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "synthesized "); ok {
			order = append(order, id)
		}
	}
	deps, err := readDependencies(filepath.Join(synthDir, "manifest.json"))
	if err != nil {
		return err
	}
	e.deps = deps
	var skippedStacks []string
	changes := map[string]int{}
	for _, id := range order {
		st, err := terraform.ReadStack(filepath.Join(synthDir, "stacks", id))
		if err != nil {
			return err
		}
		// The adapted copy is what runs: the kubernetes-half adaptation
		// leaves only the AWS half and its provider, so every stack's AWS
		// resources are applied.
		dst := e.path(filepath.Join("stacks", id))
		ch, err := copyAdapted(st.Dir, dst)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		adapted, err := terraform.ReadStack(dst)
		if err != nil {
			return err
		}
		if missing := adapted.Missing(e.tc.mirror); len(missing) > 0 {
			skippedStacks = append(skippedStacks, fmt.Sprintf("%s (needs %s)", id, strings.Join(missing, ", ")))
			continue
		}
		for _, c := range ch {
			changes[c.Adaptation]++
		}
		adapted.ID = st.ID
		e.stacks = append(e.stacks, adapted)
	}
	if len(e.stacks) == 0 || !strings.HasSuffix(e.stacks[0].ID, "-state") {
		return fmt.Errorf("synth of %s produced no state stack first (got %v)", e.env, order)
	}
	if err := e.buildSpctl(); err != nil {
		return err
	}
	e.add(terraform.Step{Stack: e.env, Phase: "synth", Took: time.Since(start), OK: true,
		Detail: fmt.Sprintf("%d AWS-side stacks copied to %s; adaptations: %s; spctl built", len(e.stacks), e.path("stacks"), describeChanges(changes))})
	for _, s := range skippedStacks {
		fmt.Printf("  not deployed: %s: its providers are not mirrored here\n", s)
	}
	return nil
}

// copyAdapted writes src's cdk.tf.json to dst with the emulator adaptations.
func copyAdapted(src, dst string) ([]emulator.Change, error) {
	raw, err := os.ReadFile(filepath.Join(src, "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	var doc emulator.Doc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	changes, err := emulator.Apply(doc)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	return changes, os.WriteFile(filepath.Join(dst, "cdk.tf.json"), out, 0o644)
}

func describeChanges(changes map[string]int) string {
	if len(changes) == 0 {
		return "none"
	}
	var parts []string
	for _, a := range emulator.Adaptations {
		if n := changes[a.Name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s x%d", a.Name, n))
		}
	}
	return strings.Join(parts, ", ")
}

// startEmulator starts moto with TLS on a certificate clients verify.
func (e *e2e) startEmulator() (*motoserver.Server, error) {
	start := time.Now()
	cert, key, err := emulator.WriteCertificate(e.work)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(e.path("moto.log"))
	if err != nil {
		return nil, err
	}
	patches, err := emulator.ServerPatches(e.path("moto-patches"))
	if err != nil {
		return nil, err
	}
	server, err := motoserver.Start(motoserver.Options{CertFile: cert, KeyFile: key, LoadManagedPolicies: true, Env: append(append([]string(nil), emulator.ServerEnv...), patches...), Log: logf})
	if err != nil {
		return nil, err
	}
	e.tfEnv = emulator.Env(e.tc.env, server.URL, cert, motoserver.Region)
	e.tfEnv = append(e.tfEnv, "TF_CLI_CONFIG_FILE="+cliConfigPath())
	transcript, err := os.Create(e.path("terraform.log"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.path("calls"), 0o755); err != nil {
		return nil, err
	}
	e.tc.runner = &terraform.Runner{Bin: e.tc.runner.Bin, Env: e.tfEnv, Transcript: transcript, DebugLog: e.callLog}
	e.add(terraform.Step{Stack: "moto_server", Phase: "start", Took: time.Since(start), OK: true, Detail: server.URL + " (TLS verified against " + cert + ")"})
	return server, nil
}

// run is the deploy itself; it stops at the first failure.
func (e *e2e) run() error {
	ctx, cancel := context.WithTimeout(runCtx, 45*time.Minute)
	defer cancel()
	if err := e.createZones(); err != nil {
		return err
	}
	state, rest := e.stacks[0], e.stacks[1:]
	local := e.path("bootstrap/" + state.ID + ".tfstate")
	steps, err := terraform.Bootstrap(ctx, e.tc.runner, state.Dir, local, stdout)
	e.steps = append(e.steps, steps...)
	if err != nil {
		return err
	}
	// A second bootstrap must find the state in its bucket and change
	// nothing: `make bootstrap` is documented as safe to repeat.
	steps, err = terraform.Bootstrap(ctx, e.tc.runner, state.Dir, local, stdout)
	e.steps = append(e.steps, steps...)
	if err != nil {
		return err
	}
	if last := steps[len(steps)-1]; last.Phase != "apply" || last.Detail != "no changes" {
		return fmt.Errorf("a repeated bootstrap of %s must be a no-op apply on the remote state, got %s: %s", state.ID, last.Phase, last.Detail)
	}
	// Each stack applies as soon as the stacks it depends on (manifest.json)
	// have: independent stacks (storage beside network and cluster, cdn
	// beside identity) overlap, as the infra workflow's could.
	if err := inOrder(rest, e.deps, false, func(st terraform.Stack) error {
		if err := e.do(st, "init", func() (string, error) {
			out, _, err := e.tc.runner.Run(ctx, st.Dir, "init", "-input=false", "-no-color")
			if err != nil {
				return "", err
			}
			// Init noise hides real warnings; the deprecated dynamodb_table
			// lock setting was one. Only the lock-file note that every
			// install from a one-platform mirror prints is expected.
			if w := unexpectedWarnings(out); len(w) > 0 {
				return "", fmt.Errorf("init warned: %s", strings.Join(w, "; "))
			}
			return "S3 backend in the emulator, no unexpected warnings", nil
		}); err != nil {
			return err
		}
		if st.ID == e.interruptedStack() {
			return e.interruptedApply(ctx, st)
		}
		if err := e.do(st, "apply", func() (string, error) { return terraform.Apply(ctx, e.tc.runner, st.Dir) }); err != nil {
			return err
		}
		// The identity stack leaves the device and service CAs waiting
		// for a certificate: the operator's PKI ceremony signs them with
		// the KMS root before the edge stack, which refuses to plan
		// until they are active (docs/edge-identity.md). Run it as an
		// operator would, then once more to show a rerun changes nothing.
		if st.ID == e.env+"-identity" {
			return e.do(st, "ceremony", func() (string, error) { return e.ceremony(ctx) })
		}
		return nil
	}); err != nil {
		return err
	}
	// Every restore, run on what was just deployed (e2e_restore.go).
	if err := e.restores(ctx); err != nil {
		return err
	}
	// A second plan of every stack must be empty: a perpetual diff would
	// make every CI plan noisy and every deploy a change. Every stack is
	// re-planned (and the teardown still runs) before a diff fails the run.
	var perpetual []error
	var pmu sync.Mutex
	sem := make(chan struct{}, 4) // four plans at a time: each loads the AWS provider
	_ = inOrder(e.stacks, nil, false, func(st terraform.Stack) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		if err := e.do(st, "replan", func() (string, error) {
			out, code, err := e.tc.runner.Run(ctx, st.Dir, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false")
			if code == 2 {
				return "", fmt.Errorf("second plan is not empty:\n%s", planChanges(out))
			}
			if err != nil {
				return "", err
			}
			return "no changes", nil
		}); err != nil {
			pmu.Lock()
			perpetual = append(perpetual, err)
			pmu.Unlock()
		}
		return nil
	})
	// Every AWS call the CI-deployed stacks made so far (init, apply, the
	// restores' plans, the second plans) must be allowed for the infra
	// deploy role by its real policies (e2e_calls.go). The teardown still
	// runs when one is not.
	if err := e.do(terraform.Stack{ID: e.env}, "iam-calls", e.checkCalls); err != nil {
		perpetual = append(perpetual, err)
	}
	// The operator's exit checklist, AWS side, against what was deployed.
	if err := e.do(terraform.Stack{ID: e.env}, "verify", func() (string, error) { return e.verify(ctx) }); err != nil {
		return err
	}
	// The state stack is protected in every env: Terraform must refuse.
	if err := e.do(state, "protect", func() (string, error) {
		out, _, err := e.tc.runner.Run(ctx, state.Dir, "plan", "-destroy", "-input=false", "-no-color", "-lock=false")
		if err == nil {
			return "", errors.New("terraform planned to destroy the state stack; prevent_destroy is missing")
		}
		if !strings.Contains(out, "prevent_destroy") {
			return "", err
		}
		return "destroy refused by prevent_destroy, as intended", nil
	}); err != nil {
		return err
	}
	// Destroyed in reverse: a stack goes once every stack that depends on
	// it has gone.
	if err := inOrder(rest, e.deps, true, func(st terraform.Stack) error {
		return e.do(st, "destroy", func() (string, error) { return e.destroy(ctx, st) })
	}); err != nil {
		return err
	}
	if err := e.do(terraform.Stack{ID: e.env}, "leftovers", e.leftovers); err != nil {
		return err
	}
	return errors.Join(perpetual...)
}

// mirrorLockWarning is what init says when providers come from a mirror
// holding one platform: the lock file then records that platform's hash only.
const mirrorLockWarning = "Incomplete lock file information for providers"

func unexpectedWarnings(out string) []string {
	var w []string
	for _, title := range terraform.Warnings(out) {
		if title != mirrorLockWarning {
			w = append(w, title)
		}
	}
	return w
}

// destroy empties the stack's buckets and destroys it. Deleting the packs
// and stac buckets writes access logs into the logs bucket of the same
// stack while Terraform works, so a BucketNotEmpty gets the buckets emptied
// again and the destroy retried, as an operator would.
func (e *e2e) destroy(ctx context.Context, st terraform.Stack) (string, error) {
	emptied, destroyed := 0, 0
	for attempt := 1; ; attempt++ {
		n, err := e.emptyBuckets(st)
		emptied += n
		if err != nil {
			return "", fmt.Errorf("emptying its buckets: %w", err)
		}
		out, _, err := e.tc.runner.Run(ctx, st.Dir, "destroy", "-auto-approve", "-input=false", "-no-color")
		destroyed += strings.Count(out, ": Destruction complete after")
		if err != nil && strings.Contains(out, "BucketNotEmpty") && attempt < 3 {
			continue
		}
		if err != nil {
			return "", err
		}
		summary := fmt.Sprintf("%d destroyed", destroyed)
		if emptied > 0 {
			summary += fmt.Sprintf(" (after deleting %d object versions and delete markers in %d pass(es))", emptied, attempt)
		}
		return summary, nil
	}
}

// do times one phase of one stack and records it.
func (e *e2e) do(st terraform.Stack, phase string, f func() (string, error)) error {
	start := time.Now()
	detail, err := f()
	s := terraform.Step{Stack: st.ID, Phase: phase, Took: time.Since(start), OK: err == nil, Detail: detail}
	if err != nil {
		s.Detail = err.Error()
	}
	e.add(s)
	if err != nil {
		return fmt.Errorf("%s %s: %w", st.ID, phase, err)
	}
	return nil
}

func (e *e2e) add(s terraform.Step) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s.Print(stdout)
	e.steps = append(e.steps, s)
}

// summary prints a table of every step and the time per stack.
func (e *e2e) summary(total time.Duration, runErr error) {
	fmt.Println()
	fmt.Println("e2e summary")
	fmt.Printf("%-20s %-9s %-6s %7s  %s\n", "STACK", "PHASE", "RESULT", "TIME", "DETAIL")
	perStack := map[string]time.Duration{}
	var order []string
	failed := 0
	for _, s := range e.steps {
		result := "ok"
		if !s.OK {
			result = "FAILED"
			failed++
		}
		fmt.Printf("%-20s %-9s %-6s %6.1fs  %s\n", s.Stack, s.Phase, result, s.Took.Seconds(), firstLine(s.Detail))
		if _, seen := perStack[s.Stack]; !seen {
			order = append(order, s.Stack)
		}
		perStack[s.Stack] += s.Took
	}
	var parts []string
	for _, id := range order {
		parts = append(parts, fmt.Sprintf("%s %.0fs", id, perStack[id].Seconds()))
	}
	fmt.Printf("per stack: %s\n", strings.Join(parts, ", "))
	verdict := "PASSED"
	if failed > 0 || runErr != nil {
		verdict = "FAILED"
	}
	fmt.Printf("e2e %s: %d steps, %d failed, %.0fs in all\n", verdict, len(e.steps), failed, total.Seconds())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// planChanges keeps the resource lines of a plan ("# x will be updated").
func planChanges(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if (strings.HasPrefix(t, "# ") && !strings.Contains(t, "(known after apply)") && !strings.HasPrefix(t, "# (")) ||
			strings.Contains(t, "# forces replacement") || strings.HasPrefix(t, "Plan:") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 40 {
		keep = append(keep[:40], "...")
	}
	return strings.Join(keep, "\n")
}

// ceremony runs `spctl pki ceremony` against the emulator, twice: the first
// signs the subordinate CAs, the second must keep them.
func (e *e2e) ceremony(ctx context.Context) (string, error) {
	out, code := e.spctl(ctx, "pki", "ceremony", "--env", e.env)
	if code != 0 {
		return "", fmt.Errorf("spctl pki ceremony exited %d:\n%s", code, out)
	}
	again, code := e.spctl(ctx, "pki", "ceremony", "--env", e.env)
	if code != 0 {
		return "", fmt.Errorf("a repeated spctl pki ceremony exited %d:\n%s", code, again)
	}
	if !strings.Contains(again, "signed []") {
		return "", fmt.Errorf("a repeated spctl pki ceremony must sign nothing:\n%s", again)
	}
	return lastLine(out) + "; a rerun signed nothing", nil
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
