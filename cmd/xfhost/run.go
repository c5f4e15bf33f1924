package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fss/fsshttp"
	"github.com/xfhost/xfhost/fsscache"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/policy"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run one job of a task module",
		ArgsUsage: "TASK.wasm",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "inputs", Usage: "JSON `FILE` with the job's inputs object"},
			&cli.StringSliceFlag{Name: "input", Usage: "set one input: `KEY=JSON` (repeatable; overrides --inputs)"},
			&cli.StringSliceFlag{Name: "image", Usage: "set an Image input from an .omni file on the store: `KEY=REF`"},
			&cli.StringFlag{Name: "fss", Usage: "file store: a local `DIR`, or the URL of an FSS server (http://host:port)"},
			&cli.StringFlag{Name: "token-file", Usage: "bearer token for the FSS server, first line of `FILE`"},
			&cli.StringFlag{Name: "cache", Usage: "download cache `DIR` for an FSS server (default: the user cache dir)"},
			&cli.Int64Flag{Name: "cache-max-mib", Value: 50 << 10, Usage: "bound of the download cache in MiB"},
			&cli.BoolFlag{Name: "offline", Usage: "serve inputs from the download cache only"},
			&cli.StringFlag{Name: "out", Usage: "also write the outputs JSON to `FILE`"},
			&cli.StringFlag{Name: "result", Usage: "write the full job result (state, log, progress, timings) to `FILE`"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
			&cli.StringFlag{Name: "compile-cache", Usage: "compiled-code cache `DIR` (default: the user cache dir; \"off\" disables)"},
			&cli.StringFlag{Name: "engine", Value: engines.Default, Usage: "WebAssembly engine: " + strings.Join(engines.Names(), ", ")},
			&cli.StringFlag{Name: "policy", Usage: "sandbox policy `FILE` (policy/POLICY.md); safe defaults without it"},
			&cli.DurationFlag{Name: "deadline", Usage: "wall-clock limit of the job (overrides the policy)"},
			&cli.BoolFlag{Name: "keep-scratch", Usage: "keep the scratch directory of a failed job"},
		},
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("run: want exactly one TASK.wasm argument", 2)
	}
	if err := requireFlags(c, "fss"); err != nil {
		return err
	}
	ctx := c.Context
	logger, err := newLogger(c.String("log-format"), c.App.ErrWriter)
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	wasm, err := os.ReadFile(c.Args().First())
	if err != nil {
		return err
	}
	progress := newProgressPrinter(c.App.ErrWriter, c.String("log-format") == "json")
	store, err := openStore(c, logger, progress)
	if err != nil {
		return err
	}
	defer store.Close()
	inputs, err := gatherInputs(ctx, c, store)
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	if !slices.Contains(engines.Names(), c.String("engine")) {
		return cli.Exit(fmt.Sprintf("run: --engine: unknown engine %q (this build has: %s)", c.String("engine"), strings.Join(engines.Names(), ", ")), 2)
	}
	eng, err := engines.New(ctx, c.String("engine"), engine.Config{HostModules: host.Imports(), CacheDir: compileCacheDir(c.String("compile-cache"))})
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))
	pol := policy.Defaults()
	if p := c.String("policy"); p != "" {
		loaded, err := policy.Load(p)
		if err != nil {
			return cli.Exit(err.Error(), 2)
		}
		pol = *loaded
	}
	if d := c.Duration("deadline"); d > 0 {
		pol.Default.Deadline = policy.Duration(d)
		for k, l := range pol.TaskTypes {
			l.Deadline = 0 // the flag wins over per-task-type deadlines too
			pol.TaskTypes[k] = l
		}
	}
	h, err := host.New(host.Options{Engine: eng, Store: store, Policy: &pol, Logger: logger})
	if err != nil {
		return err
	}
	defer h.Close()
	res, err := h.RunModule(ctx, wasm, inputs, host.RunOptions{
		OnProgress:  progress.progress,
		OnLog:       progress.log(logger),
		KeepScratch: c.Bool("keep-scratch"),
	})
	progress.done()
	if err != nil {
		return err
	}
	if p := c.String("result"); p != "" {
		data, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(p, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.State != host.Done {
		return cli.Exit("job failed: "+res.Error, 1)
	}
	out, _ := json.MarshalIndent(res.Outputs, "", "  ")
	out = append(out, '\n')
	if p := c.String("out"); p != "" {
		if err := os.WriteFile(p, out, 0o644); err != nil {
			return err
		}
	}
	_, err = c.App.Writer.Write(out)
	return err
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q", format)
}

func compileCacheDir(flag string) string {
	switch flag {
	case "off":
		return ""
	case "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(dir, "xfhost", "compiled")
	}
	return flag
}

// gatherInputs merges --inputs, --input and --image into one inputs object.
func gatherInputs(ctx context.Context, c *cli.Context, store fss.Store) (json.RawMessage, error) {
	inputs := map[string]json.RawMessage{}
	if p := c.String("inputs"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &inputs); err != nil {
			return nil, fmt.Errorf("--inputs %s: %w", p, err)
		}
	}
	for _, kv := range c.StringSlice("input") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("--input %q: want KEY=JSON", kv)
		}
		inputs[k] = json.RawMessage(v)
	}
	for _, kv := range c.StringSlice("image") {
		k, ref, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--image %q: want KEY=REF", kv)
		}
		v, err := imageInput(ctx, store, ref)
		if err != nil {
			return nil, fmt.Errorf("--image %s: %w", kv, err)
		}
		inputs[k] = v
	}
	return json.Marshal(inputs)
}

