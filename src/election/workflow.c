/* The steps that produce an election record: create, open (after the key
 * ceremony), tally, decrypt. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <jansson.h>

#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/proof.h>
#include <detente/tally.h>
#include <detente/workflow.h>

#include "record/jsonout.h"
#include "record/record.h"
#include "util/codec.h"

static dt_err failmsg(char **msg, dt_err err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static dt_err failmsg(char **msg, dt_err err, const char *fmt, ...)
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

static dt_err save(char **msg, const char *dir, const char *rel, json_t *j)
{
    char *p = path2(dir, rel);
    dt_err err = p ? dt_json_save(p, j) : DT_ERR_NOMEM;
    if (!p)
        json_decref(j);
    free(p);
    if (err)
        return failmsg(msg, err, "%s/%s: cannot write (%s)", dir, rel, dt_strerror(err));
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
        return failmsg(msg, DT_ERR_INVALID, "the quorum k must be in 1..n and n in 1..1000 (n = %u, k = %u)", n, k);
    if ((err = dt_manifest_parse(&m, msg, manifest, len)))
        return err;
    err = dt_manifest_validate(&m, msg);
    if (!err && strcmp(m.spec_version, DT_SPEC_VERSION) != 0)
        err = failmsg(msg, DT_ERR_INVALID, "manifest.json: spec_version is \"%s\", detente implements \"%s\"",
                      m.spec_version, DT_SPEC_VERSION);
    dt_manifest_free(&m);
    if (err)
        return err;
    if (!(g = dt_group_create(group)))
        return failmsg(msg, DT_ERR_NOMEM, "out of memory");
    if ((err = dt_mkdirs(dir))) {
        err = failmsg(msg, err, "%s: cannot create the folder", dir);
        goto out;
    }
    dt_parameter_base_hash(g, hp);
    dt_manifest_hash(hm, hp, manifest, len);
    dt_election_base_hash(hb, hp, hm, n, k);
    if ((err = save(msg, dir, "constants.json", constants_json(g))))
        goto out;
    if (!(mp = path2(dir, "manifest.json"))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = dt_write_file_atomic(mp, manifest, len, 0644))) {
        err = failmsg(msg, err, "%s: cannot write", mp);
        goto out;
    }
    json_t *cfg = json_pack("{s:s, s:i, s:i, s:o, s:o, s:o, s:b, s:o, s:{s:s}}", "config_version", "2.1.0",
                            "number_of_guardians", (json_int_t)n, "quorum", (json_int_t)k, "parameter_base_hash",
                            dt_jb64(hp, 32), "manifest_hash", dt_jb64(hm, 32), "election_base_hash", dt_jb64(hb, 32),
                            "chain_confirmation_codes", chain, "baux0", dt_jb64(baux0, baux0len), "metadata",
                            "Created by", "detente");
    err = save(msg, dir, "election_config.json", cfg);
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
        err = failmsg(msg, DT_ERR_INVALID, "%zu guardians' commitments given, the election has %u guardians", n,
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
            failmsg(msg, err, "guardian commitments #%zu: %s", t + 1, cmsg ? cmsg : dt_strerror(err));
            free(cmsg);
            free(Ki);
            goto out;
        }
        if (i < 1 || i > n || !json_is_null(json_array_get(guardians, i - 1))) {
            err = failmsg(msg, DT_ERR_INVALID, "guardian %s: index %u is out of 1..%zu or given twice", id, i, n);
            free(id);
            free(Ki);
            goto out;
        }
        if (dt_commitments_verify_var(rec->group, rec->hp, i, Ki, c, v, k, &bad) != DT_OK) {
            err = failmsg(msg, DT_ERR_PROOF, "guardian %s: the Schnorr proof of coefficient %zu does not verify", id,
                          bad);
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
    err = save(msg, dir, "election_initialized.json", init);
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

static long mcontest_index(const dt_rec_manifest *m, const char *id)
{
    for (size_t i = 0; i < m->ncontests; i++)
        if (strcmp(m->contests[i].id, id) == 0)
            return (long)i;
    return -1;
}

dt_err dt_election_tally(char **msg, const char *dir)
{
    dt_record *rec = NULL;
    dt_err err;
    const dt_group *g;
    dt_elem *A = NULL, *B = NULL;
    size_t *off = NULL, nopts = 0, *count = NULL;
    json_t *contests = NULL, *cast = NULL;

    if (msg)
        *msg = NULL;
    if ((err = dt_record_load(&rec, msg, dir)))
        return err;
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
    A = calloc(nopts + 1, sizeof *A);
    B = calloc(nopts + 1, sizeof *B);
    count = calloc(m->ncontests + 1, sizeof *count);
    contests = json_array();
    cast = json_array();
    if (!A || !B || !count || !contests || !cast) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t o = 0; o < nopts; o++) {
        dt_elem_identity(g, &A[o]);
        dt_elem_identity(g, &B[o]);
    }
    for (size_t b = 0; b < rec->nballots; b++) {
        const dt_rec_ballot *bal = &rec->ballots[b];
        if (bal->state != DT_BALLOT_CAST)
            continue;
        json_array_append_new(cast, json_string(bal->id));
        for (size_t c = 0; c < bal->ncontests; c++) {
            const dt_rec_bcontest *bc = &bal->contests[c];
            long mi = mcontest_index(m, bc->id);
            if (mi < 0 || bc->nsel != m->contests[mi].noptions) {
                err = failmsg(msg, DT_ERR_INVALID, "%s: contest %s does not match the manifest", bal->file, bc->id);
                goto out;
            }
            count[mi]++;
            for (size_t s = 0; s < bc->nsel; s++) {
                dt_elem al, be;
                if (dt_elem_decode(g, &al, bc->sel[s].ct.pad, rec->elem_bytes) != DT_OK ||
                    dt_elem_decode(g, &be, bc->sel[s].ct.data, rec->elem_bytes) != DT_OK) {
                    err = failmsg(msg, DT_ERR_NOT_IN_GROUP, "%s: contest %s, selection %s: not a group element",
                                  bal->file, bc->id, bc->sel[s].id);
                    goto out;
                }
                dt_elem_mul(g, &A[off[mi] + s], &A[off[mi] + s], &al);
                dt_elem_mul(g, &B[off[mi] + s], &B[off[mi] + s], &be);
            }
        }
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
    err = save(msg, dir, "encrypted_tally.json", et);
out:
    json_decref(contests);
    json_decref(cast);
    free(A);
    free(B);
    free(off);
    free(count);
    dt_record_destroy(rec);
    return err;
}

/* ---- decryption ---- */

