/* The encrypted-ballot readers on cJSON against the jansson readers they
 * replaced (tests/ballot_diff.h): the record reader (dt_record_parse_file,
 * DT_RECORD_FILE_BALLOT) and the ballot module's dt_ballot_parse, on every
 * encrypted ballot of two fresh `detente demo` records (ristretto255,
 * integer4096) and of tests/data/allAvailable, then on mutations of some of
 * them: duplicated keys, numbers written as reals or out of range, bad
 * UTF-8 and escapes, control characters, whitespace jansson does not allow,
 * deep nesting, truncation, type changes, and random byte flips, deletions
 * and insertions (seeded: DT_TEST_SEED replays a run). Each must be accepted
 * by both with equal values or refused by both with the same error and
 * message (a text with a NUL byte: refused by both cJSON readers, as the
 * ballot_diff harness requires). Then the rules one by one, with the
 * message each gives. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ballot_diff.h"
#include "testrand.h"
#include "util/cjson_strict.h"
#include "util/codec.h"

/* ---- the elections and their ballots ---- */

typedef struct text {
    char *p;
    size_t n;
    char name[200];
} text;

typedef struct election {
    char dir[300];
    dt_record *rec;
    dt_ballot_ctx *ctx;
    size_t eb;
    text *ballots;
    size_t nballots;
} election;

enum { E_R255, E_INT, E_SAMPLE, E_COUNT };
static election els[E_COUNT];
static char workdir[] = "/tmp/dt-bparse-XXXXXX";

/* counts of outcomes over a test, to show that both sides were exercised */
static size_t seen[4];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void add_ballot(election *e, const char *path, const char *name)
{
    unsigned char *buf;
    size_t len;
    assert_int_equal(dt_read_file(&buf, &len, path, 1u << 24), DT_OK);
    e->ballots = realloc(e->ballots, (e->nballots + 1) * sizeof *e->ballots);
    assert_non_null(e->ballots);
    e->ballots[e->nballots].p = (char *)buf;
    e->ballots[e->nballots].n = len;
    snprintf(e->ballots[e->nballots].name, sizeof e->ballots[e->nballots].name, "%s", name);
    e->nballots++;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(((const text *)a)->name, ((const text *)b)->name);
}

/* dir's election and every encrypted_ballots/<device>/<file>.json */
static void election_open(election *e, const char *dir)
{
    char *msg = NULL, path[700];
    DIR *d, *dd;
    struct dirent *de, *fe;
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    if (dt_record_load_part(&e->rec, &msg, dir, DT_RECORD_ELECTION) != DT_OK ||
        dt_ballot_ctx_create(&e->ctx, &msg, e->rec) != DT_OK)
        fail_msg("%s: %s", dir, msg ? msg : "?");
    e->eb = e->rec->elem_bytes;
    snprintf(path, sizeof path, "%s/encrypted_ballots", dir);
    d = opendir(path);
    assert_non_null(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/encrypted_ballots/%s", dir, de->d_name);
        dd = opendir(path);
        assert_non_null(dd);
        while ((fe = readdir(dd))) {
            char file[700], name[300];
            size_t l = strlen(fe->d_name);
            if (l < 6 || strcmp(fe->d_name + l - 5, ".json") != 0)
                continue;
            snprintf(file, sizeof file, "%s/%s", path, fe->d_name);
            snprintf(name, sizeof name, "%s/%s", de->d_name, fe->d_name);
            add_ballot(e, file, name);
        }
        closedir(dd);
    }
    closedir(d);
    qsort(e->ballots, e->nballots, sizeof *e->ballots, cmp_text);
    assert_true(e->nballots > 0);
}

