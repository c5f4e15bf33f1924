#!/bin/sh
# Rebuilds cguest.wasm from main.c with clang and wasi-libc (Debian:
# clang, lld, wasi-libc, libclang-rt-dev-wasm32). The output has no debug
# information or paths, so it is the same wherever it is built with the
# same toolchain. The tests use the committed cguest.wasm and need only Go.
set -eu
cd "$(dirname "$0")"
"${CC:-clang}" --target=wasm32-wasi -O2 -Wall -Werror -Wl,--strip-all -o cguest.wasm main.c
