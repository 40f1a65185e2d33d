/* Every input's size limit (docs/limits.md) is enforced with a clear error
 * before the work starts, and nothing is produced from an input over it:
 * record files (file size, JSON nesting, strings, contests, selections,
 * styles, guardians, coefficients, ballots, proof branches, votes allowed,
 * contest data, B_aux), plaintext ballots, encrypted ballots, key-ceremony
 * messages, guardian files, the board's witnesses and files, a witness's
 * list of logs, manifests and passphrases through the CLI.
 * Each case takes a copy of the sample record and puts one input just over
 * its limit (and, where cheap, just at it). The log's, the notes' and the
 * server's limits are tested beside their code (test_log, test_note,
 * test_receipt, test_witness, test_tiles, test_serve_bad); docs/limits.md
 * names each test. */
#include <setjmp.h>
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
#include <detente/board.h>
#include <detente/ceremony.h>
#include <detente/log.h>
#include <detente/record.h>
#include <detente/witness.h>

#include "record/record.h"
#include "util/codec.h"

#define SAMPLE DT_TEST_DATA "/allAvailable"
#define BALLOT1 "encrypted_ballots/runWorkflowDevice/eballot-id-1.json"

static char workdir[256];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* A fresh copy of the sample record for every test. */
static int setup(void **state)
{
    (void)state;
    snprintf(workdir, sizeof workdir, "/tmp/dt-limits-XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    sh("cp -r '%s'/. '%s'/ && rm -rf '%s/private_data'", SAMPLE, workdir, workdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sh("rm -rf '%s'", workdir);
    return 0;
}

static json_t *jload(const char *rel)
{
    char path[512];
    json_error_t jerr;
    json_t *j;
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", path, jerr.text);
    return j;
}

static void jsave(const char *rel, json_t *j)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    assert_int_equal(json_dump_file(j, path, JSON_COMPACT), 0);
    json_decref(j);
}

static void write_text(const char *rel, const char *text, size_t len)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", workdir, rel);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Appends copies of arr's first item until it has n items. */
static void grow(json_t *arr, size_t n)
{
    json_t *first = json_array_get(arr, 0);
    assert_non_null(first);
    while (json_array_size(arr) < n)
        assert_int_equal(json_array_append_new(arr, json_deep_copy(first)), 0);
}

/* A string of n copies of c (malloc'ed). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Loading the copy fails with want, and the message names the file and the
 * limit. */
static void expect_load(dt_err want, const char *part1, const char *part2)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    dt_err err = dt_record_load(&rec, &msg, workdir);
    assert_null(rec);
    if (err != want || !msg || !strstr(msg, part1) || (part2 && !strstr(msg, part2)))
        fail_msg("got %d \"%s\", expected %d with \"%s\" and \"%s\"", err, msg ? msg : "(no message)", want, part1,
                 part2 ? part2 : "");
    print_message("  %s\n", msg);
    free(msg);
}

static void expect_load_ok(void)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    if (dt_record_load(&rec, &msg, workdir) != DT_OK)
        fail_msg("the record at its limits does not load: %s", msg ? msg : "?");
    dt_record_destroy(rec);
}

/* ---- record files ---- */

static void test_file_size(void **state)
{
    char path[512];
    (void)state;
    /* a sparse file one byte over 64 MiB: refused by its size, unread */
    snprintf(path, sizeof path, "%s/manifest.json", workdir);
    assert_int_equal(truncate(path, (off_t)DT_LIMIT_FILE_BYTES + 1), 0);
    expect_load(DT_ERR_LIMIT, "manifest.json", "file larger than 67108864 bytes");
    snprintf(path, sizeof path, "%s/" BALLOT1, workdir);
    sh("cp '%s/manifest.json' '%s/manifest.json'", SAMPLE, workdir);
    assert_int_equal(truncate(path, (off_t)DT_LIMIT_FILE_BYTES + 1), 0);
    expect_load(DT_ERR_LIMIT, "eballot-id-1.json", "file larger than");
}

