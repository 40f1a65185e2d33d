/* The tamper tests of the sample record (test_verify.c), run against
 * detente's own records in both groups: `detente demo` makes a record, and
 * each test changes one piece of evidence in a copy and expects exactly the
 * steps that depend on it to fail. */
#include <dirent.h>

#include "tamper.h"

static char records[2][256]; /* ristretto255, integer4096 */
static const char *current;

static char *find_file(const char *sub, const char *state_or_null)
{
    /* the first file of the sub-folder (sorted) whose "state" matches */
    char dir[512];
    struct dirent **names;
    char *found = NULL;
    snprintf(dir, sizeof dir, "%s/%s", workdir, sub);
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        if (!found && names[i]->d_name[0] != '.') {
            char rel[600];
            snprintf(rel, sizeof rel, "%s/%s", sub, names[i]->d_name);
            json_t *j = jload(rel);
            const char *st = json_string_value(json_object_get(j, "state"));
            if (!state_or_null || (st && strcmp(st, state_or_null) == 0))
                found = strdup(rel);
            json_decref(j);
        }
        free(names[i]);
    }
    free(names);
    assert_non_null(found);
    return found;
}

#define CAST_BALLOT() find_file("encrypted_ballots/demo-device", "CAST")

static int setup_r255(void **state)
{
    (void)state;
    current = records[0];
    return tamper_setup(current);
}

static int setup_int(void **state)
{
    (void)state;
    current = records[1];
    return tamper_setup(current);
}

static void test_valid(void **state)
{
    (void)state;
    expect(NULL, 0);
}

static void test_generator(void **state)
{
    (void)state;
    json_t *j = jload("constants.json");
    json_t *c = json_object_get(j, "constants");
    char *s = strdup(json_string_value(json_object_get(c, "generator")));
    s[strlen(s) - 1] = s[strlen(s) - 1] == '0' ? '1' : '0';
    json_object_set_new(c, "generator", json_string(s));
    free(s);
    jsave("constants.json", j);
    EXPECT(1);
}

static void test_manifest_hash(void **state)
{
    (void)state;
    json_t *j = jload("election_config.json");
    flip_b64(j, "manifest_hash");
    jsave("election_config.json", j);
    EXPECT(1);
}

static void test_guardian_proof(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    flip_b64(path(j, "guardians/1/coefficient_proofs/1"), "response");
    jsave("election_initialized.json", j);
    EXPECT(2);
}

static void test_joint_key(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    json_object_set(j, "joint_public_key", path(j, "guardians/0/coefficient_proofs/0/public_key"));
    jsave("election_initialized.json", j);
    EXPECT(3, 4, 5, 6, 7, 9, 10, 12, 13, 14);
}

static void test_extended_base_hash(void **state)
{
    (void)state;
    json_t *j = jload("election_initialized.json");
    flip_b64(j, "extended_base_hash");
    jsave("election_initialized.json", j);
    EXPECT(4, 5, 6, 7, 9, 12, 14);
}

static void test_selection_proof(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    flip_b64(path(j, "contests/0/selections/1/proof/proofs/0"), "challenge");
    jsave(f, j);
    free(f);
    EXPECT(5);
}

static void test_contest_proof(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    flip_b64(path(j, "contests/1/proof/proofs/1"), "response");
    jsave(f, j);
    free(f);
    EXPECT(6);
}

/* 1 if some message of step names all of the needles (NULL-terminated). */
static int step_says(int step, ...)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    int found = 0;
    assert_int_equal(dt_record_load(&rec, &msg, workdir), DT_OK);
    assert_int_equal(dt_verify(&rep, rec, NULL), DT_OK);
    for (size_t i = 0; i < dt_verify_step_messages(rep, step) && !found; i++) {
        const char *m = dt_verify_step_message(rep, step, i);
        va_list ap;
        va_start(ap, step);
        found = 1;
        for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
            found &= strstr(m, n) != NULL;
        va_end(ap);
    }
    if (!found)
        for (size_t i = 0; i < dt_verify_step_messages(rep, step); i++)
            print_message("step %d: %s\n", step, dt_verify_step_message(rep, step, i));
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
    return found;
}

static int is_r255(void)
{
    return current == records[0];
}

/* A changed response: in ristretto255 the challenge (over the recorded
 * commitments) still checks, and the commitment equations fail, in a batch
 * first and then named one by one (5.E); in the integer group the
 * recomputed commitments change the hash (5.D). */
static void test_selection_response(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    const char *sel = json_string_value(json_object_get(path(j, "contests/0/selections/2"), "selection_id"));
    char *selid = strdup(sel);
    flip_b64(path(j, "contests/0/selections/2/proof/proofs/1"), "response");
    jsave(f, j);
    EXPECT(5);
    assert_true(step_says(5, is_r255() ? "5.E" : "5.D", f, selid, NULL));
    free(selid);
    free(f);
}

