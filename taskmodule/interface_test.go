package taskmodule

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/params"
)

const baseInterface = `{
	"inputs": [
		{"key": "image", "type": "Image", "supported_modes": ["fixed", "output"], "description": "in"},
		{"key": "value", "type": "Float", "supported_modes": ["ui"], "description": "a number"}
	],
	"outputs": [{"key": "result", "type": "Float"}]
}`

// interfaceWith returns baseInterface with fields of its second input
// ("value") and top-level fields replaced or deleted (del{}).
func interfaceWith(t *testing.T, input, top map[string]any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(baseInterface), &doc); err != nil {
		t.Fatal(err)
	}
	in := doc["inputs"].([]any)[1].(map[string]any)
	for k, v := range input {
		if _, ok := v.(del); ok {
			delete(in, k)
		} else {
			in[k] = v
		}
	}
	for k, v := range top {
		if _, ok := v.(del); ok {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInterface(t *testing.T) {
	const v = `inputs[1] ("value")`
	m := func(kv ...any) map[string]any {
		r := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			r[kv[i].(string)] = kv[i+1]
		}
		return r
	}
	tests := []struct {
		name       string
		input, top map[string]any
		want       string // substring of the error; "" for valid
	}{
		{"base", nil, nil, ""},
		{"float constraints", m("minimum", 0, "maximum", 10.5, "multipleOf", 0.5, "default", 2.5), nil, ""},
		{"int constraints", m("type", "Int", "minimum", -3, "maximum", 7, "default", 7), nil, ""},
		{"string constraints", m("type", "String", "enum", []string{"a", "b"}, "default", "b", "format", "multiline"), nil, ""},
		{"bool default", m("type", "Bool", "default", false, "supported_modes", []string{"none", "ui"}), nil, ""},
		{"all modes", m("supported_modes", []string{"none", "output", "fixed", "define_on_first", "ui"}), nil, ""},
		{"empty lists", nil, m("inputs", []any{}, "outputs", []any{}), ""},
		{"constant effort", nil, m("processing_effort_factor", m("function", "Constant", "seconds", 30)), ""},
		{"linear effort", nil, m("processing_effort_factor", m("function", "LinearWithSizeOfInput", "input_key", "image")), ""},
		{"null effort", nil, m("processing_effort_factor", nil), ""},

		{"unknown top-level field", nil, m("input", []any{}), `unknown field "input" (allowed: inputs, outputs, processing_effort_factor)`},
		{"missing inputs", nil, m("inputs", del{}), `missing required field "inputs"`},
		{"missing outputs", nil, m("outputs", del{}), `missing required field "outputs"`},
		{"inputs not array", nil, m("inputs", m()), "inputs: must be an array, got object"},
		{"input not object", nil, m("inputs", []any{"image"}), "inputs[0]: must be an object, got string"},
		{"input unknown field", m("minimun", 1), nil, `inputs[1]: unknown field "minimun" (allowed: key, type, supported_modes, description, default, minimum, maximum, multipleOf, enum, format)`},
		{"input missing key", m("key", del{}), nil, `inputs[1]: missing required field "key"`},
		{"input missing type", m("type", del{}), nil, v + `: missing required field "type"`},
		{"input missing modes", m("supported_modes", del{}), nil, v + `: missing required field "supported_modes"`},
		{"key upper case", m("key", "Value"), nil, `inputs[1].key: "Value" must start with a lower-case letter`},
		{"key starting with digit", m("key", "1value"), nil, "must start with a lower-case letter"},
		{"key with dash", m("key", "a-b"), nil, "must start with a lower-case letter"},
		{"duplicate input key", m("key", "image"), nil, `inputs[1].key: duplicate input key "image"`},
		{"unknown type", m("type", "Integer"), nil, v + `.type: unknown parameter type "Integer" (known: Int, Float, String, Bool,`},
		{"no modes", m("supported_modes", []string{}), nil, v + ".supported_modes: must list at least one mode"},
		{"unknown mode", m("supported_modes", []string{"ui", "never"}), nil, v + `.supported_modes[1]: unknown mode "never" (known: none, output, fixed, define_on_first, ui)`},
		{"duplicate mode", m("supported_modes", []string{"ui", "ui"}), nil, `duplicate mode "ui"`},
		{"mode not string", m("supported_modes", []any{1}), nil, ".supported_modes[0]: must be a string, got number"},
		{"modes not array", m("supported_modes", "ui"), nil, ".supported_modes: must be an array, got string"},
		{"default for composite", m("type", "Image", "default", m("type", "Image")), nil, v + ".default: only Int, Float, String and Bool inputs may have a default, not Image"},
		{"null default", m("default", nil), nil, v + `.default: must not be null`},
		{"default of wrong type", m("default", "x"), nil, v + ".default: Float expected, got string"},
		{"int default not integral", m("type", "Int", "default", 1.5), nil, "Int expected, got 1.5 (not an integer)"},
		{"default below minimum", m("minimum", 5, "default", 4), nil, v + ".default: 4 is below the minimum 5"},
		{"default above maximum", m("type", "Int", "maximum", 5, "default", 6), nil, v + ".default: 6 is above the maximum 5"},
		{"default not in enum", m("type", "String", "enum", []string{"dens", "hu"}, "default", "linatt"), nil, `.default: "linatt" is not one of "dens", "hu"`},
		{"default not multiple", m("multipleOf", 0.25, "default", 0.3), nil, ".default: 0.3 is not a multiple of 0.25"},
		{"default bad date-time", m("type", "String", "format", "date-time", "default", "yesterday"), nil, `.default: "yesterday" is not an RFC 3339 date-time`},
		{"minimum on String", m("type", "String", "minimum", 1), nil, v + ".minimum: allowed only for Int and Float inputs, not String"},
		{"maximum on Bool", m("type", "Bool", "maximum", 1), nil, ".maximum: allowed only for Int and Float inputs, not Bool"},
		{"multipleOf on Int", m("type", "Int", "multipleOf", 2), nil, ".multipleOf: allowed only for Float inputs, not Int"},
		{"enum on Float", m("enum", []string{"1"}), nil, ".enum: allowed only for String inputs, not Float"},
		{"format on Int", m("type", "Int", "format", "multiline"), nil, ".format: allowed only for String inputs, not Int"},
		{"minimum not a number", m("minimum", "0"), nil, v + ".minimum: must be a number, got string"},
		{"int minimum fractional", m("type", "Int", "minimum", 0.5), nil, v + ".minimum: must be an integer for an Int input, got 0.5"},
		{"minimum above maximum", m("minimum", 2, "maximum", 1), nil, v + ".maximum: 1 is below minimum 2"},
		{"multipleOf zero", m("multipleOf", 0), nil, ".multipleOf: must be greater than 0, got 0"},
		{"multipleOf negative", m("multipleOf", -1), nil, ".multipleOf: must be greater than 0, got -1"},
		{"empty enum", m("type", "String", "enum", []string{}), nil, ".enum: must list at least one value"},
		{"duplicate enum value", m("type", "String", "enum", []string{"a", "a"}), nil, `.enum[1]: duplicate value "a"`},
		{"enum value not string", m("type", "String", "enum", []any{"a", 1}), nil, ".enum[1]: must be a string, got number"},
		{"unknown format", m("type", "String", "format", "email"), nil, `.format: unknown format "email" (known: multiline, commonmark, date-time)`},
		{"output unknown field", nil, m("outputs", []any{m("key", "r", "type", "Float", "unit", "mm")}), `outputs[0]: unknown field "unit" (allowed: key, type, description)`},
		{"output unknown type", nil, m("outputs", []any{m("key", "r", "type", "Number")}), `outputs[0] ("r").type: unknown parameter type "Number"`},
		{"output missing type", nil, m("outputs", []any{m("key", "r")}), `outputs[0] ("r"): missing required field "type"`},
		{"output bad key", nil, m("outputs", []any{m("key", "R", "type", "Float")}), `outputs[0].key: "R" must start with a lower-case letter`},
		{"duplicate output key", nil, m("outputs", []any{m("key", "r", "type", "Float"), m("key", "r", "type", "Int")}), `outputs[1].key: duplicate output key "r"`},
		{"effort not object", nil, m("processing_effort_factor", 2), "processing_effort_factor: must be an object, got number"},
		{"effort unknown function", nil, m("processing_effort_factor", m("function", "Quadratic")), `processing_effort_factor.function: unknown function "Quadratic" (known: LinearWithSizeOfInput, Constant)`},
		{"effort missing function", nil, m("processing_effort_factor", m("input_key", "image")), `processing_effort_factor: missing required field "function"`},
		{"effort unknown input", nil, m("processing_effort_factor", m("function", "LinearWithSizeOfInput", "input_key", "volume")), `processing_effort_factor.input_key: "volume" names no input`},
		{"effort missing input key", nil, m("processing_effort_factor", m("function", "LinearWithSizeOfInput")), `processing_effort_factor: missing required field "input_key"`},
		{"effort extra field", nil, m("processing_effort_factor", m("function", "Constant", "seconds", 1, "input_key", "image")), `processing_effort_factor: unknown field "input_key" (allowed: function, seconds)`},
		{"effort constant without seconds", nil, m("processing_effort_factor", m("function", "Constant")), `processing_effort_factor: missing required field "seconds"`},
		{"effort negative seconds", nil, m("processing_effort_factor", m("function", "Constant", "seconds", -1)), "processing_effort_factor.seconds: must be a positive number, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := ParseInterface(interfaceWith(t, tt.input, tt.top))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if it == nil {
					t.Fatal("nil interface")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "taskmodule: interface: ") {
				t.Errorf("error %q lacks context prefix", err)
			}
		})
	}
}

