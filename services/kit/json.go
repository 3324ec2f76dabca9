package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Problem is every API error body: a stable machine-readable code (what a
// client branches on) and a sentence for the person reading it.
type Problem struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

// WriteJSON writes v as the JSON response body with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteProblem writes a Problem with status code.
func WriteProblem(w http.ResponseWriter, code int, errCode, format string, args ...any) {
	WriteJSON(w, code, Problem{Code: errCode, Message: fmt.Sprintf(format, args...)})
}

// ErrTooLarge is returned by ReadBody and DecodeJSON for a body over the limit.
var ErrTooLarge = errors.New("request body is too large")

// ReadBody reads at most limit bytes of the request body; a larger body is
// ErrTooLarge, read no further than limit+1 bytes.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// DecodeJSON decodes a request body of at most limit bytes into v,
// strictly: an unknown field, trailing data or a wrong type is an error
// naming it.
func DecodeJSON(r *http.Request, limit int64, v any) error {
	b, err := ReadBody(r, limit)
	if err != nil {
		return err
	}
	return DecodeStrict(b, v)
}

// DecodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: trailing data after the value")
	}
	return nil
}
