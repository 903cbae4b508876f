package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/decode"
	"github.com/sluicehq/sluice/internal/sql"
)

// The test schema. Column order of the projection is testFields.
const testSchema = `{"type":"record","name":"E","fields":[
	{"name":"key","type":"string"},
	{"name":"n","type":"long"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"d","type":"double"},
	{"name":"s","type":["null","string"],"default":null}
]}`

var testFields = []string{"key", "n", "ts", "d", "s"}

// Column indices in the decoded row.
const (
	cKey = iota
	cN
	cTS
	cD
	cS
)

type rec struct {
	Key string  `avro:"key"`
	N   int64   `avro:"n"`
	TS  int64   `avro:"ts"` // milliseconds
	D   float64 `avro:"d"`
	S   *string `avro:"s"`
}

var testAvro = avro.MustParse(testSchema)

func encode(t testing.TB, r rec) []byte {
	t.Helper()
	b, err := testAvro.AppendEncode(nil, &r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func strp(s string) *string { return &s }

func decoder(t testing.TB, fields []string) *decode.Decoder {
	t.Helper()
	d, err := decode.CompileJSON(testSchema, testSchema, fields)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Column evals over the decoded row.
func colI(i int) sql.Eval {
	return func(e *sql.Env) sql.Value {
		v := &e.Row.Values[i]
		if v.IsNull() {
			return sql.Null
		}
		return sql.Value{I: v.I}
	}
}

func colF(i int) sql.Eval {
	return func(e *sql.Env) sql.Value {
		v := &e.Row.Values[i]
		if v.IsNull() {
			return sql.Null
		}
		return sql.Value{F: v.F}
	}
}

func colB(i int) sql.Eval {
	return func(e *sql.Env) sql.Value {
		v := &e.Row.Values[i]
		if v.IsNull() {
			return sql.Null
		}
		return sql.Value{B: v.B}
	}
}

// colTS reads a timestamp-millis column as microseconds.
func colTS(i int) sql.Eval {
	return func(e *sql.Env) sql.Value {
		v := &e.Row.Values[i]
		if v.IsNull() {
			return sql.Null
		}
		return sql.Value{I: v.I * 1000}
	}
}

func slot(i int) sql.Eval { return func(e *sql.Env) sql.Value { return e.Slots[i] } }

// harness runs records through a task and collects the output as text.
type harness struct {
	t     testing.TB
	task  *Task
	q     *sql.Query
	kinds []sql.Kind
	all   *decode.Decoder
	flt   *decode.Decoder
	out   []string
	offs  []string // partition@offset of each output
	clock time.Time
}

func newHarness(t testing.TB, q *sql.Query, o Options) *harness {
	h := &harness{t: t, q: q, clock: time.Unix(1_000_000, 0)}
	if o.Now == nil {
		o.Now = func() time.Time { return h.clock }
	}
	for _, c := range q.Columns {
		h.kinds = append(h.kinds, c.Type.Kind)
	}
	h.all = decoder(t, q.Fields)
	if q.FilterFields > 0 {
		h.flt = decoder(t, q.Fields[:q.FilterFields])
	}
	h.task = NewTask(q, o)
	return h
}

func (h *harness) Emit(o *Output) error {
	var b strings.Builder
	for i, v := range o.Values {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(formatValue(h.kinds[i], v))
	}
	h.out = append(h.out, b.String())
	h.offs = append(h.offs, fmt.Sprintf("%d@%d", o.Partition, o.Offset))
	return nil
}

func formatValue(k sql.Kind, v sql.Value) string {
	if v.Null {
		return "NULL"
	}
	switch k {
	case sql.Double:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case sql.Varchar, sql.Bytes:
		return string(v.B)
	}
	return strconv.FormatInt(v.I, 10)
}

func (h *harness) process(p int32, off int64, r rec) error {
	h.t.Helper()
	return h.task.Process(&Input{Partition: p, Offset: off, Payload: encode(h.t, r), Filter: h.flt, All: h.all}, h)
}

// must processes a record that must succeed.
func (h *harness) must(p int32, off int64, r rec) {
	h.t.Helper()
	if err := h.process(p, off, r); err != nil {
		h.t.Fatalf("record %d@%d: %v", p, off, err)
	}
}

// take returns and clears the output so far.
func (h *harness) take() []string {
	out := h.out
	h.out, h.offs = nil, nil
	return out
}

func (h *harness) drain() []string {
	h.t.Helper()
	if err := h.task.Drain(h); err != nil {
		h.t.Fatal(err)
	}
	return h.take()
}

func (h *harness) tick(d time.Duration) []string {
	h.t.Helper()
	h.clock = h.clock.Add(d)
	if err := h.task.Tick(h); err != nil {
		h.t.Fatal(err)
	}
	return h.take()
}

func same(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func reasonOf(err error) (Reason, bool) {
	var re *RecordError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return 0, false
}

// Durations in microseconds, and event times in milliseconds for rec.TS.
const (
	sec    = int64(1_000_000)
	minute = 60 * sec
)

func ms(d int64) int64 { return d / 1000 }

// aggQuery builds GROUP BY window, key: the output columns are the key
// (when byKey), then the aggregates, then WINDOW_START and WINDOW_END
// (as BIGINT µs).
func aggQuery(w sql.Window, byKey bool, aggs ...sql.Aggregate) *sql.Query {
	w.Time = colTS(cTS)
	a := &sql.Aggregation{Window: w, Aggregates: aggs}
	q := &sql.Query{Fields: testFields, Agg: a}
	if byKey {
		a.Keys = []sql.Eval{colB(cKey)}
		a.KeyTypes = []*sql.Type{sql.TypeVarchar}
		q.Columns = append(q.Columns, sql.OutputColumn{Name: "key", Type: sql.TypeVarchar})
	}
	for _, ag := range aggs {
		q.Columns = append(q.Columns, sql.OutputColumn{Name: ag.Func.String(), Type: ag.Type})
	}
	q.Columns = append(q.Columns,
		sql.OutputColumn{Name: "window_start", Type: sql.TypeBigInt},
		sql.OutputColumn{Name: "window_end", Type: sql.TypeBigInt})
	for i := range q.Columns {
		a.Project = append(a.Project, slot(i))
	}
	return q
}

func countStar() sql.Aggregate {
	return sql.Aggregate{Func: sql.Count, Type: sql.TypeBigInt, Text: "COUNT(*)"}
}

func agg(f sql.AggFunc, arg sql.Eval, argType, typ *sql.Type) sql.Aggregate {
	return sql.Aggregate{Func: f, Arg: arg, ArgType: argType, Type: typ}
}

func tumble(size int64) sql.Window { return sql.Window{Kind: sql.Tumble, Size: size} }
