package envs

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// source is one env file as written: its name and where each key is, so
// every message can say "envs/dev.yaml:14: network.privateSubnets[1]: ...".
type source struct {
	file string
	// lines maps a field path ("network.azs", "network.azs[2]",
	// "cluster.nodeGroup.minSize") to the 1-based line that writes it.
	lines map[string]int
}

// index records the line of every key and list item under n.
func (s *source) index(n *yaml.Node, path string) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			s.index(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if _, seen := s.lines[p]; !seen { // a duplicate is reported at its own line
				s.lines[p] = k.Line
			}
			s.index(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			s.lines[p] = c.Line
			s.index(c, p)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether the file writes field itself (not a default).
func (s *source) has(field string) bool {
	_, ok := s.lines[field]
	return ok
}

// line is the line of field, or of the nearest enclosing key the file
// writes (a missing "tags.Owner" points at "tags:"); 0 when none.
func (s *source) line(field string) int {
	for p := field; p != ""; p = parent(p) {
		if n, ok := s.lines[p]; ok {
			return n
		}
	}
	return 0
}

// parent strips the last key or index of a field path.
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		return p[:strings.LastIndex(p, "[")]
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

// at is "envs/dev.yaml:14" for field, or "envs/dev.yaml" when the file
// has no line for it.
func (s *source) at(field string) string {
	if n := s.line(field); n > 0 {
		return fmt.Sprintf("%s:%d", s.file, n)
	}
	return s.file
}
