# xfhost build, test, demo and benchmarks. Needs only Go.
GO      ?= go
BUILD   ?= build
XFHOST  := $(BUILD)/xfhost
GUESTS  := statminmax clipthreshold corethreshold imagepixelsminmax histogramplot
DEMO    := $(BUILD)/demo
SIZE    ?= 128
# The SIMD kernels need Go's simd experiment, which exists on amd64 only;
# elsewhere the scalar kernels are built.
ifeq ($(shell $(GO) env GOARCH),amd64)
export GOEXPERIMENT ?= simd
endif

.PHONY: all build guests ports check-ports test vet demo bench generate clean

all: build guests

build:
	$(GO) build -o $(XFHOST) ./cmd/xfhost

# Each Go guest: compile for wasip1, then embed metadata.json and
# interface.json. The committed C, Rust and AssemblyScript modules are
# rebuilt too when their toolchains are installed (see ports).
guests: build ports
	@mkdir -p $(BUILD)/guests
	@for g in $(GUESTS); do \
		echo "guest $$g"; \
		GOEXPERIMENT= GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -o $(BUILD)/guests/$$g.plain.wasm ./guests/go/$$g || exit 1; \
		$(XFHOST) pack --metadata guests/go/$$g/metadata.json --interface guests/go/$$g/interface.json \
			-o $(BUILD)/guests/$$g.wasm $(BUILD)/guests/$$g.plain.wasm || exit 1; \
		rm -f $(BUILD)/guests/$$g.plain.wasm; \
	done

# The C, Rust and AssemblyScript modules are committed, so that tests need
# only Go; ports rebuilds them in place with whichever toolchains exist.
# The builds are reproducible: check-ports (CI) rebuilds all of them and
# fails if any differs from the committed bytes.
ports: build
	@if command -v clang >/dev/null; then \
		XFHOST=$(XFHOST) guests/c/build.sh && engine/wasip1/testdata/cguest/build.sh; \
	else echo "ports: clang not found, C modules not rebuilt"; fi
	@if [ -x /usr/bin/rustc ]; then XFHOST=$(XFHOST) guests/rust/build.sh; \
	else echo "ports: /usr/bin/rustc not found, Rust modules not rebuilt"; fi
	@if command -v npm >/dev/null; then XFHOST=$(XFHOST) guests/assemblyscript/build.sh; \
	else echo "ports: npm not found, AssemblyScript modules not rebuilt"; fi

check-ports: build
	XFHOST=$(XFHOST) guests/c/build.sh
	engine/wasip1/testdata/cguest/build.sh
	XFHOST=$(XFHOST) guests/rust/build.sh
	XFHOST=$(XFHOST) guests/assemblyscript/build.sh
	git diff --exit-code --stat -- guests engine/wasip1/testdata
	@test -z "$$(git status --porcelain --untracked-files=all -- guests engine/wasip1/testdata | grep -v node_modules)" || \
		{ echo "check-ports: untracked build output:"; git status --porcelain -- guests engine/wasip1/testdata; exit 1; }

generate:
	$(GO) generate ./abi

STATICCHECK := $(BUILD)/bin/staticcheck

$(STATICCHECK):
	GOEXPERIMENT= GOBIN=$(abspath $(BUILD))/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet: $(STATICCHECK)
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...  # wasmtime needs cgo; everything else must build without it
	$(STATICCHECK) ./...
	GOEXPERIMENT= GOOS=wasip1 GOARCH=wasm $(STATICCHECK) ./guests/...
	GOEXPERIMENT= GOOS=wasip1 GOARCH=wasm $(GO) vet ./guests/...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

test: vet
	$(GO) test -count=1 ./...
	GOEXPERIMENT= $(GO) test -count=1 ./clip/  # the scalar kernels too

# The demo synthesizes a micro-CT-like volume on a local file store and runs
# StatMinMax and Threshold on it in the sandbox.
demo: build guests
	@rm -rf $(DEMO) && mkdir -p $(DEMO)/fss/scans
	$(XFHOST) image synth --size $(SIZE) $(DEMO)/fss/scans/bone.omni
	$(XFHOST) image info $(DEMO)/fss/scans/bone.omni | head -1
	@echo "--- Lucid.CLIP.StatMinMax (raw)"
	$(XFHOST) run $(BUILD)/guests/statminmax.wasm --fss $(DEMO)/fss --image image=scans/bone.omni --input calibration=null
	@echo "--- Lucid.CLIP.StatMinMax (calibrated, dens)"
	$(XFHOST) run $(BUILD)/guests/statminmax.wasm --fss $(DEMO)/fss --image image=scans/bone.omni --input 'calibration="dens"'
	@echo "--- Lucid.CLIP.Threshold (raw 3400 and up: bone)"
	$(XFHOST) run $(BUILD)/guests/clipthreshold.wasm --fss $(DEMO)/fss --image image=scans/bone.omni \
		--input threshold_lower0=3400 --input threshold_upper0=null --out $(DEMO)/threshold-outputs.json
	@echo "--- Lucid.Core.Threshold (calibration dens, defaults)"
	$(XFHOST) run $(BUILD)/guests/corethreshold.wasm --fss $(DEMO)/fss --image image=scans/bone.omni --input threshold_upper0=null
	$(XFHOST) image info $(DEMO)/fss/$$(sed -n 's/.*"filename": "\(.*\.omni\)".*/\1/p' $(DEMO)/threshold-outputs.json) | head -1

bench:
	$(GO) test -run 'TestRatios|TestInterruptRatio|TestEngineRatios|TestKernelRatios|TestFSSRatios' -v -count=1 -timeout 60m ./bench/ -args -ratios -engine-ratios -kernel-ratios -fss-ratios

clean:
	rm -rf $(BUILD)
