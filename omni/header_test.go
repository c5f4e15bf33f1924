package omni

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

const validJSON = `{
  "format_version": "1.0",
  "axes": "XYZ",
  "size": [4, 3, 2],
  "data_type": "uint16",
  "byte_order": "little",
  "spacing_mm": [0.03, 0.03, 0.03],
  "origin_mm": [-1.5, 0, 2.25],
  "pixel_files": ["scan.raw"],
  "calibrations": [
    {"type": "slope_intercept", "unit_type": "dens", "unit_name": "mg HA/ccm", "slope": 0.25, "intercept": -400},
    {"type": "slope_intercept", "unit_type": "linatt", "slope": 0.0001, "intercept": 0},
    {"type": "indirect_slope_intercept", "unit_type": "hu", "unit_name": "HU", "base_unit_type": "linatt", "slope": 4000, "intercept": -1000}
  ],
  "default_unit_type": "dens"
}`

func validHeader() *Header {
	return &Header{
		FormatVersion: "1.0",
		Axes:          "XYZ",
		Size:          [3]int{4, 3, 2},
		DataType:      Uint16,
		ByteOrder:     LittleEndian,
		Spacing:       [3]float64{0.03, 0.03, 0.03},
		Origin:        [3]float64{-1.5, 0, 2.25},
		PixelFiles:    []string{"scan.raw"},
		Calibrations: []Calibration{
			{Kind: KindSlopeIntercept, UnitType: "dens", UnitName: "mg HA/ccm", Slope: 0.25, Intercept: -400},
			{Kind: KindSlopeIntercept, UnitType: "linatt", Slope: 0.0001},
			{Kind: KindIndirectSlopeIntercept, UnitType: "hu", UnitName: "HU", BaseUnitType: "linatt", Slope: 4000, Intercept: -1000},
		},
		DefaultUnitType: "dens",
	}
}

