package decode

import (
	"fmt"
	"strings"

	"github.com/twmb/avro"
)

// Decoder decodes records written with one writer schema into rows of the
// fields one projection reads from one reader schema. Build it once with
// [Compile] (or get it from a [Cache]) and use it for every record of that
// writer schema. A Decoder is immutable and safe for concurrent use; each
// goroutine brings its own Row.
type Decoder struct {
	columns []Column
	ops     []op
	// stop is how many ops Decode runs: everything after the last op that
	// writes a column only skips, and a top-level record ends with the
	// buffer, so those bytes are never looked at.
	stop int
}

// Columns describes the row: one column per projection path, in order.
// The slice and the types it points to are shared: do not modify them.
func (d *Decoder) Columns() []Column { return d.columns }

// Decode decodes one record into row, reusing row.Values. Bytes after the
// last field the projection needs are not examined, so they are neither
// validated nor charged for. On error the row's contents are unspecified.
// Decode never panics and allocates nothing once row has room for the
// columns, except for the error it returns.
func (d *Decoder) Decode(record []byte, row *Row) error {
	n := len(d.columns)
	if cap(row.Values) < n {
		row.Values = make([]Value, n)
	}
	row.Values = row.Values[:n]
	_, err := run(d.ops[:d.stop], record, 0, row.Values, 0)
	return err
}

type opcode uint8

const (
	opSkipVarint opcode = iota // int, long, enum
	opSkipFixed                // n bytes
	opSkipBytes                // string, bytes
	opSkip                     // anything else, by aux.skip
	opNull
	opBool
	opInt      // writer int to I
	opLong     // writer long to I
	opIntFloat // writer int to F, rounded to float32 for KindFloat
	opLongFloat
	opFloat // writer float to F
	opDouble
	opBytes // writer string or bytes to B
	opEnum
	opFixed
	opRaw     // an array, map or record kept encoded, stepped over by aux.skip
	opMark    // remember where a projected record starts...
	opCapture // ...and keep it encoded once its projected fields are decoded
	opUnion   // writer union: run aux.branches[index]
	opFail    // a writer union branch the reader has no place for
	opFill    // a reader default, computed at compile time
)

// op is one step of a compiled program. Programs are flat slices run by
// run; only writer unions nest (one program per branch).
type op struct {
	code   opcode
	kind   Kind
	branch uint16
	col    int32
	n      int
	field  string // writer field path, for errors
	aux    *opAux
}

type opAux struct {
	skip     *skipper
	branches [][]op
	symbols  []enumSym // by writer symbol index
	nested   *Decoder
	fill     Value
	fault    fault
}

// enumSym is what a writer enum symbol reads as: the reader's index and
// symbol, or !ok when the reader has neither it nor a default.
type enumSym struct {
	ok    bool
	index int64
	sym   []byte
}

// Compile builds a decoder for records written with writer, read as
// reader, producing the fields named by projection. A path is a dotted list
// of reader field names ("src.ip"); it may step through a record or a union
// of null and one record. A path may name a field of any type: arrays, maps
// and records come back encoded, with a nested Decoder (see [Value]).
//
// The writer and reader must resolve as a whole by the Avro specification,
// not only in the projected fields. Failures are *CompileError wrapping
// ErrSchema, ErrIncompatible, ErrNoDefault or ErrUnknownPath.
func Compile(writer, reader *avro.Schema, projection []string) (*Decoder, error) {
	if writer == nil || reader == nil {
		return nil, compileErr(ErrSchema, "", "nil schema")
	}
	w, err := nodeOf(writer)
	if err != nil {
		return nil, err
	}
	r, err := nodeOf(reader)
	if err != nil {
		return nil, err
	}
	c := newCompiler()
	if _, err := c.nestedDecoder(w, r, ""); err != nil {
		return nil, err
	}
	return c.decoder(w, r, projection)
}

// CompileJSON is [Compile] for schemas given as JSON text.
func CompileJSON(writer, reader string, projection []string) (*Decoder, error) {
	ws, err := avro.Parse(writer)
	if err != nil {
		return nil, &CompileError{Err: ErrSchema, Detail: "writer: " + err.Error()}
	}
	rs, err := avro.Parse(reader)
	if err != nil {
		return nil, &CompileError{Err: ErrSchema, Detail: "reader: " + err.Error()}
	}
	return Compile(ws, rs, projection)
}

// Columns describes the row a projection of reader produces, without a
// writer schema: every Decoder compiled for this reader and projection has
// these columns.
func Columns(reader *avro.Schema, projection []string) ([]Column, error) {
	if reader == nil {
		return nil, compileErr(ErrSchema, "", "nil schema")
	}
	r, err := nodeOf(reader)
	if err != nil {
		return nil, err
	}
	_, cols, err := newCompiler().needs(r, projection)
	return cols, err
}

