/* Private: arithmetic in GF(p), p = 2^255 - 19, in radix 2^51.
 *
 * A dt_fe holds five unsigned 64-bit limbs, value = sum v[i] 2^(51 i), not
 * necessarily reduced. The bounds, as in curve25519-dalek's u64 backend:
 *   - dt_fe_mul, dt_fe_sq, dt_fe_sub, dt_fe_neg and dt_fe_carry return limbs
 *     below 2^52 ("reduced");
 *   - dt_fe_add does not carry: the sum of two reduced values has limbs below
 *     2^53, of four below 2^54;
 *   - dt_fe_mul and dt_fe_sq accept limbs below 2^54; dt_fe_sub and dt_fe_neg
 *     accept a first operand below 2^63 - 2^55 and a second below 2^55 - 304.
 * Callers keep to these bounds (r255_point.c says where it adds).
 *
 * Every function here runs in constant time; the ones that answer a question
 * (dt_fe_is_zero, dt_fe_is_negative, dt_fe_sqrt_ratio_m1) return 0 or 1
 * computed without branches. Outputs may alias inputs. The hot functions are
 * static inline so that the point formulas compile to straight-line code. */
#ifndef DT_R255_FIELD_H
#define DT_R255_FIELD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The field and point formulas are inlined wherever they are used: gcc's
 * heuristics at -O2 keep dt_fe_mul out of line, which cost 15% of a
 * fixed-base multiplication (measured). The five-limb loops are written out:
 * gcc -O2 does not unroll them (20% of the instructions of a fixed-base
 * multiplication, counted with cachegrind). */
#if defined(__GNUC__)
#define DT_FE_INLINE static inline __attribute__((always_inline))
#else
#define DT_FE_INLINE static inline
#endif

typedef struct dt_fe {
    uint64_t v[5];
} dt_fe;

typedef unsigned __int128 dt_u128;

#define DT_FE_MASK ((UINT64_C(1) << 51) - 1)

/* d = -121665/121666, 2d, sqrt(-1) (the non-negative root) and
 * 1/sqrt(a - d) with a = -1 (RFC 9496 section 4.1); tests/test_r255.c checks
 * each against its definition. */
extern const dt_fe dt_fe_d, dt_fe_d2, dt_fe_sqrtm1, dt_fe_invsqrt_a_minus_d;

DT_FE_INLINE void dt_fe_0(dt_fe *h)
{
    memset(h, 0, sizeof *h);
}

DT_FE_INLINE void dt_fe_1(dt_fe *h)
{
    memset(h, 0, sizeof *h);
    h->v[0] = 1;
}

/* h = f + g, without carrying */
DT_FE_INLINE void dt_fe_add(dt_fe *h, const dt_fe *f, const dt_fe *g)
{
    h->v[0] = f->v[0] + g->v[0];
    h->v[1] = f->v[1] + g->v[1];
    h->v[2] = f->v[2] + g->v[2];
    h->v[3] = f->v[3] + g->v[3];
    h->v[4] = f->v[4] + g->v[4];
}

/* Propagates carries: limbs below 2^51 + 2^13 * 19 afterwards. */
DT_FE_INLINE void dt_fe_carry(dt_fe *h, const uint64_t l[5])
{
    uint64_t c0 = l[0] >> 51, c1 = l[1] >> 51, c2 = l[2] >> 51, c3 = l[3] >> 51, c4 = l[4] >> 51;
    h->v[0] = (l[0] & DT_FE_MASK) + c4 * 19;
    h->v[1] = (l[1] & DT_FE_MASK) + c0;
    h->v[2] = (l[2] & DT_FE_MASK) + c1;
    h->v[3] = (l[3] & DT_FE_MASK) + c2;
    h->v[4] = (l[4] & DT_FE_MASK) + c3;
}

