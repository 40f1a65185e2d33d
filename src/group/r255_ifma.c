/* GF(2^255 - 19) eight elements at a time with AVX-512 IFMA (r255_field.h):
 * the exponentiation behind an inverse square root, which is most of the
 * cost of decoding (and encoding) a ristretto255 element.
 *
 * Each of the five limbs is a vector of eight lanes, one element per lane,
 * in the radix 2^51 of r255_field.h. vpmadd52luq and vpmadd52huq multiply
 * the low 52 bits of two lanes and add the low or the high 52 bits of the
 * 104-bit product to a third; limbs below 2^52 (what dt_fe_mul and its
 * callers produce) are therefore multiplied exactly. In radix 2^51 the high
 * half of a_i b_j weighs 2^(51 (i + j + 1) + 1): it is added twice, one
 * column up (curve25519-dalek's IFMA backend does the same).
 *
 * Bounds: a product column holds at most five low halves and five doubled
 * high halves, each below 2^52: below 15 * 2^52 < 2^56. Folding columns 5..9
 * onto 0..4 (2^255 = 19) gives less than 20 * 2^56 < 2^61, and one parallel
 * carry leaves every limb below 2^51 + 19 * 2^10 < 2^52, a valid input again.
 *
 * The code runs only where the processor has the instructions and the
 * system saves their registers (dt_r255_ifma(); DT_NO_IFMA=1 in the
 * environment turns it off, for tests and measurements of the portable path).
 * It has no branch and no memory access that depends on the values: it is
 * as constant-time as the portable path. */
#include <stdlib.h>

#include "group/r255_field.h"
#include "group/r255_point.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define DT_IFMA_TARGET __attribute__((target("avx512f,avx512ifma")))
#define DT_IFMA_INLINE static inline __attribute__((always_inline, target("avx512f,avx512ifma")))

typedef struct dt_fe8 {
    __m512i l[5];
} dt_fe8;

#define DT_MADDLO(acc, x, y) ((acc) = _mm512_madd52lo_epu64((acc), (x), (y)))
#define DT_MADDHI(acc, x, y) ((acc) = _mm512_madd52hi_epu64((acc), (x), (y)))
#define DT_X19(x) _mm512_add_epi64(_mm512_add_epi64(_mm512_slli_epi64((x), 4), _mm512_slli_epi64((x), 1)), (x))

/* The end of a product or a square: column k is l_k + 2 h_(k-1) (a high
 * half weighs twice a column up), columns 5..9 fold onto 0..4 times 19, and
 * one parallel carry brings every limb below 2^52 (bounds: the file's head). */
DT_IFMA_INLINE dt_fe8 dt_fe8_reduce(__m512i l0, __m512i l1, __m512i l2, __m512i l3, __m512i l4, __m512i l5,
                                    __m512i l6, __m512i l7, __m512i l8, __m512i h0, __m512i h1, __m512i h2,
                                    __m512i h3, __m512i h4, __m512i h5, __m512i h6, __m512i h7, __m512i h8)
{
    const __m512i mask = _mm512_set1_epi64((long long)DT_FE_MASK);
    __m512i z0, z1, z2, z3, z4, c0, c1, c2, c3, c4;
    dt_fe8 r;
    z0 = _mm512_add_epi64(l0, DT_X19(_mm512_add_epi64(l5, _mm512_slli_epi64(h4, 1))));
    z1 = _mm512_add_epi64(_mm512_add_epi64(l1, _mm512_slli_epi64(h0, 1)),
                          DT_X19(_mm512_add_epi64(l6, _mm512_slli_epi64(h5, 1))));
    z2 = _mm512_add_epi64(_mm512_add_epi64(l2, _mm512_slli_epi64(h1, 1)),
                          DT_X19(_mm512_add_epi64(l7, _mm512_slli_epi64(h6, 1))));
    z3 = _mm512_add_epi64(_mm512_add_epi64(l3, _mm512_slli_epi64(h2, 1)),
                          DT_X19(_mm512_add_epi64(l8, _mm512_slli_epi64(h7, 1))));
    z4 = _mm512_add_epi64(_mm512_add_epi64(l4, _mm512_slli_epi64(h3, 1)), DT_X19(_mm512_slli_epi64(h8, 1)));
    c0 = _mm512_srli_epi64(z0, 51);
    c1 = _mm512_srli_epi64(z1, 51);
    c2 = _mm512_srli_epi64(z2, 51);
    c3 = _mm512_srli_epi64(z3, 51);
    c4 = _mm512_srli_epi64(z4, 51);
    r.l[0] = _mm512_add_epi64(_mm512_and_si512(z0, mask), DT_X19(c4));
    r.l[1] = _mm512_add_epi64(_mm512_and_si512(z1, mask), c0);
    r.l[2] = _mm512_add_epi64(_mm512_and_si512(z2, mask), c1);
    r.l[3] = _mm512_add_epi64(_mm512_and_si512(z3, mask), c2);
    r.l[4] = _mm512_add_epi64(_mm512_and_si512(z4, mask), c3);
    return r;
}

