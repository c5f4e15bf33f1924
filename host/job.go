package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/policy"
)

// spec is the ABI this host implements; it is immutable after loading.
var spec = abi.MustLoad()

type jobKey struct{}

func withJob(ctx context.Context, j *job) context.Context { return context.WithValue(ctx, jobKey{}, j) }

func jobFrom(ctx context.Context) *job { j, _ := ctx.Value(jobKey{}).(*job); return j }

// job is the state of one running job. Host functions of one guest run
// one at a time, but the mutex keeps the state consistent for observers
// such as progress callbacks and cancellation.
type job struct {
	mu     sync.Mutex
	h      *Host
	task   *Task
	opt    RunOptions
	res    Result
	limits policy.Limits

	inputsJSON []byte
	inputVals  map[string]json.RawMessage
	inputs     *inputView
	scratchDir string
	scratch    *os.Root

	finished    bool // finish succeeded
	ended       bool // finish or fail: the outcome is decided
	logBytes    int
	logFull     bool // the log limit was hit: later lines are dropped
	outBytes    map[string]int
	uploaded    map[string]bool // file references this job stored
	uploadBytes int64
	claimed     map[string]bool // scratch names handed out
	images      handleTable
	imageBytes  int64
	start       time.Time
}

func (h *Host) newJob(task *Task, opt RunOptions) (*job, error) {
	dir, err := h.scratch.get()
	if err != nil {
		return nil, fmt.Errorf("host: create scratch directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		h.scratch.put(dir)
		return nil, fmt.Errorf("host: open scratch directory: %w", err)
	}
	j := &job{
		h: h, task: task, opt: opt, limits: task.limits,
		scratchDir: dir, scratch: root,
		inputs:   newInputView(),
		outBytes: map[string]int{},
		uploaded: map[string]bool{},
		claimed:  map[string]bool{},
		images:   newHandleTable(&h.handleGen),
		start:    time.Now(),
	}
	j.res = Result{
		JobID:    newJobID(),
		TaskType: task.Module.Metadata.Name,
		Version:  task.Module.Metadata.Version,
		State:    Running,
		Outputs:  map[string]json.RawMessage{},
		Log:      []LogLine{},
	}
	return j, nil
}

// close releases everything the job holds, whatever its end.
func (j *job) close() {
	j.images.closeAll()
	j.inputs.close()
	j.scratch.Close()
	if j.res.State == Failed && j.opt.KeepScratch {
		j.h.log.Info("kept scratch directory of failed job", "job", j.res.JobID, "dir", j.scratchDir)
		return
	}
	if err := j.h.scratch.put(j.scratchDir); err != nil {
		j.h.log.Warn("remove scratch directory", "job", j.res.JobID, "err", err)
	}
}

func (j *job) setInputs(resolved json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(resolved, &m); err != nil {
		return err
	}
	j.inputsJSON, j.inputVals = resolved, m
	return nil
}

// failf decides the job as failed, unless its outcome is already decided.
func (j *job) failf(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failLocked(fmt.Sprintf(format, args...))
}

func (j *job) failLocked(msg string) {
	if j.ended && j.res.State == Failed {
		return
	}
	j.ended = true
	j.res.State = Failed
	j.res.Error = msg
}

// end decides the job's state from how the guest ended.
func (j *job) end(runErr error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var exit *engine.ExitError
	switch {
	case j.res.State == Failed:
		// fail() or a failed finish already decided it.
	case runErr == nil && j.finished:
		j.res.State = Done
	case runErr == nil:
		j.failLocked("guest exited without calling finish")
	case errors.Is(runErr, context.DeadlineExceeded):
		j.failLocked("deadline exceeded: the job ran longer than " + time.Duration(j.limits.Deadline).String())
	case errors.Is(runErr, context.Canceled):
		j.failLocked("job cancelled")
	case errors.As(runErr, &exit):
		j.failLocked(fmt.Sprintf("guest exited with code %d", exit.Code))
	default:
		j.failLocked(runErr.Error())
	}
}

func (j *job) result(start time.Time) *Result {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.res
	if r.State == Failed {
		r.Outputs = map[string]json.RawMessage{}
	}
	r.Timings.Total = time.Since(start)
	return &r
}

// addLog appends a log line within the log budget; past it, one marker
// line says that the rest was dropped.
func (j *job) addLog(level Level, source, msg string) abi.Status {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	j.mu.Lock()
	if j.logFull || int64(j.logBytes+len(msg)) > j.limits.LogBytes || int64(len(j.res.Log)) >= j.limits.LogLines {
		over := !j.logFull
		j.logFull = true
		if over {
			j.res.Log = append(j.res.Log, LogLine{Time: time.Now(), Level: Warning, Source: "host", Message: "log limit reached; further lines dropped"})
		}
		j.mu.Unlock()
		return abi.LimitExceeded
	}
	j.logBytes += len(msg)
	line := LogLine{Time: time.Now(), Level: level, Source: source, Message: msg}
	j.res.Log = append(j.res.Log, line)
	cb := j.opt.OnLog
	j.mu.Unlock()
	if cb != nil {
		cb(line)
	}
	return abi.OK
}

// lineWriter turns a WASI output stream into log lines.
type lineWriter struct {
	j      *job
	source string
	level  Level
	buf    []byte
}

func (j *job) streamWriter(source string, level Level) *lineWriter {
	return &lineWriter{j: j, source: source, level: level}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.j.addLog(w.level, w.source, neutralise(string(w.buf[:i])))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a guest that never writes a newline still gets bounded lines
		w.Flush()
	}
	return len(p), nil
}

// Flush logs a trailing partial line.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.j.addLog(w.level, w.source, neutralise(string(w.buf)))
		w.buf = w.buf[:0]
	}
}

// neutralise replaces control characters (terminal escape sequences among
// them) so guest output cannot drive an operator's terminal.
func neutralise(s string) string {
	s = strings.TrimSuffix(s, "\r")
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError
}

// maxScratchNameTries bounds the search for a free name, so that a guest
// that pre-creates name, name-2, name-3, ... costs the host bounded work.
const maxScratchNameTries = 1000

// freeScratchName returns a scratch-relative file name derived from name
// that has not been handed out and does not exist yet.
func (j *job) freeScratchName(name string) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	cand := name
	for n := 2; n <= maxScratchNameTries+1; n++ {
		if !j.claimed[cand] {
			_, err := j.scratch.Lstat(cand)
			if errors.Is(err, os.ErrNotExist) {
				return cand, nil
			}
			if err != nil {
				return "", fmt.Errorf("scratch %s: %w", cand, err)
			}
		}
		cand = fmt.Sprintf("%s-%d%s", stem, n, ext)
	}
	return "", fmt.Errorf("scratch: no free name for %s after %d tries", name, maxScratchNameTries)
}

// missingOutputs lists interface outputs that were not set.
func (j *job) missingOutputs() []string {
	var missing []string
	for _, o := range j.task.Module.Interface.Outputs {
		if _, ok := j.res.Outputs[o.Key]; !ok {
			missing = append(missing, o.Key)
		}
	}
	sort.Strings(missing)
	return missing
}
