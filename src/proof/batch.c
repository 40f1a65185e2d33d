/* Batch verification of proof commitment equations (proof.h).
 *
 * A decryption proof with its commitments (dt_batch_add_dleq) gives
 *   g^v K^c = a   and   A^v M^c = b,
 * and a published power of K (dt_batch_add_kpow) X = K^s; they enter the
 * same combination, a and b and X with short weights, A and M with full ones.
 *
 * Each range-proof branch j gives two equations,
 *   g^v_j alpha^c_j = a_j   and   K^(v_j - j c_j) beta^c_j = b_j.
 * With a fresh random weight z per equation the batch checks
 *   sum z (a_j or b_j) - G * sum z v_j - K * sum z (v_j - j c_j)
 *     - sum_alpha alpha * (sum z c_j) - sum_beta beta * (sum z c_j) = 0
 * (written additively) with one multi-scalar multiplication. The
 * commitments, one term each, keep their 128-bit weights (so cost about half
 * of a full-size term); the generator and K collect one scalar each over the
 * whole batch, and each ciphertext one scalar per proof.
 *
 * Soundness: all elements lie in the group of prime order q > 2^252 (they
 * were decoded with validation). If some equation's difference D_k is not
 * the identity, then for any fixed other weights the combination is the
 * identity for at most one value of z_k mod q; the weights are 128-bit
 * values, distinct mod q, drawn independently from a ChaCha20 stream keyed by
 * 32 bytes from the OS after the proofs were made, so the batch accepts with
 * probability at most 2^-128. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <detente/proof.h>

/* A sum of products z x, with z below 2^192 and x below 2^256, not yet
 * reduced mod q: 512 bits hold 2^128 such terms. Little-endian 64-bit limbs.
 * One reduction at the end instead of one a product and one a sum: the
 * scalar arithmetic was a fifth of the cost of adding a ballot's proofs. */
typedef struct acc512 {
    uint64_t w[8];
} acc512;

struct dt_batch {
    const dt_group *g;
    dt_elem K;
    acc512 gsum, kpos, kneg;   /* the coefficients of g, and of K: kpos - kneg */
    dt_elem *base;             /* the other terms */
    dt_scalar *e;
    size_t n, cap;
    size_t equations;
    int broken;                /* an add ran out of memory */
    int small_q;               /* q below 2^248 (test groups) */
    unsigned char key[crypto_stream_chacha20_KEYBYTES];
    uint64_t counter;          /* ChaCha20 nonce: one per add */
};

static void limbs_be(uint64_t x[4], const unsigned char be[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | be[8 * (3 - i) + k];
        x[i] = v;
    }
}

/* a += z x, z of nz limbs (at most 3), x of 4 */
static void acc_muladd(acc512 *a, const uint64_t *z, int nz, const uint64_t x[4])
{
    for (int i = 0; i < nz; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            unsigned __int128 t = (unsigned __int128)z[i] * x[j] + a->w[i + j] + carry;
            a->w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        for (int k = i + 4; carry && k < 8; k++) {
            a->w[k] += carry;
            carry = a->w[k] < carry;
        }
    }
}

static void acc_add(acc512 *a, const acc512 *b)
{
    uint64_t carry = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t t = a->w[i] + carry;
        carry = t < carry;
        a->w[i] = t + b->w[i];
        carry += a->w[i] < t;
    }
}

static void acc_reduce(const dt_group *g, dt_scalar *out, const acc512 *a)
{
    unsigned char be[64];
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 8; k++)
            be[8 * (7 - i) + 7 - k] = (unsigned char)(a->w[i] >> (8 * k));
    dt_scalar_reduce(g, out, be, sizeof be);
}

/* a weight's two limbs (weights are below 2^128) */
static void weight_limbs(uint64_t z[2], const dt_scalar *w)
{
    uint64_t x[4];
    limbs_be(x, w->be);
    z[0] = x[0];
    z[1] = x[1];
}

dt_batch *dt_batch_create(const dt_group *g, const dt_elem *K)
{
    dt_batch *bt;
    if (!g || !K)
        dt_misuse("dt_batch_create: NULL argument");
    if (!(bt = calloc(1, sizeof *bt)))
        return NULL;
    bt->g = g;
    bt->K = *K;
    bt->small_q = dt_group_scalar_bytes(g) < 32;
    randombytes_buf(bt->key, sizeof bt->key);
    return bt;
}

