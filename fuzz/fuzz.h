/* Shared by the fuzzing harnesses (fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput and, if it needs state set up
 * once (a group, an election, fixed keys), LLVMFuzzerInitialize. It is linked
 * either with libFuzzer (clang -fsanitize=fuzzer, scripts/fuzz.sh) or with
 * fuzz/replay_main.c, which runs it over the corpus and regression inputs
 * in the test suite.
 *
 * A harness must not crash, leak or trip a sanitizer on any input, and
 * checks what the parser promises: a value it accepts is re-encoded to the
 * same bytes where the format is canonical, and outputs are as documented on
 * error. FUZZ_CHECK aborts (a crash for libFuzzer, a failed test for replay)
 * when a promise is broken. */
#ifndef DT_FUZZ_H
#define DT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/common.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A NUL-terminated copy of the input (for parsers of C strings); aborts on
 * allocation failure, which is not the input's fault. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A copy of the input in a buffer of exactly size bytes, so that the
 * sanitizers see any read past its end (libFuzzer's own buffer is exact too;
 * this one matters for pieces cut out of the input). */
static inline unsigned char *fuzz_dup(const uint8_t *data, size_t size)
{
    unsigned char *p = malloc(size ? size : 1);
    FUZZ_CHECK(p != NULL);
    if (size)
        memcpy(p, data, size);
    return p;
}

/* 1 if every byte of p[0..n) is zero. */
static inline int fuzz_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

#endif
