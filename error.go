package ipdesk

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web package.
const (
	EINVALID      = "invalid"             // bad input; nothing changed
	ENOTFOUND     = "not_found"           // the object does not exist (or may not be known)
	ECONFLICT     = "conflict"            // the change clashes with stored data
	EUNAUTHORIZED = "unauthorized"        // no valid credentials
	EFORBIDDEN    = "forbidden"           // credentials valid, right missing
	EPRECONDITION = "precondition_failed" // optimistic concurrency: stale version
	ETOOMANY      = "too_many_requests"   // rate limited
	ESTORAGEFULL  = "storage_full"        // the database's disk or size limit is full; nothing changed
	EUNAVAILABLE  = "unavailable"         // busy for now (the database held by a long write, shutdown); nothing changed; try again
	EINTERNAL     = "internal"            // a fault of ipdesk or its database
)

// Error is ipdesk's error type. Its message is written for the person who
// caused it: it names the field and the value where there is one.
type Error struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`

	// Format is the message before formatting, in English: it is the
	// message's key in the translations (i18n/messages/LANG/errors.json).
	// Args are its values; an *Error among them is translated in turn.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("ipdesk: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
// An *Error among args stands for its message.
func Errorf(code, format string, args ...any) *Error {
	return FieldErrorf(code, "", format, args...)
}

// FieldErrorf returns an *Error about one input field.
func FieldErrorf(code, field, format string, args ...any) *Error {
	shown := args
	for i, a := range args {
		if e, ok := a.(*Error); ok && e != nil {
			if &shown[0] == &args[0] {
				shown = append([]any(nil), args...)
			}
			shown[i] = e.Message
		}
	}
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, shown...), Format: format, Args: args}
}

// WithField returns err as an *Error with code about field, keeping err's
// message (and so its translation). An error that is not an *Error is
// returned as it is: its text is not for users.
func WithField(err error, code, field string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Code, c.Field = code, field
	return &c
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrorCode returns the code of err: "" for nil, EINTERNAL for errors that
// are not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of err. Errors that are not an
// *Error are internal and their text is not shown to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the input field err is about, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
