/* Verification in parts (verify.h, detente verify --mpi): a record split
 * into shards, each verified apart, its partial result serialized, read
 * back and merged, then finished, gives dt_verify's report over the whole
 * record, message for message, valid or tampered, in any merge order; and
 * a partial result that is truncated, corrupted, of another election or
 * malformed under a correct hash is refused with an error, never a crash. */
#include "tamper.h"

#include "record/record.h"
#include "verify/verify_impl.h"

#include <detente/hash.h>

static char record[256]; /* a ristretto255 demo record, made once */

static int make_record(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(record, sizeof record, "/tmp/dt-partial-XXXXXX");
    if (!mkdtemp(record))
        return -1;
    snprintf(cmd, sizeof cmd,
             "'%s' demo --quiet --guardians 3 --quorum 2 --absent 1 --ballots 30 --out '%s/rec' >/dev/null", DT_CLI,
             record);
    if (system(cmd) != 0)
        return -1;
    strncat(record, "/rec", sizeof record - strlen(record) - 1);
    return 0;
}

static int remove_record(void **state)
{
    (void)state;
    char *slash = strrchr(record, '/');
    if (slash)
        *slash = 0;
    run("rm -rf '%s'", record);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return tamper_setup(record);
}

static dt_record *load(const char *dir)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    if (dt_record_load(&rec, &msg, dir) != DT_OK)
        fail_msg("record: %s", msg ? msg : "?");
    return rec;
}

/* The same report, step by step: status, counts, messages, notes. */
static void assert_same_report(const dt_verify_report *a, const dt_verify_report *b)
{
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        assert_int_equal(dt_verify_step_status(a, s), dt_verify_step_status(b, s));
        assert_int_equal(dt_verify_step_checked(a, s), dt_verify_step_checked(b, s));
        assert_int_equal(dt_verify_step_failures(a, s), dt_verify_step_failures(b, s));
        assert_int_equal(dt_verify_step_messages(a, s), dt_verify_step_messages(b, s));
        for (size_t i = 0; i < dt_verify_step_messages(a, s); i++)
            assert_string_equal(dt_verify_step_message(a, s, i), dt_verify_step_message(b, s, i));
        const char *na = dt_verify_step_note(a, s), *nb = dt_verify_step_note(b, s);
        assert_true((na == NULL) == (nb == NULL));
        if (na)
            assert_string_equal(na, nb);
    }
}

/* Shard k of n of the record's ballot files, verified: its partial result's bytes. */
static unsigned char *shard_bytes(size_t *len, const char *dir, char **files, size_t nfiles, size_t k, size_t n)
{
    size_t lo = nfiles * k / n, hi = nfiles * (k + 1) / n;
    dt_record *rec = NULL;
    dt_verify_partial *p = NULL;
    dt_verify_opts o = {.threads = 2};
    unsigned char *buf = NULL;
    char *msg = NULL;
    if (dt_record_load_shard(&rec, &msg, dir, (const char *const *)files + lo, hi - lo, 0) != DT_OK)
        fail_msg("shard: %s", msg ? msg : "?");
    assert_int_equal(rec->nballots, hi - lo);
    assert_int_equal(rec->nchallenged, 0); /* results are rank 0's to read */
    assert_int_equal(dt_verify_ballots_partial(&p, rec, &o), DT_OK);
    assert_int_equal(dt_verify_partial_serialize(&buf, len, rec, p), DT_OK);
    dt_verify_partial_destroy(p);
    dt_record_destroy(rec);
    return buf;
}

/* The record verified in n shards, merged in the order given (order[i]:
 * the i-th shard merged), then finished on a record that holds only the
 * results and the challenged ballots. */
