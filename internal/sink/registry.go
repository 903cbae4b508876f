package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec names a sink type and its settings, as a subscription holds them.
// In JSON it is one flat object, the type beside that type's own settings:
//
//	{"type": "file", "path": "/var/lib/sluice/out.ndjson", "fsync": false}
//
// Settings holds everything but "type"; numbers read from JSON are
// json.Number.
type Spec struct {
	Type     string
	Settings map[string]any
}

// MarshalJSON writes the flat form.
func (s Spec) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(s.Settings)+1)
	maps.Copy(m, s.Settings)
	m["type"] = s.Type
	return json.Marshal(m)
}

// UnmarshalJSON reads the flat form. A missing or non-string "type" is a
// *ConfigError; JSON null leaves s as it is, by encoding/json's convention
// (Open and Validate then report the missing type).
func (s *Spec) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	t, ok := m["type"].(string)
	if !ok {
		if _, present := m["type"]; present {
			return &ConfigError{Field: "type", Message: "must be a string"}
		}
		return &ConfigError{Field: "type", Message: "required"}
	}
	delete(m, "type")
	if len(m) == 0 {
		m = nil
	}
	*s = Spec{Type: t, Settings: m}
	return nil
}

// Factory opens a sink of one type from its spec: it validates the
// settings (returning *ConfigErrors) and returns a sink ready for Write.
// ctx bounds opening and lives as long as the sink may write: a job opens
// its sink with the task's context, and a sink that writes in the
// background (the storage sink's roll timer) stops when it ends.
type Factory func(ctx context.Context, spec Spec, env Env) (Sink, error)

// Validator checks a spec's settings without side effects (nothing opened,
// created or connected), for a dry run.
type Validator func(spec Spec, env Env) error

// Type is a registered sink type.
type Type struct {
	// Name is what a Spec's Type says; matched case-insensitively.
	Name string
	// Open opens a sink of this type.
	Open Factory
	// Validate checks settings for a dry run; nil checks nothing beyond
	// the type's name.
	Validate Validator
	// Probe checks that a sink of this spec could deliver, without
	// leaving anything behind (a subscription's dry run). Nil opens and
	// closes the sink: right for network sinks, whose Open connects.
	Probe func(ctx context.Context, spec Spec, env Env) error
	// ExactlyOnce says the type can deliver exactly once (it implements
	// OffsetStore, or makes its writes idempotent by batch): it is then
	// opened with Env.ExactlyOnce when the subscription asks for it.
	ExactlyOnce bool
}

var registry struct {
	sync.RWMutex
	types map[string]Type
}

// Register adds a sink type that has no separate validation; see
// RegisterType. It panics if the name is empty or taken, or f is nil.
func Register(name string, f Factory) { RegisterType(Type{Name: name, Open: f}) }

// RegisterType adds a sink type. It panics if the name is empty or taken,
// or Open is nil: registration happens at init time, and a clash is a bug.
func RegisterType(t Type) {
	if t.Name == "" || t.Open == nil {
		panic("sink: Register with an empty name or a nil Factory")
	}
	key := strings.ToLower(t.Name)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.types[key]; dup {
		panic("sink: Register called twice for type " + t.Name)
	}
	if registry.types == nil {
		registry.types = map[string]Type{}
	}
	registry.types[key] = t
}

// Types lists the registered type names, sorted.
func Types() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.types))
	for _, t := range registry.types {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}

// ExactlyOnceTypes lists the registered types that can deliver exactly
// once, sorted.
func ExactlyOnceTypes() []string {
	var out []string
	for _, name := range Types() {
		if SupportsExactlyOnce(name) {
			out = append(out, name)
		}
	}
	return out
}

// SupportsExactlyOnce reports whether the named type can deliver exactly
// once (false for an unknown type).
func SupportsExactlyOnce(name string) bool {
	t, err := lookup(name)
	return err == nil && t.ExactlyOnce
}

func lookup(name string) (Type, error) {
	if name == "" {
		return Type{}, &ConfigError{Field: "type", Message: "required (one of " + strings.Join(Types(), ", ") + ")"}
	}
	registry.RLock()
	t, ok := registry.types[strings.ToLower(name)]
	registry.RUnlock()
	if !ok {
		return Type{}, &ConfigError{Field: "type", Message: fmt.Sprintf("unknown sink type %q (one of %s)", name, strings.Join(Types(), ", "))}
	}
	return t, nil
}

