package iameval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Decision is the simulator's answer.
type Decision string

// The three answers IAM can give.
const (
	Allowed          Decision = "Allowed"
	ExplicitlyDenied Decision = "ExplicitlyDenied"
	ImplicitlyDenied Decision = "ImplicitlyDenied"
)

// Request is one question: may Principal do Action on Resource, given
// Context?
type Request struct {
	// Principal is a role of the model (name or ARN): the request is made
	// by a session of it, with its inline and attached policies, its
	// boundary and the resource's policy. For a web-identity trust check
	// (sts:AssumeRoleWithWebIdentity on a role), it is the OIDC provider's
	// ARN. For an AWS service ("cloudfront.amazonaws.com") it is the
	// service principal, and only the resource's policy applies. With
	// Identity set, it is any role ARN.
	Principal string
	Action    string
	// Resource is one concrete ARN, or "*". An action that takes no
	// resource type (eks:CreateCluster, kms:CreateKey) is evaluated on "*"
	// whatever ARN is given, as AWS authorizes it.
	Resource string
	// Context holds condition keys: a string or a []string each.
	// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
	// aws:PrincipalTag/*, aws:SecureTransport (true) and, for a resource of
	// the stacks, aws:ResourceTag/* (and for a key, kms:ResourceAliases)
	// are filled in unless given; a key given
	// as nil is absent (a resource being created has no tags yet).
	Context map[string]any
	// Identity, when set, replaces the principal's identity policies: a
	// role that does not exist yet ("whatever its inline policy").
	Identity []Policy
	// Boundary, with Identity, is the ARN of a managed policy of the model
	// used as the permissions boundary.
	Boundary string
	// Note says why the request matters; it is printed when a check fails.
	Note string
}

func (r Request) String() string {
	s := fmt.Sprintf("%s → %s on %s", r.Principal, r.Action, r.Resource)
	if len(r.Context) > 0 {
		keys := make([]string, 0, len(r.Context))
		for k := range r.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, r.Context[k]))
		}
		s += " [" + strings.Join(parts, " ") + "]"
	}
	return s
}

// Result is the simulator's answer to one Request.
type Result struct {
	Request  Request
	Decision Decision
	// Reasons name the statements that decided, per policy type.
	Reasons map[string]any
	// Ignored are context keys the simulator dropped because they do not
	// apply to the action and resource.
	Ignored []string
	// Omitted are attached policies whose document the model does not
	// hold (AWS managed policies); they were left out of the evaluation.
	Omitted []string
	// Err is set when the request could not be evaluated (an unknown
	// action, a resource of the wrong type, an invalid policy).
	Err string
}

// Allowed reports whether the request was allowed.
func (r Result) Allowed() bool { return r.Err == "" && r.Decision == Allowed }

// Explain is the result in one paragraph: the decision and the deciding
// statements.
func (r Result) Explain() string {
	if r.Err != "" {
		return fmt.Sprintf("%s: not evaluated: %s", r.Request, r.Err)
	}
	reasons, _ := json.Marshal(r.Reasons)
	out := fmt.Sprintf("%s: %s %s", r.Request, r.Decision, reasons)
	if len(r.Ignored) > 0 {
		out += fmt.Sprintf(" (context keys that do not apply: %v)", r.Ignored)
	}
	if len(r.Omitted) > 0 {
		out += fmt.Sprintf(" (attached policies unknown to the model, left out: %v)", r.Omitted)
	}
	if r.Request.Note != "" {
		out += " — " + r.Request.Note
	}
	return out
}

// wire is one request as simulate.cjs reads it.
type wire struct {
	Principal       string         `json:"principal"`
	Action          string         `json:"action"`
	Resource        string         `json:"resource"`
	ResourceAccount string         `json:"resourceAccount"`
	Context         map[string]any `json:"context"`
	Identity        []Policy       `json:"identity"`
	// Auto are the context keys the evaluator filled in; the simulator
	// dropping one of them is no finding.
	Auto           []string `json:"auto"`
	Boundary       *Policy  `json:"boundary,omitempty"`
	ResourcePolicy *Policy  `json:"resourcePolicy,omitempty"`
}

type answer struct {
	Decision Decision       `json:"decision"`
	Reasons  map[string]any `json:"reasons"`
	Ignored  []string       `json:"ignored"`
	Error    string         `json:"error"`
}

