/* The log store on PostgreSQL (src/board/log_impl.h), through libpq: the
 * same rows as the SQLite store, in a database that several server
 * processes, on one machine or many, share.
 *
 * Schema version 1, in the first schema of the search path:
 *   dtlog_head(id 1, size, version)  the one head row: the log's size; every
 *                                    append locks it (FOR UPDATE)
 *   dtlog_entries(idx, data)         the entries 0 .. size-1
 *   dtlog_nodes(key, hash)           every node wholly inside the tree,
 *                                    keyed as in the SQLite store
 *   dtlog_keys(key, idx)             unique lookup keys
 *   dtlog_blobs(hash, data)          content-addressed blobs
 *   dtlog_meta(key, value)           the board layer's settings
 *   dtlog_batches(id, first, n, at)  one row an append, written by it: how a
 *                                    client finds out whether a COMMIT whose
 *                                    answer it lost was done
 *
 * Sequencing. An append is one transaction: BEGIN and SELECT ... FOR UPDATE
 * of the head row, which returns the size, the transaction's id and the
 * frontier nodes the new ones hang from (one round trip); one statement
 * that inserts the keys, entries and new nodes and sets the new size; then
 * COMMIT, with synchronous_commit on (the commit record is flushed to disk
 * before the answer). The row lock sequences appenders in every process
 * and on every machine: a second appender's FOR UPDATE waits until the
 * first commits or aborts, then reads its size. Nothing is cached between
 * calls: the size, the frontier and everything else are read inside the
 * transaction that uses them.
 *
 * A lost connection. Before COMMIT is sent, the server can only abort the
 * transaction: the handle reconnects and appends again. After COMMIT is
 * sent and before its answer arrives, the outcome is unknown: the handle
 * reconnects, ends the old session if it still lives (pg_terminate_backend,
 * checked by pid and start time), takes the head row's lock (which the old
 * transaction held to its end, so that it has ended), and looks for the
 * batch's id, a row that the transaction wrote (dtlog_batches): there, the
 * append is acknowledged with the index it read; absent, it appends again.
 * (Not the transaction's id and pg_xact_status: a server that crashes hands
 * out again the ids of transactions that left nothing in its WAL, so the
 * status of that id may soon be another transaction's.)
 * docs/scale.md, "The board on PostgreSQL", argues why no entry is lost or
 * duplicated. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libpq-fe.h>

#include <detente/hash.h>

#include "board/log_impl.h"
#include "util/codec.h"

#define HB DT_LOG_HB
#define SCHEMA_VERSION 1
#define LOCK_ID 0x64746c67            /* "dtlg": serializes creating the schema */
#define RETRY_MS 10000                /* reconnecting before an append gives up */
#define RESOLVE_MS 30000              /* finding out a COMMIT whose answer was lost */
#define CHUNK_BYTES (16u << 20)       /* entries a statement at most, in a large batch */
#define TREE_NODES 256                /* nodes read in one query for a root or a proof */

/* The ids of the prepared statements. */
enum {
    P_SIZE,
    P_WRITE,
    P_ENTRIES,
    P_FIND,
    P_DUP,
    P_TREE,
    P_ENTRY,
    P_NODE,
    P_NODES,
    P_RANGE,
    P_BLOB_PUT,
    P_BLOB_GET,
    P_META_PUT,
    P_META_GET,
    P_META_ADD,
    P_META_SWAP,
    P_CHECK,
    P_LOCK,
    P_FRONTIER,
    P_COUNT
};

static const char *const stmt_sql[P_COUNT] = {
    [P_SIZE] = "SELECT size FROM dtlog_head WHERE id = 1",
    /* $1 first index, $2/$3 keys and their entries' positions in the batch,
     * $4 entries (or none: inserted by P_ENTRIES), $5/$6 new nodes, $7 new
     * size, $8 the batch's id; one row, or an error */
    [P_WRITE] = "WITH k AS (INSERT INTO dtlog_keys(key, idx)"
                "           SELECT u.k, $1::int8 + u.p FROM unnest($2::bytea[], $3::int8[]) AS u(k, p)),"
                " e AS (INSERT INTO dtlog_entries(idx, data)"
                "       SELECT $1::int8 + u.o - 1, u.d FROM unnest($4::bytea[]) WITH ORDINALITY AS u(d, o)),"
                " t AS (INSERT INTO dtlog_nodes(key, hash) SELECT * FROM unnest($5::int8[], $6::bytea[])),"
                " b AS (INSERT INTO dtlog_batches(id, first, n) VALUES ($8, $1::int8, $7::int8 - $1::int8)),"
                " u AS (UPDATE dtlog_head SET size = $7::int8 WHERE id = 1 RETURNING 1)"
                /* without the head row, an error (not a commit of the rest) */
                " SELECT 1 / count(*) FROM u",
    [P_ENTRIES] = "INSERT INTO dtlog_entries(idx, data)"
                  " SELECT $1::int8 + u.o - 1, u.d FROM unnest($2::bytea[]) WITH ORDINALITY AS u(d, o)",
    [P_FIND] = "SELECT idx FROM dtlog_keys WHERE key = $1",
    [P_DUP] = "SELECT min(u.o) FROM unnest($1::bytea[]) WITH ORDINALITY AS u(k, o)"
              " WHERE EXISTS (SELECT 1 FROM dtlog_keys AS t WHERE t.key = u.k)",
    /* the size (as key -1) and the nodes, in one snapshot */
    [P_TREE] = "SELECT -1::int8, int8send(size) FROM dtlog_head WHERE id = 1"
               " UNION ALL SELECT key, hash FROM dtlog_nodes WHERE key = ANY($1::int8[])",
    [P_ENTRY] = "SELECT data FROM dtlog_entries WHERE idx = $1",
    [P_NODE] = "SELECT hash FROM dtlog_nodes WHERE key = $1",
    [P_NODES] = "SELECT key, hash FROM dtlog_nodes WHERE key = ANY($1::int8[])",
    [P_RANGE] = "SELECT idx, data FROM dtlog_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    [P_BLOB_PUT] = "INSERT INTO dtlog_blobs(hash, data) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [P_BLOB_GET] = "SELECT data FROM dtlog_blobs WHERE hash = $1",
    [P_META_PUT] = "INSERT INTO dtlog_meta(key, value) VALUES ($1, $2)"
                   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    [P_META_GET] = "SELECT value FROM dtlog_meta WHERE key = $1",
    [P_META_ADD] = "INSERT INTO dtlog_meta(key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [P_META_SWAP] = "UPDATE dtlog_meta SET value = $3 WHERE key = $1 AND value = $2",
    [P_CHECK] = "SELECT (SELECT size FROM dtlog_head WHERE id = 1), (SELECT max(idx) FROM dtlog_entries),"
                " (SELECT max(key) FROM dtlog_nodes), (SELECT version FROM dtlog_head WHERE id = 1)",
    /* an append's lock: the head row's, to the end of the transaction */
    [P_LOCK] = "SELECT 1 FROM dtlog_head WHERE id = 1 FOR UPDATE",
    /* the size and the frontier, every node (l, (size >> l) - 1) for a bit l
     * set in size (a row with l NULL for size 0) */
    [P_FRONTIER] = "WITH h AS (SELECT size FROM dtlog_head WHERE id = 1)"
                   " SELECT h.size, f.l, n.hash FROM h"
                   " LEFT JOIN LATERAL (SELECT l FROM generate_series(0, 62) AS l WHERE (h.size >> l) & 1 = 1) AS f"
                   " ON true LEFT JOIN dtlog_nodes AS n ON n.key = ((((h.size >> f.l) << f.l) - 1) << 6) | f.l",
};

