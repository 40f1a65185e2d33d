/* The log store (include/detente/log.h): entries read back, roots against
 * dt_merkle_root at every size up to 600 and around 65,536, proofs that
 * verify, every documented error with nothing stored, keys, two handles on
 * one file, reopening, files that are not logs, blobs, settings, and tiles
 * checked by recomputing them from the exported files alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <detente/hash.h>
#include <detente/log.h>
#include <detente/tiles.h>

#include "testrand.h"
#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES
typedef unsigned char hash_t[HB];

static char workdir[64];
static char pathbuf[256];

static const char *wpath(const char *name)
{
    snprintf(pathbuf, sizeof pathbuf, "%s/%s", workdir, name);
    return pathbuf;
}

static int setup(void **state)
{
    (void)state;
    testrand_init();
    snprintf(workdir, sizeof workdir, "/tmp/dt-log-XXXXXX");
    return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    return system(cmd);
}

/* Entry i: (i * 37) % 301 bytes (0 for i = 0) derived from i; all distinct. */
static size_t entry_of(unsigned char *buf, uint64_t i)
{
    size_t n = (size_t)((i * 37) % 301);
    for (size_t j = 0; j < n; j++)
        buf[j] = (unsigned char)((i >> (8 * (j % 8))) + j * 131);
    if (n >= 8)
        memcpy(buf, &i, 8);
    return n;
}

/* Appends entries [from, from + n) of entry_of in one call. */
static dt_err append_range(dt_log *log, uint64_t from, size_t n, uint64_t *first)
{
    unsigned char *buf = malloc(n * 301 + 1);
    const unsigned char **ents = malloc(n * sizeof *ents);
    size_t *lens = malloc(n * sizeof *lens);
    assert_true(buf && ents && lens);
    for (size_t i = 0; i < n; i++) {
        ents[i] = buf + i * 301;
        lens[i] = entry_of(buf + i * 301, from + i);
        if (lens[i] == 0)
            ents[i] = NULL; /* allowed for an empty entry */
    }
    dt_err err = dt_log_append(log, ents, lens, n, first);
    free(buf);
    free(ents);
    free(lens);
    return err;
}

static void leaf_of(hash_t out, uint64_t i)
{
    unsigned char buf[301];
    dt_merkle_leaf_hash(out, buf, entry_of(buf, i));
}

static dt_log *open_new(const char *name)
{
    dt_log *log = NULL;
    unlink(wpath(name));
    assert_int_equal(dt_log_open(&log, wpath(name), 1), DT_OK);
    return log;
}

static uint64_t size_of(dt_log *log)
{
    uint64_t n = 12345;
    assert_int_equal(dt_log_size(log, &n), DT_OK);
    return n;
}

/* The tree of the first size leaves: root, every inclusion proof of a few
 * indexes, consistency from a few sizes, all through the store. */
static void check_tree(dt_log *log, const hash_t *leaves, uint64_t size, int all_proofs)
{
    hash_t root, want, r1;
    hash_t proof[DT_MERKLE_MAX_PROOF];
    size_t plen;

    dt_merkle_root(want, leaves, size);
    assert_int_equal(dt_log_root(log, size, root), DT_OK);
    assert_memory_equal(root, want, HB);
    if (size == 0)
        return;
    uint64_t picks[4] = {0, size - 1, size / 2, testrand_u64(size)};
    for (uint64_t k = 0; k < (all_proofs ? size : 4); k++) {
        uint64_t i = all_proofs ? k : picks[k];
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, i, size), DT_OK);
        assert_int_equal(dt_merkle_inclusion_verify(i, size, leaves[i], (const hash_t *)proof, plen, root), DT_OK);
    }
    uint64_t froms[4] = {1, size, size / 2 + 1, 1 + testrand_u64(size)};
    for (int k = 0; k < 4; k++) {
        uint64_t m = froms[k];
        dt_merkle_root(r1, leaves, m);
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_log_consistency_proof(log, proof, &plen, m, size), DT_OK);
        assert_int_equal(dt_merkle_consistency_verify(m, size, r1, root, (const hash_t *)proof, plen), DT_OK);
    }
}

/* ---- tests ---- */

static void test_append_read(void **state)
{
    (void)state;
    enum { N = 600 };
    hash_t *leaves = malloc(N * sizeof *leaves);
    dt_log *log = open_new("a.db");
    uint64_t size = 0, first;
    assert_non_null(leaves);
    for (uint64_t i = 0; i < N; i++)
        leaf_of(leaves[i], i);

    /* empty log */
    assert_int_equal(size_of(log), 0);
    check_tree(log, leaves, 0, 0);

    /* batches of random sizes 1..40 (and n == 0, a no-op), checking every size */
    assert_int_equal(dt_log_append(log, NULL, NULL, 0, NULL), DT_OK);
    while (size < N) {
        size_t n = 1 + (size_t)testrand_u64(40);
        if (n > N - size)
            n = N - size;
        first = 999999;
        assert_int_equal(append_range(log, size, n, &first), DT_OK);
        assert_int_equal(first, size);
        for (uint64_t s = size + 1; s <= size + n; s++)
            check_tree(log, leaves, s, s < 70 || s == N);
        size += n;
        assert_int_equal(size_of(log), size);
    }
    /* entries read back byte for byte, with a NUL after them */
    for (uint64_t i = 0; i < N; i++) {
        unsigned char want[301], *data = NULL;
        size_t len = 0, wlen = entry_of(want, i);
        assert_int_equal(dt_log_entry(log, i, &data, &len), DT_OK);
        assert_int_equal(len, wlen);
        assert_memory_equal(data, want, wlen);
        assert_int_equal(data[len], 0);
        free(data);
    }
    /* every node inside the tree, and the first one outside, per level */
    for (unsigned l = 0; l < 12; l++) {
        uint64_t count = N >> l;
        hash_t got, want;
        for (uint64_t j = 0; j < count; j++) {
            dt_merkle_root(want, (const hash_t *)leaves + (j << l), (uint64_t)1 << l);
            assert_int_equal(dt_log_node(log, got, l, j), DT_OK);
            assert_memory_equal(got, want, HB);
        }
        assert_int_equal(dt_log_node(log, got, l, count), DT_ERR_RANGE);
        assert_int_equal(dt_log_node_fn(log, got, l, count + 300), DT_ERR_RANGE);
    }
    dt_log_close(log);
    free(leaves);
}

