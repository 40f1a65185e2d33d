/* The record reader: the sample loads; every kind of malformed input is
 * refused with a message naming the file and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <detente/record.h>

#include "record/record.h"
#include "util/codec.h"

#define SAMPLE DT_TEST_DATA "/allAvailable"

static char workdir[256];

static int setup(void **state)
{
    char cmd[1024];
    (void)state;
    snprintf(workdir, sizeof workdir, "/tmp/dt-record-XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'/ && rm -rf '%s/private_data'", SAMPLE, workdir, workdir);
    return system(cmd);
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    return system(cmd);
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Replaces the first occurrence of `from` by `to` in a file of the copy. */
static void edit(const char *rel, const char *from, const char *to)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    char *at = strstr(buf, from);
    assert_non_null(at);
    f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)(at - buf), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
    free(buf);
}

static void expect_error(dt_err want, const char *msg_part)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    dt_err err = dt_record_load(&rec, &msg, workdir);
    assert_null(rec);
    assert_non_null(msg);
    if (err != want || !strstr(msg, msg_part))
        fail_msg("got error %d \"%s\", expected %d with \"%s\"", err, msg, want, msg_part);
    free(msg);
}

static void test_sample_loads(void **state)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    (void)state;
    assert_int_equal(dt_record_load(&rec, &msg, workdir), DT_OK);
    assert_null(msg);
    assert_int_equal(rec->n, 3);
    assert_int_equal(rec->k, 3);
    assert_int_equal(rec->nballots, 42);
    assert_int_equal(rec->nchallenged, 9);
    assert_int_equal(rec->manifest.ncontests, 20);
    assert_int_equal(rec->manifest.len, 22500);
    assert_int_equal(rec->elem_bytes, 512);
    size_t cast = 0;
    for (size_t i = 0; i < rec->nballots; i++)
        cast += rec->ballots[i].state == DT_BALLOT_CAST;
    assert_int_equal(cast, 33);
    assert_int_equal(rec->etally.ncast, 33);
    dt_record_destroy(rec);
    dt_record_destroy(NULL);
}

static void test_missing_file(void **state)
{
    char path[512];
    (void)state;
    snprintf(path, sizeof path, "%s/election_initialized.json", workdir);
    unlink(path);
    expect_error(DT_ERR_IO, "election_initialized.json: cannot read the file");
}

static void test_bad_json(void **state)
{
    (void)state;
    write_file("election_config.json", "{\"number_of_guardians\": 3,");
    expect_error(DT_ERR_PARSE, "election_config.json: invalid JSON at line 1");
    write_file("election_config.json", "[1, 2]");
    expect_error(DT_ERR_PARSE, "election_config.json: the top level is not a JSON object");
    write_file("election_config.json", "");
    expect_error(DT_ERR_PARSE, "election_config.json: invalid JSON");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    edit("election_config.json", "\"quorum\": 3,", "\"quorum\": 3, \"quorum\": 2,");
    expect_error(DT_ERR_PARSE, "duplicate object key");
}

static void test_wrong_types(void **state)
{
    (void)state;
    edit("election_config.json", "\"quorum\": 3", "\"quorum\": 3.5");
    expect_error(DT_ERR_PARSE, "election_config.json: quorum: expected an integer, found a real number");
}

static void test_negative_and_huge(void **state)
{
    (void)state;
    edit("election_config.json", "\"quorum\": 3", "\"quorum\": -1");
    expect_error(DT_ERR_RANGE, "election_config.json: quorum: -1 is outside");
    edit("election_config.json", "\"quorum\": -1", "\"quorum\": 123456789012");
    expect_error(DT_ERR_RANGE, "quorum: 123456789012 is outside");
    edit("election_config.json", "\"quorum\": 123456789012", "\"quorum\": 123456789012345678901234567890");
    expect_error(DT_ERR_PARSE, "election_config.json: invalid JSON");
}

static void test_wrong_lengths(void **state)
{
    (void)state;
    /* a 32-byte hash given as 31 bytes */
    edit("election_config.json", "\"manifest_hash\": \"4jSi8SdhkaPaIx+pTNfI1iE9rI4H6rwEmwZtnrpx2Xg=\"",
         "\"manifest_hash\": \"4jSi8SdhkaPaIx+pTNfI1iE9rI4H6rwEmwZtnrpx2g==\"");
    expect_error(DT_ERR_ENCODING, "election_config.json: manifest_hash: not base64 of 32 bytes");
}

