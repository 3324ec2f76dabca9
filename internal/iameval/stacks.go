package iameval

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Account is the AWS account id every `${…}` reference resolves in
// (data.aws_caller_identity, ARNs the provider would compute): the
// documentation's example account, so a test never names a real one.
const Account = "111122223333"

// Env is the synthesized stacks of one environment, with every `${…}`
// reference resolvable to the concrete value it would have in Account:
// literals from the configuration, computed attributes (ARNs, ids) from a
// table of the provider's formats, outputs of other stacks through
// terraform_remote_state.
type Env struct {
	// Name is the environment, e.g. "dev".
	Name   string
	stacks map[string]*stack
	// ids are the stack ids in sorted order.
	ids  []string
	memo map[string]cty.Value
	busy map[string]bool
}

type stack struct {
	id  string
	doc map[string]any
	// regions maps a provider alias ("" for the default) to its region.
	regions map[string]string
	// tags are the default provider's default_tags.
	tags map[string]string
}

// LoadEnv reads env's stacks from docs, keyed by stack id ("dev-cicd"), each
// the stack's cdk.tf.json as Testing_Synth or `cdktf synth` wrote it.
func LoadEnv(env string, docs map[string][]byte) (*Env, error) {
	e := &Env{Name: env, stacks: map[string]*stack{}, memo: map[string]cty.Value{}, busy: map[string]bool{}}
	for id, raw := range docs {
		if !strings.HasPrefix(id, env+"-") {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("stack %s: %w", id, err)
		}
		st := &stack{id: id, doc: doc, regions: map[string]string{}, tags: map[string]string{}}
		for _, p := range list(dig(doc, "provider", "aws")) {
			pm, _ := p.(map[string]any)
			alias, _ := pm["alias"].(string)
			region, _ := pm["region"].(string)
			st.regions[alias] = region
			if alias == "" {
				for _, dt := range list(pm["default_tags"]) {
					for k, v := range asMap(asMap(dt)["tags"]) {
						if s, ok := v.(string); ok {
							st.tags[k] = s
						}
					}
				}
			}
		}
		e.stacks[id] = st
		e.ids = append(e.ids, id)
	}
	if len(e.ids) == 0 {
		return nil, fmt.Errorf("no stack of env %q among the %d given", env, len(docs))
	}
	sort.Strings(e.ids)
	return e, nil
}

// LoadEnvDir reads env's stacks from a cdktf output directory (cdktf.out):
// <dir>/stacks/<env>-*/cdk.tf.json.
func LoadEnvDir(dir, env string) (*Env, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "stacks", env+"-*", "cdk.tf.json"))
	if err != nil {
		return nil, err
	}
	docs := map[string][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		docs[filepath.Base(filepath.Dir(p))] = raw
	}
	return LoadEnv(env, docs)
}

// Stacks returns the stack ids, sorted.
func (e *Env) Stacks() []string { return append([]string(nil), e.ids...) }

// Blocks returns the resources (kind "resource") or data sources (kind
// "data") of type typ in stack id, by logical name.
func (e *Env) Blocks(id, kind, typ string) map[string]map[string]any {
	st := e.stacks[id]
	if st == nil {
		return nil
	}
	out := map[string]map[string]any{}
	for name, cfg := range asMap(dig(st.doc, kind, typ)) {
		out[name] = asMap(cfg)
	}
	return out
}

// Attr resolves one attribute of a resource or data source ("aws_iam_role.x"
// or "data.aws_iam_policy_document.y") of stack id to a plain Go value
// (string, float64, bool, []any, map[string]any).
func (e *Env) Attr(id, address, attr string) (any, error) {
	st := e.stacks[id]
	if st == nil {
		return nil, fmt.Errorf("no stack %s", id)
	}
	kind, typ, name, err := splitAddress(address)
	if err != nil {
		return nil, err
	}
	v, err := e.attribute(st, kind, typ, name, attr)
	if err != nil {
		return nil, err
	}
	return fromCty(v)
}

// Resolve returns v (a value from stack id's JSON) with every `${…}`
// template evaluated.
func (e *Env) Resolve(id string, v any) (any, error) {
	st := e.stacks[id]
	if st == nil {
		return nil, fmt.Errorf("no stack %s", id)
	}
	c, err := e.toCty(st, v)
	if err != nil {
		return nil, err
	}
	return fromCty(c)
}

// String resolves v to a string, or fails naming what it was.
func (e *Env) String(id string, v any) (string, error) {
	r, err := e.Resolve(id, v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%v resolves to %T, not a string", v, r)
	}
	return s, nil
}

