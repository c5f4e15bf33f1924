package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
)

// importFunc implements one ABI import. args holds the parameters as
// engine.HostFunc receives them; the returned status becomes the result.
type importFunc func(ctx context.Context, j *job, c engine.Memory, args []uint64) abi.Status

// implementations is the host's registration table: one entry per import
// of abi.json, which a test checks in both directions.
var implementations = map[string]importFunc{
	"xf.inputs_get":             xfInputsGet,
	"xf.job_info_get":           xfJobInfoGet,
	"xf.output_set":             xfOutputSet,
	"xf.output_units_set":       xfOutputUnitsSet,
	"xf.finish":                 xfFinish,
	"xf.fail":                   xfFail,
	"xf.error_set":              xfErrorSet,
	"xf.error_clear":            xfErrorClear,
	"xf.progress_set":           xfProgressSet,
	"xf.estimated_duration_set": xfEstimatedDurationSet,
	"xf.log":                    xfLog,
	"xf.activity_log":           xfActivityLog,
	"xf.temp_path_create":       xfTempPathCreate,
	"xf.related_path_create":    xfRelatedPathCreate,
	"xf.input_file_fetch":       xfInputFileFetch,
	"xf.output_file_upload":     xfOutputFileUpload,
	"xf.image_open":             xfImageOpen,
	"xf.image_info_get":         xfImageInfoGet,
	"xf.image_read":             xfImageRead,
	"xf.image_write":            xfImageWrite,
	"xf.image_create":           xfImageCreate,
	"xf.output_image_set":       xfOutputImageSet,
	"xf.image_close":            xfImageClose,
	"clip.minmax":               clipMinMax,
	"clip.threshold":            clipThreshold,
	"clip.stats":                clipStats,
	"clip.histogram":            clipHistogram,
	"clip.threshold_multi":      clipThresholdMulti,
	"clip.mask":                 clipMask,
	"clip.convert":              clipConvert,
	"clip.arith_scalar":         clipArithScalar,
	"clip.arith":                clipArith,
	"clip.gaussian":             clipGaussian,
	"clip.median":               clipMedian,
	"clip.morphology":           clipMorphology,
	"clip.label":                clipLabel,
	"clip.component_sizes":      clipComponentSizes,
	"clip.keep_largest":         clipKeepLargest,
	"clip.remove_small":         clipRemoveSmall,
	"clip.distance_transform":   clipDistanceTransform,
	"clip.bvtv":                 clipBVTV,
	"clip.crop":                 clipCrop,
	"clip.bounding_box":         clipBoundingBox,
	"clip.resample":             clipResample,
}

// Imports returns the host modules to create an engine with: every import
// of the ABI, with the signature abi.json gives it.
func Imports() []engine.HostModule {
	mods := map[string]*engine.HostModule{}
	var order []string
	for i := range spec.Functions {
		f := &spec.Functions[i]
		impl, ok := implementations[f.QualifiedName()]
		if !ok {
			// TestRegistrationMatchesSpec rules this out.
			panic("host: no implementation of " + f.QualifiedName())
		}
		m := mods[f.Module]
		if m == nil {
			m = &engine.HostModule{Name: f.Module}
			mods[f.Module] = m
			order = append(order, f.Module)
		}
		params := make([]engine.ValueType, len(f.Params))
		for k, w := range spec.WasmParams(f) {
			params[k], _ = engine.ParseValueType(w)
		}
		m.Functions = append(m.Functions, engine.HostFunction{
			Name: f.Name, Params: params, Results: []engine.ValueType{engine.I32},
			Func: serve(f.QualifiedName(), impl),
		})
	}
	out := make([]engine.HostModule, 0, len(order))
	for _, name := range order {
		out = append(out, *mods[name])
	}
	return out
}

// serve adapts an import to an engine.HostFunc. It finds the job in the
// context, and turns a panic in the implementation (a host bug) into
// INTERNAL instead of taking the host down; a guest exit passes through.
func serve(name string, impl importFunc) engine.HostFunc {
	return func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		j := jobFrom(ctx)
		if j == nil {
			stack[0] = uint64(abi.Internal)
			return false, 0
		}
		// Past the deadline (or after cancellation) the guest is stopped at
		// its next host call instead of being served: the engine notices
		// the deadline only at loop headers, and a guest served a fail or
		// finish here would decide the outcome of a job that has already
		// run out of time.
		select {
		case <-ctx.Done():
			if j.opt.OnCall != nil {
				j.opt.OnCall(Call{Import: name, Stopped: true})
			}
			return true, 1
		default:
		}
		st := call(ctx, name, impl, j, mem, stack)
		if j.opt.OnCall != nil {
			j.opt.OnCall(Call{Import: name, Status: st, Stopped: st == stopGuest})
		}
		if st == stopGuest {
			return true, 1
		}
		stack[0] = uint64(st)
		return false, 0
	}
}

