//go:build wasip1

// Command partial sets only one of its two outputs and then finishes.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	xf.Run(func(job *xf.Job) error {
		return job.SetOutput("min", 1.5)
	})
}
