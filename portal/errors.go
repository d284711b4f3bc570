package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Error carries an HTTP status, the message ID shown to the user and the internal cause, which only the log sees.
type Error struct {
	Status int
	Msg    string // prefix of error.<Msg>.title / error.<Msg>.text
	Cause  error
}

func (e *Error) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("%d %s", e.Status, e.Msg)
	}
	return fmt.Sprintf("%d %s: %v", e.Status, e.Msg, e.Cause)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errors the handlers return; the error handler turns them into localized pages.
func errNotFound(cause error) error {
	return &Error{Status: fiber.StatusNotFound, Msg: "not_found", Cause: cause}
}
func errBadRequest(cause error) error {
	return &Error{Status: fiber.StatusBadRequest, Msg: "bad_request", Cause: cause}
}
func errCSRF(cause error) error {
	return &Error{Status: fiber.StatusForbidden, Msg: "cross_site", Cause: cause}
}
func errTooMany(cause error) error {
	return &Error{Status: fiber.StatusTooManyRequests, Msg: "too_many", Cause: cause}
}

// classify maps any error to the page the user sees. Connection failures to PostgreSQL or Redis are 503, so a
// visitor during an outage reads "temporarily unavailable", never "internal error" or a stack trace.
func classify(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
			return &Error{Status: fiber.StatusNotFound, Msg: "not_found", Cause: err}
		case fiber.StatusRequestEntityTooLarge:
			return &Error{Status: fe.Code, Msg: "too_large", Cause: err}
		case fiber.StatusRequestHeaderFieldsTooLarge:
			return &Error{Status: fe.Code, Msg: "too_large", Cause: err}
		case fiber.StatusTooManyRequests:
			return &Error{Status: fe.Code, Msg: "too_many", Cause: err}
		case fiber.StatusServiceUnavailable:
			return &Error{Status: fe.Code, Msg: "unavailable", Cause: err}
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return &Error{Status: fiber.StatusBadRequest, Msg: "bad_request", Cause: err}
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return &Error{Status: fiber.StatusNotFound, Msg: "not_found", Cause: err}
	}
	if unavailable(err) {
		return &Error{Status: fiber.StatusServiceUnavailable, Msg: "unavailable", Cause: err}
	}
	return &Error{Status: fiber.StatusInternalServerError, Msg: "internal", Cause: err}
}

// unavailable reports whether err means a backing service (PostgreSQL, Redis) cannot be reached right now.
func unavailable(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions.
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || pgErr.Code[:2] == "08"
	}
	return pgconn.SafeToRetry(err)
}
