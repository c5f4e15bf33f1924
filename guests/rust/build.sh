#!/bin/sh
# Rebuilds the Rust task modules in place: the xf crate, then each task
# binary, packed with its Go original's metadata.json and interface.json
# into guests/rust/<task>/<task>.wasm.
#
# Needs Debian's rustc 1.63 with the wasm32-wasi std (packages rustc and
# libstd-rust-dev-wasm32); no cargo, no crates. The output is the same
# bytes on any machine and from any checkout path: rustc runs from the
# repository root on relative paths, absolute prefixes are remapped, there
# is no debug info and one codegen unit.
#
# Usage: guests/rust/build.sh   (XFHOST overrides build/xfhost)
set -eu

RUSTC=/usr/bin/rustc # always Debian's: the committed bytes depend on it
TASKS="statminmax clipthreshold"

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
XFHOST=${XFHOST:-build/xfhost}

if [ ! -x "$RUSTC" ]; then
	echo "guests/rust/build.sh: $RUSTC not found (apt-get install rustc libstd-rust-dev-wasm32)" >&2
	exit 1
fi
version=$("$RUSTC" --version)
case "$version" in
"rustc 1.63.0"*) ;;
*)
	echo "guests/rust/build.sh: $RUSTC is \"$version\"; the committed modules are built with Debian's rustc 1.63.0" >&2
	exit 1
	;;
esac
if [ ! -x "$XFHOST" ]; then
	echo "guests/rust/build.sh: $XFHOST not found (go build -o build/xfhost ./cmd/xfhost)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Panics abort (wasm32 cannot unwind); the SDK's panic hook fails the job
# with the panic message first. Only the name section stays, so a trap
# names the function it happened in. Warnings are errors.
rustc_wasm() {
	"$RUSTC" --edition 2021 --target wasm32-wasi -C opt-level=2 -C panic=abort -C codegen-units=1 \
		-C debuginfo=0 -C strip=debuginfo -D warnings \
		"--remap-path-prefix=$root/=" "--remap-path-prefix=$tmp/=" "--remap-path-prefix=${HOME:-/nonexistent}/=~/" \
		"$@"
}

rustc_wasm --crate-type rlib --crate-name xf guests/rust/xf/src/lib.rs -o "$tmp/libxf.rlib"
for task in $TASKS; do
	echo "rust guest $task"
	rustc_wasm --crate-type bin --crate-name "$task" --extern xf="$tmp/libxf.rlib" \
		"guests/rust/$task/src/main.rs" -o "$tmp/$task.plain.wasm"
	"$XFHOST" pack --metadata "guests/go/$task/metadata.json" --interface "guests/go/$task/interface.json" \
		-o "guests/rust/$task/$task.wasm" "$tmp/$task.plain.wasm"
done
