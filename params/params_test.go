package params

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidatePrimitives(t *testing.T) {
	tests := []struct {
		typ, in string
		want    string // "" for valid, else the exact error message
	}{
		{"Int", "2", ""},
		{"Int", "-0", ""},
		{"Int", "2.0", ""},
		{"Int", "1e3", ""},
		{"Int", "1.5e1", ""},
		{"Int", "100e-2", ""},
		{"Int", "0e999999999999", ""},
		{"Int", "9223372036854775807", ""},
		{"Int", "-9223372036854775808", ""},
		{"Int", " 7 ", ""},
		{"Int", "1.5", "Int expected, got 1.5 (not an integer)"},
		{"Int", "1e-2", "Int expected, got 1e-2 (not an integer)"},
		{"Int", "1e-999999999999", "Int expected, got 1e-999999999999 (not an integer)"},
		{"Int", "9223372036854775808", "Int expected, got 9223372036854775808 (outside the 64-bit integer range)"},
		{"Int", "1e19", "Int expected, got 1e19 (outside the 64-bit integer range)"},
		{"Int", "1e999999999999", "Int expected, got 1e999999999999 (outside the 64-bit integer range)"},
		{"Int", `"2"`, "Int expected, got string"},
		{"Int", "null", "Int expected, got null"},
		{"Float", "0.25", ""},
		{"Float", "-1e308", ""},
		{"Float", "3", ""},
		{"Float", "1e-400", ""}, // underflows to zero, which is finite
		{"Float", "1e309", "Float expected, got 1e309 (outside the float64 range)"},
		{"Float", `"abc"`, "Float expected, got string"},
		{"Float", "[1]", "Float expected, got array"},
		{"String", `""`, ""},
		{"String", `"dens"`, ""},
		{"String", "1", "String expected, got number"},
		{"String", `{}`, "String expected, got object"},
		{"Bool", "true", ""},
		{"Bool", "false", ""},
		{"Bool", "0", "Bool expected, got number"},
		{"Bool", `"true"`, "Bool expected, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.in, func(t *testing.T) {
			err := Validate(tt.typ, json.RawMessage(tt.in))
			checkErr(t, err, tt.want, ErrTypeMismatch)
		})
	}
}

// checkErr asserts err is nil when want is empty, and otherwise has message
// want and wraps kind.
func checkErr(t *testing.T, err error, want string, kind error) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Errorf("error:\n got %q\nwant %q", err, want)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q does not wrap %v", err, kind)
	}
}

func TestValidateInvalidJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "invalid JSON: unexpected end of JSON input"},
		{"truncated object", `{"type":`, "invalid JSON: unexpected end of JSON input (at byte 8)"},
		{"two values", "1 2", "invalid JSON: invalid character '2' after top-level value (at byte 3)"},
		{"bare word", "dens", "invalid JSON: invalid character 'd' looking for beginning of value (at byte 1)"},
		{"duplicate key", `{"type":"CSV","filename":"a","filename":"b"}`, `invalid JSON: duplicate key "filename"`},
		{"nested duplicate key", `{"type":"Video","filename":"a","bitmap":{"type":"Bitmap","type":"Bitmap"}}`, `bitmap: invalid JSON: duplicate key "type"`},
	}
	for _, typ := range []string{"Int", "CSV", "Video"} {
		for _, tt := range tests {
			if typ != "Video" && strings.HasPrefix(tt.name, "nested") {
				continue
			}
			t.Run(typ+" "+tt.name, func(t *testing.T) {
				checkErr(t, Validate(typ, json.RawMessage(tt.in)), tt.want, ErrInvalidJSON)
				if errors.Is(Validate(typ, json.RawMessage(tt.in)), ErrTypeMismatch) {
					t.Error("invalid JSON also reported as type mismatch")
				}
			})
		}
	}
}

