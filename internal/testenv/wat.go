package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// WantWasmBuiltFromWat rebuilds every .wat file matching pattern with
// wabt's wat2wasm and fails the test for each whose committed .wasm next
// to it differs, so that the two cannot drift apart. It skips the test
// where wat2wasm is not installed (Debian: apt-get install wabt).
func WantWasmBuiltFromWat(t *testing.T, pattern string) {
	t.Helper()
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not on PATH (Debian: apt-get install wabt)")
	}
	wats, err := filepath.Glob(pattern)
	if err != nil || len(wats) == 0 {
		t.Fatalf("no .wat files match %s: %v", pattern, err)
	}
	for _, wat := range wats {
		committed := strings.TrimSuffix(wat, ".wat") + ".wasm"
		built := filepath.Join(t.TempDir(), "out.wasm")
		if msg, err := exec.Command(wat2wasm, wat, "-o", built).CombinedOutput(); err != nil {
			t.Errorf("wat2wasm %s: %v\n%s", wat, err, msg)
			continue
		}
		want, err1 := os.ReadFile(built)
		got, err2 := os.ReadFile(committed)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %v %v", wat, err1, err2)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: rebuild it with wat2wasm %s -o %s", committed, wat, committed)
		}
	}
}
