/* Variable-time multi-scalar multiplication (r255_point.h): Straus with
 * width-5 NAF for a few points, Pippenger's bucket method for many.
 * Everything here is public data (verification), so it branches freely. */
#include <stdlib.h>

#include "group/r255_point.h"

#define DT_NAF_W 5
#define DT_NAF_ODD 8 /* odd multiples P, 3P, ..., 15P */

/* e (below 2^253, as every reduced scalar) as a width-5 NAF: naf[i] odd in
 * [-15, 15] or 0, nonzero digits at least 5 apart, e = sum naf[i] 2^i.
 * Returns 1 + the index of the highest nonzero digit (0 for e = 0). The
 * last carry lands at most at bit 254. */
static int dt_naf5(signed char naf[256], const unsigned char e[32])
{
    uint64_t x[5] = {0}, carry = 0;
    const uint64_t width = 1 << DT_NAF_W, mask = width - 1;
    int pos = 0, top = 0;

    for (int i = 0; i < 32; i++)
        x[i / 8] |= (uint64_t)e[i] << (8 * (i % 8));
    memset(naf, 0, 256);
    while (pos < 256) {
        int idx = pos / 64, bit = pos % 64;
        uint64_t buf = x[idx] >> bit, window;
        if (bit > 64 - DT_NAF_W)
            buf |= x[idx + 1] << (64 - bit);
        window = carry + (buf & mask);
        if ((window & 1) == 0) {
            pos++; /* an even window: the carry stays as it is */
            continue;
        }
        if (window < width / 2) {
            carry = 0;
            naf[pos] = (signed char)window;
        } else {
            carry = 1;
            naf[pos] = (signed char)((int)window - (int)width);
        }
        top = pos + 1;
        pos += DT_NAF_W;
    }
    return top;
}

/* tab[k] = (2k + 1) P */
static void dt_odd_multiples(dt_ge_cached tab[DT_NAF_ODD], const dt_ge_affine *a)
{
    dt_ge_p3 p, p2;
    dt_ge_p1p1 t;
    dt_ge_cached c2;
    dt_ge_from_affine(&p, a);
    dt_ge_p3_to_cached(&tab[0], &p);
    dt_ge_p3_dbl(&t, &p);
    dt_ge_p1p1_to_p3(&p2, &t);
    dt_ge_p3_to_cached(&c2, &p2);
    for (int k = 1; k < DT_NAF_ODD; k++) {
        dt_ge_add_cached(&t, &p, &c2, 0);
        dt_ge_p1p1_to_p3(&p, &t);
        dt_ge_p3_to_cached(&tab[k], &p);
    }
}

/* Straus's method with scratch space for n tables and NAFs. */
static void dt_straus(dt_ge_p3 *r, const dt_ge_affine *p, const unsigned char *e, size_t n,
                      dt_ge_cached (*tab)[DT_NAF_ODD], signed char (*naf)[256])
{
    dt_ge_p1p1 t;
    dt_ge_p2 h;
    dt_ge_p3 u;
    int top = 0;

    for (size_t i = 0; i < n; i++) {
        int len = dt_naf5(naf[i], e + 32 * i);
        if (len > top)
            top = len;
        if (len > 0)
            dt_odd_multiples(tab[i], &p[i]);
    }
    dt_ge_p3_0(r);
    if (top == 0)
        return;
    dt_ge_p3_to_p2(&h, r);
    for (int pos = top - 1; pos >= 0; pos--) {
        dt_ge_p2_dbl(&t, &h);
        for (size_t i = 0; i < n; i++) {
            int d = naf[i][pos];
            if (d == 0)
                continue;
            dt_ge_p1p1_to_p3(&u, &t);
            if (d > 0)
                dt_ge_add_cached(&t, &u, &tab[i][d / 2], 0);
            else
                dt_ge_add_cached(&t, &u, &tab[i][-d / 2], 1);
        }
        if (pos > 0)
            dt_ge_p1p1_to_p2(&h, &t);
    }
    dt_ge_p1p1_to_p3(r, &t);
}

void dt_r255_straus_var(dt_ge_p3 *r, const dt_ge_affine *p, const unsigned char *e, size_t n)
{
    dt_ge_cached tab[DT_R255_STRAUS_MAX][DT_NAF_ODD];
    signed char naf[DT_R255_STRAUS_MAX][256];
    if (n > DT_R255_STRAUS_MAX)
        dt_misuse("dt_r255_straus_var: too many points");
    dt_straus(r, p, e, n, tab, naf);
}

/* ---- Pippenger ---- */

/* Bits of the longest scalar. */
static int dt_max_bits(const unsigned char *e, size_t n)
{
    int best = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 31; b >= 0; b--)
            if (e[32 * i + b]) {
                int bits = 8 * b + 32 - __builtin_clz(e[32 * i + b]);
                if (bits > best)
                    best = bits;
                break;
            }
    return best;
}

