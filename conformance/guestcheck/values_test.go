package guestcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/params"
	"github.com/xfhost/xfhost/taskmodule"
)

// TestEveryTypeHasAValue generates a value for an input of every parameter
// type params knows, so that a type added there fails here until the
// generator learns it, and checks that the value is valid and that every
// file it references is staged.
func TestEveryTypeHasAValue(t *testing.T) {
	root := t.TempDir()
	if err := stage(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	for _, typ := range params.Types() {
		doc := fmt.Sprintf(`{"inputs": [{"key": "k", "type": %q, "supported_modes": ["fixed"]}], "outputs": []}`, typ)
		it, err := taskmodule.ParseInterface([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		v, err := inputValue(&it.Inputs[0])
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if _, err := it.ResolveInputs(json.RawMessage(`{"k":` + string(v) + `}`)); err != nil {
			t.Errorf("%s: generated %s: %v", typ, v, err)
		}
		refs, err := params.FileRefs(typ, v)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		for _, ref := range refs {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(ref))); err != nil {
				t.Errorf("%s: references %s, which is not staged: %v", typ, ref, err)
			}
		}
	}
}

// TestStagedVolume checks that the Image value describes the staged volume.
func TestStagedVolume(t *testing.T) {
	root := t.TempDir()
	if err := stage(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	v, err := compositeValue("Image")
	if err != nil {
		t.Fatal(err)
	}
	var value struct {
		Filename  string
		Size      [3]int
		Filenames []string
	}
	data, _ := json.Marshal(v)
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatal(err)
	}
	img, err := omni.Open(filepath.Join(root, filepath.FromSlash(value.Filename)))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	h := img.Header()
	if h.Size != value.Size || h.DataType != omni.Uint16 || len(h.CalibrationsOfUnitType(unconstrainedString)) == 0 {
		t.Errorf("staged volume %v %s with calibrations %v; the Image value says size %v", h.Size, h.DataType, h.Calibrations, value.Size)
	}
	if len(value.Filenames) != 1 || !strings.HasSuffix(value.Filenames[0], "/"+h.PixelFiles[0]) {
		t.Errorf("Image filenames %v, header pixel files %v", value.Filenames, h.PixelFiles)
	}
}

// TestConstrainedValues checks that generated primitives respect the
// input's default, bounds, multipleOf, enum and format.
func TestConstrainedValues(t *testing.T) {
	for _, tc := range []struct {
		input string // members after key and supported_modes
		want  string // the generated value, or an error substring after "error: "
	}{
		{`"type": "Int"`, `1`},
		{`"type": "Int", "default": 7`, `7`},
		{`"type": "Int", "minimum": 5, "maximum": 9`, `5`},
		{`"type": "Int", "maximum": -3`, `-3`},
		{`"type": "Int", "minimum": -10, "maximum": 0`, `0`},
		{`"type": "Float"`, `1`},
		{`"type": "Float", "minimum": 2.5, "maximum": 3`, `2.5`},
		{`"type": "Float", "maximum": 0.25`, `0.25`},
		{`"type": "Float", "multipleOf": 0.4`, `1.2000000000000002`},
		{`"type": "Float", "minimum": 1.1, "multipleOf": 0.5`, `1.5`},
		{`"type": "Float", "maximum": 0.9, "multipleOf": 0.5`, `0.5`},
		{`"type": "Float", "minimum": 0.1, "maximum": 0.2, "multipleOf": 0.5`, `error: no multiple of 0.5 lies between minimum 0.1 and maximum 0.2`},
		{`"type": "String"`, `"dens"`},
		{`"type": "String", "enum": ["linear", "nearest"]`, `"linear"`},
		{`"type": "String", "default": "hu", "enum": ["dens", "hu"]`, `"hu"`},
		{`"type": "String", "format": "date-time"`, `"2024-05-01T12:00:00Z"`},
		{`"type": "Bool"`, `false`},
		{`"type": "Bool", "default": true`, `true`},
	} {
		doc := `{"inputs": [{"key": "k", "supported_modes": ["fixed"], ` + tc.input + `}], "outputs": []}`
		it, err := taskmodule.ParseInterface([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.input, err)
		}
		v, err := inputValue(&it.Inputs[0])
		if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: value %s, err %v; want error %q", tc.input, v, err, want)
			}
			continue
		}
		if err != nil || string(v) != tc.want {
			t.Errorf("%s: value %s, err %v; want %s", tc.input, v, err, tc.want)
			continue
		}
		if _, err := it.ResolveInputs(json.RawMessage(`{"k":` + string(v) + `}`)); err != nil {
			t.Errorf("%s: generated %s, which the interface rejects: %v", tc.input, v, err)
		}
	}
}

// TestScenarios checks the jobs planned for an interface: all inputs, then
// one null run per input that allows mode none.
func TestScenarios(t *testing.T) {
	it, err := taskmodule.ParseInterface([]byte(`{"inputs": [
		{"key": "image", "type": "Image", "supported_modes": ["fixed"]},
		{"key": "mask", "type": "Image", "supported_modes": ["none", "fixed"]},
		{"key": "bins", "type": "Int", "supported_modes": ["fixed"], "default": 16},
		{"key": "unit", "type": "String", "supported_modes": ["none", "ui"]}
	], "outputs": []}`))
	if err != nil {
		t.Fatal(err)
	}
	scens, err := scenarios(it, map[string]json.RawMessage{"unit": json.RawMessage(`"hu"`)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range scens {
		names = append(names, s.name)
	}
	if got := strings.Join(names, " "); got != "all-inputs null.mask null.unit" {
		t.Fatalf("scenarios %s", got)
	}
	all, nullMask := scens[0].inputs, scens[1].inputs
	if string(all["unit"]) != `"hu"` || string(all["bins"]) != "16" || string(nullMask["mask"]) != "null" || string(nullMask["unit"]) != `"hu"` {
		t.Errorf("inputs: all %s, null.mask %s", inputsJSON(all), inputsJSON(nullMask))
	}
	if string(all["mask"]) == "null" {
		t.Error("the null run changed the all-inputs run's inputs")
	}
}
