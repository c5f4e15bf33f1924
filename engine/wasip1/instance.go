package wasip1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/internal/guestfs"
)

// MaxOpenFiles bounds the descriptors of one instance, the standard streams
// and the mounts included. Every open file holds a host descriptor, so a
// guest opening files in a loop would otherwise exhaust the host's for all
// jobs; past the bound path_open fails with EMFILE. (wazero's own WASI has
// no bound.)
const MaxOpenFiles = 1024

// Instance is the WASI state of one guest instance: its arguments, its
// descriptor table and the host resources behind its mounts. The engine
// creates one per run with NewInstance, hands it to the host functions with
// WithInstance and closes it after the guest has stopped.
//
// An Instance serves one guest instance, whose calls arrive one at a time;
// it is not safe for concurrent use.
type Instance struct {
	args     []string
	argsSize uint32 // bytes of args, NUL terminators included

	files []*openFile // indexed by fd; nil marks a free descriptor
	open  int         // non-nil entries of files

	roots []*os.Root // of HostDir mounts, closed by Close
	start time.Time  // origin of the monotonic clock

	// hostPanic records the first panic of a host function (a host bug,
	// since the functions are written not to panic), reported by Close.
	hostPanic error
}

// openFile is an entry of the descriptor table.
type openFile struct {
	file experimentalsys.File
	// fsys is the file system the file was opened from, nil for the
	// standard streams.
	fsys experimentalsys.FS
	// path is the file's path in fsys, "." for the root of a mount. It
	// anchors paths relative to a directory descriptor and may go stale
	// when the guest renames a parent, as in wazero.
	path string
	// preopen is the guest path of a mount's root directory, "" for other
	// files.
	preopen string
	// stream marks the standard streams, which cannot be renumbered.
	stream bool
	// dir holds the fd_readdir state, created on first use.
	dir *dirStream
}

// NewInstance prepares the WASI state of a run: args from cfg.Args, no
// environment, an empty stdin, stdout and stderr sent to cfg.Stdout and
// cfg.Stderr (discarded when nil), and each of cfg.Mounts as a preopened
// directory, in order from descriptor 3. An FS mount is served read-only as
// given; a HostDir mount is jailed to its directory by internal/guestfs,
// with the mount's ReadOnly and QuotaBytes. Close releases what it opened.
func NewInstance(cfg engine.RunConfig) (*Instance, error) {
	in := &Instance{start: time.Now()}
	var argsSize uint64
	for i, a := range cfg.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fmt.Errorf("wasip1: argument %d (%q) contains a NUL byte, which cannot be passed to a guest", i, a)
		}
		argsSize += uint64(len(a)) + 1
	}
	if argsSize > math.MaxUint32 {
		return nil, fmt.Errorf("wasip1: the arguments take %d bytes, more than a 32-bit guest can address", argsSize)
	}
	in.args, in.argsSize = cfg.Args, uint32(argsSize)
	in.insert(&openFile{file: emptyStdin{}, stream: true})
	in.insert(&openFile{file: writerStream{w: writerOrDiscard(cfg.Stdout)}, stream: true})
	in.insert(&openFile{file: writerStream{w: writerOrDiscard(cfg.Stderr)}, stream: true})
	for _, m := range cfg.Mounts {
		if err := in.mount(m); err != nil {
			return nil, errors.Join(err, in.Close())
		}
	}
	return in, nil
}

func writerOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// mount opens the root of m as the next preopened directory.
func (in *Instance) mount(m engine.Mount) error {
	name := m.GuestPath
	if strings.Trim(name, "/.") == "" && !strings.Contains(name, "..") {
		name = "/" // as wazero names a mount of "", "/" or "./"
	}
	for _, f := range in.files {
		if f != nil && f.preopen == name {
			return fmt.Errorf("wasip1: mount %s: guest path mounted twice", m.GuestPath)
		}
	}
	var fsys experimentalsys.FS
	switch {
	case m.FS != nil && m.HostDir != "":
		return fmt.Errorf("wasip1: mount %s: both FS and HostDir are set", m.GuestPath)
	case m.FS != nil:
		fsys = &sysfs.AdaptFS{FS: m.FS}
	case m.HostDir != "":
		root, err := os.OpenRoot(m.HostDir)
		if err != nil {
			return fmt.Errorf("wasip1: mount %s: %w", m.GuestPath, err)
		}
		in.roots = append(in.roots, root)
		fsys = guestfs.New(root, guestfs.Options{ReadOnly: m.ReadOnly, QuotaBytes: m.QuotaBytes})
	default:
		return fmt.Errorf("wasip1: mount %s: neither FS nor HostDir is set", m.GuestPath)
	}
	f, errno := fsys.OpenFile(".", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if errno != 0 {
		return fmt.Errorf("wasip1: mount %s: open root directory: %w", m.GuestPath, errno)
	}
	if _, ok := in.insert(&openFile{file: f, fsys: fsys, path: ".", preopen: name}); !ok {
		f.Close()
		return fmt.Errorf("wasip1: mount %s: more than %d descriptors", m.GuestPath, MaxOpenFiles)
	}
	return nil
}

// insert gives f the lowest free descriptor, as POSIX does and as wasi-libc
// expects of the preopens, or returns false when MaxOpenFiles are open.
func (in *Instance) insert(f *openFile) (int32, bool) {
	if in.open >= MaxOpenFiles {
		return 0, false
	}
	in.open++
	for fd, g := range in.files {
		if g == nil {
			in.files[fd] = f
			return int32(fd), true
		}
	}
	in.files = append(in.files, f)
	return int32(len(in.files) - 1), true
}

// lookup returns the open file with descriptor fd; fd is the guest's i32.
func (in *Instance) lookup(fd uint32) (*openFile, bool) {
	if uint64(fd) >= uint64(len(in.files)) {
		return nil, false
	}
	f := in.files[fd]
	return f, f != nil
}

// remove frees the descriptor fd.
func (in *Instance) remove(fd uint32) {
	in.files[fd] = nil
	in.open--
	for len(in.files) > 0 && in.files[len(in.files)-1] == nil {
		in.files = in.files[:len(in.files)-1]
	}
}

// Close closes every file the guest left open and the mounts' directories.
// It reports failures to close and any panic a host function recovered
// from. Closing twice is harmless.
func (in *Instance) Close() error {
	var errs []error
	for fd, f := range in.files {
		if f == nil {
			continue
		}
		if errno := f.file.Close(); errno != 0 {
			errs = append(errs, fmt.Errorf("wasip1: close descriptor %d: %w", fd, errno))
		}
	}
	in.files, in.open = nil, 0
	for _, r := range in.roots {
		if err := r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("wasip1: close mount root: %w", err))
		}
	}
	in.roots = nil
	if in.hostPanic != nil {
		errs = append(errs, in.hostPanic)
		in.hostPanic = nil
	}
	return errors.Join(errs...)
}

type instanceKey struct{}

// WithInstance returns a context carrying in, from which the functions of
// Module find the state of the calling guest.
func WithInstance(ctx context.Context, in *Instance) context.Context {
	return context.WithValue(ctx, instanceKey{}, in)
}

func instanceFrom(ctx context.Context) *Instance {
	in, _ := ctx.Value(instanceKey{}).(*Instance)
	return in
}
