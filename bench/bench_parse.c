/* Encrypted-ballot parsing alone: the cJSON readers against the jansson
 * readers they replaced, on the ballot files of a record (read into memory
 * first, at most --ballots of them), one JSON line per reader, with the
 * median over --runs passes of CPU time per ballot and per selection.
 *   usage: bench_parse RECORD_DIR [--runs R] [--ballots N]
 * Readers: "json" is the parse alone (json_loadb and json_decref;
 * dt_cjson_parse and dt_cjson_free, with its UTF-8, grammar and duplicate
 * checks; bare cJSON_ParseWithLength for scale), "record" the verifier's
 * reader into dt_rec_ballot, "ballot" the server's dt_ballot_parse. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <detente/ballot.h>
#include <detente/record.h>

#include "ballot/ballot_cjson.h"
#include "record/ballot_cjson.h"
#include "record/record.h"
#include "util/cjson_strict.h"
#include "util/codec.h"

typedef struct input {
    char *p;
    size_t n;
} input;

typedef struct ctx {
    input *in;
    size_t n, eb;
    const dt_ballot_ctx *bctx;
} ctx;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef int (*parse_fn)(const ctx *c, const input *in);

static int p_jansson(const ctx *c, const input *in)
{
    json_error_t e;
    json_t *j = json_loadb(in->p, in->n, JSON_REJECT_DUPLICATES, &e);
    (void)c;
    json_decref(j);
    return j != NULL;
}

static int p_strict(const ctx *c, const input *in)
{
    dt_cjson_doc d;
    char why[256];
    (void)c;
    if (dt_cjson_parse(&d, why, sizeof why, in->p, in->n) != DT_OK)
        return 0;
    dt_cjson_free(&d);
    return 1;
}

static int p_cjson(const ctx *c, const input *in)
{
    cJSON *j = cJSON_ParseWithLength(in->p, in->n);
    (void)c;
    cJSON_Delete(j);
    return j != NULL;
}

static int p_record_jansson(const ctx *c, const input *in)
{
    dt_record *r = NULL;
    char *msg = NULL;
    dt_err err = dt_record_parse_ballot_jansson(&r, &msg, c->eb, (const unsigned char *)in->p, in->n);
    dt_record_destroy(r);
    free(msg);
    return err == DT_OK;
}

static int p_record_cjson(const ctx *c, const input *in)
{
    dt_record *r = NULL;
    char *msg = NULL;
    dt_err err = dt_record_parse_file(&r, &msg, DT_RECORD_FILE_BALLOT, c->eb, (const unsigned char *)in->p, in->n);
    dt_record_destroy(r);
    free(msg);
    return err == DT_OK;
}

static int p_ballot_jansson(const ctx *c, const input *in)
{
    dt_ballot *b = NULL;
    char *msg = NULL;
    dt_err err = dt_ballot_parse_jansson(c->bctx, &b, &msg, in->p, in->n);
    dt_ballot_destroy(b);
    free(msg);
    return err == DT_OK;
}

static int p_ballot_cjson(const ctx *c, const input *in)
{
    dt_ballot *b = NULL;
    char *msg = NULL;
    dt_err err = dt_ballot_parse(c->bctx, &b, &msg, in->p, in->n);
    dt_ballot_destroy(b);
    free(msg);
    return err == DT_OK;
}

/* encrypted_ballots/<device>/<file>.json, at most max */
static void load_inputs(ctx *c, const char *dir, size_t max)
{
    char path[4096];
    DIR *d, *dd;
    struct dirent *de, *fe;
    snprintf(path, sizeof path, "%s/encrypted_ballots", dir);
    if (!(d = opendir(path)))
        return;
    while ((de = readdir(d)) && c->n < max) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/encrypted_ballots/%s", dir, de->d_name);
        if (!(dd = opendir(path)))
            continue;
        while ((fe = readdir(dd)) && c->n < max) {
            char file[8192];
            unsigned char *buf;
            size_t len, l = strlen(fe->d_name);
            if (l < 6 || strcmp(fe->d_name + l - 5, ".json") != 0)
                continue;
            snprintf(file, sizeof file, "%s/%s", path, fe->d_name);
            if (dt_read_file(&buf, &len, file, 1u << 26) != DT_OK)
                continue;
            input *nv = realloc(c->in, (c->n + 1) * sizeof *nv);
            if (!nv) {
                free(buf);
                break;
            }
            c->in = nv;
            c->in[c->n].p = (char *)buf;
            c->in[c->n].n = len;
            c->n++;
        }
        closedir(dd);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int runs = 5;
    size_t max = 200, nsel = 0, bytes = 0;
    ctx c = {0};
    dt_record *rec = NULL;
    dt_ballot_ctx *bctx = NULL;
    char *msg = NULL;
    static const struct {
        const char *reader, *json;
        parse_fn fn;
    } fns[] = {
        {"json", "jansson", p_jansson},          {"json", "cjson_strict", p_strict},
        {"json", "cjson_bare", p_cjson},         {"record", "jansson", p_record_jansson},
        {"record", "cjson", p_record_cjson},     {"ballot", "jansson", p_ballot_jansson},
        {"ballot", "cjson", p_ballot_cjson},
    };

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ballots") == 0 && i + 1 < argc)
            max = (size_t)atol(argv[++i]);
        else if (!dir)
            dir = argv[i];
        else
            dir = NULL, i = argc;
    }
    if (!dir || runs < 1 || runs > 99 || max < 1) {
        fprintf(stderr, "usage: bench_parse RECORD_DIR [--runs R] [--ballots N]\n");
        return 2;
    }
    if (dt_record_load_part(&rec, &msg, dir, DT_RECORD_ELECTION) != DT_OK ||
        dt_ballot_ctx_create(&bctx, &msg, rec) != DT_OK) {
        fprintf(stderr, "bench_parse: %s: %s\n", dir, msg ? msg : "cannot load the election");
        free(msg);
        dt_record_destroy(rec);
        return 1;
    }
    c.eb = rec->elem_bytes;
    c.bctx = bctx;
    load_inputs(&c, dir, max);
    for (size_t i = 0; i < c.n; i++) {
        dt_record *r = NULL;
        bytes += c.in[i].n;
        if (dt_record_parse_file(&r, &msg, DT_RECORD_FILE_BALLOT, c.eb, (unsigned char *)c.in[i].p, c.in[i].n) !=
            DT_OK) {
            fprintf(stderr, "bench_parse: a ballot of %s does not parse: %s\n", dir, msg ? msg : "?");
            return 1;
        }
        for (size_t k = 0; k < r->ballots[0].ncontests; k++)
            nsel += r->ballots[0].contests[k].nsel;
        dt_record_destroy(r);
    }
    if (c.n == 0 || nsel == 0) {
        fprintf(stderr, "bench_parse: %s has no encrypted ballot with selections\n", dir);
        return 1;
    }
    for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
        double t[99];
        for (int r = 0; r < runs; r++) {
            double t0 = cpu_now();
            for (size_t i = 0; i < c.n; i++)
                if (!fns[f].fn(&c, &c.in[i])) {
                    fprintf(stderr, "bench_parse: %s/%s refused a ballot\n", fns[f].reader, fns[f].json);
                    return 1;
                }
            t[r] = cpu_now() - t0;
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        printf("{\"bench\":\"parse\",\"group\":\"%s\",\"reader\":\"%s\",\"json\":\"%s\",\"ballots\":%zu,"
               "\"bytes_per_ballot\":%zu,\"selections\":%zu,\"runs\":%d,\"us_per_ballot_cpu\":%.1f,"
               "\"us_per_selection_cpu\":%.2f}\n",
               dt_group_kind(rec->group) == DT_GROUP_RISTRETTO255 ? "ristretto255" : "integer4096",
               fns[f].reader, fns[f].json, c.n, bytes / c.n, nsel, runs, t[runs / 2] * 1e6 / (double)c.n,
               t[runs / 2] * 1e6 / (double)nsel);
        fflush(stdout);
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.in[i].p);
    free(c.in);
    dt_ballot_ctx_destroy(bctx);
    dt_record_destroy(rec);
    return 0;
}
