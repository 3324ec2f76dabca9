package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// toolchain is what every Terraform-running command needs: terraform itself
// and, offline, a provider mirror with a CLI configuration pointing at it.
type toolchain struct {
	runner  *terraform.Runner
	version string
	mirror  *terraform.Mirror
	// env is the environment terraform runs with (TF_CLI_CONFIG_FILE set).
	env []string
}

// cliConfigPath is the generated Terraform CLI configuration (git-ignored).
func cliConfigPath() string { return filepath.Join(repoRoot(), ".terraform.d", "cli.tfrc") }

// pluginCacheDir is shared by every stack and every run: TF_PLUGIN_CACHE_DIR
// when the Makefile sets it, else Terraform's conventional location.
func pluginCacheDir() string {
	if d := os.Getenv("TF_PLUGIN_CACHE_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".terraform.d", "plugin-cache")
}

// setup finds terraform and the mirror. A missing piece returns a reason
// (for the SKIPPED line) instead of an error.
func setup(needMirror bool) (*toolchain, string, error) {
	mirror, err := terraform.FindMirror()
	if err != nil {
		return nil, "", err
	}
	if needMirror && !mirror.Has("aws") {
		return nil, "no hashicorp/aws provider mirror (looked in $" + terraform.PluginDirEnv + ", /opt/tf-plugins, ~/.terraform.d/plugins, ~/.local/share/terraform/plugins, /usr/{local/,}share/terraform/plugins)", nil
	}
	env := os.Environ()
	if mirror != nil {
		path := cliConfigPath()
		if err := terraform.WriteCLIConfig(path, mirror, pluginCacheDir()); err != nil {
			return nil, "", fmt.Errorf("write %s: %w", path, err)
		}
		env = append(env, "TF_CLI_CONFIG_FILE="+path, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	}
	r, version, err := terraform.NewRunner(env)
	if err != nil {
		if version != "" {
			return nil, err.Error(), nil
		}
		return nil, "terraform " + terraform.MinVersion + "+ is not on PATH", nil
	}
	return &toolchain{runner: r, version: version, mirror: mirror, env: env}, "", nil
}

// skipped prints the one loud line a skipped command leaves.
func skipped(what, reason string) error {
	fmt.Printf("SKIPPED %s: %s\n", what, reason)
	return errSkipped
}
