/* Ballot encryption: elections made here (ristretto255 and the integer
 * group, one guardian with a known secret s), every sample plaintext ballot
 * encrypted, the record checked by the verifier (steps 1-7), every selection
 * and contest data decrypted with s and with the ballot nonce and compared
 * with the plaintext; nonce derivation against known answers computed with
 * Python's hmac; every refusal of a bad plaintext ballot; overvotes,
 * undervotes, write-ins and their truncation; chained confirmation codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <detente/ballot.h>
#include <detente/election.h>
#include <detente/proof.h>
#include <detente/record.h>
#include <detente/verify.h>

#include "ballot/ballot_impl.h"
#include "ballot/ballot_json.h"
#include "record/record.h"
#include "testrand.h"
#include "util/codec.h"

#define SAMPLE DT_TEST_DATA "/allAvailable"
#define NBALLOTS_MAX 64

/* ---- small helpers ---- */

static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path, size_t *len)
{
    unsigned char *buf = NULL;
    size_t n = 0;
    if (dt_read_file(&buf, &n, path, 64u << 20) != DT_OK)
        fail_msg("cannot read %s", path);
    if (len)
        *len = n;
    return (char *)buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *b64(const unsigned char *p, size_t n)
{
    char *s = dt_b64_encode(p, n);
    assert_non_null(s);
    return s;
}

static void be32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)(x >> 24);
    p[1] = (unsigned char)(x >> 16);
    p[2] = (unsigned char)(x >> 8);
    p[3] = (unsigned char)x;
}

static void hex2bin(unsigned char *out, size_t n, const char *hex)
{
    size_t got = 0;
    assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
    assert_int_equal(got, n);
}

/* ---- an election with one guardian and a known secret ---- */

typedef struct election {
    char dir[256];
    dt_group *g;
    dt_scalar s;
    dt_elem K;
    unsigned char Kenc[DT_ELEM_MAX_BYTES];
    size_t eb;
    unsigned char he[32];
    dt_record *rec;
    dt_ballot_ctx *ctx;
} election;

static const char *const r255_order_hex = "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";

/* Writes constants, manifest, config and election_initialized.json into a
 * fresh folder; manifest NULL takes the sample's. */
static void election_make(election *e, dt_group_id kind, const char *manifest, int chain, const char *baux0)
{
    unsigned char hp[32], hm[32], hb[32];
    char *mtext, path[512], *t;
    size_t mlen;
    dt_scalar c, v;
    char *s_hp, *s_hm, *s_hb, *s_b0, *s_K, *s_he, *s_c, *s_v;

    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/dt-ballot-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->g = dt_group_create(kind);
    assert_non_null(e->g);
    e->eb = dt_group_elem_bytes(e->g);

    snprintf(path, sizeof path, "%s/manifest.json", e->dir);
    if (manifest) {
        spit(path, manifest);
        mtext = strdup(manifest);
        mlen = strlen(manifest);
    } else {
        run("cp '%s/manifest.json' '%s/manifest.json'", SAMPLE, e->dir);
        mtext = slurp(path, &mlen);
    }
    snprintf(path, sizeof path, "%s/constants.json", e->dir);
    if (kind == DT_GROUP_RISTRETTO255) {
        unsigned char gen[32];
        char genhex[65], buf[512];
        dt_elem ge;
        dt_elem_generator(e->g, &ge);
        dt_elem_encode(e->g, gen, &ge);
        sodium_bin2hex(genhex, sizeof genhex, gen, 32);
        snprintf(buf, sizeof buf,
                 "{\"name\":\"ristretto255\",\"type\":\"Ristretto255\",\"protocolVersion\":\"v2.0.0\","
                 "\"constants\":{\"order\":\"%s\",\"generator\":\"%s\"}}",
                 r255_order_hex, genhex);
        spit(path, buf);
    } else {
        run("cp '%s/constants.json' '%s'", SAMPLE, path);
    }

    dt_parameter_base_hash(e->g, hp);
    dt_manifest_hash(hm, hp, (const unsigned char *)mtext, mlen);
    dt_election_base_hash(hb, hp, hm, 1, 1);
    free(mtext);
    s_hp = b64(hp, 32);
    s_hm = b64(hm, 32);
    s_hb = b64(hb, 32);
    s_b0 = b64((const unsigned char *)baux0, strlen(baux0));
    t = dt_strdup_printf("{\"config_version\":\"2.1.0\",\"number_of_guardians\":1,\"quorum\":1,"
                         "\"parameter_base_hash\":\"%s\",\"manifest_hash\":\"%s\",\"election_base_hash\":\"%s\","
                         "\"chain_confirmation_codes\":%s,\"baux0\":\"%s\"}",
                         s_hp, s_hm, s_hb, chain ? "true" : "false", s_b0);
    snprintf(path, sizeof path, "%s/election_config.json", e->dir);
    spit(path, t);
    free(t);

    assert_int_equal(dt_scalar_random(e->g, &e->s), DT_OK);
    dt_elem_pow_g(e->g, &e->K, &e->s);
    dt_elem_encode(e->g, e->Kenc, &e->K);
    dt_extended_base_hash(e->g, e->he, hb, &e->K);
    assert_int_equal(dt_schnorr_prove(e->g, &c, &v, hp, 1, 0, &e->K, &e->s), DT_OK);
    s_K = b64(e->Kenc, e->eb);
    s_he = b64(e->he, 32);
    s_c = b64(c.be, 32);
    s_v = b64(v.be, 32);
    t = dt_strdup_printf("{\"joint_public_key\":\"%s\",\"extended_base_hash\":\"%s\",\"guardians\":[{\"guardian_id\":"
                         "\"guardian1\",\"x_coordinate\":1,\"coefficient_proofs\":[{\"public_key\":\"%s\","
                         "\"challenge\":\"%s\",\"response\":\"%s\"}]}]}",
                         s_K, s_he, s_K, s_c, s_v);
    snprintf(path, sizeof path, "%s/election_initialized.json", e->dir);
    spit(path, t);
    free(t);
    free(s_hp);
    free(s_hm);
    free(s_hb);
    free(s_b0);
    free(s_K);
    free(s_he);
    free(s_c);
    free(s_v);
}

static void election_open(election *e)
{
    char *msg = NULL;
    if (dt_record_load(&e->rec, &msg, e->dir) != DT_OK)
        fail_msg("record: %s", msg ? msg : "?");
    if (dt_ballot_ctx_create(&e->ctx, &msg, e->rec) != DT_OK)
        fail_msg("ctx: %s", msg ? msg : "?");
}

static void election_free(election *e)
{
    dt_ballot_ctx_destroy(e->ctx);
    dt_record_destroy(e->rec);
    dt_group_destroy(e->g);
    if (e->dir[0])
        run("rm -rf '%s'", e->dir);
    dt_memzero(&e->s, sizeof e->s);
    memset(e, 0, sizeof *e);
}

static dt_ballot *encrypt_text(election *e, dt_ballot_device *dev, const char *text, dt_ballot_nonce *xi)
{
    dt_plaintext_ballot *pb = NULL;
    dt_ballot *b = NULL;
    char *msg = NULL;
    if (dt_plaintext_ballot_parse(e->ctx, &pb, &msg, text, strlen(text)) != DT_OK)
        fail_msg("plaintext: %s", msg ? msg : "?");
    assert_int_equal(dt_ballot_encrypt(dev, &b, xi, pb, 1716478724), DT_OK);
    dt_plaintext_ballot_destroy(pb);
    return b;
}

