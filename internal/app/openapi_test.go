package app

import (
	"bytes"
	"os"
	"testing"
)

// TestCommittedOpenAPIIsCurrent keeps docs/openapi.json true to the code.
func TestCommittedOpenAPIIsCurrent(t *testing.T) {
	want, err := OpenAPIIndented()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/openapi.json differs from the API; regenerate it with: go run ./cmd/sluice openapi -o docs/openapi.json")
	}
}