/* h = f g for eight pairs; limbs below 2^52 in, below 2^52 out. Written
 * with named variables, not arrays, so that gcc keeps all of it in the 32
 * vector registers (with arrays it spilled a third of the instructions). */
DT_IFMA_INLINE dt_fe8 dt_fe8_mul(dt_fe8 f, dt_fe8 g)
{
    const __m512i a0 = f.l[0], a1 = f.l[1], a2 = f.l[2], a3 = f.l[3], a4 = f.l[4];
    const __m512i b0 = g.l[0], b1 = g.l[1], b2 = g.l[2], b3 = g.l[3], b4 = g.l[4];
    __m512i l0, l1, l2, l3, l4, l5, l6, l7, l8, h0, h1, h2, h3, h4, h5, h6, h7, h8;
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = l8 = _mm512_setzero_si512();
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = h8 = _mm512_setzero_si512();
#define DT_T(lk, hk, x, y) (DT_MADDLO(lk, x, y), DT_MADDHI(hk, x, y))
    DT_T(l0, h0, a0, b0);
    DT_T(l1, h1, a0, b1), DT_T(l1, h1, a1, b0);
    DT_T(l2, h2, a0, b2), DT_T(l2, h2, a1, b1), DT_T(l2, h2, a2, b0);
    DT_T(l3, h3, a0, b3), DT_T(l3, h3, a1, b2), DT_T(l3, h3, a2, b1), DT_T(l3, h3, a3, b0);
    DT_T(l4, h4, a0, b4), DT_T(l4, h4, a1, b3), DT_T(l4, h4, a2, b2), DT_T(l4, h4, a3, b1), DT_T(l4, h4, a4, b0);
    DT_T(l5, h5, a1, b4), DT_T(l5, h5, a2, b3), DT_T(l5, h5, a3, b2), DT_T(l5, h5, a4, b1);
    DT_T(l6, h6, a2, b4), DT_T(l6, h6, a3, b3), DT_T(l6, h6, a4, b2);
    DT_T(l7, h7, a3, b4), DT_T(l7, h7, a4, b3);
    DT_T(l8, h8, a4, b4);
#undef DT_T
    return dt_fe8_reduce(l0, l1, l2, l3, l4, l5, l6, l7, l8, h0, h1, h2, h3, h4, h5, h6, h7, h8);
}

/* h = f^2: the products a_i a_j (i < j) once, then doubled, and the
 * squares a_i^2: 30 multiply-adds instead of 50. The columns hold the same
 * number of 52-bit halves as in dt_fe8_mul, so the same bounds hold. */
