# ec2-classify: enc (Puppet ENC) and dna-gen (chef-solo JSON) over one library.
# make            build build/enc and build/dna-gen
# make deps       apt-get what is missing (nothing when all is there)
# make check      deps, then unit + end-to-end tests, then again under ASan/UBSan
# make demo       deps, build, and a run against the fake EC2 on 127.0.0.1
# make bench      deps, build, and the figures of the cache and refresh
# make valgrind   deps, then unit + end-to-end tests under memcheck (build/vg)
# make install    binaries, man pages, example config into $(DESTDIR)$(PREFIX)
# make docs       man page lint, --help against the man pages, README examples

VERSION  = 0.1.0
BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
PYTHON  ?= /usr/bin/python3

PKGS     = libcurl openssl libxml-2.0 yaml-0.1 jansson sqlite3
TESTPKGS = cmocka
DEB_PKGS = gcc make pkg-config libcurl4-openssl-dev libssl-dev libxml2-dev \
           libyaml-dev libjansson-dev libsqlite3-dev libcmocka-dev \
           python3 python3-botocore ca-certificates puppet-agent valgrind \
           python3-yaml mandoc \
           clang libclang-rt-dev

WARN     = -std=c11 -Wall -Wextra -pedantic -Wmissing-prototypes \
           -Wstrict-prototypes -Wwrite-strings -Wvla
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
OPT      = $(if $(SAN),-O1 $(SANFLAGS),-O2)
ALL_CFLAGS = $(WARN) $(if $(WERROR),-Werror) $(OPT) -g -D_GNU_SOURCE \
           -DVERSION='"$(VERSION)"' -Ilib \
           $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
ALL_LDFLAGS = $(if $(SAN),$(SANFLAGS)) $(LDFLAGS)
# libcurl, libcrypto and libxml2 are dlopen()ed at first use (lib/dynload.h):
# only their headers at build time
LAZY     = libcurl openssl libxml-2.0
EAGER    = $(filter-out $(LAZY),$(PKGS))
# libyaml, jansson and SQLite are linked in from the archives their Debian
# -dev packages ship: the dynamic loader's relocations for three more
# shared objects were half of an enc cache hit's time (README, Benchmarks).
# STATIC_LIBS=0 links them shared (a package that wants the system's
# copies; rebuild the static binaries when those get a security update).
STATIC_LIBS ?= 1
ifeq ($(STATIC_LIBS),1)
LIBS     = $(shell pkg-config --libs-only-L $(EAGER)) -Wl,-Bstatic \
           $(shell pkg-config --libs-only-l $(EAGER)) -Wl,-Bdynamic -lm -ldl
else
LIBS     = $(shell pkg-config --libs $(EAGER)) -ldl
endif
TESTLIBS = $(shell pkg-config --libs $(TESTPKGS))

LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBA     = $(BUILD)/libec2classify.a
BINS     = $(BUILD)/enc $(BUILD)/dna-gen
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/enc: $(BUILD)/obj/enc/main.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/dna-gen: $(BUILD)/obj/dna-gen/main.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

