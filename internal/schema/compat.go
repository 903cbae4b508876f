package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/avro"
)

// Incompatibilities returns every reason the reader schema cannot read data
// written with the writer schema, by the Avro specification's resolution
// rules; nil means it can.
//
// It is written here, rather than taken from avro.CheckCompatibility,
// because that stops at the first problem and a caller fixing a schema
// wants them all. Its verdict is the library's: the checks and the matching
// rules (names, aliases, union branch selection, promotions) mirror
// github.com/twmb/avro's compat.go, which the tests cross-check case by
// case, and [Check], which the registry uses, also asks the library so a
// disagreement can never let an incompatible schema through.
//
// The rules:
//   - records match by full name, unqualified name or a reader alias; each
//     reader field is found in the writer by name or by one of its aliases,
//     and a reader field missing from the writer needs a default (a union
//     whose first branch is "null" defaults to null, as the library
//     decodes); writer fields the reader lacks are skipped;
//   - enums match by name; every writer symbol must be a reader symbol
//     unless the reader enum has a default;
//   - fixed match by name and size; decimals by precision and scale;
//   - arrays and maps by their items and values;
//   - a writer union: every branch must resolve against the reader (its
//     matching branch when the reader is a union too);
//   - a reader union: the writer type must match a branch (same type or
//     name first, then unqualified name, then a promotion);
//   - otherwise the types must be the same or a promotion: int to long,
//     float or double; long to float or double; float to double; string to
//     bytes and bytes to string.
//
// A problem inside a named type that is used at several places is reported
// once, at the first place it is met; recursive types are checked once.
func Incompatibilities(writer, reader *avro.Schema) []Incompatibility {
	w, r := writer.Root(), reader.Root()
	c := &checker{
		rNames: map[string]*avro.SchemaNode{},
		wNames: map[string]*avro.SchemaNode{},
		seen:   map[[2]*avro.SchemaNode]bool{},
	}
	collectNames(r, "", c.rNames)
	collectNames(w, "", c.wNames)
	c.check(scoped{r, ""}, scoped{w, ""}, "")
	return c.out
}

// checker walks a reader and a writer tree side by side.
type checker struct {
	rNames, wNames map[string]*avro.SchemaNode
	seen           map[[2]*avro.SchemaNode]bool
	out            []Incompatibility
}

// scoped is a node with the namespace its relative names resolve in.
type scoped struct {
	n  *avro.SchemaNode
	ns string
}

func (c *checker) report(path, format string, args ...any) {
	if path == "" {
		path = "(root)"
	}
	c.out = append(c.out, Incompatibility{Path: path, Reason: fmt.Sprintf(format, args...)})
}

// The kinds a SchemaNode's Type can name besides a reference.
var builtinKinds = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true,
	"string": true, "bytes": true, "record": true, "error": true, "enum": true, "array": true,
	"map": true, "fixed": true, "union": true,
}

// promotions are the writer→reader type changes the specification allows.
var promotions = map[[2]string]bool{
	{"int", "long"}: true, {"int", "float"}: true, {"int", "double"}: true,
	{"long", "float"}: true, {"long", "double"}: true,
	{"float", "double"}: true,
	{"string", "bytes"}: true, {"bytes", "string"}: true,
}

// kind is the node's type with "error" folded into "record".
func kind(n *avro.SchemaNode) string {
	if n.Type == "error" {
		return "record"
	}
	return n.Type
}

func isNamed(k string) bool { return k == "record" || k == "enum" || k == "fixed" }

