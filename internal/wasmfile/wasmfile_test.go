package wasmfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fullModule exercises every section Parse decodes, including all import
// descriptor kinds.
func fullModule() []byte {
	return module(
		custom("first", []byte("one")),
		section(SectionType, vec(
			functype([]ValType{I32, I32}, []ValType{I32}),
			functype(nil, nil),
			functype([]ValType{I64, F32, F64, V128, FuncRef, ExternRef}, nil),
		)),
		section(SectionImport, vec(
			importEntry("env", "add", ExternFunc, 0x00),
			importEntry("env", "tab", ExternTable, byte(FuncRef), 0x01, 0x01, 0x0a),
			importEntry("env", "mem", ExternMemory, 0x03, 0x01, 0x80, 0x01), // shared, min 1 max 128
			importEntry("env", "g", ExternGlobal, byte(I32), 0x01),
			importEntry("env", "h", ExternGlobal, byte(F64), 0x00),
			importEntry("env", "mem64", ExternMemory, 0x04, 0x02), // memory64, min 2
			importEntry("env", "exn", ExternTag, 0x00, 0x02),
		)),
		section(SectionFunction, vec(leb(1), leb(0))),
		section(SectionTable, vec([]byte{byte(ExternRef), 0x00, 0x05})),
		section(SectionMemory, vec([]byte{0x01, 0x01, 0x02})),
		section(SectionGlobal, vec([]byte{byte(I32), 0x00, 0x41, 0x00, 0x0b})), // i32 const 0
		section(SectionExport, vec(
			exportEntry("run", ExternFunc, 1),
			exportEntry("add", ExternFunc, 0),
			exportEntry("sum", ExternFunc, 2),
			exportEntry("memory", ExternMemory, 2),
			exportEntry("g", ExternGlobal, 2),
			exportEntry("tab", ExternTable, 1),
			exportEntry("exn", ExternTag, 0),
		)),
		section(SectionDataCount, leb(1)),
		section(SectionCode, vec(emptyBody, cat(leb(5), []byte{0x00, 0x41, 0x00, 0x0b, 0x0b}))),
		section(SectionData, vec([]byte{0x01, 0x02, 'h', 'i'})),
		custom("second", []byte{}),
	)
}