// ReaderType describes the whole reader schema as a [Type]: for a record,
// its fields, which is what a query over it may name.
func ReaderType(reader *avro.Schema) (*Type, error) {
	if reader == nil {
		return nil, compileErr(ErrSchema, "", "nil schema")
	}
	r, err := nodeOf(reader)
	if err != nil {
		return nil, err
	}
	return newCompiler().typeOf(r), nil
}

type compiler struct {
	skips  map[*node]*skipper
	nested map[[2]*node]*Decoder
	types  map[*node]*Type
}

func newCompiler() *compiler {
	return &compiler{
		skips:  map[*node]*skipper{},
		nested: map[[2]*node]*Decoder{},
		types:  map[*node]*Type{},
	}
}

// need is the projection as a tree over reader fields: col is the column
// this position fills (-1 if none), children the fields under it that are
// projected.
type need struct {
	col      int
	names    []string
	children []*need
}

func (n *need) child(name string) *need {
	for i, s := range n.names {
		if s == name {
			return n.children[i]
		}
	}
	return nil
}

func (n *need) addChild(name string) *need {
	if c := n.child(name); c != nil {
		return c
	}
	c := &need{col: -1}
	n.names = append(n.names, name)
	n.children = append(n.children, c)
	return c
}

// cols appends every column at or under n.
func (n *need) cols(dst []int) []int {
	if n.col >= 0 {
		dst = append(dst, n.col)
	}
	for _, c := range n.children {
		dst = c.cols(dst)
	}
	return dst
}

// recordOf is the record a path steps into at t: t itself, or the record
// of a union of null and one record (then nullable is true).
func recordOf(t *node) (rec *node, nullable bool) {
	switch t.kind {
	case aRecord:
		return t, false
	case aUnion:
		for _, b := range t.branches {
			switch b.kind {
			case aNull:
				nullable = true
			case aRecord:
				if rec != nil {
					return nil, false
				}
				rec = b
			default:
				return nil, false
			}
		}
		if !nullable {
			return nil, false
		}
		return rec, true
	}
	return nil, false
}

func (r *node) fieldIndex(name string) int {
	for i := range r.fields {
		if r.fields[i].name == name {
			return i
		}
	}
	return -1
}

// readerField is the reader field a writer field resolves to: by name,
// then by the reader field's aliases. -1 if none.
func (r *node) readerField(writerName string) int {
	if i := r.fieldIndex(writerName); i >= 0 {
		return i
	}
	for i := range r.fields {
		for _, a := range r.fields[i].aliases {
			if a == writerName {
				return i
			}
		}
	}
	return -1
}

// needs checks the projection against the reader and builds its tree and
// columns.
func (c *compiler) needs(r *node, projection []string) (*need, []Column, error) {
	root := &need{col: -1}
	cols := make([]Column, len(projection))
	for i, p := range projection {
		segs := strings.Split(p, ".")
		cur, t, nullable := root, r, false
		for j, s := range segs {
			prefix := strings.Join(segs[:j+1], ".")
			rec, viaNull := recordOf(t)
			if rec == nil {
				return nil, nil, compileErr(ErrUnknownPath, prefix, "%s has no fields", t.describe())
			}
			fi := rec.fieldIndex(s)
			if fi < 0 {
				return nil, nil, compileErr(ErrUnknownPath, prefix, "no field %q in %s", s, rec.describe())
			}
			nullable = nullable || viaNull
			cur = cur.addChild(s)
			t = rec.fields[fi].typ
		}
		if cur.col >= 0 {
			return nil, nil, compileErr(ErrUnknownPath, p, "listed twice in the projection")
		}
		cur.col = i
		typ := c.typeOf(t)
		if nullable && !typ.Nullable {
			cp := *typ
			cp.Nullable = true
			typ = &cp
		}
		cols[i] = Column{Path: p, Type: typ}
	}
	return root, cols, nil
}

func (c *compiler) decoder(w, r *node, projection []string) (*Decoder, error) {
	root, cols, err := c.needs(r, projection)
	if err != nil {
		return nil, err
	}
	ops, err := c.value(nil, w, r, root, "", "")
	if err != nil {
		return nil, err
	}
	return &Decoder{columns: cols, ops: ops, stop: lastWrite(ops) + 1}, nil
}

