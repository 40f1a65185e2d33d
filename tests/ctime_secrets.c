/* Constant-time test of every function that touches a secret, in both
 * groups, as libsecp256k1's src/ctime_tests.c: the secrets are marked
 * undefined for Valgrind's memcheck, which then fails the run on any branch
 * or memory index computed from them ("Conditional jump or move depends on
 * uninitialised value", "Use of uninitialised value" in an address).
 *
 * Secrets here: every byte of randomness the library draws (the test's
 * randomness source marks it undefined: guardian coefficients and nonce
 * seeds, proof nonces u, ballot nonces xi_B and the range proofs' simulated
 * branches), the votes and write-ins of a plaintext ballot (and what the
 * contest-data encoder takes from them), the key shares, the share
 * values, and the Argon2id output that keys a guardian file (crypto_pwhash
 * is wrapped at link time to mark its output undefined, as if the
 * passphrase were; libsodium's AEAD decryption is run as a black box). Outputs that become public (commitments, proofs,
 * ciphertexts, key files) are declassified by the test, or by the library
 * where it branches on them (src/util/ctcheck.h).
 *
 * Run it as  valgrind --error-exitcode=1 ctime_secrets  (CTest does when
 * valgrind is installed and the build is not a sanitizer build; otherwise the
 * test reports skipped). Without valgrind it exits 77. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <valgrind/memcheck.h>

#include <detente/ballot.h>
#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/group.h>
#include <detente/proof.h>
#include <detente/record.h>
#include <detente/tally.h>
#include <detente/workflow.h>

#include "ballot/ballot_impl.h"
#include "ceremony/ceremony_impl.h"
#include "testrand.h"

#include <time.h>

static double t0;
static void stamp(const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = ts.tv_sec + ts.tv_nsec / 1e9;
    if (getenv("DT_CTIME_TIMES"))
        fprintf(stderr, "ctime_secrets: %-40s %.1f s\n", what, t - t0);
    t0 = t;
}

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

#define NG 3 /* guardians */
#define KQ 2 /* quorum */

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "ctime_secrets: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                                            \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* ---- secret randomness ---- */

static int secret_random;

static void random_source(void *buf, size_t n)
{
    testrand_bytes(buf, n);
    if (secret_random)
        SECRET(buf, n);
}

/* The guardian file's key comes from the passphrase through crypto_pwhash:
 * the test makes its output secret (linked with -Wl,--wrap=crypto_pwhash). */
int __real_crypto_pwhash(unsigned char *const out, unsigned long long outlen, const char *const passwd,
                         unsigned long long passwdlen, const unsigned char *const salt, unsigned long long opslimit,
                         size_t memlimit, int alg);
int __wrap_crypto_pwhash(unsigned char *const out, unsigned long long outlen, const char *const passwd,
                         unsigned long long passwdlen, const unsigned char *const salt, unsigned long long opslimit,
                         size_t memlimit, int alg);
static int pwhash_calls;

int __wrap_crypto_pwhash(unsigned char *const out, unsigned long long outlen, const char *const passwd,
                         unsigned long long passwdlen, const unsigned char *const salt, unsigned long long opslimit,
                         size_t memlimit, int alg)
{
    /* salt may be secret (fresh randomness): Argon2id's memory access
     * pattern depends on it in its data-dependent half, which is public by
     * design (the salt is stored in the clear) */
    PUBLIC(salt, crypto_pwhash_SALTBYTES);
    int r = __real_crypto_pwhash(out, outlen, passwd, passwdlen, salt, opslimit, memlimit, alg);
    pwhash_calls++;
    SECRET(out, (size_t)outlen);
    return r;
}

/* libsodium's AEAD is constant time (its own tests); its decryption
 * branches, as it must, on whether the tag checks, which memcheck cannot tell
 * from a branch on the key. The test treats it as a black box (linked with
 * -Wl,--wrap=crypto_aead_xchacha20poly1305_ietf_decrypt): the call runs on a
 * declassified copy of the key, and the plaintext comes out secret. What is
 * checked is detente's code around it. */
int __real_crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                                      unsigned char *nsec, const unsigned char *c,
                                                      unsigned long long clen, const unsigned char *ad,
                                                      unsigned long long adlen, const unsigned char *npub,
                                                      const unsigned char *k);
