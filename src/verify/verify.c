/* The verifier: ElectionGuard 2.0 verification steps 1-18 over a record.
 * Ballots (steps 5-7 and aggregation) and decryptions (steps 9-14) are
 * checked in parallel by a pool of threads; failures are merged in record
 * order so that the report is deterministic.
 *
 * In two parts (verify.h): the per-ballot steps make a partial result
 * (dt_verify_ballots_partial), which the global steps finish
 * (dt_verify_finish); dt_verify is the one followed by the other. The
 * global steps look ballots up through sorted indexes of their metadata,
 * so that they cost O(n log n) in the number of ballots. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmp.h>

#include <detente/election.h>
#include <detente/proof.h>
#include <detente/tally.h>
#include <detente/verify.h>

#include "record/record.h"
#include "util/codec.h"
#include "verify/verify_impl.h"

static const char *const step_names[DT_VERIFY_STEPS + 1] = {
    NULL,
    "Parameter validation",
    "Guardian public-key validation",
    "Election public-key validation",
    "Extended base hash validation",
    "Well-formedness of selection encryptions",
    "Adherence to vote limits",
    "Validation of confirmation codes",
    "Correctness of ballot aggregation",
    "Correctness of tally decryptions",
    "Validation of correct decryption of tallies",
    "Correctness of decryptions of contest data",
    "Correctness of decryptions for challenged ballots",
    "Validation of correct decryption of challenged ballots",
    "Correctness of contest data decryptions for challenged ballots",
    "Well-formedness of selection encryptions in pre-encrypted ballots",
    "Adherence to vote limits in pre-encrypted ballots",
    "Validation of confirmation codes in pre-encrypted ballots",
    "Validation of short codes in pre-encrypted ballots",
};

typedef struct flist {
    size_t n;
    size_t nstored;
    char *msg[DT_VERIFY_MAX_MESSAGES];
} flist;

typedef struct vstep {
    size_t checked;
    flist f;
    char *note; /* set: not applicable */
} vstep;

struct dt_verify_report {
    vstep s[DT_VERIFY_STEPS + 1];
};

/* failures of one work item (a ballot, a decryption); a ballot's 10.E
 * failures go to f[DT_VP_LATE10] */
typedef struct item {
    flist f[DT_VP_SLOTS];
    size_t checked[DT_VP_SLOTS];
} item;

static void flist_vadd(flist *f, const char *fmt, va_list ap)
{
    f->n++;
    if (f->nstored < DT_VERIFY_MAX_MESSAGES) {
        char buf[1024];
        vsnprintf(buf, sizeof buf, fmt, ap);
        char *s = strdup(buf);
        if (s)
            f->msg[f->nstored++] = s;
    }
}

static void flist_add(flist *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flist_add(flist *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flist_vadd(f, fmt, ap);
    va_end(ap);
}

static void flist_merge(flist *dst, flist *src)
{
    for (size_t i = 0; i < src->nstored; i++) {
        if (dst->nstored < DT_VERIFY_MAX_MESSAGES)
            dst->msg[dst->nstored++] = src->msg[i];
        else
            free(src->msg[i]);
    }
    dst->n += src->n;
    memset(src, 0, sizeof *src);
}

/* Appends a message already counted (the count came in a sum): kept if
 * there is room, freed otherwise. */
static void flist_take(flist *f, char *msg)
{
    if (f->nstored < DT_VERIFY_MAX_MESSAGES)
        f->msg[f->nstored++] = msg;
    else
        free(msg);
}

static void flist_free(flist *f)
{
    for (size_t i = 0; i < f->nstored; i++)
        free(f->msg[i]);
    memset(f, 0, sizeof *f);
}

static void item_merge(dt_verify_report *rep, item *it)
{
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        flist_merge(&rep->s[s].f, &it->f[s]);
        rep->s[s].checked += it->checked[s];
        it->checked[s] = 0;
    }
}

#define FAIL(it, stepno, ...) flist_add(&(it)->f[stepno], __VA_ARGS__)

/* ---- verification context ---- */

typedef struct vctx {
    const dt_record *rec;
    const dt_group *g;
    size_t eb;
    dt_elem K;
    bool K_ok;
    const unsigned char *he; /* the record's H_E: every ballot hash is keyed by it */
    /* manifest lookups */
    size_t *opt_offset;      /* first global option index of each manifest contest */
    size_t nopts;
    /* work distribution */
    atomic_size_t next;
    atomic_size_t done;
    size_t chunk;            /* ballots per batch */
    size_t base;             /* work done before this part (dt_verify: the ballots before the finish) */
    size_t total_work;
    const dt_verify_opts *opts;
    pthread_mutex_t progress_lock;
    /* the global steps: the ballots' metadata, and its index by ballot id */
    const dt_verify_partial *p;
    struct vindex *ids;
} vctx;

static void progress_tick(vctx *v)
{
    size_t d = v->base + atomic_fetch_add(&v->done, 1) + 1;
    if (v->opts && v->opts->progress) {
        pthread_mutex_lock(&v->progress_lock);
        v->opts->progress(v->opts->progress_arg, d, v->total_work);
        pthread_mutex_unlock(&v->progress_lock);
    }
}

static long find_mcontest(const dt_record *rec, const char *id)
{
    for (size_t i = 0; i < rec->manifest.ncontests; i++)
        if (strcmp(rec->manifest.contests[i].id, id) == 0)
            return (long)i;
    return -1;
}

static long find_moption(const dt_rec_mcontest *mc, const char *id)
{
    for (size_t i = 0; i < mc->noptions; i++)
        if (strcmp(mc->options[i].id, id) == 0)
            return (long)i;
    return -1;
}

static const dt_rec_style *find_style(const dt_record *rec, const char *id)
{
    for (size_t i = 0; i < rec->manifest.nstyles; i++)
        if (strcmp(rec->manifest.styles[i].id, id) == 0)
            return &rec->manifest.styles[i];
    return NULL;
}

static bool style_has_district(const dt_rec_style *st, const char *district)
{
    for (size_t i = 0; i < st->ngpu; i++)
        if (strcmp(st->gpu[i], district) == 0)
            return true;
    return false;
}

/* Compares two big-endian integers of any lengths. */
static bool bigint_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    while (an && !*a) {
        a++;
        an--;
    }
    while (bn && !*b) {
        b++;
        bn--;
    }
    return an == bn && memcmp(a, b, an) == 0;
}

/* Decodes a proof's (c_j, v_j): challenges reduced mod q, responses must be < q. */
static bool decode_cv(const dt_group *g, dt_scalar *c, dt_scalar *v, const dt_rec_hash *rc,
                      const dt_rec_hash *rv, size_t n, size_t *bad)
{
    for (size_t j = 0; j < n; j++) {
        dt_scalar_reduce(g, &c[j], rc[j], 32);
        if (dt_scalar_decode(g, &v[j], rv[j], 32) != DT_OK) {
            *bad = j;
            return false;
        }
    }
    return true;
}

/* ---- indexes over the ballots' metadata, for the global steps ---- */

/* A key: a string, then 32 bytes (each compared when both keys have it),
 * then the position, so that equal keys keep record order. */
typedef struct vkey {
    const char *s;
    const unsigned char *h;
    size_t pos;
} vkey;

static int vkey_cmp_nopos(const vkey *x, const vkey *y)
{
    int c = 0;
    if (x->s && y->s)
        c = strcmp(x->s, y->s);
    if (c == 0 && x->h && y->h)
        c = memcmp(x->h, y->h, 32);
    return c;
}

static int vkey_cmp(const void *a, const void *b)
{
    const vkey *x = a, *y = b;
    int c = vkey_cmp_nopos(x, y);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The keys sorted; at[pos]: where position pos is among them (SIZE_MAX if
 * it has no key); gstart[j]: the first key equal to key j. */
typedef struct vindex {
    size_t n, npos;
    vkey *k;
    size_t *at, *gstart;
} vindex;

static void vindex_free(vindex *ix)
{
    free(ix->k);
    free(ix->at);
    free(ix->gstart);
    memset(ix, 0, sizeof *ix);
}

/* Takes keys (n of them, malloc'ed, positions below npos; NULL: out of
 * memory). False if out of memory (keys freed). */
static bool vindex_build(vindex *ix, vkey *keys, size_t n, size_t npos)
{
    memset(ix, 0, sizeof *ix);
    ix->k = keys;
    ix->n = n;
    ix->npos = npos;
    ix->at = malloc((npos ? npos : 1) * sizeof *ix->at);
    ix->gstart = malloc((n ? n : 1) * sizeof *ix->gstart);
    if (!keys || !ix->at || !ix->gstart) {
        vindex_free(ix);
        return false;
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, vkey_cmp);
    for (size_t i = 0; i < npos; i++)
        ix->at[i] = SIZE_MAX;
    for (size_t j = 0; j < n; j++) {
        ix->at[keys[j].pos] = j;
        ix->gstart[j] = j > 0 && vkey_cmp_nopos(&keys[j - 1], &keys[j]) == 0 ? ix->gstart[j - 1] : j;
    }
    return true;
}

/* The first key (in record order) equal to q, q.pos ignored; SIZE_MAX if none. */
static size_t vindex_find(const vindex *ix, const vkey *q)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vkey_cmp_nopos(&ix->k[mid], q) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && vkey_cmp_nopos(&ix->k[lo], q) == 0 ? lo : SIZE_MAX;
}

/* The keys before position pos that equal its own: k[*lo .. *hi), in record order. */
static void vindex_earlier(const vindex *ix, size_t pos, size_t *lo, size_t *hi)
{
    size_t j = pos < ix->npos ? ix->at[pos] : SIZE_MAX;
    *lo = *hi = 0;
    if (j != SIZE_MAX) {
        *lo = ix->gstart[j];
        *hi = j;
    }
}

/* The first ballot (in record order) with this id, or NULL. */
static const dt_vp_ballot *find_meta(const vctx *v, const char *id)
{
    vkey q = {id, NULL, 0};
    size_t j = vindex_find(v->ids, &q);
    return j == SIZE_MAX ? NULL : &v->p->ballots[v->ids->k[j].pos];
}

/* The encrypted ballot of metadata m in the record being finished: the one
 * it was verified from if that is this record's, else found by file (the
 * record's ballots are in file order); NULL if the record lacks it. */
static const dt_rec_ballot *ballot_of(const vctx *v, const dt_vp_ballot *m)
{
    const dt_record *rec = v->rec;
    uintptr_t b = (uintptr_t)m->b, lo = (uintptr_t)rec->ballots, hi = (uintptr_t)(rec->ballots + rec->nballots);
    size_t l = 0, h = rec->nballots;
    /* a pointer into this record's ballots (and not one left from a record
     * freed since, whose memory this one may reuse) */
    if (m->b && b >= lo && b < hi && strcmp(m->b->file, m->file) == 0)
        return m->b;
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        int c = strcmp(rec->ballots[mid].file, m->file);
        if (c == 0)
            return &rec->ballots[mid];
        if (c < 0)
            l = mid + 1;
        else
            h = mid;
    }
    return NULL;
}

