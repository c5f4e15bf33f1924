package main

import (
	"slices"
	"testing"
)

func TestHoistFlags(t *testing.T) {
	app := newApp()
	cases := []struct{ in, want []string }{
		{[]string{"xfhost", "run", "t.wasm", "--fss", "d", "--keep-scratch", "--out=o.json"},
			[]string{"xfhost", "run", "--fss", "d", "--keep-scratch", "--out=o.json", "t.wasm"}},
		{[]string{"xfhost", "image", "synth", "x.omni", "--size", "64"},
			[]string{"xfhost", "image", "synth", "--size", "64", "x.omni"}},
		{[]string{"xfhost", "run", "--fss", "d", "t.wasm", "--", "--not-a-flag"},
			[]string{"xfhost", "run", "--fss", "d", "t.wasm", "--", "--not-a-flag"}},
		{[]string{"xfhost", "unknown", "a", "--b"}, []string{"xfhost", "unknown", "a", "--b"}},
		{[]string{"xfhost"}, []string{"xfhost"}},
	}
	for _, c := range cases {
		if got := hoistFlags(app, c.in); !slices.Equal(got, c.want) {
			t.Errorf("hoistFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
