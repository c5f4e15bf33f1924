package guestcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Schema identifies the JSON layout of a Report. It changes only when a
// field is removed or changes meaning; added fields keep it.
const Schema = "xfhost.conformance.guest/v1"

// Status is the outcome of one check.
type Status string

// Check outcomes. Only Fail makes a report fail.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Warn marks behaviour that may be legitimate but deserves a look,
	// such as a guest failing cleanly, with a message, on a generated input.
	Warn Status = "warn"
	// Skip marks a check that could not run because an earlier one failed.
	Skip Status = "skip"
)

// Check is the outcome of one named check.
type Check struct {
	// Name is stable: "imports.signatures", "run.null.mask", ...
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Message says what was found; for Fail and Warn it names every
	// defect, which Problems also lists one by one.
	Message  string   `json:"message"`
	Problems []string `json:"problems,omitempty"`
}

// Scenario records one job the checker ran.
type Scenario struct {
	// Name is the suffix of the scenario's run check: "all-inputs" or
	// "null.<key>".
	Name string `json:"name"`
	// Inputs is the inputs object the job was given.
	Inputs json.RawMessage `json:"inputs"`
	// State is the job's end state, "done" or "failed".
	State string `json:"state"`
	// Error is why the job failed.
	Error string `json:"error,omitempty"`
	// Outputs are the outputs the host accepted.
	Outputs map[string]json.RawMessage `json:"outputs"`
	// DurationMS is the job's wall-clock time in milliseconds.
	DurationMS int64 `json:"duration_ms"`
}

// Summary counts the checks by status.
type Summary struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
}

// Report is everything the checker found about one module.
type Report struct {
	Schema string `json:"schema"`
	// Module names the checked module as the caller gave it (a path).
	Module string `json:"module"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	// TaskType and TaskVersion come from the metadata, if it is valid.
	TaskType    string `json:"task_type,omitempty"`
	TaskVersion string `json:"task_type_version,omitempty"`
	// ABIVersion is the version the module's marker declares, if any.
	ABIVersion     string `json:"abi_version,omitempty"`
	HostABIVersion string `json:"host_abi_version"`
	Engine         string `json:"engine"`
	// Passed is true when no check failed.
	Passed    bool       `json:"passed"`
	Summary   Summary    `json:"summary"`
	Checks    []Check    `json:"checks"`
	Scenarios []Scenario `json:"scenarios"`
}

// add appends a check and keeps the summary and verdict current.
func (r *Report) add(c Check) {
	if c.Message == "" && len(c.Problems) > 0 {
		c.Message = strings.Join(c.Problems, "; ")
	}
	r.Checks = append(r.Checks, c)
	switch c.Status {
	case Pass:
		r.Summary.Pass++
	case Fail:
		r.Summary.Fail++
	case Warn:
		r.Summary.Warn++
	case Skip:
		r.Summary.Skip++
	}
	r.Passed = r.Summary.Fail == 0
}

// Check returns the check called name.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// WriteText writes the report for people: a heading, one line per check,
// then a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "conformance of %s", r.Module)
	if r.TaskType != "" {
		fmt.Fprintf(&b, " (%s %s)", r.TaskType, r.TaskVersion)
	}
	fmt.Fprintf(&b, " on %s, host ABI %s\n", r.Engine, r.HostABIVersion)
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Name, oneLine(c.Message))
	}
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s: %d passed, %d failed, %d warnings, %d skipped\n",
		verdict, r.Summary.Pass, r.Summary.Fail, r.Summary.Warn, r.Summary.Skip)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "() -> ()" readable
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("guestcheck: write report: %w", err)
	}
	return nil
}

// oneLine keeps a check on one line whatever a guest put in its messages,
// and strips control characters a hostile guest could use on a terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, s)
}
