package taskmodule

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/params"
)

// del marks a field to delete in docWith.
type del struct{}

// docWith returns base as JSON with the given top-level fields replaced
// (or deleted, for del{}).
func docWith(t *testing.T, base string, changes map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if _, ok := v.(del); ok {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const baseMetadata = `{"package_format":"XFP-TT1.0","name":"Lucid.Test","version":"1.0.0.0"}`

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		want    string // substring of the error; "" for valid
	}{
		{"minimal", nil, ""},
		{"all optional fields", map[string]any{
			"display_name": "Test", "summary": "s", "description_filename": "docs/README.md",
			"citation_cff_filename": "CITATION.cff", "remarks": "r",
			"author":       map[string]any{"name": "A", "email": "a@example.com", "website": "https://example.com/x"},
			"dependencies": []any{map[string]any{"name": "Lucid.Other", "version": "2.1.0.3"}},
		}, ""},
		{"null optional fields", map[string]any{"display_name": nil, "author": nil, "dependencies": nil}, ""},
		{"name of 50 characters", map[string]any{"name": strings.Repeat("a", 50)}, ""},
		{"unknown field", map[string]any{"licence": "MIT"}, `unknown field "licence" (allowed: package_format, name, version,`},
		{"missing package_format", map[string]any{"package_format": del{}}, `missing required field "package_format"`},
		{"missing name", map[string]any{"name": del{}}, `missing required field "name"`},
		{"missing version", map[string]any{"version": del{}}, `missing required field "version"`},
		{"null name", map[string]any{"name": nil}, `name: must be a string, got null`},
		{"workflow package format", map[string]any{"package_format": "XFP-WF1.0"}, `package_format: must be "XFP-TT1.0" for a task type, got "XFP-WF1.0"`},
		{"name with dash", map[string]any{"name": "Lucid-Test"}, `name: "Lucid-Test" must consist of letters, digits and dots only`},
		{"name with space", map[string]any{"name": "Lucid Test"}, `letters, digits and dots only`},
		{"empty name", map[string]any{"name": ""}, `letters, digits and dots only`},
		{"name too long", map[string]any{"name": strings.Repeat("a", 51)}, "longer than 50 characters"},
		{"name not a string", map[string]any{"name": 5}, "name: must be a string, got number"},
		{"version with three parts", map[string]any{"version": "1.0.0"}, `version: "1.0.0" must have four numeric parts like "1.10.9.0"`},
		{"version with five parts", map[string]any{"version": "1.0.0.0.0"}, "four numeric parts"},
		{"version not numeric", map[string]any{"version": "1.0.0.beta"}, "four numeric parts"},
		{"bad description_filename", map[string]any{"description_filename": "../README.md"}, "description_filename: file reference contains a '..' path element"},
		{"bad citation_cff_filename", map[string]any{"citation_cff_filename": "/CITATION.cff"}, "citation_cff_filename: file reference must be relative"},
		{"author not object", map[string]any{"author": "me"}, "author: must be an object, got string"},
		{"author unknown field", map[string]any{"author": map[string]any{"phone": "1"}}, `author: unknown field "phone"`},
		{"author bad email", map[string]any{"author": map[string]any{"email": "Me <a@example.com>"}}, `author.email: "Me <a@example.com>" is not a plain e-mail address`},
		{"author bad website", map[string]any{"author": map[string]any{"website": "ftp://example.com"}}, `author.website: "ftp://example.com" is not an http(s) URL`},
		{"dependencies not array", map[string]any{"dependencies": map[string]any{}}, "dependencies: must be an array, got object"},
		{"dependency missing version", map[string]any{"dependencies": []any{map[string]any{"name": "X"}}}, `dependencies[0]: missing required field "version"`},
		{"dependency bad name", map[string]any{"dependencies": []any{map[string]any{"name": "a/b", "version": "1.0.0.0"}}}, `dependencies[0].name: "a/b" must consist of`},
		{"dependency bad version", map[string]any{"dependencies": []any{map[string]any{"name": "a", "version": ">=1"}}}, `dependencies[0].version: ">=1" must have four numeric parts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetadata(docWith(t, baseMetadata, tt.changes))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Name == "" || m.PackageFormat != PackageFormat {
					t.Errorf("decoded %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "taskmodule: metadata: ") {
				t.Errorf("error %q lacks context prefix", err)
			}
		})
	}
}

func TestParseMetadataDecodesFields(t *testing.T) {
	doc := `{"package_format":"XFP-TT1.0","name":"Lucid.Test","version":"1.10.9.0","display_name":"T",
		"author":{"name":"A","email":"a@example.com"},"dependencies":[{"name":"B","version":"0.0.0.1"}]}`
	m, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Metadata{PackageFormat: "XFP-TT1.0", Name: "Lucid.Test", Version: "1.10.9.0", DisplayName: "T",
		Author:       &Author{Name: "A", Email: "a@example.com"},
		Dependencies: []Dependency{{Name: "B", Version: "0.0.0.1"}}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

func TestParseMetadataInvalidJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "invalid JSON: unexpected end of JSON input"},
		{`{"name":`, "invalid JSON: unexpected end of JSON input"},
		{`{"name":"a"}x`, "invalid JSON: invalid character 'x' after top-level value"},
		{`{"name":"a","name":"b"}`, `invalid JSON: duplicate key "name"`},
	}
	for _, tt := range tests {
		_, err := ParseMetadata([]byte(tt.in))
		if !errors.Is(err, params.ErrInvalidJSON) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseMetadata(%q) = %v, want ErrInvalidJSON containing %q", tt.in, err, tt.want)
		}
	}
	_, err := ParseMetadata([]byte(`["XFP-TT1.0"]`))
	if err == nil || errors.Is(err, params.ErrInvalidJSON) || !strings.Contains(err.Error(), "must be an object, got array") {
		t.Errorf("array document: got %v", err)
	}
}
