package wasip1_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wasip1"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/guestfs"
)

// The differential tests run each guest twice on wazero's interpreter
// (which starts a Go guest in well under a second; the compiler would take
// ten): once with wazero's own WASI, configured as engine/wazeroengine
// configures it, and once with this package registered as an ordinary
// host module by wazeroengine.InstantiateHostModule, as the engine
// registers it. Everything a guest can observe must come out the same.

// runtimes holds the two wazero runtimes, created once per test binary.
type runtimes struct {
	reference wazero.Runtime // wazero's own WASI
	portable  wazero.Runtime // this package's
}

var (
	runtimesOnce sync.Once
	sharedRT     *runtimes
	runtimesErr  error
)

func getRuntimes(t *testing.T) *runtimes {
	t.Helper()
	runtimesOnce.Do(func() {
		ctx := context.Background()
		cfg := wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true)
		ref := wazero.NewRuntimeWithConfig(ctx, cfg)
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, ref); err != nil {
			runtimesErr = err
			return
		}
		port := wazero.NewRuntimeWithConfig(ctx, cfg)
		if err := wazeroengine.InstantiateHostModule(ctx, port, wasip1.Module()); err != nil {
			runtimesErr = err
			return
		}
		sharedRT = &runtimes{reference: ref, portable: port}
	})
	if runtimesErr != nil {
		t.Fatal(runtimesErr)
	}
	return sharedRT
}

// outcome is everything observable about one run.
type outcome struct {
	stdout, stderr string
	exitCode       uint32
	err            error // a failure other than an exit
	scratch        string
}

// runSpec describes a run: /inputs is inputsFS, /scratch a new host
// directory prepared by setup.
type runSpec struct {
	args      []string
	quota     int64
	setup     func(t *testing.T, scratch string)
	ctx       context.Context
	portable  bool
	nanosleep bool // give the reference a real sleep (wazeroengine does not)
}

func (r *runtimes) run(t *testing.T, compiled map[bool]wazero.CompiledModule, spec runSpec) outcome {
	t.Helper()
	ctx := spec.ctx
	if ctx == nil {
		ctx = t.Context()
	}
	scratch := filepath.Join(t.TempDir(), "scratch")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	if spec.setup != nil {
		spec.setup(t, scratch)
	}
	var stdout, stderr bytes.Buffer
	rc := engine.RunConfig{
		Args:   spec.args,
		Stdout: &stdout,
		Stderr: &stderr,
		Mounts: []engine.Mount{
			{GuestPath: "/inputs", FS: inputsFS()},
			{GuestPath: "/scratch", HostDir: scratch, QuotaBytes: spec.quota},
		},
	}
	var err error
	if spec.portable {
		err = runPortable(ctx, r.portable, compiled[true], rc)
	} else {
		err = runReference(ctx, r.reference, compiled[false], rc, spec.nanosleep)
	}
	out := outcome{stdout: stdout.String(), stderr: stderr.String(), scratch: snapshot(t, scratch)}
	var exit *sys.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		out.exitCode = exit.ExitCode()
	default:
		out.err = err
	}
	return out
}

// runReference mirrors engine/wazeroengine's module configuration.
func runReference(ctx context.Context, r wazero.Runtime, compiled wazero.CompiledModule, rc engine.RunConfig, nanosleep bool) error {
	fsc := wazero.NewFSConfig()
	for _, m := range rc.Mounts {
		switch {
		case m.FS != nil:
			fsc = fsc.WithFSMount(m.FS, m.GuestPath)
		default:
			root, err := os.OpenRoot(m.HostDir)
			if err != nil {
				return err
			}
			defer root.Close()
			fsc = fsc.(sysfs.FSConfig).WithSysFSMount(guestfs.New(root, guestfs.Options{ReadOnly: m.ReadOnly, QuotaBytes: m.QuotaBytes}), m.GuestPath)
		}
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(rc.Args...).
		WithStdin(eofReader{}).
		WithStdout(rc.Stdout).
		WithStderr(rc.Stderr).
		WithFSConfig(fsc).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithStartFunctions("_start")
	if nanosleep {
		mc = mc.WithSysNanosleep()
	}
	mod, err := r.InstantiateModule(ctx, compiled, mc)
	if mod != nil {
		mod.Close(context.WithoutCancel(ctx))
	}
	return err
}

// runPortable is how an engine uses this package.
func runPortable(ctx context.Context, r wazero.Runtime, compiled wazero.CompiledModule, rc engine.RunConfig) (err error) {
	in, err := wasip1.NewInstance(rc)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := in.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	mod, err := r.InstantiateModule(wasip1.WithInstance(ctx, in), compiled,
		wazero.NewModuleConfig().WithName("").WithStartFunctions("_start"))
	if mod != nil {
		mod.Close(context.WithoutCancel(ctx))
	}
	return err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func inputsFS() fs.FS {
	return fstest.MapFS{
		"data.txt":       {Data: []byte("input data\n"), Mode: 0o444},
		"sub/nested.bin": {Data: bytes.Repeat([]byte{1, 2, 3}, 1000), Mode: 0o444},
	}
}

// snapshot describes a host tree: every entry with its type, and the size
// and hash of files or the target of links.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			lines = append(lines, fmt.Sprintf("%s -> %s", rel, target))
		case d.IsDir():
			lines = append(lines, rel+"/")
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%s %d %x", rel, len(data), sha256.Sum256(data)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// compileBoth compiles wasm on both runtimes.
func (r *runtimes) compileBoth(t *testing.T, wasm []byte) map[bool]wazero.CompiledModule {
	t.Helper()
	ctx := context.Background()
	out := map[bool]wazero.CompiledModule{}
	for portable, rt := range map[bool]wazero.Runtime{false: r.reference, true: r.portable} {
		c, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("compile guest: %v", err)
		}
		out[portable] = c
	}
	return out
}

var (
	goGuestOnce sync.Once
	goGuest     []byte
	goGuestErr  error
)

// buildGoGuest compiles testdata/goguest once per test binary.
func buildGoGuest(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	goGuestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wasip1-goguest")
		if err != nil {
			goGuestErr = err
			return
		}
		defer os.RemoveAll(dir)
		abs, _ := filepath.Abs(filepath.Join("testdata", "goguest"))
		goGuest, goGuestErr = guestbuild.Package(context.Background(), dir, abs)
	})
	if goGuestErr != nil {
		t.Fatal(goGuestErr)
	}
	return goGuest
}
