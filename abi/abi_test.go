package abi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/abi/internal/gen"
)

func TestDefinitionLoads(t *testing.T) {
	s, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Version.String() != "1.1" {
		t.Errorf("version = %s", s.Version)
	}
	if _, ok := s.Function("xf", "finish"); !ok {
		t.Error("xf.finish missing")
	}
	if got := abi.Status(len(s.Statuses) - 1).String(); got != s.Statuses[len(s.Statuses)-1].Name {
		t.Errorf("last status String() = %s", got)
	}
}

// TestGeneratedFilesUpToDate fails when abi.json changed without running
// go generate ./abi, so the spec, host constants and guest bindings agree.
func TestGeneratedFilesUpToDate(t *testing.T) {
	s := abi.MustLoad()
	files, err := gen.Files(s)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./abi", name)
		}
	}
	doc, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	spliced, err := gen.SpliceDoc(string(doc), s)
	if err != nil {
		t.Fatal(err)
	}
	if spliced != string(doc) {
		t.Error("ABI.md function table is stale: run go generate ./abi")
	}
}

func TestParseRejectsBrokenDefinitions(t *testing.T) {
	cases := map[string]string{
		"bad json":       `{`,
		"bad version":    `{"version":"one"}`,
		"sparse codes":   `{"version":"1.0","statuses":[{"code":1,"name":"X"}]}`,
		"unknown module": `{"version":"1.0","statuses":[{"code":0,"name":"OK"}],"types":{},"functions":[{"module":"zz","name":"f","since":"1.0","params":[],"statuses":[]}]}`,
		"unknown type":   `{"version":"1.0","statuses":[{"code":0,"name":"OK"}],"types":{},"functions":[{"module":"xf","name":"f","since":"1.0","params":[["a","ptr"]],"statuses":[]}]}`,
		"unknown status": `{"version":"1.0","statuses":[{"code":0,"name":"OK"}],"types":{},"functions":[{"module":"xf","name":"f","since":"1.0","params":[],"statuses":["NOPE"]}]}`,
		"future since":   `{"version":"1.0","statuses":[{"code":0,"name":"OK"}],"types":{},"functions":[{"module":"xf","name":"f","since":"1.1","params":[],"statuses":[]}]}`,
		"duplicate":      `{"version":"1.0","statuses":[{"code":0,"name":"OK"}],"types":{},"functions":[{"module":"xf","name":"f","since":"1.0","params":[],"statuses":[]},{"module":"xf","name":"f","since":"1.0","params":[],"statuses":[]}]}`,
	}
	for name, def := range cases {
		if _, err := abi.Parse([]byte(def)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMarkers(t *testing.T) {
	s := abi.MustLoad()
	if got := s.Marker(abi.Version{Major: 1, Minor: 0}); got != "xf_abi_version_1_0" {
		t.Errorf("marker = %s", got)
	}
	for name, want := range map[string]bool{
		"xf_abi_version_1_0": true, "xf_abi_version_2_13": true,
		"xf_abi_version_1": false, "xf_abi_version_1_0_0": false, "xf_abi_version_a_b": false, "_start": false,
	} {
		_, ok := s.ParseMarker(name)
		if ok != want {
			t.Errorf("ParseMarker(%q) ok = %v, want %v", name, ok, want)
		}
	}
	v := abi.Version{Major: 1, Minor: 2}
	if !v.Supports(abi.Version{Major: 1, Minor: 0}) || v.Supports(abi.Version{Major: 1, Minor: 3}) || v.Supports(abi.Version{Major: 2, Minor: 0}) {
		t.Error("Supports is wrong")
	}
}
