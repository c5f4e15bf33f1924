//go:build cgo

// The few parts of wasmtime's C API that wasmtime-go does not wrap: epoch
// deadline callbacks, unchecked host functions and a caller's memory. The
// library itself is linked by wasmtime-go; its headers are not on this
// package's include path, so the declarations of wasmtime 39's wasmtime.h
// that are used are restated here, and static assertions in capi.c check
// the sizes the restated types must have.

#ifndef XFHOST_WASMTIMEENGINE_CAPI_H
#define XFHOST_WASMTIMEENGINE_CAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_functype_t wasm_functype_t;

typedef struct wasm_byte_vec_t {
	size_t size;
	char *data;
} wasm_byte_vec_t;

// wasmtime_val_raw_t: one untyped value, 16 bytes, little-endian.
typedef union wasmtime_val_raw {
	int32_t i32;
	int64_t i64;
	float f32;
	double f64;
	uint8_t v128[16];
	uint32_t anyref;
	uint32_t externref;
	void *funcref;
} wasmtime_val_raw_t;

// wasmtime_memory_t and wasmtime_extern_t as wasmtime 39 lays them out.
typedef struct wasmtime_memory {
	struct {
		uint64_t store_id;
		uint32_t private1;
	} id;
	uint32_t private2;
} wasmtime_memory_t;

typedef struct wasmtime_extern {
	uint8_t kind;
	union {
		wasmtime_memory_t memory;
		uint64_t words[3]; // the largest member: wasmtime_global_t
	} of;
} wasmtime_extern_t;

enum { XF_EXTERN_MEMORY = 3 };

typedef uint8_t wasmtime_update_deadline_kind_t;

typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
	void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
	size_t num_args_and_results);

extern wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store);
extern wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *caller);
extern bool wasmtime_caller_export_get(wasmtime_caller_t *caller, const char *name,
	size_t name_len, wasmtime_extern_t *item);
extern uint8_t *wasmtime_memory_data(const wasmtime_context_t *store,
	const wasmtime_memory_t *memory);
extern size_t wasmtime_memory_data_size(const wasmtime_context_t *store,
	const wasmtime_memory_t *memory);
extern wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len);
extern wasmtime_error_t *wasmtime_error_new(const char *msg);
extern void wasmtime_error_message(const wasmtime_error_t *error, wasm_byte_vec_t *message);
extern void wasmtime_error_delete(wasmtime_error_t *error);
extern void wasm_byte_vec_delete(wasm_byte_vec_t *vec);
extern wasmtime_error_t *wasmtime_linker_define_func_unchecked(
	wasmtime_linker_t *linker, const char *module, size_t module_len,
	const char *name, size_t name_len, const wasm_functype_t *ty,
	wasmtime_func_unchecked_callback_t cb, void *data, void (*finalizer)(void *));
extern void wasmtime_store_epoch_deadline_callback(wasmtime_store_t *store,
	wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
		uint64_t *epoch_deadline_delta, wasmtime_update_deadline_kind_t *update_kind),
	void *data, void (*finalizer)(void *));

// xf_define_func defines module.name in linker as an unchecked host function
// that calls the Go function registered under handle.
wasmtime_error_t *xf_define_func(wasmtime_linker_t *linker,
	const char *module, size_t module_len, const char *name, size_t name_len,
	const wasm_functype_t *ty, uintptr_t handle);

// xf_watch makes store call back at each epoch deadline and stop with an
// error once *stop is non-zero. It allocates stop, which the store frees.
int32_t *xf_watch(wasmtime_store_t *store);

// xf_stop asks the store watched through stop to end at its next epoch check.
void xf_stop(int32_t *stop);

// xf_caller_memory returns the caller's exported memory "memory" and its size
// in *size, or NULL if it exports none.
uint8_t *xf_caller_memory(wasmtime_caller_t *caller, size_t *size);

// xf_exit_trap is the trap that unwinds a guest whose host call asked to exit.
wasm_trap_t *xf_exit_trap(void);

#endif
