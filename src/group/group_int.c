/* The ElectionGuard 2.0 integer group: the order-q subgroup of Z_p^*, on GMP.
 *
 * Elements live in dt_elem.opaque as n little-endian limbs (n = limbs of p,
 * 64 for the standard group; the rest of the buffer is zero), always reduced
 * mod p. Scalars are converted to limbs on each call.
 *
 * Constant time: exponentiation by a scalar (dt_elem_pow, dt_elem_pow_g) uses
 * mpn_sec_powm with a fixed exponent length (the bit length of q), and scalar
 * arithmetic uses the mpn_sec_ and mpn_cnd_ functions on fixed-size limb
 * arrays. The rest (decoding, multiplication, division, the _var functions)
 * handles public elements and may take variable time; division and the _var
 * functions use mpz temporaries, which GMP allocates (GMP aborts if it
 * cannot). Secret temporaries are wiped before return. */
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "group/group_impl.h"

/* ElectionGuard 2.0 standard parameters (specification section 3.1.1, and
 * constants.json of the sample record): p is 4096 bits, q = 2^256 - 189. */
const char dt_group_int4096_p_hex[] =
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "b17217f7d1cf79abc9e3b39803f2f6af40f343267298b62d8a0d175b8baafa2b"
    "e7b876206debac98559552fb4afa1b10ed2eae35c138214427573b291169b825"
    "3e96ca16224ae8c51acbda11317c387eb9ea9bc3b136603b256fa0ec7657f74b"
    "72ce87b19d6548caf5dfa6bd38303248655fa1872f20e3a2da2d97c50f3fd5c6"
    "07f4ca11fb5bfb90610d30f88fe551a2ee569d6dfc1efa157d2e23de1400b396"
    "17460775db8990e5c943e732b479cd33cccc4e659393514c4c1a1e0bd1d6095d"
    "25669b333564a3376a9c7f8a5e148e82074db6015cfe7aa30c480a5417350d2c"
    "955d5179b1e17b9dae313cdb6c606cb1078f735d1b2db31b5f50b5185064c18b"
    "4d162db3b365853d7598a1951ae273ee5570b6c68f96983496d4e6d330af889b"
    "44a02554731cdc8ea17293d1228a4ef98d6f5177fbcf0755268a5c1f9538b982"
    "61affd446b1ca3cf5e9222b88c66d3c5422183edc99421090bbb16faf3d949f2"
    "36e02b20cee886b905c128d53d0bd2f9621363196af503020060e49908391a0c"
    "57339ba2beba7d052ac5b61cc4e9207cef2f0ce2d7373958d762265890445744"
    "fb5f2da4b751005892d356890defe9cad9b9d4b713e06162a2d8fdd0df2fd608"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const char dt_group_int4096_q_hex[] =
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff43";
const char dt_group_int4096_g_hex[] =
    "36036fed214f3b50dc566d3a312fe4131fee1c2bce6d02ea39b477ac05f7f885"
    "f38cfe77a7e45acf4029114c4d7a9bfe058bf2f995d2479d3dda618ffd910d3c"
    "4236ab2cfdd783a5016f7465cf59bbf45d24a22f130f2d04fe93b2d58bb9c1d1"
    "d27fc9a17d2af49a779f3ffbdca22900c14202ee6c99616034be35cbcdd3e7bb"
    "7996adfe534b63cca41e21ff5dc778ebb1b86c53bfbe99987d7aea0756237fb4"
    "0922139f90a62f2aa8d9ad34dff799e33c857a6468d001acf3b681db87dc4242"
    "755e2ac5a5027db81984f033c4d178371f273dbb4fcea1e628c23e52759bc776"
    "5728035cea26b44c49a65666889820a45c33dd37ea4a1d00cb62305cd541be1e"
    "8a92685a07012b1a20a746c3591a2db3815000d2aaccfe43dc49e828c1ed7387"
    "466afd8e4bf1935593b2a442eec271c50ad39f733797a1ea11802a2557916534"
    "662a6b7e9a9e449a24c8cff809e79a4d806eb681119330e6c57985e39b200b48"
    "93639fdfdea49f76ad1acd997eba13657541e79ec57437e504eda9dd01106151"
    "6c643fb30d6d58afccd28b73feda29ec12b01a5eb86399a593a9d5f450de39cb"
    "92962c5ec6925348db54d128fd99c14b457f883ec20112a75a6a0581d3d80a3b"
    "4ef09ec86f9552ffda1653f133aa2534983a6f31b0ee4697935a6b1ea2f75b85"
    "e7eba151ba486094d68722b054633fec51ca3f29b31e77e317b178b6b9d8ae0f";

