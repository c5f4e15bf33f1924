package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/clip"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
)

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "make and examine OMNI images",
		Subcommands: []*cli.Command{
			{
				Name:      "synth",
				Usage:     "write a synthetic micro-CT-like uint16 volume (trabecular structure, noise, density calibration)",
				ArgsUsage: "OUT.omni",
				Flags: []cli.Flag{
					&cli.IntSliceFlag{Name: "size", Value: cli.NewIntSlice(128), Usage: "edge length, or x,y,z"},
					&cli.Int64Flag{Name: "seed", Value: 1},
					&cli.Float64Flag{Name: "spacing", Value: 0.03, Usage: "voxel size in mm"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 || !strings.HasSuffix(c.Args().First(), ".omni") {
						return cli.Exit("image synth: want one OUT.omni argument", 2)
					}
					size, err := parseSize(c.IntSlice("size"))
					if err != nil {
						return cli.Exit(err.Error(), 2)
					}
					img, err := synth.Volume(c.Context, synth.Options{Size: size, Seed: c.Int64("seed"), Spacing: c.Float64("spacing")})
					if err != nil {
						return err
					}
					defer img.Close()
					out := c.Args().First()
					if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
						return err
					}
					return omni.Write(filepath.Dir(out), strings.TrimSuffix(filepath.Base(out), ".omni"), img)
				},
			},
			{
				Name:      "info",
				Usage:     "print an OMNI image's metadata",
				ArgsUsage: "FILE.omni",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("image info: want one FILE.omni argument", 2)
					}
					img, err := omni.Open(c.Args().First())
					if err != nil {
						return err
					}
					defer img.Close()
					h := img.Header()
					data, err := h.Encode()
					if err != nil {
						return err
					}
					var pretty map[string]any
					_ = json.Unmarshal(data, &pretty)
					lo, hi, err := clip.MinMax(c.Context, img, nil)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s: %dx%dx%d %s, %d voxels, values %g..%g\n",
						c.Args().First(), h.Size[0], h.Size[1], h.Size[2], h.DataType, h.VoxelCount(), lo, hi)
					fmt.Fprintln(c.App.Writer, string(data))
					return nil
				},
			},
		},
	}
}

func parseSize(v []int) ([3]int, error) {
	switch len(v) {
	case 1:
		return [3]int{v[0], v[0], v[0]}, nil
	case 3:
		return [3]int{v[0], v[1], v[2]}, nil
	}
	return [3]int{}, fmt.Errorf("--size: want one edge length or x,y,z, got %v", v)
}
