/* The key ceremony (ElectionGuard 2.0 section 3.2, eqs. 9-22): a guardian's
 * secret state, share encryption and decryption, the public checks. */
#include <string.h>

#include <sodium.h>

#include <detente/election.h>
#include <detente/proof.h>

#include "ceremony/ceremony_impl.h"
#include "util/ctcheck.h"

/* Label of the share-encryption nonce derivation (detente's own: the spec
 * draws xi_{i,l} at random; deriving it from a secret seed lets a guardian
 * answer a complaint after a reload without keeping n nonces). */
static const char xi_label[] = "detente share nonce v1";

/* ---- helpers ---- */

static void ct_load(dt_share_ct_impl *out, const dt_share_ct *ct)
{
    memcpy(out, ct->opaque, sizeof *out);
}

static void ct_store(dt_share_ct *ct, const dt_share_ct_impl *in)
{
    memset(ct->opaque, 0, sizeof ct->opaque);
    memcpy(ct->opaque, in, sizeof *in);
}

static size_t round_up(size_t x)
{
    /* sodium_malloc returns a pointer aligned only if the size is a multiple
     * of the alignment (the block ends at a guard page). */
    return (x + 63) & ~(size_t)63;
}

static int index_ok(uint32_t x)
{
    return x >= 1 && x < 0x80000000u;
}

dt_err dt_ceremony_check_params(const dt_group *g, uint32_t i, uint32_t n, uint32_t k)
{
    unsigned char q[DT_SCALAR_BYTES], nb[DT_SCALAR_BYTES] = {0};
    if (k < 1 || k > n || n > DT_CEREMONY_MAX_GUARDIANS || i < 1 || i > n)
        return DT_ERR_INVALID;
    /* x coordinates 1..n must be distinct and nonzero mod q */
    dt_group_order(g, q);
    dt_cer_put32(nb + DT_SCALAR_BYTES - 4, n);
    if (memcmp(nb, q, DT_SCALAR_BYTES) >= 0)
        return DT_ERR_INVALID;
    return DT_OK;
}

/* out = P(x) = sum_j coef[j] x^j mod q by Horner's rule; constant time in
 * the coefficients (x is public). */
static void poly_eval(const dt_group *g, dt_scalar *out, const dt_scalar *coef, uint32_t k, uint32_t x)
{
    dt_scalar xs, acc = coef[k - 1];
    dt_scalar_from_u64(g, &xs, x);
    for (uint32_t j = k - 1; j-- > 0;) {
        dt_scalar_mul(g, &acc, &acc, &xs);
        dt_scalar_add(g, &acc, &acc, &coef[j]);
    }
    *out = acc;
    dt_memzero(&acc, sizeof acc);
}

/* out = g^P(x) = prod_{m<k} K[m]^(x^m) (eq. 13) by Horner's rule in the
 * exponent: k - 1 exponentiations by the small x. Public data. */
static void commit_eval_var(const dt_group *g, dt_elem *out, uint32_t x, const dt_elem *K, size_t k)
{
    dt_scalar xs;
    dt_elem acc = K[k - 1];
    dt_scalar_from_u64(g, &xs, x);
    for (size_t m = k - 1; m-- > 0;) {
        dt_elem_pow_var(g, &acc, &acc, &xs);
        dt_elem_mul(g, &acc, &acc, &K[m]);
    }
    *out = acc;
}

/* eq. 21: g^value == prod_m K[m]^(x^m). Constant time in value. */
static int share_matches(const dt_group *g, const dt_scalar *value, uint32_t x, const dt_elem *K, size_t k)
{
    dt_elem lhs, rhs;
    int ok;
    dt_elem_pow_g(g, &lhs, value);
    commit_eval_var(g, &rhs, x, K, k);
    ok = dt_elem_eq(g, &lhs, &rhs);
    dt_memzero(&lhs, sizeof lhs);
    dt_declassify(&ok, sizeof ok); /* public: a failure is a public complaint */
    return ok;
}