// nestedDecoder is the Decoder for values of writer type w read as reader
// type r, kept encoded in a row: a record decodes to one column per reader
// field; anything else (array items, map values) to one column with path
// "". Decoders are shared per type pair, so recursive schemas terminate.
//
// rpath is the reader path of the first use, for errors.
func (c *compiler) nestedDecoder(w, r *node, rpath string) (*Decoder, error) {
	key := [2]*node{w, r}
	if d, ok := c.nested[key]; ok {
		return d, nil
	}
	d := &Decoder{}
	c.nested[key] = d
	var root *need
	var cols []Column
	if r.kind == aRecord {
		root = &need{col: -1}
		cols = make([]Column, len(r.fields))
		for i, f := range r.fields {
			root.addChild(f.name).col = i
			cols[i] = Column{Path: f.name, Type: c.typeOf(f.typ)}
		}
	} else {
		root = &need{col: 0}
		cols = []Column{{Path: "", Type: c.typeOf(r)}}
	}
	ops, err := c.value(nil, w, r, root, rpath, "")
	if err != nil {
		return nil, err
	}
	d.columns, d.ops, d.stop = cols, ops, lastWrite(ops)+1
	return d, nil
}

func lastWrite(ops []op) int {
	for i := len(ops) - 1; i >= 0; i-- {
		switch ops[i].code {
		case opSkipVarint, opSkipFixed, opSkipBytes, opSkip:
		default:
			return i
		}
	}
	return -1
}

// value compiles reading one writer value of type w, resolved to reader
// type r, filling the columns of nd.
func (c *compiler) value(dst []op, w, r *node, nd *need, rpath, wpath string) ([]op, error) {
	if nd.col < 0 && len(nd.children) == 0 {
		return c.appendSkip(dst, w, wpath), nil
	}
	if w.kind == aUnion {
		return c.writerUnion(dst, w, r, nd, rpath, wpath)
	}
	branch := 0
	if r.kind == aUnion {
		branch = readerBranch(r, w)
		if branch < 0 {
			return nil, compileErr(ErrIncompatible, rpath, "writer %s matches no branch of the reader union", w.describe())
		}
		r = r.branches[branch]
	}
	return c.resolved(dst, w, r, uint16(branch), nd, rpath, wpath)
}

// writerUnion compiles one program per writer branch. The specification
// resolves a writer union per datum: a branch the reader has no place for
// is an error only for the records that take it (ErrUnresolved). A union
// none of whose branches resolves is a compile error.
func (c *compiler) writerUnion(dst []op, w, r *node, nd *need, rpath, wpath string) ([]op, error) {
	aux := &opAux{branches: make([][]op, len(w.branches))}
	resolvable := false
	for i, wb := range w.branches {
		ok := wb.kind != aUnion && (r.kind == aUnion && readerBranch(r, wb) >= 0 || r.kind != aUnion && matches(r, wb))
		if !ok {
			aux.branches[i] = []op{{code: opFail, field: wpath, aux: &opAux{fault: fUnresolvedBranch}}}
			continue
		}
		ops, err := c.value(nil, wb, r, nd, rpath, wpath)
		if err != nil {
			return nil, err
		}
		aux.branches[i] = ops
		resolvable = true
	}
	if !resolvable {
		return nil, compileErr(ErrIncompatible, rpath, "no branch of the writer union matches reader %s", r.describe())
	}
	return append(dst, op{code: opUnion, field: wpath, aux: aux}), nil
}

// resolved compiles a non-union writer type read as a non-union reader
// type (branch is the reader union branch r was picked from, if any).
func (c *compiler) resolved(dst []op, w, r *node, branch uint16, nd *need, rpath, wpath string) ([]op, error) {
	if len(nd.children) == 0 {
		return c.leaf(dst, w, r, branch, nd.col, rpath, wpath)
	}
	if r.kind == aNull {
		// The null branch of a nullable record: it and every projected field
		// under it are null.
		for _, col := range nd.cols(nil) {
			dst = append(dst, op{code: opNull, col: int32(col), branch: branch})
		}
		return dst, nil
	}
	if w.kind != aRecord || r.kind != aRecord || !namesMatch(r, w) {
		return nil, compileErr(ErrIncompatible, rpath, "writer %s cannot be read as %s", w.describe(), r.describe())
	}
	if nd.col >= 0 {
		dst = append(dst, op{code: opMark, col: int32(nd.col)})
	}
	dst, err := c.record(dst, w, r, nd, rpath, wpath)
	if err != nil {
		return nil, err
	}
	if nd.col >= 0 {
		nested, err := c.nestedDecoder(w, r, rpath)
		if err != nil {
			return nil, err
		}
		dst = append(dst, op{code: opCapture, kind: KindRecord, branch: branch, col: int32(nd.col), aux: &opAux{nested: nested}})
	}
	return dst, nil
}

