package decode

import (
	"strings"

	"github.com/twmb/avro"
)

// avroKind is the Avro type of a schema node.
type avroKind uint8

const (
	aNull avroKind = iota
	aBoolean
	aInt
	aLong
	aFloat
	aDouble
	aBytes
	aString
	aRecord
	aEnum
	aArray
	aMap
	aUnion
	aFixed
)

var avroKindNames = [...]string{
	aNull: "null", aBoolean: "boolean", aInt: "int", aLong: "long", aFloat: "float",
	aDouble: "double", aBytes: "bytes", aString: "string", aRecord: "record",
	aEnum: "enum", aArray: "array", aMap: "map", aUnion: "union", aFixed: "fixed",
}

func (k avroKind) String() string { return avroKindNames[k] }

var primitiveKinds = map[string]avroKind{
	"null": aNull, "boolean": aBoolean, "int": aInt, "long": aLong, "float": aFloat,
	"double": aDouble, "bytes": aBytes, "string": aString,
}

// node is one schema node with name references resolved to the definition,
// so recursive schemas are cyclic graphs. Both writer and reader schemas are
// read into this form once, at compile time.
type node struct {
	kind avroKind
	// name is the full name of a record, enum or fixed; aliases are the full
	// names it also answers to, bareAliases those written without a dot.
	name        string
	aliases     []string
	bareAliases []string

	logical   Logical
	precision int
	scale     int
	size      int

	symbols     []string
	enumDefault int // index into symbols, -1 for none

	fields   []field
	items    *node
	values   *node
	branches []*node
}

type field struct {
	name       string
	aliases    []string
	typ        *node
	hasDefault bool
	def        any
}

func (n *node) isNamed() bool { return n.kind == aRecord || n.kind == aEnum || n.kind == aFixed }

func (n *node) describe() string {
	if n.isNamed() {
		return n.kind.String() + " " + n.name
	}
	return n.kind.String()
}

// nodeOf reads a parsed schema into the node graph.
func nodeOf(s *avro.Schema) (*node, error) {
	b := &nodeBuilder{named: map[string]*node{}}
	return b.build(s.Root(), "", "")
}

type nodeBuilder struct {
	named map[string]*node
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func unqualified(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func (b *nodeBuilder) build(sn *avro.SchemaNode, ns, path string) (*node, error) {
	switch sn.Type {
	case "record", "error":
		n := b.define(sn, aRecord)
		childNS := namespaceOf(n.name)
		n.fields = make([]field, len(sn.Fields))
		for i := range sn.Fields {
			sf := &sn.Fields[i]
			ft, err := b.build(&sf.Type, childNS, joinPath(path, sf.Name))
			if err != nil {
				return nil, err
			}
			liftFieldLogical(ft, sf)
			n.fields[i] = field{name: sf.Name, aliases: sf.Aliases, typ: ft, hasDefault: sf.HasDefault, def: sf.Default}
		}
		return n, nil
	case "enum":
		n := b.define(sn, aEnum)
		n.symbols = sn.Symbols
		n.enumDefault = -1
		if sn.HasEnumDefault {
			for i, s := range sn.Symbols {
				if s == sn.EnumDefault {
					n.enumDefault = i
					break
				}
			}
		}
		return n, nil
	case "fixed":
		n := b.define(sn, aFixed)
		n.size = sn.Size
		n.setLogical(sn.LogicalType, sn.Precision, sn.Scale)
		return n, nil
	case "array":
		if sn.Items == nil {
			return nil, compileErr(ErrSchema, path, "array without items")
		}
		items, err := b.build(sn.Items, ns, path)
		if err != nil {
			return nil, err
		}
		return &node{kind: aArray, items: items}, nil
	case "map":
		if sn.Values == nil {
			return nil, compileErr(ErrSchema, path, "map without values")
		}
		values, err := b.build(sn.Values, ns, path)
		if err != nil {
			return nil, err
		}
		return &node{kind: aMap, values: values}, nil
	case "union":
		n := &node{kind: aUnion, branches: make([]*node, len(sn.Branches))}
		for i := range sn.Branches {
			br, err := b.build(&sn.Branches[i], ns, path)
			if err != nil {
				return nil, err
			}
			n.branches[i] = br
		}
		return n, nil
	}
	if k, ok := primitiveKinds[sn.Type]; ok {
		n := &node{kind: k}
		n.setLogical(sn.LogicalType, sn.Precision, sn.Scale)
		return n, nil
	}
	// A name reference: resolved in the enclosing namespace first, then as
	// written (a full name, or a name in the null namespace).
	if n, ok := b.named[fullName(sn.Type, ns)]; ok {
		return n, nil
	}
	if n, ok := b.named[sn.Type]; ok {
		return n, nil
	}
	return nil, compileErr(ErrSchema, path, "unknown type %q", sn.Type)
}

// define registers a named type before its children are built, so that a
// recursive reference finds it.
func (b *nodeBuilder) define(sn *avro.SchemaNode, k avroKind) *node {
	n := &node{kind: k, name: fullName(sn.Name, sn.Namespace)}
	ns := namespaceOf(n.name)
	for _, a := range sn.Aliases {
		n.aliases = append(n.aliases, fullName(a, ns))
		if !strings.Contains(a, ".") {
			n.bareAliases = append(n.bareAliases, a)
		}
	}
	b.named[n.name] = n
	return n
}

func namespaceOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return ""
}

// liftFieldLogical applies a logicalType written on the field rather than
// on its type ({"name":"ts","type":"long","logicalType":"timestamp-millis"}),
// which twmb/avro honours when decoding; we follow it.
func liftFieldLogical(t *node, sf *avro.SchemaField) {
	if _, primitive := primitiveKinds[sf.Type.Type]; !primitive || t.logical != LogicalNone {
		return
	}
	lt, ok := sf.Props["logicalType"].(string)
	if !ok {
		return
	}
	prec, _ := propInt(sf.Props["precision"])
	scale, _ := propInt(sf.Props["scale"])
	t.setLogical(lt, prec, scale)
}

func propInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case float64:
		return int(x), x == float64(int(x))
	}
	return 0, false
}