// Evaluate answers every request in one round trip to the simulator.
func (m *Model) Evaluate(reqs []Request) ([]Result, error) {
	results := make([]Result, len(reqs))
	var batch []wire
	var index []int
	for i, r := range reqs {
		results[i].Request = r
		w, omitted, err := m.wire(r)
		results[i].Omitted = omitted
		if err != nil {
			results[i].Err = err.Error()
			continue
		}
		batch = append(batch, w)
		index = append(index, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	answers, err := simulate(batch)
	if err != nil {
		return nil, err
	}
	for j, a := range answers {
		r := &results[index[j]]
		r.Decision, r.Reasons, r.Ignored, r.Err = a.Decision, a.Reasons, a.Ignored, a.Error
	}
	return results, nil
}

// wire resolves a request against the model: the principal's policies and
// boundary, the resource's policy, the principal's context keys.
func (m *Model) wire(r Request) (wire, []string, error) {
	w := wire{Action: r.Action, Resource: r.Resource, ResourceAccount: resourceAccount(r.Resource), Context: map[string]any{}}
	for k, v := range r.Context {
		w.Context[k] = v
	}
	var omitted []string
	webIdentity := strings.EqualFold(r.Action, "sts:AssumeRoleWithWebIdentity")
	service := IsServicePrincipal(r.Principal)
	switch {
	case webIdentity, service:
		w.Principal = r.Principal
	case r.Identity != nil:
		w.Principal, w.Identity = sessionArn(r.Principal), r.Identity
		setDefault(w.Context, "aws:PrincipalArn", r.Principal)
		if r.Boundary != "" {
			b, ok := m.Policies[r.Boundary]
			if !ok {
				return w, nil, fmt.Errorf("boundary %s is not a managed policy of the stacks", r.Boundary)
			}
			w.Boundary = &b
		}
	default:
		role := m.Role(r.Principal)
		if role == nil {
			return w, nil, fmt.Errorf("principal %q is not a role of the %s stacks", r.Principal, m.Env.Name)
		}
		w.Principal = sessionArn(role.Arn)
		setDefault(w.Context, "aws:PrincipalArn", role.Arn)
		for k, v := range role.Tags {
			setDefault(w.Context, "aws:PrincipalTag/"+k, v)
		}
		w.Identity = append(w.Identity, role.Inline...)
		for _, arn := range role.Managed {
			if p, ok := m.Policies[arn]; ok {
				w.Identity = append(w.Identity, p)
			} else {
				omitted = append(omitted, arn)
			}
		}
		if role.Boundary != "" {
			b, ok := m.Policies[role.Boundary]
			if !ok {
				return w, omitted, fmt.Errorf("role %s: boundary %s is not a managed policy of the stacks", role.Name, role.Boundary)
			}
			w.Boundary = &b
		}
	}
	if w.Identity == nil {
		w.Identity = []Policy{}
	}
	if !webIdentity && !service {
		setDefault(w.Context, "aws:PrincipalAccount", Account)
		setDefault(w.Context, "aws:PrincipalType", "AssumedRole")
		setDefault(w.Context, "aws:SecureTransport", "true")
	}
	if p := m.resourcePolicy(r.Action, r.Resource); p != nil {
		w.ResourcePolicy = p
	}
	for k, v := range m.ResourceTags[r.Resource] {
		setDefault(w.Context, "aws:ResourceTag/"+k, v)
	}
	if aliases := m.KeyAliases[r.Resource]; len(aliases) > 0 && strings.HasPrefix(r.Action, "kms:") {
		setDefault(w.Context, "kms:ResourceAliases", append([]string(nil), aliases...))
	}
	for k, v := range w.Context {
		if v == nil { // given as nil: absent, and not filled in
			delete(w.Context, k)
			continue
		}
		if _, given := r.Context[k]; !given {
			w.Auto = append(w.Auto, k)
		}
	}
	sort.Strings(w.Auto)
	return w, omitted, nil
}

// resourcePolicy finds the policy attached to the resource a request
// names: a role's trust policy for sts:AssumeRole*, a bucket's policy for
// the bucket and its objects, a key's, queue's, secret's or CA's own.
func (m *Model) resourcePolicy(action, resource string) *Policy {
	if strings.HasPrefix(strings.ToLower(action), "sts:assumerole") {
		if r := m.Roles[resource]; r != nil {
			p := r.Trust
			return &p
		}
		return nil
	}
	if p, ok := m.ResourcePolicies[resource]; ok {
		return &p
	}
	if bucket, _, isObject := strings.Cut(strings.TrimPrefix(resource, "arn:aws:s3:::"), "/"); isObject && strings.HasPrefix(resource, "arn:aws:s3:::") {
		if p, ok := m.ResourcePolicies["arn:aws:s3:::"+bucket]; ok {
			return &p
		}
	}
	return nil
}

func setDefault(ctx map[string]any, k string, v any) {
	if _, ok := ctx[k]; !ok {
		ctx[k] = v
	}
}

// IsServicePrincipal reports whether principal is an AWS service
// ("cloudfront.amazonaws.com"): it has no identity policies, so only the
// resource's policy can allow its request.
func IsServicePrincipal(principal string) bool {
	return strings.HasSuffix(principal, ".amazonaws.com") && !strings.Contains(principal, ":")
}

// sessionArn is the assumed-role session of a role ARN: the principal a
// request is made by (a role with a path has no path in its session ARN).
func sessionArn(roleArn string) string {
	account, rest, ok := strings.Cut(strings.TrimPrefix(roleArn, "arn:aws:iam::"), ":role/")
	if !ok {
		return roleArn
	}
	name := rest[strings.LastIndex(rest, "/")+1:]
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/iameval", account, name)
}

// resourceAccount is the account that owns an ARN (S3 ARNs carry none:
// every bucket of the stacks is in Account).
func resourceAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return Account
}

// The simulator: one Node process per test binary, started on first use.
var (
	simMu  sync.Mutex
	simCmd *exec.Cmd
	simIn  io.WriteCloser
	simOut *bufio.Reader
	simErr strings.Builder
)

// Timeout bounds one batch's round trip to the simulator.
var Timeout = 2 * time.Minute

func simulate(batch []wire) ([]answer, error) {
	simMu.Lock()
	defer simMu.Unlock()
	if simCmd == nil {
		if err := startSimulator(); err != nil {
			return nil, err
		}
	}
	line, err := json.Marshal(batch)
	if err != nil {
		return nil, err
	}
	type reply struct {
		raw []byte
		err error
	}
	done := make(chan reply, 1)
	go func() {
		if _, err := simIn.Write(append(line, '\n')); err != nil {
			done <- reply{err: err}
			return
		}
		raw, err := simOut.ReadBytes('\n')
		done <- reply{raw, err}
	}()
	var rep reply
	select {
	case rep = <-done:
	case <-time.After(Timeout):
		stopSimulator()
		return nil, fmt.Errorf("the IAM simulator did not answer %d requests within %s", len(batch), Timeout)
	}
	if rep.err != nil {
		stopSimulator()
		return nil, fmt.Errorf("the IAM simulator failed: %v\n%s", rep.err, simErr.String())
	}
	var answers []answer
	if err := json.Unmarshal(rep.raw, &answers); err != nil {
		return nil, fmt.Errorf("the IAM simulator answered %q: %w", strings.TrimSpace(string(rep.raw)), err)
	}
	if len(answers) != len(batch) {
		return nil, fmt.Errorf("the IAM simulator answered %d of %d requests", len(answers), len(batch))
	}
	return answers, nil
}

func startSimulator() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	script := filepath.Join(root, "internal", "iameval", "simulate.cjs")
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		return fmt.Errorf("@cloud-copilot/iam-simulate is not installed in %s/node_modules: run `make gen` (npm ci)", root)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return errors.New("node is not on PATH; the IAM evaluator runs @cloud-copilot/iam-simulate")
	}
	cmd := exec.CommandContext(context.Background(), node, script)
	cmd.Dir = root
	simErr.Reset()
	cmd.Stderr = &simErr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	simCmd, simIn, simOut = cmd, in, bufio.NewReaderSize(out, 1<<20)
	return nil
}

func stopSimulator() {
	if simCmd == nil {
		return
	}
	_ = simIn.Close()
	_ = simCmd.Process.Kill()
	_ = simCmd.Wait()
	simCmd = nil
}

// RepoRoot is the checkout that holds internal/iameval and node_modules
// (see repoRoot): where the IAM catalog the evaluator decides with lives.
func RepoRoot() (string, error) { return repoRoot() }

// repoRoot is the checkout that holds internal/iameval and node_modules:
// the first parent of the working directory with a go.mod and package.json.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "package.json")) &&
			fileExists(filepath.Join(dir, "internal", "iameval", "simulate.cjs")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no checkout with internal/iameval/simulate.cjs above the working directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
