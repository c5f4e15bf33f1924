//go:build wasip1

// Command go-alloc-bomb allocates and keeps 1 MiB blocks until the Go
// runtime cannot grow its memory any more under the policy's memory_mib.
// The runtime then dies with "fatal error: out of memory", which must end
// the job as failed without disturbing the host.
package main

import (
	"fmt"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		var kept [][]byte
		for i := 0; ; i++ {
			b := make([]byte, 1<<20)
			b[len(b)-1] = 1 // touch it
			kept = append(kept, b)
			if len(kept)%16 == 0 {
				_ = job.Log(xf.Info, fmt.Sprintf("holding %d MiB", len(kept)))
			}
		}
	})
}