/* dt_ballot_serialize writes json_dumps's bytes without the tree: the two
 * agree on b, and on b with ids holding every character JSON escapes,
 * quotes, backslashes and multi-byte UTF-8 */
static void assert_serializers_agree(dt_ballot *b)
{
    static const char weird[] = "id \"q\" \\ / \x01\x02\x07\b\t\n\v\f\r\x1b\x1f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x97\xb3";
    char *a = NULL, *j = NULL, *saved_id = b->id, *saved_dev = b->device;
    size_t alen = 0, jlen = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            b->id = (char *)weird;
            b->device = (char *)weird + 3;
        }
        assert_int_equal(dt_ballot_serialize(b, &a, &alen), DT_OK);
        assert_int_equal(dt_ballot_serialize_jansson(b, &j, &jlen), DT_OK);
        assert_int_equal(alen, jlen);
        assert_string_equal(a, j);
        free(a);
        free(j);
        assert_int_equal(dt_ballot_serialize_compact(b, &a, &alen), DT_OK);
        assert_int_equal(dt_ballot_serialize_compact_jansson(b, &j, &jlen), DT_OK);
        assert_int_equal(alen, jlen);
        assert_string_equal(a, j);
        assert_null(strchr(a, '\n'));
        free(a);
        free(j);
    }
    /* a string that is not UTF-8: refused, as json_string refuses it */
    b->id = (char *)"\xff";
    assert_int_equal(dt_ballot_serialize(b, &a, &alen), DT_ERR_ENCODING);
    assert_null(a);
    b->id = saved_id;
    b->device = saved_dev;
}

static void write_ballot(election *e, const char *device, const dt_ballot *b)
{
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/encrypted_ballots", e->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/encrypted_ballots/%s", e->dir, device);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/encrypted_ballots/%s/eballot-%s.json", e->dir, device, dt_ballot_id(b));
    assert_serializers_agree((dt_ballot *)b);
    assert_int_equal(dt_ballot_serialize(b, &text, &len), DT_OK);
    assert_int_equal(strlen(text), len);
    spit(path, text);
    free(text);
}

/* Loads the record with its ballots and checks that steps 1-7 pass; returns it. */
static dt_record *verify_1_7(election *e, size_t want_ballots)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    if (dt_record_load(&rec, &msg, e->dir) != DT_OK)
        fail_msg("record with ballots: %s", msg ? msg : "?");
    assert_int_equal(rec->nballots, want_ballots);
    assert_int_equal(dt_verify(&rep, rec, NULL), DT_OK);
    for (int s = 1; s <= 7; s++) {
        if (dt_verify_step_status(rep, s) != DT_STEP_PASS) {
            for (size_t i = 0; i < dt_verify_step_messages(rep, s); i++)
                print_message("step %d: %s\n", s, dt_verify_step_message(rep, s, i));
            fail_msg("step %d (%s) does not pass", s, dt_verify_step_name(s));
        }
    }
    assert_true(dt_verify_step_checked(rep, 5) > 0);
    dt_verify_report_destroy(rep);
    return rec;
}

/* Step `step` fails, and one of its messages contains `what`. */
static void expect_step_fail(election *e, int step, const char *what)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    int found = 0;
    if (dt_record_load(&rec, &msg, e->dir) != DT_OK)
        fail_msg("record with ballots: %s", msg ? msg : "?");
    assert_int_equal(dt_verify(&rep, rec, NULL), DT_OK);
    assert_int_equal(dt_verify_step_status(rep, step), DT_STEP_FAIL);
    for (size_t i = 0; i < dt_verify_step_messages(rep, step); i++)
        found |= strstr(dt_verify_step_message(rep, step, i), what) != NULL;
    assert_true(found);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
}

/* ---- decryption with the secret s, written independently of src/ballot ---- */

typedef struct cdata {
    uint32_t nover;
    uint32_t over[16];
    uint32_t nwrite;
    char write[8][64];
    char status[32];
} cdata;

static int rd_varint(const unsigned char *d, size_t n, size_t *pos, uint32_t *out)
{
    uint64_t x = 0;
    for (unsigned sh = 0; sh <= 28; sh += 7) {
        if (*pos >= n)
            return 0;
        unsigned char b = d[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *out = (uint32_t)x;
            return 1;
        }
    }
    return 0;
}

static void kdf_key(unsigned char out[32], const unsigned char k[32], uint32_t i, const char *label, uint32_t bits)
{
    unsigned char msg[2048];
    size_t n = 0, ll = strlen(label);
    be32(msg, i);
    n = 4;
    memcpy(msg + n, "share_enc_keys", 14);
    n += 14;
    msg[n++] = 0;
    memcpy(msg + n, "contest_data", 12);
    n += 12;
    memcpy(msg + n, label, ll);
    n += ll;
    be32(msg + n, bits);
    n += 4;
    dt_hmac_sha256(out, k, 32, msg, n);
}

/* Opens contest data with beta = C0^s; returns the parsed data. */
static void open_cd_secret(const election *e, const dt_rec_data *d, const char *label, cdata *out)
{
    unsigned char *msg = malloc(1 + 3 * e->eb), k[32], k0[32], ki[32], mac[32];
    unsigned char *plain = malloc(d->c1.n), *m2 = malloc(e->eb + d->c1.n);
    dt_elem C0, beta;
    size_t pos = 0;
    uint32_t len = 0;

    assert_non_null(msg);
    assert_non_null(plain);
    assert_non_null(m2);
    memset(out, 0, sizeof *out);
    assert_int_equal(dt_elem_decode(e->g, &C0, d->c0, e->eb), DT_OK);
    dt_elem_pow(e->g, &beta, &C0, &e->s);
    msg[0] = 0x22;
    memcpy(msg + 1, e->Kenc, e->eb);
    memcpy(msg + 1 + e->eb, d->c0, e->eb);
    dt_elem_encode(e->g, msg + 1 + 2 * e->eb, &beta);
    dt_hmac_sha256(k, e->he, 32, msg, 1 + 3 * e->eb);
    kdf_key(k0, k, 0, label, 8 * d->num_bytes);
    memcpy(m2, d->c0, e->eb);
    memcpy(m2 + e->eb, d->c1.p, d->c1.n);
    dt_hmac_sha256(mac, k0, 32, m2, e->eb + d->c1.n);
    assert_memory_equal(mac, d->c2, 32);
    for (size_t b = 0; b < d->c1.n / 32; b++) {
        kdf_key(ki, k, (uint32_t)b + 1, label, 8 * d->num_bytes);
        for (size_t i = 0; i < 32; i++)
            plain[32 * b + i] = d->c1.p[32 * b + i] ^ ki[i];
    }
    assert_true(rd_varint(plain, d->num_bytes, &pos, &out->nover));
    assert_true(out->nover <= 16);
    for (uint32_t i = 0; i < out->nover; i++)
        assert_true(rd_varint(plain, d->num_bytes, &pos, &out->over[i]));
    assert_true(rd_varint(plain, d->num_bytes, &pos, &out->nwrite));
    assert_true(out->nwrite <= 8);
    for (uint32_t i = 0; i < out->nwrite; i++) {
        assert_true(rd_varint(plain, d->num_bytes, &pos, &len));
        assert_true(len < 64 && pos + len <= d->num_bytes);
        memcpy(out->write[i], plain + pos, len);
        pos += len;
    }
    assert_true(rd_varint(plain, d->num_bytes, &pos, &len));
    assert_true(len < 32 && pos + len <= d->num_bytes);
    memcpy(out->status, plain + pos, len);
    pos += len;
    for (; pos < d->c1.n; pos++)
        assert_int_equal(plain[pos], 0);
    free(msg);
    free(plain);
    free(m2);
}

