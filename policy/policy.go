// Package policy is the operator's sandbox policy for task modules: the
// limits a job runs under and the capabilities (groups of imports, see
// abi.json) it may link. A policy is set per host, with overrides per task
// type, and never by the module itself. The file format is documented in
// POLICY.md.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xfhost/xfhost/abi"
)

// Duration is a time.Duration written as in Go ("90s", "1h30m").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Limits bound one job. In an override a zero field inherits the default.
type Limits struct {
	MemoryMiB       int64        `json:"memory_mib,omitempty"`        // guest linear memory
	Deadline        Duration     `json:"deadline,omitempty"`          // wall clock per job
	CompileTimeout  Duration     `json:"compile_timeout,omitempty"`   // compiling a module not yet cached
	LogBytes        int64        `json:"log_bytes,omitempty"`         // log lines, stdout, stderr, activity messages
	LogLines        int64        `json:"log_lines,omitempty"`         //
	OutputJSONBytes int64        `json:"output_json_bytes,omitempty"` // all outputs' JSON together
	OutputFiles     int64        `json:"output_files,omitempty"`      // uploaded files, images counting two
	OutputFileBytes int64        `json:"output_file_bytes,omitempty"` // all uploaded bytes together
	ScratchBytes    int64        `json:"scratch_bytes,omitempty"`     // the guest's writable scratch space
	ImageBytes      int64        `json:"image_bytes,omitempty"`       // host-side images the job creates
	Fuel            uint64       `json:"fuel,omitempty"`              // Wasm instructions per job; 0: unmetered (wasmtime only)
	Module          ModuleLimits `json:"module"`
	// Capabilities granted; nil in an override inherits the default, an
	// empty list grants nothing beyond the job API.
	Capabilities []string `json:"capabilities"`
}

// ModuleLimits bound a module's size and shape; they are checked before
// compiling, because compilation cannot be interrupted.
type ModuleLimits struct {
	MaxBytes          int64  `json:"max_bytes,omitempty"`
	MaxFunctions      uint32 `json:"max_functions,omitempty"`
	MaxImports        uint32 `json:"max_imports,omitempty"`
	MaxExports        uint32 `json:"max_exports,omitempty"`
	MaxGlobals        uint32 `json:"max_globals,omitempty"`
	MaxTables         uint32 `json:"max_tables,omitempty"`
	MaxTableElements  uint32 `json:"max_table_elements,omitempty"` // declared minimum size of any table
	MaxDataSegments   uint32 `json:"max_data_segments,omitempty"`
	MaxMemoryMinPages uint32 `json:"max_memory_min_pages,omitempty"` // declared minimum of the memory
	// MaxNesting bounds how deeply blocks, loops and ifs nest in one
	// function: an optimising compiler's time grows with its square.
	MaxNesting uint32 `json:"max_nesting,omitempty"`
	// MaxFunctionLocals bounds the locals of one function.
	MaxFunctionLocals uint32 `json:"max_function_locals,omitempty"`
}

// Config is a policy file: defaults, overrides per task type, and limits
// of the host as a whole.
type Config struct {
	MaxConcurrentJobs int               `json:"max_concurrent_jobs,omitempty"`
	Default           Limits            `json:"default"`
	TaskTypes         map[string]Limits `json:"task_types,omitempty"`
}

// Defaults are safe for untrusted modules on a worker with a few GiB of
// memory: every kernel and image, file fetch and upload, bounded.
func Defaults() Config {
	return Config{
		MaxConcurrentJobs: 2,
		Default: Limits{
			MemoryMiB:       2048,
			Deadline:        Duration(time.Hour),
			CompileTimeout:  Duration(time.Minute),
			LogBytes:        1 << 20,
			LogLines:        10000,
			OutputJSONBytes: 1 << 20,
			OutputFiles:     64,
			OutputFileBytes: 16 << 30,
			ScratchBytes:    4 << 30,
			ImageBytes:      8 << 30,
			Module: ModuleLimits{
				MaxBytes:          64 << 20,
				MaxFunctions:      100000,
				MaxImports:        1000,
				MaxExports:        1000,
				MaxGlobals:        10000,
				MaxTables:         10,
				MaxTableElements:  1 << 20,
				MaxDataSegments:   100000,
				MaxMemoryMinPages: 16384, // 1 GiB
				// Go's wasm port nests a block per call site of a
				// function (the Go runtime's largest is 549 deep); 20,000
				// levels take wazero seconds to compile.
				MaxNesting:        4096,
				MaxFunctionLocals: 50000,
			},
			Capabilities: []string{"files.fetch", "files.upload", "images", "kernels.basic", "kernels.filters", "kernels.morphology"},
		},
	}
}

// Load reads a policy file; fields it leaves out keep Defaults' values.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy: %s: %w", path, err)
	}
	return c, nil
}