// setLogical records a logical annotation that the specification allows on
// the node's type, and ignores any other.
func (n *node) setLogical(name string, precision, scale int) {
	var l Logical
	switch name {
	case "date":
		l = pick(n.kind == aInt, LogicalDate)
	case "time-millis":
		l = pick(n.kind == aInt, LogicalTimeMillis)
	case "time-micros":
		l = pick(n.kind == aLong, LogicalTimeMicros)
	case "timestamp-millis":
		l = pick(n.kind == aLong, LogicalTimestampMillis)
	case "timestamp-micros":
		l = pick(n.kind == aLong, LogicalTimestampMicros)
	case "timestamp-nanos":
		l = pick(n.kind == aLong, LogicalTimestampNanos)
	case "local-timestamp-millis":
		l = pick(n.kind == aLong, LogicalLocalTimestampMillis)
	case "local-timestamp-micros":
		l = pick(n.kind == aLong, LogicalLocalTimestampMicros)
	case "local-timestamp-nanos":
		l = pick(n.kind == aLong, LogicalLocalTimestampNanos)
	case "decimal":
		l = pick((n.kind == aBytes || n.kind == aFixed) && precision > 0 && scale >= 0 && scale <= precision, LogicalDecimal)
	case "uuid":
		l = pick(n.kind == aString || n.kind == aFixed && n.size == 16, LogicalUUID)
	case "duration":
		l = pick(n.kind == aFixed && n.size == 12, LogicalDuration)
	}
	n.logical = l
	if l == LogicalDecimal {
		n.precision, n.scale = precision, scale
	}
}

func pick(ok bool, l Logical) Logical {
	if ok {
		return l
	}
	return LogicalNone
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// namesMatch is the specification's rule for named types: the unqualified
// names agree, or the reader lists the writer's name among its aliases.
func namesMatch(r, w *node) bool {
	if r.name == w.name || unqualified(r.name) == unqualified(w.name) {
		return true
	}
	for _, a := range r.aliases {
		if a == w.name {
			return true
		}
	}
	for _, a := range r.bareAliases {
		if a == unqualified(w.name) {
			return true
		}
	}
	return false
}

// promotes reports whether a writer value of kind w can be read as reader
// kind r by the specification's promotions.
func promotes(w, r avroKind) bool {
	switch w {
	case aInt:
		return r == aLong || r == aFloat || r == aDouble
	case aLong:
		return r == aFloat || r == aDouble
	case aFloat:
		return r == aDouble
	case aString:
		return r == aBytes
	case aBytes:
		return r == aString
	}
	return false
}

// matches is the shallow test the specification applies to pick a union
// branch: same kind (and name, for named types) or a promotion.
func matches(r, w *node) bool {
	if r.kind == w.kind {
		if r.isNamed() {
			return namesMatch(r, w) && (r.kind != aFixed || r.size == w.size)
		}
		return true
	}
	return promotes(w.kind, r.kind)
}

// readerBranch picks the reader union branch a writer (non-union) type
// resolves to, by twmb/avro's ranking of the specification's rule: same
// kind and full name (or alias), then same kind and unqualified name, then
// the first branch the writer type promotes to. -1 if none.
func readerBranch(r, w *node) int {
	for i, rb := range r.branches {
		if rb.kind != w.kind {
			continue
		}
		if !rb.isNamed() {
			return i
		}
		if rb.kind == aFixed && rb.size != w.size {
			continue
		}
		if rb.name == w.name {
			return i
		}
		for _, a := range rb.aliases {
			if a == w.name {
				return i
			}
		}
	}
	if w.isNamed() {
		for i, rb := range r.branches {
			if rb.kind == w.kind && namesMatch(rb, w) && (rb.kind != aFixed || rb.size == w.size) {
				return i
			}
		}
	}
	for i, rb := range r.branches {
		if promotes(w.kind, rb.kind) {
			return i
		}
	}
	return -1
}
