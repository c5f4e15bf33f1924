package enginetest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine"
)

// deadlineDuringGC runs guests that never return while the Go runtime
// collects garbage over and over. A collection stops every goroutine, and
// Go cannot preempt compiled Wasm: an engine whose guests never reach a
// preemption point freezes the whole process at the next collection, and
// the timer that would stop them never fires (then this test hangs
// until the test binary is killed from outside).
func (s suite) deadlineDuringGC(t *testing.T) {
	e := s.engine(t, engine.Config{})
	for _, c := range []struct {
		name string
		mod  wasmModule
	}{
		{"infinite loop", guest(nil, forever)},
		{"loop-free call tree", callTree(48)},
	} {
		t.Run(c.name, func(t *testing.T) {
			mod := compile(t, e, c.mod)
			done := make(chan struct{})
			var gcs sync.WaitGroup
			gcs.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
						runtime.GC()
					}
				}
			})
			defer gcs.Wait()
			defer close(done)

			const guests, deadline = 4, 200 * time.Millisecond
			errs := make(chan error, guests)
			start := time.Now()
			for range guests {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), deadline)
					defer cancel()
					errs <- mod.Run(ctx, engine.RunConfig{})
				}()
			}
			for range guests {
				select {
				case err := <-errs:
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("Run = %v, want context.DeadlineExceeded", err)
					}
				case <-time.After(deadline + 10*promptly):
					t.Fatal("guests still running 10 s after their deadline: the process is frozen")
				}
			}
			t.Logf("%d guests stopped %v after the deadline", guests, time.Since(start)-deadline)
		})
	}
}
