package guestscript

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// Options describe the module around the script.
type Options struct {
	Spec *abi.Spec
	// Marker is the ABI version marker to export, e.g.
	// "xf_abi_version_1_1"; empty exports none.
	Marker string
	// Metadata and Interface go into the xf.metadata and xf.interface
	// custom sections verbatim (nil: no section).
	Metadata, Interface []byte
}

// Memory layout: the first KiB stays zero so that small pointers are valid
// but never alias anything the script placed; everything else is bumped
// upwards from there, 8-byte aligned.
const dataBase = 1024

const wasi = "wasi_snapshot_preview1"

// WASI functions the write_file and exit steps use.
var wasiTypes = map[string]wasmenc.FuncType{
	"fd_prestat_get":      {Params: i32s(2), Results: i32s(1)},
	"fd_prestat_dir_name": {Params: i32s(3), Results: i32s(1)},
	"path_open": {Params: []wasmenc.ValType{wasmenc.I32, wasmenc.I32, wasmenc.I32, wasmenc.I32, wasmenc.I32,
		wasmenc.I64, wasmenc.I64, wasmenc.I32, wasmenc.I32}, Results: i32s(1)},
	"fd_write":  {Params: i32s(4), Results: i32s(1)},
	"fd_close":  {Params: i32s(1), Results: i32s(1)},
	"proc_exit": {Params: i32s(1)},
}

func i32s(n int) []wasmenc.ValType {
	out := make([]wasmenc.ValType, n)
	for i := range out {
		out[i] = wasmenc.I32
	}
	return out
}

// compiler holds the state of one Compile.
type compiler struct {
	opt     Options
	m       wasmenc.Module
	imports map[string]uint32 // "module.name" -> function index
	params  map[string][]wasmenc.ValType
	next    uint32 // bump allocator
	names   map[string]named
	data    []dataBlock

	failStep, memEq, findPreopen uint32
	// scratch areas of the WASI helpers
	prestat, nameBuf, fdOut, nWritten, scratchName uint32
}

type named struct {
	addr, size uint32
	slot       bool
}

type dataBlock struct {
	addr uint32
	b    []byte
}

// Locals of _start.
const (
	localStatus  = 0
	localCounter = 1
	localFD      = 2
)