#define DT_LB ((size_t)sizeof(mp_limb_t))

/* ---- conversions ---- */

/* r = the len-byte big-endian in, as n limbs; len <= n * DT_LB. */
static void dt_limbs_from_be(mp_limb_t *r, mp_size_t n, const unsigned char *in, size_t len)
{
    memset(r, 0, (size_t)n * DT_LB);
    for (size_t i = 0; i < len; i++)
        r[i / DT_LB] |= (mp_limb_t)in[len - 1 - i] << (8 * (i % DT_LB));
}

/* out = the low len bytes of the n-limb a, big-endian. */
static void dt_limbs_to_be(unsigned char *out, size_t len, const mp_limb_t *a, mp_size_t n)
{
    for (size_t i = 0; i < len; i++) {
        size_t li = i / DT_LB;
        out[len - 1 - i] = li < (size_t)n ? (unsigned char)(a[li] >> (8 * (i % DT_LB))) : 0;
    }
}

static void dt_int_load(const dt_group *g, mp_limb_t *x, const dt_elem *e)
{
    memcpy(x, e->opaque, (size_t)g->ip.n * DT_LB);
}

static void dt_int_store(const dt_group *g, dt_elem *e, const mp_limb_t *x)
{
    size_t k = (size_t)g->ip.n * DT_LB;
    memcpy(e->opaque, x, k);
    memset(e->opaque + k, 0, sizeof e->opaque - k);
}

/* An mpz result (0 <= x < p) into an element. */
static void dt_int_store_mpz(const dt_group *g, dt_elem *e, const mpz_t x)
{
    mp_limb_t t[DT_INT_MAX_LIMBS];
    size_t k = mpz_size(x);
    memset(t, 0, sizeof t);
    memcpy(t, mpz_limbs_read(x), k * DT_LB);
    dt_int_store(g, e, t);
}

static void dt_scalar_load(mp_limb_t r[DT_SCALAR_LIMBS], const dt_scalar *s)
{
    dt_limbs_from_be(r, DT_SCALAR_LIMBS, s->be, DT_SCALAR_BYTES);
}

static void dt_scalar_store(const dt_group *g, dt_scalar *s, const mp_limb_t *r)
{
    dt_limbs_to_be(s->be, DT_SCALAR_BYTES, r, g->ip.nq);
}

/* ---- elements ---- */

/* r = a * b mod p; r may alias a or b. */
static void dt_int_mulmod(const dt_group *g, mp_limb_t *r, const mp_limb_t *a, const mp_limb_t *b)
{
    mp_limb_t prod[2 * DT_INT_MAX_LIMBS], quo[DT_INT_MAX_LIMBS + 1];
    mp_size_t n = g->ip.n;
    if (a == b)
        mpn_sqr(prod, a, n);
    else
        mpn_mul_n(prod, a, b, n);
    mpn_tdiv_qr(quo, r, 0, prod, 2 * n, g->ip.p, n);
}

static void dt_int_identity(const dt_group *g, dt_elem *r)
{
    mp_limb_t one[DT_INT_MAX_LIMBS];
    memset(one, 0, sizeof one);
    one[0] = 1;
    dt_int_store(g, r, one);
}

static void dt_int_generator(const dt_group *g, dt_elem *r)
{
    dt_int_store(g, r, g->ip.g);
}

static dt_err dt_int_decode(const dt_group *g, dt_elem *out, const unsigned char *in)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_INT_MAX_LIMBS];
    mpz_t xz, qz, pz, r;
    int member;

    dt_limbs_from_be(x, ip->n, in, g->elem_bytes);
    if (mpn_zero_p(x, ip->n) || mpn_cmp(x, ip->p, ip->n) >= 0)
        return DT_ERR_RANGE;
    mpz_init2(r, (mp_bitcnt_t)ip->n * GMP_NUMB_BITS);
    mpz_powm(r, mpz_roinit_n(xz, x, ip->n), mpz_roinit_n(qz, ip->q, ip->nq),
             mpz_roinit_n(pz, ip->p, ip->n));
    member = mpz_cmp_ui(r, 1) == 0;
    mpz_clear(r);
    if (!member)
        return DT_ERR_NOT_IN_GROUP;
    dt_int_store(g, out, x);
    return DT_OK;
}

