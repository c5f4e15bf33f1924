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

.PHONY: all build guests test vet demo bench generate clean

all: build guests

build:
	$(GO) build -o $(XFHOST) ./cmd/xfhost

# Each guest: compile for wasip1, then embed metadata.json and interface.json.
guests: build
	@mkdir -p $(BUILD)/guests
	@for g in $(GUESTS); do \
		echo "guest $$g"; \
		GOEXPERIMENT= GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -o $(BUILD)/guests/$$g.plain.wasm ./guests/go/$$g || exit 1; \
		$(XFHOST) pack --metadata guests/go/$$g/metadata.json --interface guests/go/$$g/interface.json \
			-o $(BUILD)/guests/$$g.wasm $(BUILD)/guests/$$g.plain.wasm || exit 1; \
		rm -f $(BUILD)/guests/$$g.plain.wasm; \
	done

generate:
	$(GO) generate ./abi

STATICCHECK := $(BUILD)/bin/staticcheck

$(STATICCHECK):
	GOEXPERIMENT= GOBIN=$(abspath $(BUILD))/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet: $(STATICCHECK)
	$(GO) vet ./...
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
	$(GO) test -run 'TestRatios|TestInterruptRatio|TestKernelRatios|TestFSSRatios' -v -count=1 -timeout 60m ./bench/ -args -ratios -kernel-ratios -fss-ratios

clean:
	rm -rf $(BUILD)
