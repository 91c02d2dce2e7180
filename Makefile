# salvage: plain make, C11, libc only.
#   make            build ./salvage and libsalvage.a
#   make check      build and run every test (ends with "N passed, N failed")
#   make demo       run salvage on the shipped demo image
#   make bench      benchmark against cp -a, the kernel, debugfs, tsk_recover, 7zz
#   make SANITIZE=1 build with ASan+UBSan (into build-san/)
#   make install    PREFIX=/usr/local DESTDIR=
CC ?= cc
comma := ,
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include/salvage
WERROR ?= -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_FILE_OFFSET_BITS=64 -D_DEFAULT_SOURCE -D_GNU_SOURCE -D_DARWIN_C_SOURCE -Wall -Wextra $(WERROR) -Wno-unused-parameter
LDLIBS ?=

UNAME_S := $(shell uname -s 2>/dev/null)
ifeq ($(UNAME_S),SunOS)
LDLIBS += -lsocket -lnsl
endif

# cc_has FLAGS: FLAGS when $(CC) compiles and links an empty program with them, else nothing
# (so a compiler or linker that lacks one, e.g. Apple's ld without -z relro, still builds).
cc_has = $(shell printf 'int main(void){return 0;}\n' | $(CC) $(1) -x c - -o /dev/null >/dev/null 2>&1 && echo '$(1)')

ifeq ($(SANITIZE),1)
BUILD ?= build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
# Release hardening where the toolchain has it: stack protector, fortified libc calls (they need
# optimisation; the toolchain's own _FORTIFY_SOURCE level is replaced), PIE, full RELRO.
HARDEN_CFLAGS := $(call cc_has,-fstack-protector-strong) $(call cc_has,-fPIE -pie)
ifneq ($(filter -O1 -O2 -O3 -Os -Oz -Og -Ofast -O,$(CFLAGS)),)
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
HARDEN_LDFLAGS := $(filter -pie,$(HARDEN_CFLAGS)) $(call cc_has,-Wl$(comma)-z$(comma)relro$(comma)-z$(comma)now)
HARDEN_CFLAGS := $(filter-out -pie,$(HARDEN_CFLAGS))
endif

LAYERS := base io part ext journal check export
LIB_SRC := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRC))
CLI_OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(CLI_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HDRS := $(wildcard src/*/*.h)

ifeq ($(SANITIZE),1)
BIN := $(BUILD)/salvage
else
BIN := salvage
endif

all: $(BIN) $(BUILD)/libsalvage.a

$(BUILD)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsalvage.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libsalvage.a
	$(CC) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsalvage.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsalvage.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/libsalvage.a $(LDLIBS)

units: $(UNIT_BIN)

check: all units
	SALVAGE=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) sh tests/run.sh

demo: all
	sh demo/run.sh $(abspath $(BIN))

bench: all
	sh bench/run.sh $(abspath $(BIN))

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)
	cp salvage $(DESTDIR)$(BINDIR)/salvage
	cp $(BUILD)/libsalvage.a $(DESTDIR)$(LIBDIR)/libsalvage.a
	for d in $(LAYERS); do mkdir -p $(DESTDIR)$(INCDIR)/$$d; cp src/$$d/$$d.h $(DESTDIR)$(INCDIR)/$$d/; done

clean:
	rm -rf build build-san salvage

.PHONY: all units check demo bench install clean

# ---- fuzzing (fuzz/): libFuzzer harnesses, seed corpus, regression replay ----
#   make fuzz-build            clang harnesses into build-fuzz/ (needs clang's libFuzzer runtime)
#   make fuzz-corpus           seed images into build-fuzz/seeds/<name>/ (fuzz/mkcorpus.sh)
#   make fuzz FUZZ_SECONDS=N   run each harness N seconds on build-fuzz/corpus/<name>; fails on a finding
# The replay drivers ($(BUILD)/fuzz/replay_<name>: the same harness with fuzz/replay_main.c instead of
# libFuzzer) are built with the unit tests; tests/t_fuzz_replay.sh runs fuzz/regress/ through them.
FUZZ_NAMES := fs journal check part path ddmap
FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?= -timeout=30 -rss_limit_mb=512
# Inputs up to the largest seed (the ext3 journal seed is cut there; it still replays). A smaller
# ASan quarantine keeps libFuzzer's RSS (its corpus is in memory too) under -rss_limit_mb.
FUZZ_MAXLEN ?= 524288
FUZZ_ASAN_OPTIONS ?= quarantine_size_mb=64
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJ := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC))
FUZZ_BIN := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
REPLAY_BIN := $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))

units: $(REPLAY_BIN)

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay_main.c fuzz/fuzz.h $(BUILD)/libsalvage.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -o $@ fuzz/fuzz_$*.c fuzz/replay_main.c $(BUILD)/libsalvage.a $(LDLIBS)

$(FUZZ_BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/libsalvage.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/libsalvage.a $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -Isrc -o $@ $< $(FUZZ_BUILD)/libsalvage.a

fuzz-build: $(FUZZ_BIN)

fuzz-corpus:
	sh fuzz/mkcorpus.sh $(FUZZ_BUILD)/seeds

# Each harness: the working corpus first (libFuzzer adds to it), then the seeds and the regression
# files (read only). A crash, sanitizer report, time-out or memory blow-up stops make with an error
# and leaves the input in $(FUZZ_BUILD)/artifacts/<name>/.
fuzz: fuzz-build
	@[ -d $(FUZZ_BUILD)/seeds ] || sh fuzz/mkcorpus.sh $(FUZZ_BUILD)/seeds
	@for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/artifacts/$$n $(FUZZ_BUILD)/seeds/$$n; \
		echo "== fuzz $$n ($(FUZZ_SECONDS) s)"; \
		ASAN_OPTIONS=$(FUZZ_ASAN_OPTIONS) $(FUZZ_BUILD)/fuzz_$$n $(FUZZ_FLAGS) -max_len=$(FUZZ_MAXLEN) \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n/ \
			$(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/seeds/$$n fuzz/regress/$$n > $(FUZZ_BUILD)/fuzz-$$n.log 2>&1; \
		rc=$$?; grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' $(FUZZ_BUILD)/fuzz-$$n.log; \
		if [ $$rc -ne 0 ]; then grep -m 30 -E 'ERROR|SUMMARY|runtime error|Test unit written|^ +#[0-9]+ ' $(FUZZ_BUILD)/fuzz-$$n.log; \
			echo "fuzz $$n: a finding (exit $$rc): input in $(FUZZ_BUILD)/artifacts/$$n/, log $(FUZZ_BUILD)/fuzz-$$n.log"; \
			exit 1; fi; \
	done

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-build fuzz-corpus fuzz-clean
