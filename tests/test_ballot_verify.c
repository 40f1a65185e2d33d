/* dt_ballot_verify: honest ballots from dt_ballot_encrypt verify in both
 * groups (the sample election of egk-ec in the integer group, a demo
 * election in ristretto255), also after a round trip through JSON; and each
 * kind of tampering is refused with its error and a message naming the
 * contest or selection: a proof's challenge or response, a selection's
 * ciphertext, the limit proof, a contest hash, the contest data, the
 * confirmation code, the election id, an unknown style, a missing or an extra
 * contest, an option out of place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <detente/ballot.h>
#include <detente/proof.h>
#include <detente/record.h>

#include "testrand.h"
#include "util/codec.h"

typedef struct election {
    char dir[256];
    dt_record *rec;
    dt_ballot_ctx *ctx;
    dt_ballot_device *dev;
    char *ballot;    /* an honest ballot, CAST, as JSON */
    const char *c0;  /* its first contest's id */
    const char *s0;  /* that contest's first selection's id */
} election;

static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* Encrypts DIR/private_data/input/<name> on e's device: a CAST ballot. */
static dt_ballot *encrypt_file(election *e, const char *name)
{
    char path[512], *msg = NULL;
    unsigned char *text = NULL;
    size_t len = 0;
    dt_plaintext_ballot *pb = NULL;
    dt_ballot *b = NULL;
    snprintf(path, sizeof path, "%s/private_data/input/%s", e->dir, name);
    assert_int_equal(dt_read_file(&text, &len, path, 1u << 20), DT_OK);
    if (dt_plaintext_ballot_parse(e->ctx, &pb, &msg, (const char *)text, len) != DT_OK)
        fail_msg("%s: %s", path, msg ? msg : "?");
    assert_int_equal(dt_ballot_encrypt(e->dev, &b, NULL, pb, 1716478724), DT_OK);
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    dt_plaintext_ballot_destroy(pb);
    free(text);
    return b;
}

/* Verifies b as it is and after a JSON round trip; sets e->ballot to its JSON. */
static void expect_honest(election *e, dt_ballot *b)
{
    char *text = NULL, *msg = NULL;
    size_t len = 0;
    dt_ballot *b2 = NULL;
    if (dt_ballot_verify(e->ctx, b, &msg) != DT_OK)
        fail_msg("honest ballot refused: %s", msg ? msg : "?");
    assert_null(msg);
    assert_int_equal(dt_ballot_serialize(b, &text, &len), DT_OK);
    if (dt_ballot_parse(e->ctx, &b2, &msg, text, len) != DT_OK)
        fail_msg("parse: %s", msg ? msg : "?");
    if (dt_ballot_verify(e->ctx, b2, NULL) != DT_OK)
        fail_msg("honest ballot refused after a JSON round trip");
    dt_ballot_destroy(b2);
    free(e->ballot);
    e->ballot = text;
}

static void election_open(election *e, const char *dir, const char *const *names)
{
    char *msg = NULL;
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    if (dt_record_load(&e->rec, &msg, dir) != DT_OK)
        fail_msg("record %s: %s", dir, msg ? msg : "?");
    if (dt_ballot_ctx_create(&e->ctx, &msg, e->rec) != DT_OK)
        fail_msg("ctx: %s", msg ? msg : "?");
    assert_int_equal(dt_ballot_device_create(&e->dev, &msg, e->ctx, "device-1", NULL, 0), DT_OK);
    for (size_t i = 0; names[i]; i++) {
        dt_ballot *b = encrypt_file(e, names[i]);
        expect_honest(e, b);
        dt_ballot_destroy(b);
    }
}

static void election_close(election *e)
{
    free(e->ballot);
    dt_ballot_device_destroy(e->dev);
    dt_ballot_ctx_destroy(e->ctx);
    dt_record_destroy(e->rec);
    memset(e, 0, sizeof *e);
}

/* ---- tampering on the JSON of e->ballot ---- */

static json_t *jpath(json_t *root, const char *path)
{
    /* path: keys and [index] separated by '.', e.g. "contests.0.selections.1.proof" */
    char buf[256], *save = NULL;
    json_t *v = root;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *t = strtok_r(buf, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(t, NULL, 10)) : json_object_get(v, t);
    assert_non_null(v);
    return v;
}

/* Flips bit 0 of byte `byte` of the base64 string at obj[key]. */
static void flip_b64(json_t *obj, const char *key, size_t byte)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    char *s;
    assert_int_equal(dt_b64_decode_alloc(&raw, &n, json_string_value(json_object_get(obj, key)), 4096), DT_OK);
    assert_true(byte < n);
    raw[byte] ^= 1;
    s = dt_b64_encode(raw, n);
    assert_non_null(s);
    assert_int_equal(json_object_set_new(obj, key, json_string(s)), 0);
    free(s);
    free(raw);
}

typedef void (*tamper_fn)(json_t *root);

/* Applies fn to a copy of e->ballot, parses it (the tampered ballot must
 * still parse) and expects dt_ballot_verify to refuse it with err and a
 * message containing want. */
