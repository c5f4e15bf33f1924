//go:build cgo

package wasmtimeengine

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtimeVersion is the version of wasmtime-go (and so of wasmtime) this
// package is built with; TestWasmtimeVersion keeps it in step with go.mod.
// It names the cache directory, so that binaries of different versions
// sharing a directory do not keep replacing each other's files.
const wasmtimeVersion = "39.0.1"

func versionDir(cacheDir string) string {
	return filepath.Join(cacheDir, "wasmtime-"+wasmtimeVersion)
}

func prepareCacheDir(cacheDir string) error {
	if err := os.MkdirAll(versionDir(cacheDir), 0o700); err != nil {
		return fmt.Errorf("wasmtime: compilation cache %s: %w", cacheDir, err)
	}
	return nil
}

// cachePath is the file of ent's code for flavor f.
func (e *Engine) cachePath(ent *entry, f *flavor) string {
	return filepath.Join(versionDir(e.cacheDir), hex.EncodeToString(ent.key[:])+"-"+f.name+".cwasm")
}

// loadCached loads ent's code for flavor f from the cache directory, or
// compiles it and stores it there. A file wasmtime refuses (damaged, or
// written with other settings) is replaced. Failing to store the code only
// costs a compilation next time, so it does not fail the compile.
func (e *Engine) loadCached(ent *entry, f *flavor) (*wasmtime.Module, error) {
	path := e.cachePath(ent, f)
	if _, err := os.Stat(path); err == nil {
		if mod, err := wasmtime.NewModuleDeserializeFile(f.engine, path); err == nil {
			return mod, nil
		}
	}
	mod, err := compile(f, ent.wasm)
	if err != nil {
		return nil, err
	}
	if code, err := mod.Serialize(); err == nil {
		_ = writeFileAtomic(path, code)
	}
	return mod, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that readers (other processes included) see either no file
// or all of it.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return nil
}