static int setup(void **state)
{
    char dir[400];
    (void)state;
    testrand_init();
    if (!mkdtemp(workdir))
        return -1;
    /* small elections: a whole demo in ristretto255 (every tenth ballot
     * challenged); in the integer group, slow to decrypt, the election and
     * two ballots by `detente encrypt` as a voting device, one challenged */
    run("'%s' demo --group ristretto255 --guardians 1 --quorum 1 --absent 0 --ballots 10 --witnesses 1 "
        "--witness-quorum 1 --quiet --out '%s/r255' >/dev/null 2>&1",
        DT_CLI, workdir);
    run("'%s' demo --group integer4096 --guardians 1 --quorum 1 --absent 0 --ballots 2 --witnesses 1 "
        "--witness-quorum 1 --until voting --quiet --out '%s/int' >/dev/null 2>&1 && "
        "mkdir -p '%s/int/encrypted_ballots/device-1' && "
        "'%s' encrypt --allow-overvote '%s/int' '%s/int/private_data/input/pballot-ballot-1.json' "
        ">'%s/int/encrypted_ballots/device-1/eballot-ballot-1.json' 2>/dev/null && "
        "'%s' encrypt --allow-overvote --challenge '%s/int' '%s/int/private_data/input/pballot-ballot-2.json' "
        ">'%s/int/encrypted_ballots/device-1/eballot-ballot-2.json' 2>/dev/null",
        DT_CLI, workdir, workdir, DT_CLI, workdir, workdir, workdir, DT_CLI, workdir, workdir, workdir);
    snprintf(dir, sizeof dir, "%s/r255", workdir);
    election_open(&els[E_R255], dir);
    snprintf(dir, sizeof dir, "%s/int", workdir);
    election_open(&els[E_INT], dir);
    election_open(&els[E_SAMPLE], DT_TEST_DATA "/allAvailable");
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    for (int i = 0; i < E_COUNT; i++) {
        for (size_t b = 0; b < els[i].nballots; b++)
            free(els[i].ballots[b].p);
        free(els[i].ballots);
        dt_ballot_ctx_destroy(els[i].ctx);
        dt_record_destroy(els[i].rec);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the check ---- */

/* Both readers: the record reader with the election's element length (and,
 * if other_group, the other group's, where the encodings are refused), and
 * dt_ballot_parse against the election. Returns the record reader's outcome
 * with the election's length. */
/* A text with a NUL byte: every cJSON reader refuses it. jansson is not
 * the reference there: it reads "62<NUL>" as 62 and goes on (found by the
 * ballot_diff fuzz harness, which has the same rule). */
static bd_outcome expect_refused_nul(const election *e, const char *what, const char *t, size_t n)
{
    dt_record *r = NULL;
    dt_ballot *b = NULL;
    char *msg = NULL;
    if (dt_record_parse_file(&r, &msg, DT_RECORD_FILE_BALLOT, e->eb, (const unsigned char *)t, n) == DT_OK)
        fail_msg("%s: a text with a NUL byte accepted by the record reader", what);
    dt_record_destroy(r);
    free(msg);
    msg = NULL;
    if (dt_ballot_parse(e->ctx, &b, &msg, t, n) == DT_OK)
        fail_msg("%s: a text with a NUL byte accepted by dt_ballot_parse", what);
    dt_ballot_destroy(b);
    free(msg);
    seen[BD_REFUSED] += 2;
    return BD_REFUSED;
}

static bd_outcome check_both(const election *e, const char *what, const char *t, size_t n, int other_group)
{
    char why[4096];
    if (memchr(t, 0, n))
        return expect_refused_nul(e, what, t, n);
    bd_outcome o = bd_record(t, n, e->eb, why, sizeof why);
    if (o == BD_DIFFER)
        fail_msg("%s: %s", what, why);
    if (other_group && bd_record(t, n, e->eb == 32 ? 512 : 32, why, sizeof why) == BD_DIFFER)
        fail_msg("%s: %s", what, why);
    bd_outcome o3 = bd_ballot(e->ctx, t, n, why, sizeof why);
    if (o3 == BD_DIFFER)
        fail_msg("%s: %s", what, why);
    seen[o]++;
    seen[o3]++;
    return o;
}

static bd_outcome check(const election *e, const char *what, const char *t, size_t n)
{
    return check_both(e, what, t, n, 0);
}

static void test_records(void **state)
{
    (void)state;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < E_COUNT; i++) {
        const election *e = &els[i];
        for (size_t b = 0; b < e->nballots; b++) {
            char what[600];
            snprintf(what, sizeof what, "%s/%s", e->dir, e->ballots[b].name);
            /* a real ballot is accepted, by both */
            if (check_both(e, what, e->ballots[b].p, e->ballots[b].n, 1) != BD_ACCEPTED)
                fail_msg("%s: refused", what);
        }
    }
    printf("ballots read by both readers: %zu, %zu, %zu\n", els[E_R255].nballots, els[E_INT].nballots,
           els[E_SAMPLE].nballots);
    assert_true(els[E_R255].nballots >= 10 && els[E_INT].nballots >= 2 && els[E_SAMPLE].nballots >= 40);
}

/* ---- mutations ---- */

typedef struct buf {
    char *p;
    size_t n;
} buf;

/* t with [at, at + del) replaced by ins[0..insn) */
static buf splice(const text *t, size_t at, size_t del, const char *ins, size_t insn)
{
    buf b;
    assert_true(at <= t->n && del <= t->n - at);
    b.n = t->n - del + insn;
    b.p = malloc(b.n ? b.n : 1);
    assert_non_null(b.p);
    memcpy(b.p, t->p, at);
    memcpy(b.p + at, ins, insn);
    memcpy(b.p + at + insn, t->p + at + del, t->n - at - del);
    return b;
}

/* the position of the n-th (0-based) occurrence of s in t, or SIZE_MAX */
static size_t find(const text *t, const char *s, size_t nth)
{
    size_t l = strlen(s);
    for (size_t i = 0; i + l <= t->n; i++)
        if (memcmp(t->p + i, s, l) == 0 && nth-- == 0)
            return i;
    return SIZE_MAX;
}

static size_t count_of(const text *t, const char *s)
{
    size_t k = 0;
    while (find(t, s, k) != SIZE_MAX)
        k++;
    return k;
}

static size_t nmut;

static bd_outcome try_buf(const election *e, const text *t, const char *how, buf b)
{
    char what[600];
    snprintf(what, sizeof what, "%s, mutated: %s", t->name, how);
    bd_outcome o = check(e, what, b.p, b.n);
    free(b.p);
    nmut++;
    return o;
}

/* inserts ins at the position of the occurrence of `at` (plus off) */
static bd_outcome try_insert(const election *e, const text *t, const char *at, size_t nth, size_t off,
                             const char *ins, size_t insn)
{
    char how[300];
    size_t pos = find(t, at, nth);
    if (pos == SIZE_MAX)
        return BD_REFUSED; /* not in this ballot: nothing to try */
    snprintf(how, sizeof how, "%.40s inserted at %s #%zu", ins, at, nth);
    return try_buf(e, t, how, splice(t, pos + off, 0, ins, insn));
}

/* replaces the value after `"key": ` (the nth occurrence) up to its end
 * (a number, literal or string) by val */
static bd_outcome try_value(const election *e, const text *t, const char *key, size_t nth, const char *val)
{
    char pat[120], how[400];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    size_t pos = find(t, pat, nth);
    if (pos == SIZE_MAX)
        return BD_REFUSED;
    size_t v = pos + strlen(pat), end = v;
    if (t->p[v] == '"') {
        end = v + 1;
        while (end < t->n && t->p[end] != '"')
            end += t->p[end] == '\\' ? 2 : 1;
        end++;
    } else {
        while (end < t->n && t->p[end] != ',' && t->p[end] != '\n' && t->p[end] != '}' && t->p[end] != ']')
            end++;
    }
    snprintf(how, sizeof how, "%s #%zu = %.60s", key, nth, val);
    return try_buf(e, t, how, splice(t, v, end - v, val, strlen(val)));
}

/* every `"key": ` renamed `"x-key": ` */
static buf rename_all(const char *p, size_t n, const char *key)
{
    char pat[64], to[64];
    size_t pl, tl, k = 0;
    text t = {.p = (char *)p, .n = n};
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    snprintf(to, sizeof to, "\"x-%s\": ", key);
    pl = strlen(pat);
    tl = strlen(to);
    buf b = {.p = malloc(n + (tl - pl) * (count_of(&t, pat) + 1)), .n = 0};
    assert_non_null(b.p);
    while (k < n) {
        if (n - k >= pl && memcmp(p + k, pat, pl) == 0) {
            memcpy(b.p + b.n, to, tl);
            b.n += tl;
            k += pl;
        } else {
            b.p[b.n++] = p[k++];
        }
    }
    return b;
}

/* Two keys of one kind of object missing everywhere: the reader's order of
 * checks decides which one the message names. */
static void try_missing_pairs(const election *e, const text *t)
{
    static const char *const groups[][11] = {
        {"ballot_id", "ballot_style_id", "encrypting_device", "timestamp", "code_baux", "confirmation_code",
         "election_id", "state", "is_preencrypt", "contests", NULL},
        {"contest_id", "sequence_order", "contest_hash", "proof", "selections", "encrypted_contest_data", NULL},
        {"selection_id", "sequence_order", "encrypted_vote", "proof", NULL},
        {"proofs", "challenge", "response", "a", "b", NULL},
        {"pad", "data", "c0", "c1", "c2", "numBytes", NULL},
    };
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (size_t i = 0; groups[g][i]; i++)
            for (size_t j = i + 1; groups[g][j]; j++) {
                char how[160];
                buf a = rename_all(t->p, t->n, groups[g][i]);
                buf b = rename_all(a.p, a.n, groups[g][j]);
                free(a.p);
                snprintf(how, sizeof how, "%s and %s missing", groups[g][i], groups[g][j]);
                try_buf(e, t, how, b);
            }
}

static const char *const number_keys[] = {"sequence_order", "timestamp", "numBytes"};
static const char *const numbers[] = {
    "1.0", "1e0", "1E+0", "10e-1", "-0", "-0.0", "0", "1", "1e400", "-1e400", "1e-400", "01", "1.", ".5", "-",
    "+1", "1e", "0x10", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "9007199254740993", "-9007199254740993", "2147483647", "2147483648", "4294967296",
    "-1", "0.5", "99999999999999999999",
    "100000000000000000000000000000000000000000000000000000000000000000000000000000000.0",
    "1.00000000000000000000000000000000000000000000000000000000000000000000000000000001", "true", "null",
    "\"1\"", "[1]", "{}", "1 2", "Infinity", "NaN"};

/* inside a string value (after its opening quote) */
static const char *const in_strings[] = {
    "\\u0000", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\uD834\\uDD1E", "\\ud800\\u0041", "\\ud800x", "\\u00e9",
    "\\u0041", "\\u12", "\\x", "\\/", "\\\"", "\\\\", "\\b\\f\\n\\r\\t", "\xc3\xa9", "\xf0\x9f\x97\xb3",
    "\xff", "\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
    "\xe2\x82", "\xf0\x9f\x97", "\x01", "\x1f", "\t", "\n", "\r", "\x7f", "\xef\xbb\xbf"};

/* whole-text changes */
static void try_whole(const election *e, const text *t)
{
    static const char *const prefixes[] = {"\xef\xbb\xbf", "\f", "\x0b", "\x01", " \t\r\n", "[", "x", "\"", "\x80"};
    static const char *const suffixes[] = {"x", "{}", "[]", " \n\t\r", "\f", "\x0b", "\x01", ",", "}", "]", "\xff",
                                           "\xc3\xa9", "null", "\"\""};
    static const char *const whole[] = {"", " ", "{}", "[]", "[{}]", "\"x\"", "1", "null", "true", "{", "[",
                                        "{\"ballot_id\": 1}", "{\"ballot_id\": \"x\"}", "\xef\xbb\xbf{}", "{}\0"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        char how[80];
        snprintf(how, sizeof how, "prefix %zu", i);
        try_buf(e, t, how, splice(t, 0, 0, prefixes[i], strlen(prefixes[i])));
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char how[80];
        snprintf(how, sizeof how, "suffix %zu", i);
        try_buf(e, t, how, splice(t, t->n, 0, suffixes[i], strlen(suffixes[i])));
    }
    /* a NUL byte after the text (counted in its length) */
    try_buf(e, t, "suffix NUL", splice(t, t->n, 0, "\0", 1));
    {
        /* a NUL in place of the new line right after a number's digits:
         * jansson reads it as the end of the number and accepts the text (a
         * seed of test_mutations met it) */
        size_t pos = find(t, "\"numBytes\": ", 0);
        assert_true(pos != SIZE_MAX);
        pos += strlen("\"numBytes\": ");
        while (pos < t->n && t->p[pos] >= '0' && t->p[pos] <= '9')
            pos++;
        try_buf(e, t, "a NUL after a number", splice(t, pos, 1, "\0", 1));
    }
    {
        buf b = splice(t, 0, 0, "[", 1);
        text u = {.p = b.p, .n = b.n};
        try_buf(e, t, "wrapped in an array", splice(&u, u.n, 0, "]", 1));
        free(b.p);
    }
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        char how[80];
        snprintf(how, sizeof how, "whole text %zu", i);
        size_t l = i == sizeof whole / sizeof *whole - 1 ? 3 : strlen(whole[i]);
        try_buf(e, t, how, splice(t, 0, t->n, whole[i], l));
    }
}

