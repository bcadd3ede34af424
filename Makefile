# seq2attn — build, test, run.
#
#   make            build everything (float programs in build/f32, double-precision tests in build/f64)
#   make test       build and run the doctest suite (double precision: every gradient check is in double)
#   make ch0 … ch5  build and run a chapter program (ARGS="--help" to pass flags)
#   make gradcheck  print the gradient-check table of every op
#   make bench      run the benchmark (speed, not correctness; ARGS=--profile: where each step's time goes)
#   make bench-compare  the benchmark beside PyTorch's (bench/pytorch_reference.py), interleaved, medians
#   make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make exercise EX=name   grade your exercises/<name>.cpp (see exercises/README.md)
#   make exercises  grade every exercise, one row each (SOLUTIONS=1: grade the reference solutions instead)
#   make figures    rerun chapters 1-5's default runs (seed 1) and write their SVG figures to docs/figures/chN
#                   (FIGURES_QUICK=1: the --quick runs, into build/figures-quick; the tests run that)
#   make reproduce  every chapter's default run again, its tables written to docs/results/chN.md (with OpenBLAS's
#                   SkylakeX kernels, the published runs'; with Haswell's or Zen's to docs/results/avx2/chN.md)
#   make fuzz       every libFuzzer target in fuzz/ for FUZZ_SECONDS each (default 600); make fuzz-ci: 30 s each
#
# The first build installs missing Debian packages (.ci/install-deps) and records the compiler flags that
# pkg-config gives for OpenBLAS and fmt in build/config.mk.

CXX ?= g++
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
CXXFLAGS_BASE := -std=c++17 -Wall -Wextra -MMD -MP -I.
ARGS ?=

