/* The log store on SQLite (src/board/log_impl.h): entries, the tree's
 * hashes, lookup keys, blobs and settings in one database file, WAL mode,
 * synchronous=FULL. The embedded default.
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
 * behind but a rolled-back transaction. Appends are sequenced by SQLite's
 * write lock (BEGIN IMMEDIATE, then the size is read). docs/board.md, "The
 * log store", explains the choices and the figures. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "board/log_impl.h"
#include "util/codec.h"

#define HB DT_LOG_HB
#define APP_ID 0x64746c67 /* "dtlg" */
#define SCHEMA_VERSION 1
#define PAGE_SIZE 16384   /* docs/board.md: fewer bytes a 2 KB entry */
#define BUSY_TIMEOUT_MS 10000

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)

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

typedef struct sq_log {
    dt_log base;
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
} sq_log;

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

static dt_err read_size(sq_log *log, uint64_t *size)
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

/* The hash of node (level, index): DT_ERR_RANGE if it is not in the store
 * (present means wholly inside the tree: only complete nodes are stored). */
static dt_err node_get(sq_log *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    sqlite3_stmt *st = log->st[S_NODE_GET];
    dt_err err = DT_ERR_RANGE;
    int rc;
    if (level > 63 || index >= (DT_LOG_MAX >> level))
        return DT_ERR_RANGE;
    sqlite3_bind_int64(st, 1, dt_log_node_key(level, index));
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
static dt_err check_tree(sq_log *log, uint64_t size)
{
    sqlite3_stmt *st = log->st[S_NODE_LAST];
    unsigned char root[HB];
    dt_err err = DT_OK;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        err = sql_err(rc);
    else if (size == 0)
        err = sqlite3_column_type(st, 0) == SQLITE_NULL ? DT_OK : DT_ERR_INVALID;
    else if (size > DT_LOG_MAX || sqlite3_column_int64(st, 0) != dt_log_last_key(size))
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

static const dt_log_ops sq_ops;

static void sq_close(dt_log *base)
{
    sq_log *log = (sq_log *)base;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(log->st[i]);
    sqlite3_close(log->db);
    free(log);
}

dt_err dt_log_sqlite_open(dt_log **out, char **msg, const char *path, int create)
{
    sq_log *log;
    int64_t app = 0, version = 0;
    uint64_t size = 0;
    struct stat sb;
    dt_err err = DT_OK;

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
    log->base.ops = &sq_ops;
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
    *out = &log->base;
out:
    if (err != DT_OK) {
        if (log->db && sqlite3_errcode(log->db) != SQLITE_OK)
            *msg = dt_strdup_printf("%s: %s", path, sqlite3_errmsg(log->db));
        sq_close(&log->base);
    }
    return err;
}

/* ---- appending ---- */

static dt_err sq_put(void *arg, unsigned level, uint64_t lo, uint64_t hi, const unsigned char (*nodes)[HB])
{
    sq_log *log = arg;
    sqlite3_stmt *put = log->st[S_NODE_PUT];
    dt_err err = DT_OK;
    for (uint64_t i = lo; i < hi && err == DT_OK; i++) {
        sqlite3_bind_int64(put, 1, dt_log_node_key(level, i));
        if ((err = bind_blob(put, 2, nodes[i - lo], HB)) == DT_OK)
            err = run(put);
    }
    return err;
}

static dt_err sq_append(dt_log *base, const unsigned char *const *entries, const size_t *lens,
                        const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n,
                        unsigned char (*h)[HB], uint64_t *first, size_t *dup)
{
    sq_log *log = (sq_log *)base;
    uint64_t size = 0;
    dt_err err;

    if ((err = run(log->st[S_BEGIN])) != DT_OK)
        return err;
    if ((err = read_size(log, &size)) != DT_OK)
        goto out;
    if (size > DT_LOG_MAX - n) {
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
    if ((err = dt_log_put_tree(size, n, h, stored_node, log, sq_put, log)) != DT_OK ||
        (err = run(log->st[S_COMMIT])) != DT_OK)
        goto out;
    *first = size;
out:
    if (!sqlite3_get_autocommit(log->db))
        (void)run(log->st[S_ROLLBACK]);
    return err;
}

/* ---- reading ---- */

static dt_err sq_find(dt_log *base, const unsigned char *key, size_t keylen, uint64_t *index)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_KEY_GET];
    dt_err err;
    int rc;
    if ((err = bind_blob(st, 1, key, keylen)) != DT_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DT_OK : rc == SQLITE_DONE ? DT_ERR_NOT_FOUND : sql_err(rc);
}

static dt_err sq_size(dt_log *base, uint64_t *size)
{
    return read_size((sq_log *)base, size);
}

/* Roots and proofs read in one read transaction: one snapshot (a size
 * checked stays the size read) for the price of one lock, which halves the
 * time of a proof. A read transaction ends without failing; if COMMIT
 * somehow does, ROLLBACK ends it. */
static dt_err sq_read_tree(dt_log *base, uint64_t size, dt_log_tree_fn fn, void *arg)
{
    sq_log *log = (sq_log *)base;
    uint64_t cur = 0; /* read_size sets it; -O3 cannot see that */
    dt_err err = run(log->st[S_BEGIN_READ]);
    if (err == DT_OK && (err = read_size(log, &cur)) == DT_OK)
        err = size > cur ? DT_ERR_RANGE : fn(arg, stored_node, log);
    if (!sqlite3_get_autocommit(log->db) && run(log->st[S_COMMIT]) != DT_OK)
        (void)run(log->st[S_ROLLBACK]);
    return err;
}

/* Reads the one blob column of a row found by st (parameters bound) into a
 * malloc'ed buffer with a NUL after it; DT_ERR_NOT_FOUND without a row. */
static dt_err get_value(sqlite3_stmt *st, int col, unsigned char **data, size_t *len, size_t max)
{
    dt_err err = DT_ERR_NOT_FOUND;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        err = n > max ? DT_ERR_INVALID : (*data = malloc(n + 1)) ? DT_OK : DT_ERR_NOMEM;
        if (err == DT_OK) {
            if (n)
                memcpy(*data, sqlite3_column_blob(st, col), n);
            (*data)[n] = 0;
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

static dt_err sq_entry(dt_log *base, uint64_t index, unsigned char **data, size_t *len)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_ENTRY_GET];
    sqlite3_bind_int64(st, 1, (int64_t)index);
    dt_err err = get_value(st, 0, data, len, SIZE_MAX - 1);
    return err == DT_ERR_NOT_FOUND ? DT_ERR_RANGE : err;
}

static dt_err sq_node(dt_log *base, unsigned char out[HB], unsigned level, uint64_t index)
{
    return node_get((sq_log *)base, out, level, index);
}

static dt_err sq_nodes(dt_log *base, unsigned level, uint64_t index, unsigned count, unsigned char (*out)[HB])
{
    dt_err err = DT_OK;
    for (unsigned i = 0; i < count && err == DT_OK; i++)
        err = stored_node(base, out[i], level, index + i);
    return err;
}

static dt_err sq_entries(dt_log *base, uint64_t from, unsigned count, dt_log_entry_fn fn, void *arg)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_ENTRY_RANGE];
    dt_err err = DT_OK;
    int rc = SQLITE_DONE;
    sqlite3_bind_int64(st, 1, (int64_t)from);
    sqlite3_bind_int64(st, 2, (int64_t)(from + count));
    while (err == DT_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = fn(arg, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                 (size_t)sqlite3_column_bytes(st, 1));
    if (err == DT_OK && rc != SQLITE_DONE)
        err = sql_err(rc);
    sqlite3_reset(st);
    return err;
}

/* ---- blobs and settings ---- */

static dt_err sq_blob_put(dt_log *base, const unsigned char hash[32], const void *data, size_t len)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_BLOB_PUT];
    dt_err err;
    if ((err = bind_blob(st, 1, hash, 32)) == DT_OK && (err = bind_blob(st, 2, data, len)) == DT_OK)
        err = run(st);
    return err;
}

