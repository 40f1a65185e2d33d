/* ristretto255 (RFC 9496): elements on detente's own field and point
 * arithmetic (r255_field.h, r255_point.h), scalars on libsodium.
 *
 * An element lives in dt_elem.opaque as a dt_r255_elem: its 32-byte
 * canonical encoding first (what dt_elem_eq, dt_elem_is_identity and the
 * discrete-log table compare: store_bytes = 32), then a representative point
 * with Z = 1, so that no operation decodes its operands again. Every result
 * is encoded when it is stored (one inverse square root, which also gives
 * 1/Z for the stored point). A dt_elem whose tag is not set (one zeroed by
 * its owner: the encoding of the identity) is decoded from its encoding.
 * The identity is the all-zero encoding, as in RFC 9496.
 *
 * Decoding refuses, with DT_ERR_ENCODING, exactly what libsodium's
 * crypto_core_ristretto255_is_valid_point refuses plus bit 255 (which
 * libsodium 1.0.18 does not check: x and x | 2^255 would be two encodings
 * of one element), and accepts the identity; tests/test_r255.c checks this
 * against libsodium. In ristretto255 a 32-byte string that is not a
 * canonical encoding is malformed: there is no "well-formed non-member".
 *
 * Scalars are big-endian in dt_scalar and little-endian for the arithmetic
 * and for libsodium: every call reverses them into temporaries, which the
 * constant-time (secret-scalar) calls wipe. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group/group_impl.h"

#define DT_R255_BYTES 32
#define DT_R255_HAS_POINT UINT64_C(0x7235353570743031) /* the tag of a stored point */

/* l = 2^252 + 27742317777372353535851937790883648493, big-endian */
static const unsigned char dt_r255_order_be[DT_SCALAR_BYTES] = {
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0xde, 0xf9, 0xde, 0xa2, 0xf7,
    0x9c, 0xd6, 0x58, 0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed,
};

/* the standard base point (RFC 9496 section 4.4, and A.1) */
static const unsigned char dt_r255_base[DT_R255_BYTES] = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9,
    0x61, 0xc5, 0x00, 0x51, 0x5f, 0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82,
    0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76,
};

typedef struct dt_r255_elem {
    unsigned char enc[DT_R255_BYTES];
    uint64_t tag; /* DT_R255_HAS_POINT when a is set */
    dt_ge_affine a;
} dt_r255_elem;

_Static_assert(sizeof(dt_r255_elem) <= DT_ELEM_MAX_BYTES, "a dt_elem holds a dt_r255_elem");
_Static_assert(offsetof(dt_r255_elem, enc) == 0, "the encoding comes first");

static void dt_reverse(unsigned char *out, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
}

static void dt_r255_put(dt_elem *e, const dt_r255_elem *s)
{
    memcpy(e->opaque, s, sizeof *s);
    memset(e->opaque + sizeof *s, 0, sizeof e->opaque - sizeof *s);
}

/* Stores p, encoded. */
static void dt_r255_store(dt_elem *e, const dt_ge_p3 *p)
{
    dt_r255_elem s;
    dt_r255_encode(s.enc, &s.a, p);
    s.tag = DT_R255_HAS_POINT;
    dt_r255_put(e, &s);
}

/* The point of a stored element. */
static void dt_r255_load(dt_ge_affine *a, const dt_elem *e)
{
    uint64_t tag;
    memcpy(&tag, e->opaque + offsetof(dt_r255_elem, tag), sizeof tag);
    if (tag == DT_R255_HAS_POINT)
        memcpy(a, e->opaque + offsetof(dt_r255_elem, a), sizeof *a);
    else if (dt_r255_decode(a, e->opaque) != 0)
        dt_misuse("ristretto255: operand is not a decoded element");
}

static void dt_r255_load_p3(dt_ge_p3 *p, const dt_elem *e)
{
    dt_ge_affine a;
    dt_r255_load(&a, e);
    dt_ge_from_affine(p, &a);
}

/* ---- elements ---- */

static dt_err dt_r255_decode_elem(const dt_group *g, dt_elem *out, const unsigned char *in)
{
    dt_r255_elem s;
    (void)g;
    /* in may lie inside *out: read it all before writing */
    if (dt_r255_decode(&s.a, in) != 0)
        return DT_ERR_ENCODING;
    memcpy(s.enc, in, DT_R255_BYTES);
    s.tag = DT_R255_HAS_POINT;
    dt_r255_put(out, &s);
    return DT_OK;
}

static void dt_r255_encode_elem(const dt_group *g, unsigned char *out, const dt_elem *e)
{
    (void)g;
    memmove(out, e->opaque, DT_R255_BYTES);
}