static void dt_int_encode(const dt_group *g, unsigned char *out, const dt_elem *e)
{
    mp_limb_t x[DT_INT_MAX_LIMBS];
    dt_int_load(g, x, e);
    dt_limbs_to_be(out, g->elem_bytes, x, g->ip.n);
}

static void dt_int_mul(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    mp_limb_t x[DT_INT_MAX_LIMBS], y[DT_INT_MAX_LIMBS];
    dt_int_load(g, x, a);
    dt_int_load(g, y, b);
    dt_int_mulmod(g, x, x, a == b ? x : y);
    dt_int_store(g, r, x);
}

/* a / b = a * b^-1: the inverse by the extended Euclidean algorithm
 * (variable time; elements are public). */
static void dt_int_div(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_INT_MAX_LIMBS], y[DT_INT_MAX_LIMBS];
    mpz_t yz, pz, inv;

    dt_int_load(g, x, a);
    dt_int_load(g, y, b);
    mpz_init2(inv, (mp_bitcnt_t)ip->n * GMP_NUMB_BITS);
    if (!mpz_invert(inv, mpz_roinit_n(yz, y, ip->n), mpz_roinit_n(pz, ip->p, ip->n)))
        dt_misuse("dt_elem_div: divisor is not a group element");
    memset(y, 0, sizeof y);
    memcpy(y, mpz_limbs_read(inv), mpz_size(inv) * DT_LB);
    mpz_clear(inv);
    dt_int_mulmod(g, x, x, y);
    dt_int_store(g, r, x);
}

/* r = base^e mod p in constant time with respect to e (mpn_sec_powm with the
 * exponent length fixed at the bit length of q). */
static void dt_int_powm_sec(const dt_group *g, dt_elem *r, const mp_limb_t *b, const dt_scalar *e)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_INT_MAX_LIMBS], el[DT_SCALAR_LIMBS], tp[DT_INT_SCRATCH_LIMBS];

    dt_scalar_load(el, e);
    mpn_sec_powm(x, b, ip->n, el, ip->qbits, ip->p, ip->n, tp);
    dt_int_store(g, r, x);
    dt_memzero(el, sizeof el);
    dt_memzero(tp, sizeof tp);
    dt_memzero(x, sizeof x);
}

static void dt_int_pow(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    mp_limb_t b[DT_INT_MAX_LIMBS];
    dt_int_load(g, b, base);
    dt_int_powm_sec(g, r, b, e);
}

/* ---- fixed-base tables (DT_INT_FB_*, group_impl.h) ----
 *
 * b^e as the product over the windows of e's digits d_i of the entries
 * b^(d_i 2^(w i)): 51 multiplications for 256 bits instead of mpn_sec_powm's
 * 256 squarings and its window multiplications. Constant time: every window
 * is read whole by mpn_sec_tabselect and every product is mpn_sec_mul then
 * mpn_sec_div_r, whatever the digits (a zero digit multiplies by 1). */

static mp_limb_t *dt_int_entry(mp_limb_t *tab, mp_size_t n, size_t i, size_t j)
{
    return tab + (i * DT_INT_FB_ENTRIES + j) * (size_t)n;
}

/* tab (DT_INT_FB_LIMBS limbs) for the base b (public: variable time) */
static void dt_int_table_init(const dt_group *g, mp_limb_t *tab, const mp_limb_t *b)
{
    mp_size_t n = g->ip.n;
    mp_limb_t w[DT_INT_MAX_LIMBS]; /* b^(2^(w i)) */
    memcpy(w, b, (size_t)n * DT_LB);
    for (size_t i = 0; i < DT_INT_FB_WINDOWS; i++) {
        mp_limb_t *e0 = dt_int_entry(tab, n, i, 0);
        memset(e0, 0, (size_t)n * DT_LB);
        e0[0] = 1;
        memcpy(dt_int_entry(tab, n, i, 1), w, (size_t)n * DT_LB);
        for (size_t j = 2; j < DT_INT_FB_ENTRIES; j++)
            dt_int_mulmod(g, dt_int_entry(tab, n, i, j), dt_int_entry(tab, n, i, j - 1), w);
        /* the next window's base: w^(2^w) = this window's last entry times w */
        dt_int_mulmod(g, w, dt_int_entry(tab, n, i, DT_INT_FB_ENTRIES - 1), w);
    }
}