static void test_json_depth(void **state)
{
    /* jansson's parser stops at 2048 levels of nesting (its
     * JSON_PARSER_MAX_DEPTH), before any recursion can exhaust the stack */
    size_t depth = 2049;
    char *text = malloc(2 * depth + 16);
    (void)state;
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "{\"a\":");
    memset(text + n, '[', depth - 1);
    n += depth - 1;
    memset(text + n, ']', depth - 1);
    n += depth - 1;
    text[n++] = '}';
    write_text("election_config.json", text, n);
    expect_load(DT_ERR_PARSE, "election_config.json", "maximum parsing depth reached");
    /* 2048 levels parse (and are then refused for what they are) */
    n = (size_t)sprintf(text, "{\"a\":");
    memset(text + n, '[', depth - 2);
    n += depth - 2;
    memset(text + n, ']', depth - 2);
    n += depth - 2;
    text[n++] = '}';
    write_text("election_config.json", text, n);
    expect_load(DT_ERR_PARSE, "election_config.json", NULL);
    free(text);
}

static void test_string_length(void **state)
{
    json_t *m = jload("manifest.json");
    json_t *c = json_array_get(json_object_get(m, "contests"), 0);
    char *s = repeat('x', DT_LIMIT_STRING + 1);
    (void)state;
    assert_int_equal(json_object_set_new(c, "object_id", json_string(s)), 0);
    jsave("manifest.json", m);
    expect_load(DT_ERR_LIMIT, "manifest.json", "contests[0].object_id: string longer than 1024 bytes");
    free(s);
}

static void test_contests(void **state)
{
    json_t *m = jload("manifest.json");
    (void)state;
    grow(json_object_get(m, "contests"), DT_LIMIT_CONTESTS + 1);
    jsave("manifest.json", m);
    expect_load(DT_ERR_LIMIT, "manifest.json", "contests: more than 10000 items");
}

static void test_selections(void **state)
{
    json_t *m = jload("manifest.json");
    json_t *c = json_array_get(json_object_get(m, "contests"), 0);
    (void)state;
    grow(json_object_get(c, "ballot_selections"), DT_LIMIT_SELECTIONS + 1);
    jsave("manifest.json", m);
    expect_load(DT_ERR_LIMIT, "manifest.json", "ballot_selections: more than 1000 items");
}

static void test_styles(void **state)
{
    json_t *m = jload("manifest.json");
    (void)state;
    grow(json_object_get(m, "ballot_styles"), DT_LIMIT_STYLES + 1);
    jsave("manifest.json", m);
    expect_load(DT_ERR_LIMIT, "manifest.json", "ballot_styles: more than 10000 items");
}

static void test_votes_allowed(void **state)
{
    json_t *m = jload("manifest.json");
    json_t *c = json_array_get(json_object_get(m, "contests"), 0);
    (void)state;
    assert_int_equal(json_object_set_new(c, "votes_allowed", json_integer(DT_LIMIT_VOTES + 1)), 0);
    jsave("manifest.json", m);
    expect_load(DT_ERR_RANGE, "manifest.json", "votes_allowed: 1001 is outside 0..1000");
}

static void test_guardians(void **state)
{
    json_t *c = jload("election_config.json");
    (void)state;
    assert_int_equal(json_object_set_new(c, "number_of_guardians", json_integer(DT_LIMIT_GUARDIANS + 1)), 0);
    jsave("election_config.json", c);
    expect_load(DT_ERR_RANGE, "election_config.json", "number_of_guardians: 1001 is outside 0..1000");
    sh("cp '%s/election_config.json' '%s/'", SAMPLE, workdir);
    json_t *e = jload("election_initialized.json");
    grow(json_object_get(e, "guardians"), DT_LIMIT_GUARDIANS + 1);
    jsave("election_initialized.json", e);
    expect_load(DT_ERR_LIMIT, "election_initialized.json", "guardians: more than 1000 items");
}

static void test_coefficients(void **state)
{
    json_t *e = jload("election_initialized.json");
    json_t *g = json_array_get(json_object_get(e, "guardians"), 0);
    (void)state;
    grow(json_object_get(g, "coefficient_proofs"), DT_LIMIT_GUARDIANS + 1);
    jsave("election_initialized.json", e);
    expect_load(DT_ERR_LIMIT, "election_initialized.json", "coefficient_proofs: more than 1000 items");
}

