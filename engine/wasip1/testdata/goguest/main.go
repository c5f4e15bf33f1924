// Command goguest exercises WASI preview 1 the way Go programs do, through
// package os and syscall, and prints a transcript of what it saw. The
// transcript holds only what must be identical on every correct WASI of
// the xfhost sandbox (no times, inode numbers or random bytes), so the tests
// compare transcripts between implementations.
//
// The host mounts /inputs (read-only) at descriptor 3 and /scratch at 4.
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: goguest scenario|files|escape|quota|clock|exit N|panic|sleep DURATION")
		os.Exit(64)
	}
	switch cmd := os.Args[1]; cmd {
	case "scenario":
		process()
		files()
		bigDir()
		inputs()
		escape()
		clock()
	case "files":
		files()
	case "escape":
		escape()
	case "quota":
		quota()
	case "clock":
		clock()
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		fmt.Println("exiting with", code)
		os.Exit(code)
	case "panic":
		panic("deliberate")
	case "sleep":
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(64)
		}
		start := time.Now()
		time.Sleep(d)
		fmt.Println("slept at least", d, time.Since(start) >= d)
	default:
		fmt.Fprintln(os.Stderr, "unknown command", cmd)
		os.Exit(64)
	}
}

// report prints the outcome of a step.
func report(step string, err error) {
	if err != nil {
		fmt.Printf("%s: error: %v\n", step, err)
	} else {
		fmt.Printf("%s: ok\n", step)
	}
}

func process() {
	fmt.Printf("args: %q\n", os.Args)
	fmt.Printf("environ: %q\n", os.Environ())
	in, err := io.ReadAll(os.Stdin)
	fmt.Printf("stdin: %d bytes, err %v\n", len(in), err)
	fmt.Fprintln(os.Stderr, "to stderr")
	wd, err := os.Getwd()
	fmt.Printf("getwd: %q %v\n", wd, err)
	st, err := os.Stdout.Stat()
	if err == nil {
		fmt.Printf("stdout mode: %v\n", st.Mode().Type())
	}
	_, err = os.Stdout.Seek(0, io.SeekStart)
	report("seek stdout", err)
	_, err = os.Stdout.Read(make([]byte, 1))
	report("read stdout", err)
}

