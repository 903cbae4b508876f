package decode

import (
	"encoding/binary"
	"math"
)

// fault is what went wrong at the wire level. The hot path passes faults
// around as small integers and builds a *DecodeError only when it returns
// one, so a successful decode allocates nothing.
type fault uint8

const (
	fOK fault = iota
	fTruncated
	fVarint
	fIntRange
	fNegLength
	fBool
	fUnionIndex
	fEnumIndex
	fBlock
	fTooMany
	fDepth
	fUnresolvedBranch
	fUnresolvedSymbol
)

var faultInfo = [...]struct {
	err    error
	detail string
}{
	fTruncated:        {ErrTruncated, ""},
	fVarint:           {ErrCorrupt, "varint longer than 64 bits"},
	fIntRange:         {ErrCorrupt, "int value beyond 32 bits"},
	fNegLength:        {ErrCorrupt, "negative length"},
	fBool:             {ErrCorrupt, "boolean byte other than 0 or 1"},
	fUnionIndex:       {ErrCorrupt, "union branch index out of range"},
	fEnumIndex:        {ErrCorrupt, "enum symbol index out of range"},
	fBlock:            {ErrCorrupt, "invalid array or map block header"},
	fTooMany:          {ErrCorrupt, "too many zero-size array items"},
	fDepth:            {ErrCorrupt, "values nested deeper than 256"},
	fUnresolvedBranch: {ErrUnresolved, "writer union branch matches no reader type"},
	fUnresolvedSymbol: {ErrUnresolved, "enum symbol not in the reader and the reader has no default"},
}

func (f fault) error(offset int, field string) error {
	fi := faultInfo[f]
	return &DecodeError{Err: fi.err, Offset: offset, Field: field, Detail: fi.detail}
}

// maxDepth bounds the nesting of values a decode or skip descends into, so
// a recursive schema and a hostile record cannot exhaust the stack.
const maxDepth = 256

// maxZeroSizeItems bounds the item count of an array whose items encode in
// zero bytes (null, fixed(0), a record of such): such a count costs nothing
// to write, so unlike every other count it is not bounded by the record's
// length, and nested arrays of them would multiply a consumer's work.
const maxZeroSizeItems = 1 << 12

// readVarint reads a zig-zag varint at pos. It returns the value and the
// next position, or a fault with next < 0.
func readVarint(buf []byte, pos int) (int64, int, fault) {
	if pos < len(buf) && buf[pos] < 0x80 {
		u := uint64(buf[pos])
		return int64(u>>1) ^ -int64(u&1), pos + 1, fOK
	}
	return readVarintSlow(buf, pos)
}

// readVarintSlow is kept out of line so that readVarint, the one-byte fast
// path, inlines into the decode loop.
//
//go:noinline
func readVarintSlow(buf []byte, pos int) (int64, int, fault) {
	var u uint64
	for shift := uint(0); ; shift += 7 {
		if pos < 0 || pos >= len(buf) {
			return 0, -1, fTruncated
		}
		b := buf[pos]
		pos++
		if shift == 63 && b > 1 {
			return 0, -1, fVarint
		}
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), pos, fOK
		}
	}
}

// skipVarint steps over a varint without decoding it.
func skipVarint(buf []byte, pos int) (int, fault) {
	for i := 0; i < 10; i++ {
		if pos >= len(buf) {
			return -1, fTruncated
		}
		b := buf[pos]
		pos++
		if b < 0x80 {
			if i == 9 && b > 1 {
				return -1, fVarint
			}
			return pos, fOK
		}
	}
	return -1, fVarint
}

// readLen reads a length prefix and checks it against what remains, before
// anything is done with it: a length larger than the record is ErrTruncated
// and never an allocation.
func readLen(buf []byte, pos int) (int, int, fault) {
	n, next, f := readVarint(buf, pos)
	if f != fOK {
		return 0, -1, f
	}
	if n < 0 {
		return 0, -1, fNegLength
	}
	if n > int64(len(buf)-next) {
		return 0, -1, fTruncated
	}
	return int(n), next, fOK
}

func readFloat(buf []byte, pos int) (float64, int, fault) {
	if len(buf)-pos < 4 {
		return 0, -1, fTruncated
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[pos:]))), pos + 4, fOK
}

func readDouble(buf []byte, pos int) (float64, int, fault) {
	if len(buf)-pos < 8 {
		return 0, -1, fTruncated
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(buf[pos:])), pos + 8, fOK
}

// skipKind is how a writer type is stepped over.
type skipKind uint8

