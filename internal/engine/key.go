package engine

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"

	"github.com/sluicehq/sluice/internal/sql"
)

// Values are encoded into bytes for group keys and distinct sets. The
// encoding is injective per kind and preserves order, so that sorting
// encoded keys sorts groups by their key values (NULL first):
//
//   - NULL: 0x00.
//   - Otherwise 0x01, then by kind:
//   - integers, booleans, timestamps, dates, times, intervals: the int64
//     with its sign bit flipped, big-endian (8 bytes);
//   - doubles: the IEEE bits, sign-flipped for order, big-endian (8
//     bytes); -0 is encoded as 0 and every NaN alike (NaN sorts last, as in
//     PostgreSQL);
//   - strings, bytes and encoded containers: the bytes with 0x00 escaped
//     as 0x00 0xFF, terminated by 0x00 0x01.

const (
	tagNull    = 0x00
	tagNotNull = 0x01
)

// isBytesKind reports whether values of k are held in Value.B.
func isBytesKind(k sql.Kind) bool {
	switch k {
	case sql.Varchar, sql.Bytes, sql.Array, sql.Map, sql.Record:
		return true
	}
	return false
}

func appendValue(dst []byte, k sql.Kind, v *sql.Value) []byte {
	if v.Null {
		return append(dst, tagNull)
	}
	dst = append(dst, tagNotNull)
	switch {
	case k == sql.Double:
		return binary.BigEndian.AppendUint64(dst, orderedFloat(v.F))
	case isBytesKind(k):
		b := v.B
		for {
			i := bytes.IndexByte(b, 0)
			if i < 0 {
				break
			}
			dst = append(dst, b[:i+1]...)
			dst = append(dst, 0xFF)
			b = b[i+1:]
		}
		dst = append(dst, b...)
		return append(dst, 0x00, 0x01)
	case k == sql.Unknown:
		return dst
	}
	return binary.BigEndian.AppendUint64(dst, uint64(v.I)^(1<<63))
}

func orderedFloat(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 → 0
	}
	if f != f {
		return math.MaxUint64 // NaN last
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func unorderedFloat(u uint64) float64 {
	if u == math.MaxUint64 {
		return math.NaN()
	}
	if u&(1<<63) != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// decodeNumber reads back a non-NULL integer or double encoded by
// appendValue (the distinct sets of SUM and AVG).
func decodeNumber(k sql.Kind, enc string) (i int64, f float64) {
	u := binary.BigEndian.Uint64([]byte(enc[1:9]))
	if k == sql.Double {
		return 0, unorderedFloat(u)
	}
	return int64(u ^ (1 << 63)), 0
}

// compareValues orders two non-NULL values of kind k: integers and the
// like numerically, doubles with NaN greatest (as PostgreSQL), strings and
// bytes byte-wise (PostgreSQL's C collation).
func compareValues(k sql.Kind, a, b *sql.Value) int {
	switch {
	case k == sql.Double:
		return cmp.Compare(orderedFloat(a.F), orderedFloat(b.F))
	case isBytesKind(k):
		return bytes.Compare(a.B, b.B)
	}
	return cmp.Compare(a.I, b.I)
}

// copyValue copies v into dst, keeping B in buf (reused): it returns the
// buffer, grown if needed.
func copyValue(dst *sql.Value, v *sql.Value, buf []byte) []byte {
	*dst = *v
	if v.B != nil {
		buf = append(buf[:0], v.B...)
		dst.B = buf
	}
	return buf
}