// fullName is a named type's full name. A dotted name wins over the
// namespace; a single leading dot marks the null namespace.
func fullName(n *avro.SchemaNode) string {
	if strings.Contains(n.Name, ".") {
		return strings.TrimPrefix(n.Name, ".")
	}
	if n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "." + n.Name
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

func unqualified(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// collectNames records every named type defined in the tree by full name.
func collectNames(n *avro.SchemaNode, ns string, into map[string]*avro.SchemaNode) {
	k := kind(n)
	if isNamed(k) {
		full := fullName(n)
		if _, dup := into[full]; !dup {
			into[full] = n
		}
		ns = namespaceOf(full)
	}
	for i := range n.Fields {
		collectNames(&n.Fields[i].Type, ns, into)
	}
	for i := range n.Branches {
		collectNames(&n.Branches[i], ns, into)
	}
	if n.Items != nil {
		collectNames(n.Items, ns, into)
	}
	if n.Values != nil {
		collectNames(n.Values, ns, into)
	}
}

// resolve follows a name reference to its definition. The returned scope's
// namespace is the one names inside the definition resolve in.
func resolve(s scoped, names map[string]*avro.SchemaNode) scoped {
	if builtinKinds[s.n.Type] {
		if isNamed(kind(s.n)) {
			return scoped{s.n, namespaceOf(fullName(s.n))}
		}
		return s
	}
	ref := s.n.Type
	candidates := []string{strings.TrimPrefix(ref, ".")}
	if !strings.Contains(ref, ".") && s.ns != "" {
		candidates = []string{s.ns + "." + ref, ref}
	}
	for _, name := range candidates {
		if def, ok := names[name]; ok {
			return scoped{def, namespaceOf(fullName(def))}
		}
	}
	// Parse rejects unknown names, so this is unreachable for parsed
	// schemas; keep the node and let the kind comparison report it.
	return s
}

// describe names a type for messages: "int", "record com.acme.Event",
// "array", "union [null, string]".
func describe(s scoped, names map[string]*avro.SchemaNode) string {
	s = resolve(s, names)
	k := kind(s.n)
	switch {
	case isNamed(k):
		return k + " " + fullName(s.n)
	case k == "union":
		parts := make([]string, len(s.n.Branches))
		for i := range s.n.Branches {
			parts[i] = describe(scoped{&s.n.Branches[i], s.ns}, names)
		}
		return "union [" + strings.Join(parts, ", ") + "]"
	}
	return k
}

func (c *checker) check(r, w scoped, path string) {
	r, w = resolve(r, c.rNames), resolve(w, c.wNames)
	pair := [2]*avro.SchemaNode{r.n, w.n}
	if c.seen[pair] {
		return
	}
	c.seen[pair] = true

	rk, wk := kind(r.n), kind(w.n)
	switch {
	case wk == "union":
		c.checkWriterUnion(r, w, path)
		return
	case rk == "union":
		b := c.matchBranch(r, w)
		if b == nil {
			c.report(path, "writer type %s matches no branch of the reader %s",
				describe(w, c.wNames), describe(r, c.rNames))
			return
		}
		c.check(*b, w, path)
		return
	case rk != wk:
		if !promotions[[2]string{wk, rk}] {
			c.report(path, "writer type %s cannot be read as reader type %s", describe(w, c.wNames), describe(r, c.rNames))
		}
		return
	}

	if isNamed(rk) && !namesMatch(r.n, w.n) {
		c.report(path, "writer %s does not match reader %s: the names differ and no reader alias names the writer",
			describe(w, c.wNames), describe(r, c.rNames))
	}
	switch rk {
	case "record":
		c.checkRecord(r, w, path)
	case "enum":
		var missing []string
		for _, s := range w.n.Symbols {
			if !slices.Contains(r.n.Symbols, s) {
				missing = append(missing, strconv.Quote(s))
			}
		}
		if len(missing) > 0 && !r.n.HasEnumDefault {
			c.report(path, "writer enum symbols %s are missing from the reader enum, which has no default",
				strings.Join(missing, ", "))
		}
	case "array":
		c.check(scoped{r.n.Items, r.ns}, scoped{w.n.Items, w.ns}, path+"[]")
	case "map":
		c.check(scoped{r.n.Values, r.ns}, scoped{w.n.Values, w.ns}, path+"{}")
	case "fixed":
		if r.n.Size != w.n.Size {
			c.report(path, "fixed size differs: writer %d bytes, reader %d bytes", w.n.Size, r.n.Size)
		}
	}
	if r.n.LogicalType == "decimal" && w.n.LogicalType == "decimal" &&
		(r.n.Precision != w.n.Precision || r.n.Scale != w.n.Scale) {
		c.report(path, "decimal precision or scale differs: writer decimal(%d,%d), reader decimal(%d,%d)",
			w.n.Precision, w.n.Scale, r.n.Precision, r.n.Scale)
	}
}

// checkWriterUnion requires every writer branch to resolve: against the
// matching reader branch when the reader is a union, else against the
// reader itself.
func (c *checker) checkWriterUnion(r, w scoped, path string) {
	rk := kind(r.n)
	for i := range w.n.Branches {
		wb := resolve(scoped{&w.n.Branches[i], w.ns}, c.wNames)
		if rk == "union" {
			rb := c.matchBranch(r, wb)
			if rb == nil {
				c.report(path, "writer union branch %d (%s) matches no branch of the reader %s",
					i, describe(wb, c.wNames), describe(r, c.rNames))
				continue
			}
			c.check(*rb, wb, path)
			continue
		}
		wk := kind(wb.n)
		if wk != rk && !promotions[[2]string{wk, rk}] {
			c.report(path, "writer union branch %d (%s) cannot be read as reader type %s",
				i, describe(wb, c.wNames), describe(r, c.rNames))
			continue
		}
		c.check(r, wb, path)
	}
}

func (c *checker) checkRecord(r, w scoped, path string) {
	writerFields := make(map[string]*avro.SchemaField, len(w.n.Fields))
	for i := range w.n.Fields {
		writerFields[w.n.Fields[i].Name] = &w.n.Fields[i]
	}
	for i := range r.n.Fields {
		rf := &r.n.Fields[i]
		fpath := rf.Name
		if path != "" {
			fpath = path + "." + rf.Name
		}
		wf := writerFields[rf.Name]
		for _, alias := range rf.Aliases {
			if wf != nil {
				break
			}
			wf = writerFields[alias]
		}
		if wf == nil {
			if !rf.HasDefault && !implicitNullDefault(rf.Type) {
				c.report(fpath, "field is missing from the writer and has no default in the reader")
			}
			continue
		}
		c.check(scoped{&rf.Type, r.ns}, scoped{&wf.Type, w.ns}, fpath)
	}

	// Two writer fields must not land in one reader field (one by name, one
	// by alias): resolution would not know which to keep.
	claimedBy := make(map[int]string, len(r.n.Fields))
	for _, wf := range w.n.Fields {
		ri := readerFieldIndex(r.n, wf.Name)
		if ri < 0 {
			continue
		}
		if prev, ok := claimedBy[ri]; ok {
			c.report(path, "writer fields %q and %q both resolve to reader field %q (a name and an alias collide)",
				prev, wf.Name, r.n.Fields[ri].Name)
			continue
		}
		claimedBy[ri] = wf.Name
	}
}

// implicitNullDefault: like github.com/twmb/avro, which decodes for Sluice,
// a field whose type is a union of two or more branches starting with
// "null" defaults to null when it declares no default.
func implicitNullDefault(t avro.SchemaNode) bool {
	return t.Type == "union" && len(t.Branches) >= 2 && t.Branches[0].Type == "null"
}

// readerFieldIndex is the reader field a writer field named name resolves
// to: the one of that name, else the first with that alias; -1 for none.
func readerFieldIndex(r *avro.SchemaNode, name string) int {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return i
		}
	}
	for i := range r.Fields {
		if slices.Contains(r.Fields[i].Aliases, name) {
			return i
		}
	}
	return -1
}