static const json_t *find_by(const json_t *arr, const char *key, const char *id)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_object_get(json_array_get(arr, i), key);
        if (v && strcmp(json_string_value(v), id) == 0)
            return json_array_get(arr, i);
    }
    return NULL;
}

/* The plaintext's vote for (contest, option), 0 if absent. */
static uint32_t want_vote(const json_t *pc, const char *sel)
{
    const json_t *s = pc ? find_by(json_object_get(pc, "selections"), "selection_id", sel) : NULL;
    return s ? (uint32_t)json_integer_value(json_object_get(s, "vote")) : 0;
}

static const char *want_status(uint64_t sum, uint32_t L)
{
    return sum == 0 ? "null_vote" : sum > L ? "over_vote" : sum < L ? "under_vote" : "normal";
}

/* Every ballot of rec decrypted with s equals its plaintext. */
static void check_with_secret(const election *e, const dt_record *rec, json_t *const *plain, size_t nplain)
{
    for (size_t bi = 0; bi < rec->nballots; bi++) {
        const dt_rec_ballot *b = &rec->ballots[bi];
        const json_t *pj = NULL;
        for (size_t k = 0; k < nplain && !pj; k++)
            if (strcmp(json_string_value(json_object_get(plain[k], "ballot_id")), b->id) == 0)
                pj = plain[k];
        assert_non_null(pj);
        for (size_t ci = 0; ci < b->ncontests; ci++) {
            const dt_rec_bcontest *bc = &b->contests[ci];
            const dt_rec_mcontest *mc = NULL;
            const json_t *pc = find_by(json_object_get(pj, "contests"), "contest_id", bc->id);
            uint64_t sum = 0;
            cdata cd;
            for (size_t m = 0; m < rec->manifest.ncontests && !mc; m++)
                if (strcmp(rec->manifest.contests[m].id, bc->id) == 0)
                    mc = &rec->manifest.contests[m];
            assert_non_null(mc);
            for (size_t si = 0; si < bc->nsel; si++)
                sum += want_vote(pc, bc->sel[si].id);
            for (size_t si = 0; si < bc->nsel; si++) {
                dt_elem alpha, beta, t, M;
                uint64_t val = 99;
                assert_int_equal(dt_elem_decode(e->g, &alpha, bc->sel[si].ct.pad, e->eb), DT_OK);
                assert_int_equal(dt_elem_decode(e->g, &beta, bc->sel[si].ct.data, e->eb), DT_OK);
                dt_elem_pow(e->g, &t, &alpha, &e->s);
                dt_elem_div(e->g, &M, &beta, &t);
                assert_int_equal(dt_elem_dlog_var(e->g, &val, &e->K, &M, mc->option_limit), DT_OK);
                assert_int_equal(val, sum > mc->votes_allowed ? 0 : want_vote(pc, bc->sel[si].id));
            }
            assert_true(bc->has_data);
            assert_int_equal(bc->data.c1.n, 32 * ((size_t)mc->votes_allowed + 1));
            open_cd_secret(e, &bc->data, bc->id, &cd);
            assert_string_equal(cd.status, want_status(sum, mc->votes_allowed));
            if (sum > mc->votes_allowed) {
                uint32_t k = 0;
                for (size_t o = 0; o < mc->noptions; o++)
                    if (want_vote(pc, mc->options[o].id))
                        assert_int_equal(cd.over[k++], mc->options[o].seq);
                assert_int_equal(cd.nover, k);
            } else {
                assert_int_equal(cd.nover, 0);
            }
        }
    }
}

/* ---- opening with the nonce ---- */

/* dt_ballot_decrypt_with_nonce(b) agrees with the plaintext text. */
static void check_with_nonce(election *e, const dt_ballot *b, const dt_ballot_nonce *xi, const json_t *pj)
{
    dt_plaintext_ballot *pb = NULL;
    char *msg = NULL, *text = NULL;
    json_t *dj;
    json_error_t jerr;
    const json_t *arr;

    if (dt_ballot_decrypt_with_nonce(e->ctx, &pb, &msg, b, xi) != DT_OK)
        fail_msg("open: %s", msg ? msg : "?");
    assert_string_equal(dt_plaintext_ballot_id(pb), dt_ballot_id(b));
    assert_int_equal(dt_plaintext_ballot_serialize(pb, &text, NULL), DT_OK);
    dj = json_loads(text, 0, &jerr);
    assert_non_null(dj);
    arr = json_object_get(dj, "contests");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *dc = json_array_get(arr, i);
        const char *cid = json_string_value(json_object_get(dc, "contest_id"));
        const json_t *pc = find_by(json_object_get(pj, "contests"), "contest_id", cid);
        const json_t *sels = json_object_get(dc, "selections"), *wi = json_object_get(dc, "write_ins");
        const json_t *pwi = pc ? json_object_get(pc, "write_ins") : NULL;
        const dt_rec_mcontest *mc = &e->rec->manifest.contests[0];
        uint64_t sum = 0;
        for (size_t m = 0; m < e->rec->manifest.ncontests; m++)
            if (strcmp(e->rec->manifest.contests[m].id, cid) == 0)
                mc = &e->rec->manifest.contests[m];
        for (size_t s = 0; s < json_array_size(sels); s++)
            sum += want_vote(pc, json_string_value(json_object_get(json_array_get(sels, s), "selection_id")));
        for (size_t s = 0; s < json_array_size(sels); s++) {
            const json_t *ds = json_array_get(sels, s);
            uint32_t want = want_vote(pc, json_string_value(json_object_get(ds, "selection_id")));
            assert_int_equal(json_integer_value(json_object_get(ds, "vote")), sum > mc->votes_allowed ? 0 : want);
        }
        assert_string_equal(json_string_value(json_object_get(dc, "status")), want_status(sum, mc->votes_allowed));
        /* short write-ins come back as they were */
        if (pwi && json_array_size(pwi) <= mc->votes_allowed) {
            assert_int_equal(json_array_size(wi), json_array_size(pwi));
            for (size_t w = 0; w < json_array_size(wi); w++)
                if (strlen(json_string_value(json_array_get(pwi, w))) <= 30)
                    assert_string_equal(json_string_value(json_array_get(wi, w)),
                                        json_string_value(json_array_get(pwi, w)));
        }
    }
    json_decref(dj);
    free(text);
    dt_plaintext_ballot_destroy(pb);
}

/* ---- tests ---- */

