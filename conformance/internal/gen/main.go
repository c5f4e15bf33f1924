// Command gen regenerates the guest of every conformance test,
// tests/<name>.wasm, from tests/<name>.json, and removes guests whose
// test is gone. Run it with `go generate ./conformance`.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xfhost/xfhost/conformance"
)

func main() {
	if err := generate("."); err != nil {
		fmt.Fprintln(os.Stderr, "conformance gen:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	tests, err := conformance.LoadTests(os.DirFS(dir))
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, t := range tests {
		wasm, err := t.Guest()
		if err != nil {
			return err
		}
		p := filepath.Join(dir, "tests", t.Name+".wasm")
		keep[p] = true
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, wasm) {
			continue
		}
		if err := os.WriteFile(p, wasm, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	stale, err := filepath.Glob(filepath.Join(dir, "tests", "*.wasm"))
	if err != nil {
		return err
	}
	for _, p := range stale {
		if !keep[p] {
			if err := os.Remove(p); err != nil {
				return err
			}
			fmt.Println("removed", p)
		}
	}
	return nil
}
