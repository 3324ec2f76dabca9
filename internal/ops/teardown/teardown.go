// Package teardown removes a non-production environment in the guide's
// cleanup order ("Rollback / Cleanup (Non-Production)"): Helm releases,
// namespaces, the CloudFront distribution (disable, wait, delete with the
// ETag), every object version of the buckets, then `cdktf destroy` of the
// stacks in reverse deploy order. Every step is idempotent and recorded in
// a progress file, so an interrupted run resumes where it stopped.
package teardown

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// Helm uninstalls releases (the helm CLI in real use).
type Helm interface {
	// Uninstall removes release from ns; a release that does not exist is
	// not an error.
	Uninstall(ctx context.Context, ns, release string) error
}

// CDKTF destroys stacks (the cdktf CLI in real use).
type CDKTF interface {
	Destroy(ctx context.Context, stackID string) error
}

// Deps are what teardown acts on.
type Deps struct {
	Helm       Helm
	Kube       kubernetes.Interface
	CloudFront CloudFrontAPI
	S3         S3API
	CDKTF      CDKTF
	Out        io.Writer
	Wait       wait.Options
	// Timeout bounds each wait (namespace deletion, CloudFront deploy).
	Timeout time.Duration
}

// Options are the operator's choices.
type Options struct {
	// Confirm must equal the env name (typed back).
	Confirm string
	// IncludeState also destroys the state stack (bucket and lock table).
	IncludeState bool
	DryRun       bool
	// BreakGlass allows prod, for an audited emergency (with Confirm "prod").
	BreakGlass bool
	// ProgressFile records finished steps; empty disables resuming.
	ProgressFile string
}

// Step is one idempotent action.
type Step struct {
	Name string
	Run  func(ctx context.Context) error
}

// ErrRefused is a teardown the safety rules forbid.
var ErrRefused = errors.New("refused")

// Check applies the safety rules before anything happens.
func Check(cfg *envs.Config, o Options) error {
	if cfg.IsProd() && !o.BreakGlass && !o.DryRun {
		return fmt.Errorf("%w: spctl does not tear down prod: remove a prod resource by changing its stack and deploying through review (docs/spctl-teardown.md); in an audited emergency only, add --break-glass --confirm prod", ErrRefused)
	}
	if !o.DryRun && o.Confirm != cfg.Env {
		return fmt.Errorf("%w: type the env name back to confirm: --confirm %s (or look first with --dry-run)", ErrRefused, cfg.Env)
	}
	return nil
}

