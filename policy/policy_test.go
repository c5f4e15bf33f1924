package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

func TestParseAndFor(t *testing.T) {
	c, err := Parse([]byte(`{
		"max_concurrent_jobs": 4,
		"default": {"deadline": "10m", "capabilities": ["images", "kernels.basic"]},
		"task_types": {
			"Lucid.*": {"memory_mib": 512},
			"Lucid.CLIP.*": {"deadline": "2m", "capabilities": ["images"]},
			"Lucid.CLIP.Threshold": {"log_lines": 5, "fuel": 1000000},
			"*": {"image_bytes": 1024}
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrentJobs != 4 {
		t.Errorf("max_concurrent_jobs = %d", c.MaxConcurrentJobs)
	}
	def := Defaults().Default
	l := c.For("Lucid.CLIP.Threshold")
	if time.Duration(l.Deadline) != 2*time.Minute || l.MemoryMiB != 512 || l.LogLines != 5 || l.ImageBytes != 1024 || l.Fuel != 1000000 {
		t.Errorf("Lucid.CLIP.Threshold: %+v", l)
	}
	if l.LogBytes != def.LogBytes || l.Module.MaxBytes != def.Module.MaxBytes {
		t.Error("unset fields did not inherit the defaults")
	}
	if !l.Grants("images") || l.Grants("kernels.basic") || !l.Grants("job") {
		t.Errorf("capabilities %v", l.Capabilities)
	}
	other := c.For("Other.Task")
	if time.Duration(other.Deadline) != 10*time.Minute || other.MemoryMiB != def.MemoryMiB || !other.Grants("kernels.basic") || other.Fuel != 0 {
		t.Errorf("Other.Task: %+v", other)
	}
	if l := c.For("Lucid.CLIPX"); l.MemoryMiB != 512 || time.Duration(l.Deadline) != 10*time.Minute {
		t.Errorf("Lucid.CLIPX matched Lucid.CLIP.*: %+v", l)
	}
}

func TestParseErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`{"default": {"deadline": "soon"}}`:                "soon",
		`{"default": {"memory_mib": -1}}`:                  "memory_mib must be positive",
		`{"default": {"memory_mib": 9000}}`:                "at most 4096",
		`{"default": {"fuel": -1}}`:                        "fuel",
		`{"default": {"capabilities": ["network"]}}`:       `unknown capability "network"`,
		`{"default": {}, "colour": 1}`:                     "unknown field",
		`{"task_types": {"Bad Name": {}}}`:                 "not a task type name",
		`{"task_types": {"X": {"log_bytes": -5}}}`:         "task_types[X].log_bytes",
		`{"max_concurrent_jobs": -2}`:                      "max_concurrent_jobs",
		`{} {}`:                                            "trailing data",
		`{"default": {"module": {"max_bytes": -1}}}`:       "module.max_bytes",
		`{"task_types": {"A.*": {"capabilities": ["x"]}}}`: `unknown capability "x"`,
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", doc, err, want)
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Every limit of the default policy is set.
	if _, err := Parse([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
}

func TestCheckShape(t *testing.T) {
	ml := ModuleLimits{MaxBytes: 100, MaxFunctions: 2, MaxTables: 1, MaxTableElements: 1000, MaxMemoryMinPages: 10, MaxImports: 1,
		MaxNesting: 100, MaxFunctionLocals: 10}
	m := &wasmfile.Module{
		FuncCount: 3,
		Tables:    []wasmfile.TableType{{Limits: wasmfile.Limits{Min: 1 << 27}}},
		Memories:  []wasmfile.Limits{{Min: 20}},
		Imports:   []wasmfile.Import{{Kind: wasmfile.ExternTable, Table: wasmfile.TableType{Limits: wasmfile.Limits{Min: 5}}}, {Kind: wasmfile.ExternFunc}},
	}
	err := ml.CheckShape(m, wasmfile.CodeShape{MaxNesting: 101, MaxLocals: 11}, 200)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"size in bytes 200 exceeds 100", "functions 4 exceeds 2", "tables 2 exceeds 1",
		"table 0 minimum size 134217728 exceeds 1000", "memory 0 minimum pages 20 exceeds 10", "imports 2 exceeds 1",
		"block nesting 101 exceeds 100", "locals of a function 11 exceeds 10"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	if err := ml.CheckShape(&wasmfile.Module{FuncCount: 1}, wasmfile.CodeShape{MaxNesting: 100, MaxLocals: 10}, 50); err != nil {
		t.Errorf("small module refused: %v", err)
	}
}
