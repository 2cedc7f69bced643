# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang under ASan and
# UBSan in $(BUILD)/fuzz. Included from the Makefile.
# make fuzz          each target for FUZZ_SECONDS (default 60) from its seed
#                    corpus fixtures/fuzz/NAME/; new inputs go to
#                    $(BUILD)/fuzz/corpus-NAME, crashes to
#                    $(BUILD)/fuzz/artifacts/NAME/ and fail the run
# make fuzz-regress  each target once over every file of its seed corpus
#                    (crash reproducers included): a few seconds

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(WARN) $(if $(WERROR),-Werror) -O1 -g $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link -D_GNU_SOURCE \
                -DVERSION='"$(VERSION)"' -Ilib \
                $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
FUZZ_SRC      = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN      = $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIBA     = $(FUZZ_DIR)/libec2classify.a

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIBA): $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	@rm -f $@
	ar rcs $@ $^

# The target's object comes first: what it defines (fuzz_imds_creds's
# imds_get) keeps the library's own object out of the link.
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LIBS)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	$(MAKE) fuzz-build
	sh tests/fuzz/run.sh fuzz $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-regress: fuzz-build
	sh tests/fuzz/run.sh regress $(FUZZ_DIR) 0 $(FUZZ_NAMES)

.PHONY: fuzz fuzz-build fuzz-regress
