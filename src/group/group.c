/* The group interface: argument checks, dispatch to a backend, and the code
 * every group shares (scalar encoding and reduction, random scalars, bounded
 * discrete logarithms). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group/group_impl.h"
#include "util/ctcheck.h"

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)
#define DT_ARG_CHECK(cond)                                                              \
    do {                                                                                \
        if (!(cond))                                                                    \
            dt_misuse("group.c:" DT_STR(__LINE__) ": " #cond);                          \
    } while (0)

/* ---- groups ---- */

dt_group *dt_group_create(dt_group_id id)
{
    if (sodium_init() < 0)
        return NULL;
    switch (id) {
    case DT_GROUP_INTEGER4096:
        return dt_group_int_create(dt_group_int4096_p_hex, dt_group_int4096_q_hex,
                                   dt_group_int4096_g_hex, 1);
    case DT_GROUP_RISTRETTO255:
        return dt_group_r255_create();
    }
    dt_misuse("dt_group_create: unknown group id");
}

dt_group *dt_group_create_integer(const char *p_hex, const char *q_hex, const char *g_hex)
{
    DT_ARG_CHECK(p_hex && q_hex && g_hex);
    if (sodium_init() < 0)
        return NULL;
    return dt_group_int_create(p_hex, q_hex, g_hex, 0);
}

void dt_group_destroy(dt_group *g)
{
    if (!g)
        return;
    if (g->id == DT_GROUP_INTEGER4096)
        free(g->ip.gtab); /* g's powers: public */
    dt_memzero(g, sizeof *g);
    free(g);
}

dt_group_id dt_group_kind(const dt_group *g)
{
    DT_ARG_CHECK(g);
    return g->id;
}

const char *dt_group_name(const dt_group *g)
{
    DT_ARG_CHECK(g);
    return g->name;
}

size_t dt_group_elem_bytes(const dt_group *g)
{
    DT_ARG_CHECK(g);
    return g->elem_bytes;
}

size_t dt_group_scalar_bytes(const dt_group *g)
{
    DT_ARG_CHECK(g);
    return g->scalar_bytes;
}

void dt_group_order(const dt_group *g, unsigned char q[DT_SCALAR_BYTES])
{
    DT_ARG_CHECK(g && q);
    memcpy(q, g->q_be, DT_SCALAR_BYTES);
}

int dt_group_integer_params(const dt_group *g, unsigned char *p, unsigned char *gen, size_t len)
{
    DT_ARG_CHECK(g);
    if (g->id != DT_GROUP_INTEGER4096)
        return 0;
    DT_ARG_CHECK(p && gen);
    DT_ARG_CHECK(len == g->elem_bytes);
    dt_elem e;
    memset(&e, 0, sizeof e);
    memcpy(e.opaque, g->ip.p, g->store_bytes);
    g->ops->elem_encode(g, p, &e);
    g->ops->elem_generator(g, &e);
    g->ops->elem_encode(g, gen, &e);
    return 1;
}

/* ---- elements ---- */

dt_err dt_elem_decode_batch_var(const dt_group *g, dt_elem *out, const unsigned char *const *in, size_t inlen,
                                size_t n)
{
    dt_err err;
    if (!g || (n && (!out || !in)))
        dt_misuse("dt_elem_decode_batch_var: NULL argument");
    if (inlen != g->elem_bytes)
        return DT_ERR_ENCODING;
    if (g->ops->elem_decode_batch_var)
        return g->ops->elem_decode_batch_var(g, out, in, n);
    for (size_t i = 0; i < n; i++)
        if ((err = dt_elem_decode(g, &out[i], in[i], inlen)) != DT_OK)
            return err;
    return DT_OK;
}

dt_err dt_elem_decode(const dt_group *g, dt_elem *out, const unsigned char *in, size_t inlen)
{
    DT_ARG_CHECK(g && out && (in || inlen == 0));
    dt_err err = DT_ERR_ENCODING;
    if (inlen == g->elem_bytes)
        err = g->ops->elem_decode(g, out, in);
    if (err != DT_OK)
        g->ops->elem_identity(g, out);
    return err;
}

