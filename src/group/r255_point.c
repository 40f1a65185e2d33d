/* ristretto255 encoding and the constant-time scalar multiplications
 * (r255_point.h). */
#include "group/r255_point.h"

/* ---- ristretto255 ---- */

/* The first half of decoding s: canonical and non-negative (the answer), and
 * the values the rest needs; t is what the inverse square root is of. */
typedef struct dt_r255_dec {
    dt_fe s, u1, u2, v, t;
} dt_r255_dec;

static unsigned dt_r255_decode_begin(dt_r255_dec *d, const unsigned char s[32])
{
    dt_fe ss, u2sq, one, t;
    unsigned char chk[32];
    unsigned diff = 0, ok;

    /* canonical: reading s (bits 0..254) and writing it back gives s, which
     * fails for s >= p and for bit 255 set */
    dt_fe_frombytes(&d->s, s);
    dt_fe_tobytes(chk, &d->s);
    for (int i = 0; i < 32; i++)
        diff |= chk[i] ^ s[i];
    ok = ((diff - 1) >> 8) & 1;
    ok &= 1 ^ (s[0] & 1); /* IS_NEGATIVE(s): s is canonical here, so its low bit */

    dt_fe_sq(&ss, &d->s);
    dt_fe_1(&one);
    dt_fe_sub(&d->u1, &one, &ss); /* 1 - s^2 */
    dt_fe_add(&d->u2, &one, &ss); /* 1 + s^2 */
    dt_fe_sq(&u2sq, &d->u2);
    dt_fe_sq(&t, &d->u1);
    dt_fe_mul(&t, &t, &dt_fe_d);
    dt_fe_neg(&d->v, &t);
    dt_fe_sub(&d->v, &d->v, &u2sq); /* -(d u1^2) - u2^2 */
    dt_fe_mul(&d->t, &d->v, &u2sq);
    return ok;
}

/* The second half, with invsqrt = SQRT_RATIO_M1(1, t) and sq its answer. */
static int dt_r255_decode_end(dt_ge_affine *p, const dt_r255_dec *d, unsigned ok, unsigned sq, const dt_fe *invsqrt)
{
    dt_fe den_x, den_y, t;
    ok &= sq;
    dt_fe_mul(&den_x, invsqrt, &d->u2);
    dt_fe_mul(&den_y, invsqrt, &den_x);
    dt_fe_mul(&den_y, &den_y, &d->v);
    dt_fe_mul(&t, &d->s, &den_x);
    dt_fe_add(&t, &t, &t);
    dt_fe_abs(&p->x, &t);            /* |2 s den_x| */
    dt_fe_mul(&p->y, &d->u1, &den_y); /* u1 den_y */
    dt_fe_mul(&p->t, &p->x, &p->y);
    ok &= 1 ^ dt_fe_is_negative(&p->t);
    ok &= 1 ^ dt_fe_is_zero(&p->y);
    return (int)ok - 1;
}

int dt_r255_decode(dt_ge_affine *p, const unsigned char s[32])
{
    dt_r255_dec d;
    dt_fe one, invsqrt;
    unsigned ok = dt_r255_decode_begin(&d, s), sq;
    dt_fe_1(&one);
    sq = dt_fe_sqrt_ratio_m1(&invsqrt, &one, &d.t);
    return dt_r255_decode_end(p, &d, ok, sq, &invsqrt);
}

/* canonical and non-negative (dt_r255_decode_begin's answer), and s's limbs */
static unsigned dt_r255_decode_canonical(dt_fe *fs, const unsigned char s[32])
{
    unsigned char chk[32];
    unsigned diff = 0, ok;
    dt_fe_frombytes(fs, s);
    dt_fe_tobytes(chk, fs);
    for (int i = 0; i < 32; i++)
        diff |= chk[i] ^ s[i];
    ok = ((diff - 1) >> 8) & 1;
    return ok & (1 ^ (s[0] & 1));
}

