package envs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const yamlFix = "fix the YAML (keys are case-sensitive; see envs/config.go for the schema)"

// yamlError reports each decoding problem on its own line as
// "envs/dev.yaml:5: key: what is wrong: fix".
//
// A syntax error is located again here because the YAML parser often
// reports it far from its cause: a quote left open on line 6 runs on to the
// next quote in the file, and the parser complains at line 21. So the line
// that opened an unclosed quote is named first, with its key; a tab used
// for indentation (which YAML forbids, and the parser calls "a character
// that cannot start any token") is named as a tab; otherwise the parser's
// line is kept and the key found at that line is named.
func yamlError(file string, data []byte, err error) error {
	lines := strings.Split(string(data), "\n")
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, m := range te.Errors {
			errs = append(errs, errors.New(withKey(file, lines, m)))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if tabs := tabIndents(file, lines); tabs != nil {
		return tabs
	}
	if n, key, quote := unclosedQuote(lines); n > 0 {
		return fmt.Errorf("%s:%d: %s: the %s opened here is not closed on this line; close it (the YAML parser gave up later: %s)",
			file, n, key, quote, msg)
	}
	return fmt.Errorf("%s", withKey(file, lines, msg))
}

// tabIndents reports every line indented with a tab, or nil.
func tabIndents(file string, lines []string) error {
	var errs []error
	for i, l := range lines {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if !strings.Contains(indent, "\t") || strings.TrimSpace(l) == "" {
			continue
		}
		what := "this line"
		if keyRe.MatchString(l) {
			what = keyPath(lines, i)
		}
		errs = append(errs, fmt.Errorf("%s:%d: %s: is indented with a tab (column %d); YAML indents with spaces only: replace the tab with spaces",
			file, i+1, what, strings.Index(l, "\t")+1))
	}
	return errors.Join(errs...)
}

// withKey turns "line 27: cannot unmarshal ..." into "envs/dev.yaml:27:
// cluster.nodeGroup.minSize: cannot unmarshal ...: fix the YAML".
func withKey(file string, lines []string, msg string) string {
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return file + ": " + msg + ": " + yamlFix
	}
	n, _ := strconv.Atoi(m[1])
	if key := keyAt(lines, n); key != "" && !strings.HasPrefix(m[2], "field ") {
		return fmt.Sprintf("%s:%d: %s: %s: %s", file, n, key, m[2], yamlFix)
	}
	return fmt.Sprintf("%s:%d: %s: %s", file, n, m[2], yamlFix)
}

var (
	lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)
	// keyRe matches "key:" or "- key:" at the start of a block line.
	keyRe = regexp.MustCompile(`^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)\s*:(?:\s|$)`)
)

// unclosedQuote returns the first line (1-based) whose value starts a quoted
// scalar that does not end on the same line, with the key path of that line
// and which quote it was. Multi-line quoted scalars are valid YAML, but no
// env file needs one, and this runs only after the parser has failed.
func unclosedQuote(lines []string) (line int, key, quote string) {
	for i, l := range lines {
		m := keyRe.FindStringSubmatchIndex(l)
		if m == nil {
			continue
		}
		v := strings.TrimSpace(l[m[1]:])
		switch {
		case strings.HasPrefix(v, `"`) && !closesDouble(v[1:]):
			return i + 1, keyPath(lines, i), `"`
		case strings.HasPrefix(v, `'`) && !closesSingle(v[1:]):
			return i + 1, keyPath(lines, i), `'`
		}
	}
	return 0, "", ""
}

// closesDouble reports whether s (after an opening ") holds the closing ",
// skipping backslash escapes.
func closesDouble(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return true
		}
	}
	return false
}

// closesSingle reports whether s (after an opening ') holds the closing ';
// two single quotes in a row are an escaped quote.
func closesSingle(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return true
		}
	}
	return false
}

// keyAt returns the key path of the nearest key line at or above line n
// (1-based), e.g. "cluster.nodeGroup.minSize".
func keyAt(lines []string, n int) string {
	for i := min(n, len(lines)) - 1; i >= 0; i-- {
		if keyRe.MatchString(lines[i]) {
			return keyPath(lines, i)
		}
	}
	return ""
}

// keyPath joins the key on line i with the keys of the less-indented lines
// above it that open a block ("cluster:" with nothing after it), which are
// its parents in block YAML.
func keyPath(lines []string, i int) string {
	m := keyRe.FindStringSubmatch(lines[i])
	path, indent := []string{m[2]}, len(m[1])
	for j := i - 1; j >= 0 && indent > 0; j-- {
		p := keyRe.FindStringSubmatchIndex(lines[j])
		if p == nil || p[3]-p[2] >= indent || !opensBlock(lines[j][p[1]:]) {
			continue
		}
		parent := keyRe.FindStringSubmatch(lines[j])
		path, indent = append([]string{parent[2]}, path...), len(parent[1])
	}
	return strings.Join(path, ".")
}

// opensBlock reports whether the rest of a "key:" line leaves the value to
// the indented lines below (nothing, or only a comment).
func opensBlock(rest string) bool {
	rest = strings.TrimSpace(rest)
	return rest == "" || strings.HasPrefix(rest, "#")
}