// Plan returns the steps for cfg's environment, in order.
func Plan(cfg *envs.Config, d Deps, o Options) []Step {
	n := naming.New(cfg.Org, cfg.Env, cfg.Region)
	var steps []Step
	helm := func(ns, release string) {
		steps = append(steps, Step{Name: "helm uninstall " + ns + "/" + release, Run: func(ctx context.Context) error { return d.Helm.Uninstall(ctx, ns, release) }})
	}
	for _, svc := range cfg.CICD.Services {
		helm(workloadNamespace(svc), svc)
	}
	for _, r := range []string{obs.KubePrometheusRelease, obs.LokiRelease, obs.TempoRelease, obs.AlloyRelease, obs.CollectorRelease} {
		helm(obs.Namespace, r)
	}
	if cfg.Edge.Enabled {
		helm(naming.NamespaceNATS, naming.ReleaseNATS)
	}
	// Namespaces go while the LB controller still runs, so it deletes the
	// ALBs/NLBs of their Ingresses and Services; removing the controller
	// first would orphan them and block the VPC's destroy.
	nsList := []string{naming.NamespaceServices, naming.NamespaceMarketplace, obs.Namespace}
	if cfg.Marketplace.Enabled {
		nsList = append(nsList, naming.NamespaceProvenance)
	}
	if cfg.Edge.Enabled {
		nsList = append(nsList, naming.NamespaceEdge, naming.NamespaceNATS, naming.NamespacePresigner, naming.NamespaceEnrollment)
	}
	for _, ns := range nsList {
		steps = append(steps, Step{Name: "delete namespace " + ns, Run: func(ctx context.Context) error { return deleteNamespace(ctx, d, ns) }})
	}
	// cert-manager goes once the namespaces holding Certificates are gone:
	// approver-policy and the issuer first (each with its own webhook or
	// controller), then cert-manager (whose uninstall also removes its
	// admission webhooks, which would otherwise reject changes to
	// cert-manager objects with no pod behind them). The CRDs stay (crds.keep
	// and the issuer chart's crds/ directory), so `cdktf destroy` of the edge
	// stack can still delete the issuers and approval policies it manages.
	helm(naming.NamespaceCertManager, naming.ReleaseApproverPolicy)
	helm(naming.NamespaceCertManager, naming.ReleasePCAIssuer)
	helm(naming.NamespaceCertManager, naming.ReleaseCertManager)
	steps = append(steps, Step{Name: "delete namespace " + naming.NamespaceCertManager, Run: func(ctx context.Context) error {
		return deleteNamespace(ctx, d, naming.NamespaceCertManager)
	}})
	helm(naming.NamespaceLBC, naming.ReleaseLBC)
	steps = append(steps, Step{Name: "delete namespace " + naming.NamespaceLBC, Run: func(ctx context.Context) error { return deleteNamespace(ctx, d, naming.NamespaceLBC) }})

	steps = append(steps, Step{Name: "disable and delete CloudFront distribution " + cfg.CDN.Domain, Run: func(ctx context.Context) error {
		return DisableAndDeleteDistribution(ctx, d.Out, d.CloudFront, cfg.CDN.Domain, d.Timeout, d.Wait)
	}})
	buckets := dataBuckets(n, cfg)
	for _, b := range buckets {
		steps = append(steps, Step{Name: "empty bucket " + b, Run: func(ctx context.Context) error { _, err := EmptyBucket(ctx, d.Out, d.S3, b); return err }})
	}
	order := slices.Clone(naming.DeployOrder)
	slices.Reverse(order)
	for _, c := range order {
		if c == naming.ComponentState && !o.IncludeState || c == naming.ComponentEdge && !cfg.Edge.Enabled {
			continue
		}
		id := n.StackID(c)
		steps = append(steps, Step{Name: "cdktf destroy " + id, Run: func(ctx context.Context) error {
			// Access logs keep arriving until the sources are gone: empty
			// a stack's buckets again right before destroying it.
			for _, b := range stackBuckets(n, c) {
				if _, err := EmptyBucket(ctx, d.Out, d.S3, b); err != nil {
					return err
				}
			}
			return d.CDKTF.Destroy(ctx, id)
		}})
	}
	return steps
}

func dataBuckets(n naming.Names, cfg *envs.Config) []string {
	var out []string
	for _, k := range naming.DataBucketKinds {
		out = append(out, n.DataBucket(k))
	}
	if cfg.Edge.Enabled {
		for _, k := range naming.EdgeBucketKinds {
			out = append(out, n.DataBucket(k))
		}
	}
	return out
}

func stackBuckets(n naming.Names, component string) []string {
	switch component {
	case naming.ComponentStorage:
		var out []string
		for _, k := range naming.DataBucketKinds {
			out = append(out, n.DataBucket(k))
		}
		return out
	case naming.ComponentEdge:
		return []string{n.DataBucket("dtn")}
	}
	return nil
}

func deleteNamespace(ctx context.Context, d Deps, ns string) error {
	err := d.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		fmt.Fprintf(d.Out, "  namespace %s: already gone\n", ns)
		return nil
	}
	if err != nil {
		return err
	}
	return wait.Until(ctx, d.Out, "namespace "+ns+" deleted", d.Timeout, d.Wait, func(ctx context.Context) (bool, string, error) {
		got, err := d.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "gone", nil
		}
		if err != nil {
			return false, "", err
		}
		return false, string(got.Status.Phase), nil
	})
}

// progress is the resume record.
type progress struct {
	Env  string   `json:"env"`
	Done []string `json:"done"`
}

func readProgress(path, env string) (*progress, error) {
	p := &progress{Env: env}
	if path == "" {
		return p, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to start over; every step is safe to repeat)", path, err)
	}
	if p.Env != env {
		return nil, fmt.Errorf("%s records a teardown of %q, not %q", path, p.Env, env)
	}
	return p, nil
}

