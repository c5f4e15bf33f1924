//go:build wasip1

// Command read-passwd tries to read the host's /etc/passwd directly and
// through ".." from both trees, and lists the root of its file system. It
// logs what it got and finishes; the runner checks that no line of the
// host's /etc/passwd appears anywhere in the job's result.
package main

import (
	"os"
	"strings"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		for _, p := range []string{"/etc/passwd", "/scratch/../etc/passwd", "/inputs/../../etc/passwd", "/proc/self/environ", "../../../etc/passwd"} {
			b, err := os.ReadFile(p)
			if err != nil {
				_ = job.Logf(xf.Info, "status read %s: %v", p, err)
			} else {
				_ = job.Logf(xf.Info, "status read %s: read %d bytes: %q", p, len(b), b)
			}
		}
		entries, err := os.ReadDir("/")
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		_ = job.Logf(xf.Info, "status list /: [%s] %v", strings.Join(names, " "), err)
		return nil
	})
}
