/* The threats of DESIGN.md and the attacks known on other voting systems,
 * each tried against detente (docs/security.md names these tests):
 *
 *  - a voting device that encrypts another choice, or lies about the nonce,
 *    is caught by the Benaloh challenge;
 *  - weak Fiat-Shamir (Bernhard, Pereira, Warinschi 2012): a valid proof
 *    moved to another ciphertext, key, election (H_E) or coefficient does not
 *    verify, because every challenge hashes the whole statement; a valid
 *    selection moved to another place of its ballot fails the contest hash;
 *  - missing group-membership checks (Helios, Belenios audits): elements
 *    outside the order-q subgroup of the integer group and non-canonical
 *    ristretto255 encodings are refused, alone and inside a ballot;
 *  - biased nonces: ristretto255 nonces are reduced from 512 bits (the
 *    derivation's width) and their top bits are uniform (a deterministic
 *    chi-square check that cannot be flaky);
 *  - only the aggregate is decrypted: a "challenged" ballot that copies a
 *    cast ballot's ciphertext is refused by the guardians' first round;
 *  - a stolen key file holds no secret in the clear, and a guardian's
 *    secrets are unreadable in memory between calls. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <detente/ballot.h>
#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/group.h>
#include <detente/proof.h>
#include <detente/record.h>
#include <detente/workflow.h>

#include "ballot/ballot_impl.h"
#include "ceremony/ceremony_impl.h"
#include "testrand.h"
#include "util/codec.h"

#define SAMPLE DT_TEST_DATA "/allAvailable"
#define NG 3
#define KQ 2

static const char manifest[] =
    "{\"election_scope_id\": \"attacks\", \"spec_version\": \"v2.0.0\", \"type\": \"general\",\n"
    " \"start_date\": \"2026-11-03T07:00:00Z\", \"end_date\": \"2026-11-03T20:00:00Z\",\n"
    " \"geopolitical_units\": [{\"object_id\": \"county\", \"name\": \"County\", \"type\": \"county\"}],\n"
    " \"ballot_styles\": [{\"object_id\": \"ballot\", \"geopolitical_unit_ids\": [\"county\"], \"party_ids\": []}],\n"
    " \"contests\": [\n"
    "  {\"object_id\": \"mayor\", \"sequence_order\": 1, \"electoral_district_id\": \"county\",\n"
    "   \"vote_variation\": \"one_of_m\", \"number_elected\": 1, \"votes_allowed\": 1,\n"
    "   \"option_selection_limit\": 1, \"name\": \"Mayor\", \"ballot_selections\": [\n"
    "    {\"object_id\": \"mayor-a\", \"sequence_order\": 1, \"candidate_id\": \"a\"},\n"
    "    {\"object_id\": \"mayor-b\", \"sequence_order\": 2, \"candidate_id\": \"b\"}]}],\n"
    " \"candidates\": [{\"object_id\": \"a\"}, {\"object_id\": \"b\"}],\n"
    " \"parties\": [], \"contact_information\": {\"name\": \"Test office\"}}\n";

/* ---- an election made here, with its guardians' key shares ---- */

typedef struct election {
    char dir[64];
    dt_group *g;
    dt_scalar P[NG];
    dt_record *rec;
    dt_ballot_ctx *ctx;
    dt_ballot_device *dev;
} election;