DT_IFMA_INLINE dt_fe8 dt_fe8_sq(dt_fe8 f)
{
    const __m512i a0 = f.l[0], a1 = f.l[1], a2 = f.l[2], a3 = f.l[3], a4 = f.l[4];
    __m512i l0, l1, l2, l3, l4, l5, l6, l7, l8, h0, h1, h2, h3, h4, h5, h6, h7, h8;
    __m512i x1, x2, x3, x4, x5, x6, x7, y1, y2, y3, y4, y5, y6, y7; /* cross products, columns 1..7 */
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = l8 = _mm512_setzero_si512();
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = h8 = _mm512_setzero_si512();
    x1 = x2 = x3 = x4 = x5 = x6 = x7 = _mm512_setzero_si512();
    y1 = y2 = y3 = y4 = y5 = y6 = y7 = _mm512_setzero_si512();
#define DT_T(lk, hk, x, y) (DT_MADDLO(lk, x, y), DT_MADDHI(hk, x, y))
    DT_T(l0, h0, a0, a0);
    DT_T(l2, h2, a1, a1);
    DT_T(l4, h4, a2, a2);
    DT_T(l6, h6, a3, a3);
    DT_T(l8, h8, a4, a4);
    DT_T(x1, y1, a0, a1);
    DT_T(x2, y2, a0, a2);
    DT_T(x3, y3, a0, a3), DT_T(x3, y3, a1, a2);
    DT_T(x4, y4, a0, a4), DT_T(x4, y4, a1, a3);
    DT_T(x5, y5, a1, a4), DT_T(x5, y5, a2, a3);
    DT_T(x6, y6, a2, a4);
    DT_T(x7, y7, a3, a4);
#undef DT_T
    l1 = _mm512_slli_epi64(x1, 1);
    l2 = _mm512_add_epi64(l2, _mm512_slli_epi64(x2, 1));
    l3 = _mm512_slli_epi64(x3, 1);
    l4 = _mm512_add_epi64(l4, _mm512_slli_epi64(x4, 1));
    l5 = _mm512_slli_epi64(x5, 1);
    l6 = _mm512_add_epi64(l6, _mm512_slli_epi64(x6, 1));
    l7 = _mm512_slli_epi64(x7, 1);
    h1 = _mm512_slli_epi64(y1, 1);
    h2 = _mm512_add_epi64(h2, _mm512_slli_epi64(y2, 1));
    h3 = _mm512_slli_epi64(y3, 1);
    h4 = _mm512_add_epi64(h4, _mm512_slli_epi64(y4, 1));
    h5 = _mm512_slli_epi64(y5, 1);
    h6 = _mm512_add_epi64(h6, _mm512_slli_epi64(y6, 1));
    h7 = _mm512_slli_epi64(y7, 1);
    return dt_fe8_reduce(l0, l1, l2, l3, l4, l5, l6, l7, l8, h0, h1, h2, h3, h4, h5, h6, h7, h8);
}

/* f^(2^n), n >= 1 */
DT_IFMA_INLINE dt_fe8 dt_fe8_sqn(dt_fe8 f, int n)
{
    for (int i = 0; i < n; i++)
        f = dt_fe8_sq(f);
    return f;
}

/* the chain of dt_fe_pow22523 (r255_field.c), lane by lane */
DT_IFMA_TARGET static dt_fe8 dt_fe8_pow22523(dt_fe8 f)
{
    dt_fe8 t0, t1, t2, t3, t4;
    t0 = dt_fe8_sq(f);         /* 1 */
    t1 = dt_fe8_sqn(t0, 2);    /* 3 */
    t2 = dt_fe8_mul(f, t1);    /* 3,0 */
    t3 = dt_fe8_mul(t0, t2);   /* 11 */
    t4 = dt_fe8_sq(t3);
    t2 = dt_fe8_mul(t2, t4);   /* 2^5 - 1 */
    t4 = dt_fe8_sqn(t2, 5);
    t2 = dt_fe8_mul(t4, t2);   /* 2^10 - 1 */
    t4 = dt_fe8_sqn(t2, 10);
    t4 = dt_fe8_mul(t4, t2);   /* 2^20 - 1 */
    t1 = dt_fe8_sqn(t4, 20);
    t4 = dt_fe8_mul(t1, t4);   /* 2^40 - 1 */
    t4 = dt_fe8_sqn(t4, 10);
    t2 = dt_fe8_mul(t4, t2);   /* 2^50 - 1 */
    t4 = dt_fe8_sqn(t2, 50);
    t4 = dt_fe8_mul(t4, t2);   /* 2^100 - 1 */
    t1 = dt_fe8_sqn(t4, 100);
    t4 = dt_fe8_mul(t1, t4);   /* 2^200 - 1 */
    t4 = dt_fe8_sqn(t4, 50);
    t4 = dt_fe8_mul(t4, t2);   /* 2^250 - 1 */
    t4 = dt_fe8_sqn(t4, 2);
    return dt_fe8_mul(t4, f); /* 2^252 - 3 */
}

DT_IFMA_TARGET void dt_fe_pow22523_x8(dt_fe h[8], const dt_fe f[8])
{
    uint64_t col[8] __attribute__((aligned(64)));
    dt_fe8 x, y;
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 8; i++)
            col[i] = f[i].v[k];
        x.l[k] = _mm512_load_si512((const void *)col);
    }
    y = dt_fe8_pow22523(x);
    for (int k = 0; k < 5; k++) {
        _mm512_store_si512((void *)col, y.l[k]);
        for (int i = 0; i < 8; i++)
            h[i].v[k] = col[i];
    }
}