/* k_{i,l} = H(H_P; 0x11, b(i,4), b(l,4), K_l, alpha, beta) (eq. 15) */
static void share_key(const dt_group *g, unsigned char key[DT_HASH_BYTES], const unsigned char hp[DT_HASH_BYTES],
                      uint32_t i, uint32_t l, const dt_elem *K_l, const dt_elem *alpha, const dt_elem *beta)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, hp);
    dt_hash_u8(&ctx, DT_H_SHARE_ENCRYPTION);
    dt_hash_u32(&ctx, i);
    dt_hash_u32(&ctx, l);
    dt_hash_elem(&ctx, g, K_l);
    dt_hash_elem(&ctx, g, alpha);
    dt_hash_elem(&ctx, g, beta);
    dt_hash_final(&ctx, key);
}

/* k0, k1 (eqs. 16, 17): HMAC(k, ctr || "share_enc_keys" || 0x00 ||
 * "share_encrypt" || b(i,4) || b(l,4) || 0x02 0x00), a 1-byte counter and a
 * 2-byte length, as the spec writes it (SPEC-DIGEST pitfall 9). */
static void share_kdf(unsigned char k0[DT_HASH_BYTES], unsigned char k1[DT_HASH_BYTES],
                      const unsigned char key[DT_HASH_BYTES], uint32_t i, uint32_t l)
{
    unsigned char msg[39];
    size_t p = 0;
    msg[p++] = 0x01;
    memcpy(msg + p, "share_enc_keys", 14);
    p += 14;
    msg[p++] = 0x00;
    memcpy(msg + p, "share_encrypt", 13);
    p += 13;
    dt_cer_put32(msg + p, i);
    p += 4;
    dt_cer_put32(msg + p, l);
    p += 4;
    msg[p++] = 0x02;
    msg[p++] = 0x00;
    _Static_assert(sizeof msg == 39, "KDF message is 39 bytes");
    dt_hmac_sha256(k0, key, DT_HASH_BYTES, msg, p);
    msg[0] = 0x02;
    dt_hmac_sha256(k1, key, DT_HASH_BYTES, msg, p);
}

/* C2 = HMAC(k0, enc(C0) || C1) (eq. 19) */
static void share_mac(const dt_group *g, unsigned char mac[DT_HASH_BYTES], const unsigned char k0[DT_HASH_BYTES],
                      const dt_share_ct_impl *ct)
{
    unsigned char buf[DT_ELEM_MAX_BYTES + DT_SCALAR_BYTES];
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    dt_elem_encode(g, buf, &ct->c0);
    memcpy(buf + eb, ct->c1, sb);
    dt_hmac_sha256(mac, k0, DT_HASH_BYTES, buf, eb + sb);
}

/* Eqs. 14-19 for any xi (also zero: the judge re-encrypts what was revealed). */
static void share_encrypt(const dt_group *g, dt_share_ct_impl *ct, const unsigned char hp[DT_HASH_BYTES],
                          uint32_t i, uint32_t l, const dt_elem *K_l, const dt_scalar *value,
                          const dt_scalar *xi)
{
    dt_elem beta;
    unsigned char key[DT_HASH_BYTES], k0[DT_HASH_BYTES], k1[DT_HASH_BYTES], vb[DT_SCALAR_BYTES];
    size_t sb = dt_group_scalar_bytes(g);

    memset(ct, 0, sizeof *ct);
    ct->from = i;
    ct->to = l;
    dt_elem_pow_g(g, &ct->c0, xi);
    dt_elem_pow(g, &beta, K_l, xi);
    share_key(g, key, hp, i, l, K_l, &ct->c0, &beta);
    share_kdf(k0, k1, key, i, l);
    dt_scalar_encode(g, vb, value);
    for (size_t t = 0; t < sb; t++)
        ct->c1[t] = vb[t] ^ k1[t];
    share_mac(g, ct->c2, k0, ct);

    dt_memzero(&beta, sizeof beta);
    dt_memzero(key, sizeof key);
    dt_memzero(k0, sizeof k0);
    dt_memzero(k1, sizeof k1);
    dt_memzero(vb, sizeof vb);
}

