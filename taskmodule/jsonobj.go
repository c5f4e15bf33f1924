package taskmodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xfhost/xfhost/params"
)

// object is a JSON object decoded member by member. Decoding this way
// (rather than into a struct) lets unknown fields, duplicate keys and
// wrongly typed members be reported by their exact name and position.
type object struct {
	path    string // location for messages, e.g. "inputs[2]"; empty at top level
	keys    []string
	members map[string]json.RawMessage
}

// pathError is a problem at a location inside a JSON document.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	if e.path == "" {
		return e.err.Error()
	}
	return e.path + ": " + e.err.Error()
}

func (e *pathError) Unwrap() error { return e.err }

func errorAt(path, format string, args ...any) error {
	return &pathError{path: path, err: fmt.Errorf(format, args...)}
}

// invalidJSON reports a syntax error, wrapping params.ErrInvalidJSON.
func invalidJSON(data []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return fmt.Errorf("%w: %v (at byte %d)", params.ErrInvalidJSON, err, se.Offset)
	}
	return fmt.Errorf("%w: %v", params.ErrInvalidJSON, err)
}

// decodeDocument decodes a whole document that must be a JSON object.
func decodeDocument(data []byte) (*object, error) {
	if err := invalidJSON(data); err != nil {
		return nil, err
	}
	return decodeObject("", data)
}

// decodeObject decodes raw, which must be syntactically valid JSON.
func decodeObject(path string, raw json.RawMessage) (*object, error) {
	if k := kindOf(raw); k != "object" {
		return nil, errorAt(path, "must be an object, got %s", k)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, errorAt(path, "%w: %v", params.ErrInvalidJSON, err)
	}
	o := &object{path: path, members: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorAt(path, "%w: %v", params.ErrInvalidJSON, err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errorAt(path, "%w: %v", params.ErrInvalidJSON, err)
		}
		if _, dup := o.members[key]; dup {
			return nil, errorAt(path, "%w: duplicate key %q", params.ErrInvalidJSON, key)
		}
		o.keys = append(o.keys, key)
		o.members[key] = v
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, errorAt(path, "%w: %v", params.ErrInvalidJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorAt(path, "%w: data after the object", params.ErrInvalidJSON)
	}
	return o, nil
}

// kindOf names the kind of a syntactically valid JSON value.
func kindOf(raw json.RawMessage) string {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func isNull(raw json.RawMessage) bool { return kindOf(raw) == "null" }

func (o *object) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// allow rejects members other than the given ones.
func (o *object) allow(allowed ...string) error {
	for _, k := range o.keys {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return errorAt(o.path, "unknown field %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// get returns a member; an optional member set to null counts as absent,
// as Python tooling writes None for unset values.
func (o *object) get(key string, required bool) (json.RawMessage, bool, error) {
	v, ok := o.members[key]
	if ok && !required && isNull(v) {
		ok = false
	}
	if !ok && required {
		return nil, false, errorAt(o.path, "missing required field %q", key)
	}
	return v, ok, nil
}

func (o *object) string(key string, required bool) (string, error) {
	v, ok, err := o.get(key, required)
	if err != nil || !ok {
		return "", err
	}
	var s string
	if kindOf(v) != "string" || json.Unmarshal(v, &s) != nil {
		return "", errorAt(o.at(key), "must be a string, got %s", kindOf(v))
	}
	return s, nil
}

func (o *object) array(key string, required bool) ([]json.RawMessage, bool, error) {
	v, ok, err := o.get(key, required)
	if err != nil || !ok {
		return nil, false, err
	}
	var elems []json.RawMessage
	if kindOf(v) != "array" || json.Unmarshal(v, &elems) != nil {
		return nil, false, errorAt(o.at(key), "must be an array, got %s", kindOf(v))
	}
	return elems, true, nil
}

// number returns a member that must be a JSON number, as its literal.
func (o *object) number(key string) (json.Number, error) {
	v, ok, err := o.get(key, false)
	if err != nil || !ok {
		return "", err
	}
	if kindOf(v) != "number" {
		return "", errorAt(o.at(key), "must be a number, got %s", kindOf(v))
	}
	return json.Number(bytes.TrimSpace(v)), nil
}
