package decode

import (
	"errors"
	"fmt"
)

// Errors about one record. A record failing with any of them cannot be
// decoded by this Decoder; the runtime dead-letters it and goes on. Test
// with errors.Is; errors.As with *DecodeError gives the offset.
var (
	// ErrTruncated: the record ends inside a value, or a length or count
	// claims more bytes than remain.
	ErrTruncated = errors.New("truncated record")
	// ErrCorrupt: bytes no writer could have produced: a union index or
	// enum index out of range, a negative length, a varint longer than 10
	// bytes or an int beyond 32 bits, a boolean byte other than 0 or 1,
	// nesting deeper than the limit.
	ErrCorrupt = errors.New("corrupt record")
	// ErrUnresolved: a well-formed value that the reader schema has no
	// place for, where the specification resolves per datum: a writer union
	// branch that matches no reader type, or an enum symbol the reader lacks
	// and has no default for.
	ErrUnresolved = errors.New("value does not resolve to the reader schema")
	// ErrUnknownSchema: the record names a writer schema the registry does
	// not have.
	ErrUnknownSchema = errors.New("unknown writer schema")
)

// Errors about a schema pair or a projection, from [Compile]. Test with
// errors.Is; errors.As with *CompileError gives the path.
var (
	// ErrSchema: a schema is not usable (does not parse, or names a type it
	// does not define).
	ErrSchema = errors.New("invalid schema")
	// ErrIncompatible: the writer type cannot be read as the reader type.
	ErrIncompatible = errors.New("incompatible writer and reader types")
	// ErrNoDefault: a reader field is missing from the writer and has no
	// default.
	ErrNoDefault = errors.New("reader field missing from writer has no default")
	// ErrUnknownPath: a projection path names no field of the reader schema,
	// or goes through something other than a record or a nullable record.
	ErrUnknownPath = errors.New("projection path names no reader field")
)

// DecodeError is a failed decode: which of the record errors (Err), where
// in the record (Offset, a byte index into the buffer given to Decode), and
// in which writer field (Field, a dotted path; empty at the top).
type DecodeError struct {
	Err    error
	Offset int
	Field  string
	Detail string
}

func (e *DecodeError) Error() string {
	s := "decode"
	if e.Field != "" {
		s += " field " + e.Field
	}
	s += fmt.Sprintf(" at byte %d: %v", e.Offset, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }

// CompileError is a schema pair or projection that cannot be compiled. Path
// is the dotted reader path where the problem is ("" for the root).
type CompileError struct {
	Err    error
	Path   string
	Detail string
}

func (e *CompileError) Error() string {
	p := e.Path
	if p == "" {
		p = "(root)"
	}
	s := "compile decoder: " + p + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *CompileError) Unwrap() error { return e.Err }

func compileErr(err error, path, format string, args ...any) error {
	return &CompileError{Err: err, Path: path, Detail: fmt.Sprintf(format, args...)}
}
