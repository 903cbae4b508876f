package bench

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"time"
)

// span is what one measured part cost.
type span struct {
	wall, cpu  time.Duration
	mallocs    uint64
	allocBytes uint64
	gcs        uint32
}

// meter measures one part: begin collects garbage (so that earlier setup
// is not paid for inside), then reads the allocation counters, the
// process's CPU time and the clock; end reads them again.
type meter struct {
	prof    bool
	start   time.Time
	cpu     time.Duration
	mallocs uint64
	bytes   uint64
	gcs     uint32
}

func begin(profile io.Writer) (*meter, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := &meter{mallocs: ms.Mallocs, bytes: ms.TotalAlloc, gcs: ms.NumGC}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		m.prof = true
	}
	var err error
	if m.cpu, err = cpuTime(); err != nil {
		m.stopProfile()
		return nil, err
	}
	m.start = time.Now()
	return m, nil
}

func (m *meter) stopProfile() {
	if m.prof {
		pprof.StopCPUProfile()
		m.prof = false
	}
}

// end stops the measurement. It may be called more than once (the
// later calls are no-ops returning zero), so that error paths can defer it.
func (m *meter) end() (span, error) {
	if m.start.IsZero() {
		return span{}, nil
	}
	wall := time.Since(m.start)
	m.start = time.Time{}
	cpu, err := cpuTime()
	m.stopProfile()
	if err != nil {
		return span{}, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return span{wall: wall, cpu: cpu - m.cpu, mallocs: ms.Mallocs - m.mallocs,
		allocBytes: ms.TotalAlloc - m.bytes, gcs: ms.NumGC - m.gcs}, nil
}