/* Eq. 20: checks the MAC first, then decrypts and refuses a value >= q.
 * s is the recipient's secret a_{l,0}, K_l = g^s. */
static dt_err share_decrypt(const dt_group *g, dt_scalar *value, const unsigned char hp[DT_HASH_BYTES],
                            const dt_share_ct_impl *ct, const dt_elem *K_l, const dt_scalar *s)
{
    dt_elem beta;
    unsigned char key[DT_HASH_BYTES], k0[DT_HASH_BYTES], k1[DT_HASH_BYTES], mac[DT_HASH_BYTES];
    unsigned char vb[DT_SCALAR_BYTES];
    size_t sb = dt_group_scalar_bytes(g);
    dt_err err;

    memset(value, 0, sizeof *value);
    dt_elem_pow(g, &beta, &ct->c0, s);
    share_key(g, key, hp, ct->from, ct->to, K_l, &ct->c0, &beta);
    share_kdf(k0, k1, key, ct->from, ct->to);
    share_mac(g, mac, k0, ct);
    int mac_ok = dt_ct_eq(mac, ct->c2, DT_HASH_BYTES);
    dt_declassify(&mac_ok, sizeof mac_ok); /* public: a failure is a public complaint */
    if (!mac_ok) {
        err = DT_ERR_PROOF;
        goto out;
    }
    for (size_t t = 0; t < sb; t++)
        vb[t] = ct->c1[t] ^ k1[t];
    err = dt_scalar_decode(g, value, vb, sb); /* DT_ERR_RANGE if >= q */
out:
    dt_memzero(&beta, sizeof beta);
    dt_memzero(key, sizeof key);
    dt_memzero(k0, sizeof k0);
    dt_memzero(k1, sizeof k1);
    dt_memzero(mac, sizeof mac);
    dt_memzero(vb, sizeof vb);
    return err;
}

/* ---- guardian memory ---- */

void dt_guardian_sec_open(const dt_guardian *gd)
{
    if (sodium_mprotect_readwrite(gd->sec) != 0)
        dt_misuse("dt_guardian: cannot unprotect the secret memory");
}

void dt_guardian_sec_close(const dt_guardian *gd)
{
    /* A failure leaves the secrets accessible, which is safe but weaker. */
    (void)sodium_mprotect_noaccess(gd->sec);
}

dt_err dt_guardian_alloc(dt_guardian **out, const dt_group *g, uint32_t i, uint32_t n, uint32_t k)
{
    dt_guardian *gd;
    size_t pub = round_up(sizeof *gd + n);
    size_t sec = round_up(sizeof(dt_guardian_secrets) + ((size_t)k + n) * sizeof(dt_scalar));

    *out = NULL;
    if (sodium_init() < 0)
        return DT_ERR_NOMEM;
    gd = sodium_malloc(pub);
    if (!gd)
        return DT_ERR_NOMEM;
    memset(gd, 0, pub);
    gd->sec = sodium_malloc(sec);
    if (!gd->sec) {
        sodium_free(gd);
        return DT_ERR_NOMEM;
    }
    memset(gd->sec, 0, sec);
    gd->g = g;
    gd->i = i;
    gd->n = n;
    gd->k = k;
    dt_parameter_base_hash(g, gd->hp);
    dt_elem_identity(g, &gd->K0);
    *out = gd;
    return DT_OK;
}

