package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// encodeDefault appends the Avro binary encoding of a field default, given
// as twmb/avro's SchemaField.Default gives it (int32, int64, float32,
// float64, string, []byte, bool, nil, []any, map[string]any), so that the
// decoder can read defaults with the same programs it reads records with.
// A union default takes the first branch that accepts the value, as
// twmb/avro does.
func encodeDefault(dst []byte, n *node, v any, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return nil, errors.New("default nested too deep")
	}
	switch n.kind {
	case aNull:
		if v != nil {
			return nil, fmt.Errorf("%T for null", v)
		}
		return dst, nil
	case aBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%T for boolean", v)
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case aInt, aLong:
		i, ok := defaultInt(v)
		if !ok || n.kind == aInt && i != int64(int32(i)) {
			return nil, fmt.Errorf("%v (%T) for %s", v, v, n.kind)
		}
		return appendVarint(dst, i), nil
	case aFloat, aDouble:
		f, ok := defaultFloat(v)
		if !ok {
			return nil, fmt.Errorf("%T for %s", v, n.kind)
		}
		if n.kind == aFloat {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case aString, aBytes:
		b, ok := defaultBytes(v)
		if !ok {
			return nil, fmt.Errorf("%T for %s", v, n.kind)
		}
		dst = appendVarint(dst, int64(len(b)))
		return append(dst, b...), nil
	case aFixed:
		b, ok := defaultBytes(v)
		if !ok || len(b) != n.size {
			return nil, fmt.Errorf("%T of wrong length for fixed(%d)", v, n.size)
		}
		return append(dst, b...), nil
	case aEnum:
		s, ok := v.(string)
		if i := slices.Index(n.symbols, s); ok && i >= 0 {
			return appendVarint(dst, int64(i)), nil
		}
		return nil, fmt.Errorf("%v is not a symbol of %s", v, n.name)
	case aArray:
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%T for array", v)
		}
		if len(items) > 0 {
			dst = appendVarint(dst, int64(len(items)))
			for _, it := range items {
				var err error
				if dst, err = encodeDefault(dst, n.items, it, depth+1); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case aMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%T for map", v)
		}
		if len(m) > 0 {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			dst = appendVarint(dst, int64(len(keys)))
			for _, k := range keys {
				dst = appendVarint(dst, int64(len(k)))
				dst = append(dst, k...)
				var err error
				if dst, err = encodeDefault(dst, n.values, m[k], depth+1); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case aRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%T for record %s", v, n.name)
		}
		for _, f := range n.fields {
			fv, ok := m[f.name]
			if !ok {
				if !f.hasDefault {
					return nil, fmt.Errorf("record %s default lacks field %s", n.name, f.name)
				}
				fv = f.def
			}
			var err error
			if dst, err = encodeDefault(dst, f.typ, fv, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case aUnion:
		for i, b := range n.branches {
			if enc, err := encodeDefault(appendVarint(dst, int64(i)), b, v, depth+1); err == nil {
				return enc, nil
			}
		}
		return nil, fmt.Errorf("%T fits no branch of the union", v)
	}
	return nil, fmt.Errorf("unsupported default for %s", n.kind)
}

func appendVarint(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

func defaultInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}

func defaultFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

func defaultBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}