static void test_proof_branches(void **state)
{
    json_t *b = jload(BALLOT1);
    json_t *c = json_array_get(json_object_get(b, "contests"), 0);
    json_t *s = json_array_get(json_object_get(c, "selections"), 0);
    (void)state;
    grow(json_object_get(json_object_get(s, "proof"), "proofs"), DT_LIMIT_PROOF_BRANCHES + 1);
    jsave(BALLOT1, b);
    expect_load(DT_ERR_LIMIT, "eballot-id-1.json", "proofs: more than 1001 items");
}

static void test_contest_data(void **state)
{
    json_t *b = jload(BALLOT1);
    json_t *c = json_array_get(json_object_get(b, "contests"), 0);
    json_t *d = json_object_get(c, "encrypted_contest_data");
    (void)state;
    assert_non_null(d);
    assert_int_equal(json_object_set_new(d, "numBytes", json_integer(DT_LIMIT_CONTEST_DATA + 1)), 0);
    jsave(BALLOT1, b);
    expect_load(DT_ERR_RANGE, "eballot-id-1.json", "numBytes: 1048577 is outside 0..1048576");
    /* C1 of more than 1 MiB + 32 bytes */
    sh("cp '%s/" BALLOT1 "' '%s/" BALLOT1 "'", SAMPLE, workdir);
    b = jload(BALLOT1);
    c = json_array_get(json_object_get(b, "contests"), 0);
    d = json_object_get(c, "encrypted_contest_data");
    unsigned char *raw = calloc(DT_LIMIT_CONTEST_DATA + 64, 1);
    assert_non_null(raw);
    char *b64 = dt_b64_encode(raw, DT_LIMIT_CONTEST_DATA + 64);
    assert_non_null(b64);
    assert_int_equal(json_object_set_new(d, "c1", json_string(b64)), 0);
    jsave(BALLOT1, b);
    expect_load(DT_ERR_LIMIT, "eballot-id-1.json", "not base64 of at most 1048608 bytes");
    free(raw);
    free(b64);
}

static void test_baux0(void **state)
{
    json_t *c = jload("election_config.json");
    unsigned char raw[DT_LIMIT_STRING + 1];
    char *b64;
    (void)state;
    memset(raw, 'b', sizeof raw);
    b64 = dt_b64_encode(raw, sizeof raw);
    assert_int_equal(json_object_set_new(c, "baux0", json_string(b64)), 0);
    jsave("election_config.json", c);
    expect_load(DT_ERR_ENCODING, "election_config.json", "baux0: not base64 of at most 1024 bytes");
    free(b64);
}

/* The ballot count, all device folders together, with the limit lowered
 * (a million files would take minutes): at the limit the record loads. */
static void test_ballot_count(void **state)
{
    (void)state;
    sh("cd '%s/encrypted_ballots' && mkdir d2 && mv runWorkflowDevice/eballot-id-1*.json d2/", workdir);
    dt_record_ballot_limit_for_testing(42); /* the sample's ballots */
    expect_load_ok();
    dt_record_ballot_limit_for_testing(41);
    expect_load(DT_ERR_LIMIT, "encrypted_ballots", "more than 41 files");
    /* the limit counts every folder together: 31 + 11 files, each folder
     * under 35 */
    dt_record_ballot_limit_for_testing(35);
    expect_load(DT_ERR_LIMIT, "encrypted_ballots", "more than 35 files");
    dt_record_ballot_limit_for_testing(0);
    expect_load_ok();
}

/* ---- plaintext and encrypted ballots ---- */

typedef struct election {
    dt_record *rec;
    dt_ballot_ctx *ctx;
} election;

static void election_open(election *e)
{
    char *msg = NULL;
    assert_int_equal(dt_record_load_part(&e->rec, &msg, workdir, DT_RECORD_ELECTION), DT_OK);
    assert_int_equal(dt_ballot_ctx_create(&e->ctx, &msg, e->rec), DT_OK);
}