static void test_edges(void **state)
{
    (void)state;
    dt_log *log = open_new("e.db");
    hash_t h, proof[DT_MERKLE_MAX_PROOF];
    unsigned char *data = (unsigned char *)"x";
    size_t plen, len = 7;

    /* size 0 */
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, 0, 0), DT_ERR_RANGE);
    assert_int_equal(plen, 0);
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_consistency_proof(log, proof, &plen, 0, 0), DT_ERR_RANGE);
    assert_int_equal(dt_log_entry(log, 0, &data, &len), DT_ERR_RANGE);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(dt_log_node(log, h, 0, 0), DT_ERR_RANGE);
    assert_int_equal(dt_log_root(log, 1, h), DT_ERR_RANGE);

    assert_int_equal(append_range(log, 0, 5, NULL), DT_OK);
    /* index >= size, size > current */
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, 5, 5), DT_ERR_RANGE);
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, 0, 6), DT_ERR_RANGE);
    assert_int_equal(plen, 0);
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_consistency_proof(log, proof, &plen, 3, 6), DT_ERR_RANGE);
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_consistency_proof(log, proof, &plen, 4, 3), DT_ERR_RANGE);
    plen = DT_MERKLE_MAX_PROOF;
    assert_int_equal(dt_log_consistency_proof(log, proof, &plen, 5, 5), DT_OK);
    assert_int_equal(plen, 0);
    /* a short proof array: DT_ERR_LIMIT from merkle.c */
    plen = 1;
    assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, 0, 5), DT_ERR_LIMIT);
    assert_int_equal(dt_log_entry(log, 5, &data, &len), DT_ERR_RANGE);
    assert_int_equal(dt_log_entry(log, UINT64_MAX, &data, &len), DT_ERR_RANGE);
    assert_int_equal(dt_log_root(log, 6, h), DT_ERR_RANGE);
    assert_int_equal(dt_log_node(log, h, 0, 5), DT_ERR_RANGE);
    assert_int_equal(dt_log_node(log, h, 3, 0), DT_ERR_RANGE); /* 8 leaves: not inside */
    assert_int_equal(dt_log_node(log, h, 2, 0), DT_OK);
    assert_int_equal(dt_log_node(log, h, 64, 0), DT_ERR_RANGE);
    assert_int_equal(dt_log_node(log, h, 0, UINT64_MAX), DT_ERR_RANGE);
    assert_int_equal(dt_log_export_tiles(log, wpath("e-tiles"), 6), DT_ERR_RANGE);
    assert_int_equal(size_of(log), 5);
    dt_log_close(log);
    dt_log_close(NULL);
}

static void test_limits(void **state)
{
    (void)state;
    dt_log *log = open_new("l.db");
    unsigned char *big = calloc(1, DT_LOG_ENTRY_MAX + 1);
    const unsigned char *ents[3];
    size_t lens[3];
    uint64_t first = 77;
    assert_non_null(big);
    assert_int_equal(append_range(log, 0, 3, NULL), DT_OK);

    /* one entry one byte too long, in a batch of otherwise good entries */
    ents[0] = big, lens[0] = 10;
    ents[1] = big, lens[1] = DT_LOG_ENTRY_MAX + 1;
    ents[2] = big, lens[2] = 1;
    assert_int_equal(dt_log_append(log, ents, lens, 3, &first), DT_ERR_LIMIT);
    assert_int_equal(first, 0);
    assert_int_equal(size_of(log), 3);
    /* the longest entry and an empty one are fine */
    lens[1] = DT_LOG_ENTRY_MAX;
    ents[2] = NULL, lens[2] = 0;
    assert_int_equal(dt_log_append(log, ents, lens, 3, &first), DT_OK);
    assert_int_equal(first, 3);
    unsigned char *data;
    size_t len;
    assert_int_equal(dt_log_entry(log, 4, &data, &len), DT_OK);
    assert_int_equal(len, DT_LOG_ENTRY_MAX);
    free(data);
    assert_int_equal(dt_log_entry(log, 5, &data, &len), DT_OK);
    assert_int_equal(len, 0);
    free(data);

    /* too many entries in one call */
    size_t n = DT_LOG_BATCH_MAX + 1;
    const unsigned char **many = calloc(n, sizeof *many);
    size_t *manylens = calloc(n, sizeof *manylens);
    assert_true(many && manylens);
    assert_int_equal(dt_log_append(log, many, manylens, n, NULL), DT_ERR_LIMIT);
    assert_int_equal(size_of(log), 6);
    /* the largest batch (empty entries) goes in */
    assert_int_equal(dt_log_append(log, many, manylens, n - 1, &first), DT_OK);
    assert_int_equal(first, 6);
    assert_int_equal(size_of(log), 6 + DT_LOG_BATCH_MAX);
    free(many);
    free(manylens);
    free(big);
    dt_log_close(log);
}