static dt_verify_report *verify_split(const char *dir, size_t n, const size_t *order)
{
    char **files = NULL, *msg = NULL;
    size_t nfiles = 0, nchal = 0;
    dt_record *any = NULL, *frec = NULL;
    dt_verify_partial *acc = NULL;
    dt_verify_report *rep = NULL;
    const char **chal;

    assert_int_equal(dt_record_ballot_files(&files, &nfiles, &msg, dir), DT_OK);
    assert_int_equal(dt_record_load_part(&any, &msg, dir, DT_RECORD_ELECTION), DT_OK);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        unsigned char *buf = shard_bytes(&len, dir, files, nfiles, order[i], n);
        dt_verify_partial *q = NULL;
        if (dt_verify_partial_deserialize(&q, &msg, any, buf, len) != DT_OK)
            fail_msg("deserialize: %s", msg ? msg : "?");
        free(buf);
        if (!acc) {
            acc = q;
            continue;
        }
        assert_int_equal(dt_verify_partial_merge(any, acc, q), DT_OK);
        assert_int_equal(dt_verify_partial_ballots(q), 0);
        dt_verify_partial_destroy(q);
    }
    assert_int_equal(dt_verify_partial_ballots(acc), nfiles);
    chal = calloc(nfiles + 1, sizeof *chal);
    for (size_t i = 0; i < nfiles; i++) {
        const char *f;
        int c;
        dt_verify_partial_ballot(acc, i, &f, NULL, &c);
        if (c)
            chal[nchal++] = f;
    }
    if (dt_record_load_shard(&frec, &msg, dir, chal, nchal, 1) != DT_OK)
        fail_msg("results: %s", msg ? msg : "?");
    assert_int_equal(frec->nballots, nchal);
    assert_int_equal(dt_verify_finish(&rep, frec, acc, NULL), DT_OK);
    free(chal);
    dt_verify_partial_destroy(acc);
    dt_record_destroy(frec);
    dt_record_destroy(any);
    dt_record_free_files(files, nfiles);
    return rep;
}

/* dt_verify's report and the split ones (1, 2, 3 and 7 shards, merged in
 * order and reversed) are the same; returns whether the record is valid. */
static int check_splits(const char *dir)
{
    static const size_t fwd[7] = {0, 1, 2, 3, 4, 5, 6}, rev[7] = {6, 5, 4, 3, 2, 1, 0}, rev3[3] = {2, 0, 1};
    static const size_t counts[4] = {1, 2, 3, 7};
    dt_record *rec = load(dir);
    dt_verify_report *whole = NULL;
    assert_int_equal(dt_verify(&whole, rec, NULL), DT_OK);
    for (int c = 0; c < 4; c++) {
        size_t n = counts[c];
        for (int r = 0; r < 2; r++) {
            const size_t *order = r == 0 ? fwd : n == 3 ? rev3 : rev + (7 - n);
            dt_verify_report *split = verify_split(dir, n, order);
            assert_same_report(whole, split);
            dt_verify_report_destroy(split);
        }
    }
    int ok = dt_verify_report_ok(whole);
    dt_verify_report_destroy(whole);
    dt_record_destroy(rec);
    return ok;
}

static char *ballot_file(int cast, int which)
{
    /* the which-th (from 0) cast or challenged ballot file, in file order */
    char **files = NULL, *msg = NULL, *found = NULL;
    size_t n = 0;
    int seen = 0;
    assert_int_equal(dt_record_ballot_files(&files, &n, &msg, workdir), DT_OK);
    for (size_t i = 0; i < n && !found; i++) {
        json_t *j = jload(files[i]);
        const char *st = json_string_value(json_object_get(j, "state"));
        if (strcmp(st, cast ? "CAST" : "CHALLENGED") == 0 && seen++ == which)
            found = strdup(files[i]);
        json_decref(j);
    }
    dt_record_free_files(files, n);
    assert_non_null(found);
    return found;
}

static void test_valid_record(void **state)
{
    (void)state;
    expect(NULL, 0);
    assert_true(check_splits(workdir));
}

static void test_tampered_record(void **state)
{
    (void)state;
    char *late = ballot_file(1, 20), *removed = ballot_file(1, 3), *dup = ballot_file(1, 7), *chal = ballot_file(0, 1);
    /* a changed response in a ballot near the end (the last shard) */
    json_t *j = jload(late);
    flip_b64(path(j, "contests/1/selections/0/proof/proofs/1"), "response");
    jsave(late, j);
    /* a cast ballot removed: the aggregate changes */
    run("rm '%s/%s'", workdir, removed);
    /* a ballot twice (its id and code), in another device folder */
    run("mkdir -p '%s/encrypted_ballots/zz-copy' && cp '%s/%s' '%s/encrypted_ballots/zz-copy/copy.json'", workdir,
        workdir, dup, workdir);
    /* a challenged ballot's ciphertext changed: its decryption no longer matches */
    j = jload(chal);
    flip_b64(path(j, "contests/0/selections/0/encrypted_vote"), "data");
    jsave(chal, j);
    EXPECT(5, 6, 7, 8, 12);
    assert_false(check_splits(workdir));
    free(late);
    free(removed);
    free(dup);
    free(chal);
}