func TestParseInterfaceDecodesFields(t *testing.T) {
	doc := `{"inputs":[{"key":"n","type":"Int","supported_modes":["none","ui"],"description":"d",
		"default":2,"minimum":-1,"maximum":9007199254740993},
		{"key":"s","type":"String","supported_modes":["fixed"],"description":"","enum":["x","y"],"format":"multiline"}],
		"outputs":[{"key":"o","type":"CSV","description":"table"}],
		"processing_effort_factor":{"function":"Constant","seconds":2.5}}`
	it, err := ParseInterface([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Interface{
		Inputs: []Input{
			{Key: "n", Type: "Int", SupportedModes: []Mode{ModeNone, ModeUI}, Description: "d",
				Default: json.RawMessage("2"), Minimum: "-1", Maximum: "9007199254740993"},
			{Key: "s", Type: "String", SupportedModes: []Mode{ModeFixed}, Enum: []string{"x", "y"}, Format: FormatMultiline},
		},
		Outputs:                []Output{{Key: "o", Type: "CSV", Description: "table"}},
		ProcessingEffortFactor: json.RawMessage(`{"function":"Constant","seconds":2.5}`),
	}
	if !reflect.DeepEqual(it, want) {
		t.Errorf("got  %+v\nwant %+v", it, want)
	}
	in, ok := it.Input("s")
	if !ok || in.Key != "s" || !in.Supports(ModeFixed) || in.Supports(ModeUI) {
		t.Errorf("Input(s) = %+v, %v", in, ok)
	}
	if _, ok := it.Input("o"); ok {
		t.Error("Input(o) found an output")
	}
	if out, ok := it.Output("o"); !ok || out.Type != "CSV" {
		t.Errorf("Output(o) = %+v, %v", out, ok)
	}
	if _, ok := it.Output("n"); ok {
		t.Error("Output(n) found an input")
	}

	// The decoded interface marshals back to an equivalent document.
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseInterface(b)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", b, err)
	}
	if !reflect.DeepEqual(again, it) {
		t.Errorf("round trip changed the interface:\n%+v\n%+v", again, it)
	}
}

func TestParseInterfaceInvalidJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `{"inputs":[],"inputs":[]}`, `{"inputs":[]} {}`} {
		_, err := ParseInterface([]byte(in))
		if !errors.Is(err, params.ErrInvalidJSON) {
			t.Errorf("ParseInterface(%q) = %v, want ErrInvalidJSON", in, err)
		}
	}
}