/* digit i of e: bits w i .. w i + w - 1 (public or secret: no branch) */
static unsigned dt_int_digit(const mp_limb_t el[DT_SCALAR_LIMBS], size_t i)
{
    size_t bit = i * DT_INT_FB_W, limb = bit / GMP_NUMB_BITS, sh = bit % GMP_NUMB_BITS;
    mp_limb_t v = el[limb] >> sh;
    if (sh + DT_INT_FB_W > GMP_NUMB_BITS && limb + 1 < DT_SCALAR_LIMBS)
        v |= el[limb + 1] << (GMP_NUMB_BITS - sh);
    return (unsigned)(v & (DT_INT_FB_ENTRIES - 1));
}

static void dt_int_table_pow(const dt_group *g, dt_elem *r, const mp_limb_t *tab, const dt_scalar *e)
{
    const dt_int_params *ip = &g->ip;
    mp_size_t n = ip->n;
    mp_limb_t el[DT_SCALAR_LIMBS], acc[2 * DT_INT_MAX_LIMBS], sel[DT_INT_MAX_LIMBS], tp[DT_INT_SCRATCH_LIMBS];

    dt_scalar_load(el, e);
    mpn_sec_tabselect(acc, tab, n, DT_INT_FB_ENTRIES, dt_int_digit(el, 0));
    for (size_t i = 1; i < DT_INT_FB_WINDOWS; i++) {
        mpn_sec_tabselect(sel, dt_int_entry((mp_limb_t *)tab, n, i, 0), n, DT_INT_FB_ENTRIES, dt_int_digit(el, i));
        mpn_sec_mul(tp, acc, n, sel, n, tp + 2 * n);
        mpn_sec_div_r(tp, 2 * n, ip->p, n, tp + 2 * n);
        memcpy(acc, tp, (size_t)n * DT_LB);
    }
    dt_int_store(g, r, acc);
    dt_memzero(el, sizeof el);
    dt_memzero(acc, sizeof acc);
    dt_memzero(sel, sizeof sel);
    dt_memzero(tp, sizeof tp);
}

static void dt_int_fixed_base_init(const dt_group *g, void *table, const dt_elem *base)
{
    mp_limb_t b[DT_INT_MAX_LIMBS];
    dt_int_load(g, b, base);
    dt_int_table_init(g, table, b);
}

static void dt_int_fixed_base_pow(const dt_group *g, const void *table, dt_elem *r, const dt_scalar *e)
{
    dt_int_table_pow(g, r, table, e);
}

static void dt_int_pow_g(const dt_group *g, dt_elem *r, const dt_scalar *e)
{
    if (g->ip.gtab)
        dt_int_table_pow(g, r, g->ip.gtab, e);
    else
        dt_int_powm_sec(g, r, g->ip.g, e);
}

static void dt_int_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t b[DT_INT_MAX_LIMBS], el[DT_SCALAR_LIMBS];
    mpz_t bz, ez, pz, x;

    dt_int_load(g, b, base);
    dt_scalar_load(el, e);
    mpz_init2(x, (mp_bitcnt_t)ip->n * GMP_NUMB_BITS);
    mpz_powm(x, mpz_roinit_n(bz, b, ip->n), mpz_roinit_n(ez, el, DT_SCALAR_LIMBS),
             mpz_roinit_n(pz, ip->p, ip->n));
    dt_int_store_mpz(g, r, x);
    mpz_clear(x);
}

/* Simultaneous exponentiation: one chain of squarings shared by all bases,
 * sliding windows of DT_MP_W bits on each exponent (odd powers b, b^3, ...,
 * b^(2^W - 1) precomputed). Bases are taken DT_MP_BATCH at a time so that the
 * tables stay on the stack. About 256 squarings + n * (256 / (W + 1) + 2^(W-1))
 * multiplications instead of n * (256 squarings + 256 / (W + 1) multiplications):
 * about 40% less time for 2 bases, 60% for 6. The tables take 32 KiB of stack. */
