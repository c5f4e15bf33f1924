// Package guestscript compiles a script of ABI import calls into a task
// module whose _start makes those calls in order. It is how the
// conformance suite gets one small guest per test without a toolchain, and
// how the hostile corpus gets a neighbour job that needs no Go.
//
// A script is a list of steps (see Step): an import call with its
// arguments and the status it must return, a check of a value the host
// wrote into guest memory, a file written to scratch through WASI, an exit
// or a trap. The generated guest checks every status and value itself and,
// on the first mismatch, fails the job through xf.fail with a message
// starting with FailurePrefix that names the step: so a host or engine
// that changes a status or a value on its way to the guest is caught even
// when the host's own record of the call looks right.
package guestscript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/xfhost/xfhost/abi"
)

// FailurePrefix starts the xf.fail message of a guest whose check failed.
const FailurePrefix = "conformance guest: "

// Step is one step of a script. Exactly one of Call, Check, WriteFile,
// Exit and Trap is set.
type Step struct {
	// Call names an xf or clip import, e.g. "xf.log"; Args fill its
	// parameters (see Arg); Expect is the status it must return, or Stops
	// says that it must not return at all (xf.fail). Repeat > 1 makes the
	// call that many times in a loop, each expecting the same status.
	Call   string            `json:"call,omitempty"`
	Args   []json.RawMessage `json:"args,omitempty"`
	Expect string            `json:"expect,omitempty"`
	Stops  bool              `json:"stops,omitempty"`
	Repeat int               `json:"repeat,omitempty"`

	// Check names an out slot or buffer whose content must equal one of
	// I32 (also for u32 values), I64, F64 (a number, or "nan"), Text (the
	// first len(Text) bytes) or Hex (the first bytes, in hex).
	Check string          `json:"check,omitempty"`
	I32   *int64          `json:"i32,omitempty"`
	I64   *json.Number    `json:"i64,omitempty"`
	F64   json.RawMessage `json:"f64,omitempty"`
	Text  *string         `json:"text,omitempty"`
	Hex   *string         `json:"hex,omitempty"`

	// WriteFile creates (or truncates) a file of that name in the guest's
	// /scratch directory through WASI and writes Text into it.
	WriteFile string `json:"write_file,omitempty"`

	// WriteFD writes Text to a file descriptor through WASI fd_write,
	// e.g. 1 for stdout.
	WriteFD *uint32 `json:"write_fd,omitempty"`

	// Exit ends the guest with WASI proc_exit(Exit).
	Exit *uint32 `json:"exit,omitempty"`

	// Trap executes unreachable.
	Trap bool `json:"trap,omitempty"`

	// Note is a comment for readers of the script.
	Note string `json:"note,omitempty"`
}

// Arg is the vocabulary of call arguments, written in JSON:
//
//	42, -1, 4294967295    an integer literal (i32 or i64 parameter)
//	2.5, "nan", "inf"     a float literal (f64 parameter; also "-inf")
//	{"str": "text"}       ptr and len of the UTF-8 bytes in memory
//	{"hex": "ff00"}       ptr and len of raw bytes
//	{"f64s": [1, 2.5]}    ptr and count of packed little-endian f64s
//	{"buf": 64}           ptr and capacity of a zeroed 64-byte buffer;
//	                      with "name": "b" it can be referred to later
//	{"out": "h"}          ptr of the 8-byte out slot h (created on first use);
//	                      with "size": 48 the slot is that big
//	{"var": "h"}          the value in slot h, read as the parameter's type
//	{"slice": "b", "len": "n"}  ptr of buffer (or slot) b and the i32 in slot n
//	{"ptr": "b"}          ptr of buffer or slot b
//	{"mem_end": 4}        the memory's size in bytes minus 4, at the time
//	                      of the call
//
// Each form fills one parameter, or two for the (ptr, len) forms.
type Arg = json.RawMessage