static void test_keys(void **state)
{
    (void)state;
    dt_log *log = open_new("k.db");
    const unsigned char *ents[4] = {(const unsigned char *)"e0", (const unsigned char *)"e1",
                                    (const unsigned char *)"e2", (const unsigned char *)"e3"};
    size_t lens[4] = {2, 2, 2, 2}, dup = 0;
    const unsigned char *keys[4] = {(const unsigned char *)"A", NULL, (const unsigned char *)"B",
                                    (const unsigned char *)"A"};
    size_t keylens[4] = {1, 0, 1, 1};
    uint64_t first, idx;
    unsigned char longkey[257] = {0};

    /* twice in one batch: the second is the offending one */
    assert_int_equal(dt_log_append_keyed(log, ents, lens, keys, keylens, 4, &first, &dup), DT_ERR_INVALID);
    assert_int_equal(dup, 3);
    assert_int_equal(size_of(log), 0);
    assert_int_equal(dt_log_find(log, (const unsigned char *)"A", 1, &idx), DT_ERR_NOT_FOUND);

    /* keys at 0 and 2, entry 1 keyless */
    assert_int_equal(dt_log_append_keyed(log, ents, lens, keys, keylens, 3, &first, &dup), DT_OK);
    assert_int_equal(dup, SIZE_MAX);
    assert_int_equal(first, 0);
    assert_int_equal(dt_log_find(log, (const unsigned char *)"A", 1, &idx), DT_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(dt_log_find(log, (const unsigned char *)"B", 1, &idx), DT_OK);
    assert_int_equal(idx, 2);

    /* already in the log (the batch's third entry), with a new key before it */
    const unsigned char *k2[3] = {(const unsigned char *)"C", NULL, (const unsigned char *)"B"};
    size_t kl2[3] = {1, 0, 1};
    assert_int_equal(dt_log_append_keyed(log, ents, lens, k2, kl2, 3, &first, &dup), DT_ERR_INVALID);
    assert_int_equal(dup, 2);
    assert_int_equal(size_of(log), 3);
    assert_int_equal(dt_log_find(log, (const unsigned char *)"C", 1, &idx), DT_ERR_NOT_FOUND);

    /* key lengths: 256 is fine, 257 is not; an empty key is a key */
    const unsigned char *k3[2] = {longkey, (const unsigned char *)""};
    size_t kl3[2] = {257, 0};
    assert_int_equal(dt_log_append_keyed(log, ents, lens, k3, kl3, 2, &first, &dup), DT_ERR_LIMIT);
    assert_int_equal(dt_log_find(log, longkey, 257, &idx), DT_ERR_LIMIT);
    kl3[0] = 256;
    assert_int_equal(dt_log_append_keyed(log, ents, lens, k3, kl3, 2, &first, &dup), DT_OK);
    assert_int_equal(first, 3);
    assert_int_equal(dt_log_find(log, longkey, 256, &idx), DT_OK);
    assert_int_equal(idx, 3);
    assert_int_equal(dt_log_find(log, (const unsigned char *)"", 0, &idx), DT_OK);
    assert_int_equal(idx, 4);
    assert_int_equal(dt_log_append_keyed(log, ents, lens, k3 + 1, kl3 + 1, 1, &first, &dup), DT_ERR_INVALID);
    assert_int_equal(dup, 0);
    /* dt_log_append records no key; a keyed call with keys == NULL neither */
    assert_int_equal(dt_log_append_keyed(log, ents, lens, NULL, NULL, 1, &first, NULL), DT_OK);
    assert_int_equal(size_of(log), 6);
    dt_log_close(log);
}

/* Two handles on one file, appending alternately: each sees the other's
 * entries and the roots are those of all the entries in order. */
static void test_two_handles(void **state)
{
    (void)state;
    enum { N = 700 };
    hash_t *leaves = malloc(N * sizeof *leaves);
    dt_log *a = open_new("two.db"), *b = NULL, *h[2];
    uint64_t size = 0, first;
    assert_int_equal(dt_log_open(&b, wpath("two.db"), 0), DT_OK);
    h[0] = a, h[1] = b;
    for (uint64_t i = 0; i < N; i++)
        leaf_of(leaves[i], i);
    for (int turn = 0; size < N; turn++) {
        dt_log *w = h[turn & 1], *r = h[!(turn & 1)];
        size_t n = 1 + (size_t)testrand_u64(60);
        if (n > N - size)
            n = N - size;
        assert_int_equal(append_range(w, size, n, &first), DT_OK);
        assert_int_equal(first, size);
        size += n;
        assert_int_equal(size_of(r), size);
        check_tree(r, leaves, size, 0);
        check_tree(w, leaves, size, 0);
    }
    dt_log_close(a);
    dt_log_close(b);
    free(leaves);
}

/* dt_log_checkpoint: appends below SQLite's 1,000-page threshold stay in
 * the WAL (the database file as it was); a checkpoint on another handle
 * copies them in; every entry reads the same all along. */
static off_t file_size(const char *name)
{
    struct stat st;
    return stat(wpath(name), &st) == 0 ? st.st_size : -1;
}

static void test_checkpoint(void **state)
{
    (void)state;
    enum { N = 200, LEN = 12000 }; /* 2.4 MB: under 1,000 pages of 4 KiB */
    dt_log *a = open_new("ckpt.db"), *b = NULL;
    unsigned char *buf = malloc(LEN);
    off_t before;
    uint64_t first;
    assert_non_null(buf);
    assert_int_equal(dt_log_open(&b, wpath("ckpt.db"), 0), DT_OK);
    before = file_size("ckpt.db");
    for (uint64_t i = 0; i < N; i++) {
        const unsigned char *e = buf;
        size_t len = LEN;
        memset(buf, (int)(i * 7), LEN);
        memcpy(buf, &i, sizeof i);
        assert_int_equal(dt_log_append(a, &e, &len, 1, &first), DT_OK);
        assert_int_equal(first, i);
    }
    assert_int_equal(file_size("ckpt.db"), before); /* all of it in the WAL */
    assert_true(file_size("ckpt.db-wal") >= (off_t)N * LEN);
    assert_int_equal(dt_log_checkpoint(b), DT_OK);
    assert_true(file_size("ckpt.db") >= before + (off_t)N * LEN);
    assert_int_equal(size_of(b), N);
    for (uint64_t i = 0; i < N; i += 37) {
        unsigned char *d = NULL;
        size_t dl = 0;
        assert_int_equal(dt_log_entry(a, i, &d, &dl), DT_OK);
        assert_int_equal(dl, LEN);
        assert_memory_equal(d, &i, sizeof i);
        assert_int_equal(d[LEN - 1], (unsigned char)(i * 7));
        free(d);
    }
    dt_log_close(a);
    dt_log_close(b);
    free(buf);
}

static void test_reopen(void **state)
{
    (void)state;
    dt_log *log = open_new("r.db");
    hash_t root1, root2;
    struct stat sb;
    assert_int_equal(append_range(log, 0, 300, NULL), DT_OK);
    assert_int_equal(dt_log_root(log, 300, root1), DT_OK);
    dt_log_close(log);
    assert_int_equal(stat(wpath("r.db"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    log = NULL;
    assert_int_equal(dt_log_open(&log, wpath("r.db"), 0), DT_OK);
    assert_int_equal(size_of(log), 300);
    assert_int_equal(dt_log_root(log, 300, root2), DT_OK);
    assert_memory_equal(root1, root2, HB);
    assert_int_equal(append_range(log, 300, 300, NULL), DT_OK);
    dt_log_close(log);
    /* opening with create an existing log keeps it */
    assert_int_equal(dt_log_open(&log, wpath("r.db"), 1), DT_OK);
    hash_t *leaves = malloc(600 * sizeof *leaves);
    for (uint64_t i = 0; i < 600; i++)
        leaf_of(leaves[i], i);
    check_tree(log, leaves, 600, 0);
    check_tree(log, leaves, 300, 0);
    free(leaves);
    dt_log_close(log);
}

static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_not_a_log(void **state)
{
    (void)state;
    dt_log *log = (dt_log *)&log;
    const char *p;
    unsigned char garbage[4096];

    /* missing */
    assert_int_equal(dt_log_open(&log, wpath("missing.db"), 0), DT_ERR_NOT_FOUND);
    assert_null(log);
    assert_int_equal(access(wpath("missing.db"), F_OK), -1);
    /* another application's SQLite database, with and without create */
    p = wpath("other.db");
    raw_sql(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1)");
    assert_int_equal(dt_log_open(&log, p, 0), DT_ERR_INVALID);
    assert_int_equal(dt_log_open(&log, p, 1), DT_ERR_INVALID);
    /* a future schema version */
    log = open_new("v2.db");
    dt_log_close(log);
    raw_sql(wpath("v2.db"), "PRAGMA user_version = 2");
    assert_int_equal(dt_log_open(&log, wpath("v2.db"), 0), DT_ERR_INVALID);
    /* garbage */
    testrand_bytes(garbage, sizeof garbage);
    assert_int_equal(dt_write_file_atomic(wpath("garbage.db"), garbage, sizeof garbage, 0600), DT_OK);
    assert_int_equal(dt_log_open(&log, wpath("garbage.db"), 0), DT_ERR_INVALID);
    assert_int_equal(dt_log_open(&log, wpath("garbage.db"), 1), DT_ERR_INVALID);
    /* an empty file is a log only when asked to create one */
    assert_int_equal(dt_write_file_atomic(wpath("empty.db"), "", 0, 0600), DT_OK);
    assert_int_equal(dt_log_open(&log, wpath("empty.db"), 0), DT_ERR_INVALID);
    assert_int_equal(dt_log_open(&log, wpath("empty.db"), 1), DT_OK);
    dt_log_close(log);
    /* a folder */
    assert_int_equal(dt_log_open(&log, workdir, 0), DT_ERR_IO);
}

/* hashes.key of node (level, index), as src/board/log.c stores it */
static long long node_key(unsigned level, uint64_t index)
{
    return (long long)(((((index + 1) << level) - 1) << 6) | level);
}

static void raw_sqlf(const char *name, const char *fmt, long long key)
{
    char sql[256];
    snprintf(sql, sizeof sql, fmt, key);
    raw_sql(wpath(name), sql);
}

/* A tree that does not end where the entries end is refused at open, an
 * append that finds it so mid-transaction stores nothing, and a damaged
 * hash is an error, never a wrong answer. */
static void test_damaged(void **state)
{
    (void)state;
    dt_log *log = open_new("d.db"), *other = NULL;
    hash_t h, proof[DT_MERKLE_MAX_PROOF];
    size_t plen = DT_MERKLE_MAX_PROOF, len;
    unsigned char *data;

    assert_int_equal(append_range(log, 0, 300, NULL), DT_OK);
    assert_int_equal(dt_log_open(&other, wpath("d.db"), 0), DT_OK);
    /* 300 = 256 + 32 + 8 + 4: appending needs node (2, 74) as a sibling */
    raw_sqlf("d.db", "DELETE FROM hashes WHERE key = %lld", node_key(2, 74));
    assert_int_equal(append_range(log, 300, 10, NULL), DT_ERR_INVALID);
    assert_int_equal(size_of(log), 300);
    assert_int_equal(dt_log_entry(other, 300, &data, &len), DT_ERR_RANGE);
    assert_int_equal(dt_log_node(other, h, 0, 300), DT_ERR_RANGE);
    assert_int_equal(dt_log_root(other, 300, h), DT_ERR_INVALID);
    assert_int_equal(dt_log_root(other, 299, h), DT_OK);
    dt_log_close(other);
    dt_log_close(log);
    assert_int_equal(dt_log_open(&log, wpath("d.db"), 0), DT_ERR_INVALID);

    /* a hash of the wrong length */
    log = open_new("d1.db");
    assert_int_equal(append_range(log, 0, 300, NULL), DT_OK);
    raw_sqlf("d1.db", "UPDATE hashes SET hash = substr(hash, 1, 31) WHERE key = %lld", node_key(0, 5));
    assert_int_equal(dt_log_node(log, h, 0, 5), DT_ERR_INVALID);
    assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, 4, 300), DT_ERR_INVALID);
    assert_int_equal(plen, 0);
    assert_int_equal(dt_log_node(log, h, 0, 4), DT_OK);
    assert_int_equal(dt_log_export_tiles(log, wpath("d1-tiles"), 300), DT_ERR_INVALID);
    dt_log_close(log);

    /* the last node lost, or one node too many */
    log = open_new("d2.db");
    assert_int_equal(append_range(log, 0, 300, NULL), DT_OK);
    dt_log_close(log);
    raw_sql(wpath("d2.db"), "DELETE FROM hashes WHERE key = (SELECT max(key) FROM hashes)");
    assert_int_equal(dt_log_open(&log, wpath("d2.db"), 0), DT_ERR_INVALID);
    log = open_new("d3.db");
    assert_int_equal(append_range(log, 0, 300, NULL), DT_OK);
    dt_log_close(log);
    raw_sqlf("d3.db", "INSERT INTO hashes VALUES(%lld, zeroblob(32))", node_key(0, 300));
    assert_int_equal(dt_log_open(&log, wpath("d3.db"), 0), DT_ERR_INVALID);

    /* a missing entry */
    log = open_new("d4.db");
    assert_int_equal(append_range(log, 0, 3, NULL), DT_OK);
    dt_log_close(log);
    raw_sql(wpath("d4.db"), "DELETE FROM entries WHERE idx = 2");
    assert_int_equal(dt_log_open(&log, wpath("d4.db"), 0), DT_ERR_INVALID);
}

static void test_blobs_meta(void **state)
{
    (void)state;
    dt_log *log = open_new("b.db");
    unsigned char hash[32], hash2[32], want[32], *data;
    size_t len, n = 1 << 20;
    unsigned char *blob = malloc(n);
    assert_non_null(blob);
    testrand_bytes(blob, n);

    assert_int_equal(dt_log_blob_put(log, hash, blob, n), DT_OK);
    dt_sha256(want, blob, n);
    assert_memory_equal(hash, want, 32);
    assert_int_equal(dt_log_blob_put(log, hash2, blob, n), DT_OK); /* again: fine */
    assert_memory_equal(hash2, want, 32);
    assert_int_equal(dt_log_blob_get(log, hash, &data, &len), DT_OK);
    assert_int_equal(len, n);
    assert_memory_equal(data, blob, n);
    free(data);
    assert_int_equal(dt_log_blob_put(log, hash, NULL, 0), DT_OK);
    dt_sha256(want, "", 0);
    assert_memory_equal(hash, want, 32);
    assert_int_equal(dt_log_blob_get(log, hash, &data, &len), DT_OK);
    assert_int_equal(len, 0);
    free(data);
    hash[0] ^= 1;
    assert_int_equal(dt_log_blob_get(log, hash, &data, &len), DT_ERR_NOT_FOUND);
    assert_null(data);
    assert_int_equal(dt_log_blob_put(log, hash, blob, (size_t)DT_LOG_BLOB_MAX + 1), DT_ERR_LIMIT);

    assert_int_equal(dt_log_meta_get(log, "origin", &data, &len), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_log_meta_set(log, "origin", "example.org/election", 20), DT_OK);
    assert_int_equal(dt_log_meta_set(log, "checkpoint", blob, 65536), DT_OK);
    assert_int_equal(dt_log_meta_set(log, "origin", "example.org/e2", 14), DT_OK); /* replaced */
    assert_int_equal(dt_log_meta_get(log, "origin", &data, &len), DT_OK);
    assert_int_equal(len, 14);
    assert_string_equal((char *)data, "example.org/e2");
    free(data);
    assert_int_equal(dt_log_meta_get(log, "checkpoint", &data, &len), DT_OK);
    assert_int_equal(len, 65536);
    assert_memory_equal(data, blob, 65536);
    free(data);
    assert_int_equal(dt_log_meta_set(log, "empty", NULL, 0), DT_OK);
    assert_int_equal(dt_log_meta_get(log, "empty", &data, &len), DT_OK);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(dt_log_meta_set(log, "big", blob, 65537), DT_ERR_LIMIT);
    char key[66];
    memset(key, 'k', 65);
    key[65] = 0;
    assert_int_equal(dt_log_meta_set(log, key, "v", 1), DT_ERR_LIMIT);
    assert_int_equal(dt_log_meta_get(log, key, &data, &len), DT_ERR_LIMIT);
    key[64] = 0;
    assert_int_equal(dt_log_meta_set(log, key, "v", 1), DT_OK);
    assert_int_equal(dt_log_meta_set(log, "", "v", 1), DT_ERR_ENCODING);
    assert_int_equal(dt_log_meta_set(log, "tab\there", "v", 1), DT_ERR_ENCODING);
    assert_int_equal(dt_log_meta_set(log, "caf\xc3\xa9", "v", 1), DT_ERR_ENCODING);
    dt_log_close(log);
    /* durable across reopening */
    assert_int_equal(dt_log_open(&log, wpath("b.db"), 0), DT_OK);
    assert_int_equal(dt_log_meta_get(log, key, &data, &len), DT_OK);
    assert_int_equal(len, 1);
    free(data);
    dt_log_close(log);
    free(blob);
}

/* ---- tiles, checked from the files alone ---- */

static unsigned char *read_tile(const char *dir, int entries, unsigned level, uint64_t index, unsigned w,
                                size_t *len)
{
    char rel[DT_TILE_PATH_MAX], path[512];
    unsigned char *data = NULL;
    if (entries)
        assert_int_equal(dt_tile_entries_path(rel, index, w), DT_OK);
    else
        assert_int_equal(dt_tile_path(rel, level, index, w), DT_OK);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (dt_read_file(&data, len, path, 1 << 25) != DT_OK)
        fail_msg("missing tile %s", path);
    return data;
}

/* Recomputes a tree of size entries from dir: every bundle parses exactly,
 * its leaves equal the level-0 tiles, every tile of level L >= 1 holds the
 * roots of the full tiles below it, and the root of the leaves is root. */
static void check_tiles(const char *dir, uint64_t size, const unsigned char root[HB])
{
    hash_t *leaves = malloc((size + 1) * sizeof *leaves), got;
    uint64_t next = 0;
    assert_non_null(leaves);
    for (uint64_t t = 0; t * 256 < size; t++) {
        unsigned w = (size - t * 256) >= 256 ? 256 : (unsigned)(size - t * 256);
        size_t len, off = 0;
        unsigned char *b = read_tile(dir, 1, 0, t, w, &len);
        for (unsigned i = 0; i < w; i++) {
            assert_true(off + 2 <= len);
            size_t n = (size_t)b[off] << 8 | b[off + 1];
            assert_true(off + 2 + n <= len);
            dt_merkle_leaf_hash(leaves[next++], b + off + 2, n);
            off += 2 + n;
        }
        assert_int_equal(off, len);
        free(b);
    }
    assert_int_equal(next, size);
    for (unsigned L = 0; L < 8 && (size >> (8 * L)) > 0; L++) {
        uint64_t c = size >> (8 * L);
        for (uint64_t t = 0; t * 256 < c; t++) {
            unsigned w = c - t * 256 >= 256 ? 256 : (unsigned)(c - t * 256);
            size_t len;
            unsigned char *tile = read_tile(dir, 0, L, t, w, &len);
            assert_int_equal(len, (size_t)w * HB);
            for (unsigned i = 0; i < w; i++) {
                uint64_t j = t * 256 + i; /* node (8L, j) */
                if (L == 0) {
                    assert_memory_equal(tile + i * HB, leaves[j], HB);
                } else {
                    size_t blen;
                    unsigned char *below = read_tile(dir, 0, L - 1, j, 256, &blen);
                    assert_int_equal(blen, 256 * HB);
                    dt_merkle_root(got, (const hash_t *)below, 256);
                    assert_memory_equal(tile + i * HB, got, HB);
                    free(below);
                }
            }
            free(tile);
        }
        /* no tile beyond the last */
        char rel[DT_TILE_PATH_MAX], path[512];
        assert_int_equal(dt_tile_path(rel, L, (c + 255) / 256, 256), DT_OK);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        assert_int_equal(access(path, F_OK), -1);
    }
    dt_merkle_root(got, leaves, size);
    assert_memory_equal(got, root, HB);
    free(leaves);
}

static ino_t inode_of(const char *dir, int entries, unsigned level, uint64_t index, unsigned w)
{
    char rel[DT_TILE_PATH_MAX], path[512];
    struct stat sb;
    if (entries)
        assert_int_equal(dt_tile_entries_path(rel, index, w), DT_OK);
    else
        assert_int_equal(dt_tile_path(rel, level, index, w), DT_OK);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_ino;
}

static void test_tiles(void **state)
{
    (void)state;
    dt_log *log = open_new("t.db");
    char dir[128];
    hash_t root;
    snprintf(dir, sizeof dir, "%s/tiles", workdir);

    assert_int_equal(dt_log_export_tiles(log, dir, 0), DT_OK); /* nothing to write */
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(append_range(log, 0, 600, NULL), DT_OK);
    uint64_t sizes[] = {1, 255, 256, 257, 511, 512, 513, 600};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        assert_int_equal(dt_log_export_tiles(log, dir, sizes[k]), DT_OK);
        assert_int_equal(dt_log_root(log, sizes[k], root), DT_OK);
        check_tiles(dir, sizes[k], root);
    }
    /* full tiles are kept, partial ones rewritten */
    ino_t full = inode_of(dir, 0, 0, 0, 256), fullb = inode_of(dir, 1, 0, 0, 256);
    ino_t part = inode_of(dir, 0, 0, 2, 88), partb = inode_of(dir, 1, 0, 2, 88);
    assert_int_equal(dt_log_export_tiles(log, dir, 600), DT_OK);
    assert_true(full == inode_of(dir, 0, 0, 0, 256) && fullb == inode_of(dir, 1, 0, 0, 256));
    assert_true(part != inode_of(dir, 0, 0, 2, 88) && partb != inode_of(dir, 1, 0, 2, 88));

    /* each tile from the log is the file an export writes */
    char p[256];
    struct {
        unsigned level;
        uint64_t index;
        unsigned width;
    } ts[] = {{DT_TILE_ENTRIES, 0, 256}, {DT_TILE_ENTRIES, 1, 256}, {DT_TILE_ENTRIES, 2, 88}, {DT_TILE_ENTRIES, 2, 1},
              {DT_TILE_ENTRIES, 0, 7},   {0, 0, 256},               {0, 2, 88},               {0, 0, 3},
              {1, 0, 2},                 {1, 0, 1}};
    for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) {
        char rel[DT_TILE_PATH_MAX];
        unsigned char *b = NULL, *f = NULL;
        size_t blen = 0, flen = 0;
        uint64_t size = (ts[k].index * 256 + ts[k].width) << (ts[k].level == DT_TILE_ENTRIES ? 0 : 8 * ts[k].level);
        assert_int_equal(dt_log_export_tiles(log, dir, size), DT_OK);
        if (ts[k].level == DT_TILE_ENTRIES)
            assert_int_equal(dt_tile_entries_path(rel, ts[k].index, ts[k].width), DT_OK);
        else
            assert_int_equal(dt_tile_path(rel, ts[k].level, ts[k].index, ts[k].width), DT_OK);
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        assert_int_equal(dt_read_file(&f, &flen, p, 1u << 24), DT_OK);
        assert_int_equal(dt_log_tile(log, ts[k].level, ts[k].index, ts[k].width, &b, &blen), DT_OK);
        assert_int_equal(blen, flen);
        assert_memory_equal(b, f, flen);
        free(b);
        free(f);
    }
    /* not all held by the log, or no such tile: DT_ERR_RANGE, nothing given */
    struct {
        unsigned level;
        uint64_t index;
        unsigned width;
    } bad[] = {{DT_TILE_ENTRIES, 2, 89}, {DT_TILE_ENTRIES, 3, 1}, {DT_TILE_ENTRIES, 0, 0}, {DT_TILE_ENTRIES, 0, 257},
               {DT_TILE_ENTRIES, UINT64_MAX / 256, 256}, {0, 2, 89}, {1, 0, 3}, {2, 0, 1}, {8, 0, 1},
               {7, UINT64_MAX, 256}, {7, 0, 256}, {7, 5, 256}, {7, 0, 255}, {1, UINT64_MAX >> 16, 1}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        unsigned char *none = (unsigned char *)p;
        size_t nlen = 1;
        assert_int_equal(dt_log_tile(log, bad[k].level, bad[k].index, bad[k].width, &none, &nlen), DT_ERR_RANGE);
        assert_null(none);
        assert_int_equal(nlen, 0);
    }
    dt_log_close(log);
}