// Compile builds the task module for a script.
func Compile(steps []Step, opt Options) ([]byte, error) {
	if opt.Spec == nil {
		return nil, fmt.Errorf("guestscript: no ABI spec")
	}
	c := &compiler{opt: opt, imports: map[string]uint32{}, params: map[string][]wasmenc.ValType{}, next: dataBase, names: map[string]named{}}
	kinds := make([]string, len(steps))
	usesFiles, usesWrite, usesExit := false, false, false
	// Imports come first in the function index space: xf.fail (every
	// guest reports a failed check through it), the calls in order of
	// first use, then WASI.
	if err := c.importABI("xf.fail"); err != nil {
		return nil, err
	}
	for i := range steps {
		k, err := steps[i].kind()
		if err != nil {
			return nil, fmt.Errorf("guestscript: step %d: %w", i+1, err)
		}
		kinds[i] = k
		switch k {
		case "call":
			if err := c.importABI(steps[i].Call); err != nil {
				return nil, fmt.Errorf("guestscript: step %d: %w", i+1, err)
			}
		case "write_file":
			usesFiles = true
		case "write_fd":
			usesWrite = true
		case "exit":
			usesExit = true
		}
	}
	var wasiFuncs []string
	if usesFiles {
		wasiFuncs = append(wasiFuncs, "fd_prestat_get", "fd_prestat_dir_name", "path_open", "fd_write", "fd_close")
	} else if usesWrite {
		wasiFuncs = append(wasiFuncs, "fd_write")
	}
	for _, n := range wasiFuncs {
		c.imports[wasi+"."+n] = c.m.ImportFunc(wasi, n, wasiTypes[n])
	}
	if usesExit {
		c.imports[wasi+".proc_exit"] = c.m.ImportFunc(wasi, "proc_exit", wasiTypes["proc_exit"])
	}

	start := c.m.Func(wasmenc.FuncType{}, wasmenc.I32, wasmenc.I32, wasmenc.I32)
	marker := c.m.Func(wasmenc.FuncType{})
	failStep := c.m.Func(wasmenc.FuncType{Params: i32s(4)})
	c.failStep = failStep.Index
	var memEq, findPreopen *wasmenc.Func
	if usesFiles || hasTextCheck(steps) {
		memEq = c.m.Func(wasmenc.FuncType{Params: i32s(3), Results: i32s(1)}, wasmenc.I32)
		c.memEq = memEq.Index
	}
	if usesFiles {
		findPreopen = c.m.Func(wasmenc.FuncType{Params: i32s(2), Results: i32s(1)}, wasmenc.I32)
		c.findPreopen = findPreopen.Index
		c.prestat, c.nameBuf, c.fdOut = c.alloc(8), c.alloc(64), c.alloc(8)
		c.scratchName = c.constBytes([]byte("/scratch"))
	}
	if usesFiles || usesWrite {
		c.nWritten = c.alloc(8)
	}

	code := &start.Code
	for i := range steps {
		if err := c.step(code, i, &steps[i], kinds[i]); err != nil {
			return nil, fmt.Errorf("guestscript: step %d: %w", i+1, err)
		}
	}
	c.emitFailStep(&failStep.Code)
	if memEq != nil {
		emitMemEq(&memEq.Code)
	}
	if findPreopen != nil {
		c.emitFindPreopen(&findPreopen.Code)
	}

	pages := (c.next + 65535) / 65536
	c.m.Memory(max(pages, 1), "memory")
	for _, d := range c.data {
		c.m.Data(d.addr, d.b)
	}
	c.m.ExportFunc("_start", start.Index)
	if opt.Marker != "" {
		c.m.ExportFunc(opt.Marker, marker.Index)
	}
	if opt.Metadata != nil {
		c.m.Custom("xf.metadata", opt.Metadata)
	}
	if opt.Interface != nil {
		c.m.Custom("xf.interface", opt.Interface)
	}
	return c.m.Encode()
}

func hasTextCheck(steps []Step) bool {
	for _, s := range steps {
		if s.Check != "" && (s.Text != nil || s.Hex != nil) {
			return true
		}
	}
	return false
}

// importABI imports an xf or clip function with the signature abi.json
// gives it.
func (c *compiler) importABI(q string) error {
	if _, ok := c.imports[q]; ok {
		return nil
	}
	mod, name, ok := splitName(q)
	if !ok {
		return fmt.Errorf("call %q: want module.name", q)
	}
	f, ok := c.opt.Spec.Function(mod, name)
	if !ok {
		return fmt.Errorf("call %s: not an import of ABI %s", q, c.opt.Spec.Version)
	}
	var params []wasmenc.ValType
	for _, w := range c.opt.Spec.WasmParams(f) {
		t, err := wasmenc.ParseValType(w)
		if err != nil {
			return fmt.Errorf("call %s: %w", q, err)
		}
		params = append(params, t)
	}
	c.params[q] = params
	c.imports[q] = c.m.ImportFunc(mod, name, wasmenc.FuncType{Params: params, Results: i32s(1)})
	return nil
}

func splitName(q string) (string, string, bool) {
	for i := range len(q) {
		if q[i] == '.' {
			return q[:i], q[i+1:], i > 0 && i < len(q)-1
		}
	}
	return "", "", false
}

// alloc reserves n zeroed bytes, 8-byte aligned.
func (c *compiler) alloc(n uint32) uint32 {
	addr := c.next
	c.next = (c.next + n + 7) &^ 7
	return addr
}

// constBytes places b in memory and returns its address.
func (c *compiler) constBytes(b []byte) uint32 {
	addr := c.alloc(uint32(len(b)))
	if len(b) > 0 {
		c.data = append(c.data, dataBlock{addr: addr, b: append([]byte(nil), b...)})
	}
	return addr
}