// imageInput builds an Image parameter for an .omni file on the store.
func imageInput(ctx context.Context, store fss.Store, ref string) (json.RawMessage, error) {
	f, err := store.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	h, err := omni.ParseHeader(data)
	if err != nil {
		return nil, err
	}
	dir := filepath.ToSlash(filepath.Dir(filepath.FromSlash(ref)))
	var pixels []string
	for _, p := range h.PixelFiles {
		if dir == "." {
			pixels = append(pixels, p)
		} else {
			pixels = append(pixels, dir+"/"+p)
		}
	}
	return json.Marshal(map[string]any{"type": "Image", "filename": ref, "size": h.Size, "filenames": pixels})
}

// progressPrinter shows progress on a terminal and stays quiet otherwise.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex // downloads report from the cache's goroutines
	shown    bool
	lastPct  int64
}

func newProgressPrinter(w io.Writer, machine bool) *progressPrinter {
	f, ok := w.(*os.File)
	terminal := false
	if ok && !machine {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return &progressPrinter{w: w, terminal: terminal}
}

func (p *progressPrinter) progress(pr host.Progress) {
	if p.terminal {
		fmt.Fprintf(p.w, "\rprogress %5.1f%%", pr.Percent)
		p.shown = true
	}
}

func (p *progressPrinter) log(logger *slog.Logger) func(host.LogLine) {
	return func(l host.LogLine) {
		switch {
		case !p.terminal:
			logger.Info(l.Message, "source", l.Source, "level", l.Level.String())
		default:
			if p.shown {
				fmt.Fprintln(p.w)
				p.shown = false
			}
			fmt.Fprintf(p.w, "[%s] %s\n", l.Level, l.Message)
		}
	}
}

// download shows a download's progress on a terminal, at most once per
// percent.
func (p *progressPrinter) download(ref string, done, total int64) {
	if !p.terminal || total <= 0 {
		return
	}
	pct := done * 100 / total
	p.mu.Lock()
	defer p.mu.Unlock()
	if pct == p.lastPct && done != total {
		return
	}
	p.lastPct = pct
	fmt.Fprintf(p.w, "\rdownloading %s %3d%% (%d MiB)", ref, pct, done>>20)
	p.shown = true
}

func (p *progressPrinter) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}

// closableStore is a file store the command opened and must close.
type closableStore interface {
	fss.Store
	Close() error
}

// openStore opens --fss: a local directory as it is, or an FSS server
// through the download cache, with the token held by the host only.
func openStore(c *cli.Context, logger *slog.Logger, progress *progressPrinter) (closableStore, error) {
	target := c.String("fss")
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		return fss.OpenDir(target)
	}
	var token string
	if p := c.String("token-file"); p != "" {
		t, err := readTokenFile(p)
		if err != nil {
			return nil, cli.Exit(err.Error(), 2)
		}
		token = t
	}
	client, err := fsshttp.NewClient(target, fsshttp.ClientOptions{Token: token, Logger: logger})
	if err != nil {
		return nil, cli.Exit(err.Error(), 2)
	}
	dir := c.String("cache")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no --cache and no user cache dir: %w", err)
		}
		dir = filepath.Join(base, "xfhost", "fss")
	}
	cache, err := fsscache.Open(dir, fsscache.Options{
		Origin: client, Name: target, MaxBytes: c.Int64("cache-max-mib") << 20,
		Offline: c.Bool("offline"), Logger: logger, OnProgress: progress.download,
	})
	if err != nil {
		return nil, err
	}
	return cachedStore{Store: fsscache.NewStore(cache, client), cache: cache}, nil
}

type cachedStore struct {
	*fsscache.Store
	cache *fsscache.Cache
}

func (s cachedStore) Close() error { return s.cache.Close() }
