package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// configDir is where spctl reads the env files at run time (--config-dir,
// default envs/ of the current folder). spctl never uses the copy compiled
// into it: a binary built before an env file changed would otherwise act
// on the old names.
var configDir = defaultConfigDir

const defaultConfigDir = "envs"

// loadEnv loads <configDir>/<env>.yaml from disk with the session's ORG and
// AWS_REGION overrides.
func loadEnv(env string) (*envs.Config, error) {
	if env == "" {
		return nil, usagef("--env is required: one of %s", strings.Join(envs.NamesIn(envs.DirFS(configDir)), ", "))
	}
	if _, err := os.Stat(filepath.Join(configDir, env+".yaml")); errors.Is(err, fs.ErrNotExist) {
		names := envs.NamesIn(envs.DirFS(configDir))
		if len(names) == 0 {
			return nil, refusef("no env files in %s/: run spctl from the repository root (where `make synth` runs), or point --config-dir at the folder holding dev.yaml, staging.yaml and prod.yaml", configDir)
		}
		return nil, usagef("--env %s: unknown environment; use one of %s (files in %s/)", env, strings.Join(names, ", "), configDir)
	}
	ov := envs.OverridesFromEnv(os.Getenv)
	ov.Env = env
	cfg, err := envs.LoadFrom(envs.DirFS(configDir), env, ov)
	if err != nil {
		return nil, fmt.Errorf("configuration is invalid:\n%w", err)
	}
	return cfg, nil
}

// ErrStale refuses an output synthesized from other configuration.
var errStale = errors.New("stale synth output")

// checkSynthesized compares the record synth wrote for cfg's env
// (<outdir>/config/<env>.json) with what the env file gives now. required
// says the command reads the output (cost); otherwise an env that was
// never synthesized is fine (teardown's cdktf destroy synthesizes first).
func checkSynthesized(cfg *envs.Config, outdir string, required bool) error {
	path := filepath.Join(outdir, envs.RecordDir, cfg.Env+".json")
	old, err := os.ReadFile(path)
	stacks, _ := filepath.Glob(filepath.Join(outdir, "stacks", cfg.Env+"-*"))
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(stacks) == 0 && !required:
		return nil
	case errors.Is(err, fs.ErrNotExist) && len(stacks) == 0:
		return fmt.Errorf("%s has no stacks of %s: run `ENV=%s make synth` first", outdir, cfg.Env, cfg.Env)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s holds stacks of %s but no record of the configuration they came from (an older synth): run `ENV=%s make synth`, then this again",
			errStale, outdir, cfg.Env, cfg.Env)
	case err != nil:
		return err
	}
	cur, err := envs.Record(cfg)
	if err != nil {
		return err
	}
	diff, err := envs.RecordDiff(old, cur, 5)
	if err != nil {
		return fmt.Errorf("%s: %w: run `ENV=%s make synth`", path, err, cfg.Env)
	}
	if len(diff) > 0 {
		return fmt.Errorf("%w: %s was synthesized from another configuration than %s (and ORG/AWS_REGION) gives now:\n  %s\nRun `ENV=%s make synth`, then this command again, so it acts on the names the stacks have",
			errStale, outdir, cfg.File(), strings.Join(diff, "\n  "), cfg.Env)
	}
	return nil
}