static void test_nonce_known_answers(void **state)
{
    (void)state;
    /* H_E = 00..1f, xi_B = 20..3f, ind_c = 4, ind_o = 2; expected values from
     * Python: hmac.new(he, msg, sha256), int.from_bytes(...) % q (or % l of the
     * 64 bytes H(msg || 01) || H(msg || 02)) */
    static const char *const want[2][2] = {
        {"7fd7609c33e0263815513038e5acfc7fd77a59c3f4467ea436afcad96dbfd822",
         "3f16919dfb62de95664e2c20dd623d8805455139442182ea56e6911f41aeac98"},
        {"03e4a1bbfd531a496f26740793f8fd06d595fea903834e9decb7f8eb65dd40aa",
         "083a1911a691d14a2422264d26fd3be1079e720baa973479fddff07d21398420"},
    };
    unsigned char he[32], msg[53], h[64], expect[32];
    dt_ballot_nonce xib;
    for (int i = 0; i < 32; i++) {
        he[i] = (unsigned char)i;
        xib.bytes[i] = (unsigned char)(0x20 + i);
    }
    assert_int_equal(dt_ballot_nonce_bytes(), DT_BALLOT_NONCE_BYTES);
    for (int gi = 0; gi < 2; gi++) {
        dt_group *g = dt_group_create(gi == 0 ? DT_GROUP_INTEGER4096 : DT_GROUP_RISTRETTO255);
        dt_scalar xi, byhand;
        assert_non_null(g);
        /* the 41-byte selection message of D3.2 */
        msg[0] = 0x20;
        memcpy(msg + 1, xib.bytes, 32);
        be32(msg + 33, 4);
        be32(msg + 37, 2);
        dt_ballot_selection_nonce(g, &xi, he, &xib, 4, 2);
        hex2bin(expect, 32, want[gi][0]);
        assert_memory_equal(xi.be, expect, 32);
        if (gi == 0) {
            dt_hmac_sha256(h, he, 32, msg, 41);
            dt_scalar_reduce(g, &byhand, h, 32);
        } else {
            unsigned char m2[42], le[64], red[32];
            memcpy(m2, msg, 41);
            m2[41] = 1;
            dt_hmac_sha256(h, he, 32, m2, 42);
            m2[41] = 2;
            dt_hmac_sha256(h + 32, he, 32, m2, 42);
            dt_scalar_reduce(g, &byhand, h, 64);
            /* and libsodium's reduction of the same 512 bits */
            for (int i = 0; i < 64; i++)
                le[i] = h[63 - i];
            crypto_core_ristretto255_scalar_reduce(red, le);
            for (int i = 0; i < 32; i++)
                assert_int_equal(red[i], xi.be[31 - i]);
        }
        assert_memory_equal(byhand.be, xi.be, 32);
        /* the 53-byte contest-data message: "contest_data" length-prefixed */
        be32(msg + 37, 12);
        memcpy(msg + 41, "contest_data", 12);
        dt_ballot_contest_data_nonce(g, &xi, he, &xib, 4);
        hex2bin(expect, 32, want[gi][1]);
        assert_memory_equal(xi.be, expect, 32);
        dt_ballot_derive_nonce(g, &byhand, he, msg, 53);
        assert_memory_equal(byhand.be, xi.be, 32);
        /* different indices, different nonces */
        dt_ballot_selection_nonce(g, &byhand, he, &xib, 2, 4);
        dt_ballot_selection_nonce(g, &xi, he, &xib, 4, 2);
        assert_false(dt_scalar_eq(&byhand, &xi));
        dt_group_destroy(g);
    }
    dt_ballot_nonce_wipe(&xib);
    for (int i = 0; i < 32; i++)
        assert_int_equal(xib.bytes[i], 0);
}

/* The ristretto255 rule: for random messages the nonce is the 64-byte reduction. */
static void test_nonce_r255_wide(void **state)
{
    (void)state;
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    unsigned char he[32], msg[64], m2[65], h[64];
    dt_scalar xi, want;
    for (int t = 0; t < 50; t++) {
        size_t len = (size_t)testrand_u64(sizeof msg + 1);
        testrand_bytes(he, sizeof he);
        testrand_bytes(msg, sizeof msg);
        dt_ballot_derive_nonce(g, &xi, he, msg, len);
        memcpy(m2, msg, len);
        m2[len] = 1;
        dt_hmac_sha256(h, he, 32, m2, len + 1);
        m2[len] = 2;
        dt_hmac_sha256(h + 32, he, 32, m2, len + 1);
        dt_scalar_reduce(g, &want, h, 64);
        assert_memory_equal(xi.be, want.be, 32);
        /* not the biased 256-bit reduction */
        dt_hmac_sha256(h, he, 32, msg, len);
        dt_scalar_reduce(g, &want, h, 32);
        assert_false(dt_scalar_eq(&xi, &want));
    }
    dt_group_destroy(g);
}

static json_t *load_plain(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", path, jerr.text);
    return j;
}

/* Encrypts the sample's plaintext ballots whose names are given (NULL: all),
 * writes them, verifies, decrypts with s and with the nonces. */
static void encrypt_sample_ballots(election *e, const char *const *names)
{
    static const char *const all[] = {
        "id-1",  "id-2",  "id-3",  "id-4",  "id-5",  "id-6",  "id-7",  "id-8",  "id-9",  "id-10", "id-11",
        "id-12", "id-13", "id-14", "id-15", "id-16", "id-17", "id-18", "id-19", "id-20", "id-21", "id-22",
        "id-23", "id-24", "id-25", "id-26", "id-27", "id-28", "id-29", "id-30", "id-31", "id-32", "id-33",
        "id-34", "id-35", "id-36", "id-37", "id-38", "id-39", "id-40", "id-41", "id-42", NULL,
    };
    dt_ballot_device *dev = NULL;
    dt_ballot *ballots[NBALLOTS_MAX];
    dt_ballot_nonce nonces[NBALLOTS_MAX];
    json_t *plain[NBALLOTS_MAX] = {0};
    char path[512], *msg = NULL;
    size_t n = 0;
    dt_record *rec;

    if (!names)
        names = all;
    if (dt_ballot_device_create(&dev, &msg, e->ctx, "dev", NULL, 0) != DT_OK)
        fail_msg("device: %s", msg ? msg : "?");
    assert_false(dt_ballot_device_chains(dev));
    for (; names[n]; n++) {
        char *text;
        unsigned char code[32];
        assert_true(n < NBALLOTS_MAX);
        snprintf(path, sizeof path, "%s/private_data/input/pballot-%s.json", SAMPLE, names[n]);
        text = slurp(path, NULL);
        plain[n] = load_plain(path);
        ballots[n] = encrypt_text(e, dev, text, &nonces[n]);
        free(text);
        assert_string_equal(dt_ballot_id(ballots[n]), names[n]);
        assert_int_equal(dt_ballot_get_state(ballots[n]), DT_BALLOT_STATE_PENDING);
        dt_ballot_confirmation_code(ballots[n], code);
        dt_ballot_set_state(ballots[n], n % 4 == 3 ? DT_BALLOT_STATE_CHALLENGED : DT_BALLOT_STATE_CAST);
        write_ballot(e, "dev", ballots[n]);
    }
    rec = verify_1_7(e, n);
    check_with_secret(e, rec, plain, n);
    /* the record's fields are what the ballot object holds */
    for (size_t i = 0; i < n; i++) {
        unsigned char code[32];
        const dt_rec_ballot *rb = NULL;
        for (size_t k = 0; k < rec->nballots && !rb; k++)
            if (strcmp(rec->ballots[k].id, names[i]) == 0)
                rb = &rec->ballots[k];
        assert_non_null(rb);
        dt_ballot_confirmation_code(ballots[i], code);
        assert_memory_equal(code, rb->code, 32);
        assert_int_equal(rb->baux.n, strlen("device information"));
        assert_memory_equal(rb->baux.p, "device information", rb->baux.n);
        assert_int_equal(rb->state, i % 4 == 3 ? DT_BALLOT_CHALLENGED : DT_BALLOT_CAST);
        assert_string_equal(rb->device, "dev");
        assert_int_equal(rb->timestamp, 1716478724);
        for (size_t c = 0; c < rb->ncontests; c++)
            assert_int_equal(rb->contests[c].data.num_bytes, 62); /* as the sample: 32 (L+1) - 2, L = 1 */
    }
    dt_record_destroy(rec);
    /* opening with the nonce: the ballot object, and the ballot read back from its text */
    for (size_t i = 0; i < n; i++) {
        char *text = NULL, *text2 = NULL;
        dt_ballot *back = NULL;
        check_with_nonce(e, ballots[i], &nonces[i], plain[i]);
        assert_int_equal(dt_ballot_serialize(ballots[i], &text, NULL), DT_OK);
        if (dt_ballot_parse(e->ctx, &back, &msg, text, strlen(text)) != DT_OK)
            fail_msg("parse: %s", msg ? msg : "?");
        check_with_nonce(e, back, &nonces[i], plain[i]);
        assert_int_equal(dt_ballot_serialize(back, &text2, NULL), DT_OK);
        assert_string_equal(text, text2);
        free(text);
        free(text2);
        dt_ballot_destroy(back);
        dt_ballot_destroy(ballots[i]);
        dt_ballot_nonce_wipe(&nonces[i]);
        json_decref(plain[i]);
    }
    dt_ballot_device_destroy(dev);
}