TESTUTIL = $(BUILD)/obj/tests/unit/testutil.o

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTUTIL) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(TESTLIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Installs only what is missing, so a second run costs one dpkg-query.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	    --no-install-recommends $$missing; \
	fi

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	  FIXTURES=fixtures $$t; done

e2e: $(BINS)
	$(PYTHON) tests/test_fake_ec2.py
	$(PYTHON) tests/e2e.py --build $(BUILD)
	$(PYTHON) tests/cache_e2e.py --build $(BUILD)
	$(PYTHON) tests/faults.py --build $(BUILD)
	$(PYTHON) tests/hostile.py --build $(BUILD)

# A real puppet apply classifies every node of fixtures/fleets/puppet.json via enc.
puppet: $(BINS)
	$(PYTHON) tests/puppet_e2e.py --build $(BUILD)

test: unit e2e puppet

MAN1     = enc/enc.1 dna-gen/dna-gen.1
MAN5     = enc/enc.yaml.5
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man
DOCDIR   = $(DESTDIR)$(PREFIX)/share/doc/ec2-classify
DOCS     = enc/config.yaml.example README.md

# Never writes /etc: the config is the operator's (README "Installation").
install: $(BINS)
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(DOCDIR)
	install -m 0755 $(BINS) $(BINDIR)/
	install -m 0644 $(MAN1) $(MANDIR)/man1/
	install -m 0644 $(MAN5) $(MANDIR)/man5/
	install -m 0644 $(DOCS) $(DOCDIR)/

# Exactly what install wrote, and the doc directory when it is then empty.
uninstall:
	rm -f $(BINS:$(BUILD)/%=$(BINDIR)/%) \
	  $(addprefix $(MANDIR)/man1/,$(notdir $(MAN1))) \
	  $(addprefix $(MANDIR)/man5/,$(notdir $(MAN5))) \
	  $(addprefix $(DOCDIR)/,$(notdir $(DOCS)))
	rmdir $(DOCDIR) 2>/dev/null || true

# Man page lint, --help against the man pages, README's operations
# examples, the example config against the fake EC2, install/uninstall.
docs: $(BINS)
	mandoc -T lint -W warning $(MAN1) $(MAN5)
	$(PYTHON) tests/docs_check.py --build $(BUILD)

# The whole suite, then again with AddressSanitizer and UBSan.
check: deps
	$(MAKE) WERROR=1 test
	$(MAKE) WERROR=1 fuzz-regress
	$(PYTHON) tests/puppet_roundtrip.py --self-test
	$(MAKE) WERROR=1 docs
	$(MAKE) WERROR=1 SAN=1 BUILD=build/san test

demo: deps
	$(MAKE) all
	$(PYTHON) tests/demo.py --build $(BUILD)

clean:
	rm -rf build

# figures on generated 1,000 and 10,000-instance fleets; asserts no time
bench: deps
	$(MAKE) all
	$(PYTHON) tests/bench.py --build $(BUILD)

include tests/fuzz.mk

# Memcheck over every unit test and every enc/dna-gen run of e2e.py and
# cache_e2e.py, built without sanitizers (-O1 -g) in build/vg. Zero means
# zero: an error, or any heap block left at exit ("still reachable"
# included), fails the run (--errors-for-leak-kinds=all, and the runners
# read every per-process log). The library frees its process-lifetime
# state at exit (util_match's regexes, libcurl's and libxml2's global
# state); only ld.so's and glibc's bookkeeping for the dlopen()ed
# libraries, which stay mapped to the end, and cmocka's state in a forked
# test child are suppressed, in tests/valgrind.supp, each entry saying why
# it is not ours. Time guards are scaled by 10. Not part of make check.
VALGRIND = valgrind --error-exitcode=99 --leak-check=full \
           --show-leak-kinds=all --errors-for-leak-kinds=all \
           --keep-debuginfo=yes --num-callers=40 \
           --suppressions=$(CURDIR)/tests/valgrind.supp
VG_WRAP  = --wrap "$(VALGRIND) --log-file={logdir}/vg.%p.log" --time-scale 10

valgrind: deps
	$(MAKE) WERROR=1 SAN= OPT='-O1' BUILD=build/vg valgrind-run

# (called by valgrind with BUILD=build/vg)
valgrind-run: $(BINS) $(UNIT_BIN)
	rm -rf $(BUILD)/vglogs && mkdir -p $(BUILD)/vglogs/unit
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	  FIXTURES=fixtures $(VALGRIND) \
	    --log-file=$(BUILD)/vglogs/unit/$${t##*/}.%p.log $$t; done
	$(PYTHON) tests/e2e.py --build $(BUILD) $(VG_WRAP) \
	  --wrap-logs $(BUILD)/vglogs/e2e
	$(PYTHON) tests/cache_e2e.py --build $(BUILD) $(VG_WRAP) \
	  --wrap-logs $(BUILD)/vglogs/cache
	$(PYTHON) tests/e2e.py --wrap-summary $(BUILD)/vglogs

.PHONY: valgrind valgrind-run

.PHONY: all deps unit e2e puppet test check demo bench clean install \
	uninstall docs

.SECONDARY:
