package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Error is a problem response (RFC 7807) from the API, or any other non-2xx
// answer. Status is the HTTP status; the rest comes from the problem document.
type Error struct {
	Status int
	// Title is a short summary that depends only on the status, such as
	// "Conflict".
	Title string
	// Detail says what went wrong this time, such as
	// `tenant "acme" already exists`.
	Detail string
	// Errors name the request fields at fault, for validation failures.
	Errors []FieldError
}

// FieldError is one invalid part of a request.
type FieldError struct {
	// Location is where in the request, such as "body.name",
	// "body.configs.cleanup.policy" or "query.since".
	Location string `json:"location"`
	Message  string `json:"message"`
	// Value is the rejected value, when the server echoes it.
	Value any `json:"value,omitempty"`
}

// Error reads as one line for a single problem, such as
//
//	409 Conflict: tenant "acme" already exists
//	422 Unprocessable Entity: body.partitions: 2 is fewer than ...
//
// and lists every field on a line of its own when there are several.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(statusLine(e.Status, e.Title))
	errs := e.Errors
	// The catalog repeats a single field error as the detail; say it once.
	if len(errs) == 1 && (e.Detail == "" || e.Detail == errs[0].Message || e.Detail == "validation failed") {
		b.WriteString(": ")
		b.WriteString(errs[0].String())
		return b.String()
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, fe := range errs {
		b.WriteString("\n  ")
		b.WriteString(fe.String())
	}
	return b.String()
}

func statusLine(status int, title string) string {
	if title == "" {
		title = http.StatusText(status)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", status, title))
}

// String reads "body.name: expected string to match pattern ... (got "Bad")".
// Values at secret-bearing locations are never repeated.
func (fe FieldError) String() string {
	s := fe.Message
	if fe.Location != "" {
		s = fe.Location + ": " + s
	}
	if v, ok := fe.shownValue(); ok {
		s += " (got " + v + ")"
	}
	return s
}

// shownValue is the rejected value worth echoing: a scalar, not already in
// the message, and never at a location that may hold a secret.
func (fe FieldError) shownValue() (string, bool) {
	loc := strings.ToLower(fe.Location)
	if strings.Contains(loc, "password") || strings.Contains(loc, "key") || fe.Location == "body" {
		return "", false
	}
	var v string
	switch x := fe.Value.(type) {
	case string:
		v = fmt.Sprintf("%q", x)
	case float64, bool:
		v = fmt.Sprint(x)
	default:
		return "", false
	}
	if len(v) > 80 || strings.Contains(fe.Message, v) {
		return "", false
	}
	return v, true
}

// StatusOf returns the HTTP status of err when it is an *Error, else 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// UnreachableError means no HTTP answer came back: the server is down, the
// address is wrong, or it did not answer within the timeout.
type UnreachableError struct {
	Method, URL string
	// Timeout is the per-request bound that applied, 0 for none.
	Timeout time.Duration
	Err     error
}

func (e *UnreachableError) Error() string {
	if isTimeout(e.Err) && e.Timeout > 0 {
		return fmt.Sprintf("no answer from the Sluice API at %s within %v (%s %s)", hostOf(e.URL), e.Timeout, e.Method, e.URL)
	}
	return fmt.Sprintf("cannot reach the Sluice API at %s (%s %s): %v", hostOf(e.URL), e.Method, e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// hostOf is scheme://host of a URL, the part a user fixes with --server.
func hostOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// decodeError turns a non-2xx response into an *Error, from its problem
// document when there is one, else from the status and the start of the body
// (a proxy's HTML page, say).
func decodeError(method, target string, resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return fmt.Errorf("%s %s: %s, and reading the response failed: %w", method, target, resp.Status, err)
	}
	e := &Error{Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p struct {
			Title  string       `json:"title"`
			Status int          `json:"status"`
			Detail string       `json:"detail"`
			Errors []FieldError `json:"errors"`
		}
		if json.Unmarshal(body, &p) == nil {
			e.Title, e.Detail, e.Errors = p.Title, p.Detail, p.Errors
			return e
		}
	}
	e.Title = http.StatusText(resp.StatusCode)
	text := strings.TrimSpace(string(body))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	e.Detail = fmt.Sprintf("unexpected answer to %s %s: %s", method, target, text)
	return e
}