void dt_guardian_compute_key_share(dt_guardian *gd)
{
    dt_guardian_secrets *sec = gd->sec;
    dt_scalar acc;
    poly_eval(gd->g, &acc, sec->s, gd->k, gd->i);
    for (uint32_t j = 1; j <= gd->n; j++)
        if (j != gd->i)
            dt_scalar_add(gd->g, &acc, &acc, &sec->s[gd->k + j - 1]);
    sec->key_share = acc;
    dt_memzero(&acc, sizeof acc);
}

void dt_guardian_seal(dt_guardian *gd)
{
    dt_elem_pow_g(gd->g, &gd->K0, &gd->sec->s[0]);
    dt_declassify(&gd->K0, sizeof gd->K0); /* public: the guardian's public key */
    if (gd->finished)
        dt_guardian_compute_key_share(gd);
}

/* xi_{i,l}: 64 bytes HMAC-SHA-256(seed, label || b(i,4) || b(l,4) ||
 * b(ctr,4) || block) for blocks 1, 2, reduced mod q (unbiased also for
 * ristretto255); ctr moves on in the (negligible, but for toy groups real)
 * case of a zero. Secrets must be open. */
static void derive_xi(const dt_guardian *gd, dt_scalar *xi, uint32_t l)
{
    unsigned char msg[sizeof xi_label - 1 + 13], wide[2 * DT_HASH_BYTES];
    size_t p = sizeof xi_label - 1;
    memcpy(msg, xi_label, p);
    dt_cer_put32(msg + p, gd->i);
    dt_cer_put32(msg + p + 4, l);
    for (uint32_t ctr = 0;; ctr++) {
        dt_cer_put32(msg + p + 8, ctr);
        msg[p + 12] = 1;
        dt_hmac_sha256(wide, gd->sec->seed, DT_HASH_BYTES, msg, sizeof msg);
        msg[p + 12] = 2;
        dt_hmac_sha256(wide + DT_HASH_BYTES, gd->sec->seed, DT_HASH_BYTES, msg, sizeof msg);
        dt_scalar_reduce(gd->g, xi, wide, sizeof wide);
        /* public: a zero (probability 1/q) only moves the counter on */
        int zero = dt_scalar_is_zero(xi);
        dt_declassify(&zero, sizeof zero);
        if (!zero)
            break;
    }
    dt_memzero(wide, sizeof wide);
}

/* ---- the guardian API ---- */

dt_err dt_guardian_create(dt_guardian **out, const dt_group *g, uint32_t i, uint32_t n, uint32_t k)
{
    DT_CER_CHECK(out && g);
    dt_guardian *gd = NULL;
    dt_err err;

    *out = NULL;
    if ((err = dt_ceremony_check_params(g, i, n, k)) != DT_OK)
        return err;
    if ((err = dt_guardian_alloc(&gd, g, i, n, k)) != DT_OK)
        return err;
    for (uint32_t j = 0; j < k; j++)
        if ((err = dt_scalar_random(g, &gd->sec->s[j])) != DT_OK) /* nonzero: spec 3.2.2 */
            goto out;
    if ((err = dt_random_bytes(gd->sec->seed, sizeof gd->sec->seed)) != DT_OK)
        goto out;
    dt_guardian_seal(gd);
    dt_guardian_sec_close(gd);
    *out = gd;
    gd = NULL;
out:
    dt_guardian_destroy(gd);
    return err;
}

void dt_guardian_destroy(dt_guardian *gd)
{
    if (!gd)
        return;
    if (gd->sec) {
        dt_guardian_sec_open(gd);
        dt_memzero(gd->sec, sizeof *gd->sec + ((size_t)gd->k + gd->n) * sizeof(dt_scalar));
        sodium_free(gd->sec);
    }
    dt_memzero(gd, sizeof *gd + gd->n);
    sodium_free(gd);
}

uint32_t dt_guardian_index(const dt_guardian *gd)
{
    DT_CER_CHECK(gd);
    return gd->i;
}