/* ---- Pippenger's buckets, eight windows at once ----
 *
 * Lane w works on window k0 + w: each point is added (or subtracted) into
 * that window's bucket of its digit, the same point in every lane, so the
 * eight additions of a step never touch the same bucket. The buckets of
 * lane w are bk[w (nb + 1) 20 ...]: nb + 1 points (the last one the trash
 * for a zero digit) of 20 limbs (X, Y, Z, T), read with gathers and written
 * back with scatters. Variable time (public data: the verifier's). */

DT_IFMA_INLINE dt_fe8 dt_fe8_carry(dt_fe8 f)
{
    const __m512i mask = _mm512_set1_epi64((long long)DT_FE_MASK);
    __m512i c0 = _mm512_srli_epi64(f.l[0], 51), c1 = _mm512_srli_epi64(f.l[1], 51),
            c2 = _mm512_srli_epi64(f.l[2], 51), c3 = _mm512_srli_epi64(f.l[3], 51),
            c4 = _mm512_srli_epi64(f.l[4], 51);
    dt_fe8 r;
    r.l[0] = _mm512_add_epi64(_mm512_and_si512(f.l[0], mask), DT_X19(c4));
    r.l[1] = _mm512_add_epi64(_mm512_and_si512(f.l[1], mask), c0);
    r.l[2] = _mm512_add_epi64(_mm512_and_si512(f.l[2], mask), c1);
    r.l[3] = _mm512_add_epi64(_mm512_and_si512(f.l[3], mask), c2);
    r.l[4] = _mm512_add_epi64(_mm512_and_si512(f.l[4], mask), c3);
    return r;
}

/* limbs below 2^52 in and out */
DT_IFMA_INLINE dt_fe8 dt_fe8_add(dt_fe8 f, dt_fe8 g)
{
    dt_fe8 r;
    r.l[0] = _mm512_add_epi64(f.l[0], g.l[0]);
    r.l[1] = _mm512_add_epi64(f.l[1], g.l[1]);
    r.l[2] = _mm512_add_epi64(f.l[2], g.l[2]);
    r.l[3] = _mm512_add_epi64(f.l[3], g.l[3]);
    r.l[4] = _mm512_add_epi64(f.l[4], g.l[4]);
    return dt_fe8_carry(r);
}

/* f - g + 4 p: limbs below 2^52 in and out */
DT_IFMA_INLINE dt_fe8 dt_fe8_sub(dt_fe8 f, dt_fe8 g)
{
    const __m512i p0 = _mm512_set1_epi64((long long)((UINT64_C(1) << 53) - 76)),
                  pi = _mm512_set1_epi64((long long)((UINT64_C(1) << 53) - 4));
    dt_fe8 r;
    r.l[0] = _mm512_sub_epi64(_mm512_add_epi64(f.l[0], p0), g.l[0]);
    r.l[1] = _mm512_sub_epi64(_mm512_add_epi64(f.l[1], pi), g.l[1]);
    r.l[2] = _mm512_sub_epi64(_mm512_add_epi64(f.l[2], pi), g.l[2]);
    r.l[3] = _mm512_sub_epi64(_mm512_add_epi64(f.l[3], pi), g.l[3]);
    r.l[4] = _mm512_sub_epi64(_mm512_add_epi64(f.l[4], pi), g.l[4]);
    return dt_fe8_carry(r);
}

DT_IFMA_INLINE dt_fe8 dt_fe8_bcast(const dt_fe *f)
{
    dt_fe8 r;
    r.l[0] = _mm512_set1_epi64((long long)f->v[0]);
    r.l[1] = _mm512_set1_epi64((long long)f->v[1]);
    r.l[2] = _mm512_set1_epi64((long long)f->v[2]);
    r.l[3] = _mm512_set1_epi64((long long)f->v[3]);
    r.l[4] = _mm512_set1_epi64((long long)f->v[4]);
    return dt_fe8_carry(r);
}

