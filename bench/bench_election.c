/* Election benchmarks, one JSON line each (medians of repeats):
 *   ceremony: the whole key ceremony in one process for n = 5, 10, 20
 *             guardians (quorum n/2 + 1): polynomials, commitments and
 *             proofs, every proof checked by every guardian, n(n-1)
 *             encrypted shares sent, decrypted and checked (eq. 21);
 *   decrypt:  tally and decryption of an election of B cast ballots by 3 of
 *             5 guardians (aggregation of every ballot file, joint proofs,
 *             discrete logs up to B).
 * usage: bench_election [--quick] [--ballots B ...] [--group ristretto255|integer4096]
 * Ballots for the decryption benchmark: 100 distinct encrypted ballots are
 * made, then copied under new ids up to B (the tally and the decryption
 * cost the same whatever the ciphertexts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <detente/ballot.h>
#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/record.h>
#include <detente/workflow.h>

#include "../cli/demo_manifest.h"
#include "record/record.h"
#include "util/codec.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, dt_err err, char *msg)
{
    fprintf(stderr, "bench_election: %s: %s\n", what, msg ? msg : dt_strerror(err));
    exit(1);
}

/* The ceremony of n guardians, quorum k; returns seconds. Fills the
 * trustees' shares and the commitments' JSON when asked. */
static double ceremony(const dt_group *g, const unsigned char hp[32], uint32_t n, uint32_t k, dt_trustee *tr,
                       char **json)
{
    dt_guardian **gd = calloc(n, sizeof *gd);
    dt_elem *K = calloc((size_t)n * k, sizeof *K);
    dt_scalar *c = calloc((size_t)n * k, sizeof *c), *v = calloc((size_t)n * k, sizeof *v);
    dt_err err;
    double t0 = now_s();
    for (uint32_t i = 0; i < n; i++)
        if ((err = dt_guardian_create(&gd[i], g, i + 1, n, k)) ||
            (err = dt_guardian_commitments(gd[i], &K[(size_t)i * k], &c[(size_t)i * k], &v[(size_t)i * k], k)))
            die("guardian", err, NULL);
    for (uint32_t l = 0; l < n; l++)
        for (uint32_t i = 0; i < n; i++) {
            dt_share_ct ct;
            size_t bad;
            if (i == l)
                continue;
            if ((err = dt_commitments_verify_var(g, hp, i + 1, &K[(size_t)i * k], &c[(size_t)i * k],
                                                 &v[(size_t)i * k], k, &bad)) ||
                (err = dt_guardian_encrypt_share(gd[i], &ct, l + 1, &K[(size_t)l * k])) ||
                (err = dt_guardian_receive_share(gd[l], &ct, &K[(size_t)i * k], k)))
                die("shares", err, NULL);
        }
    for (uint32_t i = 0; i < n; i++)
        if ((err = dt_guardian_finish(gd[i])))
            die("finish", err, NULL);
    double t = now_s() - t0;
    for (uint32_t i = 0; i < n; i++) {
        if (tr) {
            tr[i].x = i + 1;
            if ((err = dt_guardian_key_share(gd[i], &tr[i].P)))
                die("key share", err, NULL);
        }
        if (json && (err = dt_commitments_to_json(g, &json[i], NULL, i + 1, &K[(size_t)i * k], &c[(size_t)i * k],
                                                  &v[(size_t)i * k], k)))
            die("json", err, NULL);
        dt_guardian_destroy(gd[i]);
    }
    free(gd);
    free(K);
    free(c);
    free(v);
    return t;
}

static void bench_ceremony(dt_group_id id, int reps)
{
    dt_group *g = dt_group_create(id);
    unsigned char hp[32];
    uint32_t ns[3] = {5, 10, 20};
    dt_parameter_base_hash(g, hp);
    for (int t = 0; t < 3; t++) {
        double s[9];
        uint32_t n = ns[t], k = n / 2 + 1;
        for (int r = 0; r < reps; r++)
            s[r] = ceremony(g, hp, n, k, NULL, NULL);
        qsort(s, (size_t)reps, sizeof *s, cmp_double);
        printf("{\"bench\":\"ceremony\",\"group\":\"%s\",\"guardians\":%u,\"quorum\":%u,\"seconds\":%.3f,"
               "\"repeats\":%d}\n",
               dt_group_name(g), n, k, s[reps / 2], reps);
        fflush(stdout);
    }
    dt_group_destroy(g);
}