/* Sizes across 65,536 (level-2 tiles, the 17th level-0 strip of level 8). */
static void test_big(void **state)
{
    (void)state;
    enum { N = 70000 };
    hash_t *leaves = malloc(N * sizeof *leaves), root;
    dt_log *log = open_new("big.db");
    uint64_t size = 0;
    char dir[128];
    assert_non_null(leaves);
    for (uint64_t i = 0; i < N; i++)
        leaf_of(leaves[i], i);
    uint64_t stops[] = {65535, 65536, 65537, 65538, 66000, N};
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        while (size < stops[k]) {
            size_t n = stops[k] - size > 8192 ? 8192 : (size_t)(stops[k] - size);
            assert_int_equal(append_range(log, size, n, NULL), DT_OK);
            size += n;
        }
        check_tree(log, leaves, size, 0);
    }
    for (int k = 0; k < 20; k++)
        check_tree(log, leaves, 1 + testrand_u64(N), 0);
    snprintf(dir, sizeof dir, "%s/bigtiles", workdir);
    assert_int_equal(dt_log_export_tiles(log, dir, N), DT_OK);
    assert_int_equal(dt_log_root(log, N, root), DT_OK);
    check_tiles(dir, N, root);
    dt_log_close(log);
    free(leaves);
}

/* ---- failures of the database ---- */

