package params

import (
	"fmt"
	"strings"
)

// The composite types are described as data rather than code so that one
// generic validator, one reference collector and the TYPES.md sync test all
// work from the same description.

type fieldKind int

const (
	refField             fieldKind = iota // an FSS reference
	refListField                          // an array of FSS references
	additionalFilesField                  // an array of {"filename": ref, "role"?: string}
	textField                             // a string, non-empty if field.nonEmpty
	uuidField                             // a UUID in canonical 8-4-4-4-12 hex form
	constField                            // the string field.typ
	intsField                             // field.n integers, each >= field.min
	floatsField                           // field.n finite numbers, each > 0 if field.positive
	nestedField                           // a composite value of type field.typ
	pairsField                            // an array of [field.typ, field.typ] pairs
)

type field struct {
	name     string
	kind     fieldKind
	optional bool
	nonEmpty bool   // textField
	n        int    // intsField, floatsField: array length
	min      int64  // intsField: smallest element allowed
	positive bool   // floatsField
	typ      string // nestedField, pairsField: element type; constField: the constant
}

// composite is the shape of one composite type. If alt is set and a value
// has the member alt.when, the value is checked against alt.fields instead
// of fields; this expresses ForeignFile's two forms.
type composite struct {
	name   string
	fields []field
	alt    *variant
}

type variant struct {
	when   string
	fields []field
}

// Field constructors, to keep the registry below readable.

func ref(name string) field     { return field{name: name, kind: refField} }
func refList(name string) field { return field{name: name, kind: refListField} }
func text(name string) field    { return field{name: name, kind: textField, nonEmpty: true} }
func anyText(name string) field { return field{name: name, kind: textField} }
func optional(f field) field    { f.optional = true; return f }

func nested(name, typ string) field {
	return field{name: name, kind: nestedField, typ: typ}
}

func positiveInts(name string, n int) field {
	return field{name: name, kind: intsField, n: n, min: 1}
}

func nonNegativeInts(name string, n int) field {
	return field{name: name, kind: intsField, n: n, min: 0}
}

func floats(name string, n int) field {
	return field{name: name, kind: floatsField, n: n}
}

func positiveFloats(name string, n int) field {
	return field{name: name, kind: floatsField, n: n, positive: true}
}

func additionalFiles() field {
	return field{name: "additional_files", kind: additionalFilesField, optional: true}
}

func singleFile(name string) *composite {
	return &composite{name: name, fields: []field{ref("filename")}}
}

// composites is the registry of composite types. It is never modified.
var composites = map[string]*composite{
	"Image": {name: "Image", fields: []field{
		ref("filename"),
		positiveInts("size", 3),
		optional(refList("filenames")),
		additionalFiles(),
	}},
	"CSV":              singleFile("CSV"),
	"Bitmap":           singleFile("Bitmap"),
	"HTMLDocument":     singleFile("HTMLDocument"),
	"SnapshotMetadata": singleFile("SnapshotMetadata"),
	"Video": {name: "Video", fields: []field{
		ref("filename"),
		optional(nested("bitmap", "Bitmap")),
	}},
	"ForeignFile": {
		name:   "ForeignFile",
		fields: []field{ref("filename")},
		alt: &variant{when: "source", fields: []field{
			{name: "source", kind: constField, typ: "userdata"},
			text("virtualpath"),
			text("filename"),
		}},
	},
	"Mesh": {name: "Mesh", fields: []field{
		ref("filename"),
		optional(refList("filenames")),
		additionalFiles(),
	}},
	"Contours": {name: "Contours", fields: []field{
		ref("filename"),
		nested("image", "Image"),
	}},
	"Entity": {name: "Entity", fields: []field{
		{name: "uuid", kind: uuidField},
		text("name"),
	}},
	"ImageVOI": {name: "ImageVOI", fields: []field{
		nonNegativeInts("pos", 3),
		positiveInts("size", 3),
		nested("image", "Image"),
		optional(anyText("name")),
		optional(anyText("category")),
	}},
	"RotatedImageVOI": {name: "RotatedImageVOI", fields: []field{
		floats("pos_mm", 3),
		positiveFloats("size_mm", 3),
		positiveInts("size", 3),
		floats("rotation", 9),
		nested("image", "Image"),
		optional(anyText("name")),
		optional(anyText("category")),
	}},
	"ImagePairList": {name: "ImagePairList", fields: []field{
		{name: "pairs", kind: pairsField, typ: "Image"},
	}},
	"RegistrationResult": {name: "RegistrationResult", fields: []field{
		floats("transform", 16),
		optional(nested("image1", "Image")),
		optional(nested("image2", "Image")),
		optional(nested("mesh1", "Mesh")),
		optional(nested("mesh2", "Mesh")),
	}},
	"Snapshot": {name: "Snapshot", fields: []field{
		nested("bitmap", "Bitmap"),
		optional(nested("image", "Image")),
		optional(nested("image2", "Image")),
		optional(nested("mesh", "Mesh")),
		optional(nested("metadata", "SnapshotMetadata")),
		optional(nested("video", "Video")),
	}},
	"Spectra": {name: "Spectra", fields: []field{
		nested("amplitudes_image", "Image"),
		nested("wavelength_image", "Image"),
	}},
	"GIResult": {name: "GIResult", fields: []field{
		nested("snapshot", "Snapshot"),
		nested("gi_image", "Image"),
	}},
}

