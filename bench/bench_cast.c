/* The election server's work on a cast ballot, without HTTP, files or the
 * log: what `detente serve` spends in CPU a ballot before it stores it, and
 * how checking ballots in groups changes it. For each group size G, one
 * thread takes the ballots G at a time and, for each, parses the body
 * (dt_ballot_parse), adds its proofs' equations to a batch of its own
 * (dt_ballot_verify_batched) and merges it into the group's batch, then
 * checks the group with one multi-scalar multiplication (dt_batch_check);
 * then, per ballot, writes it (dt_ballot_serialize_compact) and formats its board
 * entry (dt_board_entry_format). One JSON line a group size: the median over
 * --runs passes of CPU time a ballot, in total and by stage.
 *   usage: bench_cast ELECTION_DIR BALLOT_DIR [--runs R] [--ballots N] [--group G]...
 * BALLOT_DIR holds encrypted ballots, one JSON file each (detente encrypt's
 * output; make loadtest makes such a folder). Default groups: 1 4 16 64 256. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <detente/ballot.h>
#include <detente/board.h>
#include <detente/proof.h>
#include <detente/record.h>

#include "ballot/ballot_impl.h"
#include "record/record.h"
#include "util/codec.h"

typedef struct input {
    char *p;
    size_t n;
} input;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t load_inputs(input **in, const char *dir, size_t max)
{
    char path[8192];
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return 0;
    while ((de = readdir(d)) && n < max) {
        unsigned char *buf;
        size_t len, l = strlen(de->d_name);
        input *nv;
        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (dt_read_file(&buf, &len, path, 1u << 20) != DT_OK)
            continue;
        if (!(nv = realloc(*in, (n + 1) * sizeof *nv))) {
            free(buf);
            break;
        }
        *in = nv;
        (*in)[n].p = (char *)buf;
        (*in)[n].n = len;
        n++;
    }
    closedir(d);
    return n;
}

enum { ST_PARSE, ST_VERIFY, ST_MSM, ST_WRITE, ST_N };
static const char *const stage_name[ST_N] = {"parse", "equations", "group_check", "write_entry"};

/* One pass over the ballots in groups of G; per-stage CPU seconds in t.
 * Returns 0 if a ballot failed. */
static int pass(const dt_ballot_ctx *ctx, const input *in, size_t n, size_t G, double t[ST_N])
{
    dt_ballot **b = calloc(G, sizeof *b);
    dt_batch *acc = dt_ballot_batch_create(ctx);
    int ok = b && acc;
    for (size_t i0 = 0; ok && i0 < n; i0 += G) {
        size_t m = n - i0 < G ? n - i0 : G;
        double c0, c1;
        for (size_t k = 0; ok && k < m; k++) {
            char *msg = NULL;
            dt_batch *mine;
            c0 = cpu_now();
            ok = dt_ballot_parse(ctx, &b[k], &msg, in[i0 + k].p, in[i0 + k].n) == DT_OK;
            c1 = cpu_now();
            t[ST_PARSE] += c1 - c0;
            if (!ok) {
                fprintf(stderr, "bench_cast: %s\n", msg ? msg : "parse failed");
                free(msg);
                break;
            }
            if (dt_ballot_get_state(b[k]) == DT_BALLOT_STATE_PENDING)
                dt_ballot_set_state(b[k], DT_BALLOT_STATE_CAST);
            mine = dt_ballot_batch_create(ctx);
            ok = mine && dt_ballot_verify_batched(ctx, b[k], &msg, mine) == DT_OK && dt_batch_merge(acc, mine) == DT_OK;
            dt_batch_destroy(mine);
            t[ST_VERIFY] += cpu_now() - c1;
            if (!ok)
                fprintf(stderr, "bench_cast: %s\n", msg ? msg : "equations failed");
            free(msg);
        }
        if (!ok)
            break;
        c0 = cpu_now();
        ok = dt_batch_check(acc) == DT_OK;
        c1 = cpu_now();
        t[ST_MSM] += c1 - c0;
        if (!ok) {
            fprintf(stderr, "bench_cast: a group failed its check\n");
            break;
        }
        for (size_t k = 0; ok && k < m; k++) {
            char *text = NULL, *path;
            unsigned char *entry = NULL, code[DT_BOARD_CODE_BYTES], hash[32];
            size_t tl = 0, el = 0;
            int blob = 0;
            dt_ballot_confirmation_code(b[k], code);
            path = dt_strdup_printf("encrypted_ballots/%s/eballot-%s.json", dt_ballot_device_id(b[k]),
                                    dt_ballot_id(b[k]));
            ok = path && dt_ballot_serialize_compact(b[k], &text, &tl) == DT_OK &&
                 dt_board_entry_format(&entry, &el, path, code, (const unsigned char *)text, tl, hash, &blob) == DT_OK;
            free(path);
            free(text);
            free(entry);
        }
        t[ST_WRITE] += cpu_now() - c1;
        for (size_t k = 0; k < m; k++) {
            dt_ballot_destroy(b[k]);
            b[k] = NULL;
        }
    }
    dt_batch_destroy(acc);
    free(b);
    return ok;
}

