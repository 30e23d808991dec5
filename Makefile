# cnai — build, test, install. `make` builds build/cnai; `make test` runs
# every suite; `make demo` runs the main job. Each first runs
# scripts/install-deps.sh, which is quiet once the packages are there.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKGS := sqlite3 libgit2 jansson libcrypto libarchive libcurl zlib libzstd
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wswitch -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) \
	-DCNAI_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS ?= -Wl,-O1 -Wl,--as-needed

CORE_SRC := $(sort $(wildcard core/*/*.c registry/*.c))
CMD_SRC := $(sort $(wildcard commands/*.c commands/*/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
APP_OBJ := $(CMD_SRC:%.c=$(BUILD)/obj/%.o) $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

.PHONY: all deps test test-unit test-cli asan demo install clean bench
all: deps $(BUILD)/cnai

deps:
	@./scripts/install-deps.sh

$(BUILD)/cnai: $(CORE_OBJ) $(APP_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Test-only drivers (tests/tools/*.c): library entry points the interop
# tests call before a command wraps them.
$(BUILD)/tests/tools/%: tests/tools/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test: all $(UNIT_BIN) $(TOOL_BIN)
	@CNAI_BUILD=$(BUILD) ./tests/run-tests.sh

# ASan + UBSan build in its own folder, running the same suites.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer' \
		LDFLAGS='-fsanitize=address,undefined' test

demo: all
	@./scripts/demo.sh

bench: all
	@for b in scripts/bench/*.sh; do echo "== $$b"; "$$b" || exit 1; done

install: $(BUILD)/cnai
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/cnai $(DESTDIR)$(PREFIX)/bin/cnai
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-asan

-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d)