/* Two bad proofs in two ballots of one batch: both are named. */
static void test_two_bad_responses(void **state)
{
    (void)state;
    char *f1 = find_file("encrypted_ballots/demo-device", "CAST"), *f2 = NULL;
    json_t *j = jload(f1);
    flip_b64(path(j, "contests/0/selections/0/proof/proofs/0"), "response");
    jsave(f1, j);
    /* another cast ballot: the last one */
    {
        char dir[512];
        struct dirent **names;
        snprintf(dir, sizeof dir, "%s/encrypted_ballots/demo-device", workdir);
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = n - 1; i >= 0; i--) {
            char rel[600];
            snprintf(rel, sizeof rel, "encrypted_ballots/demo-device/%s", names[i]->d_name);
            if (!f2 && names[i]->d_name[0] != '.' && strcmp(rel, f1) != 0) {
                json_t *k = jload(rel);
                const char *st = json_string_value(json_object_get(k, "state"));
                if (st && strcmp(st, "CAST") == 0)
                    f2 = strdup(rel);
                json_decref(k);
            }
            free(names[i]);
        }
        free(names);
    }
    assert_non_null(f2);
    j = jload(f2);
    flip_b64(path(j, "contests/1/proof/proofs/0"), "response");
    jsave(f2, j);
    EXPECT(5, 6);
    assert_true(step_says(5, is_r255() ? "5.E" : "5.D", f1, NULL));
    assert_true(step_says(6, is_r255() ? "6.E" : "6.D", f2, NULL));
    free(f1);
    free(f2);
}

/* ristretto255: a commitment replaced by another valid element (its b):
 * the challenge no longer checks (5.D). */
static void test_commitment_replaced(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    json_t *pair = path(j, "contests/0/selections/1/proof/proofs/1");
    json_object_set(pair, "a", json_object_get(pair, "b"));
    jsave(f, j);
    EXPECT(5);
    assert_true(step_says(5, "5.D", f, NULL));
    free(f);
}

/* ristretto255: a commitment that is not an element (5.A). */
static void test_commitment_not_in_group(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    /* 32 bytes of 0xff: not canonical */
    json_object_set_new(path(j, "contests/1/proof/proofs/0"), "b",
                        json_string("//////////////////////////////////////////8="));
    jsave(f, j);
    EXPECT(6);
    assert_true(step_says(6, "6.A", "commitment", f, NULL));
    free(f);
}

/* ristretto255: a proof stripped of its commitments (5.E), which the
 * integer group's ElectionGuard records never have. */
static void test_commitments_missing(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    json_t *pairs = path(j, "contests/0/selections/0/proof/proofs");
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        json_object_del(json_array_get(pairs, i), "a");
        json_object_del(json_array_get(pairs, i), "b");
    }
    jsave(f, j);
    EXPECT(5);
    assert_true(step_says(5, "5.E", "no commitments", f, NULL));
    free(f);
}

static void test_contest_hash(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    flip_b64(path(j, "contests/0"), "contest_hash");
    jsave(f, j);
    free(f);
    EXPECT(7);
}

static void test_confirmation_code(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    flip_b64(j, "confirmation_code");
    jsave(f, j);
    free(f);
    EXPECT(7);
}

static void test_ciphertext_swapped(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    json_t *j = jload(f);
    /* a valid element, but another selection's */
    json_object_set(path(j, "contests/0/selections/0/encrypted_vote"), "pad",
                    path(j, "contests/0/selections/1/encrypted_vote/pad"));
    jsave(f, j);
    free(f);
    EXPECT(5, 6, 7, 8);
}

static void test_removed_cast_ballot(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    run("rm '%s/%s'", workdir, f);
    free(f);
    EXPECT(8);
}

static void test_duplicate_ballot(void **state)
{
    (void)state;
    char *f = CAST_BALLOT();
    run("cp '%s/%s' '%s/%s.copy.json'", workdir, f, workdir, f);
    free(f);
    EXPECT(7, 8);
}

static void test_tally_count(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    json_t *s = path(j, "contests/0/selections/0");
    json_object_set_new(s, "tally", json_integer(json_integer_value(json_object_get(s, "tally")) + 1));
    jsave("tally.json", j);
    EXPECT(10);
}

static void test_tally_proof(void **state)
{
    (void)state;
    json_t *j = jload("tally.json");
    flip_b64(path(j, "contests/1/selections/0/proof"), "response");
    jsave("tally.json", j);
    EXPECT(9);
}

static void test_challenged_proof(void **state)
{
    (void)state;
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    flip_b64(path(j, "contests/0/selections/0/proof"), "challenge");
    jsave(f, j);
    free(f);
    EXPECT(12);
}

static void test_challenged_value(void **state)
{
    (void)state;
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    json_t *s = path(j, "contests/0/selections/0");
    json_object_set_new(s, "tally", json_integer(1 - json_integer_value(json_object_get(s, "tally"))));
    jsave(f, j);
    EXPECT(13);
    /* in ristretto255, S = K^sigma went to the ballot's batch: named after it fails */
    assert_true(step_says(13, "13.A", f, NULL));
    free(f);
}