void dt_batch_destroy(dt_batch *bt)
{
    if (!bt)
        return;
    free(bt->base);
    free(bt->e);
    free(bt);
}

size_t dt_batch_equations(const dt_batch *bt)
{
    return bt->equations;
}

static int reserve(dt_batch *bt, size_t more)
{
    size_t cap = bt->cap ? bt->cap : 256;
    dt_elem *nb;
    dt_scalar *ne;
    if (bt->n + more <= bt->cap)
        return 1;
    while (cap < bt->n + more) {
        if (cap > SIZE_MAX / 2 / sizeof *nb)
            return 0;
        cap *= 2;
    }
    if (!(nb = realloc(bt->base, cap * sizeof *nb)))
        return 0;
    bt->base = nb;
    if (!(ne = realloc(bt->e, cap * sizeof *ne)))
        return 0;
    bt->e = ne;
    bt->cap = cap;
    return 1;
}

/* The weights for the next add: 2 (R + 1) values below 2^128. */
static void weights(dt_batch *bt, dt_scalar *z, size_t n)
{
    unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    unsigned char buf[16 * 64];
    for (size_t i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        memcpy(nonce, &bt->counter, sizeof bt->counter);
        bt->counter++;
        crypto_stream_chacha20(buf, 16 * k, nonce, bt->key);
        for (size_t j = 0; j < k; j++) {
            if (bt->small_q) { /* a toy group: a weight must be below q too */
                dt_scalar_reduce(bt->g, &z[i + j], buf + 16 * j, 16);
                continue;
            }
            memset(z[i + j].be, 0, 16);
            memcpy(z[i + j].be + 16, buf + 16 * j, 16);
        }
    }
}

dt_err dt_batch_add_range(dt_batch *bt, const dt_elem *alpha, const dt_elem *beta, const dt_elem *a,
                          const dt_elem *b, const dt_scalar *c, const dt_scalar *v, uint32_t R)
{
    const dt_group *g = bt->g;
    const size_t neq = 2 * ((size_t)R + 1);
    dt_scalar *z, s;
    acc512 ac = {{0}}, bc = {{0}};

    if (bt->broken)
        return DT_ERR_NOMEM;
    if (!(z = malloc(neq * sizeof *z)) || !reserve(bt, neq + 2)) {
        free(z);
        bt->broken = 1;
        return DT_ERR_NOMEM;
    }
    weights(bt, z, neq);
    for (uint32_t j = 0; j <= R; j++) {
        uint64_t za[2], zb[3], cj[4], vj[4];
        weight_limbs(za, &z[2 * j]);
        weight_limbs(zb, &z[2 * j + 1]);
        limbs_be(cj, c[j].be);
        limbs_be(vj, v[j].be);
        /* z_a (g^v_j alpha^c_j - a_j) */
        acc_muladd(&bt->gsum, za, 2, vj);
        acc_muladd(&ac, za, 2, cj);
        bt->base[bt->n] = a[j];
        bt->e[bt->n++] = z[2 * j];
        /* z_b (K^(v_j - j c_j) beta^c_j - b_j): K's coefficient in two
         * sums, z_b v_j added and z_b j c_j subtracted */
        acc_muladd(&bt->kpos, zb, 2, vj);
        acc_muladd(&bc, zb, 2, cj);
        if (j) {
            unsigned __int128 t = (unsigned __int128)zb[0] * j;
            zb[0] = (uint64_t)t;
            t = (unsigned __int128)zb[1] * j + (uint64_t)(t >> 64);
            zb[1] = (uint64_t)t;
            zb[2] = (uint64_t)(t >> 64); /* z_b j: below 2^160 */
            acc_muladd(&bt->kneg, zb, 3, cj);
        }
        bt->base[bt->n] = b[j];
        bt->e[bt->n++] = z[2 * j + 1];
    }
    /* alpha and beta enter with the negated sums: the commitments' side of
     * each equation keeps its short weight */
    acc_reduce(g, &s, &ac);
    bt->base[bt->n] = *alpha;
    dt_scalar_neg(g, &bt->e[bt->n++], &s);
    acc_reduce(g, &s, &bc);
    bt->base[bt->n] = *beta;
    dt_scalar_neg(g, &bt->e[bt->n++], &s);
    bt->equations += neq;
    free(z);
    return DT_OK;
}