void dt_elem_encode(const dt_group *g, unsigned char *out, const dt_elem *e)
{
    DT_ARG_CHECK(g && out && e);
    g->ops->elem_encode(g, out, e);
}

void dt_elem_identity(const dt_group *g, dt_elem *r)
{
    DT_ARG_CHECK(g && r);
    g->ops->elem_identity(g, r);
}

void dt_elem_generator(const dt_group *g, dt_elem *r)
{
    DT_ARG_CHECK(g && r);
    g->ops->elem_generator(g, r);
}

/* Elements are held in a canonical form in the first store_bytes bytes. */
int dt_elem_eq(const dt_group *g, const dt_elem *a, const dt_elem *b)
{
    DT_ARG_CHECK(g && a && b);
    return dt_ct_eq(a->opaque, b->opaque, g->store_bytes);
}

int dt_elem_is_identity(const dt_group *g, const dt_elem *a)
{
    DT_ARG_CHECK(g && a);
    dt_elem id;
    g->ops->elem_identity(g, &id);
    return dt_ct_eq(a->opaque, id.opaque, g->store_bytes);
}

void dt_elem_mul(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    DT_ARG_CHECK(g && r && a && b);
    g->ops->elem_mul(g, r, a, b);
}

/* Without the group's own products, a dt_prod holds a dt_elem. */
_Static_assert(sizeof(dt_prod) == sizeof(dt_elem), "a dt_prod can hold a dt_elem");

void dt_prod_init(const dt_group *g, dt_prod *p)
{
    DT_ARG_CHECK(g && p);
    if (g->ops->prod_init)
        g->ops->prod_init(g, p);
    else
        g->ops->elem_identity(g, (dt_elem *)(void *)p);
}

void dt_prod_mul(const dt_group *g, dt_prod *p, const dt_elem *e)
{
    DT_ARG_CHECK(g && p && e);
    if (g->ops->prod_mul)
        g->ops->prod_mul(g, p, e);
    else
        g->ops->elem_mul(g, (dt_elem *)(void *)p, (const dt_elem *)(void *)p, e);
}

void dt_prod_mul_prod(const dt_group *g, dt_prod *p, const dt_prod *q)
{
    DT_ARG_CHECK(g && p && q);
    if (g->ops->prod_mul_prod)
        g->ops->prod_mul_prod(g, p, q);
    else
        g->ops->elem_mul(g, (dt_elem *)(void *)p, (const dt_elem *)(void *)p, (const dt_elem *)(const void *)q);
}

void dt_prod_get(const dt_group *g, dt_elem *r, const dt_prod *p)
{
    DT_ARG_CHECK(g && r && p);
    if (g->ops->prod_get)
        g->ops->prod_get(g, r, p);
    else
        memcpy(r, p, sizeof *r);
}

void dt_prod_get_many(const dt_group *g, dt_elem *r, const dt_prod *p, size_t n)
{
    DT_ARG_CHECK(g && (n == 0 || (r && p)));
    if (g->ops->prod_get_many) {
        g->ops->prod_get_many(g, r, p, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        dt_prod_get(g, &r[i], &p[i]);
}

void dt_elem_div(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    DT_ARG_CHECK(g && r && a && b);
    g->ops->elem_div(g, r, a, b);
}

void dt_elem_pow(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    DT_ARG_CHECK(g && r && base && e);
    g->ops->elem_pow(g, r, base, e);
}

void dt_elem_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    DT_ARG_CHECK(g && r && base && e);
    g->ops->elem_pow_var(g, r, base, e);
}

void dt_elem_pow_g(const dt_group *g, dt_elem *r, const dt_scalar *e)
{
    DT_ARG_CHECK(g && r && e);
    g->ops->elem_pow_g(g, r, e);
}

void dt_elem_multi_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e,
                           size_t n)
{
    DT_ARG_CHECK(g && r && ((base && e) || n == 0));
    if (n == 0)
        g->ops->elem_identity(g, r);
    else
        g->ops->elem_multi_pow_var(g, r, base, e, n);
}

