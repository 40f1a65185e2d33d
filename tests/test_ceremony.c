/* The key ceremony, in every group: an honest run whose key shares
 * reconstruct the joint secret from any k of them (and not from k - 1);
 * the share encryption recomputed independently from the spec's equations;
 * a cheating sender caught and a false accuser dismissed; tampered
 * ciphertexts refused; the guardian file (round trip, wrong passphrase,
 * other election, damage, mode, symbolic links); the public messages' JSON,
 * including the sample record's guardians. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>
#include <detente/election.h>

#include "ceremony/ceremony_impl.h"
#include "testrand.h"
#include "util/codec.h"

#define MAXN 5
#define MAXK 3

typedef struct fixture {
    dt_group *g;
    const char *name;
    uint32_t n, k;
    int sound;      /* q large enough that chance collisions do not happen */
    int full_files; /* run every guardian-file case (each costs an Argon2id) */
    unsigned char hp[32];
    dt_guardian *gd[MAXN];
    dt_elem K[MAXN * MAXK]; /* K[(i-1)*k + j] = K_{i,j} */
    dt_scalar c[MAXN * MAXK], v[MAXN * MAXK];
    dt_elem pub[MAXN]; /* K_{i,0} */
    dt_elem joint;
    dt_share_ct ct[MAXN][MAXN]; /* ct[i-1][l-1]: from i to l */
    char dir[64];
} fixture;

#define STEP(cond)                                                                                       \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "ceremony setup failed at line %d: %s\n", __LINE__, #cond);                  \
            return -1;                                                                                   \
        }                                                                                                \
    } while (0)

/* An honest ceremony among n guardians. */
static int run_ceremony(fixture *f)
{
    const dt_group *g = f->g;
    uint32_t n = f->n, k = f->k;
    for (uint32_t i = 1; i <= n; i++)
        STEP(dt_guardian_create(&f->gd[i - 1], g, i, n, k) == DT_OK);
    for (uint32_t i = 1; i <= n; i++) {
        size_t o = (i - 1) * k;
        STEP(dt_guardian_commitments(f->gd[i - 1], &f->K[o], &f->c[o], &f->v[o], k) == DT_OK);
        f->pub[i - 1] = f->K[o];
    }
    for (uint32_t i = 1; i <= n; i++) {
        size_t o = (i - 1) * k;
        STEP(dt_commitments_verify_var(g, f->hp, i, &f->K[o], &f->c[o], &f->v[o], k, NULL) == DT_OK);
    }
    for (uint32_t i = 1; i <= n; i++)
        for (uint32_t l = 1; l <= n; l++)
            if (l != i)
                STEP(dt_guardian_encrypt_share(f->gd[i - 1], &f->ct[i - 1][l - 1], l, &f->pub[l - 1]) ==
                     DT_OK);
    for (uint32_t l = 1; l <= n; l++)
        for (uint32_t i = 1; i <= n; i++)
            if (l != i)
                STEP(dt_guardian_receive_share(f->gd[l - 1], &f->ct[i - 1][l - 1], &f->K[(i - 1) * k], k) ==
                     DT_OK);
    for (uint32_t i = 1; i <= n; i++)
        STEP(dt_guardian_finish(f->gd[i - 1]) == DT_OK);
    dt_ceremony_joint_key(g, &f->joint, f->pub, n);
    return 0;
}

