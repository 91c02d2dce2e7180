# salvage: plain make, C11, libc only.
#   make            build ./salvage and libsalvage.a
#   make check      build and run every test (ends with "N passed, N failed")
#   make demo       run salvage on the shipped demo image
#   make bench      benchmark against cp -a, the kernel, debugfs, tsk_recover, 7zz
#   make SANITIZE=1 build with ASan+UBSan (into build-san/)
#   make install    PREFIX=/usr/local DESTDIR=
CC ?= cc
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

ifeq ($(SANITIZE),1)
BUILD ?= build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
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
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsalvage.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libsalvage.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsalvage.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsalvage.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/libsalvage.a $(LDLIBS)

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