static void election_make(election *e, dt_group_id id)
{
    dt_guardian *gd[NG];
    dt_elem Kc[NG][KQ];
    dt_scalar c[KQ], v[KQ];
    dt_share_ct ct;
    char *json[NG], *msg = NULL;

    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/dt-attacks-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->g = dt_group_create(id);
    assert_non_null(e->g);
    assert_int_equal(dt_election_create(&msg, e->dir, id, (const unsigned char *)manifest, strlen(manifest), NG, KQ,
                                        NULL, 0, false),
                     DT_OK);
    for (uint32_t i = 0; i < NG; i++) {
        assert_int_equal(dt_guardian_create(&gd[i], e->g, i + 1, NG, KQ), DT_OK);
        assert_int_equal(dt_guardian_commitments(gd[i], Kc[i], c, v, KQ), DT_OK);
        assert_int_equal(dt_commitments_to_json(e->g, &json[i], NULL, i + 1, Kc[i], c, v, KQ), DT_OK);
    }
    for (uint32_t i = 0; i < NG; i++)
        for (uint32_t l = 0; l < NG; l++)
            if (l != i) {
                assert_int_equal(dt_guardian_encrypt_share(gd[i], &ct, l + 1, &Kc[l][0]), DT_OK);
                assert_int_equal(dt_guardian_receive_share(gd[l], &ct, Kc[i], KQ), DT_OK);
            }
    for (uint32_t i = 0; i < NG; i++) {
        assert_int_equal(dt_guardian_finish(gd[i]), DT_OK);
        assert_int_equal(dt_guardian_key_share(gd[i], &e->P[i]), DT_OK);
        dt_guardian_destroy(gd[i]);
    }
    assert_int_equal(dt_election_open(&msg, e->dir, (const char *const *)json, NG), DT_OK);
    for (int i = 0; i < NG; i++)
        free(json[i]);
    assert_int_equal(dt_record_load_part(&e->rec, &msg, e->dir, DT_RECORD_ELECTION), DT_OK);
    assert_int_equal(dt_ballot_ctx_create(&e->ctx, &msg, e->rec), DT_OK);
    assert_int_equal(dt_ballot_device_create(&e->dev, &msg, e->ctx, "booth", NULL, 0), DT_OK);
}

static void election_free(election *e)
{
    char cmd[128];
    dt_ballot_device_destroy(e->dev);
    dt_ballot_ctx_destroy(e->ctx);
    dt_record_destroy(e->rec);
    dt_group_destroy(e->g);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
}

/* A plaintext ballot for mayor-a (a = 1) or mayor-b (a = 0). */
static dt_plaintext_ballot *plain(const election *e, const char *id, int a)
{
    char text[512];
    dt_plaintext_ballot *pb = NULL;
    char *msg = NULL;
    snprintf(text, sizeof text,
             "{\"ballot_id\": \"%s\", \"ballot_style\": \"ballot\", \"contests\": [{\"contest_id\": \"mayor\","
             " \"selections\": [{\"selection_id\": \"mayor-a\", \"vote\": %d}, {\"selection_id\": \"mayor-b\","
             " \"vote\": %d}]}]}",
             id, a, !a);
    assert_int_equal(dt_plaintext_ballot_parse(e->ctx, &pb, &msg, text, strlen(text)), DT_OK);
    return pb;
}

static dt_ballot *encrypt(election *e, const char *id, int a, dt_ballot_nonce *xib)
{
    dt_plaintext_ballot *pb = plain(e, id, a);
    dt_ballot *b = NULL;
    assert_int_equal(dt_ballot_encrypt(e->dev, &b, xib, pb, 1700000000), DT_OK);
    dt_plaintext_ballot_destroy(pb);
    return b;
}

/* ---- the voting device: the Benaloh challenge ---- */

