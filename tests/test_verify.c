/* The verifier on the sample record, whole and tampered: for each piece of
 * evidence changed in a copy of the record, the steps that must fail (by
 * number) fail, and every other step passes or is not applicable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <detente/record.h>
#include <detente/verify.h>

#include "tamper.h"

#define SAMPLE DT_TEST_DATA "/allAvailable"
#define BALLOTS "encrypted_ballots/runWorkflowDevice"

static int setup(void **state)
{
    (void)state;
    return tamper_setup(SAMPLE);
}

static void test_sample_valid(void **state)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    (void)state;
    expect(NULL, 0);
    assert_int_equal(dt_record_load(&rec, NULL, workdir), DT_OK);
    assert_int_equal(dt_verify(&rep, rec, NULL), DT_OK);
    /* what the sample holds: 9 coefficient proofs, 700 selections, 335 contests, 41 options, 154 challenged selections */
    assert_int_equal(dt_verify_step_checked(rep, 2), 9);
    assert_int_equal(dt_verify_step_checked(rep, 5), 700);
    assert_int_equal(dt_verify_step_checked(rep, 6), 335);
    assert_int_equal(dt_verify_step_checked(rep, 8), 41);
    assert_int_equal(dt_verify_step_checked(rep, 9), 41);
    assert_int_equal(dt_verify_step_checked(rep, 12), 154);
    assert_int_equal(dt_verify_step_checked(rep, 14), 76);
    assert_int_equal(dt_verify_step_status(rep, 11), DT_STEP_NA);
    for (int s = 15; s <= 18; s++)
        assert_int_equal(dt_verify_step_status(rep, s), DT_STEP_NA);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
}

/* ---- step 1 ---- */
static void test_step1_generator(void **state)
{
    (void)state;
    json_t *j = jload("constants.json");
    json_t *c = json_object_get(j, "constants");
    const char *gs = json_string_value(json_object_get(c, "generator"));
    char *s = strdup(gs);
    s[strlen(s) - 1] = s[strlen(s) - 1] == '0' ? '1' : '0';
    json_object_set_new(c, "generator", json_string(s));
    free(s);
    jsave("constants.json", j);
    EXPECT(1);
}

static void test_step1_version(void **state)
{
    (void)state;
    json_t *j = jload("constants.json");
    json_object_set_new(j, "protocolVersion", json_string("v2.1.0"));
    jsave("constants.json", j);
    EXPECT(1);
}

static void test_step1_manifest_hash(void **state)
{
    (void)state;
    json_t *j = jload("election_config.json");
    flip_b64(j, "manifest_hash");
    jsave("election_config.json", j);
    EXPECT(1);
}

static void test_step1_base_hash(void **state)
{
    (void)state;
    json_t *j = jload("election_config.json");
    flip_b64(j, "election_base_hash");
    jsave("election_config.json", j);
    /* H_E = H(H_B; 0x12, K) is computed from the published H_B */
    EXPECT(1, 4);
}

/* ---- steps 2, 3, 4 ---- */
static void test_step2_response(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    flip_b64(path(j, "guardians/1/coefficient_proofs/2"), "response");
    jsave("election_initialized.json", j);
    EXPECT(2);
}

static void test_step2_commitment(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    /* a valid group element, but not the committed one */
    json_t *other = path(j, "guardians/2/coefficient_proofs/1/public_key");
    json_object_set(path(j, "guardians/0/coefficient_proofs/1"), "public_key", other);
    jsave("election_initialized.json", j);
    EXPECT(2);
}

static void test_step3_joint_key(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    json_object_set(j, "joint_public_key", path(j, "guardians/0/coefficient_proofs/0/public_key"));
    jsave("election_initialized.json", j);
    /* K enters H_E and every ballot proof: all that depends on it fails */
    EXPECT(3, 4, 5, 6, 7, 9, 10, 12, 13, 14);
}

static void test_step4_extended_base_hash(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    flip_b64(j, "extended_base_hash");
    jsave("election_initialized.json", j);
    /* H_E keys every ballot hash and proof, and ballots carry it as election_id */
    EXPECT(4, 5, 6, 7, 9, 12, 14);
}

/* ---- steps 5, 6, 7 ---- */
static void test_step5_challenge(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-3.json");
    flip_b64(path(j, "contests/1/selections/0/proof/proofs/0"), "challenge");
    jsave(BALLOTS "/eballot-id-3.json", j);
    EXPECT(5);
}

static void test_step5_response(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-5.json");
    flip_b64(path(j, "contests/0/selections/1/proof/proofs/1"), "response");
    jsave(BALLOTS "/eballot-id-5.json", j);
    EXPECT(5);
}

static void test_step5_not_in_group(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-1.json"); /* challenged */
    flip_b64(path(j, "contests/0/selections/0/encrypted_vote"), "data");
    jsave(BALLOTS "/eballot-id-1.json", j);
    /* the ciphertext is also the challenged ballot's: its decryption no longer matches */
    EXPECT(5, 6, 7, 12);
}

static void test_step6_contest_proof(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-4.json");
    flip_b64(path(j, "contests/2/proof/proofs/0"), "response");
    jsave(BALLOTS "/eballot-id-4.json", j);
    EXPECT(6);
}

static void test_step7_contest_hash(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-6.json");
    flip_b64(path(j, "contests/0"), "contest_hash");
    jsave(BALLOTS "/eballot-id-6.json", j);
    EXPECT(7);
}