static void expect_refused(election *e, tamper_fn fn, dt_err err, const char *want)
{
    json_error_t je;
    json_t *root = json_loads(e->ballot, 0, &je);
    char *text, *msg = NULL;
    dt_ballot *b = NULL;
    assert_non_null(root);
    fn(root);
    text = json_dumps(root, JSON_COMPACT);
    assert_non_null(text);
    if (dt_ballot_parse(e->ctx, &b, &msg, text, strlen(text)) != DT_OK)
        fail_msg("tampered ballot does not parse (%s): %s", want, msg ? msg : "?");
    dt_err got = dt_ballot_verify(e->ctx, b, &msg);
    printf("  %-40s -> %s\n", want, msg ? msg : "(accepted)");
    assert_int_equal(got, err);
    assert_non_null(msg);
    if (!strstr(msg, want))
        fail_msg("message \"%s\" does not contain \"%s\"", msg, want);
    free(msg);
    dt_ballot_destroy(b);
    free(text);
    json_decref(root);
}

static void t_sel_challenge(json_t *r) { flip_b64(jpath(r, "contests.0.selections.0.proof.proofs.0"), "challenge", 31); }
static void t_sel_response(json_t *r) { flip_b64(jpath(r, "contests.0.selections.0.proof.proofs.1"), "response", 31); }
static void t_sel_value(json_t *r)
{
    /* the data of the second selection put into the first: in the group,
     * but no longer what the proof is about */
    json_t *v0 = jpath(r, "contests.0.selections.0.encrypted_vote");
    json_t *v1 = jpath(r, "contests.0.selections.1.encrypted_vote");
    json_object_set(v0, "data", json_object_get(v1, "data"));
}
static void t_limit_challenge(json_t *r) { flip_b64(jpath(r, "contests.0.proof.proofs.0"), "challenge", 31); }
static void t_contest_hash(json_t *r) { flip_b64(jpath(r, "contests.0"), "contest_hash", 0); }
static void t_code(json_t *r) { flip_b64(r, "confirmation_code", 5); }
static void t_election(json_t *r) { flip_b64(r, "election_id", 0); }
static void t_style(json_t *r) { json_object_set_new(r, "ballot_style_id", json_string("nowhere-ballot")); }
static void t_missing(json_t *r) { json_array_remove(jpath(r, "contests"), 1); }
static void t_extra(json_t *r)
{
    json_t *c = jpath(r, "contests");
    json_array_append_new(c, json_deep_copy(json_array_get(c, 0)));
}
static void t_swap_options(json_t *r)
{
    json_t *s = jpath(r, "contests.0.selections");
    json_t *a = json_incref(json_array_get(s, 0));
    json_array_remove(s, 0);
    json_array_append_new(s, a);
}
static void t_no_data(json_t *r) { json_object_del(jpath(r, "contests.0"), "encrypted_contest_data"); }
static void t_num_bytes(json_t *r)
{
    json_object_set_new(jpath(r, "contests.0.encrypted_contest_data"), "numBytes", json_integer(100000));
}

static void tamper_all(election *e)
{
    char sel[600], con[300];
    json_error_t je;
    json_t *root = json_loads(e->ballot, 0, &je);
    assert_non_null(root);
    snprintf(con, sizeof con, "contest %s", json_string_value(jpath(root, "contests.0.contest_id")));
    snprintf(sel, sizeof sel, "%s, selection %s: the range proof", con,
             json_string_value(jpath(root, "contests.0.selections.0.selection_id")));

    expect_refused(e, t_sel_challenge, DT_ERR_PROOF, sel);
    expect_refused(e, t_sel_response, DT_ERR_PROOF, sel);
    expect_refused(e, t_sel_value, DT_ERR_PROOF, sel);
    expect_refused(e, t_limit_challenge, DT_ERR_PROOF, "selection limit proof does not verify");
    expect_refused(e, t_contest_hash, DT_ERR_PROOF, "contest_hash does not match");
    expect_refused(e, t_code, DT_ERR_PROOF, "confirmation_code does not equal");
    expect_refused(e, t_election, DT_ERR_INVALID, "election_id is not this election's");
    expect_refused(e, t_style, DT_ERR_INVALID, "ballot style nowhere-ballot is not in the manifest");
    {
        char want[300];
        snprintf(want, sizeof want, "contest %s of ballot style %s is missing",
                 json_string_value(jpath(root, "contests.1.contest_id")),
                 json_string_value(jpath(root, "ballot_style_id")));
        expect_refused(e, t_missing, DT_ERR_INVALID, want);
    }
    expect_refused(e, t_extra, DT_ERR_INVALID, "is not on ballot style");
    expect_refused(e, t_swap_options, DT_ERR_INVALID, "not the manifest's option");
    expect_refused(e, t_no_data, DT_ERR_INVALID, "encrypted_contest_data is missing");
    expect_refused(e, t_num_bytes, DT_ERR_INVALID, "numBytes 100000");
    json_decref(root);
}

static void test_integer_sample(void **state)
{
    (void)state;
    static const char *const names[] = {"pballot-id-1.json", "pballot-id-10.json", NULL};
    election e;
    election_open(&e, DT_TEST_DATA "/allAvailable", names);
    tamper_all(&e);
    election_close(&e);
}