// fieldsFor selects the form of c that v uses.
func (c *composite) fieldsFor(v *value) []field {
	if c.alt != nil {
		if _, ok := v.members[c.alt.when]; ok {
			return c.alt.fields
		}
	}
	return c.fields
}

// validate checks v at path (empty for a top-level value). Paths of
// members start with the type name: "Image.size[2]".
func (c *composite) validate(path string, v *value) error {
	if v.kind != kindObject {
		return mismatch(path, "%s expected, got %s", c.name, v.kind)
	}
	self := path
	if self == "" {
		self = c.name
	}
	typ, ok := v.members["type"]
	switch {
	case !ok:
		return mismatch(self, `missing "type" (must be %q)`, c.name)
	case typ.kind != kindString:
		return mismatch(joinPath(self, "type"), "must be %q, got %s", c.name, typ.kind)
	case typ.str != c.name:
		return mismatch(joinPath(self, "type"), "must be %q, got %q", c.name, typ.str)
	}
	fields := c.fieldsFor(v)
	for _, key := range v.keys {
		if key != "type" && !hasField(fields, key) {
			return mismatch(self, "unknown field %q (allowed: %s)", key, fieldNames(fields))
		}
	}
	for _, f := range fields {
		m, ok := v.members[f.name]
		if !ok || (f.optional && m.kind == kindNull) {
			// Python callers pass None for omitted optional arguments.
			if !f.optional {
				return mismatch(self, "missing required field %q", f.name)
			}
			continue
		}
		if err := f.validate(joinPath(self, f.name), m); err != nil {
			return err
		}
	}
	return nil
}

func hasField(fields []field, name string) bool {
	for _, f := range fields {
		if f.name == name {
			return true
		}
	}
	return false
}