void dt_r255_decode_many(dt_ge_affine *p, int *ret, const unsigned char *const *s, size_t n)
{
    if (dt_r255_ifma()) {
        for (size_t i = 0; i < n; i += 8) {
            dt_fe fs[8], x[8], y[8], t[8];
            unsigned canon[8], ok[8];
            size_t m = n - i < 8 ? n - i : 8;
            for (size_t j = 0; j < 8; j++)
                canon[j] = j < m ? dt_r255_decode_canonical(&fs[j], s[i + j]) : (dt_fe_0(&fs[j]), 0u);
            dt_r255_decode_x8(x, y, t, ok, fs);
            for (size_t j = 0; j < m; j++) {
                p[i + j].x = x[j];
                p[i + j].y = y[j];
                p[i + j].t = t[j];
                ret[i + j] = (int)(canon[j] & ok[j]) - 1;
            }
        }
        return;
    }
    for (size_t i = 0; i < n; i += 8) {
        dt_r255_dec d[8];
        dt_fe t[8], inv[8];
        unsigned ok[8], sq[8];
        size_t m = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < m; j++) {
            ok[j] = dt_r255_decode_begin(&d[j], s[i + j]);
            t[j] = d[j].t;
        }
        dt_fe_invsqrt_many(inv, sq, t, m);
        for (size_t j = 0; j < m; j++)
            ret[i + j] = dt_r255_decode_end(&p[i + j], &d[j], ok[j], sq[j], &inv[j]);
    }
}

/* The encoding of p once invsqrt = 1/sqrt(t) is known, t = (Z + Y)(Z - Y) (X Y)^2
 * (dt_r255_encode_t); a, if not NULL, gets p in affine form. */
static void dt_r255_encode_end(unsigned char s[32], dt_ge_affine *a, const dt_ge_p3 *p, const dt_fe *u1,
                               const dt_fe *u2, const dt_fe *invsqrt)
{
    dt_fe one, t, den1, den2, zinv, ix, iy, x, y, den_inv;
    unsigned rotate;

    dt_fe_1(&one);
    dt_fe_mul(&den1, invsqrt, u1);
    dt_fe_mul(&den2, invsqrt, u2);
    dt_fe_mul(&zinv, &den1, &den2);
    dt_fe_mul(&zinv, &zinv, &p->T); /* T / (X Y) = 1/Z, or 0 when X Y = 0 */
    dt_fe_mul(&ix, &p->X, &dt_fe_sqrtm1);
    dt_fe_mul(&iy, &p->Y, &dt_fe_sqrtm1);
    dt_fe_mul(&t, &p->T, &zinv);
    rotate = dt_fe_is_negative(&t);
    x = p->X;
    y = p->Y;
    dt_fe_cmov(&x, &iy, rotate);
    dt_fe_cmov(&y, &ix, rotate);
    dt_fe_mul(&den_inv, &den1, &dt_fe_invsqrt_a_minus_d);
    dt_fe_cmov(&den_inv, &den2, 1 ^ rotate);
    dt_fe_mul(&t, &x, &zinv);
    dt_fe_cneg(&y, dt_fe_is_negative(&t));
    dt_fe_sub(&t, &p->Z, &y);
    dt_fe_mul(&t, &t, &den_inv);
    dt_fe_abs(&t, &t);
    dt_fe_tobytes(s, &t);

    if (a) {
        /* X Y = 0 only for the points of the identity's coset (x = 0 or
         * y = 0): then zinv = 0, x and xy come out 0, and y is set to 1 */
        dt_fe_mul(&a->x, &p->X, &zinv);
        dt_fe_mul(&a->y, &p->Y, &zinv);
        dt_fe_mul(&a->t, &a->x, &a->y);
        dt_fe_cmov(&a->y, &one, dt_fe_is_zero(&zinv));
    }
}

