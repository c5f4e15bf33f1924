//go:build cgo

#include <stdlib.h>

#include "capi.h"
#include "_cgo_export.h"

_Static_assert(sizeof(wasmtime_val_raw_t) == 16, "wasmtime_val_raw_t is 16 bytes");
_Static_assert(sizeof(wasmtime_memory_t) == 24, "wasmtime_memory_t is 24 bytes");
_Static_assert(sizeof(wasmtime_extern_t) == 32, "wasmtime_extern_t is 32 bytes");
_Static_assert(offsetof(wasmtime_extern_t, of) == 8, "wasmtime_extern_t.of at 8");

// host_trampoline hands a call to Go with the caller's memory: looking it up
// here costs less than calling back into C from Go, and most calls use it.
static wasm_trap_t *host_trampoline(void *env, wasmtime_caller_t *caller,
                                    wasmtime_val_raw_t *vals, size_t n) {
	size_t size;
	uint8_t *mem = xf_caller_memory(caller, &size);
	return xfHostCall((uintptr_t)env, wasmtime_caller_context(caller), vals, n, mem, size);
}

wasmtime_error_t *xf_define_func(wasmtime_linker_t *linker,
                                 const char *module, size_t module_len,
                                 const char *name, size_t name_len,
                                 const wasm_functype_t *ty, uintptr_t handle) {
	// No finalizer: the engine deletes the handle after the linker.
	return wasmtime_linker_define_func_unchecked(linker, module, module_len, name,
	                                             name_len, ty, host_trampoline,
	                                             (void *)handle, NULL);
}

static wasmtime_error_t *on_epoch_deadline(wasmtime_context_t *context, void *data,
                                           uint64_t *delta,
                                           wasmtime_update_deadline_kind_t *kind) {
	(void)context;
	if (__atomic_load_n((int32_t *)data, __ATOMIC_ACQUIRE)) {
		return wasmtime_error_new("xfhost: execution interrupted");
	}
	// Another store of the engine was stopped: carry on until the next
	// increment of the epoch.
	*delta = 1;
	*kind = 0; // WASMTIME_UPDATE_DEADLINE_CONTINUE
	return NULL;
}

int32_t *xf_watch(wasmtime_store_t *store) {
	int32_t *stop = calloc(1, sizeof *stop);
	if (stop == NULL) {
		return NULL;
	}
	wasmtime_store_epoch_deadline_callback(store, on_epoch_deadline, stop, free);
	return stop;
}

void xf_stop(int32_t *stop) { __atomic_store_n(stop, 1, __ATOMIC_RELEASE); }

uint8_t *xf_caller_memory(wasmtime_caller_t *caller, size_t *size) {
	static const char name[] = "memory";
	wasmtime_extern_t item;
	*size = 0;
	if (!wasmtime_caller_export_get(caller, name, sizeof name - 1, &item) ||
	    item.kind != XF_EXTERN_MEMORY) {
		return NULL;
	}
	wasmtime_context_t *context = wasmtime_caller_context(caller);
	*size = wasmtime_memory_data_size(context, &item.of.memory);
	return wasmtime_memory_data(context, &item.of.memory);
}

wasm_trap_t *xf_exit_trap(void) {
	static const char msg[] = "xfhost: guest exited";
	return wasmtime_trap_new(msg, sizeof msg - 1);
}