func headersEqual(a, b *Header) bool {
	ea, err1 := a.Encode()
	eb, err2 := b.Encode()
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

func TestParseHeaderValid(t *testing.T) {
	h, err := ParseHeader([]byte(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := validHeader()
	if h.FormatVersion != want.FormatVersion || h.Axes != want.Axes || h.Size != want.Size ||
		h.DataType != want.DataType || h.ByteOrder != want.ByteOrder || h.Spacing != want.Spacing ||
		h.Origin != want.Origin || h.DefaultUnitType != want.DefaultUnitType {
		t.Errorf("parsed %+v, want %+v", h, want)
	}
	if len(h.PixelFiles) != 1 || h.PixelFiles[0] != "scan.raw" {
		t.Errorf("pixel files %q", h.PixelFiles)
	}
	if len(h.Calibrations) != 3 {
		t.Fatalf("got %d calibrations, want 3", len(h.Calibrations))
	}
	for i := range want.Calibrations {
		if h.Calibrations[i] != want.Calibrations[i] {
			t.Errorf("calibration %d = %+v, want %+v", i, h.Calibrations[i], want.Calibrations[i])
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	h := validHeader()
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseHeader(enc)
	if err != nil {
		t.Fatalf("parse encoded header: %v\n%s", err, enc)
	}
	enc2, err := back.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Errorf("encoding not stable:\n%s\nvs\n%s", enc, enc2)
	}
	// The example document uses the same key order and indentation.
	if got := strings.TrimSpace(string(enc)); !strings.HasPrefix(got, "{\n  \"format_version\": \"1.0\",\n  \"axes\": \"XYZ\",") {
		t.Errorf("unexpected layout:\n%s", got)
	}
	if !strings.HasSuffix(string(enc), "}\n") {
		t.Error("encoded header lacks trailing newline")
	}
}

func TestEncodeEmptyListsAndOptionalFields(t *testing.T) {
	h := validHeader()
	h.PixelFiles = nil
	h.Calibrations = nil
	h.DefaultUnitType = ""
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	s := string(enc)
	for _, want := range []string{`"pixel_files": []`, `"calibrations": []`} {
		if !strings.Contains(s, want) {
			t.Errorf("encoded header lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "default_unit_type") {
		t.Errorf("empty default_unit_type was written:\n%s", s)
	}
	if _, err := ParseHeader(enc); err != nil {
		t.Error(err)
	}
}

func TestJSONMarshalerEmbedding(t *testing.T) {
	type doc struct {
		Image *Header `json:"image"`
	}
	b, err := json.Marshal(doc{Image: validHeader()})
	if err != nil {
		t.Fatal(err)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !headersEqual(back.Image, validHeader()) {
		t.Errorf("embedded round trip changed the header: %s", b)
	}
	bad := validHeader()
	bad.Size[0] = 0
	if _, err := json.Marshal(doc{Image: bad}); err == nil || !strings.Contains(err.Error(), "size[0]") {
		t.Errorf("marshal of invalid header: got %v, want error naming size[0]", err)
	}
	if err := json.Unmarshal([]byte(`{"image":{"axes":"XYZ"}}`), &back); err == nil {
		t.Error("unmarshal of incomplete embedded header succeeded")
	}
}

// TestParseHeaderErrors edits the valid document one way at a time and
// checks that the error names the field at fault.
func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name, old, new, field string
	}{
		{"version missing", `"format_version": "1.0",`, ``, "format_version"},
		{"version major 2", `"1.0"`, `"2.0"`, "format_version"},
		{"version major 2 with new field", `"format_version": "1.0",`, `"format_version": "2.1", "voxel_layout": "tiled",`, "format_version"},
		{"version malformed", `"1.0"`, `"1"`, "format_version"},
		{"version leading zero", `"1.0"`, `"01.0"`, "format_version"},
		{"version type", `"1.0"`, `1.0`, "format_version"},
		{"axes missing", `"axes": "XYZ",`, ``, "axes"},
		{"axes too short", `"XYZ"`, `"XY"`, "axes"},
		{"axes too long", `"XYZ"`, `"XYZT"`, "axes"},
		{"axes bad letter", `"XYZ"`, `"XYQ"`, "axes"},
		{"axes lower case", `"XYZ"`, `"xyz"`, "axes"},
		{"axes repeated", `"XYZ"`, `"XYX"`, "axes"},
		{"size missing", `"size": [4, 3, 2],`, ``, "size"},
		{"size two elements", `[4, 3, 2]`, `[4, 3]`, "size"},
		{"size four elements", `[4, 3, 2]`, `[4, 3, 2, 1]`, "size"},
		{"size zero", `[4, 3, 2]`, `[4, 0, 2]`, "size[1]"},
		{"size negative", `[4, 3, 2]`, `[4, 3, -2]`, "size[2]"},
		{"size fractional", `[4, 3, 2]`, `[4, 3.5, 2]`, "size"},
		{"size string", `[4, 3, 2]`, `"4x3x2"`, "size"},
		{"size too large", `[4, 3, 2]`, `[100000, 100000, 100000]`, "size"},
		{"size overflow", `[4, 3, 2]`, `[4611686018427387904, 4611686018427387904, 4]`, "size"},
		{"data type missing", `"data_type": "uint16",`, ``, "data_type"},
		{"data type unknown", `"uint16"`, `"uint12"`, "data_type"},
		{"data type case", `"uint16"`, `"UINT16"`, "data_type"},
		{"byte order missing", `"byte_order": "little",`, ``, "byte_order"},
		{"byte order unknown", `"little"`, `"middle"`, "byte_order"},
		{"spacing missing", `"spacing_mm": [0.03, 0.03, 0.03],`, ``, "spacing_mm"},
		{"spacing short", `[0.03, 0.03, 0.03]`, `[0.03, 0.03]`, "spacing_mm"},
		{"spacing zero", `[0.03, 0.03, 0.03]`, `[0.03, 0, 0.03]`, "spacing_mm[1]"},
		{"spacing negative", `[0.03, 0.03, 0.03]`, `[-0.03, 0.03, 0.03]`, "spacing_mm[0]"},
		{"spacing huge", `[0.03, 0.03, 0.03]`, `[0.03, 0.03, 1e999]`, "spacing_mm"},
		{"origin missing", `"origin_mm": [-1.5, 0, 2.25],`, ``, "origin_mm"},
		{"origin null", `[-1.5, 0, 2.25]`, `null`, "origin_mm"},
		{"origin short", `[-1.5, 0, 2.25]`, `[-1.5]`, "origin_mm"},
		{"pixel file slash", `"scan.raw"`, `"../scan.raw"`, "pixel_files[0]"},
		{"pixel file absolute", `"scan.raw"`, `"/etc/passwd"`, "pixel_files[0]"},
		{"pixel file backslash", `"scan.raw"`, `"..\\scan.raw"`, "pixel_files[0]"},
		{"pixel file drive", `"scan.raw"`, `"C:scan.raw"`, "pixel_files[0]"},
		{"pixel file dotdot", `"scan.raw"`, `".."`, "pixel_files[0]"},
		{"pixel file dot", `"scan.raw"`, `"."`, "pixel_files[0]"},
		{"pixel file empty", `"scan.raw"`, `""`, "pixel_files[0]"},
		{"pixel file NUL", `"scan.raw"`, `"scan\u0000.raw"`, "pixel_files[0]"},
		{"pixel file newline", `"scan.raw"`, `"scan\n.raw"`, "pixel_files[0]"},
		{"pixel file long", `"scan.raw"`, `"` + strings.Repeat("a", 256) + `"`, "pixel_files[0]"},
		{"pixel file repeated", `["scan.raw"]`, `["scan.raw", "scan.raw"]`, "pixel_files[1]"},
		{"pixel files not array", `["scan.raw"]`, `"scan.raw"`, "pixel_files"},
		{"unknown field", `"axes": "XYZ",`, `"axes": "XYZ", "axis": "XYZ",`, "axis"},
		{"wrong case key", `"axes": "XYZ",`, `"Axes": "XYZ",`, "Axes"},
		{"duplicate key", `"axes": "XYZ",`, `"axes": "XYZ", "axes": "ZYX",`, "axes"},
		{"calibrations object", `"calibrations": [`, `"calibrations": {"a": [`, "calibrations"},
		{"calibration unknown field", `"unit_type": "dens",`, `"unit_type": "dens", "offset": 1,`, "calibrations[0].offset"},
		{"calibration duplicate field", `"unit_type": "dens",`, `"unit_type": "dens", "unit_type": "hu",`, "calibrations[0].unit_type"},
		{"calibration type missing", `{"type": "slope_intercept", "unit_type": "dens"`, `{"unit_type": "dens"`, "calibrations[0].type"},
		{"calibration type unknown", `{"type": "slope_intercept", "unit_type": "dens"`, `{"type": "polynomial", "unit_type": "dens"`, "calibrations[0].type"},
		{"calibration unit type missing", `"unit_type": "dens", "unit_name"`, `"unit_name"`, "calibrations[0].unit_type"},
		{"calibration unit type control", `"unit_type": "dens"`, `"unit_type": "de\tns"`, "calibrations[0].unit_type"},
		{"calibration unit name long", `"mg HA/ccm"`, `"` + strings.Repeat("m", 129) + `"`, "calibrations[0].unit_name"},
		{"calibration slope missing", `"slope": 0.25, `, ``, "calibrations[0].slope"},
		{"calibration slope zero", `"slope": 0.25`, `"slope": 0`, "calibrations[0].slope"},
		{"calibration slope string", `"slope": 0.25`, `"slope": "0.25"`, "calibrations"},
		{"calibration intercept missing", `, "intercept": -400`, ``, "calibrations[0].intercept"},
		{"calibration base on direct", `"slope": 0.0001`, `"base_unit_type": "dens", "slope": 0.0001`, "calibrations[1].base_unit_type"},
		{"calibration base missing", `"base_unit_type": "linatt", `, ``, "calibrations[2].base_unit_type"},
		{"calibration base unknown", `"base_unit_type": "linatt"`, `"base_unit_type": "mu"`, "calibrations[2].base_unit_type"},
		{"calibration base self", `"base_unit_type": "linatt"`, `"base_unit_type": "hu"`, "calibrations[2].base_unit_type"},
		{"calibration base indirect", `{"type": "slope_intercept", "unit_type": "linatt",`, `{"type": "indirect_slope_intercept", "unit_type": "linatt", "base_unit_type": "dens",`, "calibrations[2].base_unit_type"},
		{"calibration base ambiguous", `{"type": "slope_intercept", "unit_type": "linatt", "slope": 0.0001, "intercept": 0}`,
			`{"type": "slope_intercept", "unit_type": "linatt", "slope": 0.0001, "intercept": 0}, {"type": "slope_intercept", "unit_type": "linatt", "unit_name": "1/cm", "slope": 0.01, "intercept": 0}`,
			"calibrations[3].base_unit_type"},
		{"calibration repeated", `{"type": "slope_intercept", "unit_type": "linatt", "slope": 0.0001, "intercept": 0}`,
			`{"type": "slope_intercept", "unit_type": "dens", "unit_name": "mg HA/ccm", "slope": 1, "intercept": 0}`, "calibrations[1].unit_type"},
		{"calibration combined intercept overflow", `"slope": 0.0001, "intercept": 0`, `"slope": 0.0001, "intercept": 1e308`, "calibrations[2].base_unit_type"},
		{"calibration element array", `"calibrations": [`, `"calibrations": [[],`, "calibrations[0]"},
		{"default unit type unknown", `"default_unit_type": "dens"`, `"default_unit_type": "bmd"`, "default_unit_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(validJSON, tt.old) {
				t.Fatalf("test bug: %q not in the valid document", tt.old)
			}
			doc := strings.Replace(validJSON, tt.old, tt.new, 1)
			h, err := ParseHeader([]byte(doc))
			if err == nil {
				t.Fatalf("no error; parsed %+v", h)
			}
			if !strings.HasPrefix(err.Error(), "omni: parse header: ") {
				t.Errorf("error %q lacks the operation prefix", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %q does not wrap a *FieldError", err)
			}
			if !strings.HasPrefix(fe.Field, tt.field) {
				t.Errorf("error %q names field %q, want %q", err, fe.Field, tt.field)
			}
		})
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"empty", ``, "unexpected end"},
		{"array", `[]`, "must be a JSON object"},
		{"truncated", validJSON[:len(validJSON)/2], "JSON"},
		{"syntax", `{"axes" "XYZ"}`, "invalid JSON"},
		{"trailing object", validJSON + `{}`, "after the header"},
		{"trailing garbage", validJSON + `x`, "after the header"},
		{"too large", `{"axes": "` + strings.Repeat(" ", MaxHeaderBytes) + `"}`, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHeader([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseHeaderAcceptsMinorVersionsAndOtherAxes(t *testing.T) {
	for _, edit := range [][2]string{
		{`"1.0"`, `"1.7"`},
		{`"XYZ"`, `"XYT"`},
		{`"XYZ"`, `"CXY"`},
		{`"little"`, `"big"`},
		{`"uint16"`, `"float64"`},
		{`"default_unit_type": "dens"`, `"default_unit_type": "hu"`},
		{`["scan.raw"]`, `[]`},
		{`"pixel_files": ["scan.raw"],`, ``},
	} {
		doc := strings.Replace(validJSON, edit[0], edit[1], 1)
		if _, err := ParseHeader([]byte(doc)); err != nil {
			t.Errorf("%s -> %s: %v", edit[0], edit[1], err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Header)
		field string
	}{
		{"version empty", func(h *Header) { h.FormatVersion = "" }, "format_version"},
		{"version major 0", func(h *Header) { h.FormatVersion = "0.9" }, "format_version"},
		{"axes", func(h *Header) { h.Axes = "XZZ" }, "axes"},
		{"size", func(h *Header) { h.Size[2] = 0 }, "size[2]"},
		{"size overflow", func(h *Header) { h.Size = [3]int{math.MaxInt, math.MaxInt, 2} }, "size"},
		{"data type zero", func(h *Header) { h.DataType = 0 }, "data_type"},
		{"data type out of range", func(h *Header) { h.DataType = 99 }, "data_type"},
		{"byte order", func(h *Header) { h.ByteOrder = "" }, "byte_order"},
		{"spacing NaN", func(h *Header) { h.Spacing[0] = math.NaN() }, "spacing_mm[0]"},
		{"spacing Inf", func(h *Header) { h.Spacing[2] = math.Inf(1) }, "spacing_mm[2]"},
		{"origin NaN", func(h *Header) { h.Origin[1] = math.NaN() }, "origin_mm[1]"},
		{"origin -Inf", func(h *Header) { h.Origin[0] = math.Inf(-1) }, "origin_mm[0]"},
		{"pixel file", func(h *Header) { h.PixelFiles = []string{"a/b"} }, "pixel_files[0]"},
		{"too many pixel files", func(h *Header) {
			h.PixelFiles = nil
			for i := range MaxPixelFiles + 1 {
				h.PixelFiles = append(h.PixelFiles, string(rune('a'+i%26))+strings.Repeat("x", i))
			}
		}, "pixel_files"},
		{"slope NaN", func(h *Header) { h.Calibrations[0].Slope = math.NaN() }, "calibrations[0].slope"},
		{"slope Inf", func(h *Header) { h.Calibrations[1].Slope = math.Inf(-1) }, "calibrations[1].slope"},
		{"intercept NaN", func(h *Header) { h.Calibrations[0].Intercept = math.NaN() }, "calibrations[0].intercept"},
		{"unit name invalid UTF-8", func(h *Header) { h.Calibrations[0].UnitName = "\xff" }, "calibrations[0].unit_name"},
		{"too many calibrations", func(h *Header) {
			h.Calibrations = nil
			for i := range MaxCalibrations + 1 {
				h.Calibrations = append(h.Calibrations, Calibration{Kind: KindSlopeIntercept, UnitType: "dens", UnitName: strings.Repeat("u", i+1), Slope: 1})
			}
		}, "calibrations"},
		{"default unknown", func(h *Header) { h.DefaultUnitType = "HU" }, "default_unit_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHeader()
			tt.edit(h)
			err := h.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("error %q names field %q, want %q", err, fe.Field, tt.field)
			}
			if _, err := h.Encode(); err == nil {
				t.Error("Encode accepted the invalid header")
			}
		})
	}
}

func TestSizes(t *testing.T) {
	h := validHeader()
	if got := h.VoxelCount(); got != 24 {
		t.Errorf("VoxelCount = %d, want 24", got)
	}
	for _, dt := range DataTypes() {
		h.DataType = dt
		if got, want := h.PixelBytes(), int64(24*dt.Size()); got != want {
			t.Errorf("%s: PixelBytes = %d, want %d", dt, got, want)
		}
	}
	h.Size = [3]int{1 << 20, 1 << 20, 1 << 20}
	if got := h.PixelBytes(); got != -1 {
		t.Errorf("PixelBytes over the limit = %d, want -1", got)
	}
	h.Size = [3]int{math.MaxInt, math.MaxInt, 1}
	if got := h.VoxelCount(); got != -1 {
		t.Errorf("overflowing VoxelCount = %d, want -1", got)
	}
	h.Size = [3]int{1 << 20, 1 << 20, 1 << 0}
	h.DataType = Uint8
	if got := h.PixelBytes(); got != MaxPixelBytes {
		t.Errorf("PixelBytes at the limit = %d, want %d", got, MaxPixelBytes)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("header at the size limit rejected: %v", err)
	}
}

func TestDataTypes(t *testing.T) {
	wantSizes := map[DataType]int{Uint8: 1, Int8: 1, Uint16: 2, Int16: 2, Uint32: 4, Int32: 4, Float32: 4, Float64: 8}
	for _, dt := range DataTypes() {
		back, err := ParseDataType(dt.String())
		if err != nil || back != dt {
			t.Errorf("ParseDataType(%q) = %v, %v", dt.String(), back, err)
		}
		if dt.Size() != wantSizes[dt] {
			t.Errorf("%s.Size() = %d, want %d", dt, dt.Size(), wantSizes[dt])
		}
	}
	for _, s := range []string{"", "Uint8", "uint64", "float16"} {
		if _, err := ParseDataType(s); err == nil {
			t.Errorf("ParseDataType(%q) succeeded", s)
		}
	}
	var zero DataType
	if zero.Valid() || zero.Size() != 0 || zero.String() != "DataType(0)" {
		t.Errorf("zero DataType: valid=%v size=%d name=%q", zero.Valid(), zero.Size(), zero.String())
	}
	if Uint8.String() != "uint8" || Float64.String() != "float64" {
		t.Error("unexpected data type names")
	}
}

func TestCalibrationConversions(t *testing.T) {
	c := Calibration{Kind: KindSlopeIntercept, UnitType: "dens", Slope: -0.5, Intercept: -250}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.RawToCalibrated(1000); got != -750 {
		t.Errorf("RawToCalibrated(1000) = %v, want -750", got)
	}
	if got := c.CalibratedToRaw(-750); got != 1000 {
		t.Errorf("CalibratedToRaw(-750) = %v, want 1000", got)
	}
	for _, raw := range []float64{-3, 0, 1, 1234.5, 65535} {
		if back := c.CalibratedToRaw(c.RawToCalibrated(raw)); math.Abs(back-raw) > 1e-9 {
			t.Errorf("round trip of %v gave %v", raw, back)
		}
	}
	if got := c.RawToCalibratedStdDev(10); got != 5 {
		t.Errorf("std dev 10 -> %v, want 5 (|slope| scaling, no intercept)", got)
	}
	if got := c.CalibratedToRawStdDev(5); got != 10 {
		t.Errorf("std dev 5 -> %v, want 10", got)
	}
	if got := c.RawToCalibratedVariance(100); got != 25 {
		t.Errorf("variance 100 -> %v, want 25", got)
	}
	if got := c.CalibratedToRawVariance(25); got != 100 {
		t.Errorf("variance 25 -> %v, want 100", got)
	}
}

func TestCalibrationValidate(t *testing.T) {
	ok := Calibration{Kind: KindSlopeIntercept, UnitType: "hu", Slope: 1}
	tests := []struct {
		name  string
		edit  func(*Calibration)
		field string
	}{
		{"slope zero", func(c *Calibration) { c.Slope = 0 }, "slope"},
		{"slope NaN", func(c *Calibration) { c.Slope = math.NaN() }, "slope"},
		{"intercept Inf", func(c *Calibration) { c.Intercept = math.Inf(1) }, "intercept"},
		{"kind empty", func(c *Calibration) { c.Kind = "" }, "type"},
		{"unit type empty", func(c *Calibration) { c.UnitType = "" }, "unit_type"},
		{"unit type long", func(c *Calibration) { c.UnitType = strings.Repeat("x", 65) }, "unit_type"},
		{"indirect without base", func(c *Calibration) { c.Kind = KindIndirectSlopeIntercept }, "base_unit_type"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: got %v, want error for field %q", tt.name, err, tt.field)
		}
	}
}

func TestCalibrationLookup(t *testing.T) {
	h := validHeader()
	if got := h.CalibrationsOfUnitType("dens"); len(got) != 1 || got[0].UnitName != "mg HA/ccm" {
		t.Errorf("dens calibrations = %+v", got)
	}
	if got := h.CalibrationsOfUnitType("bmd"); len(got) != 0 {
		t.Errorf("bmd calibrations = %+v, want none", got)
	}
	got := h.CalibrationsOfUnitType("dens")
	got[0].Slope = 99
	if h.Calibrations[0].Slope == 99 {
		t.Error("CalibrationsOfUnitType returned an alias of the header's calibrations")
	}
	def, ok := h.DefaultCalibration()
	if !ok || def.UnitType != "dens" {
		t.Errorf("DefaultCalibration = %+v, %v", def, ok)
	}
	h.DefaultUnitType = ""
	if _, ok := h.DefaultCalibration(); ok {
		t.Error("DefaultCalibration without default unit type succeeded")
	}
}

func TestResolveCalibration(t *testing.T) {
	h := validHeader()
	hu := h.CalibrationsOfUnitType("hu")[0]
	r, err := h.ResolveCalibration(hu)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindSlopeIntercept || r.BaseUnitType != "" || r.UnitType != "hu" {
		t.Errorf("resolved = %+v", r)
	}
	// raw 2500 -> linatt 0.25 -> 4000*0.25-1000 = 0 HU
	if got := r.RawToCalibrated(2500); math.Abs(got) > 1e-9 {
		t.Errorf("resolved hu(2500) = %v, want 0", got)
	}
	dens := h.Calibrations[0]
	if r, err := h.ResolveCalibration(dens); err != nil || r != dens {
		t.Errorf("direct calibration resolved to %+v, %v", r, err)
	}
	orphan := Calibration{Kind: KindIndirectSlopeIntercept, UnitType: "x", BaseUnitType: "nothing", Slope: 1}
	if _, err := h.ResolveCalibration(orphan); err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("orphan resolved: %v", err)
	}
}

func TestHeaderCloneIsDeep(t *testing.T) {
	h := validHeader()
	c := h.Clone()
	c.PixelFiles[0] = "other.raw"
	c.Calibrations[0].Slope = 7
	if h.PixelFiles[0] != "scan.raw" || h.Calibrations[0].Slope != 0.25 {
		t.Error("Clone shares slices with the original")
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(validJSON))
	enc, _ := validHeader().Encode()
	f.Add(enc)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format_version":"2.0"}`))
	f.Add([]byte(`{"calibrations":[{"slope":1e308}],"calibrations":[]}`))
	f.Add([]byte(strings.Replace(validJSON, `"little"`, `"big"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data)
		if err != nil {
			return
		}
		// Anything accepted must be valid, encodable and re-parse to the same header.
		if err := h.Validate(); err != nil {
			t.Fatalf("parsed header fails Validate: %v", err)
		}
		enc, err := h.Encode()
		if err != nil {
			t.Fatalf("parsed header fails Encode: %v", err)
		}
		back, err := ParseHeader(enc)
		if err != nil {
			t.Fatalf("encoded header does not parse: %v\n%s", err, enc)
		}
		if !headersEqual(h, back) {
			t.Fatalf("round trip changed the header")
		}
		if h.PixelBytes() < 1 || h.PixelBytes() > MaxPixelBytes {
			t.Fatalf("accepted header has PixelBytes %d", h.PixelBytes())
		}
	})
}

// TestFormatDocExample keeps the example in FORMAT.md parseable.
func TestFormatDocExample(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("FORMAT.md has no ```json example")
	}
	h, err := ParseHeader([]byte(example))
	if err != nil {
		t.Fatalf("FORMAT.md example: %v", err)
	}
	if hu := h.CalibrationsOfUnitType("hu"); len(hu) != 1 {
		t.Errorf("example hu calibrations: %+v", hu)
	}
}