typedef struct dctx {
    const dt_record *rec;
    const dt_group *g;
    dt_elem K;
    const dt_trustee *U;
    size_t nU;
    uint32_t *xs;
    dt_scalar *w;
    dt_elem *gP;   /* g^P(i) per trustee */
    char **msg;
    size_t done, total;
    void (*progress)(void *, size_t, size_t);
    void *parg;
} dctx;

/* Decrypts one component A (B given: a selection; B NULL: contest data,
 * whose challenge is the 0x31 form). Writes M, c, v. */
static dt_err joint_decrypt(dctx *d, dt_elem *M, dt_scalar *c, dt_scalar *v, const dt_elem *A, const dt_elem *B,
                            const dt_rec_data *cd)
{
    const dt_group *g = d->g;
    size_t nU = d->nU;
    dt_elem *Mi = calloc(nU, sizeof *Mi), *ai = calloc(nU, sizeof *ai), *bi = calloc(nU, sizeof *bi), a, b;
    dt_scalar *ui = calloc(nU, sizeof *ui), vi;
    unsigned char h[32];
    dt_err err = DT_OK;

    if (!Mi || !ai || !bi || !ui) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t t = 0; t < nU; t++)
        if ((err = dt_dshare_commit(g, &Mi[t], &ai[t], &bi[t], &ui[t], A, &d->U[t].P)))
            goto out;
    dt_dshare_combine(g, M, &a, &b, Mi, ai, bi, d->w, nU);
    if (B) {
        dt_decryption_challenge(g, h, d->rec->he, &d->K, A, B, &a, &b, M);
    } else {
        dt_elem C0;
        if ((err = dt_elem_decode(g, &C0, cd->c0, d->rec->elem_bytes)))
            goto out;
        dt_contest_data_challenge(g, h, d->rec->he, &d->K, &C0, cd->c1.p, cd->c1.n, cd->c2, &a, &b, M);
    }
    dt_scalar_reduce(g, c, h, 32);
    dt_scalar_from_u64(g, v, 0);
    for (size_t t = 0; t < nU; t++) {
        dt_dshare_respond(g, &vi, &ui[t], c, &d->w[t], &d->U[t].P);
        if (dt_dshare_verify_var(g, &d->gP[t], A, &Mi[t], &ai[t], &bi[t], c, &d->w[t], &vi) != DT_OK) {
            err = failmsg(d->msg, DT_ERR_PROOF,
                          "guardian %u's decryption share does not match its public key share (eqs. 74, 75)",
                          d->U[t].x);
            goto out;
        }
        dt_scalar_add(g, v, v, &vi);
    }