uint32_t dt_guardian_count(const dt_guardian *gd)
{
    DT_CER_CHECK(gd);
    return gd->n;
}

uint32_t dt_guardian_quorum(const dt_guardian *gd)
{
    DT_CER_CHECK(gd);
    return gd->k;
}

void dt_guardian_public_key(const dt_guardian *gd, dt_elem *K_i0)
{
    DT_CER_CHECK(gd && K_i0);
    *K_i0 = gd->K0;
}

dt_err dt_guardian_commitments(const dt_guardian *gd, dt_elem *K, dt_scalar *c, dt_scalar *v, size_t k)
{
    DT_CER_CHECK(gd && K && c && v);
    DT_CER_CHECK(k == gd->k);
    dt_err err = DT_OK;

    dt_guardian_sec_open(gd);
    for (uint32_t j = 0; j < gd->k; j++) {
        dt_elem_pow_g(gd->g, &K[j], &gd->sec->s[j]);
        if ((err = dt_schnorr_prove(gd->g, &c[j], &v[j], gd->hp, gd->i, j, &K[j], &gd->sec->s[j])) != DT_OK)
            break;
    }
    dt_guardian_sec_close(gd);
    if (err != DT_OK) {
        memset(K, 0, k * sizeof *K);
        memset(c, 0, k * sizeof *c);
        memset(v, 0, k * sizeof *v);
    }
    return err;
}

dt_err dt_guardian_encrypt_share(const dt_guardian *gd, dt_share_ct *ct, uint32_t l, const dt_elem *K_l)
{
    DT_CER_CHECK(gd && ct && K_l);
    dt_share_ct_impl c;
    dt_scalar value, xi;

    memset(ct->opaque, 0, sizeof ct->opaque);
    if (l < 1 || l > gd->n || l == gd->i || dt_elem_is_identity(gd->g, K_l))
        return DT_ERR_INVALID;
    dt_guardian_sec_open(gd);
    poly_eval(gd->g, &value, gd->sec->s, gd->k, l);
    derive_xi(gd, &xi, l);
    dt_guardian_sec_close(gd);
    share_encrypt(gd->g, &c, gd->hp, gd->i, l, K_l, &value, &xi);
    ct_store(ct, &c);
    dt_memzero(&value, sizeof value);
    dt_memzero(&xi, sizeof xi);
    return DT_OK;
}

dt_err dt_guardian_reveal_share(const dt_guardian *gd, dt_scalar *value, dt_scalar *xi, uint32_t l)
{
    DT_CER_CHECK(gd && value && xi);
    memset(value, 0, sizeof *value);
    memset(xi, 0, sizeof *xi);
    if (l < 1 || l > gd->n || l == gd->i)
        return DT_ERR_INVALID;
    dt_guardian_sec_open(gd);
    poly_eval(gd->g, value, gd->sec->s, gd->k, l);
    derive_xi(gd, xi, l);
    dt_guardian_sec_close(gd);
    return DT_OK;
}

dt_err dt_guardian_receive_share(dt_guardian *gd, const dt_share_ct *ct, const dt_elem *K_from, size_t k)
{
    DT_CER_CHECK(gd && ct && K_from);
    DT_CER_CHECK(k == gd->k);
    dt_share_ct_impl c;
    dt_scalar value;
    dt_err err;

    ct_load(&c, ct);
    if (gd->finished || c.to != gd->i || c.from < 1 || c.from > gd->n || c.from == gd->i ||
        gd->have[c.from - 1])
        return DT_ERR_INVALID;
    dt_guardian_sec_open(gd);
    if ((err = share_decrypt(gd->g, &value, gd->hp, &c, &gd->K0, &gd->sec->s[0])) != DT_OK)
        goto out;
    if (!share_matches(gd->g, &value, gd->i, K_from, k)) {
        err = DT_ERR_PROOF;
        goto out;
    }
    gd->sec->s[gd->k + c.from - 1] = value;
    gd->have[c.from - 1] = 1;
out:
    dt_guardian_sec_close(gd);
    dt_memzero(&value, sizeof value);
    return err;
}