static void election_close(election *e)
{
    dt_ballot_ctx_destroy(e->ctx);
    dt_record_destroy(e->rec);
}

static void expect_plain(const election *e, const char *text, size_t len, dt_err want, const char *part)
{
    dt_plaintext_ballot *pb = NULL;
    char *msg = NULL;
    dt_err err = dt_plaintext_ballot_parse(e->ctx, &pb, &msg, text, len);
    assert_null(pb);
    if (err != want || !msg || !strstr(msg, part))
        fail_msg("got %d \"%s\", expected %d with \"%s\"", err, msg ? msg : "(no message)", want, part);
    print_message("  %s\n", msg);
    free(msg);
}

static void test_plaintext_ballots(void **state)
{
    election e;
    json_t *j, *c, *sel;
    char *text, *s;
    (void)state;
    election_open(&e);

    /* more than 64 MiB: refused by its length, unparsed */
    text = calloc((size_t)DT_LIMIT_FILE_BYTES + 2, 1);
    assert_non_null(text);
    expect_plain(&e, text, (size_t)DT_LIMIT_FILE_BYTES + 1, DT_ERR_LIMIT, "67108865 bytes, at most 67108864");
    free(text);

    /* a string of 1025 bytes */
    s = repeat('i', DT_LIMIT_STRING + 1);
    j = json_pack("{s:s, s:s, s:[]}", "ballot_id", s, "ballot_style", "BallotStyle1", "contests");
    text = json_dumps(j, 0);
    expect_plain(&e, text, strlen(text), DT_ERR_LIMIT, "longer than 1024 bytes");
    free(text);
    json_decref(j);
    free(s);

    /* 1001 selections in a contest */
    j = json_pack("{s:s, s:s, s:[{s:s, s:[{s:s, s:i}]}]}", "ballot_id", "b", "ballot_style", "BallotStyle1", "contests",
                  "contest_id", "contest4", "selections", "selection_id", "selection7", "vote", 0);
    c = json_array_get(json_object_get(j, "contests"), 0);
    sel = json_object_get(c, "selections");
    grow(sel, DT_LIMIT_SELECTIONS + 1);
    text = json_dumps(j, 0);
    expect_plain(&e, text, strlen(text), DT_ERR_LIMIT, "selections: more than 1000");
    free(text);

    /* 1001 write-ins */
    while (json_array_size(sel) > 1)
        json_array_remove(sel, 1);
    assert_int_equal(json_object_set_new(c, "write_ins", json_pack("[s]", "W")), 0);
    grow(json_object_get(c, "write_ins"), DT_LIMIT_SELECTIONS + 1);
    text = json_dumps(j, 0);
    expect_plain(&e, text, strlen(text), DT_ERR_LIMIT, "write_ins: more than 1000");
    free(text);

    /* 10001 contests */
    json_object_del(c, "write_ins");
    grow(json_object_get(j, "contests"), DT_LIMIT_CONTESTS + 1);
    text = json_dumps(j, 0);
    expect_plain(&e, text, strlen(text), DT_ERR_LIMIT, "contests: more than 10000");
    free(text);
    json_decref(j);
    election_close(&e);
}

static void test_encrypted_ballots(void **state)
{
    election e;
    dt_ballot *b = NULL;
    char *msg = NULL, *text;
    json_t *j, *c, *s;
    (void)state;
    election_open(&e);

    /* the server's input: more than 64 MiB is refused unparsed (the
     * server's own cap is 1 MiB, test_serve_bad) */
    text = calloc((size_t)DT_LIMIT_FILE_BYTES + 2, 1);
    assert_non_null(text);
    assert_int_equal(dt_ballot_parse(e.ctx, &b, &msg, text, (size_t)DT_LIMIT_FILE_BYTES + 1), DT_ERR_LIMIT);
    assert_null(b);
    assert_non_null(strstr(msg, "at most 67108864"));
    free(msg);
    msg = NULL;
    free(text);

    /* 1002 proof branches */
    j = jload(BALLOT1);
    c = json_array_get(json_object_get(j, "contests"), 0);
    s = json_array_get(json_object_get(c, "selections"), 0);
    grow(json_object_get(json_object_get(s, "proof"), "proofs"), DT_LIMIT_PROOF_BRANCHES + 1);
    text = json_dumps(j, 0);
    assert_int_equal(dt_ballot_parse(e.ctx, &b, &msg, text, strlen(text)), DT_ERR_LIMIT);
    assert_null(b);
    assert_non_null(strstr(msg, "more than 1001 items"));
    print_message("  %s\n", msg);
    free(msg);
    free(text);
    json_decref(j);
    election_close(&e);
}

