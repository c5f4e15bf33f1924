package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/conformance"
	"github.com/xfhost/xfhost/engine/engines"
)

// conformanceCommand groups the conformance suites: of hosts and engines
// (`host`) and of task modules (`guest`).
func conformanceCommand() *cli.Command {
	return &cli.Command{
		Name:  "conformance",
		Usage: "check an engine or a task module against the guest ABI",
		Subcommands: []*cli.Command{
			conformanceHostCommand(),
			conformanceGuestCommand(),
		},
	}
}

// conformanceHostCommand is `xfhost conformance host`: the suite of
// conformance/ and the hostile corpus on one engine or all of them.
func conformanceHostCommand() *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "run the host conformance suite and the hostile-guest corpus on an engine (exit code 1 on an unexpected result)",
		Description: "Each test's guest makes a script of import calls; the host's trace of the calls, the job's end state,\n" +
			"error, log and outputs must be what the test expects. Failures an engine's deviations file lists are\n" +
			"expected (XFAIL); a listed test that passes (XPASS) is unexpected. The hostile corpus's Go cases are\n" +
			"built when the xfhost source tree and a Go toolchain are found from the working directory, and\n" +
			"skipped otherwise.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Value: engines.Default, Usage: "engine to test, or all: " + strings.Join(engines.Names(), ", ")},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.StringFlag{Name: "run", Usage: "run only the tests whose names match `REGEXP` (hostile cases are named hostile/<case>)"},
			&cli.BoolFlag{Name: "no-hostile", Usage: "leave out the hostile-guest corpus"},
		},
		Action: conformanceHostAction,
	}
}

func conformanceHostAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit("conformance host: takes no arguments", 2)
	}
	names := []string{c.String("engine")}
	if names[0] == "all" {
		names = engines.Names()
	} else if !engineKnown(names[0]) {
		return cli.Exit(fmt.Sprintf("conformance host: --engine: unknown engine %q (this build has: %s, or all)", names[0], strings.Join(engines.Names(), ", ")), 2)
	}
	opt := conformance.Options{NoHostile: c.Bool("no-hostile")}
	if re := c.String("run"); re != "" {
		filter, err := regexp.Compile(re)
		if err != nil {
			return cli.Exit(fmt.Sprintf("conformance host: --run: %v", err), 2)
		}
		opt.Filter = filter
	}
	runner, err := conformance.NewRunner(c.Context, opt)
	if err != nil {
		return err
	}
	var reports []conformance.Report
	ok := true
	w := c.App.Writer
	for i, name := range names {
		results, err := runner.Run(c.Context, name)
		if err != nil {
			return err
		}
		if len(results) == 0 {
			return cli.Exit(fmt.Sprintf("conformance host: --run %q selects no test", c.String("run")), 2)
		}
		s := conformance.Summarize(name, results)
		ok = ok && s.OK()
		if c.Bool("json") {
			reports = append(reports, conformance.Report{Engine: name, OK: s.OK(), Results: results})
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "engine %s\n", name)
		if err := conformance.WriteTable(w, name, results); err != nil {
			return err
		}
	}
	if c.Bool("json") {
		if err := conformance.WriteJSON(w, reports); err != nil {
			return err
		}
	}
	if !ok {
		// The table says what went wrong; an empty message keeps main quiet.
		return cli.Exit("", 1)
	}
	return nil
}
