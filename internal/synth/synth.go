package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// outdir is where the cdktf CLI asked us to write (CDKTF_OUTDIR), or the
// cdktf.json default.
func outdir(getenv func(string) string) string {
	if d := getenv("CDKTF_OUTDIR"); d != "" {
		return d
	}
	return "cdktf.out"
}

// workingState is what Terraform keeps in a stack's folder between runs:
// the providers and backend settings `terraform init` installed, and the
// provider lock. They are carried from the old output into the new one, so
// a synth never forces the next diff to initialise (and unpack the ~700 MB
// AWS provider) again. Nothing else is carried: every other file is output.
var workingState = []string{".terraform", ".terraform.lock.hcl"}

// stepHook lets tests stop the process between the steps of a synth, to
// prove that a crash at any point leaves a whole output behind.
var stepHook = func(step string) {}

// synthesize builds the app into a staging folder next to dir, moves each
// stack's Terraform working state from dir into it, and then swaps the
// staging folder and dir in one rename. Until that rename, dir is the old
// output, untouched; after it, dir is the new output, complete. A failure
// before the rename (bad props, a guardrail, a permission error) moves the
// working state back. Concurrent runs wait for each other on a lock file
// beside dir, and a run cleans up what a crashed run left behind.
//
// only names the envs being synthesized when ENV picks some: the stacks of
// every other env are copied from the old output into the staging folder
// (and listed in its manifest) before the swap, so `ENV=dev make synth`
// replaces dev's stacks and leaves staging's and prod's as they were. With
// only empty, the whole output is replaced.
//
// records are the configurations the envs were built from (envs.Record),
// written to config/<env>.json beside the stacks for spctl to compare.
// It returns the stack ids written, in deploy order.
func synthesize(dir string, only []string, records map[string][]byte, build func(app constructs.Construct) error) (written []string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	unlock, err := lockOutput(abs, dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	recoverLeftovers(abs)
	if err := checkWritable(abs, dir); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(abs), leftoverPrefix(abs)+"staging-")
	if err != nil {
		return nil, fmt.Errorf("cannot create the staging folder beside %s (%w); make the folder that holds it writable", dir, err)
	}
	// After the swap, stage holds the previous output; either way it goes.
	defer os.RemoveAll(stage)
	if err := os.Chmod(stage, 0o755); err != nil { // MkdirTemp makes it private
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			written, err = nil, fmt.Errorf("%v", r)
		}
	}()

	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(stage), StackTraces: jsii.Bool(false)})
	if err := build(app); err != nil {
		return nil, err
	}
	app.Synth()
	if written, err = stackIDs(stage); err != nil {
		return nil, err
	}
	if err := writeRecords(stage, records); err != nil {
		return nil, err
	}
	kept, err := keepOtherEnvs(abs, stage, only)
	if err != nil {
		return nil, fmt.Errorf("cannot keep the other envs' stacks of %s: %w", dir, err)
	}
	stepHook("staged")

	moved, err := carryWorkingState(abs, stage, append(slices.Clone(written), kept...))
	if err != nil {
		return nil, err
	}
	stepHook("carried")
	if err := swap(stage, abs); err != nil {
		if undo := moveBack(moved); undo != nil {
			err = errors.Join(err, undo)
		}
		return nil, fmt.Errorf("cannot replace %s: %w", dir, err)
	}
	stepHook("swapped")
	return written, nil
}

// leftoverPrefix names the hidden siblings of the output folder: staging
// folders and the lock, e.g. ".cdktf.out.staging-123".
func leftoverPrefix(abs string) string { return "." + filepath.Base(abs) + "." }

// move is one working-state entry moved from the old output into the new.
type move struct{ from, to string }

// carryWorkingState moves .terraform and .terraform.lock.hcl of every stack
// in ids from dir/stacks/<id> into stage/stacks/<id>. On an error it moves
// back what it had moved, so the old output stays whole.
func carryWorkingState(dir, stage string, ids []string) ([]move, error) {
	var moved []move
	for _, id := range ids {
		for _, name := range workingState {
			m := move{filepath.Join(dir, "stacks", id, name), filepath.Join(stage, "stacks", id, name)}
			if _, err := os.Lstat(m.from); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err := os.Rename(m.from, m.to); err != nil {
				return nil, errors.Join(fmt.Errorf("cannot keep Terraform's working state: %w", err), moveBack(moved))
			}
			moved = append(moved, m)
		}
	}
	return moved, nil
}

func moveBack(moved []move) error {
	var errs []error
	for _, m := range slices.Backward(moved) {
		if err := os.Rename(m.to, m.from); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// swap puts stage in place of dir. Where the kernel can exchange two paths
// atomically it does; otherwise dir is renamed aside first and renamed back
// if the second rename fails. Either way stage ends up holding the old
// output (if any), for the caller to remove.
func swap(stage, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(stage, dir)
	}
	if err := exchange(stage, dir); !errors.Is(err, errExchangeUnsupported) {
		return err
	}
	aside := stage + ".previous"
	if err := os.Rename(dir, aside); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		return errors.Join(err, os.Rename(aside, dir))
	}
	return os.Rename(aside, stage)
}

