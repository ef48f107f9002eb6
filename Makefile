# vb - nightly backups for a live SQLite database.
#
#   make                 build every tool into $(B)/
#   make check           install what the tests need (./install.sh --deps
#                        --dev), build, run the fast tier: every unit test
#                        and every command-line test not marked slow, in
#                        under 5 minutes on 2 cores (ends "N passed, N
#                        failed, N skipped")
#   make check-slow      the same, the whole suite: the slow tier too (the
#                        kill -9 soak, the package, a real cron daemon,
#                        the fault sweep, ...); what CI runs
#   make sanitize        the whole suite under ASan+UBSan (= make check-slow
#                        SANITIZE=1)
#   make lint            cppcheck, clang-tidy, the layout check
#                        (tests/style-check) and shellcheck
#   make fuzz            libFuzzer runs of the archive reader, the record
#                        parser, the vb.conf reader, the catalog parser
#                        and the undo applier
#                        (FUZZ_TIME s each, default 60)
#   make valgrind        the command-line tests under valgrind memcheck
#   make install         PREFIX=/usr/local DESTDIR= (a trial install under
#                        any other PREFIX, or with DESTDIR, writes nothing
#                        outside DESTDIR$(PREFIX))
#   make deb             the Debian package, build/deb/vb_<version>_<arch>.deb
#                        (debhelper), checked by lintian
#   make bench           benchmarks (bench/), not tests
#   make clean

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(DESTDIR)$(PREFIX)/bin
LIBDIR	 = $(DESTDIR)$(PREFIX)/lib/vb
MANDIR	 = $(DESTDIR)$(PREFIX)/share/man

CC	?= cc
PKGS	 = sqlite3 libarchive nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -pthread

CFLAGS	?= -O2 -g
# -Wno-format-truncation: diagnostics are snprintf'd into fixed buffers and
# a long path cut short there is intended; paths that must fit are checked.
WARN	 = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wno-format-truncation \
	   -D_FORTIFY_SOURCE=2
# SQLite's changeset API (sqlite3session.h, in Debian's libsqlite3).
DEFS	 = -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK
ALL_CFLAGS = $(WARN) $(DEFS) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -pthread -Isrc

ifeq ($(FUZZ),1)
B	 = build-fuzz
CC	 = clang
CFLAGS	 = -O1 -g -fno-omit-frame-pointer
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -U_FORTIFY_SOURCE \
	   -Wno-unknown-warning-option
LDFLAGS	+= -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
B	 = build-san
CFLAGS	 = -O1 -g -fno-omit-frame-pointer
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -U_FORTIFY_SOURCE
LDFLAGS	+= -fsanitize=address,undefined
else
B	 = build
endif

