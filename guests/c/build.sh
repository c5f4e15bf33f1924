#!/bin/sh
# Rebuilds the C task modules in place: guests/c/<task>/<task>.wasm, and the
# SDK's test guest guests/c/testdata/sdkcheck/sdkcheck.wasm.
#
# Needs clang with the wasm32 target, wasm-ld and wasi-libc (Debian: clang,
# lld, wasi-libc, libclang-rt-dev-wasm32). The output is reproducible: the
# same bytes from any checkout path on any machine with the same toolchain
# (no debug information, no paths, no timestamps; custom sections other than
# the task module's own are stripped). CI rebuilds and compares with the
# committed files.
#
# Environment: CLANG (default clang), WASI_SYSROOT (default: what clang
# finds, Debian's /usr), XFHOST (default build/xfhost, built if missing).
set -eu

cd "$(dirname "$0")/../.."
CLANG=${CLANG:-clang}
XFHOST=${XFHOST:-build/xfhost}
if [ ! -x "$XFHOST" ]; then
	go build -o "$XFHOST" ./cmd/xfhost
fi

# -g0 and the path map keep file names out even if clang's configuration
# adds debug flags; --strip-all drops the name and producers sections.
CFLAGS="--target=wasm32-wasi -std=c11 -O2 -Wall -Wextra -Werror -g0 -Wl,--strip-all"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# build DIR DOCS: compiles DIR/main.c with the SDK into DIR/<name of DIR>.wasm,
# packed with DOCS/metadata.json and DOCS/interface.json.
build() {
	dir=$1
	docs=$2
	name=$(basename "$dir")
	# shellcheck disable=SC2086 # CFLAGS is a list of words
	"$CLANG" $CFLAGS ${WASI_SYSROOT:+"--sysroot=$WASI_SYSROOT"} -ffile-prefix-map="$PWD"=. \
		-o "$tmp/$name.wasm" "$dir/main.c" guests/c/xf/xf.c guests/c/xf/xfjson.c
	"$XFHOST" pack --metadata "$docs/metadata.json" --interface "$docs/interface.json" \
		-o "$dir/$name.wasm" "$tmp/$name.wasm"
	echo "$dir/$name.wasm"
}

# The ports share their Go original's metadata and interface.
build guests/c/statminmax guests/go/statminmax
build guests/c/clipthreshold guests/go/clipthreshold
build guests/c/loop guests/c/loop
build guests/c/testdata/sdkcheck guests/c/testdata/sdkcheck