static dt_err sq_blob_get(dt_log *base, const unsigned char hash[32], unsigned char **data, size_t *len)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_BLOB_GET];
    dt_err err;
    if ((err = bind_blob(st, 1, hash, 32)) != DT_OK)
        return err;
    return get_value(st, 0, data, len, DT_LOG_BLOB_MAX);
}

static dt_err sq_meta_set(dt_log *base, const char *key, const void *value, size_t len)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_META_PUT];
    dt_err err;
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        return DT_ERR_NOMEM;
    if ((err = bind_blob(st, 2, value, len)) != DT_OK)
        return err;
    return run(st);
}

static dt_err sq_meta_get(dt_log *base, const char *key, unsigned char **value, size_t *len)
{
    sq_log *log = (sq_log *)base;
    sqlite3_stmt *st = log->st[S_META_GET];
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        return DT_ERR_NOMEM;
    return get_value(st, 0, value, len, DT_LOG_META_VALUE_MAX);
}

/* Read and write under the write lock (BEGIN IMMEDIATE), so that two
 * swaps from the same value cannot both succeed. */
static dt_err sq_meta_swap(dt_log *base, const char *key, const void *old, size_t oldlen, const void *value,
                           size_t len)
{
    sq_log *log = (sq_log *)base;
    unsigned char *cur = NULL;
    size_t curlen = 0;
    dt_err err = run(log->st[S_BEGIN]);
    if (err != DT_OK)
        return err;
    err = sq_meta_get(base, key, &cur, &curlen);
    if (err == DT_ERR_NOT_FOUND)
        err = old ? DT_ERR_INVALID : DT_OK;
    else if (err == DT_OK && (!old || curlen != oldlen || (oldlen && memcmp(cur, old, oldlen) != 0)))
        err = DT_ERR_INVALID;
    if (err == DT_OK && (err = sq_meta_set(base, key, value, len)) == DT_OK)
        err = run(log->st[S_COMMIT]);
    if (!sqlite3_get_autocommit(log->db))
        (void)run(log->st[S_ROLLBACK]);
    free(cur);
    return err;
}

static const char *sq_errmsg(const dt_log *base)
{
    const sq_log *log = (const sq_log *)base;
    return sqlite3_errcode(log->db) == SQLITE_OK ? "" : sqlite3_errmsg(log->db);
}

/* WAL checkpoints: SQLite runs one (PASSIVE) in the append that takes the
 * WAL past 1,000 pages, and that append waits for it: a copy of those
 * pages into the database and an fsync of it, 10-37 ms measured under the
 * election server's load. Run often from another handle, they leave that
 * one little to copy. PASSIVE: copies what no reader still needs and never
 * waits for the writer. */
static dt_err sq_checkpoint(dt_log *base)
{
    sq_log *log = (sq_log *)base;
    int rc = sqlite3_wal_checkpoint_v2(log->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* BUSY: another handle is checkpointing (an append's own): done then */
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? DT_OK : sql_err(rc);
}

static const dt_log_ops sq_ops = {
    sq_close,   sq_append, sq_find,     sq_size,     sq_read_tree, sq_entry,     sq_node,  sq_nodes,
    sq_entries, sq_blob_put, sq_blob_get, sq_meta_set, sq_meta_get,  sq_meta_swap, sq_errmsg,
    sq_checkpoint,
};