DT_IFMA_INLINE dt_fe8 dt_fe8_blend(__mmask8 m, dt_fe8 a, dt_fe8 b) /* b where m, else a */
{
    dt_fe8 r;
    r.l[0] = _mm512_mask_blend_epi64(m, a.l[0], b.l[0]);
    r.l[1] = _mm512_mask_blend_epi64(m, a.l[1], b.l[1]);
    r.l[2] = _mm512_mask_blend_epi64(m, a.l[2], b.l[2]);
    r.l[3] = _mm512_mask_blend_epi64(m, a.l[3], b.l[3]);
    r.l[4] = _mm512_mask_blend_epi64(m, a.l[4], b.l[4]);
    return r;
}

/* A bucket's coordinate: five limbs at bk + off (0, 5, 10, 15 for X, Y, Z,
 * T) of the points at the lanes' indices. */
DT_IFMA_INLINE dt_fe8 dt_fe8_gather(__m512i idx, const uint64_t *bk)
{
    dt_fe8 r;
    r.l[0] = _mm512_i64gather_epi64(idx, (const void *)bk, 8);
    r.l[1] = _mm512_i64gather_epi64(idx, (const void *)(bk + 1), 8);
    r.l[2] = _mm512_i64gather_epi64(idx, (const void *)(bk + 2), 8);
    r.l[3] = _mm512_i64gather_epi64(idx, (const void *)(bk + 3), 8);
    r.l[4] = _mm512_i64gather_epi64(idx, (const void *)(bk + 4), 8);
    return r;
}

DT_IFMA_INLINE void dt_fe8_scatter(uint64_t *bk, __m512i idx, dt_fe8 f)
{
    _mm512_i64scatter_epi64((void *)bk, idx, f.l[0], 8);
    _mm512_i64scatter_epi64((void *)(bk + 1), idx, f.l[1], 8);
    _mm512_i64scatter_epi64((void *)(bk + 2), idx, f.l[2], 8);
    _mm512_i64scatter_epi64((void *)(bk + 3), idx, f.l[3], 8);
    _mm512_i64scatter_epi64((void *)(bk + 4), idx, f.l[4], 8);
}

/* (X, Y, Z, T) + (ypx, ymx, xy2d): dt_ge_add_niels then dt_ge_p1p1_to_p3 */
DT_IFMA_INLINE void dt_ge8_add_niels(dt_fe8 *X, dt_fe8 *Y, dt_fe8 *Z, dt_fe8 *T, dt_fe8 ypx, dt_fe8 ymx, dt_fe8 xy2d)
{
    dt_fe8 a = dt_fe8_mul(dt_fe8_add(*Y, *X), ypx);
    dt_fe8 b = dt_fe8_mul(dt_fe8_sub(*Y, *X), ymx);
    dt_fe8 c = dt_fe8_mul(xy2d, *T);
    dt_fe8 d = dt_fe8_add(*Z, *Z);
    dt_fe8 e = dt_fe8_sub(a, b), h = dt_fe8_add(a, b), g = dt_fe8_add(d, c), f = dt_fe8_sub(d, c);
    *X = dt_fe8_mul(e, f);
    *Y = dt_fe8_mul(h, g);
    *Z = dt_fe8_mul(g, f);
    *T = dt_fe8_mul(e, h);
}

/* (X, Y, Z, T) + (qX, qY, qZ, qT), both extended: dt_ge_p3_to_cached,
 * dt_ge_add_cached, dt_ge_p1p1_to_p3 */
DT_IFMA_INLINE void dt_ge8_add(dt_fe8 *X, dt_fe8 *Y, dt_fe8 *Z, dt_fe8 *T, dt_fe8 qX, dt_fe8 qY, dt_fe8 qZ, dt_fe8 qT,
                               dt_fe8 d2)
{
    dt_fe8 a = dt_fe8_mul(dt_fe8_add(*Y, *X), dt_fe8_add(qY, qX));
    dt_fe8 b = dt_fe8_mul(dt_fe8_sub(*Y, *X), dt_fe8_sub(qY, qX));
    dt_fe8 c = dt_fe8_mul(dt_fe8_mul(qT, d2), *T);
    dt_fe8 zz = dt_fe8_mul(*Z, qZ), d = dt_fe8_add(zz, zz);
    dt_fe8 e = dt_fe8_sub(a, b), h = dt_fe8_add(a, b), g = dt_fe8_add(d, c), f = dt_fe8_sub(d, c);
    *X = dt_fe8_mul(e, f);
    *Y = dt_fe8_mul(h, g);
    *Z = dt_fe8_mul(g, f);
    *T = dt_fe8_mul(e, h);
}