static void test_r255_sample_ballots(void **state)
{
    (void)state;
    election e;
    election_make(&e, DT_GROUP_RISTRETTO255, NULL, 0, "device information");
    election_open(&e);
    encrypt_sample_ballots(&e, NULL);
    election_free(&e);
}

static void test_integer_group(void **state)
{
    (void)state;
    static const char *const names[] = {"id-1", "id-10", NULL};
    election e;
    election_make(&e, DT_GROUP_INTEGER4096, NULL, 0, "device information");
    election_open(&e);
    encrypt_sample_ballots(&e, names);
    election_free(&e);
}

/* Under the sample election itself (its K and H_E, made by egk-ec). */
static void test_sample_election(void **state)
{
    (void)state;
    election e;
    dt_ballot_device *dev = NULL;
    dt_ballot *b;
    dt_record *rec;
    char *text;
    memset(&e, 0, sizeof e);
    snprintf(e.dir, sizeof e.dir, "/tmp/dt-ballot-XXXXXX");
    assert_non_null(mkdtemp(e.dir));
    run("cd '%s' && cp constants.json manifest.json election_config.json election_initialized.json '%s'/", SAMPLE,
        e.dir);
    election_open(&e);
    assert_int_equal(dt_ballot_device_create(&dev, NULL, e.ctx, "runWorkflowDevice", NULL, 0), DT_OK);
    text = slurp(SAMPLE "/private_data/input/pballot-id-7.json", NULL);
    b = encrypt_text(&e, dev, text, NULL);
    free(text);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    write_ballot(&e, "runWorkflowDevice", b);
    rec = verify_1_7(&e, 1);
    /* the same layout as the sample's ballot, key for key (encrypted_sn aside) */
    {
        json_error_t jerr;
        json_t *ours = json_load_file(SAMPLE "/encrypted_ballots/runWorkflowDevice/eballot-id-7.json", 0, &jerr);
        char path[512];
        json_t *mine;
        snprintf(path, sizeof path, "%s/encrypted_ballots/runWorkflowDevice/eballot-id-7.json", e.dir);
        mine = json_load_file(path, 0, &jerr);
        assert_non_null(ours);
        assert_non_null(mine);
        json_object_del(ours, "encrypted_sn");
        {
            const char *k1, *k2;
            void *i1 = json_object_iter(ours), *i2 = json_object_iter(mine);
            for (; i1 && i2; i1 = json_object_iter_next(ours, i1), i2 = json_object_iter_next(mine, i2)) {
                k1 = json_object_iter_key(i1);
                k2 = json_object_iter_key(i2);
                assert_string_equal(k1, k2);
            }
            assert_null(i1);
            assert_null(i2);
        }
        {
            json_t *c1 = json_array_get(json_object_get(ours, "contests"), 0);
            json_t *c2 = json_array_get(json_object_get(mine, "contests"), 0);
            json_t *s1 = json_array_get(json_object_get(c1, "selections"), 0);
            json_t *s2 = json_array_get(json_object_get(c2, "selections"), 0);
            json_t *d1 = json_object_get(c1, "encrypted_contest_data"), *d2 = json_object_get(c2, "encrypted_contest_data");
            assert_int_equal(json_object_size(c1), json_object_size(c2));
            assert_int_equal(json_object_size(s1), json_object_size(s2));
            assert_int_equal(json_integer_value(json_object_get(d1, "numBytes")),
                             json_integer_value(json_object_get(d2, "numBytes")));
            assert_int_equal(strlen(json_string_value(json_object_get(d1, "c1"))),
                             strlen(json_string_value(json_object_get(d2, "c1"))));
            assert_string_equal(json_string_value(json_object_get(ours, "code_baux")),
                                json_string_value(json_object_get(mine, "code_baux")));
            assert_string_equal(json_string_value(json_object_get(ours, "election_id")),
                                json_string_value(json_object_get(mine, "election_id")));
        }
        json_decref(ours);
        json_decref(mine);
    }
    dt_record_destroy(rec);
    dt_ballot_destroy(b);
    dt_ballot_device_destroy(dev);
    dt_ballot_ctx_destroy(e.ctx);
    dt_record_destroy(e.rec);
    run("rm -rf '%s'", e.dir);
}

/* ---- refusals ---- */

typedef struct bad_case {
    const char *json;
    dt_err err;
    const char *msg; /* a part of the message */
} bad_case;

