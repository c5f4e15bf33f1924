package guestfs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/xfhost/xfhost/internal/guestfs"
)

// buildGuest compiles testdata/guest for wasip1, skipping the test when no
// Go toolchain able to do so is around.
func buildGuest(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a WebAssembly guest")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the guest: %v", err)
	}
	out := filepath.Join(t.TempDir(), "guest.wasm")
	cmd := exec.Command(goTool, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the wasip1 guest: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// guestRunner runs the compiled guest with a file system mounted at /scratch.
type guestRunner struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

func newGuestRunner(t *testing.T) *guestRunner {
	wasm := buildGuest(t)
	ctx := context.Background()
	// The interpreter starts this short-lived guest in well under a second;
	// compiling its 3 MB of Go runtime takes over ten, and a compilation
	// cache in a per-test temp dir would never be reused.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile guest: %v", err)
	}
	return &guestRunner{rt: rt, compiled: compiled}
}

// run executes one guest command and returns the line it printed.
func (g *guestRunner) run(t *testing.T, fsys experimentalsys.FS, args ...string) string {
	t.Helper()
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so the module can be instantiated repeatedly
		WithArgs(append([]string{"guest"}, args...)...).
		WithStdout(&stdout).
		WithStderr(&stderr).
		WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(fsys, "/scratch"))
	mod, err := g.rt.InstantiateModule(ctx, g.compiled, cfg)
	if mod != nil {
		mod.Close(ctx)
	}
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		t.Fatalf("guest %v: %v\nstderr: %s", args, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func TestGuestProgram(t *testing.T) {
	g := newGuestRunner(t)

	base := t.TempDir()
	scratch := filepath.Join(base, "scratch")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(scratch, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "outside secret"
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scratch, "in.txt"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing the guest prints may contain outside content.
	forbidden := []string{secret}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil {
		if first, _, _ := strings.Cut(string(passwd), "\n"); first != "" {
			forbidden = append(forbidden, first)
		}
	}
	for target, link := range map[string]string{
		"/etc/passwd":                    "passwd_link",
		filepath.Join(outside, "secret"): "abs_link",
		"../outside/secret":              "rel_link",
		"../outside":                     "dir_link",
		"in.txt":                         "in_link",
	} {
		if err := os.Symlink(target, filepath.Join(scratch, link)); err != nil {
			t.Skipf("cannot create symlinks: %v", err)
		}
	}
	root, err := os.OpenRoot(scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rw := guestfs.New(root, guestfs.Options{})
	ro := guestfs.New(root, guestfs.Options{ReadOnly: true})

	t.Run("write lands on host", func(t *testing.T) {
		if out := g.run(t, rw, "write", "/scratch/sub/out.txt", "from guest"); out != "ok" {
			t.Fatalf("guest said %q", out)
		}
		got, err := os.ReadFile(filepath.Join(scratch, "sub", "out.txt"))
		if err != nil || string(got) != "from guest" {
			t.Errorf("host file = %q, %v", got, err)
		}
	})
	t.Run("read host file", func(t *testing.T) {
		if out := g.run(t, rw, "read", "/scratch/in.txt"); out != "ok: from host" {
			t.Errorf("guest said %q", out)
		}
		if out := g.run(t, rw, "read", "/scratch/in_link"); out != "ok: from host" {
			t.Errorf("read through inside link: guest said %q", out)
		}
	})
	t.Run("list", func(t *testing.T) {
		out := g.run(t, rw, "list", "/scratch")
		for _, name := range []string{"in.txt", "sub/", "abs_link", "rel_link"} {
			if !strings.Contains(" "+strings.TrimPrefix(out, "ok: ")+" ", " "+name+" ") {
				t.Errorf("listing %q lacks %q", out, name)
			}
		}
	})
	t.Run("mkdir rename remove", func(t *testing.T) {
		for _, args := range [][]string{
			{"mkdir", "/scratch/made"},
			{"write", "/scratch/made/a", "x"},
			{"rename", "/scratch/made/a", "/scratch/made/b"},
			{"remove", "/scratch/made/b"},
			{"remove", "/scratch/made"},
		} {
			if out := g.run(t, rw, args...); out != "ok" {
				t.Errorf("%v: guest said %q", args, out)
			}
		}
		if _, err := os.Lstat(filepath.Join(scratch, "made")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("made still exists: %v", err)
		}
	})
	t.Run("escapes fail", func(t *testing.T) {
		for _, args := range [][]string{
			// Go cleans this to /etc/passwd, outside every mount; wazero
			// would refuse a raw ".." itself. The FS-level ".." checks are
			// in the unit tests.
			{"read", "/scratch/../etc/passwd"},
			{"read", "/scratch/passwd_link"},
			{"read", "/scratch/abs_link"},
			{"read", "/scratch/rel_link"},
			{"read", "/scratch/dir_link/secret"},
			{"list", "/scratch/dir_link"},
			{"write", "/scratch/dir_link/planted", "x"},
			{"write", "/scratch/abs_link", "overwritten"},
			{"rename", "/scratch/in.txt", "/scratch/dir_link/in.txt"},
		} {
			out := g.run(t, rw, args...)
			t.Logf("%v: %s", args, out)
			if !strings.HasPrefix(out, "error:") {
				t.Errorf("%v: guest said %q, want an error", args, out)
			}
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("%v: guest saw outside content: %q", args, out)
				}
			}
		}
		got, err := os.ReadFile(filepath.Join(outside, "secret"))
		if err != nil || string(got) != secret {
			t.Errorf("outside secret now %q, %v", got, err)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 1 {
			t.Errorf("outside dir has %d entries, want 1", len(entries))
		}
		if _, err := os.Lstat(filepath.Join(scratch, "in.txt")); err != nil {
			t.Errorf("in.txt moved: %v", err)
		}
	})
	t.Run("read-only mount", func(t *testing.T) {
		if out := g.run(t, ro, "read", "/scratch/in.txt"); out != "ok: from host" {
			t.Errorf("read: guest said %q", out)
		}
		for _, args := range [][]string{
			{"write", "/scratch/ro.txt", "x"},
			{"write", "/scratch/in.txt", "x"},
			{"mkdir", "/scratch/ro"},
			{"remove", "/scratch/in.txt"},
		} {
			if out := g.run(t, ro, args...); !strings.Contains(strings.ToLower(out), "read-only file system") {
				t.Errorf("%v: guest said %q, want a read-only error", args, out)
			}
		}
		if got, _ := os.ReadFile(filepath.Join(scratch, "in.txt")); string(got) != "from host" {
			t.Errorf("in.txt changed to %q", got)
		}
		if _, err := os.Lstat(filepath.Join(scratch, "ro.txt")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ro.txt was created: %v", err)
		}
	})
}

func TestGuestQuota(t *testing.T) {
	g := newGuestRunner(t)
	scratch := t.TempDir()
	root, err := os.OpenRoot(scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	const quota = 10500 // not a multiple of the guest's 1000-byte chunks
	if err := os.WriteFile(filepath.Join(scratch, "already"), make([]byte, 500), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each run is a new FS, as each job is, so each one recounts the tree.
	fill := func(want string) {
		t.Helper()
		fsys := guestfs.New(root, guestfs.Options{QuotaBytes: quota})
		if out := g.run(t, fsys, "fill", "/scratch/big"); out != want {
			t.Errorf("fill: guest said %q, want %q", out, want)
		}
	}
	fill("error: after 10000 bytes: write /scratch/big: I/O error")
	if fi, err := os.Stat(filepath.Join(scratch, "big")); err != nil || fi.Size() != 10000 {
		t.Errorf("big on host: %v, %v", fi, err)
	}
	// os.Create truncates the old file, so the second run gets as far.
	fill("error: after 10000 bytes: write /scratch/big: I/O error")
	fsys := guestfs.New(root, guestfs.Options{QuotaBytes: quota})
	if out := g.run(t, fsys, "remove", "/scratch/already"); out != "ok" {
		t.Fatalf("remove: guest said %q", out)
	}
	fill("error: after 10500 bytes: write /scratch/big: I/O error")
}
