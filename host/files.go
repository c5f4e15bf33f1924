package host

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/params"
	"github.com/xfhost/xfhost/taskmodule"
)

// compositeInput returns a non-null composite input's type and value.
func (j *job) compositeInput(key string) (typ string, value json.RawMessage, st abi.Status) {
	in, ok := j.task.Module.Interface.Input(key)
	if !ok {
		return "", nil, abi.NotFound
	}
	if params.IsPrimitive(in.Type) {
		return "", nil, abi.TypeMismatch
	}
	v := j.inputVals[key]
	if len(v) == 0 || string(v) == "null" {
		return "", nil, abi.NotFound
	}
	return in.Type, v, abi.OK
}

func xfInputFileFetch(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	key, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	typ, value, st := j.compositeInput(key)
	if st != abi.OK {
		return st
	}
	refs, err := params.FileRefs(typ, value)
	if err != nil {
		return abi.TypeMismatch
	}
	if len(refs) == 0 {
		return abi.NotFound
	}
	for _, ref := range refs {
		f, err := j.h.store.Fetch(ctx, ref)
		if err != nil {
			j.addLog(Error, "host", "fetch input "+key+": "+err.Error())
			return abi.IOError
		}
		j.inputs.add(key+"/"+path.Base(ref), f)
	}
	return writeResult(c, []byte(inputsGuestDir+key+"/"+path.Base(refs[0])), u32(a[2]), u32(a[3]), u32(a[4]))
}

// scratchName maps a guest path under /scratch/ to a scratch-relative name.
func scratchName(p string) (string, bool) {
	rel, ok := strings.CutPrefix(path.Clean(p), scratchGuestDir)
	if !ok || rel == "" || !validRel(rel) {
		return "", false
	}
	return rel, true
}

func validRel(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// outputRef returns a fresh file reference under the job's output prefix.
func (j *job) outputRef(name string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	ref := "jobs/" + j.res.JobID + "/" + name
	for n := 2; j.uploaded[ref]; n++ {
		ext := path.Ext(name)
		ref = "jobs/" + j.res.JobID + "/" + strings.TrimSuffix(name, ext) + "-" + strconv.Itoa(n) + ext
	}
	return ref
}

// errUploadLimit is an upload beyond the policy's output file limits.
var errUploadLimit = errors.New("output file limit reached")

// upload stores size bytes from r under ref and remembers the reference, so
// that outputs can only point at files the job produced.
func (j *job) upload(ctx context.Context, ref string, r io.Reader, size int64) error {
	j.mu.Lock()
	if int64(len(j.uploaded))+1 > j.limits.OutputFiles || j.uploadBytes+size > j.limits.OutputFileBytes {
		j.mu.Unlock()
		return errUploadLimit
	}
	j.uploadBytes += size
	j.mu.Unlock()
	if _, err := j.h.store.Put(ctx, ref, io.LimitReader(r, size)); err != nil {
		j.mu.Lock()
		j.uploadBytes -= size
		j.mu.Unlock()
		return err
	}
	j.mu.Lock()
	j.uploaded[ref] = true
	j.mu.Unlock()
	return nil
}

func xfOutputFileUpload(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	p, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	rel, ok := scratchName(p)
	if !ok {
		return abi.BadArgument
	}
	if j.hasEnded() {
		return abi.InvalidState
	}
	f, err := j.scratch.Open(rel)
	if errors.Is(err, os.ErrNotExist) {
		return abi.NotFound
	} else if err != nil {
		return abi.BadArgument // a symlink out of scratch, a directory, ...
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return abi.BadArgument
	}
	ref := j.outputRef(path.Base(rel))
	if st := reserveResult(c, len(ref), u32(a[2]), u32(a[3]), u32(a[4])); st != abi.OK {
		return st
	}
	if err := j.upload(ctx, ref, f, st.Size()); errors.Is(err, errUploadLimit) {
		return abi.LimitExceeded
	} else if err != nil {
		j.addLog(Error, "host", "upload "+p+": "+err.Error())
		return abi.IOError
	}
	c.Write(u32(a[2]), []byte(ref))
	return abi.OK
}

func (j *job) hasEnded() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ended
}

// checkOutput validates an output value against the interface and checks
// that every file it references was uploaded by this job or is an input.
func (j *job) checkOutput(key string, value []byte) abi.Status {
	out, ok := j.task.Module.Interface.Output(key)
	if !ok {
		return abi.NotFound
	}
	if err := j.task.Module.Interface.CheckOutput(key, value); err != nil {
		switch {
		case errors.Is(err, params.ErrInvalidJSON):
			return abi.InvalidJSON
		case errors.Is(err, taskmodule.ErrUnknownOutput):
			return abi.NotFound
		default:
			return abi.TypeMismatch
		}
	}
	if params.IsPrimitive(out.Type) {
		return abi.OK
	}
	refs, err := params.FileRefs(out.Type, value)
	if err != nil {
		return abi.TypeMismatch
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ref := range refs {
		if !j.uploaded[ref] && !j.isInputRef(ref) {
			return abi.Denied
		}
	}
	return abi.OK
}

func (j *job) isInputRef(ref string) bool {
	for _, in := range j.task.Module.Interface.Inputs {
		v := j.inputVals[in.Key]
		if params.IsPrimitive(in.Type) || len(v) == 0 || string(v) == "null" {
			continue
		}
		refs, _ := params.FileRefs(in.Type, v)
		for _, r := range refs {
			if r == ref {
				return true
			}
		}
	}
	return false
}
