/* detente: common definitions shared by every module.
 *
 * Errors: one enum, DT_OK == 0. Programmer misuse (NULL where an object is
 * required, a size that cannot be right) aborts through dt_misuse(); hostile
 * data (a bad proof, a malformed record) returns an error code. */
#ifndef DETENTE_COMMON_H
#define DETENTE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define DT_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
/* Callers get the nonnull warnings; the library itself is built without the
 * attribute so that its own NULL checks (dt_misuse) are not optimized away. */
#if defined(DT_BUILDING_LIBRARY)
#define DT_NONNULL(...)
#else
#define DT_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#endif
#else
#define DT_WARN_UNUSED_RESULT
#define DT_NONNULL(...)
#endif

typedef enum dt_err {
    DT_OK = 0,
    DT_ERR_NOMEM,        /* allocation failed */
    DT_ERR_ENCODING,     /* wrong length or malformed encoding */
    DT_ERR_RANGE,        /* integer or scalar outside its range */
    DT_ERR_NOT_IN_GROUP, /* value is not an element of the group */
    DT_ERR_PROOF,        /* a proof does not verify */
    DT_ERR_IO,           /* a file could not be read or written */
    DT_ERR_PARSE,        /* malformed JSON or wrong types */
    DT_ERR_LIMIT,        /* an input exceeds a documented limit */
    DT_ERR_NOT_FOUND,    /* a discrete log or an item was not found */
    DT_ERR_RANDOM,       /* the system's randomness source failed */
    DT_ERR_INVALID,      /* input violates a rule (duplicate id, bad state) */
} dt_err;

/* Returns a static, human-readable description of err. */
const char *dt_strerror(dt_err err);

/* Called on programmer misuse; prints msg and aborts. */
void dt_misuse(const char *msg) __attribute__((noreturn));

/* Wipes n bytes at p in a way the compiler cannot elide. */
void dt_memzero(void *p, size_t n);

/* Constant-time equality of two n-byte buffers: 1 if equal, 0 if not. */
int dt_ct_eq(const void *a, const void *b, size_t n);

/* Fills buf with n bytes from the operating system (getrandom). Fails closed. */
DT_WARN_UNUSED_RESULT dt_err dt_random_bytes(void *buf, size_t n);

#endif
