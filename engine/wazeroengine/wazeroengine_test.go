package wazeroengine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/enginetest"
	"github.com/xfhost/xfhost/engine/wazeroengine"
)

func newEngine(cfg engine.Config) (engine.Engine, error) {
	return wazeroengine.New(context.Background(), cfg)
}

func TestConformance(t *testing.T) { enginetest.Run(t, newEngine) }

func TestFuelUnsupported(t *testing.T) {
	e, err := newEngine(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	// The smallest module: the header alone.
	mod, err := e.Compile(context.Background(), []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	err = mod.Run(context.Background(), engine.RunConfig{Fuel: 1})
	if !errors.Is(err, engine.ErrFuelUnsupported) || err.Error() != "fuel metering is not supported by the wazero engine" {
		t.Errorf("Run with fuel = %v, want %q", err, "fuel metering is not supported by the wazero engine")
	}
}