// record compiles the fields of a record in writer order: projected ones
// decoded, the rest skipped; projected reader fields the writer lacks take
// their defaults.
func (c *compiler) record(dst []op, w, r *node, nd *need, rpath, wpath string) ([]op, error) {
	claimed := make([]string, len(r.fields))
	var body []op
	var err error
	for _, wf := range w.fields {
		fpath := joinPath(wpath, wf.name)
		ri := r.readerField(wf.name)
		if ri < 0 {
			body = c.appendSkip(body, wf.typ, fpath)
			continue
		}
		rf := &r.fields[ri]
		if claimed[ri] != "" {
			return nil, compileErr(ErrIncompatible, joinPath(rpath, rf.name),
				"writer fields %q and %q both resolve to it", claimed[ri], wf.name)
		}
		claimed[ri] = wf.name
		child := nd.child(rf.name)
		if child == nil {
			body = c.appendSkip(body, wf.typ, fpath)
			continue
		}
		if body, err = c.value(body, wf.typ, rf.typ, child, joinPath(rpath, rf.name), fpath); err != nil {
			return nil, err
		}
	}
	// Defaults go first: they are constant, and so never keep Decode from
	// stopping after the last field it reads.
	for i, name := range nd.names {
		ri := r.fieldIndex(name)
		if claimed[ri] != "" {
			continue
		}
		if dst, err = c.defaultFill(dst, &r.fields[ri], nd.children[i], joinPath(rpath, name)); err != nil {
			return nil, err
		}
	}
	return append(dst, body...), nil
}

// defaultFill computes, once, the values a reader field missing from the
// writer gives its projected columns: the default is encoded as the reader
// would write it and decoded by a reader-to-reader program. Views in the
// values point into that encoding, which the Decoder keeps.
func (c *compiler) defaultFill(dst []op, rf *field, nd *need, rpath string) ([]op, error) {
	if !rf.hasDefault {
		return nil, compileErr(ErrNoDefault, rpath, "")
	}
	enc, err := encodeDefault(nil, rf.typ, rf.def, 0)
	if err != nil {
		return nil, compileErr(ErrSchema, rpath, "default: %v", err)
	}
	ops, err := c.value(nil, rf.typ, rf.typ, nd, rpath, rpath)
	if err != nil {
		return nil, err
	}
	cols := nd.cols(nil)
	width := 0
	for _, col := range cols {
		width = max(width, col+1)
	}
	vals := make([]Value, width)
	if _, err := run(ops, enc, 0, vals, 0); err != nil {
		return nil, compileErr(ErrSchema, rpath, "default: %v", err)
	}
	for _, col := range cols {
		dst = append(dst, op{code: opFill, col: int32(col), aux: &opAux{fill: vals[col]}})
	}
	return dst, nil
}

func (c *compiler) appendSkip(dst []op, w *node, wpath string) []op {
	s := c.skipperOf(w)
	switch s.kind {
	case skNothing:
		return dst
	case skVarint:
		return append(dst, op{code: opSkipVarint, field: wpath})
	case skFixed:
		return append(dst, op{code: opSkipFixed, n: s.n, field: wpath})
	case skBytes:
		return append(dst, op{code: opSkipBytes, field: wpath})
	}
	return append(dst, op{code: opSkip, field: wpath, aux: &opAux{skip: s}})
}

