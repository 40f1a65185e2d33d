/* make loadtest's ballots: encrypts every plaintext ballot of an election
 * (ELECTION_DIR/private_data/input/pballot-*.json) as `detente encrypt
 * --allow-overvote --device ID` would, CAST, on every core, and writes each
 * to OUT_DIR under the plaintext's file name. One process for all of them:
 * `detente encrypt` a file at a time spent most of its 23 ms a ballot
 * starting up, and the load test needs tens of thousands of ballots.
 *   usage: mkballots ELECTION_DIR OUT_DIR [--device ID] [--threads N]
 * Prints the count and the time on standard error; exit 1 if a ballot
 * fails (its file is not written). */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <detente/ballot.h>
#include <detente/record.h>

#include "record/record.h"
#include "util/codec.h"

static struct {
    const char *edir, *odir, *device;
    const dt_ballot_ctx *ctx;
    char **names;
    size_t n;
    atomic_size_t next, failed;
} g;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int one(dt_ballot_device *dev, const char *name)
{
    char in[4096], out[4096], tmp[4200], *msg = NULL, *text = NULL;
    unsigned char *pt = NULL;
    size_t len = 0, tl = 0;
    dt_plaintext_ballot *pb = NULL;
    dt_ballot *b = NULL;
    dt_ballot_nonce xi;
    FILE *f = NULL;
    int ok = 0;
    snprintf(in, sizeof in, "%s/private_data/input/%s", g.edir, name);
    snprintf(out, sizeof out, "%s/%s", g.odir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", g.odir, name);
    if (dt_read_file(&pt, &len, in, 64u << 20) != DT_OK ||
        dt_plaintext_ballot_parse(g.ctx, &pb, &msg, (const char *)pt, len) != DT_OK ||
        dt_ballot_encrypt(dev, &b, &xi, pb, (int64_t)time(NULL)) != DT_OK) {
        fprintf(stderr, "mkballots: %s: %s\n", name, msg ? msg : "cannot be encrypted");
        goto out;
    }
    dt_ballot_set_state(b, DT_BALLOT_STATE_CAST);
    if (dt_ballot_serialize(b, &text, &tl) != DT_OK || !(f = fopen(tmp, "w")) || fwrite(text, 1, tl, f) != tl ||
        fputc('\n', f) == EOF || fclose(f) != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "mkballots: %s: cannot be written\n", out);
        f = NULL;
        goto out;
    }
    f = NULL;
    ok = 1;
out:
    if (f)
        fclose(f);
    free(pt);
    free(msg);
    free(text);
    dt_plaintext_ballot_destroy(pb);
    dt_ballot_destroy(b);
    return ok;
}

static void *worker(void *arg)
{
    dt_ballot_device *dev = NULL;
    char *msg = NULL;
    size_t i;
    (void)arg;
    if (dt_ballot_device_create(&dev, &msg, g.ctx, g.device, NULL, 0) != DT_OK) {
        fprintf(stderr, "mkballots: %s\n", msg ? msg : "cannot make the device");
        free(msg);
        atomic_fetch_add(&g.failed, 1);
        return NULL;
    }
    while ((i = atomic_fetch_add(&g.next, 1)) < g.n)
        if (!one(dev, g.names[i]))
            atomic_fetch_add(&g.failed, 1);
    dt_ballot_device_destroy(dev);
    return NULL;
}

int main(int argc, char **argv)
{
    long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    char *msg = NULL, path[4096];
    DIR *d;
    struct dirent *de;
    pthread_t *th;
    struct timespec t0, t1;

    g.device = "loadtest";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            g.device = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            nthreads = atol(argv[++i]);
        else if (!g.edir)
            g.edir = argv[i];
        else if (!g.odir)
            g.odir = argv[i];
        else
            g.edir = NULL, i = argc;
    }
    if (!g.edir || !g.odir || nthreads < 1 || nthreads > 256) {
        fprintf(stderr, "usage: mkballots ELECTION_DIR OUT_DIR [--device ID] [--threads N]\n");
        return 2;
    }
    if (dt_record_load_part(&rec, &msg, g.edir, DT_RECORD_ELECTION) != DT_OK ||
        dt_ballot_ctx_create(&ctx, &msg, rec) != DT_OK) {
        fprintf(stderr, "mkballots: %s: %s\n", g.edir, msg ? msg : "cannot load the election");
        return 2;
    }
    g.ctx = ctx;
    snprintf(path, sizeof path, "%s/private_data/input", g.edir);
    if (!(d = opendir(path))) {
        fprintf(stderr, "mkballots: %s: cannot be read\n", path);
        return 2;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        char **nv;
        if (strncmp(de->d_name, "pballot-", 8) != 0 || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (!(nv = realloc(g.names, (g.n + 1) * sizeof *nv)) || !(nv[g.n] = strdup(de->d_name))) {
            fprintf(stderr, "mkballots: out of memory\n");
            return 1;
        }
        g.names = nv;
        g.n++;
    }
    closedir(d);
    if (g.names)
        qsort(g.names, g.n, sizeof *g.names, cmp_str);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!(th = calloc((size_t)nthreads, sizeof *th)))
        return 1;
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
            nthreads = i;
            break;
        }
    if (nthreads == 0)
        worker(NULL);
    for (long i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "mkballots: %zu ballots encrypted on %ld threads in %.1f s\n", g.n - atomic_load(&g.failed),
            nthreads, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (size_t i = 0; i < g.n; i++)
        free(g.names[i]);
    free(g.names);
    free(th);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    return atomic_load(&g.failed) ? 1 : 0;
}
