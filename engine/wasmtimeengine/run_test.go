//go:build cgo

package wasmtimeengine

import (
	"fmt"
	"strings"
	"testing"
)

func TestTrapMessage(t *testing.T) {
	frames := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\n   %3d:     0x23 - <unknown>!<wasm function 0>", i)
		}
		return b.String()
	}
	// trimmed is frames(n) as trapMessage indents them.
	trimmed := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\n    %d:     0x23 - <unknown>!<wasm function 0>", i)
		}
		return b.String()
	}
	native := "\n\nStack backtrace:\n   0: anyhow::error::<impl core::convert::From<E> for anyhow::Error>::from\n   1: wasmtime_func_call"
	for _, c := range []struct{ name, in, want string }{
		{
			name: "one cause",
			in:   "error while executing at wasm backtrace:" + frames(1) + "\n\nCaused by:\n    wasm trap: integer divide by zero" + native,
			want: "integer divide by zero\nwasm backtrace:\n    0:     0x23 - <unknown>!<wasm function 0>",
		},
		{
			name: "numbered causes, trap last",
			in:   "error while executing at wasm backtrace:" + frames(1) + "\n\nCaused by:\n    0: memory fault at wasm address 0x10000 in linear memory of size 0x10000\n    1: wasm trap: out of bounds memory access",
			want: "out of bounds memory access: memory fault at wasm address 0x10000 in linear memory of size 0x10000\nwasm backtrace:\n    0:     0x23 - <unknown>!<wasm function 0>",
		},
		{
			name: "deep stack",
			in:   "error while executing at wasm backtrace:" + frames(30000) + "\n\nCaused by:\n    wasm trap: call stack exhausted" + native,
			want: "stack overflow: call stack exhausted\nwasm backtrace:" + trimmed(10) + "\n    ... 29990 more frames",
		},
		{
			name: "not a call failure",
			in:   "memory minimum size of 4 pages exceeds memory limits\n",
			want: "memory minimum size of 4 pages exceeds memory limits",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := trapMessage(c.in); got != c.want {
				t.Errorf("trapMessage =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}