/* ---- step 1 ---- */

static void step1(vctx *v, dt_verify_report *rep)
{
    const dt_record *rec = v->rec;
    const dt_group *g = v->g;
    flist *f = &rep->s[1].f;
    unsigned char hp[32], hm[32], hb[32], q[32];

    rep->s[1].checked = 1;
    if (strcmp(rec->protocol_version, DT_SPEC_VERSION) != 0)
        flist_add(f, "1.A constants.json: protocolVersion \"%s\" is not \"%s\"", rec->protocol_version,
                  DT_SPEC_VERSION);
    if (strcmp(rec->manifest.spec_version, DT_SPEC_VERSION) != 0)
        flist_add(f, "1.A manifest.json: spec_version \"%s\" is not \"%s\"", rec->manifest.spec_version,
                  DT_SPEC_VERSION);
    dt_group_order(g, q);
    if (dt_group_kind(g) == DT_GROUP_INTEGER4096) {
        unsigned char p[DT_ELEM_MAX_BYTES], gen[DT_ELEM_MAX_BYTES];
        size_t eb = v->eb;
        (void)dt_group_integer_params(g, p, gen, eb);
        if (!bigint_eq(rec->p.p, rec->p.n, p, eb))
            flist_add(f, "1.B constants.json: largePrime is not the ElectionGuard 2.0 p");
        if (!bigint_eq(rec->q.p, rec->q.n, q, 32))
            flist_add(f, "1.C constants.json: smallPrime is not q = 2^256 - 189");
        /* r = (p - 1) / q */
        mpz_t zp, zq, zr;
        unsigned char *rb;
        size_t rn;
        mpz_inits(zp, zq, zr, NULL);
        mpz_import(zp, eb, 1, 1, 1, 0, p);
        mpz_import(zq, 32, 1, 1, 1, 0, q);
        mpz_sub_ui(zp, zp, 1);
        mpz_divexact(zr, zp, zq);
        rb = mpz_export(NULL, &rn, 1, 1, 1, 0, zr);
        if (!rb || !bigint_eq(rec->r.p, rec->r.n, rb, rn))
            flist_add(f, "1.D constants.json: cofactor is not r = (p - 1) / q");
        free(rb);
        mpz_clears(zp, zq, zr, NULL);
        if (!bigint_eq(rec->g.p, rec->g.n, gen, eb))
            flist_add(f, "1.E constants.json: generator is not the ElectionGuard 2.0 g");
    } else {
        unsigned char gen[32];
        dt_elem ge;
        dt_elem_generator(g, &ge);
        dt_elem_encode(g, gen, &ge);
        if (!bigint_eq(rec->q.p, rec->q.n, q, 32))
            flist_add(f, "1.C constants.json: order is not the order of ristretto255");
        if (rec->g.n != 32 || memcmp(rec->g.p, gen, 32) != 0)
            flist_add(f, "1.E constants.json: generator is not the ristretto255 base point");
    }
    {
        char *mmsg = NULL;
        if (dt_manifest_validate(&rec->manifest, &mmsg) != DT_OK)
            flist_add(f, "1.G %s", mmsg ? mmsg : "manifest.json: inconsistent");
        free(mmsg);
    }
    dt_parameter_base_hash(g, hp);
    if (memcmp(hp, rec->hp, 32) != 0)
        flist_add(f, "1.F election_config.json: parameter_base_hash does not equal H(ver; 0x00, p, q, g)");
    dt_manifest_hash(hm, hp, rec->manifest.bytes, rec->manifest.len);
    if (memcmp(hm, rec->hm, 32) != 0)
        flist_add(f, "1.G election_config.json: manifest_hash does not equal H(H_P; 0x01, manifest.json)");
    if (rec->k < 1 || rec->k > rec->n)
        flist_add(f, "1.H election_config.json: quorum %u is not in 1..number_of_guardians (%u)", rec->k,
                  rec->n);
    dt_election_base_hash(hb, rec->hp, rec->hm, rec->n, rec->k);
    if (memcmp(hb, rec->hb, 32) != 0)
        flist_add(f, "1.H election_config.json: election_base_hash does not equal H(H_P; 0x02, H_M, n, k)");
}

/* ---- steps 2 and 3 ---- */

static void step2_3(vctx *v, dt_verify_report *rep)
{
    const dt_record *rec = v->rec;
    const dt_group *g = v->g;
    flist *f2 = &rep->s[2].f, *f3 = &rep->s[3].f;
    dt_elem prod, Ki;
    bool prod_ok = true;

    dt_elem_identity(g, &prod);
    if (rec->nguardians != rec->n)
        flist_add(f2, "election_initialized.json: %zu guardians, but number_of_guardians is %u",
                  rec->nguardians, rec->n);
    for (size_t i = 0; i < rec->nguardians; i++) {
        const dt_rec_guardian *gd = &rec->guardians[i];
        if (gd->x < 1 || gd->x > rec->n)
            flist_add(f2, "election_initialized.json: guardian %s: x_coordinate %u is not in 1..%u", gd->id,
                      gd->x, rec->n);
        for (size_t k = 0; k < i; k++)
            if (rec->guardians[k].x == gd->x || strcmp(rec->guardians[k].id, gd->id) == 0)
                flist_add(f2, "election_initialized.json: guardians %s and %s share an id or x_coordinate",
                          rec->guardians[k].id, gd->id);
        if (gd->ncoef != rec->k)
            flist_add(f2, "election_initialized.json: guardian %s has %zu coefficient commitments, quorum is %u",
                      gd->id, gd->ncoef, rec->k);
        for (size_t j = 0; j < gd->ncoef; j++) {
            dt_elem Kij;
            dt_scalar c, vv;
            rep->s[2].checked++;
            if (dt_elem_decode(g, &Kij, gd->coef[j].K, v->eb) != DT_OK) {
                flist_add(f2, "2.A election_initialized.json: guardian %s coefficient %zu: K_i,j is not in the group",
                          gd->id, j);
                if (j == 0) {
                    flist_add(f3, "3.A election_initialized.json: guardian %s: K_i is not in the group", gd->id);
                    prod_ok = false;
                }
                continue;
            }
            if (dt_scalar_decode(g, &vv, gd->coef[j].v, 32) != DT_OK) {
                flist_add(f2, "2.B election_initialized.json: guardian %s coefficient %zu: response is not below q",
                          gd->id, j);
                continue;
            }
            dt_scalar_reduce(g, &c, gd->coef[j].c, 32);
            if (dt_schnorr_verify_var(g, rec->hp, gd->x, (uint32_t)j, &Kij, &c, &vv) != DT_OK)
                flist_add(f2, "2.C election_initialized.json: guardian %s coefficient %zu: Schnorr challenge does not match",
                          gd->id, j);
            if (j == 0) {
                Ki = Kij;
                rep->s[3].checked++;
                if (dt_elem_is_identity(g, &Ki))
                    flist_add(f3, "3.A election_initialized.json: guardian %s: K_i is the identity", gd->id);
                dt_elem_mul(g, &prod, &prod, &Ki);
            }
        }
        if (gd->ncoef == 0) {
            flist_add(f3, "3.A election_initialized.json: guardian %s has no public key", gd->id);
            prod_ok = false;
        }
    }
    rep->s[3].checked++;
    if (!v->K_ok) {
        flist_add(f3, "3.B election_initialized.json: joint_public_key is not in the group");
    } else {
        if (dt_elem_is_identity(g, &v->K))
            flist_add(f3, "3.B election_initialized.json: joint_public_key is the identity");
        if (prod_ok && !dt_elem_eq(g, &prod, &v->K))
            flist_add(f3, "3.B election_initialized.json: joint_public_key is not the product of the guardians' keys");
    }
}

/* ---- step 4 ---- */

static void step4(vctx *v, dt_verify_report *rep)
{
    const dt_record *rec = v->rec;
    unsigned char he[32];
    rep->s[4].checked = 1;
    if (!v->K_ok) {
        flist_add(&rep->s[4].f, "4.A election_initialized.json: H_E cannot be checked: joint_public_key is not in the group");
        return;
    }
    dt_extended_base_hash(v->g, he, rec->hb, &v->K);
    if (memcmp(he, rec->he, 32) != 0)
        flist_add(&rep->s[4].f, "4.A election_initialized.json: extended_base_hash does not equal H(H_B; 0x12, K)");
}

/* ---- steps 5, 6, 7 per ballot, with the aggregation of step 8 ---- */

typedef struct acc {
    dt_prod *PA, *PB; /* per global option, while adding up */
    uint64_t *count;  /* cast ballots that contributed */
} acc;

/* x.D and x.E of a range proof whose commitments a and b are decoded */
static void check_range_decoded(vctx *v, item *it, int step, const char *where, const char *what,
                                const dt_elem *alpha, const dt_elem *beta, const dt_elem *a, const dt_elem *b,
                                const dt_scalar *c, const dt_scalar *vv, uint32_t R, dt_batch *bt)
{
    const dt_group *g = v->g;
    if (dt_range_check_challenge(g, v->he, &v->K, alpha, beta, a, b, c, R) != DT_OK)
        FAIL(it, step, "%d.D %s: the challenges do not sum to the hash of the %s", step, where, what);
    else if (bt) {
        if (dt_batch_add_range(bt, alpha, beta, a, b, c, vv, R) != DT_OK)
            FAIL(it, step, "%d %s: out of memory", step, where);
    } else if (dt_range_check_commitments_var(g, &v->K, alpha, beta, a, b, c, vv, R) != DT_OK)
        FAIL(it, step, "%d.E %s: the %s's commitments do not match its responses", step, where, what);
}

/* The rest of a range proof's check (step 5 for a selection, 6 for a
 * contest's limit) once its ciphertext is decoded and its responses are
 * below q. A proof with commitments (ristretto255 records carry them, the
 * integer group's do not: docs/ristretto255-profile.md) has them decoded
 * (x.A), its challenge checked over them (x.D), and their equations (x.E)
 * added to bt or, without a batch, checked here. Without commitments the
 * challenge is checked over recomputed ones (x.D), as the spec says. where
 * names the proof ("FILE: ballot B, contest C[, selection S]"). */