const (
	skNothing skipKind = iota // null, and records of nothing
	skVarint                  // int, long, enum
	skFixed                   // boolean, float, double, fixed: n bytes
	skBytes                   // string, bytes
	skRecord
	skArray
	skMap
	skUnion
)

// skipper steps over one writer value. Skippers of recursive schemas are
// cyclic.
type skipper struct {
	kind     skipKind
	n        int
	zero     bool // encodes in zero bytes
	fields   []*skipper
	elem     *skipper
	branches []*skipper
}

func (c *compiler) skipperOf(w *node) *skipper {
	if s, ok := c.skips[w]; ok {
		return s
	}
	s := &skipper{}
	c.skips[w] = s
	switch w.kind {
	case aNull:
		s.kind, s.zero = skNothing, true
	case aInt, aLong, aEnum:
		s.kind = skVarint
	case aBoolean:
		s.kind, s.n = skFixed, 1
	case aFloat:
		s.kind, s.n = skFixed, 4
	case aDouble:
		s.kind, s.n = skFixed, 8
	case aFixed:
		s.kind, s.n, s.zero = skFixed, w.size, w.size == 0
	case aBytes, aString:
		s.kind = skBytes
	case aArray:
		s.kind, s.elem = skArray, c.skipperOf(w.items)
	case aMap:
		s.kind, s.elem = skMap, c.skipperOf(w.values)
	case aUnion:
		s.kind = skUnion
		for _, b := range w.branches {
			s.branches = append(s.branches, c.skipperOf(b))
		}
	case aRecord:
		s.kind = skRecord
		// A record referring to itself is never zero-size: a cycle without a
		// union or container cannot be written at all.
		zero := true
		for _, f := range w.fields {
			fs := c.skipperOf(f.typ)
			s.fields = append(s.fields, fs)
			zero = zero && fs.zero && fs != s
		}
		s.zero = zero
		if zero {
			s.kind, s.fields = skNothing, nil
		}
	}
	return s
}

// skip steps over one value, returning the next position and, for arrays
// and maps, the item count.
func (s *skipper) skip(buf []byte, pos, depth int) (int, int64, fault) {
	switch s.kind {
	case skNothing:
		return pos, 0, fOK
	case skVarint:
		next, f := skipVarint(buf, pos)
		return next, 0, f
	case skFixed:
		if len(buf)-pos < s.n {
			return -1, 0, fTruncated
		}
		return pos + s.n, 0, fOK
	case skBytes:
		n, next, f := readLen(buf, pos)
		if f != fOK {
			return -1, 0, f
		}
		return next + n, 0, fOK
	}
	if depth >= maxDepth {
		return -1, 0, fDepth
	}
	switch s.kind {
	case skRecord:
		var f fault
		for _, fs := range s.fields {
			if pos, _, f = fs.skip(buf, pos, depth+1); f != fOK {
				return -1, 0, f
			}
		}
		return pos, 0, fOK
	case skUnion:
		i, next, f := readVarint(buf, pos)
		if f != fOK {
			return -1, 0, f
		}
		if i < 0 || i >= int64(len(s.branches)) {
			return -1, 0, fUnionIndex
		}
		return s.branches[i].skip(buf, next, depth+1)
	}
	return s.skipBlocks(buf, pos, depth)
}

// skipBlocks steps over an array or a map: blocks of items, each headed by
// a count, a negative count followed by the block's byte size, which lets
// us jump over the block without looking inside it.
func (s *skipper) skipBlocks(buf []byte, pos, depth int) (int, int64, fault) {
	var total int64
	isMap := s.kind == skMap
	for {
		count, next, f := readVarint(buf, pos)
		if f != fOK {
			return -1, 0, f
		}
		pos = next
		if count == 0 {
			return pos, total, fOK
		}
		if count < 0 {
			if count == math.MinInt64 {
				return -1, 0, fBlock
			}
			count = -count
			size, next, f := readLen(buf, pos)
			if f != fOK {
				return -1, 0, f
			}
			// Every map entry and every item of a non-zero-size type takes
			// at least one byte.
			if (isMap || !s.elem.zero) && count > int64(size) {
				return -1, 0, fBlock
			}
			pos = next + size
		} else if isMap || !s.elem.zero {
			if count > int64(len(buf)-pos) {
				return -1, 0, fTruncated
			}
			for range count {
				if isMap {
					n, next, f := readLen(buf, pos)
					if f != fOK {
						return -1, 0, f
					}
					pos = next + n
				}
				if pos, _, f = s.elem.skip(buf, pos, depth+1); f != fOK {
					return -1, 0, f
				}
			}
		}
		if !isMap && s.elem.zero && count > maxZeroSizeItems-total {
			return -1, 0, fTooMany
		}
		total += count
	}
}