int dt_guardian_has_share(const dt_guardian *gd, uint32_t from)
{
    DT_CER_CHECK(gd);
    if (from < 1 || from > gd->n)
        return 0;
    return gd->have[from - 1];
}

dt_err dt_guardian_finish(dt_guardian *gd)
{
    DT_CER_CHECK(gd);
    for (uint32_t j = 1; j <= gd->n; j++)
        if (j != gd->i && !gd->have[j - 1])
            return DT_ERR_INVALID;
    dt_guardian_sec_open(gd);
    dt_guardian_compute_key_share(gd);
    gd->finished = 1;
    dt_guardian_sec_close(gd);
    return DT_OK;
}

dt_err dt_guardian_key_share(const dt_guardian *gd, dt_scalar *P_i)
{
    DT_CER_CHECK(gd && P_i);
    memset(P_i, 0, sizeof *P_i);
    if (!gd->finished)
        return DT_ERR_INVALID;
    dt_guardian_sec_open(gd);
    *P_i = gd->sec->key_share;
    dt_guardian_sec_close(gd);
    return DT_OK;
}

/* ---- public ---- */

dt_err dt_commitments_verify_var(const dt_group *g, const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                                 const dt_elem *K, const dt_scalar *c, const dt_scalar *v, size_t k,
                                 size_t *bad_j)
{
    DT_CER_CHECK(g && hp && K && c && v);
    if (bad_j)
        *bad_j = 0;
    if (k == 0 || k >= 0x80000000u || !index_ok(i))
        return DT_ERR_INVALID;
    for (size_t j = 0; j < k; j++) {
        if (dt_schnorr_verify_var(g, hp, i, (uint32_t)j, &K[j], &c[j], &v[j]) != DT_OK) {
            if (bad_j)
                *bad_j = j;
            return DT_ERR_PROOF;
        }
    }
    return DT_OK;
}

void dt_ceremony_joint_key(const dt_group *g, dt_elem *K, const dt_elem *K_i0, size_t n)
{
    DT_CER_CHECK(g && K && K_i0 && n >= 1);
    dt_elem acc = K_i0[0];
    for (size_t j = 1; j < n; j++)
        dt_elem_mul(g, &acc, &acc, &K_i0[j]);
    *K = acc;
}

void dt_ceremony_public_share_var(const dt_group *g, dt_elem *out, uint32_t i, const dt_elem *K_all, size_t n,
                                  size_t k)
{
    DT_CER_CHECK(g && out && K_all && n >= 1 && k >= 1 && i >= 1);
    dt_scalar xs;
    dt_elem acc;
    /* prod_m (prod_j K_{j,m})^(i^m), by Horner's rule from m = k-1 down */
    dt_scalar_from_u64(g, &xs, i);
    dt_elem_identity(g, &acc);
    for (size_t m = k; m-- > 0;) {
        if (m != k - 1)
            dt_elem_pow_var(g, &acc, &acc, &xs);
        for (size_t j = 0; j < n; j++)
            dt_elem_mul(g, &acc, &acc, &K_all[j * k + m]);
    }
    *out = acc;
}

dt_complaint_verdict dt_ceremony_judge_complaint_var(const dt_group *g, const unsigned char hp[DT_HASH_BYTES],
                                                     const dt_share_ct *ct, const dt_elem *K_l,
                                                     const dt_elem *K_i, size_t k, const dt_scalar *value,
                                                     const dt_scalar *xi)
{
    DT_CER_CHECK(g && hp && ct && K_l && K_i && value && xi && k >= 1);
    dt_share_ct_impl c, re;
    dt_share_ct again;

    ct_load(&c, ct);
    if (!index_ok(c.from) || !index_ok(c.to) || c.from == c.to)
        return DT_COMPLAINT_UPHELD; /* not a ciphertext the sender could have meant */
    share_encrypt(g, &re, hp, c.from, c.to, K_l, value, xi);
    ct_store(&again, &re);
    if (dt_share_ct_cmp_var(g, ct, &again) != 0)
        return DT_COMPLAINT_UPHELD;
    if (!share_matches(g, value, c.to, K_i, k))
        return DT_COMPLAINT_UPHELD;
    return DT_COMPLAINT_DISMISSED;
}

