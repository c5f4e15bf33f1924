//go:build !wasip1

// Package astest tests the AssemblyScript guests with nothing but Go: the
// committed task modules run as jobs on the wazero host and their outputs
// are checked against values computed independently from the image files,
// as are those of testdata/sdktour.wasm, a guest that calls most of the SDK;
// and the SDK's test module (testdata/sdktest.wasm) has its float
// formatting and parsing and its JSON reader checked against Go's strconv
// and encoding/json. build.sh rebuilds the modules.
package astest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/taskmodule"
)

// ---- the SDK test module ----

// sdk is an instance of testdata/sdktest.wasm.
type sdk struct {
	t     testing.TB
	ctx   context.Context
	mod   api.Module
	funcs map[string]api.Function // wazero sets up a call stack per ExportedFunction
}

func newSDK(t testing.TB) *sdk {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("testdata", "sdktest.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("instantiate sdktest.wasm: %v", err)
	}
	return &sdk{t: t, ctx: ctx, mod: mod, funcs: map[string]api.Function{}}
}

func (s *sdk) call(name string, args ...uint64) uint64 {
	s.t.Helper()
	f, ok := s.funcs[name]
	if !ok {
		if f = s.mod.ExportedFunction(name); f == nil {
			s.t.Fatalf("sdktest.wasm does not export %s", name)
		}
		s.funcs[name] = f
	}
	res, err := f.Call(s.ctx, args...)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// put writes an argument into the module's input buffer and returns its length.
func (s *sdk) put(b []byte) uint64 {
	s.t.Helper()
	ptr := s.call("input", uint64(len(b)))
	if !s.mod.Memory().Write(uint32(ptr), b) {
		s.t.Fatalf("input buffer at %d out of memory", ptr)
	}
	return uint64(len(b))
}

// text reads a text result of length n.
func (s *sdk) text(n uint64) string {
	s.t.Helper()
	b, ok := s.mod.Memory().Read(uint32(s.call("output")), uint32(n))
	if !ok {
		s.t.Fatal("output buffer out of memory")
	}
	return string(b)
}

func (s *sdk) formatFloat(x float64) string {
	return s.text(s.call("formatFloat", api.EncodeF64(x)))
}

func (s *sdk) parseFloat(lit string) float64 {
	return api.DecodeF64(s.call("parseFloat", s.put([]byte(lit))))
}

// interestingFloats are the corner cases of shortest formatting, rounding
// and the exponent cut-offs, every power of two and ten with neighbours,
// and random bit patterns.
func interestingFloats() []float64 {
	xs := []float64{
		0, 1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e-6, 1e21, 1e20, 1e22, 1e23, 5e-324, 1e-323,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 0x1p-1022, 123456789012345680000,
		9007199254740993, 1.5, 2.5, 1e-7, 1.5e-10, 1e300, 0.000001, 4.35, 8.41, 5e-7,
		9.999999999999999e20, 9.999999999999999e-7, 29.999999999999996, 1.7976931348623157e308,
	}
	for e := -1074; e <= 1023; e++ {
		xs = append(xs, math.Ldexp(1, e))
	}
	for e := -323; e <= 308; e++ {
		p, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		xs = append(xs, p)
	}
	for i := 0; i <= 1000; i++ {
		xs = append(xs, float64(i), float64(i)/10, float64(i)/1000, float64(i)*1e18)
	}
	for _, x := range slices.Clone(xs) { // neighbours
		xs = append(xs, math.Nextafter(x, math.Inf(1)), math.Nextafter(x, 0))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		if x := math.Float64frombits(r.Uint64()); !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
		xs = append(xs, float64(r.IntN(100000000))/math.Pow(10, float64(r.IntN(12))))
	}
	out := make([]float64, 0, 2*len(xs)+1)
	for _, x := range xs {
		if !math.IsInf(x, 0) {
			out = append(out, x, -x)
		}
	}
	return append(out, math.Copysign(0, -1))
}

func TestSDKFormatFloat(t *testing.T) {
	s := newSDK(t)
	fails := 0
	for _, x := range interestingFloats() {
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.formatFloat(x); got != string(want) {
			t.Errorf("format %b: got %s, want %s", x, got, want)
			if fails++; fails > 20 {
				t.Fatal("too many failures")
			}
		}
	}
}

// exactDecimal writes the exact decimal expansion of a big.Float with a
// finite binary expansion.
func exactDecimal(x *big.Float) string {
	s := x.Text('f', 1100)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// literals are number literals in many spellings, including the exact
// midpoints between neighbouring floats (which must round to even), just
// above them (more than 800 digits, so only the dropped digits decide),
// and values beyond the float64 range.
func literals() []string {
	lits := []string{
		"0", "-0", "0.0", "-0.0e5", "1", "-1", "0.1", "1e23", "8.41", "123e-2", "1E+2", "1e0",
		"1e309", "-1e400", "1e-400", "-1e-400", "0e999999999999", "1e-99999999999999999", "1e99999999999999999",
		"2e-324", "3e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9406564584124654e-324",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
		"2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
		"9007199254740993", "9007199254740993.0000000001", "0.000000000000000000000000000000000000000000001e45",
		"100000000000000000000000", "1000000000000000000000000000000000000000000000000000000e-30",
		"4.35", "29.999999999999996", "7.3177701707893310e15", "1448997445238699", "6.9294956446009195e15",
	}
	for i, x := range interestingFloats() {
		switch {
		case x < 0 || i%3 != 0: // a sample keeps the test fast
		case i%8 == 0:
			lits = append(lits, strconv.FormatFloat(x, 'g', 17, 64))
		default:
			lits = append(lits, strconv.FormatFloat(x, 'e', -1, 64))
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	prec := uint(2400)
	for i := range 900 {
		var x float64
		switch i % 3 {
		case 0:
			x = math.Float64frombits(r.Uint64() >> 1) // positive, any exponent
		case 1:
			x = math.Float64frombits(r.Uint64() >> 12) // subnormal
		default:
			x = float64(r.IntN(1 << 30))
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || x == math.MaxFloat64 {
			continue
		}
		lits = append(lits, strconv.FormatFloat(x, 'f', -1, 64), fmt.Sprintf("%.30e", x))
		y := math.Nextafter(x, math.Inf(1))
		mid := new(big.Float).SetPrec(prec).SetFloat64(x)
		mid.Add(mid, new(big.Float).SetPrec(prec).SetFloat64(y))
		mid.Quo(mid, big.NewFloat(2).SetPrec(prec))
		m := exactDecimal(mid)
		if !strings.Contains(m, ".") {
			m += ".0"
		}
		lits = append(lits, m, m+strings.Repeat("0", 800)+"1", m+"e0")
	}
	return lits
}

func TestSDKParseFloat(t *testing.T) {
	s := newSDK(t)
	fails := 0
	for _, lit := range literals() {
		want, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			t.Fatalf("%s: %v", lit, err)
		}
		if got := s.parseFloat(lit); math.Float64bits(got) != math.Float64bits(want) {
			short := lit
			if len(short) > 60 {
				short = short[:30] + "..." + short[len(short)-30:]
			}
			t.Errorf("parse %s (%d chars): got %b, want %b", short, len(lit), got, want)
			if fails++; fails > 20 {
				t.Fatal("too many failures")
			}
		}
	}
}

func TestSDKParseInt(t *testing.T) {
	s := newSDK(t)
	for _, lit := range []string{"0", "-0", "7", "-12", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1.0", "1e3", "-"} {
		want, err := strconv.ParseInt(lit, 10, 64)
		ok := s.call("parseInt", s.put([]byte(lit))) == 1
		switch {
		case ok != (err == nil):
			t.Errorf("parseInt %s: ok = %v, Go's error %v", lit, ok, err)
		case ok && int64(s.call("intValue")) != want:
			t.Errorf("parseInt %s = %d, want %d", lit, int64(s.call("intValue")), want)
		}
	}
}

func TestSDKQuote(t *testing.T) {
	s := newSDK(t)
	for _, in := range []string{"", "image", `a"b\c`, "tab\there\nnl\r\a\b\f\v", "\x00\x1f\x7f", "é ü"} {
		if got, want := s.text(s.call("quote", s.put([]byte(in)))), strconv.Quote(in); got != want {
			t.Errorf("quote %q: got %s, want %s", in, got, want)
		}
	}
}

// goCanonical re-encodes a valid JSON document the way the test module's
// parse does: no whitespace, members in order, number literals as they
// are, strings decoded and encoded again by encoding/json.
func goCanonical(doc []byte) (string, error) {
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
		case json.Delim:
			open, end := byte(v), byte(']')
			if v == '{' {
				end = '}'
			}
			b.WriteByte(open)
			for first := true; dec.More(); first = false {
				if !first {
					b.WriteByte(',')
				}
				if open == '{' {
					key, err := dec.Token()
					if err != nil {
						return err
					}
					k, _ := json.Marshal(key)
					b.Write(k)
					b.WriteByte(':')
				}
				if err := value(); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			b.WriteByte(end)
		case json.Number:
			b.WriteString(string(v))
		case string:
			s, _ := json.Marshal(v)
			b.Write(s)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		}
		return nil
	}
	if err := value(); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("trailing data: %v", err)
	}
	return b.String(), nil
}

func TestSDKJSON(t *testing.T) {
	s := newSDK(t)
	docs := []string{
		`{}`, `[]`, ` { "a" : 1 , "b" : [ true , false , null ] , "c" : { "d" : "e" } } `, "\t\r\n[1]\n",
		`{"size":[41,33,27],"data_type":"uint16","spacing_mm":[0.02,0.02,0.02],"origin_mm":[0,0,0],"calibrations":[{"type":"slope_intercept","unit_type":"dens","unit_name":"mg HA/ccm","slope":0.25,"intercept":-400}],"default_unit_type":"dens"}`,
		`"\u00e9\n\t\"\\\/\b\f\r"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00"`, `"\ud800\ud800\udc00"`,
		`"\uD83D\uDE00"`, `"\ud83d"x`, "\"é😀\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"", "\"\xe2\x82\xac\"", "\"\xf0\x9f\x98\"", `"<a&b>"`, "\"\u2028\u2029\"", `"\u0001\u001f\u007f"`,
		`[-0,1.5e+10,1E-2,0.5,-12,1e400]`, `{"a":1,"a":2}`, `"a"`, `true`, `null`, `-1`, `"\u0000"`,
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
		`{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `"abc`,
		`"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", "\"\t\"", `tru`, `nul`, `[1 2]`, `1 2`, `NaN`, `Infinity`,
		`'a'`, `{}x`, "\ufeff{}", ``, ` `, `[`, `{"a":}`, `{"a"}`, `[,1]`, `-01`, `1.e5`, `"\`, `{"a":1 "b":2}`,
	}
	for _, doc := range docs {
		got := s.text(s.call("parse", s.put([]byte(doc))))
		if !json.Valid([]byte(doc)) {
			if !strings.HasPrefix(got, "error: ") {
				t.Errorf("parse %q: accepted invalid JSON as %s", doc, got)
			}
			continue
		}
		want, err := goCanonical([]byte(doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got != want {
			t.Errorf("parse %q:\n got %s\nwant %s", doc, got, want)
		}
	}
	// Nesting is bounded to keep the guest's stack safe; Go allows more.
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	if got := s.text(s.call("parse", s.put([]byte(deep)))); !strings.HasPrefix(got, "error: exceeded max depth") {
		t.Errorf("600 levels of nesting: %s", got)
	}
}

// ---- the task modules on the host ----

// env is a test's host on wazero over a fresh local file store.
type env struct {
	t testing.TB
	*testenv.Env
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{t: t, Env: testenv.New(t, testenv.SharedWazero(t))}
}

// store writes img into the store as scans/name.omni and returns its Image input value.
func (e *env) store(name string, img *omni.Image) json.RawMessage {
	e.t.Helper()
	return e.WriteImage(e.t, name, img)
}

// volume stores a synthetic uint16 volume with dens and hu calibrations.
func (e *env) volume(name string, size [3]int) json.RawMessage {
	e.t.Helper()
	return e.WriteVolume(e.t, name, size, 11)
}

// float64Volume stores a float64 image of the values with one calibration.
func (e *env) float64Volume(name string, values []float64, cal omni.Calibration) json.RawMessage {
	e.t.Helper()
	img, err := omni.New(&omni.Header{
		FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: [3]int{len(values), 1, 1},
		DataType: omni.Float64, ByteOrder: omni.LittleEndian, Spacing: [3]float64{1, 1, 1},
		Calibrations: []omni.Calibration{cal},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	defer img.Close()
	for i, v := range values {
		binary.LittleEndian.PutUint64(img.Pixels()[8*i:], math.Float64bits(v))
	}
	return e.store(name, img)
}

// rawUint16 decodes a little-endian uint16 pixel file without the omni package.
func (e *env) rawUint16(ref string) []uint16 {
	e.t.Helper()
	return e.Uint16Pixels(e.t, ref)
}

// calibration reads a calibration from the .omni header with plain JSON.
func (e *env) calibration(ref, unitType string) (slope, intercept float64) {
	e.t.Helper()
	slope, intercept, ok := e.Calibration(e.t, ref, unitType)
	if !ok {
		e.t.Fatalf("%s has no %s calibration", ref, unitType)
	}
	return slope, intercept
}

func module(t testing.TB, task string) []byte {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(task, task+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func (e *env) run(task string, inputs map[string]any) *host.Result {
	e.t.Helper()
	return e.Run(e.t, module(e.t, task), inputs, host.RunOptions{})
}

func wantFailed(t *testing.T, res *host.Result, message string) {
	t.Helper()
	if res.State != host.Failed || res.Error != message {
		t.Fatalf("state %s, error %q; want failed with %q", res.State, res.Error, message)
	}
	if len(res.Outputs) != 0 {
		t.Errorf("failed job reports outputs %v", res.Outputs)
	}
}

// wantOutputs compares outputs byte for byte with Go's encoding of the values.
func wantOutputs(t *testing.T, res *host.Result, want map[string]float64) {
	t.Helper()
	for key, v := range want {
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Outputs[key]); got != string(enc) {
			t.Errorf("output %s = %s, want %s", key, got, enc)
		}
	}
}

func minMax(v []uint16) (lo, hi float64) {
	l, h := v[0], v[0]
	for _, x := range v {
		l, h = min(l, x), max(h, x)
	}
	return float64(l), float64(h)
}

func TestModulesImportOnlyTheABI(t *testing.T) {
	for _, task := range []string{"statminmax", "clipthreshold"} {
		m, err := taskmodule.Parse(module(t, task))
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		for _, im := range m.Imports {
			if im.Module != "xf" && im.Module != "clip" && im.Module != "wasi_snapshot_preview1" {
				t.Errorf("%s imports %s.%s", task, im.Module, im.Name)
			}
		}
		want := map[string]bool{"memory": false, "_start": false, "xf_abi_version_1_1": false}
		for _, ex := range m.Exports {
			if _, ok := want[ex.Name]; ok {
				want[ex.Name] = true
			}
		}
		for name, found := range want {
			if !found {
				t.Errorf("%s does not export %s", task, name)
			}
		}
	}
}

func TestStatMinMax(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{23, 19, 17})
	lo, hi := minMax(e.rawUint16("scans/bone.raw"))
	t.Run("raw", func(t *testing.T) {
		res := e.run("statminmax", map[string]any{"image": img, "calibration": nil})
		testenv.WantDone(t, res)
		wantOutputs(t, res, map[string]float64{"min": lo, "max": hi})
	})
	for _, unit := range []string{"dens", "hu"} {
		t.Run(unit, func(t *testing.T) {
			res := e.run("statminmax", map[string]any{"image": img, "calibration": unit})
			testenv.WantDone(t, res)
			slope, icpt := e.calibration("scans/bone.omni", unit)
			wantOutputs(t, res, map[string]float64{"min": slope*lo + icpt, "max": slope*hi + icpt})
		})
	}
	t.Run("missing calibration", func(t *testing.T) {
		res := e.run("statminmax", map[string]any{"image": img, "calibration": "linatt"})
		wantFailed(t, res, "Image is missing calibration metadata of type linatt")
	})
	t.Run("empty unit type", func(t *testing.T) {
		res := e.run("statminmax", map[string]any{"image": img, "calibration": ""})
		wantFailed(t, res, "Image is missing calibration metadata of type ")
	})
	t.Run("image file missing", func(t *testing.T) {
		missing := json.RawMessage(`{"type":"Image","filename":"scans/none.omni","size":[1,1,1]}`)
		res := e.run("statminmax", map[string]any{"image": missing, "calibration": nil})
		wantFailed(t, res, `xf.image_open "image": IO_ERROR`)
	})
}

// TestStatMinMaxFloatOutputs checks the float formatting of real outputs
// where AssemblyScript's own toString differs from Go: exponent forms,
// long fractions and a value that is not valid JSON.
func TestStatMinMaxFloatOutputs(t *testing.T) {
	e := newEnv(t)
	cal := omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: "linatt", UnitName: "1/cm", Slope: 0.1, Intercept: 1.0 / 3}
	cases := []struct {
		name   string
		values []float64
	}{
		{"tiny and huge", []float64{1.5e-7, 3e-6, 2.5e22, 1e21}},
		{"negative", []float64{-1e-7, -123456.789, -0.000001}},
		{"long digits", []float64{0.1 + 0.2, 1.0 / 3, 2.0 / 3, 1e20 + 12345}},
		{"subnormal", []float64{5e-324, 2.5e-320}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := e.float64Volume(strings.ReplaceAll(c.name, " ", "_"), c.values, cal)
			lo, hi := slicesMinMax(c.values)
			res := e.run("statminmax", map[string]any{"image": img, "calibration": nil})
			testenv.WantDone(t, res)
			wantOutputs(t, res, map[string]float64{"min": lo, "max": hi})
			res = e.run("statminmax", map[string]any{"image": img, "calibration": "linatt"})
			testenv.WantDone(t, res)
			wantOutputs(t, res, map[string]float64{"min": cal.Slope*lo + cal.Intercept, "max": cal.Slope*hi + cal.Intercept})
		})
	}
	t.Run("infinite", func(t *testing.T) {
		img := e.float64Volume("inf", []float64{1, math.Inf(1)}, cal)
		res := e.run("statminmax", map[string]any{"image": img, "calibration": nil})
		wantFailed(t, res, `output "max": json: unsupported value: +Inf`)
	})
}

func slicesMinMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// segmentation reads an Image output's pixels from the store.
func (e *env) segmentation(res *host.Result, key string, size [3]int) []byte {
	e.t.Helper()
	out := e.OutputImage(e.t, res, key)
	if out.Size != size {
		e.t.Fatalf("output %s = %s", key, res.Outputs[key])
	}
	var header struct {
		DataType string `json:"data_type"`
	}
	b := e.ReadFile(e.t, out.Header)
	if err := json.Unmarshal(b, &header); err != nil || header.DataType != "uint8" {
		e.t.Fatalf("segmentation header %s: %v", b, err)
	}
	return out.Pixels
}

func TestClipThreshold(t *testing.T) {
	e := newEnv(t)
	size := [3]int{21, 18, 15}
	img := e.volume("bone", size)
	voxels := e.rawUint16("scans/bone.raw")
	lo, hi := minMax(voxels)
	mid := math.Floor((lo+hi)/2) + 0.5
	cases := []struct {
		name         string
		lower, upper any
		inside       func(float64) bool
	}{
		{"both", mid, hi - 100, func(v float64) bool { return v >= mid && v <= hi-100 }},
		{"lower only", mid, nil, func(v float64) bool { return v >= mid }},
		{"upper only", nil, mid, func(v float64) bool { return v <= mid }},
		{"neither", nil, nil, func(float64) bool { return true }},
		{"inclusive", hi, hi, func(v float64) bool { return v == hi }},
		{"empty", hi + 1, nil, func(float64) bool { return false }},
		{"integer literal", json.RawMessage(strconv.Itoa(int(lo) + 7)), nil, func(v float64) bool { return v >= lo+7 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.run("clipthreshold", map[string]any{"image": img, "threshold_lower0": c.lower, "threshold_upper0": c.upper})
			testenv.WantDone(t, res)
			got := e.segmentation(res, "segments", size)
			if len(got) != len(voxels) {
				t.Fatalf("segmentation has %d voxels, want %d", len(got), len(voxels))
			}
			for i, v := range voxels {
				want := byte(0)
				if c.inside(float64(v)) {
					want = 1
				}
				if got[i] != want {
					t.Fatalf("voxel %d (value %d) = %d, want %d", i, v, got[i], want)
				}
			}
		})
	}
	t.Run("image file missing", func(t *testing.T) {
		missing := json.RawMessage(`{"type":"Image","filename":"scans/none.omni","size":[1,1,1]}`)
		res := e.run("clipthreshold", map[string]any{"image": missing, "threshold_lower0": nil, "threshold_upper0": nil})
		wantFailed(t, res, `xf.image_open "image": IO_ERROR`)
	})
}

// components counts the 6-connected components of the voxels where in is
// true, x fastest.
func components(in []bool, size [3]int) int {
	seen := make([]bool, len(in))
	n := 0
	stack := []int{}
	for start := range in {
		if !in[start] || seen[start] {
			continue
		}
		n++
		seen[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y, z := i%size[0], i/size[0]%size[1], i/(size[0]*size[1])
			for _, d := range [][3]int{{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}} {
				nx, ny, nz := x+d[0], y+d[1], z+d[2]
				if nx < 0 || ny < 0 || nz < 0 || nx >= size[0] || ny >= size[1] || nz >= size[2] {
					continue
				}
				j := nx + size[0]*(ny+size[1]*nz)
				if in[j] && !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	return n
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSDKTour runs testdata/sdktour.wasm, which calls most of the SDK
// (typed inputs, job information, statistics, threshold, labelling,
// component sizes, bounding box, histogram, BV/TV, crop, creating, writing
// and reading an image, convert, image information and calibrations,
// outputs of every primitive type, units, log and progress) and checks
// every value it reports.
func TestSDKTour(t *testing.T) {
	e := newEnv(t)
	size := [3]int{19, 17, 13}
	img := e.volume("bone", size)
	voxels := e.rawUint16("scans/bone.raw")
	lo, hi := minMax(voxels)
	lower := math.Floor((lo+hi)/2) + 0.5
	name := "a<b>&é\u2028\"q\"\\"
	wasm, err := os.ReadFile(filepath.Join("testdata", "sdktour.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"image": img, "lower": lower, "bins": 16, "flag": true, "name": name, "missing": nil})
	res, err := e.Host.RunModule(context.Background(), wasm, in, host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WantDone(t, res)

	var sum, sumSq float64
	inside := make([]bool, len(voxels))
	segmented := 0
	bbLo, bbHi := size, [3]int{-1, -1, -1}
	for i, v := range voxels {
		f := float64(v)
		sum += f
		if f >= lower {
			inside[i] = true
			segmented++
		}
		if f >= hi-50 {
			p := [3]int{i % size[0], i / size[0] % size[1], i / (size[0] * size[1])}
			for a := range 3 {
				bbLo[a], bbHi[a] = min(bbLo[a], p[a]), max(bbHi[a], p[a])
			}
		}
	}
	n := float64(len(voxels))
	mean := sum / n
	for _, v := range voxels {
		sumSq += (float64(v) - mean) * (float64(v) - mean)
	}
	std := math.Sqrt(sumSq / n)
	spacing := 0.0
	var header struct {
		Spacing      [3]float64 `json:"spacing_mm"`
		Calibrations []struct {
			UnitType string  `json:"unit_type"`
			UnitName string  `json:"unit_name"`
			Slope    float64 `json:"slope"`
			Icpt     float64 `json:"intercept"`
		} `json:"calibrations"`
	}
	b, err := os.ReadFile(filepath.Join(e.Dir, "scans", "bone.omni"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &header); err != nil {
		t.Fatal(err)
	}
	spacing = header.Spacing[0]
	slope, icpt := e.calibration("scans/bone.omni", "dens")
	unitName := ""
	for _, c := range header.Calibrations {
		if c.UnitType == "dens" {
			unitName = c.UnitName
		}
	}
	f := func(x float64) string { return jsonText(t, x) }
	want := map[string]string{
		"min":              f(lo),
		"max":              f(hi),
		"sum":              f(sum),
		"count":            strconv.Itoa(len(voxels)),
		"segmented":        strconv.Itoa(segmented),
		"components":       strconv.Itoa(components(inside, size)),
		"component_voxels": strconv.Itoa(segmented),
		"bounding_box": jsonText(t, fmt.Sprintf("%d,%d,%d,%d,%d,%d", bbLo[0], bbLo[1], bbLo[2],
			bbHi[0]-bbLo[0]+1, bbHi[1]-bbLo[1]+1, bbHi[2]-bbLo[2]+1)),
		"histogram": jsonText(t, fmt.Sprintf("16 bins, %d voxels, cdf 1", segmented)),
		"crop":      jsonText(t, fmt.Sprintf("4,5,6 at %s,%s,%s", f(1*spacing), f(2*spacing), f(3*spacing))),
		"roundtrip": `"1007,2007,3007,4007"`,
		"converted": `"float32"`,
		"info": jsonText(t, fmt.Sprintf("%d,%d,%d uint16 spacing %s,%s,%s origin 0,0,0 2 calibrations, default dens, dens(1000) = %s %s",
			size[0], size[1], size[2], f(spacing), f(spacing), f(spacing), f(slope*1000+icpt), unitName)),
		"job":             `"Test.AssemblyScript.SDKTour 1.2.3.4 abi 1.1"`,
		"name":            jsonText(t, name),
		"flag":            "true",
		"missing_is_null": "true",
	}
	for key, w := range want {
		if got := string(res.Outputs[key]); got != w {
			t.Errorf("output %s = %s, want %s", key, got, w)
		}
	}
	for key, w := range map[string]float64{"mean": mean, "std": std, "bvtv": float64(segmented) / n} {
		var got float64
		if err := json.Unmarshal(res.Outputs[key], &got); err != nil || math.Abs(got-w) > 1e-9*math.Abs(w) {
			t.Errorf("output %s = %s, want %v", key, res.Outputs[key], w)
		}
	}
	seg := e.segmentation(res, "segments", size)
	for i := range inside {
		if (seg[i] == 1) != inside[i] {
			t.Fatalf("segments voxel %d = %d, value %d", i, seg[i], voxels[i])
		}
	}
	if res.Units["min"] != "raw" || res.Units["bvtv"] != "1" {
		t.Errorf("units %v", res.Units)
	}
	logged := false
	for _, l := range res.Log {
		logged = logged || (l.Message == "tour started" && l.Level == host.Info)
	}
	if !logged {
		t.Errorf("log %v lacks the info line", res.Log)
	}
}