func files() {
	const name = "/scratch/a.txt"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	report("create", err)
	if err != nil {
		return
	}
	_, err = f.WriteString("hello, world")
	report("write", err)
	pos, err := f.Seek(7, io.SeekStart)
	fmt.Println("seek:", pos, err)
	buf := make([]byte, 5)
	n, err := f.Read(buf)
	fmt.Printf("read: %d %q %v\n", n, buf[:n], err)
	n, err = f.Read(buf)
	fmt.Printf("read at end: %d %v\n", n, err)
	pos, err = f.Seek(-3, io.SeekEnd)
	fmt.Println("seek end:", pos, err)
	_, err = f.WriteAt([]byte("WORLD"), 7)
	report("pwrite", err)
	n, err = f.ReadAt(buf, 0)
	fmt.Printf("pread: %d %q %v\n", n, buf[:n], err)
	report("sync", f.Sync())
	st, err := f.Stat()
	if err == nil {
		fmt.Println("stat:", st.Name(), st.Size(), st.Mode(), st.IsDir())
	}
	report("truncate", f.Truncate(5))
	st, _ = f.Stat()
	fmt.Println("size after truncate:", st.Size())
	report("close", f.Close())
	report("close again", f.Close())

	_, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	report("create existing exclusively", err)

	f, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	report("open append", err)
	if err == nil {
		_, err = f.WriteString("+tail")
		report("append", err)
		f.Close()
	}
	data, err := os.ReadFile(name)
	fmt.Printf("contents: %q %v\n", data, err)

	f, err = os.Open(name)
	if err == nil {
		_, err = f.Write([]byte("x"))
		report("write to read-only descriptor", err)
		f.Close()
	}
	report("write file with truncate", os.WriteFile(name, []byte("short"), 0o600))
	data, _ = os.ReadFile(name)
	fmt.Printf("contents: %q\n", data)

	report("mkdir", os.Mkdir("/scratch/d", 0o755))
	report("mkdir existing", os.Mkdir("/scratch/d", 0o755))
	report("mkdir nested", os.MkdirAll("/scratch/d/e/f", 0o755))
	report("write nested", os.WriteFile("/scratch/d/e/f/g.txt", []byte("deep"), 0o600))
	report("rename file", os.Rename(name, "/scratch/d/b.txt"))
	_, err = os.Stat(name)
	fmt.Println("old name gone:", errors.Is(err, fs.ErrNotExist))
	report("rename dir", os.Rename("/scratch/d/e", "/scratch/d/e2"))
	report("rename onto non-empty dir", os.Rename("/scratch/d/b.txt", "/scratch/d/e2"))
	listTree("/scratch")

	report("remove non-empty dir", syscall.Rmdir("/scratch/d/e2"))
	report("unlink dir", syscall.Unlink("/scratch/d/e2"))
	report("rmdir file", syscall.Rmdir("/scratch/d/b.txt"))
	report("remove missing", os.Remove("/scratch/nope"))
	_, err = os.Stat("/scratch/nope")
	report("stat missing", err)
	_, err = os.Stat("/scratch/d/b.txt/")
	report("stat file with trailing slash", err)
	_, err = os.Open("/scratch/d/b.txt/x")
	report("open below a file", err)
	report("remove all", os.RemoveAll("/scratch/d/e2"))

	when := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	report("chtimes", os.Chtimes("/scratch/d/b.txt", when, when))
	st, err = os.Stat("/scratch/d/b.txt")
	if err == nil {
		fmt.Println("mtime set:", st.ModTime().Equal(when))
	}
	report("symlink", os.Symlink("b.txt", "/scratch/d/link"))
	report("link", os.Link("/scratch/d/b.txt", "/scratch/d/hard"))
	target, err := os.Readlink("/scratch/rel_link")
	fmt.Printf("readlink inside: %q %v\n", target, err)
	target, err = os.Readlink("/scratch/escape_link")
	fmt.Printf("readlink escaping: %q %v\n", target, err)
	data, err = os.ReadFile("/scratch/rel_link")
	fmt.Printf("read through link: %q %v\n", data, err)

	d, err := os.Open("/scratch/d")
	if err == nil {
		_, err = d.Write([]byte("x"))
		report("write to a directory", err)
		_, err = d.Seek(0, io.SeekStart)
		report("rewind directory", err)
		d.Close()
	}
	listTree("/scratch")
}

// listTree prints a sorted listing of a tree: path, type, size of files.
func listTree(root string) {
	var lines []string
	err := fsWalk(root, func(p string, de fs.DirEntry) {
		info, err := de.Info()
		size := int64(-1)
		if err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		lines = append(lines, fmt.Sprintf("  %s %v %d", p, de.Type(), size))
	})
	slices.Sort(lines)
	fmt.Printf("tree %s (err %v):\n%s\n", root, err, strings.Join(lines, "\n"))
}