int __wrap_crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                                      unsigned char *nsec, const unsigned char *c,
                                                      unsigned long long clen, const unsigned char *ad,
                                                      unsigned long long adlen, const unsigned char *npub,
                                                      const unsigned char *k);

int __wrap_crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                                      unsigned char *nsec, const unsigned char *c,
                                                      unsigned long long clen, const unsigned char *ad,
                                                      unsigned long long adlen, const unsigned char *npub,
                                                      const unsigned char *k)
{
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned long long mlen = 0;
    int r;
    memcpy(key, k, sizeof key);
    PUBLIC(key, sizeof key);
    r = __real_crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, nsec, c, clen, ad, adlen, npub, key);
    sodium_memzero(key, sizeof key);
    if (mlen_p)
        *mlen_p = mlen;
    if (r == 0)
        SECRET(m, (size_t)mlen);
    return r;
}

/* ---- the election ---- */

static const char manifest[] =
    "{\"election_scope_id\": \"ctime\", \"spec_version\": \"v2.0.0\", \"type\": \"general\",\n"
    " \"start_date\": \"2026-11-03T07:00:00Z\", \"end_date\": \"2026-11-03T20:00:00Z\",\n"
    " \"geopolitical_units\": [{\"object_id\": \"county\", \"name\": \"County\", \"type\": \"county\"}],\n"
    " \"ballot_styles\": [{\"object_id\": \"ballot\", \"geopolitical_unit_ids\": [\"county\"], \"party_ids\": []}],\n"
    " \"contests\": [\n"
    "  {\"object_id\": \"mayor\", \"sequence_order\": 1, \"electoral_district_id\": \"county\",\n"
    "   \"vote_variation\": \"one_of_m\", \"number_elected\": 1, \"votes_allowed\": 1,\n"
    "   \"option_selection_limit\": 1, \"name\": \"Mayor\", \"ballot_selections\": [\n"
    "    {\"object_id\": \"mayor-a\", \"sequence_order\": 1, \"candidate_id\": \"a\"},\n"
    "    {\"object_id\": \"mayor-b\", \"sequence_order\": 2, \"candidate_id\": \"b\"}]},\n"
    "  {\"object_id\": \"council\", \"sequence_order\": 2, \"electoral_district_id\": \"county\",\n"
    "   \"vote_variation\": \"n_of_m\", \"number_elected\": 2, \"votes_allowed\": 2,\n"
    "   \"option_selection_limit\": 2, \"name\": \"Council\", \"ballot_selections\": [\n"
    "    {\"object_id\": \"council-c\", \"sequence_order\": 1, \"candidate_id\": \"c\"},\n"
    "    {\"object_id\": \"council-d\", \"sequence_order\": 2, \"candidate_id\": \"d\"},\n"
    "    {\"object_id\": \"council-e\", \"sequence_order\": 3, \"candidate_id\": \"e\"}]}],\n"
    " \"candidates\": [{\"object_id\": \"a\"}, {\"object_id\": \"b\"}, {\"object_id\": \"c\"},\n"
    "                {\"object_id\": \"d\"}, {\"object_id\": \"e\"}],\n"
    " \"parties\": [], \"contact_information\": {\"name\": \"Test office\"}}\n";

/* Marks a ballot's public parts defined: it is published as a whole. */
static void declassify_ballot(const dt_ballot *b, size_t eb)
{
    PUBLIC(b->code, DT_HASH_BYTES);
    for (size_t i = 0; i < b->ncontests; i++) {
        const dt_bcontest *c = &b->contests[i];
        PUBLIC(c->hash, DT_HASH_BYTES);
        for (size_t o = 0; o < c->nsel; o++) {
            PUBLIC(c->sel[o].alpha, eb);
            PUBLIC(c->sel[o].beta, eb);
            PUBLIC(c->sel[o].proof.c, 32 * c->sel[o].proof.n);
            PUBLIC(c->sel[o].proof.v, 32 * c->sel[o].proof.n);
            if (c->sel[o].proof.a) {
                PUBLIC(c->sel[o].proof.a, eb * c->sel[o].proof.n);
                PUBLIC(c->sel[o].proof.b, eb * c->sel[o].proof.n);
            }
        }
        PUBLIC(c->proof.c, 32 * c->proof.n);
        PUBLIC(c->proof.v, 32 * c->proof.n);
        if (c->proof.a) {
            PUBLIC(c->proof.a, eb * c->proof.n);
            PUBLIC(c->proof.b, eb * c->proof.n);
        }
        if (c->has_data) {
            PUBLIC(c->c0, eb);
            PUBLIC(c->c1, c->c1len);
            PUBLIC(c->c2, DT_HASH_BYTES);
        }
    }
}