func fieldNames(fields []field) string {
	names := []string{"type"}
	for _, f := range fields {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

func (f *field) validate(path string, v *value) error {
	switch f.kind {
	case refField:
		return checkRef(path, v)
	case refListField:
		if v.kind != kindArray {
			return mismatch(path, "must be an array of file references, got %s", v.kind)
		}
		for i, e := range v.elems {
			if err := checkRef(indexPath(path, i), e); err != nil {
				return err
			}
		}
	case additionalFilesField:
		return checkAdditionalFiles(path, v)
	case textField:
		if v.kind != kindString {
			return mismatch(path, "must be a string, got %s", v.kind)
		}
		if f.nonEmpty && v.str == "" {
			return mismatch(path, "must not be empty")
		}
	case uuidField:
		if v.kind != kindString || !isUUID(v.str) {
			return mismatch(path, "must be a UUID string like \"123e4567-e89b-12d3-a456-426614174000\"")
		}
	case constField:
		if v.kind != kindString || v.str != f.typ {
			return mismatch(path, "must be %q", f.typ)
		}
	case intsField:
		return f.checkInts(path, v)
	case floatsField:
		return f.checkFloats(path, v)
	case nestedField:
		return composites[f.typ].validate(path, v)
	case pairsField:
		if v.kind != kindArray {
			return mismatch(path, "must be an array of [%s, %s] pairs, got %s", f.typ, f.typ, v.kind)
		}
		c := composites[f.typ]
		for i, pair := range v.elems {
			p := indexPath(path, i)
			if pair.kind != kindArray || len(pair.elems) != 2 {
				return mismatch(p, "must be a [%s, %s] pair", f.typ, f.typ)
			}
			for j, e := range pair.elems {
				if err := c.validate(indexPath(p, j), e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkRef(path string, v *value) error {
	if v.kind != kindString {
		return mismatch(path, "must be a file reference string, got %s", v.kind)
	}
	if err := ValidRef(v.str); err != nil {
		return mismatch(path, "invalid file reference %q: %v", v.str, err)
	}
	return nil
}

func checkAdditionalFiles(path string, v *value) error {
	if v.kind != kindArray {
		return mismatch(path, `must be an array of {"filename": ..., "role": ...} objects, got %s`, v.kind)
	}
	for i, e := range v.elems {
		p := indexPath(path, i)
		if e.kind != kindObject {
			return mismatch(p, "must be an object, got %s", e.kind)
		}
		for _, key := range e.keys {
			if key != "filename" && key != "role" {
				return mismatch(p, "unknown field %q (allowed: filename, role)", key)
			}
		}
		fn, ok := e.members["filename"]
		if !ok {
			return mismatch(p, `missing required field "filename"`)
		}
		if err := checkRef(joinPath(p, "filename"), fn); err != nil {
			return err
		}
		if role, ok := e.members["role"]; ok && role.kind != kindString && role.kind != kindNull {
			return mismatch(joinPath(p, "role"), "must be a string, got %s", role.kind)
		}
	}
	return nil
}

func (f *field) checkInts(path string, v *value) error {
	what := "non-negative integers"
	if f.min > 0 {
		what = "positive integers"
	}
	if v.kind != kindArray || len(v.elems) != f.n {
		return mismatch(path, "must be an array of %d %s, got %s", f.n, what, describeArray(v))
	}
	for i, e := range v.elems {
		var n int64
		err := errNotInteger
		if e.kind == kindNumber {
			n, err = parseIntLiteral(e.number)
		}
		if err != nil || n < f.min {
			return mismatch(indexPath(path, i), "must be a %s", strings.TrimSuffix(what, "s"))
		}
	}
	return nil
}

func (f *field) checkFloats(path string, v *value) error {
	what := "numbers"
	if f.positive {
		what = "positive numbers"
	}
	if v.kind != kindArray || len(v.elems) != f.n {
		return mismatch(path, "must be an array of %d %s, got %s", f.n, what, describeArray(v))
	}
	for i, e := range v.elems {
		var x float64
		err := errFloatRange
		if e.kind == kindNumber {
			x, err = parseFloatLiteral(e.number)
		}
		if err != nil || (f.positive && x <= 0) {
			return mismatch(indexPath(path, i), "must be a %s", strings.TrimSuffix(what, "s"))
		}
	}
	return nil
}

func describeArray(v *value) string {
	if v.kind == kindArray {
		return fmt.Sprintf("%d elements", len(v.elems))
	}
	return v.kind.String()
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// collect reports the FSS references in the validated value v in field
// order, recursing into nested values.
func (c *composite) collect(v *value, add func(string)) {
	for _, f := range c.fieldsFor(v) {
		m, ok := v.members[f.name]
		if !ok || m.kind == kindNull {
			continue
		}
		switch f.kind {
		case refField:
			add(m.str)
		case refListField:
			for _, e := range m.elems {
				add(e.str)
			}
		case additionalFilesField:
			for _, e := range m.elems {
				add(e.members["filename"].str)
			}
		case nestedField:
			composites[f.typ].collect(m, add)
		case pairsField:
			for _, pair := range m.elems {
				for _, e := range pair.elems {
					composites[f.typ].collect(e, add)
				}
			}
		}
	}
}