/* ---- the key ceremony ---- */

static void test_ceremony_messages(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    dt_elem K[2];
    dt_scalar c[2], v[2];
    dt_share_ct ct;
    uint32_t i;
    char *msg = NULL, *text, *id;
    json_t *j;
    (void)state;
    assert_non_null(g);

    /* a message over 4 MiB: refused unparsed */
    text = repeat(' ', (4u << 20) + 1);
    assert_int_equal(dt_commitments_from_json(g, NULL, &i, K, c, v, 2, text, strlen(text), &msg), DT_ERR_LIMIT);
    assert_non_null(strstr(msg, "exceeds the limit of 4194304"));
    free(msg);
    msg = NULL;
    assert_int_equal(dt_share_ct_from_json(g, &ct, text, strlen(text), &msg), DT_ERR_LIMIT);
    free(msg);
    msg = NULL;
    free(text);

    /* a guardian_id of 257 bytes */
    id = repeat('g', 257);
    j = json_pack("{s:s, s:i, s:[]}", "guardian_id", id, "x_coordinate", 1, "coefficient_proofs");
    text = json_dumps(j, 0);
    assert_int_equal(dt_commitments_from_json(g, NULL, &i, K, c, v, 2, text, strlen(text), &msg), DT_ERR_LIMIT);
    assert_non_null(strstr(msg, "longer than 256 bytes"));
    print_message("  %s\n", msg);
    free(msg);
    free(text);
    json_decref(j);
    free(id);
    dt_group_destroy(g);
}

static void test_guardian_file(void **state)
{
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    dt_guardian *gd = NULL;
    unsigned char eid[32] = {0};
    char path[512];
    (void)state;
    /* a file over 1 MiB is not a guardian file: refused before Argon2id */
    snprintf(path, sizeof path, "%s/big.key", workdir);
    write_text("big.key", "DTGUARD", 8);
    assert_int_equal(truncate(path, (1 << 20) + 1), 0);
    assert_int_equal(dt_guardian_load(&gd, g, path, "pass", eid), DT_ERR_ENCODING);
    assert_null(gd);
    dt_group_destroy(g);
}

/* ---- the board ---- */

static void test_board_limits(void **state)
{
    char w[512], path[512], *msg = NULL;
    const char *ws[DT_BOARD_MAX_WITNESSES + 1];
    dt_witness *wit = NULL;
    dt_board *b = NULL;
    dt_log *log = NULL;
    uint64_t before, after;
    size_t added = 9, cosigned = 9;
    (void)state;

    /* more than 32 witnesses: refused before anything is written */
    snprintf(w, sizeof w, "%s/w", workdir);
    for (size_t i = 0; i <= DT_BOARD_MAX_WITNESSES; i++)
        ws[i] = w;
    assert_int_equal(dt_board_init(&msg, workdir, "example.org/limits", ws, DT_BOARD_MAX_WITNESSES + 1, 1),
                     DT_ERR_INVALID);
    assert_non_null(strstr(msg, "1 to 32 witnesses"));
    print_message("  %s\n", msg);
    free(msg);
    msg = NULL;
    assert_false(dt_board_exists(workdir));

    /* a witness's list of logs over 1 MiB */
    assert_int_equal(dt_witness_create(w, "witness.example/limits"), DT_OK);
    snprintf(path, sizeof path, "%s/logs", w);
    assert_int_equal(truncate(path, (1 << 20) + 1), 0);
    assert_int_equal(dt_witness_open(&wit, w), DT_ERR_LIMIT);
    assert_null(wit);
    assert_int_equal(truncate(path, 0), 0);

    /* a public file over 256 MiB: publish refuses, and appends nothing */
    assert_int_equal(dt_board_init(&msg, workdir, "example.org/limits", ws, 1, 1), DT_OK);
    assert_int_equal(dt_board_open(&b, &msg, workdir), DT_OK);
    snprintf(path, sizeof path, "%s/private_data/board/log.db", workdir);
    assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
    assert_int_equal(dt_log_size(log, &before), DT_OK);
    snprintf(path, sizeof path, "%s/tally.json", workdir);
    assert_int_equal(truncate(path, (off_t)(256u << 20) + 1), 0);
    assert_int_not_equal(dt_board_publish(b, &msg, &added, &cosigned), DT_OK);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "tally.json: larger than 268435456 bytes"));
    print_message("  %s\n", msg);
    free(msg);
    assert_int_equal(dt_log_size(log, &after), DT_OK);
    assert_int_equal(after, before);
    dt_log_close(log);
    dt_board_close(b);
}