static void test_device_cheats(void **state)
{
    election e;
    dt_ballot_nonce xib, other;
    dt_plaintext_ballot *opened = NULL;
    char *msg = NULL;
    (void)state;
    election_make(&e, DT_GROUP_RISTRETTO255);

    /* the voter chooses a; the device encrypts b and shows the voter "a" */
    dt_ballot *b = encrypt(&e, "v1", 0, &xib);
    assert_int_equal(dt_ballot_verify(e.ctx, b, &msg), DT_OK); /* a well-formed ballot */
    /* the voter challenges it: the device must reveal xi_B, and the ballot
     * opens to what it really encrypts, b, not the voter's a */
    assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &opened, &msg, b, &xib), DT_OK);
    assert_int_equal(opened->contests[0].votes[0], 0);
    assert_int_equal(opened->contests[0].votes[1], 1);
    dt_plaintext_ballot_destroy(opened);
    opened = NULL;

    /* a device that reveals another nonce is caught too */
    memcpy(&other, &xib, sizeof other);
    other.bytes[0] ^= 1;
    assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &opened, &msg, b, &other), DT_ERR_PROOF);
    assert_null(opened);
    print_message("  wrong nonce: %s\n", msg);
    free(msg);
    msg = NULL;

    /* and so is one that encrypts the voter's choice but swaps in another
     * ballot's ciphertext afterwards: the code the voter saw changes, the
     * contest hash does not match */
    dt_ballot *b2 = encrypt(&e, "v2", 1, NULL);
    memcpy(b->contests[0].sel[0].beta, b2->contests[0].sel[0].beta, e.ctx->eb);
    assert_int_not_equal(dt_ballot_verify(e.ctx, b, &msg), DT_OK);
    print_message("  ciphertext swapped: %s\n", msg);
    free(msg);
    dt_ballot_destroy(b);
    dt_ballot_destroy(b2);
    dt_ballot_nonce_wipe(&xib);
    election_free(&e);
}

/* ---- weak Fiat-Shamir ---- */

static void fiat_shamir(dt_group_id id)
{
    dt_group *g = dt_group_create(id);
    dt_scalar s, s2, x1, x2, c[2], v[2], cc, vv;
    dt_elem K, K2, a1, b1, a2, b2, M, T;
    unsigned char he[32], he2[32];
    assert_non_null(g);
    testrand_bytes(he, sizeof he);
    memcpy(he2, he, sizeof he2);
    he2[31] ^= 1;
    assert_int_equal(dt_scalar_random(g, &s), DT_OK);
    assert_int_equal(dt_scalar_random(g, &s2), DT_OK);
    assert_int_equal(dt_scalar_random(g, &x1), DT_OK);
    assert_int_equal(dt_scalar_random(g, &x2), DT_OK);
    dt_elem_pow_g(g, &K, &s);
    dt_elem_pow_g(g, &K2, &s2);
    dt_elgamal_encrypt(g, &a1, &b1, &K, 1, &x1);
    dt_elgamal_encrypt(g, &a2, &b2, &K, 1, &x2);

    /* a range proof: valid for its statement, and for no other */
    assert_int_equal(dt_range_prove(g, c, v, he, &K, &a1, &b1, &x1, 1, 1), DT_OK);
    assert_int_equal(dt_range_verify_var(g, he, &K, &a1, &b1, c, v, 1), DT_OK);
    assert_int_equal(dt_range_verify_var(g, he, &K, &a2, &b2, c, v, 1), DT_ERR_PROOF); /* another ciphertext */
    assert_int_equal(dt_range_verify_var(g, he, &K, &a1, &b2, c, v, 1), DT_ERR_PROOF); /* half of another */
    assert_int_equal(dt_range_verify_var(g, he2, &K, &a1, &b1, c, v, 1), DT_ERR_PROOF); /* another election */
    assert_int_equal(dt_range_verify_var(g, he, &K2, &a1, &b1, c, v, 1), DT_ERR_PROOF); /* another key */

    /* a Schnorr proof of a coefficient: bound to H_P, i, j and K_ij */
    assert_int_equal(dt_schnorr_prove(g, &cc, &vv, he, 2, 1, &K, &s), DT_OK);
    assert_int_equal(dt_schnorr_verify_var(g, he, 2, 1, &K, &cc, &vv), DT_OK);
    assert_int_equal(dt_schnorr_verify_var(g, he, 2, 1, &K2, &cc, &vv), DT_ERR_PROOF);
    assert_int_equal(dt_schnorr_verify_var(g, he, 3, 1, &K, &cc, &vv), DT_ERR_PROOF);
    assert_int_equal(dt_schnorr_verify_var(g, he, 2, 0, &K, &cc, &vv), DT_ERR_PROOF);
    assert_int_equal(dt_schnorr_verify_var(g, he2, 2, 1, &K, &cc, &vv), DT_ERR_PROOF);

    /* a decryption proof: bound to the ciphertext, the key and H_E */
    assert_int_equal(dt_decryption_prove(g, &M, &cc, &vv, he, &K, &a1, &b1, &s), DT_OK);
    dt_elem_div(g, &T, &b1, &M);
    assert_int_equal(dt_decryption_verify_var(g, he, &K, &a1, &b1, &T, &cc, &vv), DT_OK);
    assert_int_equal(dt_decryption_verify_var(g, he2, &K, &a1, &b1, &T, &cc, &vv), DT_ERR_PROOF);
    assert_int_equal(dt_decryption_verify_var(g, he, &K, &a2, &b2, &T, &cc, &vv), DT_ERR_PROOF);
    assert_int_equal(dt_decryption_verify_var(g, he, &K, &a1, &b2, &T, &cc, &vv), DT_ERR_PROOF);
    dt_group_destroy(g);
}