dt_err dt_msm_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e, size_t n)
{
    DT_ARG_CHECK(g && r && ((base && e) || n == 0));
    dt_err err = DT_OK;
    if (n == 0)
        g->ops->elem_identity(g, r);
    else if (g->ops->msm_var)
        err = g->ops->msm_var(g, r, base, e, n);
    else
        g->ops->elem_multi_pow_var(g, r, base, e, n);
    if (err != DT_OK)
        g->ops->elem_identity(g, r);
    return err;
}

/* ---- fixed-base tables ---- */

dt_fixed_base *dt_fixed_base_create(const dt_group *g, const dt_elem *base)
{
    DT_ARG_CHECK(g && base);
    size_t bytes = g->ops->fixed_base_init ? g->ops->fixed_base_bytes : 0;
    dt_fixed_base *fb = malloc(sizeof *fb + bytes);
    if (!fb)
        return NULL;
    fb->g = g;
    fb->base = *base;
    if (bytes)
        g->ops->fixed_base_init(g, fb->table, base);
    return fb;
}

void dt_fixed_base_destroy(dt_fixed_base *fb)
{
    if (!fb)
        return;
    free(fb);
}

void dt_fixed_base_pow(const dt_fixed_base *fb, dt_elem *r, const dt_scalar *e)
{
    DT_ARG_CHECK(fb && r && e);
    if (fb->g->ops->fixed_base_init)
        fb->g->ops->fixed_base_pow(fb->g, fb->table, r, e);
    else
        fb->g->ops->elem_pow(fb->g, r, &fb->base, e);
}

/* ---- bounded discrete logarithm ----
 *
 * Baby-step giant-step: the table holds base^j for j < m, keyed by the first
 * 8 bytes of the stored value (the low limb of an integer, the first bytes of
 * a ristretto255 encoding); the giant steps multiply the target by base^-m.
 * A key match is only a candidate: it is confirmed by recomputing base^t, so
 * a crafted collision costs time, never a wrong answer. Up to max = 10^6 this
 * is about 2000 group operations and a 32 KiB table; the table is capped at
 * 2^21 slots (32 MiB). The smallest t is returned. */

#define DT_DLOG_LINEAR_MAX 64
#define DT_DLOG_MAX_BABY ((uint64_t)1 << 20)

typedef struct dt_dlog_slot {
    uint64_t key;
    uint64_t j; /* j + 1; 0 marks an empty slot */
} dt_dlog_slot;

static uint64_t dt_dlog_key(const dt_elem *e)
{
    uint64_t k;
    memcpy(&k, e->opaque, sizeof k);
    return k;
}

static size_t dt_dlog_slot_of(uint64_t key, unsigned bits)
{
    return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - bits));
}

/* 1 if base^t == target */
static int dt_dlog_check(const dt_group *g, const dt_elem *base, const dt_elem *target, uint64_t t)
{
    dt_scalar s;
    dt_elem x;
    dt_scalar_from_u64(g, &s, t);
    g->ops->elem_pow_var(g, &x, base, &s);
    return dt_ct_eq(x.opaque, target->opaque, g->store_bytes);
}

