/* Common helpers: errors, misuse, wiping, constant-time comparison and the
 * operating system's randomness. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#include <detente/common.h>

#include "util/random.h"

const char *dt_strerror(dt_err err)
{
    switch (err) {
    case DT_OK:
        return "success";
    case DT_ERR_NOMEM:
        return "out of memory";
    case DT_ERR_ENCODING:
        return "wrong length or malformed encoding";
    case DT_ERR_RANGE:
        return "value out of range";
    case DT_ERR_NOT_IN_GROUP:
        return "value is not an element of the group";
    case DT_ERR_PROOF:
        return "proof does not verify";
    case DT_ERR_IO:
        return "input/output error";
    case DT_ERR_PARSE:
        return "malformed JSON or wrong type";
    case DT_ERR_LIMIT:
        return "input exceeds a limit";
    case DT_ERR_NOT_FOUND:
        return "not found";
    case DT_ERR_RANDOM:
        return "randomness source failed";
    case DT_ERR_INVALID:
        return "invalid input";
    }
    return "unknown error";
}

void dt_misuse(const char *msg)
{
    fprintf(stderr, "detente: API misuse: %s\n", msg ? msg : "(no message)");
    fflush(stderr);
    abort();
}

void dt_memzero(void *p, size_t n)
{
    if (n)
        sodium_memzero(p, n);
}

int dt_ct_eq(const void *a, const void *b, size_t n)
{
    if (n == 0)
        return 1;
    return sodium_memcmp(a, b, n) == 0;
}

/* Tests only (util/random.h): replaces the source below. Not thread-safe;
 * set it before any thread starts. */
static void (*dt_random_test_source)(void *buf, size_t n);

void dt_random_set_source_for_testing(void (*fn)(void *buf, size_t n))
{
    dt_random_test_source = fn;
}

dt_err dt_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;

    if (n && !buf)
        dt_misuse("dt_random_bytes: NULL buffer");
    if (dt_random_test_source) {
        dt_random_test_source(buf, n);
        return DT_OK;
    }
    while (done < n) {
        /* getrandom returns at most 32 MiB - 1 per call and may return less
         * after a signal: loop until the buffer is full. */
        size_t chunk = n - done > 33554431 ? 33554431 : n - done;
        ssize_t got = getrandom(p + done, chunk, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            dt_memzero(buf, n);
            return DT_ERR_RANDOM;
        }
        if (got == 0) {
            dt_memzero(buf, n);
            return DT_ERR_RANDOM;
        }
        done += (size_t)got;
    }
    return DT_OK;
}
