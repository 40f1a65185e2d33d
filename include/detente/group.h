/* detente: the group interface.
 *
 * A group is a prime-order group with a fixed generator g, written
 * multiplicatively as in the ElectionGuard 2.0 specification. Two backends:
 *   DT_GROUP_INTEGER4096: the order-q subgroup of Z_p^* of ElectionGuard 2.0
 *                         (p 4096 bits, q = 2^256 - 189), GMP;
 *   DT_GROUP_RISTRETTO255: ristretto255 (own field and point arithmetic,
 *                         checked against libsodium), order
 *                         l = 2^252 + 27742317777372353535851937790883648493.
 *
 * Elements and scalars are fixed-size values; the group object is immutable
 * after creation and may be shared by any number of threads.
 *
 * Scalars are integers mod q, held as 32-byte big-endian values always below q.
 * Element encodings: integer group, b(x, lp) big-endian (512 bytes for the
 * standard group); ristretto255, the 32-byte canonical encoding.
 *
 * Functions whose name ends in _var run in variable time: use them only on
 * public data. Every other function that takes a scalar runs in constant time
 * with respect to it. Unless said otherwise, outputs may alias inputs. */
#ifndef DETENTE_GROUP_H
#define DETENTE_GROUP_H

#include <detente/common.h>

typedef enum dt_group_id {
    DT_GROUP_INTEGER4096 = 1,
    DT_GROUP_RISTRETTO255 = 2,
} dt_group_id;

#define DT_SCALAR_BYTES 32
#define DT_ELEM_MAX_BYTES 512

typedef struct dt_group dt_group;

typedef struct dt_elem {
    _Alignas(16) unsigned char opaque[DT_ELEM_MAX_BYTES];
} dt_elem;

typedef struct dt_scalar {
    unsigned char be[DT_SCALAR_BYTES]; /* big-endian, always < q */
} dt_scalar;

/* Creates a group. Returns NULL on allocation failure. */
dt_group *dt_group_create(dt_group_id id);

/* Creates an integer group from hexadecimal p, q, g (toy groups for tests).
 * Checks p - 1 = 0 mod q, 1 < g < p, g^q = 1, and that p, q are probable
 * primes; returns NULL otherwise. q must fit in 256 bits. */
dt_group *dt_group_create_integer(const char *p_hex, const char *q_hex, const char *g_hex);

/* Frees a group; NULL does nothing. */
void dt_group_destroy(dt_group *g);

dt_group_id dt_group_kind(const dt_group *g);
const char *dt_group_name(const dt_group *g); /* "integer4096", "ristretto255" */
size_t dt_group_elem_bytes(const dt_group *g);   /* encoding length of an element */
size_t dt_group_scalar_bytes(const dt_group *g); /* encoding length of a scalar in hashes */
/* q as 32 big-endian bytes */
void dt_group_order(const dt_group *g, unsigned char q[DT_SCALAR_BYTES]);
/* Integer group only: writes p and g as lp-byte big-endian values; ristretto255: no-op, returns 0. */
int dt_group_integer_params(const dt_group *g, unsigned char *p, unsigned char *gen, size_t len);

/* ---- elements ---- */

/* Decodes and fully validates an element: the encoding has the right length;
 * integer group: 0 < x < p and x^q = 1 mod p; ristretto255: canonical, valid.
 * On failure *out is set to the identity. */
DT_WARN_UNUSED_RESULT dt_err dt_elem_decode(const dt_group *g, dt_elem *out,
                                            const unsigned char *in, size_t inlen);
/* Decodes n elements of inlen bytes each with the same validation, faster
 * than n calls where the group allows it: in the integer group, each value's
 * range and Legendre symbol, then one check that a product of random 128-bit
 * powers lies in the order-q subgroup (sound except with probability
 * 2^-128; docs/security.md). Returns DT_OK only if every element is valid;
 * otherwise an error, and the caller decodes one by one to find which.
 * Variable time: public data only. */
DT_WARN_UNUSED_RESULT dt_err dt_elem_decode_batch_var(const dt_group *g, dt_elem *out,
                                                      const unsigned char *const *in, size_t inlen,
                                                      size_t n);
/* Writes dt_group_elem_bytes(g) bytes. */
void dt_elem_encode(const dt_group *g, unsigned char *out, const dt_elem *e);

void dt_elem_identity(const dt_group *g, dt_elem *r);
void dt_elem_generator(const dt_group *g, dt_elem *r);
int dt_elem_eq(const dt_group *g, const dt_elem *a, const dt_elem *b);
int dt_elem_is_identity(const dt_group *g, const dt_elem *a);