static void check_range(vctx *v, item *it, int step, const char *where, const char *what, const dt_rec_proof *pr,
                        const dt_elem *alpha, const dt_elem *beta, const dt_scalar *c, const dt_scalar *vv, uint32_t R,
                        dt_batch *bt, const dt_elem *pre_ab)
{
    const dt_group *g = v->g;
    dt_elem *a = NULL, *b = NULL;
    if (pr->a && pre_ab) { /* decoded with the ballot's other elements: a_0..a_n-1, b_0..b_n-1 */
        check_range_decoded(v, it, step, where, what, alpha, beta, pre_ab, pre_ab + pr->n, c, vv, R, bt);
        return;
    }
    if (!pr->a) {
        if (dt_group_kind(g) == DT_GROUP_RISTRETTO255)
            FAIL(it, step, "%d.E %s: the %s has no commitments a and b, which ristretto255 records carry", step, where,
                 what);
        else if (dt_range_verify_var(g, v->he, &v->K, alpha, beta, c, vv, R) != DT_OK)
            FAIL(it, step, "%d.D %s: the challenges do not sum to the hash of the %s", step, where, what);
        return;
    }
    a = calloc(pr->n, sizeof *a);
    b = calloc(pr->n, sizeof *b);
    if (!a || !b) {
        FAIL(it, step, "%d %s: out of memory", step, where);
        goto out;
    }
    for (size_t j = 0; j < pr->n; j++)
        if (dt_elem_decode(g, &a[j], pr->a + j * v->eb, v->eb) != DT_OK ||
            dt_elem_decode(g, &b[j], pr->b + j * v->eb, v->eb) != DT_OK) {
            FAIL(it, step, "%d.A %s: the %s's commitment a_%zu or b_%zu is not in the group", step, where, what, j, j);
            goto out;
        }
    check_range_decoded(v, it, step, where, what, alpha, beta, a, b, c, vv, R, bt);
out:
    free(a);
    free(b);
}

/* Appends pr's commitments a_0..a_n-1, b_0..b_n-1 (if it has them) to
 * in[k..], *at their start; returns the new k. */
static size_t push_commitments(const unsigned char **in, size_t k, size_t *at, const dt_rec_proof *pr, size_t eb)
{
    *at = k;
    for (size_t j = 0; pr->a && j < pr->n; j++)
        in[k++] = pr->a + j * eb;
    for (size_t j = 0; pr->a && j < pr->n; j++)
        in[k++] = pr->b + j * eb;
    return k;
}

static void verify_ballot(vctx *v, const dt_rec_ballot *b, item *it, acc *ac, dt_batch *bt)
{
    const dt_record *rec = v->rec;
    const dt_group *g = v->g;
    const dt_rec_style *st = find_style(rec, b->style);
    unsigned char (*chi)[32] = NULL;
    long prev = -1;
    dt_scalar *c = NULL, *vv = NULL;
    dt_elem *alpha = NULL, *beta = NULL, *pre = NULL;
    bool counted_ok = true, pre_ok = false;
    size_t pre_off = 0, nsel_all = 0, *ab_off = NULL;

    if (memcmp(b->election_id, rec->he, 32) != 0)
        FAIL(it, 4, "4.A %s: ballot %s: election_id is not the extended base hash", b->file, b->id);
    if (!st)
        FAIL(it, 5, "5 %s: ballot %s: ballot style %s is not in the manifest", b->file, b->id, b->style);
    if (b->preencrypt)
        for (int s = 15; s <= 18; s++)
            FAIL(it, s, "%d %s: ballot %s is pre-encrypted; this verifier does not check pre-encrypted ballots",
                 s, b->file, b->id);

    chi = calloc(b->ncontests ? b->ncontests : 1, sizeof *chi);
    if (!chi) {
        FAIL(it, 5, "out of memory");
        return;
    }
    /* every ciphertext of the ballot, then every proof's commitments, decoded
     * at once (ristretto255: eight inverse square roots at a time; the
     * integer group: a batched membership test); if any fails, one by one
     * below says which. ab_off[i] is where the commitments of selection i
     * (in ballot order), then of each contest's limit proof, start in pre. */
    {
        size_t nab = 0, k = 0, np = 0, total = 0;
        for (size_t ci = 0; ci < b->ncontests; ci++) {
            const dt_rec_bcontest *bc = &b->contests[ci];
            total += bc->nsel;
            for (size_t si = 0; si < bc->nsel; si++)
                nab += bc->sel[si].proof.a ? 2 * bc->sel[si].proof.n : 0;
            nab += bc->proof.a ? 2 * bc->proof.n : 0;
        }
        nsel_all = total;
        pre = calloc(2 * total + nab + 1, sizeof *pre);
        ab_off = calloc(total + b->ncontests + 1, sizeof *ab_off);
        const unsigned char **in = calloc(2 * total + nab + 1, sizeof *in);
        if (pre && in && ab_off) {
            for (size_t ci = 0; ci < b->ncontests; ci++)
                for (size_t si = 0; si < b->contests[ci].nsel; si++) {
                    in[k++] = b->contests[ci].sel[si].ct.pad;
                    in[k++] = b->contests[ci].sel[si].ct.data;
                }
            for (size_t ci = 0; ci < b->ncontests; ci++)
                for (size_t si = 0; si < b->contests[ci].nsel; si++)
                    k = push_commitments(in, k, &ab_off[np++], &b->contests[ci].sel[si].proof, v->eb);
            for (size_t ci = 0; ci < b->ncontests; ci++)
                k = push_commitments(in, k, &ab_off[np++], &b->contests[ci].proof, v->eb);
            pre_ok = dt_elem_decode_batch_var(g, pre, in, v->eb, k) == DT_OK;
        }
        free(in);
    }
    for (size_t ci = 0; ci < b->ncontests; pre_off += b->contests[ci].nsel, ci++) {
        const dt_rec_bcontest *bc = &b->contests[ci];
        long mi = find_mcontest(rec, bc->id);
        const dt_rec_mcontest *mc;
        bool all_ok = true;
        dt_elem abar, bbar;
        dt_prod pa, pb;

        memcpy(chi[ci], bc->hash, 32);
        if (mi < 0) {
            FAIL(it, 5, "5 %s: ballot %s: contest %s is not in the manifest", b->file, b->id, bc->id);
            counted_ok = false;
            continue;
        }
        mc = &rec->manifest.contests[mi];
        if (mi <= prev) {
            FAIL(it, 5, "5 %s: ballot %s: contest %s is repeated or out of manifest order", b->file, b->id, bc->id);
            counted_ok = false;
        }
        prev = mi;
        if (bc->seq != mc->seq)
            FAIL(it, 5, "5 %s: ballot %s: contest %s has sequence_order %u, the manifest says %u", b->file,
                 b->id, bc->id, bc->seq, mc->seq);
        if (st && !style_has_district(st, mc->district))
            FAIL(it, 5, "5 %s: ballot %s: contest %s is not on ballot style %s", b->file, b->id, bc->id, b->style);
        if (bc->nsel != mc->noptions) {
            FAIL(it, 5, "5 %s: ballot %s: contest %s has %zu selections, the manifest has %zu options", b->file,
                 b->id, bc->id, bc->nsel, mc->noptions);
            counted_ok = false;
            continue;
        }
        free(alpha);
        free(beta);
        alpha = calloc(bc->nsel ? bc->nsel : 1, sizeof *alpha);
        beta = calloc(bc->nsel ? bc->nsel : 1, sizeof *beta);
        if (!alpha || !beta) {
            FAIL(it, 5, "out of memory");
            goto out;
        }
        for (size_t si = 0; si < bc->nsel; si++) {
            const dt_rec_bsel *s = &bc->sel[si];
            const char *where_fmt = "%s %s: ballot %s, contest %s, selection %s: %s";
            size_t bad;
            it->checked[5]++;
            if (strcmp(s->id, mc->options[si].id) != 0 || s->seq != mc->options[si].seq) {
                FAIL(it, 5, where_fmt, "5", b->file, b->id, bc->id, s->id,
                     "selection does not match the manifest's option at this position");
                all_ok = false;
                continue;
            }
            if (pre_ok) {
                alpha[si] = pre[2 * (pre_off + si)];
                beta[si] = pre[2 * (pre_off + si) + 1];
            } else if (dt_elem_decode(g, &alpha[si], s->ct.pad, v->eb) != DT_OK ||
                       dt_elem_decode(g, &beta[si], s->ct.data, v->eb) != DT_OK) {
                FAIL(it, 5, where_fmt, "5.A", b->file, b->id, bc->id, s->id, "ciphertext is not in the group");
                all_ok = false;
                continue;
            }
            if (s->proof.n != (size_t)mc->option_limit + 1) {
                FAIL(it, 5, "5 %s: ballot %s, contest %s, selection %s: proof has %zu pairs, expected R + 1 = %u",
                     b->file, b->id, bc->id, s->id, s->proof.n, mc->option_limit + 1);
                continue;
            }
            free(c);
            free(vv);
            c = calloc(s->proof.n, sizeof *c);
            vv = calloc(s->proof.n, sizeof *vv);
            if (!c || !vv) {
                FAIL(it, 5, "out of memory");
                goto out;
            }
            if (!decode_cv(g, c, vv, s->proof.c, s->proof.v, s->proof.n, &bad)) {
                FAIL(it, 5, "5.C %s: ballot %s, contest %s, selection %s: response v_%zu is not below q", b->file,
                     b->id, bc->id, s->id, bad);
                continue;
            }
            if (v->K_ok) {
                char where[4 * DT_LIMIT_STRING + 64];
                snprintf(where, sizeof where, "%s: ballot %s, contest %s, selection %s", b->file, b->id, bc->id, s->id);
                check_range(v, it, 5, where, "range proof", &s->proof, &alpha[si], &beta[si], c, vv, mc->option_limit,
                            bt, pre_ok ? pre + ab_off[pre_off + si] : NULL);
            }
        }
        /* step 6: the contest's selection limit */
        it->checked[6]++;
        if (!all_ok) {
            FAIL(it, 6, "6.A %s: ballot %s, contest %s: a selection ciphertext is missing or not in the group",
                 b->file, b->id, bc->id);
            counted_ok = false;
        } else {
            size_t bad;
            dt_prod_init(g, &pa);
            dt_prod_init(g, &pb);
            for (size_t si = 0; si < bc->nsel; si++) {
                dt_prod_mul(g, &pa, &alpha[si]);
                dt_prod_mul(g, &pb, &beta[si]);
            }
            dt_prod_get(g, &abar, &pa);
            dt_prod_get(g, &bbar, &pb);
            if (bc->proof.n != (size_t)mc->votes_allowed + 1) {
                FAIL(it, 6, "6 %s: ballot %s, contest %s: proof has %zu pairs, expected L + 1 = %u", b->file,
                     b->id, bc->id, bc->proof.n, mc->votes_allowed + 1);
            } else {
                free(c);
                free(vv);
                c = calloc(bc->proof.n, sizeof *c);
                vv = calloc(bc->proof.n, sizeof *vv);
                if (!c || !vv) {
                    FAIL(it, 6, "out of memory");
                    goto out;
                }
                if (!decode_cv(g, c, vv, bc->proof.c, bc->proof.v, bc->proof.n, &bad))
                    FAIL(it, 6, "6.C %s: ballot %s, contest %s: response v_%zu is not below q", b->file, b->id,
                         bc->id, bad);
                else if (v->K_ok) {
                    char where[3 * DT_LIMIT_STRING + 64];
                    snprintf(where, sizeof where, "%s: ballot %s, contest %s", b->file, b->id, bc->id);
                    check_range(v, it, 6, where, "limit proof", &bc->proof, &abar, &bbar, c, vv, mc->votes_allowed, bt,
                                pre_ok ? pre + ab_off[nsel_all + ci] : NULL);
                }
            }
        }
        /* step 7.A: the contest hash, over the encodings as recorded */
        {
            dt_hash_ctx h;
            unsigned char out[32];
            it->checked[7]++;
            dt_hash_init(&h, rec->he);
            dt_hash_u8(&h, DT_H_CONTEST_HASH);
            dt_hash_u32(&h, mc->seq & 0x7fffffff);
            dt_hash_bytes(&h, rec->K, v->eb);
            for (size_t si = 0; si < bc->nsel; si++) {
                dt_hash_bytes(&h, bc->sel[si].ct.pad, v->eb);
                dt_hash_bytes(&h, bc->sel[si].ct.data, v->eb);
            }
            dt_hash_final(&h, out);
            if (memcmp(out, bc->hash, 32) != 0)
                FAIL(it, 7, "7.A %s: ballot %s, contest %s: contest_hash does not match the ciphertexts", b->file,
                     b->id, bc->id);
        }
        if (all_ok && b->state == DT_BALLOT_CAST && ac) {
            size_t off = v->opt_offset[mi];
            for (size_t si = 0; si < bc->nsel; si++) {
                dt_prod_mul(g, &ac->PA[off + si], &alpha[si]);
                dt_prod_mul(g, &ac->PB[off + si], &beta[si]);
                ac->count[off + si]++;
            }
        }
    }
    if (st) {
        for (size_t mi = 0; mi < rec->manifest.ncontests; mi++) {
            const dt_rec_mcontest *mc = &rec->manifest.contests[mi];
            bool found = false;
            if (!style_has_district(st, mc->district))
                continue;
            for (size_t ci = 0; ci < b->ncontests && !found; ci++)
                found = strcmp(b->contests[ci].id, mc->id) == 0;
            if (!found)
                FAIL(it, 5, "5 %s: ballot %s: contest %s of ballot style %s is missing", b->file, b->id, mc->id,
                     b->style);
        }
    }
    if (!counted_ok && b->state == DT_BALLOT_CAST)
        FAIL(it, 8, "8 %s: ballot %s is cast but malformed, so it cannot be aggregated", b->file, b->id);
    {
        unsigned char code[32];
        dt_confirmation_code(code, rec->he, (const unsigned char(*)[32])chi, b->ncontests, b->baux.p, b->baux.n);
        if (memcmp(code, b->code, 32) != 0)
            FAIL(it, 7, "7.B %s: ballot %s: confirmation_code does not equal H(H_E; 0x24, contest hashes, B_aux)",
                 b->file, b->id);
    }
out:
    free(chi);
    free(alpha);
    free(beta);
    free(pre);
    free(ab_off);
    free(c);
    free(vv);
}