static int setup(void **state, dt_group *g, uint32_t n, uint32_t k, int sound, int full_files)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !g)
        return -1;
    f->g = g;
    f->name = dt_group_name(g);
    f->n = n;
    f->k = k;
    f->sound = sound;
    f->full_files = full_files;
    dt_parameter_base_hash(g, f->hp);
    snprintf(f->dir, sizeof f->dir, "/tmp/dt-ceremony-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    /* the files in tests cost Argon2id's INTERACTIVE setting (one test writes one at the default) */
    dt_guardian_file_cost_for_testing(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    return run_ceremony(f);
}

static int setup_r255(void **state)
{
    return setup(state, dt_group_create(DT_GROUP_RISTRETTO255), 5, 3, 1, 1);
}

static int setup_int(void **state)
{
    return setup(state, dt_group_create(DT_GROUP_INTEGER4096), 3, 2, 1, 0);
}

/* toy group of the specification: q = 127, p = 59183, g = 32616 (1-byte scalars) */
static int setup_toy(void **state)
{
    return setup(state, dt_group_create_integer("e72f", "7f", "7f68"), 4, 3, 0, 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    for (int i = 0; i < MAXN; i++)
        dt_guardian_destroy(f->gd[i]);
    if (f->dir[0]) {
        DIR *d = opendir(f->dir);
        struct dirent *de;
        char p[256];
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        if (d)
            closedir(d);
        if (rmdir(f->dir) != 0)
            fprintf(stderr, "could not remove %s\n", f->dir);
    }
    dt_group_destroy(f->g);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static const dt_elem *commitments_of(const fixture *f, uint32_t i)
{
    return &f->K[(i - 1) * f->k];
}

static void path_in(const fixture *f, char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

/* w_i = prod_{l in U, l != i} l / (l - i) */
static void lagrange(const dt_group *g, dt_scalar *w, uint32_t i, const uint32_t *U, size_t nU)
{
    dt_scalar num, den, t, li, is;
    dt_scalar_from_u64(g, &num, 1);
    dt_scalar_from_u64(g, &den, 1);
    dt_scalar_from_u64(g, &is, i);
    for (size_t m = 0; m < nU; m++) {
        if (U[m] == i)
            continue;
        dt_scalar_from_u64(g, &li, U[m]);
        dt_scalar_mul(g, &num, &num, &li);
        dt_scalar_sub(g, &t, &li, &is);
        dt_scalar_mul(g, &den, &den, &t);
    }
    assert_int_equal(dt_scalar_inv_var(g, &t, &den), DT_OK);
    dt_scalar_mul(g, w, &num, &t);
}

/* g^(sum_{i in U} w_i P(i)) == K ? */
static int interpolates_to_joint(const fixture *f, const dt_scalar *P, const uint32_t *U, size_t nU)
{
    dt_scalar s, w, t;
    dt_elem gs;
    dt_scalar_from_u64(f->g, &s, 0);
    for (size_t m = 0; m < nU; m++) {
        lagrange(f->g, &w, U[m], U, nU);
        dt_scalar_mul(f->g, &t, &w, &P[U[m] - 1]);
        dt_scalar_add(f->g, &s, &s, &t);
    }
    dt_elem_pow_g(f->g, &gs, &s);
    return dt_elem_eq(f->g, &gs, &f->joint);
}

static void flip(unsigned char *p, size_t off)
{
    p[off] ^= 0x01;
}

static dt_err receive_bytes(dt_guardian *gd, const fixture *f, const unsigned char *b, size_t len,
                            uint32_t from)
{
    dt_share_ct ct;
    assert_int_equal(dt_share_ct_parse(f->g, &ct, b, len), DT_OK);
    return dt_guardian_receive_share(gd, &ct, commitments_of(f, from), f->k);
}

/* ---- the honest ceremony ---- */

static void test_honest_ceremony(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    uint32_t n = f->n, k = f->k;
    dt_scalar P[MAXN];
    dt_elem e, gP;
    size_t bad = 99;

    for (uint32_t i = 1; i <= n; i++) {
        dt_guardian *gd = f->gd[i - 1];
        assert_int_equal(dt_guardian_index(gd), i);
        assert_int_equal(dt_guardian_count(gd), n);
        assert_int_equal(dt_guardian_quorum(gd), k);
        dt_guardian_public_key(gd, &e);
        assert_true(dt_elem_eq(g, &e, &f->pub[i - 1]));
        for (uint32_t j = 1; j <= n; j++)
            assert_int_equal(dt_guardian_has_share(gd, j), j != i);
        assert_int_equal(dt_guardian_has_share(gd, 0), 0);
        assert_int_equal(dt_guardian_has_share(gd, n + 1), 0);
        assert_int_equal(dt_guardian_key_share(gd, &P[i - 1]), DT_OK);
        /* eq. 74's public image of the key share */
        dt_ceremony_public_share_var(g, &gP, i, f->K, n, k);
        dt_elem_pow_g(g, &e, &P[i - 1]);
        assert_true(dt_elem_eq(g, &e, &gP));
        /* a second finish gives the same key share */
        assert_int_equal(dt_guardian_finish(gd), DT_OK);
        dt_scalar again;
        assert_int_equal(dt_guardian_key_share(gd, &again), DT_OK);
        assert_true(dt_scalar_eq(&again, &P[i - 1]));
        dt_memzero(&again, sizeof again);
    }

    /* the joint key */
    e = f->pub[0];
    for (uint32_t i = 2; i <= n; i++)
        dt_elem_mul(g, &e, &e, &f->pub[i - 1]);
    assert_true(dt_elem_eq(g, &e, &f->joint));
    assert_false(dt_elem_is_identity(g, &f->joint));

    /* Schnorr proofs: bound to i and j */
    if (f->sound) {
        dt_elem Ks[MAXK];
        assert_int_equal(dt_commitments_verify_var(g, f->hp, 2, f->K, f->c, f->v, k, &bad), DT_ERR_PROOF);
        assert_int_equal(bad, 0);
        memcpy(Ks, f->K, k * sizeof *Ks);
        Ks[k - 1] = f->K[k]; /* guardian 2's K_{2,0} in guardian 1's last place */
        assert_int_equal(dt_commitments_verify_var(g, f->hp, 1, Ks, f->c, f->v, k, &bad), DT_ERR_PROOF);
        assert_int_equal(bad, k - 1);
        dt_scalar vs[MAXK];
        memcpy(vs, f->v, k * sizeof *vs);
        dt_scalar_add(g, &vs[0], &vs[0], &f->c[0]);
        assert_int_equal(dt_commitments_verify_var(g, f->hp, 1, f->K, f->c, vs, k, &bad), DT_ERR_PROOF);
        assert_int_equal(bad, 0);
    }
    assert_int_equal(dt_commitments_verify_var(g, f->hp, 0, f->K, f->c, f->v, k, NULL), DT_ERR_INVALID);
    assert_int_equal(dt_commitments_verify_var(g, f->hp, 1, f->K, f->c, f->v, 0, NULL), DT_ERR_INVALID);

    /* any k of the n key shares give s (g^s == K); k - 1 do not */
    unsigned subsets = 0;
    for (unsigned mask = 1; mask < (1u << n); mask++) {
        uint32_t U[MAXN];
        size_t nU = 0;
        for (uint32_t i = 1; i <= n; i++)
            if (mask & (1u << (i - 1)))
                U[nU++] = i;
        if (nU == k) {
            assert_true(interpolates_to_joint(f, P, U, nU));
            subsets++;
        } else if (nU == k - 1 && nU > 0 && f->sound) {
            assert_false(interpolates_to_joint(f, P, U, nU));
        } else if (nU > k) {
            assert_true(interpolates_to_joint(f, P, U, nU));
        }
    }
    assert_true(subsets >= 3);
    dt_memzero(P, sizeof P);
}

/* ---- share encryption, recomputed from eqs. 14-19 ---- */

static void kdf_message(unsigned char msg[39], unsigned char ctr, uint32_t i, uint32_t l)
{
    msg[0] = ctr;
    memcpy(msg + 1, "share_enc_keys", 14);
    msg[15] = 0;
    memcpy(msg + 16, "share_encrypt", 13);
    dt_cer_put32(msg + 29, i);
    dt_cer_put32(msg + 33, l);
    msg[37] = 0x02;
    msg[38] = 0x00;
}

/* (C0, C1, C2) for a raw value of scalar-bytes length, as the spec writes it. */
static void reference_encrypt(const fixture *f, unsigned char *out, uint32_t i, uint32_t l, const dt_elem *K_l,
                              const unsigned char *value, const dt_scalar *xi)
{
    const dt_group *g = f->g;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    unsigned char a[DT_ELEM_MAX_BYTES], b[DT_ELEM_MAX_BYTES], kl[DT_ELEM_MAX_BYTES];
    unsigned char key[32], k0[32], k1[32], msg[39], mac_in[DT_ELEM_MAX_BYTES + 32];
    unsigned char hmsg[1 + 8 + 3 * DT_ELEM_MAX_BYTES];
    dt_elem alpha, beta;
    size_t p = 0;

    dt_elem_pow_g(g, &alpha, xi);
    dt_elem_pow(g, &beta, K_l, xi);
    dt_elem_encode(g, a, &alpha);
    dt_elem_encode(g, b, &beta);
    dt_elem_encode(g, kl, K_l);
    /* eq. 15: H(H_P; 0x11, b(i,4), b(l,4), K_l, alpha, beta) = HMAC(H_P, bytes) */
    hmsg[p++] = 0x11;
    dt_cer_put32(hmsg + p, i);
    dt_cer_put32(hmsg + p + 4, l);
    p += 8;
    memcpy(hmsg + p, kl, eb);
    memcpy(hmsg + p + eb, a, eb);
    memcpy(hmsg + p + 2 * eb, b, eb);
    p += 3 * eb;
    dt_hmac_sha256(key, f->hp, 32, hmsg, p);
    kdf_message(msg, 1, i, l);
    dt_hmac_sha256(k0, key, 32, msg, sizeof msg);
    kdf_message(msg, 2, i, l);
    dt_hmac_sha256(k1, key, 32, msg, sizeof msg);
    /* binary form: b(i,4) b(l,4) C0 C1 C2 */
    dt_cer_put32(out, i);
    dt_cer_put32(out + 4, l);
    memcpy(out + 8, a, eb);
    for (size_t t = 0; t < sb; t++)
        out[8 + eb + t] = value[t] ^ k1[t];
    memcpy(mac_in, a, eb);
    memcpy(mac_in + eb, out + 8 + eb, sb);
    dt_hmac_sha256(out + 8 + eb + sb, k0, 32, mac_in, eb + sb);
}

static void test_share_encryption_layout(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    size_t sb = dt_group_scalar_bytes(g), len = dt_share_ct_bytes(g);
    unsigned char msg[39], want[DT_SHARE_CT_MAX_BYTES], got[DT_SHARE_CT_MAX_BYTES], vb[32];
    dt_scalar value, xi;
    dt_share_ct ct;
    dt_elem Kr;
    dt_guardian *r = NULL;

    /* the KDF message of SPEC-DIGEST D2.3 for i = 1, l = 2 */
    static const char example[] = "01" "73686172655f656e635f6b657973" "00" "73686172655f656e6372797074"
                                  "00000001" "00000002" "0200";
    unsigned char ex[39];
    assert_int_equal(sodium_hex2bin(ex, sizeof ex, example, strlen(example), NULL, NULL, NULL), 0);
    kdf_message(msg, 1, 1, 2);
    assert_memory_equal(msg, ex, 39);
    assert_int_equal(len, 8 + dt_group_elem_bytes(g) + sb + 32);

    /* a fresh recipient 2, whose secret decrypts what we build by hand */
    assert_int_equal(dt_guardian_create(&r, g, 2, f->n, f->k), DT_OK);
    dt_guardian_public_key(r, &Kr);
    assert_int_equal(dt_scalar_random(g, &value), DT_OK);
    assert_int_equal(dt_scalar_random(g, &xi), DT_OK);
    dt_scalar_encode(g, vb, &value);
    reference_encrypt(f, want, 1, 2, &Kr, vb, &xi);
    assert_int_equal(dt_share_encrypt(g, &ct, f->hp, 1, 2, &Kr, &value, &xi), DT_OK);
    dt_share_ct_serialize(g, got, &ct);
    assert_memory_equal(got, want, len);
    assert_int_equal(dt_share_ct_from(&ct), 1);
    assert_int_equal(dt_share_ct_to(&ct), 2);

    /* guardian 1's own share for 2 is the same construction with its nonce */
    dt_scalar v1, x1;
    assert_int_equal(dt_guardian_reveal_share(f->gd[0], &v1, &x1, 2), DT_OK);
    dt_scalar_encode(g, vb, &v1);
    reference_encrypt(f, want, 1, 2, &f->pub[1], vb, &x1);
    dt_share_ct_serialize(g, got, &f->ct[0][1]);
    assert_memory_equal(got, want, len);

    /* an authentic ciphertext of a value >= q: refused after the MAC (DT_ERR_RANGE) */
    memset(vb, 0xff, sizeof vb);
    reference_encrypt(f, want, 1, 2, &Kr, vb, &xi);
    assert_int_equal(receive_bytes(r, f, want, len, 1), DT_ERR_RANGE);
    assert_int_equal(dt_guardian_has_share(r, 1), 0);

    /* an explicit zero nonce is refused */
    dt_scalar zero;
    dt_scalar_from_u64(g, &zero, 0);
    assert_int_equal(dt_share_encrypt(g, &ct, f->hp, 1, 2, &Kr, &value, &zero), DT_ERR_INVALID);
    assert_int_equal(dt_share_encrypt(g, &ct, f->hp, 2, 2, &Kr, &value, &xi), DT_ERR_INVALID);
    assert_int_equal(dt_share_encrypt(g, &ct, f->hp, 0, 2, &Kr, &value, &xi), DT_ERR_INVALID);
    dt_guardian_destroy(r);
}

/* ---- complaints ---- */

static void test_bad_share_caught(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    dt_guardian *r = NULL;
    dt_share_ct honest, bad;
    dt_scalar value, wrong, xi, one;
    dt_elem Kr;

    /* a fresh guardian 2 receives from guardian 1 */
    assert_int_equal(dt_guardian_create(&r, g, 2, f->n, f->k), DT_OK);
    dt_guardian_public_key(r, &Kr);
    assert_int_equal(dt_guardian_encrypt_share(f->gd[0], &honest, 2, &Kr), DT_OK);
    assert_int_equal(dt_guardian_reveal_share(f->gd[0], &value, &xi, 2), DT_OK);
    dt_scalar_from_u64(g, &one, 1);
    dt_scalar_add(g, &wrong, &value, &one);
    /* the cheater encrypts P_1(2) + 1 properly */
    assert_int_equal(dt_share_encrypt(g, &bad, f->hp, 1, 2, &Kr, &wrong, &xi), DT_OK);
    assert_int_equal(dt_guardian_receive_share(r, &bad, commitments_of(f, 1), f->k), DT_ERR_PROOF);
    assert_int_equal(dt_guardian_has_share(r, 1), 0);
    /* guardian 2 complains; whatever 1 reveals, it is caught */
    assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, &bad, &Kr, commitments_of(f, 1), f->k, &wrong, &xi),
                     DT_COMPLAINT_UPHELD);
    assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, &bad, &Kr, commitments_of(f, 1), f->k, &value, &xi),
                     DT_COMPLAINT_UPHELD);
    /* the honest ciphertext is still accepted */
    assert_int_equal(dt_guardian_receive_share(r, &honest, commitments_of(f, 1), f->k), DT_OK);
    assert_int_equal(dt_guardian_has_share(r, 1), 1);
    /* a share checked against another guardian's commitments fails eq. 21 */
    dt_guardian *r3 = NULL;
    dt_elem K3;
    dt_share_ct to3;
    assert_int_equal(dt_guardian_create(&r3, g, 3, f->n, f->k), DT_OK);
    dt_guardian_public_key(r3, &K3);
    assert_int_equal(dt_guardian_encrypt_share(f->gd[0], &to3, 3, &K3), DT_OK);
    if (f->sound)
        assert_int_equal(dt_guardian_receive_share(r3, &to3, commitments_of(f, 2), f->k), DT_ERR_PROOF);
    assert_int_equal(dt_guardian_receive_share(r3, &to3, commitments_of(f, 1), f->k), DT_OK);
    dt_guardian_destroy(r3);
    dt_guardian_destroy(r);
}