static void bench_decrypt(dt_group_id id, uint32_t ballots)
{
    char dir[] = "/tmp/dt-bench-XXXXXX";
    char *msg = NULL, **json = calloc(5, sizeof *json);
    dt_trustee tr[5];
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    dt_ballot_device *dev = NULL;
    dt_err err;
    char *texts[100];
    size_t lens[100];
    uint32_t distinct = ballots < 100 ? ballots : 100;

    if (!mkdtemp(dir))
        die("mkdtemp", DT_ERR_IO, NULL);
    if ((err = dt_election_create(&msg, dir, id, (const unsigned char *)demo_manifest, strlen(demo_manifest), 5, 3,
                                  (const unsigned char *)"bench", 5, false)))
        die("create", err, msg);
    if ((err = dt_record_load_part(&rec, &msg, dir, DT_RECORD_CONFIG)))
        die("load", err, msg);
    ceremony(rec->group, rec->hp, 5, 3, tr, json);
    dt_record_destroy(rec);
    if ((err = dt_election_open(&msg, dir, (const char *const *)json, 5)))
        die("open", err, msg);
    if ((err = dt_record_load_part(&rec, &msg, dir, DT_RECORD_ELECTION)) ||
        (err = dt_ballot_ctx_create(&ctx, &msg, rec)) ||
        (err = dt_ballot_device_create(&dev, &msg, ctx, "bench", NULL, 0)))
        die("ballot context", err, msg);
    char *bdir = dt_strdup_printf("%s/encrypted_ballots/bench", dir);
    if (dt_mkdirs(bdir))
        die("mkdir", DT_ERR_IO, NULL);
    for (uint32_t b = 0; b < distinct; b++) {
        char pj[512];
        dt_plaintext_ballot *pb = NULL;
        dt_ballot *eb = NULL;
        snprintf(pj, sizeof pj,
                 "{\"ballot_id\": \"b%u\", \"ballot_style\": \"%s\", \"contests\": [{\"contest_id\": \"mayor\", "
                 "\"selections\": [{\"selection_id\": \"%s\", \"vote\": 1}]}]}",
                 b, b % 2 ? "north-ballot" : "south-ballot", b % 3 ? "mayor-amara" : "mayor-bodhan");
        if ((err = dt_plaintext_ballot_parse(ctx, &pb, &msg, pj, strlen(pj))) ||
            (err = dt_ballot_encrypt(dev, &eb, NULL, pb, 0)))
            die("encrypt", err, msg);
        dt_ballot_set_state(eb, DT_BALLOT_STATE_CAST);
        if ((err = dt_ballot_serialize(eb, &texts[b], &lens[b])))
            die("serialize", err, NULL);
        dt_ballot_destroy(eb);
        dt_plaintext_ballot_destroy(pb);
    }
    /* B ballot files: copies of the distinct ones under fresh ids */
    for (uint32_t b = 0; b < ballots; b++) {
        const char *t = texts[b % distinct];
        const char *idpos = strstr(t, "\"ballot_id\": \"");
        const char *idend = idpos ? strchr(idpos + 14, '"') : NULL;
        if (!idpos || !idend)
            die("ballot layout", DT_ERR_PARSE, NULL);
        char *path = dt_strdup_printf("%s/eballot-%u.json", bdir, b);
        char *copy = dt_strdup_printf("%.*s\"ballot_id\": \"c%u%s", (int)(idpos - t), t, b, idend);
        if (!path || !copy || dt_write_file_atomic(path, copy, strlen(copy), 0644))
            die("write ballots", DT_ERR_IO, NULL);
        free(path);
        free(copy);
    }
    double t0 = now_s();
    if ((err = dt_election_tally(&msg, dir)))
        die("tally", err, msg);
    double t1 = now_s();
    dt_trustee present[3] = {tr[0], tr[2], tr[4]};
    if ((err = dt_election_decrypt(&msg, dir, present, 3, NULL, NULL)))
        die("decrypt", err, msg);
    double t2 = now_s();
    printf("{\"bench\":\"tally_decrypt\",\"group\":\"%s\",\"cast_ballots\":%u,\"guardians\":5,\"present\":3,"
           "\"tally_seconds\":%.3f,\"decrypt_seconds\":%.3f,\"us_per_ballot_tally\":%.1f}\n",
           dt_group_name(rec->group), ballots, t1 - t0, t2 - t1, (t1 - t0) * 1e6 / ballots);
    fflush(stdout);
    for (uint32_t b = 0; b < distinct; b++)
        free(texts[b]);
    dt_memzero(tr, sizeof tr);
    dt_memzero(present, sizeof present);
    for (int i = 0; i < 5; i++)
        free(json[i]);
    free(json);
    free(bdir);
    dt_ballot_device_destroy(dev);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_election: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    int quick = 0;
    uint32_t sizes[8];
    int nsizes = 0;
    if (sodium_init() < 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--ballots") && i + 1 < argc && nsizes < 8)
            sizes[nsizes++] = (uint32_t)strtoul(argv[++i], NULL, 10);
    }
    if (!nsizes) {
        sizes[nsizes++] = 1000;
        sizes[nsizes++] = 100000;
    }
    bench_ceremony(DT_GROUP_RISTRETTO255, quick ? 1 : 3);
    bench_ceremony(DT_GROUP_INTEGER4096, 1);
    for (int s = 0; s < nsizes; s++)
        bench_decrypt(DT_GROUP_RISTRETTO255, sizes[s]);
    bench_decrypt(DT_GROUP_INTEGER4096, quick ? 100 : 1000);
    return 0;
}