/* Estimated costs in field multiplications (a squaring counted as 0.8),
 * which match the counts measured on random scalars within a few percent.
 * Straus: per point, its table (about 72) and a NAF digit every 6 bits
 * (8 each); per bit, one doubling (7.2). Pippenger with window c: per
 * window, one mixed addition (7) per point beyond the first of each bucket,
 * 2^c additions (9) to sum the buckets, c doublings. Returns the cheaper
 * method's cost, and in *c the best window. */
static double dt_straus_cost(size_t n, int bits)
{
    return (double)n * (72.0 + 8.0 * bits / 6.0) + 7.2 * bits;
}

static double dt_pippenger_cost(size_t n, int bits, int *best_c)
{
    double best = 0;
    for (int c = 3; c <= 16; c++) {
        double w = bits / c + 1, nb = (double)((size_t)1 << (c - 1));
        double fill = (double)n > nb ? (double)n - nb : 0;
        double cost = w * (7.0 * fill + 9.0 * 2 * nb) + 7.2 * w * c;
        if (c == 3 || cost < best) {
            best = cost;
            *best_c = c;
        }
    }
    return best;
}

/* With AVX-512 IFMA (dt_pippenger_x8), in microseconds on this project's
 * machine (bench msm at 64 to 9,216 points): a point added in eight windows
 * at once about 0.4, a bucket of eight windows summed about 0.74 (its two
 * additions, and its share of setting the buckets to the identity); a pass
 * of eight windows over the points whose scalars reach them (weights of 128
 * bits stop halfway). A field multiplication of the portable code about
 * 0.019, for Straus's cost. */
#define DT_US_PER_MUL 0.019

/* how many scalars have more than 136 bits */
static size_t dt_long_scalars(const unsigned char *e, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (int b = 17; b < 32 && !any; b++)
            any = e[32 * i + b] != 0;
        k += (size_t)any;
    }
    return k;
}

static double dt_pippenger_x8_cost(size_t n, size_t nlong, int bits, int *best_c)
{
    double best = 0;
    for (int c = 3; c <= 14; c++) {
        int windows = bits / c + 1;
        double nb = (double)((size_t)1 << (c - 1)), cost = 0;
        for (int k0 = 0; k0 < windows; k0 += 8)
            cost += 0.4 * (double)(k0 * c < 136 ? n : nlong) + 0.74 * nb;
        if (c == 3 || cost < best) {
            best = cost;
            *best_c = c;
        }
    }
    return best;
}

/* Signed digits of radix 2^c: e = sum dig[k] 2^(c k), dig[k] in
 * [-2^(c-1), 2^(c-1)]; windows = bits / c + 1 so that the last carry fits. */
static void dt_recode_signed(int16_t *dig, int windows, const unsigned char e[32], int c)
{
    uint64_t x[5] = {0};
    const uint64_t mask = ((uint64_t)1 << c) - 1;
    int carry = 0;
    for (int i = 0; i < 32; i++)
        x[i / 8] |= (uint64_t)e[i] << (8 * (i % 8));
    for (int k = 0; k < windows; k++) {
        int pos = k * c, idx = pos / 64, bit = pos % 64;
        uint64_t buf = 0;
        int v;
        if (idx < 4) {
            buf = x[idx] >> bit;
            if (bit > 64 - c)
                buf |= x[idx + 1] << (64 - bit);
        }
        v = (int)(buf & mask) + carry;
        carry = v > (1 << (c - 1));
        dig[k] = (int16_t)(v - (carry << c));
    }
}

/* r = 2^c r */
static void dt_ge_p3_dbl_n(dt_ge_p3 *r, int c)
{
    dt_ge_p1p1 t;
    dt_ge_p3_dbl(&t, r);
    for (int j = 1; j < c; j++) {
        dt_ge_p2 q;
        dt_ge_p1p1_to_p2(&q, &t);
        dt_ge_p2_dbl(&t, &q);
    }
    dt_ge_p1p1_to_p3(r, &t);
}

/* h = h + q (q in extended coordinates), through the cached form */
static void dt_ge_p3_add(dt_ge_p3 *h, const dt_ge_p3 *q)
{
    dt_ge_cached c;
    dt_ge_p1p1 t;
    dt_ge_p3_to_cached(&c, q);
    dt_ge_add_cached(&t, h, &c, 0);
    dt_ge_p1p1_to_p3(h, &t);
}

