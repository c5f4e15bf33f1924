//go:build wasip1

// Command noexit sets its outputs and returns without calling finish.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	job, err := xf.Start()
	if err != nil {
		panic(err)
	}
	_ = job.SetOutput("min", 1.0)
	_ = job.SetOutput("max", 2.0)
}
