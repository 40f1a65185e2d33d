/* Private: edwards25519 points, ristretto255 encoding (RFC 9496) and the
 * scalar multiplications of the ristretto255 backend.
 *
 * The curve is -x^2 + y^2 = 1 + d x^2 y^2. Coordinate systems, as in ref10:
 *   dt_ge_p3      extended (X : Y : Z : T), x = X/Z, y = Y/Z, x y = T/Z;
 *   dt_ge_p2      projective (X : Y : Z);
 *   dt_ge_p1p1    completed ((X : Z), (Y : T)), x = X/Z, y = Y/T: the output
 *                 of an addition or a doubling, converted to p2 (3 mul) when
 *                 a doubling follows, to p3 (4 mul) when an addition does;
 *   dt_ge_cached  (Y+X, Y-X, Z, 2dT): a point ready to be added;
 *   dt_ge_niels   (y+x, y-x, 2dxy) with Z = 1: a point of a precomputed table;
 *   dt_ge_affine  (x, y, xy): how an element is stored between operations.
 * The addition formulas are the unified ones of Hisil, Wong, Carter and
 * Dawson (2008) for a = -1, complete on this curve (d is not a square), so
 * the identity and equal operands need no special case.
 *
 * A ristretto255 element is a coset of the 4-torsion; any point of the coset
 * represents it, and two representatives of one element give the same
 * encoding. Scalars are 32 little-endian bytes below 2^255 (the group order
 * l is below 2^253, and every scalar here is reduced).
 *
 * Functions without _var run in constant time in their scalar and point
 * arguments; _var functions branch on their (public) inputs. */
#ifndef DT_R255_POINT_H
#define DT_R255_POINT_H

#include <detente/common.h>

#include "group/r255_field.h"

typedef struct dt_ge_p3 {
    dt_fe X, Y, Z, T;
} dt_ge_p3;

typedef struct dt_ge_p2 {
    dt_fe X, Y, Z;
} dt_ge_p2;

typedef struct dt_ge_p1p1 {
    dt_fe X, Y, Z, T;
} dt_ge_p1p1;

typedef struct dt_ge_cached {
    dt_fe ypx, ymx, Z, t2d;
} dt_ge_cached;

typedef struct dt_ge_niels {
    dt_fe ypx, ymx, xy2d;
} dt_ge_niels;

typedef struct dt_ge_affine {
    dt_fe x, y, t;
} dt_ge_affine;

/* A fixed-base table: t[i][j] = (j + 1) 256^i P, for 32 windows of 8 bits,
 * each split into two signed radix-16 digits (ref10's layout; 30 KiB). */
typedef struct dt_r255_table {
    dt_ge_niels t[32][8];
} dt_r255_table;

/* ---- point formulas (inline: the hot loops are made of them) ---- */

DT_FE_INLINE void dt_ge_p3_0(dt_ge_p3 *h)
{
    dt_fe_0(&h->X);
    dt_fe_1(&h->Y);
    dt_fe_1(&h->Z);
    dt_fe_0(&h->T);
}

DT_FE_INLINE void dt_ge_from_affine(dt_ge_p3 *h, const dt_ge_affine *a)
{
    h->X = a->x;
    h->Y = a->y;
    dt_fe_1(&h->Z);
    h->T = a->t;
}

DT_FE_INLINE void dt_ge_p1p1_to_p2(dt_ge_p2 *r, const dt_ge_p1p1 *p)
{
    dt_fe_mul(&r->X, &p->X, &p->T);
    dt_fe_mul(&r->Y, &p->Y, &p->Z);
    dt_fe_mul(&r->Z, &p->Z, &p->T);
}

DT_FE_INLINE void dt_ge_p1p1_to_p3(dt_ge_p3 *r, const dt_ge_p1p1 *p)
{
    dt_fe_mul(&r->X, &p->X, &p->T);
    dt_fe_mul(&r->Y, &p->Y, &p->Z);
    dt_fe_mul(&r->Z, &p->Z, &p->T);
    dt_fe_mul(&r->T, &p->X, &p->Y);
}

DT_FE_INLINE void dt_ge_p3_to_p2(dt_ge_p2 *r, const dt_ge_p3 *p)
{
    r->X = p->X;
    r->Y = p->Y;
    r->Z = p->Z;
}