// stopGuest is returned by an import that ended the job and wants the
// guest stopped; it never reaches the guest.
const stopGuest abi.Status = math.MaxUint32

func call(ctx context.Context, name string, impl importFunc, j *job, c engine.Memory, stack []uint64) (st abi.Status) {
	defer func() {
		if r := recover(); r != nil {
			j.h.log.Error("host function panicked", "import", name, "job", j.res.JobID, "panic", r)
			st = abi.Internal
		}
	}()
	return impl(ctx, j, c, stack)
}

// Argument decoding.
func u32(v uint64) uint32  { return uint32(v) }
func i32(v uint64) int32   { return int32(uint32(v)) }
func f64(v uint64) float64 { return math.Float64frombits(v) }

// readBytes returns a copy of guest memory [ptr, ptr+n).
func readBytes(c engine.Memory, ptr, n uint32) ([]byte, bool) {
	b, ok := c.Read(ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

func readString(c engine.Memory, ptr, n uint32) (string, bool) {
	b, ok := c.Read(ptr, n)
	if !ok {
		return "", false
	}
	return string(b), true
}

func writeU32(c engine.Memory, ptr, v uint32) bool {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return c.Write(ptr, b[:])
}

func writeF64(c engine.Memory, ptr uint32, v float64) bool {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
	return c.Write(ptr, b[:])
}

// writeResult implements the caller-buffer convention: the full length
// always goes to lenOut; the data only if it fits.
func writeResult(c engine.Memory, data []byte, buf, bufCap, lenOut uint32) abi.Status {
	if st := reserveResult(c, len(data), buf, bufCap, lenOut); st != abi.OK {
		return st
	}
	c.Write(buf, data)
	return abi.OK
}

// reserveResult does the checks of writeResult for a result of n bytes
// without writing it, so that an import with a side effect (claiming a
// name, uploading a file) performs it only once the result will fit, and a
// guest retrying with a larger buffer gets the same result.
func reserveResult(c engine.Memory, n int, buf, bufCap, lenOut uint32) abi.Status {
	if !writeU32(c, lenOut, uint32(n)) {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(buf, bufCap); !ok {
		return abi.InvalidMemoryAccess
	}
	if uint64(n) > uint64(bufCap) {
		return abi.BufferTooSmall
	}
	return abi.OK
}

func xfInputsGet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	return writeResult(c, j.inputsJSON, u32(a[0]), u32(a[1]), u32(a[2]))
}

func xfJobInfoGet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	info, _ := json.Marshal(map[string]any{
		"job_id":     j.res.JobID,
		"job_serial": j.opt.JobSerial,
		"task_type": map[string]string{
			"name":    j.task.Module.Metadata.Name,
			"version": j.task.Module.Metadata.Version,
		},
		"abi_version": spec.Version.String(),
	})
	return writeResult(c, info, u32(a[0]), u32(a[1]), u32(a[2]))
}

// outputStatus maps an output validation error onto a status.
func (j *job) setOutput(key string, value json.RawMessage) abi.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return abi.InvalidState
	}
	total := len(value) - j.outBytes[key]
	for _, n := range j.outBytes {
		total += n
	}
	if int64(total) > j.limits.OutputJSONBytes {
		return abi.LimitExceeded
	}
	j.outBytes[key] = len(value)
	j.res.Outputs[key] = value
	return abi.OK
}

func xfOutputSet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	key, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	value, ok := readBytes(c, u32(a[2]), u32(a[3]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if st := j.checkOutput(key, value); st != abi.OK {
		return st
	}
	return j.setOutput(key, compactJSON(value))
}

func compactJSON(v []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}

func xfOutputUnitsSet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	data, ok := readBytes(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	var raw map[string]json.RawMessage
	if !json.Valid(data) {
		return abi.InvalidJSON
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return abi.TypeMismatch
	}
	units := map[string]string{}
	for k, v := range raw {
		if _, ok := j.task.Module.Interface.Output(k); !ok {
			return abi.NotFound
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return abi.TypeMismatch
		}
		units[k] = s
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return abi.InvalidState
	}
	if j.res.Units == nil {
		j.res.Units = map[string]string{}
	}
	for k, v := range units {
		j.res.Units[k] = v
	}
	return abi.OK
}

func xfFinish(_ context.Context, j *job, _ engine.Memory, _ []uint64) abi.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return abi.InvalidState
	}
	if missing := j.missingOutputs(); len(missing) > 0 {
		j.failLocked("finish called without required outputs: " + strings.Join(missing, ", "))
		return abi.InvalidState
	}
	j.ended, j.finished = true, true
	return abi.OK
}