func TestValidateUnknownType(t *testing.T) {
	for _, typ := range []string{"", "int", "Image2", "Foo"} {
		err := Validate(typ, json.RawMessage("1"))
		if !errors.Is(err, ErrUnknownType) {
			t.Errorf("Validate(%q): got %v, want ErrUnknownType", typ, err)
		}
		if _, err := FileRefs(typ, json.RawMessage("1")); !errors.Is(err, ErrUnknownType) {
			t.Errorf("FileRefs(%q): got %v, want ErrUnknownType", typ, err)
		}
	}
}

const image = `{"type":"Image","filename":"scan.omni","size":[4,5,6]}`

func TestValidateComposites(t *testing.T) {
	tests := []struct {
		typ, in string
		want    string
	}{
		{"Image", image, ""},
		{"Image", `{"type":"Image","filename":"a/b.omni","size":[1,1,1],"filenames":["a/b.raw"],"additional_files":[{"filename":"x"},{"filename":"y","role":"mask"},{"filename":"z","role":null}]}`, ""},
		{"Image", `{"type":"Image","filename":"a.omni","size":[1,1,1.0],"filenames":null,"additional_files":null}`, ""},
		{"Image", `"scan.omni"`, "Image expected, got string"},
		{"Image", `{"filename":"a","size":[1,1,1]}`, `Image: missing "type" (must be "Image")`},
		{"Image", `{"type":"CSV","filename":"a"}`, `Image.type: must be "Image", got "CSV"`},
		{"Image", `{"type":7,"filename":"a"}`, `Image.type: must be "Image", got number`},
		{"Image", `{"type":"Image","size":[1,1,1]}`, `Image: missing required field "filename"`},
		{"Image", `{"type":"Image","filename":"a"}`, `Image: missing required field "size"`},
		{"Image", `{"type":"Image","filename":null,"size":[1,1,1]}`, `Image.filename: must be a file reference string, got null`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"extra":1}`, `Image: unknown field "extra" (allowed: type, filename, size, filenames, additional_files)`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,0]}`, "Image.size[2]: must be a positive integer"},
		{"Image", `{"type":"Image","filename":"a","size":[1,1.5,1]}`, "Image.size[1]: must be a positive integer"},
		{"Image", `{"type":"Image","filename":"a","size":[1,"1",1]}`, "Image.size[1]: must be a positive integer"},
		{"Image", `{"type":"Image","filename":"a","size":[1,1]}`, "Image.size: must be an array of 3 positive integers, got 2 elements"},
		{"Image", `{"type":"Image","filename":"a","size":"1x1x1"}`, "Image.size: must be an array of 3 positive integers, got string"},
		{"Image", `{"type":"Image","filename":"../a","size":[1,1,1]}`, `Image.filename: invalid file reference "../a": file reference contains a '..' path element`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"filenames":["ok","/abs"]}`, `Image.filenames[1]: invalid file reference "/abs": file reference must be relative (no leading '/')`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"filenames":"a.raw"}`, `Image.filenames: must be an array of file references, got string`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"additional_files":[{"role":"x"}]}`, `Image.additional_files[0]: missing required field "filename"`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"additional_files":[{"filename":"x","kind":"y"}]}`, `Image.additional_files[0]: unknown field "kind" (allowed: filename, role)`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"additional_files":[{"filename":"x","role":1}]}`, `Image.additional_files[0].role: must be a string, got number`},
		{"Image", `{"type":"Image","filename":"a","size":[1,1,1],"additional_files":["x"]}`, `Image.additional_files[0]: must be an object, got string`},
		{"CSV", `{"type":"CSV","filename":"r.csv"}`, ""},
		{"CSV", `{"type":"CSV","filename":""}`, `CSV.filename: invalid file reference "": file reference is empty`},
		{"Bitmap", `{"type":"Bitmap","filename":"p.png"}`, ""},
		{"HTMLDocument", `{"type":"HTMLDocument","filename":"r.html","size":[1,1,1]}`, `HTMLDocument: unknown field "size" (allowed: type, filename)`},
		{"SnapshotMetadata", `{"type":"SnapshotMetadata","filename":"m.json"}`, ""},
		{"Video", `{"type":"Video","filename":"v.mp4","bitmap":{"type":"Bitmap","filename":"v.png"}}`, ""},
		{"Video", `{"type":"Video","filename":"v.mp4","bitmap":{"type":"CSV","filename":"v.png"}}`, `Video.bitmap.type: must be "Bitmap", got "CSV"`},
		{"Video", `{"type":"Video","filename":"v.mp4","bitmap":"v.png"}`, `Video.bitmap: Bitmap expected, got string`},
		{"ForeignFile", `{"type":"ForeignFile","filename":"x.bin"}`, ""},
		{"ForeignFile", `{"type":"ForeignFile","source":"userdata","virtualpath":"/home/x","filename":"a b.txt"}`, ""},
		{"ForeignFile", `{"type":"ForeignFile","source":"fss","virtualpath":"/home/x","filename":"a"}`, `ForeignFile.source: must be "userdata"`},
		{"ForeignFile", `{"type":"ForeignFile","source":"userdata","filename":"a"}`, `ForeignFile: missing required field "virtualpath"`},
		{"ForeignFile", `{"type":"ForeignFile","virtualpath":"/x","filename":"a"}`, `ForeignFile: unknown field "virtualpath" (allowed: type, filename)`},
		{"Mesh", `{"type":"Mesh","filename":"m.stl","filenames":["m2.stl"]}`, ""},
		{"Contours", `{"type":"Contours","filename":"c.json","image":` + image + `}`, ""},
		{"Contours", `{"type":"Contours","filename":"c.json","image":{"type":"Image","filename":"a","size":[1,0,1]}}`, "Contours.image.size[1]: must be a positive integer"},
		{"Contours", `{"type":"Contours","filename":"c.json"}`, `Contours: missing required field "image"`},
		{"Entity", `{"type":"Entity","uuid":"123E4567-e89b-12d3-a456-426614174000","name":"S"}`, ""},
		{"Entity", `{"type":"Entity","uuid":"123e4567e89b12d3a456426614174000","name":"S"}`, `Entity.uuid: must be a UUID string like "123e4567-e89b-12d3-a456-426614174000"`},
		{"Entity", `{"type":"Entity","uuid":"123e4567-e89b-12d3-a456-42661417400g","name":"S"}`, `Entity.uuid: must be a UUID string like "123e4567-e89b-12d3-a456-426614174000"`},
		{"Entity", `{"type":"Entity","uuid":"123e4567-e89b-12d3-a456-426614174000","name":""}`, `Entity.name: must not be empty`},
		{"ImageVOI", `{"type":"ImageVOI","pos":[0,0,0],"size":[1,2,3],"image":` + image + `,"name":"","category":null}`, ""},
		{"ImageVOI", `{"type":"ImageVOI","pos":[0,-1,0],"size":[1,2,3],"image":` + image + `}`, "ImageVOI.pos[1]: must be a non-negative integer"},
		{"ImageVOI", `{"type":"ImageVOI","pos":[0,0,0],"size":[1,2,3],"image":` + image + `,"name":5}`, "ImageVOI.name: must be a string, got number"},
		{"RotatedImageVOI", `{"type":"RotatedImageVOI","pos_mm":[0,-1.5,2],"size_mm":[1,1,0.5],"size":[1,1,1],"rotation":[1,0,0,0,1,0,0,0,1],"image":` + image + `}`, ""},
		{"RotatedImageVOI", `{"type":"RotatedImageVOI","pos_mm":[0,0,0],"size_mm":[1,0,1],"size":[1,1,1],"rotation":[1,0,0,0,1,0,0,0,1],"image":` + image + `}`, "RotatedImageVOI.size_mm[1]: must be a positive number"},
		{"RotatedImageVOI", `{"type":"RotatedImageVOI","pos_mm":[0,0,0],"size_mm":[1,1,1],"size":[1,1,1],"rotation":[1,0,0,1],"image":` + image + `}`, "RotatedImageVOI.rotation: must be an array of 9 numbers, got 4 elements"},
		{"RotatedImageVOI", `{"type":"RotatedImageVOI","pos_mm":[0,"0",0],"size_mm":[1,1,1],"size":[1,1,1],"rotation":[1,0,0,0,1,0,0,0,1],"image":` + image + `}`, "RotatedImageVOI.pos_mm[1]: must be a number"},
		{"ImagePairList", `{"type":"ImagePairList","pairs":[]}`, ""},
		{"ImagePairList", `{"type":"ImagePairList","pairs":[[` + image + `,` + image + `]]}`, ""},
		{"ImagePairList", `{"type":"ImagePairList","pairs":[[` + image + `]]}`, "ImagePairList.pairs[0]: must be a [Image, Image] pair"},
		{"ImagePairList", `{"type":"ImagePairList","pairs":[[` + image + `,{"type":"Mesh","filename":"m"}]]}`, `ImagePairList.pairs[0][1].type: must be "Image", got "Mesh"`},
		{"RegistrationResult", `{"type":"RegistrationResult","transform":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1],"mesh1":{"type":"Mesh","filename":"m"}}`, ""},
		{"RegistrationResult", `{"type":"RegistrationResult","transform":[1,0,0,0]}`, "RegistrationResult.transform: must be an array of 16 numbers, got 4 elements"},
		{"Snapshot", `{"type":"Snapshot","bitmap":{"type":"Bitmap","filename":"s.png"},"video":{"type":"Video","filename":"v.mp4"}}`, ""},
		{"Snapshot", `{"type":"Snapshot","image":` + image + `}`, `Snapshot: missing required field "bitmap"`},
		{"Spectra", `{"type":"Spectra","amplitudes_image":` + image + `,"wavelength_image":` + image + `}`, ""},
		{"GIResult", `{"type":"GIResult","snapshot":{"type":"Snapshot","bitmap":{"type":"Bitmap","filename":"s.png"}},"gi_image":` + image + `}`, ""},
		{"GIResult", `{"type":"GIResult","snapshot":{"type":"Snapshot","bitmap":{"type":"Bitmap","filename":"a//b"}},"gi_image":` + image + `}`, `GIResult.snapshot.bitmap.filename: invalid file reference "a//b": file reference contains an empty path element`},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.in, func(t *testing.T) {
			checkErr(t, Validate(tt.typ, json.RawMessage(tt.in)), tt.want, ErrTypeMismatch)
		})
	}
}

func TestValueErrorPath(t *testing.T) {
	err := Validate("Image", json.RawMessage(`{"type":"Image","filename":"a","size":[1,1,-1]}`))
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("got %T, want *ValueError", err)
	}
	if ve.Path != "Image.size[2]" || ve.Reason != "must be a positive integer" {
		t.Errorf("got path %q reason %q", ve.Path, ve.Reason)
	}
}

func TestIntAndFloatValue(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2", 2, true},
		{"2.0", 2, true},
		{"-1.5e1", -15, true},
		{"12e-1", 0, false},
		{"2.5e-1", 0, false},
		{"1.2345e4", 12345, true},
		{"922337203685477580.7e1", 9223372036854775807, true},
		{"-922337203685477580.8e1", -9223372036854775808, true},
		{"922337203685477580.8e1", 0, false},
		{"0.000", 0, true},
		{"true", 0, false},
	}
	for _, tt := range ints {
		got, err := IntValue(json.RawMessage(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("IntValue(%s) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	floats := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"2", 2, true},
		{"-0.125", -0.125, true},
		{"1e308", 1e308, true},
		{"-1e999", 0, false},
		{`"1"`, 0, false},
	}
	for _, tt := range floats {
		got, err := FloatValue(json.RawMessage(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("FloatValue(%s) = %g, %v; want %g, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFileRefs(t *testing.T) {
	tests := []struct {
		typ, in string
		want    []string
	}{
		{"Int", "3", nil},
		{"Entity", `{"type":"Entity","uuid":"123e4567-e89b-12d3-a456-426614174000","name":"S"}`, nil},
		{"ForeignFile", `{"type":"ForeignFile","source":"userdata","virtualpath":"/x","filename":"a"}`, nil},
		{"ForeignFile", `{"type":"ForeignFile","filename":"x.bin"}`, []string{"x.bin"}},
		{"Image", `{"type":"Image","filename":"s.omni","size":[1,1,1],"filenames":["s.raw","s.omni"],"additional_files":[{"filename":"cal"},{"filename":"s.raw"}]}`,
			[]string{"s.omni", "s.raw", "cal"}},
		{"Contours", `{"type":"Contours","image":` + image + `,"filename":"c.json"}`, []string{"c.json", "scan.omni"}},
		{"Snapshot", `{"type":"Snapshot","video":{"type":"Video","filename":"v.mp4","bitmap":{"type":"Bitmap","filename":"v.png"}},"bitmap":{"type":"Bitmap","filename":"s.png"},"image":null,"metadata":{"type":"SnapshotMetadata","filename":"m.json"}}`,
			[]string{"s.png", "m.json", "v.mp4", "v.png"}},
		{"ImagePairList", `{"type":"ImagePairList","pairs":[[{"type":"Image","filename":"a","size":[1,1,1]},{"type":"Image","filename":"b","size":[1,1,1]}],[{"type":"Image","filename":"c","size":[1,1,1]},{"type":"Image","filename":"a","size":[1,1,1]}]]}`,
			[]string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			got, err := FileRefs(tt.typ, json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := FileRefs("Image", json.RawMessage(`{"type":"Image","filename":"a"}`)); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("FileRefs of invalid value: got %v, want ErrTypeMismatch", err)
	}
}

func TestValidRef(t *testing.T) {
	tests := []struct {
		ref  string
		want string // substring of the error, "" if valid
	}{
		{"a", ""},
		{"scan/volume.omni", ""},
		{"a..b/c.d", ""},
		{".hidden/x", ""},
		{"", "empty"},
		{"/etc/passwd", "must be relative"},
		{"a/../b", "'..'"},
		{"..", "'..'"},
		{"a/./b", "'.'"},
		{"a//b", "empty path element"},
		{"a/", "empty path element"},
		{`a\b`, `'\'`},
		{"a\x00b", "NUL"},
		{"a\xffb", "UTF-8"},
	}
	for _, tt := range tests {
		err := ValidRef(tt.ref)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidRef(%q) = %v, want nil", tt.ref, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidRef(%q) = %v, want error containing %q", tt.ref, err, tt.want)
		}
	}
}

