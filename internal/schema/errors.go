package schema

import (
	"errors"
	"fmt"
)

// Code classifies an Error for callers such as the API, which maps each to
// an HTTP status and a Confluent error code.
type Code int

const (
	// InvalidSchema: the schema text is not a valid Avro schema (422, 42201).
	InvalidSchema Code = iota + 1
	// InvalidVersion: a version that can never exist, such as 0 (422, 42202).
	InvalidVersion
	// InvalidMode: an unknown compatibility mode (422, 42203).
	InvalidMode
	// TenantNotFound: no such tenant (404, 40401).
	TenantNotFound
	// VersionNotFound: the tenant has no such version, or no version at all
	// when the latest is asked for (404, 40402).
	VersionNotFound
	// SchemaNotFound: no schema with that id, or a lookup found no version
	// equal to the given schema (404, 40403).
	SchemaNotFound
	// Incompatible: the schema breaks the tenant's compatibility mode; the
	// Error lists every incompatibility (409).
	Incompatible
)

// Error is a failure the caller can act on.
type Error struct {
	Code Code
	// Field names the request field at fault, as a JSON path, if one is.
	Field   string
	Message string
	// Incompatibilities lists every problem found, for Incompatible.
	Incompatibilities []Incompatibility
	Err               error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the Code of err, or 0 when err is not a schema Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func tenantNotFound(tenant string) error {
	return newError(TenantNotFound, "tenant %q does not exist", tenant)
}