/* an unknown member nested d levels deep (arrays, or objects) after the
 * first '{': the text is then nested d + 1 levels */
static bd_outcome try_deep(const election *e, const text *t, size_t d, int objects)
{
    size_t cap = 16 + 8 * d, n = 0;
    char *ins = malloc(cap), how[80];
    assert_non_null(ins);
    n += (size_t)snprintf(ins, cap, "\"x-deep\": ");
    for (size_t i = 0; i < d; i++)
        n += (size_t)snprintf(ins + n, cap - n, "%s", objects ? "{\"a\":" : "[");
    if (objects)
        ins[n++] = '1';
    for (size_t i = 0; i < d; i++)
        ins[n++] = objects ? '}' : ']';
    ins[n++] = ',';
    snprintf(how, sizeof how, "nested %zu levels (%s)", d + 1, objects ? "objects" : "arrays");
    bd_outcome o = try_buf(e, t, how, splice(t, 1, 0, ins, n));
    free(ins);
    return o;
}

/* a member x-big: an object of k keys (k > 16 sorts its keys), the last
 * one repeating the first if dup */
static bd_outcome try_big_object(const election *e, const text *t, size_t k, int dup)
{
    char ins[4096], how[80];
    size_t n = (size_t)snprintf(ins, sizeof ins, "\"x-big\": {");
    for (size_t i = 0; i < k; i++)
        n += (size_t)snprintf(ins + n, sizeof ins - n, "%s\"k%zu\": %zu", i ? ", " : "", dup && i == k - 1 ? 0 : i,
                              i);
    n += (size_t)snprintf(ins + n, sizeof ins - n, "},");
    snprintf(how, sizeof how, "an object of %zu keys%s", k, dup ? " with a duplicate" : "");
    return try_buf(e, t, how, splice(t, 1, 0, ins, n));
}

