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