static void test_false_complaint_dismissed(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    dt_scalar value, xi, other;

    /* every share of the honest ceremony survives a complaint */
    for (uint32_t i = 1; i <= f->n; i++)
        for (uint32_t l = 1; l <= f->n; l++) {
            if (i == l)
                continue;
            assert_int_equal(dt_guardian_reveal_share(f->gd[i - 1], &value, &xi, l), DT_OK);
            assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, &f->ct[i - 1][l - 1], &f->pub[l - 1],
                                                             commitments_of(f, i), f->k, &value, &xi),
                             DT_COMPLAINT_DISMISSED);
        }
    /* a sender (random pair) that reveals another nonce or another value is judged a cheater */
    uint32_t i = 1 + (uint32_t)testrand_u64(f->n), l = i % f->n + 1;
    const dt_share_ct *ct = &f->ct[i - 1][l - 1];
    assert_int_equal(dt_guardian_reveal_share(f->gd[i - 1], &value, &xi, l), DT_OK);
    assert_int_equal(dt_scalar_random(g, &other), DT_OK);
    if (!dt_scalar_eq(&other, &xi))
        assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, ct, &f->pub[l - 1], commitments_of(f, i), f->k,
                                                         &value, &other),
                         DT_COMPLAINT_UPHELD);
    if (!dt_scalar_eq(&other, &value))
        assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, ct, &f->pub[l - 1], commitments_of(f, i), f->k,
                                                         &other, &xi),
                         DT_COMPLAINT_UPHELD);
    /* judged against the wrong recipient key */
    if (f->sound)
        assert_int_equal(dt_ceremony_judge_complaint_var(g, f->hp, ct, &f->pub[i - 1], commitments_of(f, i), f->k,
                                                         &value, &xi),
                         DT_COMPLAINT_UPHELD);
    /* reveals are refused for oneself and outsiders */
    assert_int_equal(dt_guardian_reveal_share(f->gd[0], &value, &xi, 1), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_reveal_share(f->gd[0], &value, &xi, f->n + 1), DT_ERR_INVALID);
    assert_true(dt_scalar_is_zero(&value) && dt_scalar_is_zero(&xi));
}

/* ---- tampered ciphertexts ---- */

static void test_tampered_ciphertext(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g), len = dt_share_ct_bytes(g);
    unsigned char good[DT_SHARE_CT_MAX_BYTES], b[DT_SHARE_CT_MAX_BYTES];
    dt_guardian *r = NULL;
    dt_share_ct ct;
    dt_elem Kr, gen;

    assert_int_equal(dt_guardian_create(&r, g, 3, f->n, f->k), DT_OK);
    dt_guardian_public_key(r, &Kr);
    assert_int_equal(dt_guardian_encrypt_share(f->gd[0], &ct, 3, &Kr), DT_OK);
    dt_share_ct_serialize(g, good, &ct);

    /* every bit of C1 and C2 is covered by the MAC */
    for (size_t off = 8 + eb; off < len; off++) {
        memcpy(b, good, len);
        flip(b, off);
        assert_int_equal(receive_bytes(r, f, b, len, 1), DT_ERR_PROOF);
    }
    /* another C0 (the generator, unless C0 is the generator: xi = 1 in the toy group) */
    memcpy(b, good, len);
    dt_elem_generator(g, &gen);
    dt_elem_encode(g, b + 8, &gen);
    if (memcmp(b, good, len) != 0)
        assert_int_equal(receive_bytes(r, f, b, len, 1), DT_ERR_PROOF);
    /* another sender: the key binds i */
    memcpy(b, good, len);
    dt_cer_put32(b, 2);
    assert_int_equal(receive_bytes(r, f, b, len, 2), DT_ERR_PROOF);
    /* not addressed to this guardian */
    memcpy(b, good, len);
    dt_cer_put32(b + 4, 4);
    assert_int_equal(receive_bytes(r, f, b, len, 1), DT_ERR_INVALID);
    /* a sender outside 1..n */
    memcpy(b, good, len);
    dt_cer_put32(b, f->n + 1);
    assert_int_equal(receive_bytes(r, f, b, len, 1), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_has_share(r, 1), 0);
    (void)sb;

    /* the untouched one is accepted, once */
    assert_int_equal(receive_bytes(r, f, good, len, 1), DT_OK);
    assert_int_equal(receive_bytes(r, f, good, len, 1), DT_ERR_INVALID);

    /* binary parsing */
    assert_int_equal(dt_share_ct_parse(g, &ct, good, len - 1), DT_ERR_ENCODING);
    memcpy(b, good, len);
    dt_cer_put32(b + 4, 1); /* from == to */
    assert_int_equal(dt_share_ct_parse(g, &ct, b, len), DT_ERR_RANGE);
    memcpy(b, good, len);
    dt_cer_put32(b, 0);
    assert_int_equal(dt_share_ct_parse(g, &ct, b, len), DT_ERR_RANGE);
    memcpy(b, good, len);
    memset(b + 8, 0xff, eb); /* not an element */
    assert_int_not_equal(dt_share_ct_parse(g, &ct, b, len), DT_OK);
    dt_guardian_destroy(r);
}

/* ---- wrong states and parameters ---- */

static void test_states(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    dt_guardian *gd = NULL;
    dt_share_ct ct;
    dt_scalar P;
    dt_elem id;

    assert_int_equal(dt_guardian_create(&gd, g, 1, 3, 0), DT_ERR_INVALID);
    assert_null(gd);
    assert_int_equal(dt_guardian_create(&gd, g, 1, 3, 4), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_create(&gd, g, 0, 3, 2), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_create(&gd, g, 4, 3, 2), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_create(&gd, g, 1, DT_CEREMONY_MAX_GUARDIANS + 1, 2), DT_ERR_INVALID);
    if (!f->sound) /* the toy group: n must stay below q = 127 */
        assert_int_equal(dt_guardian_create(&gd, g, 1, 127, 2), DT_ERR_INVALID);
    dt_guardian_destroy(NULL);

    /* a single guardian needs no share */
    assert_int_equal(dt_guardian_create(&gd, g, 1, 1, 1), DT_OK);
    assert_int_equal(dt_guardian_finish(gd), DT_OK);
    assert_int_equal(dt_guardian_key_share(gd, &P), DT_OK);
    dt_elem_pow_g(g, &id, &P);
    dt_elem Kg;
    dt_guardian_public_key(gd, &Kg);
    assert_true(dt_elem_eq(g, &id, &Kg)); /* P(1) = a_{1,0} */
    dt_guardian_destroy(gd);

    assert_int_equal(dt_guardian_create(&gd, g, 2, f->n, f->k), DT_OK);
    assert_int_equal(dt_guardian_finish(gd), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_key_share(gd, &P), DT_ERR_INVALID);
    assert_true(dt_scalar_is_zero(&P));
    assert_int_equal(dt_guardian_encrypt_share(gd, &ct, 2, &f->pub[1]), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_encrypt_share(gd, &ct, 0, &f->pub[0]), DT_ERR_INVALID);
    assert_int_equal(dt_guardian_encrypt_share(gd, &ct, f->n + 1, &f->pub[0]), DT_ERR_INVALID);
    dt_elem_identity(g, &id);
    assert_int_equal(dt_guardian_encrypt_share(gd, &ct, 1, &id), DT_ERR_INVALID);
    dt_guardian_destroy(gd);

    /* a finished guardian takes no more shares */
    assert_int_equal(dt_guardian_receive_share(f->gd[1], &f->ct[0][1], commitments_of(f, 1), f->k),
                     DT_ERR_INVALID);
}

/* ---- the guardian file ---- */

static dt_err load(const fixture *f, dt_guardian **out, const char *path, const char *pw,
                   const unsigned char eid[32])
{
    return dt_guardian_load(out, f->g, path, pw, eid);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    unsigned char *buf = NULL;
    assert_int_equal(dt_read_file(&buf, len, path, 1 << 20), DT_OK);
    return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void same_guardian(const fixture *f, const dt_guardian *a, const dt_guardian *b)
{
    dt_scalar pa, pb, va, vb, xa, xb;
    dt_elem ka, kb;
    assert_int_equal(dt_guardian_index(a), dt_guardian_index(b));
    assert_int_equal(dt_guardian_count(a), dt_guardian_count(b));
    assert_int_equal(dt_guardian_quorum(a), dt_guardian_quorum(b));
    dt_guardian_public_key(a, &ka);
    dt_guardian_public_key(b, &kb);
    assert_true(dt_elem_eq(f->g, &ka, &kb));
    dt_err ea = dt_guardian_key_share(a, &pa), eb = dt_guardian_key_share(b, &pb);
    assert_int_equal(ea, eb);
    assert_true(dt_scalar_eq(&pa, &pb));
    for (uint32_t l = 1; l <= dt_guardian_count(a); l++) {
        assert_int_equal(dt_guardian_has_share(a, l), dt_guardian_has_share(b, l));
        if (l == dt_guardian_index(a))
            continue;
        assert_int_equal(dt_guardian_reveal_share(a, &va, &xa, l), DT_OK);
        assert_int_equal(dt_guardian_reveal_share(b, &vb, &xb, l), DT_OK);
        assert_true(dt_scalar_eq(&va, &vb));
        assert_true(dt_scalar_eq(&xa, &xb));
    }
}

static void test_guardian_file(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    char path[128], other[128];
    unsigned char eid[32], eid2[32], *buf;
    size_t len;
    struct stat st;
    dt_guardian *gd = NULL;
    dt_share_ct ct;

    testrand_bytes(eid, sizeof eid);
    memcpy(eid2, eid, 32);
    eid2[31] ^= 1;
    path_in(f, path, sizeof path, "guardian1.key");

    assert_int_equal(dt_guardian_save(f->gd[0], path, "", eid), DT_ERR_INVALID);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(dt_guardian_save(f->gd[0], path, "correct horse", eid), DT_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    /* round trip: same state, same deterministic share ciphertexts */
    assert_int_equal(load(f, &gd, path, "correct horse", eid), DT_OK);
    same_guardian(f, f->gd[0], gd);
    assert_int_equal(dt_guardian_encrypt_share(gd, &ct, 2, &f->pub[1]), DT_OK);
    assert_int_equal(dt_share_ct_cmp_var(g, &ct, &f->ct[0][1]), 0);
    dt_guardian_destroy(gd);
    gd = NULL;

    assert_int_equal(load(f, &gd, path, "wrong horse", eid), DT_ERR_PROOF);
    assert_null(gd);
    assert_int_equal(load(f, &gd, path, "correct horse", eid2), DT_ERR_INVALID);
    path_in(f, other, sizeof other, "missing.key");
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_IO);

    /* damage: truncated, extended, header, body */
    buf = slurp(path, &len);
    path_in(f, other, sizeof other, "damaged.key");
    spit(other, buf, len - 1);
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
    spit(other, buf, 100);
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
    spit(other, buf, 0);
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
    flip(buf, 113); /* n */
    spit(other, buf, len);
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
    flip(buf, 113);
    flip(buf, 0); /* magic */
    spit(other, buf, len);
    assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
    flip(buf, 0);
    if (f->full_files) {
        flip(buf, len - 40); /* the ciphertext: the passphrase is right, the body is not */
        spit(other, buf, len);
        assert_int_equal(load(f, &gd, other, "correct horse", eid), DT_ERR_ENCODING);
        flip(buf, len - 40);
    }
    /* a file of another group */
    {
        dt_group *g2 = dt_group_create(dt_group_kind(g) == DT_GROUP_RISTRETTO255 ? DT_GROUP_INTEGER4096
                                                                                  : DT_GROUP_RISTRETTO255);
        assert_non_null(g2);
        assert_int_equal(dt_guardian_load(&gd, g2, path, "correct horse", eid), DT_ERR_INVALID);
        dt_group_destroy(g2);
    }
    free(buf);
    assert_null(gd);

    /* symbolic links: never written through, never replaced */
    {
        char victim[128], link[128], content[8] = {0};
        path_in(f, victim, sizeof victim, "victim");
        path_in(f, link, sizeof link, "link.key");
        spit(victim, (const unsigned char *)"victim", 6);
        assert_int_equal(symlink(victim, link), 0);
        assert_int_equal(dt_guardian_save(f->gd[0], link, "correct horse", eid), DT_ERR_IO);
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        FILE *fp = fopen(victim, "rb");
        assert_non_null(fp);
        assert_int_equal(fread(content, 1, sizeof content, fp), 6);
        fclose(fp);
        assert_memory_equal(content, "victim", 6);
        /* a dangling link too */
        path_in(f, link, sizeof link, "dangling.key");
        path_in(f, victim, sizeof victim, "nowhere");
        assert_int_equal(symlink(victim, link), 0);
        assert_int_equal(dt_guardian_save(f->gd[0], link, "correct horse", eid), DT_ERR_IO);
        assert_int_equal(lstat(victim, &st), -1);
        /* a folder */
        assert_int_equal(dt_guardian_save(f->gd[0], f->dir, "correct horse", eid), DT_ERR_IO);
    }

    if (!f->full_files)
        return;

    /* overwrite in place: an unfinished guardian, saved midway and resumed */
    {
        dt_guardian *fresh = NULL, *back = NULL;
        dt_elem Kf;
        dt_share_ct s;
        assert_int_equal(dt_guardian_create(&fresh, g, 1, f->n, f->k), DT_OK);
        dt_guardian_public_key(fresh, &Kf);
        assert_int_equal(dt_guardian_encrypt_share(f->gd[1], &s, 1, &Kf), DT_OK);
        assert_int_equal(dt_guardian_receive_share(fresh, &s, commitments_of(f, 2), f->k), DT_OK);
        assert_int_equal(dt_guardian_save(fresh, path, "midway", eid), DT_OK);
        assert_int_equal(load(f, &back, path, "midway", eid), DT_OK);
        same_guardian(f, fresh, back);
        assert_int_equal(dt_guardian_has_share(back, 2), 1);
        assert_int_equal(dt_guardian_finish(back), DT_ERR_INVALID);
        for (uint32_t i = 3; i <= f->n; i++) {
            assert_int_equal(dt_guardian_encrypt_share(f->gd[i - 1], &s, 1, &Kf), DT_OK);
            assert_int_equal(dt_guardian_receive_share(back, &s, commitments_of(f, i), f->k), DT_OK);
            assert_int_equal(dt_guardian_receive_share(fresh, &s, commitments_of(f, i), f->k), DT_OK);
        }
        assert_int_equal(dt_guardian_finish(back), DT_OK);
        assert_int_equal(dt_guardian_finish(fresh), DT_OK);
        same_guardian(f, fresh, back);
        dt_guardian_destroy(fresh);
        dt_guardian_destroy(back);
    }

    /* the default cost (Argon2id MODERATE) */
    {
        dt_guardian_file_cost_for_testing(0, 0);
        path_in(f, other, sizeof other, "default.key");
        assert_int_equal(dt_guardian_save(f->gd[2], other, "pw", eid), DT_OK);
        buf = slurp(other, &len);
        assert_int_equal(dt_cer_get32(buf + 124), crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
        assert_true(dt_cer_get64(buf + 128) == crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
        free(buf);
        assert_int_equal(load(f, &gd, other, "pw", eid), DT_OK);
        same_guardian(f, f->gd[2], gd);
        dt_guardian_destroy(gd);
        dt_guardian_file_cost_for_testing(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    }
}

/* ---- JSON ---- */

static char *set_and_dump(const char *json, const char *key, json_t *value)
{
    json_error_t e;
    json_t *root = json_loads(json, 0, &e);
    char *out;
    assert_non_null(root);
    if (value)
        json_object_set_new(root, key, value);
    else
        json_object_del(root, key);
    out = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    return out;
}

/* replaces coefficient_proofs[j][key] */
static char *set_proof_field(const char *json, size_t j, const char *key, json_t *value)
{
    json_error_t e;
    json_t *root = json_loads(json, 0, &e);
    char *out;
    assert_non_null(root);
    json_object_set_new(json_array_get(json_object_get(root, "coefficient_proofs"), j), key, value);
    out = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    return out;
}

static json_t *b64_of(const unsigned char *p, size_t n)
{
    char *s = dt_b64_encode(p, n);
    json_t *v = json_string(s);
    free(s);
    return v;
}

static void expect_commitments_error(const fixture *f, char *json, dt_err want)
{
    dt_elem K[MAXK];
    dt_scalar c[MAXK], v[MAXK];
    uint32_t i = 77;
    char *msg = NULL, *id = NULL;
    assert_non_null(json);
    dt_err err = dt_commitments_from_json(f->g, &id, &i, K, c, v, f->k, json, strlen(json), &msg);
    if (err != want && want != DT_ERR_NOT_IN_GROUP)
        printf("# %s: got %s: %s\n", dt_group_name(f->g), dt_strerror(err), msg ? msg : "(no message)");
    if (want == DT_ERR_NOT_IN_GROUP) /* not an element: by length, range or membership */
        assert_true(err == DT_ERR_NOT_IN_GROUP || err == DT_ERR_ENCODING || err == DT_ERR_RANGE);
    else
        assert_int_equal(err, want);
    assert_non_null(msg);
    assert_null(id);
    assert_int_equal(i, 0);
    free(msg);
    free(json);
}

static void test_json_commitments(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    size_t eb = dt_group_elem_bytes(g);
    uint32_t k = f->k;
    char *json = NULL, *id = NULL, *msg = NULL;
    dt_elem K[MAXK];
    dt_scalar c[MAXK], v[MAXK];
    uint32_t i;

    for (uint32_t gi = 1; gi <= f->n; gi++) {
        size_t o = (gi - 1) * k;
        assert_int_equal(dt_commitments_to_json(g, &json, NULL, gi, &f->K[o], &f->c[o], &f->v[o], k), DT_OK);
        assert_int_equal(dt_commitments_from_json(g, &id, &i, K, c, v, k, json, strlen(json), &msg), DT_OK);
        assert_null(msg);
        char want[32];
        snprintf(want, sizeof want, "guardian%u", gi);
        assert_string_equal(id, want);
        assert_int_equal(i, gi);
        for (uint32_t j = 0; j < k; j++) {
            assert_true(dt_elem_eq(g, &K[j], &f->K[o + j]));
            assert_true(dt_scalar_eq(&c[j], &f->c[o + j]));
            assert_true(dt_scalar_eq(&v[j], &f->v[o + j]));
        }
        assert_int_equal(dt_commitments_verify_var(g, f->hp, i, K, c, v, k, NULL), DT_OK);
        free(id);
        id = NULL;
        if (gi < f->n) {
            free(json);
            json = NULL;
        }
    }

    /* the layout: keys in the sample record's order */
    {
        json_error_t e;
        json_t *root = json_loads(json, 0, &e), *p0;
        static const char *const top[] = {"guardian_id", "x_coordinate", "coefficient_proofs"};
        static const char *const inner[] = {"public_key", "challenge", "response"};
        void *it;
        int t = 0;
        assert_non_null(root);
        for (it = json_object_iter(root); it; it = json_object_iter_next(root, it), t++)
            assert_string_equal(json_object_iter_key(it), top[t]);
        assert_int_equal(t, 3);
        p0 = json_array_get(json_object_get(root, "coefficient_proofs"), 0);
        t = 0;
        for (it = json_object_iter(p0); it; it = json_object_iter_next(p0, it), t++)
            assert_string_equal(json_object_iter_key(it), inner[t]);
        assert_int_equal(t, 3);
        assert_int_equal(strlen(json_string_value(json_object_get(p0, "public_key"))), 4 * ((eb + 2) / 3));
        json_decref(root);
    }

    /* malformed messages, each with a message naming the problem */
    unsigned char junk[DT_ELEM_MAX_BYTES];
    memset(junk, 0xff, sizeof junk);
    expect_commitments_error(f, strdup("{\"guardian_id\": "), DT_ERR_PARSE);
    expect_commitments_error(f, strdup("[]"), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "x_coordinate", NULL), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "x_coordinate", json_string("1")), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "x_coordinate", json_integer(0)), DT_ERR_RANGE);
    expect_commitments_error(f, set_and_dump(json, "x_coordinate", json_integer(1LL << 40)), DT_ERR_RANGE);
    expect_commitments_error(f, set_and_dump(json, "guardian_id", json_string("")), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "guardian_id", json_integer(1)), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "extra", json_true()), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "coefficient_proofs", json_array()), DT_ERR_PARSE);
    expect_commitments_error(f, set_and_dump(json, "coefficient_proofs", json_object()), DT_ERR_PARSE);
    expect_commitments_error(f, set_proof_field(json, 0, "public_key", b64_of(junk, eb - 1)), DT_ERR_ENCODING);
    expect_commitments_error(f, set_proof_field(json, 0, "public_key", json_string("not base64!")),
                             DT_ERR_ENCODING);
    expect_commitments_error(f, set_proof_field(json, k - 1, "public_key", b64_of(junk, eb)),
                             DT_ERR_NOT_IN_GROUP);
    expect_commitments_error(f, set_proof_field(json, 0, "response", b64_of(junk, 32)), DT_ERR_RANGE);
    expect_commitments_error(f, set_proof_field(json, 0, "response", b64_of(junk, 33)), DT_ERR_ENCODING);
    expect_commitments_error(f, set_proof_field(json, 0, "challenge", b64_of(junk, 31)), DT_ERR_ENCODING);
    {
        /* a response of the right width equal to q of the 4096-bit group (2^256 - 189):
         * not below q in any group */
        unsigned char r[32];
        memset(r, 0xff, sizeof r);
        r[31] = 0x43;
        expect_commitments_error(f, set_proof_field(json, 1 % k, "response", b64_of(r, 32)), DT_ERR_RANGE);
        /* a challenge is a hash value: any 32 bytes parse (and the proof then fails) */
        char *t = set_proof_field(json, 0, "challenge", b64_of(junk, 32));
        assert_int_equal(dt_commitments_from_json(g, NULL, &i, K, c, v, k, t, strlen(t), NULL), DT_OK);
        if (f->sound)
            assert_int_equal(dt_commitments_verify_var(g, f->hp, i, K, c, v, k, NULL), DT_ERR_PROOF);
        free(t);
    }
    expect_commitments_error(f, set_proof_field(json, 0, "response", json_null()), DT_ERR_PARSE);
    expect_commitments_error(f, set_proof_field(json, 0, "extra", json_null()), DT_ERR_PARSE);
    {
        /* a NUL inside a base64 string (jansson refuses \u0000) */
        char *s = set_proof_field(json, 0, "challenge", json_stringn("AAAA\0AAA", 8));
        expect_commitments_error(f, s, DT_ERR_PARSE);
        /* a duplicate key */
        size_t n = strlen(json) + 64;
        s = malloc(n);
        assert_non_null(s);
        snprintf(s, n, "{\"guardian_id\": \"x\", %s", json + 1);
        expect_commitments_error(f, s, DT_ERR_PARSE);
    }
    /* integer groups: p - 1 is below p but of order 2, outside the subgroup */
    if (dt_group_kind(g) == DT_GROUP_INTEGER4096) {
        unsigned char p[DT_ELEM_MAX_BYTES], gen[DT_ELEM_MAX_BYTES];
        assert_true(dt_group_integer_params(g, p, gen, eb));
        p[eb - 1] -= 1;
        json_t *jv = b64_of(p, eb);
        dt_elem K0;
        char *msg2 = NULL, *s2 = set_proof_field(json, 0, "public_key", jv);
        assert_int_equal(dt_commitments_from_json(g, NULL, &i, K, c, v, k, s2, strlen(s2), &msg2),
                         DT_ERR_NOT_IN_GROUP);
        assert_non_null(msg2);
        free(msg2);
        free(s2);
        assert_int_equal(dt_elem_decode(g, &K0, p, eb), DT_ERR_NOT_IN_GROUP);
    }
    /* the wrong quorum */
    assert_int_equal(dt_commitments_from_json(g, NULL, &i, K, c, v, k == 1 ? 2 : k - 1, json, strlen(json), NULL),
                     DT_ERR_PARSE);
    assert_int_equal(dt_commitments_to_json(g, &id, NULL, 0, f->K, f->c, f->v, k), DT_ERR_INVALID);
    assert_int_equal(dt_commitments_to_json(g, &id, "\xff\xfe", 1, f->K, f->c, f->v, k), DT_ERR_INVALID);
    free(json);
}

