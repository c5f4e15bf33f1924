//go:build wasip1

// Command write-outside-scratch tries to create files and directories
// outside /scratch: in /etc, in /inputs, at the root, and through ".."
// from /scratch (which Go cleans before the host sees it; the raw ".."
// case is dotdot-escape). It logs "status <label>: <error>" for each and
// finishes; none may succeed.
package main

import (
	"os"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		try := func(label string, err error) {
			msg := "OK"
			if err != nil {
				msg = err.Error()
			}
			_ = job.Logf(xf.Info, "status %s: %s", label, msg)
		}
		planted := []byte("planted by a guest")
		try("write-etc", os.WriteFile("/etc/xfhost-hostile-planted", planted, 0o644))
		try("write-etc-passwd", os.WriteFile("/etc/passwd", planted, 0o644))
		try("write-inputs", os.WriteFile("/inputs/planted", planted, 0o644))
		try("write-root", os.WriteFile("/xfhost-hostile-planted", planted, 0o644))
		try("write-scratch-dotdot", os.WriteFile("/scratch/../xfhost-hostile-planted", planted, 0o644))
		try("mkdir-inputs", os.Mkdir("/inputs/dir", 0o755))
		try("mkdir-root", os.Mkdir("/xfhost-hostile-dir", 0o755))
		try("remove-scratch", os.Remove("/scratch"))
		try("write-scratch", os.WriteFile("/scratch/fine", planted, 0o644))
		return nil
	})
}