/* full: every kind of change; otherwise duplicates, nesting, the whole
 * text and truncations only */
static void mutate_structured(const election *e, const text *t, int full)
{
    static const char *const keys[] = {"ballot_id", "ballot_style_id", "encrypting_device", "timestamp",
                                       "code_baux", "confirmation_code", "election_id", "state", "is_preencrypt",
                                       "contests", "contest_id", "sequence_order", "contest_hash", "proof",
                                       "proofs", "challenge", "response", "a", "b", "selections",
                                       "selection_id", "encrypted_vote", "pad", "data",
                                       "encrypted_contest_data", "c0", "c1", "c2", "numBytes"};
    char ins[200];
    /* every key repeated in its own object: "k": null before "k": */
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[i]);
        snprintf(ins, sizeof ins, "\"%s\": null, ", keys[i]);
        if (try_insert(e, t, pat, 0, 0, ins, strlen(ins)) != BD_REFUSED)
            fail_msg("%s: a duplicate %s accepted", t->name, keys[i]);
        if (!full)
            continue;
        /* the last occurrence too (deepest objects) */
        size_t c = count_of(t, pat);
        if (c > 1)
            try_insert(e, t, pat, c - 1, 0, ins, strlen(ins));
        /* a key written with an escape is the same key: still a duplicate */
        snprintf(ins, sizeof ins, "\"\\u%04x%s\": null, ", keys[i][0], keys[i] + 1);
        try_insert(e, t, pat, 0, 0, ins, strlen(ins));
        /* the key renamed by an escape, alone: the same key, accepted */
        snprintf(ins, sizeof ins, "\"\\u%04x", keys[i][0]);
        {
            size_t pos = find(t, pat, 0);
            if (pos != SIZE_MAX)
                try_buf(e, t, "a key's first letter escaped", splice(t, pos, 2, ins, strlen(ins)));
        }
    }
    /* duplicates in an unknown member, small and large objects */
    try_insert(e, t, "{", 0, 1, "\"x-extra\": {\"k\": 1, \"k\": 2}, ", 28);
    try_insert(e, t, "{", 0, 1, "\"x-extra\": [{\"k\": 1, \"j\": {\"k\": 1, \"k\": 2}}], ", 46);
    try_insert(e, t, "{", 0, 1, "\"x-extra\": 1, \"x-extra\": 1, ", 28);
    try_big_object(e, t, 16, 0);
    try_big_object(e, t, 16, 1);
    try_big_object(e, t, 17, 0);
    try_big_object(e, t, 17, 1);
    try_big_object(e, t, 200, 0);
    try_big_object(e, t, 200, 1);
    if (!full)
        goto ends;
    /* numbers: every variant in every integer key (sequence_order: the
     * first, a contest's, and the last, a selection's) */
    for (size_t k = 0; k < sizeof number_keys / sizeof *number_keys; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", number_keys[k]);
        size_t c = count_of(t, pat);
        for (size_t i = 0; c && i < sizeof numbers / sizeof *numbers; i++) {
            try_value(e, t, number_keys[k], 0, numbers[i]);
            if (c > 1 && k == 0)
                try_value(e, t, number_keys[k], c - 1, numbers[i]);
        }
    }
    /* numbers where no number is read: an unknown member */
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        snprintf(ins, sizeof ins, "\"x-num\": %s, ", numbers[i]);
        try_insert(e, t, "{", 0, 1, ins, strlen(ins));
    }
    /* strings: in an id (read), a base64 value (decoded), a key, and an
     * unknown member (not read) */
    for (size_t i = 0; i < sizeof in_strings / sizeof *in_strings; i++) {
        const char *s = in_strings[i];
        try_insert(e, t, "\"ballot_id\": \"", 0, 14, s, strlen(s));
        try_insert(e, t, "\"pad\": \"", 0, 8, s, strlen(s));
        try_insert(e, t, "\"selection_id\"", 0, 1, s, strlen(s));
        snprintf(ins, sizeof ins, "\"x-str\": \"%s\", ", s);
        try_insert(e, t, "{", 0, 1, ins, strlen(ins));
        /* outside any string */
        try_insert(e, t, "\"ballot_id\"", 0, 0, s, strlen(s));
    }
    /* types and values of the read members: one key of each kind */
    static const char *const values[] = {"1", "1.5", "null", "true", "false", "\"\"", "[]", "{}", "[1]",
                                         "{\"a\": 1}", "\"CAST\"", "\"CHALLENGED\"", "\"cast\"", "\"00\"",
                                         "\"0\"", "\"AA==\""};
    static const char *const typed[] = {"ballot_id", "timestamp", "code_baux", "confirmation_code", "state",
                                        "is_preencrypt", "sequence_order", "pad", "challenge", "a", "c1"};
    for (size_t k = 0; k < sizeof typed / sizeof *typed; k++)
        for (size_t i = 0; i < sizeof values / sizeof *values; i++)
            try_value(e, t, typed[k], 0, values[i]);
    /* containers emptied or retyped */
    try_insert(e, t, "\"proofs\": [", 0, 11, "], \"x\": [", 9);
    try_insert(e, t, "\"selections\": [", 0, 15, "], \"x\": [", 9);
    try_insert(e, t, "\"contests\": [", 0, 13, "], \"x\": [", 9);
    try_insert(e, t, "\"proofs\": [", 0, 11, "1, ", 3);
    try_insert(e, t, "\"contests\": [", 0, 13, "null, ", 6);
    try_insert(e, t, "\"selections\": [", 0, 15, "[], ", 4);
    /* a missing key: renamed; two missing: the order of the checks */
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[k]);
        try_insert(e, t, pat, 0, 1, "x-", 2);
    }
    try_missing_pairs(e, t);
    /* an empty object first in each array of objects */
    try_insert(e, t, "\"proofs\": [", 0, 11, "{}, ", 4);
    try_insert(e, t, "\"selections\": [", 0, 15, "{}, ", 4);
    try_insert(e, t, "\"contests\": [", 0, 13, "{}, ", 4);