static void dt_pippenger(dt_ge_p3 *r, const dt_ge_niels *pn, const dt_ge_affine *p, const int16_t *dig,
                         int windows, size_t n, int c, dt_ge_p3 *bucket, unsigned char *used)
{
    const size_t nb = (size_t)1 << (c - 1);
    dt_ge_p1p1 t;

    dt_ge_p3_0(r);
    for (int k = windows - 1; k >= 0; k--) {
        dt_ge_p3 run, acc;
        int have_run = 0, have_acc = 0;
        if (k != windows - 1)
            dt_ge_p3_dbl_n(r, c);
        memset(used, 0, nb);
        for (size_t i = 0; i < n; i++) {
            int d = dig[i * (size_t)windows + (size_t)k];
            size_t b;
            if (d == 0)
                continue;
            b = (size_t)(d > 0 ? d : -d) - 1;
            if (!used[b]) {
                dt_ge_from_affine(&bucket[b], &p[i]);
                if (d < 0) {
                    dt_fe_neg(&bucket[b].X, &bucket[b].X);
                    dt_fe_neg(&bucket[b].T, &bucket[b].T);
                }
                used[b] = 1;
                continue;
            }
            dt_ge_add_niels(&t, &bucket[b], &pn[i], d < 0);
            dt_ge_p1p1_to_p3(&bucket[b], &t);
        }
        /* sum (b + 1) bucket[b] as running sums from the top */
        for (size_t b = nb; b-- > 0;) {
            if (used[b]) {
                if (have_run)
                    dt_ge_p3_add(&run, &bucket[b]);
                else
                    run = bucket[b];
                have_run = 1;
            }
            if (!have_run)
                continue;
            if (have_acc)
                dt_ge_p3_add(&acc, &run);
            else
                acc = run;
            have_acc = 1;
        }
        if (have_acc)
            dt_ge_p3_add(r, &acc);
    }
}

dt_err dt_r255_msm_var(dt_ge_p3 *r, const dt_ge_affine *p, const unsigned char *e, size_t n)
{
    int bits, c = 3, windows;
    size_t nb;
    dt_ge_niels *pn = NULL;
    int16_t *dig = NULL;
    dt_ge_p3 *bucket = NULL;
    unsigned char *used = NULL;
    dt_err err = DT_ERR_NOMEM;
    const int ifma = dt_r255_ifma();

    dt_ge_p3_0(r);
    if (n <= DT_R255_STRAUS_MAX) {
        dt_r255_straus_var(r, p, e, n);
        return DT_OK;
    }
    bits = dt_max_bits(e, n);
    if (bits == 0)
        return DT_OK;
    if (ifma ? dt_straus_cost(n, bits) * DT_US_PER_MUL <= dt_pippenger_x8_cost(n, dt_long_scalars(e, n), bits, &c)
             : dt_straus_cost(n, bits) <= dt_pippenger_cost(n, bits, &c)) {
        /* (below about 130 points: the sizes cannot overflow) */
        dt_ge_cached (*tab)[DT_NAF_ODD] = malloc(n * sizeof *tab);
        signed char (*naf)[256] = malloc(n * sizeof *naf);
        if (tab && naf) {
            dt_straus(r, p, e, n, tab, naf);
            err = DT_OK;
        }
        free(tab);
        free(naf);
        return err;
    }
    windows = bits / c + 1;
    nb = (size_t)1 << (c - 1);
    if (n > (SIZE_MAX - 16) / (sizeof *pn + (size_t)windows * sizeof *dig))
        return DT_ERR_NOMEM;
    pn = malloc(n * sizeof *pn);
    dig = malloc((n * (size_t)windows + 8) * sizeof *dig); /* 8 more: dt_pippenger_x8 reads 8 digits a row */
    if (ifma) {
        bucket = malloc(windows * sizeof *bucket);                      /* the windows' sums */
        used = malloc(8 * (nb + 1) * 20 * sizeof(uint64_t));            /* the buckets of 8 windows */
    } else {
        bucket = malloc(nb * sizeof *bucket);
        used = malloc(nb);
    }
    if (!pn || !dig || !bucket || !used)
        goto out;
    for (size_t i = 0; i < n; i++) {
        dt_ge_affine_to_niels(&pn[i], &p[i]);
        dt_recode_signed(dig + i * (size_t)windows, windows, e + 32 * i, c);
    }
    memset(dig + n * (size_t)windows, 0, 8 * sizeof *dig);
    if (ifma) {
        for (int k0 = 0; k0 < windows; k0 += 8) {
            dt_ge_p3 s8[8];
            dt_pippenger_x8(s8, pn, dig, windows, k0, n, c, (uint64_t *)(void *)used);
            for (int w = 0; w < 8 && k0 + w < windows; w++)
                bucket[k0 + w] = s8[w];
        }
        /* r = sum 2^(c k) S_k, from the top window down */
        *r = bucket[windows - 1];
        for (int k = windows - 2; k >= 0; k--) {
            dt_ge_p3_dbl_n(r, c);
            dt_ge_p3_add(r, &bucket[k]);
        }
    } else {
        dt_pippenger(r, pn, p, dig, windows, n, c, bucket, used);
    }
    err = DT_OK;
out:
    free(pn);
    free(dig);
    free(bucket);
    free(used);
    return err;
}