#define DT_MP_W 4
#define DT_MP_TAB (1 << (DT_MP_W - 1))
#define DT_MP_BATCH 8
#define DT_MP_BITS (8 * DT_SCALAR_BYTES)

static int dt_scalar_bit(const dt_scalar *e, unsigned i)
{
    return (e->be[DT_SCALAR_BYTES - 1 - i / 8] >> (i % 8)) & 1;
}

/* dig[i] = odd window value ending (at its low bit) at bit i, or 0. */
static void dt_mp_recode(unsigned char dig[DT_MP_BITS], const dt_scalar *e)
{
    memset(dig, 0, DT_MP_BITS);
    for (unsigned i = 0; i < DT_MP_BITS;) {
        if (!dt_scalar_bit(e, i)) {
            i++;
            continue;
        }
        unsigned d = 0;
        for (unsigned k = 0; k < DT_MP_W && i + k < DT_MP_BITS; k++)
            d |= (unsigned)dt_scalar_bit(e, i + k) << k;
        dig[i] = (unsigned char)d;
        i += DT_MP_W;
    }
}

static void dt_int_multi_pow_var(const dt_group *g, dt_elem *r, const dt_elem *base,
                                 const dt_scalar *e, size_t n)
{
    mp_limb_t tab[DT_MP_BATCH][DT_MP_TAB][DT_INT_MAX_LIMBS];
    mp_limb_t acc[DT_INT_MAX_LIMBS], total[DT_INT_MAX_LIMBS], sq[DT_INT_MAX_LIMBS];
    unsigned char dig[DT_MP_BATCH][DT_MP_BITS];
    int have_total = 0;

    if (n == 1) {
        dt_int_pow_var(g, r, base, e);
        return;
    }
    for (size_t start = 0; start < n; start += DT_MP_BATCH) {
        size_t k = n - start < DT_MP_BATCH ? n - start : DT_MP_BATCH;
        int started = 0;
        for (size_t j = 0; j < k; j++) {
            dt_int_load(g, tab[j][0], &base[start + j]);
            dt_int_mulmod(g, sq, tab[j][0], tab[j][0]);
            for (size_t t = 1; t < DT_MP_TAB; t++)
                dt_int_mulmod(g, tab[j][t], tab[j][t - 1], sq);
            dt_mp_recode(dig[j], &e[start + j]);
        }
        for (unsigned i = DT_MP_BITS; i-- > 0;) {
            if (started)
                dt_int_mulmod(g, acc, acc, acc);
            for (size_t j = 0; j < k; j++) {
                unsigned d = dig[j][i];
                if (!d)
                    continue;
                if (started) {
                    dt_int_mulmod(g, acc, acc, tab[j][d >> 1]);
                } else {
                    memcpy(acc, tab[j][d >> 1], (size_t)g->ip.n * DT_LB);
                    started = 1;
                }
            }
        }
        if (!started)
            continue; /* every exponent of this batch is zero */
        if (have_total) {
            dt_int_mulmod(g, total, total, acc);
        } else {
            memcpy(total, acc, (size_t)g->ip.n * DT_LB);
            have_total = 1;
        }
    }
    if (have_total)
        dt_int_store(g, r, total);
    else
        dt_int_identity(g, r);
}

/* ---- scalars (constant time: mpn_sec_ and mpn_cnd_ on nq limbs) ---- */

static void dt_int_scalar_add(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                              const dt_scalar *b)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_SCALAR_LIMBS], y[DT_SCALAR_LIMBS], t[DT_SCALAR_LIMBS];
    mp_limb_t cy, bw;

    dt_scalar_load(x, a);
    dt_scalar_load(y, b);
    cy = mpn_cnd_add_n(1, x, x, y, ip->nq);   /* x = a + b - cy * 2^(64 nq) */
    bw = mpn_cnd_sub_n(1, t, x, ip->q, ip->nq); /* t = x - q */
    /* a + b >= q exactly when the addition carried or the subtraction did not borrow */
    mpn_cnd_swap(cy | (bw ^ 1), x, t, ip->nq);
    dt_scalar_store(g, r, x);
    dt_memzero(x, sizeof x);
    dt_memzero(y, sizeof y);
    dt_memzero(t, sizeof t);
}

