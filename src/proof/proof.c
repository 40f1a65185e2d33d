#include <string.h>

#include <detente/proof.h>

#include "util/ctcheck.h"

/* K^e, constant time in e: from the table when there is one. */
static void pow_K(const dt_group *g, dt_elem *r, const dt_elem *K, const dt_fixed_base *Kt, const dt_scalar *e)
{
    if (Kt)
        dt_fixed_base_pow(Kt, r, e);
    else
        dt_elem_pow(g, r, K, e);
}

static void elgamal(const dt_group *g, dt_elem *alpha, dt_elem *beta, const dt_elem *K, const dt_fixed_base *Kt,
                    uint64_t m, const dt_scalar *xi)
{
    dt_scalar e, ms;
    dt_scalar_from_u64(g, &ms, m);
    dt_scalar_add(g, &e, &ms, xi);
    dt_elem_pow_g(g, alpha, xi);
    pow_K(g, beta, K, Kt, &e);
    dt_memzero(&e, sizeof e);
    dt_memzero(&ms, sizeof ms);
}

void dt_elgamal_encrypt(const dt_group *g, dt_elem *alpha, dt_elem *beta, const dt_elem *K,
                        uint64_t m, const dt_scalar *xi)
{
    if (K == NULL)
        dt_misuse("dt_elgamal_encrypt: NULL K");
    elgamal(g, alpha, beta, K, NULL, m, xi);
}

void dt_elgamal_encrypt_fb(const dt_group *g, dt_elem *alpha, dt_elem *beta, const dt_fixed_base *Kt,
                           uint64_t m, const dt_scalar *xi)
{
    if (Kt == NULL)
        dt_misuse("dt_elgamal_encrypt_fb: NULL table");
    elgamal(g, alpha, beta, NULL, Kt, m, xi);
}

/* ---- Schnorr ---- */

static void schnorr_challenge(const dt_group *g, dt_scalar *c, const unsigned char hp[DT_HASH_BYTES],
                              uint32_t i, uint32_t j, const dt_elem *K_ij, const dt_elem *h)
{
    dt_hash_ctx ctx;
    unsigned char out[DT_HASH_BYTES];
    dt_hash_init(&ctx, hp);
    dt_hash_u8(&ctx, DT_H_COEFFICIENT_PROOF);
    dt_hash_u32(&ctx, i);
    dt_hash_u32(&ctx, j);
    dt_hash_elem(&ctx, g, K_ij);
    dt_hash_elem(&ctx, g, h);
    dt_hash_final(&ctx, out);
    dt_scalar_reduce(g, c, out, sizeof out);
}

dt_err dt_schnorr_prove(const dt_group *g, dt_scalar *c, dt_scalar *v,
                        const unsigned char hp[DT_HASH_BYTES], uint32_t i, uint32_t j,
                        const dt_elem *K_ij, const dt_scalar *a)
{
    dt_scalar u, ca;
    dt_elem h;
    dt_err err = dt_scalar_random(g, &u);
    if (err != DT_OK)
        return err;
    dt_elem_pow_g(g, &h, &u);
    schnorr_challenge(g, c, hp, i, j, K_ij, &h);
    dt_scalar_mul(g, &ca, c, a);
    dt_scalar_sub(g, v, &u, &ca);
    dt_memzero(&u, sizeof u);
    dt_memzero(&ca, sizeof ca);
    return DT_OK;
}

dt_err dt_schnorr_verify_var(const dt_group *g, const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                             uint32_t j, const dt_elem *K_ij, const dt_scalar *c, const dt_scalar *v)
{
    dt_elem base[2], h;
    dt_scalar e[2], c2;
    dt_elem_generator(g, &base[0]);
    base[1] = *K_ij;
    e[0] = *v;
    e[1] = *c;
    dt_elem_multi_pow_var(g, &h, base, e, 2);
    schnorr_challenge(g, &c2, hp, i, j, K_ij, &h);
    return dt_scalar_eq(&c2, c) ? DT_OK : DT_ERR_PROOF;
}

/* ---- range proofs ---- */

static void range_hash_start(const dt_group *g, dt_hash_ctx *ctx, const unsigned char he[DT_HASH_BYTES],
                             const dt_elem *K, const dt_elem *alpha, const dt_elem *beta)
{
    dt_hash_init(ctx, he);
    dt_hash_u8(ctx, DT_H_RANGE_PROOF);
    dt_hash_elem(ctx, g, K);
    dt_hash_elem(ctx, g, alpha);
    dt_hash_elem(ctx, g, beta);
}

