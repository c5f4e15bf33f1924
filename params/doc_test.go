package params

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// docSections splits TYPES.md into its "## " sections, keyed by heading.
func docSections(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("TYPES.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var heading string
	for line := range strings.SplitSeq(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			heading = strings.TrimSpace(h)
			if _, dup := sections[heading]; dup {
				t.Errorf("TYPES.md: duplicate section %q", heading)
			}
			sections[heading] = ""
			continue
		}
		if heading != "" {
			sections[heading] += line + "\n"
		}
	}
	return sections
}

// jsonExamples returns the contents of the ```json blocks in a section.
func jsonExamples(section string) []string {
	var examples []string
	for {
		_, rest, ok := strings.Cut(section, "```json\n")
		if !ok {
			return examples
		}
		block, after, _ := strings.Cut(rest, "```")
		examples = append(examples, block)
		section = after
	}
}

func TestTypesDocInSync(t *testing.T) {
	sections := docSections(t)
	nonTypeSections := map[string]bool{"Conventions": true}
	for heading := range sections {
		if !Known(heading) && !nonTypeSections[heading] {
			t.Errorf("TYPES.md documents %q, which is not a registered type", heading)
		}
	}
	for _, typ := range Types() {
		section, ok := sections[typ]
		if !ok {
			t.Errorf("TYPES.md has no section %q", "## "+typ)
			continue
		}
		if c := composites[typ]; c != nil {
			fields := c.fields
			if c.alt != nil {
				fields = append(append([]field(nil), fields...), c.alt.fields...)
			}
			for _, f := range append(fields, field{name: "type"}) {
				if !strings.Contains(section, "`"+f.name+"`") {
					t.Errorf("TYPES.md section %s does not document field `%s`", typ, f.name)
				}
			}
		}
		examples := jsonExamples(section)
		if len(examples) == 0 {
			t.Errorf("TYPES.md section %s has no json example", typ)
		}
		for _, ex := range examples {
			if err := Validate(typ, json.RawMessage(ex)); err != nil {
				t.Errorf("TYPES.md example for %s does not validate: %v\n%s", typ, err, ex)
			}
		}
	}
}
