/* The board's log store (include/detente/log.h): entries, the tree's
 * hashes, lookup keys, blobs and settings in one SQLite database.
 *
 * Schema version 1 (PRAGMA application_id 'dtlg', PRAGMA user_version 1):
 *   entries(idx INTEGER PRIMARY KEY, data BLOB)  the entries 0 .. size-1
 *   hashes(key INTEGER PRIMARY KEY, data BLOB)   one "strip" a row: key =
 *       level << 56 | s holds the hashes of the nodes (level, 256 s + i) that
 *       lie wholly inside the tree, i = 0 .. w-1 (w 1..256), 32 bytes each
 *   keys(key BLOB PRIMARY KEY, idx INTEGER)      unique lookup keys
 *   blobs(hash BLOB PRIMARY KEY, data BLOB)      content-addressed blobs
 *   meta(key TEXT PRIMARY KEY, value BLOB)       the board layer's settings
 *
 * Every level 0..63 has strips, so any node is one row read and a hash tile
 * (level 8L) is a strip copied out. The size is max(idx) + 1, read from the
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
#define STRIP 256u                   /* hashes in a full strip (= a tile's width) */
#define STRIP_BYTES (STRIP * HB)
#define LEVEL_SHIFT 56               /* hashes.key = level << 56 | strip */
#define APP_ID 0x64746c67            /* "dtlg" */
#define SCHEMA_VERSION 1
#define KEY_MAX 256u                 /* dt_log_append_keyed: longest key */
#define META_KEY_MAX 64u
#define META_VALUE_MAX 65536u
#define PAGE_SIZE 16384              /* docs/board.md: a strip fits in a page */
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
    S_COMMIT,
    S_ROLLBACK,
    S_SIZE,
    S_ENTRY_PUT,
    S_ENTRY_GET,
    S_ENTRY_RANGE,
    S_STRIP_GET,
    S_STRIP_PUT,
    S_STRIP_LAST,
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
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SIZE] = "SELECT max(idx) FROM entries",
    [S_ENTRY_PUT] = "INSERT INTO entries(idx, data) VALUES(?1, ?2)",
    [S_ENTRY_GET] = "SELECT data FROM entries WHERE idx = ?1",
    [S_ENTRY_RANGE] = "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [S_STRIP_GET] = "SELECT data FROM hashes WHERE key = ?1",
    [S_STRIP_PUT] = "INSERT OR REPLACE INTO hashes(key, data) VALUES(?1, ?2)",
    [S_STRIP_LAST] = "SELECT key, length(data) FROM hashes WHERE key >= ?1 AND key < ?2 ORDER BY key DESC LIMIT 1",
    [S_KEY_PUT] = "INSERT INTO keys(key, idx) VALUES(?1, ?2)",
    [S_KEY_GET] = "SELECT idx FROM keys WHERE key = ?1",
    [S_BLOB_PUT] = "INSERT OR IGNORE INTO blobs(hash, data) VALUES(?1, ?2)",
    [S_BLOB_GET] = "SELECT data FROM blobs WHERE hash = ?1",
    [S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

static const char schema_sql[] =
    "CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE hashes(key INTEGER PRIMARY KEY, data BLOB NOT NULL);"
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

static int64_t strip_key(unsigned level, uint64_t strip)
{
    return (int64_t)((uint64_t)level << LEVEL_SHIFT | strip);
}

/* Reads strip (level, s) into out; *len is its length in bytes, 0 if the
 * strip is absent. */
static dt_err strip_get(dt_log *log, unsigned char out[STRIP_BYTES], size_t *len, unsigned level, uint64_t s)
{
    sqlite3_stmt *st = log->st[S_STRIP_GET];
    dt_err err = DT_OK;
    int rc;
    *len = 0;
    sqlite3_bind_int64(st, 1, strip_key(level, s));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > STRIP_BYTES || n % HB)
            err = DT_ERR_INVALID;
        else if (n) {
            memcpy(out, sqlite3_column_blob(st, 0), n);
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

/* ---- open and close ---- */

/* Checks that the last strip of every level ends exactly where a tree of
 * size leaves ends (and that a level with no node has no strip). */
static dt_err check_tree(dt_log *log, uint64_t size)
{
    sqlite3_stmt *st = log->st[S_STRIP_LAST];
    dt_err err = DT_OK;
    for (unsigned l = 0; l < 64 && err == DT_OK; l++) {
        uint64_t c = size >> l;
        int rc;
        sqlite3_bind_int64(st, 1, strip_key(l, 0));
        sqlite3_bind_int64(st, 2, l == 63 ? INT64_MAX : strip_key(l + 1, 0));
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            err = c > 0 && sqlite3_column_int64(st, 0) == strip_key(l, (c - 1) / STRIP) &&
                          (uint64_t)sqlite3_column_int64(st, 1) == ((c - 1) % STRIP + 1) * HB
                      ? DT_OK
                      : DT_ERR_INVALID;
        else if (rc == SQLITE_DONE)
            err = c == 0 ? DT_OK : DT_ERR_INVALID;
        else
            err = sql_err(rc);
        sqlite3_reset(st);
    }
    return err;
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

/* Stores the new nodes [lo, hi) of one level (nodes[0] is node lo) in their
 * strips, completing a partial first strip. If lo is odd, *sibling gets node
 * lo - 1, read from that strip: the next level up needs it. */
static dt_err put_level(dt_log *log, unsigned level, uint64_t lo, uint64_t hi, const unsigned char (*nodes)[HB],
                        unsigned char sibling[HB])
{
    unsigned char strip[STRIP_BYTES];
    sqlite3_stmt *put = log->st[S_STRIP_PUT];
    dt_err err = DT_OK;
    for (uint64_t i = lo; i < hi && err == DT_OK;) {
        uint64_t s = i / STRIP;
        size_t from = (size_t)(i % STRIP), to = hi - s * STRIP < STRIP ? (size_t)(hi - s * STRIP) : STRIP;
        if (from > 0) {
            size_t have;
            if ((err = strip_get(log, strip, &have, level, s)) != DT_OK)
                break;
            if (have != from * HB) {
                err = DT_ERR_INVALID; /* the stored tree does not end where the entries do */
                break;
            }
            if (i & 1)
                memcpy(sibling, strip + (from - 1) * HB, HB);
        }
        memcpy(strip + from * HB, nodes[i - lo], (to - from) * HB);
        sqlite3_bind_int64(put, 1, strip_key(level, s));
        if ((err = bind_blob(put, 2, strip, to * HB)) == DT_OK)
            err = run(put);
        i = s * STRIP + to;
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
                     const unsigned char *const *keys, const size_t *keylens, size_t n, uint64_t *first, size_t *dup)
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
        if (lens[i] > DT_LOG_ENTRY_MAX || (keys && keys[i] && keylens[i] > KEY_MAX))
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
    if (size > (uint64_t)INT64_MAX - n) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    for (size_t i = 0; keys && i < n; i++) {
        sqlite3_stmt *st = log->st[S_KEY_PUT];
        int rc;
        if (!keys[i])
            continue;
        if ((err = bind_blob(st, 1, keys[i], keylens[i])) != DT_OK)
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
    return append(log, entries, lens, NULL, NULL, n, first, NULL);
}

dt_err dt_log_append_keyed(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                           const unsigned char *const *keys, const size_t *keylens, size_t n, uint64_t *first,
                           size_t *dup)
{
    return append(log, entries, lens, keys, keylens, n, first, dup);
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

/* DT_ERR_RANGE unless size <= the current size. */
static dt_err check_size(dt_log *log, uint64_t size)
{
    uint64_t cur;
    dt_err err = read_size(log, &cur);
    return err != DT_OK ? err : size > cur ? DT_ERR_RANGE : DT_OK;
}

dt_err dt_log_root(dt_log *log, uint64_t size, unsigned char root[HB])
{
    dt_err err;
    DT_ARG_CHECK(log && root);
    if ((err = check_size(log, size)) == DT_OK)
        err = dt_merkle_root_from_nodes(root, size, dt_log_node_fn, log);
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

/* Present in the store means wholly inside the tree: a strip holds exactly
 * the nodes that are complete. */
dt_err dt_log_node(dt_log *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    sqlite3_stmt *st;
    size_t off = (size_t)(index % STRIP) * HB;
    dt_err err = DT_ERR_RANGE;
    int rc;
    DT_ARG_CHECK(log && out);
    memset(out, 0, HB);
    if (level > 63)
        return DT_ERR_RANGE;
    st = log->st[S_STRIP_GET];
    sqlite3_bind_int64(st, 1, strip_key(level, index / STRIP));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) >= off + HB) {
        memcpy(out, (const unsigned char *)sqlite3_column_blob(st, 0) + off, HB);
        err = DT_OK;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

dt_err dt_log_node_fn(void *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    return dt_log_node(log, out, level, index);
}

dt_err dt_log_inclusion_proof(dt_log *log, unsigned char (*proof)[HB], size_t *proof_len, uint64_t index,
                              uint64_t size)
{
    dt_err err;
    DT_ARG_CHECK(log && proof && proof_len);
    if ((err = check_size(log, size)) == DT_OK)
        return dt_merkle_inclusion_proof_from_nodes(proof, proof_len, index, size, dt_log_node_fn, log);
    memset(proof, 0, *proof_len * HB);
    *proof_len = 0;
    return err;
}

dt_err dt_log_consistency_proof(dt_log *log, unsigned char (*proof)[HB], size_t *proof_len, uint64_t size1,
                                uint64_t size2)
{
    dt_err err;
    DT_ARG_CHECK(log && proof && proof_len);
    if ((err = check_size(log, size2)) == DT_OK)
        return dt_merkle_consistency_proof_from_nodes(proof, proof_len, size1, size2, dt_log_node_fn, log);
    memset(proof, 0, *proof_len * HB);
    *proof_len = 0;
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
    return width == STRIP && stat(path, &sb) == 0;
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
    uint64_t next = t * STRIP;
    dt_err err = DT_OK;
    int rc;
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
        err = rc != SQLITE_DONE ? sql_err(rc) : next != t * STRIP + w ? DT_ERR_INVALID : DT_OK;
    sqlite3_reset(st);
    return err;
}

dt_err dt_log_export_tiles(dt_log *log, const char *dir, uint64_t size)
{
    unsigned char strip[STRIP_BYTES], *buf = NULL;
    size_t dirlen, cap = 0, len;
    char rel[DT_TILE_PATH_MAX], *path;
    dt_err err;

    DT_ARG_CHECK(log && dir);
    if ((err = check_size(log, size)) != DT_OK)
        return err;
    dirlen = strlen(dir);
    if (!(path = malloc(dirlen + 1 + DT_TILE_PATH_MAX)))
        return DT_ERR_NOMEM;
    memcpy(path, dir, dirlen);
    path[dirlen] = '/';
    /* hash tiles: tile level L is tree level 8L, the first w hashes of its strip */
    for (unsigned L = 0; L < 8 && (size >> (8 * L)) > 0 && err == DT_OK; L++) {
        uint64_t c = size >> (8 * L);
        for (uint64_t t = 0; t <= (c - 1) / STRIP && err == DT_OK; t++) {
            unsigned w = t < c / STRIP ? STRIP : (unsigned)(c % STRIP);
            if ((err = dt_tile_path(rel, L, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w) ||
                (err = strip_get(log, strip, &len, 8 * L, t)) != DT_OK)
                continue;
            err = len < (size_t)w * HB ? DT_ERR_INVALID : put_file(path, strip, (size_t)w * HB);
        }
    }
    /* entry bundles */
    for (uint64_t t = 0; size > 0 && t <= (size - 1) / STRIP && err == DT_OK; t++) {
        unsigned w = t < size / STRIP ? STRIP : (unsigned)(size % STRIP);
        if ((err = dt_tile_entries_path(rel, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w) ||
            (err = bundle(log, &buf, &cap, &len, t, w)) != DT_OK)
            continue;
        err = put_file(path, buf, len);
    }
    free(buf);
    free(path);
    return err;
}