int main(int argc, char **argv)
{
    const char *edir = NULL, *bdir = NULL;
    int runs = 5;
    size_t max = 1024, groups[16], ng = 0, n, nsel = 0;
    input *in = NULL;
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    char *msg = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ballots") == 0 && i + 1 < argc)
            max = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc && ng < 16)
            groups[ng++] = (size_t)atol(argv[++i]);
        else if (!edir)
            edir = argv[i];
        else if (!bdir)
            bdir = argv[i];
        else
            edir = NULL, i = argc;
    }
    for (size_t k = 0; k < ng; k++)
        if (groups[k] < 1)
            edir = NULL;
    if (!edir || !bdir || runs < 1 || runs > 99 || max < 1) {
        fprintf(stderr, "usage: bench_cast ELECTION_DIR BALLOT_DIR [--runs R] [--ballots N] [--group G]...\n");
        return 2;
    }
    if (ng == 0) {
        static const size_t def[] = {1, 4, 16, 64, 256};
        for (; ng < sizeof def / sizeof def[0]; ng++)
            groups[ng] = def[ng];
    }
    if (dt_record_load_part(&rec, &msg, edir, DT_RECORD_ELECTION) != DT_OK ||
        dt_ballot_ctx_create(&ctx, &msg, rec) != DT_OK) {
        fprintf(stderr, "bench_cast: %s: %s\n", edir, msg ? msg : "cannot load the election");
        free(msg);
        dt_record_destroy(rec);
        return 1;
    }
    if ((n = load_inputs(&in, bdir, max)) == 0) {
        fprintf(stderr, "bench_cast: %s: no ballot files\n", bdir);
        return 1;
    }
    {
        dt_ballot *b = NULL;
        if (dt_ballot_parse(ctx, &b, &msg, in[0].p, in[0].n) != DT_OK) {
            fprintf(stderr, "bench_cast: %s\n", msg ? msg : "a ballot does not parse");
            return 1;
        }
        for (size_t c = 0; c < b->ncontests; c++)
            nsel += b->contests[c].nsel;
        dt_ballot_destroy(b);
    }
    for (size_t k = 0; k < ng; k++) {
        double *tot = calloc((size_t)runs, sizeof *tot), *st[ST_N];
        for (int s = 0; s < ST_N; s++)
            st[s] = calloc((size_t)runs, sizeof **st);
        for (int r = 0; r < runs; r++) {
            double t[ST_N] = {0};
            if (!pass(ctx, in, n, groups[k], t))
                return 1;
            for (int s = 0; s < ST_N; s++) {
                st[s][r] = t[s] / (double)n * 1e6;
                tot[r] += st[s][r];
            }
        }
        qsort(tot, (size_t)runs, sizeof *tot, cmp_double);
        printf("{\"bench\":\"cast\",\"group\":%zu,\"ballots\":%zu,\"selections_per_ballot\":%zu,\"runs\":%d,"
               "\"us_per_ballot\":%.1f",
               groups[k], n, nsel, runs, tot[runs / 2]);
        for (int s = 0; s < ST_N; s++) {
            qsort(st[s], (size_t)runs, sizeof **st, cmp_double);
            printf(",\"%s_us\":%.1f", stage_name[s], st[s][runs / 2]);
            free(st[s]);
        }
        printf("}\n");
        fflush(stdout);
        free(tot);
    }
    for (size_t i = 0; i < n; i++)
        free(in[i].p);
    free(in);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    return 0;
}