static void dt_int_scalar_sub(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                              const dt_scalar *b)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_SCALAR_LIMBS], y[DT_SCALAR_LIMBS];
    mp_limb_t bw;

    dt_scalar_load(x, a);
    dt_scalar_load(y, b);
    bw = mpn_cnd_sub_n(1, x, x, y, ip->nq); /* a - b, or a - b + 2^(64 nq) on borrow */
    mpn_cnd_add_n(bw, x, x, ip->q, ip->nq); /* on borrow add q: the carry cancels */
    dt_scalar_store(g, r, x);
    dt_memzero(x, sizeof x);
    dt_memzero(y, sizeof y);
}

static void dt_int_scalar_mul(const dt_group *g, dt_scalar *r, const dt_scalar *a,
                              const dt_scalar *b)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_SCALAR_LIMBS], y[DT_SCALAR_LIMBS], prod[2 * DT_SCALAR_LIMBS];
    mp_limb_t tp[DT_INT_SCRATCH_LIMBS];

    dt_scalar_load(x, a);
    dt_scalar_load(y, b);
    mpn_sec_mul(prod, x, ip->nq, y, ip->nq, tp);
    mpn_sec_div_r(prod, 2 * ip->nq, ip->q, ip->nq, tp);
    dt_scalar_store(g, r, prod);
    dt_memzero(x, sizeof x);
    dt_memzero(y, sizeof y);
    dt_memzero(prod, sizeof prod);
    dt_memzero(tp, sizeof tp);
}

static void dt_int_scalar_reduce64(const dt_group *g, dt_scalar *out, const unsigned char in[64])
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[2 * DT_SCALAR_LIMBS], tp[DT_INT_SCRATCH_LIMBS];

    dt_limbs_from_be(x, 2 * DT_SCALAR_LIMBS, in, 2 * DT_SCALAR_BYTES);
    mpn_sec_div_r(x, 2 * DT_SCALAR_LIMBS, ip->q, ip->nq, tp);
    dt_scalar_store(g, out, x);
    dt_memzero(x, sizeof x);
    dt_memzero(tp, sizeof tp);
}

static void dt_int_scalar_inv(const dt_group *g, dt_scalar *r, const dt_scalar *a)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_SCALAR_LIMBS], y[DT_SCALAR_LIMBS], tp[DT_INT_SCRATCH_LIMBS];

    dt_scalar_load(x, a);
    if (!mpn_sec_invert(y, x, ip->q, ip->nq, 2 * ip->qbits, tp))
        dt_misuse("dt_scalar_inv_var: scalar has no inverse");
    dt_scalar_store(g, r, y);
    dt_memzero(x, sizeof x);
    dt_memzero(y, sizeof y);
    dt_memzero(tp, sizeof tp);
}

/* Batched subgroup membership (docs/security.md, "Batched membership").
 * With p - 1 = 2 q r' (q, r' prime), Z_p^* is the direct product of
 * subgroups of orders 2, q and r'. A value x with Legendre symbol 1 has no
 * order-2 part; if some x_j also has an order-r' part z_j != 1, then
 * prod x_i^e_i lies in the order-q subgroup only if prod z_i^e_i = 1, which
 * for any fixed other e_i holds for at most one e_j mod r': with e_j drawn
 * uniformly from [0, 2^128) and r' > 2^128, the probability is at most 2^-128.
 * So: every x_i in (0, p) with Legendre symbol 1, and (prod x_i^e_i)^q = 1
 * for fresh random 128-bit e_i, shows all x_i are members except with
 * probability 2^-128. The e_i come from the OS and are unknown to whoever
 * wrote the values. */