static const char schema_sql[] =
    "CREATE TABLE dtlog_head(id smallint PRIMARY KEY CHECK (id = 1), size bigint NOT NULL CHECK (size >= 0),"
    " version integer NOT NULL);"
    "CREATE TABLE dtlog_entries(idx bigint PRIMARY KEY, data bytea NOT NULL);"
    "CREATE TABLE dtlog_nodes(key bigint PRIMARY KEY, hash bytea NOT NULL);"
    "CREATE TABLE dtlog_keys(key bytea CONSTRAINT dtlog_keys_pkey PRIMARY KEY, idx bigint NOT NULL);"
    "CREATE TABLE dtlog_blobs(hash bytea PRIMARY KEY, data bytea NOT NULL);"
    "ALTER TABLE dtlog_blobs ALTER COLUMN data SET STORAGE EXTERNAL;"
    "CREATE TABLE dtlog_meta(key text PRIMARY KEY, value bytea NOT NULL);"
    "CREATE TABLE dtlog_batches(id bytea PRIMARY KEY, first bigint NOT NULL, n bigint NOT NULL,"
    " at timestamptz NOT NULL DEFAULT now());"
    "INSERT INTO dtlog_head VALUES (1, 0, 1);";

typedef struct pg_log {
    dt_log base;
    PGconn *conn;
    char *uri;
    int prepared;           /* the statements are prepared on conn */
    int ended;              /* the server ended the session (a FATAL error): as good as lost */
    char failed_cons[64];   /* the constraint that the last failed pipeline broke, if any */
    int pid;                /* the server process of conn, and its start */
    char started[64];
    char errmsg[512];
    int fault;              /* DT_LOG_PG_FAULT_*, for the next append */
    unsigned recovered[2];  /* appends resolved after a lost connection: committed, not */
    uint64_t batches;       /* appends begun by this handle (a part of their ids) */
} pg_log;

static const dt_log_ops pg_ops;

/* ---- small helpers ---- */

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static void set_msg(pg_log *log, const char *m)
{
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    if (n >= sizeof log->errmsg)
        n = sizeof log->errmsg - 1;
    for (size_t i = 0; i < n; i++) /* one line: DETAIL and HINT after the message */
        log->errmsg[i] = m[i] == '\n' ? ' ' : m[i];
    log->errmsg[n] = '\0';
}

static void put_be64(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)v;
}

static uint32_t get_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* A growable buffer for binary parameters (arrays in PostgreSQL's binary
 * format). */
typedef struct buf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} buf;

