package catalog

import (
	"errors"
	"fmt"
)

// Code classifies an Error for callers such as the API, which maps each to
// an HTTP status.
type Code int

const (
	// Invalid input in a named field (422).
	Invalid Code = iota + 1
	// NotFound: no such cluster, tenant or topic (404).
	NotFound
	// Conflict with existing state: a duplicate, a cluster still in use, no
	// cluster able to take a tenant (409).
	Conflict
	// Unavailable: Kafka or the store could not be reached (503).
	Unavailable
)

// Error is a failure the caller can act on: its Message says what happened
// and, where it helps, what to do instead.
type Error struct {
	Code Code
	// Field names the request field at fault, as a JSON path, if one is.
	Field   string
	Message string
	Err     error
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

func invalid(field, format string, args ...any) error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Code: NotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &Error{Code: Conflict, Message: fmt.Sprintf(format, args...)}
}

func unavailable(err error, format string, args ...any) error {
	return &Error{Code: Unavailable, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the Code of err, or 0 when err is not a catalog Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}