static void test_bad_plaintext(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"{", DT_ERR_PARSE, "plaintext ballot: invalid JSON"},
        {"[]", DT_ERR_PARSE, "not a JSON object"},
        {"{\"ballot_style\":\"BallotStyle1\",\"contests\":[]}", DT_ERR_PARSE, "plaintext ballot: ballot_id: missing"},
        {"{\"ballot_id\":7,\"ballot_style\":\"BallotStyle1\",\"contests\":[]}", DT_ERR_PARSE,
         "ballot_id: expected a string"},
        {"{\"ballot_id\":\"\",\"ballot_style\":\"BallotStyle1\",\"contests\":[]}", DT_ERR_PARSE, "ballot_id: empty"},
        {"{\"ballot_id\":\"b1\",\"contests\":[]}", DT_ERR_PARSE, "ballot b1: ballot_style: missing"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle9\",\"contests\":[]}", DT_ERR_INVALID,
         "ballot b1: ballot style BallotStyle9 is not in the manifest"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\"}", DT_ERR_PARSE, "ballot b1: contests: missing"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":{}}", DT_ERR_PARSE,
         "ballot b1: contests: expected an array"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[3]}", DT_ERR_PARSE,
         "ballot b1: contests[0]: expected an object"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest99\"}]}",
         DT_ERR_INVALID, "ballot b1: contest contest99 is not in the manifest"},
        /* BallotStyle1 = gpu1, gpu2, gpu3; contest1 is in gpu5 */
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest1\"}]}",
         DT_ERR_INVALID, "ballot b1: contest contest1 is not on ballot style BallotStyle1 (its district gpu5"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\"},"
         "{\"contest_id\":\"contest4\"}]}",
         DT_ERR_INVALID, "ballot b1: contest contest4 appears twice"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"sequence_order\":5}]}",
         DT_ERR_INVALID, "ballot b1, contest contest4: sequence_order 5 differs from the manifest's 4"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection1\",\"vote\":1}]}]}",
         DT_ERR_INVALID, "ballot b1, contest contest4: selection selection1 is not an option of the contest"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"vote\":0},{\"selection_id\":\"selection7\",\"vote\":1}]}]}",
         DT_ERR_INVALID, "ballot b1, contest contest4: selection selection7 appears twice"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"sequence_order\":2,\"vote\":1}]}]}",
         DT_ERR_INVALID, "ballot b1, contest contest4, selection selection7: sequence_order 2 differs from the manifest's 1"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"vote\":2}]}]}",
         DT_ERR_RANGE, "ballot b1, contest contest4, selection selection7: vote 2 exceeds the option limit R = 1"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"vote\":-1}]}]}",
         DT_ERR_RANGE, "ballot b1, contest contest4, selection selection7: vote -1 is negative"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"vote\":0.5}]}]}",
         DT_ERR_PARSE, "ballot b1, contest contest4, selection selection7: vote 0.5 is not an integer"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\",\"vote\":\"1\"}]}]}",
         DT_ERR_PARSE, "ballot b1, contest contest4, selection selection7: vote: expected an integer, found a string"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"selection_id\":\"selection7\"}]}]}",
         DT_ERR_PARSE, "ballot b1, contest contest4, selection selection7: vote: missing"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"selections\":[{\"vote\":1}]}]}",
         DT_ERR_PARSE, "ballot b1, contest contest4: selections[0]: selection_id: missing"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[{\"contest_id\":\"contest4\","
         "\"write_ins\":[\"ok\",5]}]}",
         DT_ERR_PARSE, "ballot b1, contest contest4: write_ins[1]: expected a string"},
        {"{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[],\"contests\":[]}", DT_ERR_PARSE,
         "duplicate object key"},
    };
    election e;
    election_make(&e, DT_GROUP_RISTRETTO255, NULL, 0, "device information");
    election_open(&e);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_plaintext_ballot *pb = (dt_plaintext_ballot *)&e; /* must be reset to NULL */
        char *msg = NULL;
        dt_err err = dt_plaintext_ballot_parse(e.ctx, &pb, &msg, cases[i].json, strlen(cases[i].json));
        if (err != cases[i].err || !msg || !strstr(msg, cases[i].msg))
            fail_msg("case %zu: got %d \"%s\", expected %d \"%s\"", i, err, msg ? msg : "(none)", cases[i].err,
                     cases[i].msg);
        assert_null(pb);
        free(msg);
    }
    /* a long string */
    {
        char *big = malloc(4000), *msg = NULL;
        dt_plaintext_ballot *pb = NULL;
        int n = snprintf(big, 4000, "{\"ballot_id\":\"");
        memset(big + n, 'x', 1100);
        snprintf(big + n + 1100, 4000 - (size_t)n - 1100, "\",\"ballot_style\":\"BallotStyle1\",\"contests\":[]}");
        assert_int_equal(dt_plaintext_ballot_parse(e.ctx, &pb, &msg, big, strlen(big)), DT_ERR_LIMIT);
        assert_non_null(strstr(msg, "ballot_id: longer than 1024 bytes"));
        free(msg);
        free(big);
    }
    /* a valid minimal ballot: absent contests are all zero, and it round-trips */
    {
        const char *ok = "{\"ballot_id\":\"b1\",\"ballot_style\":\"BallotStyle1\",\"contests\":[]}";
        dt_plaintext_ballot *pb = NULL, *pb2 = NULL;
        char *t1 = NULL, *t2 = NULL;
        json_error_t jerr;
        json_t *j;
        assert_int_equal(dt_plaintext_ballot_parse(e.ctx, &pb, NULL, ok, strlen(ok)), DT_OK);
        assert_int_equal(dt_plaintext_ballot_serialize(pb, &t1, NULL), DT_OK);
        j = json_loads(t1, 0, &jerr);
        assert_non_null(j);
        assert_int_equal(json_array_size(json_object_get(j, "contests")), 10); /* BallotStyle1 */
        json_decref(j);
        assert_int_equal(dt_plaintext_ballot_parse(e.ctx, &pb2, NULL, t1, strlen(t1)), DT_OK);
        assert_int_equal(dt_plaintext_ballot_serialize(pb2, &t2, NULL), DT_OK);
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
        dt_plaintext_ballot_destroy(pb);
        dt_plaintext_ballot_destroy(pb2);
    }
    /* bad encrypted ballots */
    {
        static const bad_case ecases[] = {
            {"{\"ballot_id\":\"b1\"}", DT_ERR_PARSE, "ballot b1: ballot_style_id: missing"},
            {"{\"ballot_id\":\"b1\",\"ballot_style_id\":\"s\",\"encrypting_device\":\"d\",\"timestamp\":1,"
             "\"code_baux\":\"ABC\"}",
             DT_ERR_ENCODING, "ballot b1: code_baux: not hexadecimal"},
            {"{\"ballot_id\":\"b1\",\"ballot_style_id\":\"s\",\"encrypting_device\":\"d\",\"timestamp\":1,"
             "\"code_baux\":\"AB\",\"confirmation_code\":\"AAAA\"}",
             DT_ERR_ENCODING, "ballot b1: confirmation_code: not base64 of 32 bytes"},
        };
        for (size_t i = 0; i < sizeof ecases / sizeof *ecases; i++) {
            dt_ballot *b = NULL;
            char *msg = NULL;
            dt_err err = dt_ballot_parse(e.ctx, &b, &msg, ecases[i].json, strlen(ecases[i].json));
            if (err != ecases[i].err || !msg || !strstr(msg, ecases[i].msg))
                fail_msg("encrypted case %zu: got %d \"%s\"", i, err, msg ? msg : "(none)");
            assert_null(b);
            free(msg);
        }
    }
    election_free(&e);
}

/* An overvote is encrypted as all zeros, with the marked options in the
 * contest data; the ballot verifies. */
static void test_overvote(void **state)
{
    (void)state;
    const char *text = "{\"ballot_id\":\"over\",\"ballot_style\":\"BallotStyle3\",\"contests\":["
                       "{\"contest_id\":\"contest1\",\"selections\":[{\"selection_id\":\"selection1\",\"vote\":1},"
                       "{\"selection_id\":\"selection3\",\"vote\":1}]},"
                       "{\"contest_id\":\"contest5\",\"selections\":[{\"selection_id\":\"selection10\",\"vote\":1}]}]}";
    election e;
    dt_ballot_device *dev = NULL;
    dt_ballot_nonce xi;
    dt_plaintext_ballot *pb = NULL;
    dt_record *rec;
    json_t *plain[1];
    json_error_t jerr;
    char *out = NULL;
    dt_ballot *b;

    election_make(&e, DT_GROUP_RISTRETTO255, NULL, 0, "device information");
    election_open(&e);
    assert_int_equal(dt_ballot_device_create(&dev, NULL, e.ctx, "dev", NULL, 0), DT_OK);
    b = encrypt_text(&e, dev, text, &xi);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    write_ballot(&e, "dev", b);
    plain[0] = json_loads(text, 0, &jerr);
    rec = verify_1_7(&e, 1);
    check_with_secret(&e, rec, plain, 1); /* zeros, over_vote, over list [1, 3] */
    dt_record_destroy(rec);
    check_with_nonce(&e, b, &xi, plain[0]);
    assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &pb, NULL, b, &xi), DT_OK);
    assert_int_equal(dt_plaintext_ballot_serialize(pb, &out, NULL), DT_OK);
    assert_non_null(strstr(out, "\"status\": \"over_vote\""));
    assert_non_null(strstr(out, "\"over_votes\": [\n                1,\n                3\n            ]"));
    free(out);
    dt_plaintext_ballot_destroy(pb);
    dt_ballot_nonce_wipe(&xi);
    json_decref(plain[0]);
    dt_ballot_destroy(b);
    dt_ballot_device_destroy(dev);
    election_free(&e);
}