ends:
    /* nesting: cJSON parses 1000 levels; jansson reads 1001 to 2048 for
     * it; from 2049 neither */
    assert_int_equal(try_deep(e, t, 999, 0), BD_ACCEPTED);
    assert_int_equal(try_deep(e, t, 1000, 0), BD_ACCEPTED);
    assert_int_equal(try_deep(e, t, 1000, 1), BD_ACCEPTED);
    assert_int_equal(try_deep(e, t, 2047, 0), BD_ACCEPTED);
    assert_int_equal(try_deep(e, t, 2048, 0), BD_REFUSED);
    assert_int_equal(try_deep(e, t, 998, 1), BD_ACCEPTED);
    assert_int_equal(try_deep(e, t, 5000, 0), BD_REFUSED);
    try_whole(e, t);
    /* truncations: every length in the last 32 bytes, and 16 more */
    for (size_t i = 1; i <= 32 && i <= t->n; i++)
        try_buf(e, t, "truncated at the end", splice(t, t->n - i, i, "", 0));
    for (size_t i = 0; i < 16; i++) {
        size_t at = (size_t)testrand_u64(t->n);
        try_buf(e, t, "truncated", splice(t, at, t->n - at, "", 0));
    }
}

/* random byte flips, deletions, insertions and repeated spans */
static void mutate_random(const election *e, const text *t, size_t count)
{
    static const char interesting[] = "\"{}[],:\\0e.-+ \t\n\x00\x01\x1f\x7f\x80\xbf\xc3\xed\xf4\xff";
    for (size_t i = 0; i < count; i++) {
        size_t at = (size_t)testrand_u64(t->n), len = 1 + (size_t)testrand_u64(8), kind = (size_t)testrand_u64(4);
        char c[2];
        c[0] = testrand_u64(2) ? interesting[testrand_u64(sizeof interesting - 1)] : (char)testrand_u64(256);
        if (len > t->n - at)
            len = t->n - at;
        switch (kind) {
        case 0:
            try_buf(e, t, "a byte replaced", splice(t, at, 1, c, 1));
            break;
        case 1:
            try_buf(e, t, "bytes deleted", splice(t, at, len, "", 0));
            break;
        case 2:
            try_buf(e, t, "a byte inserted", splice(t, at, 0, c, 1));
            break;
        default:
            try_buf(e, t, "a span repeated", splice(t, at, 0, t->p + at, len));
        }
    }
}