/* 1 if a == b, else 0, without a branch on either. */
static unsigned ct_eq_u32(uint32_t a, uint32_t b)
{
    uint32_t x = a ^ b;
    return (unsigned)(((uint64_t)x - 1) >> 63);
}

/* dst = src if flag, else dst unchanged; flag is 0 or 1; no branch. */
static void ct_cmov_scalar(dt_scalar *dst, const dt_scalar *src, unsigned flag)
{
    unsigned char mask = (unsigned char)(0u - flag);
    for (size_t i = 0; i < sizeof dst->be; i++)
        dst->be[i] ^= mask & (dst->be[i] ^ src->be[i]);
}

/* The prover treats every branch alike, so that neither its branches nor
 * its memory accesses depend on the vote ell: every branch draws u_j and a
 * challenge c_j, and b_j = K^(u_j + (ell - j) c_j), which is K^u_j for the
 * real branch j = ell. Afterwards c_ell is replaced, by a constant-time
 * move, with c - sum_{j != ell} c_j. */
dt_err dt_range_prove(const dt_group *g, dt_scalar *c, dt_scalar *v,
                      const unsigned char he[DT_HASH_BYTES], const dt_elem *K, const dt_elem *alpha,
                      const dt_elem *beta, const dt_scalar *xi, uint32_t ell, uint32_t R)
{
    return dt_range_prove_fb(g, c, v, he, K, NULL, alpha, beta, xi, ell, R);
}

dt_err dt_range_prove_fb(const dt_group *g, dt_scalar *c, dt_scalar *v,
                         const unsigned char he[DT_HASH_BYTES], const dt_elem *K, const dt_fixed_base *Kt,
                         const dt_elem *alpha, const dt_elem *beta, const dt_scalar *xi, uint32_t ell,
                         uint32_t R)
{
    return dt_range_prove_commit(g, c, v, NULL, NULL, he, K, Kt, alpha, beta, xi, ell, R);
}

/* The commitments a_j = g^u_j and b_j = K^(u_j + (ell - j) c_j) computed in
 * the loop are the proof's commitments: with v_j = u_j - c_j xi,
 * g^v_j alpha^c_j = g^u_j and K^(v_j - j c_j) beta^c_j = K^(u_j + (ell - j) c_j),
 * for every branch, the real one (whose c_ell is replaced later) included. */
dt_err dt_range_prove_commit(const dt_group *g, dt_scalar *c, dt_scalar *v, dt_elem *ca, dt_elem *cb,
                             const unsigned char he[DT_HASH_BYTES], const dt_elem *K, const dt_fixed_base *Kt,
                             const dt_elem *alpha, const dt_elem *beta, const dt_scalar *xi, uint32_t ell,
                             uint32_t R)
{
    dt_hash_ctx ctx;
    unsigned char out[DT_HASH_BYTES];
    dt_scalar sum, t, d, total, ls, js, cl;
    dt_elem a, b;
    dt_err err = DT_OK;

    /* public: that ell <= R is what the proof shows (a vote out of range
     * is the caller's bug) */
    int out_of_range = ell > R;
    dt_declassify(&out_of_range, sizeof out_of_range);
    if (out_of_range)
        return DT_ERR_RANGE;
    dt_scalar_from_u64(g, &sum, 0);
    dt_scalar_from_u64(g, &ls, ell);
    range_hash_start(g, &ctx, he, K, alpha, beta);
    for (uint32_t j = 0; j <= R; j++) {
        /* v[j] holds u_j until the challenge is known. */
        if ((err = dt_scalar_random(g, &v[j])) != DT_OK || (err = dt_scalar_random(g, &c[j])) != DT_OK)
            goto out;
        dt_elem_pow_g(g, &a, &v[j]);
        dt_scalar_from_u64(g, &js, j);
        dt_scalar_sub(g, &d, &ls, &js);
        dt_scalar_mul(g, &t, &d, &c[j]);
        dt_scalar_add(g, &t, &t, &v[j]);
        pow_K(g, &b, K, Kt, &t);
        dt_scalar_add(g, &sum, &sum, &c[j]);
        dt_hash_elem(&ctx, g, &a);
        dt_hash_elem(&ctx, g, &b);
        if (ca)
            ca[j] = a;
        if (cb)
            cb[j] = b;
    }
    dt_hash_final(&ctx, out);
    dt_scalar_reduce(g, &total, out, sizeof out);
    /* the real branch's random c_ell, then sum = sum_{j != ell} c_j */
    dt_scalar_from_u64(g, &cl, 0);
    for (uint32_t j = 0; j <= R; j++)
        ct_cmov_scalar(&cl, &c[j], ct_eq_u32(j, ell));
    dt_scalar_sub(g, &sum, &sum, &cl);
    dt_scalar_sub(g, &cl, &total, &sum);
    for (uint32_t j = 0; j <= R; j++)
        ct_cmov_scalar(&c[j], &cl, ct_eq_u32(j, ell));
    for (uint32_t j = 0; j <= R; j++) {
        dt_scalar_mul(g, &t, &c[j], xi);
        dt_scalar_sub(g, &v[j], &v[j], &t);
    }
out:
    dt_memzero(&t, sizeof t);
    dt_memzero(&d, sizeof d);
    dt_memzero(&sum, sizeof sum);
    dt_memzero(&ls, sizeof ls);
    dt_memzero(&cl, sizeof cl);
    if (err != DT_OK) {
        dt_memzero(c, sizeof *c * (R + 1));
        dt_memzero(v, sizeof *v * (R + 1));
        dt_hash_final(&ctx, out);
    }
    return err;
}