/* The group layer: every constant-time function on a secret scalar. */
static void group_layer(const dt_group *g)
{
    dt_fixed_base *fk = NULL;
    dt_elem K, r;
    dt_scalar x, y, z;
    unsigned char wide[64], enc[DT_ELEM_MAX_BYTES], sb[DT_SCALAR_BYTES];

    CHECK(dt_scalar_random(g, &x) == DT_OK && dt_scalar_random(g, &y) == DT_OK);
    PUBLIC(&x, sizeof x);
    dt_elem_pow_g(g, &K, &x); /* a public key made from a public x */
    CHECK((fk = dt_fixed_base_create(g, &K)) != NULL);
    CHECK(dt_random_bytes(wide, sizeof wide) == DT_OK);
    SECRET(&x, sizeof x);
    SECRET(wide, sizeof wide);
    dt_elem_pow_g(g, &r, &x);
    dt_fixed_base_pow(fk, &r, &y);
    dt_elem_pow(g, &r, &K, &x);
    dt_elem_encode(g, enc, &r);
    dt_scalar_reduce(g, &z, wide, sizeof wide);
    dt_scalar_reduce(g, &z, wide, 32);
    dt_scalar_add(g, &z, &z, &x);
    dt_scalar_sub(g, &z, &z, &y);
    dt_scalar_mul(g, &z, &z, &x);
    dt_scalar_neg(g, &z, &z);
    dt_scalar_encode(g, sb, &z);
    /* a secret scalar read back: its validity is public, its value is not */
    CHECK(dt_scalar_decode(g, &z, sb, dt_group_scalar_bytes(g)) == DT_OK);
    (void)dt_scalar_eq(&x, &y);
    /* zero and one */
    memset(&x, 0, sizeof x);
    SECRET(&x, sizeof x);
    dt_elem_pow_g(g, &r, &x);
    dt_fixed_base_pow(fk, &r, &x);
    dt_elem_pow(g, &r, &K, &x);
    dt_scalar_from_u64(g, &x, 1);
    SECRET(&x, sizeof x);
    dt_elem_pow(g, &r, &K, &x);
    PUBLIC(&r, sizeof r);
    CHECK(dt_elem_eq(g, &r, &K));
out:
    dt_fixed_base_destroy(fk);
}

/* ElGamal and the three provers, with secret nonces, votes and keys. */
static void proofs(const dt_group *g, const unsigned char he[32])
{
    dt_fixed_base *fk = NULL;
    dt_elem K, alpha, beta, M;
    dt_scalar s, xi, c[3], v[3], cc, vv;
    uint64_t m;
    uint32_t ell;
    const int fast = dt_group_kind(g) == DT_GROUP_RISTRETTO255;

    CHECK(dt_scalar_random(g, &s) == DT_OK && dt_scalar_random(g, &xi) == DT_OK);
    PUBLIC(&s, sizeof s);
    dt_elem_pow_g(g, &K, &s);
    SECRET(&s, sizeof s);
    CHECK((fk = dt_fixed_base_create(g, &K)) != NULL);
    for (ell = 0; ell <= 2; ell++) {
        uint32_t sell = ell;
        m = ell;
        SECRET(&m, sizeof m);
        SECRET(&sell, sizeof sell);
        /* the table and the plain variants (in the integer group a table
         * is the plain power: once there, to keep the test fast) */
        if (fast) {
            dt_elgamal_encrypt(g, &alpha, &beta, &K, m, &xi);
            CHECK(dt_range_prove(g, c, v, he, &K, &alpha, &beta, &xi, sell, 2) == DT_OK);
        }
        dt_elgamal_encrypt_fb(g, &alpha, &beta, fk, m, &xi);
        PUBLIC(&alpha, sizeof alpha);
        PUBLIC(&beta, sizeof beta);
        CHECK(dt_range_prove_fb(g, c, v, he, &K, fk, &alpha, &beta, &xi, sell, 2) == DT_OK);
        PUBLIC(c, sizeof c);
        PUBLIC(v, sizeof v);
        if (fast || ell == 2)
            CHECK(dt_range_verify_var(g, he, &K, &alpha, &beta, c, v, 2) == DT_OK);
    }
    /* Schnorr proof of a secret coefficient, Chaum-Pedersen of a decryption */
    CHECK(dt_schnorr_prove(g, &cc, &vv, he, 1, 0, &K, &s) == DT_OK);
    PUBLIC(&cc, sizeof cc);
    PUBLIC(&vv, sizeof vv);
    CHECK(dt_schnorr_verify_var(g, he, 1, 0, &K, &cc, &vv) == DT_OK);
    CHECK(dt_decryption_prove(g, &M, &cc, &vv, he, &K, &alpha, &beta, &s) == DT_OK);
    PUBLIC(&M, sizeof M);
    PUBLIC(&cc, sizeof cc);
    PUBLIC(&vv, sizeof vv);
    dt_elem_div(g, &M, &beta, &M);
    CHECK(dt_decryption_verify_var(g, he, &K, &alpha, &beta, &M, &cc, &vv) == DT_OK);
out:
    dt_fixed_base_destroy(fk);
}

