package envs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// RecordDir is the folder of the synth output holding each env's record,
// <outdir>/config/<env>.json.
const RecordDir = "config"

// Record is the configuration an env was synthesized from, after defaults
// and session overrides, keyed as in the env file: synth writes it beside
// the stacks (cdktf.out/config/<env>.json), and spctl compares it with what
// the env files give now, so it never acts on names from an older synth.
func Record(c *Config) ([]byte, error) {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	var keyed map[string]any
	if err := yaml.Unmarshal(raw, &keyed); err != nil {
		return nil, err
	}
	return json.MarshalIndent(keyed, "", "  ")
}

// RecordDiff lists the fields whose values differ between two records, as
// "org: spatialprops -> acme", sorted; at most max of them.
func RecordDiff(old, cur []byte, max int) ([]string, error) {
	var a, b any
	if err := json.Unmarshal(old, &a); err != nil {
		return nil, fmt.Errorf("unreadable record: %w", err)
	}
	if err := json.Unmarshal(cur, &b); err != nil {
		return nil, err
	}
	var out []string
	diffValues("", a, b, &out)
	sort.Strings(out)
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("and %d more", len(out)-max))
	}
	return out, nil
}

func diffValues(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffValues(p, am[k], bm[k], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		*out = append(*out, fmt.Sprintf("%s: %s -> %s", path, ja, jb))
	}
}