func TestParseFullModule(t *testing.T) {
	m, err := Parse(fullModule())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.Types), 3; got != want {
		t.Fatalf("types: got %d, want %d", got, want)
	}
	if got, want := m.Types[0].String(), "(i32, i32) -> (i32)"; got != want {
		t.Errorf("type 0: got %q, want %q", got, want)
	}
	if got, want := m.Types[2].String(), "(i64, f32, f64, v128, funcref, externref) -> ()"; got != want {
		t.Errorf("type 2: got %q, want %q", got, want)
	}

	wantImports := []Import{
		{Module: "env", Name: "add", Kind: ExternFunc, TypeIndex: 0, Type: m.Types[0]},
		{Module: "env", Name: "tab", Kind: ExternTable, Table: TableType{ElemType: FuncRef, Limits: Limits{Min: 1, Max: 10, HasMax: true}}},
		{Module: "env", Name: "mem", Kind: ExternMemory, Memory: Limits{Min: 1, Max: 128, HasMax: true, Shared: true}},
		{Module: "env", Name: "g", Kind: ExternGlobal, Global: GlobalType{Type: I32, Mutable: true}},
		{Module: "env", Name: "h", Kind: ExternGlobal, Global: GlobalType{Type: F64}},
		{Module: "env", Name: "mem64", Kind: ExternMemory, Memory: Limits{Min: 2, Is64: true}},
		{Module: "env", Name: "exn", Kind: ExternTag, TypeIndex: 2, Type: m.Types[2]},
	}
	if !reflect.DeepEqual(m.Imports, wantImports) {
		t.Errorf("imports:\n got %+v\nwant %+v", m.Imports, wantImports)
	}

	wantExports := []Export{
		{Name: "run", Kind: ExternFunc, Index: 1, Type: m.Types[1]},
		{Name: "add", Kind: ExternFunc, Index: 0, Type: m.Types[0]},
		{Name: "sum", Kind: ExternFunc, Index: 2, Type: m.Types[0]},
		{Name: "memory", Kind: ExternMemory, Index: 2},
		{Name: "g", Kind: ExternGlobal, Index: 2},
		{Name: "tab", Kind: ExternTable, Index: 1},
		{Name: "exn", Kind: ExternTag, Index: 0},
	}
	if !reflect.DeepEqual(m.Exports, wantExports) {
		t.Errorf("exports:\n got %+v\nwant %+v", m.Exports, wantExports)
	}

	counts := []struct {
		name      string
		got, want uint32
	}{
		{"FuncCount", m.FuncCount, 2},
		{"TableCount", m.TableCount, 1},
		{"MemoryCount", m.MemoryCount, 1},
		{"GlobalCount", m.GlobalCount, 1},
		{"DataCount", m.DataCount, 1},
		{"imported funcs", m.ImportCount(ExternFunc), 1},
		{"imported memories", m.ImportCount(ExternMemory), 2},
		{"imported globals", m.ImportCount(ExternGlobal), 2},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if want := []uint32{1, 0}; !reflect.DeepEqual(m.FuncTypes, want) {
		t.Errorf("FuncTypes: got %v, want %v", m.FuncTypes, want)
	}
	if want := []TableType{{ElemType: ExternRef, Limits: Limits{Min: 5}}}; !reflect.DeepEqual(m.Tables, want) {
		t.Errorf("Tables: got %+v, want %+v", m.Tables, want)
	}
	if want := []Limits{{Min: 1, Max: 2, HasMax: true}}; !reflect.DeepEqual(m.Memories, want) {
		t.Errorf("Memories: got %+v, want %+v", m.Memories, want)
	}
	wantCustoms := []CustomSection{{Name: "first", Data: []byte("one")}, {Name: "second", Data: []byte{}}}
	if !reflect.DeepEqual(m.Customs, wantCustoms) {
		t.Errorf("Customs: got %+v, want %+v", m.Customs, wantCustoms)
	}

	var ids []SectionID
	for _, s := range m.Sections {
		ids = append(ids, s.ID)
	}
	wantIDs := []SectionID{SectionCustom, SectionType, SectionImport, SectionFunction, SectionTable, SectionMemory,
		SectionGlobal, SectionExport, SectionDataCount, SectionCode, SectionData, SectionCustom}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("section order: got %v, want %v", ids, wantIDs)
	}
	first := m.Sections[0]
	if first.Name != "first" || first.Offset != 10 || first.Size != 9 {
		t.Errorf("first section: got %+v, want name \"first\" at offset 10 with size 9", first)
	}

	if e, ok := m.Export("sum"); !ok || e.Index != 2 {
		t.Errorf("Export(sum) = %+v, %v", e, ok)
	}
	if _, ok := m.Export("nope"); ok {
		t.Error("Export(nope) found")
	}
	if imp, ok := m.Import("env", "mem"); !ok || imp.Kind != ExternMemory {
		t.Errorf("Import(env, mem) = %+v, %v", imp, ok)
	}
	if got := m.CustomSections("second"); len(got) != 1 {
		t.Errorf("CustomSections(second): got %d sections", len(got))
	}
}

func TestParseCopiesCustomData(t *testing.T) {
	b := module(custom("c", []byte("abc")))
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 'X'
	if got := string(m.Customs[0].Data); got != "abc" {
		t.Errorf("custom data changed with input: %q", got)
	}
}

