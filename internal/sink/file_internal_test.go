package sink

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// After a failed write the sink cuts off what that write left before it
// writes again, so a retried batch does not follow a torn one.
func TestFileRecoversFromTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	s, err := Open(context.Background(), Spec{Type: "file", Settings: map[string]any{"path": path}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	fs := s.(*fileSink)
	write := func(v string) {
		t.Helper()
		if err := s.Write(context.Background(), &Batch{Records: []Record{{Value: []byte(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	write("a\n")
	before, err := fs.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// A write that got half way.
	if _, err := fs.f.Write([]byte(`{"torn":`)); err != nil {
		t.Fatal(err)
	}
	fs.fail(before)
	write("b\n")
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Fatalf("content %q", b)
	}

	// If the file was replaced meanwhile (rotated), nothing is cut.
	before, _ = fs.f.Stat()
	fs.fail(before)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("rotated, longer than before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("c\n")
	if b, _ := os.ReadFile(path); string(b) != "rotated, longer than before\nc\n" {
		t.Fatalf("content %q", b)
	}
}
