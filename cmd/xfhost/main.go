// Command xfhost runs XamFlow task types compiled to WebAssembly in a
// sandbox, and inspects, packs and feeds them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := newApp()
	err := app.RunContext(ctx, hoistFlags(app, os.Args))
	stop()
	if err != nil {
		var ex cli.ExitCoder
		if errors.As(err, &ex) {
			if msg := err.Error(); msg != "" {
				fmt.Fprintln(os.Stderr, "xfhost:", msg)
			}
			os.Exit(ex.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "xfhost:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "xfhost",
		Usage: "run XamFlow task types as sandboxed WebAssembly modules",
		Commands: []*cli.Command{
			runCommand(),
			inspectCommand(),
			packCommand(),
			imageCommand(),
		},
		HideHelpCommand: true,
	}
}
