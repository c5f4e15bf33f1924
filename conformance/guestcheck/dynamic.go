package guestcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/params"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

// Names of the dynamic checks. Each scenario adds a check named
// "run." + its name.
const (
	checkLoad       = "host.load"
	checkDeclared   = "outputs.declared"
	checkUndeclared = "outputs.undeclared"
	checkTypes      = "outputs.types"
	checkAccepted   = "outputs.accepted"
)

var outputChecks = []string{checkDeclared, checkUndeclared, checkTypes, checkAccepted}

// scenario is one job to run: a name and the inputs object.
type scenario struct {
	name   string
	inputs map[string]json.RawMessage
	// unmet, if set, says why no valid inputs could be generated (an
	// interface whose constraints no value meets); the job is not run.
	unmet error
}

// outcome is a scenario after its job ended.
type outcome struct {
	name  string
	res   *host.Result
	calls calls
}

// scenarios builds the jobs to run: every input given a valid value, then
// for each input that allows mode none, the same with that input null.
func scenarios(it *taskmodule.Interface, overrides map[string]json.RawMessage) ([]scenario, error) {
	for key := range overrides {
		if _, ok := it.Input(key); !ok {
			return nil, fmt.Errorf("guestcheck: input %q given for the run is not declared by the task interface", key)
		}
	}
	all := map[string]json.RawMessage{}
	unmet := map[string]error{}
	for i := range it.Inputs {
		in := &it.Inputs[i]
		if v, ok := overrides[in.Key]; ok {
			all[in.Key] = v
			continue
		}
		v, err := inputValue(in)
		if err != nil {
			unmet[in.Key] = err
			continue
		}
		all[in.Key] = v
	}
	// unmetExcept joins the generation errors of the inputs a scenario gives.
	unmetExcept := func(null string) error {
		var errs []error
		for i := range it.Inputs {
			if key := it.Inputs[i].Key; key != null && unmet[key] != nil {
				errs = append(errs, unmet[key])
			}
		}
		return errors.Join(errs...)
	}
	out := []scenario{{name: "all-inputs", inputs: all, unmet: unmetExcept("")}}
	for i := range it.Inputs {
		in := &it.Inputs[i]
		if !in.Supports(taskmodule.ModeNone) {
			continue
		}
		s := scenario{name: "null." + in.Key, inputs: maps.Clone(all), unmet: unmetExcept(in.Key)}
		s.inputs[in.Key] = json.RawMessage("null")
		out = append(out, s)
	}
	return out, nil
}

// checkDynamic loads the module on a host with a temporary file store and
// runs every scenario, then checks the outputs of all of them.
func checkDynamic(ctx context.Context, r *Report, wasm []byte, it *taskmodule.Interface, opt Options) error {
	scens, err := scenarios(it, opt.Inputs)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "xfhost-guestcheck-")
	if err != nil {
		return fmt.Errorf("guestcheck: %w", err)
	}
	defer os.RemoveAll(work)
	storeDir, scratchDir := filepath.Join(work, "fss"), filepath.Join(work, "scratch")
	for _, d := range []string{storeDir, scratchDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("guestcheck: %w", err)
		}
	}
	if err := stage(ctx, storeDir); err != nil {
		return err
	}
	store, err := fss.OpenDir(storeDir)
	if err != nil {
		return fmt.Errorf("guestcheck: open file store: %w", err)
	}
	defer store.Close()
	eng, err := engines.New(ctx, opt.Engine, engine.Config{HostModules: recordingImports(), CacheDir: opt.CacheDir})
	if err != nil {
		return fmt.Errorf("guestcheck: %w", err)
	}
	defer eng.Close(context.WithoutCancel(ctx))
	pol := policy.Defaults()
	pol.MaxConcurrentJobs = 1
	pol.Default.Deadline = policy.Duration(opt.Deadline)
	h, err := host.New(host.Options{Engine: eng, Store: store, ScratchDir: scratchDir, Policy: &pol})
	if err != nil {
		return fmt.Errorf("guestcheck: %w", err)
	}
	defer h.Close()

	task, err := h.Load(ctx, wasm)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("guestcheck: load: %w", ctx.Err())
	} else if err != nil {
		r.add(Check{Name: checkLoad, Status: Fail, Message: "the host refuses the module: " + err.Error()})
		skipRest(r, scens, "the host could not load the module")
		return nil
	}
	r.add(Check{Name: checkLoad, Status: Pass, Message: "loaded and compiled on " + eng.Name()})

	var runs []outcome
	for _, s := range scens {
		c, run, err := runScenario(ctx, h, task, it, s)
		if err != nil {
			return err
		}
		r.add(c)
		if run != nil {
			runs = append(runs, *run)
			r.Scenarios = append(r.Scenarios, Scenario{Name: s.name, Inputs: inputsJSON(s.inputs), State: string(run.res.State),
				Error: run.res.Error, Outputs: run.res.Outputs, DurationMS: run.res.Timings.Total.Milliseconds()})
		}
	}
	checkOutputs(r, it, runs)
	return nil
}

