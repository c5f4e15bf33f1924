package host

import (
	"context"
	"slices"
	"testing"

	"github.com/xfhost/xfhost/abi"
)

// TestOnCallTracesEveryImportCall checks the trace the conformance suite
// relies on: every call in order, with the status the guest got, and a
// call that stops the guest marked as such.
func TestOnCallTracesEveryImportCall(t *testing.T) {
	h := newHarness(t)
	var trace []Call
	h.j.opt.OnCall = func(c Call) { trace = append(trace, c) }
	p, n := h.str(strAt, "hello")
	h.want(abi.OK, "xf.log", 1, p, n)
	h.want(abi.BadArgument, "xf.log", 7, p, n)
	h.want(abi.InvalidMemoryAccess, "xf.error_set", bad, 1)
	h.call("xf.fail", p, n)
	want := []Call{
		{Import: "xf.log", Status: abi.OK},
		{Import: "xf.log", Status: abi.BadArgument},
		{Import: "xf.error_set", Status: abi.InvalidMemoryAccess},
		{Import: "xf.fail", Status: stopGuest, Stopped: true},
	}
	if !slices.Equal(trace, want) {
		t.Errorf("trace %+v\nwant  %+v", trace, want)
	}

	// A call after the deadline is not served, and is traced as stopped.
	trace = nil
	ctx, cancel := context.WithCancel(withJob(context.Background(), h.j))
	cancel()
	stack := []uint64{1, p, n}
	if exit, _ := serve("xf.log", implementations["xf.log"])(ctx, fakeMemory{h.c}, stack); !exit {
		t.Error("a call after cancellation returned to the guest")
	}
	if len(trace) != 1 || trace[0].Import != "xf.log" || !trace[0].Stopped {
		t.Errorf("trace after cancellation %+v", trace)
	}
}