DT_FE_INLINE void dt_ge_p3_to_cached(dt_ge_cached *r, const dt_ge_p3 *p)
{
    dt_fe_add(&r->ypx, &p->Y, &p->X);
    dt_fe_sub(&r->ymx, &p->Y, &p->X);
    r->Z = p->Z;
    dt_fe_mul(&r->t2d, &p->T, &dt_fe_d2);
}

DT_FE_INLINE void dt_ge_affine_to_niels(dt_ge_niels *r, const dt_ge_affine *a)
{
    dt_fe_add(&r->ypx, &a->y, &a->x);
    dt_fe_sub(&r->ymx, &a->y, &a->x);
    dt_fe_mul(&r->xy2d, &a->t, &dt_fe_d2);
}

/* r = 2 p. In: limbs of p below 2^54 (X + Y below 2^54 too). */
DT_FE_INLINE void dt_ge_p2_dbl(dt_ge_p1p1 *r, const dt_ge_p2 *p)
{
    dt_fe t0;
    dt_fe_sq(&r->X, &p->X);     /* XX */
    dt_fe_sq(&r->Z, &p->Y);     /* YY */
    dt_fe_sq(&r->T, &p->Z);
    dt_fe_add(&r->T, &r->T, &r->T); /* 2 ZZ, below 2^53 */
    dt_fe_add(&r->Y, &p->X, &p->Y);
    dt_fe_sq(&t0, &r->Y);       /* (X + Y)^2 */
    dt_fe_add(&r->Y, &r->Z, &r->X); /* YY + XX, below 2^53 */
    dt_fe_sub(&r->Z, &r->Z, &r->X); /* YY - XX */
    dt_fe_sub(&r->X, &t0, &r->Y);   /* 2 X Y */
    dt_fe_sub(&r->T, &r->T, &r->Z); /* 2 ZZ - (YY - XX) */
}

DT_FE_INLINE void dt_ge_p3_dbl(dt_ge_p1p1 *r, const dt_ge_p3 *p)
{
    dt_ge_p2 q;
    dt_ge_p3_to_p2(&q, p);
    dt_ge_p2_dbl(r, &q);
}

/* r = p + q (neg = 0) or p - q (neg = 1); neg is a public constant at every
 * call site, so the branches fold away. */
DT_FE_INLINE void dt_ge_add_cached(dt_ge_p1p1 *r, const dt_ge_p3 *p, const dt_ge_cached *q, int neg)
{
    dt_fe t0;
    dt_fe_add(&r->X, &p->Y, &p->X);
    dt_fe_sub(&r->Y, &p->Y, &p->X);
    dt_fe_mul(&r->Z, &r->X, neg ? &q->ymx : &q->ypx); /* A */
    dt_fe_mul(&r->Y, &r->Y, neg ? &q->ypx : &q->ymx); /* B */
    dt_fe_mul(&r->T, &q->t2d, &p->T);                 /* C */
    dt_fe_mul(&r->X, &p->Z, &q->Z);
    dt_fe_add(&t0, &r->X, &r->X);                     /* D = 2 Z Z', below 2^53 */
    dt_fe_sub(&r->X, &r->Z, &r->Y);                   /* A - B */
    dt_fe_add(&r->Y, &r->Z, &r->Y);                   /* A + B */
    if (neg) {
        dt_fe_sub(&r->Z, &t0, &r->T);
        dt_fe_add(&r->T, &t0, &r->T);
    } else {
        dt_fe_add(&r->Z, &t0, &r->T);
        dt_fe_sub(&r->T, &t0, &r->T);
    }
}

DT_FE_INLINE void dt_ge_add_niels(dt_ge_p1p1 *r, const dt_ge_p3 *p, const dt_ge_niels *q, int neg)
{
    dt_fe t0;
    dt_fe_add(&r->X, &p->Y, &p->X);
    dt_fe_sub(&r->Y, &p->Y, &p->X);
    dt_fe_mul(&r->Z, &r->X, neg ? &q->ymx : &q->ypx);
    dt_fe_mul(&r->Y, &r->Y, neg ? &q->ypx : &q->ymx);
    dt_fe_mul(&r->T, &q->xy2d, &p->T);
    dt_fe_add(&t0, &p->Z, &p->Z);
    dt_fe_sub(&r->X, &r->Z, &r->Y);
    dt_fe_add(&r->Y, &r->Z, &r->Y);
    if (neg) {
        dt_fe_sub(&r->Z, &t0, &r->T);
        dt_fe_add(&r->T, &t0, &r->T);
    } else {
        dt_fe_add(&r->Z, &t0, &r->T);
        dt_fe_sub(&r->T, &t0, &r->T);
    }
}