// leaf compiles reading one value into column col.
func (c *compiler) leaf(dst []op, w, r *node, branch uint16, col int, rpath, wpath string) ([]op, error) {
	o := op{col: int32(col), branch: branch, field: wpath}
	incompatible := func(detail string) error {
		if detail == "" {
			detail = fmt.Sprintf("writer %s cannot be read as %s", w.describe(), r.describe())
		}
		return compileErr(ErrIncompatible, rpath, "%s", detail)
	}
	if r.logical == LogicalDecimal && w.logical == LogicalDecimal && (r.precision != w.precision || r.scale != w.scale) {
		return nil, incompatible(fmt.Sprintf("writer decimal(%d,%d) read as decimal(%d,%d)", w.precision, w.scale, r.precision, r.scale))
	}
	switch w.kind {
	case aNull:
		o.code, o.kind = opNull, KindNull
	case aBoolean:
		o.code, o.kind = opBool, KindBoolean
	case aInt:
		o.code = opIntFloat
		switch r.kind {
		case aInt:
			o.code, o.kind = opInt, KindInt
		case aLong:
			o.code, o.kind = opInt, KindLong
		case aFloat:
			o.kind = KindFloat
		case aDouble:
			o.kind = KindDouble
		}
	case aLong:
		o.code = opLongFloat
		switch r.kind {
		case aLong:
			o.code, o.kind = opLong, KindLong
		case aFloat:
			o.kind = KindFloat
		case aDouble:
			o.kind = KindDouble
		}
	case aFloat:
		o.code = opFloat
		o.kind = map[avroKind]Kind{aFloat: KindFloat, aDouble: KindDouble}[r.kind]
	case aDouble:
		o.code, o.kind = opDouble, KindDouble
	case aString, aBytes:
		o.code = opBytes
		o.kind = map[avroKind]Kind{aString: KindString, aBytes: KindBytes}[r.kind]
	case aEnum:
		if r.kind != aEnum || !namesMatch(r, w) {
			return nil, incompatible("")
		}
		o.code, o.kind = opEnum, KindEnum
		o.aux = &opAux{symbols: enumMapping(w, r)}
	case aFixed:
		if r.kind != aFixed || !namesMatch(r, w) || r.size != w.size {
			return nil, incompatible("")
		}
		o.code, o.kind, o.n = opFixed, KindFixed, w.size
	case aArray, aMap, aRecord:
		if r.kind != w.kind || w.kind == aRecord && !namesMatch(r, w) {
			return nil, incompatible("")
		}
		var nested *Decoder
		var err error
		switch w.kind {
		case aArray:
			o.kind = KindArray
			nested, err = c.nestedDecoder(w.items, r.items, rpath+"[]")
		case aMap:
			o.kind = KindMap
			nested, err = c.nestedDecoder(w.values, r.values, rpath+"{}")
		default:
			o.kind = KindRecord
			nested, err = c.nestedDecoder(w, r, rpath)
		}
		if err != nil {
			return nil, err
		}
		o.code = opRaw
		o.aux = &opAux{skip: c.skipperOf(w), nested: nested}
	}
	if w.kind != r.kind && !promotes(w.kind, r.kind) {
		return nil, incompatible("")
	}
	return append(dst, o), nil
}

func enumMapping(w, r *node) []enumSym {
	out := make([]enumSym, len(w.symbols))
	for i, s := range w.symbols {
		ri := -1
		for j, rs := range r.symbols {
			if rs == s {
				ri = j
				break
			}
		}
		if ri < 0 {
			ri = r.enumDefault
		}
		if ri >= 0 {
			out[i] = enumSym{ok: true, index: int64(ri), sym: []byte(r.symbols[ri])}
		}
	}
	return out
}

// typeOf describes a reader type. Record types are registered before their
// fields are filled (into a slice allocated up front), so a recursive
// reference, or a nullable copy made while the record is still being
// described, sees the finished fields.
func (c *compiler) typeOf(r *node) *Type {
	if t, ok := c.types[r]; ok {
		return t
	}
	t := &Type{Logical: r.logical, Precision: r.precision, Scale: r.scale, Size: r.size}
	c.types[r] = t
	switch r.kind {
	case aNull:
		t.Kind = KindNull
	case aBoolean:
		t.Kind = KindBoolean
	case aInt:
		t.Kind = KindInt
	case aLong:
		t.Kind = KindLong
	case aFloat:
		t.Kind = KindFloat
	case aDouble:
		t.Kind = KindDouble
	case aString:
		t.Kind = KindString
	case aBytes:
		t.Kind = KindBytes
	case aEnum:
		t.Kind, t.Name, t.Symbols = KindEnum, r.name, r.symbols
	case aFixed:
		t.Kind, t.Name = KindFixed, r.name
	case aArray:
		t.Kind, t.Items = KindArray, c.typeOf(r.items)
	case aMap:
		t.Kind, t.Values = KindMap, c.typeOf(r.values)
	case aRecord:
		t.Kind, t.Name = KindRecord, r.name
		t.Fields = make([]Field, len(r.fields))
		for i, f := range r.fields {
			t.Fields[i] = Field{Name: f.name, Type: c.typeOf(f.typ)}
		}
	case aUnion:
		var nonNull []*node
		hasNull := false
		for _, b := range r.branches {
			if b.kind == aNull {
				hasNull = true
			} else {
				nonNull = append(nonNull, b)
			}
		}
		if len(nonNull) == 1 {
			*t = *c.typeOf(nonNull[0])
			t.Nullable = t.Nullable || hasNull
			return t
		}
		t.Kind, t.Nullable = KindUnion, hasNull
		if len(nonNull) == 0 {
			t.Kind = KindNull
		}
		for _, b := range r.branches {
			t.Branches = append(t.Branches, c.typeOf(b))
		}
	}
	return t
}
