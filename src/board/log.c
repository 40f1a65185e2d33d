/* The board's log store (include/detente/log.h): entries, the tree's
 * hashes, lookup keys, blobs and settings in one SQLite database.
 *
 * Schema version 1 (PRAGMA application_id 'dtlg', PRAGMA user_version 1):
 *   entries(idx INTEGER PRIMARY KEY, data BLOB)  the entries 0 .. size-1
 *   hashes(key INTEGER PRIMARY KEY, hash BLOB)   the hash of every node
 *       (level, index) wholly inside the tree, under key = 64 * (index of
 *       its last leaf) + level: ((index + 1) << level) - 1) << 6 | level
 *   keys(key BLOB PRIMARY KEY, idx INTEGER)      unique lookup keys
 *   blobs(hash BLOB PRIMARY KEY, data BLOB)      content-addressed blobs
 *   meta(key TEXT PRIMARY KEY, value BLOB)       the board layer's settings
 *
 * Any node is one row read, and the nodes are keyed in the order they
 * complete, so an append only adds rows at the end of each table (a B-tree
 * page written is a page filled, never a page rewritten: docs/board.md has
 * the figures of the alternative). The size is max(idx) + 1, read from the
 * database whenever it is needed: a handle caches nothing that another
 * handle's append could make stale, and a failed append leaves nothing
 * behind but a rolled-back transaction. docs/board.md, "The log store",
 * explains the choices and the figures. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <detente/hash.h>
#include <detente/log.h>
#include <detente/tiles.h>

#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES
#define TILE DT_TILE_WIDTH
#define LOG_MAX ((uint64_t)1 << 56) /* entries at most: node keys stay below 2^62 */
#define APP_ID 0x64746c67            /* "dtlg" */
#define SCHEMA_VERSION 1
#define KEY_MAX 256u                 /* dt_log_append_keyed: longest key */
#define META_KEY_MAX 64u
#define META_VALUE_MAX 65536u
#define PAGE_SIZE 16384             /* docs/board.md: fewer bytes a 2 KB entry */
#define BUSY_TIMEOUT_MS 10000

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)
#define DT_ARG_CHECK(cond)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_misuse("log.c:" DT_STR(__LINE__) ": " #cond);                                       \
    } while (0)

enum {
    S_BEGIN,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_SIZE,
    S_ENTRY_PUT,
    S_ENTRY_GET,
    S_ENTRY_RANGE,
    S_NODE_GET,
    S_NODE_PUT,
    S_NODE_LAST,
    S_KEY_PUT,
    S_KEY_GET,
    S_BLOB_PUT,
    S_BLOB_GET,
    S_META_PUT,
    S_META_GET,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SIZE] = "SELECT max(idx) FROM entries",
    [S_ENTRY_PUT] = "INSERT INTO entries(idx, data) VALUES(?1, ?2)",
    [S_ENTRY_GET] = "SELECT data FROM entries WHERE idx = ?1",
    [S_ENTRY_RANGE] = "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [S_NODE_GET] = "SELECT hash FROM hashes WHERE key = ?1",
    [S_NODE_PUT] = "INSERT INTO hashes(key, hash) VALUES(?1, ?2)",
    [S_NODE_LAST] = "SELECT max(key) FROM hashes",
    [S_KEY_PUT] = "INSERT INTO keys(key, idx) VALUES(?1, ?2)",
    [S_KEY_GET] = "SELECT idx FROM keys WHERE key = ?1",
    [S_BLOB_PUT] = "INSERT OR IGNORE INTO blobs(hash, data) VALUES(?1, ?2)",
    [S_BLOB_GET] = "SELECT data FROM blobs WHERE hash = ?1",
    [S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

static const char schema_sql[] =
    "CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE hashes(key INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
    "CREATE TABLE keys(key BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE blobs(hash BLOB PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "PRAGMA application_id = " DT_STR(APP_ID) ";"
    "PRAGMA user_version = " DT_STR(SCHEMA_VERSION) ";";

struct dt_log {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
};

static dt_err sql_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return DT_ERR_NOMEM;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_SCHEMA:
        return DT_ERR_INVALID;
    case SQLITE_TOOBIG:
        return DT_ERR_LIMIT;
    default: /* BUSY (lock timeout), FULL, IOERR, CANTOPEN, READONLY, ... */
        return DT_ERR_IO;
    }
}