func TestParseEmptyModule(t *testing.T) {
	m, err := Parse(module())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sections) != 0 || len(m.Exports) != 0 {
		t.Errorf("empty module decoded as %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	typeSec := section(SectionType, vec(functype(nil, nil)))
	tests := []struct {
		name    string
		in      []byte
		section string // expected ParseError.Section
		offset  int    // expected ParseError.Offset, or -1 to skip
		want    string // substring of the message
	}{
		{"empty input", nil, "", 0, "not a WebAssembly module"},
		{"bad magic", []byte("\x7fELF\x01\x00\x00\x00"), "", 0, "not a WebAssembly module"},
		{"truncated version", []byte{0, 'a', 's', 'm', 1}, "", 4, "version missing"},
		{"component version", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, "", 4, "unsupported binary format version"},
		{"section size beyond end", module([]byte{1, 10, 0}), "", 8, "type section size 10 exceeds the 1 remaining bytes"},
		{"section header truncated", module([]byte{1}), "", 9, "unexpected end of module"},
		{"size leb too long", module([]byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), "", 9, "integer representation too long"},
		{"size leb too large", module([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x1f}), "", 9, "integer too large for 32 bits"},
		{"unknown section id", module(section(14)), "", 8, "unknown section id 14"},
		{"duplicate section", module(typeSec, typeSec), "type", 8 + len(typeSec), "duplicate type section"},
		{"sections out of order", module(section(SectionExport, vec()), section(SectionImport, vec())), "import", 11, "import section must not follow the export section"},
		{"datacount after code is misplaced", module(section(SectionCode, vec()), section(SectionDataCount, leb(0))), "datacount", 11, "must not follow the code section"},
		{"unused bytes", module(section(SectionType, vec(), []byte{0})), "type", 11, "1 unused bytes"},
		{"count exceeds section", module(section(SectionType, leb(1000))), "type", 10, "type count 1000 exceeds the 0 remaining bytes"},
		{"huge count", module(section(SectionImport, leb(0xffffffff))), "import", 10, "import count 4294967295 exceeds"},
		{"not a func type", module(section(SectionType, vec([]byte{0x5f, 0, 0}))), "type", 11, "expected function type (0x60), got 0x5f"},
		{"bad value type", module(section(SectionType, vec([]byte{0x60, 1, 0x40, 0}))), "type", 13, "invalid value type 0x40"},
		{"type truncated", module(section(SectionType, vec([]byte{0x60, 1}))), "type", 12, "value type count 1 exceeds the 0 remaining bytes"},
		{"custom name truncated", module(section(SectionCustom, leb(5), []byte("ab"))), "custom", 11, "unexpected end of section"},
		{"custom name not utf8", module(section(SectionCustom, str("\xff"))), "custom", 10, "not valid UTF-8"},
		{"empty custom section", module(section(SectionCustom)), "custom", 10, "unexpected end of section"},
		{"import name not utf8", module(section(SectionImport, vec(importEntry("\xc3", "f", ExternFunc, 0)))), "import", 11, "not valid UTF-8"},
		{"import bad kind", module(section(SectionImport, vec(importEntry("m", "f", 7)))), "import", 15, "invalid import kind 0x07"},
		{"import type index out of range", module(typeSec, section(SectionImport, vec(importEntry("m", "f", ExternFunc, 1)))), "import", -1, "type index 1 out of range (module has 1 types)"},
		{"table import of i32", module(section(SectionImport, vec(importEntry("m", "t", ExternTable, byte(I32), 0, 0)))), "import", 16, "table element type must be a reference type, got i32"},
		{"limits bad flags", module(section(SectionImport, vec(importEntry("m", "mem", ExternMemory, 0x08, 0)))), "import", 18, "invalid limits flags 0x08"},
		{"limits max below min", module(section(SectionImport, vec(importEntry("m", "mem", ExternMemory, 0x01, 5, 4)))), "import", 18, "maximum 4 is below minimum 5"},
		{"shared without max", module(section(SectionImport, vec(importEntry("m", "mem", ExternMemory, 0x02, 1)))), "import", 18, "shared limits must have a maximum"},
		{"memory32 min too large", module(section(SectionMemory, vec([]byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x10}))), "memory", 12, "integer too large for 32 bits"},
		{"global bad mutability", module(section(SectionImport, vec(importEntry("m", "g", ExternGlobal, byte(I32), 2)))), "import", 17, "invalid global mutability 0x02"},
		{"tag bad attribute", module(typeSec, section(SectionImport, vec(importEntry("m", "e", ExternTag, 1, 0)))), "import", -1, "invalid tag attribute 0x01"},
		{"function type index out of range", module(typeSec, section(SectionFunction, vec(leb(3))), section(SectionCode, vec(emptyBody))), "function", -1, "type index 3 out of range"},
		{"functions without code", module(typeSec, section(SectionFunction, vec(leb(0)))), "code", -1, "declares 1 functions but the code section is missing"},
		{"code count mismatch", module(typeSec, section(SectionFunction, vec(leb(0))), section(SectionCode, vec())), "code", -1, "code section has 0 function bodies but the function section declares 1"},
		{"export func out of range", module(section(SectionExport, vec(exportEntry("f", ExternFunc, 0)))), "export", 14, `export "f": func index 0 out of range (module has 0)`},
		{"export memory out of range", module(section(SectionMemory, vec([]byte{0, 1})), section(SectionExport, vec(exportEntry("m", ExternMemory, 1)))), "export", -1, "memory index 1 out of range (module has 1)"},
		{"export bad kind", module(section(SectionExport, vec(exportEntry("x", 9, 0)))), "export", 13, `export "x": invalid export kind 0x09`},
		{"duplicate export", module(typeSec, section(SectionFunction, vec(leb(0))), section(SectionExport, vec(exportEntry("f", ExternFunc, 0), exportEntry("f", ExternFunc, 0))), section(SectionCode, vec(emptyBody))), "export", -1, `duplicate export name "f"`},
		{"data count mismatch", module(section(SectionDataCount, leb(2)), section(SectionData, vec([]byte{1, 0}))), "data", -1, "data section has 1 segments but the data count section says 2"},
		{"data count without data", module(section(SectionDataCount, leb(2))), "datacount", 10, "data section is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", m)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if pe.Section != tt.section {
				t.Errorf("section: got %q, want %q (error %q)", pe.Section, tt.section, err)
			}
			if tt.offset >= 0 && pe.Offset != tt.offset {
				t.Errorf("offset: got 0x%x, want 0x%x (error %q)", pe.Offset, tt.offset, err)
			}
			if tt.section != "" && !strings.Contains(err.Error(), tt.section+" section") {
				t.Errorf("error %q does not name the %s section", err, tt.section)
			}
		})
	}
}