// fail emits a call of fail_step with the message FailurePrefix + before
// + "??" + after, whose "??" fail_step replaces by the value pushValue
// pushes; with pushValue nil the message is FailurePrefix + before.
func (c *compiler) fail(code *wasmenc.Code, before, after string, pushValue func()) {
	text := FailurePrefix + before
	if pushValue != nil {
		text += "??" + after
	}
	addr := c.constBytes([]byte(text))
	digits := uint32(0)
	if pushValue != nil {
		digits = addr + uint32(len(FailurePrefix+before))
	}
	code.I32Const(int32(addr)).I32Const(int32(len(text))).I32Const(int32(digits))
	if pushValue != nil {
		pushValue()
	} else {
		code.I32Const(0)
	}
	code.Call(c.failStep)
}

func (c *compiler) slot(name string) (named, error) {
	v, ok := c.names[name]
	if !ok {
		return named{}, fmt.Errorf("%q is not an out slot or buffer defined by an earlier argument", name)
	}
	return v, nil
}

func (c *compiler) step(code *wasmenc.Code, i int, s *Step, kind string) error {
	switch kind {
	case "call":
		return c.call(code, i, s)
	case "check":
		return c.check(code, i, s)
	case "write_file":
		return c.writeFile(code, i, s)
	case "write_fd":
		where := fmt.Sprintf("step %d: write_fd %d", i+1, *s.WriteFD)
		c.write(code, where, func() { code.I32Const(int32(*s.WriteFD)) }, []byte(*s.Text))
	case "exit":
		code.I32Const(int32(*s.Exit)).Call(c.imports[wasi+".proc_exit"])
	case "trap":
		code.Unreachable()
	}
	return nil
}

func (c *compiler) call(code *wasmenc.Code, i int, s *Step) error {
	params := c.params[s.Call]
	var pushes []func()
	k := 0
	for _, raw := range s.Args {
		a, err := parseArg(raw)
		if err != nil {
			return fmt.Errorf("call %s: %w", s.Call, err)
		}
		if k+a.width() > len(params) {
			return fmt.Errorf("call %s: arguments fill more than its %d parameters", s.Call, len(params))
		}
		p, err := c.arg(code, a, params[k:k+a.width()])
		if err != nil {
			return fmt.Errorf("call %s: argument %d (%s): %w", s.Call, k+1, raw, err)
		}
		pushes = append(pushes, p...)
		k += a.width()
	}
	if k != len(params) {
		return fmt.Errorf("call %s: arguments fill %d of its %d parameters", s.Call, k, len(params))
	}
	repeat := max(s.Repeat, 1)
	if repeat > 1 {
		code.I32Const(0).LocalSet(localCounter)
		code.Block().Loop()
		code.LocalGet(localCounter).I32Const(int32(repeat)).I32GeU().BrIf(1)
	}
	for _, p := range pushes {
		p()
	}
	code.Call(c.imports[s.Call]).LocalSet(localStatus)
	status := func() { code.LocalGet(localStatus) }
	if s.Stops {
		c.fail(code, fmt.Sprintf("step %d (%s): returned status ", i+1, s.Call), " instead of stopping the guest", status)
	} else {
		want, err := statusCode(c.opt.Spec, s.Expect)
		if err != nil {
			return fmt.Errorf("call %s: %w", s.Call, err)
		}
		code.LocalGet(localStatus).I32Const(int32(want)).I32Ne().If()
		c.fail(code, fmt.Sprintf("step %d (%s): got status ", i+1, s.Call), fmt.Sprintf(", want %d (%s)", want, s.Expect), status)
		code.End()
	}
	if repeat > 1 {
		code.LocalGet(localCounter).I32Const(1).I32Add().LocalSet(localCounter)
		code.Br(0).End().End()
	}
	return nil
}

