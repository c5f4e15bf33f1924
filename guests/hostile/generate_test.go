//go:build !wasip1

package hostile_test

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/guests/hostile"
	"github.com/xfhost/xfhost/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite generated guest sources")

// TestWatMatchesWasm rebuilds every committed .wat and checks that the
// committed .wasm next to it is what it builds to, so the two cannot
// drift. It needs wabt's wat2wasm (Debian: apt-get install wabt).
func TestWatMatchesWasm(t *testing.T) {
	testenv.WantWasmBuiltFromWat(t, "*/*.wat")
}

// badPointerCalls is the generated half of the bad-pointers guest.
const badPointerCalls = "bad-pointers/calls_gen.go"

// TestBadPointerCallsUpToDate checks that the bad-pointers guest calls
// every import of abi.json; -update rewrites the file.
func TestBadPointerCallsUpToDate(t *testing.T) {
	want, err := generateBadPointerCalls(abi.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(badPointerCalls, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(badPointerCalls)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: go test ./guests/hostile -run TestBadPointerCallsUpToDate -update", badPointerCalls)
	}
}

// generateBadPointerCalls writes one //go:wasmimport declaration per
// import, taking every i32 as uint32 so that any pointer value can be
// passed, and a table describing their parameters.
func generateBadPointerCalls(spec *abi.Spec) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated from abi/abi.json by TestBadPointerCallsUpToDate in ../generate_test.go; DO NOT EDIT.\n\n")
	b.WriteString("//go:build wasip1\n\npackage main\n\nimport \"math\"\n\n")
	goType := map[string]string{"i32": "uint32", "i64": "uint64", "f64": "float64"}
	var table bytes.Buffer
	for i := range spec.Functions {
		f := &spec.Functions[i]
		fn := goName(f.Module, f.Name)
		wasm := spec.WasmParams(f)
		var params, args, kinds []string
		for k, p := range f.Params {
			typ, ok := goType[wasm[k]]
			if !ok {
				return nil, fmt.Errorf("%s: parameter %s has Wasm type %s", f.QualifiedName(), p.Name, wasm[k])
			}
			params = append(params, fmt.Sprintf("%s %s", paramName(p.Name), typ))
			switch typ {
			case "uint32":
				args = append(args, fmt.Sprintf("uint32(a[%d])", k))
			case "uint64":
				args = append(args, fmt.Sprintf("a[%d]", k))
			case "float64":
				args = append(args, fmt.Sprintf("math.Float64frombits(a[%d])", k))
			}
			kinds = append(kinds, fmt.Sprintf("{%q, %q}", p.Name, p.Type))
		}
		fmt.Fprintf(&b, "//go:wasmimport %s %s\nfunc %s(%s) uint32\n\n", f.Module, f.Name, fn, strings.Join(params, ", "))
		fmt.Fprintf(&table, "\t{%q, []param{%s}, func(a []uint64) uint32 { return %s(%s) }},\n",
			f.QualifiedName(), strings.Join(kinds, ", "), fn, strings.Join(args, ", "))
	}
	b.WriteString("// imports lists every import of the ABI with its parameters.\nvar imports = []importFunc{\n")
	b.Write(table.Bytes())
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// paramName turns buf_cap into bufCap.
func paramName(name string) string {
	n := goName("", name)
	n = strings.ToLower(n[:1]) + n[1:]
	if token.IsKeyword(n) {
		n += "_"
	}
	return n
}

// goName turns xf.image_create into xfImageCreate.
func goName(module, name string) string {
	var b strings.Builder
	b.WriteString(module)
	for part := range strings.SplitSeq(name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// badPointerVariants counts the calls the bad-pointers guest makes: one per
// pointer parameter, and one more for each pointer followed by a length
// (the pointer valid, the length running past memory). xf.fail is left
// out: it ends the job (fail-message-oob covers it).
func badPointerVariants(spec *abi.Spec) int {
	n := 0
	for _, f := range spec.Functions {
		if f.QualifiedName() == "xf.fail" {
			continue
		}
		for k, p := range f.Params {
			if p.Type != "ptr" {
				continue
			}
			n++
			if k+1 < len(f.Params) && f.Params[k+1].Type == "len" {
				n++
			}
		}
	}
	return n
}

func TestBadPointerVariantCount(t *testing.T) {
	// The bad-pointers case expects this many checks; keep case.json in
	// step when the ABI grows.
	want := badPointerVariants(abi.MustLoad())
	c, err := hostile.ReadCase(hostile.Files(), "bad-pointers")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Expect.Outputs["checked"]; got != fmt.Sprintf("^%d$", want) {
		t.Errorf("bad-pointers/case.json expects output checked %q, the ABI gives %d calls", got, want)
	}
}