static void test_fiat_shamir_statement(void **state)
{
    (void)state;
    fiat_shamir(DT_GROUP_RISTRETTO255);
    fiat_shamir(DT_GROUP_INTEGER4096);
}

/* A selection and its valid proof moved within a ballot, or a ballot moved
 * to another election: the range proofs still hold alone, the ballot does
 * not. */
static void test_fiat_shamir_ballots(void **state)
{
    election e, f;
    char *msg = NULL;
    dt_bsel tmp;
    (void)state;
    election_make(&e, DT_GROUP_RISTRETTO255);
    election_make(&f, DT_GROUP_RISTRETTO255);

    dt_ballot *b = encrypt(&e, "m1", 1, NULL);
    assert_int_equal(dt_ballot_verify(e.ctx, b, &msg), DT_OK);
    /* the two selections (ciphertexts and proofs) swap places: each proof
     * is about its own ciphertext, but the contest hash binds the places */
    tmp = b->contests[0].sel[0];
    b->contests[0].sel[0].alpha = b->contests[0].sel[1].alpha;
    b->contests[0].sel[0].beta = b->contests[0].sel[1].beta;
    b->contests[0].sel[0].proof = b->contests[0].sel[1].proof;
    b->contests[0].sel[1].alpha = tmp.alpha;
    b->contests[0].sel[1].beta = tmp.beta;
    b->contests[0].sel[1].proof = tmp.proof;
    assert_int_equal(dt_ballot_verify(e.ctx, b, &msg), DT_ERR_PROOF);
    print_message("  selections swapped: %s\n", msg);
    free(msg);
    msg = NULL;
    dt_ballot_destroy(b);

    /* a ballot of election e under election f: refused by its election_id,
     * and, with the id changed, by every proof (they hash e's H_E and K) */
    b = encrypt(&e, "m2", 0, NULL);
    assert_int_equal(dt_ballot_verify(f.ctx, b, &msg), DT_ERR_INVALID);
    print_message("  another election's ballot: %s\n", msg);
    free(msg);
    msg = NULL;
    memcpy(b->election_id, f.ctx->he, 32);
    assert_int_equal(dt_ballot_verify(f.ctx, b, &msg), DT_ERR_PROOF);
    print_message("  with its election_id changed: %s\n", msg);
    free(msg);
    dt_ballot_destroy(b);
    election_free(&f);
    election_free(&e);
}

/* ---- group membership ---- */