static void test_tally_and_chain(void **state)
{
    (void)state;
    /* every ballot fails 7.E (B_aux is not chained) and, a contest gone from
     * tally.json, 10.E names each ballot that uses it: more failures than
     * messages kept, found per shard, reported in record order */
    json_t *j = jload("election_config.json");
    json_object_set_new(j, "chain_confirmation_codes", json_true());
    jsave("election_config.json", j);
    j = jload("tally.json");
    assert_int_equal(json_array_remove(json_object_get(j, "contests"), 0), 0);
    jsave("tally.json", j);
    EXPECT(7, 10);
    assert_false(check_splits(workdir));
}

/* The whole record's partial result, its bytes and the record. */
static unsigned char *whole_bytes(size_t *len, dt_record **rec)
{
    dt_verify_partial *p = NULL;
    unsigned char *buf = NULL;
    *rec = load(workdir);
    assert_int_equal(dt_verify_ballots_partial(&p, *rec, NULL), DT_OK);
    assert_int_equal(dt_verify_partial_serialize(&buf, len, *rec, p), DT_OK);
    dt_verify_partial_destroy(p);
    return buf;
}

static void test_roundtrip(void **state)
{
    (void)state;
    dt_record *rec;
    size_t len, len2;
    unsigned char *buf = whole_bytes(&len, &rec), *buf2 = NULL;
    dt_verify_partial *p = NULL;
    char *msg = NULL;
    assert_int_equal(dt_verify_partial_deserialize(&p, &msg, rec, buf, len), DT_OK);
    assert_null(msg);
    assert_int_equal(dt_verify_partial_ballots(p), rec->nballots);
    assert_int_equal(dt_verify_partial_serialize(&buf2, &len2, rec, p), DT_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    dt_verify_partial_destroy(p);
    free(buf);
    free(buf2);
    dt_record_destroy(rec);
}

static void refused(const dt_record *rec, const unsigned char *buf, size_t len, const char *why)
{
    dt_verify_partial *p = (dt_verify_partial *)1;
    char *msg = NULL;
    dt_err err = dt_verify_partial_deserialize(&p, &msg, rec, buf, len);
    if (err == DT_OK)
        fail_msg("a damaged partial result (%s) was accepted", why);
    assert_true(err == DT_ERR_ENCODING || err == DT_ERR_INVALID);
    assert_null(p);
    assert_non_null(msg);
    free(msg);
}

static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    dt_record *rec;
    size_t len;
    unsigned char *buf = whole_bytes(&len, &rec);
    unsigned char *c = malloc(len + 1);
    refused(rec, buf, 0, "empty");
    for (size_t n = 1; n < len; n++)
        refused(rec, buf, n, "truncated");
    memcpy(c, buf, len);
    c[len] = 0;
    refused(rec, c, len + 1, "a byte more");
    for (size_t i = 0; i < len; i++) {
        c[i] ^= (unsigned char)(1u << (i % 8));
        refused(rec, c, len, "a bit flipped");
        c[i] = buf[i];
    }
    free(c);
    free(buf);
    dt_record_destroy(rec);
}

/* A malformed partial result under a correct hash: the reader's own checks. */
static void rehash_refused(const dt_record *rec, unsigned char *buf, size_t len, const char *why)
{
    dt_sha256(buf + len - 32, buf, len - 32);
    refused(rec, buf, len, why);
}

