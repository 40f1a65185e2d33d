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

#endif