/* ---- ristretto255 (r255_point.c) ---- */

/* RFC 9496 4.3.1. Returns 0 and the point (Z = 1) for a canonical, valid
 * encoding; -1 otherwise: s >= p (bit 255 included), s odd, s^2 = -1, or
 * the decoding formulas fail (what libsodium's ristretto255_frombytes
 * refuses, plus bit 255). Constant time but for the returned status. */
int dt_r255_decode(dt_ge_affine *p, const unsigned char s[32]);
/* ret[i] = dt_r255_decode(&p[i], s[i]) for i < n, the inverse square roots
 * eight at a time (dt_fe_invsqrt_many) */
void dt_r255_decode_many(dt_ge_affine *p, int *ret, const unsigned char *const *s, size_t n);
/* RFC 9496 4.3.2; also writes the same element's representative with
 * Z = 1 to *a when a is not NULL (1/Z falls out of the encoding). */
void dt_r255_encode(unsigned char s[32], dt_ge_affine *a, const dt_ge_p3 *p);
/* The same for n points, eight inverse square roots at a time (AVX-512 IFMA
 * where there is; dt_fe_invsqrt_many): s[i], and a[i] if a is not NULL. */
void dt_r255_encode_many(unsigned char (*s)[32], dt_ge_affine *a, const dt_ge_p3 *p, size_t n);
/* 1 if p and q represent the same element (RFC 9496 4.3.3) */
unsigned dt_r255_eq(const dt_ge_p3 *p, const dt_ge_p3 *q);

/* ---- scalar multiplication (r255_point.c) ---- */

/* r = e P, constant time in e and P */
void dt_r255_mult(dt_ge_p3 *r, const dt_ge_p3 *p, const unsigned char e[32]);
/* Fills tab for base P: 256 points, one inversion. */
void dt_r255_table_init(dt_r255_table *tab, const dt_ge_p3 *p);
/* r = e P from P's table, constant time in e: every lookup reads all 8
 * entries of its row and keeps one under a mask. */
void dt_r255_table_mult(dt_ge_p3 *r, const dt_r255_table *tab, const unsigned char e[32]);

/* ---- multi-scalar multiplication, variable time (r255_msm.c) ---- */

/* Most points the Straus method handles in one call without allocating. */
/* Pippenger's bucket phase on AVX-512 IFMA (r255_ifma.c), for windows k0 ..
 * k0 + 7 (those below windows) of the signed digits dig (n rows of windows
 * digits, and 8 readable int16 after the last row): sum[w] = the sum over
 * buckets b of (b + 1) bucket[b] of window k0 + w, the buckets holding each
 * pn[i] (negated for a negative digit) at |digit| - 1. bk: scratch of
 * 8 (2^(c-1) + 1) 20 limbs. Only where dt_r255_ifma() is 1. */
void dt_pippenger_x8(dt_ge_p3 sum[8], const dt_ge_niels *pn, const int16_t *dig, int windows, int k0, size_t n, int c,
                     uint64_t *bk);

#define DT_R255_STRAUS_MAX 16

/* r = sum e[i] P[i] for n <= DT_R255_STRAUS_MAX (Straus, width-5 NAF;
 * stack only). e holds n scalars of 32 bytes. */
void dt_r255_straus_var(dt_ge_p3 *r, const dt_ge_affine *p, const unsigned char *e, size_t n);
/* r = sum e[i] P[i] for any n: Straus (on the stack up to
 * DT_R255_STRAUS_MAX) or Pippenger (signed-digit buckets), whichever
 * estimate of field multiplications is lower for n and the longest scalar:
 * about 130 points for scalars of 253 bits, 70 for 128 bits, which cost
 * about half. DT_ERR_NOMEM if scratch space cannot be allocated (r is then
 * the identity). */
DT_WARN_UNUSED_RESULT dt_err dt_r255_msm_var(dt_ge_p3 *r, const dt_ge_affine *p, const unsigned char *e,
                                             size_t n);

#endif
