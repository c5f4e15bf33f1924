//go:build wasip1

// Command terminal-escapes writes terminal control sequences (colour,
// window title, cursor movement, clear screen, OSC 8 hyperlink, a bell, a
// carriage return that would overwrite the line) to stdout, stderr and
// xf.log. The job log must show them neutralised: no control character
// may reach an operator's terminal.
package main

import (
	"fmt"
	"os"

	"github.com/xfhost/xfhost/guests/go/xf"
)

const nasty = "\x1b[31mred\x1b[0m \x1b]0;pwned title\x07 \x1b[2J\x1b[H \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b31m csi8 fake\rOVERWRITE \x00nul"

func main() {
	xf.Run(func(job *xf.Job) error {
		fmt.Println("stdout: " + nasty)
		fmt.Fprintln(os.Stderr, "stderr: "+nasty)
		_ = job.Log(xf.Warning, "xf.log: "+nasty)
		_ = job.ActivityLog(xf.Info, "activity: "+nasty)
		return nil
	})
}