func skipRest(r *Report, scens []scenario, why string) {
	for _, s := range scens {
		r.add(Check{Name: "run." + s.name, Status: Skip, Message: why})
	}
	for _, name := range outputChecks {
		r.add(Check{Name: name, Status: Skip, Message: why})
	}
}

// inputsJSON encodes an inputs object. Its values are valid JSON (checked
// overrides or generated), so encoding cannot fail.
func inputsJSON(inputs map[string]json.RawMessage) json.RawMessage {
	data, _ := json.Marshal(inputs)
	return data
}

// runScenario runs one job and judges how it ended. It returns no outcome
// when the inputs are invalid and no job ran.
func runScenario(ctx context.Context, h *host.Host, task *host.Task, it *taskmodule.Interface, s scenario) (Check, *outcome, error) {
	name := "run." + s.name
	if s.unmet != nil {
		return Check{Name: name, Status: Fail, Message: "no valid inputs: " + oneLine(s.unmet.Error())}, nil, nil
	}
	inputs := inputsJSON(s.inputs)
	if _, err := it.ResolveInputs(inputs); err != nil {
		return Check{Name: name, Status: Fail, Message: "the inputs are invalid: " + err.Error()}, nil, nil
	}
	rec := &callLog{}
	res, err := h.Run(withCallLog(ctx, rec), task, inputs, host.RunOptions{})
	if err != nil {
		return Check{}, nil, fmt.Errorf("guestcheck: run scenario %s: %w", s.name, err)
	}
	if err := ctx.Err(); err != nil {
		return Check{}, nil, fmt.Errorf("guestcheck: run scenario %s: %w", s.name, err)
	}
	run := &outcome{name: s.name, res: res, calls: rec.snapshot()}
	return judgeRun(name, run), run, nil
}

// judgeRun decides a run check. A job that is done passes. A job that
// failed through the guest's own xf.fail is a warning: the interface cannot
// express every constraint between inputs (at least one of two optional
// bounds, say), so a guest may refuse a generated combination, and a
// message shows it did so on purpose. A job whose guest called finish but
// failed because outputs were missing passes here; outputs.declared reports
// the outputs. Anything else (a trap, an exit without finish or with a
// non-zero code, the deadline, also after a successful finish) fails.
func judgeRun(name string, run *outcome) Check {
	res, calls := run.res, run.calls
	took := res.Timings.Total.Round(time.Millisecond)
	switch {
	case res.State == host.Done:
		return Check{Name: name, Status: Pass, Message: fmt.Sprintf("done in %s", took)}
	case calls.finishOK:
		return Check{Name: name, Status: Fail, Message: "the job failed after a successful finish: " + res.Error}
	case calls.finished:
		return Check{Name: name, Status: Pass, Message: "the guest called finish, but the host failed the job for its outputs (see the outputs checks): " + res.Error}
	case calls.failedCleanly(res.Error):
		return Check{Name: name, Status: Warn, Message: fmt.Sprintf("the guest failed the job cleanly: %q", res.Error)}
	}
	return Check{Name: name, Status: Fail, Message: "the job failed: " + res.Error}
}

// finding is one output problem, with the scenarios it occurred in.
type finding struct {
	key, msg string
	runs     []string
}

// findings collects problems per check, merging a problem that several
// scenarios share into one entry.
type findings map[string][]*finding

func (f findings) add(check, key, msg, run string) {
	for _, x := range f[check] {
		if x.key == key && x.msg == msg {
			if !slices.Contains(x.runs, run) {
				x.runs = append(x.runs, run)
			}
			return
		}
	}
	f[check] = append(f[check], &finding{key: key, msg: msg, runs: []string{run}})
}

func (f findings) problems(check string) []string {
	list := f[check]
	sort.SliceStable(list, func(i, j int) bool { return list[i].key < list[j].key })
	var out []string
	for _, x := range list {
		out = append(out, fmt.Sprintf("%s (in run.%s)", x.msg, strings.Join(x.runs, ", run.")))
	}
	return out
}