func TestTypeRegistry(t *testing.T) {
	types := Types()
	if !reflect.DeepEqual(types[:4], []string{"Int", "Float", "String", "Bool"}) {
		t.Errorf("Types() does not start with the primitives: %v", types)
	}
	required := []string{"Image", "CSV", "ForeignFile", "Bitmap", "HTMLDocument", "Mesh", "Contours",
		"Entity", "ImageVOI", "SnapshotMetadata", "Video"}
	for _, name := range required {
		if !Known(name) || IsPrimitive(name) {
			t.Errorf("%s: Known=%v IsPrimitive=%v", name, Known(name), IsPrimitive(name))
		}
	}
	for _, name := range types {
		if !Known(name) {
			t.Errorf("Types() lists %q but Known(%q) is false", name, name)
		}
	}
	if Known("Image ") || Known("image") || IsPrimitive("Image") {
		t.Error("type names must match exactly")
	}
	for name, c := range composites {
		if c.name != name {
			t.Errorf("registry key %q names type %q", name, c.name)
		}
		all := append([]field(nil), c.fields...)
		if c.alt != nil {
			all = append(all, c.alt.fields...)
		}
		for _, f := range all {
			if (f.kind == nestedField || f.kind == pairsField) && composites[f.typ] == nil {
				t.Errorf("%s.%s refers to unknown type %q", name, f.name, f.typ)
			}
		}
	}
	// Types returns a fresh slice each time.
	types[0] = "changed"
	if Types()[0] != "Int" {
		t.Error("Types() exposes shared state")
	}
}