dt_err dt_batch_add_dleq(dt_batch *bt, const dt_elem *A, const dt_elem *M, const dt_elem *a, const dt_elem *b,
                         const dt_scalar *c, const dt_scalar *v)
{
    const dt_group *g = bt->g;
    dt_scalar z[2], t;
    uint64_t za[2], cl[4], vl[4];
    if (bt->broken)
        return DT_ERR_NOMEM;
    if (!reserve(bt, 4)) {
        bt->broken = 1;
        return DT_ERR_NOMEM;
    }
    weights(bt, z, 2);
    limbs_be(cl, c->be);
    limbs_be(vl, v->be);
    /* z_a (a - g^v K^c) */
    bt->base[bt->n] = *a;
    bt->e[bt->n++] = z[0];
    weight_limbs(za, &z[0]);
    acc_muladd(&bt->gsum, za, 2, vl);
    acc_muladd(&bt->kpos, za, 2, cl);
    /* z_b (b - A^v M^c) */
    bt->base[bt->n] = *b;
    bt->e[bt->n++] = z[1];
    bt->base[bt->n] = *A;
    dt_scalar_mul(g, &t, &z[1], v);
    dt_scalar_neg(g, &bt->e[bt->n++], &t);
    bt->base[bt->n] = *M;
    dt_scalar_mul(g, &t, &z[1], c);
    dt_scalar_neg(g, &bt->e[bt->n++], &t);
    bt->equations += 2;
    return DT_OK;
}

dt_err dt_batch_add_kpow(dt_batch *bt, const dt_elem *X, const dt_scalar *s)
{
    dt_scalar z;
    uint64_t zl[2], sl[4];
    if (bt->broken)
        return DT_ERR_NOMEM;
    if (!reserve(bt, 1)) {
        bt->broken = 1;
        return DT_ERR_NOMEM;
    }
    weights(bt, &z, 1);
    /* z (X - K^s) */
    bt->base[bt->n] = *X;
    bt->e[bt->n++] = z;
    weight_limbs(zl, &z);
    limbs_be(sl, s->be);
    acc_muladd(&bt->kpos, zl, 2, sl);
    bt->equations += 1;
    return DT_OK;
}

dt_err dt_batch_merge(dt_batch *dst, const dt_batch *src)
{
    const dt_group *g = dst->g;
    if (dst->g != src->g || !dt_elem_eq(g, &dst->K, &src->K))
        dt_misuse("dt_batch_merge: batches of another group or key");
    if (dst->broken || src->broken) {
        dst->broken = 1;
        return DT_ERR_NOMEM;
    }
    if (!reserve(dst, src->n)) {
        dst->broken = 1;
        return DT_ERR_NOMEM;
    }
    memcpy(dst->base + dst->n, src->base, src->n * sizeof *src->base);
    memcpy(dst->e + dst->n, src->e, src->n * sizeof *src->e);
    dst->n += src->n;
    acc_add(&dst->gsum, &src->gsum);
    acc_add(&dst->kpos, &src->kpos);
    acc_add(&dst->kneg, &src->kneg);
    dst->equations += src->equations;
    return DT_OK;
}

dt_err dt_batch_check(dt_batch *bt)
{
    const dt_group *g = bt->g;
    dt_elem r;
    dt_err err;

    if (bt->broken) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (bt->equations == 0) {
        err = DT_OK;
        goto out;
    }
    if (!reserve(bt, 2)) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    {
        dt_scalar gs, kp, kn;
        acc_reduce(g, &gs, &bt->gsum);
        acc_reduce(g, &kp, &bt->kpos);
        acc_reduce(g, &kn, &bt->kneg);
        dt_elem_generator(g, &bt->base[bt->n]);
        dt_scalar_neg(g, &bt->e[bt->n++], &gs);
        bt->base[bt->n] = bt->K;
        dt_scalar_sub(g, &bt->e[bt->n++], &kn, &kp); /* -(kpos - kneg) */
    }
    if ((err = dt_msm_var(g, &r, bt->base, bt->e, bt->n)) == DT_OK)
        err = dt_elem_is_identity(g, &r) ? DT_OK : DT_ERR_PROOF;
out:
    bt->n = 0;
    bt->equations = 0;
    bt->broken = 0;
    memset(&bt->gsum, 0, sizeof bt->gsum);
    memset(&bt->kpos, 0, sizeof bt->kpos);
    memset(&bt->kneg, 0, sizeof bt->kneg);
    return err;
}
