// Package terraform runs the Terraform CLI over synthesized stacks: it finds
// a local provider mirror, writes a CLI configuration that installs from it
// (offline, with a plugin cache), and runs init/validate/apply/plan/destroy
// with a progress line per step. `make validate`, `make bootstrap` and
// `make e2e` are built on it.
package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PluginDirEnv names a provider mirror explicitly; it wins over the
// well-known locations.
const PluginDirEnv = "TF_PLUGIN_DIR"

// mirrorCandidates are where machine images and Terraform's own implied
// local mirrors keep providers, in the order they are searched.
func mirrorCandidates() []string {
	home, _ := os.UserHomeDir()
	return []string{
		"/opt/tf-plugins",
		filepath.Join(home, ".terraform.d", "plugins"),
		filepath.Join(home, ".local", "share", "terraform", "plugins"),
		"/usr/local/share/terraform/plugins",
		"/usr/share/terraform/plugins",
	}
}

// Mirror is a filesystem mirror in Terraform's unpacked layout:
// <dir>/<host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-*.
type Mirror struct {
	Dir string
	// Providers maps a source address ("registry.terraform.io/hashicorp/aws")
	// to the versions present.
	Providers map[string][]string
}

// Has reports whether the mirror holds provider typ (e.g. "aws") of the
// hashicorp namespace.
func (m *Mirror) Has(typ string) bool {
	if m == nil {
		return false
	}
	return len(m.Providers[Address(typ)]) > 0
}

// Address is the registry source address of a hashicorp provider type.
func Address(typ string) string { return "registry.terraform.io/hashicorp/" + typ }

// Describe lists the mirrored providers, e.g. "hashicorp/aws 5.100.0".
func (m *Mirror) Describe() string {
	var out []string
	for addr, versions := range m.Providers {
		out = append(out, strings.TrimPrefix(addr, "registry.terraform.io/")+" "+strings.Join(versions, ","))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// FindMirror returns the first provider mirror found: TF_PLUGIN_DIR when
// set, else the well-known locations. It returns nil when there is none.
func FindMirror() (*Mirror, error) {
	if dir := os.Getenv(PluginDirEnv); dir != "" {
		m, err := readMirror(dir)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", PluginDirEnv, dir, err)
		}
		if len(m.Providers) == 0 {
			return nil, fmt.Errorf("%s=%s holds no provider in <host>/<namespace>/<type>/<version>/<os_arch> layout", PluginDirEnv, dir)
		}
		return m, nil
	}
	for _, dir := range mirrorCandidates() {
		if m, err := readMirror(dir); err == nil && len(m.Providers) > 0 {
			return m, nil
		}
	}
	return nil, nil
}

func readMirror(dir string) (*Mirror, error) {
	m := &Mirror{Dir: dir, Providers: map[string][]string{}}
	// <host>/<namespace>/<type>/<version>/<os_arch>
	matches, err := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*", "*"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	for _, p := range matches {
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(rel, string(filepath.Separator))
		if len(parts) != 5 {
			continue
		}
		bins, _ := filepath.Glob(filepath.Join(p, "terraform-provider-*"))
		if len(bins) == 0 {
			continue
		}
		addr := strings.Join(parts[:3], "/")
		m.Providers[addr] = append(m.Providers[addr], parts[3])
	}
	return m, nil
}

// WriteCLIConfig writes a Terraform CLI configuration that installs the
// mirrored providers from the mirror only and everything else from the
// registry, with a shared plugin cache so each stack links the provider
// instead of unpacking its own copy (hundreds of MB for aws).
func WriteCLIConfig(path string, m *Mirror, cacheDir string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	var addrs []string
	for a := range m.Providers {
		addrs = append(addrs, fmt.Sprintf("%q", a))
	}
	sort.Strings(addrs)
	list := strings.Join(addrs, ", ")
	cfg := fmt.Sprintf(`# Written by spatialprops-infra (internal/terraform); safe to delete.
plugin_cache_dir = %q
provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%s]
  }
  direct {
    exclude = [%s]
  }
}
`, cacheDir, m.Dir, list, list)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(cfg), 0o644)
}