// checkOutputs judges what every run did with its outputs: each declared
// output set when the guest called finish, nothing undeclared set, every
// value of its declared type, and nothing else refused by the host.
func checkOutputs(r *Report, it *taskmodule.Interface, runs []outcome) {
	f := findings{}
	finishedRuns, failedRuns := 0, 0
	attempted := false // a declared output was refused, not left unset
	for _, run := range runs {
		rejected := map[string]bool{} // declared outputs the host refused
		set := map[string]bool{}
		for _, c := range run.calls.outputs {
			out, declared := it.Output(c.key)
			switch {
			case !declared:
				f.add(checkUndeclared, c.key, fmt.Sprintf("output %q is not declared by the interface (set with %s; the host answered %s)", c.key, c.imp, c.st), run.name)
			case c.imp == "xf.output_image_set" && out.Type != "Image":
				rejected[c.key] = true
				f.add(checkTypes, c.key, fmt.Sprintf("output %q: declared %s, received an image (xf.output_image_set)", c.key, out.Type), run.name)
			case c.kept && params.Validate(out.Type, c.value) != nil:
				rejected[c.key] = true
				f.add(checkTypes, c.key, fmt.Sprintf("output %q: declared %s, received %s: %v", c.key, out.Type, excerpt(c.value), params.Validate(out.Type, c.value)), run.name)
			case c.imp == "xf.output_set" && !c.kept && (c.st == abi.TypeMismatch || c.st == abi.InvalidJSON):
				rejected[c.key] = true
				f.add(checkTypes, c.key, fmt.Sprintf("output %q: declared %s, the host refused a value of %d bytes with %s", c.key, out.Type, c.size, c.st), run.name)
			case c.st != abi.OK:
				rejected[c.key] = true
				f.add(checkAccepted, c.key, fmt.Sprintf("output %q: the host refused %s with %s%s", c.key, c.imp, c.st, refusalReason(c)), run.name)
			default:
				set[c.key] = true
			}
		}
		// The host keeps only accepted outputs; check them too, so that a
		// host that stopped validating could not hide a defect.
		for key, v := range run.res.Outputs {
			out, declared := it.Output(key)
			if !declared {
				f.add(checkUndeclared, key, fmt.Sprintf("output %q is not declared by the interface", key), run.name)
			} else if err := params.Validate(out.Type, v); err != nil {
				f.add(checkTypes, key, fmt.Sprintf("output %q: declared %s, received %s: %v", key, out.Type, excerpt(v), err), run.name)
			}
		}
		switch {
		case run.calls.finished || run.res.State == host.Done:
			finishedRuns++
			for _, out := range it.Outputs {
				switch {
				case set[out.Key]:
				case rejected[out.Key]:
					attempted = true
				default:
					f.add(checkDeclared, out.Key, fmt.Sprintf("declared output %q (%s) was never set", out.Key, out.Type), run.name)
				}
			}
		case !run.calls.failedCleanly(run.res.Error):
			failedRuns++
		}
	}

	otherFindings := len(f[checkUndeclared])+len(f[checkTypes])+len(f[checkAccepted]) > 0
	switch {
	case len(f[checkDeclared]) > 0:
		r.add(Check{Name: checkDeclared, Status: Fail, Problems: f.problems(checkDeclared)})
	case finishedRuns > 0 && attempted:
		r.add(Check{Name: checkDeclared, Status: Pass, Message: fmt.Sprintf("the guest set or tried to set every declared output in the %s that reached finish (the refused values are reported below)", plural(finishedRuns, "job"))})
	case finishedRuns > 0:
		r.add(Check{Name: checkDeclared, Status: Pass, Message: fmt.Sprintf("every declared output was set in the %s that reached finish", plural(finishedRuns, "job"))})
	case failedRuns > 0 || otherFindings || len(runs) == 0:
		r.add(Check{Name: checkDeclared, Status: Skip, Message: "no job reached finish"})
	default:
		r.add(Check{Name: checkDeclared, Status: Fail, Message: "no job reached finish: the guest failed every run cleanly, so its outputs could not be checked; give inputs it accepts with --input KEY=JSON"})
	}
	for _, c := range []struct{ name, ok string }{
		{checkUndeclared, "no undeclared output was set"},
		{checkTypes, "every output value matches its declared type"},
		{checkAccepted, "the host accepted every output the guest set"},
	} {
		if p := f.problems(c.name); len(p) > 0 {
			r.add(Check{Name: c.name, Status: Fail, Problems: p})
		} else {
			r.add(Check{Name: c.name, Status: Pass, Message: c.ok})
		}
	}
}

// refusalReason explains a status the host gave a well-typed output.
func refusalReason(c outputCall) string {
	switch c.st {
	case abi.Denied:
		return " (the value references files the job neither uploaded nor received as inputs)"
	case abi.LimitExceeded:
		return fmt.Sprintf(" (the value of %d bytes exceeds the output limit)", c.size)
	case abi.InvalidState:
		return " (the job had already ended)"
	}
	return ""
}

// excerpt shows a value in a message, shortened.
func excerpt(v []byte) string {
	const limit = 80
	if len(v) > limit {
		return strings.ToValidUTF8(string(v[:limit]), "") + "..."
	}
	return strings.ToValidUTF8(string(v), "\uFFFD")
}

// plural formats a count of things: "1 job", "2 jobs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