// arg allocates what an argument needs and returns the instructions that
// push its values, checked against the Wasm types of the parameters it
// fills.
func (c *compiler) arg(code *wasmenc.Code, a *argForm, types []wasmenc.ValType) ([]func(), error) {
	i32 := func(v int32) func() { return func() { code.I32Const(v) } }
	needI32 := func() error {
		for _, t := range types {
			if t != wasmenc.I32 {
				return fmt.Errorf("fills a %s parameter, want i32", t)
			}
		}
		return nil
	}
	switch a.kind {
	case "literal":
		switch types[0] {
		case wasmenc.I32:
			v, err := intLiteral(a.lit, 32)
			if err != nil {
				return nil, err
			}
			return []func(){i32(int32(uint32(v)))}, nil
		case wasmenc.I64:
			v, err := intLiteral(a.lit, 64)
			if err != nil {
				return nil, err
			}
			return []func(){func() { code.I64Const(v) }}, nil
		case wasmenc.F64:
			v, err := floatLiteral(a.lit)
			if err != nil {
				return nil, err
			}
			return []func(){func() { code.F64Const(v) }}, nil
		}
		return nil, fmt.Errorf("parameter type %s is not supported", types[0])
	case "str", "hex", "f64s":
		if err := needI32(); err != nil {
			return nil, err
		}
		addr := c.constBytes(a.str)
		n := uint32(len(a.str))
		if a.count {
			n /= 8
		}
		return []func(){i32(int32(addr)), i32(int32(n))}, nil
	case "buf":
		if err := needI32(); err != nil {
			return nil, err
		}
		addr := c.alloc(a.buf)
		if a.name != "" {
			if _, dup := c.names[a.name]; dup {
				return nil, fmt.Errorf("name %q is already taken", a.name)
			}
			c.names[a.name] = named{addr: addr, size: a.buf}
		}
		return []func(){i32(int32(addr)), i32(int32(a.buf))}, nil
	case "out":
		if err := needI32(); err != nil {
			return nil, err
		}
		v, ok := c.names[a.name]
		switch {
		case !ok:
			v = named{addr: c.alloc(max(a.buf, 8)), size: max(a.buf, 8), slot: true}
			c.names[a.name] = v
		case !v.slot:
			return nil, fmt.Errorf("%q is a buffer, not an out slot", a.name)
		case a.buf > v.size:
			return nil, fmt.Errorf("out slot %q has %d bytes, not %d", a.name, v.size, a.buf)
		}
		return []func(){i32(int32(v.addr))}, nil
	case "var":
		v, err := c.slot(a.name)
		if err != nil {
			return nil, err
		}
		addr := int32(v.addr)
		switch types[0] {
		case wasmenc.I32:
			return []func(){func() { code.I32Const(addr).I32Load(0) }}, nil
		case wasmenc.I64:
			return []func(){func() { code.I32Const(addr).I64Load(0) }}, nil
		case wasmenc.F64:
			return []func(){func() { code.I32Const(addr).F64Load(0) }}, nil
		}
		return nil, fmt.Errorf("parameter type %s is not supported", types[0])
	case "slice":
		if err := needI32(); err != nil {
			return nil, err
		}
		v, err := c.slot(a.name)
		if err != nil {
			return nil, err
		}
		n, err := c.slot(a.lenVar)
		if err != nil {
			return nil, err
		}
		return []func(){i32(int32(v.addr)), func() { code.I32Const(int32(n.addr)).I32Load(0) }}, nil
	case "ptr":
		if err := needI32(); err != nil {
			return nil, err
		}
		v, err := c.slot(a.name)
		if err != nil {
			return nil, err
		}
		return []func(){i32(int32(v.addr))}, nil
	case "mem_end":
		if err := needI32(); err != nil {
			return nil, err
		}
		return []func(){func() { code.MemorySize().I32Const(16).I32Shl().I32Const(int32(a.memEnd)).I32Sub() }}, nil
	}
	return nil, fmt.Errorf("unknown argument form %q", a.kind)
}

