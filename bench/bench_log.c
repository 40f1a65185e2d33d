/* Benchmarks of the log store (src/board/log.c), one JSON line each:
 *   log_append        entries per second, 2,048-byte entries, batches of 1,
 *                     16, 256 and 1,024, each into a new log (median of 5),
 *                     beside bare SQLite inserting the same blobs into a
 *                     one-table database with the log's settings (16 KiB
 *                     pages, WAL, synchronous=FULL), run by turns with the
 *                     log so that both see the same load on the disk
 *   log_build         a log of 1,000,000 entries of 100 bytes (batches of
 *                     4,096), with the process's VmRSS at 100k and 1M entries
 *   log_root, log_inclusion_proof, log_consistency_proof
 *                     at size 1,000,000: median microseconds over random
 *                     indexes and sizes
 * Everything goes in a temporary folder under $TMPDIR (or /tmp), removed at
 * the end. usage: bench_log [--quick] [--pg URI]   (--quick: fewer entries,
 * 100k-entry log)
 *
 * With --pg URI (or DT_BENCH_PG_URI) the same lines for the store on
 * PostgreSQL (docs/scale.md), each with "store":"postgresql": every log in
 * a schema of its own (dt_bench_*, dropped at the end), beside bare
 * PostgreSQL inserting the same rows in the same batches (one transaction
 * a batch, one INSERT from an array, synchronous_commit on); and
 * log_append_concurrent: 4 processes appending batches at once, the
 * entries a second of all of them. scripts/pg.sh start DIR prints a URI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <detente/log.h>

#define HB DT_MERKLE_HASH_BYTES
#define RUNS 5

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void check(dt_err err, const char *what)
{
    if (err != DT_OK) {
        fprintf(stderr, "bench_log: %s: %s\n", what, dt_strerror(err));
        exit(1);
    }
}

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static uint64_t rnd(uint64_t *s, uint64_t bound)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (*s >> 11) % bound;
}

static char dir[512];
static const char *pg_uri; /* --pg: the benchmarks run on PostgreSQL */

/* ---- PostgreSQL ---- */

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *pg_connect(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_log: %s", PQerrorMessage(c));
        exit(1);
    }
    PQsetNoticeProcessor(c, pg_quiet, NULL);
    return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench_log: %s: %s", sql, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

/* A new, empty schema; *uri gets the URI whose search path is it. */
static void pg_schema(const char *name, char *uri, size_t cap)
{
    char sql[256];
    PGconn *c = pg_connect(pg_uri);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", name, name);
    pg_exec(c, sql);
    PQfinish(c);
    snprintf(uri, cap, "%s%soptions=-csearch_path%%3D%s", pg_uri, strchr(pg_uri, '?') ? "&" : "?", name);
}