func (p *progress) save(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(p, "", "  ")
	return os.WriteFile(path, raw, 0o644)
}

// StepStatus is one step and whether an earlier run finished it.
type StepStatus struct {
	Name string `json:"name"`
	Done bool   `json:"done"`
}

// Statuses reports each step as done (recorded in the progress file) or not.
func Statuses(env string, steps []Step, o Options) ([]StepStatus, error) {
	p, err := readProgress(o.ProgressFile, env)
	if err != nil {
		return nil, err
	}
	out := make([]StepStatus, len(steps))
	for i, s := range steps {
		out[i] = StepStatus{Name: s.Name, Done: slices.Contains(p.Done, s.Name)}
	}
	return out, nil
}

// Run executes the steps, skipping those the progress file marks done, and
// records each as it finishes. DryRun lists the steps and does nothing.
func Run(ctx context.Context, out io.Writer, env string, steps []Step, o Options) error {
	p, err := readProgress(o.ProgressFile, env)
	if err != nil {
		return err
	}
	for i, s := range steps {
		prefix := fmt.Sprintf("[%d/%d] %s", i+1, len(steps), s.Name)
		switch {
		case slices.Contains(p.Done, s.Name):
			fmt.Fprintf(out, "%s: done in an earlier run, skipped\n", prefix)
			continue
		case o.DryRun:
			fmt.Fprintf(out, "%s (dry run: nothing done)\n", prefix)
			continue
		}
		fmt.Fprintln(out, prefix)
		if err := s.Run(ctx); err != nil {
			return fmt.Errorf("%s: %w\nFix the cause and run the same command again: finished steps are skipped (%s)", s.Name, err, o.ProgressFile)
		}
		p.Done = append(p.Done, s.Name)
		if err := p.save(o.ProgressFile); err != nil {
			return err
		}
	}
	if !o.DryRun && o.ProgressFile != "" {
		fmt.Fprintf(out, "teardown of %s complete; progress kept in %s\n", env, o.ProgressFile)
	}
	return nil
}

// InterruptGrace is how long an interrupted helm or cdktf (and the
// terraform it runs) may take to stop cleanly before it is killed.
var InterruptGrace = 2 * time.Minute

// HelmCLI runs the helm binary.
type HelmCLI struct{ Kubeconfig, Context string }

// Uninstall runs `helm uninstall --wait`; "not found" means already gone.
func (h HelmCLI) Uninstall(ctx context.Context, ns, release string) error {
	args := []string{"uninstall", release, "--namespace", ns, "--wait", "--timeout", "10m"}
	if h.Kubeconfig != "" {
		args = append(args, "--kubeconfig", h.Kubeconfig)
	}
	if h.Context != "" {
		args = append(args, "--kube-context", h.Context)
	}
	cmd := exec.CommandContext(ctx, "helm", args...)
	stopGroupOnCancel(cmd, InterruptGrace)
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "not found") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("helm %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// CDKTFCLI runs the project's pinned cdktf CLI from the repository root.
type CDKTFCLI struct {
	Dir string
	Out io.Writer
}

// Destroy runs `npx --no-install cdktf destroy <stack> --auto-approve`.
func (c CDKTFCLI) Destroy(ctx context.Context, stackID string) error {
	cmd := exec.CommandContext(ctx, "npx", "--no-install", "cdktf", "destroy", stackID, "--auto-approve")
	stopGroupOnCancel(cmd, InterruptGrace)
	cmd.Dir, cmd.Stdout, cmd.Stderr = c.Dir, c.Out, c.Out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cdktf destroy %s: %w", stackID, err)
	}
	return nil
}

// workloadNamespace is where a service's release lives: a privileged
// workload in the namespace the infra stacks install it into, any other
// service where its workflow does.
func workloadNamespace(svc string) string {
	switch svc {
	case "nats-auth":
		return naming.NamespaceNATS
	case "device-enrollment":
		return naming.NamespaceEnrollment
	case "provenance-gate":
		return naming.NamespaceProvenance
	}
	return naming.ServiceNamespace(svc)
}