dt_err dt_range_verify_var(const dt_group *g, const unsigned char he[DT_HASH_BYTES],
                           const dt_elem *K, const dt_elem *alpha, const dt_elem *beta,
                           const dt_scalar *c, const dt_scalar *v, uint32_t R)
{
    dt_hash_ctx ctx;
    unsigned char out[DT_HASH_BYTES];
    dt_scalar sum, w, js, total;
    dt_elem base[2], a, b;
    dt_scalar e[2];

    dt_scalar_from_u64(g, &sum, 0);
    range_hash_start(g, &ctx, he, K, alpha, beta);
    for (uint32_t j = 0; j <= R; j++) {
        /* a_j = g^v_j alpha^c_j */
        dt_elem_generator(g, &base[0]);
        base[1] = *alpha;
        e[0] = v[j];
        e[1] = c[j];
        dt_elem_multi_pow_var(g, &a, base, e, 2);
        /* b_j = K^(v_j - j c_j) beta^c_j */
        dt_scalar_from_u64(g, &js, j);
        dt_scalar_mul(g, &w, &js, &c[j]);
        dt_scalar_sub(g, &w, &v[j], &w);
        base[0] = *K;
        base[1] = *beta;
        e[0] = w;
        dt_elem_multi_pow_var(g, &b, base, e, 2);
        dt_hash_elem(&ctx, g, &a);
        dt_hash_elem(&ctx, g, &b);
        dt_scalar_add(g, &sum, &sum, &c[j]);
    }
    dt_hash_final(&ctx, out);
    dt_scalar_reduce(g, &total, out, sizeof out);
    return dt_scalar_eq(&total, &sum) ? DT_OK : DT_ERR_PROOF;
}

dt_err dt_range_check_challenge(const dt_group *g, const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                                const dt_elem *alpha, const dt_elem *beta, const dt_elem *a, const dt_elem *b,
                                const dt_scalar *c, uint32_t R)
{
    dt_hash_ctx ctx;
    unsigned char out[DT_HASH_BYTES];
    dt_scalar sum, total;

    dt_scalar_from_u64(g, &sum, 0);
    range_hash_start(g, &ctx, he, K, alpha, beta);
    for (uint32_t j = 0; j <= R; j++) {
        dt_hash_elem(&ctx, g, &a[j]);
        dt_hash_elem(&ctx, g, &b[j]);
        dt_scalar_add(g, &sum, &sum, &c[j]);
    }
    dt_hash_final(&ctx, out);
    dt_scalar_reduce(g, &total, out, sizeof out);
    return dt_scalar_eq(&total, &sum) ? DT_OK : DT_ERR_PROOF;
}

dt_err dt_range_check_commitments_var(const dt_group *g, const dt_elem *K, const dt_elem *alpha,
                                      const dt_elem *beta, const dt_elem *a, const dt_elem *b,
                                      const dt_scalar *c, const dt_scalar *v, uint32_t R)
{
    dt_elem base[2], t;
    dt_scalar e[2], js, w;

    for (uint32_t j = 0; j <= R; j++) {
        dt_elem_generator(g, &base[0]);
        base[1] = *alpha;
        e[0] = v[j];
        e[1] = c[j];
        dt_elem_multi_pow_var(g, &t, base, e, 2);
        if (!dt_elem_eq(g, &t, &a[j]))
            return DT_ERR_PROOF;
        dt_scalar_from_u64(g, &js, j);
        dt_scalar_mul(g, &w, &js, &c[j]);
        dt_scalar_sub(g, &e[0], &v[j], &w);
        base[0] = *K;
        base[1] = *beta;
        dt_elem_multi_pow_var(g, &t, base, e, 2);
        if (!dt_elem_eq(g, &t, &b[j]))
            return DT_ERR_PROOF;
    }
    return DT_OK;
}