static void test_malformed(void **state)
{
    (void)state;
    dt_record *rec;
    size_t len;
    unsigned char *buf = whole_bytes(&len, &rec), *c = malloc(len + 64);
    size_t nopts = dt_vp_options(rec), eb = rec->elem_bytes;
    size_t opts_off = 12 + 4 + 4 + 32 + 8, ballots_off = opts_off + nopts * (2 * eb + 8) + 2 * DT_VP_SLOTS * 8;
    size_t first = ballots_off + 8; /* the first ballot's state */

#define FRESH() memcpy(c, buf, len)
    FRESH();
    c[11] = 2;
    rehash_refused(rec, c, len, "another version");
    FRESH();
    c[12] ^= 3;
    rehash_refused(rec, c, len, "another group");
    FRESH();
    c[12 + 8] ^= 1;
    rehash_refused(rec, c, len, "another election");
    FRESH();
    c[12 + 8 + 32] ^= 1;
    rehash_refused(rec, c, len, "another number of options");
    FRESH();
    memset(c + opts_off, 0xff, eb); /* no canonical ristretto255 encoding */
    rehash_refused(rec, c, len, "an aggregate outside the group");
    FRESH();
    memset(c + ballots_off, 0xff, 8);
    rehash_refused(rec, c, len, "a huge ballot count");
    FRESH();
    c[first] = 9;
    rehash_refused(rec, c, len, "a ballot state");
    FRESH();
    c[first + 1] = 0x80;
    rehash_refused(rec, c, len, "ballot flags");
    FRESH();
    memset(c + first + 2 + 64, 0xff, 4);
    rehash_refused(rec, c, len, "a file name's length");
    FRESH();
    memset(c + first + 2 + 64, 0, 4);
    rehash_refused(rec, c, len, "an empty file name");
    FRESH();
    c[first + 2 + 64 + 4] = 0;
    rehash_refused(rec, c, len, "a NUL in a file name");
    FRESH();
    memcpy(c + len, c + len - 32, 32);
    c[len - 32] = 0; /* a byte more before the hash */
    rehash_refused(rec, c, len + 1, "bytes left over");
#undef FRESH
    free(c);
    free(buf);
    dt_record_destroy(rec);
}

static void test_other_election(void **state)
{
    (void)state;
    dt_record *rec, *other;
    size_t len;
    unsigned char *buf = whole_bytes(&len, &rec);
    dt_verify_partial *p = NULL, *q = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    /* the same record with another H_E is another election */
    json_t *j = jload("election_initialized.json");
    flip_b64(j, "extended_base_hash");
    jsave("election_initialized.json", j);
    other = load(workdir);
    assert_int_equal(dt_verify_partial_deserialize(&p, &msg, other, buf, len), DT_ERR_INVALID);
    assert_non_null(strstr(msg, "another election"));
    free(msg);
    assert_int_equal(dt_verify_partial_deserialize(&p, NULL, rec, buf, len), DT_OK);
    assert_int_equal(dt_verify_ballots_partial(&q, other, NULL), DT_OK);
    assert_int_equal(dt_verify_partial_merge(rec, p, q), DT_ERR_INVALID);
    assert_int_equal(dt_verify_finish(&rep, other, p, NULL), DT_ERR_INVALID);
    assert_null(rep);
    dt_verify_partial_destroy(p);
    dt_verify_partial_destroy(q);
    free(buf);
    dt_record_destroy(rec);
    dt_record_destroy(other);
}

static void test_overlapping_shards(void **state)
{
    (void)state;
    char **files = NULL, *msg = NULL;
    size_t n = 0, len1, len2;
    dt_record *rec = load(workdir);
    dt_verify_partial *p = NULL, *q = NULL;
    dt_verify_report *rep = NULL;
    assert_int_equal(dt_record_ballot_files(&files, &n, &msg, workdir), DT_OK);
    unsigned char *a = shard_bytes(&len1, workdir, files, n, 0, 2), *b = shard_bytes(&len2, workdir, files, n, 0, 2);
    assert_int_equal(dt_verify_partial_deserialize(&p, NULL, rec, a, len1), DT_OK);
    assert_int_equal(dt_verify_partial_deserialize(&q, NULL, rec, b, len2), DT_OK);
    assert_int_equal(dt_verify_partial_merge(rec, p, q), DT_OK);
    /* the same ballots twice: refused, not counted twice */
    assert_int_equal(dt_verify_finish(&rep, rec, p, NULL), DT_ERR_INVALID);
    assert_null(rep);
    /* a shard that lists a file twice, or a path that is no ballot's */
    const char *twice[2] = {files[0], files[0]}, *bad[1] = {"encrypted_ballots/../constants.json"};
    dt_record *s = NULL;
    assert_int_equal(dt_record_load_shard(&s, &msg, workdir, twice, 2, 0), DT_ERR_INVALID);
    assert_non_null(strstr(msg, "listed twice"));
    free(msg);
    assert_int_equal(dt_record_load_shard(&s, &msg, workdir, bad, 1, 0), DT_ERR_INVALID);
    assert_non_null(strstr(msg, "not an encrypted ballot's path"));
    free(msg);
    assert_null(s);
    dt_verify_partial_destroy(p);
    dt_verify_partial_destroy(q);
    free(a);
    free(b);
    dt_record_free_files(files, n);
    dt_record_destroy(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tally_and_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_corrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_election, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_shards, setup, teardown),
    };
    return cmocka_run_group_tests(tests, make_record, remove_record);
}
