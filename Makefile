# detente: user-facing targets. CMake does the building underneath.
#   make          build everything (the CLI is build/detente)
#   make check    install missing packages, build, run the whole suite, then again under ASan+UBSan
#   make demo     build and run a demonstration
#   make bench    benchmarks, as JSON lines
#   make loadtest the election server under load (bench/loadtest.c), as JSON lines
#   make fuzz     libFuzzer harnesses (clang, ASan+UBSan), FUZZ_SECONDS each (default 60)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 60

.PHONY: all deps check check-normal check-asan demo bench loadtest fuzz clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

deps:
	@scripts/deps.sh build

check:
	@scripts/deps.sh check
	$(MAKE) check-normal check-asan

check-normal:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDT_TESTS_REQUIRED=ON >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

check-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDT_SANITIZE=ON -DDT_TESTS_REQUIRED=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

demo: all
	scripts/demo.sh $(BUILD)/detente

bench:
	@scripts/deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	scripts/bench.sh $(BUILD)

loadtest:
	@scripts/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	scripts/loadtest.sh $(BUILD)

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
