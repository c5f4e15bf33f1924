package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/taskmodule"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a task module's metadata, interface, ABI version, imports and sha256",
		ArgsUsage: "TASK.wasm",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("inspect: want exactly one TASK.wasm argument", 2)
			}
			wasm, err := os.ReadFile(c.Args().First())
			if err != nil {
				return err
			}
			mod, err := taskmodule.Parse(wasm)
			if err != nil {
				return err
			}
			checkErr := host.CheckModule(mod)
			var imports []string
			for _, im := range mod.Imports {
				imports = append(imports, fmt.Sprintf("%s.%s %s", im.Module, im.Name, im.Type))
			}
			w := c.App.Writer
			if c.Bool("json") {
				out := map[string]any{
					"sha256":      hex.EncodeToString(mod.SHA256[:]),
					"size":        len(wasm),
					"abi_version": mod.ABIVersion.String(),
					"metadata":    json.RawMessage(mod.MetadataJSON),
					"interface":   json.RawMessage(mod.InterfaceJSON),
					"imports":     imports,
				}
				if checkErr != nil {
					out["error"] = checkErr.Error()
				}
				data, _ := json.MarshalIndent(out, "", "  ")
				fmt.Fprintln(w, string(data))
			} else {
				fmt.Fprintf(w, "task type   %s %s\n", mod.Metadata.Name, mod.Metadata.Version)
				fmt.Fprintf(w, "sha256      %s\n", hex.EncodeToString(mod.SHA256[:]))
				fmt.Fprintf(w, "size        %d bytes\n", len(wasm))
				fmt.Fprintf(w, "abi         %s\n", mod.ABIVersion)
				fmt.Fprintln(w, "inputs")
				for _, in := range mod.Interface.Inputs {
					modes := make([]string, len(in.SupportedModes))
					for i, m := range in.SupportedModes {
						modes[i] = string(m)
					}
					fmt.Fprintf(w, "  %-20s %-8s modes %s\n", in.Key, in.Type, strings.Join(modes, ","))
				}
				fmt.Fprintln(w, "outputs")
				for _, out := range mod.Interface.Outputs {
					fmt.Fprintf(w, "  %-20s %s\n", out.Key, out.Type)
				}
				fmt.Fprintln(w, "imports")
				for _, im := range imports {
					fmt.Fprintf(w, "  %s\n", im)
				}
				fmt.Fprintln(w, "metadata")
				fmt.Fprintf(w, "  %s\n", indentJSON(mod.MetadataJSON))
				fmt.Fprintln(w, "interface")
				fmt.Fprintf(w, "  %s\n", indentJSON(mod.InterfaceJSON))
			}
			if checkErr != nil {
				return cli.Exit("this host cannot run the module: "+checkErr.Error(), 1)
			}
			return nil
		},
	}
}

func indentJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.MarshalIndent(v, "  ", "  ")
	return string(out)
}

func packCommand() *cli.Command {
	return &cli.Command{
		Name:      "pack",
		Usage:     "embed metadata.json and interface.json into a .wasm, making a task module",
		ArgsUsage: "IN.wasm",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "metadata", Usage: "metadata.json `FILE`"},
			&cli.StringFlag{Name: "interface", Usage: "interface.json `FILE`"},
			&cli.StringFlag{Name: "o", Usage: "output `FILE`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("pack: want exactly one IN.wasm argument", 2)
			}
			if err := requireFlags(c, "metadata", "interface", "o"); err != nil {
				return err
			}
			wasm, err := os.ReadFile(c.Args().First())
			if err != nil {
				return err
			}
			meta, err := os.ReadFile(c.String("metadata"))
			if err != nil {
				return err
			}
			iface, err := os.ReadFile(c.String("interface"))
			if err != nil {
				return err
			}
			out, err := taskmodule.Pack(wasm, meta, iface)
			if err != nil {
				return err
			}
			return writeFileAtomic(c.String("o"), out)
		},
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
