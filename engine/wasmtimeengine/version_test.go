//go:build cgo

package wasmtimeengine

import (
	"os"
	"regexp"
	"testing"
)

// TestWasmtimeVersion keeps the version that names the cache directory in
// step with the wasmtime-go that go.mod requires.
func TestWasmtimeVersion(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/bytecodealliance/wasmtime-go/v\d+ v(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod requires no wasmtime-go")
	}
	if string(m[1]) != wasmtimeVersion {
		t.Errorf("go.mod requires wasmtime-go v%s, but wasmtimeVersion is %s", m[1], wasmtimeVersion)
	}
}
