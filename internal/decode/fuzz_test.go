package decode

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/avro"
)

// within reports whether view lies inside buf (a view of it, not a copy).
func within(view, buf []byte) bool {
	if len(view) == 0 {
		return true
	}
	for off := 0; off+len(view) <= len(buf); off++ {
		if &buf[off] == &view[0] {
			return true
		}
	}
	return false
}

// walk decodes everything reachable from a row, as a consumer of nested
// values would, checking that decoded views point into buf (nested values
// into their parent's view).
// budget caps the items visited, since nested containers multiply.
func walk(t *testing.T, d *Decoder, row *Row, buf []byte, depth int, budget *int) {
	if depth > 6 || *budget <= 0 {
		return
	}
	for i := range row.Values {
		v := &row.Values[i]
		switch v.Kind {
		case KindString, KindBytes, KindFixed, KindArray, KindMap, KindRecord:
			if !within(v.B, buf) && !isDefaultView(d, i) {
				t.Fatalf("column %d: view outside the record", i)
			}
		}
		switch v.Kind {
		case KindArray, KindMap:
			var item Row
			it := v.Items()
			for *budget > 0 && it.Next(&item) {
				*budget--
				walk(t, v.Nested, &item, v.B, depth+1, budget)
			}
		case KindRecord:
			var inner Row
			if err := v.Nested.Decode(v.B, &inner); err == nil {
				*budget--
				walk(t, v.Nested, &inner, v.B, depth+1, budget)
			}
		}
	}
}

// isDefaultView reports whether column col can be filled from a reader
// default, whose views point into the decoder's own memory.
func isDefaultView(d *Decoder, col int) bool {
	var has func([]op) bool
	has = func(ops []op) bool {
		for _, o := range ops {
			if o.code == opFill && int(o.col) == col {
				return true
			}
			if o.code == opUnion {
				for _, b := range o.aux.branches {
					if has(b) {
						return true
					}
				}
			}
		}
		return false
	}
	return has(d.ops)
}

func checkDecodeErr(t *testing.T, err error, n int) {
	if err == nil {
		return
	}
	var de *DecodeError
	if !errors.As(err, &de) || !(errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnresolved)) {
		t.Fatalf("untyped decode error %T: %v", err, err)
	}
	if de.Offset < 0 || de.Offset > n {
		t.Fatalf("offset %d outside a %d-byte record", de.Offset, n)
	}
}

// FuzzDecode feeds arbitrary bytes to firewall-record decoders (three
// projections, and v1 read as v2) and to a decoder of a schema with every
// type, walking every nested value: no panic, a typed error or views into
// the input.
func FuzzDecode(f *testing.F) {
	for _, r := range firewallRecords(f, 4) {
		f.Add(r)
	}
	ws := avro.MustParse(everything)
	wn, _ := nodeOf(ws)
	rng := newRand(11)
	for range 4 {
		rec, err := ws.Encode(genValue(rng, wn, 0))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
	}
	var top []string
	for _, fl := range wn.fields {
		top = append(top, fl.name)
	}
	decs := []*Decoder{
		mustCompile(f, firewallV1, firewallV1, "action", "dst_port", "src_ip"),
		mustCompile(f, firewallV1, firewallV1, firewallFields...),
		mustCompile(f, firewallV1, firewallV2, append(append([]string(nil), firewallFields...), "device_id")...),
		mustCompile(f, everything, everything, top...),
		mustCompile(f, everything, everything, leafPaths(wn, "", map[*node]bool{})...),
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var row Row
		for _, d := range decs {
			err := d.Decode(rec, &row)
			checkDecodeErr(t, err, len(rec))
			if err == nil {
				budget := 10_000
				walk(t, d, &row, rec, 0, &budget)
			}
		}
	})
}

// FuzzCompile feeds arbitrary schema pairs and projections to Compile, and
// what compiles gets a record to decode: no panic, typed errors.
func FuzzCompile(f *testing.F) {
	f.Add(firewallV1, firewallV2, "action,dst_port,src_ip", firewallRecords(f, 1)[0])
	for _, p := range oraclePairs {
		f.Add(p.writer, p.reader, "", []byte{2, 4, 6, 8, 0, 0, 0, 0, 0, 0, 0, 0})
	}
	f.Add(`{"type":"record","name":"N","fields":[{"name":"v","type":"int"},{"name":"n","type":["null","N"]}]}`,
		`{"type":"record","name":"N","fields":[{"name":"v","type":"long"},{"name":"n","type":["N","null"]}]}`, "n,n.n.v", []byte{2, 2, 2, 0})
	f.Add(`["null","string",{"type":"array","items":"int"}]`, `"string"`, "", []byte{2, 2, 'x'})
	f.Add(`{"type":"enum","name":"E","symbols":["A","B"]}`, `{"type":"enum","name":"E","symbols":["B"],"default":"B"}`, "", []byte{0})
	f.Fuzz(func(t *testing.T, writer, reader, projection string, rec []byte) {
		ws, err := avro.Parse(writer)
		if err != nil {
			return
		}
		rs, err := avro.Parse(reader)
		if err != nil {
			return
		}
		var proj []string
		if projection != "" {
			proj = strings.Split(projection, ",")
		}
		if _, err := Columns(rs, proj); err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("untyped columns error %T: %v", err, err)
			}
		}
		d, err := Compile(ws, rs, proj)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("untyped compile error %T: %v", err, err)
			}
			return
		}
		var row Row
		err = d.Decode(rec, &row)
		checkDecodeErr(t, err, len(rec))
		if err == nil {
			budget := 10_000
			walk(t, d, &row, rec, 0, &budget)
		}
	})
}