/* Steps a statement that returns no row, then resets it. Every statement's
 * parameters are all bound before each use, so the SQLITE_STATIC bindings
 * below never outlive the call that made them. */
static dt_err run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DT_OK : sql_err(rc);
}

static dt_err bind_blob(sqlite3_stmt *st, int i, const void *data, size_t len)
{
    /* a zero-length blob, not SQL NULL, even when data is NULL */
    int rc = len == 0 ? sqlite3_bind_zeroblob(st, i, 0) : sqlite3_bind_blob64(st, i, data, len, SQLITE_STATIC);
    return rc == SQLITE_OK ? DT_OK : sql_err(rc);
}

/* Runs one PRAGMA or query that returns a single integer. */
static dt_err query_int(sqlite3 *db, const char *sql, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? DT_OK : sql_err(rc);
}

static dt_err exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DT_OK : sql_err(rc);
}

/* Switches to WAL mode, or confirms it: SQLite answers with the mode in
 * force, which is not WAL where the file system cannot share memory. */
static dt_err set_wal(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    dt_err err;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0 ? DT_OK : DT_ERR_IO;
    else
        err = sql_err(rc);
    sqlite3_finalize(st);
    return err;
}

static dt_err read_size(dt_log *log, uint64_t *size)
{
    sqlite3_stmt *st = log->st[S_SIZE];
    dt_err err = DT_OK;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        err = sql_err(rc);
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        *size = 0;
    else if (sqlite3_column_int64(st, 0) < 0)
        err = DT_ERR_INVALID;
    else
        *size = (uint64_t)sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    return err;
}

static int64_t node_key(unsigned level, uint64_t index)
{
    return (int64_t)(((((index + 1) << level) - 1) << 6) | level);
}

/* The hash of node (level, index): DT_ERR_RANGE if it is not in the store
 * (present means wholly inside the tree: only complete nodes are stored). */
