package params

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonKind is the kind of a JSON value, named as in error messages.
type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	}
	return "object"
}

// value is a decoded JSON value. Unlike decoding into any, it keeps number
// literals exact and object keys in document order, and decoding rejects
// duplicate keys, which encoding/json would silently collapse.
type value struct {
	kind    jsonKind
	boolean bool
	number  string // the literal, for kindNumber
	str     string
	elems   []*value
	keys    []string          // kindObject, in document order
	members map[string]*value // kindObject
}

// decode parses one JSON document. Syntax problems are reported as
// ErrInvalidJSON.
func decode(data []byte) (*value, error) {
	// A full syntax check first gives a precise error (with offset) and
	// rejects trailing garbage before the token decoder sees the input.
	var syntax json.RawMessage
	if err := json.Unmarshal(data, &syntax); err != nil {
		return nil, &ValueError{Reason: "invalid JSON: " + syntaxMessage(err), Kind: ErrInvalidJSON}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ValueError{Reason: "invalid JSON: data after the top-level value", Kind: ErrInvalidJSON}
	}
	return v, nil
}

func syntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

func decodeValue(dec *json.Decoder, path string) (*value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, &ValueError{Path: path, Reason: "invalid JSON: " + err.Error(), Kind: ErrInvalidJSON}
	}
	switch t := tok.(type) {
	case nil:
		return &value{kind: kindNull}, nil
	case bool:
		return &value{kind: kindBool, boolean: t}, nil
	case json.Number:
		return &value{kind: kindNumber, number: string(t)}, nil
	case string:
		return &value{kind: kindString, str: t}, nil
	case json.Delim:
		if t == '[' {
			v := &value{kind: kindArray}
			for dec.More() {
				e, err := decodeValue(dec, path+"["+strconv.Itoa(len(v.elems))+"]")
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, e)
			}
			_, err := dec.Token() // ']'
			return v, err
		}
		v := &value{kind: kindObject, members: map[string]*value{}}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := keyTok.(string)
			if _, dup := v.members[key]; dup {
				return nil, &ValueError{Path: path, Reason: fmt.Sprintf("invalid JSON: duplicate key %q", key), Kind: ErrInvalidJSON}
			}
			m, err := decodeValue(dec, joinPath(path, key))
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, key)
			v.members[key] = m
		}
		_, err := dec.Token() // '}'
		return v, err
	}
	return nil, &ValueError{Path: path, Reason: fmt.Sprintf("invalid JSON: unexpected token %v", tok), Kind: ErrInvalidJSON}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
