package taskmodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xfhost/xfhost/params"
)

var (
	// ErrUnknownInput is wrapped when a job supplies an input the interface
	// does not declare.
	ErrUnknownInput = errors.New("not declared by the task interface")
	// ErrMissingInput is wrapped when a job omits an input that has no
	// default.
	ErrMissingInput = errors.New("missing and has no default")
	// ErrUnknownOutput is wrapped when a task produces an output the
	// interface does not declare.
	ErrUnknownOutput = errors.New("not declared by the task interface")
	// ErrConstraint is wrapped when a value of the right type violates a
	// minimum, maximum, multipleOf, enum or format constraint.
	ErrConstraint = errors.New("constraint violated")
)

// kindError carries a message while matching a sentinel with errors.Is,
// so messages can read naturally without repeating the sentinel's text.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func kindErrorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// ResolveInputs validates a job's inputs object against the interface and
// returns it in canonical form: compact JSON with exactly the declared
// inputs, in declaration order, defaults filled in and Int values written
// as plain integers. Errors name the offending input key.
func (it *Interface) ResolveInputs(inputs json.RawMessage) (json.RawMessage, error) {
	o, err := decodeDocument(inputs)
	if err != nil {
		return nil, fmt.Errorf("job inputs: %w", err)
	}
	for _, key := range o.keys {
		if _, ok := it.Input(key); !ok {
			return nil, fmt.Errorf("input %q: %w", key, ErrUnknownInput)
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i := range it.Inputs {
		in := &it.Inputs[i]
		raw, ok := o.members[in.Key]
		if !ok {
			if in.Default == nil {
				return nil, fmt.Errorf("input %q: %w", in.Key, ErrMissingInput)
			}
			raw = in.Default
		}
		var canon json.RawMessage
		if isNull(raw) {
			if !in.Supports(ModeNone) {
				return nil, fmt.Errorf("input %q: %w", in.Key, kindErrorf(params.ErrTypeMismatch,
					"null is not allowed (supported_modes does not include %q)", ModeNone))
			}
			canon = json.RawMessage("null")
		} else if canon, err = in.resolve(raw); err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Key, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(in.Key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(canon)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// CheckOutput validates a value a task produced for the output key.
func (it *Interface) CheckOutput(key string, v json.RawMessage) error {
	out, ok := it.Output(key)
	if !ok {
		return fmt.Errorf("output %q: %w", key, ErrUnknownOutput)
	}
	if err := params.Validate(out.Type, v); err != nil {
		return fmt.Errorf("output %q: %w", key, err)
	}
	return nil
}

// resolve type-checks a non-null value, applies the input's constraints and
// returns the value in canonical form.
func (in *Input) resolve(raw json.RawMessage) (json.RawMessage, error) {
	if err := params.Validate(in.Type, raw); err != nil {
		return nil, err
	}
	b, err := in.bounds()
	if err != nil {
		return nil, err
	}
	switch in.Type {
	case params.TypeInt:
		n, _ := params.IntValue(raw)
		if err := b.check(num{isInt: true, i: n}, strconv.FormatInt(n, 10)); err != nil {
			return nil, err
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	case params.TypeFloat:
		f, _ := params.FloatValue(raw)
		lit := string(bytes.TrimSpace(raw))
		if err := b.check(num{f: f}, lit); err != nil {
			return nil, err
		}
		if b.hasMultipleOf && !isMultiple(f, b.multipleOf) {
			return nil, kindErrorf(ErrConstraint, "%s is not a multiple of %s", lit, in.MultipleOf)
		}
	case params.TypeString:
		var s string
		_ = json.Unmarshal(raw, &s)
		if in.Enum != nil && !slices.Contains(in.Enum, s) {
			return nil, kindErrorf(ErrConstraint, "%q is not one of %s", s, quoteAll(in.Enum))
		}
		if in.Format == FormatDateTime {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return nil, kindErrorf(ErrConstraint, "%q is not an RFC 3339 date-time such as \"2024-05-01T12:00:00Z\"", s)
			}
		}
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, err // unreachable: Validate accepted raw
	}
	return out.Bytes(), nil
}

// isMultiple reports whether f is an integer multiple of m, allowing for
// the rounding error of decimal fractions such as 0.1 in binary.
func isMultiple(f, m float64) bool {
	q := f / m
	return math.Abs(q-math.Round(q)) <= 1e-9*math.Max(1, math.Abs(q))
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// num is a numeric value or bound; Int inputs compare exactly as int64.
type num struct {
	isInt bool
	i     int64
	f     float64
}

func (a num) less(b num) bool {
	if a.isInt {
		return a.i < b.i
	}
	return a.f < b.f
}

type bounds struct {
	hasMin, hasMax, hasMultipleOf bool
	min, max                      num
	multipleOf                    float64
}

// bounds decodes the input's numeric constraints.
func (in *Input) bounds() (bounds, error) {
	var b bounds
	decode := func(key string, lit json.Number) (num, error) {
		if in.Type == params.TypeInt {
			i, err := params.IntValue(json.RawMessage(lit))
			if err != nil {
				return num{}, errorAt(key, "must be an integer for an Int input, got %s", lit)
			}
			return num{isInt: true, i: i}, nil
		}
		f, err := params.FloatValue(json.RawMessage(lit))
		if err != nil {
			return num{}, errorAt(key, "must be a finite number, got %s", lit)
		}
		return num{f: f}, nil
	}
	var err error
	if in.Minimum != "" {
		b.hasMin = true
		if b.min, err = decode("minimum", in.Minimum); err != nil {
			return b, err
		}
	}
	if in.Maximum != "" {
		b.hasMax = true
		if b.max, err = decode("maximum", in.Maximum); err != nil {
			return b, err
		}
	}
	if in.MultipleOf != "" {
		b.hasMultipleOf = true
		f, err := params.FloatValue(json.RawMessage(in.MultipleOf))
		if err != nil {
			return b, errorAt("multipleOf", "must be a finite number, got %s", in.MultipleOf)
		}
		b.multipleOf = f
	}
	return b, nil
}

func (b bounds) check(v num, lit string) error {
	if b.hasMin && v.less(b.min) {
		return kindErrorf(ErrConstraint, "%s is below the minimum %s", lit, b.min)
	}
	if b.hasMax && b.max.less(v) {
		return kindErrorf(ErrConstraint, "%s is above the maximum %s", lit, b.max)
	}
	return nil
}

func (a num) String() string {
	if a.isInt {
		return strconv.FormatInt(a.i, 10)
	}
	return strconv.FormatFloat(a.f, 'g', -1, 64)
}