static void buf_add(buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->len < n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_u32(buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    buf_add(b, x, 4);
}

/* A one-dimensional array header: n elements of type oid (17 bytea, 20 int8). */
static void arr_begin(buf *b, uint32_t oid, size_t n)
{
    b->len = 0;
    buf_u32(b, n ? 1 : 0); /* dimensions */
    buf_u32(b, 0);         /* no NULLs */
    buf_u32(b, oid);
    if (n) {
        buf_u32(b, (uint32_t)n);
        buf_u32(b, 1); /* lower bound */
    }
}

static void arr_bytes(buf *b, const void *data, size_t n)
{
    buf_u32(b, (uint32_t)n);
    buf_add(b, data, n);
}

static void arr_int8(buf *b, uint64_t v)
{
    unsigned char x[8];
    put_be64(x, v);
    arr_bytes(b, x, 8);
}

#define OID_BYTEA 17u
#define OID_INT8 20u

/* ---- errors ---- */

/* The error of a failed result (and its message kept). */
static dt_err res_err(pg_log *log, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *sev = r ? PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    /* FATAL and PANIC end the session (terminated, the server shutting
     * down): the connection is gone even before libpq reads its end */
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        log->ended = 1;
    set_msg(log, r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(log->conn));
    if (!r)
        return PQstatus(log->conn) == CONNECTION_BAD ? DT_ERR_IO : DT_ERR_NOMEM;
    if (!state)
        return DT_ERR_IO;
    if (strcmp(state, "23505") == 0) /* unique_violation */
        return DT_ERR_INVALID;
    if (strcmp(state, "54000") == 0) /* program_limit_exceeded */
        return DT_ERR_LIMIT;
    if (strncmp(state, "42", 2) == 0 || strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
        strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0)
        return DT_ERR_INVALID; /* a table or column missing, data or constraints damaged */
    return DT_ERR_IO;          /* the connection, lock timeout, disk full, shutdown, ... */
}

static int lost(const pg_log *log)
{
    return !log->conn || log->ended || PQstatus(log->conn) == CONNECTION_BAD;
}

/* The name of prepared statement id. */
static void stmt_name(char name[8], int id)
{
    snprintf(name, 8, "s%d", id);
}

/* ---- connecting ---- */

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* (Re)connects, sets the session (durable commits, lock timeout) and
 * prepares the statements if the schema is there (prepare != 0). */
static dt_err connect_db(pg_log *log, int prepare)
{
    /* defaults before the URI, which may override them: a dead peer is
     * noticed in seconds, not hours */
    const char *kw[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "application_name", "dbname", NULL};
    const char *val[] = {"10", "1", "10", "5", "3", "30000", "detente", log->uri, NULL};
    PGresult *r;
    dt_err err = DT_OK;

    if (log->conn)
        PQfinish(log->conn);
    log->prepared = 0;
    log->ended = 0;
    log->conn = PQconnectdbParams(kw, val, 1);
    if (!log->conn)
        return DT_ERR_NOMEM;
    if (PQstatus(log->conn) != CONNECTION_OK) {
        set_msg(log, PQerrorMessage(log->conn));
        return DT_ERR_IO;
    }
    PQsetNoticeProcessor(log->conn, no_notices, NULL);
    /* the session's settings win over the URI's: an acknowledged append is
     * durable whatever the server's default */
    r = PQexec(log->conn, "SET synchronous_commit = on; SET lock_timeout = '10s';"
                          " SET idle_in_transaction_session_timeout = '60s'; SET statement_timeout = 0;"
                          " SELECT current_setting('fsync'), backend_start::text FROM pg_stat_activity"
                          " WHERE pid = pg_backend_pid()");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        err = res_err(log, r);
        err = err == DT_ERR_INVALID ? DT_ERR_IO : err;
    } else if (strcmp(PQgetvalue(r, 0, 0), "on") != 0) {
        set_msg(log, "the PostgreSQL server runs with fsync off: an acknowledged append would not be durable");
        err = DT_ERR_INVALID;
    } else {
        log->pid = PQbackendPID(log->conn);
        snprintf(log->started, sizeof log->started, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    for (int i = 0; prepare && err == DT_OK && i < P_COUNT; i++) {
        char name[8];
        stmt_name(name, i);
        r = PQprepare(log->conn, name, stmt_sql[i], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            err = res_err(log, r);
        PQclear(r);
    }
    if (err == DT_OK && prepare)
        log->prepared = 1;
    return err;
}

/* Reconnects until deadline (now_ms()), with growing pauses. */
static dt_err reconnect_until(pg_log *log, uint64_t deadline)
{
    unsigned pause = 20;
    for (;;) {
        dt_err err = connect_db(log, 1);
        if (err != DT_ERR_IO || now_ms() + pause > deadline)
            return err;
        sleep_ms(pause);
        pause = pause < 500 ? pause * 2 : 1000;
    }
}

/* Before a call: a connection lost since the last one is made again (once,
 * without waiting), and a transaction left open by a failure is ended. */
static dt_err ready(pg_log *log)
{
    if (lost(log) || !log->prepared)
        return connect_db(log, 1);
    if (PQtransactionStatus(log->conn) != PQTRANS_IDLE)
        PQclear(PQexec(log->conn, "ROLLBACK"));
    return lost(log) ? connect_db(log, 1) : DT_OK;
}

/* Runs prepared statement id (parameters binary unless formats says; the
 * results binary). A connection found lost is made again and the statement
 * run once more: every caller's statement is a read or idempotent. *out
 * gets the result (tuples or command) or NULL with the error returned. */
static dt_err run(pg_log *log, int id, int n, const char *const *values, const int *lengths, const int *formats,
                  PGresult **out)
{
    static const int binary[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    char name[8];
    dt_err err = DT_OK;
    stmt_name(name, id);
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((err = ready(log)) != DT_OK)
            return err;
        PGresult *r = PQexecPrepared(log->conn, name, n, values, lengths, formats ? formats : binary, 1);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *out = r;
            return DT_OK;
        }
        err = res_err(log, r);
        PQclear(r);
        if (!lost(log))
            break;
    }
    return err;
}

/* A one-int8 parameter. */
static dt_err run_int8(pg_log *log, int id, uint64_t v, PGresult **out)
{
    unsigned char x[8];
    const char *values[1] = {(const char *)x};
    int lengths[1] = {8};
    put_be64(x, v);
    return run(log, id, 1, values, lengths, NULL, out);
}

/* Sends n statements in one round trip (libpq's pipeline mode) and reads
 * their results into res[] (NULL for those that did not run): statement i
 * is sql[i] (simple text, no parameters) or, sql[i] NULL, the prepared
 * statement ids[i], with the nvalues parameters values/lengths (binary)
 * if it is the one that has them. The first failure is returned (res_err), and its
 * constraint's name kept in log->failed_cons. With lose non-NULL, the
 * answer is waited for and then not read (*lose = 1: the caller drops the
 * connection; a test fault). */
static dt_err pipeline(pg_log *log, int n, const char *const *sql, const int *ids, int nvalues,
                       const char *const *values, const int *lengths, int *lose, PGresult **res)
{
    static const int binary[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    dt_err err = DT_OK;
    int sent = 0;
    if (nvalues > 8)
        dt_misuse("log_pg.c: pipeline: more than 8 parameters");
    log->failed_cons[0] = '\0';
    for (int i = 0; i < n; i++)
        res[i] = NULL;
    if (!PQenterPipelineMode(log->conn))
        return res_err(log, NULL);
    for (int i = 0; i < n; i++) {
        char name[8];
        stmt_name(name, ids[i]);
        int ok = sql[i] ? PQsendQueryParams(log->conn, sql[i], 0, NULL, NULL, NULL, NULL, 1)
                        : PQsendQueryPrepared(log->conn, name, values ? nvalues : 0, values, lengths, binary, 1);
        if (!ok)
            break;
        sent++;
    }
    if (sent < n || !PQpipelineSync(log->conn)) {
        err = res_err(log, NULL);
        log->ended = 1; /* what reached the server is unknown: the connection is not used again */
        return err == DT_OK ? DT_ERR_IO : err;
    }
    if (lose) {
        struct pollfd p = {PQsocket(log->conn), POLLIN, 0};
        (void)poll(&p, 1, 10000);
        *lose = 1;
        return DT_ERR_IO;
    }
    for (int i = 0; i < n; i++) {
        PGresult *r = PQgetResult(log->conn);
        ExecStatusType st = PQresultStatus(r);
        if (!r) {
            err = err != DT_OK ? err : res_err(log, NULL);
            log->ended = 1;
            break;
        }
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            res[i] = r;
        } else {
            if (err == DT_OK && st != PGRES_PIPELINE_ABORTED) {
                const char *cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
                err = res_err(log, r);
                snprintf(log->failed_cons, sizeof log->failed_cons, "%s", cons ? cons : "");
            }
            PQclear(r);
        }
        /* the NULL that ends each statement's results */
        while ((r = PQgetResult(log->conn)) != NULL && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            PQclear(r);
        if (r) { /* a sync before the statement's end: the connection is gone */
            PQclear(r);
            log->ended = 1;
            return err != DT_OK ? err : DT_ERR_IO;
        }
        if (lost(log))
            break;
    }
    if (!lost(log)) {
        PGresult *r = PQgetResult(log->conn); /* the sync */
        if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            log->ended = 1;
        PQclear(r);
    }
    if (!lost(log) && !PQexitPipelineMode(log->conn))
        log->ended = 1;
    if (err == DT_OK && lost(log))
        err = DT_ERR_IO;
    return err;
}

/* Column c of row i as an int8 (binary result); -1 if NULL. */
static int64_t col_int8(const PGresult *r, int i, int c)
{
    if (PQgetisnull(r, i, c) || PQgetlength(r, i, c) != 8)
        return -1;
    return (int64_t)get_be64((const unsigned char *)PQgetvalue(r, i, c));
}

/* ---- open and close ---- */

static void pg_close(dt_log *base)
{
    pg_log *log = (pg_log *)base;
    if (log->conn)
        PQfinish(log->conn);
    if (log->uri)
        dt_memzero(log->uri, strlen(log->uri)); /* it may hold a password */
    free(log->uri);
    free(log);
}

/* Finds the schema in the current schema of the search path, or creates it
 * (create != 0), under a transaction-level advisory lock so that two
 * processes creating one log at once make it once. */
static dt_err init_schema(pg_log *log, int create)
{
    PGresult *r = PQexec(log->conn, "BEGIN; SELECT pg_advisory_xact_lock(1684302951);"
                                    " SELECT count(*) FILTER (WHERE c.relname = 'dtlog_head'), count(*)"
                                    " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                                    " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                                    " AND c.relname LIKE 'dtlog\\_%'");
    dt_err err = DT_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        err = res_err(log, r);
        err = err == DT_ERR_INVALID ? DT_ERR_IO : err;
    } else if (strcmp(PQgetvalue(r, 0, 0), "1") == 0) {
        err = DT_OK; /* there: its version is checked by the caller */
    } else if (strcmp(PQgetvalue(r, 0, 1), "0") != 0) {
        set_msg(log, "the schema holds dtlog_ tables but no dtlog_head: not a detente log");
        err = DT_ERR_INVALID;
    } else if (!create) {
        set_msg(log, "the database holds no detente log");
        err = DT_ERR_NOT_FOUND;
    } else {
        PQclear(r);
        r = PQexec(log->conn, schema_sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            err = res_err(log, r);
            err = err == DT_ERR_INVALID ? DT_ERR_IO : err; /* no schema to create in, no right to */
        }
    }
    PQclear(r);
    r = PQexec(log->conn, err == DT_OK ? "COMMIT" : "ROLLBACK");
    if (err == DT_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        err = DT_ERR_IO;
    PQclear(r);
    return err;
}

/* The tree ends where the entries end, the head's size: the last entry is
 * size - 1, the largest node key is the node that entry completes at the
 * highest level, and the root's inputs are there. */
static dt_err check_store(pg_log *log)
{
    PGresult *r = NULL;
    unsigned char root[HB];
    dt_err err = run(log, P_CHECK, 0, NULL, NULL, NULL, &r);
    if (err != DT_OK)
        return err;
    int64_t size = col_int8(r, 0, 0), last = col_int8(r, 0, 1), key = col_int8(r, 0, 2);
    int64_t version = -1;
    if (!PQgetisnull(r, 0, 3) && PQgetlength(r, 0, 3) == 4) {
        const unsigned char *v = (const unsigned char *)PQgetvalue(r, 0, 3);
        version = (int64_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]);
    }
    PQclear(r);
    if (version != SCHEMA_VERSION) {
        set_msg(log, "the detente log in this database has another schema version");
        return DT_ERR_INVALID;
    }
    if (size < 0 || (uint64_t)size > DT_LOG_MAX ||
        (size == 0 ? (last != -1 || key != -1) : (last != size - 1 || key != dt_log_last_key((uint64_t)size)))) {
        set_msg(log, "the log's tree does not end where its entries end");
        return DT_ERR_INVALID;
    }
    return dt_log_root(&log->base, (uint64_t)size, root);
}

dt_err dt_log_pg_open(dt_log **out, char **msg, const char *uri, int create)
{
    pg_log *log = calloc(1, sizeof *log);
    dt_err err;
    if (!log)
        return DT_ERR_NOMEM;
    log->base.ops = &pg_ops;
    if (!(log->uri = strdup(uri))) {
        free(log);
        return DT_ERR_NOMEM;
    }
    if ((err = connect_db(log, 0)) == DT_OK && (err = init_schema(log, create)) == DT_OK &&
        (err = connect_db(log, 1)) == DT_OK)
        err = check_store(log);
    if (err != DT_OK) {
        if (log->errmsg[0])
            *msg = dt_strdup_printf("PostgreSQL: %s", log->errmsg);
        pg_close(&log->base);
        return err;
    }
    *out = &log->base;
    return DT_OK;
}

/* ---- appending ---- */

/* One append's work, kept across a retry. */
typedef struct batch {
    const unsigned char *const *entries;
    const size_t *lens;
    const unsigned char *const *keys;
    const size_t *keylens;
    size_t kper, n;
    const unsigned char (*leaves)[HB]; /* h[1..n] as given */
    unsigned char (*h)[HB];            /* scratch for dt_log_put_tree */
    /* the frontier read under the lock: fr[l] is node (l, (size >> l) - 1) */
    unsigned char fr[64][HB];
    uint64_t have; /* bit l: fr[l] read */
    buf nkeys, nhash; /* the new nodes, as arrays */
    size_t nnodes;
} batch;

static dt_err frontier_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    batch *b = arg;
    (void)index; /* always (size >> level) - 1: dt_log_put_tree asks only for the frontier */
    if (level > 63 || !(b->have >> level & 1))
        return DT_ERR_INVALID;
    memcpy(out, b->fr[level], HB);
    return DT_OK;
}

static dt_err collect_nodes(void *arg, unsigned level, uint64_t lo, uint64_t hi, const unsigned char (*nodes)[HB])
{
    batch *b = arg;
    for (uint64_t i = lo; i < hi; i++) {
        arr_int8(&b->nkeys, (uint64_t)dt_log_node_key(level, i));
        arr_bytes(&b->nhash, nodes[i - lo], HB);
        b->nnodes++;
    }
    return b->nkeys.failed || b->nhash.failed ? DT_ERR_NOMEM : DT_OK;
}

/* The key conflicts of a batch the server refused: the batch position of
 * the first offending entry, as the SQLite store reports it (keys taken in
 * order, each offending if already in the log or equal to an earlier one). */
typedef struct keyref {
    const unsigned char *k;
    size_t len, ik;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = x->len ? memcmp(x->k, y->k, x->len) : 0;
    return c ? c : (x->ik > y->ik) - (x->ik < y->ik);
}

static dt_err find_dup(pg_log *log, const batch *b, size_t *dup)
{
    size_t nk = 0, best = SIZE_MAX;
    keyref *refs = malloc((b->n * b->kper + 1) * sizeof *refs);
    buf arr = {0};
    PGresult *r = NULL;
    dt_err err = DT_OK;
    if (!refs)
        return DT_ERR_NOMEM;
    for (size_t ik = 0; ik < b->n * b->kper; ik++)
        if (b->keys[ik])
            refs[nk++] = (keyref){b->keys[ik], b->keylens[ik], ik};
    /* already in the log: the server says which, by position in refs */
    arr_begin(&arr, OID_BYTEA, nk);
    for (size_t i = 0; i < nk; i++)
        arr_bytes(&arr, refs[i].k, refs[i].len);
    if (arr.failed) {
        err = DT_ERR_NOMEM;
    } else {
        const char *values[1] = {(const char *)arr.p};
        int lengths[1] = {(int)arr.len};
        if ((err = run(log, P_DUP, 1, values, lengths, NULL, &r)) == DT_OK) {
            int64_t o = col_int8(r, 0, 0);
            if (o >= 1 && (uint64_t)o <= nk)
                best = refs[o - 1].ik;
        }
        PQclear(r);
    }
    /* twice in the batch: every copy after the first */
    qsort(refs, nk, sizeof *refs, keyref_cmp);
    for (size_t i = 1; i < nk; i++)
        if (refs[i].len == refs[i - 1].len && (!refs[i].len || memcmp(refs[i].k, refs[i - 1].k, refs[i].len) == 0) &&
            refs[i].ik < best)
            best = refs[i].ik;
    if (err == DT_OK)
        *dup = best == SIZE_MAX ? SIZE_MAX : best / b->kper;
    free(arr.p);
    free(refs);
    return err;
}

/* How one transaction ended. */
enum { T_DONE, T_LOST_BEFORE_COMMIT, T_LOST_AFTER_COMMIT };

/* Ends this session from another one (DT_LOG_PG_FAULT_KILLED). */
static void kill_own_session(pg_log *log)
{
    char pid[16];
    const char *values[1] = {pid};
    PGconn *c = PQconnectdb(log->uri);
    snprintf(pid, sizeof pid, "%d", log->pid);
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexecParams(c, "SELECT pg_terminate_backend($1::int, 5000)", 1, NULL, values, NULL, NULL, 0));
    PQfinish(c);
}