/* The contest-data layout (src/ballot/contest_data.c) from fixed-size
 * slots, with everything secret that the encoder receives from the votes:
 * the status, the options marked, the write-ins' bytes, lengths and number;
 * every status, with no, one, three and four write-ins (a text cut at a
 * UTF-8 boundary), no and all options marked (1- and 5-byte sequence
 * numbers): cases that take the truncation steps 1 to 4. Each result, once
 * public, equals the string form's on public inputs. */
static void contest_data_layout(void)
{
    enum { M = 8, SLOTS = 4, SLOT = 96 };
    static const char *const texts[SLOTS] = {
        "A write-in name longer than thirty bytes",
        "Zo\xc3\xab",
        "abcdefghijklmnopqrstuvwxyzABC\xe2\x82\xac\xe2\x82\xac end", /* a euro sign across byte 30 */
        "x",
    };
    static const size_t nws[] = {0, 1, 3, 4};
    dt_rec_option opt[M];
    dt_rec_mcontest mc = {.id = "council", .seq = 2, .votes_allowed = 2, .option_limit = 1, .noptions = M,
                          .options = opt};
    unsigned char slots[SLOTS * SLOT], marked[M], marked_pub[M], *d = NULL, *d2 = NULL;
    uint32_t lens[SLOTS], nb = 0, nb2 = 0;
    size_t dlen = 0, dlen2 = 0;

    memset(opt, 0, sizeof opt);
    for (size_t o = 0; o < M; o++)
        opt[o].seq = o < M / 2 ? (uint32_t)o + 1 : 0x10000000u + (uint32_t)o;
    for (int status = 0; status < 4; status++)
        for (size_t k = 0; k < sizeof nws / sizeof nws[0]; k++)
            for (int all = 0; all < 2; all++) {
                int st = status;
                size_t nw = nws[k];
                memset(slots, 0, sizeof slots);
                for (size_t i = 0; i < SLOTS; i++) {
                    lens[i] = (uint32_t)strlen(texts[i]);
                    memcpy(slots + i * SLOT, texts[i], lens[i]);
                }
                memset(marked_pub, all, sizeof marked_pub);
                memcpy(marked, marked_pub, sizeof marked);
                SECRET(&st, sizeof st);
                SECRET(&nw, sizeof nw);
                SECRET(marked, sizeof marked);
                SECRET(slots, sizeof slots);
                SECRET(lens, sizeof lens);
                CHECK(dt_ballot_cd_encode_slots(&d, &dlen, &nb, &mc, st, marked, slots, SLOT, lens, SLOTS, nw) ==
                      DT_OK);
                PUBLIC(d, dlen);
                PUBLIC(&nb, sizeof nb);
                CHECK(dt_ballot_cd_encode(&d2, &dlen2, &nb2, &mc, status, marked_pub, (char *const *)texts,
                                          nws[k]) == DT_OK);
                CHECK(dlen == dlen2 && nb == nb2 && memcmp(d, d2, dlen) == 0);
                free(d);
                free(d2);
                d = d2 = NULL;
            }
out:
    free(d);
    free(d2);
}

/* The whole path in one group: key ceremony, guardian files, ballots,
 * partial decryption. */