static void test_membership_integer(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_INTEGER4096);
    unsigned char p[512], gen[512], x[512];
    dt_elem e;
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    dt_ballot *b = NULL;
    unsigned char *text = NULL;
    size_t len;
    char *msg = NULL;
    (void)state;
    assert_non_null(g);
    assert_int_equal(dt_group_integer_params(g, p, gen, sizeof p), 1);

    /* p - 1 (order 2), p, 0, p + 1 and a square outside the subgroup */
    memcpy(x, p, sizeof x);
    x[511] -= 1;
    assert_int_equal(dt_elem_decode(g, &e, x, sizeof x), DT_ERR_NOT_IN_GROUP);
    assert_int_equal(dt_elem_decode(g, &e, p, sizeof p), DT_ERR_RANGE);
    memset(x, 0, sizeof x);
    assert_int_equal(dt_elem_decode(g, &e, x, sizeof x), DT_ERR_RANGE);
    x[511] = 4; /* 2^2: a quadratic residue, not of order q */
    assert_int_equal(dt_elem_decode(g, &e, x, sizeof x), DT_ERR_NOT_IN_GROUP);
    x[511] = 1;
    assert_int_equal(dt_elem_decode(g, &e, x, sizeof x), DT_OK); /* the identity is a member */

    /* inside a ballot of the sample record, where the server checks it */
    assert_int_equal(dt_record_load_part(&rec, &msg, SAMPLE, DT_RECORD_ELECTION), DT_OK);
    assert_int_equal(dt_ballot_ctx_create(&ctx, &msg, rec), DT_OK);
    assert_int_equal(
        dt_read_file(&text, &len, SAMPLE "/encrypted_ballots/runWorkflowDevice/eballot-id-1.json", 1 << 24), DT_OK);
    assert_int_equal(dt_ballot_parse(ctx, &b, &msg, (const char *)text, len), DT_OK);
    assert_int_equal(dt_ballot_verify(ctx, b, &msg), DT_OK);
    memset(b->contests[0].sel[0].alpha, 0, 512);
    b->contests[0].sel[0].alpha[511] = 4;
    assert_int_equal(dt_ballot_verify(ctx, b, &msg), DT_ERR_NOT_IN_GROUP);
    print_message("  %s\n", msg);
    free(msg);
    msg = NULL;
    memcpy(b->contests[0].sel[0].alpha, p, 512);
    b->contests[0].sel[0].alpha[511] -= 1;
    assert_int_not_equal(dt_ballot_verify(ctx, b, &msg), DT_OK);
    free(msg);
    dt_ballot_destroy(b);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    free(text);
    dt_group_destroy(g);
}

static void test_membership_r255(void **state)
{
    election e;
    unsigned char enc[32], bad[32];
    dt_elem x;
    char *msg = NULL;
    (void)state;
    election_make(&e, DT_GROUP_RISTRETTO255);
    dt_ballot *b = encrypt(&e, "g1", 1, NULL);
    memcpy(enc, b->contests[0].sel[0].alpha, 32);
    assert_int_equal(dt_elem_decode(e.g, &x, enc, 32), DT_OK);

    /* non-canonical: bit 255 set; a field element >= p (p + 1); a
     * negative (odd) s */
    memcpy(bad, enc, 32);
    bad[31] |= 0x80;
    assert_int_not_equal(dt_elem_decode(e.g, &x, bad, 32), DT_OK);
    memset(bad, 0xff, 32);
    bad[0] = 0xee; /* p + 1 = 2^255 - 18 */
    bad[31] = 0x7f;
    assert_int_not_equal(dt_elem_decode(e.g, &x, bad, 32), DT_OK);
    memset(bad, 0, 32);
    bad[0] = 1;
    assert_int_not_equal(dt_elem_decode(e.g, &x, bad, 32), DT_OK);

    /* inside a ballot */
    b->contests[0].sel[0].alpha[31] |= 0x80;
    assert_int_not_equal(dt_ballot_verify(e.ctx, b, &msg), DT_OK);
    print_message("  bit 255 set in a ballot: %s\n", msg);
    free(msg);
    dt_ballot_destroy(b);
    election_free(&e);
}