/* ---- decoding eight elements at once ----
 *
 * The field arithmetic of RFC 9496 4.3.1 (decode) in the lanes, around the
 * exponentiation above: what dt_r255_decode_begin, dt_fe_invsqrt_many,
 * dt_fe_sqrt_ratio_m1_end and dt_r255_decode_end do one element at a time.
 * Constant time in the values, as they are: comparisons are masks. */

/* one carry from each limb into the next, in order, l[4]'s kept */
DT_IFMA_INLINE void dt_fe8_carry_seq(__m512i l[5])
{
    const __m512i mask = _mm512_set1_epi64((long long)DT_FE_MASK);
    for (int k = 0; k < 4; k++) {
        l[k + 1] = _mm512_add_epi64(l[k + 1], _mm512_srli_epi64(l[k], 51));
        l[k] = _mm512_and_si512(l[k], mask);
    }
}

/* the canonical limbs (value mod p), as dt_fe_tobytes computes them */
DT_IFMA_INLINE dt_fe8 dt_fe8_freeze(dt_fe8 f)
{
    const __m512i mask = _mm512_set1_epi64((long long)DT_FE_MASK), n19 = _mm512_set1_epi64(19);
    dt_fe8 r = dt_fe8_carry(f); /* below 2^51 + 2^17 a limb */
    __m512i q;
    /* a sequential carry, the top one folded back: every limb at most 2^51,
     * the value below 2 p */
    dt_fe8_carry_seq(r.l);
    r.l[0] = _mm512_add_epi64(r.l[0], DT_X19(_mm512_srli_epi64(r.l[4], 51)));
    r.l[4] = _mm512_and_si512(r.l[4], mask);
    r.l[1] = _mm512_add_epi64(r.l[1], _mm512_srli_epi64(r.l[0], 51));
    r.l[0] = _mm512_and_si512(r.l[0], mask);
    /* q = 1 exactly when the value is at least p; then add 19 and drop 2^255 */
    q = _mm512_srli_epi64(_mm512_add_epi64(r.l[0], n19), 51);
    for (int k = 1; k < 5; k++)
        q = _mm512_srli_epi64(_mm512_add_epi64(r.l[k], q), 51);
    r.l[0] = _mm512_add_epi64(r.l[0], DT_X19(q));
    dt_fe8_carry_seq(r.l);
    r.l[4] = _mm512_and_si512(r.l[4], mask);
    return r;
}

/* lanes where f = 0 mod p */
DT_IFMA_INLINE __mmask8 dt_fe8_is_zero(dt_fe8 f)
{
    dt_fe8 r = dt_fe8_freeze(f);
    __m512i o = _mm512_or_si512(_mm512_or_si512(r.l[0], r.l[1]), _mm512_or_si512(_mm512_or_si512(r.l[2], r.l[3]), r.l[4]));
    return _mm512_testn_epi64_mask(o, o);
}

/* lanes where f mod p is odd (IS_NEGATIVE) */
DT_IFMA_INLINE __mmask8 dt_fe8_is_negative(dt_fe8 f)
{
    return _mm512_test_epi64_mask(dt_fe8_freeze(f).l[0], _mm512_set1_epi64(1));
}

DT_IFMA_INLINE dt_fe8 dt_fe8_neg(dt_fe8 f)
{
    const __m512i z = _mm512_setzero_si512();
    return dt_fe8_sub((dt_fe8){{z, z, z, z, z}}, f);
}

/* CT_ABS */
DT_IFMA_INLINE dt_fe8 dt_fe8_abs(dt_fe8 f)
{
    return dt_fe8_blend(dt_fe8_is_negative(f), f, dt_fe8_neg(f));
}