/* A selection's pad that is not a group element (ristretto255: a byte
 * string that decodes to no point). */
static void t_not_in_group(json_t *r)
{
    unsigned char bad[32];
    char *s;
    memset(bad, 0xff, sizeof bad);
    s = dt_b64_encode(bad, sizeof bad);
    json_object_set_new(jpath(r, "contests.0.selections.0.encrypted_vote"), "pad", json_string(s));
    free(s);
}

static void t_no_commitments(json_t *r)
{
    json_t *pairs = jpath(r, "contests.0.selections.0.proof.proofs");
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        json_object_del(json_array_get(pairs, i), "a");
        json_object_del(json_array_get(pairs, i), "b");
    }
}

static void t_commitment_swapped(json_t *r)
{
    json_t *pair = jpath(r, "contests.0.selections.0.proof.proofs.0");
    json_object_set(pair, "a", json_object_get(pair, "b"));
}

static void t_commitment_not_in_group(json_t *r)
{
    json_object_set_new(jpath(r, "contests.0.proof.proofs.0"), "a",
                        json_string("//////////////////////////////////////////8="));
}

/* contest data whose C0 is not a group element: found in the contest's
 * batch of decodings, then named by the contest data's own check */
static void t_c0_not_in_group(json_t *r)
{
    json_object_set_new(jpath(r, "contests.0.encrypted_contest_data"), "c0",
                        json_string("//////////////////////////////////////////8="));
}

static dt_ballot *parse_tampered(election *e, tamper_fn fn)
{
    json_error_t je;
    json_t *root = json_loads(e->ballot, 0, &je);
    char *text, *msg = NULL;
    dt_ballot *b = NULL;
    assert_non_null(root);
    if (fn)
        fn(root);
    text = json_dumps(root, JSON_COMPACT);
    assert_non_null(text);
    if (dt_ballot_parse(e->ctx, &b, &msg, text, strlen(text)) != DT_OK)
        fail_msg("ballot does not parse: %s", msg ? msg : "?");
    free(text);
    json_decref(root);
    return b;
}

/* Several ballots checked as one batch (as the server does): honest ones
 * hold together; one changed response passes every other check, fails the
 * batch, and is then named by dt_ballot_verify. */
static void batch_check(election *e)
{
    dt_batch *bt = dt_ballot_batch_create(e->ctx);
    dt_ballot *b[4];
    char *msg = NULL;
    assert_non_null(bt);
    for (int i = 0; i < 4; i++) {
        b[i] = parse_tampered(e, i == 2 ? t_sel_response : NULL);
        assert_int_equal(dt_ballot_verify_batched(e->ctx, b[i], &msg, bt), DT_OK);
        assert_null(msg);
    }
    assert_int_equal(dt_batch_check(bt), DT_ERR_PROOF);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dt_ballot_verify(e->ctx, b[i], &msg), i == 2 ? DT_ERR_PROOF : DT_OK);
        if (i == 2) {
            assert_non_null(strstr(msg, "commitments do not match"));
            free(msg);
            msg = NULL;
        }
    }
    for (int i = 0; i < 4; i++)
        if (i != 2)
            assert_int_equal(dt_ballot_verify_batched(e->ctx, b[i], &msg, bt), DT_OK);
    assert_int_equal(dt_batch_check(bt), DT_OK);
    for (int i = 0; i < 4; i++)
        dt_ballot_destroy(b[i]);
    dt_batch_destroy(bt);
}

static void test_r255_demo(void **state)
{
    (void)state;
    static const char *const names[] = {"pballot-ballot-1.json", "pballot-ballot-2.json", "pballot-ballot-3.json",
                                        NULL};
    char dir[] = "/tmp/dt-bverify-XXXXXX";
    election e;
    assert_non_null(mkdtemp(dir));
    run("'%s' demo --group ristretto255 --guardians 1 --quorum 1 --absent 0 --ballots 3 --until voting "
        "--quiet --out '%s/e' >/dev/null 2>&1",
        DT_CLI, dir);
    {
        char sub[300];
        snprintf(sub, sizeof sub, "%s/e", dir);
        election_open(&e, sub, names);
    }
    tamper_all(&e);
    expect_refused(&e, t_not_in_group, DT_ERR_NOT_IN_GROUP, "the pad of encrypted_vote is not in the group");
    expect_refused(&e, t_sel_response, DT_ERR_PROOF, "commitments do not match its responses");
    expect_refused(&e, t_no_commitments, DT_ERR_INVALID, "has no commitments a and b");
    expect_refused(&e, t_commitment_swapped, DT_ERR_PROOF, "challenges do not sum to its hash");
    expect_refused(&e, t_commitment_not_in_group, DT_ERR_NOT_IN_GROUP, "selection limit proof's commitment a_0");
    expect_refused(&e, t_c0_not_in_group, DT_ERR_NOT_IN_GROUP, "encrypted_contest_data: c0 is not in the group");
    batch_check(&e);
    election_close(&e);
    run("rm -rf '%s'", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_sample),
        cmocka_unit_test(test_r255_demo),
    };
    testrand_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