/* ---- biased nonces ---- */

static size_t random_asked;

static void counting_source(void *buf, size_t n)
{
    random_asked += n;
    testrand_bytes(buf, n);
}

static void test_nonce_width(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    unsigned char he[32], msg[41], h[64];
    dt_scalar xi, want;
    (void)state;
    assert_non_null(g);

    /* every random scalar (proof nonces u, coefficients) is 512 bits
     * reduced: 64 bytes from the source */
    dt_random_set_source_for_testing(counting_source);
    random_asked = 0;
    assert_int_equal(dt_scalar_random(g, &xi), DT_OK);
    assert_int_equal(random_asked, 64);
    dt_random_set_source_for_testing(testrand_bytes);

    /* a derived ballot nonce is H(..1) || H(..2) reduced (test_ballot's
     * test_nonce_r255_wide checks it on random messages); here: both halves
     * matter */
    testrand_bytes(he, sizeof he);
    testrand_bytes(msg, sizeof msg);
    dt_ballot_derive_nonce(g, &xi, he, msg, sizeof msg);
    unsigned char m2[42];
    memcpy(m2, msg, sizeof msg);
    m2[41] = 1;
    dt_hmac_sha256(h, he, 32, m2, sizeof m2);
    m2[41] = 2;
    dt_hmac_sha256(h + 32, he, 32, m2, sizeof m2);
    dt_scalar_reduce(g, &want, h, 64);
    assert_true(dt_scalar_eq(&xi, &want));
    h[63] ^= 1;
    dt_scalar_reduce(g, &want, h, 64);
    assert_false(dt_scalar_eq(&xi, &want));
    dt_group_destroy(g);
}

/* The top 4 bits below the order's top bit (bits 248-251) of 16,384
 * selection nonces, derived from fixed inputs (so the result is the same at
 * every run: it cannot be flaky), are uniform by a chi-square test with 15
 * degrees of freedom at 1e-6 (critical value 51.2). A derivation from too
 * few bits (128, or 248 and masked) puts every nonce in one bucket. */
static void test_nonce_uniform(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    unsigned char he[32];
    dt_ballot_nonce xib;
    unsigned long count[16] = {0};
    const unsigned long n = 16384;
    double chi2 = 0, expect = (double)n / 16;
    (void)state;
    assert_non_null(g);
    memset(he, 0x5a, sizeof he);
    memset(&xib, 0, sizeof xib);
    for (unsigned long t = 0; t < n; t++) {
        dt_scalar xi;
        memcpy(xib.bytes, &t, sizeof t);
        dt_ballot_selection_nonce(g, &xi, he, &xib, 1, (uint32_t)(t % 7));
        assert_true(xi.be[0] < 0x10); /* below l < 2^253: bit 252 set would be >= l with probability 2^-125 */
        count[xi.be[0] & 0x0f]++;
    }
    for (int k = 0; k < 16; k++)
        chi2 += (count[k] - expect) * (count[k] - expect) / expect;
    print_message("  chi-square of the top nibble over %lu nonces: %.1f (at 1e-6: 51.2)\n", n, chi2);
    assert_true(chi2 < 51.2);
    dt_group_destroy(g);
}

/* ---- only the aggregate is decrypted ---- */

