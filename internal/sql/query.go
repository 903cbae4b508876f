package sql

// Query is an analysed statement, ready to compile into a job: what it
// reads, what it computes and what it produces. Build it with [Analyze].
// A Query is immutable and its Evals are safe for concurrent use, each
// goroutine with its own [Env].
type Query struct {
	// Text is the query as submitted; Stmt its syntax tree.
	Text string
	Stmt *Select

	// Fields are the reader field paths the query reads ("action",
	// "src.ip"), the projection its decoder is compiled for. The fields
	// WHERE reads come first: Fields[:FilterFields] is all a filter needs,
	// so a runtime can decode those, filter, and decode the rest only for
	// the records that pass. Column i of a decoded row is Fields[i].
	Fields       []string
	FilterFields int
	// Star is set when the select list has * (the schema updater then
	// treats every field as read).
	Star bool

	// Columns describe the result rows.
	Columns []OutputColumn

	// Where is the filter over Env.Row, nil when there is none. A row
	// passes when the result is TRUE (not NULL, not FALSE).
	Where Eval
	// Project computes the result columns over Env.Row, one per column.
	// It is nil for an aggregation.
	Project []Eval

	// Agg is the windowed aggregation, nil for a filter/project query.
	Agg *Aggregation
}

// OutputColumn is one column of the result.
type OutputColumn struct {
	Name string
	Type *Type
}

// WindowKind is the kind of a window in GROUP BY.
type WindowKind uint8

// The windows.
const (
	Tumble  WindowKind = iota + 1 // TUMBLE(ts, size): fixed, non-overlapping
	Hop                           // HOP(ts, slide, size): fixed size, starting every slide
	Session                       // SESSION(ts, gap): per key, closed after gap without records
)

func (k WindowKind) String() string {
	switch k {
	case Tumble:
		return "TUMBLE"
	case Hop:
		return "HOP"
	case Session:
		return "SESSION"
	}
	return "WINDOW?"
}

// Window is the event-time window of an aggregation. Durations are in
// microseconds. Windows are aligned to the Unix epoch: a tumbling window
// of size s covers [k·s, (k+1)·s), as PostgreSQL's date_bin with origin
// 1970-01-01 does; a hopping window of size s and slide h covers
// [k·h, k·h+s) for every k with k·h ≤ t < k·h+s.
type Window struct {
	Kind WindowKind
	// Time is the event time of a row (Timestamp, over Env.Row). A row
	// whose event time is NULL cannot be placed in a window and is an
	// evaluation error.
	Time Eval
	// TimeField is the expression the window is on, as SQL.
	TimeField string
	Size      int64 // Tumble, Hop
	Slide     int64 // Hop
	Gap       int64 // Session
}

// AggFunc is an aggregate function.
type AggFunc uint8

// The aggregate functions.
const (
	Count               AggFunc = iota + 1 // COUNT(*) when Aggregate.Arg is nil
	Sum                                    // BIGINT for integer arguments (overflow is an error), DOUBLE for DOUBLE
	Avg                                    // DOUBLE
	Min                                    // the argument's type
	Max                                    // the argument's type
	ApproxCountDistinct                    // BIGINT, HyperLogLog
	FirstValue                             // the value of the row with the earliest event time (first seen on ties)
	LastValue                              // the value of the row with the latest event time (last seen on ties)
)

var aggNames = [...]string{
	Count: "COUNT", Sum: "SUM", Avg: "AVG", Min: "MIN", Max: "MAX",
	ApproxCountDistinct: "APPROX_COUNT_DISTINCT", FirstValue: "FIRST_VALUE", LastValue: "LAST_VALUE",
}

func (f AggFunc) String() string {
	if int(f) < len(aggNames) && aggNames[f] != "" {
		return aggNames[f]
	}
	return "AGG?"
}

// Aggregate is one aggregate call of the query. Rows whose argument is
// NULL are ignored by every aggregate but COUNT(*), as in PostgreSQL;
// over no non-NULL rows, COUNT is 0 and the others are NULL.
type Aggregate struct {
	Func     AggFunc
	Distinct bool // COUNT(DISTINCT x), SUM(DISTINCT x) ...
	// Arg computes the argument over Env.Row; nil for COUNT(*).
	Arg     Eval
	ArgType *Type
	// Type is the result type.
	Type *Type
	// Text is the call as SQL, for EXPLAIN.
	Text string
}

// Aggregation is GROUP BY window, keys [HAVING ...].
//
// The post-aggregation expressions (Having, Project) read Env.Slots, laid
// out as: the group keys in order, then the aggregates in order, then
// WINDOW_START and WINDOW_END (Timestamps). Slots has
// len(Keys)+len(Aggregates)+2 values.
type Aggregation struct {
	Window Window
	// Keys compute the group keys over Env.Row; KeyTypes are their types.
	Keys     []Eval
	KeyTypes []*Type
	// KeyText are the keys as SQL, for EXPLAIN.
	KeyText    []string
	Aggregates []Aggregate
	// Having filters groups (over Env.Slots); nil when absent.
	Having Eval
	// Project computes the result columns over Env.Slots.
	Project []Eval
}

// SlotWindowStart is the index of WINDOW_START in Env.Slots; WINDOW_END
// follows it.
func (a *Aggregation) SlotWindowStart() int { return len(a.Keys) + len(a.Aggregates) }