// Parse parses a policy file's contents and validates it.
func Parse(data []byte) (*Config, error) {
	var file Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the policy object")
	}
	c := Defaults()
	if file.MaxConcurrentJobs != 0 {
		c.MaxConcurrentJobs = file.MaxConcurrentJobs
	}
	c.Default = merge(c.Default, file.Default)
	c.TaskTypes = file.TaskTypes
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks limits and capability names and task-type patterns.
func (c *Config) Validate() error {
	if c.MaxConcurrentJobs < 1 {
		return fmt.Errorf("max_concurrent_jobs must be at least 1, got %d", c.MaxConcurrentJobs)
	}
	if err := c.Default.validate("default", true); err != nil {
		return err
	}
	for pattern, l := range c.TaskTypes {
		if err := validPattern(pattern); err != nil {
			return err
		}
		if err := l.validate("task_types["+pattern+"]", false); err != nil {
			return err
		}
	}
	return nil
}

func validPattern(p string) error {
	name := strings.TrimSuffix(p, ".*")
	if p == "*" {
		return nil
	}
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return fmt.Errorf("task_types: %q is not a task type name or a prefix pattern like Lucid.CLIP.*", p)
	}
	return nil
}

func (l Limits) validate(where string, complete bool) error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"memory_mib", l.MemoryMiB}, {"deadline", int64(l.Deadline)}, {"compile_timeout", int64(l.CompileTimeout)},
		{"log_bytes", l.LogBytes}, {"log_lines", l.LogLines}, {"output_json_bytes", l.OutputJSONBytes},
		{"output_files", l.OutputFiles}, {"output_file_bytes", l.OutputFileBytes}, {"scratch_bytes", l.ScratchBytes},
		{"image_bytes", l.ImageBytes}, {"module.max_bytes", l.Module.MaxBytes},
	} {
		if f.v < 0 || (complete && f.v == 0) {
			return fmt.Errorf("%s.%s must be positive, got %d", where, f.name, f.v)
		}
	}
	if l.MemoryMiB > 4096 {
		return fmt.Errorf("%s.memory_mib: at most 4096 (the 32-bit Wasm maximum), got %d", where, l.MemoryMiB)
	}
	spec := abi.MustLoad()
	for _, c := range l.Capabilities {
		if _, ok := spec.Capabilities[c]; !ok {
			return fmt.Errorf("%s.capabilities: unknown capability %q (known: %s)", where, c, strings.Join(knownCapabilities(spec), ", "))
		}
	}
	return nil
}

func knownCapabilities(spec *abi.Spec) []string {
	var out []string
	for c := range spec.Capabilities {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// For returns the limits for a task type: the default, overridden by the
// matching task_types entries from the least to the most specific (an
// exact name is more specific than any pattern, a longer prefix more than a
// shorter one).
func (c *Config) For(taskType string) Limits {
	var matches []string
	for p := range c.TaskTypes {
		if p == "*" || p == taskType || (strings.HasSuffix(p, ".*") && strings.HasPrefix(taskType, strings.TrimSuffix(p, "*"))) {
			matches = append(matches, p)
		}
	}
	sort.Slice(matches, func(i, j int) bool { return specificity(matches[i]) < specificity(matches[j]) })
	l := c.Default
	for _, p := range matches {
		l = merge(l, c.TaskTypes[p])
	}
	return l
}

func specificity(p string) int {
	if !strings.HasSuffix(p, "*") {
		return 1 << 20 // exact names win
	}
	return len(p)
}

// merge applies the non-zero fields of o over l.
func merge(l, o Limits) Limits {
	set := func(dst *int64, v int64) {
		if v != 0 {
			*dst = v
		}
	}
	set(&l.MemoryMiB, o.MemoryMiB)
	set((*int64)(&l.Deadline), int64(o.Deadline))
	set((*int64)(&l.CompileTimeout), int64(o.CompileTimeout))
	set(&l.LogBytes, o.LogBytes)
	set(&l.LogLines, o.LogLines)
	set(&l.OutputJSONBytes, o.OutputJSONBytes)
	set(&l.OutputFiles, o.OutputFiles)
	set(&l.OutputFileBytes, o.OutputFileBytes)
	set(&l.ScratchBytes, o.ScratchBytes)
	set(&l.ImageBytes, o.ImageBytes)
	if o.Fuel != 0 {
		l.Fuel = o.Fuel
	}
	set(&l.Module.MaxBytes, o.Module.MaxBytes)
	set32 := func(dst *uint32, v uint32) {
		if v != 0 {
			*dst = v
		}
	}
	set32(&l.Module.MaxFunctions, o.Module.MaxFunctions)
	set32(&l.Module.MaxImports, o.Module.MaxImports)
	set32(&l.Module.MaxExports, o.Module.MaxExports)
	set32(&l.Module.MaxGlobals, o.Module.MaxGlobals)
	set32(&l.Module.MaxTables, o.Module.MaxTables)
	set32(&l.Module.MaxTableElements, o.Module.MaxTableElements)
	set32(&l.Module.MaxDataSegments, o.Module.MaxDataSegments)
	set32(&l.Module.MaxMemoryMinPages, o.Module.MaxMemoryMinPages)
	set32(&l.Module.MaxNesting, o.Module.MaxNesting)
	set32(&l.Module.MaxFunctionLocals, o.Module.MaxFunctionLocals)
	if o.Capabilities != nil {
		l.Capabilities = slices.Clone(o.Capabilities)
	}
	return l
}

// Grants reports whether the limits grant a capability; "job" is always
// granted.
func (l Limits) Grants(capability string) bool {
	return capability == "job" || slices.Contains(l.Capabilities, capability)
}