out:
    if (ui)
        dt_memzero(ui, nU * sizeof *ui);
    free(Mi);
    free(ai);
    free(bi);
    free(ui);
    if (d->progress && err == DT_OK)
        d->progress(d->parg, ++d->done, d->total);
    return err;
}

/* One decrypted selection in the record's layout. */
static dt_err decrypt_selection(dctx *d, json_t **out, const char *sel_id, const unsigned char *pad,
                                const unsigned char *data, uint64_t max)
{
    const dt_group *g = d->g;
    dt_elem A, B, M, T;
    dt_scalar c, v;
    uint64_t t;
    dt_err err;
    if (dt_elem_decode(g, &A, pad, d->rec->elem_bytes) != DT_OK ||
        dt_elem_decode(g, &B, data, d->rec->elem_bytes) != DT_OK)
        return failmsg(d->msg, DT_ERR_NOT_IN_GROUP, "selection %s: ciphertext is not in the group", sel_id);
    if ((err = joint_decrypt(d, &M, &c, &v, &A, &B, NULL)))
        return err;
    dt_elem_div(g, &T, &B, &M);
    if (dt_elem_dlog_var(g, &t, &d->K, &T, max) != DT_OK)
        return failmsg(d->msg, DT_ERR_NOT_FOUND, "selection %s: the decrypted value is not in 0..%llu", sel_id,
                       (unsigned long long)max);
    *out = json_pack("{s:s, s:I, s:o, s:o, s:o}", "selection_id", sel_id, "tally", (json_int_t)t, "b_over_m",
                     dt_jelem(g, &T), "encrypted_vote", dt_jciphertext(g, &A, &B), "proof", dt_jproof(g, &c, &v));
    return *out ? DT_OK : DT_ERR_NOMEM;
}

static json_t *contest_data_json(const unsigned char *plain, size_t n, char **msg, const char *where)
{
    char status[64];
    uint32_t *over = NULL;
    size_t nover = 0, nwi = 0;
    if (dt_contest_data_parse(plain, n, status, sizeof status, &over, &nover, &nwi) != DT_OK) {
        failmsg(msg, DT_ERR_ENCODING, "%s: the contest data does not parse", where);
        return NULL;
    }
    json_t *ov = json_array(), *wi = json_array();
    for (size_t i = 0; i < nover; i++)
        json_array_append_new(ov, json_integer(over[i]));
    free(over);
    /* write-in texts: re-parse to collect them */
    {
        size_t pos = 0;
        uint64_t cnt, len;
#define VARINT(x)                                                                                        \
    do {                                                                                                 \
        unsigned sh = 0;                                                                                 \
        (x) = 0;                                                                                         \
        for (;;) {                                                                                       \
            unsigned char byte = plain[pos++];                                                           \
            (x) |= (uint64_t)(byte & 0x7f) << sh;                                                        \
            sh += 7;                                                                                     \
            if (!(byte & 0x80))                                                                          \
                break;                                                                                   \
        }                                                                                                \
    } while (0)
        VARINT(cnt);
        for (uint64_t i = 0; i < cnt; i++) {
            uint64_t x;
            VARINT(x);
            (void)x;
        }
        VARINT(cnt);
        for (uint64_t i = 0; i < cnt; i++) {
            VARINT(len);
            json_array_append_new(wi, json_stringn((const char *)plain + pos, (size_t)len));
            pos += (size_t)len;
        }
#undef VARINT
    }
    return json_pack("{s:o, s:o, s:s}", "over_votes", ov, "write_ins", wi, "status", status);
}

