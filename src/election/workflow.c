/* The steps that produce an election record: create, open (after the key
 * ceremony), tally, decrypt. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmp.h>
#include <jansson.h>

#include <detente/board.h>
#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/log.h>
#include <detente/proof.h>
#include <detente/tally.h>
#include <detente/workflow.h>

#include "election/workflow_impl.h"
#include "record/jsonout.h"
#include "record/record.h"
#include "util/codec.h"
#include "util/parallel.h"

dt_err dt_wf_failmsg(char **msg, dt_err err, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (msg && !*msg)
        *msg = strdup(buf);
    return err;
}

static char *path2(const char *dir, const char *rel)
{
    return dt_strdup_printf("%s/%s", dir, rel);
}

dt_err dt_wf_save(char **msg, const char *dir, const char *rel, json_t *j)
{
    char *p = path2(dir, rel);
    dt_err err = p ? dt_json_save(p, j) : DT_ERR_NOMEM;
    if (!p)
        json_decref(j);
    free(p);
    if (err)
        return dt_wf_failmsg(msg, err, "%s/%s: cannot write (%s)", dir, rel, dt_strerror(err));
    return DT_OK;
}

static char *hex_lower(const unsigned char *p, size_t n)
{
    mpz_t z;
    char *s;
    mpz_init(z);
    mpz_import(z, n, 1, 1, 1, 0, p);
    s = mpz_get_str(NULL, 16, z);
    mpz_clear(z);
    return s;
}

static json_t *constants_json(const dt_group *g)
{
    unsigned char q[32];
    json_t *c;
    dt_group_order(g, q);
    if (dt_group_kind(g) == DT_GROUP_RISTRETTO255) {
        unsigned char gen[32];
        dt_elem ge;
        char hq[65], hg[65];
        dt_elem_generator(g, &ge);
        dt_elem_encode(g, gen, &ge);
        for (int i = 0; i < 32; i++) {
            snprintf(hq + 2 * i, 3, "%02x", q[i]);
            snprintf(hg + 2 * i, 3, "%02x", gen[i]);
        }
        c = json_pack("{s:s, s:s}", "order", hq, "generator", hg);
        return json_pack("{s:s, s:s, s:s, s:o}", "name", "ristretto255", "type", "Ristretto255", "protocolVersion",
                         DT_SPEC_VERSION, "constants", c);
    }
    size_t eb = dt_group_elem_bytes(g);
    unsigned char *p = malloc(eb), *gen = malloc(eb);
    char *hp = NULL, *hq = NULL, *hr = NULL, *hg = NULL;
    json_t *out = NULL;
    if (!p || !gen)
        goto out;
    (void)dt_group_integer_params(g, p, gen, eb);
    mpz_t zp, zq, zr;
    mpz_inits(zp, zq, zr, NULL);
    mpz_import(zp, eb, 1, 1, 1, 0, p);
    mpz_import(zq, 32, 1, 1, 1, 0, q);
    mpz_sub_ui(zp, zp, 1);
    mpz_divexact(zr, zp, zq);
    hr = mpz_get_str(NULL, 16, zr);
    mpz_clears(zp, zq, zr, NULL);
    hp = hex_lower(p, eb);
    hq = hex_lower(q, 32);
    hg = hex_lower(gen, eb);
    c = json_pack("{s:s, s:s, s:s, s:s}", "largePrime", hp, "smallPrime", hq, "cofactor", hr, "generator", hg);
    out = json_pack("{s:s, s:s, s:s, s:o}", "name", "Integer4096", "type", "IntegerGroup", "protocolVersion",
                    DT_SPEC_VERSION, "constants", c);
out:
    free(p);
    free(gen);
    free(hp);
    free(hq);
    free(hr);
    free(hg);
    return out;
}

dt_err dt_election_create(char **msg, const char *dir, dt_group_id group, const unsigned char *manifest, size_t len,
                          uint32_t n, uint32_t k, const unsigned char *baux0, size_t baux0len, bool chain)
{
    dt_rec_manifest m;
    dt_group *g = NULL;
    unsigned char hp[32], hm[32], hb[32];
    char *mp = NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    if (n < 1 || n > 1000 || k < 1 || k > n)
        return dt_wf_failmsg(msg, DT_ERR_INVALID, "the quorum k must be in 1..n and n in 1..1000 (n = %u, k = %u)", n,
                             k);
    if ((err = dt_manifest_parse(&m, msg, manifest, len)))
        return err;
    err = dt_manifest_validate(&m, msg);
    if (!err && strcmp(m.spec_version, DT_SPEC_VERSION) != 0)
        err = dt_wf_failmsg(msg, DT_ERR_INVALID, "manifest.json: spec_version is \"%s\", detente implements \"%s\"",
                            m.spec_version, DT_SPEC_VERSION);
    dt_manifest_free(&m);
    if (err)
        return err;
    if (!(g = dt_group_create(group)))
        return dt_wf_failmsg(msg, DT_ERR_NOMEM, "out of memory");
    if ((err = dt_mkdirs(dir))) {
        err = dt_wf_failmsg(msg, err, "%s: cannot create the folder", dir);
        goto out;
    }
    dt_parameter_base_hash(g, hp);
    dt_manifest_hash(hm, hp, manifest, len);
    dt_election_base_hash(hb, hp, hm, n, k);
    if ((err = dt_wf_save(msg, dir, "constants.json", constants_json(g))))
        goto out;
    if (!(mp = path2(dir, "manifest.json"))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = dt_write_file_atomic(mp, manifest, len, 0644))) {
        err = dt_wf_failmsg(msg, err, "%s: cannot write", mp);
        goto out;
    }
    json_t *cfg = json_pack("{s:s, s:i, s:i, s:o, s:o, s:o, s:b, s:o, s:{s:s}}", "config_version", "2.1.0",
                            "number_of_guardians", (json_int_t)n, "quorum", (json_int_t)k, "parameter_base_hash",
                            dt_jb64(hp, 32), "manifest_hash", dt_jb64(hm, 32), "election_base_hash", dt_jb64(hb, 32),
                            "chain_confirmation_codes", chain, "baux0", dt_jb64(baux0, baux0len), "metadata",
                            "Created by", "detente");
    err = dt_wf_save(msg, dir, "election_config.json", cfg);
out:
    free(mp);
    dt_group_destroy(g);
    return err;
}

dt_err dt_election_open(char **msg, const char *dir, const char *const *commitments, size_t n)
{
    dt_record *rec = NULL;
    dt_elem *K_all = NULL, *K0 = NULL, K;
    dt_scalar *c = NULL, *v = NULL;
    json_t *guardians = NULL;
    unsigned char he[32];
    dt_err err;
    size_t k;

    if (msg)
        *msg = NULL;
    if ((err = dt_record_load_part(&rec, msg, dir, DT_RECORD_CONFIG)))
        return err;
    if (n != rec->n) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID, "%zu guardians' commitments given, the election has %u guardians", n,
                            rec->n);
        goto out;
    }
    k = rec->k;
    K_all = calloc(n * k, sizeof *K_all);
    K0 = calloc(n, sizeof *K0);
    c = calloc(k, sizeof *c);
    v = calloc(k, sizeof *v);
    guardians = json_array();
    if (!K_all || !K0 || !c || !v || !guardians) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t gi = 0; gi < n; gi++)
        json_array_append_new(guardians, json_null());
    for (size_t t = 0; t < n; t++) {
        char *id = NULL, *cmsg = NULL;
        uint32_t i;
        size_t bad;
        dt_elem *Ki = NULL;
        json_error_t jerr;
        dt_elem tmp[1];
        (void)tmp;
        Ki = calloc(k, sizeof *Ki);
        if (!Ki) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        err = dt_commitments_from_json(rec->group, &id, &i, Ki, c, v, k, commitments[t], strlen(commitments[t]),
                                       &cmsg);
        if (err) {
            dt_wf_failmsg(msg, err, "guardian commitments #%zu: %s", t + 1, cmsg ? cmsg : dt_strerror(err));
            free(cmsg);
            free(Ki);
            goto out;
        }
        if (i < 1 || i > n || !json_is_null(json_array_get(guardians, i - 1))) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID, "guardian %s: index %u is out of 1..%zu or given twice", id, i, n);
            free(id);
            free(Ki);
            goto out;
        }
        if (dt_commitments_verify_var(rec->group, rec->hp, i, Ki, c, v, k, &bad) != DT_OK) {
            err = dt_wf_failmsg(msg, DT_ERR_PROOF, "guardian %s: the Schnorr proof of coefficient %zu does not verify",
                                id, bad);
            free(id);
            free(Ki);
            goto out;
        }
        memcpy(&K_all[(i - 1) * k], Ki, k * sizeof *Ki);
        K0[i - 1] = Ki[0];
        free(Ki);
        free(id);
        json_array_set_new(guardians, i - 1, json_loads(commitments[t], 0, &jerr));
    }
    dt_ceremony_joint_key(rec->group, &K, K0, n);
    dt_extended_base_hash(rec->group, he, rec->hb, &K);
    json_t *init = json_pack("{s:o, s:o, s:O, s:{s:s}}", "joint_public_key", dt_jelem(rec->group, &K),
                             "extended_base_hash", dt_jb64(he, 32), "guardians", guardians, "metadata", "Created by",
                             "detente");
    err = dt_wf_save(msg, dir, "election_initialized.json", init);
out:
    json_decref(guardians);
    free(K_all);
    free(K0);
    free(c);
    free(v);
    dt_record_destroy(rec);
    return err;
}

/* ---- tally ---- */