/* ---- steps 9 and 10 per tally selection; 12, 13, 14 per challenged ballot ---- */

typedef struct tjob {
    const dt_rec_dcontest *dc;
    const dt_rec_dsel *ds;
    const dt_rec_esel *es;   /* the encrypted tally entry, or NULL */
    const dt_rec_mcontest *mc;
} tjob;

static void verify_tally_sel(vctx *v, const tjob *j, item *it)
{
    const dt_group *g = v->g;
    const dt_record *rec = v->rec;
    dt_elem A, B, T, Kt;
    dt_scalar c, vv, ts;
    const char *file = rec->tally.file;

    it->checked[9]++;
    it->checked[10]++;
    if (j->es && (memcmp(j->es->ct.pad, j->ds->ct.pad, v->eb) != 0 ||
                  memcmp(j->es->ct.data, j->ds->ct.data, v->eb) != 0))
        FAIL(it, 9, "9 %s: contest %s, selection %s: encrypted_vote differs from encrypted_tally.json", file,
             j->dc->id, j->ds->id);
    if (dt_elem_decode(g, &A, j->ds->ct.pad, v->eb) != DT_OK ||
        dt_elem_decode(g, &B, j->ds->ct.data, v->eb) != DT_OK) {
        FAIL(it, 9, "9 %s: contest %s, selection %s: encrypted_vote is not in the group", file, j->dc->id, j->ds->id);
        return;
    }
    if (dt_elem_decode(g, &T, j->ds->T, v->eb) != DT_OK) {
        FAIL(it, 9, "9 %s: contest %s, selection %s: b_over_m (T) is not in the group", file, j->dc->id, j->ds->id);
        FAIL(it, 10, "10.A %s: contest %s, selection %s: b_over_m (T) is not in the group", file, j->dc->id,
             j->ds->id);
        return;
    }
    if (dt_scalar_decode(g, &vv, j->ds->v, 32) != DT_OK) {
        FAIL(it, 9, "9.A %s: contest %s, selection %s: response is not below q", file, j->dc->id, j->ds->id);
    } else {
        dt_scalar_reduce(g, &c, j->ds->c, 32);
        if (v->K_ok && dt_decryption_verify_var(g, rec->he, &v->K, &A, &B, &T, &c, &vv) != DT_OK)
            FAIL(it, 9, "9.B %s: contest %s, selection %s: decryption proof challenge does not match", file,
                 j->dc->id, j->ds->id);
    }
    if (v->K_ok) {
        dt_scalar_from_u64(g, &ts, j->ds->value);
        dt_elem_pow_var(g, &Kt, &v->K, &ts);
        if (!dt_elem_eq(g, &Kt, &T))
            FAIL(it, 10, "10.A %s: contest %s, selection %s: T is not K^t for the published tally %llu", file,
                 j->dc->id, j->ds->id, (unsigned long long)j->ds->value);
    }
}

static const char *const contest_statuses[] = {"normal", "null_vote", "over_vote", "under_vote"};

/* A challenged selection whose decryption proof carries its commitments,
 * its equations (12.D) and S = K^sigma (13.A) gone to the ballot's batch:
 * what checking it alone needs, should the batch fail. */
typedef struct pend {
    item *it;
    const char *file, *contest, *sel;
    dt_elem A, M, a, b, S;
    dt_scalar c, v, sigma;
    uint64_t value;
} pend;

/* The selections whose equations went to a batch (a chunk of challenged
 * ballots shares one). */
typedef struct pendv {
    pend *p;
    size_t n, cap;
} pendv;

/* The batch failed: each pending selection alone, to name it. */
static void recheck_pending(vctx *v, const pend *p, size_t n)
{
    const dt_group *g = v->g;
    for (size_t i = 0; i < n; i++) {
        dt_elem Ks;
        if (dt_decryption_check_commitments_var(g, &v->K, &p[i].A, &p[i].M, &p[i].a, &p[i].b, &p[i].c, &p[i].v) !=
            DT_OK)
            FAIL(p[i].it, 12, "12.D %s: contest %s, selection %s: the decryption proof's commitments do not match its "
                 "response", p[i].file, p[i].contest, p[i].sel);
        dt_elem_pow_var(g, &Ks, &v->K, &p[i].sigma);
        if (!dt_elem_eq(g, &Ks, &p[i].S))
            FAIL(p[i].it, 13, "13.A %s: contest %s, selection %s: S is not K^sigma for the published value %llu",
                 p[i].file, p[i].contest, p[i].sel, (unsigned long long)p[i].value);
    }
}