func splitAddress(a string) (kind, typ, name string, err error) {
	parts := strings.Split(a, ".")
	switch {
	case len(parts) == 3 && parts[0] == "data":
		return "data", parts[1], parts[2], nil
	case len(parts) == 2:
		return "resource", parts[0], parts[1], nil
	}
	return "", "", "", fmt.Errorf("address %q is neither <type>.<name> nor data.<type>.<name>", a)
}

// toCty converts a JSON value of st to cty, evaluating templates.
func (e *Env) toCty(st *stack, v any) (cty.Value, error) {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType), nil
	case string:
		return e.evalString(st, x)
	case bool:
		return cty.BoolVal(x), nil
	case float64:
		return cty.NumberFloatVal(x), nil
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal, nil
		}
		out := make([]cty.Value, 0, len(x))
		for _, c := range x {
			cv, err := e.toCty(st, c)
			if err != nil {
				return cty.NilVal, err
			}
			out = append(out, cv)
		}
		return cty.TupleVal(out), nil
	case map[string]any:
		if len(x) == 0 {
			return cty.EmptyObjectVal, nil
		}
		out := map[string]cty.Value{}
		for k, c := range x {
			if k == "//" {
				continue
			}
			cv, err := e.toCty(st, c)
			if err != nil {
				return cty.NilVal, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = cv
		}
		return cty.ObjectVal(out), nil
	}
	return cty.NilVal, fmt.Errorf("unexpected JSON value %T", v)
}

// evalString evaluates a Terraform JSON string: a literal, or a template
// with `${…}` interpolations. Only the attributes an expression names are
// resolved.
func (e *Env) evalString(st *stack, s string) (cty.Value, error) {
	if !strings.Contains(s, "${") && !strings.Contains(s, "%{") {
		return cty.StringVal(s), nil
	}
	expr, diags := hclsyntax.ParseTemplate([]byte(s), st.id, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s: parsing %q: %s", st.id, s, diags.Error())
	}
	vars := map[string]any{}
	for _, tr := range expr.Variables() {
		if err := e.addTraversal(st, tr, vars); err != nil {
			return cty.NilVal, fmt.Errorf("%s: %q: %w", st.id, s, err)
		}
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: functions}
	for k, v := range vars {
		ctx.Variables[k] = nest(v)
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s: evaluating %q: %s", st.id, s, diags.Error())
	}
	return v, nil
}

// nest turns the maps addTraversal built into cty objects.
func nest(v any) cty.Value {
	switch x := v.(type) {
	case cty.Value:
		return x
	case map[string]any:
		out := map[string]cty.Value{}
		for k, c := range x {
			out[k] = nest(c)
		}
		return cty.ObjectVal(out)
	}
	panic(fmt.Sprintf("nest: %T", v))
}

func put(vars map[string]any, v cty.Value, path ...string) {
	m := vars
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func stepName(tr hcl.Traversal, i int) (string, bool) {
	if i >= len(tr) {
		return "", false
	}
	switch s := tr[i].(type) {
	case hcl.TraverseRoot:
		return s.Name, true
	case hcl.TraverseAttr:
		return s.Name, true
	}
	return "", false
}

// addTraversal resolves the attribute a traversal names and records it in
// vars at its path (root, type, name, attribute).
func (e *Env) addTraversal(st *stack, tr hcl.Traversal, vars map[string]any) error {
	root := tr.RootName()
	names := make([]string, 0, 5)
	for i := 0; i < 5; i++ {
		n, ok := stepName(tr, i)
		if !ok {
			break
		}
		names = append(names, n)
	}
	switch {
	case root == "terraform" && len(names) >= 2 && names[1] == "workspace":
		put(vars, cty.StringVal("default"), "terraform", "workspace")
		return nil
	case root == "data" && len(names) >= 5 && names[1] == "terraform_remote_state" && names[3] == "outputs":
		v, err := e.remoteOutput(st, names[2], names[4])
		if err != nil {
			return err
		}
		put(vars, v, names[:5]...)
		return nil
	case root == "data" && len(names) >= 4:
		v, err := e.attribute(st, "data", names[1], names[2], names[3])
		if err != nil {
			return err
		}
		put(vars, v, names[:4]...)
		return nil
	case strings.HasPrefix(root, "aws_") && len(names) >= 3:
		v, err := e.attribute(st, "resource", names[0], names[1], names[2])
		if err != nil {
			return err
		}
		put(vars, v, names[:3]...)
		return nil
	}
	return fmt.Errorf("reference %s is not supported by the evaluator", traversalString(tr))
}

func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for i := range tr {
		if n, ok := stepName(tr, i); ok {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(n)
		} else {
			b.WriteString("[…]")
		}
	}
	return b.String()
}

