//go:build !wasip1

package ctest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The C SDK's JSON reader and writer (xf/xfjson.c) are compared with Go's
// encoding/json through testdata/xfjson_driver.c, built natively with the
// host's C compiler and for wasm32-wasi (run on wazero), each when its
// toolchain exists. The task modules themselves need no toolchain: they
// are committed, and c_test.go runs them.

var driverSources = []string{"testdata/xfjson_driver.c", "xf/xfjson.c"}

// driver runs the JSON driver on requests and returns its answer lines.
type driver func(t *testing.T, requests []byte) []string

func TestXFJSONNative(t *testing.T) {
	t.Parallel()
	cc := findTool("clang", "gcc", "cc")
	if cc == "" {
		t.Skip("no C compiler (clang, gcc or cc) on PATH; the committed modules are tested by the other tests")
	}
	exe := filepath.Join(t.TempDir(), "driver")
	args := append([]string{"-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-o", exe}, driverSources...)
	// Sanitizers catch an out-of-bounds read that the comparison alone
	// would miss; not every compiler installation has their runtimes.
	sanitized := append([]string{"-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, args...)
	if out, err := exec.Command(cc, append(sanitized, "-lm")...).CombinedOutput(); err != nil {
		t.Logf("%s without sanitizers (%v: %s)", cc, err, firstLine(out))
		if out, err := exec.Command(cc, append(args, "-lm")...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cc, err, out)
		}
	}
	checkDriver(t, func(t *testing.T, requests []byte) []string {
		cmd := exec.Command(exe)
		cmd.Stdin = bytes.NewReader(requests)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("driver: %v\n%s", err, stderr.Bytes())
		}
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}, 3000)
}