/* A manifest with L > 1 and R > 1: undervotes, cardinal votes, write-ins
 * (their truncation too), and the refusals of a manifest that would repeat
 * nonces. */
static const char *const manifest_fmt =
    "{\"spec_version\":\"v2.0.0\",\"geopolitical_units\":[{\"object_id\":\"d1\"},{\"object_id\":\"d2\"}],"
    "\"contests\":["
    "{\"object_id\":\"council\",\"sequence_order\":1,\"electoral_district_id\":\"d1\",\"votes_allowed\":2,"
    "\"option_selection_limit\":1,\"ballot_selections\":[{\"object_id\":\"ann\",\"sequence_order\":1},"
    "{\"object_id\":\"bob\",\"sequence_order\":2},{\"object_id\":\"cy\",\"sequence_order\":3},"
    "{\"object_id\":\"write-in\",\"sequence_order\":4}]},"
    "{\"object_id\":\"budget\",\"sequence_order\":%d,\"electoral_district_id\":\"d1\",\"votes_allowed\":4,"
    "\"option_selection_limit\":3,\"ballot_selections\":[{\"object_id\":\"parks\",\"sequence_order\":1},"
    "{\"object_id\":\"roads\",\"sequence_order\":%d}]},"
    "{\"object_id\":\"mayor\",\"sequence_order\":3,\"electoral_district_id\":\"d2\",\"votes_allowed\":1,"
    "\"option_selection_limit\":1,\"ballot_selections\":[{\"object_id\":\"x\",\"sequence_order\":1}]}],"
    "\"ballot_styles\":[{\"object_id\":\"s1\",\"geopolitical_unit_ids\":[\"d1\"]},"
    "{\"object_id\":\"s2\",\"geopolitical_unit_ids\":[\"d1\",\"d2\"]}]}";

static void test_custom_manifest(void **state)
{
    (void)state;
    static const char *const texts[] = {
        /* council under_vote with a write-in; budget cardinal, normal */
        "{\"ballot_id\":\"c1\",\"ballot_style\":\"s1\",\"contests\":[{\"contest_id\":\"council\",\"selections\":["
        "{\"selection_id\":\"write-in\",\"vote\":1}],\"write_ins\":[\"Zo\\u00eb Smith\"]},"
        "{\"contest_id\":\"budget\",\"selections\":[{\"selection_id\":\"parks\",\"vote\":3},"
        "{\"selection_id\":\"roads\",\"vote\":1}]}]}",
        /* council normal; budget under_vote; mayor on style s2 absent: null_vote */
        "{\"ballot_id\":\"c2\",\"ballot_style\":\"s2\",\"contests\":[{\"contest_id\":\"council\",\"selections\":["
        "{\"selection_id\":\"ann\",\"vote\":1},{\"selection_id\":\"cy\",\"vote\":1}]},"
        "{\"contest_id\":\"budget\",\"selections\":[{\"selection_id\":\"roads\",\"vote\":2}]}]}",
        /* budget overvoted by cardinal votes (3 + 3 > 4); council: long and many write-ins, truncated */
        "{\"ballot_id\":\"c3\",\"ballot_style\":\"s2\",\"contests\":[{\"contest_id\":\"budget\",\"selections\":["
        "{\"selection_id\":\"parks\",\"vote\":3},{\"selection_id\":\"roads\",\"vote\":3}]},"
        "{\"contest_id\":\"council\",\"selections\":[{\"selection_id\":\"write-in\",\"vote\":1}],\"write_ins\":["
        "\"An extremely long write-in candidate name that cannot fit in the contest data\",\"second\",\"third\",\"fourth\"]},"
        "{\"contest_id\":\"mayor\",\"selections\":[{\"selection_id\":\"x\",\"vote\":1}]}]}",
    };
    election e;
    dt_ballot_device *dev = NULL;
    json_t *plain[3];
    dt_ballot *b[3];
    dt_ballot_nonce xi[3];
    json_error_t jerr;
    dt_record *rec;
    char manifest[4096], *msg = NULL;

    snprintf(manifest, sizeof manifest, manifest_fmt, 2, 2);
    election_make(&e, DT_GROUP_RISTRETTO255, manifest, 0, "kiosk-3");
    election_open(&e);
    assert_int_equal(dt_ballot_device_create(&dev, NULL, e.ctx, "kiosk", NULL, 0), DT_OK);
    for (int i = 0; i < 3; i++) {
        plain[i] = json_loads(texts[i], 0, &jerr);
        assert_non_null(plain[i]);
        b[i] = encrypt_text(&e, dev, texts[i], &xi[i]);
        dt_ballot_set_state(b[i], i == 1 ? DT_BALLOT_STATE_CHALLENGED : DT_BALLOT_STATE_CAST);
        write_ballot(&e, "kiosk", b[i]);
    }
    rec = verify_1_7(&e, 3);
    check_with_secret(&e, rec, plain, 3);
    /* contest data of c1 and c3, read with s */
    for (size_t k = 0; k < rec->nballots; k++) {
        const dt_rec_ballot *rb = &rec->ballots[k];
        for (size_t c = 0; c < rb->ncontests; c++) {
            cdata cd;
            open_cd_secret(&e, &rb->contests[c].data, rb->contests[c].id, &cd);
            assert_int_equal(rb->contests[c].data.num_bytes, 32 * (strcmp(rb->contests[c].id, "council") == 0 ? 3
                                                                   : strcmp(rb->contests[c].id, "budget") == 0 ? 5
                                                                                                               : 2) - 2);
            if (strcmp(rb->id, "c1") == 0 && strcmp(rb->contests[c].id, "council") == 0) {
                assert_int_equal(cd.nwrite, 1);
                assert_string_equal(cd.write[0], "Zo\xc3\xab Smith");
                assert_string_equal(cd.status, "under_vote");
            }
            if (strcmp(rb->id, "c3") == 0 && strcmp(rb->contests[c].id, "council") == 0) {
                /* 4 write-ins > L = 2: the first 2 and "*"; then the long one cut to 30 bytes + "*" */
                assert_int_equal(cd.nwrite, 3);
                assert_string_equal(cd.write[0], "An extremely long write-in can*");
                assert_string_equal(cd.write[1], "second");
                assert_string_equal(cd.write[2], "*");
            }
            if (strcmp(rb->id, "c3") == 0 && strcmp(rb->contests[c].id, "budget") == 0) {
                assert_string_equal(cd.status, "over_vote");
                assert_int_equal(cd.nover, 2);
            }
        }
    }
    dt_record_destroy(rec);
    for (int i = 0; i < 3; i++) {
        check_with_nonce(&e, b[i], &xi[i], plain[i]);
        json_decref(plain[i]);
        dt_ballot_destroy(b[i]);
    }
    /* a wrong nonce, and a changed ballot, do not open */
    {
        dt_plaintext_ballot *pb = NULL;
        dt_ballot *t = NULL;
        char *text = NULL;
        xi[1].bytes[0] ^= 1;
        b[0] = encrypt_text(&e, dev, texts[0], &xi[0]);
        assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &pb, &msg, b[0], &xi[1]), DT_ERR_PROOF);
        assert_non_null(strstr(msg, "ballot c1, contest council, selection ann: pad is not g^xi"));
        free(msg);
        msg = NULL;
        assert_null(pb);
        dt_ballot_set_state(b[0], DT_BALLOT_STATE_CHALLENGED);
        assert_int_equal(dt_ballot_serialize(b[0], &text, NULL), DT_OK);
        assert_int_equal(dt_ballot_parse(e.ctx, &t, NULL, text, strlen(text)), DT_OK);
        t->code[5] ^= 1;
        assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &pb, &msg, t, &xi[0]), DT_ERR_PROOF);
        assert_non_null(strstr(msg, "ballot c1: confirmation_code does not equal"));
        free(msg);
        msg = NULL;
        t->code[5] ^= 1;
        t->contests[1].c1[3] ^= 1;
        assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &pb, &msg, t, &xi[0]), DT_ERR_PROOF);
        assert_non_null(strstr(msg, "ballot c1, contest budget: contest data: the MAC C2 does not check"));
        free(msg);
        msg = NULL;
        t->contests[1].c1[3] ^= 1;
        t->contests[1].hash[0] ^= 1;
        assert_int_equal(dt_ballot_decrypt_with_nonce(e.ctx, &pb, &msg, t, &xi[0]), DT_ERR_PROOF);
        assert_non_null(strstr(msg, "ballot c1, contest budget: contest_hash does not match"));
        free(msg);
        msg = NULL;
        free(text);
        dt_ballot_destroy(t);
        dt_ballot_destroy(b[0]);
        for (int i = 0; i < 3; i++)
            dt_ballot_nonce_wipe(&xi[i]);
    }
    dt_ballot_device_destroy(dev);
    election_free(&e);

    /* repeated sequence orders would repeat nonces: refused */
    for (int v = 0; v < 2; v++) {
        dt_record *r = NULL;
        dt_ballot_ctx *ctx = (dt_ballot_ctx *)&e;
        snprintf(manifest, sizeof manifest, manifest_fmt, v ? 2 : 1, v ? 1 : 2);
        election_make(&e, DT_GROUP_RISTRETTO255, manifest, 0, "kiosk-3");
        assert_int_equal(dt_record_load(&r, NULL, e.dir), DT_OK);
        assert_int_equal(dt_ballot_ctx_create(&ctx, &msg, r), DT_ERR_INVALID);
        assert_null(ctx);
        assert_non_null(strstr(msg, v ? "manifest.json: contest budget: options parks and roads share sequence_order 1"
                                      : "manifest.json: contests council and budget share sequence_order 1"));
        free(msg);
        msg = NULL;
        dt_record_destroy(r);
        election_free(&e);
    }
}

