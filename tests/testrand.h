/* Deterministic randomness for tests: a seed printed at start, replayable
 * with DT_TEST_SEED=<64 hex digits>. The library's own randomness source is
 * redirected to the same stream, so a failing run replays exactly. */
#ifndef DT_TESTRAND_H
#define DT_TESTRAND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/random.h"

static unsigned char testrand_seed[32];
static uint64_t testrand_counter;

static inline void testrand_bytes(void *buf, size_t n)
{
    unsigned char nonce[12] = {0};
    memcpy(nonce, &testrand_counter, sizeof testrand_counter);
    testrand_counter++;
    crypto_stream_chacha20_ietf(buf, n, nonce, testrand_seed);
}

static inline void testrand_init(void)
{
    const char *env = getenv("DT_TEST_SEED");
    if (env && strlen(env) == 64) {
        size_t n = 0;
        if (sodium_hex2bin(testrand_seed, 32, env, 64, NULL, &n, NULL) != 0 || n != 32) {
            fprintf(stderr, "DT_TEST_SEED must be 64 hex digits\n");
            exit(2);
        }
    } else {
        randombytes_buf(testrand_seed, 32);
    }
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, testrand_seed, 32);
    printf("seed: %s (replay with DT_TEST_SEED=%s)\n", hex, hex);
    dt_random_set_source_for_testing(testrand_bytes);
}

static inline uint64_t testrand_u64(uint64_t bound)
{
    uint64_t x;
    testrand_bytes(&x, sizeof x);
    return bound ? x % bound : x;
}

#endif
