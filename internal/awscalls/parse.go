// Package awscalls records the AWS calls Terraform makes and checks them
// against IAM. Terraform with TF_LOG_CORE=debug and TF_LOG_PROVIDER=debug
// (terraform.Runner.DebugLog) logs every request the AWS SDK sends, from
// the AWS provider and from the S3 backend:
//
//	2026-12-07T19:58:56.237Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Request Sent: … rpc.service=S3 rpc.method=HeadBucket … tf_resource_type=aws_s3_bucket …
//
// Parse turns such a log into the distinct calls of a stack (service,
// operation, the resource type that made it); Actions maps each to the
// IAM actions AWS authorizes it with; Check evaluates those actions for a
// role with internal/iameval.
package awscalls

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Call is one distinct AWS call of a stack's deploy.
type Call struct {
	Stack string
	// Service is the SDK's service id ("S3", "Route 53").
	Service string
	// Operation is the SDK operation ("HeadBucket").
	Operation string
	// ResourceType is what made the call: the resource type
	// ("aws_s3_bucket"), "data.<type>" for a data source, Backend for the S3
	// backend (state and lock), Provider for the provider's configuration.
	ResourceType string
	// Count is how many requests were sent (retries included).
	Count int
}

// The ResourceType of calls no resource makes.
const (
	Backend  = "backend"
	Provider = "provider"
)

func (c Call) key() string {
	return c.Stack + "\x00" + c.Service + "\x00" + c.Operation + "\x00" + c.ResourceType
}

func (c Call) String() string {
	return fmt.Sprintf("%s %s %s (%s)", c.Stack, c.Service, c.Operation, c.ResourceType)
}

// entryStart is how every log entry begins: a timestamp and a level.
var entryStart = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[-+Z0-9:]* \[[A-Z]+\] *`)

// fieldRe finds one key=value field: the value is quoted (with escapes) or
// runs to the next blank.
func fieldRe(key string) *regexp.Regexp {
	return regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(key) + `=("(?:[^"\\]|\\.)*"|\S*)`)
}

var fields = map[string]*regexp.Regexp{}

func init() {
	for _, k := range []string{"rpc.service", "rpc.method", "rpc.system", "tf_resource_type", "tf_data_source_type", "tf_rpc", "tf_backend.operation"} {
		fields[k] = fieldRe(k)
	}
}

func field(entry, key string) string {
	m := fields[key].FindStringSubmatch(entry)
	if m == nil {
		return ""
	}
	v := m[1]
	if strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) && len(v) >= 2 {
		v = strings.ReplaceAll(strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), `\\`, `\`)
	}
	return v
}

// Parse reads one stack's debug log and returns its distinct calls, sorted,
// and the number of requests. An AWS request whose service or operation
// cannot be read is an error, never skipped.
func Parse(r io.Reader, stack string) ([]Call, int, error) {
	byKey := map[string]*Call{}
	requests := 0
	var entry strings.Builder
	entryLine := 0
	flush := func() error {
		if entry.Len() == 0 {
			return nil
		}
		defer entry.Reset()
		c, ok, err := parseEntry(entry.String(), stack)
		if err != nil {
			return fmt.Errorf("%s: log line %d: %w", stack, entryLine, err)
		}
		if !ok {
			return nil
		}
		requests++
		if prev := byKey[c.key()]; prev != nil {
			prev.Count++
		} else {
			c.Count = 1
			byKey[c.key()] = &c
		}
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if entryStart.MatchString(line) {
			if err := flush(); err != nil {
				return nil, 0, err
			}
			entryLine = n
			entry.WriteString(line)
			continue
		}
		if entry.Len() == 0 {
			continue
		}
		// A multi-line value (a request or response body) is written as
		// "  key=" and then "  | line" lines; the fields resume on a line of
		// their own.
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "|"):
			continue
		case strings.HasSuffix(t, "=") && !strings.Contains(t, " "):
			continue
		}
		entry.WriteString(" ")
		entry.WriteString(t)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", stack, err)
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	out := make([]Call, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, *c)
	}
	sortCalls(out)
	return out, requests, nil
}

func sortCalls(cs []Call) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].key() < cs[j].key() })
}

// parseEntry reads one log entry; ok is false for anything but an AWS
// request being sent.
func parseEntry(entry, stack string) (Call, bool, error) {
	head := entryStart.ReplaceAllString(entry, "")
	source, rest, found := strings.Cut(head, ": ")
	if !found || !strings.HasPrefix(rest, "HTTP Request Sent:") {
		return Call{}, false, nil
	}
	c := Call{Stack: stack, Service: field(rest, "rpc.service"), Operation: field(rest, "rpc.method")}
	if c.Service == "" || c.Operation == "" {
		if sys := field(rest, "rpc.system"); sys != "" && sys != "aws-api" {
			return Call{}, false, nil // not an AWS request
		}
		return Call{}, false, fmt.Errorf("an HTTP request of %s without rpc.service and rpc.method: %.300s", source, rest)
	}
	switch {
	case strings.HasPrefix(source, "backend-"):
		c.ResourceType = Backend
	case field(rest, "tf_resource_type") != "":
		c.ResourceType = field(rest, "tf_resource_type")
	case field(rest, "tf_data_source_type") != "":
		c.ResourceType = "data." + field(rest, "tf_data_source_type")
	case field(rest, "tf_rpc") == "ConfigureProvider" || field(rest, "tf_rpc") == "":
		c.ResourceType = Provider
	default:
		return Call{}, false, fmt.Errorf("%s %s from %s (%s) names no resource type: %.300s", c.Service, c.Operation, source, field(rest, "tf_rpc"), rest)
	}
	return c, true, nil
}

// ParseFile parses one log; the stack is the file's name up to its first
// dot (calls/dev-network.log is dev-network).
func ParseFile(path string) ([]Call, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	stack, _, _ := strings.Cut(filepath.Base(path), ".")
	return Parse(f, stack)
}

// ParseDir parses <dir>/<stack>.log for every stack keep accepts (nil:
// every stack), merged and sorted; requests are counted per stack.
func ParseDir(dir string, keep func(stack string) bool) ([]Call, map[string]int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, nil, err
	}
	var all []Call
	requests := map[string]int{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".log")
		if strings.Contains(name, ".") || (keep != nil && !keep(name)) {
			continue // <stack>.destroy.log and the like are not a deploy's
		}
		calls, n, err := ParseFile(p)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, calls...)
		requests[name] = n
	}
	sortCalls(all)
	return all, requests, nil
}