/* One attempt: the transaction, under the batch's id. *how says whether
 * the connection was lost, and when; *first is set once read. */
static dt_err txn(pg_log *log, batch *b, uint64_t *first, size_t *dup, const unsigned char id[16], int *how)
{
    PGresult *r = NULL, *res[3] = {NULL, NULL, NULL};
    int lose = 0;
    buf keys = {0}, pos = {0}, ents = {0};
    uint64_t size = 0;
    int fault = log->fault;
    dt_err err = DT_OK;

    *how = T_DONE;
    log->fault = DT_LOG_PG_FAULT_NONE;
    /* One round trip: BEGIN, the lock, then the size and the frontier. The
     * frontier is read by a statement after the one that waits for the
     * lock, because in READ COMMITTED a statement sees the rows committed
     * before it started: a statement that waited for the lock would see the
     * head row's new size (the locked row is read again) but not the nodes
     * committed with it. */
    {
        const char *sql[3] = {"BEGIN", NULL, NULL};
        int ids[3] = {-1, P_LOCK, P_FRONTIER};
        if ((err = pipeline(log, 3, sql, ids, 0, NULL, NULL, NULL, res)) != DT_OK)
            goto out;
        r = res[2];
        res[2] = NULL;
        PQclear(res[0]);
        PQclear(res[1]);
        res[0] = res[1] = NULL;
    }
    if (PQntuples(r) < 1 || col_int8(r, 0, 0) < 0 || (uint64_t)col_int8(r, 0, 0) > DT_LOG_MAX) {
        set_msg(log, "the log's head row is missing or damaged");
        err = DT_ERR_INVALID;
        goto out;
    }
    size = (uint64_t)col_int8(r, 0, 0);
    b->have = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int l = PQgetisnull(r, i, 1) || PQgetlength(r, i, 1) != 4 ? -1 : (int)get_be32(PQgetvalue(r, i, 1));
        if (l < 0 || l > 63 || PQgetisnull(r, i, 2) || PQgetlength(r, i, 2) != HB)
            continue; /* missing or damaged: an error if it is needed */
        memcpy(b->fr[l], PQgetvalue(r, i, 2), HB);
        b->have |= (uint64_t)1 << l;
    }
    PQclear(r);
    r = NULL;
    if (size > DT_LOG_MAX - b->n) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    /* the new nodes */
    memcpy(b->h + 1, b->leaves + 1, b->n * sizeof *b->h);
    b->nnodes = 0;
    arr_begin(&b->nkeys, OID_INT8, 2 * b->n + 64); /* the count is patched below */
    arr_begin(&b->nhash, OID_BYTEA, 2 * b->n + 64);
    if ((err = dt_log_put_tree(size, b->n, b->h, frontier_node, b, collect_nodes, b)) != DT_OK) {
        if (err == DT_ERR_INVALID)
            set_msg(log, "a node of the log's frontier is missing or damaged");
        goto out;
    }
    for (int k = 0; k < 2; k++) { /* the arrays' element count: bytes 12..15 */
        buf *a = k ? &b->nhash : &b->nkeys;
        a->p[12] = (unsigned char)(b->nnodes >> 24), a->p[13] = (unsigned char)(b->nnodes >> 16);
        a->p[14] = (unsigned char)(b->nnodes >> 8), a->p[15] = (unsigned char)b->nnodes;
    }
    /* the keys, with their entries' positions in the batch */
    size_t nk = 0;
    for (size_t ik = 0; b->keys && ik < b->n * b->kper; ik++)
        nk += b->keys[ik] != NULL;
    arr_begin(&keys, OID_BYTEA, nk);
    arr_begin(&pos, OID_INT8, nk);
    for (size_t ik = 0; b->keys && ik < b->n * b->kper; ik++)
        if (b->keys[ik]) {
            arr_bytes(&keys, b->keys[ik], b->keylens[ik]);
            arr_int8(&pos, ik / b->kper);
        }
    /* the entries: with the rest in one statement, or first by chunks */
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++)
        total += 4 + b->lens[i];
    for (size_t at = 0; total > CHUNK_BYTES && at < b->n;) {
        size_t k = 0, bytes = 0;
        while (at + k < b->n && (k == 0 || bytes + 4 + b->lens[at + k] <= CHUNK_BYTES))
            bytes += 4 + b->lens[at + k++];
        arr_begin(&ents, OID_BYTEA, k);
        for (size_t i = at; i < at + k; i++)
            arr_bytes(&ents, b->entries[i], b->lens[i]);
        unsigned char f8[8];
        put_be64(f8, size + at);
        const char *values[2] = {(const char *)f8, (const char *)ents.p};
        int lengths[2] = {8, (int)ents.len}, formats[2] = {1, 1};
        if (ents.failed) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        char name[8];
        stmt_name(name, P_ENTRIES);
        r = PQexecPrepared(log->conn, name, 2, values, lengths, formats, 1);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            err = res_err(log, r);
            goto out;
        }
        PQclear(r);
        r = NULL;
        at += k;
    }
    arr_begin(&ents, OID_BYTEA, total > CHUNK_BYTES ? 0 : b->n);
    for (size_t i = 0; total <= CHUNK_BYTES && i < b->n; i++)
        arr_bytes(&ents, b->entries[i], b->lens[i]);
    if (keys.failed || pos.failed || ents.failed) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (fault == DT_LOG_PG_FAULT_BEFORE_COMMIT)
        shutdown(PQsocket(log->conn), SHUT_RDWR);
    if (fault == DT_LOG_PG_FAULT_KILLED)
        kill_own_session(log);
    /* One round trip: the writes and COMMIT. From the moment they are sent
     * until the answer, the outcome is the server's to tell. */
    {
        unsigned char f8[8], s8[8];
        put_be64(f8, size);
        put_be64(s8, size + b->n);
        const char *values[8] = {(const char *)f8,        (const char *)keys.p,     (const char *)pos.p,
                                 (const char *)ents.p,    (const char *)b->nkeys.p, (const char *)b->nhash.p,
                                 (const char *)s8,        (const char *)id};
        int lengths[8] = {8, (int)keys.len, (int)pos.len, (int)ents.len, (int)b->nkeys.len, (int)b->nhash.len, 8, 16};
        const char *sql[2] = {NULL, "COMMIT"};
        int ids[2] = {P_WRITE, -1};
        *first = size;
        *how = T_LOST_AFTER_COMMIT;
        err = pipeline(log, 2, sql, ids, 8, values, lengths, fault == DT_LOG_PG_FAULT_LOST_ANSWER ? &lose : NULL, res);
    }
    if (lose) {
        /* the answer has come (the commit is done) and is never read */
        PQfinish(log->conn);
        log->conn = NULL;
        log->prepared = 0;
        goto out;
    }
    if (err == DT_OK && strcmp(PQcmdTuples(res[0]), "1") == 0 && strcmp(PQcmdStatus(res[1]), "COMMIT") == 0) {
        *how = T_DONE;
        goto out;
    }
    if (lost(log))
        goto out; /* unknown */
    /* an answer from a live session, and not COMMIT: nothing was committed */
    *how = T_DONE;
    if (err == DT_OK) {
        set_msg(log, "the log's head row is missing");
        err = DT_ERR_INVALID;
    }
    if (err == DT_ERR_INVALID && strcmp(log->failed_cons, "dtlog_keys_pkey") == 0) {
        PQclear(PQexec(log->conn, "ROLLBACK"));
        dt_err e = find_dup(log, b, dup);
        if (e != DT_OK)
            err = e;
    }