/* ---- decryption proofs ---- */

void dt_decryption_challenge(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                             const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                             const dt_elem *A, const dt_elem *B, const dt_elem *a,
                             const dt_elem *b, const dt_elem *M)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, he);
    dt_hash_u8(&ctx, DT_H_DECRYPTION_PROOF);
    dt_hash_elem(&ctx, g, K);
    dt_hash_elem(&ctx, g, A);
    dt_hash_elem(&ctx, g, B);
    dt_hash_elem(&ctx, g, a);
    dt_hash_elem(&ctx, g, b);
    dt_hash_elem(&ctx, g, M);
    dt_hash_final(&ctx, out);
}

dt_err dt_decryption_prove(const dt_group *g, dt_elem *M, dt_scalar *c, dt_scalar *v,
                           const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                           const dt_elem *A, const dt_elem *B, const dt_scalar *s)
{
    dt_scalar u, cs;
    dt_elem a, b;
    unsigned char out[DT_HASH_BYTES];
    dt_err err = dt_scalar_random(g, &u);
    if (err != DT_OK)
        return err;
    dt_elem_pow(g, M, A, s);
    dt_elem_pow_g(g, &a, &u);
    dt_elem_pow(g, &b, A, &u);
    dt_decryption_challenge(g, out, he, K, A, B, &a, &b, M);
    dt_scalar_reduce(g, c, out, sizeof out);
    dt_scalar_mul(g, &cs, c, s);
    dt_scalar_sub(g, v, &u, &cs);
    dt_memzero(&u, sizeof u);
    dt_memzero(&cs, sizeof cs);
    return DT_OK;
}

dt_err dt_decryption_check_challenge(const dt_group *g, const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                                     const dt_elem *A, const dt_elem *B, const dt_elem *M, const dt_elem *a,
                                     const dt_elem *b, const dt_scalar *c)
{
    dt_scalar c2;
    unsigned char out[DT_HASH_BYTES];
    dt_decryption_challenge(g, out, he, K, A, B, a, b, M);
    dt_scalar_reduce(g, &c2, out, sizeof out);
    return dt_scalar_eq(&c2, c) ? DT_OK : DT_ERR_PROOF;
}

dt_err dt_decryption_check_commitments_var(const dt_group *g, const dt_elem *K, const dt_elem *A, const dt_elem *M,
                                           const dt_elem *a, const dt_elem *b, const dt_scalar *c,
                                           const dt_scalar *v)
{
    dt_elem x, base[2];
    dt_scalar e[2];
    dt_elem_generator(g, &base[0]);
    base[1] = *K;
    e[0] = *v;
    e[1] = *c;
    dt_elem_multi_pow_var(g, &x, base, e, 2);
    if (!dt_elem_eq(g, &x, a))
        return DT_ERR_PROOF;
    base[0] = *A;
    base[1] = *M;
    dt_elem_multi_pow_var(g, &x, base, e, 2);
    return dt_elem_eq(g, &x, b) ? DT_OK : DT_ERR_PROOF;
}

dt_err dt_decryption_verify_var(const dt_group *g, const unsigned char he[DT_HASH_BYTES],
                                const dt_elem *K, const dt_elem *A, const dt_elem *B,
                                const dt_elem *T, const dt_scalar *c, const dt_scalar *v)
{
    dt_elem M, a, b, base[2];
    dt_scalar e[2], c2;
    unsigned char out[DT_HASH_BYTES];
    dt_elem_div(g, &M, B, T);
    dt_elem_generator(g, &base[0]);
    base[1] = *K;
    e[0] = *v;
    e[1] = *c;
    dt_elem_multi_pow_var(g, &a, base, e, 2);
    base[0] = *A;
    base[1] = M;
    dt_elem_multi_pow_var(g, &b, base, e, 2);
    dt_decryption_challenge(g, out, he, K, A, B, &a, &b, &M);
    dt_scalar_reduce(g, &c2, out, sizeof out);
    return dt_scalar_eq(&c2, c) ? DT_OK : DT_ERR_PROOF;
}
