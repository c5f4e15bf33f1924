// Command abigen regenerates the files derived from abi/abi.json: status
// constants for the host, the Go guest bindings and the function table in
// abi/ABI.md. Run it with `go generate ./abi`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/abi/internal/gen"
)

func main() {
	root := flag.String("root", ".", "module root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "abigen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	spec, err := abi.Load()
	if err != nil {
		return err
	}
	files, err := gen.Files(spec)
	if err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	docPath := filepath.Join(root, "abi", "ABI.md")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	out, err := gen.SpliceDoc(string(doc), spec)
	if err != nil {
		return err
	}
	return os.WriteFile(docPath, []byte(out), 0o644)
}