/* The sample record's guardians (integer group, k = 3) parse, verify, and
 * serialize back to the same JSON. */
static void test_json_sample_record(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    json_error_t e;
    json_t *init, *arr;
    dt_elem K[3];
    dt_scalar c[3], v[3];

    if (dt_group_kind(g) != DT_GROUP_INTEGER4096 || strcmp(dt_group_name(g), "integer4096") != 0)
        skip();
    init = json_load_file(DT_TEST_DATA "/allAvailable/election_initialized.json", 0, &e);
    assert_non_null(init);
    arr = json_object_get(init, "guardians");
    assert_int_equal(json_array_size(arr), 3);
    for (size_t t = 0; t < json_array_size(arr); t++) {
        json_t *entry = json_array_get(arr, t), *back;
        char *text = json_dumps(entry, JSON_PRESERVE_ORDER), *id = NULL, *msg = NULL, *out = NULL;
        uint32_t i;
        assert_int_equal(dt_commitments_from_json(g, &id, &i, K, c, v, 3, text, strlen(text), &msg), DT_OK);
        assert_int_equal(i, t + 1);
        assert_int_equal(dt_commitments_verify_var(g, f->hp, i, K, c, v, 3, NULL), DT_OK);
        assert_int_equal(dt_commitments_to_json(g, &out, id, i, K, c, v, 3), DT_OK);
        back = json_loads(out, 0, &e);
        assert_non_null(back);
        assert_true(json_equal(back, entry));
        json_decref(back);
        free(out);
        free(id);
        free(text);
    }
    json_decref(init);
}

