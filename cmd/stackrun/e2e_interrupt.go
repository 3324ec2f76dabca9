package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// interruptAfter is how many resources the interrupted apply creates before
// it is stopped: enough that the rerun has state to refresh and work left.
const interruptAfter = 5

// interruptedStack is the stack whose first apply is interrupted.
func (e *e2e) interruptedStack() string { return e.env + "-network" }

// backendOf reads the stack's S3 backend: the state bucket and key.
func backendOf(st terraform.Stack) (bucket, key string, err error) {
	raw, err := os.ReadFile(filepath.Join(st.Dir, "cdk.tf.json"))
	if err != nil {
		return "", "", err
	}
	var doc struct {
		Terraform struct {
			Backend struct {
				S3 struct{ Bucket, Key string } `json:"s3"`
			} `json:"backend"`
		} `json:"terraform"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return "", "", err
	}
	return doc.Terraform.Backend.S3.Bucket, doc.Terraform.Backend.S3.Key, nil
}

// lockID returns the ID in the stack's lock object, or "" when there is none.
func (e *e2e) lockID(bucket, key string) (string, error) {
	path := e.path("lock.json")
	if err := e.aws(nil, "s3api", "get-object", "--bucket", bucket, "--key", key+".tflock", path); err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") || strings.Contains(err.Error(), "404") {
			return "", nil
		}
		return "", err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var l struct{ ID string }
	if err := json.Unmarshal(raw, &l); err != nil {
		return "", fmt.Errorf("lock object is not Terraform's: %s", raw)
	}
	return l.ID, nil
}

// interruptedApply applies st the way a cancelled CI job and a lost runner
// would, and proves the rerun converges:
//  1. SIGINT once some resources exist (CI cancellation and Ctrl-C send it):
//     Terraform stops the operations in flight (saving those it had started
//     as tainted), saves the state and releases the lock;
//  2. SIGKILL while the rerun holds the lock and refreshes (a runner that
//     vanished): nothing can release the lock;
//  3. the next apply stops at once on the lock and names it, and so does
//     `spctl restore state`; force-unlock with that ID releases it;
//  4. the last apply creates the rest; the replan phase then proves the
//     second plan is empty.
func (e *e2e) interruptedApply(ctx context.Context, st terraform.Stack) error {
	bucket, key, err := backendOf(st)
	if err != nil {
		return err
	}
	applyArgs := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	if err := e.do(st, "interrupt", func() (string, error) {
		var created atomic.Int32
		p, err := e.tc.runner.Start(ctx, st.Dir, func(p *terraform.Process, line string) {
			if strings.Contains(line, ": Creation complete after") && created.Add(1) == interruptAfter {
				_ = p.Signal(syscall.SIGINT)
			}
		}, applyArgs...)
		if err != nil {
			return "", err
		}
		out, _, err := p.Wait()
		if err == nil {
			return "", fmt.Errorf("the apply finished before it was interrupted (%d created)", created.Load())
		}
		if !strings.Contains(out, "Interrupt received") {
			return "", fmt.Errorf("terraform did not see the interrupt: %w", err)
		}
		id, err := e.lockID(bucket, key)
		if err != nil {
			return "", err
		}
		if id != "" {
			return "", fmt.Errorf("after SIGINT the lock %s is still held", id)
		}
		stateOut, _, err := e.tc.runner.Run(ctx, st.Dir, "state", "list")
		if err != nil {
			return "", err
		}
		saved := len(strings.Fields(stateOut))
		if saved < int(created.Load()) {
			return "", fmt.Errorf("%d resources were created but the state records %d", created.Load(), saved)
		}
		return fmt.Sprintf("SIGINT once %d resources were created: Terraform stopped with %d created, saved %d addresses in state (what it had started, tainted) and released the lock",
			interruptAfter, created.Load(), saved), nil
	}); err != nil {
		return err
	}

	var held string
	if err := e.do(st, "kill", func() (string, error) {
		// Refreshing comes after the lock is taken and before anything is
		// created, so the kill leaves a lock and no orphan.
		var killed atomic.Bool
		p, err := e.tc.runner.Start(ctx, st.Dir, func(p *terraform.Process, line string) {
			if strings.Contains(line, ": Refreshing state...") && !killed.Swap(true) {
				_ = p.Signal(syscall.SIGKILL)
			}
		}, applyArgs...)
		if err != nil {
			return "", err
		}
		out, _, _ := p.Wait()
		if strings.Contains(out, ": Creating...") {
			return "", fmt.Errorf("the apply was killed after it started creating:\n%s", terraform.Tail(out, 10))
		}
		id, err := e.lockID(bucket, key)
		if err != nil {
			return "", err
		}
		if id == "" {
			return "", fmt.Errorf("no lock left behind by the killed apply:\n%s", terraform.Tail(out, 10))
		}
		held = id
		return fmt.Sprintf("SIGKILL while refreshing: lock %s left in s3://%s/%s.tflock", id, bucket, key), nil
	}); err != nil {
		return err
	}

	if err := e.do(st, "locked", func() (string, error) {
		out, _, err := e.tc.runner.Run(ctx, st.Dir, append(applyArgs, "-lock-timeout=0s")...)
		if err == nil || !strings.Contains(out, "Error acquiring the state lock") || !strings.Contains(out, held) {
			return "", fmt.Errorf("the rerun did not stop on lock %s:\n%s", held, terraform.Tail(out, 15))
		}
		spctlOut, code := e.spctl(ctx, "restore", "state", "--env", e.env, "--stack", st.ID, "--confirm", e.env)
		if code != 1 || !strings.Contains(spctlOut, "the state is locked (ID "+held) {
			return "", fmt.Errorf("spctl restore state did not refuse on lock %s (exit %d):\n%s", held, code, spctlOut)
		}
		if _, _, err := e.tc.runner.Run(ctx, st.Dir, "force-unlock", "-force", held); err != nil {
			return "", err
		}
		if id, err := e.lockID(bucket, key); err != nil || id != "" {
			return "", fmt.Errorf("force-unlock left lock %q (%v)", id, err)
		}
		return fmt.Sprintf("rerun stopped at once on lock %s (as did spctl restore state); force-unlock released it", held), nil
	}); err != nil {
		return err
	}
	return e.do(st, "apply", func() (string, error) {
		// Resources whose creation the interrupt cut off are saved tainted;
		// the rerun replaces them (the plan says "is tainted").
		plan, _, err := e.tc.runner.Run(ctx, st.Dir, "plan", "-input=false", "-no-color", "-lock=false")
		if err != nil {
			return "", err
		}
		summary, err := terraform.Apply(ctx, e.tc.runner, st.Dir)
		if n := strings.Count(plan, "is tainted, so must be replaced"); n > 0 && err == nil {
			summary += fmt.Sprintf(" (%d tainted by the interrupt, replaced)", n)
		}
		return summary, err
	})
}
