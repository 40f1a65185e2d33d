/* Private: declassification for the constant-time test, after libsecp256k1's
 * src/checkmem.h.
 *
 * tests/ctime_secrets.c and tests/ctime_r255.c mark every secret undefined for
 * Valgrind's memcheck, which then reports each branch and each memory index
 * computed from one. A value computed from secrets that is public by design
 * (a ciphertext or proof about to be published, whether a MAC checks, whether
 * a decoded value is in range, the probability-2^-252 event that a derived
 * nonce is zero) is declassified with dt_declassify before the code branches
 * on it or writes it out; each call site says why the value is public. A
 * declassification that hides a leak is a bug: docs/security.md lists every
 * site, and the known gaps.
 *
 * Without Valgrind's header it compiles to nothing; with it, outside Valgrind a
 * client request costs a few instructions and does nothing. */
#ifndef DT_UTIL_CTCHECK_H
#define DT_UTIL_CTCHECK_H

#include <stddef.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DT_HAVE_MEMCHECK 1
#endif
#endif

/* Marks n bytes at p as public (defined) for memcheck. */
static inline void dt_declassify(const void *p, size_t n)
{
#ifdef DT_HAVE_MEMCHECK
    (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p;
    (void)n;
#endif
}

#endif
