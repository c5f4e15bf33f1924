//go:build wasip1

// Command scratch-quota fills /scratch past the policy's scratch_bytes:
// writes stop exactly at the quota, then fail (the guest sees EIO: wazero
// has no ENOSPC). Growing a file with Truncate past the quota fails too.
// After removing the file, the space is free again and the job finishes
// with a small file written.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		written, err := fill("/scratch/big")
		_ = job.Logf(xf.Info, "status fill: %d bytes, then %v", written, err)
		f, err := os.Create("/scratch/sparse")
		if err != nil {
			return err
		}
		_ = job.Logf(xf.Info, "status truncate-past-quota: %v", f.Truncate(1<<40))
		_, err = f.WriteAt([]byte("x"), 1<<30)
		_ = job.Logf(xf.Info, "status write-at-1GiB: %v", err)
		f.Close()
		if err := os.Remove("/scratch/big"); err != nil {
			return err
		}
		again, err := fill("/scratch/again")
		_ = job.Logf(xf.Info, "status fill-after-remove: %d bytes, then %v", again, err)
		if err := os.Remove("/scratch/again"); err != nil {
			return err
		}
		if err := os.WriteFile("/scratch/small", []byte("fits"), 0o644); err != nil {
			return err
		}
		return job.SetOutput("filled", written)
	})
}

// fill writes 64 KiB chunks until a write fails.
func fill(path string) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	chunk := []byte(strings.Repeat("z", 64<<10))
	total := 0
	for total < 1<<30 {
		n, err := f.Write(chunk)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, fmt.Errorf("no refusal after %d bytes", total)
}
