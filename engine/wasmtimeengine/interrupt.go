//go:build cgo

package wasmtimeengine

// #include "capi.h"
import "C"

import (
	"context"
	"errors"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// watch makes the guest in store stop at its next epoch check once ctx
// ends. Nothing runs while ctx lasts: no goroutine, no timer, no ticking
// epoch. When ctx ends, the store's flag is set and the epoch incremented
// once, which sends every store of the engine to its deadline callback
// (capi.c); the flagged store stops with an error, the others carry on.
//
// The returned function must be called before the store is closed; it
// waits for a stop in progress, which writes to memory the store owns.
func watch(ctx context.Context, store *wasmtime.Store) (unwatch func(), err error) {
	stop := C.xf_watch(storePtr(store))
	if stop == nil {
		return nil, errors.New("wasmtime: out of memory setting up the store")
	}
	// Relative to the current epoch: the next increment, by whichever run,
	// reaches it.
	store.SetEpochDeadline(1)
	stopped := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(stopped)
		C.xf_stop(stop)
		store.Engine.IncrementEpoch()
	})
	return func() {
		if !cancel() {
			<-stopped
		}
	}, nil
}

// verifyStorePtr checks on a real store that storePtr finds wasmtime-go's
// C store.
func verifyStorePtr(e *wasmtime.Engine) error {
	store := wasmtime.NewStore(e)
	defer store.Close()
	if unsafe.Pointer(C.wasmtime_store_context(storePtr(store))) != unsafe.Pointer(store.Context()) {
		return errors.New("wasmtime: wasmtime-go's Store no longer starts with its C pointer; this engine needs updating")
	}
	return nil
}
