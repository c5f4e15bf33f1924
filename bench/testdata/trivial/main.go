//go:build wasip1

// Command trivial is the smallest Go task type: it finishes at once.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() { xf.Run(func(*xf.Job) error { return nil }) }