static dt_err dt_int_decode_batch_var(const dt_group *g, dt_elem *out, const unsigned char *const *in, size_t n)
{
    const dt_int_params *ip = &g->ip;
    mp_limb_t x[DT_INT_MAX_LIMBS];
    mpz_t xz, pz, qz, r;
    dt_scalar *e = NULL;
    dt_elem y;
    dt_err err = DT_OK;
    int member;

    if (!ip->batch_member || n < 2) {
        for (size_t i = 0; i < n; i++)
            if ((err = dt_int_decode(g, &out[i], in[i])) != DT_OK)
                return err;
        return DT_OK;
    }
    mpz_roinit_n(pz, ip->p, ip->n);
    for (size_t i = 0; i < n; i++) {
        dt_limbs_from_be(x, ip->n, in[i], g->elem_bytes);
        if (mpn_zero_p(x, ip->n) || mpn_cmp(x, ip->p, ip->n) >= 0)
            return DT_ERR_RANGE;
        if (mpz_jacobi(mpz_roinit_n(xz, x, ip->n), pz) != 1)
            return DT_ERR_NOT_IN_GROUP;
        dt_int_store(g, &out[i], x);
    }
    e = calloc(n, sizeof *e);
    if (!e)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if ((err = dt_random_bytes(e[i].be + DT_SCALAR_BYTES - 16, 16)) != DT_OK)
            goto out;
    dt_int_multi_pow_var(g, &y, out, e, n);
    dt_int_load(g, x, &y);
    mpz_init2(r, (mp_bitcnt_t)ip->n * GMP_NUMB_BITS);
    mpz_powm(r, mpz_roinit_n(xz, x, ip->n), mpz_roinit_n(qz, ip->q, ip->nq), pz);
    member = mpz_cmp_ui(r, 1) == 0;
    mpz_clear(r);
    err = member ? DT_OK : DT_ERR_NOT_IN_GROUP;
out:
    free(e);
    return err;
}

const dt_group_ops dt_group_int_ops = {
    .elem_decode_batch_var = dt_int_decode_batch_var,
    .elem_decode = dt_int_decode,
    .elem_encode = dt_int_encode,
    .elem_identity = dt_int_identity,
    .elem_generator = dt_int_generator,
    .elem_mul = dt_int_mul,
    .elem_div = dt_int_div,
    .elem_pow = dt_int_pow,
    .elem_pow_var = dt_int_pow_var,
    .elem_pow_g = dt_int_pow_g,
    .elem_multi_pow_var = dt_int_multi_pow_var,
    .scalar_reduce64 = dt_int_scalar_reduce64,
    .scalar_add = dt_int_scalar_add,
    .scalar_sub = dt_int_scalar_sub,
    .scalar_mul = dt_int_scalar_mul,
    .scalar_inv = dt_int_scalar_inv,
    .fixed_base_bytes = DT_INT_FB_LIMBS * sizeof(mp_limb_t),
    .fixed_base_init = dt_int_fixed_base_init,
    .fixed_base_pow = dt_int_fixed_base_pow,
};

/* ---- creation ---- */

static void dt_mpz_to_limbs(mp_limb_t *r, mp_size_t n, const mpz_t x)
{
    memset(r, 0, (size_t)n * DT_LB);
    memcpy(r, mpz_limbs_read(x), mpz_size(x) * DT_LB);
}

static int dt_is_standard(const mpz_t p, const mpz_t q, const mpz_t gen)
{
    mpz_t sp, sq, sg;
    int same;
    mpz_inits(sp, sq, sg, NULL);
    same = mpz_set_str(sp, dt_group_int4096_p_hex, 16) == 0 &&
           mpz_set_str(sq, dt_group_int4096_q_hex, 16) == 0 &&
           mpz_set_str(sg, dt_group_int4096_g_hex, 16) == 0 && mpz_cmp(p, sp) == 0 &&
           mpz_cmp(q, sq) == 0 && mpz_cmp(gen, sg) == 0;
    mpz_clears(sp, sq, sg, NULL);
    return same;
}