func TestParseNotWasmIsDetectable(t *testing.T) {
	_, err := Parse([]byte("#!/bin/sh\n"))
	if !errors.Is(err, ErrNotWasm) {
		t.Fatalf("got %v, want ErrNotWasm", err)
	}
	_, err = Parse(module(section(14)))
	if errors.Is(err, ErrNotWasm) {
		t.Fatalf("malformed wasm reported as not wasm: %v", err)
	}
}

// Every truncation of a valid module must fail cleanly (or, at a section
// boundary, may succeed) without panicking.
func TestParseTruncated(t *testing.T) {
	full := fullModule()
	for n := 0; n < len(full); n++ {
		_, err := Parse(full[:n])
		if err == nil {
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("prefix %d: error %v is not a *ParseError", n, err)
		}
		if pe.Offset < 0 || pe.Offset > n {
			t.Errorf("prefix %d: offset %d outside input", n, pe.Offset)
		}
	}
}

func TestValTypeString(t *testing.T) {
	tests := map[ValType]string{
		I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
		FuncRef: "funcref", ExternRef: "externref", 0x40: "valtype(0x40)",
	}
	for vt, want := range tests {
		if got := vt.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", byte(vt), got, want)
		}
	}
	if got := (FuncType{}).String(); got != "() -> ()" {
		t.Errorf("empty FuncType: %q", got)
	}
	if got := ExternMemory.String(); got != "memory" {
		t.Errorf("ExternMemory: %q", got)
	}
	if got := SectionDataCount.String(); got != "datacount" {
		t.Errorf("SectionDataCount: %q", got)
	}
}

func TestFuncTypeEqual(t *testing.T) {
	a := FuncType{Params: []ValType{I32}, Results: []ValType{I64}}
	tests := []struct {
		b    FuncType
		want bool
	}{
		{FuncType{Params: []ValType{I32}, Results: []ValType{I64}}, true},
		{FuncType{Params: []ValType{I32}}, false},
		{FuncType{Params: []ValType{I64}, Results: []ValType{I64}}, false},
		{FuncType{Results: []ValType{I32, I64}}, false},
	}
	for _, tt := range tests {
		if got := a.Equal(tt.b); got != tt.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", a, tt.b, got, tt.want)
		}
	}
}

