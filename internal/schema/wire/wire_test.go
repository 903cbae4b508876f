package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func hdr(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }

func TestParse(t *testing.T) {
	body := []byte{0x02, 0x61, 0x00}
	framed := append(AppendConfluentFrame(nil, 258), body...)
	tests := []struct {
		name    string
		headers []kgo.RecordHeader
		value   []byte
		ref     Ref
		body    []byte
		err     error
	}{
		{"header", []kgo.RecordHeader{hdr(Header, "3")}, body, Ref{Version: 3}, body, nil},
		{"header among others", []kgo.RecordHeader{hdr("trace", "x"), hdr(Header, "12"), hdr("b", "")}, body, Ref{Version: 12}, body, nil},
		{"header wins over a leading zero byte", []kgo.RecordHeader{hdr(Header, "1")}, framed, Ref{Version: 1}, framed, nil},
		{"header with empty value body", []kgo.RecordHeader{hdr(Header, "7")}, nil, Ref{Version: 7}, nil, nil},
		{"repeated equal headers", []kgo.RecordHeader{hdr(Header, "4"), hdr(Header, "4")}, body, Ref{Version: 4}, body, nil},
		{"largest version", []kgo.RecordHeader{hdr(Header, "2147483647")}, body, Ref{Version: 2147483647}, body, nil},
		{"confluent", nil, framed, Ref{ID: 258}, body, nil},
		{"confluent empty body", nil, AppendConfluentFrame(nil, 1), Ref{ID: 1}, []byte{}, nil},
		{"confluent largest id", nil, AppendConfluentFrame(nil, MaxID), Ref{ID: MaxID}, []byte{}, nil},
		{"other header keys only", []kgo.RecordHeader{hdr("Sluice-Schema-Version", "3")}, framed, Ref{ID: 258}, body, nil},

		{"no ref", nil, body, Ref{}, nil, ErrNoSchemaRef},
		{"empty value", nil, nil, Ref{}, nil, ErrNoSchemaRef},
		{"empty header", []kgo.RecordHeader{hdr(Header, "")}, body, Ref{}, nil, ErrBadHeader},
		{"zero version", []kgo.RecordHeader{hdr(Header, "0")}, body, Ref{}, nil, ErrBadHeader},
		{"leading zero", []kgo.RecordHeader{hdr(Header, "03")}, body, Ref{}, nil, ErrBadHeader},
		{"negative", []kgo.RecordHeader{hdr(Header, "-3")}, body, Ref{}, nil, ErrBadHeader},
		{"plus", []kgo.RecordHeader{hdr(Header, "+3")}, body, Ref{}, nil, ErrBadHeader},
		{"space", []kgo.RecordHeader{hdr(Header, "3 ")}, body, Ref{}, nil, ErrBadHeader},
		{"binary", []kgo.RecordHeader{hdr(Header, "\x00\x00\x00\x03")}, body, Ref{}, nil, ErrBadHeader},
		{"too large", []kgo.RecordHeader{hdr(Header, "2147483648")}, body, Ref{}, nil, ErrBadHeader},
		{"too long", []kgo.RecordHeader{hdr(Header, "99999999999")}, body, Ref{}, nil, ErrBadHeader},
		{"disagreeing headers", []kgo.RecordHeader{hdr(Header, "4"), hdr(Header, "5")}, body, Ref{}, nil, ErrBadHeader},
		{"short frame", nil, []byte{0, 0, 1}, Ref{}, nil, ErrBadFrame},
		{"magic only", nil, []byte{0}, Ref{}, nil, ErrBadFrame},
		{"id zero", nil, []byte{0, 0, 0, 0, 0, 9}, Ref{}, nil, ErrBadFrame},
		{"id beyond int32", nil, []byte{0, 0x80, 0, 0, 0, 9}, Ref{}, nil, ErrBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, b, err := Parse(tt.headers, tt.value)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if ref != tt.ref {
				t.Fatalf("ref = %+v, want %+v", ref, tt.ref)
			}
			if !bytes.Equal(b, tt.body) {
				t.Fatalf("body = %x, want %x", b, tt.body)
			}
		})
	}
}

func TestHelpersRoundTrip(t *testing.T) {
	for _, v := range []int{1, 9, 10, 123456, MaxID} {
		ref, _, err := Parse([]kgo.RecordHeader{{Key: Header, Value: HeaderValue(v)}}, nil)
		if err != nil || ref.Version != v {
			t.Fatalf("HeaderValue(%d) parses as %+v, %v", v, ref, err)
		}
	}
	if got := string(HeaderValue(3)); got != "3" {
		t.Fatalf("HeaderValue(3) = %q", got)
	}
	prefix := []byte("keep")
	out := AppendConfluentFrame(prefix, 0x01020304)
	if !bytes.Equal(out, []byte{'k', 'e', 'e', 'p', 0, 1, 2, 3, 4}) {
		t.Fatalf("AppendConfluentFrame = %x", out)
	}
	if got := (Ref{Version: 3}).String() + "," + (Ref{ID: 17}).String(); got != "version 3,id 17" {
		t.Fatalf("String = %q", got)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	headers := []kgo.RecordHeader{hdr("trace", "x"), hdr(Header, "42")}
	framed := append(AppendConfluentFrame(nil, 7), 1, 2, 3)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := Parse(headers, framed); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Parse(nil, framed); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times per call", allocs)
	}
}

// FuzzParse: Parse never panics, a success returns a suffix of the value and
// exactly one of version and id, and a failure is one of the typed errors.
func FuzzParse(f *testing.F) {
	f.Add("", []byte(nil))
	f.Add("3", []byte{2, 'a'})
	f.Add("", AppendConfluentFrame(nil, 5))
	f.Add("", []byte{0, 0})
	f.Add("00", []byte{0, 1, 2, 3, 4, 5})
	f.Add("2147483648", []byte{0})
	f.Fuzz(func(t *testing.T, header string, value []byte) {
		var headers []kgo.RecordHeader
		if header != "" {
			headers = []kgo.RecordHeader{{Key: Header, Value: []byte(header)}}
		}
		ref, body, err := Parse(headers, value)
		if err != nil {
			if !errors.Is(err, ErrNoSchemaRef) && !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrBadFrame) {
				t.Fatalf("untyped error %v", err)
			}
			if ref != (Ref{}) || body != nil {
				t.Fatalf("failure returned %+v, %x", ref, body)
			}
			return
		}
		if (ref.Version > 0) == (ref.ID > 0) || ref.Version < 0 || ref.ID < 0 {
			t.Fatalf("ref = %+v: want exactly one of version and id", ref)
		}
		if len(body) > len(value) || !bytes.Equal(body, value[len(value)-len(body):]) {
			t.Fatalf("body %x is not a suffix of value %x", body, value)
		}
		if ref.Version > 0 && string(HeaderValue(ref.Version)) != header {
			t.Fatalf("version %d does not round-trip to header %q", ref.Version, header)
		}
	})
}