static void dt_r255_identity(const dt_group *g, dt_elem *r)
{
    dt_r255_elem s;
    (void)g;
    memset(&s, 0, sizeof s);
    dt_fe_1(&s.a.y);
    s.tag = DT_R255_HAS_POINT;
    dt_r255_put(r, &s);
}

/* Eight inverse square roots at a time (dt_r255_decode_many); the same
 * validation as dt_r255_decode_elem, element by element. The inputs must not
 * lie inside out. */
static dt_err dt_r255_decode_batch(const dt_group *g, dt_elem *out, const unsigned char *const *in, size_t n)
{
    dt_err err = DT_OK;
    (void)g;
    for (size_t i = 0; i < n; i += 64) {
        dt_ge_affine a[64];
        int ret[64];
        size_t m = n - i < 64 ? n - i : 64;
        dt_r255_decode_many(a, ret, in + i, m);
        for (size_t j = 0; j < m; j++) {
            dt_r255_elem s;
            if (ret[j] != 0) {
                err = DT_ERR_ENCODING;
                dt_r255_identity(g, &out[i + j]);
                continue;
            }
            memcpy(s.enc, in[i + j], DT_R255_BYTES);
            s.a = a[j];
            s.tag = DT_R255_HAS_POINT;
            dt_r255_put(&out[i + j], &s);
        }
    }
    return err;
}

static void dt_r255_generator(const dt_group *g, dt_elem *r)
{
    dt_r255_elem s;
    memcpy(s.enc, dt_r255_base, DT_R255_BYTES);
    s.tag = DT_R255_HAS_POINT;
    s.a = g->r255.gen;
    dt_r255_put(r, &s);
}

static void dt_r255_mul_sign(dt_elem *r, const dt_elem *a, const dt_elem *b, int neg)
{
    dt_ge_p3 p;
    dt_ge_affine q;
    dt_ge_niels n;
    dt_ge_p1p1 t;
    dt_r255_load_p3(&p, a);
    dt_r255_load(&q, b);
    dt_ge_affine_to_niels(&n, &q);
    if (neg)
        dt_ge_add_niels(&t, &p, &n, 1);
    else
        dt_ge_add_niels(&t, &p, &n, 0);
    dt_ge_p1p1_to_p3(&p, &t);
    dt_r255_store(r, &p);
}

/* A dt_prod holds an extended point, not normalised. */
_Static_assert(sizeof(dt_ge_p3) <= sizeof(dt_prod), "a dt_prod holds a point");

static void dt_r255_prod_init(const dt_group *g, dt_prod *p)
{
    dt_ge_p3 z;
    (void)g;
    memset(p, 0, sizeof *p);
    dt_ge_p3_0(&z);
    memcpy(p->opaque, &z, sizeof z);
}

static void dt_r255_prod_mul(const dt_group *g, dt_prod *p, const dt_elem *e)
{
    dt_ge_p3 acc;
    dt_ge_affine q;
    dt_ge_niels n;
    dt_ge_p1p1 t;
    (void)g;
    memcpy(&acc, p->opaque, sizeof acc);
    dt_r255_load(&q, e);
    dt_ge_affine_to_niels(&n, &q);
    dt_ge_add_niels(&t, &acc, &n, 0);
    dt_ge_p1p1_to_p3(&acc, &t);
    memcpy(p->opaque, &acc, sizeof acc);
}

static void dt_r255_prod_mul_prod(const dt_group *g, dt_prod *p, const dt_prod *q)
{
    dt_ge_p3 acc, other;
    dt_ge_cached c;
    dt_ge_p1p1 t;
    (void)g;
    memcpy(&acc, p->opaque, sizeof acc);
    memcpy(&other, q->opaque, sizeof other);
    dt_ge_p3_to_cached(&c, &other);
    dt_ge_add_cached(&t, &acc, &c, 0);
    dt_ge_p1p1_to_p3(&acc, &t);
    memcpy(p->opaque, &acc, sizeof acc);
}

static void dt_r255_prod_get(const dt_group *g, dt_elem *r, const dt_prod *p)
{
    dt_ge_p3 acc;
    (void)g;
    memcpy(&acc, p->opaque, sizeof acc);
    dt_r255_store(r, &acc);
}

static void dt_r255_prod_get_many(const dt_group *g, dt_elem *r, const dt_prod *p, size_t n)
{
    (void)g;
    for (size_t i = 0; i < n; i += 8) {
        dt_ge_p3 acc[8];
        unsigned char enc[8][32];
        dt_r255_elem s[8];
        dt_ge_affine a[8];
        size_t m = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < m; j++)
            memcpy(&acc[j], p[i + j].opaque, sizeof acc[j]);
        dt_r255_encode_many(enc, a, acc, m);
        for (size_t j = 0; j < m; j++) {
            memcpy(s[j].enc, enc[j], sizeof enc[j]);
            s[j].a = a[j];
            s[j].tag = DT_R255_HAS_POINT;
            dt_r255_put(&r[i + j], &s[j]);
        }
    }
}