func (c *compiler) check(code *wasmenc.Code, i int, s *Step) error {
	v, err := c.slot(s.Check)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	addr := int32(v.addr)
	switch {
	case s.I32 != nil:
		if *s.I32 < math.MinInt32 || *s.I32 > math.MaxUint32 {
			return fmt.Errorf("check %s: %d is not a 32-bit value", s.Check, *s.I32)
		}
		code.I32Const(addr).I32Load(0).I32Const(int32(uint32(*s.I32))).I32Ne()
		code.If()
		c.fail(code, fmt.Sprintf("step %d: %s is not %d", i+1, s.Check, *s.I32), "", nil)
		code.End()
	case s.I64 != nil:
		want, err := intLiteral(json.RawMessage(s.I64.String()), 64)
		if err != nil {
			return fmt.Errorf("check %s: %w", s.Check, err)
		}
		code.I32Const(addr).I64Load(0).I64Const(want).I64Ne()
		code.If()
		c.fail(code, fmt.Sprintf("step %d: %s is not %s", i+1, s.Check, s.I64.String()), "", nil)
		code.End()
	case len(s.F64) > 0:
		want, err := floatLiteral(s.F64)
		if err != nil {
			return fmt.Errorf("check %s: %w", s.Check, err)
		}
		if math.IsNaN(want) {
			// Only NaN is unequal to itself.
			code.I32Const(addr).F64Load(0).I32Const(addr).F64Load(0).F64Eq()
		} else {
			code.I32Const(addr).F64Load(0).F64Const(want).F64Ne()
		}
		code.If()
		c.fail(code, fmt.Sprintf("step %d: %s is not %s", i+1, s.Check, s.F64), "", nil)
		code.End()
	case s.Text != nil || s.Hex != nil:
		want, what := []byte(nil), ""
		if s.Text != nil {
			want, what = []byte(*s.Text), strconv.Quote(*s.Text)
		} else {
			if want, err = decodeHex(*s.Hex); err != nil {
				return fmt.Errorf("check %s: %w", s.Check, err)
			}
			what = "hex " + *s.Hex
		}
		if uint32(len(want)) > v.size {
			return fmt.Errorf("check %s: %d bytes expected, but it holds %d", s.Check, len(want), v.size)
		}
		wantAddr := c.constBytes(want)
		code.I32Const(addr).I32Const(int32(wantAddr)).I32Const(int32(len(want))).Call(c.memEq).I32Eqz()
		code.If()
		c.fail(code, fmt.Sprintf("step %d: %s does not start with %s", i+1, s.Check, what), "", nil)
		code.End()
	}
	return nil
}

// WASI constants for path_open.
const (
	oflagCreat = 1
	oflagTrunc = 8
	// fd_read, fd_seek, fd_tell, fd_write, fd_filestat_get
	rightsFile = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<21
)

func (c *compiler) writeFile(code *wasmenc.Code, i int, s *Step) error {
	name, text := []byte(s.WriteFile), []byte(*s.Text)
	nameAddr := c.constBytes(name)
	errno := func() { code.LocalGet(localStatus) }
	where := fmt.Sprintf("step %d: write_file %s", i+1, s.WriteFile)

	code.I32Const(int32(c.scratchName)).I32Const(8).Call(c.findPreopen).LocalTee(localFD).I32Const(0).I32LtS()
	code.If()
	c.fail(code, where+": no /scratch preopen", "", nil)
	code.End()
	code.LocalGet(localFD).I32Const(0).I32Const(int32(nameAddr)).I32Const(int32(len(name))).I32Const(oflagCreat | oflagTrunc).
		I64Const(rightsFile).I64Const(0).I32Const(0).I32Const(int32(c.fdOut)).
		Call(c.imports[wasi+".path_open"]).LocalTee(localStatus)
	code.If()
	c.fail(code, where+": path_open errno ", "", errno)
	code.End()
	c.write(code, where, func() { code.I32Const(int32(c.fdOut)).I32Load(0) }, text)
	code.I32Const(int32(c.fdOut)).I32Load(0).Call(c.imports[wasi+".fd_close"]).LocalTee(localStatus)
	code.If()
	c.fail(code, where+": fd_close errno ", "", errno)
	code.End()
	return nil
}