// Open validates spec and opens the sink it names. Bad settings are
// *ConfigErrors (see [ConfigErrors]); other errors say why the destination
// could not be opened.
func Open(ctx context.Context, spec Spec, env Env) (Sink, error) {
	t, err := lookup(spec.Type)
	if err != nil {
		return nil, err
	}
	if t.Validate != nil {
		if err := t.Validate(spec, env); err != nil {
			return nil, err
		}
	}
	s, err := t.Open(ctx, spec, env)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Probe checks that spec's sink could deliver without leaving anything
// behind: its type's Probe, or else an Open and Close.
func Probe(ctx context.Context, spec Spec, env Env) error {
	t, err := lookup(spec.Type)
	if err != nil {
		return err
	}
	if t.Probe != nil {
		return t.Probe(ctx, spec, env)
	}
	s, err := Open(ctx, spec, env)
	if err != nil {
		return err
	}
	return s.Close(ctx)
}

// Validate checks spec without opening anything: the type is registered
// and, where the type has a Validator, its settings are good.
func Validate(spec Spec, env Env) error {
	t, err := lookup(spec.Type)
	if err != nil {
		return err
	}
	if t.Validate == nil {
		return nil
	}
	return t.Validate(spec, env)
}

// Settings reads the settings of a spec for a Factory or Validator,
// collecting a *ConfigError for every problem: a setting of the wrong
// type, a required one missing, and (in Err) any the sink did not ask
// for, so that a misspelt setting is not silently ignored.
type Settings struct {
	spec Spec
	used map[string]bool
	errs []error
}

// NewSettings starts reading spec's settings.
func NewSettings(spec Spec) *Settings {
	return &Settings{spec: spec, used: map[string]bool{}}
}

// Fail records a problem with a setting.
func (s *Settings) Fail(field, message string) {
	s.errs = append(s.errs, &ConfigError{Type: s.spec.Type, Field: field, Message: message})
}

func (s *Settings) get(name string) (any, bool) {
	s.used[name] = true
	v, ok := s.spec.Settings[name]
	if ok && v == nil { // JSON null: as if absent
		return nil, false
	}
	return v, ok
}

// String returns a string setting; def if absent (a problem if
// required).
func (s *Settings) String(name string, required bool, def string) string {
	v, ok := s.get(name)
	if !ok {
		if required {
			s.Fail(name, "required")
		}
		return def
	}
	str, isStr := v.(string)
	if !isStr {
		s.Fail(name, "must be a string")
		return def
	}
	if required && str == "" {
		s.Fail(name, "required")
	}
	return str
}

// Bool returns a boolean setting, def if absent.
func (s *Settings) Bool(name string, def bool) bool {
	v, ok := s.get(name)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		s.Fail(name, "must be true or false")
		return def
	}
	return b
}

// FileMode returns a permission setting, def if absent: an octal string
// ("0644", "0o640"), or an fs.FileMode or int from Go code. A JSON number
// is refused, since 644 would not mean what it seems to.
func (s *Settings) FileMode(name string, def fs.FileMode) fs.FileMode {
	v, ok := s.get(name)
	if !ok {
		return def
	}
	var m uint64
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(x, "0o"), "0O"), 8, 32)
		if err != nil {
			s.Fail(name, fmt.Sprintf("%q is not an octal permission such as \"0644\"", x))
			return def
		}
		m = n
	case fs.FileMode:
		m = uint64(x)
	case int:
		if x < 0 {
			m = 1 << 31
		} else {
			m = uint64(x)
		}
	default:
		s.Fail(name, "must be an octal permission string such as \"0644\"")
		return def
	}
	if m&^0o777 != 0 {
		s.Fail(name, fmt.Sprintf("%#o is not a permission (0000 to 0777)", m))
		return def
	}
	return fs.FileMode(m)
}

// Duration reads a positive duration: a string such as "30s", or a
// time.Duration from Go code; def when absent.
func (s *Settings) Duration(name string, def time.Duration) time.Duration {
	v, ok := s.get(name)
	if !ok {
		return def
	}
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case string:
		var err error
		if d, err = time.ParseDuration(x); err != nil {
			s.Fail(name, fmt.Sprintf("%q is not a duration such as \"30s\"", x))
			return def
		}
	default:
		s.Fail(name, "must be a duration string such as \"30s\"")
		return def
	}
	if d <= 0 {
		s.Fail(name, "must be positive")
		return def
	}
	return d
}

// StringMap returns an object setting of strings ({"name": "value"}); nil
// if absent.
func (s *Settings) StringMap(name string) map[string]string {
	v, ok := s.get(name)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		s.Fail(name, "must be an object of names to strings")
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		str, ok := v.(string)
		if !ok {
			s.Fail(name, fmt.Sprintf("%q must be a string", k))
			continue
		}
		out[k] = str
	}
	return out
}

// Int returns an integer setting within [lo, hi]; def if absent.
func (s *Settings) Int(name string, def, lo, hi int64) int64 {
	v, ok := s.get(name)
	if !ok {
		return def
	}
	var n int64
	var err error
	switch x := v.(type) {
	case json.Number:
		n, err = x.Int64()
	case float64:
		n = int64(x)
		if float64(n) != x {
			err = errors.New("not an integer")
		}
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		err = errors.New("not a number")
	}
	switch {
	case err != nil:
		s.Fail(name, "must be an integer")
	case n < lo || n > hi:
		s.Fail(name, fmt.Sprintf("%d is out of range (%d to %d)", n, lo, hi))
	default:
		return n
	}
	return def
}

// Err returns the problems found, with one for each setting nobody read;
// nil if none.
func (s *Settings) Err() error {
	errs := s.errs
	for _, k := range slices.Sorted(maps.Keys(s.spec.Settings)) {
		if !s.used[k] {
			errs = append(errs, &ConfigError{Type: s.spec.Type, Field: k, Message: "unknown setting"})
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