/* A challenged selection's response changed: in ristretto255 the challenge
 * over the recorded commitments still checks and the ballot's batch fails,
 * then names the proof (12.D); in the integer group the recomputed
 * commitments change the hash (12.B). */
static void test_challenged_response(void **state)
{
    (void)state;
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    json_t *s = path(j, "contests/1/selections/0");
    char *selid = strdup(json_string_value(json_object_get(s, "selection_id")));
    flip_b64(json_object_get(s, "proof"), "response");
    jsave(f, j);
    EXPECT(12);
    assert_true(step_says(12, is_r255() ? "12.D" : "12.B", f, selid, NULL));
    free(selid);
    free(f);
}

/* ristretto255: a challenged proof's commitment replaced by another element
 * (its b): the challenge over the commitments fails (12.B). */
static void test_challenged_commitment_replaced(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    json_t *pr = path(j, "contests/0/selections/1/proof");
    json_object_set(pr, "a", json_object_get(pr, "b"));
    jsave(f, j);
    EXPECT(12);
    assert_true(step_says(12, "12.B", f, NULL));
    free(f);
}

/* ristretto255: a challenged proof's commitment that is not an element (12.C). */
static void test_challenged_commitment_not_in_group(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    json_object_set_new(path(j, "contests/0/selections/0/proof"), "b",
                        json_string("//////////////////////////////////////////8="));
    jsave(f, j);
    EXPECT(12);
    assert_true(step_says(12, "12.C", "commitment", f, NULL));
    free(f);
}

/* ristretto255: a challenged proof without its commitments is checked as
 * the specification says (they are optional there), and passes. */
static void test_challenged_commitments_absent(void **state)
{
    (void)state;
    if (!is_r255())
        skip();
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    json_t *pr = path(j, "contests/0/selections/0/proof");
    assert_non_null(json_object_get(pr, "a")); /* the demo wrote them */
    json_object_del(pr, "a");
    json_object_del(pr, "b");
    jsave(f, j);
    expect(NULL, 0);
    free(f);
}

static void test_challenged_missing(void **state)
{
    (void)state;
    char *f = find_file("challenged_ballots", NULL);
    run("rm '%s/%s'", workdir, f);
    free(f);
    EXPECT(12);
}

static void test_contest_data_proof(void **state)
{
    (void)state;
    char *f = find_file("challenged_ballots", NULL);
    json_t *j = jload(f);
    flip_b64(path(j, "contests/0/decrypted_contest_data/proof"), "response");
    jsave(f, j);
    free(f);
    EXPECT(14);
}

#define TESTS(setup)                                                                                     \
    cmocka_unit_test_setup_teardown(test_valid, setup, teardown),                                        \
        cmocka_unit_test_setup_teardown(test_generator, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(test_manifest_hash, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(test_guardian_proof, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(test_joint_key, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(test_extended_base_hash, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_selection_proof, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_contest_proof, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(test_selection_response, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_two_bad_responses, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(test_commitment_replaced, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_commitment_not_in_group, setup, teardown),                  \
        cmocka_unit_test_setup_teardown(test_commitments_missing, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_contest_hash, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_confirmation_code, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(test_ciphertext_swapped, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_removed_cast_ballot, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_duplicate_ballot, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_tally_count, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_tally_proof, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_challenged_proof, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_challenged_value, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_challenged_response, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_challenged_commitment_replaced, setup, teardown),           \
        cmocka_unit_test_setup_teardown(test_challenged_commitment_not_in_group, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_challenged_commitments_absent, setup, teardown),            \
        cmocka_unit_test_setup_teardown(test_challenged_missing, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_contest_data_proof, setup, teardown)

static int make_records(void **state)
{
    (void)state;
    const char *groups[2] = {"ristretto255", "integer4096"};
    const char *sizes[2] = {"--guardians 4 --quorum 3 --absent 1 --ballots 25",
                            "--guardians 3 --quorum 2 --absent 1 --ballots 10"};
    for (int i = 0; i < 2; i++) {
        char cmd[1024];
        snprintf(records[i], sizeof records[i], "/tmp/dt-own-%s-XXXXXX", groups[i]);
        if (!mkdtemp(records[i]))
            return -1;
        snprintf(cmd, sizeof cmd, "'%s' demo --quiet --group %s %s --out '%s/rec' >/dev/null", DT_CLI, groups[i],
                 sizes[i], records[i]);
        if (system(cmd) != 0)
            return -1;
        strncat(records[i], "/rec", sizeof records[i] - strlen(records[i]) - 1);
    }
    return 0;
}

static int remove_records(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(records[i], '/');
        if (slash)
            *slash = 0;
        run("rm -rf '%s'", records[i]);
    }
    return 0;
}

int main(void)
{
    if (getenv("DT_TEST_FILTER"))
        cmocka_set_test_filter(getenv("DT_TEST_FILTER"));
    const struct CMUnitTest tests[] = {TESTS(setup_r255), TESTS(setup_int)};
    return run_cases("test_tamper", tests, sizeof tests / sizeof *tests, make_records, remove_records);
}