static void expect_share_error(const fixture *f, char *json, dt_err want)
{
    dt_share_ct ct;
    char *msg = NULL;
    assert_non_null(json);
    dt_err err = dt_share_ct_from_json(f->g, &ct, json, strlen(json), &msg);
    if (want == DT_ERR_NOT_IN_GROUP)
        assert_true(err == DT_ERR_NOT_IN_GROUP || err == DT_ERR_ENCODING || err == DT_ERR_RANGE);
    else
        assert_int_equal(err, want);
    assert_non_null(msg);
    free(msg);
    free(json);
}

static void test_json_share(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    unsigned char junk[DT_ELEM_MAX_BYTES];
    char *json = NULL, *msg = NULL, *t;
    dt_share_ct ct;

    for (uint32_t i = 1; i <= f->n; i++)
        for (uint32_t l = 1; l <= f->n; l++) {
            if (i == l)
                continue;
            assert_int_equal(dt_share_ct_to_json(g, &t, &f->ct[i - 1][l - 1]), DT_OK);
            assert_int_equal(dt_share_ct_from_json(g, &ct, t, strlen(t), &msg), DT_OK);
            assert_null(msg);
            assert_int_equal(dt_share_ct_cmp_var(g, &ct, &f->ct[i - 1][l - 1]), 0);
            if (i == 1 && l == 2)
                json = t;
            else
                free(t);
        }
    /* json holds the share from 1 to 2 */
    {
        json_error_t e;
        json_t *root = json_loads(json, 0, &e);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "from")), 1);
        assert_int_equal(json_integer_value(json_object_get(root, "to")), 2);
        assert_int_equal(strlen(json_string_value(json_object_get(root, "c1"))), 4 * ((sb + 2) / 3));
        json_decref(root);
    }
    memset(junk, 0xff, sizeof junk);
    expect_share_error(f, strdup("not json"), DT_ERR_PARSE);
    expect_share_error(f, set_and_dump(json, "to", json_integer(1)), DT_ERR_RANGE);
    expect_share_error(f, set_and_dump(json, "to", json_integer(DT_CEREMONY_MAX_GUARDIANS + 1)), DT_ERR_RANGE);
    expect_share_error(f, set_and_dump(json, "from", json_real(1.0)), DT_ERR_PARSE);
    expect_share_error(f, set_and_dump(json, "c2", NULL), DT_ERR_PARSE);
    expect_share_error(f, set_and_dump(json, "c3", json_string("")), DT_ERR_PARSE);
    expect_share_error(f, set_and_dump(json, "c1", b64_of(junk, sb + 1)), DT_ERR_ENCODING);
    expect_share_error(f, set_and_dump(json, "c2", b64_of(junk, 31)), DT_ERR_ENCODING);
    expect_share_error(f, set_and_dump(json, "c0", b64_of(junk, eb)), DT_ERR_NOT_IN_GROUP);
    expect_share_error(f, set_and_dump(json, "c0", b64_of(junk, eb + 3)), DT_ERR_ENCODING);
    free(json);
}

#define GROUP_TESTS(setup)                                                                               \
    cmocka_unit_test_setup_teardown(test_honest_ceremony, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_share_encryption_layout, setup, teardown),                  \
        cmocka_unit_test_setup_teardown(test_bad_share_caught, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_false_complaint_dismissed, setup, teardown),                \
        cmocka_unit_test_setup_teardown(test_tampered_ciphertext, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_states, setup, teardown),                                   \
        cmocka_unit_test_setup_teardown(test_guardian_file, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(test_json_commitments, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_json_share, setup, teardown)

int main(void)
{
    testrand_init();
    const struct CMUnitTest tests[] = {
        GROUP_TESTS(setup_r255),
        GROUP_TESTS(setup_int),
        cmocka_unit_test_setup_teardown(test_json_sample_record, setup_int, teardown),
        GROUP_TESTS(setup_toy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
