# spotflow: the two set-up commands are `make demo` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZERS := recipe tiff csv isbi
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Debian's interpreter: it has Debian's numpy, pandas, pytest and snakemake.
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)

# Debian packages the project builds with; `make deps` installs the missing ones.
DEPS := cmake g++ make pkg-config libtbb-dev libfmt-dev nlohmann-json3-dev libvalijson-dev \
        libboost-dev libboost-filesystem-dev libdlpack-dev libcli11-dev libgtest-dev \
        libssl-dev libtiff-dev libinsighttoolkit5-dev libcairo2-dev libplplot-dev plplot-driver-cairo \
        libpugixml-dev libxml2-utils libeigen3-dev fonts-dejavu-core libtorch-dev clang libclang-rt-14-dev \
        pybind11-dev python3-dev python3-numpy python3-pandas python3-pytest python3-matplotlib snakemake \
        libxgboost-dev libjemalloc-dev

.PHONY: all deps build build-asan test test-asan test-fuzz fuzz build-fuzz demo bench clean

all: build

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The torch- and ITK-free parts (core, host, their tests) under ASan + UBSan.
build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSPOTFLOW_SANITIZE=ON -DSPOTFLOW_WITH_ITK=OFF -DSPOTFLOW_WITH_TORCH=OFF
	cmake --build $(ASAN_BUILD) -j$(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# The fuzzers are not part of `make test`: their clang build alone is ~7 min
# of CI's 45; the inputs they found stay in tests/bad_inputs, which ctest runs.
test: build test-asan
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# libFuzzer targets (Debian's clang; ASan + UBSan) for the recipe parser and
# resolver, the TIFF, CSV and ISBI XML readers: only the torch- and ITK-free
# libraries they link are built. `make fuzz` runs each FUZZ_SECONDS (600),
# `make test-fuzz` 60 s, two at a time; any crash, leak or timeout fails, and the
# input is left in $(FUZZ_BUILD)/fuzz/ (crash-*, leak-*, timeout-*).
build-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPOTFLOW_FUZZ=ON \
	  -DSPOTFLOW_WITH_ITK=OFF -DSPOTFLOW_WITH_TORCH=OFF -DSPOTFLOW_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

fuzz: build-fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD)/fuzz $(FUZZERS)

test-fuzz: build-fuzz
	FUZZ_SECONDS=60 bash tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD)/fuzz $(FUZZERS)

# The deep pipeline (DECODE + MAGIK); a build without LibTorch runs the
# classical variant of the same job instead, and says so.
demo: build
	@if $(BUILD)/bin/spotflow describe detect.decode >/dev/null 2>&1; then recipe=demo; \
	else recipe=demo_classical; echo "detect.decode is not built (no LibTorch): running demo_classical.json"; fi; \
	echo "$(BUILD)/bin/spotflow run examples/recipes/$$recipe.json --out out/demo"; \
	$(BUILD)/bin/spotflow run examples/recipes/$$recipe.json --out out/demo

bench: build
	cmake --build $(BUILD) --target spotflow_bench -j$(JOBS)
	$(BUILD)/bin/spotflow_bench
	@if cmake --build $(BUILD) --target decode_bench -j$(JOBS) >/dev/null 2>&1; then \
	  OMP_WAIT_POLICY=passive $(BUILD)/bin/decode_bench; \
	else echo "decode_bench: not built (LibTorch missing)"; fi
	@if cmake --build $(BUILD) --target selftrain_ablation -j$(JOBS) >/dev/null 2>&1; then \
	  $(BUILD)/bin/selftrain_ablation $(BUILD)/selftrain_ablation; \
	else echo "selftrain_ablation: not built (LibTorch missing)"; fi
	cmake --build $(BUILD) --target scenario_suite -j$(JOBS)
	OMP_WAIT_POLICY=passive $(BUILD)/bin/scenario_suite --out $(BUILD)/scenario_suite
	@if [ -d $(BUILD)/python/spotflow ]; then \
	  PYTHONPATH=$(BUILD)/python $(PYTHON) bench/batch_bench.py --spotflow $(BUILD)/bin/spotflow --work $(BUILD)/bench_batch; \
	else echo "batch_bench: the Python package is not built (pybind11-dev, python3-dev)"; fi
	@if cmake --build $(BUILD) --target segmentation_bench -j$(JOBS) >/dev/null 2>&1; then \
	  OMP_WAIT_POLICY=passive $(BUILD)/bin/segmentation_bench --out $(BUILD)/segmentation_bench; \
	else echo "segmentation_bench: not built (LibTorch missing)"; fi
	@# Curation (seed 004) against scikit-learn, a bench-only oracle (python3-sklearn, python3-pandas).
	@if /usr/bin/python3 -c "import sklearn, pandas" 2>/dev/null; then \
	  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/curation/run_bench.py --build $(BUILD); \
	else echo "curation bench: needs python3-sklearn and python3-pandas (apt-get install python3-sklearn python3-pandas)"; fi
	@if [ -e $(BUILD)/lib/spotflow/plugins/spotflow_train_hybrid.so ]; then \
	  bench/hybrid_bench.sh $(BUILD)/bin/spotflow examples/recipes $(BUILD)/hybrid_bench; \
	else echo "hybrid_bench: not built (LibTorch missing)"; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) out