static const text *ballot_named(const election *e, const char *suffix)
{
    for (size_t b = 0; b < e->nballots; b++) {
        size_t l = strlen(e->ballots[b].name), s = strlen(suffix);
        if (l >= s && strcmp(e->ballots[b].name + l - s, suffix) == 0)
            return &e->ballots[b];
    }
    fail_msg("no ballot *%s in %s", suffix, e->dir);
    return NULL;
}

static void test_mutations(void **state)
{
    (void)state;
    const struct {
        int el;
        const char *name;
        int full;
    } seeds[] = {{E_R255, "eballot-ballot-1.json", 1},
                 {E_R255, "eballot-ballot-10.json", 0}, /* challenged */
                 {E_INT, "eballot-ballot-1.json", 0},
                 {E_SAMPLE, "eballot-id-3.json", 1}};
    memset(seen, 0, sizeof seen);
    nmut = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        const election *e = &els[seeds[i].el];
        const text *t = ballot_named(e, seeds[i].name);
        mutate_structured(e, t, seeds[i].full);
        mutate_random(e, t, 75);
    }
    printf("mutations: %zu; outcomes (record reader and dt_ballot_parse): %zu accepted by both, %zu refused by "
           "both\n",
           nmut, seen[BD_ACCEPTED], seen[BD_REFUSED]);
    /* both sides of every rule were reached */
    assert_true(nmut > 1000);
    assert_true(seen[BD_ACCEPTED] > 100 && seen[BD_REFUSED] > 1000);
}

