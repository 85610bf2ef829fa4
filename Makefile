# SPDX-License-Identifier: MIT
# mpcd build. `make` builds bin/mpcctl; `make test` runs every test (plain
# and under ASan/UBSan); `make fuzz` builds the libFuzzer targets;
# `make SANITIZE=address,undefined` builds a sanitized tree under build/.
# Quiet by default; V=1 shows the commands.

CC      ?= gcc
PKGS    := libsodium libuv libprotobuf-c jansson
OPT     ?= -O2 -fvect-cost-model=dynamic
# ARCH=-march=x86-64-v3 builds code valgrind can run (no AVX-512).
ARCH    ?= -march=native
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
           -Wno-unused-parameter -fno-strict-aliasing -pthread $(ARCH)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsodium -luv -lprotobuf-c -ljansson) -lm -pthread

ifeq ($(SANITIZE),thread)
# ThreadSanitizer: its own tree (make SANITIZE=thread); TSAN_OPTIONS in
# tests/run-all.sh.
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
B       ?= build/tsan
BIN     ?= build/tsan/bin
else ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
B       ?= build/san
else
B       ?= build/rel
endif
BIN     ?= bin

ifeq ($(V),1)
Q :=
else
Q := @
endif

GEN     := build/gen
PROTOS  := $(wildcard proto/*.proto)
GEN_C   := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
GEN_H   := $(GEN_C:.c=.h)
INC     := -I. -Icrypto -Iprotocol -Imodel -Idaemon -Icli -Ibench -I$(GEN)

LIB_SRC := $(wildcard crypto/*.c protocol/*.c model/*.c)
LIB_OBJ := $(patsubst %.c,$(B)/%.o,$(LIB_SRC)) $(patsubst $(GEN)/%.c,$(B)/gen/%.o,$(GEN_C))
# cli/ is mpcctl; daemon/mpcd.c is mpcd; the rest of daemon/ is
# libmpcd.a, shared by both and by the tests.
CTL_SRC := $(wildcard cli/*.c)
CTL_OBJ := $(patsubst %.c,$(B)/%.o,$(CTL_SRC))
DMN_SRC := $(filter-out daemon/mpcd.c $(CTL_SRC),$(wildcard daemon/*.c))
DMN_OBJ := $(patsubst %.c,$(B)/%.o,$(DMN_SRC))
TST_SRC := $(wildcard tests/*.c)
TST_OBJ := $(patsubst %.c,$(B)/%.o,$(TST_SRC))
BEN_SRC := $(wildcard bench/*.c)
BEN_OBJ := $(patsubst %.c,$(B)/%.o,$(BEN_SRC))

.PHONY: all test test-unit bench fuzz clean demo deps mutate install uninstall
.SECONDARY: $(GEN_C) $(GEN_H)
all: $(BIN)/mpcctl $(BIN)/mpcd

deps:
	@bash deploy/install-deps.sh

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	@echo "  PROTOC  $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(GEN) $<

$(B)/gen/%.o: $(GEN)/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(filter-out -Wshadow,$(CFLAGS)) $(INC) -MMD -MP -c -o $@ $<

$(B)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(INC) -MMD -MP -c -o $@ $<

$(B)/libmpc.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libmpcd.a: $(DMN_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/mpcctl: $(CTL_OBJ) $(B)/libmpcd.a $(B)/libmpc.a
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/mpcd: $(B)/daemon/mpcd.o $(B)/libmpcd.a $(B)/libmpc.a
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/test-runner: $(TST_OBJ) $(B)/libmpcd.a $(B)/libmpc.a
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/mpc-bench: $(BEN_OBJ) $(B)/libmpc.a
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The sanitized copies live apart so both trees build side by side.
SAN_MAKE = $(MAKE) --no-print-directory SANITIZE=address,undefined B=build/san BIN=build/san/bin OPT=-O1
TSAN_MAKE = $(MAKE) --no-print-directory SANITIZE=thread B=build/tsan BIN=build/tsan/bin OPT=-O1
# The fuzz targets with clang (libFuzzer), else the gcc replay drivers.
FUZZ_BUILD = if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory -f tests/fuzz/Makefile; \
	else $(MAKE) --no-print-directory -f tests/fuzz/Makefile replay; fi

test: deps
	@$(MAKE) --no-print-directory all $(BIN)/test-runner
	@$(SAN_MAKE) build/san/bin/mpcctl build/san/bin/mpcd build/san/bin/test-runner
	@$(TSAN_MAKE) build/tsan/bin/mpcctl build/tsan/bin/mpcd
	@$(FUZZ_BUILD)
	@bash tests/run-all.sh

# Every known mutant (tests/mutate/mutants.txt) applied to a scratch copy
# of the committed tree must make its suite fail.
mutate: deps
	@bash tests/mutate/run.sh

test-unit: $(BIN)/test-runner
	@$(BIN)/test-runner $(T)

bench: deps $(BIN)/mpc-bench $(BIN)/mpcctl $(BIN)/mpcd
	@bash bench/run.sh

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/Makefile

.PHONY: fuzz-long soak
# Every target FUZZ_SECS (default 300) seconds from the committed corpus.
fuzz-long:
	@$(MAKE) --no-print-directory -f tests/fuzz/Makefile long FUZZ_SECS=$(or $(FUZZ_SECS),300)

# The whole soak (200 jobs back to back, 200 4 at a time); CI runs 100.
soak: deps
	@$(MAKE) --no-print-directory all
	@bash tests/daemon/test_soak.sh $(BIN)/mpcctl $(BIN)/mpcd

demo: deps
	@$(MAKE) --no-print-directory all
	@bash deploy/demo.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the daemon in sbin,
# mpcctl in bin, the manual pages, the systemd unit (its ExecStart pointed
# at the installed mpcd), the sysusers.d entry for the mpcd user, the guides
# and the example configs under share/doc/mpcd; /etc/mpcd is made, never
# written into (docs/daemon.md, "Installing").
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/mpcd
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
INSTALLED := $(BINDIR)/mpcctl $(SBINDIR)/mpcd $(MANDIR)/man1/mpcctl.1 \
	$(MANDIR)/man5/mpcd.conf.5 $(MANDIR)/man8/mpcd.8 $(UNITDIR)/mpcd@.service \
	$(SYSUSERSDIR)/mpcd.conf

install: $(BIN)/mpcctl $(BIN)/mpcd
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples
	$(Q)install -m 0755 $(BIN)/mpcctl $(DESTDIR)$(BINDIR)/mpcctl
	$(Q)install -m 0755 $(BIN)/mpcd $(DESTDIR)$(SBINDIR)/mpcd
	$(Q)install -m 0644 man/mpcctl.1 $(DESTDIR)$(MANDIR)/man1/mpcctl.1
	$(Q)install -m 0644 man/mpcd.conf.5 $(DESTDIR)$(MANDIR)/man5/mpcd.conf.5
	$(Q)install -m 0644 man/mpcd.8 $(DESTDIR)$(MANDIR)/man8/mpcd.8
	$(Q)sed -e 's|^ExecStart=[^ ]*/mpcd |ExecStart=$(SBINDIR)/mpcd |' \
		-e 's|/usr/local/sbin/mpcd|$(SBINDIR)/mpcd|g; s|/usr/local/bin/mpcctl|$(BINDIR)/mpcctl|g' \
		-e 's|/etc/mpcd|$(SYSCONFDIR)/mpcd|g' \
		-e 's|/usr/share/doc/mpcd|$(DOCDIR)|g' deploy/mpcd@.service >$(DESTDIR)$(UNITDIR)/mpcd@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/mpcd@.service
	$(Q)install -m 0644 deploy/sysusers-mpcd.conf $(DESTDIR)$(SYSUSERSDIR)/mpcd.conf
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(Q)install -m 0644 deploy/examples/README.md deploy/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/mpcd

# Removes what install put in place; /etc/mpcd, keys and DataDirs stay.
uninstall:
	@echo "  UNINSTALL $(DESTDIR)$(PREFIX)"
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
