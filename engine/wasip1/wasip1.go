// Package wasip1 implements WASI preview 1, the wasi_snapshot_preview1
// imports, as an engine.HostModule, so that every engine gives guests the
// sandbox wazero's own WASI gives them under xfhost: the arguments of
// engine.RunConfig, no environment, an empty stdin, stdout and stderr sent to
// the run's writers, the run's mounts as preopened directories (read-only
// fs.FS trees, and host directories jailed and quota-bounded by
// internal/guestfs), real clocks, the host's cryptographic randomness, and
// no sockets.
//
// It exists for engines whose built-in WASI cannot do that (wasmtime's can
// send stdout only to files and has neither virtual file systems nor
// quotas). The file systems are wazero's experimental sys.FS, the same
// objects wazero's WASI is given, and errors map to the same WASI numbers,
// so the two implementations differ only where documented below.
//
// # Using it from an engine
//
// Register Module() with the other host modules, once per engine. For each
// run, create the guest's state and put it in the context the host
// functions receive:
//
//	in, err := wasip1.NewInstance(runCfg)
//	if err != nil { return err }
//	defer in.Close()
//	ctx = wasip1.WithInstance(ctx, in)
//	// instantiate and run _start with ctx
//
// proc_exit ends the guest through the engine.HostFunc exit result. A
// poll_oneoff that sleeps returns early when ctx ends and ends the guest
// with ExitCodeDeadlineExceeded or ExitCodeCanceled; the engine should then
// report ctx's error, as for any guest stopped by its context.
//
// # Differences from wazero's WASI (v1.12)
//
// The differential tests run Go and C guests on both and compare all they
// observe. Deliberate differences, all where wazero fails guests or the
// host:
//
//   - poll_oneoff really sleeps (wazero's default sleep returns at once, so
//     a C sleep(1) returns early), supports absolute clock subscriptions
//     (wazero: ENOTSUP), and reports fd_read and fd_write subscriptions
//     ready at once, as nothing here blocks.
//   - fd_readdir accepts any cookie it handed out, re-reading the directory
//     when the cookie lies before the entries it keeps (wazero: ENOENT, which
//     breaks seekdir in large directories); a record that does not fit is
//     cut at the buffer's end, as in wasmtime, not after its header.
//   - fd_write and fd_pwrite stop at a short write (the scratch quota cuts
//     writes short) and report the bytes written, as POSIX writev does,
//     instead of failing the call with the next buffer's error.
//   - At most MaxOpenFiles descriptors (EMFILE); fd_renumber needs an open
//     target (wazero grows its table to any number the guest names).
//   - fd_prestat_get on the standard streams fails with EBADF (wazero:
//     success with an empty name); fd_prestat_dir_name takes any buffer
//     the name fits in and refuses a shorter one with ENAMETOOLONG (wazero
//     truncates the name into a shorter buffer and refuses a longer one).
//   - fd_close frees the descriptor even if closing the file fails.
//   - A path relative to a directory descriptor that is not a preopen is
//     joined to the directory's path before it is cleaned, so "../x" from
//     a subdirectory is valid while it stays inside the mount (wazero
//     refuses every path starting with ".."). Paths opened from a preopen,
//     as Go's os and wasi-libc's open do, are treated alike.
//   - Guest paths are bounded by 4096 bytes (ENAMETOOLONG).
package wasip1

import (
	"context"
	"fmt"

	"github.com/xfhost/xfhost/engine"
)

// ModuleName is the import module of WASI preview 1.
const ModuleName = "wasi_snapshot_preview1"

// Exit codes a guest gets when its context ends while poll_oneoff sleeps.
// They are wazero's, so the wazero engine maps them to the context's error.
const (
	ExitCodeCanceled         uint32 = 0xffffffff
	ExitCodeDeadlineExceeded uint32 = 0xefffffff
)

// wasiFunc implements a function returning an errno; params are the
// function's parameters in the encoding of engine.HostFunc.
type wasiFunc func(in *Instance, mem engine.Memory, params []uint64) errno

// blockingFunc is a wasiFunc that may wait, and so needs the context, and
// may end the guest.
type blockingFunc func(ctx context.Context, in *Instance, mem engine.Memory, params []uint64) (e errno, exit bool, code uint32)

const (
	i32 = engine.I32
	i64 = engine.I64
)