static void test_cast_ciphertext_not_decrypted(void **state)
{
    election e;
    char path[256], *text = NULL, *msg = NULL, *share = NULL;
    size_t len;
    dt_record *rec = NULL;
    dt_decrypt_nonces *nonces = NULL;
    json_t *j;
    json_error_t jerr;
    (void)state;
    election_make(&e, DT_GROUP_RISTRETTO255);
    snprintf(path, sizeof path, "%s/encrypted_ballots/booth", e.dir);
    assert_int_equal(dt_mkdirs(path), DT_OK);

    /* a cast ballot, and a "challenged" ballot that copies its ciphertexts
     * (to have the guardians decrypt one voter's ballot) */
    dt_ballot *b = encrypt(&e, "cast", 1, NULL);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    assert_int_equal(dt_ballot_serialize(b, &text, &len), DT_OK);
    snprintf(path, sizeof path, "%s/encrypted_ballots/booth/eballot-cast.json", e.dir);
    assert_int_equal(dt_write_file_atomic(path, text, len, 0644), DT_OK);
    j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    assert_int_equal(json_object_set_new(j, "ballot_id", json_string("copy")), 0);
    assert_int_equal(json_object_set_new(j, "state", json_string("CHALLENGED")), 0);
    free(text);
    text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    snprintf(path, sizeof path, "%s/encrypted_ballots/booth/eballot-copy.json", e.dir);
    assert_int_equal(dt_write_file_atomic(path, text, strlen(text), 0644), DT_OK);
    free(text);
    dt_ballot_destroy(b);

    assert_int_equal(dt_election_tally(&msg, e.dir), DT_OK);
    assert_int_equal(dt_record_load(&rec, &msg, e.dir), DT_OK);
    assert_int_equal(dt_decrypt_round1(&msg, &share, &nonces, rec, 1, &e.P[0], NULL, NULL), DT_ERR_INVALID);
    assert_null(share);
    assert_null(nonces);
    print_message("  %s\n", msg);
    free(msg);
    dt_record_destroy(rec);
    election_free(&e);
}

/* ---- the thief of a guardian's disk ---- */

static int contains(const unsigned char *hay, size_t n, const unsigned char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static void test_key_file_at_rest(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    dt_guardian *gd = NULL;
    dt_scalar value, xi;
    unsigned char eid[32] = {3}, enc[32], *file = NULL;
    char dir[] = "/tmp/dt-attacks-key-XXXXXX", path[64];
    size_t len;
    pid_t pid;
    int st;
    (void)state;
    assert_non_null(g);
    assert_non_null(mkdtemp(dir));
    dt_guardian_file_cost_for_testing(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    /* n = 2, k = 1: the share for guardian 2 is the secret coefficient a_{1,0} */
    assert_int_equal(dt_guardian_create(&gd, g, 1, 2, 1), DT_OK);
    assert_int_equal(dt_guardian_reveal_share(gd, &value, &xi, 2), DT_OK);
    snprintf(path, sizeof path, "%s/g.key", dir);
    assert_int_equal(dt_guardian_save(gd, path, "a passphrase", eid), DT_OK);
    assert_int_equal(dt_read_file(&file, &len, path, 1 << 20), DT_OK);
    dt_scalar_encode(g, enc, &value);
    assert_false(contains(file, len, enc, sizeof enc)); /* the coefficient is not in the file */
    dt_scalar_encode(g, enc, &xi);
    assert_false(contains(file, len, enc, 16)); /* nor anything derived from the seed */

    /* the secrets are unreadable between calls (PROT_NONE): a read faults */
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch it */
        signal(SIGBUS, SIG_DFL);
        volatile unsigned char leak = gd->sec->seed[0];
        (void)leak;
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_true(WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS);
    free(file);
    dt_guardian_destroy(gd);
    dt_guardian_file_cost_for_testing(0, 0);
    dt_group_destroy(g);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static int setup_all(void **state)
{
    (void)state;
    testrand_init();
    dt_random_set_source_for_testing(testrand_bytes);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_cheats),
        cmocka_unit_test(test_fiat_shamir_statement),
        cmocka_unit_test(test_fiat_shamir_ballots),
        cmocka_unit_test(test_membership_integer),
        cmocka_unit_test(test_membership_r255),
        cmocka_unit_test(test_nonce_width),
        cmocka_unit_test(test_nonce_uniform),
        cmocka_unit_test(test_cast_ciphertext_not_decrypted),
        cmocka_unit_test(test_key_file_at_rest),
    };
    return cmocka_run_group_tests(tests, setup_all, NULL);
}
