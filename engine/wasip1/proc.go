package wasip1

import (
	"crypto/rand"
	"runtime"
	"time"

	"github.com/xfhost/xfhost/engine"
)

// argsGet writes the argument pointers to argv and the NUL-terminated
// arguments to argvBuf, which args_sizes_get told the guest how to size.
func argsGet(in *Instance, mem engine.Memory, p []uint64) errno {
	argv, argvBuf := uint32(p[0]), uint32(p[1])
	ptrs, ok := region(mem, argv, uint32(len(in.args)), 4)
	if !ok {
		return errnoFault
	}
	buf, ok := mem.Read(argvBuf, in.argsSize)
	if !ok {
		return errnoFault
	}
	off := uint32(0)
	for i, a := range in.args {
		le.PutUint32(ptrs[4*i:], argvBuf+off)
		off += uint32(copy(buf[off:], a))
		buf[off] = 0
		off++
	}
	return errnoSuccess
}

func argsSizesGet(in *Instance, mem engine.Memory, p []uint64) errno {
	if !writeU32(mem, uint32(p[0]), uint32(len(in.args))) || !writeU32(mem, uint32(p[1]), in.argsSize) {
		return errnoFault
	}
	return errnoSuccess
}

// environGet has nothing to write, as the environment is empty; like
// wazero it still checks that both pointers lie in memory.
func environGet(_ *Instance, mem engine.Memory, p []uint64) errno {
	if _, ok := mem.Read(uint32(p[0]), 0); !ok {
		return errnoFault
	}
	if _, ok := mem.Read(uint32(p[1]), 0); !ok {
		return errnoFault
	}
	return errnoSuccess
}

func environSizesGet(_ *Instance, mem engine.Memory, p []uint64) errno {
	if !writeU32(mem, uint32(p[0]), 0) || !writeU32(mem, uint32(p[1]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

// WASI clock IDs. The CPU-time clocks are not offered (EINVAL), as in
// wazero: they would tell a guest how busy the host is.
const (
	clockRealtime  = 0
	clockMonotonic = 1
)

// Clock resolutions in nanoseconds, wazero's: the wall clock is read with
// time.Now, whose resolution the platform does not state; 1µs is what
// wazero promises for it.
const (
	realtimeResolution  = 1000
	monotonicResolution = 1
)

func clockResGet(_ *Instance, mem engine.Memory, p []uint64) errno {
	var res uint64
	switch uint32(p[0]) {
	case clockRealtime:
		res = realtimeResolution
	case clockMonotonic:
		res = monotonicResolution
	default:
		return errnoInval
	}
	if !writeU64(mem, uint32(p[1]), res) {
		return errnoFault
	}
	return errnoSuccess
}

// now reads a clock, or returns false for an unknown clock ID.
func (in *Instance) now(id uint32) (int64, bool) {
	switch id {
	case clockRealtime:
		return time.Now().UnixNano(), true
	case clockMonotonic:
		// Counted from the instance's creation rather than from host
		// boot or process start, so it tells the guest nothing about
		// the host.
		return int64(time.Since(in.start)), true
	}
	return 0, false
}

func clockTimeGet(in *Instance, mem engine.Memory, p []uint64) errno {
	t, ok := in.now(uint32(p[0]))
	if !ok {
		return errnoInval
	}
	if !writeU64(mem, uint32(p[2]), uint64(t)) {
		return errnoFault
	}
	return errnoSuccess
}

func randomGet(_ *Instance, mem engine.Memory, p []uint64) errno {
	buf, ok := mem.Read(uint32(p[0]), uint32(p[1]))
	if !ok {
		return errnoFault
	}
	rand.Read(buf) // never fails; the length is bounded by guest memory
	return errnoSuccess
}

func schedYield(*Instance, engine.Memory, []uint64) errno {
	runtime.Gosched()
	return errnoSuccess
}

// The sandbox has no sockets, so no descriptor is one: every sock_*
// function fails with EBADF, wazero's answer for a descriptor that is not
// a socket.

func sockAccept(*Instance, engine.Memory, []uint64) errno   { return errnoBadf }
func sockRecv(*Instance, engine.Memory, []uint64) errno     { return errnoBadf }
func sockSend(*Instance, engine.Memory, []uint64) errno     { return errnoBadf }
func sockShutdown(*Instance, engine.Memory, []uint64) errno { return errnoBadf }