/* ---- the CLI: manifests and passphrases ---- */

/* Runs the CLI with args; returns its exit status; its stderr in err. */
static int cli(char *err, size_t errcap, const char *env, const char *args)
{
    char cmd[4096], path[512];
    FILE *f;
    size_t n;
    int st;
    snprintf(path, sizeof path, "%s/stderr", workdir);
    snprintf(cmd, sizeof cmd, "%s '%s' %s >/dev/null 2>'%s' </dev/null", env ? env : "", DT_CLI, args, path);
    st = system(cmd);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(err, 1, errcap - 1, f);
    err[n] = '\0';
    fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_inputs(void **state)
{
    char err[4096], args[2048], path[512], *env, *pass;
    (void)state;

    /* a manifest over 64 MiB */
    snprintf(path, sizeof path, "%s/big-manifest.json", workdir);
    write_text("big-manifest.json", "{", 1);
    assert_int_equal(truncate(path, (off_t)(64u << 20) + 1), 0);
    snprintf(args, sizeof args, "election create --manifest '%s' --guardians 3 --quorum 2 '%s/new'", path, workdir);
    assert_int_not_equal(cli(err, sizeof err, NULL, args), 0);
    print_message("  %s", err);
    assert_non_null(strstr(err, "big-manifest.json"));
    assert_int_equal(access("new", F_OK), -1);

    /* a passphrase over 1024 bytes, from the environment and from a file */
    snprintf(args, sizeof args, "election create --manifest '%s/manifest.json' --guardians 3 --quorum 2 '%s/e'",
             workdir, workdir);
    assert_int_equal(cli(err, sizeof err, NULL, args), 0);
    pass = repeat('p', 1025);
    env = malloc(strlen(pass) + 32);
    assert_non_null(env);
    sprintf(env, "DETENTE_PASSPHRASE=%s", pass);
    snprintf(args, sizeof args, "guardian init '%s/e' --index 1 --key '%s/g1.key'", workdir, workdir);
    assert_int_not_equal(cli(err, sizeof err, env, args), 0);
    print_message("  %s", err);
    assert_non_null(strstr(err, "longer than 1024 bytes"));
    snprintf(path, sizeof path, "%s/g1.key", workdir);
    assert_int_equal(access(path, F_OK), -1);
    write_text("pass", pass, strlen(pass));
    snprintf(args, sizeof args, "guardian init '%s/e' --index 1 --key '%s/g1.key' --passphrase-file '%s/pass'", workdir,
             workdir, workdir);
    assert_int_not_equal(cli(err, sizeof err, "env -u DETENTE_PASSPHRASE", args), 0);
    print_message("  %s", err);
    assert_int_equal(access(path, F_OK), -1);
    free(env);
    free(pass);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_styles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_votes_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guardians, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coefficients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proof_branches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contest_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baux0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ballot_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_ballots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_ballots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ceremony_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guardian_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_inputs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