static void test_step7_confirmation_code(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-7.json");
    flip_b64(j, "confirmation_code");
    jsave(BALLOTS "/eballot-id-7.json", j);
    EXPECT(7);
}

static void test_step7_duplicate_ballot(void **state)
{
    (void)state;
    run("cp '%s/" BALLOTS "/eballot-id-8.json' '%s/" BALLOTS "/eballot-id-8-copy.json'", workdir, workdir);
    /* the same code twice (7.C); the same id twice, counted twice (8) */
    EXPECT(7, 8);
}

/* ---- steps 8, 9, 10 ---- */
static void test_step8_removed_cast_ballot(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-8.json");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "CAST");
    json_decref(j);
    run("rm '%s/" BALLOTS "/eballot-id-8.json'", workdir);
    EXPECT(8);
}

static void test_step8_encrypted_tally(void **state)
{
    (void)state;
    json_t *j = jload("encrypted_tally.json");
    json_object_set(path(j, "contests/0/selections/0/encrypted_vote"), "pad",
                    path(j, "contests/0/selections/1/encrypted_vote/pad"));
    jsave("encrypted_tally.json", j);
    /* tally.json still decrypts the true aggregate, which now differs from encrypted_tally.json */
    EXPECT(8, 9);
}

static void test_step9_response(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    flip_b64(path(j, "contests/3/selections/1/proof"), "response");
    jsave("tally.json", j);
    EXPECT(9);
}

static void test_step10_count(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    json_t *s = path(j, "contests/0/selections/0");
    json_object_set_new(s, "tally", json_integer(json_integer_value(json_object_get(s, "tally")) + 1));
    jsave("tally.json", j);
    EXPECT(10);
}

static void test_step10_label(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    assert_int_equal(json_array_remove(path(j, "contests/2/selections"), 1), 0);
    jsave("tally.json", j);
    EXPECT(10);
}

static void test_step9_10_b_over_m(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    /* T of another selection with another count: neither the proof nor T = K^t holds */
    json_object_set(path(j, "contests/0/selections/0"), "b_over_m", path(j, "contests/0/selections/2/b_over_m"));
    jsave("tally.json", j);
    EXPECT(9, 10);
}

/* ---- steps 12, 13, 14 ---- */
static void test_step12_challenge(void **state)
{
    (void)state;
    json_t *j = jload("challenged_ballots/dballot-id-1.json");
    flip_b64(path(j, "contests/0/selections/0/proof"), "challenge");
    jsave("challenged_ballots/dballot-id-1.json", j);
    EXPECT(12);
}

static void test_step12_missing_decryption(void **state)
{
    (void)state;
    run("rm '%s/challenged_ballots/dballot-id-9.json'", workdir);
    EXPECT(12);
}

static void test_step13_value(void **state)
{
    (void)state;
    json_t *j = jload("challenged_ballots/dballot-id-10.json");
    json_t *s = path(j, "contests/0/selections/0");
    json_object_set_new(s, "tally", json_integer(1 - json_integer_value(json_object_get(s, "tally"))));
    jsave("challenged_ballots/dballot-id-10.json", j);
    EXPECT(13);
}

static void test_step14_contest_data_proof(void **state)
{
    (void)state;
    json_t *j = jload("challenged_ballots/dballot-id-11.json");
    flip_b64(path(j, "contests/0/decrypted_contest_data/proof"), "response");
    jsave("challenged_ballots/dballot-id-11.json", j);
    EXPECT(14);
}

static void test_step14_status(void **state)
{
    (void)state;
    json_t *j = jload("challenged_ballots/dballot-id-11.json");
    json_t *cd = path(j, "contests/0/decrypted_contest_data/contest_data");
    const char *st = json_string_value(json_object_get(cd, "status"));
    json_object_set_new(cd, "status", json_string(strcmp(st, "normal") ? "normal" : "over_vote"));
    jsave("challenged_ballots/dballot-id-11.json", j);
    EXPECT(14);
}

/* ---- 15-18: pre-encrypted ballots are refused, not silently passed ---- */
static void test_step15_preencrypted(void **state)
{
    (void)state;
    json_t *j = jload(BALLOTS "/eballot-id-12.json");
    json_object_set_new(j, "is_preencrypt", json_true());
    jsave(BALLOTS "/eballot-id-12.json", j);
    EXPECT(15, 16, 17, 18);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    /* DT_TEST_FILTER=test_step9* runs a subset while developing */
    if (getenv("DT_TEST_FILTER"))
        cmocka_set_test_filter(getenv("DT_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_sample_valid),
        T(test_step1_generator),
        T(test_step1_version),
        T(test_step1_manifest_hash),
        T(test_step1_base_hash),
        T(test_step2_response),
        T(test_step2_commitment),
        T(test_step3_joint_key),
        T(test_step4_extended_base_hash),
        T(test_step5_challenge),
        T(test_step5_response),
        T(test_step5_not_in_group),
        T(test_step6_contest_proof),
        T(test_step7_contest_hash),
        T(test_step7_confirmation_code),
        T(test_step7_duplicate_ballot),
        T(test_step8_removed_cast_ballot),
        T(test_step8_encrypted_tally),
        T(test_step9_response),
        T(test_step10_count),
        T(test_step10_label),
        T(test_step9_10_b_over_m),
        T(test_step12_challenge),
        T(test_step12_missing_decryption),
        T(test_step13_value),
        T(test_step14_contest_data_proof),
        T(test_step14_status),
        T(test_step15_preencrypted),
    };
    return run_cases("test_verify", tests, sizeof tests / sizeof *tests, NULL, NULL);
}
