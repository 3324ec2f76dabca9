package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// OverrideFile is the Terraform override file bootstrap writes into the
// state stack's directory while the bucket that will hold its state does
// not exist yet. Terraform merges *_override.tf.json over cdk.tf.json.
const OverrideFile = "backend_override.tf.json"

// Bootstrap brings the state stack in dir onto its own S3 backend, the way
// the well-known tfstate-backend modules do:
//
//  1. first run: apply with a local-backend override (localState), then
//     remove the override and `terraform init -migrate-state` into the
//     bucket just created, then delete the local copy;
//  2. an interrupted first run (local state left behind) resumes at 1;
//  3. later runs: the state is already in the bucket, so it is a plain
//     init + apply that reports what changed (usually nothing).
//
// Every step prints one progress line to w and is returned for summaries.
func Bootstrap(ctx context.Context, r *Runner, dir, localState string, w io.Writer) ([]Step, error) {
	id := filepath.Base(dir)
	var steps []Step
	step := func(phase string, f func() (string, error)) error {
		start := time.Now()
		detail, err := f()
		s := Step{Stack: id, Phase: phase, Took: time.Since(start), OK: err == nil, Detail: detail}
		if err != nil {
			s.Detail = err.Error()
		}
		s.Print(w)
		steps = append(steps, s)
		return err
	}
	override := filepath.Join(dir, OverrideFile)
	_ = os.Remove(override) // a leftover from an interrupted run; re-created below if needed

	if !hasResources(localState) {
		var remoteOK bool
		if err := step("init", func() (string, error) {
			out, _, err := r.Run(ctx, dir, "init", "-input=false", "-reconfigure", "-no-color")
			switch {
			case err == nil:
				remoteOK = true
				return "state is already in its bucket", nil
			case bucketMissing(out):
				return "no state bucket yet: bootstrapping with local state", nil
			default:
				return "", err
			}
		}); err != nil {
			return steps, err
		}
		if remoteOK {
			err := step("apply", func() (string, error) { return apply(ctx, r, dir) })
			return steps, err
		}
	}

	// First run, or a resumed one: apply with local state, then migrate.
	if err := os.MkdirAll(filepath.Dir(localState), 0o755); err != nil {
		return steps, err
	}
	body, _ := json.Marshal(map[string]any{"terraform": map[string]any{"backend": map[string]any{"local": map[string]any{"path": localState}}}})
	if err := os.WriteFile(override, body, 0o644); err != nil {
		return steps, err
	}
	if err := step("init", func() (string, error) {
		_, _, err := r.Run(ctx, dir, "init", "-input=false", "-reconfigure", "-no-color")
		return "local backend " + localState, err
	}); err != nil {
		return steps, err
	}
	if err := step("apply", func() (string, error) { return apply(ctx, r, dir) }); err != nil {
		return steps, err
	}
	if err := os.Remove(override); err != nil {
		return steps, err
	}
	if err := step("migrate", func() (string, error) {
		if _, _, err := r.Run(ctx, dir, "init", "-input=false", "-migrate-state", "-force-copy", "-no-color"); err != nil {
			return "", err
		}
		out, _, err := r.Run(ctx, dir, "state", "list", "-no-color")
		if err != nil {
			return "", err
		}
		n := len(strings.Fields(out))
		if n == 0 {
			return "", fmt.Errorf("after migration the bucket holds no state for %s; the local copy %s is kept", id, localState)
		}
		_ = os.Remove(localState)
		_ = os.Remove(localState + ".backup")
		return fmt.Sprintf("state (%d addresses) now in the S3 backend; local copy removed", n), nil
	}); err != nil {
		return steps, err
	}
	return steps, nil
}

var applySummary = regexp.MustCompile(`Resources: (\d+) added, (\d+) changed, (\d+) destroyed`)

// apply runs terraform apply and returns its resource summary.
func apply(ctx context.Context, r *Runner, dir string) (string, error) {
	out, _, err := r.Run(ctx, dir, "apply", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		return "", err
	}
	if m := applySummary.FindStringSubmatch(out); m != nil && (m[1] != "0" || m[2] != "0" || m[3] != "0") {
		return fmt.Sprintf("%s added, %s changed, %s destroyed", m[1], m[2], m[3]), nil
	}
	return "no changes", nil
}

// Apply is apply for callers outside the package.
func Apply(ctx context.Context, r *Runner, dir string) (string, error) { return apply(ctx, r, dir) }

// bucketMissing recognises the S3 backend's answer when the state bucket
// does not exist (yet).
func bucketMissing(out string) bool {
	return strings.Contains(out, "NoSuchBucket") || strings.Contains(out, "does not exist")
}

// hasResources reports whether a local state file holds any resource.
func hasResources(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var st struct {
		Resources []json.RawMessage `json:"resources"`
	}
	return json.Unmarshal(raw, &st) == nil && len(st.Resources) > 0
}
