package envs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var files embed.FS

// Embedded is the copy of envs/*.yaml compiled into this binary: what
// `go run .` synthesizes from. Tools that outlive a build (spctl) read the
// files on disk instead, with DirFS.
func Embedded() fs.FS { return files }

// DirFS reads env files from dir (e.g. "envs" in a checkout).
func DirFS(dir string) fs.FS { return dirFS{fs: os.DirFS(dir), dir: dir} }

// Overrides are the guide's session variables. An empty field keeps the
// file's value; Env selects one environment (empty means all of them).
type Overrides struct {
	Org    string // ORG
	Env    string // ENV
	Region string // AWS_REGION
}

// OverridesFromEnv reads ORG, ENV and AWS_REGION through getenv (os.Getenv
// in main, a map in tests).
func OverridesFromEnv(getenv func(string) string) Overrides {
	return Overrides{
		Org:    strings.TrimSpace(getenv("ORG")),
		Env:    strings.TrimSpace(getenv("ENV")),
		Region: strings.TrimSpace(getenv("AWS_REGION")),
	}
}

// Names lists the environments that have a file in envs/, sorted.
func Names() []string { return NamesIn(files) }

// NamesIn lists the environments that have a <env>.yaml in fsys, sorted.
func NamesIn(fsys fs.FS) []string {
	entries, _ := fs.ReadDir(fsys, ".")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Order is the order environments are synthesized and promoted in.
var Order = []string{"dev", "staging", "prod"}

// LoadSelected returns the environment named by ov.Env, or every environment
// in promotion order when ov.Env is empty. All problems in all files are
// reported together, one line each.
func LoadSelected(ov Overrides) ([]*Config, error) { return LoadSelectedFrom(files, ov) }

// LoadSelectedFrom is LoadSelected over the env files in fsys.
func LoadSelectedFrom(fsys fs.FS, ov Overrides) ([]*Config, error) {
	selected := Order
	if ov.Env != "" {
		selected = []string{ov.Env}
	}
	var (
		out  []*Config
		errs []error
	)
	for _, env := range selected {
		cfg, err := LoadFrom(fsys, env, ov)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, cfg)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ValidateAccounts(withSiblings(fsys, out, ov)); err != nil {
		return nil, err
	}
	return out, nil
}

// withSiblings adds the envs that were not selected, so the account rules
// hold even when ENV picks one env. A sibling file that does not load is
// left out: its own errors show when it is selected.
func withSiblings(fsys fs.FS, selected []*Config, ov Overrides) []*Config {
	out := append([]*Config(nil), selected...)
	have := map[string]bool{}
	for _, c := range selected {
		have[c.Env] = true
	}
	for _, env := range NamesIn(fsys) {
		if have[env] {
			continue
		}
		if cfg, err := LoadFrom(fsys, env, ov); err == nil {
			out = append(out, cfg)
		}
	}
	return out
}

// Load reads envs/<env>.yaml, applies defaults and overrides, and validates.
func Load(env string, ov Overrides) (*Config, error) { return LoadFrom(files, env, ov) }

// ErrUnknownEnv is an env with no file.
var ErrUnknownEnv = errors.New("unknown environment")

// LoadFrom is Load over the env files in fsys; messages name the file as
// "<dir>/<env>.yaml" ("envs/dev.yaml" for the embedded copy).
func LoadFrom(fsys fs.FS, env string, ov Overrides) (*Config, error) {
	data, err := fs.ReadFile(fsys, env+".yaml")
	if errors.Is(err, fs.ErrNotExist) || env == "" || strings.ContainsAny(env, "/.") {
		return nil, fmt.Errorf("ENV: %w %q: use one of %s (each is a file %s/<env>.yaml)",
			ErrUnknownEnv, env, strings.Join(NamesIn(fsys), ", "), dirOf(fsys))
	}
	if err != nil {
		return nil, fmt.Errorf("%s/%s.yaml: %w", dirOf(fsys), env, err)
	}
	return Parse(dirOf(fsys)+"/"+env+".yaml", data, ov)
}

// dirOf names the folder of fsys in messages.
func dirOf(fsys fs.FS) string {
	if d, ok := fsys.(dirFS); ok {
		return strings.TrimSuffix(d.dir, "/")
	}
	return "envs"
}

// Parse decodes one environment file strictly, fills defaults, applies the
// overrides and validates. file names the source in every error message.
//
// A key the file sets keeps its value even when that value is zero: the
// file is decoded a second time over the defaults, so `minSize: 0` reaches
// validation as 0 instead of silently becoming the default. A key written
// with no value (`minSize:` or `minSize: ~`) counts as absent.
func Parse(file string, data []byte, ov Overrides) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, data, err)
	}
	if err := checkShape(file, &doc); err != nil {
		return nil, err
	}
	cfg := &Config{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, data, err)
	}
	applyDefaults(cfg)
	src := &source{file: file, lines: map[string]int{}}
	src.index(&doc, "")
	if len(doc.Content) > 0 {
		dropNulls(doc.Content[0])
		if err := doc.Content[0].Decode(cfg); err != nil {
			return nil, yamlError(file, data, err)
		}
	}
	over := overrides{}
	if ov.Org != "" {
		cfg.Org, over["org"] = ov.Org, "ORG"
	}
	if ov.Region != "" {
		cfg.Region, over["region"] = ov.Region, "AWS_REGION"
	}
	if err := validate(cfg, src, over); err != nil {
		return nil, err
	}
	return cfg, nil
}

// dropNulls removes every mapping entry whose value is null, so such a key
// is treated as absent when the file is decoded over the defaults.
func dropNulls(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		dropNulls(c)
	}
}

// overrides records which fields came from session variables, so an error
// points at the variable the user set rather than at the file.
type overrides map[string]string

// dirFS is os.DirFS that remembers its folder for messages.
type dirFS struct {
	fs  fs.FS
	dir string
}

func (d dirFS) Open(name string) (fs.File, error) { return d.fs.Open(name) }
