package decode

import "math"

// run executes a program over buf from pos, writing vals, and returns the
// position after the last value it read. It is the hot path: one switch
// per field, views instead of copies, and no allocation unless it fails.
// The one-byte varint case is written out in the busiest ops because
// readVarint, which calls out for longer varints, is too big to inline.
func run(ops []op, buf []byte, pos int, vals []Value, depth int) (int, error) {
	for i := range ops {
		o := &ops[i]
		switch o.code {
		case opSkipVarint:
			next, f := skipVarint(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			pos = next
		case opSkipFixed:
			if len(buf)-pos < o.n {
				return -1, fTruncated.error(pos, o.field)
			}
			pos += o.n
		case opSkipBytes:
			if pos < len(buf) && buf[pos] < 0x80 && int(buf[pos]&1) == 0 && int(buf[pos]>>1) < len(buf)-pos {
				pos += 1 + int(buf[pos]>>1)
				continue
			}
			n, next, f := readLen(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			pos = next + n
		case opSkip:
			next, _, f := o.aux.skip.skip(buf, pos, depth)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			pos = next
		case opNull:
			vals[o.col] = Value{Kind: KindNull, Branch: o.branch}
		case opBool:
			if pos >= len(buf) {
				return -1, fTruncated.error(pos, o.field)
			}
			b := buf[pos]
			if b > 1 {
				return -1, fBool.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: KindBoolean, Branch: o.branch, I: int64(b)}
			pos++
		case opInt, opLong:
			v, next, f := int64(0), pos+1, fOK
			if pos < len(buf) && buf[pos] < 0x80 {
				u := uint64(buf[pos])
				v = int64(u>>1) ^ -int64(u&1)
			} else if v, next, f = readVarintSlow(buf, pos); f != fOK {
				return -1, f.error(pos, o.field)
			}
			if o.code == opInt && v != int64(int32(v)) {
				return -1, fIntRange.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: o.kind, Branch: o.branch, I: v}
			pos = next
		case opIntFloat, opLongFloat:
			v, next, f := readVarint(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			if o.code == opIntFloat && v != int64(int32(v)) {
				return -1, fIntRange.error(pos, o.field)
			}
			x := float64(v)
			if o.kind == KindFloat {
				x = float64(float32(v))
			}
			vals[o.col] = Value{Kind: o.kind, Branch: o.branch, F: x}
			pos = next
		case opFloat:
			x, next, f := readFloat(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: o.kind, Branch: o.branch, F: x}
			pos = next
		case opDouble:
			x, next, f := readDouble(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: KindDouble, Branch: o.branch, F: x}
			pos = next
		case opBytes:
			var n, next int
			if pos < len(buf) && buf[pos] < 0x80 && buf[pos]&1 == 0 {
				n, next = int(buf[pos]>>1), pos+1
				if n > len(buf)-next {
					return -1, fTruncated.error(pos, o.field)
				}
			} else {
				var f fault
				if n, next, f = readLen(buf, pos); f != fOK {
					return -1, f.error(pos, o.field)
				}
			}
			end := next + n
			// The capacity is cut at the value so that an append by the
			// consumer copies instead of overwriting the next field.
			vals[o.col] = Value{Kind: o.kind, Branch: o.branch, B: buf[next:end:end]}
			pos = end
		case opEnum:
			idx, next, f := int64(0), pos+1, fOK
			if pos < len(buf) && buf[pos] < 0x80 {
				u := uint64(buf[pos])
				idx = int64(u>>1) ^ -int64(u&1)
			} else if idx, next, f = readVarintSlow(buf, pos); f != fOK {
				return -1, f.error(pos, o.field)
			}
			syms := o.aux.symbols
			if idx < 0 || idx >= int64(len(syms)) {
				return -1, fEnumIndex.error(pos, o.field)
			}
			s := &syms[idx]
			if !s.ok {
				return -1, fUnresolvedSymbol.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: KindEnum, Branch: o.branch, I: s.index, B: s.sym}
			pos = next
		case opFixed:
			if len(buf)-pos < o.n {
				return -1, fTruncated.error(pos, o.field)
			}
			end := pos + o.n
			vals[o.col] = Value{Kind: KindFixed, Branch: o.branch, B: buf[pos:end:end]}
			pos = end
		case opRaw:
			next, count, f := o.aux.skip.skip(buf, pos, depth)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			vals[o.col] = Value{Kind: o.kind, Branch: o.branch, I: count, B: buf[pos:next:next], Nested: o.aux.nested}
			pos = next
		case opMark:
			vals[o.col].I = int64(pos)
		case opCapture:
			start := int(vals[o.col].I)
			vals[o.col] = Value{Kind: KindRecord, Branch: o.branch, B: buf[start:pos:pos], Nested: o.aux.nested}
		case opUnion:
			if depth >= maxDepth {
				return -1, fDepth.error(pos, o.field)
			}
			idx, next, f := readVarint(buf, pos)
			if f != fOK {
				return -1, f.error(pos, o.field)
			}
			branches := o.aux.branches
			if idx < 0 || idx >= int64(len(branches)) {
				return -1, fUnionIndex.error(pos, o.field)
			}
			var err error
			if pos, err = run(branches[idx], buf, next, vals, depth+1); err != nil {
				return -1, err
			}
		case opFail:
			return -1, o.aux.fault.error(pos, o.field)
		case opFill:
			vals[o.col] = o.aux.fill
		}
	}
	return pos, nil
}

// Items iterates over the items of an array value or the entries of a map
// value, decoding each with the value's nested Decoder into a Row (a record
// item gives one column per reader field, any other item one column):
//
//	it := v.Items()
//	for it.Next(&row) {
//		key := it.Key() // maps only
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// Views in the rows point into the record buffer, as the value's do.
// Offsets in errors count from the start of the value's B. An Items belongs
// to one goroutine.
type Items struct {
	buf   []byte
	pos   int
	left  int64
	isMap bool
	done  bool
	dec   *Decoder
	key   []byte
	raw   []byte
	err   error
}

// Items starts an iteration over an array or map value. Any other value has
// no items.
func (v *Value) Items() Items {
	if (v.Kind != KindArray && v.Kind != KindMap) || v.Nested == nil {
		return Items{done: true}
	}
	return Items{buf: v.B, dec: v.Nested, isMap: v.Kind == KindMap}
}

// Next decodes the next item into row, reporting false at the end or on
// error.
func (it *Items) Next(row *Row) bool {
	if it.done || it.err != nil {
		return false
	}
	for it.left == 0 {
		n, next, f := readVarint(it.buf, it.pos)
		if f != fOK {
			return it.fail(f)
		}
		if n == 0 {
			it.done = true
			return false
		}
		if n < 0 {
			if n == math.MinInt64 {
				return it.fail(fBlock)
			}
			n = -n
			// The block's byte size: needed only to skip a block unread.
			if _, next, f = readVarint(it.buf, next); f != fOK {
				return it.fail(f)
			}
		}
		it.left, it.pos = n, next
	}
	if it.isMap {
		n, next, f := readLen(it.buf, it.pos)
		if f != fOK {
			return it.fail(f)
		}
		it.key = it.buf[next : next+n : next+n]
		it.pos = next + n
	}
	cols := len(it.dec.columns)
	if cap(row.Values) < cols {
		row.Values = make([]Value, cols)
	}
	row.Values = row.Values[:cols]
	pos, err := run(it.dec.ops, it.buf, it.pos, row.Values, 1)
	if err != nil {
		it.err = err
		return false
	}
	it.raw = it.buf[it.pos:pos:pos]
	it.pos = pos
	it.left--
	return true
}

func (it *Items) fail(f fault) bool {
	it.err = f.error(it.pos, "")
	return false
}

// Key is the key of the map entry Next last decoded.
func (it *Items) Key() []byte { return it.key }

// Raw is the Avro encoding of the item (the map entry's value) Next last
// decoded: with the iterated value's Nested decoder it is a value of its
// own, such as one record of an array of records.
func (it *Items) Raw() []byte { return it.raw }

// Err is the error that ended the iteration, if any.
func (it *Items) Err() error { return it.err }
