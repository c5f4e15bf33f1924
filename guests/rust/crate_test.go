//go:build !wasip1

package rusttest

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/taskmodule"
)

// rustc is Debian's compiler, the one the committed modules are built with.
const rustc = "/usr/bin/rustc"

// needRustc skips a test on machines without Debian's rustc (CI may have
// only Go; the committed modules make the other tests independent of it).
func needRustc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(rustc); err != nil {
		t.Skipf("%s is not installed (Debian's rustc 1.63 builds the Rust guests): %v", rustc, err)
	}
}

func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// testTimeout bounds each compiler or helper run.
const testTimeout = 2 * time.Minute

// TestCrateUnitTests runs the crate's unit tests natively. (build.sh
// builds it for wasm32-wasi with warnings as errors.)
func TestCrateUnitTests(t *testing.T) {
	needRustc(t)
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "xf-test")
	runTool(t, rustc, "--edition", "2021", "--test", "-D", "warnings", "--crate-name", "xf", "xf/src/lib.rs", "-o", bin)
	runTool(t, bin)
}

// TestSDKAgainstHost builds testdata/sdkcheck, a guest that calls every
// part of the crate and checks the results for consistency, and runs it on
// wazero: the checks must pass, its outputs must match values computed from
// the image file, and a panic or an error must fail the job with its
// message.
func TestSDKAgainstHost(t *testing.T) {
	needRustc(t)
	if _, err := os.Stat("/usr/lib/rustlib/wasm32-wasi"); err != nil {
		t.Skipf("the wasm32-wasi std is not installed (libstd-rust-dev-wasm32): %v", err)
	}
	t.Parallel()
	dir := t.TempDir()
	lib, plain := filepath.Join(dir, "libxf.rlib"), filepath.Join(dir, "sdkcheck.wasm")
	flags := []string{"--edition", "2021", "--target", "wasm32-wasi", "-C", "panic=abort", "-D", "warnings"}
	runTool(t, rustc, append(flags, "--crate-type", "rlib", "--crate-name", "xf", "xf/src/lib.rs", "-o", lib)...)
	runTool(t, rustc, append(flags, "--extern", "xf="+lib, "testdata/sdkcheck/main.rs", "-o", plain)...)
	wasm, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	meta, err1 := os.ReadFile("testdata/sdkcheck/metadata.json")
	iface, err2 := os.ReadFile("testdata/sdkcheck/interface.json")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	module, err := taskmodule.Pack(wasm, meta, iface)
	if err != nil {
		t.Fatal(err)
	}

	w := newWorld(t)
	img := w.synthetic(t, "bone", [3]int{12, 11, 10})
	voxels := w.voxels(t, "scans/bone.raw", "uint16")
	lo, hi := minMax(voxels)
	lower := (lo + hi) / 2
	inputs := func(mode string) map[string]any { return map[string]any{"image": img, "mode": mode, "lower": lower} }

	res := w.run(t, module, inputs("check"))
	testenv.WantDone(t, res)
	wantOutput(t, res, "min", lo)
	wantOutput(t, res, "max", hi)
	bone := 0
	for _, v := range voxels {
		if v >= lower {
			bone++
		}
	}
	if got := string(res.Outputs["voxels"]); got != strconv.Itoa(len(voxels)) {
		t.Errorf("voxels = %s, want %d", got, len(voxels))
	}
	wantOutput(t, res, "bvtv", float64(bone)/float64(len(voxels)))
	seg := w.segmentation(t, res)
	for i, v := range voxels {
		if (seg[i] == 1) != (v >= lower) {
			t.Fatalf("segment voxel %d (value %v) = %d", i, v, seg[i])
		}
	}
	var table struct{ Type, Filename string }
	if err := json.Unmarshal(res.Outputs["table"], &table); err != nil || table.Type != "CSV" {
		t.Fatalf("table = %s: %v", res.Outputs["table"], err)
	}
	if got := string(w.ReadFile(t, table.Filename)); got != "a,b\n1,2\n" {
		t.Errorf("table file %q", got)
	}
	if res.Units["min"] != "raw" || res.Units["max"] != "raw" || res.ErrorNote != "" {
		t.Errorf("units %v, error note %q", res.Units, res.ErrorNote)
	}
	if !hasLog(res, "sdk check log line") || len(res.Activity) != 1 || len(res.Progress) == 0 {
		t.Errorf("log %v, activity %v, progress %v", res.Log, res.Activity, res.Progress)
	}

	res = w.run(t, module, inputs("panic"))
	if res.State != host.Failed || !regexp.MustCompile(`^panic: index out of bounds: the len is 0 but the index is 3 \(testdata/sdkcheck/main.rs:\d+:\d+\)$`).MatchString(res.Error) {
		t.Errorf("panic: state %s, error %q", res.State, res.Error)
	}
	if !hasLog(res, "before the panic") {
		t.Errorf("stdout before the panic was lost: %v", res.Log)
	}
	wantFailed(t, w.run(t, module, inputs("error")), "task error")
}

