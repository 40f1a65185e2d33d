/* ristretto255 (RFC 9496) on libsodium.
 *
 * Elements live in dt_elem.opaque as their 32-byte canonical encoding (the
 * rest of the buffer is zero); the identity is 32 zero bytes, as in RFC 9496.
 * Scalars are big-endian in dt_scalar and little-endian for libsodium: every
 * call reverses them into wiped temporaries.
 *
 * libsodium edge cases handled here:
 *   - crypto_scalarmult_ristretto255[_base] return -1 when the result is the
 *     identity (a zero scalar), after writing 32 zero bytes; here x^0 = 1
 *     and 1^x = 1 are ordinary results.
 *   - libsodium 1.0.18 (Debian bookworm) does not check bit 255 of an
 *     encoding: decode refuses it here (see dt_r255_decode).
 *   - decoding accepts the all-zero identity encoding (libsodium 1.0.18's
 *     crypto_core_ristretto255_is_valid_point accepts it too, but it is tested
 *     explicitly so that no version difference can make a zero tally unreadable)
 *     and refuses every non-canonical or invalid encoding, with DT_ERR_ENCODING:
 *     in ristretto255 a 32-byte string that is not a canonical encoding is
 *     malformed, there is no "well-formed non-member".
 *   - libsodium has no variable-time scalar multiplication: the _var
 *     functions are the constant-time ones. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group/group_impl.h"

#define DT_R255_BYTES 32

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

static void dt_reverse(unsigned char *out, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
}

static void dt_r255_store(dt_elem *e, const unsigned char p[DT_R255_BYTES])
{
    memmove(e->opaque, p, DT_R255_BYTES);
    memset(e->opaque + DT_R255_BYTES, 0, sizeof e->opaque - DT_R255_BYTES);
}

static int dt_r255_is_id(const dt_elem *e)
{
    return sodium_is_zero(e->opaque, DT_R255_BYTES);
}

/* ---- elements ---- */

static dt_err dt_r255_decode(const dt_group *g, dt_elem *out, const unsigned char *in)
{
    (void)g;
    /* RFC 9496 4.3.1: s >= p fails, bit 255 included. libsodium 1.0.18's
     * canonicity check masks bit 255 (later versions test it), so that x and
     * x | 2^255 would both decode to one element: a second, malleable encoding. */
    if (in[DT_R255_BYTES - 1] & 0x80)
        return DT_ERR_ENCODING;
    if (!sodium_is_zero(in, DT_R255_BYTES) && !crypto_core_ristretto255_is_valid_point(in))
        return DT_ERR_ENCODING;
    dt_r255_store(out, in);
    return DT_OK;
}

static void dt_r255_encode(const dt_group *g, unsigned char *out, const dt_elem *e)
{
    (void)g;
    memmove(out, e->opaque, DT_R255_BYTES);
}

static void dt_r255_identity(const dt_group *g, dt_elem *r)
{
    (void)g;
    memset(r->opaque, 0, sizeof r->opaque);
}

static void dt_r255_generator(const dt_group *g, dt_elem *r)
{
    (void)g;
    dt_r255_store(r, dt_r255_base);
}

static void dt_r255_mul(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    unsigned char t[DT_R255_BYTES];
    (void)g;
    if (dt_r255_is_id(b)) {
        dt_r255_store(r, a->opaque);
        return;
    }
    if (dt_r255_is_id(a)) {
        dt_r255_store(r, b->opaque);
        return;
    }
    if (crypto_core_ristretto255_add(t, a->opaque, b->opaque) != 0)
        dt_misuse("dt_elem_mul: operand is not a decoded element");
    dt_r255_store(r, t);
}

static void dt_r255_div(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    unsigned char t[DT_R255_BYTES];
    (void)g;
    if (dt_r255_is_id(b)) {
        dt_r255_store(r, a->opaque);
        return;
    }
    /* a may be the identity: libsodium decodes the zero encoding */
    if (crypto_core_ristretto255_sub(t, a->opaque, b->opaque) != 0)
        dt_misuse("dt_elem_div: operand is not a decoded element");
    dt_r255_store(r, t);
}

/* libsodium refuses (returns -1 after writing zeros) exactly when the result
 * is the identity, which for a base of prime order l and e < l means e = 0.
 * A refusal with a nonzero e can only be a corrupt base. The branch on rc
 * reveals whether e = 0 and nothing else (a zero secret is refused upstream). */
static void dt_r255_finish_mult(dt_elem *r, unsigned char t[DT_R255_BYTES], int rc,
                                const unsigned char e_le[DT_SCALAR_BYTES])
{
    if (rc != 0) {
        if (!sodium_is_zero(e_le, DT_SCALAR_BYTES))
            dt_misuse("dt_elem_pow: base is not a decoded element");
        memset(t, 0, DT_R255_BYTES);
    }
    dt_r255_store(r, t);
}

static void dt_r255_pow(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    unsigned char el[DT_SCALAR_BYTES], t[DT_R255_BYTES];
    int rc;
    (void)g;
    if (dt_r255_is_id(base)) {
        dt_r255_store(r, base->opaque);
        return;
    }
    dt_reverse(el, e->be, DT_SCALAR_BYTES);
    rc = crypto_scalarmult_ristretto255(t, el, base->opaque);
    dt_r255_finish_mult(r, t, rc, el);
    dt_memzero(el, sizeof el);
    dt_memzero(t, sizeof t);
}

static void dt_r255_pow_g(const dt_group *g, dt_elem *r, const dt_scalar *e)
{
    unsigned char el[DT_SCALAR_BYTES], t[DT_R255_BYTES];
    int rc;
    (void)g;
    dt_reverse(el, e->be, DT_SCALAR_BYTES);
    rc = crypto_scalarmult_ristretto255_base(t, el);
    dt_r255_finish_mult(r, t, rc, el);
    dt_memzero(el, sizeof el);
    dt_memzero(t, sizeof t);
}

static void dt_r255_multi_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base,
                                  const dt_scalar *e, size_t n)
{
    dt_elem acc, x;
    dt_r255_identity(g, &acc);
    for (size_t i = 0; i < n; i++) {
        dt_r255_pow(g, &x, &base[i], &e[i]);
        dt_r255_mul(g, &acc, &acc, &x);
    }
    dt_r255_store(r, acc.opaque);
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
    .elem_decode = dt_r255_decode,
    .elem_encode = dt_r255_encode,
    .elem_identity = dt_r255_identity,
    .elem_generator = dt_r255_generator,
    .elem_mul = dt_r255_mul,
    .elem_div = dt_r255_div,
    .elem_pow = dt_r255_pow,
    .elem_pow_var = dt_r255_pow,
    .elem_pow_g = dt_r255_pow_g,
    .elem_multi_pow_var = dt_r255_multi_pow_var,
    .scalar_reduce64 = dt_r255_scalar_reduce64,
    .scalar_add = dt_r255_scalar_add,
    .scalar_sub = dt_r255_scalar_sub,
    .scalar_mul = dt_r255_scalar_mul,
    .scalar_inv = dt_r255_scalar_inv,
};

dt_group *dt_group_r255_create(void)
{
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
    return g;
}