/* ---- share ciphertexts ---- */

dt_err dt_share_encrypt(const dt_group *g, dt_share_ct *ct, const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                        uint32_t l, const dt_elem *K_l, const dt_scalar *value, const dt_scalar *xi)
{
    DT_CER_CHECK(g && ct && hp && K_l && value && xi);
    dt_share_ct_impl c;
    memset(ct->opaque, 0, sizeof ct->opaque);
    if (!index_ok(i) || !index_ok(l) || i == l || dt_scalar_is_zero(xi))
        return DT_ERR_INVALID;
    share_encrypt(g, &c, hp, i, l, K_l, value, xi);
    ct_store(ct, &c);
    return DT_OK;
}

uint32_t dt_share_ct_from(const dt_share_ct *ct)
{
    DT_CER_CHECK(ct);
    dt_share_ct_impl c;
    ct_load(&c, ct);
    return c.from;
}

uint32_t dt_share_ct_to(const dt_share_ct *ct)
{
    DT_CER_CHECK(ct);
    dt_share_ct_impl c;
    ct_load(&c, ct);
    return c.to;
}

size_t dt_share_ct_bytes(const dt_group *g)
{
    DT_CER_CHECK(g);
    return 8 + dt_group_elem_bytes(g) + dt_group_scalar_bytes(g) + DT_HASH_BYTES;
}

void dt_share_ct_serialize(const dt_group *g, unsigned char *out, const dt_share_ct *ct)
{
    DT_CER_CHECK(g && out && ct);
    dt_share_ct_impl c;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    ct_load(&c, ct);
    dt_cer_put32(out, c.from);
    dt_cer_put32(out + 4, c.to);
    dt_elem_encode(g, out + 8, &c.c0);
    memcpy(out + 8 + eb, c.c1, sb);
    memcpy(out + 8 + eb + sb, c.c2, DT_HASH_BYTES);
}

dt_err dt_share_ct_parse(const dt_group *g, dt_share_ct *ct, const unsigned char *in, size_t inlen)
{
    DT_CER_CHECK(g && ct && (in || inlen == 0));
    dt_share_ct_impl c;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    dt_err err;

    memset(&c, 0, sizeof c);
    memset(ct->opaque, 0, sizeof ct->opaque);
    if (inlen != dt_share_ct_bytes(g))
        return DT_ERR_ENCODING;
    c.from = dt_cer_get32(in);
    c.to = dt_cer_get32(in + 4);
    if (!index_ok(c.from) || !index_ok(c.to) || c.from == c.to)
        return DT_ERR_RANGE;
    if ((err = dt_elem_decode(g, &c.c0, in + 8, eb)) != DT_OK)
        return err;
    memcpy(c.c1, in + 8 + eb, sb);
    memcpy(c.c2, in + 8 + eb + sb, DT_HASH_BYTES);
    ct_store(ct, &c);
    return DT_OK;
}

int dt_share_ct_cmp_var(const dt_group *g, const dt_share_ct *a, const dt_share_ct *b)
{
    DT_CER_CHECK(g && a && b);
    unsigned char x[DT_SHARE_CT_MAX_BYTES], y[DT_SHARE_CT_MAX_BYTES];
    dt_share_ct_serialize(g, x, a);
    dt_share_ct_serialize(g, y, b);
    return memcmp(x, y, dt_share_ct_bytes(g));
}