static void pg_drop(const char *name)
{
    char sql[128];
    PGconn *c = pg_connect(pg_uri);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", name);
    pg_exec(c, sql);
    PQfinish(c);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The baseline: the same rows in the same batches, one table, no log. */
static double bare_pg(size_t batch, uint64_t entries, size_t len, unsigned char *buf)
{
    char uri[1200];
    size_t cap = 20 + batch * (4 + len);
    unsigned char *arr = malloc(cap), f8[8];
    PGconn *c;
    double t0;
    if (!arr)
        check(DT_ERR_NOMEM, "malloc");
    pg_schema("dt_bench_bare", uri, sizeof uri);
    c = pg_connect(uri);
    pg_exec(c, "SET synchronous_commit = on; CREATE TABLE entries(idx bigint PRIMARY KEY, data bytea NOT NULL)");
    t0 = now_us();
    for (uint64_t done = 0; done < entries; done += batch) {
        size_t n = entries - done < batch ? (size_t)(entries - done) : batch, at = 20;
        put32(arr, 1), put32(arr + 4, 0), put32(arr + 8, 17), put32(arr + 12, (uint32_t)n), put32(arr + 16, 1);
        for (size_t i = 0; i < n; i++) {
            uint64_t idx = done + i;
            memcpy(buf + i * len, &idx, sizeof idx);
            put32(arr + at, (uint32_t)len);
            memcpy(arr + at + 4, buf + i * len, len);
            at += 4 + len;
        }
        for (int k = 0; k < 8; k++)
            f8[k] = (unsigned char)(done >> (56 - 8 * k));
        const char *values[2] = {(const char *)f8, (const char *)arr};
        int lengths[2] = {8, (int)at}, formats[2] = {1, 1};
        pg_exec(c, "BEGIN");
        PGresult *r = PQexecParams(c,
                                   "INSERT INTO entries SELECT $1::int8 + o - 1, d FROM unnest($2::bytea[])"
                                   " WITH ORDINALITY AS u(d, o)",
                                   2, NULL, values, lengths, formats, 1);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "bench_log: bare insert: %s", PQresultErrorMessage(r));
            exit(1);
        }
        PQclear(r);
        pg_exec(c, "COMMIT");
    }
    double rate = entries / ((now_us() - t0) / 1e6);
    PQfinish(c);
    pg_drop("dt_bench_bare");
    free(arr);
    return rate;
}

