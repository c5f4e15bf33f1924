//go:build cgo

package wasmtimeengine

// #include "capi.h"
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/cgo"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/xfhost/xfhost/engine"
)

// Host functions are unchecked wasmtime functions: the C trampoline in
// capi.c passes the untyped value array straight to xfHostCall, which
// decodes it by the signature the function was defined with. wasmtime-go's
// own host functions (Linker.FuncNew) box every value and take a global
// lock per call, and cost several times more (see BenchmarkHostCall).

// hostFunc is one import as the engine calls it.
type hostFunc struct {
	e               *Engine
	module, name    string
	fn              engine.HostFunc
	params, results []engine.ValueType
}

func defineHostFunc(l *wasmtime.Linker, hf *hostFunc, h cgo.Handle) error {
	params, err := valTypes(hf.params)
	if err != nil {
		return err
	}
	results, err := valTypes(hf.results)
	if err != nil {
		return err
	}
	ty := wasmtime.NewFuncType(params, results)
	defer ty.Close()
	if err := C.xf_define_func(linkerPtr(l), cString(hf.module), C.size_t(len(hf.module)),
		cString(hf.name), C.size_t(len(hf.name)), funcTypePtr(ty), C.uintptr_t(h)); err != nil {
		return takeError(err)
	}
	return nil
}

func valTypes(ts []engine.ValueType) ([]*wasmtime.ValType, error) {
	out := make([]*wasmtime.ValType, len(ts))
	for i, t := range ts {
		switch t {
		case engine.I32:
			out[i] = wasmtime.NewValType(wasmtime.KindI32)
		case engine.I64:
			out[i] = wasmtime.NewValType(wasmtime.KindI64)
		case engine.F32:
			out[i] = wasmtime.NewValType(wasmtime.KindF32)
		case engine.F64:
			out[i] = wasmtime.NewValType(wasmtime.KindF64)
		default:
			return nil, fmt.Errorf("unsupported value type %v", t)
		}
	}
	return out, nil
}

// cString points C at the bytes of s, for a call that copies them and
// takes their length separately.
func cString(s string) *C.char {
	if s == "" {
		s = "\x00" // a valid pointer even for an empty name
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s)))
}

// newTrap makes a trap that ends the guest with msg.
func newTrap(msg string) *C.wasm_trap_t {
	return C.wasmtime_trap_new(cString(msg), C.size_t(len(msg)))
}

//export xfHostCall
func xfHostCall(env C.uintptr_t, cx *C.wasmtime_context_t, vals *C.wasmtime_val_raw_t, n C.size_t, mem *C.uint8_t, memSize C.size_t) *C.wasm_trap_t {
	hf := cgo.Handle(env).Value().(*hostFunc)
	r, ok := hf.e.runs.Load(uintptr(unsafe.Pointer(cx)))
	if !ok {
		// Only stores of Run exist, and Run registers its store first.
		return newTrap("xfhost: host function called from an unknown store")
	}
	var data []byte
	if mem != nil {
		data = unsafe.Slice((*byte)(unsafe.Pointer(mem)), int(memSize))
	}
	return r.(*run).call(hf, unsafe.Slice(vals, int(n)), data)
}

// call runs hf with the values of one call from the guest and the guest's
// memory as it is during the call.
func (r *run) call(hf *hostFunc, vals []C.wasmtime_val_raw_t, mem []byte) *C.wasm_trap_t {
	stack := r.stack[:len(vals)]
	for i, t := range hf.params {
		p := unsafe.Pointer(&vals[i])
		if t == engine.I32 || t == engine.F32 {
			stack[i] = uint64(*(*uint32)(p))
		} else {
			stack[i] = *(*uint64)(p)
		}
	}
	r.mem = mem
	exit, code := r.invoke(hf, stack)
	r.mem = nil
	switch {
	case r.hostPanic != "":
		return newTrap(r.hostPanic)
	case exit:
		r.exited, r.exitCode = true, code
		return C.xf_exit_trap()
	}
	for i, t := range hf.results {
		p := unsafe.Pointer(&vals[i])
		if t == engine.I32 || t == engine.F32 {
			*(*uint64)(p) = uint64(uint32(stack[i]))
		} else {
			*(*uint64)(p) = stack[i]
		}
	}
	return nil
}

// invoke calls hf, turning a panic (a host bug) into the end of the run: a
// panic must not unwind through wasmtime's C frames.
func (r *run) invoke(hf *hostFunc, stack []uint64) (exit bool, code uint32) {
	defer func() {
		if p := recover(); p != nil {
			r.hostPanic = fmt.Sprintf("host function %s.%s panicked: %v", hf.module, hf.name, p)
		}
	}()
	return hf.fn(r.ctx, r, stack)
}

// Read implements engine.Memory.
func (r *run) Read(offset, length uint32) ([]byte, bool) {
	mem := r.mem
	end := uint64(offset) + uint64(length)
	if end > uint64(len(mem)) {
		return nil, false
	}
	return mem[offset:end:end], true
}

// Write implements engine.Memory.
func (r *run) Write(offset uint32, data []byte) bool {
	mem := r.mem
	if uint64(offset)+uint64(len(data)) > uint64(len(mem)) {
		return false
	}
	copy(mem[offset:], data)
	return true
}

// takeError converts an error of the C API into a Go error and frees it.
func takeError(err *C.wasmtime_error_t) error {
	var msg C.wasm_byte_vec_t
	C.wasmtime_error_message(err, &msg)
	defer C.wasm_byte_vec_delete(&msg)
	C.wasmtime_error_delete(err)
	return errors.New(C.GoStringN(msg.data, C.int(msg.size)))
}

// The private pointers of wasmtime-go's handles. wasmtime-go exposes no
// accessor for them; checkLayouts verifies at New that each type still starts
// with its C pointer.

func storePtr(s *wasmtime.Store) *C.wasmtime_store_t {
	return *(**C.wasmtime_store_t)(unsafe.Pointer(s))
}

func linkerPtr(l *wasmtime.Linker) *C.wasmtime_linker_t {
	return *(**C.wasmtime_linker_t)(unsafe.Pointer(l))
}

func funcTypePtr(t *wasmtime.FuncType) *C.wasm_functype_t {
	return *(**C.wasm_functype_t)(unsafe.Pointer(t))
}

// checkLayouts verifies that wasmtime-go's Store, Linker and FuncType still
// keep their C pointer first, as the accessors above assume, so that a
// changed wasmtime-go fails here instead of crashing later.
func checkLayouts() error {
	for _, t := range []reflect.Type{reflect.TypeFor[wasmtime.Store](), reflect.TypeFor[wasmtime.Linker](), reflect.TypeFor[wasmtime.FuncType]()} {
		if t.NumField() == 0 || t.Field(0).Name != "_ptr" || t.Field(0).Offset != 0 || t.Field(0).Type.Kind() != reflect.Pointer {
			return fmt.Errorf("wasmtime: wasmtime-go's %s no longer starts with its C pointer; this engine needs updating", t)
		}
	}
	return nil
}