static void verify_challenged(vctx *v, const dt_rec_decrypted *d, item *it, dt_batch *bt, pendv *pv)
{
    const dt_record *rec = v->rec;
    const dt_group *g = v->g;
    const dt_vp_ballot *m = find_meta(v, d->id);
    const dt_rec_ballot *b;
    /* every element of the decrypted selections (the ciphertext, S, and the
     * commitments where recorded) decoded at once; the selections' proofs
     * with commitments go to the chunk's batch bt (NULL: each alone) */
    dt_elem *pre = NULL;
    size_t *pre_at = NULL, nflat = 0, flat = 0;
    bool pre_ok = false;

    if (memcmp(d->election_id, rec->he, 32) != 0)
        FAIL(it, 4, "4.A %s: election_id is not the extended base hash", d->file);
    if (!m) {
        FAIL(it, 12, "12 %s: ballot %s is not among the encrypted ballots", d->file, d->id);
        return;
    }
    if (m->state != DT_BALLOT_CHALLENGED) {
        FAIL(it, 12, "12 %s: ballot %s was cast, yet its decryption is published", d->file, d->id);
        return;
    }
    if (!(b = ballot_of(v, m))) {
        /* the caller of dt_verify_finish did not load it: never a pass */
        FAIL(it, 12, "12 %s: ballot %s: its encrypted ballot %s was not loaded", d->file, d->id, m->file);
        return;
    }
    if (d->ncontests != b->ncontests)
        FAIL(it, 12, "12 %s: ballot %s: %zu contests decrypted, the ballot has %zu", d->file, d->id, d->ncontests,
             b->ncontests);
    for (size_t ci = 0; ci < d->ncontests; ci++)
        nflat += d->contests[ci].nsel;
    {
        const unsigned char **in = calloc(5 * nflat + 1, sizeof *in);
        size_t k = 0;
        pre = calloc(5 * nflat + 1, sizeof *pre);
        pre_at = calloc(nflat + 1, sizeof *pre_at);
        if (pv->cap - pv->n < nflat) {
            size_t cap = pv->n + nflat + 64;
            pend *np = realloc(pv->p, cap * sizeof *np);
            if (np) {
                pv->p = np;
                pv->cap = cap;
            }
        }
        if (in && pre && pre_at) {
            for (size_t ci = 0; ci < d->ncontests; ci++)
                for (size_t si = 0; si < d->contests[ci].nsel; si++) {
                    const dt_rec_dsel *ds = &d->contests[ci].sel[si];
                    pre_at[flat++] = k;
                    in[k++] = ds->ct.pad;
                    in[k++] = ds->ct.data;
                    in[k++] = ds->T;
                    if (ds->a) {
                        in[k++] = ds->a;
                        in[k++] = ds->b;
                    }
                }
            pre_ok = dt_elem_decode_batch_var(g, pre, in, v->eb, k) == DT_OK;
        }
        free(in);
        if (pv->cap - pv->n < nflat) {
            FAIL(it, 12, "12 %s: out of memory", d->file);
            goto done;
        }
    }
    for (size_t ci = 0, cstart = 0; ci < d->ncontests && ci < b->ncontests; cstart += d->contests[ci].nsel, ci++) {
        const dt_rec_dcontest *dc = &d->contests[ci];
        const dt_rec_bcontest *bc = &b->contests[ci];
        long mi = find_mcontest(rec, dc->id);
        const dt_rec_mcontest *mc = mi >= 0 ? &rec->manifest.contests[mi] : NULL;
        uint64_t sum = 0;

        it->checked[13]++;
        if (!mc)
            FAIL(it, 13, "13.D %s: contest %s is not in the manifest", d->file, dc->id);
        if (strcmp(dc->id, bc->id) != 0) {
            FAIL(it, 12, "12 %s: contest %s does not match the ballot's contest %s at this position", d->file,
                 dc->id, bc->id);
            continue;
        }
        if (mc) {
            for (size_t o = 0; o < mc->noptions; o++) {
                bool found = false;
                for (size_t s = 0; s < dc->nsel && !found; s++)
                    found = strcmp(dc->sel[s].id, mc->options[o].id) == 0;
                if (!found)
                    FAIL(it, 13, "13.F %s: contest %s: option %s of the manifest is missing", d->file, dc->id,
                         mc->options[o].id);
            }
        }
        if (dc->nsel != bc->nsel)
            FAIL(it, 12, "12 %s: contest %s: %zu selections decrypted, the ballot has %zu", d->file, dc->id,
                 dc->nsel, bc->nsel);
        for (size_t si = 0; si < dc->nsel; si++) {
            const dt_rec_dsel *ds = &dc->sel[si];
            const dt_rec_bsel *bs = si < bc->nsel ? &bc->sel[si] : NULL;
            const dt_elem *pe = pre_ok ? pre + pre_at[cstart + si] : NULL;
            dt_elem al, be, S, Ks;
            dt_scalar c, vv, sig;
            bool pending = false;

            it->checked[12]++;
            if (mc && find_moption(mc, ds->id) < 0)
                FAIL(it, 13, "13.E %s: contest %s: selection %s is not an option of the manifest", d->file, dc->id,
                     ds->id);
            if (!bs || strcmp(bs->id, ds->id) != 0 || memcmp(bs->ct.pad, ds->ct.pad, v->eb) != 0 ||
                memcmp(bs->ct.data, ds->ct.data, v->eb) != 0) {
                FAIL(it, 12, "12 %s: contest %s, selection %s: encrypted_vote is not the ballot's ciphertext",
                     d->file, dc->id, ds->id);
                continue;
            }
            if (pe) {
                al = pe[0];
                be = pe[1];
            } else if (dt_elem_decode(g, &al, ds->ct.pad, v->eb) != DT_OK ||
                       dt_elem_decode(g, &be, ds->ct.data, v->eb) != DT_OK) {
                FAIL(it, 12, "12 %s: contest %s, selection %s: ciphertext is not in the group", d->file, dc->id,
                     ds->id);
                continue;
            }
            if (pe)
                S = pe[2];
            else if (dt_elem_decode(g, &S, ds->T, v->eb) != DT_OK) {
                FAIL(it, 12, "12 %s: contest %s, selection %s: b_over_m (S) is not in the group", d->file, dc->id,
                     ds->id);
                FAIL(it, 13, "13.A %s: contest %s, selection %s: b_over_m (S) is not in the group", d->file,
                     dc->id, ds->id);
                continue;
            }
            dt_scalar_from_u64(g, &sig, ds->value);
            if (dt_scalar_decode(g, &vv, ds->v, 32) != DT_OK) {
                FAIL(it, 12, "12.A %s: contest %s, selection %s: response is not below q", d->file, dc->id, ds->id);
            } else if (ds->a && v->K_ok) {
                /* with its commitments (ristretto255 records): the challenge
                 * over them (12.B), their equations (12.D) in the batch */
                pend *p = &pv->p[pv->n];
                dt_scalar_reduce(g, &c, ds->c, 32);
                if (pe) {
                    p->a = pe[3];
                    p->b = pe[4];
                } else if (dt_elem_decode(g, &p->a, ds->a, v->eb) != DT_OK ||
                           dt_elem_decode(g, &p->b, ds->b, v->eb) != DT_OK) {
                    FAIL(it, 12, "12.C %s: contest %s, selection %s: the decryption proof's commitment a or b is not "
                         "in the group", d->file, dc->id, ds->id);
                    goto sel_end;
                }
                dt_elem_div(g, &p->M, &be, &S);
                if (dt_decryption_check_challenge(g, rec->he, &v->K, &al, &be, &p->M, &p->a, &p->b, &c) != DT_OK) {
                    FAIL(it, 12, "12.B %s: contest %s, selection %s: decryption proof challenge does not match",
                         d->file, dc->id, ds->id);
                    goto sel_end;
                }
                p->it = it;
                p->file = d->file;
                p->contest = dc->id;
                p->sel = ds->id;
                p->A = al;
                p->S = S;
                p->c = c;
                p->v = vv;
                p->sigma = sig;
                p->value = ds->value;
                if (bt && dt_batch_add_dleq(bt, &p->A, &p->M, &p->a, &p->b, &c, &vv) == DT_OK &&
                    dt_batch_add_kpow(bt, &S, &sig) == DT_OK)
                    pending = true, pv->n++;
                else { /* no batch: alone now, 13.A included */
                    recheck_pending(v, p, 1);
                    pending = true;
                }
            } else {
                dt_scalar_reduce(g, &c, ds->c, 32);
                if (v->K_ok && dt_decryption_verify_var(g, rec->he, &v->K, &al, &be, &S, &c, &vv) != DT_OK)
                    FAIL(it, 12, "12.B %s: contest %s, selection %s: decryption proof challenge does not match",
                         d->file, dc->id, ds->id);
            }
        sel_end:
            if (v->K_ok && !pending) {
                dt_elem_pow_var(g, &Ks, &v->K, &sig);
                if (!dt_elem_eq(g, &Ks, &S))
                    FAIL(it, 13, "13.A %s: contest %s, selection %s: S is not K^sigma for the published value %llu",
                         d->file, dc->id, ds->id, (unsigned long long)ds->value);
            }
            if (mc && ds->value > mc->option_limit)
                FAIL(it, 13, "13.B %s: contest %s, selection %s: value %llu exceeds the option limit %u", d->file,
                     dc->id, ds->id, (unsigned long long)ds->value, mc->option_limit);
            sum += ds->value;
        }
        if (mc && sum > mc->votes_allowed)
            FAIL(it, 13, "13.C %s: contest %s: %llu votes exceed the contest limit %u", d->file, dc->id,
                 (unsigned long long)sum, mc->votes_allowed);

        /* step 14: contest data */
        if (bc->has_data || dc->has_data) {
            const dt_rec_ddata *dd = &dc->data;
            dt_elem C0, beta, a, bb, base[2];
            dt_scalar e[2], c, vv, c2;
            it->checked[14]++;
            if (!bc->has_data || !dc->has_data) {
                FAIL(it, 14, "14 %s: contest %s: contest data is %s", d->file, dc->id,
                     dc->has_data ? "decrypted but absent from the ballot" : "on the ballot but not decrypted");
                continue;
            }
            if (memcmp(dd->data.c0, bc->data.c0, v->eb) != 0 || dd->data.c1.n != bc->data.c1.n ||
                memcmp(dd->data.c1.p, bc->data.c1.p, bc->data.c1.n) != 0 ||
                memcmp(dd->data.c2, bc->data.c2, 32) != 0 || dd->data.num_bytes != bc->data.num_bytes) {
                FAIL(it, 14, "14 %s: contest %s: encrypted_contest_data is not the ballot's", d->file, dc->id);
                continue;
            }
            if (dt_elem_decode(g, &C0, dd->data.c0, v->eb) != DT_OK ||
                dt_elem_decode(g, &beta, dd->beta, v->eb) != DT_OK) {
                FAIL(it, 14, "14 %s: contest %s: C0 or beta is not in the group", d->file, dc->id);
                continue;
            }
            if (dt_scalar_decode(g, &vv, dd->v, 32) != DT_OK) {
                FAIL(it, 14, "14.A %s: contest %s: response is not below q", d->file, dc->id);
                continue;
            }
            dt_scalar_reduce(g, &c, dd->c, 32);
            if (!v->K_ok)
                continue;
            dt_elem_generator(g, &base[0]);
            base[1] = v->K;
            e[0] = vv;
            e[1] = c;
            dt_elem_multi_pow_var(g, &a, base, e, 2);
            base[0] = C0;
            base[1] = beta;
            dt_elem_multi_pow_var(g, &bb, base, e, 2);
            {
                unsigned char out[32];
                dt_contest_data_challenge(g, out, rec->he, &v->K, &C0, dd->data.c1.p, dd->data.c1.n, dd->data.c2, &a,
                                          &bb, &beta);
                dt_scalar_reduce(g, &c2, out, 32);
                if (!dt_scalar_eq(&c2, &c)) {
                    FAIL(it, 14, "14.B %s: contest %s: contest data proof challenge does not match", d->file, dc->id);
                    continue;
                }
            }
            {
                char status[64];
                bool known = false;
                unsigned char *plain = malloc(dd->data.num_bytes + 1);
                dt_err cerr = plain ? dt_contest_data_open(g, plain, rec->he, &v->K, &C0, &beta, dc->id, dd->data.c1.p,
                                                           dd->data.c1.n, dd->data.c2, dd->data.num_bytes)
                                    : DT_ERR_NOMEM;
                if (cerr == DT_OK)
                    cerr = dt_contest_data_parse(plain, dd->data.num_bytes, status, sizeof status, NULL, NULL, NULL);
                free(plain);
                if (cerr != DT_OK) {
                    FAIL(it, 14, "14 %s: contest %s: contest data does not decrypt (%s)", d->file, dc->id,
                         cerr == DT_ERR_PROOF ? "its MAC does not check" : "malformed plaintext");
                    continue;
                }
                for (size_t s = 0; s < sizeof contest_statuses / sizeof *contest_statuses; s++)
                    known |= strcmp(status, contest_statuses[s]) == 0;
                if (!known || (dd->status && strcmp(status, dd->status) != 0))
                    FAIL(it, 14, "14 %s: contest %s: decrypted status \"%s\" differs from the published \"%s\"",
                         d->file, dc->id, status, dd->status ? dd->status : "");
            }
        }
    }
done:
    free(pre);
    free(pre_at);
}

/* ---- the thread pool ---- */

/* What one thread's ballots add up to. */
typedef struct tsum {
    uint64_t nfail[DT_VP_SLOTS];
    uint64_t checked[DT_VP_SLOTS];
} tsum;

typedef struct work {
    vctx *v;
    size_t n;
    size_t first;       /* challenged ballots: the index of the first of this batch */
    item *items;        /* tally selections, challenged ballots */
    acc *accs;          /* per thread, for ballots */
    tsum *sums;         /* per thread, for ballots */
    dt_vp_ballot *meta; /* per ballot */
    atomic_int nomem;   /* ballots: a thread could not keep what it found */
    int kind;           /* 0 ballots, 1 tally selections, 2 challenged */
    tjob *tjobs;
} work;

typedef struct warg {
    work *w;
    size_t tid;
} warg;

/* After a failed batch: each ballot of [lo, hi) checked again without a
 * batch, keeping only the commitment-equation failures (x.E), which the
 * batched pass could not name; the other checks were recorded then.
 * items[i - lo] is ballot i's. */