// Module returns every function of WASI preview 1 with its exact
// signature; the ones this sandbox does not offer fail with ENOSYS or
// EBADF, as in wazero, so that a module importing them still links. The
// functions find their state with WithInstance; called without one they
// fail with ENOSYS (proc_exit still exits).
func Module() engine.HostModule {
	return engine.HostModule{Name: ModuleName, Functions: []engine.HostFunction{
		fn("args_get", argsGet, i32, i32),
		fn("args_sizes_get", argsSizesGet, i32, i32),
		fn("environ_get", environGet, i32, i32),
		fn("environ_sizes_get", environSizesGet, i32, i32),
		fn("clock_res_get", clockResGet, i32, i32),
		fn("clock_time_get", clockTimeGet, i32, i64, i32),
		fn("fd_advise", fdAdvise, i32, i64, i64, i32),
		fn("fd_allocate", fdAllocate, i32, i64, i64),
		fn("fd_close", fdClose, i32),
		fn("fd_datasync", fdDatasync, i32),
		fn("fd_fdstat_get", fdFdstatGet, i32, i32),
		fn("fd_fdstat_set_flags", fdFdstatSetFlags, i32, i32),
		fn("fd_fdstat_set_rights", nosys, i32, i64, i64),
		fn("fd_filestat_get", fdFilestatGet, i32, i32),
		fn("fd_filestat_set_size", fdFilestatSetSize, i32, i64),
		fn("fd_filestat_set_times", fdFilestatSetTimes, i32, i64, i64, i32),
		fn("fd_pread", fdPread, i32, i32, i32, i64, i32),
		fn("fd_prestat_get", fdPrestatGet, i32, i32),
		fn("fd_prestat_dir_name", fdPrestatDirName, i32, i32, i32),
		fn("fd_pwrite", fdPwrite, i32, i32, i32, i64, i32),
		fn("fd_read", fdRead, i32, i32, i32, i32),
		fn("fd_readdir", fdReaddir, i32, i32, i32, i64, i32),
		fn("fd_renumber", fdRenumber, i32, i32),
		fn("fd_seek", fdSeek, i32, i64, i32, i32),
		fn("fd_sync", fdSync, i32),
		fn("fd_tell", fdTell, i32, i32),
		fn("fd_write", fdWrite, i32, i32, i32, i32),
		fn("path_create_directory", pathCreateDirectory, i32, i32, i32),
		fn("path_filestat_get", pathFilestatGet, i32, i32, i32, i32, i32),
		fn("path_filestat_set_times", pathFilestatSetTimes, i32, i32, i32, i32, i64, i64, i32),
		fn("path_link", pathLink, i32, i32, i32, i32, i32, i32, i32),
		fn("path_open", pathOpen, i32, i32, i32, i32, i32, i64, i64, i32, i32),
		fn("path_readlink", pathReadlink, i32, i32, i32, i32, i32, i32),
		fn("path_remove_directory", pathRemoveDirectory, i32, i32, i32),
		fn("path_rename", pathRename, i32, i32, i32, i32, i32, i32),
		fn("path_symlink", pathSymlink, i32, i32, i32, i32, i32),
		fn("path_unlink_file", pathUnlinkFile, i32, i32, i32),
		blocking("poll_oneoff", pollOneoff, i32, i32, i32, i32),
		{Name: "proc_exit", Params: []engine.ValueType{i32}, Func: procExit},
		fn("proc_raise", nosys, i32),
		fn("sched_yield", schedYield),
		fn("random_get", randomGet, i32, i32),
		fn("sock_accept", sockAccept, i32, i32, i32),
		fn("sock_recv", sockRecv, i32, i32, i32, i32, i32, i32),
		fn("sock_send", sockSend, i32, i32, i32, i32, i32),
		fn("sock_shutdown", sockShutdown, i32, i32),
	}}
}

var errnoResult = []engine.ValueType{i32}

func fn(name string, f wasiFunc, params ...engine.ValueType) engine.HostFunction {
	return engine.HostFunction{
		Name:    name,
		Params:  params,
		Results: errnoResult,
		Func: func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
			in := instanceFrom(ctx)
			if in == nil {
				stack[0] = uint64(errnoNosys)
				return false, 0
			}
			defer in.recoverHostPanic(name, stack)
			stack[0] = uint64(f(in, mem, stack))
			return false, 0
		},
	}
}

func blocking(name string, f blockingFunc, params ...engine.ValueType) engine.HostFunction {
	return engine.HostFunction{
		Name:    name,
		Params:  params,
		Results: errnoResult,
		Func: func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
			in := instanceFrom(ctx)
			if in == nil {
				stack[0] = uint64(errnoNosys)
				return false, 0
			}
			defer in.recoverHostPanic(name, stack)
			e, exit, code := f(ctx, in, mem, stack)
			stack[0] = uint64(e)
			return exit, code
		},
	}
}

// recoverHostPanic keeps a panic in a host function from unwinding into
// the engine, which may not survive it (a panic crossing cgo kills the
// process): the guest gets EIO and Close reports the first such panic.
// The file systems behind the mounts are host code this package does not
// control, hence the safety net.
func (in *Instance) recoverHostPanic(name string, stack []uint64) {
	if r := recover(); r != nil {
		if in.hostPanic == nil {
			in.hostPanic = fmt.Errorf("wasip1: %s panicked: %v", name, r)
		}
		stack[0] = uint64(errnoIo)
	}
}

// procExit ends the guest with its exit code.
func procExit(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
	return true, uint32(stack[0])
}

func nosys(*Instance, engine.Memory, []uint64) errno { return errnoNosys }