dt_err dt_elem_dlog_var(const dt_group *g, uint64_t *t, const dt_elem *base, const dt_elem *target,
                        uint64_t max)
{
    DT_ARG_CHECK(g && t && base && target);
    dt_elem cur, giant;
    *t = 0;

    if (max < DT_DLOG_LINEAR_MAX) {
        g->ops->elem_identity(g, &cur);
        for (uint64_t i = 0;; i++) {
            if (dt_ct_eq(cur.opaque, target->opaque, g->store_bytes)) {
                *t = i;
                return DT_OK;
            }
            if (i == max)
                return DT_ERR_NOT_FOUND;
            g->ops->elem_mul(g, &cur, &cur, base);
        }
    }

    /* m = ceil(sqrt(max + 1)) baby steps, at most DT_DLOG_MAX_BABY (beyond
     * max = 2^40 the giant steps grow instead of the table) */
    uint64_t m = DT_DLOG_MAX_BABY;
    if (max < DT_DLOG_MAX_BABY * DT_DLOG_MAX_BABY) {
        m = (uint64_t)sqrt((double)max);
        while (m * m <= max)
            m++;
        while (m > 1 && (m - 1) * (m - 1) > max)
            m--;
    }
    unsigned bits = 1;
    while (((uint64_t)1 << bits) < 2 * m)
        bits++;
    size_t nslots = (size_t)1 << bits;
    dt_dlog_slot *tab = calloc(nslots, sizeof *tab);
    if (!tab)
        return DT_ERR_NOMEM;

    /* If base^j = 1 for some 0 < j <= m (the identity, or a base of small
     * order in a toy group) the table already holds all of <base>: one giant
     * step, i = 0, settles it (and no key is ever stored twice). */
    uint64_t giants = max / m;
    g->ops->elem_identity(g, &cur);
    for (uint64_t j = 0; j < m; j++) {
        size_t s = dt_dlog_slot_of(dt_dlog_key(&cur), bits);
        while (tab[s].j)
            s = (s + 1) & (nslots - 1);
        tab[s].key = dt_dlog_key(&cur);
        tab[s].j = j + 1;
        g->ops->elem_mul(g, &cur, &cur, base);
        if (dt_elem_is_identity(g, &cur)) {
            giants = 0;
            break;
        }
    }
    /* cur = base^m; giant = base^-m */
    g->ops->elem_identity(g, &giant);
    g->ops->elem_div(g, &giant, &giant, &cur);

    dt_err err = DT_ERR_NOT_FOUND;
    cur = *target;
    for (uint64_t i = 0; i <= giants; i++) {
        uint64_t key = dt_dlog_key(&cur);
        /* Slots of one key are visited in insertion order: the smallest j first. */
        for (size_t s = dt_dlog_slot_of(key, bits); tab[s].j; s = (s + 1) & (nslots - 1)) {
            if (tab[s].key != key)
                continue;
            uint64_t cand = i * m + (tab[s].j - 1);
            if (cand <= max && dt_dlog_check(g, base, target, cand)) {
                *t = cand;
                err = DT_OK;
                goto out;
            }
        }
        g->ops->elem_mul(g, &cur, &cur, &giant);
    }
out:
    free(tab);
    return err;
}

/* ---- scalars ---- */

/* 1 if the big-endian 32-byte a < b, in constant time. */
static int dt_be32_lt(const unsigned char a[DT_SCALAR_BYTES], const unsigned char b[DT_SCALAR_BYTES])
{
    unsigned lt = 0, eq = 1;
    for (size_t i = 0; i < DT_SCALAR_BYTES; i++) {
        unsigned x = a[i], y = b[i];
        lt |= eq & ((x - y) >> 8); /* x < y: borrow into bit 8 */
        eq &= ((x ^ y) - 1) >> 8;  /* x == y */
    }
    return (int)(lt & 1);
}

dt_err dt_scalar_decode(const dt_group *g, dt_scalar *out, const unsigned char *in, size_t inlen)
{
    DT_ARG_CHECK(g && out && (in || inlen == 0));
    dt_scalar s;
    dt_err err = DT_OK;
    /* in may lie inside *out: read it all before writing */
    memset(s.be, 0, sizeof s.be);
    if (inlen != g->scalar_bytes)
        err = DT_ERR_ENCODING;
    else
        memcpy(s.be + DT_SCALAR_BYTES - inlen, in, inlen);
    /* The comparison runs in constant time; its outcome is public: a value
     * not below q is refused with an error (a damaged key file, a share that
     * becomes a public complaint), never used. */
    int below = dt_be32_lt(s.be, g->q_be);
    dt_declassify(&below, sizeof below);
    if (err == DT_OK && !below)
        err = DT_ERR_RANGE;
    if (err != DT_OK)
        memset(s.be, 0, sizeof s.be);
    *out = s;
    dt_memzero(&s, sizeof s);
    return err;
}

void dt_scalar_encode(const dt_group *g, unsigned char *out, const dt_scalar *s)
{
    DT_ARG_CHECK(g && out && s);
    memmove(out, s->be + DT_SCALAR_BYTES - g->scalar_bytes, g->scalar_bytes);
}