static void election(dt_group_id id)
{
    char dir[] = "/tmp/dt-ctime-XXXXXX", path[600], *msg = NULL, *json[NG] = {0};
    dt_group *g = NULL;
    dt_guardian *gd[NG] = {0}, *loaded = NULL;
    dt_elem Kc[NG][KQ];
    dt_scalar c[KQ], v[KQ], P[NG], value, xi;
    dt_share_ct ct;
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    dt_ballot_device *dev = NULL;
    dt_plaintext_ballot *pb = NULL;
    dt_ballot *b = NULL;
    dt_ballot_nonce xib;
    unsigned char eid[32] = {1}, he[32];
    size_t eb;
    int made = 0;

    CHECK(mkdtemp(dir) != NULL);
    made = 1;
    CHECK((g = dt_group_create(id)) != NULL);
    eb = dt_group_elem_bytes(g);
    dt_parameter_base_hash(g, he); /* a stand-in for H_E in the bare provers */

    secret_random = 1;
    stamp("start");
    group_layer(g);
    stamp("group layer");
    proofs(g, he);
    stamp("provers");

    /* ---- key ceremony: coefficients, commitments, shares ---- */
    CHECK(dt_election_create(&msg, dir, id, (const unsigned char *)manifest, strlen(manifest), NG, KQ, NULL, 0,
                             false) == DT_OK);
    for (uint32_t i = 0; i < NG; i++) {
        CHECK(dt_guardian_create(&gd[i], g, i + 1, NG, KQ) == DT_OK);
        CHECK(dt_guardian_commitments(gd[i], Kc[i], c, v, KQ) == DT_OK);
        PUBLIC(Kc[i], sizeof Kc[i]);
        PUBLIC(c, sizeof c);
        PUBLIC(v, sizeof v);
        CHECK(dt_commitments_to_json(g, &json[i], NULL, i + 1, Kc[i], c, v, KQ) == DT_OK);
    }
    for (uint32_t i = 0; i < NG; i++) {
        for (uint32_t l = 0; l < NG; l++) {
            if (l == i)
                continue;
            CHECK(dt_guardian_encrypt_share(gd[i], &ct, l + 1, &Kc[l][0]) == DT_OK);
            PUBLIC(&ct, sizeof ct);
            CHECK(dt_guardian_receive_share(gd[l], &ct, Kc[i], KQ) == DT_OK);
            /* a complaint's answer: both values become public */
            CHECK(dt_guardian_reveal_share(gd[i], &value, &xi, l + 1) == DT_OK);
            PUBLIC(&value, sizeof value);
            PUBLIC(&xi, sizeof xi);
            CHECK(dt_ceremony_judge_complaint_var(g, gd[i]->hp, &ct, &Kc[l][0], Kc[i], KQ, &value, &xi) ==
                  DT_COMPLAINT_DISMISSED);
        }
    }
    for (uint32_t i = 0; i < NG; i++) {
        CHECK(dt_guardian_finish(gd[i]) == DT_OK);
        CHECK(dt_guardian_key_share(gd[i], &P[i]) == DT_OK);
    }

    stamp("key ceremony");
    /* ---- the guardian file: save and load ----
     * (its code does not depend on the group: run once, in ristretto255,
     * to keep the test fast; Argon2id under valgrind takes seconds) */
    if (id != DT_GROUP_RISTRETTO255)
        goto ballots;
    dt_guardian_file_cost_for_testing(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    snprintf(path, sizeof path, "%s/g1.key", dir);
    pwhash_calls = 0;
    CHECK(dt_guardian_save(gd[0], path, "correct horse", eid) == DT_OK);
    CHECK(dt_guardian_load(&loaded, g, path, "correct horse", eid) == DT_OK);
    dt_guardian_destroy(loaded);
    loaded = NULL;
    CHECK(dt_guardian_load(&loaded, g, path, "wrong horse", eid) == DT_ERR_PROOF);
    CHECK(pwhash_calls == 3);
ballots:

    stamp("guardian file");
    /* ---- the election opens (public) ---- */
    secret_random = 0;
    CHECK(dt_election_open(&msg, dir, (const char *const *)json, NG) == DT_OK);
    CHECK(dt_record_load_part(&rec, &msg, dir, DT_RECORD_ELECTION) == DT_OK);
    CHECK(dt_ballot_ctx_create(&ctx, &msg, rec) == DT_OK);
    CHECK(dt_ballot_device_create(&dev, &msg, ctx, "booth", NULL, 0) == DT_OK);

    /* ---- ballots: secret votes, a secret ballot nonce ---- */
    static const uint32_t votes[][5] = {
        {0, 1, 1, 0, 0}, /* normal, under */
        {1, 1, 1, 1, 1}, /* over, over */
        {1, 0, 2, 0, 0}, /* normal, normal */
        {0, 0, 0, 0, 0}, /* null, null */
        {0, 1, 0, 2, 2}, /* normal, over */
    };
    /* the council's write-ins (L = 2): none; three, one of them long (the
     * data is cut); one; none; four short ones */
    static const char *const write_ins[] = {
        "",
        "\"A write-in name longer than thirty bytes\", \"Zo\\u00eb\", \"third\"",
        "\"Zo\\u00eb Smith\"",
        "",
        "\"x\", \"y\", \"z\", \"w\"",
    };
    /* the integer group's exponentiations are slow under valgrind: two
     * ballots there (normal, under and over votes), all of them in
     * ristretto255 */
    size_t nballots = id == DT_GROUP_RISTRETTO255 ? sizeof votes / sizeof votes[0] : 2;
    for (size_t t = 0; t < nballots; t++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"ballot_id\": \"b%zu\", \"ballot_style\": \"ballot\", \"contests\": ["
                 "{\"contest_id\": \"mayor\", \"selections\": [{\"selection_id\": \"mayor-a\", \"vote\": %u},"
                 " {\"selection_id\": \"mayor-b\", \"vote\": %u}]},"
                 "{\"contest_id\": \"council\", \"selections\": [{\"selection_id\": \"council-c\", \"vote\": %u},"
                 " {\"selection_id\": \"council-d\", \"vote\": %u}, {\"selection_id\": \"council-e\", \"vote\": %u}],"
                 " \"write_ins\": [%s]}]}",
                 t, votes[t][0], votes[t][1], votes[t][2], votes[t][3], votes[t][4], write_ins[t]);
        secret_random = 0;
        CHECK(dt_plaintext_ballot_parse(ctx, &pb, &msg, text, strlen(text)) == DT_OK);
        for (size_t i = 0; i < pb->ncontests; i++) {
            SECRET(pb->contests[i].votes, ctx->m->contests[pb->contests[i].mi].noptions * sizeof(uint32_t));
            /* the texts secret; each one's end is declassified by the
             * encoder (a NUL-terminated string, stored at its length) */
            for (size_t w = 0; w < pb->contests[i].nwrite; w++)
                SECRET(pb->contests[i].write_ins[w], strlen(pb->contests[i].write_ins[w]) + 1);
        }
        secret_random = 1;
        stamp("(parse)");
        CHECK(dt_ballot_encrypt(dev, &b, &xib, pb, 1700000000) == DT_OK);
        stamp("ballot encryption");
        declassify_ballot(b, eb);
        /* the plaintext ballot's destroy wipes each write-in to its strlen
         * (the parsing gap of docs/security.md): public from here on */
        for (size_t i = 0; i < pb->ncontests; i++)
            for (size_t w = 0; w < pb->contests[i].nwrite; w++)
                for (const char *p = pb->contests[i].write_ins[w];; p++) { /* no strlen: secret bytes */
                    PUBLIC(p, 1);
                    if (!*p)
                        break;
                }
        PUBLIC(&xib, sizeof xib); /* a challenged ballot reveals it */
        secret_random = 0;
        {
            char *out = NULL;
            size_t outlen = 0;
            dt_plaintext_ballot *opened = NULL;
            /* the ballot is right (public work, slow in the integer group
             * under valgrind: test_ballot checks its ballots) */
            if (id == DT_GROUP_RISTRETTO255)
                CHECK(dt_ballot_verify(ctx, b, &msg) == DT_OK);
            if (id == DT_GROUP_RISTRETTO255)
                CHECK(dt_ballot_decrypt_with_nonce(ctx, &opened, &msg, b, &xib) == DT_OK);
            for (size_t i = 0; opened && i < opened->ncontests; i++)
                for (size_t o = 0; o < ctx->m->contests[opened->contests[i].mi].noptions; o++) {
                    uint32_t want = votes[t][i == 0 ? o : 2 + o];
                    int over = i == 0 ? votes[t][0] + votes[t][1] > 1 : votes[t][2] + votes[t][3] + votes[t][4] > 2;
                    CHECK(opened->contests[i].votes[o] == (over ? 0 : want));
                }
            dt_plaintext_ballot_destroy(opened);
            dt_ballot_set_state(b, t % 2 ? DT_BALLOT_STATE_CHALLENGED : DT_BALLOT_STATE_CAST);
            CHECK(dt_ballot_serialize(b, &out, &outlen) == DT_OK);
            free(out);
        }
        stamp("(verify, open, serialize)");
        /* the ballot's nonces alone */
        SECRET(&xib, sizeof xib);
        dt_ballot_selection_nonce(g, &xi, ctx->he, &xib, 1, 2);
        dt_ballot_contest_data_nonce(g, &xi, ctx->he, &xib, 2);
        dt_ballot_nonce_wipe(&xib);
        secret_random = 1;

        /* ---- partial decryption of the first ciphertext by guardians 1 and 3 ---- */
        if (t == 0) {
            uint32_t U[KQ] = {1, 3};
            dt_elem A, B, Mi[KQ], ai[KQ], bi[KQ], gP, Mall, a, bb;
            dt_scalar ui[KQ], w[KQ], ch, vi;
            unsigned char h[32];
            CHECK(dt_elem_decode(g, &A, b->contests[0].sel[0].alpha, eb) == DT_OK);
            CHECK(dt_elem_decode(g, &B, b->contests[0].sel[0].beta, eb) == DT_OK);
            for (size_t u = 0; u < KQ; u++) {
                CHECK(dt_dshare_commit(g, &Mi[u], &ai[u], &bi[u], &ui[u], &A, &P[U[u] - 1]) == DT_OK);
                PUBLIC(&Mi[u], sizeof Mi[u]);
                PUBLIC(&ai[u], sizeof ai[u]);
                PUBLIC(&bi[u], sizeof bi[u]);
                CHECK(dt_lagrange_coefficient(g, &w[u], U[u], U, KQ) == DT_OK);
            }
            dt_dshare_combine(g, &Mall, &a, &bb, Mi, ai, bi, w, KQ);
            dt_decryption_challenge(g, h, ctx->he, &ctx->K, &A, &B, &a, &bb, &Mall);
            dt_scalar_reduce(g, &ch, h, sizeof h);
            for (size_t u = 0; u < KQ; u++) {
                dt_dshare_respond(g, &vi, &ui[u], &ch, &w[u], &P[U[u] - 1]);
                PUBLIC(&vi, sizeof vi);
                dt_ceremony_public_share_var(g, &gP, U[u], &Kc[0][0], NG, KQ);
                CHECK(dt_dshare_verify_var(g, &gP, &A, &Mi[u], &ai[u], &bi[u], &ch, &w[u], &vi) == DT_OK);
            }
        }
        stamp("nonces, partial decryption");
        dt_ballot_destroy(b);
        b = NULL;
        dt_plaintext_ballot_destroy(pb);
        pb = NULL;
    }
out:
    secret_random = 0;
    if (msg)
        fprintf(stderr, "ctime_secrets: %s\n", msg);
    free(msg);
    dt_ballot_destroy(b);
    dt_plaintext_ballot_destroy(pb);
    dt_ballot_device_destroy(dev);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    dt_guardian_destroy(loaded);
    for (int i = 0; i < NG; i++) {
        dt_guardian_destroy(gd[i]);
        free(json[i]);
    }
    dt_group_destroy(g);
    if (made) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            failures++;
    }
}

int main(void)
{
    if (!RUNNING_ON_VALGRIND) {
        fprintf(stderr, "ctime_secrets: only meaningful under valgrind: valgrind --error-exitcode=1 ctime_secrets\n");
        return 77;
    }
    testrand_init();
    dt_random_set_source_for_testing(random_source);
    stamp("(begin)");
    contest_data_layout();
    stamp("contest-data layout");
    election(DT_GROUP_RISTRETTO255);
    election(DT_GROUP_INTEGER4096);
    if (failures) {
        fprintf(stderr, "ctime_secrets: %d checks failed\n", failures);
        return 1;
    }
    printf("ctime_secrets: ceremony, guardian file, ballots (contest data included), proofs and partial decryption "
           "checked with secret keys, nonces, votes and write-ins in ristretto255 and integer4096\n");
    return 0;
}
