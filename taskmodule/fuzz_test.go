package taskmodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func addFixtureSeeds(f *testing.F, file string) {
	for _, name := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name, file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseMetadata(f *testing.F) {
	addFixtureSeeds(f, "metadata.json")
	f.Add([]byte(baseMetadata))
	f.Add([]byte(`{"package_format":"XFP-TT1.0","name":"a","version":"1.0.0.0","author":{"email":"a@b"},"dependencies":[{"name":"b","version":"0.0.0.0"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		// Whatever is accepted must survive a marshal/parse round trip.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMetadata(b); err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
	})
}

func FuzzParseInterface(f *testing.F) {
	addFixtureSeeds(f, "interface.json")
	f.Add([]byte(baseInterface))
	f.Add([]byte(`{"inputs":[{"key":"n","type":"Int","supported_modes":["ui"],"description":"","minimum":1,"maximum":5,"default":2.0}],"outputs":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := ParseInterface(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseInterface(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		b2, _ := json.Marshal(again)
		if string(b) != string(b2) {
			t.Fatalf("round trip not stable:\n%s\n%s", b, b2)
		}
		// Defaults are valid by construction, so an empty job must resolve
		// unless some input lacks a default.
		if _, err := it.ResolveInputs(json.RawMessage(`{}`)); err == nil {
			for _, in := range it.Inputs {
				if in.Default == nil {
					t.Fatalf("input %q without default resolved from {}", in.Key)
				}
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range fixtures {
		md, iface := loadFixtureF(f, name)
		packed, err := Pack(markerModule(), md, iface)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(packed)
	}
	f.Add(markerModule())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := Pack(data, m.MetadataJSON, m.InterfaceJSON); err != nil {
			t.Fatalf("re-pack of a parseable module: %v", err)
		}
	})
}

func loadFixtureF(f *testing.F, name string) (metadata, iface []byte) {
	dir := filepath.Join("testdata", name)
	metadata, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		f.Fatal(err)
	}
	iface, err = os.ReadFile(filepath.Join(dir, "interface.json"))
	if err != nil {
		f.Fatal(err)
	}
	return metadata, iface
}