/* ---- the rules one by one: what each refusal says ---- */

static void expect(const election *e, const char *from, const char *to, dt_err want, const char *msg_part)
{
    const text *t = &e->ballots[0];
    size_t pos = find(t, from, 0);
    dt_record *rec = NULL;
    char *msg = NULL;
    assert_true(pos != SIZE_MAX);
    buf b = splice(t, pos, strlen(from), to, strlen(to));
    check(e, to, b.p, b.n);
    dt_err err = dt_record_parse_file(&rec, &msg, DT_RECORD_FILE_BALLOT, e->eb, (unsigned char *)b.p, b.n);
    if (err != want || (want != DT_OK && (!msg || !strstr(msg, msg_part))))
        fail_msg("%s -> %s: got %d (%s), expected %d with \"%s\"", from, to, err, msg ? msg : "-", want,
                 msg_part ? msg_part : "");
    if (want == DT_OK && msg_part) {
        /* msg_part is then the expected timestamp */
        assert_int_equal(rec->ballots[0].timestamp, strtoll(msg_part, NULL, 10));
    }
    dt_record_destroy(rec);
    free(msg);
    free(b.p);
}

static void test_rules(void **state)
{
    (void)state;
    const election *e = &els[E_R255];
    /* integers: a real is not an integer, even 1.0; 64 bits exactly */
    expect(e, "\"sequence_order\": 1", "\"sequence_order\": 1.0", DT_ERR_PARSE,
           "contests[0].sequence_order: expected an integer, found a real number");
    expect(e, "\"sequence_order\": 1", "\"sequence_order\": 1e0", DT_ERR_PARSE, "found a real number");
    expect(e, "\"sequence_order\": 1", "\"sequence_order\": -0", DT_OK, NULL);
    expect(e, "\"sequence_order\": 1", "\"sequence_order\": 2147483648", DT_ERR_RANGE,
           "2147483648 is outside 0..2147483647");
    expect(e, "\"timestamp\": ", "\"timestamp\": 9007199254740993, \"x\": ", DT_OK, "9007199254740993");
    expect(e, "\"timestamp\": ", "\"timestamp\": -9223372036854775808, \"x\": ", DT_OK, "-9223372036854775808");
    expect(e, "\"timestamp\": ", "\"timestamp\": 9223372036854775808, \"x\": ", DT_ERR_PARSE, "too big integer");
    expect(e, "\"timestamp\": ", "\"timestamp\": 1e400, \"x\": ", DT_ERR_PARSE, "real number overflow");
    expect(e, "\"timestamp\": ", "\"timestamp\": 01, \"x\": ", DT_ERR_PARSE, "invalid token");
    /* duplicates, also in members nobody reads, also behind an escape */
    expect(e, "\"state\": ", "\"state\": 1, \"state\": ", DT_ERR_PARSE, "duplicate object key");
    expect(e, "\"state\": ", "\"x\": {\"k\": 1, \"k\": 1}, \"state\": ", DT_ERR_PARSE, "duplicate object key");
    expect(e, "\"state\": ", "\"st\\u0061te\": 1, \"state\": ", DT_ERR_PARSE, "duplicate object key");
    /* text: UTF-8, \u0000 and lone surrogates, control characters */
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\xff", DT_ERR_PARSE, "unable to decode byte 0xff");
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\xed\xa0\x80", DT_ERR_PARSE, "unable to decode byte 0xed");
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\\u0000", DT_ERR_PARSE,
           "\\u0000 is not allowed without JSON_ALLOW_NUL");
    expect(e, "\"ballot_id\": \"", "\"x\\u0000\": 1, \"ballot_id\": \"", DT_ERR_PARSE,
           "NUL byte in object key not supported");
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\\udc00", DT_ERR_PARSE, "invalid Unicode '\\uDC00'");
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\\ud800", DT_ERR_PARSE, "invalid Unicode");
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\\ud83d\\uddf3", DT_OK, NULL);
    expect(e, "\"ballot_id\": \"", "\"ballot_id\": \"\x01", DT_ERR_PARSE, "control character 0x1");
    /* structure: whitespace, trailing bytes, the top level */
    expect(e, "{", "\f{", DT_ERR_PARSE, "'[' or '{' expected");
    expect(e, "{", "\xef\xbb\xbf{", DT_ERR_PARSE, "'[' or '{' expected");
    expect(e, "{", "[{", DT_ERR_PARSE, "invalid JSON");
    expect(e, "\"ballot_id\"", "\x0b\"ballot_id\"", DT_ERR_PARSE, "invalid JSON");
    expect(e, "\"ballot_id\"", "\"ballot_id\",", DT_ERR_PARSE, "':' expected");
    /* the messages of the readers' own checks, as before */
    expect(e, "\"state\": \"CAST\"", "\"state\": \"cast\"", DT_ERR_INVALID, "\"cast\" is neither CAST nor CHALLENGED");
    expect(e, "\"ballot_id\": ", "\"ballot_id\": 7, \"x\": ", DT_ERR_PARSE,
           "ballot_id: expected a string, found an integer");
}