/* A full disk (a file size limit, in a child process): the append fails
 * with DT_ERR_IO and stores nothing; a smaller one then goes in. */
static void test_disk_full(void **state)
{
    (void)state;
    dt_log *log = open_new("full.db");
    hash_t root, root2;
    struct stat sb;
    int status;
    assert_int_equal(append_range(log, 0, 100, NULL), DT_OK);
    assert_int_equal(dt_log_root(log, 100, root), DT_OK);
    dt_log_close(log); /* no handle is open across fork() */
    assert_int_equal(stat(wpath("full.db"), &sb), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the WAL may grow by 64 KiB: 3,000 entries of up to 300 bytes do not fit */
        struct rlimit rl = {(rlim_t)sb.st_size + 65536, (rlim_t)sb.st_size + 65536};
        uint64_t n = 0;
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || dt_log_open(&log, wpath("full.db"), 0) != DT_OK)
            _exit(10);
        if (append_range(log, 100, 3000, NULL) != DT_ERR_IO)
            _exit(11);
        if (dt_log_size(log, &n) != DT_OK || n != 100 || dt_log_root(log, 100, root2) != DT_OK ||
            memcmp(root, root2, HB) != 0)
            _exit(12);
        if (append_range(log, 100, 5, NULL) != DT_OK)
            _exit(13);
        dt_log_close(log);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(dt_log_open(&log, wpath("full.db"), 0), DT_OK);
    assert_int_equal(size_of(log), 105);
    hash_t *leaves = malloc(200 * sizeof *leaves);
    for (uint64_t i = 0; i < 200; i++)
        leaf_of(leaves[i], i);
    assert_int_equal(append_range(log, 105, 95, NULL), DT_OK);
    check_tree(log, leaves, 200, 0);
    check_tree(log, leaves, 100, 0);
    free(leaves);
    dt_log_close(log);
}