static void test_missing_key(void **state)
{
    (void)state;
    edit("election_initialized.json", "\"joint_public_key\"", "\"joint_public_kez\"");
    expect_error(DT_ERR_PARSE, "election_initialized.json: joint_public_key: missing");
}

static void test_bad_state(void **state)
{
    (void)state;
    edit("encrypted_ballots/runWorkflowDevice/eballot-id-3.json", "\"state\": \"", "\"state\": \"X");
    expect_error(DT_ERR_INVALID, "eballot-id-3.json: state:");
}

static void test_unknown_group(void **state)
{
    (void)state;
    edit("constants.json", "\"IntegerGroup\"", "\"P256\"");
    expect_error(DT_ERR_INVALID, "constants.json: type: unknown group type \"P256\"");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *s = malloc(2 * depth + 1);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = 0;
    write_file("tally.json", s);
    free(s);
    expect_error(DT_ERR_PARSE, "tally.json: invalid JSON");
}

static void test_nul_in_string(void **state)
{
    (void)state;
    edit("encrypted_ballots/runWorkflowDevice/eballot-id-3.json", "\"ballot_id\": \"id-3\"",
         "\"ballot_id\": \"id\\u0000-3\"");
    expect_error(DT_ERR_PARSE, "eballot-id-3.json: invalid JSON at line 2, column 29: \\u0000 is not allowed");
}

/* manifest validation: each inconsistency has its own message */
static void expect_manifest(const char *from, const char *to, const char *msg_part)
{
    char path[512];
    unsigned char *bytes;
    size_t len;
    dt_rec_manifest m;
    char *msg = NULL;
    if (from)
        edit("manifest.json", from, to);
    snprintf(path, sizeof path, "%s/manifest.json", workdir);
    assert_int_equal(dt_read_file(&bytes, &len, path, 1 << 24), DT_OK);
    assert_int_equal(dt_manifest_parse(&m, &msg, bytes, len), DT_OK);
    free(bytes);
    dt_err err = dt_manifest_validate(&m, &msg);
    dt_manifest_free(&m);
    if (!msg_part) {
        assert_int_equal(err, DT_OK);
        return;
    }
    assert_int_equal(err, DT_ERR_INVALID);
    if (!msg || !strstr(msg, msg_part))
        fail_msg("got \"%s\", expected \"%s\"", msg ? msg : "", msg_part);
    free(msg);
    /* restore */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s/manifest.json' '%s/manifest.json'", SAMPLE, workdir);
    assert_int_equal(system(cmd), 0);
}

static void test_manifest_validation(void **state)
{
    (void)state;
    expect_manifest(NULL, NULL, NULL);
    expect_manifest("\"votes_allowed\": 1", "\"votes_allowed\": 0",
                    "contest contest1: votes_allowed (the contest selection limit) is 0");
    expect_manifest("\"option_selection_limit\": 1", "\"option_selection_limit\": 0",
                    "contest contest1: option_selection_limit is 0");
    expect_manifest("\"object_id\": \"contest2\"", "\"object_id\": \"contest1\"", "contest contest1 is defined twice");
    expect_manifest("\"object_id\": \"selection2\"", "\"object_id\": \"selection1\"",
                    "contest contest1: selection selection1 is defined twice");
    expect_manifest("\"electoral_district_id\": \"gpu5\"", "\"electoral_district_id\": \"nowhere\"",
                    "contest contest1: electoral_district_id nowhere is not a geopolitical unit");
    expect_manifest("\"geopolitical_unit_ids\": [\n                \"gpu1\"",
                    "\"geopolitical_unit_ids\": [\n                \"gpuX\"",
                    "ballot style BallotStyle1: geopolitical unit gpuX is not defined");
    expect_manifest("\"sequence_order\": 2,\n            \"electoral_district_id\"",
                    "\"sequence_order\": 7,\n            \"electoral_district_id\"",
                    "contest contest2: sequence_order 7 is not its position 2");
    expect_manifest("\"candidate_id\": \"candidate1\"", "\"candidate_id\": \"nobody\"",
                    "selection selection1: candidate nobody is not defined");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sample_loads), T(test_missing_file),  T(test_bad_json),       T(test_duplicate_key),
        T(test_wrong_types),  T(test_negative_and_huge), T(test_wrong_lengths), T(test_missing_key),
        T(test_bad_state),    T(test_unknown_group), T(test_deep_nesting),   T(test_nul_in_string), T(test_manifest_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
