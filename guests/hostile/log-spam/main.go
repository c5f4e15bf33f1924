//go:build wasip1

// Command log-spam writes log lines through xf.log until the host refuses
// one, then floods stdout and stderr and the activity log too. The log must
// stop at the policy's log_lines with one marker line, and the job must
// still finish, reporting how many xf.log lines were accepted.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		accepted := 0
		for ; accepted < 1_000_000; accepted++ {
			err := job.Log(xf.Info, fmt.Sprintf("spam %d", accepted))
			if errors.Is(err, xf.StatusLimitExceeded) {
				break
			} else if err != nil {
				return err
			}
		}
		long := strings.Repeat("x", 100<<10) // no newline for 100 KiB
		for i := 0; i < 1000; i++ {
			fmt.Println("stdout spam", i)
			fmt.Fprintln(os.Stderr, "stderr spam", i)
			_ = job.ActivityLog(xf.Info, "activity spam")
		}
		fmt.Print(long)
		activity := "OK"
		var ce *xf.CallError
		if err := job.ActivityLog(xf.Info, strings.Repeat("y", 2<<20)); errors.As(err, &ce) {
			activity = ce.Status.Error()
		} else if err != nil {
			return err
		}
		if err := job.SetOutput("accepted", accepted); err != nil {
			return err
		}
		return job.SetOutput("huge_activity", activity)
	})
}