/* h = f - g: adds 16 p first so that no limb underflows. */
DT_FE_INLINE void dt_fe_sub(dt_fe *h, const dt_fe *f, const dt_fe *g)
{
    uint64_t l[5];
    const uint64_t p0 = UINT64_C(36028797018963664), pi = UINT64_C(36028797018963952); /* 16 p's limbs */
    l[0] = (f->v[0] + p0) - g->v[0];
    l[1] = (f->v[1] + pi) - g->v[1];
    l[2] = (f->v[2] + pi) - g->v[2];
    l[3] = (f->v[3] + pi) - g->v[3];
    l[4] = (f->v[4] + pi) - g->v[4];
    dt_fe_carry(h, l);
}

DT_FE_INLINE void dt_fe_neg(dt_fe *h, const dt_fe *f)
{
    dt_fe z;
    dt_fe_0(&z);
    dt_fe_sub(h, &z, f);
}

/* Final carries of a product: c[] are the five column sums. */
DT_FE_INLINE void dt_fe_mul_carry(dt_fe *h, dt_u128 c0, dt_u128 c1, dt_u128 c2, dt_u128 c3, dt_u128 c4)
{
    uint64_t r0, r1, r2, r3, r4, carry;
    c1 += (uint64_t)(c0 >> 51);
    r0 = (uint64_t)c0 & DT_FE_MASK;
    c2 += (uint64_t)(c1 >> 51);
    r1 = (uint64_t)c1 & DT_FE_MASK;
    c3 += (uint64_t)(c2 >> 51);
    r2 = (uint64_t)c2 & DT_FE_MASK;
    c4 += (uint64_t)(c3 >> 51);
    r3 = (uint64_t)c3 & DT_FE_MASK;
    /* c4 < 5 * 2^108 + 2^66 (no factor 19 in this column): the carry is
     * below 2^59.4, and carry * 19 below 2^64 */
    carry = (uint64_t)(c4 >> 51);
    r4 = (uint64_t)c4 & DT_FE_MASK;
    r0 += carry * 19;
    r1 += r0 >> 51;
    r0 &= DT_FE_MASK;
    h->v[0] = r0;
    h->v[1] = r1;
    h->v[2] = r2;
    h->v[3] = r3;
    h->v[4] = r4;
}

DT_FE_INLINE void dt_fe_mul(dt_fe *h, const dt_fe *f, const dt_fe *g)
{
    const uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    const uint64_t b0 = g->v[0], b1 = g->v[1], b2 = g->v[2], b3 = g->v[3], b4 = g->v[4];
    const uint64_t b1_19 = b1 * 19, b2_19 = b2 * 19, b3_19 = b3 * 19, b4_19 = b4 * 19;
    dt_u128 c0 = (dt_u128)a0 * b0 + (dt_u128)a4 * b1_19 + (dt_u128)a3 * b2_19 + (dt_u128)a2 * b3_19 +
                 (dt_u128)a1 * b4_19;
    dt_u128 c1 = (dt_u128)a1 * b0 + (dt_u128)a0 * b1 + (dt_u128)a4 * b2_19 + (dt_u128)a3 * b3_19 +
                 (dt_u128)a2 * b4_19;
    dt_u128 c2 = (dt_u128)a2 * b0 + (dt_u128)a1 * b1 + (dt_u128)a0 * b2 + (dt_u128)a4 * b3_19 +
                 (dt_u128)a3 * b4_19;
    dt_u128 c3 = (dt_u128)a3 * b0 + (dt_u128)a2 * b1 + (dt_u128)a1 * b2 + (dt_u128)a0 * b3 +
                 (dt_u128)a4 * b4_19;
    dt_u128 c4 = (dt_u128)a4 * b0 + (dt_u128)a3 * b1 + (dt_u128)a2 * b2 + (dt_u128)a1 * b3 +
                 (dt_u128)a0 * b4;
    dt_fe_mul_carry(h, c0, c1, c2, c3, c4);
}