/* u1 = (Z + Y)(Z - Y), u2 = X Y, t = u1 u2^2: the encoding's inverse square root is of t */
static void dt_r255_encode_t(dt_fe *u1, dt_fe *u2, dt_fe *t, const dt_ge_p3 *p)
{
    dt_fe_add(u1, &p->Z, &p->Y);
    dt_fe_sub(t, &p->Z, &p->Y);
    dt_fe_mul(u1, u1, t);
    dt_fe_mul(u2, &p->X, &p->Y);
    dt_fe_sq(t, u2);
    dt_fe_mul(t, t, u1);
}

void dt_r255_encode(unsigned char s[32], dt_ge_affine *a, const dt_ge_p3 *p)
{
    dt_fe u1, u2, t, one, invsqrt;
    dt_r255_encode_t(&u1, &u2, &t, p);
    dt_fe_1(&one);
    (void)dt_fe_sqrt_ratio_m1(&invsqrt, &one, &t); /* a square for every valid point */
    dt_r255_encode_end(s, a, p, &u1, &u2, &invsqrt);
}

void dt_r255_encode_many(unsigned char (*s)[32], dt_ge_affine *a, const dt_ge_p3 *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        dt_fe u1[8], u2[8], t[8], inv[8];
        unsigned sq[8];
        size_t m = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < m; j++)
            dt_r255_encode_t(&u1[j], &u2[j], &t[j], &p[i + j]);
        dt_fe_invsqrt_many(inv, sq, t, m);
        for (size_t j = 0; j < m; j++)
            dt_r255_encode_end(s[i + j], a ? &a[i + j] : NULL, &p[i + j], &u1[j], &u2[j], &inv[j]);
    }
}

unsigned dt_r255_eq(const dt_ge_p3 *p, const dt_ge_p3 *q)
{
    dt_fe a, b;
    unsigned e1, e2;
    dt_fe_mul(&a, &p->X, &q->Y);
    dt_fe_mul(&b, &p->Y, &q->X);
    e1 = dt_fe_eq(&a, &b);
    dt_fe_mul(&a, &p->Y, &q->Y);
    dt_fe_mul(&b, &p->X, &q->X);
    e2 = dt_fe_eq(&a, &b);
    return e1 | e2;
}

/* ---- constant-time scalar multiplication ---- */

/* e (below 2^255) as 64 signed radix-16 digits in [-8, 8]: e = sum d[i] 16^i */
static void dt_r255_recode16(signed char d[64], const unsigned char e[32])
{
    int carry = 0;
    for (int i = 0; i < 32; i++) {
        d[2 * i] = (signed char)(e[i] & 15);
        d[2 * i + 1] = (signed char)(e[i] >> 4);
    }
    for (int i = 0; i < 63; i++) {
        int x = d[i] + carry; /* 0..16 */
        carry = (x + 8) >> 4;
        d[i] = (signed char)(x - (carry << 4));
    }
    d[63] = (signed char)(d[63] + carry);
}

/* 1 if a == b, for 0 <= a, b < 2^31 */
static unsigned dt_ct_equal(unsigned a, unsigned b)
{
    return (((a ^ b) - 1U) >> 31) & 1;
}

/* sign (1 if b < 0) and |b| of a digit, without branches */
static unsigned dt_digit_abs(unsigned *neg, int b)
{
    unsigned m = (unsigned)(b >> 31); /* all ones if negative */
    *neg = m & 1;
    return ((unsigned)b ^ m) - m;
}

/* The masks of a lookup: m[j] all ones iff |d| = j + 1; *m0 all ones iff d = 0. */
static unsigned dt_select_masks(uint64_t m[8], uint64_t *m0, int d)
{
    unsigned neg, abs = dt_digit_abs(&neg, d);
    for (unsigned j = 0; j < 8; j++)
        m[j] = (uint64_t)0 - dt_ct_equal(abs, j + 1);
    *m0 = (uint64_t)0 - dt_ct_equal(abs, 0);
    return neg;
}