// write emits fd_write of text to the descriptor pushFD pushes, failing
// the job if it does not write everything.
func (c *compiler) write(code *wasmenc.Code, where string, pushFD func(), text []byte) {
	textAddr := c.constBytes(text)
	iov := c.constBytes(appendU32(appendU32(nil, textAddr), uint32(len(text))))
	pushFD()
	code.I32Const(int32(iov)).I32Const(1).I32Const(int32(c.nWritten)).Call(c.imports[wasi+".fd_write"]).LocalTee(localStatus)
	code.If()
	c.fail(code, where+": fd_write errno ", "", func() { code.LocalGet(localStatus) })
	code.End()
	code.I32Const(int32(c.nWritten)).I32Load(0).I32Const(int32(len(text))).I32Ne()
	code.If()
	c.fail(code, where+": short write", "", nil)
	code.End()
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// emitFailStep writes fail_step(msg, len, digits, value): it writes value
// as two decimal digits at digits (when digits is not 0 and value < 100),
// fails the job with the message and traps, in case xf.fail returns
// because the job has already ended.
func (c *compiler) emitFailStep(code *wasmenc.Code) {
	const msg, n, digits, value = 0, 1, 2, 3
	code.LocalGet(digits).If()
	code.LocalGet(value).I32Const(100).I32LtU().If()
	code.LocalGet(digits).LocalGet(value).I32Const(10).I32DivU().I32Const('0').I32Add().I32Store8(0)
	code.LocalGet(digits).LocalGet(value).I32Const(10).I32RemU().I32Const('0').I32Add().I32Store8(1)
	code.End().End()
	code.LocalGet(msg).LocalGet(n).Call(c.imports["xf.fail"]).Drop().Unreachable()
}

// emitMemEq writes memeq(a, b, n) -> 1 if the n bytes at a and b are equal.
func emitMemEq(code *wasmenc.Code) {
	const a, b, n, i = 0, 1, 2, 3
	code.Block().Loop()
	code.LocalGet(i).LocalGet(n).I32GeU().BrIf(1)
	code.LocalGet(a).LocalGet(i).I32Add().I32Load8U(0)
	code.LocalGet(b).LocalGet(i).I32Add().I32Load8U(0)
	code.I32Ne().If().I32Const(0).Return().End()
	code.LocalGet(i).I32Const(1).I32Add().LocalSet(i)
	code.Br(0).End().End()
	code.I32Const(1)
}

// emitFindPreopen writes find_preopen(name, len) -> the file descriptor of
// the preopened directory with that name, or -1. It scans descriptors
// 3..63 instead of assuming an order of the host's mounts.
func (c *compiler) emitFindPreopen(code *wasmenc.Code) {
	const name, n, fd = 0, 1, 2
	code.I32Const(3).LocalSet(fd)
	code.Block().Loop()
	code.LocalGet(fd).I32Const(64).I32GeU().BrIf(1)
	code.LocalGet(fd).I32Const(int32(c.prestat)).Call(c.imports[wasi+".fd_prestat_get"]).I32Eqz().If()
	code.I32Const(int32(c.prestat)).I32Load(4).LocalGet(n).I32Eq().If()
	code.LocalGet(fd).I32Const(int32(c.nameBuf)).LocalGet(n).Call(c.imports[wasi+".fd_prestat_dir_name"]).I32Eqz().If()
	code.I32Const(int32(c.nameBuf)).LocalGet(name).LocalGet(n).Call(c.memEq).If()
	code.LocalGet(fd).Return()
	code.End().End().End().End()
	code.LocalGet(fd).I32Const(1).I32Add().LocalSet(fd)
	code.Br(0).End().End()
	code.I32Const(-1)
}
