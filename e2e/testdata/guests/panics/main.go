//go:build wasip1

// Command panics panics after setting its outputs, before finishing.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	job, err := xf.Start()
	if err != nil {
		panic(err)
	}
	_ = job.SetOutput("min", 1.0)
	var m map[string]int
	m["boom"] = 1 // assignment to a nil map panics
}