out:
    if (r)
        PQclear(r);
    for (int i = 0; i < 3; i++)
        PQclear(res[i]);
    if (err != DT_OK && *how == T_DONE && lost(log))
        *how = T_LOST_BEFORE_COMMIT;
    if (log->conn && !lost(log) && PQtransactionStatus(log->conn) != PQTRANS_IDLE)
        PQclear(PQexec(log->conn, "ROLLBACK"));
    free(keys.p);
    free(pos.p);
    free(ents.p);
    return *how == T_DONE ? err : DT_ERR_IO;
}

/* After a COMMIT whose answer was lost: 1 if the batch with this id was
 * committed (*first its first index), 0 if it was not and will not be, -1
 * if the server could not tell before the deadline. The old session is
 * ended first if it still lives (a network cut: the server may not know
 * yet), then the head row's lock, held by the old transaction to its end,
 * is taken: once it is ours, that transaction has committed or aborted, and
 * the next statement sees which. */
static int resolve(pg_log *log, const unsigned char id[16], int old_pid, const char *old_started, uint64_t *first)
{
    uint64_t deadline = now_ms() + RESOLVE_MS;
    unsigned pause = 10;
    for (;;) {
        if (lost(log) && reconnect_until(log, deadline) != DT_OK)
            return -1;
        char pid[16];
        const char *kv[2] = {pid, old_started};
        snprintf(pid, sizeof pid, "%d", old_pid);
        PQclear(PQexecParams(log->conn,
                             "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                             " WHERE pid = $1::int AND backend_start::text = $2",
                             2, NULL, kv, NULL, NULL, 0));
        int got = -2;
        PGresult *r = PQexec(log->conn, "BEGIN; SELECT 1 FROM dtlog_head WHERE id = 1 FOR UPDATE");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            const char *values[1] = {(const char *)id};
            int lengths[1] = {16}, formats[1] = {1};
            PQclear(r);
            r = PQexecParams(log->conn, "SELECT first FROM dtlog_batches WHERE id = $1", 1, NULL, values, lengths,
                             formats, 1);
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                got = PQntuples(r) == 1 ? 1 : 0;
                if (got == 1)
                    *first = (uint64_t)col_int8(r, 0, 0);
            }
        }
        if (got == -2)
            (void)res_err(log, r);
        PQclear(r);
        if (!lost(log))
            PQclear(PQexec(log->conn, "ROLLBACK"));
        if (got >= 0)
            return got;
        /* the connection lost again, or the lock not had in time */
        if (now_ms() + pause > deadline)
            return -1;
        sleep_ms(pause);
        pause = pause < 200 ? pause * 2 : 200;
    }
}

