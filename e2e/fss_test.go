package e2e

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fss/fsshttp"
	"github.com/xfhost/xfhost/fsscache"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
)

// TestJobsOverHTTPStore runs task types against an FSS server on loopback
// through the download cache: inputs are downloaded once and then served
// from the cache, outputs are uploaded to the server.
func TestJobsOverHTTPStore(t *testing.T) {
	e := newEnv(t) // its directory becomes the server's store
	img := e.volume("bone", [3]int{33, 29, 21})
	lo, hi := minMax(e.rawUint16("scans/bone.raw"))

	server := fsshttp.NewServer(e.Store, fsshttp.ServerOptions{Token: "s3cret"})
	ts := httptest.NewServer(server)
	defer ts.Close()
	client, err := fsshttp.NewClient(ts.URL, fsshttp.ClientOptions{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	cache, err := fsscache.Open(t.TempDir(), fsscache.Options{Origin: client, Name: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	h, err := host.New(host.Options{Engine: testenv.SharedWazero(t), Store: fsscache.NewStore(cache, client), ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	run := func(module string, inputs map[string]any) *host.Result {
		in, _ := json.Marshal(inputs)
		res, err := h.RunModule(context.Background(), guest(t, module), in, host.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	for i := 0; i < 3; i++ {
		res := run("statminmax", map[string]any{"image": img, "calibration": nil})
		testenv.WantDone(t, res)
		if floatOutput(t, res, "min") != float64(lo) || floatOutput(t, res, "max") != float64(hi) {
			t.Fatalf("outputs %v, want %d..%d", res.Outputs, lo, hi)
		}
	}
	if st := server.Stats(); st.GetFull != 2 { // bone.omni and bone.raw, once each
		t.Errorf("server saw %d full downloads for 3 jobs, want 2 (stats %+v)", st.GetFull, st)
	}
	if cs := cache.Stats(); cs.Hits < 4 {
		t.Errorf("cache stats %+v: want the later jobs served from the cache", cs)
	}

	res := run("clipthreshold", map[string]any{"image": img, "threshold_lower0": 3400.0, "threshold_upper0": nil})
	testenv.WantDone(t, res)
	var out struct{ Filename string }
	if err := json.Unmarshal(res.Outputs["segments"], &out); err != nil {
		t.Fatal(err)
	}
	// The output went to the server's store, where another worker finds it.
	if _, err := os.Stat(filepath.Join(e.Dir, filepath.FromSlash(out.Filename))); err != nil {
		t.Errorf("uploaded output not on the server: %v", err)
	}
	if st := server.Stats(); st.Put != 2 {
		t.Errorf("server saw %d uploads, want 2 (.omni and .raw)", st.Put)
	}

	// A wrong token fails the job with a clear message, not a hang.
	bad, _ := fsshttp.NewClient(ts.URL, fsshttp.ClientOptions{Token: "wrong"})
	badCache, err := fsscache.Open(t.TempDir(), fsscache.Options{Origin: bad, Name: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer badCache.Close()
	var _ fss.Store = fsscache.NewStore(badCache, bad)
	h2, _ := host.New(host.Options{Engine: testenv.SharedWazero(t), Store: fsscache.NewStore(badCache, bad), ScratchDir: t.TempDir()})
	defer h2.Close()
	in, _ := json.Marshal(map[string]any{"image": img, "calibration": nil})
	res, err = h2.RunModule(context.Background(), guest(t, "statminmax"), in, host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed(t, res, "IO_ERROR")
	var sawUnauthorized bool
	for _, l := range res.Log {
		if l.Source == "host" && contains(l.Message, "unauthorized") {
			sawUnauthorized = true
		}
	}
	if !sawUnauthorized {
		t.Errorf("job log does not say why the fetch failed: %v", res.Log)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
