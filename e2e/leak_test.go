package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/policy"
)

// processUsage is what a leak would grow.
type processUsage struct {
	heapInuse  uint64 // bytes, after GC
	fds        int
	mappings   int
	goroutines int
}

func measureUsage(t *testing.T) processUsage {
	t.Helper()
	// Two cycles: the first runs finalizers and cleanups (which close
	// mapped files), the second frees what they released.
	for range 2 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	return processUsage{
		heapInuse:  ms.HeapInuse,
		fds:        len(fds),
		mappings:   bytes.Count(maps, []byte("\n")),
		goroutines: runtime.NumGoroutine(),
	}
}

// TestNoLeaksOverManyJobs runs 1,000 mixed jobs (successes, guest failures,
// traps, deadline timeouts) after a warm-up and checks that the process's
// heap, file descriptors, memory mappings and goroutines end where they
// started.
func TestNoLeaksOverManyJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 1,000 jobs")
	}
	e := newEnv(t)
	img := e.volume("bone", [3]int{16, 16, 16})
	lo, hi := minMax(e.rawUint16("scans/bone.raw"))

	pol := policy.Defaults()
	// The spinning guest times out after 20 ms.
	pol.TaskTypes = map[string]policy.Limits{"Test.Spin": {Deadline: policy.Duration(20 * time.Millisecond)}}
	h, err := host.New(host.Options{Engine: testenv.SharedWazero(t), Store: e.Store, ScratchDir: t.TempDir(), Policy: &pol})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	ok, _ := json.Marshal(map[string]any{"image": img, "calibration": nil})
	uncalibrated, _ := json.Marshal(map[string]any{"image": img, "calibration": "linatt"})
	statminmax, trap, spin := guest(t, "statminmax"), trapModule(t), spinModule(t)
	type kind struct {
		name    string
		wasm    []byte
		inputs  []byte
		state   host.State
		message string
	}
	kinds := []kind{
		{"success", statminmax, ok, host.Done, ""},
		{"success", statminmax, ok, host.Done, ""},
		{"guest failure", statminmax, uncalibrated, host.Failed, "Image is missing calibration metadata of type linatt"},
		{"trap", trap, []byte(`{}`), host.Failed, "guest trapped"},
		{"deadline", spin, []byte(`{}`), host.Failed, "deadline exceeded"},
	}
	// runJobs runs n jobs, cycling through kinds, and counts them by kind.
	runJobs := func(n int) map[string]int {
		var mu sync.Mutex
		counts := map[string]int{}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 4 { // more than the host's job slots, so they stay busy
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n || t.Failed() {
						return
					}
					k := kinds[i%len(kinds)]
					res, err := h.RunModule(context.Background(), k.wasm, k.inputs, host.RunOptions{JobSerial: int64(i)})
					if err := checkLeakJob(res, err, k.state, k.message, lo, hi); err != nil {
						t.Errorf("job %d (%s): %v", i, k.name, err)
						return
					}
					mu.Lock()
					counts[k.name]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return counts
	}

	// Warm up: compiled code, pools and caches reach their steady size.
	runJobs(100)
	before := measureUsage(t)
	start := time.Now()
	counts := runJobs(1000)
	elapsed := time.Since(start)
	after := measureUsage(t)
	if t.Failed() {
		return
	}
	t.Logf("1000 jobs in %v: %v", elapsed, counts)
	t.Logf("heap in use: %d KiB before, %d KiB after", before.heapInuse>>10, after.heapInuse>>10)
	t.Logf("open fds: %d before, %d after", before.fds, after.fds)
	t.Logf("mappings: %d before, %d after", before.mappings, after.mappings)
	t.Logf("goroutines: %d before, %d after", before.goroutines, after.goroutines)

	// Leaking one job's worth of anything, a thousand times, would show far
	// beyond these margins; they only absorb the runtime's own jitter.
	if after.heapInuse > before.heapInuse+8<<20 {
		t.Errorf("heap in use grew from %d to %d KiB", before.heapInuse>>10, after.heapInuse>>10)
	}
	if after.fds > before.fds+2 {
		t.Errorf("open fds grew from %d to %d", before.fds, after.fds)
	}
	if after.mappings > before.mappings+16 {
		t.Errorf("mappings grew from %d to %d", before.mappings, after.mappings)
	}
	if after.goroutines > before.goroutines+2 {
		t.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
}

func checkLeakJob(res *host.Result, err error, state host.State, message string, lo, hi uint16) error {
	switch {
	case err != nil:
		return err
	case res.State != state:
		return fmt.Errorf("state %s (error %q), want %s", res.State, res.Error, state)
	case state == host.Failed && !bytes.Contains([]byte(res.Error), []byte(message)):
		return fmt.Errorf("error %q does not contain %q", res.Error, message)
	case state == host.Done && (string(res.Outputs["min"]) != fmt.Sprint(lo) || string(res.Outputs["max"]) != fmt.Sprint(hi)):
		return fmt.Errorf("outputs %s, want min %d max %d", res.Outputs, lo, hi)
	}
	return nil
}
