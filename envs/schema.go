package envs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/internal/suggest"
)

// checkShape walks the parsed file against the Config type before anything
// is decoded, so every mismatch is reported by its YAML path and line: an
// unknown key with the nearest known key at that path, a list where one
// value belongs (blamed on the key that holds the list), a key set twice,
// a number or switch that is not one. The yaml package's own messages name
// Go types ("field natmode not found in type envs.Network") and sometimes
// the wrong key; these name what the user wrote. The schema is read from
// the struct tags, so keys added to Config are covered without a list.
func checkShape(file string, root *yaml.Node) error {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	var errs []error
	add := func(line int, path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", file, line, path, fmt.Sprintf(format, args...)))
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the file must be a mapping of keys (%s), not %s", file, doc.Line,
			strings.Join(yamlKeys(reflect.TypeOf(Config{}))[:3], ":, ")+": ...", describe(doc))
	}
	walkShape(doc, doc.Line, reflect.TypeOf(Config{}), "", add)
	return errors.Join(errs...)
}

type addFunc func(line int, path, format string, args ...any)

// walkShape checks n against t; line is where the key (or list item) that
// holds n is written, which is what a message about its shape points at.
func walkShape(n *yaml.Node, line int, t reflect.Type, path string, add addFunc) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // a key with no value means "use the default"
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			add(line, path, "is %s, but %s takes keys: %s", describe(n), last(path), strings.Join(yamlKeys(t), ", "))
			return
		}
		known := yamlKeys(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				add(k.Line, p, "is set twice (first on line %d); keep one", first)
				continue
			}
			seen[k.Value] = k.Line
			f, ok := fieldByYAML(t, k.Value)
			if !ok {
				where := "the top level"
				if path != "" {
					where = path
				}
				if hint := suggest.DidYouMean(k.Value, known); hint != "" {
					add(k.Line, p, "unknown key%s (keys are case-sensitive)", hint)
				} else {
					add(k.Line, p, "unknown key; %s takes: %s", where, strings.Join(known, ", "))
				}
				continue
			}
			walkShape(v, k.Line, f.Type, p, add)
		}
	case reflect.Map:
		// free-form keys (e.g. workloads.<name>); their values are checked
		// against the map's element type, the keys by the map's validator
		if n.Kind != yaml.MappingNode {
			add(line, path, "is %s, but %s takes keys", describe(n), last(path))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			walkShape(v, k.Line, t.Elem(), join(path, k.Value), add)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			add(line, path, "is %s, but %s takes a list, e.g. %s: [%s]", describe(n), last(path), last(path), exampleItem(n))
			return
		}
		for i, c := range n.Content {
			walkShape(c, c.Line, t.Elem(), fmt.Sprintf("%s[%d]", path, i), add)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			add(line, path, "is %s, but %s takes a single value (%s)", describe(n), last(path), kindName(t))
			return
		}
		switch t.Kind() {
		case reflect.Int:
			if n.Tag != "!!int" {
				add(line, path, "%q is not a whole number", n.Value)
			}
		case reflect.Bool:
			if n.Tag != "!!bool" {
				add(line, path, "%q is not true or false", n.Value)
			}
		}
	}
}

// describe names what a node is, for "is a list, but ...".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return fmt.Sprintf("a list (%d item(s))", len(n.Content))
	case yaml.MappingNode:
		return "a block of keys"
	}
	return fmt.Sprintf("the single value %q", n.Value)
}

func exampleItem(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		return n.Value
	}
	return "..."
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	}
	return "text"
}

// last is the last key of a path ("network.azs[2]" -> "azs[2]").
func last(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[i+1:]
	}
	return path
}

// yamlKeys lists t's keys in declaration order.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func fieldByYAML(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if !f.IsExported() || name == "-" {
		return ""
	}
	return name
}
