package wasip1

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/xfhost/xfhost/engine"
)

// poll_oneoff is how guests sleep: Go's runtime subscribes to a relative
// monotonic clock (plus descriptors its netpoller waits for), wasi-libc's
// nanosleep and clock_nanosleep to a relative or absolute clock.
//
// Reads and writes never block in this sandbox (stdin is empty, stdout and
// stderr are writers, files are files), so a descriptor subscription is
// ready at once. When any subscription is ready the call returns without
// sleeping; otherwise it sleeps until the earliest clock is due and
// reports every clock due by then.

const (
	subscriptionSize = 48
	eventSize        = 32

	eventtypeClock   = 0
	eventtypeFdRead  = 1
	eventtypeFdWrite = 2

	subclockflagAbstime = 1 << 0
)

func pollOneoff(ctx context.Context, in *Instance, mem engine.Memory, p []uint64) (errno, bool, uint32) {
	inPtr, outPtr, n, resultPtr := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
	if n == 0 {
		return errnoInval, false, 0
	}
	// The subscriptions are used where they are in guest memory, so their
	// number costs no host memory. Overlapping buffers give the guest
	// garbage, never a fault: every access below is within these slices.
	subs, ok := region(mem, inPtr, n, subscriptionSize)
	if !ok {
		return errnoFault, false, 0
	}
	events, ok := region(mem, outPtr, n, eventSize)
	if !ok {
		return errnoFault, false, 0
	}
	result, ok := mem.Read(resultPtr, 4)
	if !ok {
		return errnoFault, false, 0
	}

	// First pass: validate, and find whether anything is ready now and
	// which clock is due first.
	start := time.Now()
	soonest, soonestDelay := -1, time.Duration(math.MaxInt64)
	ready := false
	for i := range int(n) {
		s := subs[i*subscriptionSize:]
		switch s[8] {
		case eventtypeClock:
			if le.Uint16(s[40:])&^subclockflagAbstime != 0 {
				return errnoInval, false, 0 // unknown flags fail the call, as in wazero
			}
			d, e := in.clockDelay(s, 0)
			if e != 0 || d <= 0 {
				ready = true
			} else if d < soonestDelay {
				soonest, soonestDelay = i, d
			}
		case eventtypeFdRead, eventtypeFdWrite:
			ready = true
		default:
			return errnoInval, false, 0
		}
	}
	slept := false
	if !ready {
		if exit, code := sleep(ctx, soonestDelay); exit {
			return errnoIntr, true, code
		}
		slept = true
	}

	// Second pass: report what is ready now. The clock slept for is
	// reported even if a wall clock set back since says otherwise, so
	// that a sleep always ends with an event.
	elapsed := time.Since(start)
	var count uint32
	for i := range int(n) {
		s := subs[i*subscriptionSize:]
		userdata, typ := le.Uint64(s[0:]), s[8]
		var e errno
		switch typ {
		case eventtypeClock:
			d, ce := in.clockDelay(s, elapsed)
			if ce == 0 && d > 0 && !(slept && i == soonest) {
				continue // not due yet
			}
			e = ce
		default:
			if _, ok := in.lookup(le.Uint32(s[16:])); !ok {
				e = errnoBadf
			}
		}
		ev := events[count*eventSize : (count+1)*eventSize]
		clear(ev)
		le.PutUint64(ev[0:], userdata)
		le.PutUint16(ev[8:], uint16(e))
		ev[10] = typ
		// fd_readwrite.nbytes stays 0: the bytes available are not
		// known for every file, and guests treat readiness as a hint.
		count++
	}
	le.PutUint32(result, count)
	return errnoSuccess, false, 0
}

// clockDelay returns how long until a clock subscription is due (zero or
// less: due now), elapsed after the call began, or EINVAL for an unknown
// clock. Precision is ignored: sleeps are as precise as the host's timers.
func (in *Instance) clockDelay(s []byte, elapsed time.Duration) (time.Duration, errno) {
	id, timeout, flags := le.Uint32(s[16:]), le.Uint64(s[24:]), le.Uint16(s[40:])
	now, ok := in.now(id)
	if !ok {
		return 0, errnoInval
	}
	if timeout > math.MaxInt64 {
		timeout = math.MaxInt64 // centuries either way
	}
	if flags&subclockflagAbstime != 0 {
		return time.Duration(int64(timeout) - now), 0
	}
	return time.Duration(timeout) - elapsed, 0
}

// sleep waits for d unless ctx ends first, in which case it returns the
// exit code that stops the guest.
func sleep(ctx context.Context, d time.Duration) (exit bool, code uint32) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false, 0
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return true, ExitCodeDeadlineExceeded
		}
		return true, ExitCodeCanceled
	}
}