func TestSetCustomSection(t *testing.T) {
	base := module(
		custom("keep", []byte("k1")),
		custom("meta", []byte("old1")),
		section(SectionType, vec(functype(nil, nil))),
		custom("meta", []byte("old2")),
		section(SectionFunction, vec(leb(0))),
		section(SectionCode, vec(emptyBody)),
		custom("keep2", nil),
	)
	out, err := SetCustomSection(base, "meta", []byte(`{"new":true}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(out)
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	var names []string
	for _, c := range m.Customs {
		names = append(names, c.Name)
	}
	if want := []string{"keep", "keep2", "meta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("custom sections: got %v, want %v", names, want)
	}
	if got := m.CustomSections("meta"); len(got) != 1 || string(got[0].Data) != `{"new":true}` {
		t.Errorf("meta sections: %+v", got)
	}
	if last := m.Sections[len(m.Sections)-1]; last.Name != "meta" {
		t.Errorf("new section is not last: %+v", last)
	}
	if m.FuncCount != 1 {
		t.Errorf("FuncCount after rewrite: %d", m.FuncCount)
	}

	// Setting again is idempotent in shape: still exactly one section.
	again, err := SetCustomSection(out, "meta", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Parse(again)
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.CustomSections("meta"); len(got) != 1 || string(got[0].Data) != "x" {
		t.Errorf("after second set: %+v", got)
	}
	// The input must not be modified.
	if !bytes.Equal(base, module(
		custom("keep", []byte("k1")),
		custom("meta", []byte("old1")),
		section(SectionType, vec(functype(nil, nil))),
		custom("meta", []byte("old2")),
		section(SectionFunction, vec(leb(0))),
		section(SectionCode, vec(emptyBody)),
		custom("keep2", nil),
	)) {
		t.Error("SetCustomSection modified its input")
	}
}

func TestSetCustomSectionLargePayload(t *testing.T) {
	data := bytes.Repeat([]byte{'z'}, 300) // section size needs a two-byte LEB128
	out, err := SetCustomSection(module(), "big", data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.CustomSections("big"); len(got) != 1 || !bytes.Equal(got[0].Data, data) {
		t.Errorf("big section not round-tripped")
	}
}

func TestSetCustomSectionErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		sec  string
		want string
	}{
		{"not wasm", []byte("hello world"), "x", "not a WebAssembly module"},
		{"bad framing", module([]byte{1, 50}), "x", "exceeds"},
		{"invalid name", module(), "\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SetCustomSection(tt.in, tt.sec, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseGoWasip1Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	wasm := buildGoWasip1(t)
	m, err := Parse(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var wasi int
	for _, imp := range m.Imports {
		if imp.Module == "wasi_snapshot_preview1" {
			wasi++
		}
	}
	if wasi == 0 {
		t.Error("no imports from wasi_snapshot_preview1")
	}
	if imp, ok := m.Import("wasi_snapshot_preview1", "fd_write"); !ok || imp.Type.String() != "(i32, i32, i32, i32) -> (i32)" {
		t.Errorf("fd_write import: %+v, %v", imp, ok)
	}
	start, ok := m.Export("_start")
	if !ok || start.Kind != ExternFunc || start.Type.String() != "() -> ()" {
		t.Errorf("_start export: %+v, %v", start, ok)
	}
	mem, ok := m.Export("memory")
	if !ok || mem.Kind != ExternMemory {
		t.Errorf("memory export: %+v, %v", mem, ok)
	}
	if m.FuncCount == 0 || m.MemoryCount != 1 || m.GlobalCount == 0 {
		t.Errorf("implausible counts: funcs %d memories %d globals %d", m.FuncCount, m.MemoryCount, m.GlobalCount)
	}

	out, err := SetCustomSection(wasm, "xf.test", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.CustomSections("xf.test"); len(got) != 1 || string(got[0].Data) != "payload" {
		t.Errorf("custom section after rewrite: %+v", got)
	}
	if len(m2.Exports) != len(m.Exports) || m2.FuncCount != m.FuncCount {
		t.Error("rewrite changed the module structure")
	}
}

// buildGoWasip1 compiles a trivial Go program for wasip1 and returns the
// binary, skipping the test if the toolchain cannot do it.
func buildGoWasip1(t *testing.T) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/guest\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command(goBin, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build a wasip1 binary: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
