/* GF(2^255 - 19): the constants and the exponentiations (r255_field.h). */
#include "group/r255_field.h"

const dt_fe dt_fe_d = {{929955233495203, 466365720129213, 1662059464998953, 2033849074728123,
                        1442794654840575}};
const dt_fe dt_fe_d2 = {{1859910466990425, 932731440258426, 1072319116312658, 1815898335770999,
                         633789495995903}};
const dt_fe dt_fe_sqrtm1 = {{1718705420411056, 234908883556509, 2233514472574048, 2117202627021982,
                             765476049583133}};
const dt_fe dt_fe_invsqrt_a_minus_d = {{278908739862762, 821645201101625, 8113234426968,
                                        1777959178193151, 2118520810568447}};

/* t19 = f^(2^250 - 1), t3 = f^11: the common part of both exponents
 * (the chain of ref10 and curve25519-dalek; the comment after each step is
 * the exponent in binary runs). */
static void dt_fe_pow22501(dt_fe *t19, dt_fe *t3, const dt_fe *f)
{
    dt_fe t0, t1, t2, t4;
    dt_fe_sq(&t0, f);         /* 1 */
    dt_fe_sqn(&t1, &t0, 2);   /* 3 */
    dt_fe_mul(&t2, f, &t1);   /* 3,0 */
    dt_fe_mul(t3, &t0, &t2);  /* 3,1,0 = 11 */
    dt_fe_sq(&t4, t3);        /* 4,2,1 */
    dt_fe_mul(&t2, &t2, &t4); /* 4..0 = 2^5 - 1 */
    dt_fe_sqn(&t4, &t2, 5);
    dt_fe_mul(&t2, &t4, &t2); /* 2^10 - 1 */
    dt_fe_sqn(&t4, &t2, 10);
    dt_fe_mul(&t4, &t4, &t2); /* 2^20 - 1 */
    dt_fe_sqn(&t1, &t4, 20);
    dt_fe_mul(&t4, &t1, &t4); /* 2^40 - 1 */
    dt_fe_sqn(&t4, &t4, 10);
    dt_fe_mul(&t2, &t4, &t2); /* 2^50 - 1 */
    dt_fe_sqn(&t4, &t2, 50);
    dt_fe_mul(&t4, &t4, &t2); /* 2^100 - 1 */
    dt_fe_sqn(&t1, &t4, 100);
    dt_fe_mul(&t4, &t1, &t4); /* 2^200 - 1 */
    dt_fe_sqn(&t4, &t4, 50);
    dt_fe_mul(t19, &t4, &t2); /* 2^250 - 1 */
}

void dt_fe_invert(dt_fe *h, const dt_fe *f)
{
    dt_fe t19, t3;
    dt_fe_pow22501(&t19, &t3, f);
    dt_fe_sqn(&t19, &t19, 5);
    dt_fe_mul(h, &t19, &t3); /* 2^255 - 2^5 + 11 = p - 2 */
}

void dt_fe_pow22523(dt_fe *h, const dt_fe *f)
{
    dt_fe t19, t3;
    dt_fe_pow22501(&t19, &t3, f);
    dt_fe_sqn(&t19, &t19, 2);
    dt_fe_mul(h, &t19, f); /* 2^252 - 3 = (p - 5)/8 */
}

/* The end of SQRT_RATIO_M1(u, v) once v3 = v^3 and pw = (u v^7)^((p-5)/8)
 * are known. */
static unsigned dt_fe_sqrt_ratio_m1_end(dt_fe *r, const dt_fe *u, const dt_fe *v, const dt_fe *v3,
                                        const dt_fe *pw)
{
    dt_fe x, check, t, nu, nui;
    unsigned correct, flipped, flipped_i;

    dt_fe_mul(&x, u, v3);
    dt_fe_mul(&x, &x, pw); /* r = u v^3 (u v^7)^((p-5)/8) */

    dt_fe_sq(&check, &x);
    dt_fe_mul(&check, &check, v); /* v r^2 */
    dt_fe_neg(&nu, u);
    dt_fe_mul(&nui, &nu, &dt_fe_sqrtm1);
    correct = dt_fe_eq(&check, u);
    flipped = dt_fe_eq(&check, &nu);
    flipped_i = dt_fe_eq(&check, &nui);

    dt_fe_mul(&t, &x, &dt_fe_sqrtm1);
    dt_fe_cmov(&x, &t, flipped | flipped_i);
    dt_fe_abs(r, &x);
    return correct | flipped;
}

unsigned dt_fe_sqrt_ratio_m1(dt_fe *r, const dt_fe *u, const dt_fe *v)
{
    dt_fe v3, v7, t;

    dt_fe_sq(&v3, v);
    dt_fe_mul(&v3, &v3, v); /* v^3 */
    dt_fe_sq(&v7, &v3);
    dt_fe_mul(&v7, &v7, v); /* v^7 */
    dt_fe_mul(&t, u, &v7);
    dt_fe_pow22523(&t, &t); /* (u v^7)^((p-5)/8) */
    return dt_fe_sqrt_ratio_m1_end(r, u, v, &v3, &t);
}

void dt_fe_invsqrt_many(dt_fe *r, unsigned *ok, const dt_fe *v, size_t n)
{
    const int ifma = dt_r255_ifma();
    dt_fe one;
    dt_fe_1(&one);
    for (size_t i = 0; i < n; i += 8) {
        dt_fe v3[8], x[8], pw[8];
        size_t m = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < 8; j++) {
            if (j >= m) {
                x[j] = one; /* a lane that nobody reads */
                continue;
            }
            dt_fe_sq(&v3[j], &v[i + j]);
            dt_fe_mul(&v3[j], &v3[j], &v[i + j]);
            dt_fe_sq(&x[j], &v3[j]);
            dt_fe_mul(&x[j], &x[j], &v[i + j]); /* u v^7 with u = 1 */
        }
        if (ifma)
            dt_fe_pow22523_x8(pw, x);
        else
            for (size_t j = 0; j < m; j++)
                dt_fe_pow22523(&pw[j], &x[j]);
        for (size_t j = 0; j < m; j++)
            ok[i + j] = dt_fe_sqrt_ratio_m1_end(&r[i + j], &one, &v[i + j], &v3[j], &pw[j]);
    }
}

void dt_fe_batch_invert(dt_fe *out, const dt_fe *in, dt_fe *scratch, size_t n)
{
    dt_fe acc, t;
    if (n == 0)
        return;
    /* scratch[i] = in[0] ... in[i-1] */
    dt_fe_1(&acc);
    for (size_t i = 0; i < n; i++) {
        scratch[i] = acc;
        dt_fe_mul(&acc, &acc, &in[i]);
    }
    dt_fe_invert(&acc, &acc);
    for (size_t i = n; i-- > 0;) {
        dt_fe_mul(&t, &acc, &scratch[i]);  /* 1/in[i] */
        dt_fe_mul(&acc, &acc, &in[i]);     /* 1/(in[0] ... in[i-1]); before out[i] may overwrite in[i] */
        out[i] = t;
    }
}
