// Command guest is a WebAssembly (wasip1) test program for package guestfs.
// It runs one file-system command given on its command line and prints
// "ok" or "ok: <result>" on success and "error: <message>" on failure, so the
// host-side test can check both what the guest saw and what reached the host.
//
//	guest write PATH CONTENT
//	guest read PATH
//	guest list DIR
//	guest mkdir DIR
//	guest remove PATH
//	guest rename OLD NEW
//	guest fill PATH          (writes 1000-byte chunks until a write fails)
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	result, err := run(os.Args[1:])
	switch {
	case err != nil:
		fmt.Println("error:", err)
	case result == "":
		fmt.Println("ok")
	default:
		fmt.Println("ok:", result)
	}
}

func run(args []string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("no command")
	}
	cmd, args := args[0], args[1:]
	need := map[string]int{"write": 2, "read": 1, "list": 1, "mkdir": 1, "remove": 1, "rename": 2, "fill": 1}
	n, ok := need[cmd]
	if !ok {
		return "", fmt.Errorf("unknown command %q", cmd)
	}
	if len(args) != n {
		return "", fmt.Errorf("%s takes %d arguments, got %d", cmd, n, len(args))
	}
	switch cmd {
	case "write":
		return "", os.WriteFile(args[0], []byte(args[1]), 0o644)
	case "read":
		b, err := os.ReadFile(args[0])
		return string(b), err
	case "list":
		entries, err := os.ReadDir(args[0])
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() {
				name += "/"
			}
			names = append(names, name)
		}
		return strings.Join(names, " "), err
	case "mkdir":
		return "", os.Mkdir(args[0], 0o755)
	case "remove":
		return "", os.Remove(args[0])
	case "fill":
		return fill(args[0])
	default: // rename
		return "", os.Rename(args[0], args[1])
	}
}

// fill writes until the file system refuses and reports how far it got;
// it succeeds only by failing.
func fill(path string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	chunk := []byte(strings.Repeat("x", 1000))
	total := 0
	for total < 1<<30 {
		n, err := f.Write(chunk)
		total += n
		if err != nil {
			return "", fmt.Errorf("after %d bytes: %w", total, err)
		}
	}
	return "", fmt.Errorf("wrote %d bytes without a refusal", total)
}