static void name_batch_failures(vctx *v, item *items, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        item tmp;
        memset(&tmp, 0, sizeof tmp);
        verify_ballot(v, &v->rec->ballots[i], &tmp, NULL, NULL);
        for (int s = 5; s <= 6; s++) {
            for (size_t k = 0; k < tmp.f[s].nstored; k++) {
                char tag[8];
                snprintf(tag, sizeof tag, "%d.E ", s);
                if (strncmp(tmp.f[s].msg[k], tag, strlen(tag)) == 0)
                    FAIL(&items[i - lo], s, "%s", tmp.f[s].msg[k]);
            }
        }
        for (int s = 1; s <= DT_VERIFY_STEPS; s++)
            flist_free(&tmp.f[s]);
    }
}

/* 10.E for one ballot: each of its contests is in tally.json. Reported
 * with step 10's label checks, after the tally's own (DT_VP_LATE10). */
static void ballot_in_tally(vctx *v, const dt_rec_ballot *b, item *it)
{
    const dt_record *rec = v->rec;
    if (!rec->has_tally)
        return;
    for (size_t c = 0; c < b->ncontests; c++) {
        const char *id = b->contests[c].id;
        bool found = false;
        for (size_t i = 0; i < rec->tally.ncontests && !found; i++)
            found = strcmp(rec->tally.contests[i].id, id) == 0;
        if (!found)
            FAIL(it, DT_VP_LATE10, "10.E tally.json: contest %s, used by ballot %s, is missing", id, b->id);
    }
}

/* Keeps what the global steps need of ballot b in m, and moves the
 * failures found (it, left empty) into m and the thread's sums. False if
 * out of memory. */
static bool keep_ballot(vctx *v, const dt_rec_ballot *b, item *it, dt_vp_ballot *m, tsum *sum)
{
    const dt_record *rec = v->rec;
    size_t nmsg = 0, k = 0;
    bool ok = true;

    memset(m, 0, sizeof *m);
    m->b = b;
    m->state = (uint8_t)b->state;
    memcpy(m->code, b->code, 32);
    if (b->preencrypt)
        m->flags |= DT_VP_PREENCRYPT;
    if (rec->chain) {
        if (b->baux.n >= 32) {
            m->flags |= DT_VP_BAUX32;
            memcpy(m->baux_prev, b->baux.p, 32);
        }
        if (b->baux.n == 32 + rec->baux0.n && (rec->baux0.n == 0 || memcmp(b->baux.p + 32, rec->baux0.p, rec->baux0.n) == 0))
            m->flags |= DT_VP_BAUX_FORM;
        ok = (m->device = strdup(b->device)) != NULL;
    }
    ok = ok && (m->file = strdup(b->file)) != NULL && (m->id = strdup(b->id)) != NULL;
    for (int s = 1; s < DT_VP_SLOTS; s++) {
        sum->nfail[s] += it->f[s].n;
        sum->checked[s] += it->checked[s];
        nmsg += it->f[s].nstored;
    }
    if (ok && nmsg && !(m->msg = malloc(nmsg * sizeof *m->msg)))
        ok = false;
    for (int s = 1; s < DT_VP_SLOTS; s++) {
        if (ok) {
            for (size_t i = 0; i < it->f[s].nstored; i++)
                m->msg[k++] = (dt_vp_msg){(uint8_t)s, it->f[s].msg[i]};
            memset(&it->f[s], 0, sizeof it->f[s]);
        } else {
            flist_free(&it->f[s]);
        }
        it->checked[s] = 0;
    }
    m->nmsg = k;
    return ok;
}

/* Ballots in chunks: every range proof's commitment equations of a chunk
 * go into one batch, checked with one multi-scalar multiplication. */
static void ballot_chunks(warg *a)
{
    work *w = a->w;
    vctx *v = w->v;
    dt_batch *bt = v->K_ok ? dt_batch_create(v->g, &v->K) : NULL;
    item *items = calloc(v->chunk, sizeof *items);
    if (!items) {
        atomic_store(&w->nomem, 1);
        dt_batch_destroy(bt);
        return;
    }
    for (;;) {
        size_t lo = atomic_fetch_add(&v->next, v->chunk), hi;
        if (lo >= w->n)
            break;
        hi = lo + v->chunk < w->n ? lo + v->chunk : w->n;
        for (size_t i = lo; i < hi; i++) {
            verify_ballot(v, &v->rec->ballots[i], &items[i - lo], &w->accs[a->tid], bt);
            ballot_in_tally(v, &v->rec->ballots[i], &items[i - lo]);
        }
        if (bt && dt_batch_check(bt) != DT_OK)
            name_batch_failures(v, items, lo, hi);
        for (size_t i = lo; i < hi; i++) {
            if (!keep_ballot(v, &v->rec->ballots[i], &items[i - lo], &w->meta[i], &w->sums[a->tid]))
                atomic_store(&w->nomem, 1);
            progress_tick(v);
        }
    }
    free(items);
    dt_batch_destroy(bt);
}

/* Challenged ballots in chunks of 64: the decryption proofs' equations of a
 * chunk in one batch (a ballot's alone would be a few dozen terms, where a
 * multi-scalar multiplication costs twice as much a term); if it fails,
 * each pending selection alone names the bad ones. */
static void challenged_chunks(warg *a)
{
    work *w = a->w;
    vctx *v = w->v;
    const size_t chunk = 64;
    dt_batch *bt = v->K_ok ? dt_batch_create(v->g, &v->K) : NULL;
    pendv pv = {NULL, 0, 0};
    for (;;) {
        size_t lo = atomic_fetch_add(&v->next, chunk), hi;
        if (lo >= w->n)
            break;
        hi = lo + chunk < w->n ? lo + chunk : w->n;
        for (size_t i = lo; i < hi; i++)
            verify_challenged(v, &v->rec->challenged[w->first + i], &w->items[i], bt, &pv);
        /* checked (and so emptied, a broken one too) after every chunk */
        if (bt && dt_batch_check(bt) != DT_OK && pv.n)
            recheck_pending(v, pv.p, pv.n);
        pv.n = 0;
        for (size_t i = lo; i < hi; i++)
            progress_tick(v);
    }
    free(pv.p);
    dt_batch_destroy(bt);
}

static void *worker(void *p)
{
    warg *a = p;
    work *w = a->w;
    vctx *v = w->v;
    if (w->kind == 0) {
        ballot_chunks(a);
        return NULL;
    }
    if (w->kind == 2) {
        challenged_chunks(a);
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&v->next, 1);
        if (i >= w->n)
            break;
        verify_tally_sel(v, &w->tjobs[i], &w->items[i]);
        progress_tick(v);
    }
    return NULL;
}