static dt_err decrypt_challenged(dctx *d, const dt_rec_ballot *b, const char *dir)
{
    const dt_group *g = d->g;
    json_t *contests = json_array();
    dt_err err = DT_OK;
    char *rel = NULL;
    if (!contests)
        return DT_ERR_NOMEM;
    for (size_t c = 0; c < b->ncontests; c++) {
        const dt_rec_bcontest *bc = &b->contests[c];
        long mi = mcontest_index(&d->rec->manifest, bc->id);
        json_t *sels = json_array(), *jc;
        if (mi < 0) {
            json_decref(sels);
            err = failmsg(d->msg, DT_ERR_INVALID, "%s: contest %s is not in the manifest", b->file, bc->id);
            goto out;
        }
        for (size_t s = 0; s < bc->nsel; s++) {
            json_t *js = NULL;
            if ((err = decrypt_selection(d, &js, bc->sel[s].id, bc->sel[s].ct.pad, bc->sel[s].ct.data,
                                         d->rec->manifest.contests[mi].option_limit))) {
                json_decref(sels);
                goto out;
            }
            json_array_append_new(sels, js);
        }
        jc = json_pack("{s:s, s:o, s:i}", "contest_id", bc->id, "selections", sels, "ballot_count", 1);
        if (bc->has_data) {
            dt_elem C0, beta;
            dt_scalar cc, vv;
            unsigned char *plain = malloc(bc->data.num_bytes + 1);
            if (!plain || dt_elem_decode(g, &C0, bc->data.c0, d->rec->elem_bytes) != DT_OK) {
                free(plain);
                json_decref(jc);
                err = failmsg(d->msg, DT_ERR_NOT_IN_GROUP, "%s: contest %s: contest data C0 is not in the group",
                              b->file, bc->id);
                goto out;
            }
            if ((err = joint_decrypt(d, &beta, &cc, &vv, &C0, NULL, &bc->data))) {
                free(plain);
                json_decref(jc);
                goto out;
            }
            if (dt_contest_data_open(g, plain, d->rec->he, &d->K, &C0, &beta, bc->id, bc->data.c1.p, bc->data.c1.n,
                                     bc->data.c2, bc->data.num_bytes) != DT_OK) {
                free(plain);
                json_decref(jc);
                err = failmsg(d->msg, DT_ERR_PROOF, "%s: contest %s: the contest data does not decrypt", b->file,
                              bc->id);
                goto out;
            }
            json_t *cdj = contest_data_json(plain, bc->data.num_bytes, d->msg, b->file);
            free(plain);
            if (!cdj) {
                json_decref(jc);
                err = DT_ERR_ENCODING;
                goto out;
            }
            json_t *ecd = json_pack("{s:o, s:o, s:o, s:i}", "c0", dt_jb64(bc->data.c0, d->rec->elem_bytes), "c1",
                                    dt_jb64(bc->data.c1.p, bc->data.c1.n), "c2", dt_jb64(bc->data.c2, 32),
                                    "numBytes", (json_int_t)bc->data.num_bytes);
            json_object_set_new(jc, "decrypted_contest_data",
                                json_pack("{s:o, s:o, s:o, s:o}", "contest_data", cdj, "encrypted_contest_data", ecd,
                                          "proof", dt_jproof(g, &cc, &vv), "beta", dt_jelem(g, &beta)));
        }
        json_array_append_new(contests, jc);
    }
    {
        json_t *jb = json_pack("{s:s, s:O, s:o}", "id", b->id, "contests", contests, "election_id",
                               dt_jb64(d->rec->he, 32));
        rel = dt_strdup_printf("challenged_ballots/dballot-%s.json", b->id);
        if (!rel) {
            json_decref(jb);
            err = DT_ERR_NOMEM;
            goto out;
        }
        err = save(d->msg, dir, rel, jb);
    }
out:
    free(rel);
    json_decref(contests);
    return err;
}

