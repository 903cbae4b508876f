package sink

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestBQJSONStrings checks the JSON reader's strings against
// encoding/json's: escapes, surrogate pairs, lone surrogates and bytes
// that are not UTF-8 (both give U+FFFD).
func TestBQJSONStrings(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	cases := []string{`""`, `"a"`, `"\u00e9\n\t\"\\\/\b\f\r"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d\ude00"`, `"\ud83d\u0041"`, "\"\xff\xfe\"", "\"é\xc3\"", `"\u2028<&>"`}
	for range 2000 {
		var s []byte
		for range rnd.IntN(10) {
			switch rnd.IntN(4) {
			case 0:
				s = append(s, byte(rnd.IntN(256)))
			case 1:
				s = utf8.AppendRune(s, rune(rnd.IntN(0x110000)))
			default:
				s = append(s, byte(0x20+rnd.IntN(0x5f)))
			}
		}
		b, _ := json.Marshal(string(s))
		cases = append(cases, string(b))
		// Escaped forms encoding/json does not write.
		var esc []byte
		esc = append(esc, '"')
		for _, r := range string(s) {
			switch {
			case r > 0xffff:
				r1, r2 := utf16Pair(r)
				esc = append(esc, []byte(jsonU(r1)+jsonU(r2))...)
			default:
				esc = append(esc, []byte(jsonU(r))...)
			}
		}
		cases = append(cases, string(append(esc, '"')))
	}
	var j bqJSON
	for _, c := range cases {
		var want string
		if err := json.Unmarshal([]byte(c), &want); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		j.reset([]byte(c))
		got, err := j.str()
		if err != nil || string(got) != want {
			t.Errorf("%q: %q, %v; want %q", c, got, err, want)
		}
		j.reset([]byte(c))
		raw, err := j.raw()
		if err != nil || string(raw) != c {
			t.Errorf("raw %q: %q, %v", c, raw, err)
		}
	}
	for _, bad := range []string{`"a`, `"\x"`, `"\u12"`, "\"a\x01\"", `a`} {
		j.reset([]byte(bad))
		if s, err := j.str(); err == nil {
			t.Errorf("%q: %q, want an error", bad, s)
		}
	}
}

func jsonU(r rune) string {
	const hex = "0123456789abcdef"
	return `\u` + string([]byte{hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf]})
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// TestBQJSONValues checks raw values and numbers.
func TestBQJSONValues(t *testing.T) {
	var j bqJSON
	for _, c := range []string{`{}`, `[]`, `{"a":[1,-2.5e+3,true,false,null,{"b":"c"}],"d":{}}`, `-0`, `1E5`, `0.25`, `"x"`, `[ 1 , 2 ]`} {
		j.reset([]byte(c + " "))
		raw, err := j.raw()
		if err != nil || string(raw) != c {
			t.Errorf("raw %s: %s, %v", c, raw, err)
		}
	}
	for _, bad := range []string{`{`, `[1,`, `{"a"}`, `{"a":}`, `-`, `1.`, `1e`, `tru`, `nul`, `[1 2]`} {
		j.reset([]byte(bad))
		if raw, err := j.raw(); err == nil {
			t.Errorf("raw %s: %s, want an error", bad, raw)
		}
	}
	for c, want := range map[string]int64{"0": 0, "-0": 0, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63, "42": 42} {
		if got, err := bqParseInt([]byte(c)); err != nil || got != want {
			t.Errorf("%s: %d, %v", c, got, err)
		}
	}
	for _, c := range []string{"9223372036854775808", "-9223372036854775809", "1.0", "1e3", "", "-", "99999999999999999999"} {
		if got, err := bqParseInt([]byte(c)); err == nil {
			t.Errorf("%s: %d, want an error", c, got)
		}
	}
}

// TestBQIntervals checks the interval parser on the JSON format's forms.
func TestBQIntervals(t *testing.T) {
	for c, want := range map[string]int64{
		"PT0S": 0, "PT5M": 300_000_000, "P1DT2H": 93_600_000_000, "P1D": 86_400_000_000, "PT0.5S": 500_000,
		"PT0.000001S": 1, "-PT1S": -1_000_000, "P3DT1H1M1.25S": 262_861_250_000,
		"P106751991DT4H54.775807S": 1<<63 - 1, "-P106751991DT4H54.775808S": -1 << 63,
	} {
		if got, err := bqParseInterval(c); err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", c, got, err, want)
		}
	}
	for _, c := range []string{"P", "PT", "P1DT", "P1Y", "PT1.1234567S", "P106751991DT4H54.775808S", "1 day", ""} {
		if got, err := bqParseInterval(c); err == nil {
			t.Errorf("%s: %d, want an error", c, got)
		}
	}
}
