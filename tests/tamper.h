/* Shared by the tamper tests: a working copy of a record, JSON edits on it,
 * and the check that exactly the expected verification steps fail. */
#ifndef DT_TESTS_TAMPER_H
#define DT_TESTS_TAMPER_H

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

#include "util/codec.h"

static char workdir[256];

static void run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* Runs the cases; with DT_TEST_SHARD=I/N only the cases whose index is I
 * mod N. `make check` runs these tests in two builds, normal and under the
 * sanitizers, and gives each build its own share (tests/CMakeLists.txt):
 * every case runs once in `make check`, in one build or the other, where
 * running each in both would cost minutes (each case verifies a whole
 * record again, mostly in GMP, which the sanitizers do not instrument).
 * Without DT_TEST_SHARD (by hand) every case runs. */
static inline int run_cases(const char *name, const struct CMUnitTest *tests, size_t n, CMFixtureFunction setup,
                     CMFixtureFunction teardown_all)
{
    const char *e = getenv("DT_TEST_SHARD");
    unsigned long shard = 0, nshards = 1;
    struct CMUnitTest *sub;
    size_t k = 0;
    int rc;
    if (e && (sscanf(e, "%lu/%lu", &shard, &nshards) != 2 || nshards == 0 || shard >= nshards)) {
        fprintf(stderr, "%s: DT_TEST_SHARD must be I/N with I < N, not '%s'\n", name, e);
        return 1;
    }
    if (nshards == 1)
        return _cmocka_run_group_tests(name, tests, n, setup, teardown_all);
    sub = calloc(n, sizeof *sub);
    if (!sub)
        return 1;
    for (size_t i = shard; i < n; i += nshards)
        sub[k++] = tests[i];
    printf("%s: DT_TEST_SHARD=%lu/%lu: %zu of the %zu cases here, the others in the other build\n", name, shard,
           nshards, k, n);
    rc = _cmocka_run_group_tests(name, sub, k, setup, teardown_all);
    free(sub);
    return rc;
}

/* Copies the public part of the record in src to a fresh working folder. */
static int tamper_setup(const char *src)
{
    snprintf(workdir, sizeof workdir, "/tmp/dt-tamper-XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    run("cp -r '%s'/. '%s'/ && rm -rf '%s/private_data'", src, workdir, workdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf '%s'", workdir);
    return 0;
}

static json_t *jload(const char *rel)
{
    char path[512];
    json_error_t e;
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    json_t *j = json_load_file(path, 0, &e);
    assert_non_null(j);
    return j;
}

static void jsave(const char *rel, json_t *j)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    assert_int_equal(json_dump_file(j, path, JSON_INDENT(4)), 0);
    json_decref(j);
}

/* obj[key] is base64: flip the lowest bit of its last byte */
static void flip_b64(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    unsigned char *b;
    size_t n;
    assert_non_null(v);
    assert_int_equal(dt_b64_decode_alloc(&b, &n, json_string_value(v), 1 << 20), DT_OK);
    b[n - 1] ^= 1;
    char *s = dt_b64_encode(b, n);
    json_object_set_new(obj, key, json_string(s));
    free(s);
    free(b);
}

static json_t *path(json_t *j, const char *p)
{
    /* "contests/0/selections/1/proof" : object keys and array indices */
    char buf[256], *save = NULL, *tok;
    snprintf(buf, sizeof buf, "%s", p);
    for (tok = strtok_r(buf, "/", &save); tok && j; tok = strtok_r(NULL, "/", &save)) {
        if (json_is_array(j))
            j = json_array_get(j, (size_t)atoi(tok));
        else
            j = json_object_get(j, tok);
    }
    assert_non_null(j);
    return j;
}

/* Verifies the working copy; expects exactly the steps in `fails` to fail. */
static void expect(const int *fails, size_t nfails)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    dt_err err = dt_record_load(&rec, &msg, workdir);
    if (err)
        fail_msg("record does not load: %s", msg ? msg : "?");
    assert_int_equal(dt_verify(&rep, rec, NULL), DT_OK);
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        int want_fail = 0;
        for (size_t i = 0; i < nfails; i++)
            want_fail |= fails[i] == s;
        dt_step_status st = dt_verify_step_status(rep, s);
        if (want_fail != (st == DT_STEP_FAIL)) {
            for (size_t i = 0; i < dt_verify_step_messages(rep, s); i++)
                print_message("step %d: %s\n", s, dt_verify_step_message(rep, s, i));
            fail_msg("step %d (%s): expected %s, got %s", s, dt_verify_step_name(s), want_fail ? "FAIL" : "no failure",
                     st == DT_STEP_FAIL ? "FAIL" : st == DT_STEP_PASS ? "pass" : "not applicable");
        }
    }
    assert_int_equal(dt_verify_report_ok(rep), nfails == 0);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
}

#define EXPECT(...)                                                                                      \
    do {                                                                                                 \
        const int f_[] = {__VA_ARGS__};                                                                  \
        expect(f_, sizeof f_ / sizeof *f_);                                                              \
    } while (0)


#endif
