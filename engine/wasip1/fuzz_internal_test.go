package wasip1

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/xfhost/xfhost/engine"
)

// FuzzHostFunctions feeds every function arbitrary parameters and guest
// memory, in sequences, so that state left by one call (descriptors,
// directory streams, renames) meets the next. No call may panic (a panic is
// recovered into EIO and reported by Close, which fails the test), return an
// errno outside WASI's range, or end the guest unless it is proc_exit or a
// poll_oneoff that would sleep (the context is canceled, so sleeping ends
// the guest at once).
//
// Input: a sequence of calls, each a function index byte followed by its
// parameters, each parameter a tag byte choosing its width (1, 2, 4 or 8
// bytes, so that small offsets into memory are easy to reach) and the
// value. Guest memory starts as a copy of the input.
func FuzzHostFunctions(f *testing.F) {
	fns := Module().Functions
	index := map[string]byte{}
	for i, fn := range fns {
		index[fn.Name] = byte(i)
	}
	// Seeds: a path in memory, then calls using it.
	small := func(v byte) []byte { return []byte{0, v} }
	wide := func(v uint16) []byte { return []byte{1, byte(v), byte(v >> 8)} }
	seed := func(calls ...[]byte) []byte {
		var out []byte
		for _, c := range calls {
			out = append(out, c...)
		}
		return out
	}
	callOf := func(name string, params ...[]byte) []byte {
		out := []byte{index[name]}
		for _, p := range params {
			out = append(out, p...)
		}
		return out
	}
	f.Add(seed(callOf("path_open", small(4), small(1), small(0), small(1), small(1), small(0), small(0), small(0), wide(900))))
	f.Add(seed(
		callOf("path_open", small(4), small(1), small(0), small(1), small(2), small(0), small(0), small(0), wide(900)),
		callOf("fd_readdir", small(5), wide(1000), wide(300), small(0), wide(2000)),
		callOf("fd_readdir", small(5), wide(1000), wide(30), small(3), wide(2000)),
	))
	f.Add(seed(callOf("poll_oneoff", small(0), wide(1000), small(2), wide(2000))))
	f.Add(seed(callOf("fd_write", small(1), small(8), small(2), wide(900)), callOf("args_get", wide(100), wide(200))))
	f.Add(seed(callOf("fd_renumber", small(4), small(3)), callOf("fd_close", small(3)), callOf("path_open", small(3), small(0), small(0), small(1), small(0), small(0), small(0), small(0), small(0))))

	f.Fuzz(func(t *testing.T, data []byte) {
		scratch := t.TempDir()
		if err := os.MkdirAll(filepath.Join(scratch, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(scratch, "f"), []byte("file"), 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := NewInstance(engine.RunConfig{
			Args: []string{"fuzz"},
			Mounts: []engine.Mount{
				{GuestPath: "/inputs", FS: fstest.MapFS{"f": {Data: []byte("input")}, "d/g": {}}},
				{GuestPath: "/scratch", HostDir: scratch, QuotaBytes: 1 << 16},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(WithInstance(context.Background(), in))
		cancel()
		mem := make(sliceMemory, 1<<16)
		copy(mem, data)
		stack := make([]uint64, 9)
		for calls := 0; len(data) > 0 && calls < 64; calls++ {
			fn := fns[int(data[0])%len(fns)]
			data = data[1:]
			clear(stack)
			for i := range fn.Params {
				stack[i], data = param(data)
			}
			exit, _ := fn.Func(ctx, mem, stack)
			switch {
			case exit && fn.Name != "proc_exit" && fn.Name != "poll_oneoff":
				t.Fatalf("%s ended the guest", fn.Name)
			case !exit && stack[0] > 76:
				t.Fatalf("%s returned errno %d, beyond WASI's", fn.Name, stack[0])
			}
		}
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// param decodes one parameter: a tag byte giving its width, then the
// value, zero-padded when the input runs out.
func param(data []byte) (uint64, []byte) {
	if len(data) == 0 {
		return 0, nil
	}
	width := [4]int{1, 2, 4, 8}[data[0]%4]
	data = data[1:]
	var buf [8]byte
	n := copy(buf[:width], data)
	return binary.LittleEndian.Uint64(buf[:]), data[n:]
}
