# husk — an OCI container runtime
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
PYTHON ?= /usr/bin/python3
VERSION := 0.1.0

PKGS := libseccomp libcap yajl mount
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
# Start-up time is a feature: libseccomp, libcap and yajl are linked statically when their
# archives exist (Debian ships them). husk keeps its own table of the mount(2) flags instead of
# loading libmount (with libblkid, libselinux and libpcre2) on every create; the unit tests
# check that table against libmount's. `make STATIC_DEPS=0` links the three dynamically.
STATIC_DEPS ?= 1
LIBDIR := $(shell pkg-config --variable=libdir libseccomp)
# With libc.a too, the husk binary is wholly static: no dynamic loader, no libc.so to map and
# relocate (-0.3 ms and -0.9 MiB per invocation, bench/README.md). The unit tests (which use
# libmount) and the sanitizer build stay dynamic.
HAVE_ARCHIVES := $(and $(wildcard $(LIBDIR)/libseccomp.a),$(wildcard $(LIBDIR)/libcap.a),$(wildcard $(LIBDIR)/libyajl_s.a))
ifeq ($(STATIC_DEPS)$(if $(HAVE_ARCHIVES),y),1y)
  PKG_LIBS := -Wl,-Bstatic -lseccomp -lcap -l:libyajl_s.a -Wl,-Bdynamic
  ifeq ($(SANITIZE)$(wildcard $(LIBDIR)/libc.a),$(LIBDIR)/libc.a)
    HUSK_LDFLAGS := -static
    HUSK_LIBS := -lseccomp -lcap -l:libyajl_s.a
  endif
else
  PKG_LIBS := $(shell pkg-config --libs libseccomp libcap yajl)
endif
HUSK_LIBS ?= $(PKG_LIBS)

CC ?= cc
CFLAGS ?= -O2 -g
BUILD := build/release
ifeq ($(SANITIZE),1)
  # UBSan stops at the first report, so a unit test that reaches undefined behaviour fails
  CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
  BUILD := build/sanitize
endif
ALL_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation -Iinclude -D_GNU_SOURCE -DHUSK_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) $(CFLAGS)

# The exec trampoline (src/trampoline, include/husk/exeseal.h): freestanding and static, under
# 1 KiB, embedded into husk by src/linux/exeseal.c (.incbin); the same for every build of husk.
TRAMPOLINE := build/trampoline/husk-exec
TRAMPOLINE_FLAGS := -Os -static -nostdlib -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-pie -no-pie -Wl,--build-id=none -Wl,-z,norelro \
	-Wl,-z,noexecstack -Wl,-z,noseparate-code -s -Wall -Wextra -Werror
$(TRAMPOLINE): src/trampoline/trampoline.c src/trampoline/trampoline_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(TRAMPOLINE_FLAGS) -o $@ $<

