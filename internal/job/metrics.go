package job

import (
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is where a task is in its life.
type State string

// The task states.
const (
	StateRunning State = "running"
	StateStopped State = "stopped"
	StateFailed  State = "failed"
)

var states = []State{StateRunning, StateStopped, StateFailed}

// Metrics exports every running task's counters to Prometheus. Label sets
// are bounded: one series per job (and per job and partition for lag, per
// job and reason for dead letters); a job's series go when its task ends.
// Counters are read from snapshots the tasks publish once per poll, so the
// record path pays nothing for them.
type Metrics struct {
	mu      sync.Mutex
	tasks   map[*taskMetrics]struct{} // a job may run several tasks here
	latency *prometheus.HistogramVec
}

var (
	descIn       = prometheus.NewDesc("sluice_job_records_in_total", "Records the job consumed.", []string{"job"}, nil)
	descBytesIn  = prometheus.NewDesc("sluice_job_bytes_in_total", "Bytes of record values the job consumed.", []string{"job"}, nil)
	descOut      = prometheus.NewDesc("sluice_job_records_out_total", "Result rows the sink acknowledged.", []string{"job"}, nil)
	descBytesOut = prometheus.NewDesc("sluice_job_bytes_out_total", "Encoded bytes the sink acknowledged.", []string{"job"}, nil)
	descFiltered = prometheus.NewDesc("sluice_job_records_filtered_total", "Records WHERE rejected.", []string{"job"}, nil)
	descLate     = prometheus.NewDesc("sluice_job_records_late_total", "Records dropped as later than the allowed lateness.", []string{"job"}, nil)
	descDead     = prometheus.NewDesc("sluice_job_records_dead_lettered_total", "Records sent to the dead-letter topic, by reason.", []string{"job", "reason"}, nil)
	descBatches  = prometheus.NewDesc("sluice_job_batches_total", "Batches the sink acknowledged.", []string{"job"}, nil)
	descSinkErr  = prometheus.NewDesc("sluice_job_sink_errors_total", "Failed sink writes (each retry counts).", []string{"job"}, nil)
	descFetchErr = prometheus.NewDesc("sluice_job_fetch_errors_total", "Kafka fetch errors.", []string{"job"}, nil)
	descLag      = prometheus.NewDesc("sluice_job_lag_records", "Records between the job's committed offset and the partition's high watermark.", []string{"job", "partition"}, nil)
	descState    = prometheus.NewDesc("sluice_job_state", "How many of the job's tasks in this process are in each state.", []string{"job", "state"}, nil)
)

// NewMetrics registers the job metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		tasks: map[*taskMetrics]struct{}{},
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_job_latency_seconds",
			Help:    "End-to-end latency: for each acknowledged batch, the age of its oldest source record (Kafka timestamp) at acknowledgement.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"job"}),
	}
	reg.MustRegister(m, m.latency)
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIn, descBytesIn, descOut, descBytesOut, descFiltered, descLate, descDead, descBatches, descSinkErr, descFetchErr, descLag, descState} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The tasks of one job are
// summed; each reports the lag of its own partitions.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	type job struct {
		s           Stats
		fetchErrors uint64
		states      map[State]int
		lag         map[int32]int64
	}
	jobs := map[string]*job{}
	m.mu.Lock()
	for t := range m.tasks {
		j := jobs[t.id]
		if j == nil {
			j = &job{s: Stats{DeadLettered: map[string]uint64{}}, states: map[State]int{}, lag: map[int32]int64{}}
			jobs[t.id] = j
		}
		t.mu.Lock()
		s := t.stats
		j.s.In += s.In
		j.s.BytesIn += s.BytesIn
		j.s.Out += s.Out
		j.s.BytesOut += s.BytesOut
		j.s.Filtered += s.Filtered
		j.s.Late += s.Late
		j.s.Batches += s.Batches
		j.s.SinkErrors += s.SinkErrors
		for r, n := range s.DeadLettered {
			j.s.DeadLettered[r] += n
		}
		j.fetchErrors += t.fetchErrors
		j.states[t.state]++
		for p, hw := range t.hw {
			j.lag[p] = max(hw-t.done[p], 0) // nothing committed yet: all of it
		}
		t.mu.Unlock()
	}
	m.mu.Unlock()
	for id, j := range jobs {
		counter := func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{id}, labels...)...)
		}
		counter(descIn, j.s.In)
		counter(descBytesIn, j.s.BytesIn)
		counter(descOut, j.s.Out)
		counter(descBytesOut, j.s.BytesOut)
		counter(descFiltered, j.s.Filtered)
		counter(descLate, j.s.Late)
		counter(descBatches, j.s.Batches)
		counter(descSinkErr, j.s.SinkErrors)
		counter(descFetchErr, j.fetchErrors)
		for reason, n := range j.s.DeadLettered {
			counter(descDead, n, reason)
		}
		for p, lag := range j.lag {
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(lag), id, strconv.Itoa(int(p)))
		}
		for _, st := range states {
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, float64(j.states[st]), id, string(st))
		}
	}
}

// task returns the metrics of a starting task. On a nil Metrics it returns
// a task that records nothing anyone reads.
func (m *Metrics) task(id string) *taskMetrics {
	t := &taskMetrics{m: m, id: id, hw: map[int32]int64{}, done: map[int32]int64{}, pos: map[int32]int64{}}
	if m != nil {
		m.mu.Lock()
		for o := range m.tasks {
			if o.id == id && o.ended() {
				delete(m.tasks, o) // a failed task the new one replaces
			}
		}
		m.tasks[t] = struct{}{}
		m.mu.Unlock()
	}
	return t
}

// forget drops an ended task's series (and the job's latency histogram
// with its last task).
func (t *taskMetrics) forget() {
	m := t.m
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tasks, t)
	for o := range m.tasks {
		if o.id == t.id {
			return
		}
	}
	m.latency.DeleteLabelValues(t.id)
}

// taskMetrics is what one task publishes; safe for concurrent use.
type taskMetrics struct {
	m  *Metrics
	id string

	mu          sync.Mutex
	stats       Stats
	state       State
	fetchErrors uint64
	hw          map[int32]int64 // high watermark per partition, from fetches
	done        map[int32]int64 // committed offset per partition
	pos         map[int32]int64 // offset after the last record taken, per partition
}

func (t *taskMetrics) ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state == StateFailed || t.state == StateStopped
}

func (t *taskMetrics) publish(p *Pipeline) {
	s := p.Stats()
	t.mu.Lock()
	t.stats = s
	for part, off := range p.next {
		t.pos[part] = off
	}
	t.mu.Unlock()
}

func (t *taskMetrics) consumed() map[int32]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.pos)
}

func (t *taskMetrics) snapshot() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

func (t *taskMetrics) setState(s State) {
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
}

func (t *taskMetrics) fetchError() {
	t.mu.Lock()
	t.fetchErrors++
	t.mu.Unlock()
}

func (t *taskMetrics) highWatermark(p int32, hw int64) {
	t.mu.Lock()
	t.hw[p] = hw
	t.mu.Unlock()
}

func (t *taskMetrics) committed(next map[int32]int64) {
	t.mu.Lock()
	for p, o := range next {
		t.done[p] = o
	}
	t.mu.Unlock()
}

// delivered observes the latency of an acknowledged batch.
func (t *taskMetrics) delivered(_ map[int32]int64, oldest time.Time) {
	if t.m == nil || oldest.IsZero() {
		return
	}
	t.m.latency.WithLabelValues(t.id).Observe(time.Since(oldest).Seconds())
}

func (t *taskMetrics) lag() map[int32]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int32]int64, len(t.hw))
	for p, hw := range t.hw {
		out[p] = max(hw-t.done[p], 0)
	}
	return out
}