func hasLog(res *host.Result, message string) bool {
	for _, l := range res.Log {
		if l.Message == message {
			return true
		}
	}
	return false
}

// TestJSONMatchesGo compares the crate's JSON encoding and decoding with
// encoding/json on many generated values: the outputs of a Rust port must
// be the Go original's bytes, and its input errors the Go original's text.
func TestJSONMatchesGo(t *testing.T) {
	needRustc(t)
	t.Parallel()
	dir := t.TempDir()
	lib := filepath.Join(dir, "libxf.rlib")
	helper := filepath.Join(dir, "gocompat")
	runTool(t, rustc, "--edition", "2021", "-D", "warnings", "--crate-type", "rlib", "--crate-name", "xf", "xf/src/lib.rs", "-o", lib)
	runTool(t, rustc, "--edition", "2021", "-C", "opt-level=1", "--extern", "xf="+lib, "testdata/gocompat.rs", "-o", helper)

	rng := rand.New(rand.NewPCG(1, 2))
	var requests, wants []string
	add := func(req, want string) { requests, wants = append(requests, req), append(wants, want) }

	for _, f := range interestingFloats(rng, 40000) {
		add("f64 "+strconv.FormatUint(math.Float64bits(f), 10), goEncode(f))
	}
	for _, f := range interestingFloats(rng, 10000) {
		f32 := float32(f)
		add("f32 "+strconv.FormatUint(uint64(math.Float32bits(f32)), 10), goEncode(f32))
	}
	for i := 0; i < 3000; i++ {
		s := randomString(rng)
		add("str "+hex.EncodeToString([]byte(s)), goEncode(s))
		enc, _ := json.Marshal(s)
		add("unquote "+hex.EncodeToString(enc), hex.EncodeToString([]byte(s)))
	}
	for _, lit := range []string{`"\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`, `"\/\b\f\n\r\t\"\\"`, `"\u00e9\u20AC"`} {
		var s string
		if err := json.Unmarshal([]byte(lit), &s); err != nil {
			t.Fatal(err)
		}
		add("unquote "+hex.EncodeToString([]byte(lit)), hex.EncodeToString([]byte(s)))
	}
	for _, doc := range mutatedDocuments(rng, 6000) {
		add("valid "+hex.EncodeToString([]byte(doc)), strconv.FormatBool(json.Valid([]byte(doc))))
	}
	for _, doc := range decodeCases(rng) {
		h := hex.EncodeToString([]byte(doc))
		add("float "+h, goDecode[float64](doc, func(f float64) string { return strconv.FormatUint(math.Float64bits(f), 10) }))
		add("int "+h, goDecode[int64](doc, func(i int64) string { return strconv.FormatInt(i, 10) }))
		add("string "+h, goDecode[string](doc, func(s string) string { return hex.EncodeToString([]byte(s)) }))
		add("bool "+h, goDecode[bool](doc, strconv.FormatBool))
	}

	cmd := exec.Command(helper)
	cmd.Stdin = strings.NewReader(strings.Join(requests, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", helper, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	failures := 0
	for i := 0; sc.Scan(); i++ {
		if i >= len(wants) {
			t.Fatalf("more answers than requests")
		}
		if got := sc.Text(); got != wants[i] && failures < 20 {
			failures++
			t.Errorf("%s: Rust %q, Go %q", requests[i], got, wants[i])
		}
	}
	t.Logf("%d requests", len(requests))
}

// goEncode is Go's JSON of v, or "error " and its error.
func goEncode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "error " + err.Error()
	}
	return string(b)
}

// goDecode is Go's decoding of doc into a T, formatted; "null" for null,
// which Go leaves undecoded.
func goDecode[T any](doc string, format func(T) string) string {
	if doc == "null" {
		return "null"
	}
	var v T
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "error " + err.Error()
	}
	return format(v)
}