dt_err dt_election_decrypt(char **msg, const char *dir, const dt_trustee *U, size_t nU,
                           void (*progress)(void *arg, size_t done, size_t total), void *progress_arg)
{
    dt_record *rec = NULL;
    dctx d;
    dt_err err;
    dt_elem *K_all = NULL;
    json_t *contests = NULL;
    char *cdir = NULL;

    if (msg)
        *msg = NULL;
    memset(&d, 0, sizeof d);
    if ((err = dt_record_load(&rec, msg, dir)))
        return err;
    if (!rec->has_etally) {
        err = failmsg(msg, DT_ERR_INVALID, "%s: no encrypted_tally.json: tally the ballots first", dir);
        goto out;
    }
    if (nU < rec->k) {
        err = failmsg(msg, DT_ERR_INVALID,
                      "decryption needs at least %u of the %u guardians (the quorum); %zu are present", rec->k,
                      rec->n, nU);
        goto out;
    }
    d.rec = rec;
    d.g = rec->group;
    d.U = U;
    d.nU = nU;
    d.msg = msg;
    d.progress = progress;
    d.parg = progress_arg;
    if (dt_elem_decode(d.g, &d.K, rec->K, rec->elem_bytes) != DT_OK) {
        err = failmsg(msg, DT_ERR_NOT_IN_GROUP, "election_initialized.json: joint_public_key is not in the group");
        goto out;
    }
    d.xs = calloc(nU, sizeof *d.xs);
    d.w = calloc(nU, sizeof *d.w);
    d.gP = calloc(nU, sizeof *d.gP);
    K_all = calloc((size_t)rec->n * rec->k, sizeof *K_all);
    if (!d.xs || !d.w || !d.gP || !K_all) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t t = 0; t < nU; t++)
        d.xs[t] = U[t].x;
    if (rec->nguardians != rec->n) {
        err = failmsg(msg, DT_ERR_INVALID, "election_initialized.json: %zu guardians, the election has %u",
                      rec->nguardians, rec->n);
        goto out;
    }
    for (size_t i = 0; i < rec->nguardians; i++) {
        const dt_rec_guardian *gd = &rec->guardians[i];
        if (gd->x < 1 || gd->x > rec->n || gd->ncoef != rec->k) {
            err = failmsg(msg, DT_ERR_INVALID, "election_initialized.json: guardian %s is malformed", gd->id);
            goto out;
        }
        for (size_t j = 0; j < gd->ncoef; j++)
            if (dt_elem_decode(d.g, &K_all[(gd->x - 1) * rec->k + j], gd->coef[j].K, rec->elem_bytes) != DT_OK) {
                err = failmsg(msg, DT_ERR_NOT_IN_GROUP, "election_initialized.json: guardian %s: commitment %zu is "
                                                        "not in the group", gd->id, j);
                goto out;
            }
    }
    for (size_t t = 0; t < nU; t++) {
        if (U[t].x < 1 || U[t].x > rec->n) {
            err = failmsg(msg, DT_ERR_INVALID, "guardian index %u is not in 1..%u", U[t].x, rec->n);
            goto out;
        }
        if ((err = dt_lagrange_coefficient(d.g, &d.w[t], U[t].x, d.xs, nU))) {
            err = failmsg(msg, err, "the guardians present must have distinct indices");
            goto out;
        }
        dt_ceremony_public_share_var(d.g, &d.gP[t], U[t].x, K_all, rec->n, rec->k);
    }
    /* work to do: tally selections, challenged selections and contest data */
    for (size_t i = 0; i < rec->etally.ncontests; i++)
        d.total += rec->etally.contests[i].nsel;
    for (size_t b = 0; b < rec->nballots; b++)
        if (rec->ballots[b].state == DT_BALLOT_CHALLENGED)
            for (size_t c = 0; c < rec->ballots[b].ncontests; c++)
                d.total += rec->ballots[b].contests[c].nsel + rec->ballots[b].contests[c].has_data;

    contests = json_array();
    if (!contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rec->etally.ncontests; i++) {
        const dt_rec_econtest *ec = &rec->etally.contests[i];
        long mi = mcontest_index(&rec->manifest, ec->id);
        uint64_t R = mi >= 0 ? rec->manifest.contests[mi].option_limit : DT_LIMIT_VOTES;
        json_t *sels = json_array();
        for (size_t s = 0; s < ec->nsel; s++) {
            json_t *js = NULL;
            if ((err = decrypt_selection(&d, &js, ec->sel[s].id, ec->sel[s].ct.pad, ec->sel[s].ct.data,
                                         (uint64_t)rec->etally.ncast * R))) {
                json_decref(sels);
                goto out;
            }
            json_array_append_new(sels, js);
        }
        json_array_append_new(contests, json_pack("{s:s, s:o, s:i}", "contest_id", ec->id, "selections", sels,
                                                  "ballot_count", 0));
    }
    if ((err = save(msg, dir, "tally.json",
                    json_pack("{s:s, s:O, s:o}", "id", "detente", "contests", contests, "election_id",
                              dt_jb64(rec->he, 32)))))
        goto out;
    if (!(cdir = path2(dir, "challenged_ballots")) || dt_mkdirs(cdir) != DT_OK) {
        err = failmsg(msg, DT_ERR_IO, "%s/challenged_ballots: cannot create the folder", dir);
        goto out;
    }
    for (size_t b = 0; b < rec->nballots; b++)
        if (rec->ballots[b].state == DT_BALLOT_CHALLENGED && (err = decrypt_challenged(&d, &rec->ballots[b], dir)))
            goto out;
out:
    free(cdir);
    json_decref(contests);
    free(K_all);
    free(d.xs);
    free(d.w);
    free(d.gP);
    dt_record_destroy(rec);
    return err;
}