static void run_pool(work *w, unsigned threads)
{
    pthread_t tid[64];
    warg args[64];
    unsigned started = 0;
    atomic_store(&w->v->next, 0);
    if (threads > 64)
        threads = 64;
    if (threads > 1 && w->n > 1) {
        for (unsigned t = 1; t < threads; t++) {
            args[t].w = w;
            args[t].tid = t;
            if (pthread_create(&tid[t], NULL, worker, &args[t]) != 0)
                break;
            started = t;
        }
    }
    args[0].w = w;
    args[0].tid = 0;
    worker(&args[0]);
    for (unsigned t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

/* For each earlier key equal to position pos's (k[lo..hi) of an index), a
 * message while the list has room, then only their count. */
#define EACH_EARLIER(f, ix, pos, t, lo, hi)                                                                        \
    for (vindex_earlier((ix), (pos), &(lo), &(hi)), (t) = (lo); (t) < (hi); (t)++)                                \
        if ((f)->nstored >= DT_VERIFY_MAX_MESSAGES) {                                                              \
            (f)->n += (hi) - (t);                                                                                  \
            break;                                                                                                 \
        } else

/* ---- steps 8-10: structure of the tallies ---- */

static bool step8(vctx *v, dt_verify_report *rep)
{
    const dt_record *rec = v->rec;
    const dt_verify_partial *p = v->p;
    const dt_rec_etally *et = &rec->etally;
    flist *f = &rep->s[8].f;
    const char *file = "encrypted_tally.json";
    vindex cast;
    vkey *keys;
    size_t lo, hi, t;

    if (!rec->has_etally) {
        flist_add(f, "8 encrypted_tally.json is missing from the record");
        return true;
    }
    if (memcmp(et->election_id, rec->he, 32) != 0)
        flist_add(&rep->s[4].f, "4.A encrypted_tally.json: election_id is not the extended base hash");
    if ((keys = malloc((et->ncast ? et->ncast : 1) * sizeof *keys)))
        for (size_t k = 0; k < et->ncast; k++)
            keys[k] = (vkey){et->cast_ids[k], NULL, k};
    if (!vindex_build(&cast, keys, et->ncast, et->ncast))
        return false;
    /* the cast ballots: the list equals the cast ballots of the record, no duplicates */
    for (size_t i = 0; i < p->nballots; i++) {
        const dt_vp_ballot *b = &p->ballots[i];
        EACH_EARLIER(f, v->ids, i, t, lo, hi)
            flist_add(f, "8 %s and %s: ballot id %s appears twice", p->ballots[v->ids->k[t].pos].file, b->file, b->id);
        if (b->state != DT_BALLOT_CAST)
            continue;
        vkey q = {b->id, NULL, 0};
        if (vindex_find(&cast, &q) == SIZE_MAX)
            flist_add(f, "8 %s: cast ballot %s is not in cast_ballot_ids", file, b->id);
    }
    for (size_t k = 0; k < et->ncast; k++) {
        const dt_vp_ballot *b = find_meta(v, et->cast_ids[k]);
        if (!b || b->state != DT_BALLOT_CAST)
            flist_add(f, "8 %s: cast_ballot_ids lists %s, which is not a cast ballot of the record", file,
                      et->cast_ids[k]);
        EACH_EARLIER(f, &cast, k, t, lo, hi)
            flist_add(f, "8 %s: cast_ballot_ids lists %s twice", file, et->cast_ids[k]);
    }
    vindex_free(&cast);
    /* every manifest option's aggregate */
    for (size_t mi = 0; mi < rec->manifest.ncontests; mi++) {
        const dt_rec_mcontest *mc = &rec->manifest.contests[mi];
        const dt_rec_econtest *ec = NULL;
        for (size_t i = 0; i < et->ncontests && !ec; i++)
            if (strcmp(et->contests[i].id, mc->id) == 0)
                ec = &et->contests[i];
        if (!ec) {
            flist_add(f, "8 %s: contest %s of the manifest is missing", file, mc->id);
            continue;
        }
        for (size_t o = 0; o < mc->noptions; o++) {
            const dt_rec_esel *es = NULL;
            unsigned char enc[DT_ELEM_MAX_BYTES];
            size_t gi = v->opt_offset[mi] + o;
            for (size_t s = 0; s < ec->nsel && !es; s++)
                if (strcmp(ec->sel[s].id, mc->options[o].id) == 0)
                    es = &ec->sel[s];
            rep->s[8].checked++;
            if (!es) {
                flist_add(f, "8 %s: contest %s, option %s is missing", file, mc->id, mc->options[o].id);
                continue;
            }
            dt_elem_encode(v->g, enc, &p->A[gi]);
            if (memcmp(enc, es->ct.pad, v->eb) != 0)
                flist_add(f, "8.A %s: contest %s, selection %s: pad is not the product of the cast ballots' alphas",
                          file, mc->id, es->id);
            dt_elem_encode(v->g, enc, &p->B[gi]);
            if (memcmp(enc, es->ct.data, v->eb) != 0)
                flist_add(f, "8.B %s: contest %s, selection %s: data is not the product of the cast ballots' betas",
                          file, mc->id, es->id);
        }
    }
    for (size_t i = 0; i < et->ncontests; i++) {
        long mi = find_mcontest(rec, et->contests[i].id);
        if (mi < 0) {
            flist_add(f, "8 %s: contest %s is not in the manifest", file, et->contests[i].id);
            continue;
        }
        for (size_t s = 0; s < et->contests[i].nsel; s++)
            if (find_moption(&rec->manifest.contests[mi], et->contests[i].sel[s].id) < 0)
                flist_add(f, "8 %s: contest %s: selection %s is not in the manifest", file, et->contests[i].id,
                          et->contests[i].sel[s].id);
    }
    return true;
}

static void tally_labels(vctx *v, dt_verify_report *rep, dt_verify_partial *p)
{
    const dt_record *rec = v->rec;
    const dt_rec_decrypted *t = &rec->tally;
    flist *f = &rep->s[10].f;
    for (size_t i = 0; i < t->ncontests; i++) {
        long mi = find_mcontest(rec, t->contests[i].id);
        if (mi < 0) {
            flist_add(f, "10.B tally.json: contest %s is not in the manifest", t->contests[i].id);
            continue;
        }
        const dt_rec_mcontest *mc = &rec->manifest.contests[mi];
        for (size_t s = 0; s < t->contests[i].nsel; s++) {
            if (find_moption(mc, t->contests[i].sel[s].id) < 0)
                flist_add(f, "10.C tally.json: contest %s: selection %s is not in the manifest", mc->id,
                          t->contests[i].sel[s].id);
            for (size_t k = 0; k < s; k++)
                if (strcmp(t->contests[i].sel[k].id, t->contests[i].sel[s].id) == 0)
                    flist_add(f, "10.C tally.json: contest %s: selection %s appears twice", mc->id,
                              t->contests[i].sel[s].id);
        }
        for (size_t o = 0; o < mc->noptions; o++) {
            bool found = false;
            for (size_t s = 0; s < t->contests[i].nsel && !found; s++)
                found = strcmp(t->contests[i].sel[s].id, mc->options[o].id) == 0;
            if (!found)
                flist_add(f, "10.D tally.json: contest %s: option %s of the manifest is missing", mc->id,
                          mc->options[o].id);
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(t->contests[k].id, t->contests[i].id) == 0)
                flist_add(f, "10.B tally.json: contest %s appears twice", mc->id);
    }
    /* 10.E, found where each ballot was verified (ballot_in_tally) */
    f->n += p->nfail[DT_VP_LATE10];
    for (size_t i = 0; i < p->nballots; i++)
        for (size_t k = 0; k < p->ballots[i].nmsg; k++)
            if (p->ballots[i].msg[k].step == DT_VP_LATE10) {
                flist_take(f, p->ballots[i].msg[k].text);
                p->ballots[i].msg[k].text = NULL;
            }
}

/* ---- 7.C and chaining ---- */

static bool step7_global(vctx *v, dt_verify_report *rep)
{
    const dt_record *rec = v->rec;
    const dt_verify_partial *p = v->p;
    const dt_vp_ballot *bs = p->ballots;
    flist *f = &rep->s[7].f;
    size_t n = p->nballots, nb = 0, lo, hi, t;
    vindex codes, pred, dup;
    vkey *keys;

    if (n == 0)
        return true;
    /* 7.C: ballots in the order of their codes; equal codes side by side, in record order */
    if ((keys = malloc(n * sizeof *keys)))
        for (size_t i = 0; i < n; i++)
            keys[i] = (vkey){NULL, bs[i].code, i};
    if (!vindex_build(&codes, keys, n, n))
        return false;
    for (size_t j = 1; j < n; j++)
        if (memcmp(bs[codes.k[j - 1].pos].code, bs[codes.k[j].pos].code, 32) == 0) {
            const dt_vp_ballot *x = &bs[codes.k[j - 1].pos], *y = &bs[codes.k[j].pos];
            flist_add(f, "7.C %s and %s: ballots %s and %s share a confirmation code", x->file, y->file, x->id, y->id);
        }
    vindex_free(&codes);

    if (!rec->chain)
        return true;
    /* 7.D/7.E: per device, each B_aux is (H_0 or another ballot's code of the
     * device) || B_aux,0, and no predecessor is used twice: one chain. */
    unsigned char h0[32];
    dt_hash_ctx h;
    dt_hash_init(&h, rec->he);
    dt_hash_u8(&h, DT_H_CONFIRMATION_CODE);
    dt_hash_bytes(&h, rec->baux0.p, rec->baux0.n);
    dt_hash_final(&h, h0);
    /* the predecessors, by (device, code); the links, by (device, B_aux's first 32 bytes) */
    if ((keys = malloc(n * sizeof *keys)))
        for (size_t i = 0; i < n; i++)
            keys[i] = (vkey){bs[i].device ? bs[i].device : "", bs[i].code, i};
    if (!vindex_build(&pred, keys, n, n))
        return false;
    if ((keys = malloc(n * sizeof *keys)))
        for (size_t i = 0; i < n; i++)
            if (bs[i].flags & DT_VP_BAUX32)
                keys[nb++] = (vkey){bs[i].device ? bs[i].device : "", bs[i].baux_prev, i};
    if (!vindex_build(&dup, keys, nb, n)) {
        vindex_free(&pred);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const dt_vp_ballot *b = &bs[i];
        const char *device = b->device ? b->device : "";
        bool pred_ok = false;
        if (!(b->flags & DT_VP_BAUX_FORM)) {
            flist_add(f, "7.E %s: ballot %s: B_aux is not a previous code followed by B_aux,0", b->file, b->id);
            continue;
        }
        if (memcmp(b->baux_prev, h0, 32) == 0)
            pred_ok = true;
        /* another ballot of the device whose code is B_aux's first 32 bytes */
        vkey q = {device, b->baux_prev, 0};
        for (size_t j = vindex_find(&pred, &q); !pred_ok && j < pred.n && vkey_cmp_nopos(&pred.k[j], &q) == 0; j++)
            pred_ok = pred.k[j].pos != i;
        if (!pred_ok)
            flist_add(f, "7.E %s: ballot %s: B_aux names no earlier ballot of device %s", b->file, b->id, device);
        EACH_EARLIER(f, &dup, i, t, lo, hi)
            flist_add(f, "7.E %s: ballots %s and %s of device %s chain from the same code", b->file,
                      bs[dup.k[t].pos].id, b->id, device);
    }
    vindex_free(&pred);
    vindex_free(&dup);
    return true;
}

/* ---- driver ---- */

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static void acc_free(acc *a)
{
    if (!a)
        return;
    free(a->PA);
    free(a->PB);
    free(a->count);
}

static bool acc_init(acc *a, const dt_group *g, size_t n)
{
    a->PA = calloc(n ? n : 1, sizeof *a->PA);
    a->PB = calloc(n ? n : 1, sizeof *a->PB);
    a->count = calloc(n ? n : 1, sizeof *a->count);
    if (!a->PA || !a->PB || !a->count)
        return false;
    for (size_t i = 0; i < n; i++) {
        dt_prod_init(g, &a->PA[i]);
        dt_prod_init(g, &a->PB[i]);
    }
    return true;
}

/* The selections of tally.json: work items of steps 9 and 10. */
static size_t tally_jobs(const dt_record *rec)
{
    size_t n = 0;
    if (rec->has_tally)
        for (size_t i = 0; i < rec->tally.ncontests; i++)
            n += rec->tally.contests[i].nsel;
    return n;
}

/* done0 of total work items are done before this part (progress). */
static bool vctx_init(vctx *v, const dt_record *rec, const dt_verify_opts *opts, size_t done0, size_t total)
{
    memset(v, 0, sizeof *v);
    v->rec = rec;
    v->g = rec->group;
    v->eb = rec->elem_bytes;
    v->he = rec->he;
    v->opts = opts;
    v->base = done0;
    v->total_work = total;
    pthread_mutex_init(&v->progress_lock, NULL);
    v->K_ok = dt_elem_decode(v->g, &v->K, rec->K, v->eb) == DT_OK;
    v->opt_offset = calloc(rec->manifest.ncontests + 1, sizeof *v->opt_offset);
    if (!v->opt_offset)
        return false;
    for (size_t i = 0; i < rec->manifest.ncontests; i++) {
        v->opt_offset[i] = v->nopts;
        v->nopts += rec->manifest.contests[i].noptions;
    }
    return true;
}

static void vctx_free(vctx *v)
{
    free(v->opt_offset);
    pthread_mutex_destroy(&v->progress_lock);
}

static dt_err partial_run(dt_verify_partial **out, const dt_record *rec, const dt_verify_opts *opts, size_t done0,
                          size_t total)
{
    vctx v;
    unsigned threads = opts && opts->threads ? opts->threads : default_threads();
    acc *accs = NULL;
    tsum *sums = NULL;
    dt_verify_partial *p = NULL;
    dt_err err = DT_ERR_NOMEM;

    *out = NULL;
    if (threads > rec->nballots && rec->nballots > 0)
        threads = (unsigned)rec->nballots;
    if (!vctx_init(&v, rec, opts, done0, total) || !(p = dt_vp_create(rec)))
        goto out;
    accs = calloc(threads, sizeof *accs);
    sums = calloc(threads, sizeof *sums);
    p->ballots = calloc(rec->nballots ? rec->nballots : 1, sizeof *p->ballots);
    if (!accs || !sums || !p->ballots)
        goto out;
    p->nballots = p->cap = rec->nballots; /* every slot zeroed: destroying p frees what was kept */
    for (unsigned t = 0; t < threads; t++)
        if (!acc_init(&accs[t], v.g, v.nopts))
            goto out;
    {
        /* about 2,048 selections a batch (the multi-scalar multiplication's
         * cost per term levels off there), yet at least 4 chunks a thread */
        size_t nsel = 0, per_thread;
        for (size_t i = 0; i < rec->nballots; i++)
            for (size_t c = 0; c < rec->ballots[i].ncontests; c++)
                nsel += rec->ballots[i].contests[c].nsel;
        v.chunk = nsel ? (2048 * rec->nballots + nsel - 1) / nsel : 1;
        per_thread = rec->nballots / (4 * (size_t)threads);
        if (v.chunk > per_thread)
            v.chunk = per_thread;
        if (v.chunk < 1)
            v.chunk = 1;
        work w = {.v = &v, .n = rec->nballots, .accs = accs, .sums = sums, .meta = p->ballots, .kind = 0};
        atomic_init(&w.nomem, 0);
        run_pool(&w, threads);
        if (atomic_load(&w.nomem))
            goto out;
    }
    for (unsigned t = 0; t < threads; t++)
        for (int s = 1; s < DT_VP_SLOTS; s++) {
            p->nfail[s] += sums[t].nfail[s];
            p->checked[s] += sums[t].checked[s];
        }
    for (unsigned t = 1; t < threads; t++)
        for (size_t o = 0; o < v.nopts; o++) {
            dt_prod_mul_prod(v.g, &accs[0].PA[o], &accs[t].PA[o]);
            dt_prod_mul_prod(v.g, &accs[0].PB[o], &accs[t].PB[o]);
            accs[0].count[o] += accs[t].count[o];
        }
    for (size_t o = 0; o < v.nopts; o++) {
        dt_prod_get(v.g, &p->A[o], &accs[0].PA[o]);
        dt_prod_get(v.g, &p->B[o], &accs[0].PB[o]);
        p->count[o] = accs[0].count[o];
    }
    if ((err = dt_vp_sort(p)))
        goto out;
    dt_vp_trim(p);
    *out = p;
    p = NULL;
    err = DT_OK;
out:
    if (accs)
        for (unsigned t = 0; t < threads; t++)
            acc_free(&accs[t]);
    free(accs);
    free(sums);
    dt_verify_partial_destroy(p);
    vctx_free(&v);
    return err;
}

static dt_err finish_run(dt_verify_report **out, const dt_record *rec, dt_verify_partial *p,
                         const dt_verify_opts *opts, size_t done0, size_t total)
{
    dt_verify_report *rep = NULL;
    vctx v;
    vindex ids = {0}, dix = {0};
    unsigned threads = opts && opts->threads ? opts->threads : default_threads();
    item *items = NULL;
    tjob *tjobs = NULL;
    vkey *keys;
    size_t ntj = tally_jobs(rec), lo, hi, t;
    bool any_preencrypt = false;
    dt_err err;

    *out = NULL;
    if (!dt_vp_matches(p, rec))
        return DT_ERR_INVALID;
    if ((err = dt_vp_sort(p)))
        return err;
    err = DT_ERR_NOMEM;
    if (!vctx_init(&v, rec, opts, done0, total) || !(rep = calloc(1, sizeof *rep)))
        goto out;
    v.p = p;
    v.ids = &ids;

    step1(&v, rep);
    step2_3(&v, rep);
    step4(&v, rep);

    /* the ballots' failures, in record order */
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        rep->s[s].checked += p->checked[s];
        rep->s[s].f.n += p->nfail[s];
    }
    for (size_t i = 0; i < p->nballots; i++) {
        dt_vp_ballot *b = &p->ballots[i];
        any_preencrypt |= (b->flags & DT_VP_PREENCRYPT) != 0;
        for (size_t k = 0; k < b->nmsg; k++)
            if (b->msg[k].step <= DT_VERIFY_STEPS) {
                flist_take(&rep->s[b->msg[k].step].f, b->msg[k].text);
                b->msg[k].text = NULL;
            }
    }
    if ((keys = malloc((p->nballots ? p->nballots : 1) * sizeof *keys)))
        for (size_t i = 0; i < p->nballots; i++)
            keys[i] = (vkey){p->ballots[i].id, NULL, i};
    if (!vindex_build(&ids, keys, p->nballots, p->nballots) || !step7_global(&v, rep) || !step8(&v, rep))
        goto out;

    /* items: the tally's selections, then a batch of challenged ballots at a time */
    if (!(items = calloc(ntj + 1024, sizeof *items)))
        goto out;
    if (!rec->has_tally) {
        flist_add(&rep->s[9].f, "9 tally.json is missing from the record");
        flist_add(&rep->s[10].f, "10 tally.json is missing from the record");
    } else {
        size_t k = 0;
        if (!(tjobs = calloc(ntj + 1, sizeof *tjobs)))
            goto out;
        if (memcmp(rec->tally.election_id, rec->he, 32) != 0)
            flist_add(&rep->s[4].f, "4.A tally.json: election_id is not the extended base hash");
        for (size_t i = 0; i < rec->tally.ncontests; i++) {
            const dt_rec_dcontest *dc = &rec->tally.contests[i];
            const dt_rec_econtest *ec = NULL;
            for (size_t e = 0; rec->has_etally && e < rec->etally.ncontests && !ec; e++)
                if (strcmp(rec->etally.contests[e].id, dc->id) == 0)
                    ec = &rec->etally.contests[e];
            for (size_t s = 0; s < dc->nsel; s++, k++) {
                tjobs[k].dc = dc;
                tjobs[k].ds = &dc->sel[s];
                for (size_t e = 0; ec && e < ec->nsel && !tjobs[k].es; e++)
                    if (strcmp(ec->sel[e].id, dc->sel[s].id) == 0)
                        tjobs[k].es = &ec->sel[e];
                if (!tjobs[k].es)
                    flist_add(&rep->s[9].f, "9 tally.json: contest %s, selection %s is not in encrypted_tally.json",
                              dc->id, dc->sel[s].id);
            }
        }
        work w = {.v = &v, .n = ntj, .items = items, .kind = 1, .tjobs = tjobs};
        run_pool(&w, threads);
        for (size_t i = 0; i < ntj; i++)
            item_merge(rep, &items[i]);
        tally_labels(&v, rep, p);
    }
    rep->s[11].note = strdup("the record decrypts no contest data of cast ballots");

    /* challenged ballots */
    if ((keys = malloc((rec->nchallenged ? rec->nchallenged : 1) * sizeof *keys)))
        for (size_t i = 0; i < rec->nchallenged; i++)
            keys[i] = (vkey){rec->challenged[i].id, NULL, i};
    if (!vindex_build(&dix, keys, rec->nchallenged, rec->nchallenged))
        goto out;
    for (size_t i = 0; i < p->nballots; i++) {
        const dt_vp_ballot *b = &p->ballots[i];
        vkey q = {b->id, NULL, 0};
        if (b->state == DT_BALLOT_CHALLENGED && vindex_find(&dix, &q) == SIZE_MAX)
            flist_add(&rep->s[12].f, "12 %s: challenged ballot %s has no decryption in challenged_ballots/", b->file,
                      b->id);
    }
    for (size_t i = 0; i < rec->nchallenged; i++)
        EACH_EARLIER(&rep->s[12].f, &dix, i, t, lo, hi)
            flist_add(&rep->s[12].f, "12 %s and %s: ballot %s is decrypted twice", rec->challenged[dix.k[t].pos].file,
                      rec->challenged[i].file, rec->challenged[i].id);
    for (size_t first = 0; first < rec->nchallenged; first += 1024) {
        size_t n = rec->nchallenged - first < 1024 ? rec->nchallenged - first : 1024;
        work w = {.v = &v, .n = n, .first = first, .items = items, .kind = 2};
        run_pool(&w, threads);
        for (size_t i = 0; i < n; i++)
            item_merge(rep, &items[i]);
    }
    if (rec->nchallenged == 0 && rep->s[12].f.n == 0) {
        rep->s[12].note = strdup("no challenged ballots");
        rep->s[13].note = strdup("no challenged ballots");
        rep->s[14].note = strdup("no challenged ballots");
    } else if (rep->s[14].checked == 0 && rep->s[14].f.n == 0) {
        rep->s[14].note = strdup("no contest data on the challenged ballots");
    }
    if (!any_preencrypt)
        for (int s = 15; s <= 18; s++)
            rep->s[s].note = strdup("no pre-encrypted ballots");
    *out = rep;
    rep = NULL;
    err = DT_OK;
out:
    dt_verify_report_destroy(rep);
    free(items);
    free(tjobs);
    vindex_free(&ids);
    vindex_free(&dix);
    vctx_free(&v);
    return err;
}

dt_err dt_verify_ballots_partial(dt_verify_partial **out, const dt_record *rec, const dt_verify_opts *opts)
{
    return partial_run(out, rec, opts, 0, rec->nballots);
}

dt_err dt_verify_finish(dt_verify_report **out, const dt_record *rec, dt_verify_partial *p,
                        const dt_verify_opts *opts)
{
    return finish_run(out, rec, p, opts, 0, tally_jobs(rec) + rec->nchallenged);
}

dt_err dt_verify(dt_verify_report **out, const dt_record *rec, const dt_verify_opts *opts)
{
    dt_verify_partial *p = NULL;
    size_t total = rec->nballots + tally_jobs(rec) + rec->nchallenged;
    dt_err err;

    *out = NULL;
    if ((err = partial_run(&p, rec, opts, 0, total)) == DT_OK)
        err = finish_run(out, rec, p, opts, rec->nballots, total);
    dt_verify_partial_destroy(p);
    return err;
}

void dt_verify_report_destroy(dt_verify_report *rep)
{
    if (!rep)
        return;
    for (int s = 0; s <= DT_VERIFY_STEPS; s++) {
        flist_free(&rep->s[s].f);
        free(rep->s[s].note);
    }
    free(rep);
}

static void check_step(int step)
{
    if (step < 1 || step > DT_VERIFY_STEPS)
        dt_misuse("verify: step number out of range");
}

dt_step_status dt_verify_step_status(const dt_verify_report *rep, int step)
{
    check_step(step);
    if (rep->s[step].f.n)
        return DT_STEP_FAIL;
    if (rep->s[step].note)
        return DT_STEP_NA;
    return DT_STEP_PASS;
}

int dt_verify_report_ok(const dt_verify_report *rep)
{
    for (int s = 1; s <= DT_VERIFY_STEPS; s++)
        if (dt_verify_step_status(rep, s) == DT_STEP_FAIL)
            return 0;
    return 1;
}

const char *dt_verify_step_name(int step)
{
    check_step(step);
    return step_names[step];
}

size_t dt_verify_step_checked(const dt_verify_report *rep, int step)
{
    check_step(step);
    return rep->s[step].checked;
}

size_t dt_verify_step_failures(const dt_verify_report *rep, int step)
{
    check_step(step);
    return rep->s[step].f.n;
}

size_t dt_verify_step_messages(const dt_verify_report *rep, int step)
{
    check_step(step);
    return rep->s[step].f.nstored;
}

const char *dt_verify_step_message(const dt_verify_report *rep, int step, size_t i)
{
    check_step(step);
    if (i >= rep->s[step].f.nstored)
        dt_misuse("verify: message index out of range");
    return rep->s[step].f.msg[i];
}

const char *dt_verify_step_note(const dt_verify_report *rep, int step)
{
    check_step(step);
    return rep->s[step].f.n ? NULL : rep->s[step].note;
}