/* A batch's id, unique in the log: the session's server process and start
 * (unique for the server's life), this handle's count, and random bytes. */
static dt_err batch_id(pg_log *log, unsigned char id[16])
{
    unsigned char h[32], rnd[16];
    char s[200];
    if (dt_random_bytes(rnd, sizeof rnd) != DT_OK)
        return DT_ERR_RANDOM;
    int n = snprintf(s, sizeof s, "%d %s %llu ", log->pid, log->started, (unsigned long long)++log->batches);
    if (n < 0 || (size_t)n + sizeof rnd > sizeof s)
        return DT_ERR_LIMIT;
    memcpy(s + n, rnd, sizeof rnd);
    dt_sha256(h, s, (size_t)n + sizeof rnd);
    memcpy(id, h, 16);
    return DT_OK;
}

static dt_err pg_append(dt_log *base, const unsigned char *const *entries, const size_t *lens,
                        const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n,
                        unsigned char (*h)[HB], uint64_t *first, size_t *dup)
{
    pg_log *log = (pg_log *)base;
    batch *b = calloc(1, sizeof *b);
    dt_err err = DT_ERR_IO;
    if (!b)
        return DT_ERR_NOMEM;
    b->entries = entries;
    b->lens = lens;
    b->keys = keys;
    b->keylens = keylens;
    b->kper = kper;
    b->n = n;
    /* dt_log_put_tree overwrites its array: the leaves are kept for a retry */
    b->h = malloc((n + 1) * sizeof *b->h);
    if (!b->h) {
        free(b);
        return DT_ERR_NOMEM;
    }
    b->leaves = (const unsigned char (*)[HB])h;
    uint64_t deadline = now_ms() + RETRY_MS;
    for (int attempt = 0; attempt < 3; attempt++) {
        unsigned char id[16];
        int how, pid;
        char started[64];
        if ((err = (log->conn && !lost(log) && log->prepared) ? ready(log) : reconnect_until(log, deadline)) != DT_OK)
            break;
        if ((err = batch_id(log, id)) != DT_OK)
            break;
        pid = log->pid;
        memcpy(started, log->started, sizeof started);
        err = txn(log, b, first, dup, id, &how);
        if (how == T_DONE)
            break;
        if (how == T_LOST_BEFORE_COMMIT)
            continue; /* the server can only abort it: again, on a new connection */
        int got = resolve(log, id, pid, started, first);
        if (got == 1) {
            log->recovered[0]++;
            err = DT_OK;
            break;
        }
        if (got < 0) {
            set_msg(log, "the connection was lost during COMMIT and the server could not be asked in time:"
                         " the batch may or may not be stored");
            err = DT_ERR_IO;
            break;
        }
        log->recovered[1]++; /* not committed: again */
    }
    free(b->nkeys.p);
    free(b->nhash.p);
    free(b->h);
    free(b);
    return err;
}