func TestXFJSONWasm(t *testing.T) {
	t.Parallel()
	clang := wasiClang(t)
	wasm := filepath.Join(t.TempDir(), "driver.wasm")
	args := append([]string{"--target=wasm32-wasi", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", wasm}, driverSources...)
	if out, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	checkDriver(t, func(t *testing.T, requests []byte) []string {
		var stdout, stderr bytes.Buffer
		cfg := wazero.NewModuleConfig().WithStdin(bytes.NewReader(requests)).WithStdout(&stdout).WithStderr(&stderr).WithName("")
		mod, err := rt.InstantiateModule(ctx, compiled, cfg)
		if err != nil {
			t.Fatalf("driver: %v\n%s", err, stderr.Bytes())
		}
		mod.Close(ctx)
		return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	}, 500) // fewer random cases: the fixed ones cover wasi-libc's printf and strtod
}

// wasiClang returns clang if it can build a wasm32-wasi program here, and
// skips the test otherwise.
func wasiClang(t *testing.T) string {
	t.Helper()
	clang := findTool("clang")
	if clang == "" {
		t.Skip("no clang on PATH")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(probe, []byte("#include <stdio.h>\nint main(void) { return puts(\"\") < 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "--target=wasm32-wasi", "-o", filepath.Join(dir, "probe.wasm"), probe)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("clang cannot build for wasm32-wasi here (is wasi-libc installed?): %v: %s", err, firstLine(out))
	}
	return clang
}

func findTool(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// request is one driver request and the answer Go gives.
type request struct {
	cmd     byte
	payload []byte
	want    string
}

// checkDriver sends the driver the fixed requests and random ones, as
// many as random says, and compares its answers with Go's.
func checkDriver(t *testing.T, run driver, random int) {
	reqs := floatRequests(random)
	reqs = append(reqs, parseRequests(random)...)
	reqs = append(reqs, getRequests()...)
	reqs = append(reqs, stringRequests(random)...)
	var in bytes.Buffer
	for _, r := range reqs {
		fmt.Fprintf(&in, "%c %d\n", r.cmd, len(r.payload))
		in.Write(r.payload)
		in.WriteByte('\n')
	}
	got := run(t, in.Bytes())
	if len(got) != len(reqs) {
		t.Fatalf("driver answered %d requests of %d", len(got), len(reqs))
	}
	failures := 0
	for i, r := range reqs {
		if got[i] != r.want {
			t.Errorf("%c %q:\n got %s\nwant %s", r.cmd, r.payload, got[i], r.want)
			if failures++; failures == 20 {
				t.Fatal("too many failures")
			}
		}
	}
	t.Logf("%d requests", len(reqs))
}

// floatRequests covers the cut-overs between plain and exponent notation,
// every power of two and ten, the extremes, lopsided rounding intervals,
// and random doubles and short decimals.
func floatRequests(random int) []request {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 100, 123456789, 1e21, 1e20, 1e-6, 1e-7,
		math.Nextafter(1e21, 0), math.Nextafter(1e-6, 0), math.Nextafter(1e-6, 1), 5e-324, math.MaxFloat64,
		math.SmallestNonzeroFloat64 * 3, 0x1p-1022, math.Nextafter(0x1p-1022, 0), 9007199254740993, 9007199254740992,
		1.7976931348623157e308, 4.9406564584124654e-324, 2.2250738585072014e-308, 1.5e-10, 123456.7890625,
		math.NaN(), math.Inf(1), math.Inf(-1), 1e23, 8.41e21, 5.0e-7, 9.999999999999999e20, 999999999999999900000}
	for e := -1074; e <= 1023; e++ {
		p := math.Ldexp(1, e)
		vals = append(vals, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), -3*p)
	}
	for e := -323; e <= 308; e++ {
		p, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		vals = append(vals, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range random {
		vals = append(vals, math.Float64frombits(rng.Uint64()))
	}
	for range random / 2 {
		digits := strconv.FormatUint(1e16+rng.Uint64N(9e16), 10)[:1+rng.IntN(17)]
		f, _ := strconv.ParseFloat(digits+"e"+strconv.Itoa(rng.IntN(60)-30), 64)
		vals = append(vals, f)
	}
	reqs := make([]request, 0, len(vals))
	for _, v := range vals {
		var want string
		if b, err := json.Marshal(v); err != nil {
			want = "unsupported " + strconv.FormatFloat(v, 'g', -1, 64)
		} else {
			want = string(b)
		}
		var bits [8]byte
		binary.BigEndian.PutUint64(bits[:], math.Float64bits(v))
		reqs = append(reqs, request{cmd: 'F', payload: fmt.Appendf(nil, "%016x", bits), want: want})
	}
	return reqs
}

var jsonSeeds = []string{
	`{"size":[41,33,27],"data_type":"uint16","spacing_mm":[0.5,0.5,0.75],"origin_mm":[-1.5e-3,0,12.25],"calibrations":[{"type":"slope_intercept","unit_type":"dens","unit_name":"mg HA/ccm","slope":0.125,"intercept":-1000}],"default_unit_type":"dens"}`,
	`{"image":{"type":"Image","filename":"scans/a.omni","size":[32,32,32],"filenames":["scans/a.raw"]},"calibration":null,"threshold_lower0":1.5e3,"threshold_upper0":-0.0}`,
	`{"job_id":"0f6e","job_serial":-9223372036854775808,"task_type":{"name":"Lucid.CLIP.StatMinMax","version":"1.0.0.0"},"abi_version":"1.1"}`,
	` [ 1 , -0 , 0.5e+2 , 1E-2 , 12345678901234567890 , 9223372036854775807, -9223372036854775809, 1e400, -1e-400 ] `,
	`"esc \" \\ \/ \b \f \n \r \t \u0041\u00e9\u20AC\ud83d\ude00 \ud800 \udc00 \ud800\u0041 \ud800\ud800\udc00"`,
	"\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad \xff \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf \xe2\x80\xa8 \x7f\"",
	`{"a":1,"a":2,"b":{"a":3},"":[],"\u0061":4}`,
	`[[[[[]]]],{},[{}],{"x":[true,false,null]}]`,
	`true`, `false`, `null`, `0`, `-1.25`, `""`, `{}`, `[]`,
}

var invalidJSON = []string{
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`, `[1 2]`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`,
	`tru`, `truex`, `nul`, `"abc`, `"a\x"`, `"\u12G4"`, `"\u123"`, "\"a\x01b\"", "\"tab\tin\"", `[1]]`, `{"a":1}}`,
	"\xef\xbb\xbf{}", `NaN`, `Infinity`, `[-]`, `[1e5.0]`, `'a'`, `{"a":1 "b":2}`, `["a",]`, "[1,\n2", `1 2`,
}

func parseRequests(random int) []request {
	docs := append(append([]string{}, jsonSeeds...), invalidJSON...)
	// Nesting up to the reader's limit is fine; beyond it is an error
	// that Go does not have, checked apart.
	docs = append(docs, strings.Repeat("[", 128)+strings.Repeat("]", 128))
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "{}[]\":,.-+eE0123456789tfnul \\/abu\x00\x1f\x7f\xff\xe2\xa8\x80\n"
	for range random {
		b := []byte(jsonSeeds[rng.IntN(len(jsonSeeds))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b) + 1)
			switch rng.IntN(4) {
			case 0:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			case 1:
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			case 2:
				if i < len(b) {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
			case 3:
				b = b[:i]
			}
		}
		docs = append(docs, string(b))
	}
	reqs := make([]request, 0, len(docs)+2)
	for _, d := range docs {
		want := "error"
		if dump, ok := goDump([]byte(d)); ok {
			want = "ok " + dump
		}
		reqs = append(reqs, request{cmd: 'P', payload: []byte(d), want: want})
	}
	deep := strings.Repeat("[", 129) + strings.Repeat("]", 129)
	reqs = append(reqs, request{cmd: 'P', payload: []byte(deep), want: "error"})
	reqs = append(reqs, request{cmd: 'P', payload: []byte(strings.Repeat("[", 100000)), want: "error"})
	return reqs
}

func getRequests() []request {
	cases := []struct{ key, doc string }{
		{"a", `{"a":1,"a":2,"b":{"a":3},"":[],"\u0061":4}`},
		{"b", `{"a":1,"a":2,"b":{"a":3},"":[],"\u0061":4}`},
		{"", `{"a":1,"a":2,"b":{"a":3},"":[],"\u0061":4}`},
		{"c", `{"a":1}`},
		{"é", `{"\u00e9":"x"}`},
		{"\xff", "{\"\xff\":1}"},
		{"a", `[1]`},
		{"a", `{"a":1`},
		{"size", jsonSeeds[0]},
		{"calibrations", jsonSeeds[0]},
		{"calibration", jsonSeeds[1]},
	}
	var reqs []request
	for _, c := range cases {
		want := "error"
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.doc), &m); err == nil {
			want = "absent"
			if v, ok := m[c.key]; ok {
				dump, _ := goDump(v)
				want = "found " + dump
			}
		}
		reqs = append(reqs, request{cmd: 'G', payload: []byte(c.key + "\x00" + c.doc), want: want})
	}
	return reqs
}

func stringRequests(random int) []request {
	strs := []string{"", "plain", `q"b\s`, "<a href='x'>&amp;</a>", "\x00\x01\x08\x0c\n\r\t\x1f\x7f", "\u2028\u2029\u2027",
		"é€😀", "\xff\xfe", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "mg HA/ccm"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range random / 4 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		strs = append(strs, string(b))
	}
	reqs := make([]request, 0, len(strs))
	for _, s := range strs {
		b, _ := json.Marshal(s)
		reqs = append(reqs, request{cmd: 'S', payload: []byte(s), want: string(b)})
	}
	return reqs
}

// goDump renders a document as the driver's dump does, with Go's decoder.
func goDump(doc []byte) (string, bool) {
	if !json.Valid(doc) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var b strings.Builder
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case nil:
			b.WriteString("null")
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case json.Number:
			b.WriteString("n(")
			if f, err := strconv.ParseFloat(v.String(), 64); err != nil {
				b.WriteString("range")
			} else {
				enc, _ := json.Marshal(f)
				b.Write(enc)
			}
			b.WriteString("|")
			if i, err := strconv.ParseInt(v.String(), 10, 64); err != nil {
				b.WriteString("-")
			} else {
				b.WriteString(strconv.FormatInt(i, 10))
			}
			b.WriteString(")")
		case string:
			enc, _ := json.Marshal(v)
			b.WriteString("s")
			b.Write(enc)
		case json.Delim:
			b.WriteRune(rune(v))
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(",")
				}
				if v == '{' {
					key, err := dec.Token()
					if err != nil {
						return err
					}
					enc, _ := json.Marshal(key)
					b.WriteString("s")
					b.Write(enc)
					b.WriteString(":")
				}
				if err := value(); err != nil {
					return err
				}
			}
			end, err := dec.Token()
			if err != nil {
				return err
			}
			b.WriteRune(rune(end.(json.Delim)))
		}
		return nil
	}
	if err := value(); err != nil {
		return "", false
	}
	return b.String(), true
}
