package engine

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// filterQuery is SELECT d, key, n*2 WHERE key = 'a' AND n < 10: the filter
// reads key and n, which come first in Fields.
func filterQuery() *sql.Query {
	where := func(e *sql.Env) sql.Value {
		k, n := &e.Row.Values[cKey], &e.Row.Values[cN]
		return sql.Bool(bytes.Equal(k.B, []byte("a")) && n.I < 10)
	}
	double := func(e *sql.Env) sql.Value {
		v := colI(cN)(e)
		if v.I > 1<<40 {
			e.Fail(sql.ErrBigIntRange)
		}
		v.I *= 2
		return v
	}
	return &sql.Query{
		Fields:       []string{"key", "n", "ts", "d"},
		FilterFields: 2,
		Columns: []sql.OutputColumn{
			{Name: "d", Type: sql.TypeDouble}, {Name: "key", Type: sql.TypeVarchar}, {Name: "n2", Type: sql.TypeBigInt},
		},
		Where:   where,
		Project: []sql.Eval{colF(3), colB(cKey), double},
	}
}

func TestFilterProject(t *testing.T) {
	h := newHarness(t, filterQuery(), Options{})
	h.must(0, 10, rec{Key: "a", N: 1, D: 1.5})
	h.must(0, 11, rec{Key: "b", N: 1, D: 2.5})
	h.must(1, 5, rec{Key: "a", N: 10, D: 3.5})
	h.must(1, 6, rec{Key: "a", N: 7, D: -1})
	same(t, "offsets", h.offs, []string{"0@10", "1@6"})
	same(t, "rows", h.take(), []string{"1.5|a|2", "-1|a|14"})
	st := h.task.Stats()
	if st.In != 4 || st.Out != 2 || st.Filtered != 2 {
		t.Fatalf("stats %+v", st)
	}
	if len(h.task.OpenOffsets()) != 0 {
		t.Fatal("a filter holds offsets")
	}
}

// TestFilterOnlyDecodesFilterFields: a record whose tail is corrupt but
// that the filter rejects is never fully decoded.
func TestFilterOnlyDecodesFilterFields(t *testing.T) {
	h := newHarness(t, filterQuery(), Options{})
	good := encode(t, rec{Key: "b", N: 1})
	cut := good[:3] // key and n only: ts and d are missing
	if err := h.task.Process(&Input{Payload: cut, Filter: h.flt, All: h.all}, h); err != nil {
		t.Fatalf("rejected record was fully decoded: %v", err)
	}
	cutA := encode(t, rec{Key: "a", N: 1})[:3]
	err := h.task.Process(&Input{Partition: 2, Offset: 9, Payload: cutA, Filter: h.flt, All: h.all}, h)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != ReasonDecode || re.Partition != 2 || re.Offset != 9 {
		t.Fatalf("got %v, want a decode RecordError", err)
	}
	var de *decode.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%v does not wrap the decode error", err)
	}
	// Without a filter decoder, All is used for the filter too.
	if err := h.task.Process(&Input{Payload: cut, All: h.all}, h); err == nil {
		t.Fatal("truncated record decoded")
	}
	if st := h.task.Stats(); st.Errors[ReasonDecode] != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProjectEvalError(t *testing.T) {
	q := filterQuery()
	q.Where = nil
	q.FilterFields = 0
	h := newHarness(t, q, Options{})
	err := h.process(0, 1, rec{Key: "x", N: 1 << 41})
	if r, ok := reasonOf(err); !ok || r != ReasonEval || !errors.Is(err, sql.ErrBigIntRange) {
		t.Fatalf("got %v", err)
	}
	h.must(0, 2, rec{Key: "x", N: 3}) // the env was reset
	same(t, "rows", h.take(), []string{"0|x|6"})
}

func TestEmitErrorReturnedAsIs(t *testing.T) {
	q := filterQuery()
	task := NewTask(q, Options{})
	boom := errors.New("sink down")
	in := &Input{Payload: encode(t, rec{Key: "a", N: 1}), Filter: decoder(t, q.Fields[:2]), All: decoder(t, q.Fields)}
	err := task.Process(in, EmitFunc(func(*Output) error { return boom }))
	if err != boom {
		t.Fatalf("got %v", err)
	}
}

func TestFilterProjectAllocs(t *testing.T) {
	q := filterQuery()
	task := NewTask(q, Options{})
	flt, all := decoder(t, q.Fields[:2]), decoder(t, q.Fields)
	pass := &Input{Payload: encode(t, rec{Key: "a", N: 1, D: 2}), Filter: flt, All: all}
	fail := &Input{Payload: encode(t, rec{Key: "b", N: 1, D: 2}), Filter: flt, All: all}
	var n int
	emit := EmitFunc(func(o *Output) error { n += len(o.Values); return nil })
	allocs := testing.AllocsPerRun(1000, func() {
		if err := task.Process(pass, emit); err != nil {
			t.Fatal(err)
		}
		if err := task.Process(fail, emit); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record pair", allocs)
	}
	if n == 0 {
		t.Fatal("nothing emitted")
	}
}