long dt_wf_mcontest_index(const dt_rec_manifest *m, const char *id)
{
    for (size_t i = 0; i < m->ncontests; i++)
        if (strcmp(m->contests[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* One thread's share of the tally: ballots lo, lo + step, ... of the
 * record summed into its own products and counts. bad is the first ballot
 * (in the record's order) that fails, with its error. */
typedef struct tally_part {
    const dt_record *rec;
    const size_t *off;
    size_t nopts, lo, step;
    dt_prod *PA, *PB;
    size_t *count;
    size_t bad;
    dt_err err;
    bool not_in_group;
} tally_part;

static void tally_worker(tally_part *t)
{
    const dt_record *rec = t->rec;
    const dt_group *g = rec->group;
    const dt_rec_manifest *m = &rec->manifest;
    t->bad = SIZE_MAX;
    for (size_t b = t->lo; b < rec->nballots && t->bad == SIZE_MAX; b += t->step) {
        const dt_rec_ballot *bal = &rec->ballots[b];
        size_t total = 0, k = 0;
        if (bal->state != DT_BALLOT_CAST)
            continue;
        for (size_t c = 0; c < bal->ncontests; c++) {
            const dt_rec_bcontest *bc = &bal->contests[c];
            long mi = dt_wf_mcontest_index(m, bc->id);
            if (mi < 0 || bc->nsel != m->contests[mi].noptions) {
                t->bad = b;
                t->err = DT_ERR_INVALID;
                break;
            }
            total += bc->nsel;
        }
        if (t->bad != SIZE_MAX)
            break;
        /* the ballot's ciphertexts validated at once (eight inverse square
         * roots at a time in ristretto255, batched in the integer group) */
        dt_elem *ab = calloc(2 * total + 1, sizeof *ab);
        const unsigned char **in = calloc(2 * total + 1, sizeof *in);
        if (!ab || !in) {
            free(ab);
            free(in);
            t->bad = b;
            t->err = DT_ERR_NOMEM;
            break;
        }
        for (size_t c = 0; c < bal->ncontests; c++)
            for (size_t s = 0; s < bal->contests[c].nsel; s++) {
                in[k++] = bal->contests[c].sel[s].ct.pad;
                in[k++] = bal->contests[c].sel[s].ct.data;
            }
        if (dt_elem_decode_batch_var(g, ab, in, rec->elem_bytes, k) != DT_OK) {
            free(ab);
            free(in);
            t->bad = b;
            t->err = DT_ERR_NOT_IN_GROUP;
            break;
        }
        k = 0;
        for (size_t c = 0; c < bal->ncontests; c++) {
            const dt_rec_bcontest *bc = &bal->contests[c];
            long mi = dt_wf_mcontest_index(m, bc->id);
            t->count[mi]++;
            for (size_t s = 0; s < bc->nsel; s++, k += 2) {
                dt_prod_mul(g, &t->PA[t->off[mi] + s], &ab[k]);
                dt_prod_mul(g, &t->PB[t->off[mi] + s], &ab[k + 1]);
            }
        }
        free(ab);
        free(in);
    }
}

/* After `detente close` (closed.json with board_size S): every ballot of the
 * record must be on the board before entry S. A ballot put in the folder
 * after voting closed is refused by name, not counted (and check B.6 of
 * detente verify would fail on it). Without closed.json or a board: DT_OK. */
static dt_err ballots_before_close(char **msg, const char *dir, const dt_record *rec)
{
    char *cp = dt_strdup_printf("%s/closed.json", dir), *logp = NULL;
    unsigned char *text = NULL;
    size_t len = 0;
    json_t *cj = NULL, *bs;
    dt_log *log = NULL;
    dt_err err = DT_OK;
    if (!cp)
        return DT_ERR_NOMEM;
    if (!dt_board_exists(dir) || dt_read_file(&text, &len, cp, 65536) != DT_OK)
        goto out; /* voting not closed by detente close, or no board */
    cj = json_loadb((const char *)text, len, 0, NULL);
    bs = cj ? json_object_get(cj, "board_size") : NULL;
    if (!json_is_integer(bs) || json_integer_value(bs) < 0) {
        err = dt_wf_failmsg(msg, DT_ERR_PARSE, "%s: no board_size (a whole number)", cp);
        goto out;
    }
    if ((err = dt_board_log_location(&logp, dir, NULL)) != DT_OK || (err = dt_log_open(&log, logp, 0)) != DT_OK) {
        err = dt_wf_failmsg(msg, err, "%s: cannot open the board's log (%s)", dir, dt_strerror(err));
        goto out;
    }
    for (size_t b = 0; b < rec->nballots; b++) {
        unsigned char key[DT_BOARD_KEY_MAX];
        size_t klen = dt_board_path_key(key, rec->ballots[b].file, strlen(rec->ballots[b].file));
        uint64_t at;
        dt_err e = dt_log_find(log, key, klen, &at);
        if (e != DT_OK && e != DT_ERR_NOT_FOUND) {
            err = dt_wf_failmsg(msg, e, "%s: cannot read the board's log (%s)", dir, dt_strerror(e));
            goto out;
        }
        if (e == DT_ERR_NOT_FOUND || at >= (uint64_t)json_integer_value(bs)) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                                "%s: not on the board when voting closed (closed.json: board_size %lld): a ballot "
                                "put in the record after closing is not counted; remove it",
                                rec->ballots[b].file, (long long)json_integer_value(bs));
            goto out;
        }
    }
out:
    dt_log_close(log);
    json_decref(cj);
    free(text);
    free(logp);
    free(cp);
    return err;
}

static void tally_part_run(void *arg, size_t t)
{
    tally_worker(&((tally_part *)arg)[t]);
}

dt_err dt_election_tally(char **msg, const char *dir)
{
    return dt_election_tally_counts(msg, dir, NULL, NULL);
}

dt_err dt_election_tally_counts(char **msg, const char *dir, size_t *ncast, size_t *nchallenged)
{
    dt_record *rec = NULL;
    dt_err err;
    const dt_group *g;
    dt_elem *A = NULL, *B = NULL;
    dt_prod *PA = NULL, *PB = NULL; /* the sums, put in canonical form once at the end */
    size_t *off = NULL, nopts = 0, *count = NULL, nthreads = 1, bad = SIZE_MAX;
    json_t *contests = NULL, *cast = NULL;
    tally_part part[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (msg)
        *msg = NULL;
    memset(part, 0, sizeof part);
    if (dt_board_exists(dir)) {
        /* the ballots an election server put on the board's log: their
         * files written from it first (dt_board_restore; detente close has
         * done it, unless the tally comes without a close) */
        dt_board *b = NULL;
        char *bm = NULL;
        if ((err = dt_board_open(&b, &bm, dir)) == DT_OK)
            err = dt_board_restore(b, &bm, NULL, NULL);
        dt_board_close(b);
        if (err != DT_OK) {
            if (msg)
                *msg = bm;
            else
                free(bm);
            return err;
        }
        free(bm);
    }
    if ((err = dt_record_load(&rec, msg, dir)))
        return err;
    if ((err = ballots_before_close(msg, dir, rec)))
        goto out;
    g = rec->group;
    const dt_rec_manifest *m = &rec->manifest;
    off = calloc(m->ncontests + 1, sizeof *off);
    if (!off) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->ncontests; i++) {
        off[i] = nopts;
        nopts += m->contests[i].noptions;
    }
    /* the ballots summed on every core, each thread into its own products
     * (a ballot is a few dozen ciphertexts: threads pay off from about a
     * hundred ballots) */
    nthreads = cores > 1 ? (size_t)cores : 1;
    if (nthreads > 16)
        nthreads = 16;
    if (nthreads > rec->nballots / 64 + 1)
        nthreads = rec->nballots / 64 + 1;
    A = calloc(nopts + 1, sizeof *A);
    B = calloc(nopts + 1, sizeof *B);
    contests = json_array();
    cast = json_array();
    if (!A || !B || !contests || !cast) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t t = 0; t < nthreads; t++) {
        part[t] = (tally_part){.rec = rec, .off = off, .nopts = nopts, .lo = t, .step = nthreads, .bad = SIZE_MAX};
        part[t].PA = calloc(nopts + 1, sizeof *part[t].PA);
        part[t].PB = calloc(nopts + 1, sizeof *part[t].PB);
        part[t].count = calloc(m->ncontests + 1, sizeof *part[t].count);
        if (!part[t].PA || !part[t].PB || !part[t].count) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t o = 0; o < nopts; o++) {
            dt_prod_init(g, &part[t].PA[o]);
            dt_prod_init(g, &part[t].PB[o]);
        }
    }
    dt_parallel_for(nthreads, 1, tally_part_run, part);
    /* the first bad ballot in the record's order, as one thread would find it */
    for (size_t t = 0; t < nthreads; t++)
        if (part[t].bad < bad) {
            bad = part[t].bad;
            err = part[t].err;
        }
    if (bad != SIZE_MAX) {
        const char *file = rec->ballots[bad].file;
        if (err == DT_ERR_INVALID)
            err = dt_wf_failmsg(msg, err, "%s: a contest does not match the manifest", file);
        else if (err == DT_ERR_NOT_IN_GROUP)
            err = dt_wf_failmsg(msg, err, "%s: a ciphertext is not in the group", file);
        goto out;
    }
    for (size_t b = 0; b < rec->nballots; b++)
        if (rec->ballots[b].state == DT_BALLOT_CAST)
            json_array_append_new(cast, json_string(rec->ballots[b].id));
    PA = part[0].PA;
    PB = part[0].PB;
    count = part[0].count;
    for (size_t t = 1; t < nthreads; t++)
        for (size_t o = 0; o < nopts; o++) {
            dt_prod_mul_prod(g, &PA[o], &part[t].PA[o]);
            dt_prod_mul_prod(g, &PB[o], &part[t].PB[o]);
        }
    for (size_t t = 1; t < nthreads; t++)
        for (size_t i = 0; i < m->ncontests; i++)
            count[i] += part[t].count[i];
    if (ncast)
        *ncast = json_array_size(cast);
    if (nchallenged)
        *nchallenged = rec->nballots - json_array_size(cast);
    for (size_t o = 0; o < nopts; o++) {
        dt_prod_get(g, &A[o], &PA[o]);
        dt_prod_get(g, &B[o], &PB[o]);
    }
    for (size_t i = 0; i < m->ncontests; i++) {
        json_t *sels = json_array();
        for (size_t o = 0; o < m->contests[i].noptions; o++)
            json_array_append_new(sels, json_pack("{s:s, s:i, s:o}", "selection_id", m->contests[i].options[o].id,
                                                  "sequence_order", (json_int_t)m->contests[i].options[o].seq,
                                                  "encrypted_vote",
                                                  dt_jciphertext(g, &A[off[i] + o], &B[off[i] + o])));
        json_array_append_new(contests, json_pack("{s:s, s:i, s:o, s:i}", "contest_id", m->contests[i].id,
                                                  "sequence_order", (json_int_t)m->contests[i].seq, "selections",
                                                  sels, "ballot_count", (json_int_t)count[i]));
    }
    json_t *et = json_pack("{s:s, s:O, s:O, s:o}", "tally_id", "detente", "contests", contests, "cast_ballot_ids",
                           cast, "election_id", dt_jb64(rec->he, 32));
    err = dt_wf_save(msg, dir, "encrypted_tally.json", et);
out:
    json_decref(contests);
    json_decref(cast);
    free(A);
    free(B);
    for (size_t t = 0; t < nthreads; t++) {
        free(part[t].PA);
        free(part[t].PB);
        free(part[t].count);
    }
    free(off);
    dt_record_destroy(rec);
    return err;
}


/* ---- decryption, all guardians in this process ---- */

/* Progress over the four steps: each reports (done, N); the caller sees
 * (step offset + done, N * (2 nU + 2)). */
typedef struct wprog {
    dt_progress_fn fn;
    void *arg;
    size_t base, steps;
} wprog;

static void wprog_tick(void *arg, size_t done, size_t total)
{
    wprog *p = arg;
    p->fn(p->arg, p->base * total + done, p->steps * total);
}

/* Writes text to dir/rel (its folder created), atomically. */
static dt_err save_text(char **msg, const char *dir, const char *rel, const char *text)
{
    char *p = path2(dir, rel), *slash = p ? strrchr(p, '/') : NULL;
    dt_err err = DT_ERR_NOMEM;
    if (slash) {
        *slash = '\0';
        err = dt_mkdirs(p);
        *slash = '/';
        if (err == DT_OK)
            err = dt_write_file_atomic(p, text, strlen(text), 0644);
    }
    free(p);
    if (err)
        return dt_wf_failmsg(msg, err, "%s/%s: cannot write (%s)", dir, rel, dt_strerror(err));
    return DT_OK;
}

dt_err dt_election_decrypt(char **msg, const char *dir, const dt_trustee *U, size_t nU,
                           void (*progress)(void *arg, size_t done, size_t total), void *progress_arg)
{
    dt_record *rec = NULL;
    char **share = NULL, **resp = NULL, *chal = NULL;
    dt_decrypt_nonces **nonces = NULL;
    dt_text *st = NULL, *rt = NULL, ct;
    wprog wp = {progress, progress_arg, 0, 2 * nU + 2};
    dt_progress_fn pf = progress ? wprog_tick : NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    if ((err = dt_record_load(&rec, msg, dir)))
        return err;
    if (nU < rec->k) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID, "decryption needs at least %u of the %u guardians; have %zu", rec->k,
                            rec->n, nU);
        goto out;
    }
    share = calloc(nU, sizeof *share);
    resp = calloc(nU, sizeof *resp);
    nonces = calloc(nU, sizeof *nonces);
    st = calloc(nU, sizeof *st);
    rt = calloc(nU, sizeof *rt);
    if (!share || !resp || !nonces || !st || !rt) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    /* round 1: each guardian */
    for (size_t t = 0; t < nU; t++, wp.base++) {
        if ((err = dt_decrypt_round1(msg, &share[t], &nonces[t], rec, U[t].x, &U[t].P, pf, &wp)))
            goto out;
        st[t] = (dt_text){share[t], strlen(share[t])};
    }
    /* anyone */
    if ((err = dt_decrypt_combine(msg, &chal, rec, st, nU, pf, &wp)))
        goto out;
    wp.base++;
    ct = (dt_text){chal, strlen(chal)};
    /* round 2: each guardian */
    for (size_t t = 0; t < nU; t++, wp.base++) {
        if ((err = dt_decrypt_round2(msg, &resp[t], rec, &ct, st, nU, U[t].x, &U[t].P, nonces[t], pf, &wp)))
            goto out;
        rt[t] = (dt_text){resp[t], strlen(resp[t])};
    }
    /* The rounds' public messages, as the guardians working apart publish
     * them (docs/roles.md), so that they go on the board too. */
    if ((err = save_text(msg, dir, "decryption/challenge.json", chal)))
        goto out;
    for (size_t t = 0; t < nU; t++) {
        char share_rel[64], resp_rel[64];
        snprintf(share_rel, sizeof share_rel, "decryption/share-%u.json", U[t].x);
        snprintf(resp_rel, sizeof resp_rel, "decryption/response-%u.json", U[t].x);
        if ((err = save_text(msg, dir, share_rel, share[t])) || (err = save_text(msg, dir, resp_rel, resp[t])))
            goto out;
    }
    /* anyone */
    err = dt_decrypt_finish(msg, rec, dir, &ct, st, nU, rt, nU, pf, &wp);
out:
    for (size_t t = 0; t < nU; t++) {
        if (share)
            free(share[t]);
        if (resp)
            free(resp[t]);
        if (nonces)
            dt_decrypt_nonces_destroy(nonces[t]);
    }
    free(share);
    free(resp);
    free(nonces);
    free(st);
    free(rt);
    free(chal);
    dt_record_destroy(rec);
    return err;
}