/* r = a * b (the group operation) */
void dt_elem_mul(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b);
/* r = a / b */
void dt_elem_div(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b);
/* r = base^e; constant time in e */
void dt_elem_pow(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e);
/* r = base^e; variable time */
void dt_elem_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e);
/* r = generator^e; constant time in e */
void dt_elem_pow_g(const dt_group *g, dt_elem *r, const dt_scalar *e);
/* r = prod base[i]^e[i]; variable time (verification only) */
void dt_elem_multi_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base,
                           const dt_scalar *e, size_t n);
/* r = prod base[i]^e[i] for any n (the identity for n = 0); variable time
 * (verification only). The cost grows with the longest exponent: in
 * ristretto255, exponents below 2^128 (random batching weights) cost about
 * half of full-size ones. ristretto255: Straus's method for a few terms,
 * Pippenger's above; r may alias an input. DT_ERR_NOMEM if scratch space
 * cannot be allocated (then r is the identity). */
DT_WARN_UNUSED_RESULT dt_err dt_msm_var(const dt_group *g, dt_elem *r, const dt_elem *base,
                                        const dt_scalar *e, size_t n);

/* ---- running products ----
 * dt_elem_mul stores each result in canonical form (in ristretto255 an
 * encoding: one inverse square root per call). A product of many elements
 * kept in a dt_prod is put in canonical form only when read: the cheap way
 * to aggregate ciphertexts. */
typedef struct dt_prod {
    _Alignas(16) unsigned char opaque[DT_ELEM_MAX_BYTES];
} dt_prod;

/* p = the identity */
void dt_prod_init(const dt_group *g, dt_prod *p);
/* p = p * e */
void dt_prod_mul(const dt_group *g, dt_prod *p, const dt_elem *e);
/* p = p * q */
void dt_prod_mul_prod(const dt_group *g, dt_prod *p, const dt_prod *q);
/* r = p (canonical form) */
void dt_prod_get(const dt_group *g, dt_elem *r, const dt_prod *p);
/* r[i] = p[i] for i < n: in ristretto255 the encodings' inverse square roots
 * eight at a time */
void dt_prod_get_many(const dt_group *g, dt_elem *r, const dt_prod *p, size_t n);

/* ---- fixed-base tables ----
 *
 * A table of precomputed multiples of one base (the generator, a joint key
 * K) makes base^e several times faster than dt_elem_pow, in constant time
 * in e. ristretto255: 30 KiB; the integer group keeps only the base and
 * calls dt_elem_pow. The table refers to g, which must outlive it; it is
 * immutable once created and may be shared by any number of threads.
 * dt_elem_pow_g already uses the group's own table for g. */
typedef struct dt_fixed_base dt_fixed_base;

/* Returns a table for base, or NULL on allocation failure. */
dt_fixed_base *dt_fixed_base_create(const dt_group *g, const dt_elem *base);
/* Frees a table; NULL does nothing. */
void dt_fixed_base_destroy(dt_fixed_base *fb);
/* r = base^e; constant time in e */
void dt_fixed_base_pow(const dt_fixed_base *fb, dt_elem *r, const dt_scalar *e);

/* Finds t in [0, max] with base^t = target; DT_ERR_NOT_FOUND if there is none. Variable time. */
DT_WARN_UNUSED_RESULT dt_err dt_elem_dlog_var(const dt_group *g, uint64_t *t, const dt_elem *base,
                                              const dt_elem *target, uint64_t max);

/* ---- scalars ---- */

/* Decodes a scalar of exactly dt_group_scalar_bytes(g) bytes big-endian
 * (32 for both standard groups); refuses a value not below q. */
DT_WARN_UNUSED_RESULT dt_err dt_scalar_decode(const dt_group *g, dt_scalar *out,
                                              const unsigned char *in, size_t inlen);
/* Writes dt_group_scalar_bytes(g) bytes big-endian. */
void dt_scalar_encode(const dt_group *g, unsigned char *out, const dt_scalar *s);
/* Reduces any big-endian byte string mod q (a 32-byte hash, or 64 bytes for
 * unbiased derivation). Constant time in the bytes' values. */
void dt_scalar_reduce(const dt_group *g, dt_scalar *out, const unsigned char *in, size_t inlen);
void dt_scalar_from_u64(const dt_group *g, dt_scalar *out, uint64_t v);
void dt_scalar_add(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
void dt_scalar_sub(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
void dt_scalar_mul(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
void dt_scalar_neg(const dt_group *g, dt_scalar *r, const dt_scalar *a);
/* r = a^-1 mod q; a must not be zero (returns DT_ERR_RANGE). Variable time: public values only. */
DT_WARN_UNUSED_RESULT dt_err dt_scalar_inv_var(const dt_group *g, dt_scalar *r, const dt_scalar *a);
int dt_scalar_is_zero(const dt_scalar *a);
int dt_scalar_eq(const dt_scalar *a, const dt_scalar *b);
/* Uniform nonzero scalar from the OS randomness (64 bytes reduced mod q). */
DT_WARN_UNUSED_RESULT dt_err dt_scalar_random(const dt_group *g, dt_scalar *out);

#endif