// remoteOutput is output `out` of the stack a terraform_remote_state
// data source of st reads (its backend key is "<env>/<stack>.tfstate").
func (e *Env) remoteOutput(st *stack, ref, out string) (cty.Value, error) {
	cfg := asMap(dig(st.doc, "data", "terraform_remote_state", ref))
	key, _ := asMap(cfg["config"])["key"].(string)
	if key == "" {
		return cty.NilVal, fmt.Errorf("terraform_remote_state.%s has no backend key", ref)
	}
	id := strings.ReplaceAll(strings.TrimSuffix(key, ".tfstate"), "/", "-")
	other := e.stacks[id]
	if other == nil {
		return cty.NilVal, fmt.Errorf("terraform_remote_state.%s reads %s, which is not among the stacks of %s", ref, key, e.Name)
	}
	o := asMap(dig(other.doc, "output", out))
	if o == nil {
		return cty.NilVal, fmt.Errorf("stack %s has no output %s", id, out)
	}
	return e.toCty(other, o["value"])
}

// attribute resolves attr of a resource or data source of st: from its
// configuration when set there, else from the provider's computed value.
func (e *Env) attribute(st *stack, kind, typ, name, attr string) (cty.Value, error) {
	key := st.id + "|" + kind + "." + typ + "." + name + "|" + attr
	if v, ok := e.memo[key]; ok {
		return v, nil
	}
	if e.busy[key] {
		return cty.NilVal, fmt.Errorf("%s.%s.%s refers to itself", typ, name, attr)
	}
	e.busy[key] = true
	defer delete(e.busy, key)
	cfg, ok := asMap(dig(st.doc, kind, typ))[name].(map[string]any)
	if !ok {
		return cty.NilVal, fmt.Errorf("stack %s has no %s %s.%s", st.id, kind, typ, name)
	}
	o := &object{e: e, st: st, kind: kind, typ: typ, name: name, cfg: cfg}
	var v cty.Value
	var err error
	if raw, set := cfg[attr]; set && !computedOverConfig[typ+"."+attr] {
		v, err = e.toCty(st, raw)
	} else {
		v, err = o.computed(attr)
	}
	if err != nil {
		return cty.NilVal, err
	}
	e.memo[key] = v
	return v, nil
}

// fromCty converts a resolved value to plain Go values.
func fromCty(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsWhollyKnown() {
		return nil, errors.New("value is not known")
	}
	raw, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(raw, &out)
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// list treats a JSON block as a list: cdktf writes a block as an object or
// as an array of objects.
func list(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// Tags are the tags a resource of stack id gets: the provider's default
// tags merged with its own tags attribute.
func (e *Env) Tags(id, address string) (map[string]string, error) {
	st := e.stacks[id]
	if st == nil {
		return nil, fmt.Errorf("no stack %s", id)
	}
	kind, typ, name, err := splitAddress(address)
	if err != nil {
		return nil, err
	}
	cfg := asMap(asMap(dig(st.doc, kind, typ))[name])
	out := map[string]string{}
	for k, v := range st.tags {
		out[k] = v
	}
	resolved, err := e.Resolve(id, cfg["tags"])
	if err != nil {
		return nil, fmt.Errorf("%s %s: tags: %w", id, address, err)
	}
	for k, v := range asMap(resolved) {
		out[k], _ = v.(string)
	}
	return out, nil
}

// Region is the region of the provider a resource of stack id uses.
func (e *Env) Region(id, address string) string {
	st := e.stacks[id]
	kind, typ, name, err := splitAddress(address)
	if st == nil || err != nil {
		return ""
	}
	o := &object{e: e, st: st, kind: kind, typ: typ, name: name, cfg: asMap(asMap(dig(st.doc, kind, typ))[name])}
	return o.region()
}

// Raw returns the unresolved value at path in stack id's JSON
// ("terraform", "backend", "s3"), or nil.
func (e *Env) Raw(id string, path ...string) any {
	st := e.stacks[id]
	if st == nil {
		return nil
	}
	return dig(st.doc, path...)
}

// DataTypes are the data source types stack id declares, sorted.
func (e *Env) DataTypes(id string) []string {
	st := e.stacks[id]
	if st == nil {
		return nil
	}
	var out []string
	for typ := range asMap(st.doc["data"]) {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

// ResourceTypes are the resource types stack id declares, sorted.
func (e *Env) ResourceTypes(id string) []string {
	st := e.stacks[id]
	if st == nil {
		return nil
	}
	var out []string
	for typ := range asMap(st.doc["resource"]) {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}
