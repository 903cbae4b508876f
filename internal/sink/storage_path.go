package sink

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// storageDefaultPath is the storage sink's object path template when the
// spec gives none: per tenant and subscription, Hive-style partitions of
// the event date and hour.
const storageDefaultPath = "{tenant}/{subscription}/dt={date}/hour={hour}/"

// storageStateDir is the directory, at the root of the bucket, under which
// the storage sink keeps the state of each job (offsets and intents). Its
// leading underscore makes Hive, Spark, Trino and the like skip it.
const storageStateDir = "_sluice/"

// pathVar is a variable of an object path template.
type pathVar uint8

const (
	pathLiteral pathVar = iota
	pathTenant
	pathJob // {subscription} and {job}
	pathPartition
	pathYear
	pathMonth
	pathDay
	pathDate
	pathHour
	pathMinute
)

// pathVars are the variable names a template may use.
var pathVars = map[string]pathVar{
	"tenant": pathTenant, "subscription": pathJob, "job": pathJob, "partition": pathPartition,
	"year": pathYear, "month": pathMonth, "day": pathDay, "date": pathDate,
	"hour": pathHour, "minute": pathMinute,
}

// pathVarNames lists them for messages.
const pathVarNames = "{tenant}, {subscription} (or {job}), {partition}, {date}, {year}, {month}, {day}, {hour}, {minute}"

// pathGrain is the finest time unit a template names: records whose times
// agree down to it go to the same directory.
type pathGrain uint8

const (
	grainNone pathGrain = iota
	grainYear
	grainMonth
	grainDay
	grainHour
	grainMinute
)

// storagePath is a parsed object path template: the directory an object
// goes to, from the job, the source partition and a time.
type storagePath struct {
	parts []pathPart
	grain pathGrain
}

type pathPart struct {
	v   pathVar
	lit string // for pathLiteral
}

// parseStoragePath parses a template, or returns what is wrong with it.
// Literal text may hold any printable character but '\' and braces; the
// result is a relative directory: no leading '/', no empty, "." or ".."
// segment, and not the sink's state directory.
func parseStoragePath(s string) (storagePath, string) {
	var p storagePath
	if strings.HasPrefix(s, "/") {
		return p, "must be relative to the bucket: no leading /"
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return p, fmt.Sprintf("%q has a { without its }", s)
			}
			name := s[i+1 : i+end]
			v, ok := pathVars[name]
			if !ok {
				return p, fmt.Sprintf("unknown variable {%s} (known: %s)", name, pathVarNames)
			}
			p.parts = append(p.parts, pathPart{v: v})
			var g pathGrain
			switch v {
			case pathYear:
				g = grainYear
			case pathMonth:
				g = grainMonth
			case pathDay, pathDate:
				g = grainDay
			case pathHour:
				g = grainHour
			case pathMinute:
				g = grainMinute
			}
			p.grain = max(p.grain, g)
			i += end + 1
		case c == '}':
			return p, fmt.Sprintf("%q has a } without its {", s)
		default:
			j := i
			for j < len(s) && s[j] != '{' && s[j] != '}' {
				if c := s[j]; c < 0x20 || c == 0x7f || c == '\\' {
					return p, "must not hold control characters or backslashes"
				}
				j++
			}
			p.parts = append(p.parts, pathPart{lit: s[i:j]})
			i = j
		}
	}
	if s != "" && !strings.HasSuffix(s, "/") {
		p.parts = append(p.parts, pathPart{lit: "/"})
	}
	// Check the segments with every variable standing for a plain value.
	var b strings.Builder
	for _, pt := range p.parts {
		if pt.v == pathLiteral {
			b.WriteString(pt.lit)
		} else {
			b.WriteString("x")
		}
	}
	shape := strings.TrimSuffix(b.String(), "/")
	if shape != "" {
		for seg := range strings.SplitSeq(shape, "/") {
			switch seg {
			case "":
				return p, "must not hold an empty segment (//)"
			case ".", "..":
				return p, fmt.Sprintf("must not hold a %q segment", seg)
			}
		}
	}
	if shape+"/" == storageStateDir || strings.HasPrefix(shape+"/", storageStateDir) {
		return p, "must not start with " + storageStateDir + ", where the sink keeps its state"
	}
	return p, ""
}

// storagePathEnv is what the non-time variables stand for.
type storagePathEnv struct {
	tenant, job string
}

// dir expands the template for a source partition (-1: aggregation
// results, written "agg") and a time, in UTC.
func (p *storagePath) dir(dst []byte, env *storagePathEnv, part int32, t time.Time) []byte {
	t = t.UTC()
	for _, pt := range p.parts {
		switch pt.v {
		case pathLiteral:
			dst = append(dst, pt.lit...)
		case pathTenant:
			dst = appendPathValue(dst, env.tenant)
		case pathJob:
			dst = appendPathValue(dst, env.job)
		case pathPartition:
			if part < 0 {
				dst = append(dst, "agg"...)
			} else {
				dst = strconv.AppendInt(dst, int64(part), 10)
			}
		case pathYear:
			dst = appendDigits(dst, t.Year(), 4)
		case pathMonth:
			dst = appendDigits(dst, int(t.Month()), 2)
		case pathDay:
			dst = appendDigits(dst, t.Day(), 2)
		case pathDate:
			dst = appendDigits(dst, t.Year(), 4)
			dst = append(dst, '-')
			dst = appendDigits(dst, int(t.Month()), 2)
			dst = append(dst, '-')
			dst = appendDigits(dst, t.Day(), 2)
		case pathHour:
			dst = appendDigits(dst, t.Hour(), 2)
		case pathMinute:
			dst = appendDigits(dst, t.Minute(), 2)
		}
	}
	return dst
}

// group is the key under which times share a directory: equal for two
// times exactly when the template gives them the same one.
func (p *storagePath) group(t time.Time) int64 {
	t = t.UTC()
	switch p.grain {
	case grainYear:
		return int64(t.Year())
	case grainMonth:
		return int64(t.Year())*12 + int64(t.Month())
	case grainDay:
		return floorDiv(t.Unix(), 86400)
	case grainHour:
		return floorDiv(t.Unix(), 3600)
	case grainMinute:
		return floorDiv(t.Unix(), 60)
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// appendDigits writes n with at least width digits (years before 0 and
// after 9999 as they come).
func appendDigits(dst []byte, n, width int) []byte {
	if n < 0 {
		return strconv.AppendInt(dst, int64(n), 10)
	}
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendPathValue writes a tenant or job id as one path segment: bytes
// other than letters, digits, '.', '_', '=' and '-' become '_', and a
// value that would be empty, "." or ".." becomes "_".
func appendPathValue(dst []byte, v string) []byte {
	if v == "" || v == "." || v == ".." {
		return append(dst, '_')
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if storageNameByte(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '_')
		}
	}
	return dst
}

func storageNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '=' || c == '-'
}

// storageName is v as one object name component (see appendPathValue).
func storageName(v string) string { return string(appendPathValue(nil, v)) }