DT_FE_INLINE void dt_fe_sq(dt_fe *h, const dt_fe *f)
{
    const uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    const uint64_t a3_19 = a3 * 19, a4_19 = a4 * 19;
    const uint64_t d0 = 2 * a0, d1 = 2 * a1, d2 = 2 * a2; /* below 2^55 */
    dt_u128 c0 = (dt_u128)a0 * a0 + (dt_u128)d1 * a4_19 + (dt_u128)d2 * a3_19;
    dt_u128 c1 = (dt_u128)a3 * a3_19 + (dt_u128)d0 * a1 + (dt_u128)d2 * a4_19;
    dt_u128 c2 = (dt_u128)a1 * a1 + (dt_u128)d0 * a2 + (dt_u128)(2 * a4) * a3_19;
    dt_u128 c3 = (dt_u128)a4 * a4_19 + (dt_u128)d0 * a3 + (dt_u128)d1 * a2;
    dt_u128 c4 = (dt_u128)a2 * a2 + (dt_u128)d0 * a4 + (dt_u128)d1 * a3;
    dt_fe_mul_carry(h, c0, c1, c2, c3, c4);
}

/* h = f^(2^k), k >= 1 */
DT_FE_INLINE void dt_fe_sqn(dt_fe *h, const dt_fe *f, int k)
{
    dt_fe_sq(h, f);
    while (--k > 0)
        dt_fe_sq(h, h);
}

/* h = g if b == 1, unchanged if b == 0 */
DT_FE_INLINE void dt_fe_cmov(dt_fe *h, const dt_fe *g, unsigned b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)b;
    h->v[0] ^= m & (h->v[0] ^ g->v[0]);
    h->v[1] ^= m & (h->v[1] ^ g->v[1]);
    h->v[2] ^= m & (h->v[2] ^ g->v[2]);
    h->v[3] ^= m & (h->v[3] ^ g->v[3]);
    h->v[4] ^= m & (h->v[4] ^ g->v[4]);
}

/* h = -h if b == 1 */
DT_FE_INLINE void dt_fe_cneg(dt_fe *h, unsigned b)
{
    dt_fe n;
    dt_fe_neg(&n, h);
    dt_fe_cmov(h, &n, b);
}