// ExpectedCall is one entry of the trace of import calls a script makes
// when the host behaves as expected.
type ExpectedCall struct {
	Import  string
	Status  abi.Status
	Stopped bool
}

// ExpectedCalls lists the import calls a script makes, repeats expanded,
// up to the first call that stops the guest, exit or trap.
func ExpectedCalls(spec *abi.Spec, steps []Step) ([]ExpectedCall, error) {
	var out []ExpectedCall
	for i, s := range steps {
		switch {
		case s.Call != "":
			if s.Stops {
				return append(out, ExpectedCall{Import: s.Call, Stopped: true}), nil
			}
			st, err := statusCode(spec, s.Expect)
			if err != nil {
				return nil, fmt.Errorf("step %d (%s): %w", i+1, s.Call, err)
			}
			for range max(s.Repeat, 1) {
				out = append(out, ExpectedCall{Import: s.Call, Status: st})
			}
		case s.Exit != nil, s.Trap:
			return out, nil
		}
	}
	return out, nil
}

func statusCode(spec *abi.Spec, name string) (abi.Status, error) {
	for _, st := range spec.Statuses {
		if st.Name == name {
			return abi.Status(st.Code), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q", name)
}

// kind reports which kind of step s is, checking that exactly one is set.
func (s *Step) kind() (string, error) {
	var kinds []string
	if s.Call != "" {
		kinds = append(kinds, "call")
	}
	if s.Check != "" {
		kinds = append(kinds, "check")
	}
	if s.WriteFile != "" {
		kinds = append(kinds, "write_file")
	}
	if s.WriteFD != nil {
		kinds = append(kinds, "write_fd")
	}
	if s.Exit != nil {
		kinds = append(kinds, "exit")
	}
	if s.Trap {
		kinds = append(kinds, "trap")
	}
	if len(kinds) != 1 {
		return "", fmt.Errorf("a step needs exactly one of call, check, write_file, write_fd, exit and trap, got %d (%s)", len(kinds), strings.Join(kinds, ", "))
	}
	k := kinds[0]
	if k != "call" && (len(s.Args) > 0 || s.Expect != "" || s.Stops || s.Repeat != 0) {
		return "", fmt.Errorf("%s step: args, expect, stops and repeat belong to call steps", k)
	}
	if k == "call" {
		if (s.Expect == "") == !s.Stops {
			return "", fmt.Errorf("call %s: needs exactly one of expect and stops", s.Call)
		}
		if s.Stops && s.Repeat > 1 {
			return "", fmt.Errorf("call %s: a call that stops the guest cannot repeat", s.Call)
		}
		if s.Repeat < 0 {
			return "", fmt.Errorf("call %s: repeat %d is negative", s.Call, s.Repeat)
		}
	}
	values := 0
	for _, set := range []bool{s.I32 != nil, s.I64 != nil, len(s.F64) > 0, s.Text != nil, s.Hex != nil} {
		if set {
			values++
		}
	}
	switch {
	case k == "check" && values != 1:
		return "", fmt.Errorf("check %s: needs exactly one of i32, i64, f64, text and hex", s.Check)
	case (k == "write_file" || k == "write_fd") && (s.Text == nil || values != 1):
		return "", fmt.Errorf("%s step: needs text and nothing else", k)
	case k != "check" && k != "write_file" && k != "write_fd" && values != 0:
		return "", fmt.Errorf("%s step: i32, i64, f64, text and hex belong to check, write_file and write_fd steps", k)
	}
	return k, nil
}

// argForm is one decoded argument.
type argForm struct {
	lit      json.RawMessage // a literal
	str      []byte          // str, hex or f64s content
	count    bool            // f64s: the second value is a count, not a byte length
	hasBytes bool
	buf      uint32 // buf capacity
	name     string // buf name, out, var, slice or ptr target
	kind     string
	lenVar   string
	memEnd   uint32
}

func parseArg(raw json.RawMessage) (*argForm, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty argument")
	}
	if raw[0] != '{' {
		return &argForm{kind: "literal", lit: raw}, nil
	}
	var o struct {
		Str    *string   `json:"str"`
		Hex    *string   `json:"hex"`
		F64s   []float64 `json:"f64s"`
		Buf    *uint32   `json:"buf"`
		Name   string    `json:"name"`
		Out    string    `json:"out"`
		Size   *uint32   `json:"size"`
		Var    string    `json:"var"`
		Slice  string    `json:"slice"`
		Len    string    `json:"len"`
		Ptr    string    `json:"ptr"`
		MemEnd *uint32   `json:"mem_end"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("argument %s: %w", raw, err)
	}
	var forms []*argForm
	if o.Str != nil {
		forms = append(forms, &argForm{kind: "str", str: []byte(*o.Str), hasBytes: true})
	}
	if o.Hex != nil {
		b, err := decodeHex(*o.Hex)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", raw, err)
		}
		forms = append(forms, &argForm{kind: "hex", str: b, hasBytes: true})
	}
	if o.F64s != nil {
		b := make([]byte, 0, 8*len(o.F64s))
		for _, v := range o.F64s {
			b = appendU64(b, math.Float64bits(v))
		}
		forms = append(forms, &argForm{kind: "f64s", str: b, hasBytes: true, count: true})
	}
	if o.Buf != nil {
		forms = append(forms, &argForm{kind: "buf", buf: *o.Buf, name: o.Name})
	} else if o.Name != "" {
		return nil, fmt.Errorf("argument %s: name belongs to buf", raw)
	}
	if o.Out != "" {
		size := uint32(8)
		if o.Size != nil {
			size = *o.Size
		}
		forms = append(forms, &argForm{kind: "out", name: o.Out, buf: size})
	} else if o.Size != nil {
		return nil, fmt.Errorf("argument %s: size belongs to out", raw)
	}
	if o.Var != "" {
		forms = append(forms, &argForm{kind: "var", name: o.Var})
	}
	if o.Slice != "" {
		if o.Len == "" {
			return nil, fmt.Errorf("argument %s: slice needs len, the slot holding the length", raw)
		}
		forms = append(forms, &argForm{kind: "slice", name: o.Slice, lenVar: o.Len})
	} else if o.Len != "" {
		return nil, fmt.Errorf("argument %s: len belongs to slice", raw)
	}
	if o.Ptr != "" {
		forms = append(forms, &argForm{kind: "ptr", name: o.Ptr})
	}
	if o.MemEnd != nil {
		forms = append(forms, &argForm{kind: "mem_end", memEnd: *o.MemEnd})
	}
	if len(forms) != 1 {
		return nil, fmt.Errorf("argument %s: want exactly one of str, hex, f64s, buf, out, var, slice, ptr and mem_end", raw)
	}
	return forms[0], nil
}

// width is how many parameters the form fills.
func (a *argForm) width() int {
	switch a.kind {
	case "str", "hex", "f64s", "buf", "slice":
		return 2
	}
	return 1
}

func decodeHex(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, " ", "")
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("hex %q has an odd number of digits", s)
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("hex %q: %q is not a byte", s, s[2*i:2*i+2])
		}
		out[i] = byte(v)
	}
	return out, nil
}

func appendU64(b []byte, v uint64) []byte {
	for i := range 8 {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// intLiteral parses an integer literal for a parameter of the given bit
// size; negative values and values up to the unsigned maximum are both
// accepted and wrap as Wasm does.
func intLiteral(raw json.RawMessage, bits int) (int64, error) {
	s := string(raw)
	if v, err := strconv.ParseInt(s, 10, bits); err == nil {
		return v, nil
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s is not a %d-bit integer", s, bits)
	}
	return int64(v), nil
}

// floatLiteral parses a number or "nan", "inf", "-inf".
func floatLiteral(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "nan":
			return math.NaN(), nil
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%q is not a float (want a number, \"nan\", \"inf\" or \"-inf\")", s)
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%s is not a float", raw)
	}
	return v, nil
}