dt_group *dt_group_int_create(const char *p_hex, const char *q_hex, const char *g_hex, int trusted)
{
    dt_group *g = NULL;
    mpz_t p, q, gen, t;
    size_t pbits, qbits;
    mp_size_t n, nq, itch;

    mpz_inits(p, q, gen, t, NULL);
    if (mpz_set_str(p, p_hex, 16) != 0 || mpz_set_str(q, q_hex, 16) != 0 ||
        mpz_set_str(gen, g_hex, 16) != 0)
        goto out;
    /* sizes: 3 <= q < 2^256, 3 <= p < 2^4096, both odd */
    if (mpz_cmp_ui(q, 3) < 0 || mpz_cmp_ui(p, 3) < 0 || mpz_even_p(q) || mpz_even_p(p))
        goto out;
    pbits = mpz_sizeinbase(p, 2);
    qbits = mpz_sizeinbase(q, 2);
    if (pbits > DT_INT_MAX_BITS || qbits > 8 * DT_SCALAR_BYTES)
        goto out;
    /* q divides p - 1 */
    mpz_sub_ui(t, p, 1);
    if (!mpz_divisible_p(t, q))
        goto out;
    /* 1 < g < p and g^q = 1 mod p: g generates the order-q subgroup */
    if (mpz_cmp_ui(gen, 1) <= 0 || mpz_cmp(gen, p) >= 0)
        goto out;
    mpz_powm(t, gen, q, p);
    if (mpz_cmp_ui(t, 1) != 0)
        goto out;
    /* primality: skipped for the embedded standard constants only */
    if (!trusted && (!mpz_probab_prime_p(q, 30) || !mpz_probab_prime_p(p, 30)))
        goto out;

    n = (mp_size_t)mpz_size(p);
    nq = (mp_size_t)mpz_size(q);
    itch = mpn_sec_powm_itch(n, qbits, n);
    if (mpn_sec_mul_itch(nq, nq) > itch)
        itch = mpn_sec_mul_itch(nq, nq);
    if (mpn_sec_div_r_itch(2 * DT_SCALAR_LIMBS, nq) > itch)
        itch = mpn_sec_div_r_itch(2 * DT_SCALAR_LIMBS, nq);
    if (mpn_sec_div_r_itch(2 * nq, nq) > itch)
        itch = mpn_sec_div_r_itch(2 * nq, nq);
    if (mpn_sec_invert_itch(nq) > itch)
        itch = mpn_sec_invert_itch(nq);
    /* dt_int_table_pow: the product (2n) and then the scratch of either call */
    if (2 * n + mpn_sec_mul_itch(n, n) > itch)
        itch = 2 * n + mpn_sec_mul_itch(n, n);
    if (2 * n + mpn_sec_div_r_itch(2 * n, n) > itch)
        itch = 2 * n + mpn_sec_div_r_itch(2 * n, n);
    if (itch > DT_INT_SCRATCH_LIMBS)
        goto out;

    g = calloc(1, sizeof *g);
    if (!g)
        goto out;
    g->id = DT_GROUP_INTEGER4096;
    g->ops = &dt_group_int_ops;
    g->name = trusted || dt_is_standard(p, q, gen) ? "integer4096" : "integer";
    /* batched membership tests need p - 1 = 2 q r' with r' a prime above 2^128 */
    if (strcmp(g->name, "integer4096") == 0) {
        g->ip.batch_member = 1; /* r/2 prime: spec 3.1.1, checked in the digest and by test_group */
    } else {
        mpz_t rr;
        mpz_init(rr);
        mpz_sub_ui(rr, p, 1);
        if (mpz_divisible_p(rr, q)) {
            mpz_divexact(rr, rr, q);
            if (mpz_even_p(rr)) {
                mpz_divexact_ui(rr, rr, 2);
                g->ip.batch_member = mpz_sizeinbase(rr, 2) > 129 && mpz_probab_prime_p(rr, 30) != 0;
            }
        }
        mpz_clear(rr);
    }
    g->elem_bytes = (pbits + 7) / 8;
    g->scalar_bytes = (qbits + 7) / 8;
    g->store_bytes = (size_t)n * DT_LB;
    g->ip.n = n;
    g->ip.nq = nq;
    g->ip.qbits = qbits;
    dt_mpz_to_limbs(g->ip.p, DT_INT_MAX_LIMBS, p);
    dt_mpz_to_limbs(g->ip.g, DT_INT_MAX_LIMBS, gen);
    dt_mpz_to_limbs(g->ip.q, DT_SCALAR_LIMBS, q);
    dt_limbs_to_be(g->q_be, DT_SCALAR_BYTES, g->ip.q, nq);
    /* g's table (850 KiB, about 10 ms); without memory, mpn_sec_powm as before */
    if ((g->ip.gtab = malloc(DT_INT_FB_LIMBS * DT_LB)))
        dt_int_table_init(g, g->ip.gtab, g->ip.g);
out:
    mpz_clears(p, q, gen, t, NULL);
    return g;
}