/* The canonical 32-byte little-endian encoding (value mod p, bit 255 zero). */
DT_FE_INLINE void dt_fe_tobytes(unsigned char s[32], const dt_fe *f)
{
    dt_fe t;
    uint64_t l[5], q, w[4];
    dt_fe_carry(&t, f->v);
    memcpy(l, t.v, sizeof l);
    /* q = 1 exactly when the value (now below 2^255 + 2^13 * 19) is at least p */
    q = (l[0] + 19) >> 51;
    q = (l[1] + q) >> 51;
    q = (l[2] + q) >> 51;
    q = (l[3] + q) >> 51;
    q = (l[4] + q) >> 51;
    l[0] += 19 * q;
    l[1] += l[0] >> 51;
    l[0] &= DT_FE_MASK;
    l[2] += l[1] >> 51;
    l[1] &= DT_FE_MASK;
    l[3] += l[2] >> 51;
    l[2] &= DT_FE_MASK;
    l[4] += l[3] >> 51;
    l[3] &= DT_FE_MASK;
    l[4] &= DT_FE_MASK; /* drops 2^255: subtracts p with the 19 added above */
    w[0] = l[0] | l[1] << 51;
    w[1] = l[1] >> 13 | l[2] << 38;
    w[2] = l[2] >> 26 | l[3] << 25;
    w[3] = l[3] >> 39 | l[4] << 12;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            s[8 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

DT_FE_INLINE uint64_t dt_fe_load8(const unsigned char *s)
{
    uint64_t x = 0;
    for (int j = 7; j >= 0; j--)
        x = x << 8 | s[j];
    return x;
}

/* Reads 32 little-endian bytes, ignoring bit 255; the value may be >= p
 * (the caller checks canonicity where it matters). */
DT_FE_INLINE void dt_fe_frombytes(dt_fe *h, const unsigned char s[32])
{
    h->v[0] = dt_fe_load8(s) & DT_FE_MASK;
    h->v[1] = (dt_fe_load8(s + 6) >> 3) & DT_FE_MASK;
    h->v[2] = (dt_fe_load8(s + 12) >> 6) & DT_FE_MASK;
    h->v[3] = (dt_fe_load8(s + 19) >> 1) & DT_FE_MASK;
    h->v[4] = (dt_fe_load8(s + 24) >> 12) & DT_FE_MASK;
}

/* 1 if f = 0 mod p */
DT_FE_INLINE unsigned dt_fe_is_zero(const dt_fe *f)
{
    unsigned char s[32];
    unsigned acc = 0;
    dt_fe_tobytes(s, f);
    for (int i = 0; i < 32; i++)
        acc |= s[i];
    return ((acc - 1) >> 8) & 1;
}

/* 1 if f mod p is odd (RFC 9496's IS_NEGATIVE) */
DT_FE_INLINE unsigned dt_fe_is_negative(const dt_fe *f)
{
    unsigned char s[32];
    dt_fe_tobytes(s, f);
    return s[0] & 1;
}

/* 1 if f = g mod p */
DT_FE_INLINE unsigned dt_fe_eq(const dt_fe *f, const dt_fe *g)
{
    dt_fe d;
    dt_fe_sub(&d, f, g);
    return dt_fe_is_zero(&d);
}

/* h = |f|: f or -f, whichever is non-negative */
DT_FE_INLINE void dt_fe_abs(dt_fe *h, const dt_fe *f)
{
    *h = *f;
    dt_fe_cneg(h, dt_fe_is_negative(f));
}

/* h = f^(p-2) = 1/f (0 for f = 0) */
void dt_fe_invert(dt_fe *h, const dt_fe *f);
/* h = f^((p-5)/8) */
void dt_fe_pow22523(dt_fe *h, const dt_fe *f);
/* RFC 9496 section 4.2, SQRT_RATIO_M1(u, v): returns 1 and sets r to the
 * non-negative sqrt(u/v) if u/v is a square (r = 0 if u = 0), else returns 0
 * and sets r to the non-negative sqrt(sqrt(-1) u/v) (r = 0 if v = 0). */
unsigned dt_fe_sqrt_ratio_m1(dt_fe *r, const dt_fe *u, const dt_fe *v);
/* r[i] = SQRT_RATIO_M1(1, v[i]) and ok[i] its answer, for i < n: the same
 * values as n calls, eight exponentiations at a time where the processor has
 * AVX-512 IFMA (r255_ifma.c). */
void dt_fe_invsqrt_many(dt_fe *r, unsigned *ok, const dt_fe *v, size_t n);
/* 1 where dt_fe_pow22523_x8 runs on AVX-512 IFMA (and DT_NO_IFMA is not set
 * in the environment), else 0 */
int dt_r255_ifma(void);
/* h[i] = f[i]^((p-5)/8) for eight elements, on AVX-512 IFMA (r255_ifma.c).
 * Call it only where dt_r255_ifma() returns 1 (it executes AVX-512
 * instructions), with limbs below 2^52 (what dt_fe_mul, dt_fe_sq and
 * dt_fe_sub return; not dt_fe_add's sums, which the portable functions
 * accept): the multiply-adds read 52 bits of each limb. */
void dt_fe_pow22523_x8(dt_fe h[8], const dt_fe f[8]);
/* The field arithmetic of ristretto255 decoding (RFC 9496 4.3.1) for eight
 * elements s[i] (canonical limbs, from dt_fe_frombytes), on AVX-512 IFMA:
 * ok[i] = 1 if s[i] decodes (the square root exists, t non-negative, y not
 * zero; the caller checks that s is canonical and non-negative), with the
 * point's affine x, y and t = x y. Only where dt_r255_ifma() is 1. */
void dt_r255_decode_x8(dt_fe x[8], dt_fe y[8], dt_fe t[8], unsigned ok[8], const dt_fe s[8]);
/* Montgomery's trick: out[i] = 1/in[i] for n values, none of them zero, with
 * one inversion; scratch holds n elements. out may be in. Constant time in
 * the values (time depends on n only). */
void dt_fe_batch_invert(dt_fe *out, const dt_fe *in, dt_fe *scratch, size_t n);

#endif