/* ---- reading ---- */

static dt_err pg_find(dt_log *base, const unsigned char *key, size_t keylen, uint64_t *index)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    const char *values[1] = {keylen ? (const char *)key : ""};
    int lengths[1] = {(int)keylen};
    dt_err err = run(log, P_FIND, 1, values, lengths, NULL, &r);
    if (err == DT_OK) {
        int64_t v = PQntuples(r) == 1 ? col_int8(r, 0, 0) : -1;
        err = PQntuples(r) == 0 ? DT_ERR_NOT_FOUND : v < 0 ? DT_ERR_INVALID : DT_OK;
        if (err == DT_OK)
            *index = (uint64_t)v;
    }
    PQclear(r);
    return err;
}

static dt_err pg_size(dt_log *base, uint64_t *size)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    dt_err err = run(log, P_SIZE, 0, NULL, NULL, NULL, &r);
    if (err == DT_OK) {
        int64_t v = PQntuples(r) == 1 ? col_int8(r, 0, 0) : -1;
        if (v < 0) {
            set_msg(log, "the log's head row is missing");
            err = DT_ERR_INVALID;
        } else {
            *size = (uint64_t)v;
        }
    }
    PQclear(r);
    return err;
}

/* Roots and proofs: fn runs once to learn which nodes it needs (they
 * depend on the sizes and indexes only), the nodes and the size come in one
 * query (one snapshot, one round trip), and fn runs again on them. */
typedef struct tree_nodes {
    size_t n, next;
    int overflow;
    int64_t key[TREE_NODES];
    unsigned char hash[TREE_NODES][HB];
    unsigned char found[TREE_NODES];
    pg_log *log;
} tree_nodes;

static dt_err record_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    tree_nodes *t = arg;
    memset(out, 0, HB);
    if (level > 63 || index >= (DT_LOG_MAX >> level))
        return DT_ERR_INVALID;
    if (t->n < TREE_NODES)
        t->key[t->n++] = dt_log_node_key(level, index);
    else
        t->overflow = 1;
    return DT_OK;
}

static dt_err pg_node(dt_log *base, unsigned char out[HB], unsigned level, uint64_t index);

static dt_err serve_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    tree_nodes *t = arg;
    int64_t key = dt_log_node_key(level, index);
    size_t i = t->next < t->n && t->key[t->next] == key ? t->next : 0;
    while (i < t->n && t->key[i] != key)
        i++;
    if (i == t->n) { /* more nodes than one query took */
        dt_err err = pg_node(&t->log->base, out, level, index);
        return err == DT_ERR_RANGE ? DT_ERR_INVALID : err;
    }
    t->next = i + 1;
    if (!t->found[i])
        return DT_ERR_INVALID;
    memcpy(out, t->hash[i], HB);
    return DT_OK;
}

static dt_err pg_read_tree(dt_log *base, uint64_t size, dt_log_tree_fn fn, void *arg)
{
    pg_log *log = (pg_log *)base;
    tree_nodes *t = calloc(1, sizeof *t);
    buf arr = {0};
    PGresult *r = NULL;
    dt_err err, first_err;
    int64_t cur = -1;
    if (!t)
        return DT_ERR_NOMEM;
    t->log = log;
    first_err = fn(arg, record_node, t);
    arr_begin(&arr, OID_INT8, first_err == DT_OK ? t->n : 0);
    for (size_t i = 0; first_err == DT_OK && i < t->n; i++)
        arr_int8(&arr, (uint64_t)t->key[i]);
    if (arr.failed) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    {
        const char *values[1] = {(const char *)arr.p};
        int lengths[1] = {(int)arr.len};
        if ((err = run(log, P_TREE, 1, values, lengths, NULL, &r)) != DT_OK)
            goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t key = col_int8(r, i, 0);
        if (key == -1) {
            cur = PQgetlength(r, i, 1) == 8 ? (int64_t)get_be64((const unsigned char *)PQgetvalue(r, i, 1)) : -1;
            continue;
        }
        for (size_t j = 0; j < t->n; j++)
            if (t->key[j] == key && PQgetlength(r, i, 1) == HB) {
                memcpy(t->hash[j], PQgetvalue(r, i, 1), HB);
                t->found[j] = 1;
            }
    }
    if (cur < 0) {
        set_msg(log, "the log's head row is missing");
        err = DT_ERR_INVALID;
    } else if (size > (uint64_t)cur) {
        err = DT_ERR_RANGE;
    } else if (first_err != DT_OK) {
        err = first_err; /* a short proof array, an index beyond the size: the same again */
    } else {
        err = fn(arg, serve_node, t);
    }
out:
    PQclear(r);
    free(arr.p);
    free(t);
    return err;
}

/* Copies a bytea column into a malloc'ed buffer with a NUL after it. */
static dt_err copy_value(const PGresult *r, int i, int c, unsigned char **data, size_t *len, size_t max)
{
    size_t n = (size_t)PQgetlength(r, i, c);
    if (n > max)
        return DT_ERR_INVALID;
    if (!(*data = malloc(n + 1)))
        return DT_ERR_NOMEM;
    if (n)
        memcpy(*data, PQgetvalue(r, i, c), n);
    (*data)[n] = 0;
    *len = n;
    return DT_OK;
}

static dt_err pg_entry(dt_log *base, uint64_t index, unsigned char **data, size_t *len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    dt_err err = run_int8(log, P_ENTRY, index, &r);
    if (err == DT_OK)
        err = PQntuples(r) == 0 ? DT_ERR_RANGE : copy_value(r, 0, 0, data, len, SIZE_MAX - 1);
    PQclear(r);
    return err;
}

static dt_err pg_node(dt_log *base, unsigned char out[HB], unsigned level, uint64_t index)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    dt_err err = run_int8(log, P_NODE, (uint64_t)dt_log_node_key(level, index), &r);
    if (err == DT_OK) {
        err = PQntuples(r) == 0 ? DT_ERR_RANGE : PQgetlength(r, 0, 0) != HB ? DT_ERR_INVALID : DT_OK;
        if (err == DT_OK)
            memcpy(out, PQgetvalue(r, 0, 0), HB);
    }
    PQclear(r);
    return err;
}

