package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/fsscache"
)

func cacheCommand() *cli.Command {
	dirFlag := &cli.StringFlag{Name: "cache", Usage: "the cache directory `DIR`"}
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "print JSON"}
	return &cli.Command{
		Name:  "cache",
		Usage: "inspect and maintain an FSS download cache directory",
		Subcommands: []*cli.Command{
			{
				Name:   "ls",
				Usage:  "list cached files: ref, size, etag, last access",
				Flags:  []cli.Flag{dirFlag, jsonFlag},
				Action: cacheLs,
			},
			{
				Name:   "stat",
				Usage:  "print what the cache holds: entries, blobs, bytes, pins, partial downloads",
				Flags:  []cli.Flag{dirFlag, jsonFlag},
				Action: cacheStat,
			},
			{
				Name:  "gc",
				Usage: "evict least recently used unpinned files until the cache fits --max",
				Flags: []cli.Flag{dirFlag,
					&cli.StringFlag{Name: "max", Usage: "bound on the cached bytes, e.g. 500G (K, M, G, T are powers of 1024)"},
					&cli.StringFlag{Name: "low", Usage: "evict down to this many bytes (default: --max)"},
				},
				Action: cacheGC,
			},
			{
				Name:   "verify",
				Usage:  "re-hash every cached file and remove damaged ones (exit status 1 if any)",
				Flags:  []cli.Flag{dirFlag},
				Action: cacheVerify,
			},
			{
				Name:   "clear",
				Usage:  "remove every cached file that no process has open",
				Flags:  []cli.Flag{dirFlag},
				Action: cacheClear,
			},
		},
	}
}

// openCacheDir opens the --cache directory for maintenance: offline, since
// none of these commands download, and only if it exists, so that a typo
// does not create an empty cache somewhere.
func openCacheDir(c *cli.Context, opt fsscache.Options) (*fsscache.Cache, error) {
	name := "cache " + c.Command.Name
	if err := requireFlags(c, "cache"); err != nil {
		return nil, err
	}
	if c.NArg() != 0 {
		return nil, cli.Exit(fmt.Sprintf("%s: unexpected argument %q", name, c.Args().First()), 2)
	}
	dir := c.String("cache")
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: %s is not a directory", name, dir)
	}
	opt.Offline = true
	return fsscache.Open(dir, opt)
}

func cacheLs(c *cli.Context) error {
	cache, err := openCacheDir(c, fsscache.Options{})
	if err != nil {
		return err
	}
	defer cache.Close()
	entries, err := cache.List(c.Context)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		if entries == nil {
			entries = []fsscache.Entry{}
		}
		data, _ := json.MarshalIndent(entries, "", "  ")
		fmt.Fprintln(w, string(data))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tSIZE\tETAG\tLAST ACCESS\tSTORE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Ref, e.Size, e.ETag, e.LastAccess.Local().Format(time.DateTime), e.Name)
	}
	return tw.Flush()
}

func cacheStat(c *cli.Context) error {
	cache, err := openCacheDir(c, fsscache.Options{})
	if err != nil {
		return err
	}
	defer cache.Close()
	u, err := cache.Usage(c.Context)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		data, _ := json.MarshalIndent(map[string]any{
			"entries": u.Entries, "blobs": u.Blobs, "bytes": u.Bytes,
			"pinned": u.Pinned, "pinned_bytes": u.PinnedBytes,
			"partials": u.Partials, "partial_bytes": u.PartialBytes,
		}, "", "  ")
		fmt.Fprintln(w, string(data))
		return nil
	}
	fmt.Fprintf(w, "entries   %d\n", u.Entries)
	fmt.Fprintf(w, "blobs     %d, %s\n", u.Blobs, formatBytes(u.Bytes))
	fmt.Fprintf(w, "pinned    %d, %s\n", u.Pinned, formatBytes(u.PinnedBytes))
	fmt.Fprintf(w, "partial   %d, %s\n", u.Partials, formatBytes(u.PartialBytes))
	return nil
}

func cacheGC(c *cli.Context) error {
	if err := requireFlags(c, "max"); err != nil {
		return err
	}
	maxBytes, err := parseByteSize(c.String("max"))
	if err != nil || maxBytes == 0 {
		return cli.Exit(fmt.Sprintf("cache gc: --max %q: want a positive size such as 500G", c.String("max")), 2)
	}
	low := maxBytes
	if c.IsSet("low") {
		if low, err = parseByteSize(c.String("low")); err != nil || low > maxBytes {
			return cli.Exit(fmt.Sprintf("cache gc: --low %q: want a size no larger than --max", c.String("low")), 2)
		}
	}
	cache, err := openCacheDir(c, fsscache.Options{MaxBytes: maxBytes, LowWater: low})
	if err != nil {
		return err
	}
	defer cache.Close()
	res, err := cache.GC(c.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "evicted %d files, %s; %s remain", res.Evicted, formatBytes(res.Freed), formatBytes(res.Remaining))
	if res.Pinned > 0 {
		fmt.Fprintf(c.App.Writer, "; %d pinned files kept", res.Pinned)
	}
	fmt.Fprintln(c.App.Writer)
	return nil
}

func cacheVerify(c *cli.Context) error {
	cache, err := openCacheDir(c, fsscache.Options{})
	if err != nil {
		return err
	}
	defer cache.Close()
	res, err := cache.Verify(c.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "checked %d files (%s), %d entries; removed %d damaged files and %d entries\n",
		res.Blobs, formatBytes(res.Bytes), res.Entries, res.Bad, res.Removed)
	if res.Bad > 0 {
		return cli.Exit(fmt.Sprintf("cache verify: %d damaged files found and removed", res.Bad), 1)
	}
	return nil
}

func cacheClear(c *cli.Context) error {
	cache, err := openCacheDir(c, fsscache.Options{})
	if err != nil {
		return err
	}
	defer cache.Close()
	res, err := cache.Clear(c.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "removed %d files, %s; %d pinned files kept\n", res.Evicted, formatBytes(res.Freed), res.Pinned)
	return nil
}

// parseByteSize parses a byte count with an optional binary suffix:
// "1024", "64K", "500G", "2TiB".
func parseByteSize(s string) (int64, error) {
	num, unit := splitUnit(strings.TrimSpace(s))
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)/unit {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * unit, nil
}

// splitUnit splits a size into its number and the multiplier its suffix
// (K, KB, KiB, M, ... in any case) stands for.
func splitUnit(s string) (string, int64) {
	upper := strings.ToUpper(s)
	for i, prefix := range []string{"K", "M", "G", "T"} {
		for _, form := range []string{prefix + "IB", prefix + "B", prefix} {
			if strings.HasSuffix(upper, form) {
				return s[:len(s)-len(form)], 1 << (10 * (i + 1))
			}
		}
	}
	if strings.HasSuffix(upper, "B") {
		return s[:len(s)-1], 1
	}
	return s, 1
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}