static void remove_log(const char *path)
{
    char p[600];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/* Appends entries of len bytes in batches of batch, the buffers prepared
 * once (the entries differ in their first 8 bytes). */
static void fill(dt_log *log, uint64_t from, uint64_t count, size_t batch, size_t len, unsigned char *buf,
                 const unsigned char **ents, size_t *lens)
{
    for (uint64_t done = 0; done < count; done += batch) {
        size_t n = count - done < batch ? (size_t)(count - done) : batch;
        for (size_t i = 0; i < n; i++) {
            uint64_t idx = from + done + i;
            ents[i] = buf + i * len;
            lens[i] = len;
            memcpy(buf + i * len, &idx, sizeof idx);
        }
        check(dt_log_append(log, ents, lens, n, NULL), "append");
    }
}

/* The baseline: the same rows, batches and settings, without the log. */
static double bare_sqlite(const char *path, size_t batch, uint64_t entries, size_t len, unsigned char *buf)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    double t0;
    remove_log(path);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO entries VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK)
        check(DT_ERR_IO, "sqlite baseline");
    t0 = now_us();
    for (uint64_t done = 0; done < entries; done += batch) {
        size_t n = entries - done < batch ? (size_t)(entries - done) : batch;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            check(DT_ERR_IO, "sqlite baseline");
        for (size_t i = 0; i < n; i++) {
            uint64_t idx = done + i;
            memcpy(buf + i * len, &idx, sizeof idx);
            sqlite3_bind_int64(st, 1, (sqlite3_int64)idx);
            sqlite3_bind_blob(st, 2, buf + i * len, (int)len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                check(DT_ERR_IO, "sqlite baseline");
            sqlite3_reset(st);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            check(DT_ERR_IO, "sqlite baseline");
    }
    double rate = entries / ((now_us() - t0) / 1e6);
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_log(path);
    return rate;
}

static void bench_append(size_t batch, uint64_t entries)
{
    enum { LEN = 2048 };
    char path[600];
    double rate[RUNS], bare[RUNS];
    unsigned char *buf = calloc(batch, LEN);
    const unsigned char **ents = calloc(batch, sizeof *ents);
    size_t *lens = calloc(batch, sizeof *lens);
    if (!buf || !ents || !lens)
        check(DT_ERR_NOMEM, "calloc");
    snprintf(path, sizeof path, "%s/append.db", dir);
    for (int r = 0; r < RUNS; r++) {
        dt_log *log = NULL;
        if (pg_uri) {
            bare[r] = bare_pg(batch, entries, LEN, buf);
            pg_schema("dt_bench_append", path, sizeof path);
        } else {
            bare[r] = bare_sqlite(path, batch, entries, LEN, buf);
        }
        check(dt_log_open(&log, path, 1), "open");
        double t0 = now_us();
        fill(log, 0, entries, batch, LEN, buf, ents, lens);
        rate[r] = entries / ((now_us() - t0) / 1e6);
        dt_log_close(log);
    }
    if (pg_uri)
        pg_drop("dt_bench_append");
    else
        remove_log(path);
    double m = median(rate, RUNS), mb = median(bare, RUNS);
    printf("{\"op\":\"log_append\",%s\"batch\":%zu,\"entry_bytes\":%d,\"entries\":%llu,\"entries_per_s\":%.0f,"
           "\"bare_%s_entries_per_s\":%.0f,\"ratio_to_bare\":%.2f,\"median_of\":%d}\n",
           pg_uri ? "\"store\":\"postgresql\"," : "", batch, LEN, (unsigned long long)entries, m,
           pg_uri ? "postgresql" : "sqlite", mb, m / mb, RUNS);
    fflush(stdout);
    free(buf);
    free(ents);
    free(lens);
}

static void bench_proofs(uint64_t size)
{
    enum { LEN = 100, BATCH = 4096, REPS = 2001 };
    char path[600];
    unsigned char *buf = calloc(BATCH, LEN), root[HB], proof[DT_MERKLE_MAX_PROOF][HB];
    const unsigned char **ents = calloc(BATCH, sizeof *ents);
    size_t *lens = calloc(BATCH, sizeof *lens), plen;
    double *t = calloc(REPS, sizeof *t), t0;
    uint64_t seed = 1, tenth = size / 10;
    dt_log *log = NULL;
    const char *store = pg_uri ? "\"store\":\"postgresql\"," : "";
    if (!buf || !ents || !lens || !t)
        check(DT_ERR_NOMEM, "calloc");
    snprintf(path, sizeof path, "%s/proofs.db", dir);
    if (pg_uri)
        pg_schema("dt_bench_proofs", path, sizeof path);
    else
        remove_log(path);
    check(dt_log_open(&log, path, 1), "open");
    t0 = now_us();
    fill(log, 0, tenth, BATCH, LEN, buf, ents, lens);
    long rss_tenth = rss_kb();
    fill(log, tenth, size - tenth, BATCH, LEN, buf, ents, lens);
    long rss_full = rss_kb();
    printf("{\"op\":\"log_build\",%s\"entries\":%llu,\"entry_bytes\":%d,\"batch\":%d,\"entries_per_s\":%.0f,"
           "\"rss_kb_at_%llu\":%ld,\"rss_kb_at_%llu\":%ld}\n",
           store, (unsigned long long)size, LEN, BATCH, size / ((now_us() - t0) / 1e6), (unsigned long long)tenth,
           rss_tenth, (unsigned long long)size, rss_full);

    dt_log_close(log);
    log = NULL;
    t0 = now_us();
    check(dt_log_open(&log, path, 0), "reopen");
    printf("{\"op\":\"log_open\",%s\"size\":%llu,\"us\":%.0f}\n", store, (unsigned long long)size, now_us() - t0);

    for (int r = 0; r < REPS; r++) {
        t0 = now_us();
        check(dt_log_root(log, size - rnd(&seed, tenth), root), "root");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_root\",%s\"size\":%llu,\"us_median\":%.1f,\"median_of\":%d}\n", store,
           (unsigned long long)size, median(t, REPS), REPS);
    for (int r = 0; r < REPS; r++) {
        plen = DT_MERKLE_MAX_PROOF;
        t0 = now_us();
        check(dt_log_inclusion_proof(log, proof, &plen, rnd(&seed, size), size), "inclusion proof");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_inclusion_proof\",%s\"size\":%llu,\"entry_bytes\":%d,\"us_median\":%.1f,"
           "\"median_of\":%d}\n",
           store, (unsigned long long)size, LEN, median(t, REPS), REPS);
    for (int r = 0; r < REPS; r++) {
        plen = DT_MERKLE_MAX_PROOF;
        t0 = now_us();
        check(dt_log_consistency_proof(log, proof, &plen, 1 + rnd(&seed, size - 1), size), "consistency proof");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_consistency_proof\",%s\"size2\":%llu,\"entry_bytes\":%d,\"us_median\":%.1f,"
           "\"median_of\":%d}\n",
           store, (unsigned long long)size, LEN, median(t, REPS), REPS);
    fflush(stdout);
    dt_log_close(log);
    if (pg_uri)
        pg_drop("dt_bench_proofs");
    else
        remove_log(path);
    free(buf);
    free(ents);
    free(lens);
    free(t);
}

/* PROCS processes, each its own handle, appending batches of batch
 * entries at once into one log on PostgreSQL: the entries a second of all
 * of them, from the first start to the last end. */
static void bench_concurrent(size_t batch, uint64_t per_proc)
{
    enum { LEN = 2048, PROCS = 4 };
    char uri[1200];
    dt_log *log = NULL;
    pid_t pids[PROCS];
    int status, go[2];
    pg_schema("dt_bench_conc", uri, sizeof uri);
    check(dt_log_open(&log, uri, 1), "open");
    dt_log_close(log);
    if (pipe(go) != 0)
        check(DT_ERR_IO, "pipe");
    for (int p = 0; p < PROCS; p++) {
        if ((pids[p] = fork()) < 0)
            check(DT_ERR_IO, "fork");
        if (pids[p] == 0) {
            unsigned char *buf = calloc(batch, LEN), c;
            const unsigned char **ents = calloc(batch, sizeof *ents);
            size_t *lens = calloc(batch, sizeof *lens);
            close(go[1]);
            if (!buf || !ents || !lens || dt_log_open(&log, uri, 0) != DT_OK || read(go[0], &c, 1) != 0)
                _exit(1);
            fill(log, (uint64_t)p << 40, per_proc, batch, LEN, buf, ents, lens);
            dt_log_close(log);
            _exit(0);
        }
    }
    close(go[0]);
    double t0 = now_us();
    close(go[1]); /* all start */
    for (int p = 0; p < PROCS; p++)
        if (waitpid(pids[p], &status, 0) != pids[p] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            check(DT_ERR_IO, "an appender");
    double rate = PROCS * per_proc / ((now_us() - t0) / 1e6);
    check(dt_log_open(&log, uri, 0), "reopen");
    uint64_t size = 0;
    check(dt_log_size(log, &size), "size");
    dt_log_close(log);
    if (size != PROCS * per_proc)
        check(DT_ERR_INVALID, "the concurrent appends' count");
    printf("{\"op\":\"log_append_concurrent\",\"store\":\"postgresql\",\"processes\":%d,\"batch\":%zu,"
           "\"entry_bytes\":%d,\"entries\":%llu,\"entries_per_s\":%.0f}\n",
           PROCS, batch, LEN, (unsigned long long)size, rate);
    fflush(stdout);
    pg_drop("dt_bench_conc");
}

int main(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc) {
            pg_uri = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_log [--quick] [--pg URI]\n");
            return 2;
        }
    }
    if (!pg_uri && getenv("DT_BENCH_PG_URI") && *getenv("DT_BENCH_PG_URI"))
        pg_uri = getenv("DT_BENCH_PG_URI");
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dt-bench-log-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        check(DT_ERR_IO, "mkdtemp");
    bench_append(1, quick ? 100 : 300);
    bench_append(16, quick ? 1600 : 4800);
    bench_append(256, quick ? 10240 : 40960);
    bench_append(1024, quick ? 20480 : 81920);
    if (pg_uri) {
        bench_concurrent(1, quick ? 100 : 300);
        bench_concurrent(16, quick ? 800 : 2400);
        bench_concurrent(256, quick ? 5120 : 10240);
    }
    bench_proofs(quick ? 100000 : 1000000);
    rmdir(dir);
    return 0;
}
