#!/bin/sh
# Rebuilds the AssemblyScript task modules in place, reproducibly, and the
# SDK's test module (testdata/sdktest.wasm):
#   guests/assemblyscript/<task>/<task>.wasm for every task directory.
# Needs node >= 20 and npm; the compiler version is pinned by
# package-lock.json. Run from anywhere; XFHOST (default build/xfhost,
# relative to the repository root) packs the metadata and interface of the
# Go original into each module.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
xfhost=${XFHOST:-build/xfhost}
case $xfhost in
/*) ;;
*) xfhost=$root/$xfhost ;;
esac

cd "$here"
if [ ! -d node_modules ]; then
	npm ci --no-audit --no-fund
fi

# Paths given to asc are relative to this directory: they end up in abort
# messages, so the bytes do not depend on where the checkout lives. No
# source map and no debug names.
#   --exportStart _start   the top level of the entry file (run(...)) and all
#                          static initialisation become the WASI entry point
#                          the host calls, instead of a Wasm start function
#   --use abort=...        runtime errors end the job through xf.fail instead
#                          of importing env.abort
#   --runtime incremental  a real GC: a task may read many image boxes
asc() {
	node node_modules/assemblyscript/bin/asc.js "$@" \
		--optimizeLevel 3 --shrinkLevel 0 \
		--runtime incremental \
		--exportStart _start \
		--use abort=xf/abort/abortJob
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for task in statminmax clipthreshold; do
	echo "assemblyscript $task"
	asc "$task/index.ts" -o "$tmp/$task.wasm"
	(cd "$root" && "$xfhost" pack \
		--metadata "guests/go/$task/metadata.json" \
		--interface "guests/go/$task/interface.json" \
		-o "guests/assemblyscript/$task/$task.wasm" "$tmp/$task.wasm")
done

# A guest that calls most of the SDK, for as_test.go.
echo "assemblyscript testdata/sdktour"
asc testdata/sdktour.ts -o "$tmp/sdktour.wasm"
(cd "$root" && "$xfhost" pack \
	--metadata guests/assemblyscript/testdata/sdktour.metadata.json \
	--interface guests/assemblyscript/testdata/sdktour.interface.json \
	-o guests/assemblyscript/testdata/sdktour.wasm "$tmp/sdktour.wasm")

# The SDK's unit tests run this module from as_test.go. It imports nothing:
# its abort traps.
echo "assemblyscript testdata/sdktest"
node node_modules/assemblyscript/bin/asc.js testdata/sdktest.ts -o testdata/sdktest.wasm \
	--optimizeLevel 3 --shrinkLevel 0 \
	--runtime incremental \
	--use abort=testdata/sdktest/trap
