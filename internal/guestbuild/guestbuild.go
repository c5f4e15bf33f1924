// Package guestbuild compiles the Go guests of this repository into task
// modules for tests and benchmarks, the same way the Makefile does: go
// build for wasip1, then embed metadata.json and interface.json.
package guestbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/xfhost/xfhost/taskmodule"
)

// ModuleRoot finds the module root from the caller's working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("guestbuild: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Go builds the Go guest in guests/go/<name> and returns the task module.
// Packages without metadata.json are returned unpacked (test guests that
// are deliberately incomplete).
func Go(ctx context.Context, outDir, name string) ([]byte, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	return Package(ctx, outDir, filepath.Join(root, "guests", "go", name))
}

// Package builds the Go guest package in dir.
func Package(ctx context.Context, outDir, dir string) ([]byte, error) {
	out := filepath.Join(outDir, filepath.Base(dir)+".wasm")
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("guestbuild: %w", err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOEXPERIMENT=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("guestbuild: go build %s: %v\n%s", dir, err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	meta, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if os.IsNotExist(err) {
		return wasm, nil
	} else if err != nil {
		return nil, err
	}
	iface, err := os.ReadFile(filepath.Join(dir, "interface.json"))
	if err != nil {
		return nil, err
	}
	return taskmodule.Pack(wasm, meta, iface)
}