/* Horner's rule on 32-byte digits: r = (r * 2^256 + digit) mod q, each step
 * one 512-bit reduction. Any length; time depends on inlen only. */
void dt_scalar_reduce(const dt_group *g, dt_scalar *out, const unsigned char *in, size_t inlen)
{
    DT_ARG_CHECK(g && out && (in || inlen == 0));
    unsigned char buf[2 * DT_SCALAR_BYTES];
    dt_scalar r;
    size_t first = inlen % DT_SCALAR_BYTES;

    memset(&r, 0, sizeof r);
    if (first == 0 && inlen > 0)
        first = DT_SCALAR_BYTES;
    for (size_t off = 0; off < inlen;) {
        size_t k = off == 0 ? first : DT_SCALAR_BYTES;
        memcpy(buf, r.be, DT_SCALAR_BYTES);
        memset(buf + DT_SCALAR_BYTES, 0, DT_SCALAR_BYTES - k);
        memcpy(buf + 2 * DT_SCALAR_BYTES - k, in + off, k);
        g->ops->scalar_reduce64(g, &r, buf);
        off += k;
    }
    *out = r;
    dt_memzero(buf, sizeof buf);
    dt_memzero(&r, sizeof r);
}

void dt_scalar_from_u64(const dt_group *g, dt_scalar *out, uint64_t v)
{
    DT_ARG_CHECK(g && out);
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)v;
        v >>= 8;
    }
    dt_scalar_reduce(g, out, b, sizeof b);
    dt_memzero(b, sizeof b);
}

void dt_scalar_add(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b)
{
    DT_ARG_CHECK(g && r && a && b);
    g->ops->scalar_add(g, r, a, b);
}

void dt_scalar_sub(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b)
{
    DT_ARG_CHECK(g && r && a && b);
    g->ops->scalar_sub(g, r, a, b);
}

void dt_scalar_mul(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b)
{
    DT_ARG_CHECK(g && r && a && b);
    g->ops->scalar_mul(g, r, a, b);
}

void dt_scalar_neg(const dt_group *g, dt_scalar *r, const dt_scalar *a)
{
    DT_ARG_CHECK(g && r && a);
    dt_scalar zero;
    memset(&zero, 0, sizeof zero);
    g->ops->scalar_sub(g, r, &zero, a);
}

dt_err dt_scalar_inv_var(const dt_group *g, dt_scalar *r, const dt_scalar *a)
{
    DT_ARG_CHECK(g && r && a);
    if (dt_scalar_is_zero(a)) {
        memset(r, 0, sizeof *r);
        return DT_ERR_RANGE;
    }
    g->ops->scalar_inv(g, r, a);
    return DT_OK;
}

int dt_scalar_is_zero(const dt_scalar *a)
{
    DT_ARG_CHECK(a);
    return sodium_is_zero(a->be, DT_SCALAR_BYTES);
}

int dt_scalar_eq(const dt_scalar *a, const dt_scalar *b)
{
    DT_ARG_CHECK(a && b);
    return dt_ct_eq(a->be, b->be, DT_SCALAR_BYTES);
}

dt_err dt_scalar_random(const dt_group *g, dt_scalar *out)
{
    DT_ARG_CHECK(g && out);
    unsigned char buf[2 * DT_SCALAR_BYTES];
    dt_err err = DT_ERR_RANDOM;

    memset(out, 0, sizeof *out);
    /* A zero comes with probability 1/q per try (1/127 for the smallest toy
     * group): 64 tries that all give zero mean a broken source. */
    for (int tries = 0; tries < 64; tries++) {
        err = dt_random_bytes(buf, sizeof buf);
        if (err != DT_OK)
            break;
        dt_scalar_reduce(g, out, buf, sizeof buf);
        /* public: a zero (probability 1/q) only makes us draw again */
        int zero = dt_scalar_is_zero(out);
        dt_declassify(&zero, sizeof zero);
        if (!zero)
            break;
        err = DT_ERR_RANDOM;
    }
    if (err != DT_OK)
        memset(out, 0, sizeof *out);
    dt_memzero(buf, sizeof buf);
    return err;
}