static void dt_r255_mul(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    (void)g;
    dt_r255_mul_sign(r, a, b, 0);
}

static void dt_r255_div(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    (void)g;
    dt_r255_mul_sign(r, a, b, 1);
}

static void dt_r255_pow(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    unsigned char el[DT_SCALAR_BYTES];
    dt_ge_p3 p;
    (void)g;
    dt_r255_load_p3(&p, base);
    dt_reverse(el, e->be, DT_SCALAR_BYTES);
    dt_r255_mult(&p, &p, el);
    dt_r255_store(r, &p);
    dt_memzero(el, sizeof el);
}

static void dt_r255_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    unsigned char el[DT_SCALAR_BYTES];
    dt_ge_affine a;
    dt_ge_p3 p;
    (void)g;
    dt_r255_load(&a, base);
    dt_reverse(el, e->be, DT_SCALAR_BYTES);
    dt_r255_straus_var(&p, &a, el, 1);
    dt_r255_store(r, &p);
}

static void dt_r255_table_pow(dt_elem *r, const dt_r255_table *tab, const dt_scalar *e)
{
    unsigned char el[DT_SCALAR_BYTES];
    dt_ge_p3 p;
    dt_reverse(el, e->be, DT_SCALAR_BYTES);
    dt_r255_table_mult(&p, tab, el);
    dt_r255_store(r, &p);
    dt_memzero(el, sizeof el);
    dt_memzero(&p, sizeof p);
}

static void dt_r255_pow_g(const dt_group *g, dt_elem *r, const dt_scalar *e)
{
    dt_r255_table_pow(r, &g->r255.gtab, e);
}

static void dt_r255_fixed_base_init(const dt_group *g, void *table, const dt_elem *base)
{
    dt_ge_p3 p;
    (void)g;
    dt_r255_load_p3(&p, base);
    dt_r255_table_init(table, &p);
}

static void dt_r255_fixed_base_pow(const dt_group *g, const void *table, dt_elem *r, const dt_scalar *e)
{
    (void)g;
    dt_r255_table_pow(r, table, e);
}

void dt_r255_multi_pow_stack_var(dt_elem *r, const dt_elem *base, const dt_scalar *e, size_t n)
{
    dt_ge_affine a[DT_R255_STRAUS_MAX];
    unsigned char el[DT_R255_STRAUS_MAX * DT_SCALAR_BYTES];
    dt_ge_p3 acc;
    dt_ge_p3_0(&acc);
    for (size_t i = 0; i < n; i += DT_R255_STRAUS_MAX) {
        size_t k = n - i < DT_R255_STRAUS_MAX ? n - i : DT_R255_STRAUS_MAX;
        dt_ge_cached c;
        dt_ge_p1p1 t;
        dt_ge_p3 part;
        for (size_t j = 0; j < k; j++) {
            dt_r255_load(&a[j], &base[i + j]);
            dt_reverse(el + DT_SCALAR_BYTES * j, e[i + j].be, DT_SCALAR_BYTES);
        }
        dt_r255_straus_var(&part, a, el, k);
        dt_ge_p3_to_cached(&c, &part);
        dt_ge_add_cached(&t, &acc, &c, 0);
        dt_ge_p1p1_to_p3(&acc, &t);
    }
    dt_r255_store(r, &acc);
}

static dt_err dt_r255_msm(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e, size_t n)
{
    dt_ge_affine *a;
    unsigned char *el;
    dt_ge_p3 p;
    dt_err err;
    (void)g;
    if (n <= DT_R255_STRAUS_MAX) {
        dt_r255_multi_pow_stack_var(r, base, e, n);
        return DT_OK;
    }
    if (n > SIZE_MAX / (sizeof *a + DT_SCALAR_BYTES))
        return DT_ERR_NOMEM;
    a = malloc(n * sizeof *a);
    el = malloc(n * DT_SCALAR_BYTES);
    err = DT_ERR_NOMEM;
    if (a && el) {
        for (size_t i = 0; i < n; i++) {
            dt_r255_load(&a[i], &base[i]);
            dt_reverse(el + DT_SCALAR_BYTES * i, e[i].be, DT_SCALAR_BYTES);
        }
        err = dt_r255_msm_var(&p, a, el, n);
    }
    free(a);
    free(el);
    if (err == DT_OK)
        dt_r255_store(r, &p);
    return err;
}

static void dt_r255_multi_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base,
                                  const dt_scalar *e, size_t n)
{
    if (dt_r255_msm(g, r, base, e, n) != DT_OK)
        dt_r255_multi_pow_stack_var(r, base, e, n); /* out of memory: the same sum in pieces */
}