// qualifiedAliases are a named type's aliases as full names: a dotted alias
// is a full name (a single leading dot marks the null namespace), a bare one
// is in the type's namespace.
func qualifiedAliases(n *avro.SchemaNode) []string {
	ns := namespaceOf(fullName(n))
	out := make([]string, 0, len(n.Aliases))
	for _, a := range n.Aliases {
		switch {
		case strings.Contains(a, "."):
			if rest := a[1:]; a[0] == '.' && !strings.Contains(rest, ".") {
				a = rest
			}
			out = append(out, a)
		case ns != "":
			out = append(out, ns+"."+a)
		default:
			out = append(out, a)
		}
	}
	return out
}

// bareAliases are the aliases written without a dot: they also match a
// writer type of that unqualified name in any namespace.
func bareAliases(n *avro.SchemaNode) []string {
	var out []string
	for _, a := range n.Aliases {
		if !strings.Contains(a, ".") {
			out = append(out, a)
		}
	}
	return out
}

// namesMatch: the specification matches named types by unqualified name,
// and reader aliases extend that.
func namesMatch(r, w *avro.SchemaNode) bool {
	rf, wf := fullName(r), fullName(w)
	return rf == wf || unqualified(rf) == unqualified(wf) ||
		slices.Contains(qualifiedAliases(r), wf) || slices.Contains(bareAliases(r), unqualified(wf))
}

// matchBranch selects the reader union branch a writer type resolves to:
// first one of the same kind and full name (or a reader alias naming it),
// then one of the same kind and unqualified name, then the first branch the
// writer type promotes to. A fixed must also have the writer's size.
func (c *checker) matchBranch(r, w scoped) *scoped {
	wk := kind(w.n)
	branches := make([]scoped, len(r.n.Branches))
	for i := range r.n.Branches {
		branches[i] = resolve(scoped{&r.n.Branches[i], r.ns}, c.rNames)
	}
	sameShape := func(b scoped) bool {
		return kind(b.n) == wk && (wk != "fixed" || b.n.Size == w.n.Size)
	}
	if !isNamed(wk) {
		for i := range branches {
			if kind(branches[i].n) == wk {
				return &branches[i]
			}
		}
	} else {
		wf := fullName(w.n)
		for i, b := range branches {
			if sameShape(b) && (fullName(b.n) == wf || slices.Contains(qualifiedAliases(b.n), wf)) {
				return &branches[i]
			}
		}
		for i, b := range branches {
			if sameShape(b) && (unqualified(fullName(b.n)) == unqualified(wf) || slices.Contains(bareAliases(b.n), unqualified(wf))) {
				return &branches[i]
			}
		}
	}
	for i, b := range branches {
		if promotions[[2]string{wk, kind(b.n)}] {
			return &branches[i]
		}
	}
	return nil
}
