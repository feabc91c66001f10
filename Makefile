# llmesh top-level targets. Every target installs what it needs first (scripts/install-deps.sh,
# run once per change of the script or of the JS test manifest, remembered by a stamp file).
BUILD_DIR     ?= build
SANITIZE_DIR  ?= build-sanitize
JOBS          ?= $(shell nproc)
CMAKE_FLAGS   ?=
# ccache: paths relative to the checkout, so clones share the cache (CMakeLists.txt makes
# precompiled headers cacheable).
export CCACHE_BASEDIR := $(CURDIR)

DEPS_STAMP := .deps-stamp

.PHONY: all deps build test test-sanitize demo bench bench-smoke clean

all: build

deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/install-deps.sh tests/js/package.json
	./scripts/install-deps.sh
	@touch $@

$(BUILD_DIR)/build.ninja: CMakeLists.txt | $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build: $(DEPS_STAMP) $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

# AddressSanitizer + UndefinedBehaviorSanitizer build of everything, then the whole suite
# (-O1 -g1: quick to build, fast enough to run, line numbers in reports).
test-sanitize: $(DEPS_STAMP)
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DLLMESH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) --timeout 900

demo: build
	./scripts/demo.sh $(BUILD_DIR)

# The side-by-side benchmark (bench/README.md; LLMESH_BENCH_SOAK_SECONDS etc. pass through), and
# its smoke pass (every phase for a second or two, the one ctest bench_smoke runs).
bench: build
	./bench/run.sh $(BUILD_DIR)

bench-smoke: build
	./bench/run.sh $(BUILD_DIR) --smoke

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
