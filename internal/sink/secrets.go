package sink

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces the value of a secret setting in what Redact returns.
// A client that sends it back (a spec read from the API, edited and
// written again) sends no secret: the API should then keep the stored
// value, or refuse the spec.
const Redacted = "********"

var secretSettings struct {
	sync.RWMutex
	byType map[string][]string // lower-case type name → setting names
}

// RegisterSecrets declares settings of a sink type whose values are
// secrets (tokens, passwords, private keys): the subscription API stores
// them but never returns them (see Redact), and sinks never log them nor
// quote them in errors. Call it from the init function that registers the
// type. It adds to what was declared before; the type need not be
// registered yet. It panics if typeName is empty.
func RegisterSecrets(typeName string, settings ...string) {
	if typeName == "" {
		panic("sink: RegisterSecrets with an empty type name")
	}
	key := strings.ToLower(typeName)
	secretSettings.Lock()
	defer secretSettings.Unlock()
	if secretSettings.byType == nil {
		secretSettings.byType = map[string][]string{}
	}
	names := secretSettings.byType[key]
	for _, s := range settings {
		if s != "" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	secretSettings.byType[key] = names
}

// SecretSettings lists the secret settings of a sink type (matched
// case-insensitively), sorted; nil if it has none.
func SecretSettings(typeName string) []string {
	secretSettings.RLock()
	defer secretSettings.RUnlock()
	return slices.Clone(secretSettings.byType[strings.ToLower(typeName)])
}

// Redact returns a copy of spec for display (API responses, logs, events):
// every secret setting of its type that is present and not null has the
// value Redacted instead, whatever its type. spec itself is not changed.
// A spec of an unknown type, or without secrets, comes back as a copy
// with the same values.
func Redact(spec Spec) Spec {
	out := Spec{Type: spec.Type}
	if spec.Settings == nil {
		return out
	}
	out.Settings = maps.Clone(spec.Settings)
	for _, name := range SecretSettings(spec.Type) {
		if v, ok := out.Settings[name]; ok && v != nil {
			out.Settings[name] = Redacted
		}
	}
	return out
}
