package taskmodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/xfhost/xfhost/params"
)

// Mode is a way an input's value can be supplied to a job.
type Mode string

// The supported_modes XamFlow defines.
const (
	ModeNone          Mode = "none"            // the input may be null
	ModeOutput        Mode = "output"          // bound to another task's output
	ModeFixed         Mode = "fixed"           // a constant set when the workflow is built
	ModeDefineOnFirst Mode = "define_on_first" // set when the workflow first runs
	ModeUI            Mode = "ui"              // entered by the user
)

var modes = []Mode{ModeNone, ModeOutput, ModeFixed, ModeDefineOnFirst, ModeUI}

// String formats accepted by String inputs.
const (
	FormatMultiline  = "multiline"
	FormatCommonMark = "commonmark"
	FormatDateTime   = "date-time" // RFC 3339; values are checked
)

var formats = []string{FormatMultiline, FormatCommonMark, FormatDateTime}

// Processing effort functions for processing_effort_factor.
const (
	EffortLinearWithSizeOfInput = "LinearWithSizeOfInput"
	EffortConstant              = "Constant"
)

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Interface declares a task type's inputs and outputs (XamFlow's
// interface.json).
type Interface struct {
	Inputs                 []Input         `json:"inputs"`
	Outputs                []Output        `json:"outputs"`
	ProcessingEffortFactor json.RawMessage `json:"processing_effort_factor,omitempty"`
}

// Input declares one input. Numeric bounds keep their JSON literal so that
// Int bounds stay exact.
type Input struct {
	Key            string          `json:"key"`
	Type           string          `json:"type"`
	SupportedModes []Mode          `json:"supported_modes"`
	Description    string          `json:"description"`
	Default        json.RawMessage `json:"default,omitempty"`
	Minimum        json.Number     `json:"minimum,omitempty"`
	Maximum        json.Number     `json:"maximum,omitempty"`
	MultipleOf     json.Number     `json:"multipleOf,omitempty"`
	Enum           []string        `json:"enum,omitempty"`
	Format         string          `json:"format,omitempty"`
}

// Supports reports whether m is among the input's supported modes.
func (in *Input) Supports(m Mode) bool { return slices.Contains(in.SupportedModes, m) }