DT_IFMA_TARGET void dt_r255_decode_x8(dt_fe x[8], dt_fe y[8], dt_fe t[8], unsigned ok[8], const dt_fe s[8])
{
    uint64_t col[8] __attribute__((aligned(64)));
    const __m512i z = _mm512_setzero_si512();
    const dt_fe8 one = {{_mm512_set1_epi64(1), z, z, z, z}}, d = dt_fe8_bcast(&dt_fe_d),
                 sqrtm1 = dt_fe8_bcast(&dt_fe_sqrtm1);
    dt_fe8 S, ss, u1, u2, u2sq, v, T, v3, pw, r, check, den_x, den_y, X, Y, XY;
    __mmask8 good, flip;
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 8; i++)
            col[i] = s[i].v[k];
        S.l[k] = _mm512_load_si512((const void *)col);
    }
    ss = dt_fe8_sq(S);
    u1 = dt_fe8_sub(one, ss); /* 1 - s^2 */
    u2 = dt_fe8_add(one, ss); /* 1 + s^2 */
    u2sq = dt_fe8_sq(u2);
    v = dt_fe8_sub(dt_fe8_neg(dt_fe8_mul(dt_fe8_sq(u1), d)), u2sq); /* -(d u1^2) - u2^2 */
    T = dt_fe8_mul(v, u2sq);
    /* SQRT_RATIO_M1(1, T) */
    v3 = dt_fe8_mul(dt_fe8_sq(T), T);
    pw = dt_fe8_pow22523(dt_fe8_mul(dt_fe8_sq(v3), T)); /* (T^7)^((p-5)/8) */
    r = dt_fe8_mul(v3, pw);
    check = dt_fe8_mul(dt_fe8_sq(r), T);
    good = dt_fe8_is_zero(dt_fe8_sub(check, one));                             /* correct sign */
    flip = dt_fe8_is_zero(dt_fe8_add(check, one));                             /* flipped */
    flip |= dt_fe8_is_zero(dt_fe8_add(check, sqrtm1));                         /* flipped_i */
    r = dt_fe8_abs(dt_fe8_blend(flip, r, dt_fe8_mul(r, sqrtm1)));
    good |= dt_fe8_is_zero(dt_fe8_add(check, one));                            /* was_square */
    den_x = dt_fe8_mul(r, u2);
    den_y = dt_fe8_mul(dt_fe8_mul(r, den_x), v);
    X = dt_fe8_mul(S, den_x);
    X = dt_fe8_abs(dt_fe8_add(X, X)); /* |2 s den_x| */
    Y = dt_fe8_mul(u1, den_y);
    XY = dt_fe8_mul(X, Y);
    good &= (__mmask8)~dt_fe8_is_negative(XY);
    good &= (__mmask8)~dt_fe8_is_zero(Y);
    for (int k = 0; k < 5; k++) {
        _mm512_store_si512((void *)col, X.l[k]);
        for (int i = 0; i < 8; i++)
            x[i].v[k] = col[i];
        _mm512_store_si512((void *)col, Y.l[k]);
        for (int i = 0; i < 8; i++)
            y[i].v[k] = col[i];
        _mm512_store_si512((void *)col, XY.l[k]);
        for (int i = 0; i < 8; i++)
            t[i].v[k] = col[i];
    }
    for (int i = 0; i < 8; i++)
        ok[i] = (good >> i) & 1;
}

