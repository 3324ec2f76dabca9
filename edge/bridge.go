package edge

import (
	"errors"
	"fmt"
	"regexp"
)

// The P2P bridge is a leaf-node remote in the NATS server config
// (Authorization with SecurityOptions.Leaf, rendered by the chart into the
// nats.conf of its ConfigMap). Turning it off is removing the top-level
// "leafnodes" block, and restarting each server: nats-server refuses to
// add or remove a leaf remote on a config reload (edge/natstest proves
// both).

var leafnodesKey = regexp.MustCompile(`(^|[^\w"])"?leafnodes"?\s*[:=]?\s*\{`)

// WithoutLeafRemotes returns conf (the chart's nats.conf: JSON, possibly
// with unquoted $VARIABLES elsewhere) without its top-level leafnodes
// block, and whether there was one. The block is found by its key and
// matched brace by brace, skipping braces inside strings.
func WithoutLeafRemotes(conf string) (string, bool, error) {
	loc := leafnodesKey.FindStringIndex(conf)
	if loc == nil {
		return conf, false, nil
	}
	start, open := loc[0], loc[1]-1
	if start < len(conf) && !(conf[start] == '"' || conf[start] == 'l') {
		start++ // the character before the key is not part of it
	}
	depth, inString, escaped := 0, false, false
	end := -1
	for i := open; i < len(conf) && end < 0; i++ {
		c := conf[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				end = i + 1
			}
		}
	}
	if end < 0 {
		return "", false, errors.New("nats.conf: the leafnodes block is not closed")
	}
	// Take the separator with it: the comma after the block, or else the
	// one before it (when the block was the last entry of an object).
	rest := end
	for rest < len(conf) && (conf[rest] == ' ' || conf[rest] == '\t') {
		rest++
	}
	if rest < len(conf) && conf[rest] == ',' {
		end = rest + 1
		for end < len(conf) && (conf[end] == ' ' || conf[end] == '\t') {
			end++
		}
		if end < len(conf) && conf[end] == '\n' {
			// the whole line goes: back up over the key's indentation too
			end++
			for start > 0 && (conf[start-1] == ' ' || conf[start-1] == '\t') {
				start--
			}
		}
	} else {
		j := start - 1
		for j >= 0 && (conf[j] == ' ' || conf[j] == '\t' || conf[j] == '\n' || conf[j] == '\r') {
			j--
		}
		if j >= 0 && conf[j] == ',' {
			start = j
		}
	}
	out := conf[:start] + conf[end:]
	if leafnodesKey.MatchString(out) {
		return "", false, fmt.Errorf("nats.conf: more than one leafnodes block")
	}
	return out, true, nil
}