LIB_SRCS := $(wildcard src/util/*.c src/oci/*.c src/runtime/*.c src/linux/*.c)
CLI_SRCS := $(wildcard src/cli/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit sanitize integration security rootless faults faults-sample engines cri check-vm install clean distclean bench bench-systemd fuzz fuzz-quick structure
# objects reached only through pattern rules are otherwise deleted as intermediates, and every
# `make unit` or `make fuzz` would compile the whole tree again
.SECONDARY:

all: husk

# With musl and the three libraries built for it (scripts/musl-deps.sh, run by
# scripts/install-deps.sh), the binary is linked against musl: glibc's start-up probes the CPU
# with CPUID, 0.3 ms per exec on a VM (bench/README.md); src/util/alloc.c replaces musl's
# malloc, which returns freed memory to the kernel. Otherwise glibc, static as above.
MUSL_DIR := build/musl
MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(STATIC_DEPS)$(SANITIZE)$(if $(MUSL_CC),y)$(wildcard $(MUSL_DIR)/lib/libyajl.a),1y$(MUSL_DIR)/lib/libyajl.a)
  HUSK_BUILD := build/musl-release
  HUSK_OBJS := $(LIB_SRCS:%.c=$(HUSK_BUILD)/%.o) $(CLI_SRCS:%.c=$(HUSK_BUILD)/%.o)

$(HUSK_BUILD)/husk: $(HUSK_OBJS)
	$(MUSL_CC) $(LDFLAGS) -static -o $@ $^ $(MUSL_DIR)/lib/libseccomp.a $(MUSL_DIR)/lib/libcap.a $(MUSL_DIR)/lib/libyajl.a

$(HUSK_BUILD)/%.o: %.c $(wildcard include/husk/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(MUSL_CC) -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation -Iinclude -Isrc/cli -D_GNU_SOURCE \
		-DHUSK_OWN_MALLOC -DHUSK_VERSION='"$(VERSION)"' -idirafter $(MUSL_DIR)/include $(CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<
else
  HUSK_BUILD := $(BUILD)

$(BUILD)/husk: $(LIB_OBJS) $(CLI_OBJS)
	$(CC) $(LDFLAGS) $(HUSK_LDFLAGS) -o $@ $^ $(HUSK_LIBS)
endif

husk: $(HUSK_BUILD)/husk
	cp $< $@

$(BUILD)/%.o: %.c $(wildcard include/husk/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) -Isrc/cli -c -o $@ $<

$(BUILD)/src/linux/exeseal.o $(HUSK_BUILD)/src/linux/exeseal.o: $(TRAMPOLINE)
$(BUILD)/src/linux/exeseal.o $(HUSK_BUILD)/src/linux/exeseal.o: OBJ_CFLAGS := -DHUSK_TRAMPOLINE='"$(CURDIR)/$(TRAMPOLINE)"'

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS) $(BUILD)/src/cli/args.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/cli -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(BUILD)/src/cli/args.o $(PKG_LIBS) \
		$(shell pkg-config --libs mount)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

sanitize:
	$(MAKE) SANITIZE=1 unit

integration: husk
	HUSK=$(CURDIR)/husk $(PYTHON) -m pytest -q tests/integration

# attacks from inside a container, each against a decoy (tests/security/conftest.py)
security: husk
	HUSK=$(CURDIR)/husk $(PYTHON) -m pytest -q tests/security

# husk and rootless podman run by an unprivileged user (tests/rootless: makes one, runuser)
rootless: husk
	HUSK=$(CURDIR)/husk $(PYTHON) -m pytest -q -rs tests/rootless

# crash safety (tests/faults): husk killed at every syscall of create, start, run, delete and
# exec (strace's inject), then delete --force must leave nothing; the targeted crash cases; the
# concurrency stress. `faults` kills at every point, also under strace -f (children killed at
# their own nth call too; ~8 min here), `faults-sample` (make check, ~1 min) at FAULTS_SAMPLE
# points per command, evenly spread.
FAULTS_SAMPLE ?= 40
faults: husk
	HUSK=$(CURDIR)/husk FAULTS_SAMPLE=0 FAULTS_FOLLOW=1 $(PYTHON) -m pytest -q -s tests/faults

faults-sample: husk
	HUSK=$(CURDIR)/husk FAULTS_SAMPLE=$(FAULTS_SAMPLE) $(PYTHON) -m pytest -q -s tests/faults

# podman, containerd and Docker driving husk (each skips when its engine is not installed)
engines: husk
	HUSK=$(CURDIR)/husk $(PYTHON) -m pytest -q -rs tests/engines

# Kubernetes' path: containerd's CRI plugin running pods through husk and runc (tests/cri; skips
# when scripts/install-deps.sh cri has not run)
cri: husk
	HUSK=$(CURDIR)/husk $(PYTHON) -m pytest -q -rs tests/cri

# Real cgroup v2 controllers: a qemu VM with Debian's kernel runs tests/vm/payload.sh (and the
# hybrid layout's payload), then a VM with Debian's systemd as PID 1 runs tests/vm/systemd/
check-vm: husk
	HUSK=$(CURDIR)/husk sh tests/vm/run.sh

# libFuzzer harnesses (tests/fuzz, one per input husk reads: config, process, resources, state, D-Bus,
# cli) built by clang with ASan and UBSan; each runs FUZZ_SECONDS from the seeds in
# tests/fuzz/corpus/<target> (read only: what it finds goes to build/fuzz/corpus/<target>),
# with inputs up to 1 MiB so the nesting limit and the big-object paths are in reach. A crash
# stops the run, its input under build/fuzz/crash-<target>-*: fix it, add it as a seed.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := config process resources state cli dbus
FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Iinclude -Isrc/cli -D_GNU_SOURCE -DHUSK_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/src/cli/args.o

$(FUZZ_BUILD)/%.o: %.c $(wildcard include/husk/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(OBJ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/src/linux/exeseal.o: $(TRAMPOLINE)
$(FUZZ_BUILD)/src/linux/exeseal.o: OBJ_CFLAGS := -DHUSK_TRAMPOLINE='"$(CURDIR)/$(TRAMPOLINE)"'

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
		$(shell pkg-config --libs libseccomp libcap yajl)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		if ! $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 -timeout=10 \
			-dict=tests/fuzz/json.dict -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1; then \
			tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz_$$t: FAILED (log: $(FUZZ_BUILD)/fuzz_$$t.log)"; exit 1; \
		fi; \
		echo "fuzz_$$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/fuzz_$$t.log) runs in $(FUZZ_SECONDS) s, $$(sed -n 's/^stat::peak_rss_mb: *//p' $(FUZZ_BUILD)/fuzz_$$t.log) MB, no crash"; \
	done

# what `make check` runs: 10 s per target, 50 s in all
fuzz-quick:
	$(MAKE) fuzz FUZZ_SECONDS=10

# issue 21: functions in src/ at most ~80 lines (data tables marked), files at most 600
structure:
	$(PYTHON) scripts/structure-check.py src

# Sequential on purpose: integration needs the binary, sanitize rebuilds in its own dir.
check:
	$(MAKE) husk
	$(MAKE) structure
	$(MAKE) unit
	$(MAKE) sanitize
	$(MAKE) fuzz-quick
	$(MAKE) integration
	$(MAKE) security
	$(MAKE) rootless
	$(MAKE) faults-sample
	$(MAKE) engines
	$(MAKE) cri
	$(MAKE) check-vm
	$(MAKE) bench ITERATIONS=1 CONTAINERS=3 SCALING=0
	$(PYTHON) bench/systemd-driver.py --husk $(CURDIR)/husk --iterations 1 --warmup 0 --if-available

bench: husk
	$(MAKE) -C bench HUSK=$(CURDIR)/husk
	$(PYTHON) bench/rootless.py --husk $(CURDIR)/husk --iterations $(or $(ITERATIONS),30)

# --systemd-cgroup against cgroupfs, per run, in a systemd system container (bench/README.md)
bench-systemd: husk
	$(PYTHON) bench/systemd-driver.py --husk $(CURDIR)/husk --iterations $(or $(ITERATIONS),200)

install: husk
	install -D -m 0755 husk $(DESTDIR)$(BINDIR)/husk
	install -D -m 0644 man/husk.8 $(DESTDIR)$(MANDIR)/man8/husk.8
	install -D -m 0644 contrib/husk.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/husk

# build/musl (the libraries scripts/musl-deps.sh built) and build/vm (the downloaded kernel)
# are inputs, not outputs: `make distclean` removes them too
clean:
	rm -rf build/release build/sanitize build/musl-release build/trampoline build/fuzz husk bench/bench bench/floor bench/spawn bench/results.json

distclean: clean
	rm -rf build