/* Two limbs at a time (GNU C vector extension: SSE2 on x86-64, plain
 * 64-bit operations elsewhere). */
typedef uint64_t dt_u64x2 __attribute__((vector_size(16)));

/* acc[k] |= m & row[k] for the 16-byte chunks of one table entry */
#define DT_SELECT_ACC(acc, chunks, entry, m)                                                      \
    do {                                                                                          \
        const dt_u64x2 mm_ = {(m), (m)};                                                          \
        _Pragma("GCC unroll 10") for (int k_ = 0; k_ < (chunks); k_++)                            \
        {                                                                                         \
            dt_u64x2 v_;                                                                          \
            memcpy(&v_, (const unsigned char *)(entry) + 16 * k_, 16);                            \
            (acc)[k_] |= mm_ & v_;                                                                \
        }                                                                                         \
    } while (0)

/* r = |d| tab[|d| - 1], or the identity for d = 0, reading all 8 entries:
 * r is the OR of the entries under their masks, accumulated in registers
 * (a quarter of the instructions of conditional moves into *r). Then
 * negated when d < 0: y + x and y - x swap, and 2dT (2dxy) changes sign. */
static void dt_ge_cached_select(dt_ge_cached *r, const dt_ge_cached tab[8], int d)
{
    uint64_t m[8], m0;
    unsigned neg = dt_select_masks(m, &m0, d);
    dt_u64x2 acc[10];
    dt_fe t;
    _Static_assert(sizeof(dt_ge_cached) == sizeof acc, "a cached point is 10 chunks");
    memset(acc, 0, sizeof acc);
    _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) DT_SELECT_ACC(acc, 10, &tab[j], m[j]);
    memcpy(r, acc, sizeof acc);
    r->ypx.v[0] |= m0 & 1; /* the identity: (1, 1, 1, 0) */
    r->ymx.v[0] |= m0 & 1;
    r->Z.v[0] |= m0 & 1;
    t = r->ypx;
    dt_fe_cmov(&r->ypx, &r->ymx, neg);
    dt_fe_cmov(&r->ymx, &t, neg);
    dt_fe_cneg(&r->t2d, neg);
}

static void dt_ge_niels_select(dt_ge_niels *r, const dt_ge_niels tab[8], int d)
{
    uint64_t m[8], m0, last = 0;
    unsigned neg = dt_select_masks(m, &m0, d);
    dt_u64x2 acc[7];
    dt_fe t;
    _Static_assert(sizeof(dt_ge_niels) == sizeof acc + 8, "a niels point is 7 chunks and a limb");
    memset(acc, 0, sizeof acc);
    _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)
    {
        DT_SELECT_ACC(acc, 7, &tab[j], m[j]);
        last |= m[j] & tab[j].xy2d.v[4];
    }
    memcpy(r, acc, sizeof acc);
    r->xy2d.v[4] = last;
    r->ypx.v[0] |= m0 & 1; /* the identity: (1, 1, 0) */
    r->ymx.v[0] |= m0 & 1;
    t = r->ypx;
    dt_fe_cmov(&r->ypx, &r->ymx, neg);
    dt_fe_cmov(&r->ymx, &t, neg);
    dt_fe_cneg(&r->xy2d, neg);
}

/* h = 16 h */
static void dt_ge_p3_dbl4(dt_ge_p3 *h)
{
    dt_ge_p1p1 t;
    dt_ge_p2 q;
    dt_ge_p3_dbl(&t, h);
    for (int k = 0; k < 3; k++) {
        dt_ge_p1p1_to_p2(&q, &t);
        dt_ge_p2_dbl(&t, &q);
    }
    dt_ge_p1p1_to_p3(h, &t);
}