/* Chained confirmation codes (spec 3.4.4): B_aux,j = H_(j-1) || B_aux,0. */
static void test_chaining(void **state)
{
    (void)state;
    election e;
    dt_ballot_device *dev = NULL, *dev2 = NULL, *twin = NULL;
    unsigned char head[32], h0[32], code[32];
    char path[512], *msg = NULL, *text;
    dt_ballot *b;
    dt_record *rec;
    dt_hash_ctx h;

    election_make(&e, DT_GROUP_RISTRETTO255, NULL, 1, "device-7 at the town hall");
    election_open(&e);
    assert_int_equal(dt_ballot_device_create(&dev, &msg, e.ctx, "dev7", (const unsigned char *)"other", 5),
                     DT_ERR_INVALID);
    assert_non_null(strstr(msg, "must be the baux0 of election_config.json"));
    free(msg);
    msg = NULL;
    assert_null(dev);
    assert_int_equal(dt_ballot_device_create(&dev, NULL, e.ctx, "dev7", NULL, 0), DT_OK);
    assert_int_equal(dt_ballot_device_create(&dev2, NULL, e.ctx, "dev8", NULL, 0), DT_OK);
    assert_true(dt_ballot_device_chains(dev));
    dt_hash_init(&h, e.he);
    dt_hash_u8(&h, 0x24);
    dt_hash_bytes(&h, "device-7 at the town hall", 25);
    dt_hash_final(&h, h0);
    dt_ballot_device_chain_head(dev, head);
    assert_memory_equal(head, h0, 32);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/private_data/input/pballot-id-%d.json", SAMPLE, i + 1);
        text = slurp(path, NULL);
        b = encrypt_text(&e, i == 1 ? dev2 : dev, text, NULL);
        if (i != 1) {
            dt_ballot_confirmation_code(b, code);
            dt_ballot_device_chain_head(dev, head);
            assert_memory_equal(code, head, 32);
        }
        free(text);
        dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
        write_ballot(&e, i == 1 ? "dev8" : "dev7", b);
        dt_ballot_destroy(b);
    }
    /* dev7's two ballots and dev8's one: each chain from H_0 */
    text = slurp(SAMPLE "/private_data/input/pballot-id-4.json", NULL);
    b = encrypt_text(&e, dev, text, NULL);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CHALLENGED);
    write_ballot(&e, "dev7", b);
    dt_ballot_destroy(b);
    rec = verify_1_7(&e, 4);
    for (size_t i = 0; i < rec->nballots; i++) {
        assert_int_equal(rec->ballots[i].baux.n, 32 + 25);
        assert_memory_equal(rec->ballots[i].baux.p + 32, "device-7 at the town hall", 25);
    }
    dt_record_destroy(rec);
    /* a device restarted from the last code continues the chain */
    assert_int_equal(dt_ballot_device_create(&twin, NULL, e.ctx, "dev7", NULL, 0), DT_OK);
    dt_ballot_device_chain_head(dev, head);
    dt_ballot_device_resume_chain(twin, head);
    b = encrypt_text(&e, twin, text, NULL);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    {
        char *bt = NULL, hexhead[65];
        json_error_t jerr;
        json_t *j;
        assert_int_equal(dt_ballot_serialize(b, &bt, NULL), DT_OK);
        j = json_loads(bt, 0, &jerr);
        assert_non_null(j);
        for (int i = 0; i < 32; i++)
            snprintf(hexhead + 2 * i, 3, "%02X", head[i]);
        assert_memory_equal(json_string_value(json_object_get(j, "code_baux")), hexhead, 64);
        json_decref(j);
        free(bt);
    }
    dt_ballot_destroy(b);
    free(text);
    /* a second device object with the same id starts a second chain at H_0: the verifier refuses */
    dt_ballot_device_destroy(twin);
    twin = NULL;
    assert_int_equal(dt_ballot_device_create(&twin, NULL, e.ctx, "dev7", NULL, 0), DT_OK);
    text = slurp(SAMPLE "/private_data/input/pballot-id-5.json", NULL);
    b = encrypt_text(&e, twin, text, NULL);
    free(text);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    write_ballot(&e, "dev7", b);
    dt_ballot_destroy(b);
    expect_step_fail(&e, 7, "of device dev7 chain from the same code");
    dt_ballot_device_destroy(twin);
    dt_ballot_device_destroy(dev);
    dt_ballot_device_destroy(dev2);
    election_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_known_answers),
        cmocka_unit_test(test_nonce_r255_wide),
        cmocka_unit_test(test_bad_plaintext),
        cmocka_unit_test(test_overvote),
        cmocka_unit_test(test_custom_manifest),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_r255_sample_ballots),
        cmocka_unit_test(test_sample_election),
        cmocka_unit_test(test_integer_group),
    };
    testrand_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