func xfFail(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	msg, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		msg = "guest called fail with a message outside its memory"
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > 64<<10 {
		msg = msg[:64<<10] + " [truncated]"
	}
	j.mu.Lock()
	if j.ended {
		j.mu.Unlock()
		return abi.InvalidState
	}
	j.failLocked(msg)
	j.mu.Unlock()
	return stopGuest
}

func xfErrorSet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	msg, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if int64(len(msg)) > min(64<<10, j.limits.LogBytes) {
		return abi.LimitExceeded
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.res.ErrorNote = strings.ToValidUTF8(msg, "\uFFFD")
	return abi.OK
}

func xfErrorClear(_ context.Context, j *job, _ engine.Memory, _ []uint64) abi.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.res.ErrorNote = ""
	return abi.OK
}

func xfProgressSet(_ context.Context, j *job, _ engine.Memory, a []uint64) abi.Status {
	p := f64(a[0])
	if !(p >= 0 && p <= 100) {
		return abi.BadArgument
	}
	j.mu.Lock()
	now := timeNow()
	pr := Progress{Time: now, Percent: p}
	if len(j.res.Progress) < 10000 {
		j.res.Progress = append(j.res.Progress, pr)
	} else {
		j.res.Progress[len(j.res.Progress)-1] = pr
	}
	if p > 0 {
		j.res.EstimatedDuration = durationSeconds(now.Sub(j.start).Seconds() * 100 / p)
	}
	cb := j.opt.OnProgress
	j.mu.Unlock()
	if cb != nil {
		cb(pr)
	}
	return abi.OK
}

func xfEstimatedDurationSet(_ context.Context, j *job, _ engine.Memory, a []uint64) abi.Status {
	s := f64(a[0])
	if !(s >= 0) || math.IsInf(s, 0) || s > 1e9 {
		return abi.BadArgument
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.res.EstimatedDuration = durationSeconds(s)
	return abi.OK
}

func xfLog(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	level := i32(a[0])
	msg, ok := readString(c, u32(a[1]), u32(a[2]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if level < int32(Debug) || level > int32(Error) {
		return abi.BadArgument
	}
	return j.addLog(Level(level), "guest", neutralise(msg))
}

func xfActivityLog(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	level := i32(a[0])
	title, ok := readString(c, u32(a[1]), u32(a[2]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if level < int32(Debug) || level > int32(Error) {
		return abi.BadArgument
	}
	title = neutralise(strings.ToValidUTF8(title, "\uFFFD"))
	j.mu.Lock()
	defer j.mu.Unlock()
	if int64(j.logBytes+len(title)) > j.limits.LogBytes {
		return abi.LimitExceeded
	}
	j.logBytes += len(title)
	j.res.Activity = append(j.res.Activity, Activity{Time: timeNow(), Level: Level(level), Title: title})
	return abi.OK
}

// validName reports whether s is a plain file name usable in scratch.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= 255 && utf8.ValidString(s) &&
		!strings.ContainsAny(s, "/\\\x00")
}

func xfTempPathCreate(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	name, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if !validName(name) {
		return abi.BadArgument
	}
	return j.createScratchPath(c, name, u32(a[2]), u32(a[3]), u32(a[4]))
}

func xfRelatedPathCreate(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	p, ok1 := readString(c, u32(a[0]), u32(a[1]))
	postfix, ok2 := readString(c, u32(a[2]), u32(a[3]))
	if !ok1 || !ok2 {
		return abi.InvalidMemoryAccess
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	name := base + postfix
	if !utf8.ValidString(p) || !validName(name) || strings.ContainsAny(postfix, "/\\\x00") {
		return abi.BadArgument
	}
	return j.createScratchPath(c, name, u32(a[4]), u32(a[5]), u32(a[6]))
}

// createScratchPath returns a fresh scratch path for name, claiming it only
// when the result fits the guest's buffer.
func (j *job) createScratchPath(c engine.Memory, name string, buf, bufCap, lenOut uint32) abi.Status {
	j.mu.Lock()
	rel, err := j.freeScratchName(name)
	if err != nil {
		j.mu.Unlock()
		j.addLog(Error, "host", err.Error())
		return abi.IOError
	}
	defer j.mu.Unlock()
	p := scratchGuestDir + rel
	if st := reserveResult(c, len(p), buf, bufCap, lenOut); st != abi.OK {
		return st
	}
	j.claimed[rel] = true
	c.Write(buf, []byte(p))
	return abi.OK
}

const (
	scratchGuestDir = "/scratch/"
	inputsGuestDir  = "/inputs/"
)

func timeNow() time.Time { return time.Now() }

func durationSeconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
