//go:build cgo

package engines

import (
	"context"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wasmtimeengine"
)

// addCgoEngines adds the engines that need cgo.
func addCgoEngines(m map[string]constructor) {
	m["wasmtime"] = func(ctx context.Context, cfg engine.Config) (engine.Engine, error) {
		return wasmtimeengine.New(ctx, cfg)
	}
}
