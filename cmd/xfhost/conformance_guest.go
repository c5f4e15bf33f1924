package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/conformance/guestcheck"
	"github.com/xfhost/xfhost/engine/engines"
)

// conformanceGuestCommand is `xfhost conformance guest`: it checks a
// third-party task module against the ABI and its own interface.
func conformanceGuestCommand() *cli.Command {
	return &cli.Command{
		Name:      "guest",
		Usage:     "check that a task module follows the guest ABI and its interface (exit code 1 if a check fails)",
		ArgsUsage: "TASK.wasm",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON (schema " + guestcheck.Schema + ")"},
			&cli.StringFlag{Name: "engine", Value: engines.Default, Usage: "engine to run the module on: " + strings.Join(engines.Names(), ", ")},
			&cli.DurationFlag{Name: "deadline", Value: guestcheck.DefaultDeadline, Usage: "wall-clock limit of each job"},
			&cli.StringFlag{Name: "compile-cache", Usage: "compiled-code cache `DIR` (default: the user cache dir; \"off\" disables)"},
			&cli.StringSliceFlag{Name: "input", Usage: "use this value instead of a generated one: `KEY=JSON` (repeatable)"},
		},
		Action: conformanceGuestAction,
	}
}

func conformanceGuestAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("conformance guest: want exactly one TASK.wasm argument", 2)
	}
	if !engineKnown(c.String("engine")) {
		return cli.Exit(fmt.Sprintf("conformance guest: --engine: unknown engine %q (this build has: %s)", c.String("engine"), strings.Join(engines.Names(), ", ")), 2)
	}
	inputs := map[string]json.RawMessage{}
	for _, kv := range c.StringSlice("input") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || !json.Valid([]byte(v)) {
			return cli.Exit(fmt.Sprintf("conformance guest: --input %q: want KEY=JSON", kv), 2)
		}
		inputs[k] = json.RawMessage(v)
	}
	path := c.Args().First()
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	report, err := guestcheck.Run(c.Context, wasm, guestcheck.Options{
		Name: path, Engine: c.String("engine"), Deadline: c.Duration("deadline"), Inputs: inputs,
		CacheDir: compileCacheDir(c.String("compile-cache")),
	})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		err = report.WriteJSON(c.App.Writer)
	} else {
		err = report.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	if !report.Passed {
		// The report already says why; an empty message keeps main quiet.
		return cli.Exit("", 1)
	}
	return nil
}

func engineKnown(name string) bool {
	for _, n := range engines.Names() {
		if n == name {
			return true
		}
	}
	return false
}