/* Another connection holds the write lock for longer than the busy
 * timeout (10 s): the append is DT_ERR_IO and stores nothing, while reads
 * go on (WAL readers do not wait for writers). */
static void test_lock_timeout(void **state)
{
    (void)state;
    dt_log *log = open_new("busy.db");
    sqlite3 *db = NULL;
    hash_t root;
    struct timespec t0, t1;
    assert_int_equal(append_range(log, 0, 10, NULL), DT_OK);
    assert_int_equal(sqlite3_open(wpath("busy.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(append_range(log, 10, 5, NULL), DT_ERR_IO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec >= 9);
    assert_int_equal(dt_log_root(log, 10, root), DT_OK);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(size_of(log), 10);
    assert_int_equal(append_range(log, 10, 5, NULL), DT_OK);
    assert_int_equal(size_of(log), 15);
    dt_log_close(log);
}

/* Programmer misuse that the nonnull attributes cannot catch aborts
 * (dt_misuse), in a child process. (Arguments declared nonnull are the
 * caller's compiler's and UBSan's to check: UBSan stops the caller first.)
 * NULL goes through a volatile pointer. */
static void *volatile null_ptr;

static void expect_abort(int which)
{
    int status;
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dt_log *log = NULL;
        size_t len = 1;
        const unsigned char *ents[1] = {NULL};
        hash_t h;
        dt_err err = DT_OK;
        if (dt_log_open(&log, wpath("misuse.db"), 1) != DT_OK || !freopen("/dev/null", "w", stderr))
            _exit(10);
        switch (which) {
        case 0: err = dt_log_append(log, null_ptr, &len, 1, NULL); break;         /* no entries */
        case 1: err = dt_log_append(log, ents, &len, 1, NULL); break;             /* NULL entry, length 1 */
        case 2: err = dt_log_append_keyed(log, ents, &len, ents, null_ptr, 0, NULL, NULL); break; /* no keylens */
        case 3: err = dt_log_meta_set(log, "k", null_ptr, 1); break;          /* NULL value, length 1 */
        default: err = dt_log_blob_put(log, h, null_ptr, 1); break;           /* NULL data, length 1 */
        }
        _exit(err == DT_OK ? 0 : 1); /* not reached: the call aborts */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("misuse case %d did not abort", which);
}

static void test_misuse(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        expect_abort(i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_read), cmocka_unit_test(test_edges),     cmocka_unit_test(test_limits),
        cmocka_unit_test(test_keys),        cmocka_unit_test(test_two_handles), cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_not_a_log),   cmocka_unit_test(test_damaged),   cmocka_unit_test(test_blobs_meta),
        cmocka_unit_test(test_tiles),       cmocka_unit_test(test_big),       cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_lock_timeout), cmocka_unit_test(test_misuse), cmocka_unit_test(test_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
