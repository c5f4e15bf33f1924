package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistFlags moves a command's flags in front of its positional arguments,
// so that `xfhost run TASK.wasm --fss DIR` works: urfave/cli v2 parses
// flags with the standard flag package, which stops at the first
// positional argument. Values of non-boolean flags move with their flag;
// everything after "--" stays where it is.
func hoistFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	cmds := app.Commands
	i := 1
	// Walk down the command path, e.g. "image synth".
	var flags []cli.Flag
	for i < len(args) {
		cmd := findCommand(cmds, args[i])
		if cmd == nil {
			break
		}
		out = append(out, args[i])
		flags, cmds = cmd.Flags, cmd.Subcommands
		i++
	}
	if flags == nil {
		return args
	}
	var hoisted, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		hoisted = append(hoisted, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue(flags, name) && i+1 < len(args) {
			i++
			hoisted = append(hoisted, args[i])
		}
	}
	return append(append(out, hoisted...), positional...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func takesValue(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
