package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/sinktest"
)

func open(t *testing.T, spec sink.Spec, env sink.Env) sink.Sink {
	t.Helper()
	s, err := sink.Open(context.Background(), spec, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func fileSpec(path any, settings ...any) sink.Spec {
	m := map[string]any{"path": path}
	for i := 0; i+1 < len(settings); i += 2 {
		m[settings[i].(string)] = settings[i+1]
	}
	return sink.Spec{Type: "file", Settings: m}
}

func readLines(t *testing.T, path string) func() [][]byte {
	return func() [][]byte {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return sinktest.SplitLines(b)
	}
}

func TestDiscardContract(t *testing.T) {
	var d *sink.Discard
	sinktest.Run(t, func() sink.Sink {
		d = open(t, sink.Spec{Type: "discard"}, sink.Env{}).(*sink.Discard)
		return d
	}, nil)
	if d.Records() != 1112 || d.Batches() != 7 || d.Bytes() == 0 {
		t.Fatalf("counts: %d records, %d batches, %d bytes", d.Records(), d.Batches(), d.Bytes())
	}
}

func TestMemoryContract(t *testing.T) {
	var m *sinktest.Memory
	sinktest.Run(t, func() sink.Sink { m = &sinktest.Memory{}; return m }, func() [][]byte { return m.Records() })
	if b := m.Batches(); len(b) != 7 || b[1].ID != "test/0/1" || b[1].Offsets[0] != 4 || b[1].Records != 3 {
		t.Fatalf("batches: %+v", b)
	}
}

func TestFileContract(t *testing.T) {
	for _, fsync := range []bool{true, false} {
		t.Run(map[bool]string{true: "fsync", false: "nofsync"}[fsync], func(t *testing.T) {
			var path string
			sinktest.Run(t, func() sink.Sink {
				path = filepath.Join(t.TempDir(), "out.ndjson")
				return open(t, fileSpec(path, "fsync", fsync), sink.Env{})
			}, func() [][]byte { return readLines(t, path)() })
		})
	}
}

func TestFileAppendsAndMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.ndjson")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, fileSpec(path), sink.Env{})
	batch := &sink.Batch{Records: []sink.Record{{Value: []byte("a\n")}, {Value: []byte("b\n")}}}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\na\nb\n" {
		t.Fatalf("content %q", b)
	}

	// mode applies to a file the sink creates; a relative path is taken
	// against the working directory.
	t.Chdir(dir)
	s = open(t, fileSpec("new.ndjson", "mode", "0640"), sink.Env{})
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "new.ndjson"))
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v, %v", fi, err)
	}
}

func TestFileWriteHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	s := open(t, fileSpec(path), sink.Env{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Write(ctx, &sink.Batch{Records: []sink.Record{{Value: []byte("a\n")}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("wrote %q", b)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		spec   sink.Spec
		fields []string
		msg    string
	}{
		{"no type", sink.Spec{}, []string{"type"}, "required"},
		{"unknown type", sink.Spec{Type: "carrier-pigeon"}, []string{"type"}, `unknown sink type "carrier-pigeon" (one of bigquery, discard, file`},
		{"no path", sink.Spec{Type: "file"}, []string{"path"}, "required"},
		{"empty path", fileSpec(""), []string{"path"}, "required"},
		{"path not a string", fileSpec(json.Number("1")), []string{"path"}, "must be a string"},
		{"missing directory", fileSpec(filepath.Join(dir, "nope", "out")), []string{"path"}, "does not exist"},
		{"parent is a file", fileSpec(filepath.Join(file, "out")), []string{"path"}, "is not a directory"},
		{"path is a directory", fileSpec(dir), []string{"path"}, "is a directory"},
		{"fsync not a bool", fileSpec(file, "fsync", "yes"), []string{"fsync"}, "must be true or false"},
		{"mode not octal", fileSpec(file, "mode", "0999"), []string{"mode"}, "octal"},
		{"mode a number", fileSpec(file, "mode", json.Number("644")), []string{"mode"}, "octal"},
		{"mode too wide", fileSpec(file, "mode", "04755"), []string{"mode"}, "not a permission"},
		{"misspelt setting", fileSpec(file, "fsnyc", false), []string{"fsnyc"}, "unknown setting"},
		{"discard settings", sink.Spec{Type: "discard", Settings: map[string]any{"x": 1}}, []string{"x"}, "unknown setting"},
		{"several", sink.Spec{Type: "file", Settings: map[string]any{"fsync": 1, "extra": true}}, []string{"path", "fsync", "extra"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range []error{sink.Validate(c.spec, sink.Env{}), openErr(c.spec)} {
				var fields []string
				for _, ce := range sink.ConfigErrors(err) {
					fields = append(fields, ce.Field)
				}
				if !slices.Equal(fields, c.fields) || !strings.Contains(err.Error(), c.msg) || !sink.IsPermanent(err) {
					t.Fatalf("got %v (fields %v), want fields %v with %q", err, fields, c.fields, c.msg)
				}
			}
		})
	}
	// Validate creates nothing.
	path := filepath.Join(dir, "dry.ndjson")
	if err := sink.Validate(fileSpec(path), sink.Env{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Validate created the file: %v", err)
	}
}

func openErr(spec sink.Spec) error { return openEnvErr(spec, sink.Env{}) }

func openEnvErr(spec sink.Spec, env sink.Env) error {
	s, err := sink.Open(context.Background(), spec, env)
	if err == nil {
		_ = s.Close(context.Background())
	}
	return err
}

func TestFileRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	env := sink.Env{FileRoot: root}
	for _, p := range []string{"a.ndjson", "sub/b.ndjson", filepath.Join(root, "c.ndjson")} {
		s := open(t, fileSpec(p), env)
		if err := s.Write(context.Background(), &sink.Batch{Records: []sink.Record{{Value: []byte("x\n")}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a.ndjson", "sub/b.ndjson", "c.ndjson"} {
		if b, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(b) != "x\n" {
			t.Fatalf("%s: %q, %v", name, b, err)
		}
	}
	for _, p := range []string{"../x", filepath.Join(outside, "x"), "/etc/passwd", "escape/x"} {
		err := func() error {
			s, err := sink.Open(context.Background(), fileSpec(p), env)
			if err == nil {
				s.Close(context.Background())
			}
			return err
		}()
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "path" {
			t.Fatalf("%s: got %v", p, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the root: %v", entries)
	}
}

func TestSpecJSON(t *testing.T) {
	var s sink.Spec
	if err := json.Unmarshal([]byte(`{"type": "file", "path": "/tmp/out.ndjson", "fsync": false, "n": 3}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "file" || s.Settings["path"] != "/tmp/out.ndjson" || s.Settings["fsync"] != false || s.Settings["n"] != json.Number("3") || len(s.Settings) != 3 {
		t.Fatalf("got %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"fsync":false,"n":3,"path":"/tmp/out.ndjson","type":"file"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var sub struct {
		Sink sink.Spec `json:"sink"`
	}
	if err := json.Unmarshal([]byte(`{"sink": {"type": "discard"}}`), &sub); err != nil || sub.Sink.Type != "discard" || sub.Sink.Settings != nil {
		t.Fatalf("got %+v, %v", sub, err)
	}
	for _, bad := range []string{`{"path": "x"}`, `{"type": 3}`, `{}`} {
		var s sink.Spec
		err := json.Unmarshal([]byte(bad), &s)
		if ces := sink.ConfigErrors(err); len(ces) != 1 || ces[0].Field != "type" {
			t.Errorf("%s: got %v", bad, err)
		}
	}
	if err := json.Unmarshal([]byte(`[1]`), &s); err == nil {
		t.Error("array accepted")
	}
	s = sink.Spec{}
	if err := json.Unmarshal([]byte(`null`), &s); err != nil || s.Type != "" {
		t.Errorf("null: %v, %+v", err, s)
	}
	if err := sink.Validate(s, sink.Env{}); len(sink.ConfigErrors(err)) != 1 {
		t.Errorf("empty spec validates: %v", err)
	}
}

func TestRegister(t *testing.T) {
	if got := sink.Types(); !slices.Contains(got, "discard") || !slices.Contains(got, "file") {
		t.Fatalf("types %v", got)
	}
	sink.Register("Test-Register", func(context.Context, sink.Spec, sink.Env) (sink.Sink, error) { return &sinktest.Memory{}, nil })
	if _, err := sink.Open(context.Background(), sink.Spec{Type: "test-register"}, sink.Env{}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Validate(sink.Spec{Type: "TEST-REGISTER", Settings: map[string]any{"anything": 1}}, sink.Env{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
	}()
	sink.Register("test-register", func(context.Context, sink.Spec, sink.Env) (sink.Sink, error) { return nil, nil })
}

func TestPermanent(t *testing.T) {
	base := errors.New("400 bad request")
	if sink.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	err := sink.Permanent(base)
	if !sink.IsPermanent(err) || !errors.Is(err, base) || err.Error() != base.Error() {
		t.Fatalf("got %v", err)
	}
	wrapped := &sink.BatchError{Failed: []int{1, 3}, Err: err}
	if !sink.IsPermanent(wrapped) || !errors.Is(wrapped, base) || !strings.Contains(wrapped.Error(), "2 records") {
		t.Fatalf("batch error: %v", wrapped)
	}
	if sink.IsPermanent(base) || sink.IsPermanent(nil) {
		t.Fatal("plain error permanent")
	}
}

// fakeSleep records the sleeps of a Retry without sleeping.
type fakeSleep struct{ slept []time.Duration }

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.slept = append(f.slept, d)
	return ctx.Err()
}

func TestRetryBackoff(t *testing.T) {
	var zero sink.Retry
	if zero.Backoff(1) != 100*time.Millisecond || zero.Backoff(2) != 200*time.Millisecond || zero.Backoff(1000) != 30*time.Second {
		t.Fatalf("defaults: %v %v %v", zero.Backoff(1), zero.Backoff(2), zero.Backoff(1000))
	}
	fs := &fakeSleep{}
	r := sink.Retry{Initial: 10 * time.Millisecond, Max: 300 * time.Millisecond, Sleep: fs.sleep}
	const rounds, failures = 400, 8
	for range rounds {
		calls := 0
		err := r.Do(context.Background(), func(context.Context) error {
			calls++
			if calls <= failures {
				return errors.New("flaky")
			}
			return nil
		})
		if err != nil || calls != failures+1 {
			t.Fatalf("err %v after %d calls", err, calls)
		}
	}
	if len(fs.slept) != rounds*failures {
		t.Fatalf("%d sleeps", len(fs.slept))
	}
	caps := []time.Duration{10, 20, 40, 80, 160, 300, 300, 300}
	for n, c := range caps {
		c *= time.Millisecond
		var sum time.Duration
		lo, hi := c, time.Duration(0)
		for i := n; i < len(fs.slept); i += failures {
			d := fs.slept[i]
			if d < 0 || d > c {
				t.Fatalf("retry %d slept %v, outside [0, %v]", n+1, d, c)
			}
			sum += d
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: spread over the range, averaging half the cap.
		mean := sum / rounds
		if mean < c*35/100 || mean > c*65/100 || hi-lo < c/2 {
			t.Errorf("retry %d: mean %v, range [%v, %v] for cap %v", n+1, mean, lo, hi, c)
		}
	}
}

func TestRetryStops(t *testing.T) {
	fs := &fakeSleep{}
	flaky := errors.New("flaky")

	// Permanent errors are not retried.
	calls := 0
	err := sink.Retry{Sleep: fs.sleep}.Do(context.Background(), func(context.Context) error {
		calls++
		return sink.Permanent(flaky)
	})
	if calls != 1 || !errors.Is(err, flaky) || len(fs.slept) != 0 {
		t.Fatalf("permanent: %d calls, %v", calls, err)
	}

	// Attempts bound the calls.
	calls = 0
	err = sink.Retry{Attempts: 3, Sleep: fs.sleep}.Do(context.Background(), func(context.Context) error {
		calls++
		return flaky
	})
	if calls != 3 || !errors.Is(err, flaky) || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("attempts: %d calls, %v", calls, err)
	}

	// Cancelling the context ends the retries, and the error says both.
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = sink.Retry{Sleep: fs.sleep}.Do(ctx, func(context.Context) error {
		calls++
		if calls == 5 {
			cancel()
		}
		return flaky
	})
	if calls != 5 || !errors.Is(err, context.Canceled) || !errors.Is(err, flaky) {
		t.Fatalf("cancel: %d calls, %v", calls, err)
	}

	// The real sleep wakes up on cancellation.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err = sink.Retry{Initial: time.Hour, Max: time.Hour}.Do(ctx, func(context.Context) error { return flaky })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("real sleep: %v after %v", err, time.Since(start))
	}

	// A context already done calls nothing.
	calls = 0
	if err := (sink.Retry{}).Do(ctx, func(context.Context) error { calls++; return nil }); !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("done context: %v, %d calls", err, calls)
	}
}
