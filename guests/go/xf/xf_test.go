package xf

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/xfhost/xfhost/params"
)

func TestInputs(t *testing.T) {
	var in Inputs
	if err := json.Unmarshal([]byte(`{"lo": 1.5, "hi": null, "unit": "dens", "none": null}`), &in); err != nil {
		t.Fatal(err)
	}
	if lo, err := in.OptionalFloat("lo"); err != nil || lo == nil || *lo != 1.5 {
		t.Errorf("lo = %v, %v", lo, err)
	}
	if hi, err := in.OptionalFloat("hi"); err != nil || hi != nil {
		t.Errorf("hi = %v, %v", hi, err)
	}
	if _, err := in.OptionalFloat("unit"); err == nil {
		t.Error("a string decoded as a float")
	}
	if s, ok, err := in.OptionalString("unit"); err != nil || !ok || s != "dens" {
		t.Errorf("unit = %q %v %v", s, ok, err)
	}
	if _, ok, err := in.OptionalString("none"); err != nil || ok {
		t.Errorf("null string reported present: %v %v", ok, err)
	}
	if err := in.Decode("missing", new(int)); err == nil {
		t.Error("a missing input decoded")
	}
	if !in.IsNull("missing") || in.IsNull("lo") {
		t.Error("IsNull is wrong")
	}
}

func TestStatusErrors(t *testing.T) {
	err := error(&CallError{Op: "xf.output_set", Arg: "min", Status: StatusTypeMismatch})
	if err.Error() != `xf.output_set "min": TYPE_MISMATCH` {
		t.Errorf("message %q", err)
	}
	if !errors.Is(err, StatusTypeMismatch) {
		t.Error("errors.Is does not see the status")
	}
	if Status(999).Error() != "STATUS_999" {
		t.Error("unknown status text")
	}
}

func TestCalibration(t *testing.T) {
	c := Calibration{Slope: 0.25, Intercept: -400}
	if got := c.CalibratedToRaw(c.RawToCalibrated(1234)); got != 1234 {
		t.Errorf("round trip = %v", got)
	}
	info := ImageInfo{Calibrations: []Calibration{{UnitType: "hu"}, {UnitType: "dens"}, {UnitType: "dens", UnitName: "x"}}}
	if n := len(info.CalibrationsOfUnitType("dens")); n != 2 {
		t.Errorf("%d dens calibrations", n)
	}
}

func TestCompositeShapes(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{CSV("jobs/1/t.csv"), `{"type":"CSV","filename":"jobs/1/t.csv"}`},
		{NewImageOutput("a.omni", [3]int{1, 2, 3}, []string{"a.raw"}, nil), `{"type":"Image","filename":"a.omni","size":[1,2,3],"filenames":["a.raw"]}`},
		{Entity("u", "n"), `{"type":"Entity","uuid":"u","name":"n"}`},
	} {
		b, _ := json.Marshal(c.v)
		if string(b) != c.want {
			t.Errorf("%s, want %s", b, c.want)
		}
	}
}

// TestCompositesMatchParams keeps the SDK's create_output_* helpers in
// step with the shapes the host validates (params/TYPES.md).
func TestCompositesMatchParams(t *testing.T) {
	for typ, v := range map[string]any{
		"CSV":              CSV("jobs/1/t.csv"),
		"Bitmap":           Bitmap("jobs/1/b.png"),
		"HTMLDocument":     HTMLDocument("jobs/1/r.html"),
		"ForeignFile":      ForeignFile("jobs/1/x.bin"),
		"SnapshotMetadata": SnapshotMetadata("jobs/1/s.json"),
		"Image":            NewImageOutput("jobs/1/a.omni", [3]int{4, 5, 6}, []string{"jobs/1/a.raw"}, []AdditionalFile{{Filename: "jobs/1/a.txt"}}),
		"Mesh":             Mesh("jobs/1/m.stl", nil, nil),
		"Entity":           Entity("123e4567-e89b-12d3-a456-426614174000", "femur"),
	} {
		b, _ := json.Marshal(v)
		if err := params.Validate(typ, b); err != nil {
			t.Errorf("%s %s: %v", typ, b, err)
		}
	}
}
