package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sluicehq/sluice/internal/catalog"
)

// problem turns a domain error into an RFC 7807 response: the caller's
// mistakes become 4xx naming the field, an unreachable dependency 503, and
// only a fault of Sluice's own 500 (logged, with its detail kept out of the
// response).
func problem(ctx context.Context, err error) error {
	var ce *catalog.Error
	if errors.As(err, &ce) {
		msg := ce.Message
		if ce.Err != nil {
			msg += ": " + ce.Err.Error()
		}
		switch ce.Code {
		case catalog.Invalid:
			return huma.NewError(http.StatusUnprocessableEntity, msg,
				&huma.ErrorDetail{Location: "body." + ce.Field, Message: msg})
		case catalog.NotFound:
			return huma.Error404NotFound(msg)
		case catalog.Conflict:
			return huma.Error409Conflict(msg)
		case catalog.Unavailable:
			return huma.Error503ServiceUnavailable(msg)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return huma.Error503ServiceUnavailable("the request was cancelled or timed out before it finished")
	}
	slog.ErrorContext(ctx, "internal error", "err", err)
	return huma.Error500InternalServerError("internal error; the server log has the details")
}
