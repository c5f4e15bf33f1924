package taskmodule

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/params"
)

func loadFixture(t *testing.T, name string) (metadata, iface []byte) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	metadata, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	iface, err = os.ReadFile(filepath.Join(dir, "interface.json"))
	if err != nil {
		t.Fatal(err)
	}
	return metadata, iface
}

func fixtureInterface(t *testing.T, name string) *Interface {
	t.Helper()
	_, doc := loadFixture(t, name)
	it, err := ParseInterface(doc)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

const img = `{"type":"Image","filename":"scan.omni","size":[4,5,6]}`

func TestResolveInputs(t *testing.T) {
	constrained, err := ParseInterface([]byte(`{"inputs":[
		{"key":"count","type":"Int","supported_modes":["ui"],"description":"","minimum":1,"maximum":10,"default":3},
		{"key":"step","type":"Float","supported_modes":["ui"],"description":"","minimum":0,"maximum":1,"multipleOf":0.1,"default":0.5},
		{"key":"when","type":"String","supported_modes":["none","ui"],"description":"","format":"date-time","default":"2024-05-01T12:00:00Z"},
		{"key":"flag","type":"Bool","supported_modes":["ui"],"description":"","default":false}
	],"outputs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	core := fixtureInterface(t, "Lucid.Core.Threshold")
	clip := fixtureInterface(t, "Lucid.CLIP.Threshold")
	stat := fixtureInterface(t, "Lucid.CLIP.StatMinMax")

	tests := []struct {
		name   string
		it     *Interface
		inputs string
		want   string // canonical result, if no error
		err    string // exact error message
		kind   error  // sentinel the error must wrap
	}{
		{name: "core defaults applied", it: core, inputs: `{"image":` + img + `,"threshold_upper0":null}`,
			want: `{"image":` + img + `,"calibration":"dens","threshold_lower0":1,"threshold_upper0":null}`},
		{name: "core missing input without default", it: core, inputs: `{"image":` + img + `}`,
			err: `input "threshold_upper0": missing and has no default`, kind: ErrMissingInput},
		{name: "core all given, keys reordered", it: core,
			inputs: `{"threshold_upper0": 3000, "threshold_lower0": null, "calibration": "hu", "image": ` + "\n" + img + `}`,
			want:   `{"image":` + img + `,"calibration":"hu","threshold_lower0":null,"threshold_upper0":3000}`},
		{name: "core enum violated", it: core, inputs: `{"image":` + img + `,"calibration":"mgHA","threshold_upper0":1}`,
			err: `input "calibration": "mgHA" is not one of "dens", "hu", "linatt"`, kind: ErrConstraint},
		{name: "core null without none mode", it: core, inputs: `{"image":` + img + `,"calibration":null,"threshold_upper0":1}`,
			err: `input "calibration": null is not allowed (supported_modes does not include "none")`, kind: params.ErrTypeMismatch},
		{name: "clip float as string", it: clip, inputs: `{"image":` + img + `,"threshold_lower0":"1","threshold_upper0":null}`,
			err: `input "threshold_lower0": Float expected, got string`, kind: params.ErrTypeMismatch},
		{name: "clip nulls", it: clip, inputs: `{"image":` + img + `,"threshold_lower0":null,"threshold_upper0":null}`,
			want: `{"image":` + img + `,"threshold_lower0":null,"threshold_upper0":null}`},
		{name: "clip missing image", it: clip, inputs: `{"threshold_lower0":null,"threshold_upper0":null}`,
			err: `input "image": missing and has no default`, kind: ErrMissingInput},
		{name: "clip image null", it: clip, inputs: `{"image":null,"threshold_lower0":null,"threshold_upper0":null}`,
			err: `input "image": null is not allowed (supported_modes does not include "none")`, kind: params.ErrTypeMismatch},
		{name: "clip invalid image", it: clip, inputs: `{"image":{"type":"Image","filename":"a","size":[1,1,0]},"threshold_lower0":0,"threshold_upper0":1}`,
			err: `input "image": Image.size[2]: must be a positive integer`, kind: params.ErrTypeMismatch},
		{name: "clip image of wrong type", it: clip, inputs: `{"image":{"type":"CSV","filename":"a"},"threshold_lower0":0,"threshold_upper0":1}`,
			err: `input "image": Image.type: must be "Image", got "CSV"`, kind: params.ErrTypeMismatch},
		{name: "clip unknown key", it: clip, inputs: `{"image":` + img + `,"threshold_lower":0,"threshold_lower0":0,"threshold_upper0":1}`,
			err: `input "threshold_lower": not declared by the task interface`, kind: ErrUnknownInput},
		{name: "stat calibration null", it: stat, inputs: `{"calibration":null,"image":` + img + `}`,
			want: `{"image":` + img + `,"calibration":null}`},
		{name: "invalid JSON", it: stat, inputs: `{"image":`, err: "job inputs: invalid JSON: unexpected end of JSON input (at byte 9)", kind: params.ErrInvalidJSON},
		{name: "duplicate key", it: stat, inputs: `{"calibration":null,"calibration":"x","image":` + img + `}`,
			err: `job inputs: invalid JSON: duplicate key "calibration"`, kind: params.ErrInvalidJSON},
		{name: "not an object", it: stat, inputs: `[1]`, err: "job inputs: must be an object, got array"},

		{name: "constrained defaults", it: constrained, inputs: `{}`,
			want: `{"count":3,"step":0.5,"when":"2024-05-01T12:00:00Z","flag":false}`},
		{name: "int canonicalized", it: constrained, inputs: `{"count":1e1,"step":0.3,"when":null,"flag":true}`,
			want: `{"count":10,"step":0.3,"when":null,"flag":true}`},
		{name: "int below minimum", it: constrained, inputs: `{"count":0}`,
			err: `input "count": 0 is below the minimum 1`, kind: ErrConstraint},
		{name: "int above maximum", it: constrained, inputs: `{"count":11.0}`,
			err: `input "count": 11 is above the maximum 10`, kind: ErrConstraint},
		{name: "int fractional", it: constrained, inputs: `{"count":2.5}`,
			err: `input "count": Int expected, got 2.5 (not an integer)`, kind: params.ErrTypeMismatch},
		{name: "float above maximum", it: constrained, inputs: `{"step":1.5}`,
			err: `input "step": 1.5 is above the maximum 1`, kind: ErrConstraint},
		{name: "float not multiple", it: constrained, inputs: `{"step":0.35}`,
			err: `input "step": 0.35 is not a multiple of 0.1`, kind: ErrConstraint},
		{name: "float multiple at bound", it: constrained, inputs: `{"step":1}`,
			want: `{"count":3,"step":1,"when":"2024-05-01T12:00:00Z","flag":false}`},
		{name: "bad date-time", it: constrained, inputs: `{"when":"2024-05-01"}`,
			err: `input "when": "2024-05-01" is not an RFC 3339 date-time such as "2024-05-01T12:00:00Z"`, kind: ErrConstraint},
		{name: "bool as string", it: constrained, inputs: `{"flag":"true"}`,
			err: `input "flag": Bool expected, got string`, kind: params.ErrTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.it.ResolveInputs(json.RawMessage(tt.inputs))
			if tt.err != "" {
				if err == nil {
					t.Fatalf("no error, got %s", got)
				}
				if err.Error() != tt.err {
					t.Errorf("error:\n got %q\nwant %q", err, tt.err)
				}
				if tt.kind != nil && !errors.Is(err, tt.kind) {
					t.Errorf("error %q does not wrap %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCheckOutput(t *testing.T) {
	stat := fixtureInterface(t, "Lucid.CLIP.StatMinMax")
	clip := fixtureInterface(t, "Lucid.CLIP.Threshold")
	tests := []struct {
		name  string
		it    *Interface
		key   string
		value string
		err   string
		kind  error
	}{
		{"float", stat, "min", "-12.5", "", nil},
		{"integral float", stat, "max", "3", "", nil},
		{"image", clip, "segments", img, "", nil},
		{"unknown output", stat, "mean", "1", `output "mean": not declared by the task interface`, ErrUnknownOutput},
		{"input key is not an output", stat, "image", img, `output "image": not declared by the task interface`, ErrUnknownOutput},
		{"wrong type", stat, "min", `"1"`, `output "min": Float expected, got string`, params.ErrTypeMismatch},
		{"null", stat, "min", `null`, `output "min": Float expected, got null`, params.ErrTypeMismatch},
		{"bad JSON", stat, "min", `1.`, `output "min": invalid JSON: invalid character`, params.ErrInvalidJSON},
		{"bad image", clip, "segments", `{"type":"Image","filename":"/abs","size":[1,1,1]}`, `output "segments": Image.filename: invalid file reference "/abs"`, params.ErrTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.it.CheckOutput(tt.key, json.RawMessage(tt.value))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, tt.kind) || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("got %v, want error starting %q wrapping %v", err, tt.err, tt.kind)
			}
		})
	}
}

func TestResolveInputsHandBuiltInterface(t *testing.T) {
	// An Interface assembled in code (not parsed) with a broken bound must
	// fail cleanly rather than ignore the bound.
	it := &Interface{Inputs: []Input{{Key: "n", Type: "Int", SupportedModes: []Mode{ModeUI}, Minimum: "zero"}}}
	_, err := it.ResolveInputs(json.RawMessage(`{"n":1}`))
	if err == nil || err.Error() != `input "n": minimum: must be an integer for an Int input, got zero` {
		t.Errorf("got %v", err)
	}
}
