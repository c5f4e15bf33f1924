//go:build wasip1

// Command nomarker is a plain WASI program without the xfhost ABI marker.
package main

import "fmt"

func main() { fmt.Println("hello") }