TOOLS	 = vb-snapshot vb-compress vb-log vb-prune vb-restore vb-offsite
LIBSRC	 = $(wildcard src/lib/*.c)
LIBOBJ	 = $(patsubst src/lib/%.c,$(B)/lib/%.o,$(LIBSRC))
HDR	 = src/lib/vb.h src/lib/vblib.h
BINS	 = $(addprefix $(B)/,$(TOOLS))
# tests/unit/help.c is shared by the unit tests, not one of them.
UNITS_C	 = $(filter-out tests/unit/help.c,$(wildcard tests/unit/*.c))
TESTBINS = $(B)/tests/vb-testwriter $(B)/tests/vb-mkarchive \
	   $(patsubst tests/unit/%.c,$(B)/tests/unit-%,$(UNITS_C)) \
	   $(B)/tests/fuzz-archive $(B)/tests/fuzz-record $(B)/tests/fuzz-config \
	   $(B)/tests/fuzz-catalog $(B)/tests/fuzz-undo $(B)/tests/fuzz-finish \
	   $(B)/tests/libvbfault.so
FUZZERS	 = archive record config catalog undo finish
FUZZ_TIME ?= 60

.PHONY: all deps check check-slow sanitize lint fuzz valgrind install uninstall bench clean \
    cronfiles deb

all: $(BINS)

$(B)/lib/%.o: src/lib/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libvb.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(B)/%: src/%.c $(B)/libvb.a $(HDR)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libvb.a $(PKG_LIBS)

# One cmocka binary per family of src/lib (tests/unit/<family>.c), each
# with the helpers they share (tests/unit/help.c).
$(B)/tests/unit-%: tests/unit/%.c tests/unit/help.c tests/unit/help.h \
    $(B)/libvb.a $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< tests/unit/help.c \
	    $(B)/libvb.a $(PKG_LIBS) $(shell pkg-config --libs cmocka)

$(B)/tests/vb-testwriter: tests/vb-testwriter.c $(B)/libvb.a $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libvb.a $(PKG_LIBS)

$(B)/tests/vb-mkarchive: tests/vb-mkarchive.c $(B)/libvb.a $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

# The fault-injection shim (LD_PRELOAD), never sanitized itself.
$(B)/tests/libvbfault.so: tests/vb-faultfs.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

# The fuzz targets, each with a small driver replaying files (the seed
# corpus and kept crashes, in make check), or with libFuzzer (make fuzz).
$(B)/tests/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/driver.c $(B)/libvb.a $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/driver.c \
	    $(B)/libvb.a $(PKG_LIBS)

$(B)/fuzz/%: tests/fuzz/fuzz-%.c $(B)/libvb.a $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(B)/libvb.a $(PKG_LIBS)

# What building and testing need (Debian packages; installed as root,
# named otherwise), before anything is built.
deps:
	./install.sh --deps --dev

check: deps
	$(MAKE) $(BINS) $(TESTBINS)
	VB_TIER=fast VB_BIN=$(CURDIR)/$(B) tests/run

check-slow: deps
	$(MAKE) $(BINS) $(TESTBINS)
	VB_TIER=all VB_BIN=$(CURDIR)/$(B) tests/run

# Under the sanitizers the kill -9 soak and the partial restore's model
# test are shorter: their subjects (sudden death, the rows a restore may
# touch) make check covers in full; here it is memory errors.
sanitize:
	VB_SOAK_ROUNDS=4 VB_SOAK_MB=60 VB_MODEL_CASES=60 \
	    VB_MODEL_RANDOM_CASES=30 $(MAKE) check-slow SANITIZE=1

# The whole suite with the tools and unit tests under valgrind memcheck.
valgrind: $(BINS) $(TESTBINS)
	tests/valgrind-run $(B)

# Each target runs FUZZ_TIME seconds from a copy of its seed corpus plus
# what earlier runs found (build-fuzz/corpus-*); a crash stops the run and
# leaves its input in build-fuzz/crash-*/ for tests/fuzz/regress/.
fuzz:
	$(MAKE) FUZZ=1 $(addprefix build-fuzz/fuzz/,$(FUZZERS))
	tests/fuzz/run build-fuzz $(FUZZ_TIME) $(FUZZERS)

# Static checks: cppcheck (suppressions, each with its reason, in
# .cppcheck-suppressions), clang-tidy (checks and the reasons for those
# left out in .clang-tidy) and shellcheck on every shell file.
lint:
	cppcheck --quiet --library=posix --library=bsd --enable=warning,performance,portability \
	    --std=c11 -D_GNU_SOURCE $(DEFS) -Isrc -Isrc/lib \
	    --suppressions-list=.cppcheck-suppressions --error-exitcode=1 \
	    src tests/*.c tests/unit/*.c tests/fuzz/*.c
	@echo "clang-tidy (.clang-tidy) on src/ and tests/"
	@out=$$(clang-tidy --quiet src/*.c src/lib/*.c tests/*.c \
	    tests/unit/*.c tests/fuzz/*.c -- -std=c11 -D_GNU_SOURCE $(DEFS) -Isrc -pthread 2>&1); \
	    st=$$?; printf '%s\n' "$$out" | grep -v 'warnings generated\.$$'; \
	    exit $$st
	tests/style-check src/*.c src/lib/*.c src/lib/*.h tests/*.c \
	    tests/unit/*.c tests/unit/*.h tests/fuzz/*.c bin/vb-backup \
	    bin/lib/*.sh
	shellcheck -x install.sh .ci/run tests/run tests/fuzz/run \
	    tests/deb-chroot debian/postinst debian/postrm tests/fault-sweep \
	    tests/kill-soak tests/valgrind-run tests/style-check bench/*.sh bin/vb-backup bin/lib/*.sh
	shellcheck -x -s bash tests/*.bats tests/helpers.bash

# The one list of what vb installs.  Each file is copied only when it
# differs (install -C; -v names it), so a second run changes nothing;
# the list itself is kept in $(DOCDIR)/installed, from which uninstall
# (install.sh --uninstall, which works without make) removes it all
# but /etc/vb.conf, which is the operator's once it exists.
INSTALL	 = install -C -v
DOCDIR	 = $(DESTDIR)$(PREFIX)/share/doc/vb
# Where the configuration, the cron file and the units go.  A system
# install (PREFIX /usr or /usr/local, no DESTDIR) puts them in /etc,
# where cron and systemd read them.  Any other install writes nothing
# outside DESTDIR$(PREFIX): they go to $(PREFIX)/etc, and a message says
# how to enable them, so a trial install never rewires the host's
# nightly job.  A package build names them (debian/rules).
SYSTEM	 = $(if $(DESTDIR),,$(filter /usr /usr/local,$(PREFIX)))
SYSCONFDIR ?= $(if $(SYSTEM),/etc,$(PREFIX)/etc)
UNITDIR	?= $(SYSCONFDIR)/systemd/system
ETCDIR	 = $(DESTDIR)$(SYSCONFDIR)
# The list make install keeps for uninstall (a package has dpkg's).
LIST	?= 1
CRON	?= 1
UNITS	 = vb-backup.service vb-backup.timer
# When the job runs: the cron line's five fields, and the same time as
# the timer's OnCalendar (install.sh --schedule sets both).
SCHEDULE ?= 0 1 * * *
ONCALENDAR ?= *-*-* 01:00:00

# The cron file is a crontab as shipped: its time and its
# /usr/local/bin are rewritten where they differ, and a configuration
# outside /etc is named to the job (VB_CONF); the units are templates
# (@PREFIX@, @ONCALENDAR@, @ENVIRONMENT@).
VBCONF	 = $(if $(filter /etc,$(SYSCONFDIR)),,VB_CONF=$(SYSCONFDIR)/vb.conf)
cronfiles:
	@mkdir -p $(B)/cron
	for f in $(UNITS); do \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@ONCALENDAR@|$(ONCALENDAR)|g' \
	    -e '/@ENVIRONMENT@/$(if $(VBCONF),s||Environment=$(VBCONF)|,d)' \
	    cron/$$f >$(B)/cron/$$f || exit 1; \
	done
	sed -e 's|^0 1 \* \* \* root /usr/local/bin/|$(SCHEDULE) root $(PREFIX)/bin/|' \
	    -e 's|^PATH=/usr/local/bin:|PATH=$(PREFIX)/bin:|' \
	    $(if $(VBCONF),-e '/^PATH=/a $(VBCONF)') cron/vb-backup \
	    >$(B)/cron/vb-backup

install: $(BINS) cronfiles
	install -d -v $(BINDIR) $(LIBDIR) $(MANDIR)/man1 $(MANDIR)/man5 \
	    $(DOCDIR) $(DESTDIR)$(UNITDIR) \
	    $(if $(filter 1,$(CRON)),$(ETCDIR)/cron.d)
	$(INSTALL) -m 0755 $(BINS) bin/vb-backup $(BINDIR)
	$(INSTALL) -m 0644 bin/lib/*.sh $(LIBDIR)
	$(INSTALL) -m 0644 man/*.1 $(MANDIR)/man1
	$(INSTALL) -m 0644 man/*.5 $(MANDIR)/man5
	$(INSTALL) -m 0644 README.md docs/DESIGN.md $(DOCDIR)
	$(INSTALL) -m 0644 $(addprefix $(B)/cron/,$(UNITS)) \
	    $(DESTDIR)$(UNITDIR)
	$(if $(filter 1,$(CRON)),$(INSTALL) -m 0644 $(B)/cron/vb-backup \
	    $(ETCDIR)/cron.d/vb-backup)
	[ -e $(ETCDIR)/vb.conf ] || $(INSTALL) -m 0644 etc/vb.conf $(ETCDIR)
ifeq ($(LIST),1)
	{ for t in $(TOOLS) vb-backup; do echo $(PREFIX)/bin/$$t; done; \
	  for f in bin/lib/*.sh; do echo $(PREFIX)/lib/vb/$${f#bin/lib/}; done; \
	  for f in man/*.1; do echo $(PREFIX)/share/man/man1/$${f#man/}; done; \
	  for f in man/*.5; do echo $(PREFIX)/share/man/man5/$${f#man/}; done; \
	  for u in $(UNITS); do echo $(UNITDIR)/$$u; done; \
	  $(if $(filter 1,$(CRON)),echo $(SYSCONFDIR)/cron.d/vb-backup;) \
	  echo $(PREFIX)/share/doc/vb/README.md; \
	  echo $(PREFIX)/share/doc/vb/DESIGN.md; } >$(B)/installed
	$(INSTALL) -m 0644 $(B)/installed $(DOCDIR)
endif
	@$(if $(SYSTEM),:,echo "vb: installed under $(DESTDIR)$(PREFIX)," \
	    "nothing outside it. Its configuration is $(ETCDIR)/vb.conf." \
	    "The nightly job is not enabled: once this install is where it" \
	    "will stay, copy $(ETCDIR)/cron.d/vb-backup to /etc/cron.d/," \
	    "or the units in $(DESTDIR)$(UNITDIR) to /etc/systemd/system/" \
	    "and run systemctl enable --now vb-backup.timer")

# Where make install puts the configuration (install.sh asks).
sysconfdir:
	@echo $(SYSCONFDIR)

uninstall:
	./install.sh --uninstall --prefix $(PREFIX) $(if $(DESTDIR),--destdir $(DESTDIR))

# The Debian package, built from a copy of the tree under $(B)/deb by
# dpkg-buildpackage (debhelper; Debian's hardening flags), then checked
# by lintian, whose warnings fail it like its errors (a justified one is
# overridden in debian/ with its reason).
VERSION	:= $(shell sed -n 's/^\#define VB_VERSION[^"]*"\(.*\)"/\1/p' src/lib/vb.h)
LINTIAN	?= lintian
,	:= ,
DEBTREE	 = Makefile README.md install.sh bin cron contrib debian docs etc \
	   man src
deb:
	@v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
	    { echo "make deb: debian/changelog is at $$v, src/lib/vb.h at" \
	    "$(VERSION)" >&2; exit 1; }
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/vb-$(VERSION)
	tar -cf - $(DEBTREE) | tar -xf - -C $(B)/deb/vb-$(VERSION)
	cd $(B)/deb/vb-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    -u CFLAGS -u LDFLAGS dpkg-buildpackage -b -us -uc \
	    >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	$(if $(LINTIAN),$(LINTIAN) --allow-root --fail-on error$(,)warning \
	    --info $(B)/deb/vb_$(VERSION)_*.changes)
	@ls $(B)/deb/vb_$(VERSION)_*.deb

bench: $(BINS) $(B)/tests/vb-testwriter
	VB_BIN=$(CURDIR)/$(B) bench/snapshot.sh
	VB_BIN=$(CURDIR)/$(B) bench/compress.sh
	VB_BIN=$(CURDIR)/$(B) bench/prune.sh
	VB_BIN=$(CURDIR)/$(B) bench/restore.sh
	VB_BIN=$(CURDIR)/$(B) bench/nightly.sh
	VB_BIN=$(CURDIR)/$(B) bench/delta.sh
	VB_BIN=$(CURDIR)/$(B) bench/drill.sh
	VB_BIN=$(CURDIR)/$(B) bench/diff.sh
	VB_BIN=$(CURDIR)/$(B) bench/point.sh

clean:
	rm -rf build build-san build-fuzz build-vg
