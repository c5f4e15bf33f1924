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
	app := &cli.App{
		Name:  "xfhost",
		Usage: "run XamFlow task types as sandboxed WebAssembly modules",
		Commands: []*cli.Command{
			runCommand(),
			inspectCommand(),
			packCommand(),
			imageCommand(),
			fssCommand(),
			cacheCommand(),
			conformanceCommand(),
		},
		HideHelpCommand: true,
		// main reports errors and chooses exit codes; cli must not exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
	}
	var setUsage func([]*cli.Command)
	setUsage = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = usageError
			setUsage(c.Subcommands)
		}
	}
	setUsage(app.Commands)
	return app
}

// usageError turns a flag parsing error into exit code 2.
func usageError(_ *cli.Context, err error, _ bool) error { return cli.Exit(err.Error(), 2) }

// requireFlags reports missing mandatory flags as a usage error. (cli's own
// Required check fails before OnUsageError applies, with exit code 1.)
func requireFlags(c *cli.Context, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			return cli.Exit(fmt.Sprintf("%s: flag --%s is required", c.Command.Name, n), 2)
		}
	}
	return nil
}