// Output declares one output.
type Output struct {
	Key         string `json:"key"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// Input returns the input declared under key.
func (it *Interface) Input(key string) (*Input, bool) {
	for i := range it.Inputs {
		if it.Inputs[i].Key == key {
			return &it.Inputs[i], true
		}
	}
	return nil, false
}

// Output returns the output declared under key.
func (it *Interface) Output(key string) (*Output, bool) {
	for i := range it.Outputs {
		if it.Outputs[i].Key == key {
			return &it.Outputs[i], true
		}
	}
	return nil, false
}

// ParseInterface decodes and validates an interface document.
func ParseInterface(data []byte) (*Interface, error) {
	it, err := parseInterface(data)
	if err != nil {
		return nil, fmt.Errorf("taskmodule: interface: %w", err)
	}
	return it, nil
}

func parseInterface(data []byte) (*Interface, error) {
	o, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	if err := o.allow("inputs", "outputs", "processing_effort_factor"); err != nil {
		return nil, err
	}
	// Non-nil so that an empty list marshals back as [] rather than null.
	it := &Interface{Inputs: []Input{}, Outputs: []Output{}}
	inputs, _, err := o.array("inputs", true)
	if err != nil {
		return nil, err
	}
	for i, raw := range inputs {
		in, err := parseInput(fmt.Sprintf("inputs[%d]", i), raw)
		if err != nil {
			return nil, err
		}
		if _, dup := it.Input(in.Key); dup {
			return nil, errorAt(fmt.Sprintf("inputs[%d].key", i), "duplicate input key %q", in.Key)
		}
		it.Inputs = append(it.Inputs, *in)
	}
	outputs, _, err := o.array("outputs", true)
	if err != nil {
		return nil, err
	}
	for i, raw := range outputs {
		out, err := parseOutput(fmt.Sprintf("outputs[%d]", i), raw)
		if err != nil {
			return nil, err
		}
		if _, dup := it.Output(out.Key); dup {
			return nil, errorAt(fmt.Sprintf("outputs[%d].key", i), "duplicate output key %q", out.Key)
		}
		it.Outputs = append(it.Outputs, *out)
	}
	if raw, ok, _ := o.get("processing_effort_factor", false); ok {
		if err := it.checkEffort(raw); err != nil {
			return nil, err
		}
		it.ProcessingEffortFactor = raw
	}
	return it, nil
}

func parseKey(o *object) (string, error) {
	key, err := o.string("key", true)
	if err != nil {
		return "", err
	}
	if !keyPattern.MatchString(key) {
		return "", errorAt(o.at("key"), "%q must start with a lower-case letter and contain only a-z, 0-9 and _", key)
	}
	return key, nil
}

func parseType(o *object) (string, error) {
	typ, err := o.string("type", true)
	if err != nil {
		return "", err
	}
	if !params.Known(typ) {
		return "", errorAt(o.at("type"), "unknown parameter type %q (known: %s)", typ, strings.Join(params.Types(), ", "))
	}
	return typ, nil
}

func parseOutput(path string, raw json.RawMessage) (*Output, error) {
	o, err := decodeObject(path, raw)
	if err != nil {
		return nil, err
	}
	if err := o.allow("key", "type", "description"); err != nil {
		return nil, err
	}
	out := &Output{}
	if out.Key, err = parseKey(o); err != nil {
		return nil, err
	}
	o.path = fmt.Sprintf("%s (%q)", path, out.Key)
	if out.Type, err = parseType(o); err != nil {
		return nil, err
	}
	if out.Description, err = o.string("description", false); err != nil {
		return nil, err
	}
	return out, nil
}

func parseInput(path string, raw json.RawMessage) (*Input, error) {
	o, err := decodeObject(path, raw)
	if err != nil {
		return nil, err
	}
	if err := o.allow("key", "type", "supported_modes", "description", "default",
		"minimum", "maximum", "multipleOf", "enum", "format"); err != nil {
		return nil, err
	}
	in := &Input{}
	if in.Key, err = parseKey(o); err != nil {
		return nil, err
	}
	// From here on, name the input by key: easier to find than an index.
	o.path = fmt.Sprintf("%s (%q)", path, in.Key)
	if in.Type, err = parseType(o); err != nil {
		return nil, err
	}
	if in.SupportedModes, err = parseModes(o); err != nil {
		return nil, err
	}
	if in.Description, err = o.string("description", false); err != nil {
		return nil, err
	}
	if err := parseConstraints(o, in); err != nil {
		return nil, err
	}
	if err := in.checkConstraintDecls(o); err != nil {
		return nil, err
	}
	if raw, ok := o.members["default"]; ok {
		if isNull(raw) {
			return nil, errorAt(o.at("default"), `must not be null; omit it and list "none" in supported_modes to allow null`)
		}
		if !params.IsPrimitive(in.Type) {
			return nil, errorAt(o.at("default"), "only Int, Float, String and Bool inputs may have a default, not %s", in.Type)
		}
		if _, err := in.resolve(raw); err != nil {
			return nil, errorAt(o.at("default"), "%w", err)
		}
		in.Default = raw
	}
	return in, nil
}

func parseModes(o *object) ([]Mode, error) {
	elems, _, err := o.array("supported_modes", true)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errorAt(o.at("supported_modes"), "must list at least one mode")
	}
	var ms []Mode
	for i, raw := range elems {
		p := fmt.Sprintf("%s[%d]", o.at("supported_modes"), i)
		var s string
		if kindOf(raw) != "string" || json.Unmarshal(raw, &s) != nil {
			return nil, errorAt(p, "must be a string, got %s", kindOf(raw))
		}
		m := Mode(s)
		if !slices.Contains(modes, m) {
			return nil, errorAt(p, "unknown mode %q (known: %s)", s, joinModes(modes))
		}
		if slices.Contains(ms, m) {
			return nil, errorAt(p, "duplicate mode %q", s)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func joinModes(ms []Mode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

func parseConstraints(o *object, in *Input) error {
	var err error
	if in.Minimum, err = o.number("minimum"); err != nil {
		return err
	}
	if in.Maximum, err = o.number("maximum"); err != nil {
		return err
	}
	if in.MultipleOf, err = o.number("multipleOf"); err != nil {
		return err
	}
	if in.Format, err = o.string("format", false); err != nil {
		return err
	}
	elems, hasEnum, err := o.array("enum", false)
	if err != nil {
		return err
	}
	if hasEnum {
		in.Enum = []string{}
		for i, raw := range elems {
			var s string
			if kindOf(raw) != "string" || json.Unmarshal(raw, &s) != nil {
				return errorAt(fmt.Sprintf("%s[%d]", o.at("enum"), i), "must be a string, got %s", kindOf(raw))
			}
			in.Enum = append(in.Enum, s)
		}
	}
	return nil
}

// checkConstraintDecls checks that each declared constraint suits the
// input's type and is itself sensible.
func (in *Input) checkConstraintDecls(o *object) error {
	numeric := in.Type == params.TypeInt || in.Type == params.TypeFloat
	for _, c := range []struct {
		key     string
		present bool
		ok      bool
		allowed string
	}{
		{"minimum", in.Minimum != "", numeric, "Int and Float"},
		{"maximum", in.Maximum != "", numeric, "Int and Float"},
		{"multipleOf", in.MultipleOf != "", in.Type == params.TypeFloat, "Float"},
		{"enum", in.Enum != nil, in.Type == params.TypeString, "String"},
		{"format", in.Format != "", in.Type == params.TypeString, "String"},
	} {
		if c.present && !c.ok {
			return errorAt(o.at(c.key), "allowed only for %s inputs, not %s", c.allowed, in.Type)
		}
	}
	b, err := in.bounds()
	if err != nil {
		var pe *pathError
		if errors.As(err, &pe) { // relocate "minimum" to "inputs[i] (key).minimum"
			return &pathError{path: o.at(pe.path), err: pe.err}
		}
		return errorAt(o.path, "%w", err)
	}
	if b.hasMin && b.hasMax && b.max.less(b.min) {
		return errorAt(o.at("maximum"), "%s is below minimum %s", in.Maximum, in.Minimum)
	}
	if b.hasMultipleOf && b.multipleOf <= 0 {
		return errorAt(o.at("multipleOf"), "must be greater than 0, got %s", in.MultipleOf)
	}
	if in.Enum != nil {
		if len(in.Enum) == 0 {
			return errorAt(o.at("enum"), "must list at least one value")
		}
		for i, s := range in.Enum {
			if slices.Contains(in.Enum[:i], s) {
				return errorAt(fmt.Sprintf("%s[%d]", o.at("enum"), i), "duplicate value %q", s)
			}
		}
	}
	if in.Format != "" && !slices.Contains(formats, in.Format) {
		return errorAt(o.at("format"), "unknown format %q (known: %s)", in.Format, strings.Join(formats, ", "))
	}
	return nil
}

func (it *Interface) checkEffort(raw json.RawMessage) error {
	o, err := decodeObject("processing_effort_factor", raw)
	if err != nil {
		return err
	}
	fn, err := o.string("function", true)
	if err != nil {
		return err
	}
	switch fn {
	case EffortLinearWithSizeOfInput:
		if err := o.allow("function", "input_key"); err != nil {
			return err
		}
		key, err := o.string("input_key", true)
		if err != nil {
			return err
		}
		if _, ok := it.Input(key); !ok {
			return errorAt(o.at("input_key"), "%q names no input", key)
		}
	case EffortConstant:
		if err := o.allow("function", "seconds"); err != nil {
			return err
		}
		secs, err := o.number("seconds")
		if err != nil {
			return err
		}
		if secs == "" {
			return errorAt(o.path, `missing required field "seconds"`)
		}
		if f, err := secs.Float64(); err != nil || f <= 0 {
			return errorAt(o.at("seconds"), "must be a positive number, got %s", secs)
		}
	default:
		return errorAt(o.at("function"), "unknown function %q (known: %s, %s)", fn, EffortLinearWithSizeOfInput, EffortConstant)
	}
	return nil
}