/* ---- scalars ---- */

static void dt_r255_scalar_reduce64(const dt_group *g, dt_scalar *out, const unsigned char in[64])
{
    unsigned char wide[2 * DT_SCALAR_BYTES], r[DT_SCALAR_BYTES];
    (void)g;
    dt_reverse(wide, in, sizeof wide);
    crypto_core_ristretto255_scalar_reduce(r, wide);
    dt_reverse(out->be, r, DT_SCALAR_BYTES);
    dt_memzero(wide, sizeof wide);
    dt_memzero(r, sizeof r);
}

typedef void (*dt_r255_binop)(unsigned char *, const unsigned char *, const unsigned char *);

static void dt_r255_scalar_op(dt_r255_binop op, dt_scalar *r, const dt_scalar *a,
                              const dt_scalar *b)
{
    unsigned char x[DT_SCALAR_BYTES], y[DT_SCALAR_BYTES], z[DT_SCALAR_BYTES];
    dt_reverse(x, a->be, DT_SCALAR_BYTES);
    dt_reverse(y, b->be, DT_SCALAR_BYTES);
    op(z, x, y);
    dt_reverse(r->be, z, DT_SCALAR_BYTES);
    dt_memzero(x, sizeof x);
    dt_memzero(y, sizeof y);
    dt_memzero(z, sizeof z);
}

static void dt_r255_scalar_add(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                               const dt_scalar *b)
{
    (void)g;
    dt_r255_scalar_op(crypto_core_ristretto255_scalar_add, r, a, b);
}

static void dt_r255_scalar_sub(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                               const dt_scalar *b)
{
    (void)g;
    dt_r255_scalar_op(crypto_core_ristretto255_scalar_sub, r, a, b);
}

static void dt_r255_scalar_mul(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                               const dt_scalar *b)
{
    (void)g;
    dt_r255_scalar_op(crypto_core_ristretto255_scalar_mul, r, a, b);
}

static void dt_r255_scalar_inv(const dt_group *g, dt_scalar *r, const dt_scalar *a)
{
    unsigned char x[DT_SCALAR_BYTES], z[DT_SCALAR_BYTES];
    (void)g;
    dt_reverse(x, a->be, DT_SCALAR_BYTES);
    if (crypto_core_ristretto255_scalar_invert(z, x) != 0)
        dt_misuse("dt_scalar_inv_var: scalar has no inverse");
    dt_reverse(r->be, z, DT_SCALAR_BYTES);
    dt_memzero(x, sizeof x);
    dt_memzero(z, sizeof z);
}

const dt_group_ops dt_group_r255_ops = {
    .elem_decode = dt_r255_decode_elem,
    .elem_decode_batch_var = dt_r255_decode_batch,
    .elem_encode = dt_r255_encode_elem,
    .elem_identity = dt_r255_identity,
    .elem_generator = dt_r255_generator,
    .elem_mul = dt_r255_mul,
    .elem_div = dt_r255_div,
    .elem_pow = dt_r255_pow,
    .elem_pow_var = dt_r255_pow_var,
    .elem_pow_g = dt_r255_pow_g,
    .elem_multi_pow_var = dt_r255_multi_pow_var,
    .scalar_reduce64 = dt_r255_scalar_reduce64,
    .scalar_add = dt_r255_scalar_add,
    .scalar_sub = dt_r255_scalar_sub,
    .scalar_mul = dt_r255_scalar_mul,
    .scalar_inv = dt_r255_scalar_inv,
    .fixed_base_bytes = sizeof(dt_r255_table),
    .fixed_base_init = dt_r255_fixed_base_init,
    .fixed_base_pow = dt_r255_fixed_base_pow,
    .msm_var = dt_r255_msm,
    .prod_init = dt_r255_prod_init,
    .prod_mul = dt_r255_prod_mul,
    .prod_mul_prod = dt_r255_prod_mul_prod,
    .prod_get = dt_r255_prod_get,
    .prod_get_many = dt_r255_prod_get_many,
};

dt_group *dt_group_r255_create(void)
{
    dt_ge_p3 p;
    dt_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = DT_GROUP_RISTRETTO255;
    g->ops = &dt_group_r255_ops;
    g->name = "ristretto255";
    g->elem_bytes = DT_R255_BYTES;
    g->scalar_bytes = DT_SCALAR_BYTES;
    g->store_bytes = DT_R255_BYTES;
    memcpy(g->q_be, dt_r255_order_be, DT_SCALAR_BYTES);
    if (dt_r255_decode(&g->r255.gen, dt_r255_base) != 0)
        dt_misuse("dt_group_r255_create: bad base point constant");
    dt_ge_from_affine(&p, &g->r255.gen);
    dt_r255_table_init(&g->r255.gtab, &p);
    return g;
}