void dt_r255_mult(dt_ge_p3 *r, const dt_ge_p3 *p, const unsigned char e[32])
{
    dt_ge_cached tab[8], c;
    dt_ge_p1p1 t;
    dt_ge_p3 h, u;
    signed char d[64];

    /* tab[j] = (j + 1) P */
    dt_ge_p3_to_cached(&tab[0], p);
    u = *p;
    for (int j = 1; j < 8; j++) {
        dt_ge_add_cached(&t, &u, &tab[0], 0);
        dt_ge_p1p1_to_p3(&u, &t);
        dt_ge_p3_to_cached(&tab[j], &u);
    }
    dt_r255_recode16(d, e);
    dt_ge_p3_0(&h);
    for (int i = 63; i >= 0; i--) {
        if (i != 63)
            dt_ge_p3_dbl4(&h);
        dt_ge_cached_select(&c, tab, d[i]);
        dt_ge_add_cached(&t, &h, &c, 0);
        dt_ge_p1p1_to_p3(&h, &t);
    }
    *r = h;
    dt_memzero(d, sizeof d);
    dt_memzero(&c, sizeof c);
    dt_memzero(&t, sizeof t);
    dt_memzero(&h, sizeof h);
}

/* ---- fixed-base tables ---- */

void dt_r255_table_init(dt_r255_table *tab, const dt_ge_p3 *p)
{
    /* First the 256 points in extended coordinates, their X, Y, Z parked in
     * the table's own slots; then one batch inversion of the Z. */
    dt_fe z[256], scratch[256];
    dt_ge_cached row;
    dt_ge_p1p1 t;
    dt_ge_p3 base = *p, cur;

    for (int i = 0; i < 32; i++) {
        dt_ge_p3_to_cached(&row, &base);
        cur = base;
        for (int j = 0; j < 8; j++) {
            if (j > 0) {
                dt_ge_add_cached(&t, &cur, &row, 0);
                dt_ge_p1p1_to_p3(&cur, &t);
            }
            tab->t[i][j].ypx = cur.X;
            tab->t[i][j].ymx = cur.Y;
            z[8 * i + j] = cur.Z;
        }
        /* next row: 256 base = 32 (8 base) */
        base = cur;
        for (int k = 0; k < 5; k++) {
            dt_ge_p3_dbl(&t, &base);
            dt_ge_p1p1_to_p3(&base, &t);
        }
    }
    dt_fe_batch_invert(z, z, scratch, 256);
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 8; j++) {
            dt_ge_niels *n = &tab->t[i][j];
            dt_ge_affine a;
            dt_fe_mul(&a.x, &n->ypx, &z[8 * i + j]);
            dt_fe_mul(&a.y, &n->ymx, &z[8 * i + j]);
            dt_fe_mul(&a.t, &a.x, &a.y);
            dt_ge_affine_to_niels(n, &a);
        }
}

void dt_r255_table_mult(dt_ge_p3 *r, const dt_r255_table *tab, const unsigned char e[32])
{
    dt_ge_niels n;
    dt_ge_p1p1 t;
    dt_ge_p3 h;
    signed char d[64];

    /* e P = sum d[2i+1] 16 256^i P + sum d[2i] 256^i P: the odd digits,
     * times 16, then the even ones */
    dt_r255_recode16(d, e);
    dt_ge_p3_0(&h);
    for (int i = 1; i < 64; i += 2) {
        dt_ge_niels_select(&n, tab->t[i / 2], d[i]);
        dt_ge_add_niels(&t, &h, &n, 0);
        dt_ge_p1p1_to_p3(&h, &t);
    }
    dt_ge_p3_dbl4(&h);
    for (int i = 0; i < 64; i += 2) {
        dt_ge_niels_select(&n, tab->t[i / 2], d[i]);
        dt_ge_add_niels(&t, &h, &n, 0);
        dt_ge_p1p1_to_p3(&h, &t);
    }
    *r = h;
    dt_memzero(d, sizeof d);
    dt_memzero(&n, sizeof n);
    dt_memzero(&t, sizeof t);
    dt_memzero(&h, sizeof h);
}