func fsWalk(dir string, fn func(string, fs.DirEntry)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := dir + "/" + e.Name()
		fn(p, e)
		if e.IsDir() {
			if err := fsWalk(p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// bigDir lists a directory of many entries in small batches, which makes
// os.File.ReadDir call fd_readdir with the cookies of earlier calls.
func bigDir() {
	const n = 300
	report("mkdir big", os.Mkdir("/scratch/big", 0o755))
	for i := range n {
		// Names of varying length, so that records straddle buffers.
		name := fmt.Sprintf("/scratch/big/%03d-%s", i, strings.Repeat("x", i%37))
		if err := os.WriteFile(name, nil, 0o600); err != nil {
			report("create big entry", err)
			return
		}
	}
	d, err := os.Open("/scratch/big")
	if err != nil {
		report("open big", err)
		return
	}
	defer d.Close()
	var names []string
	batches := 0
	for {
		batch, err := d.ReadDir(7)
		for _, e := range batch {
			names = append(names, e.Name())
		}
		if err == io.EOF {
			break
		} else if err != nil {
			report("readdir big", err)
			return
		}
		batches++
	}
	slices.Sort(names)
	dups := len(names) - len(slices.Compact(slices.Clone(names)))
	fmt.Println("big dir:", len(names), "entries,", dups, "duplicates, batches", batches, "first", names[0], "last", names[len(names)-1])
	// A second pass over the same descriptor after a rewind.
	if _, err := d.Seek(0, io.SeekStart); err != nil {
		report("rewind big", err)
		return
	}
	again, err := d.Readdirnames(-1)
	fmt.Println("big dir again:", len(again), err)
}

func inputs() {
	data, err := os.ReadFile("/inputs/data.txt")
	fmt.Printf("read input: %q %v\n", data, err)
	data, err = os.ReadFile("/inputs/sub/nested.bin")
	fmt.Printf("read nested input: %d bytes %v\n", len(data), err)
	listTree("/inputs")
	report("write input", os.WriteFile("/inputs/data.txt", []byte("x"), 0o600))
	report("create input", os.WriteFile("/inputs/new.txt", []byte("x"), 0o600))
	report("mkdir input", os.Mkdir("/inputs/newdir", 0o755))
	report("remove input", os.Remove("/inputs/data.txt"))
	report("rename input", os.Rename("/inputs/data.txt", "/inputs/moved.txt"))
	report("rename across mounts", os.Rename("/inputs/data.txt", "/scratch/moved.txt"))
	f, err := os.OpenFile("/inputs/data.txt", os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("x"))
		f.Close()
	}
	report("write opened input", err)
}

func escape() {
	for _, p := range []string{"/etc/passwd", "/outside.txt", "/scratch/../etc/passwd", "/"} {
		_, err := os.ReadFile(p)
		report("read "+p, err)
	}
	report("write outside", os.WriteFile("/outside.txt", []byte("x"), 0o600))
	report("mkdir outside", os.Mkdir("/outside", 0o755))
	// The os package cleans paths itself; syscall.Openat passes them to
	// WASI as written, relative to the preopen descriptors.
	for _, p := range []string{"..", "../secret", "d/../../secret", "./../secret", "/etc/passwd", "escape_link", "dir_link/secret", "abs_link"} {
		fd, err := syscall.Openat(4, p, syscall.O_RDONLY, 0)
		if err == nil {
			syscall.Close(fd)
		}
		report("openat scratch "+p, err)
	}
	fd, err := syscall.Openat(4, "../escaped.txt", syscall.O_WRONLY|syscall.O_CREAT, 0o600)
	if err == nil {
		syscall.Close(fd)
	}
	report("create above scratch", err)
	fd, err = syscall.Openat(3, "../scratch/x", syscall.O_RDONLY, 0)
	if err == nil {
		syscall.Close(fd)
	}
	report("openat inputs ../scratch", err)
	_, err = os.Stat("/scratch/escape_link")
	report("stat escaping link", err)
	_, err = os.Lstat("/scratch/escape_link")
	report("lstat escaping link", err)
}

// quota fills scratch until the quota refuses more and reports how far it
// got.
func quota() {
	f, err := os.Create("/scratch/fill")
	if err != nil {
		report("create fill", err)
		return
	}
	chunk := bytes.Repeat([]byte("q"), 1000)
	total := 0
	for range 1000 {
		n, err := f.Write(chunk)
		total += n
		if err != nil {
			fmt.Println("write stopped after", total, "bytes:", err)
			break
		}
	}
	report("close fill", f.Close())
	report("truncate fill to grow", os.Truncate("/scratch/fill", int64(total)+1))
	report("remove fill", os.Remove("/scratch/fill"))
	report("write after freeing", os.WriteFile("/scratch/small", chunk, 0o600))
}

func clock() {
	now := time.Now()
	fmt.Println("wall clock after 2024:", now.Year() >= 2024)
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("sleep 20ms took at least 20ms:", time.Since(start) >= 20*time.Millisecond)
	a, b := make([]byte, 32), make([]byte, 32)
	_, errA := rand.Read(a)
	_, errB := rand.Read(b)
	fmt.Println("random:", errA, errB, !bytes.Equal(a, b), !bytes.Equal(a, make([]byte, 32)))
}
