// Package engines names the WebAssembly engines this build of xfhost
// contains and creates them by name, so that the CLI, the conformance suite
// and the tests choose an engine without importing each one. Engines that
// need cgo register themselves only in cgo builds.
package engines

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
)

// Default is the engine used when none is named.
const Default = "wazero"

type constructor func(ctx context.Context, cfg engine.Config) (engine.Engine, error)

// all lists the engines compiled into this binary. Built once per call so
// that no package state is mutable.
func all() map[string]constructor {
	m := map[string]constructor{
		"wazero": func(ctx context.Context, cfg engine.Config) (engine.Engine, error) {
			return wazeroengine.New(ctx, cfg)
		},
	}
	addCgoEngines(m)
	return m
}

// Names returns the engines available in this build, sorted, the default
// first.
func Names() []string {
	var names []string
	for name := range all() {
		if name != Default {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return append([]string{Default}, names...)
}

// New creates the named engine ("" means Default).
func New(ctx context.Context, name string, cfg engine.Config) (engine.Engine, error) {
	if name == "" {
		name = Default
	}
	newEngine, ok := all()[name]
	if !ok {
		return nil, fmt.Errorf("unknown engine %q (this build has: %s)", name, strings.Join(Names(), ", "))
	}
	return newEngine(ctx, cfg)
}