/* Nesting: cJSON parses 1000 levels at most; a deeper text is read by
 * jansson (up to its own 2048 levels), so that it is accepted or refused as
 * it was. */
static void test_deep(void **state)
{
    (void)state;
    const election *e = &els[E_R255];
    const text *t = &e->ballots[0];
    static const size_t depths[] = {DT_JSON_MAX_DEPTH - 1, DT_JSON_MAX_DEPTH, 2047, 2048};
    for (size_t k = 0; k < sizeof depths / sizeof *depths; k++) {
        size_t d = depths[k];
        char *ins = malloc(2 * d + 16);
        dt_record *rec = NULL;
        dt_ballot *bl = NULL;
        char *msg = NULL;
        size_t n = (size_t)sprintf(ins, "\"x\": ");
        memset(ins + n, '[', d);
        memset(ins + n + d, ']', d);
        n += 2 * d;
        ins[n++] = ',';
        buf b = splice(t, 1, 0, ins, n);
        free(ins);
        /* the text is nested d + 1 levels: up to 2048, jansson reads it */
        dt_err want = d + 1 <= 2048 ? DT_OK : DT_ERR_PARSE;
        assert_int_equal(dt_record_parse_file(&rec, &msg, DT_RECORD_FILE_BALLOT, e->eb, (unsigned char *)b.p, b.n),
                         want);
        if (want != DT_OK)
            assert_string_equal(msg, "encrypted_ballots/ballot.json: invalid JSON at line 1, column 2054: "
                                     "maximum parsing depth reached near '['");
        dt_record_destroy(rec);
        free(msg);
        msg = NULL;
        assert_int_equal(dt_ballot_parse(e->ctx, &bl, &msg, b.p, b.n), want);
        if (want != DT_OK)
            assert_string_equal(msg, "encrypted ballot: invalid JSON at line 1, column 2054: "
                                     "maximum parsing depth reached near '['");
        dt_ballot_destroy(bl);
        free(msg);
        free(b.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
