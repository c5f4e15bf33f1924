package wasmfile

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add(module())
	f.Add(fullModule())
	f.Add(markerModule("xf_abi_version_1_0"))
	f.Add(module(custom("xf.metadata", []byte(`{}`))))
	f.Add(module(section(SectionImport, vec(importEntry("m", "mem", ExternMemory, 0x07, 1, 2)))))
	f.Add(module([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			return
		}
		// Anything Parse accepts must survive a custom-section rewrite.
		out, err := SetCustomSection(b, "fuzz", []byte("x"))
		if err != nil {
			t.Fatalf("SetCustomSection on parseable module: %v", err)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("rewritten module does not parse: %v", err)
		}
		if len(m2.Exports) != len(m.Exports) || len(m2.Imports) != len(m.Imports) {
			t.Fatalf("rewrite changed imports/exports")
		}
		if got := m2.CustomSections("fuzz"); len(got) != 1 || string(got[0].Data) != "x" {
			t.Fatalf("rewritten custom section: %+v", got)
		}
	})
}
