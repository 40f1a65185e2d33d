/* Verification benchmark: the verifier's steps (dt_verify) over a record
 * already loaded, one JSON line per thread count, with the median of the
 * runs in wall time and in CPU time per selection (CPU time is what a core
 * spends, and is less disturbed by other work on a shared machine).
 *   usage: bench_verify RECORD_DIR [--threads N ...] [--runs R]
 * The ristretto255 floor per 0/1 selection is DESIGN.md's 47 us (batched);
 * the goal is 1.4x that per core. Loading (reading and parsing the
 * JSON) is reported apart, as load_us_per_selection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <detente/record.h>
#include <detente/verify.h>

#include "record/record.h"

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    unsigned threads[8], nthreads = 0;
    int runs = 5;
    dt_record *rec = NULL;
    char *msg = NULL;
    size_t nsel = 0;
    double t0, c0, load_wall, load_cpu;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && nthreads < 8)
            threads[nthreads++] = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!dir)
            dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_verify RECORD_DIR [--threads N ...] [--runs R]\n");
            return 2;
        }
    }
    if (!dir || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: bench_verify RECORD_DIR [--threads N ...] [--runs R]\n");
        return 2;
    }
    if (nthreads == 0) {
        threads[0] = 1;
        threads[1] = 2;
        nthreads = 2;
    }
    t0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (dt_record_load(&rec, &msg, dir) != DT_OK) {
        fprintf(stderr, "bench_verify: %s: %s\n", dir, msg ? msg : "cannot load");
        free(msg);
        return 1;
    }
    load_wall = now(CLOCK_MONOTONIC) - t0;
    load_cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    for (size_t i = 0; i < rec->nballots; i++)
        for (size_t c = 0; c < rec->ballots[i].ncontests; c++)
            nsel += rec->ballots[i].contests[c].nsel;
    if (nsel == 0) {
        fprintf(stderr, "bench_verify: %s has no ballot selections\n", dir);
        dt_record_destroy(rec);
        return 1;
    }
    for (unsigned t = 0; t < nthreads; t++) {
        double wall[99], cpu[99];
        int ok = 1;
        for (int r = 0; r < runs; r++) {
            dt_verify_opts o = {.threads = threads[t]};
            dt_verify_report *rep = NULL;
            t0 = now(CLOCK_MONOTONIC);
            c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            if (dt_verify(&rep, rec, &o) != DT_OK) {
                fprintf(stderr, "bench_verify: out of memory\n");
                dt_record_destroy(rec);
                return 1;
            }
            wall[r] = now(CLOCK_MONOTONIC) - t0;
            cpu[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
            ok &= dt_verify_report_ok(rep);
            dt_verify_report_destroy(rep);
        }
        qsort(wall, (size_t)runs, sizeof *wall, cmp_double);
        qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
        double w = wall[runs / 2] * 1e6 / nsel, c = cpu[runs / 2] * 1e6 / nsel;
        printf("{\"bench\":\"verify\",\"group\":\"%s\",\"ballots\":%zu,\"selections\":%zu,\"threads\":%u,"
               "\"runs\":%d,\"valid\":%s,\"us_per_selection_wall\":%.1f,\"us_per_selection_cpu\":%.1f,"
               "\"floor_us\":47,\"ratio_cpu_to_floor\":%.2f,\"load_us_per_selection_cpu\":%.1f,"
               "\"load_us_per_selection_wall\":%.1f}\n",
               dt_group_kind(rec->group) == DT_GROUP_RISTRETTO255 ? "ristretto255" : "integer4096", rec->nballots,
               nsel, threads[t], runs, ok ? "true" : "false", w, c, c / 47.0, load_cpu * 1e6 / nsel,
               load_wall * 1e6 / nsel);
        fflush(stdout);
    }
    dt_record_destroy(rec);
    return 0;
}
