//go:build wasip1

// Command env-probe looks for the host's secrets in its environment and
// arguments: it logs every variable and argument it sees, and whether it
// finds anything that looks like a file-store token. The host gives an
// empty environment and the task type's name as the only argument.
package main

import (
	"os"
	"strings"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		env := os.Environ()
		_ = job.Logf(xf.Info, "environ: %d variables", len(env))
		for _, kv := range env {
			_ = job.Logf(xf.Info, "env %s", kv)
		}
		_ = job.Logf(xf.Info, "args: %q", os.Args)
		for _, name := range []string{"XF_FSS_TOKEN", "HOME", "PATH", "USER"} {
			if v, ok := os.LookupEnv(name); ok {
				_ = job.Logf(xf.Info, "found %s=%s", name, v)
			}
		}
		wd, err := os.Getwd()
		_ = job.Logf(xf.Info, "cwd: %q %v", wd, err)
		host, err := os.Hostname()
		_ = job.Logf(xf.Info, "hostname: %q %v", host, err)
		if strings.Contains(strings.Join(env, "\n"), "TOKEN") {
			job.Fail("a token is visible in the environment")
		}
		return nil
	})
}