// recoverLeftovers undoes what a run killed mid-way left beside abs: an
// output renamed aside is put back if abs is missing, and working state
// already moved into a staging folder returns to its stack. Then the
// leftovers are removed. Only called with the lock held, so no other run
// is using them.
func recoverLeftovers(abs string) {
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(abs), leftoverPrefix(abs)+"staging-*"))
	// An output renamed aside goes back first, so the working state in a
	// staging folder has a home to return to.
	slices.SortStableFunc(leftovers, func(a, b string) int {
		return compareBool(!strings.HasSuffix(a, ".previous"), !strings.HasSuffix(b, ".previous"))
	})
	for _, l := range leftovers {
		if strings.HasSuffix(l, ".previous") {
			if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
				_ = os.Rename(l, abs)
				continue
			}
		}
		for _, name := range workingState {
			found, _ := filepath.Glob(filepath.Join(l, "stacks", "*", name))
			for _, from := range found {
				home := filepath.Join(abs, "stacks", filepath.Base(filepath.Dir(from)))
				if _, err := os.Lstat(filepath.Join(home, name)); errors.Is(err, fs.ErrNotExist) {
					if st, err := os.Stat(home); err == nil && st.IsDir() {
						_ = os.Rename(from, filepath.Join(home, name))
					}
				}
			}
		}
		_ = os.RemoveAll(l)
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// checkWritable fails early, before a synth that takes a minute, when the
// old output could not be replaced: every folder a rename touches must be
// writable by this process.
func checkWritable(abs, dir string) error {
	paths := []string{filepath.Dir(abs)}
	if _, err := os.Lstat(abs); err == nil {
		paths = append(paths, abs, filepath.Join(abs, "stacks"))
		for _, name := range workingState {
			found, _ := filepath.Glob(filepath.Join(abs, "stacks", "*", name))
			for _, f := range found {
				paths = append(paths, filepath.Dir(f))
				if st, err := os.Lstat(f); err == nil && st.IsDir() {
					paths = append(paths, f) // a moved folder's ".." entry changes
				}
			}
		}
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := writable(p); err != nil {
			shown, fix := dir, "chmod -R u+w "+dir
			if p != abs {
				rel, _ := filepath.Rel(abs, p)
				shown = filepath.Join(dir, rel)
			}
			if p == filepath.Dir(abs) {
				fix = "chmod u+w " + shown + "; synth stages its output beside " + dir
			}
			return fmt.Errorf("%s is not writable (%v): fix its permissions (%s) or run as its owner", shown, err, fix)
		}
	}
	return nil
}

// stackIDs reads the manifest CDKTF wrote and orders its stacks the way
// they are deployed.
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
	return deployOrder(ids), nil
}

// deployOrder sorts stack ids by environment (promotion order), then by
// component (naming.DeployOrder).
func deployOrder(ids []string) []string {
	rank := func(id string) (int, int) {
		env, component, _ := strings.Cut(id, "-")
		return slices.Index(envs.Order, env), slices.Index(naming.DeployOrder, component)
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
	return ids
}

// ofEnvs reports whether stack id belongs to one of envs ("<env>-<component>").
func ofEnvs(id string, envNames []string) bool {
	for _, e := range envNames {
		if c, ok := strings.CutPrefix(id, e+"-"); ok && slices.Contains(naming.DeployOrder, c) {
			return true
		}
	}
	return false
}

// keepOtherEnvs copies every stack of the old output in dir that does not
// belong to the envs in only into stage, without its Terraform working
// state (carryWorkingState moves that, with everything else's), and adds
// those stacks to stage's manifest. It returns their ids. The old output
// is only read, so a failure or a crash here leaves it whole.
func keepOtherEnvs(dir, stage string, only []string) ([]string, error) {
	if len(only) == 0 {
		return nil, nil
	}
	old, err := readManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cur, err := readManifest(stage)
	if err != nil {
		return nil, err
	}
	for _, env := range envs.Order {
		from := filepath.Join(dir, envs.RecordDir, env+".json")
		if slices.Contains(only, env) {
			continue
		}
		if raw, err := os.ReadFile(from); err == nil {
			if err := os.WriteFile(filepath.Join(stage, envs.RecordDir, env+".json"), raw, 0o644); err != nil {
				return nil, err
			}
		}
	}
	var kept []string
	for id, entry := range old.stacks {
		if ofEnvs(id, only) {
			continue
		}
		if err := copyTree(filepath.Join(dir, "stacks", id), filepath.Join(stage, "stacks", id)); err != nil {
			return nil, err
		}
		cur.stacks[id] = entry
		kept = append(kept, id)
	}
	return deployOrder(kept), cur.write(stage)
}

// manifest is CDKTF's manifest.json, kept as raw JSON except its stacks.
type manifest struct {
	top    map[string]json.RawMessage
	stacks map[string]json.RawMessage
}

func readManifest(dir string) (*manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	m := &manifest{}
	if err := json.Unmarshal(raw, &m.top); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	m.stacks = map[string]json.RawMessage{}
	if s, ok := m.top["stacks"]; ok {
		if err := json.Unmarshal(s, &m.stacks); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
		}
	}
	return m, nil
}

func (m *manifest) write(dir string) error {
	stacks, err := json.Marshal(m.stacks)
	if err != nil {
		return err
	}
	m.top["stacks"] = stacks
	raw, err := json.MarshalIndent(m.top, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), append(raw, '\n'), 0o644)
}

// copyTree copies the folder from into to, leaving out Terraform's working
// state at its top. Symbolic links are copied as links.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if slices.Contains(workingState, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, raw, info.Mode().Perm())
	})
}

func writeRecords(stage string, records map[string][]byte) error {
	if err := os.MkdirAll(filepath.Join(stage, envs.RecordDir), 0o755); err != nil {
		return err
	}
	for env, raw := range records {
		if err := os.WriteFile(filepath.Join(stage, envs.RecordDir, env+".json"), raw, 0o644); err != nil {
			return err
		}
	}
	return nil
}
