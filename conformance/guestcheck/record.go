package guestcheck

import (
	"context"
	"strings"
	"sync"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/host"
)

// The host validates outputs when the guest sets them and answers a bad
// one with a status, so the job result shows only the outputs it accepted.
// To name what a guest tried to set, the checker wraps the output, finish
// and fail imports at the engine boundary and records each call before
// the host's own implementation serves it unchanged.

// outputCall is one call of xf.output_set or xf.output_image_set.
type outputCall struct {
	imp   string // the import's qualified name
	key   string
	value []byte // xf.output_set's JSON, if kept
	kept  bool   // false for xf.output_image_set and for values beyond the log's bounds
	size  int    // the value's length in bytes
	st    abi.Status
}

// calls is what one job did with the wrapped imports.
type calls struct {
	outputs  []outputCall
	finished bool   // the guest called xf.finish
	finishOK bool   // and one call returned OK: the host judged the outputs complete
	failed   bool   // the guest ended the job with xf.fail
	failMsg  string // its message
}

// failedCleanly reports whether the job's error is the guest's own fail
// message, rather than a failure the host diagnosed.
func (c calls) failedCleanly(jobError string) bool {
	return c.failed && strings.HasPrefix(jobError, c.failMsg)
}

// callLog records one job's calls; the host serves a guest's calls one at
// a time, the lock orders them with the checker's reads.
type callLog struct {
	mu        sync.Mutex
	c         calls
	keptBytes int // bytes of values kept so far
}

// A guest may call xf.output_set in a loop until its deadline; the log
// keeps the first maxRecordedCalls calls and at most maxKeptBytes of their
// values, which is plenty to name every defect of a guest that sets each
// output a few times.
const (
	maxRecordedCalls = 10000
	maxKeptBytes     = 16 << 20
)

// reserve reports whether a value of n bytes may be kept, and counts it.
func (l *callLog) reserve(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > maxKeptValue || l.keptBytes+n > maxKeptBytes || len(l.c.outputs) >= maxRecordedCalls {
		return false
	}
	l.keptBytes += n
	return true
}

func (l *callLog) addOutput(c outputCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.c.outputs) < maxRecordedCalls {
		l.c.outputs = append(l.c.outputs, c)
	}
}

// snapshot returns a copy of the calls so far.
func (l *callLog) snapshot() calls {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.c
	c.outputs = append([]outputCall(nil), c.outputs...)
	return c
}

type callLogKey struct{}

func withCallLog(ctx context.Context, l *callLog) context.Context {
	return context.WithValue(ctx, callLogKey{}, l)
}

func callLogFrom(ctx context.Context) *callLog {
	l, _ := ctx.Value(callLogKey{}).(*callLog)
	return l
}

// maxKeptValue bounds the copy of one output value; larger values exceed
// the output limit of the checker's policy anyway and are refused.
const maxKeptValue = 1 << 20

// maxKeptMessage bounds the copy of a fail message; the job result holds
// the whole message, which starts with the copy.
const maxKeptMessage = 1 << 10

// recordingImports returns the host's imports with the output, finish and
// fail imports wrapped to record their calls in the job's callLog.
func recordingImports() []engine.HostModule {
	mods := host.Imports() // a fresh copy on every call
	wrappers := map[string]func(engine.HostFunc) engine.HostFunc{
		"xf.output_set":       recordOutputSet,
		"xf.output_image_set": recordOutputImageSet,
		"xf.finish":           recordFinish,
		"xf.fail":             recordFail,
	}
	for i := range mods {
		for j := range mods[i].Functions {
			f := &mods[i].Functions[j]
			if wrap, ok := wrappers[mods[i].Name+"."+f.Name]; ok {
				f.Func = wrap(f.Func)
			}
		}
	}
	return mods
}

// readCopy copies guest memory [ptr, ptr+n).
func readCopy(mem engine.Memory, ptr, n uint64) ([]byte, bool) {
	b, ok := mem.Read(uint32(ptr), uint32(n))
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// recordOutputSet wraps xf.output_set(key ptr, key_len, value ptr, value_len).
// A call with arguments outside memory is not recorded: it sets nothing.
func recordOutputSet(inner engine.HostFunc) engine.HostFunc {
	return func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		l := callLogFrom(ctx)
		if l == nil {
			return inner(ctx, mem, stack)
		}
		key, okKey := readCopy(mem, stack[0], stack[1])
		size := int(uint32(stack[3]))
		var value []byte
		okValue := true
		kept := l.reserve(size)
		if kept {
			value, okValue = readCopy(mem, stack[2], stack[3])
		}
		exit, code := inner(ctx, mem, stack)
		if !exit && okKey && okValue {
			l.addOutput(outputCall{imp: "xf.output_set", key: string(key), value: value, kept: kept, size: size, st: abi.Status(stack[0])})
		}
		return exit, code
	}
}

// recordOutputImageSet wraps xf.output_image_set(key ptr, key_len, image).
func recordOutputImageSet(inner engine.HostFunc) engine.HostFunc {
	return func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		l := callLogFrom(ctx)
		if l == nil {
			return inner(ctx, mem, stack)
		}
		key, ok := readCopy(mem, stack[0], stack[1])
		exit, code := inner(ctx, mem, stack)
		if !exit && ok {
			l.addOutput(outputCall{imp: "xf.output_image_set", key: string(key), st: abi.Status(stack[0])})
		}
		return exit, code
	}
}

func recordFinish(inner engine.HostFunc) engine.HostFunc {
	return func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		exit, code := inner(ctx, mem, stack)
		if l := callLogFrom(ctx); l != nil && !exit {
			l.mu.Lock()
			l.c.finished = true
			l.c.finishOK = l.c.finishOK || abi.Status(stack[0]) == abi.OK
			l.mu.Unlock()
		}
		return exit, code
	}
}

// recordFail wraps xf.fail(message ptr, message_len). The host stops the
// guest when fail ends the job, and returns INVALID_STATE when the job had
// already ended, which is not a clean failure.
func recordFail(inner engine.HostFunc) engine.HostFunc {
	return func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		l := callLogFrom(ctx)
		if l == nil {
			return inner(ctx, mem, stack)
		}
		// Past the deadline the host stops the guest at this call without
		// serving it; the job then failed for its deadline, not cleanly.
		inTime := ctx.Err() == nil
		msg, _ := readCopy(mem, stack[0], min(stack[1], maxKeptMessage))
		exit, code := inner(ctx, mem, stack)
		if exit && inTime {
			l.mu.Lock()
			if !l.c.failed {
				l.c.failed, l.c.failMsg = true, strings.ToValidUTF8(string(msg), "\uFFFD")
			}
			l.mu.Unlock()
		}
		return exit, code
	}
}