static dt_err pg_nodes(dt_log *base, unsigned level, uint64_t index, unsigned count, unsigned char (*out)[HB])
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    buf arr = {0};
    unsigned char found[256] = {0};
    dt_err err;
    if (count > 256)
        return DT_ERR_LIMIT;
    arr_begin(&arr, OID_INT8, count);
    for (unsigned i = 0; i < count; i++)
        arr_int8(&arr, (uint64_t)dt_log_node_key(level, index + i));
    if (arr.failed)
        return DT_ERR_NOMEM;
    const char *values[1] = {(const char *)arr.p};
    int lengths[1] = {(int)arr.len};
    if ((err = run(log, P_NODES, 1, values, lengths, NULL, &r)) == DT_OK) {
        for (int i = 0; i < PQntuples(r) && err == DT_OK; i++) {
            int64_t key = col_int8(r, i, 0);
            /* key = ((index + 1) << level) - 1) << 6 | level */
            uint64_t j = ((((uint64_t)key >> 6) + 1) >> level) - 1 - index;
            if (key < 0 || j >= count || dt_log_node_key(level, index + j) != key || PQgetlength(r, i, 1) != HB)
                err = DT_ERR_INVALID;
            else {
                memcpy(out[j], PQgetvalue(r, i, 1), HB);
                found[j] = 1;
            }
        }
        for (unsigned i = 0; i < count && err == DT_OK; i++)
            if (!found[i])
                err = DT_ERR_INVALID;
    }
    PQclear(r);
    free(arr.p);
    return err;
}

static dt_err pg_entries(dt_log *base, uint64_t from, unsigned count, dt_log_entry_fn fn, void *arg)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    unsigned char a[8], z[8];
    put_be64(a, from);
    put_be64(z, from + count);
    const char *values[2] = {(const char *)a, (const char *)z};
    int lengths[2] = {8, 8};
    dt_err err = run(log, P_RANGE, 2, values, lengths, NULL, &r);
    for (int i = 0; err == DT_OK && i < PQntuples(r); i++)
        err = fn(arg, (uint64_t)col_int8(r, i, 0), (const unsigned char *)PQgetvalue(r, i, 1),
                 (size_t)PQgetlength(r, i, 1));
    PQclear(r);
    return err;
}

/* ---- blobs and settings ---- */

static dt_err pg_blob_put(dt_log *base, const unsigned char hash[32], const void *data, size_t len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    const char *values[2] = {(const char *)hash, len ? data : ""};
    int lengths[2] = {32, (int)len};
    dt_err err = run(log, P_BLOB_PUT, 2, values, lengths, NULL, &r); /* idempotent: safe to run again */
    PQclear(r);
    return err;
}

static dt_err pg_blob_get(dt_log *base, const unsigned char hash[32], unsigned char **data, size_t *len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    const char *values[1] = {(const char *)hash};
    int lengths[1] = {32};
    dt_err err = run(log, P_BLOB_GET, 1, values, lengths, NULL, &r);
    if (err == DT_OK)
        err = PQntuples(r) == 0 ? DT_ERR_NOT_FOUND : copy_value(r, 0, 0, data, len, DT_LOG_BLOB_MAX);
    PQclear(r);
    return err;
}

static const int text_then_binary[3] = {0, 1, 1};

static dt_err pg_meta_set(dt_log *base, const char *key, const void *value, size_t len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    const char *values[2] = {key, value};
    int lengths[2] = {0, (int)len};
    dt_err err = run(log, P_META_PUT, 2, values, lengths, text_then_binary, &r); /* idempotent */
    PQclear(r);
    return err;
}

static dt_err pg_meta_get(dt_log *base, const char *key, unsigned char **value, size_t *len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    const char *values[1] = {key};
    int lengths[1] = {0};
    dt_err err = run(log, P_META_GET, 1, values, lengths, text_then_binary, &r);
    if (err == DT_OK)
        err = PQntuples(r) == 0 ? DT_ERR_NOT_FOUND : copy_value(r, 0, 0, value, len, DT_LOG_META_VALUE_MAX);
    PQclear(r);
    return err;
}

/* One statement, atomic in the server. If the connection is lost on the
 * way, the value is read back: the new value means it was set. */
static dt_err pg_meta_swap(dt_log *base, const char *key, const void *old, size_t oldlen, const void *value,
                           size_t len)
{
    pg_log *log = (pg_log *)base;
    PGresult *r = NULL;
    char name[8];
    dt_err err;
    if ((err = ready(log)) != DT_OK)
        return err;
    stmt_name(name, old ? P_META_SWAP : P_META_ADD);
    if (old) {
        const char *values[3] = {key, oldlen ? old : "", value};
        int lengths[3] = {0, (int)oldlen, (int)len};
        r = PQexecPrepared(log->conn, name, 3, values, lengths, text_then_binary, 1);
    } else {
        const char *values[2] = {key, value};
        int lengths[2] = {0, (int)len};
        r = PQexecPrepared(log->conn, name, 2, values, lengths, text_then_binary, 1);
    }
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        err = strcmp(PQcmdTuples(r), "1") == 0 ? DT_OK : DT_ERR_INVALID;
        PQclear(r);
        return err;
    }
    err = res_err(log, r);
    PQclear(r);
    if (lost(log)) {
        unsigned char *cur = NULL;
        size_t curlen = 0;
        if ((err = pg_meta_get(base, key, &cur, &curlen)) == DT_OK)
            err = curlen == len && (len == 0 || memcmp(cur, value, len) == 0) ? DT_OK : DT_ERR_IO;
        free(cur);
    }
    return err;
}

static const char *pg_errmsg(const dt_log *base)
{
    return ((const pg_log *)base)->errmsg;
}

static const dt_log_ops pg_ops = {
    pg_close,   pg_append,   pg_find,     pg_size,     pg_read_tree, pg_entry,     pg_node,  pg_nodes,
    pg_entries, pg_blob_put, pg_blob_get, pg_meta_set, pg_meta_get,  pg_meta_swap, pg_errmsg,
    NULL, /* the server's own checkpointer */
};

/* ---- test hooks ---- */

void dt_log_pg_test_fault(dt_log *log, int fault)
{
    if (log && log->ops == &pg_ops)
        ((pg_log *)log)->fault = fault;
}

void dt_log_pg_test_recoveries(const dt_log *log, unsigned out[2])
{
    out[0] = out[1] = 0;
    if (log && log->ops == &pg_ops) {
        out[0] = ((const pg_log *)log)->recovered[0];
        out[1] = ((const pg_log *)log)->recovered[1];
    }
}