DT_IFMA_TARGET void dt_pippenger_x8(dt_ge_p3 sum[8], const dt_ge_niels *pn, const int16_t *dig, int windows, int k0,
                                    size_t n, int c, uint64_t *bk)
{
    const size_t nb = (size_t)1 << (c - 1), lane = (nb + 1) * 20;
    const int live = windows - k0 < 8 ? windows - k0 : 8;
    const __mmask8 livem = (__mmask8)((1u << live) - 1);
    const long long L = (long long)lane;
    const __m512i lanebase = _mm512_set_epi64(7 * L, 6 * L, 5 * L, 4 * L, 3 * L, 2 * L, L, 0),
                  trash = _mm512_set1_epi64((long long)nb), one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512();
    const dt_fe8 d2 = dt_fe8_bcast(&dt_fe_d2), fzero = {{zero, zero, zero, zero, zero}},
                 fone = {{_mm512_set1_epi64(1), zero, zero, zero, zero}};
    dt_fe8 rX, rY, rZ, rT, aX, aY, aZ, aT;
    uint64_t out[4][5][8] __attribute__((aligned(64)));

    /* every bucket the identity (0, 1, 1, 0) */
    for (size_t b = 0; b <= nb; b++) {
        __m512i idx = _mm512_add_epi64(lanebase, _mm512_set1_epi64((long long)(b * 20)));
        dt_fe8_scatter(bk, idx, fzero);
        dt_fe8_scatter(bk + 5, idx, fone);
        dt_fe8_scatter(bk + 10, idx, fone);
        dt_fe8_scatter(bk + 15, idx, fzero);
    }
    for (size_t i = 0; i < n; i++) {
        const int16_t *row = dig + i * (size_t)windows + k0;
        __m512i d = _mm512_maskz_cvtepi16_epi64(livem, _mm_loadu_si128((const __m128i *)(const void *)row)), idx;
        __mmask8 nz = _mm512_test_epi64_mask(d, d), neg;
        dt_fe8 ypx, ymx, xy2d, X, Y, Z, T;
        if (!nz)
            continue;
        neg = _mm512_cmplt_epi64_mask(d, zero);
        idx = _mm512_mask_blend_epi64(nz, trash, _mm512_sub_epi64(_mm512_abs_epi64(d), one));
        idx = _mm512_add_epi64(lanebase, _mm512_add_epi64(_mm512_slli_epi64(idx, 4), _mm512_slli_epi64(idx, 2)));
        ypx = dt_fe8_bcast(&pn[i].ypx);
        ymx = dt_fe8_bcast(&pn[i].ymx);
        xy2d = dt_fe8_bcast(&pn[i].xy2d);
        X = dt_fe8_gather(idx, bk);
        Y = dt_fe8_gather(idx, bk + 5);
        Z = dt_fe8_gather(idx, bk + 10);
        T = dt_fe8_gather(idx, bk + 15);
        /* -P: ypx and ymx swapped, xy2d negated */
        dt_ge8_add_niels(&X, &Y, &Z, &T, dt_fe8_blend(neg, ypx, ymx), dt_fe8_blend(neg, ymx, ypx),
                         dt_fe8_blend(neg, xy2d, dt_fe8_sub(fzero, xy2d)));
        dt_fe8_scatter(bk, idx, X);
        dt_fe8_scatter(bk + 5, idx, Y);
        dt_fe8_scatter(bk + 10, idx, Z);
        dt_fe8_scatter(bk + 15, idx, T);
    }
    /* sum (b + 1) bucket[b] as running sums from the top */
    rX = aX = fzero;
    rY = aY = rZ = aZ = fone;
    rT = aT = fzero;
    for (size_t b = nb; b-- > 0;) {
        __m512i idx = _mm512_add_epi64(lanebase, _mm512_set1_epi64((long long)(b * 20)));
        dt_ge8_add(&rX, &rY, &rZ, &rT, dt_fe8_gather(idx, bk), dt_fe8_gather(idx, bk + 5),
                   dt_fe8_gather(idx, bk + 10), dt_fe8_gather(idx, bk + 15), d2);
        dt_ge8_add(&aX, &aY, &aZ, &aT, rX, rY, rZ, rT, d2);
    }
    for (int k = 0; k < 5; k++) {
        _mm512_store_si512((void *)out[0][k], aX.l[k]);
        _mm512_store_si512((void *)out[1][k], aY.l[k]);
        _mm512_store_si512((void *)out[2][k], aZ.l[k]);
        _mm512_store_si512((void *)out[3][k], aT.l[k]);
    }
    for (int w = 0; w < 8; w++)
        for (int k = 0; k < 5; k++) {
            sum[w].X.v[k] = out[0][k][w];
            sum[w].Y.v[k] = out[1][k][w];
            sum[w].Z.v[k] = out[2][k][w];
            sum[w].T.v[k] = out[3][k][w];
        }
}

int dt_r255_ifma(void)
{
    static int have = -1; /* a benign race: every thread computes the same value */
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
    if (h < 0) {
        const char *off = getenv("DT_NO_IFMA");
        __builtin_cpu_init();
        h = (!off || !*off || *off == '0') && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512ifma");
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    return h;
}

#else

int dt_r255_ifma(void)
{
    return 0;
}

void dt_fe_pow22523_x8(dt_fe h[8], const dt_fe f[8])
{
    for (int i = 0; i < 8; i++)
        dt_fe_pow22523(&h[i], &f[i]);
}

void dt_r255_decode_x8(dt_fe x[8], dt_fe y[8], dt_fe t[8], unsigned ok[8], const dt_fe s[8])
{
    (void)x, (void)y, (void)t, (void)ok, (void)s;
    abort(); /* never called: dt_r255_ifma() is 0 */
}

void dt_pippenger_x8(dt_ge_p3 sum[8], const dt_ge_niels *pn, const int16_t *dig, int windows, int k0, size_t n, int c,
                     uint64_t *bk)
{
    (void)sum, (void)pn, (void)dig, (void)windows, (void)k0, (void)n, (void)c, (void)bk;
    abort(); /* never called: dt_r255_ifma() is 0 */
}

#endif
