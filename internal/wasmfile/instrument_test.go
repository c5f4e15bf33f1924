package wasmfile

import (
	"bytes"
	"testing"
)

func TestAddEntryChecks(t *testing.T) {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, sec(1, 1, 0x60, 0, 1, 0x7f)...) // () -> i32
	m = append(m, sec(3, 2, 0, 0)...)
	// Body 0: one local group (2 x i32), local.get 0, end. Body 1: i32.const 7, end.
	m = append(m, sec(10, 2, 6, 1, 2, 0x7f, 0x20, 0x00, 0x0b, 4, 0, 0x41, 0x07, 0x0b)...)
	m = append(m, sec(0, append([]byte{4}, "test"...)...)...) // a custom section after the code
	out, err := AddEntryChecks(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{10, 19, 2, 9, 1, 2, 0x7f, 0x03, 0x40, 0x0b, 0x20, 0x00, 0x0b, 7, 0, 0x03, 0x40, 0x0b, 0x41, 0x07, 0x0b}
	if !bytes.Contains(out, want) {
		t.Errorf("code section not instrumented as expected:\n%x", out)
	}
	pm, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Customs) != 1 || pm.Customs[0].Name != "test" || pm.FuncCount != 2 {
		t.Errorf("module changed beyond its code: %+v", pm)
	}
	if _, err := AddEntryChecks([]byte("not wasm")); err == nil {
		t.Error("garbage accepted")
	}
	noCode := m[:8]
	if out, err := AddEntryChecks(noCode); err != nil || !bytes.Equal(out, noCode) {
		t.Errorf("module without code: %x, %v", out, err)
	}
}
