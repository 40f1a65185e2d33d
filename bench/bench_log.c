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
 * the end. usage: bench_log [--quick]   (--quick: fewer entries, 100k-entry log) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
        bare[r] = bare_sqlite(path, batch, entries, LEN, buf);
        check(dt_log_open(&log, path, 1), "open");
        double t0 = now_us();
        fill(log, 0, entries, batch, LEN, buf, ents, lens);
        rate[r] = entries / ((now_us() - t0) / 1e6);
        dt_log_close(log);
    }
    remove_log(path);
    double m = median(rate, RUNS), mb = median(bare, RUNS);
    printf("{\"op\":\"log_append\",\"batch\":%zu,\"entry_bytes\":%d,\"entries\":%llu,\"entries_per_s\":%.0f,"
           "\"bare_sqlite_entries_per_s\":%.0f,\"ratio_to_bare\":%.2f,\"median_of\":%d}\n",
           batch, LEN, (unsigned long long)entries, m, mb, m / mb, RUNS);
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
    if (!buf || !ents || !lens || !t)
        check(DT_ERR_NOMEM, "calloc");
    snprintf(path, sizeof path, "%s/proofs.db", dir);
    remove_log(path);
    check(dt_log_open(&log, path, 1), "open");
    t0 = now_us();
    fill(log, 0, tenth, BATCH, LEN, buf, ents, lens);
    long rss_tenth = rss_kb();
    fill(log, tenth, size - tenth, BATCH, LEN, buf, ents, lens);
    long rss_full = rss_kb();
    printf("{\"op\":\"log_build\",\"entries\":%llu,\"entry_bytes\":%d,\"batch\":%d,\"entries_per_s\":%.0f,"
           "\"rss_kb_at_%llu\":%ld,\"rss_kb_at_%llu\":%ld}\n",
           (unsigned long long)size, LEN, BATCH, size / ((now_us() - t0) / 1e6), (unsigned long long)tenth,
           rss_tenth, (unsigned long long)size, rss_full);

    dt_log_close(log);
    log = NULL;
    t0 = now_us();
    check(dt_log_open(&log, path, 0), "reopen");
    printf("{\"op\":\"log_open\",\"size\":%llu,\"us\":%.0f}\n", (unsigned long long)size, now_us() - t0);

    for (int r = 0; r < REPS; r++) {
        t0 = now_us();
        check(dt_log_root(log, size - rnd(&seed, tenth), root), "root");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_root\",\"size\":%llu,\"us_median\":%.1f,\"median_of\":%d}\n", (unsigned long long)size,
           median(t, REPS), REPS);
    for (int r = 0; r < REPS; r++) {
        plen = DT_MERKLE_MAX_PROOF;
        t0 = now_us();
        check(dt_log_inclusion_proof(log, proof, &plen, rnd(&seed, size), size), "inclusion proof");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_inclusion_proof\",\"size\":%llu,\"entry_bytes\":%d,\"us_median\":%.1f,\"median_of\":%d}\n",
           (unsigned long long)size, LEN, median(t, REPS), REPS);
    for (int r = 0; r < REPS; r++) {
        plen = DT_MERKLE_MAX_PROOF;
        t0 = now_us();
        check(dt_log_consistency_proof(log, proof, &plen, 1 + rnd(&seed, size - 1), size), "consistency proof");
        t[r] = now_us() - t0;
    }
    printf("{\"op\":\"log_consistency_proof\",\"size2\":%llu,\"entry_bytes\":%d,\"us_median\":%.1f,"
           "\"median_of\":%d}\n",
           (unsigned long long)size, LEN, median(t, REPS), REPS);
    fflush(stdout);
    dt_log_close(log);
    remove_log(path);
    free(buf);
    free(ents);
    free(lens);
    free(t);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dt-bench-log-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        check(DT_ERR_IO, "mkdtemp");
    bench_append(1, quick ? 100 : 300);
    bench_append(16, quick ? 1600 : 4800);
    bench_append(256, quick ? 10240 : 40960);
    bench_append(1024, quick ? 20480 : 81920);
    bench_proofs(quick ? 100000 : 1000000);
    rmdir(dir);
    return 0;
}
