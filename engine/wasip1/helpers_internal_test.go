package wasip1

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/xfhost/xfhost/engine"
)

// The internal tests call the host functions as an engine would, on a
// plain byte slice standing in for guest memory.

// sliceMemory is guest memory for the tests.
type sliceMemory []byte

func (m sliceMemory) Read(off, n uint32) ([]byte, bool) {
	end := uint64(off) + uint64(n)
	if end > uint64(len(m)) {
		return nil, false
	}
	return m[off:end:end], true
}

func (m sliceMemory) Write(off uint32, b []byte) bool {
	dst, ok := m.Read(off, uint32(len(b)))
	if ok {
		copy(dst, b)
	}
	return ok
}

func (m sliceMemory) u32(off uint32) uint32 { return le.Uint32(m[off:]) }
func (m sliceMemory) u64(off uint32) uint64 { return le.Uint64(m[off:]) }

// putString stores s at off and returns its pointer and length as
// parameters.
func (m sliceMemory) putString(off uint32, s string) (uint64, uint64) {
	copy(m[off:], s)
	return uint64(off), uint64(len(s))
}

var functions = func() map[string]engine.HostFunction {
	out := map[string]engine.HostFunction{}
	for _, f := range Module().Functions {
		out[f.Name] = f
	}
	return out
}()

// call invokes the named function with params and returns its errno; a
// call that ends the guest fails the test.
func call(t testing.TB, ctx context.Context, mem engine.Memory, name string, params ...uint64) errno {
	t.Helper()
	f, ok := functions[name]
	if !ok {
		t.Fatalf("no function %s", name)
	}
	if len(params) != len(f.Params) {
		t.Fatalf("%s takes %d parameters, got %d", name, len(f.Params), len(params))
	}
	stack := make([]uint64, max(len(params), len(f.Results)))
	copy(stack, params)
	if exit, code := f.Func(ctx, mem, stack); exit {
		t.Fatalf("%s ended the guest with code %d", name, code)
	}
	return errno(stack[0])
}

// testEnv is an instance with /inputs (fd 3, read-only) and /scratch (fd 4)
// mounted, and its scratch directory on the host.
type testEnv struct {
	in      *Instance
	ctx     context.Context
	mem     sliceMemory
	scratch string
}

const (
	fdInputs  = 3
	fdScratch = 4
)

func newEnv(t testing.TB, quota int64) *testEnv {
	t.Helper()
	scratch := t.TempDir()
	in, err := NewInstance(engine.RunConfig{
		Args: []string{"guest", "arg"},
		Mounts: []engine.Mount{
			{GuestPath: "/inputs", FS: fstest.MapFS{"data.txt": {Data: []byte("input data")}}},
			{GuestPath: "/scratch", HostDir: scratch, QuotaBytes: quota},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.Close(); err != nil {
			t.Errorf("close instance: %v", err)
		}
	})
	return &testEnv{in: in, ctx: WithInstance(context.Background(), in), mem: make(sliceMemory, 1<<16), scratch: scratch}
}

func (e *testEnv) call(t testing.TB, name string, params ...uint64) errno {
	t.Helper()
	return call(t, e.ctx, e.mem, name, params...)
}

// open opens path under scratch with path_open and returns the descriptor.
func (e *testEnv) open(t testing.TB, path string, oflags uint16, rights uint64) (uint32, errno) {
	t.Helper()
	p, n := e.mem.putString(1024, path)
	en := e.call(t, "path_open", fdScratch, lookupSymlinkFollow, p, n, uint64(oflags), rights, 0, 0, 2048)
	return e.mem.u32(2048), en
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