SRC := $(wildcard autodiff/*.cpp data/*.cpp nn/*.cpp io/*.cpp models/*.cpp experiments/*.cpp)
TEST_SRC := $(wildcard tests/*.cpp)
CHAPTER_SRC := $(wildcard chapters/ch[0-9]*.cpp)
# chapters/ch0_tape.cpp → ch0
chapter_name = $(firstword $(subst _, ,$(basename $(notdir $(1)))))
CHAPTERS := $(foreach c,$(CHAPTER_SRC),$(call chapter_name,$(c)))
# The graded exercises in the chapters' order: exercises/<name>.cpp (yours) and exercises/solutions/<name>.cpp,
# one program each (a new exercise is added here).
EXERCISES := masked_softmax lstm_step weight_sum attention_weight_dot attention_weight_additive layer_norm scaled_dot_product_attention
GRADER := exercises/grade.o exercises/main.o

.PHONY: all test asan gradcheck bench bench-compare figures reproduce clean deps exercise exercises fuzz fuzz-ci fuzz-seeds $(CHAPTERS)
all: build/f32/bin/bench build/f64/bin/tests build/f64/bin/gradcheck $(CHAPTERS:%=build/f32/bin/%) build/f64/bin/ch0

ifeq ($(filter clean,$(MAKECMDGOALS)),)
include build/config.mk
endif

build/config.mk: .ci/install-deps
	@bash .ci/install-deps
	@mkdir -p build
	@echo "PKG_CFLAGS := $$(pkg-config --cflags openblas fmt)" > $@
	@echo "PKG_LIBS := $$(pkg-config --libs openblas fmt)" >> $@

deps: build/config.mk

# One build variant: $(1) its folder under build/, $(2) its compiler flags.
# Every variant compiles the whole library, the chapters, the tests and the tools with its own flags.
define VARIANT
build/$(1)/%.o: %.cpp build/config.mk
	@mkdir -p $$(@D)
	$$(CXX) $$(CXXFLAGS_BASE) $(2) $$(EXTRA_FLAGS) $$(PKG_CFLAGS) -DS2A_BUILD_DIR='"build/$(1)"' -c $$< -o $$@
build/$(1)/libs2a.a: $$(SRC:%.cpp=build/$(1)/%.o)
	@rm -f $$@
	ar rcs $$@ $$^
build/$(1)/bin/tests: $$(TEST_SRC:%.cpp=build/$(1)/%.o) build/$(1)/exercises/grade.o build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
build/$(1)/bin/bench: build/$(1)/bench/bench.o build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
build/$(1)/bin/gradcheck: build/$(1)/tests/table/gradcheck_table.o build/$(1)/tests/op_cases.o build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
$(foreach c,$(CHAPTER_SRC),
build/$(1)/bin/$(call chapter_name,$(c)): build/$(1)/$(c:.cpp=.o) build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
)
# Each exercise twice, with its cases and the grader: exercise_<name> from your exercises/<name>.cpp and
# solution_<name> from exercises/solutions/<name>.cpp. A blank leaves variables unused by design: not warned.
$(EXERCISES:%=build/$(1)/exercises/%.o): EXTRA_FLAGS := -Wno-unused-parameter -Wno-unused-variable
$(foreach e,$(EXERCISES),
build/$(1)/bin/exercise_$(e): build/$(1)/exercises/$(e).o build/$(1)/exercises/checks/$(e).o $(GRADER:%=build/$(1)/%) build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
build/$(1)/bin/solution_$(e): build/$(1)/exercises/solutions/$(e).o build/$(1)/exercises/checks/$(e).o $(GRADER:%=build/$(1)/%) build/$(1)/libs2a.a
	@mkdir -p $$(@D)
	$$(CXX) $(2) $$^ $$(PKG_LIBS) -o $$@
)
endef

# -O3 for the float programs: GCC 12 vectorises the pointwise loops (ReLU, the residual adds, layer norm) only at
# -O3, and the transformer-long step took 8-13% less time; the printed results are the same to the last digit
# (no fast-math: nothing is reordered, make reproduce ARGS=--quick prints the same tables at -O2 and -O3).
# -fno-math-errno: the program never reads errno after a math function, and without this GCC must keep a branch
# around every std::sqrt (to call the library's, which sets errno, for a negative argument) and cannot vectorise
# Adam's update. It changes no result: the square root is the same correctly rounded one.
# (-march=x86-64-v3 -ffp-contract=off was measured too: the same bits, no gain beyond the host's noise, and a
# build that needs AVX2; not used. The LSTM's gate arithmetic picks AVX2 or AVX-512 at run time itself.)
# (GCC 12 at -O3 also warns of a write past a buffer inside fmt 9's own format-spec parser, a known false positive
# of -Wstringop-overflow in headers we do not own: silenced for this variant only.)
F32_FLAGS := -O3 -fno-math-errno -Wno-stringop-overflow
F64_FLAGS := -O2 -DSEQ2ATTN_DOUBLE
# -g1 (line tables, no variables) is enough for the sanitizers' stack traces, and builds a quarter faster than -g.
# SEQ2ATTN_POISON fills every new tensor's storage with NaN (autodiff/tensor.h): AddressSanitizer does not see a
# read of memory that was allocated but never written, the NaN it then computes with does.
ASAN_FLAGS := -O1 -g1 -DSEQ2ATTN_DOUBLE -DSEQ2ATTN_POISON -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(eval $(call VARIANT,f32,$(F32_FLAGS)))
$(eval $(call VARIANT,f64,$(F64_FLAGS)))
$(eval $(call VARIANT,asan,$(ASAN_FLAGS)))

# The chapter programs the tests run in --quick mode, and every exercise's two grading programs, are built in
# the same variant as the test binary.
EXERCISE_PROGRAMS := $(EXERCISES:%=exercise_%) $(EXERCISES:%=solution_%)
# The suite runs as one process per core, each a share of the test cases (tests/run_shards).
SHARDS := $(shell nproc 2>/dev/null || echo 2)
test: build/f64/bin/tests $(CHAPTERS:%=build/f64/bin/%) $(EXERCISE_PROGRAMS:%=build/f64/bin/%)
	bash tests/run_shards ./build/f64/bin/tests $(SHARDS) $(ARGS)

# Under the sanitizers every test runs but three that drive Python scripts over chapter programs the suite
# already runs under them (make figures' and make reproduce's quick runs: every chapter --quick again, and the
# bridge's PyTorch half): their C++ is covered, and they are the slowest tests of the suite (tests --duration=true).
ASAN_SKIP := figures: make figures*,determinism: make reproduce*,bridge: PyTorch*
asan: build/asan/bin/tests $(CHAPTERS:%=build/asan/bin/%) $(EXERCISE_PROGRAMS:%=build/asan/bin/%)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 bash tests/run_shards ./build/asan/bin/tests $(SHARDS) \
	    --test-case-exclude="$(ASAN_SKIP)" $(ARGS)

gradcheck: build/f64/bin/gradcheck
	./build/f64/bin/gradcheck

bench: build/f32/bin/bench
	./build/f32/bin/bench $(ARGS)

bench-compare: build/f32/bin/bench
	python3 bench/compare.py $(ARGS)

# Chapter 0 checks gradients, which needs double precision; the other chapters train in float.
ch0: build/f64/bin/ch0
	./build/f64/bin/ch0 $(ARGS)
$(filter-out ch0,$(CHAPTERS)): %: build/f32/bin/%
	./build/f32/bin/$@ $(ARGS)

# Grading needs double precision (the gradient check does), so the exercises build in build/f64.
ifneq ($(filter exercise,$(MAKECMDGOALS)),)
ifeq ($(filter $(EX),$(EXERCISES)),)
$(error make exercise EX=<name>: EX="$(EX)" is not an exercise; the exercises are: $(EXERCISES))
endif
endif
exercise: build/f64/bin/exercise_$(EX)
	./build/f64/bin/exercise_$(EX)

# One row per exercise, then how many pass; fails unless all do. SOLUTIONS=1 grades exercises/solutions/.
GRADED := $(if $(SOLUTIONS),solution,exercise)
exercises: $(EXERCISES:%=build/f64/bin/$(GRADED)_%)
	@printf '%-28s %-6s %s\n' exercise result 'worst rel. error'
	@n=0; for e in $(EXERCISES); do ./build/f64/bin/$(GRADED)_$$e --summary && n=$$((n + 1)); done; \
	echo "$$n of $(words $(EXERCISES)) pass"; test $$n -eq $(words $(EXERCISES))

# The lessons' figures (docs/), drawn by the chapter programs themselves from their default runs with seed 1.
# Each chapter writes its SVGs (and checkpoints, which docs/figures/.gitignore leaves out) to FIGURES_OUT/chN and
# what it printed to FIGURES_OUT/chN/run.txt. Chapter 3 adds --lengths, the only one of its comparisons that
# draws a figure (ch3_by_length.svg); chapter 0 draws none. FIGURES_BIN picks the build the programs come from
# (the tests pass their own variant's).
FIGURES_QUICK ?=
FIGURES_BIN ?= build/f32/bin
FIGURES_OUT ?= $(if $(FIGURES_QUICK),build/figures-quick,docs/figures)
FIGURE_FLAGS := --seed 1 $(if $(FIGURES_QUICK),--quick)
FIGURE_CHAPTERS := $(filter-out ch0,$(CHAPTERS))
figures: $(FIGURE_CHAPTERS:%=$(FIGURES_BIN)/%)
	@set -e; for c in $(FIGURE_CHAPTERS); do \
	    mkdir -p $(FIGURES_OUT)/$$c; \
	    args="$(FIGURE_FLAGS) --out $(FIGURES_OUT)/$$c $$(case $$c in ch3) echo --lengths;; esac)"; \
	    echo "== $(FIGURES_BIN)/$$c $$args"; \
	    $(FIGURES_BIN)/$$c $$args > $(FIGURES_OUT)/$$c/run.txt; \
	    cat $(FIGURES_OUT)/$$c/run.txt; \
	done

# tools/reproduce.py says what it leaves out (columns of seconds, chapter 5's race) and why. ARGS="--quick" runs
# every chapter's quick run instead (into build/reproduce-quick); ARGS="--only ch1,ch4" some chapters.
reproduce: $(filter-out build/f32/bin/ch0,$(CHAPTERS:%=build/f32/bin/%)) build/f64/bin/ch0
	python3 tools/reproduce.py --f32 build/f32/bin --f64 build/f64/bin $(ARGS)

# Fuzzing: one libFuzzer target per loader (fuzz/fuzz_*.cpp), over the library built by clang with the
# fuzzer's coverage instrumentation and the sanitizers (build/fuzz). fuzz/run runs one target from its seeds
# in fuzz/corpus/ and fails on a crash, a leak, a run past 10 s or an allocation past 1 GiB; what the fuzzer
# finds and grows stays under build/fuzz/run/. Two targets run at a time (make's -j).
# The fuzz library is what the loaders stand on, autodiff/ data/ nn/ io/, without nn/fused_lstm.cpp: clang 14
# refuses its target_clones beside noinline, and no loader needs the LSTM.
FUZZ_SECONDS ?= 600
FUZZ_CXX := clang++
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: the npz reader lets a wrong CRC-32 through, so that mutated
# members get decoded (io/npz.cpp); nothing else changes.
FUZZ_FLAGS := -O1 -g1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
              -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_*.cpp)))
FUZZ_LIB_SRC := $(filter-out nn/fused_lstm.cpp,$(wildcard autodiff/*.cpp data/*.cpp nn/*.cpp io/*.cpp))
build/fuzz/%.o: %.cpp build/config.mk | build/fuzz/clang.ok
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(CXXFLAGS_BASE) $(FUZZ_FLAGS) $(PKG_CFLAGS) -c $< -o $@
build/fuzz/clang.ok: .ci/install-deps
	@bash .ci/install-deps fuzz
	@mkdir -p $(@D) && touch $@
build/fuzz/libs2a.a: $(FUZZ_LIB_SRC:%.cpp=build/fuzz/%.o)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/bin/fuzz_%: build/fuzz/fuzz/fuzz_%.o build/fuzz/libs2a.a
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(PKG_LIBS) -o $@
build/fuzz/bin/seed_checkpoint: build/fuzz/fuzz/seed_checkpoint.o build/fuzz/libs2a.a
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) $^ $(PKG_LIBS) -o $@

.PHONY: $(FUZZ_TARGETS:%=fuzz-run-%)
.SECONDARY: $(FUZZ_TARGETS:%=build/fuzz/fuzz/%.o)
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: build/fuzz/bin/%
	@bash fuzz/run $* $(FUZZ_SECONDS)
fuzz-ci: FUZZ_SECONDS = 30
fuzz-ci: $(FUZZ_TARGETS:%=fuzz-run-%)
# The checkpoint fuzz_npz starts from: its model (fuzz/tiny_module.h) as save() writes it.
fuzz-seeds: build/fuzz/bin/seed_checkpoint
	./build/fuzz/bin/seed_checkpoint fuzz/corpus/fuzz_npz/tiny.npz

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