// interestingFloats returns n floats: the boundaries of Go's exponent form,
// powers of ten, subnormals, integers, short decimals, values with a short
// binary fraction near 2^53 (where the two shortest decimal candidates can
// be exactly as close, and Go rounds to even) and random bits.
func interestingFloats(rng *rand.Rand, n int) []float64 {
	out := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64,
		math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 1, -1, 0.1, 1.0 / 3}
	for _, b := range []float64{1e-6, 1e21} {
		for _, f := range []float64{b, math.Nextafter(b, 0), math.Nextafter(b, math.Inf(1))} {
			out = append(out, f, -f)
		}
	}
	for e := -325; e <= 309; e++ {
		out = append(out, math.Pow(10, float64(e)))
	}
	for len(out) < n {
		switch rng.IntN(5) {
		case 4:
			f := float64(rng.Int64N(1<<54)) * math.Ldexp(1, -rng.IntN(12))
			out = append(out, f, float32Tie(rng))
		case 0:
			out = append(out, math.Float64frombits(rng.Uint64()))
		case 1:
			out = append(out, float64(rng.Int64N(1<<53))-float64(1<<52))
		case 2: // a short decimal such as 3.25e-9
			out = append(out, float64(rng.IntN(100000))*math.Pow(10, float64(rng.IntN(60)-30)))
		default:
			out = append(out, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)))
		}
	}
	return out
}

// float32Tie is an f32 value with a short binary fraction near 2^24.
func float32Tie(rng *rand.Rand) float64 {
	return float64(float32(rng.Int64N(1<<25)) * float32(math.Ldexp(1, -rng.IntN(8))))
}

// randomString mixes characters Go's encoder escapes with arbitrary ones.
func randomString(rng *rand.Rand) string {
	special := []rune{'"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 0, 0x1f, 0x7f, '<', '>', '&', 0x2028, 0x2029, 0xfeff, 'é', '😀', 0xfffd}
	var b strings.Builder
	for i := rng.IntN(12); i > 0; i-- {
		switch rng.IntN(3) {
		case 0:
			b.WriteRune(special[rng.IntN(len(special))])
		case 1:
			b.WriteRune(rune(0x20 + rng.IntN(0x60)))
		default:
			r := rune(rng.IntN(0x110000))
			if utf8.ValidRune(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// mutatedDocuments returns JSON documents and small corruptions of them,
// all valid UTF-8 (the crate rejects invalid UTF-8 that Go would accept).
func mutatedDocuments(rng *rand.Rand, n int) []string {
	seeds := []string{
		`{"image":{"type":"Image","filename":"scans/a.omni","size":[32,32,32]},"calibration":null}`,
		`[1,-2.5e-3,0,true,false,null,"x\u00e9\"",{"a":[]},{}]`,
		`{"size":[1,2,3],"spacing_mm":[0.03,0.03,0.03],"calibrations":[{"slope":0.25,"intercept":-400}]}`,
		` "\ud83d\ude00\n" `, `-0.0E+12`, `[[[[]]]]`,
	}
	const alphabet = "{}[],:\"\\ 0123456789.eE+-tfnulrsa\u00e9\n\t"
	out := append([]string(nil), seeds...)
	for len(out) < n {
		doc := []rune(seeds[rng.IntN(len(seeds))])
		for k := rng.IntN(3) + 1; k > 0 && len(doc) > 0; k-- {
			i := rng.IntN(len(doc))
			c := []rune(alphabet)[rng.IntN(utf8.RuneCountInString(alphabet))]
			switch rng.IntN(3) {
			case 0:
				doc = append(doc[:i], doc[i+1:]...)
			case 1:
				doc = append(doc[:i], append([]rune{c}, doc[i:]...)...)
			default:
				doc[i] = c
			}
		}
		out = append(out, string(doc))
	}
	return out
}

// decodeCases are JSON values to decode as float, int, string and bool.
func decodeCases(rng *rand.Rand) []string {
	out := []string{"null", "true", "false", `"dens"`, `""`, "[]", "{}", "[1]", `{"a":1}`,
		"0", "-0", "1.0", "1e3", "1E5", "-12", "1e400", "-1e400", "1e-400", "4.9e-324", "2.5e-324",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"99999999999999999999", "0.1000000000000000055511151231257827021181583404541015625",
		"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999",
		"2.2250738585072011e-308", "3400", "0.03"}
	for i := 0; i < 2000; i++ {
		mant := strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10)
		if rng.IntN(2) == 0 {
			mant = mant[:1] + "." + mant[1:] + "1"
		}
		doc := mant
		if rng.IntN(2) == 0 {
			doc += fmt.Sprintf("e%d", rng.IntN(700)-350)
		}
		if rng.IntN(2) == 0 {
			doc = "-" + doc
		}
		out = append(out, doc)
	}
	return out
}
