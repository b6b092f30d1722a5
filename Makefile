# Trove: the two set-up commands are `make demo` and `make test` (see README.md).
# Every target works on a fresh Debian 12 machine as root; `deps` installs what is missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
TSAN_LOAD_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
DEMO_DIR   ?= demo-data
CTEST_ARGS ?=

# Debian 12 packages, each for its field (see README.md "Dependencies").
DEB_PACKAGES := build-essential cmake pkg-config git zstd python3 python3-jsonschema \
  libxapian-dev libicu-dev libre2-dev libfmt-dev libcpp-httplib-dev catch2 \
  libsimdjson-dev nlohmann-json3-dev libzstd-dev libxxhash-dev libabsl-dev libeigen3-dev \
  libcli11-dev libspdlog-dev libbenchmark-dev librdkafka-dev libjemalloc-dev wamerican-large \
  prometheus wrk

.PHONY: all deps build test test-asan test-tsan fuzz fuzz-deps fuzz-replay bench demo clean format

all: build

# Idempotent and quick when everything is present: asks dpkg first, apt-get only for the rest.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi
	@# npm (the OpenAPI test installs its validator with it): Debian's, unless a node is already
	@# there (NodeSource's nodejs ships its own npm and conflicts with Debian's package).
	@if ! command -v npm >/dev/null 2>&1 && ! command -v node >/dev/null 2>&1; then \
	  echo "deps: installing nodejs npm"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTROVE_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# libFuzzer targets (fuzz/, docs/FUZZING.md) built with clang, ASan and UBSan in $(FUZZ_BUILD):
# each runs FUZZ_SECONDS on a copy of its seed corpus; fails on any crash, hang or sanitizer
# report. `make test` already replays the seed corpus through the GCC build (fast).
$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTROVE_FUZZ=ON -DTROVE_BUILD_BENCH=OFF

FUZZ_PACKAGES := clang-14 libclang-rt-14-dev

fuzz-deps: deps
	@missing=$$(for p in $(FUZZ_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "fuzz-deps: installing" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

fuzz: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target trove_fuzzers
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Only the seed corpus, through the sanitizer build (one run of each input).
fuzz-replay: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target trove_fuzzers
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz

$(TSAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTROVE_TSAN=ON -DTROVE_BUILD_BENCH=OFF

# The whole suite under ThreadSanitizer, then scripts/tsan_load.sh: TSAN_LOAD_SECONDS of mixed
# load (bulk, single events, search, suggest, recommendations, forgets, snapshots) against a
# TSan build of `trove serve`. Any report fails it. Heavy: run before resolving, not in CI.
test-tsan: deps $(TSAN_BUILD)/CMakeCache.txt
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/scripts/tsan.supp \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	./scripts/tsan_load.sh $(TSAN_BUILD)/cli/trove $(TSAN_LOAD_SECONDS)

# Each prints our figures beside a baseline or peer measured in the same run (docs/BENCHMARKS.md).
bench: deps build
	$(BUILD)/bench/ingest_bench
	$(BUILD)/bench/fuzzy_bench
	./bench/search.sh $(BUILD)
	./bench/filters.sh $(BUILD)
	$(BUILD)/bench/recommend_bench
	./bench/http.sh $(BUILD)

# Generates and ingests a demo shop, then serves it on 127.0.0.1:7700 (DEMO_LISTEN=host:port)
# in the foreground, printing curl commands with fresh API keys; Ctrl-C stops it cleanly.
demo: deps build
	./scripts/demo.sh $(BUILD)/cli/trove $(DEMO_DIR)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)

format:
	find data index fuzzy recommend http cli tests bench -name '*.h' -o -name '*.cpp' | xargs clang-format -i
