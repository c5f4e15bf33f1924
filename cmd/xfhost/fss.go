package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fss/fsshttp"
)

// fssShutdownGrace is how long a stopping server lets running transfers
// finish before it cuts their connections.
const fssShutdownGrace = 10 * time.Second

func fssCommand() *cli.Command {
	return &cli.Command{
		Name:  "fss",
		Usage: "work with FSS file stores",
		Subcommands: []*cli.Command{
			{
				Name:      "serve",
				Usage:     "serve a directory over the FSS HTTP protocol (GET/HEAD/PUT /files/REF)",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "addr", Usage: "listen on `HOST:PORT` (port 0 picks a free one)"},
					&cli.StringFlag{Name: "token-file", Usage: "require the bearer token in the first line of `FILE`"},
					&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
				},
				Action: fssServeAction,
			},
		},
	}
}

func fssServeAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("fss serve: want exactly one DIR argument", 2)
	}
	if err := requireFlags(c, "addr"); err != nil {
		return err
	}
	logger, err := serverLogger(c.String("log-format"), c.App.ErrWriter)
	if err != nil {
		return cli.Exit("fss serve: "+err.Error(), 2)
	}
	token := ""
	if p := c.String("token-file"); p != "" {
		if token, err = readTokenFile(p); err != nil {
			return cli.Exit("fss serve: "+err.Error(), 2)
		}
	}
	dir := c.Args().First()
	store, err := fss.OpenDir(dir)
	if err != nil {
		return err
	}
	defer store.Close()

	ctx := c.Context
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", c.String("addr"))
	if err != nil {
		return fmt.Errorf("fss serve: %w", err)
	}
	srv := &http.Server{
		Handler: fsshttp.NewServer(store, fsshttp.ServerOptions{Token: token, Logger: logger}),
		// Bounds the time a client may take to send headers; bodies are
		// unbounded because volumes are large.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Scripts and tests read the address (the port, when it was 0) from the
	// first line of stdout.
	fmt.Fprintf(c.App.Writer, "listening on http://%s\n", ln.Addr())
	logger.Info("fss serve: serving", "dir", dir, "addr", ln.Addr().String(), "auth", token != "")
	if token == "" {
		logger.Warn("fss serve: no --token-file: anyone who can reach the address can read and overwrite files")
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("fss serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("fss serve: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fssShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("fss serve: transfers still running at shutdown were cut", "err", err)
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("fss serve: %w", err)
	}
	return nil
}

// readTokenFile returns the first line of the file at path, trimmed.
func readTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	token := strings.TrimSpace(line)
	if token == "" {
		return "", fmt.Errorf("--token-file %s: first line is empty", path)
	}
	if err := fsshttp.CheckToken(token); err != nil {
		return "", fmt.Errorf("--token-file %s: %w", path, err)
	}
	return token, nil
}

// serverLogger logs at Info, unlike the run command's quieter logger: a
// server's start, stop and refused requests are worth seeing.
func serverLogger(format string, w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q", format)
}
