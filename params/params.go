// Package params defines the XamFlow parameter types, the values task
// inputs and outputs carry, and validates JSON values against them.
//
// There are four primitive types (Int, Float, String, Bool) and a family
// of composite types: JSON objects that describe bulk data kept on the file
// store (FSS), such as a 3D image with its pixel files. XamFlow does not
// publish a wire format for composites, so this package defines one; every
// shape is documented in TYPES.md next to this file, and a test keeps the
// two in sync.
//
// Constraints that depend on a particular task input (minimum, enum, ...)
// are not handled here but by the task interface that declares them.
package params

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Primitive type names.
const (
	TypeInt    = "Int"
	TypeFloat  = "Float"
	TypeString = "String"
	TypeBool   = "Bool"
)

var (
	// ErrInvalidJSON is wrapped by errors about input that is not JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrTypeMismatch is wrapped by errors about well-formed JSON that does
	// not have the shape the parameter type requires.
	ErrTypeMismatch = errors.New("type mismatch")
	// ErrUnknownType is wrapped when a type name is not a parameter type.
	ErrUnknownType = errors.New("unknown parameter type")
)

// ValueError describes why a value does not validate. Path locates the
// offending part of the value, e.g. "Image.size[2]"; it is empty when the
// value as a whole is wrong.
type ValueError struct {
	Path   string
	Reason string
	Kind   error // ErrInvalidJSON or ErrTypeMismatch
}

func (e *ValueError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

func (e *ValueError) Unwrap() error { return e.Kind }

func mismatch(path, format string, args ...any) error {
	return &ValueError{Path: path, Reason: fmt.Sprintf(format, args...), Kind: ErrTypeMismatch}
}

var primitives = []string{TypeInt, TypeFloat, TypeString, TypeBool}

// IsPrimitive reports whether typ is one of Int, Float, String and Bool.
func IsPrimitive(typ string) bool { return slices.Contains(primitives, typ) }

// Known reports whether typ is a parameter type this package can validate.
func Known(typ string) bool {
	_, ok := composites[typ]
	return ok || IsPrimitive(typ)
}

// Types returns every known type name: the primitives first, then the
// composites in alphabetical order.
func Types() []string {
	names := make([]string, 0, len(primitives)+len(composites))
	for name := range composites {
		names = append(names, name)
	}
	sort.Strings(names)
	return append(slices.Clone(primitives), names...)
}

func unknownType(typ string) error {
	return fmt.Errorf("params: %w %q", ErrUnknownType, typ)
}

// Validate checks that v is a valid value of type typ. A returned
// *ValueError wraps ErrInvalidJSON when v is not JSON and ErrTypeMismatch
// when it has the wrong shape; an unknown typ yields ErrUnknownType.
func Validate(typ string, v json.RawMessage) error {
	_, err := check(typ, v)
	return err
}

func check(typ string, raw json.RawMessage) (*value, error) {
	c, isComposite := composites[typ]
	if !isComposite && !IsPrimitive(typ) {
		return nil, unknownType(typ)
	}
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if isComposite {
		return v, c.validate("", v)
	}
	return v, checkPrimitive(typ, v)
}

func checkPrimitive(typ string, v *value) error {
	want := kindNumber
	switch typ {
	case TypeString:
		want = kindString
	case TypeBool:
		want = kindBool
	}
	if v.kind != want {
		return mismatch("", "%s expected, got %s", typ, v.kind)
	}
	var err error
	switch typ {
	case TypeInt:
		_, err = parseIntLiteral(v.number)
	case TypeFloat:
		_, err = parseFloatLiteral(v.number)
	}
	if err != nil {
		return mismatch("", "%s expected, got %s (%v)", typ, v.number, err)
	}
	return nil
}

// IntValue decodes an Int value. Integral numbers written with a fraction
// or exponent (2.0, 1e3) are accepted; anything with a non-zero fraction or
// outside the int64 range is not.
func IntValue(v json.RawMessage) (int64, error) {
	if err := Validate(TypeInt, v); err != nil {
		return 0, err
	}
	val, _ := decode(v)
	return parseIntLiteral(val.number)
}

// FloatValue decodes a Float value: any JSON number within the float64
// range.
func FloatValue(v json.RawMessage) (float64, error) {
	if err := Validate(TypeFloat, v); err != nil {
		return 0, err
	}
	val, _ := decode(v)
	return parseFloatLiteral(val.number)
}

// FileRefs validates v as a value of type typ and returns the FSS
// references it contains, each once, in a stable order: the value's own
// main file first, then the other files in the field order documented in
// TYPES.md, with nested values expanded in place. Primitive values and
// user-data ForeignFiles reference no files.
func FileRefs(typ string, v json.RawMessage) ([]string, error) {
	val, err := check(typ, v)
	if err != nil {
		return nil, err
	}
	c, ok := composites[typ]
	if !ok {
		return nil, nil
	}
	var refs []string
	seen := map[string]bool{}
	c.collect(val, func(ref string) {
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	})
	return refs, nil
}