static dt_err node_get(dt_log *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    sqlite3_stmt *st = log->st[S_NODE_GET];
    dt_err err = DT_ERR_RANGE;
    int rc;
    if (level > 63 || index >= (LOG_MAX >> level))
        return DT_ERR_RANGE;
    sqlite3_bind_int64(st, 1, node_key(level, index));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        err = sqlite3_column_bytes(st, 0) == HB ? DT_OK : DT_ERR_INVALID;
        if (err == DT_OK)
            memcpy(out, sqlite3_column_blob(st, 0), HB);
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

/* node_get for a node that must be there, because it lies inside a size
 * already checked against the store: absent is damage, not DT_ERR_RANGE.
 * A dt_merkle_node_fn. */
static dt_err stored_node(void *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    dt_err err = node_get(log, out, level, index);
    return err == DT_ERR_RANGE ? DT_ERR_INVALID : err;
}

/* ---- open and close ---- */

/* Checks that the tree ends where the entries end: its last node is the
 * one that entry size - 1 completes at the highest level, and the nodes of
 * the frontier (the root's inputs) are there. */
static dt_err check_tree(dt_log *log, uint64_t size)
{
    sqlite3_stmt *st = log->st[S_NODE_LAST];
    unsigned char root[HB];
    dt_err err = DT_OK;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        err = sql_err(rc);
    else if (size == 0)
        err = sqlite3_column_type(st, 0) == SQLITE_NULL ? DT_OK : DT_ERR_INVALID;
    else if (size > LOG_MAX ||
             sqlite3_column_int64(st, 0) != (int64_t)((size - 1) << 6 | (uint64_t)__builtin_ctzll(size)))
        err = DT_ERR_INVALID;
    sqlite3_reset(st);
    return err != DT_OK ? err : dt_merkle_root_from_nodes(root, size, stored_node, log);
}

/* Creates the schema in an empty database, or accepts one that another
 * process has just created. */
static dt_err init_schema(sqlite3 *db)
{
    int64_t app = 0, tables = 0;
    dt_err err;
    if ((err = exec(db, "PRAGMA page_size = " DT_STR(PAGE_SIZE))) != DT_OK || (err = set_wal(db)) != DT_OK ||
        (err = exec(db, "BEGIN IMMEDIATE")) != DT_OK)
        return err;
    if ((err = query_int(db, "PRAGMA application_id", &app)) != DT_OK ||
        (err = query_int(db, "SELECT count(*) FROM sqlite_schema", &tables)) != DT_OK)
        goto out;
    if (app == APP_ID)
        goto out;
    if (app != 0 || tables != 0) {
        err = DT_ERR_INVALID;
        goto out;
    }
    err = exec(db, schema_sql);
out:
    err = err == DT_OK ? exec(db, "COMMIT") : err;
    if (!sqlite3_get_autocommit(db))
        (void)exec(db, "ROLLBACK");
    return err;
}

dt_err dt_log_open(dt_log **out, const char *path, int create)
{
    dt_log *log;
    int64_t app = 0, version = 0;
    uint64_t size = 0;
    struct stat sb;
    dt_err err = DT_OK;

    DT_ARG_CHECK(out && path);
    *out = NULL;
    if (create) {
        /* created here so that it gets mode 0600; SQLite gives its -wal and
         * -shm files the mode of the database */
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return DT_ERR_IO;
        close(fd);
    } else if (stat(path, &sb) != 0) {
        return errno == ENOENT ? DT_ERR_NOT_FOUND : DT_ERR_IO;
    }
    log = calloc(1, sizeof *log);
    if (!log)
        return DT_ERR_NOMEM;
    if (sqlite3_open_v2(path, &log->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        err = log->db ? sql_err(sqlite3_errcode(log->db)) : DT_ERR_NOMEM;
        goto out;
    }
    sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
    /* nothing is written to a file before it is known to be a log (or empty) */
    if ((err = query_int(log->db, "PRAGMA application_id", &app)) != DT_OK)
        goto out;
    if (app == 0 && create && (err = init_schema(log->db)) != DT_OK)
        goto out;
    if ((err = query_int(log->db, "PRAGMA application_id", &app)) != DT_OK ||
        (err = query_int(log->db, "PRAGMA user_version", &version)) != DT_OK)
        goto out;
    if (app != APP_ID || version != SCHEMA_VERSION) {
        err = DT_ERR_INVALID;
        goto out;
    }
    if ((err = set_wal(log->db)) != DT_OK || (err = exec(log->db, "PRAGMA synchronous = FULL")) != DT_OK)
        goto out;
    for (int i = 0; i < S_COUNT; i++) {
        int rc = sqlite3_prepare_v3(log->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &log->st[i], NULL);
        if (rc != SQLITE_OK) {
            err = rc == SQLITE_ERROR ? DT_ERR_INVALID : sql_err(rc); /* a table missing */
            goto out;
        }
    }
    if ((err = read_size(log, &size)) != DT_OK || (err = check_tree(log, size)) != DT_OK)
        goto out;
    *out = log;
out:
    if (err != DT_OK)
        dt_log_close(log);
    return err;
}

void dt_log_close(dt_log *log)
{
    if (!log)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(log->st[i]);
    sqlite3_close(log->db);
    free(log);
}

/* ---- appending ---- */

/* Stores the new nodes [lo, hi) of one level (nodes[0] is node lo). If lo
 * is odd, *sibling gets node lo - 1: the next level up needs it. */
static dt_err put_level(dt_log *log, unsigned level, uint64_t lo, uint64_t hi, const unsigned char (*nodes)[HB],
                        unsigned char sibling[HB])
{
    sqlite3_stmt *put = log->st[S_NODE_PUT];
    dt_err err = DT_OK;
    if ((lo & 1) && (err = stored_node(log, sibling, level, lo - 1)) != DT_OK)
        return err;
    for (uint64_t i = lo; i < hi && err == DT_OK; i++) {
        sqlite3_bind_int64(put, 1, node_key(level, i));
        if ((err = bind_blob(put, 2, nodes[i - lo], HB)) == DT_OK)
            err = run(put);
    }
    return err;
}

/* Stores the tree nodes that n new leaves complete after size leaves.
 * h[1..n] holds the leaf hashes; h is overwritten level by level: h[1..]
 * the new nodes of the level, h[0] the left sibling of the first when its
 * index is odd. */
static dt_err put_tree(dt_log *log, uint64_t size, uint64_t n, unsigned char (*h)[HB])
{
    for (unsigned l = 0; l < 64; l++) {
        uint64_t lo = size >> l, hi = (size + n) >> l;
        dt_err err;
        if (lo == hi) /* no new node here, so none above */
            break;
        if ((err = put_level(log, l, lo, hi, (const unsigned char (*)[HB])h + 1, h[0])) != DT_OK)
            return err;
        /* node j of level l + 1 hashes nodes 2j, 2j + 1; the first pair
         * starts at h[0] (the sibling) when lo is odd. In place: the result k
         * lands on h[k + 1], never beyond the right child just read. */
        const size_t p = (lo & 1) ? 0 : 1;
        for (uint64_t k = 0; k < (hi >> 1) - (lo >> 1); k++)
            dt_merkle_node_hash(h[k + 1], h[p + 2 * k], h[p + 2 * k + 1]);
    }
    return DT_OK;
}

static dt_err append(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                     const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n, uint64_t *first,
                     size_t *dup)
{
    unsigned char (*h)[HB] = NULL;
    uint64_t size = 0;
    int in_txn = 0;
    dt_err err = DT_OK;

    DT_ARG_CHECK(log && (n == 0 || (entries && lens)) && (!keys || keylens));
    if (dup)
        *dup = SIZE_MAX;
    if (n == 0)
        return DT_OK;
    if (first)
        *first = 0;
    if (n > DT_LOG_BATCH_MAX)
        return DT_ERR_LIMIT;
    for (size_t i = 0; i < n; i++) {
        DT_ARG_CHECK(entries[i] || lens[i] == 0);
        if (lens[i] > DT_LOG_ENTRY_MAX)
            return DT_ERR_LIMIT;
        for (size_t k = 0; keys && k < kper; k++)
            if (keys[i * kper + k] && keylens[i * kper + k] > KEY_MAX)
                return DT_ERR_LIMIT;
    }
    h = malloc((n + 1) * sizeof *h);
    if (!h)
        return DT_ERR_NOMEM;
    /* hashed before the write lock is taken */
    for (size_t i = 0; i < n; i++)
        dt_merkle_leaf_hash(h[i + 1], entries[i], lens[i]);

    if ((err = run(log->st[S_BEGIN])) != DT_OK)
        goto out;
    in_txn = 1;
    if ((err = read_size(log, &size)) != DT_OK)
        goto out;
    if (size > LOG_MAX - n) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    for (size_t ik = 0; keys && ik < n * kper; ik++) {
        sqlite3_stmt *st = log->st[S_KEY_PUT];
        size_t i = ik / kper;
        int rc;
        if (!keys[ik])
            continue;
        if ((err = bind_blob(st, 1, keys[ik], keylens[ik])) != DT_OK)
            goto out;
        sqlite3_bind_int64(st, 2, (int64_t)(size + i));
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_CONSTRAINT) {
            if (dup)
                *dup = i;
            err = DT_ERR_INVALID;
            goto out;
        }
        if (rc != SQLITE_DONE) {
            err = sql_err(rc);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = log->st[S_ENTRY_PUT];
        sqlite3_bind_int64(st, 1, (int64_t)(size + i));
        if ((err = bind_blob(st, 2, entries[i], lens[i])) != DT_OK || (err = run(st)) != DT_OK)
            goto out;
    }
    if ((err = put_tree(log, size, n, h)) != DT_OK || (err = run(log->st[S_COMMIT])) != DT_OK)
        goto out;
    if (first)
        *first = size;
out:
    if (in_txn && !sqlite3_get_autocommit(log->db))
        (void)run(log->st[S_ROLLBACK]);
    free(h);
    return err;
}

dt_err dt_log_append(dt_log *log, const unsigned char *const *entries, const size_t *lens, size_t n,
                     uint64_t *first)
{
    return append(log, entries, lens, NULL, NULL, 0, n, first, NULL);
}

dt_err dt_log_append_keyed(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                           const unsigned char *const *keys, const size_t *keylens, size_t n, uint64_t *first,
                           size_t *dup)
{
    return append(log, entries, lens, keys, keylens, 1, n, first, dup);
}

dt_err dt_log_append_multikeyed(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                                const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n,
                                uint64_t *first, size_t *dup)
{
    DT_ARG_CHECK(kper >= 1 && kper <= 8);
    return append(log, entries, lens, keys, keylens, kper, n, first, dup);
}

/* ---- reading ---- */

dt_err dt_log_find(dt_log *log, const unsigned char *key, size_t keylen, uint64_t *index)
{
    sqlite3_stmt *st;
    dt_err err;
    int rc;
    DT_ARG_CHECK(log && key && index);
    *index = 0;
    if (keylen > KEY_MAX)
        return DT_ERR_LIMIT;
    st = log->st[S_KEY_GET];
    if ((err = bind_blob(st, 1, key, keylen)) != DT_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DT_OK : rc == SQLITE_DONE ? DT_ERR_NOT_FOUND : sql_err(rc);
}

dt_err dt_log_size(dt_log *log, uint64_t *size)
{
    DT_ARG_CHECK(log && size);
    *size = 0;
    return read_size(log, size);
}

/* Roots and proofs read in one read transaction: one snapshot (a size
 * checked stays the size read) for the price of one lock, which halves the
 * time of a proof. A read transaction ends without failing; if COMMIT
 * somehow does, ROLLBACK ends it. */
static dt_err read_begin(dt_log *log, uint64_t size)
{
    uint64_t cur;
    dt_err err = run(log->st[S_BEGIN_READ]);
    if (err == DT_OK && (err = read_size(log, &cur)) == DT_OK && size > cur)
        err = DT_ERR_RANGE;
    return err;
}

static void read_end(dt_log *log)
{
    if (!sqlite3_get_autocommit(log->db) && run(log->st[S_COMMIT]) != DT_OK)
        (void)run(log->st[S_ROLLBACK]);
}

dt_err dt_log_root(dt_log *log, uint64_t size, unsigned char root[HB])
{
    dt_err err;
    DT_ARG_CHECK(log && root);
    if ((err = read_begin(log, size)) == DT_OK)
        err = dt_merkle_root_from_nodes(root, size, stored_node, log);
    read_end(log);
    if (err != DT_OK)
        memset(root, 0, HB);
    return err;
}

dt_err dt_log_entry(dt_log *log, uint64_t index, unsigned char **data, size_t *len)
{
    sqlite3_stmt *st;
    dt_err err = DT_ERR_RANGE;
    int rc;
    DT_ARG_CHECK(log && data && len);
    *data = NULL;
    *len = 0;
    if (index > INT64_MAX)
        return DT_ERR_RANGE;
    st = log->st[S_ENTRY_GET];
    sqlite3_bind_int64(st, 1, (int64_t)index);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *data = malloc(n + 1);
        err = *data ? DT_OK : DT_ERR_NOMEM;
        if (*data) {
            if (n)
                memcpy(*data, sqlite3_column_blob(st, 0), n);
            (*data)[n] = 0;
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

dt_err dt_log_node(dt_log *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    dt_err err;
    DT_ARG_CHECK(log && out);
    if ((err = node_get(log, out, level, index)) != DT_OK)
        memset(out, 0, HB);
    return err;
}

dt_err dt_log_node_fn(void *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    return dt_log_node(log, out, level, index);
}

dt_err dt_log_inclusion_proof(dt_log *log, unsigned char (*proof)[HB], size_t *proof_len, uint64_t index,
                              uint64_t size)
{
    size_t cap;
    dt_err err;
    DT_ARG_CHECK(log && proof && proof_len);
    cap = *proof_len;
    if ((err = read_begin(log, size)) == DT_OK)
        err = dt_merkle_inclusion_proof_from_nodes(proof, proof_len, index, size, stored_node, log);
    read_end(log);
    if (err != DT_OK) {
        memset(proof, 0, cap * HB);
        *proof_len = 0;
    }
    return err;
}

dt_err dt_log_consistency_proof(dt_log *log, unsigned char (*proof)[HB], size_t *proof_len, uint64_t size1,
                                uint64_t size2)
{
    size_t cap;
    dt_err err;
    DT_ARG_CHECK(log && proof && proof_len);
    cap = *proof_len;
    if ((err = read_begin(log, size2)) == DT_OK)
        err = dt_merkle_consistency_proof_from_nodes(proof, proof_len, size1, size2, stored_node, log);
    read_end(log);
    if (err != DT_OK) {
        memset(proof, 0, cap * HB);
        *proof_len = 0;
    }
    return err;
}

/* ---- blobs and settings ---- */

/* Reads the one blob column of a row found by st (parameters bound) into a
 * malloc'ed buffer with a NUL after it; DT_ERR_NOT_FOUND without a row. */
static dt_err get_value(sqlite3_stmt *st, unsigned char **data, size_t *len, size_t max)
{
    dt_err err = DT_ERR_NOT_FOUND;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        err = n > max ? DT_ERR_INVALID : (*data = malloc(n + 1)) ? DT_OK : DT_ERR_NOMEM;
        if (err == DT_OK) {
            if (n)
                memcpy(*data, sqlite3_column_blob(st, 0), n);
            (*data)[n] = 0;
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

dt_err dt_log_blob_put(dt_log *log, unsigned char hash[32], const void *data, size_t len)
{
    sqlite3_stmt *st;
    unsigned char h[32];
    dt_err err;
    DT_ARG_CHECK(log && hash && (data || len == 0));
    memset(hash, 0, 32);
    if (len > DT_LOG_BLOB_MAX)
        return DT_ERR_LIMIT;
    dt_sha256(h, data, len);
    st = log->st[S_BLOB_PUT];
    if ((err = bind_blob(st, 1, h, sizeof h)) == DT_OK && (err = bind_blob(st, 2, data, len)) == DT_OK &&
        (err = run(st)) == DT_OK)
        memcpy(hash, h, 32);
    return err;
}

dt_err dt_log_blob_get(dt_log *log, const unsigned char hash[32], unsigned char **data, size_t *len)
{
    sqlite3_stmt *st;
    dt_err err;
    DT_ARG_CHECK(log && hash && data && len);
    *data = NULL;
    *len = 0;
    st = log->st[S_BLOB_GET];
    if ((err = bind_blob(st, 1, hash, 32)) != DT_OK)
        return err;
    return get_value(st, data, len, DT_LOG_BLOB_MAX);
}

/* 1..64 bytes of printable ASCII. */
static dt_err check_meta_key(const char *key)
{
    size_t n = strlen(key);
    if (n > META_KEY_MAX)
        return DT_ERR_LIMIT;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return DT_ERR_ENCODING;
    return n ? DT_OK : DT_ERR_ENCODING;
}

dt_err dt_log_meta_set(dt_log *log, const char *key, const void *value, size_t len)
{
    sqlite3_stmt *st;
    dt_err err;
    DT_ARG_CHECK(log && key && (value || len == 0));
    if ((err = check_meta_key(key)) != DT_OK)
        return err;
    if (len > META_VALUE_MAX)
        return DT_ERR_LIMIT;
    st = log->st[S_META_PUT];
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        return DT_ERR_NOMEM;
    if ((err = bind_blob(st, 2, value, len)) != DT_OK)
        return err;
    return run(st);
}

dt_err dt_log_meta_get(dt_log *log, const char *key, unsigned char **value, size_t *len)
{
    sqlite3_stmt *st;
    dt_err err;
    DT_ARG_CHECK(log && key && value && len);
    *value = NULL;
    *len = 0;
    if ((err = check_meta_key(key)) != DT_OK)
        return err;
    st = log->st[S_META_GET];
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        return DT_ERR_NOMEM;
    return get_value(st, value, len, META_VALUE_MAX);
}

/* ---- tiles ---- */

/* Sets path (dir "/", dirlen + 1 bytes, with room for any tile path) to the
 * file rel; 1 if it is a full tile that is already there (it is kept:
 * full tiles never change). */
static int tile_kept(char *path, size_t dirlen, const char *rel, unsigned width)
{
    struct stat sb;
    strcpy(path + dirlen + 1, rel);
    return width == TILE && stat(path, &sb) == 0;
}

/* Writes path atomically, creating its folder. */
static dt_err put_file(char *path, const void *data, size_t len)
{
    char *slash = strrchr(path, '/');
    dt_err err;
    *slash = 0;
    err = dt_mkdirs(path);
    *slash = '/';
    return err != DT_OK ? err : dt_write_file_atomic(path, data, len, 0644);
}

/* Builds the entry bundle of entries [256 t, 256 t + w) in *buf (grown as
 * needed, *cap its size). */
static dt_err bundle(dt_log *log, unsigned char **buf, size_t *cap, size_t *len, uint64_t t, unsigned w)
{
    sqlite3_stmt *st = log->st[S_ENTRY_RANGE];
    uint64_t next = t * TILE;
    dt_err err = DT_OK;
    int rc = SQLITE_DONE;
    *len = 0;
    sqlite3_bind_int64(st, 1, (int64_t)next);
    sqlite3_bind_int64(st, 2, (int64_t)(next + w));
    while (err == DT_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if ((uint64_t)sqlite3_column_int64(st, 0) != next++ || n > DT_LOG_ENTRY_MAX) {
            err = DT_ERR_INVALID;
        } else if (*len + 2 + n > *cap) {
            unsigned char *p = realloc(*buf, 2 * (*len + 2 + n));
            err = p ? DT_OK : DT_ERR_NOMEM;
            if (p) {
                *buf = p;
                *cap = 2 * (*len + 2 + n);
            }
        }
        if (err == DT_OK) {
            (*buf)[*len] = (unsigned char)(n >> 8);
            (*buf)[*len + 1] = (unsigned char)n;
            if (n)
                memcpy(*buf + *len + 2, sqlite3_column_blob(st, 1), n);
            *len += 2 + n;
        }
    }
    if (err == DT_OK)
        err = rc != SQLITE_DONE ? sql_err(rc) : next != t * TILE + w ? DT_ERR_INVALID : DT_OK;
    sqlite3_reset(st);
    return err;
}

dt_err dt_log_export_tiles(dt_log *log, const char *dir, uint64_t size)
{
    unsigned char tile[TILE][HB], *buf = NULL;
    size_t dirlen, cap = 0, len;
    uint64_t cur;
    char rel[DT_TILE_PATH_MAX], *path;
    dt_err err;

    DT_ARG_CHECK(log && dir);
    /* not one read transaction: it would hold back WAL checkpoints for as
     * long as the files take to write */
    if ((err = read_size(log, &cur)) != DT_OK || size > cur)
        return err != DT_OK ? err : DT_ERR_RANGE;
    dirlen = strlen(dir);
    if (!(path = malloc(dirlen + 1 + DT_TILE_PATH_MAX)))
        return DT_ERR_NOMEM;
    memcpy(path, dir, dirlen);
    path[dirlen] = '/';
    /* hash tiles: tile level L holds nodes of tree level 8L */
    for (unsigned L = 0; L < 8 && (size >> (8 * L)) > 0 && err == DT_OK; L++) {
        uint64_t c = size >> (8 * L);
        for (uint64_t t = 0; t <= (c - 1) / TILE && err == DT_OK; t++) {
            unsigned w = t < c / TILE ? TILE : (unsigned)(c % TILE);
            if ((err = dt_tile_path(rel, L, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w))
                continue;
            for (unsigned i = 0; i < w && err == DT_OK; i++)
                err = stored_node(log, tile[i], 8 * L, t * TILE + i);
            if (err == DT_OK)
                err = put_file(path, tile, (size_t)w * HB);
        }
    }
    /* entry bundles */
    for (uint64_t t = 0; size > 0 && t <= (size - 1) / TILE && err == DT_OK; t++) {
        unsigned w = t < size / TILE ? TILE : (unsigned)(size % TILE);
        if ((err = dt_tile_entries_path(rel, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w) ||
            (err = bundle(log, &buf, &cap, &len, t, w)) != DT_OK)
            continue;
        err = put_file(path, buf, len);
    }
    free(buf);
    free(path);
    return err;
}
