/* Partial results of the verifier (verify.h): their life, their order,
 * their merge and their bytes.
 *
 * The bytes (all integers little-endian):
 *   "detente-vp" 0x00 0x01 (12 bytes: name, version 1)
 *   u32 group (dt_group_id), u32 element length, H_E (32), u64 options
 *   per option: A, B (an element each), u64 cast ballots
 *   u64 failures[20], u64 checked[20] (slot 0 unused; 19: 10.E)
 *   u64 ballots; per ballot:
 *     u8 state, u8 flags, code (32), B_aux's first 32 bytes (32),
 *     str file, str id, str device (u32 0xffffffff: none),
 *     u32 messages; per message: u8 step, str text
 *   SHA-256 of all the bytes before it (32)
 * where str is a u32 length and that many bytes (no NUL). The reader checks
 * the hash first, then every length against what is left and its limit. */
#include <stdlib.h>
#include <string.h>

#include <detente/hash.h>

#include "util/codec.h"
#include "verify/verify_impl.h"

#define VP_MAGIC "detente-vp\0\1"
#define VP_MAGIC_LEN 12
#define VP_NO_STRING 0xffffffffu
#define VP_FILE_MAX 4096u
#define VP_TEXT_MAX 1024u
/* the smallest ballot: state, flags, code, baux, three lengths, a count */
#define VP_BALLOT_MIN (2 + 32 + 32 + 4 * 4)

size_t dt_vp_options(const dt_record *rec)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->manifest.ncontests; i++)
        n += rec->manifest.contests[i].noptions;
    return n;
}

dt_verify_partial *dt_vp_create(const dt_record *rec)
{
    dt_verify_partial *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->group = dt_group_kind(rec->group);
    p->eb = rec->elem_bytes;
    memcpy(p->he, rec->he, 32);
    p->nopts = dt_vp_options(rec);
    p->A = calloc(p->nopts ? p->nopts : 1, sizeof *p->A);
    p->B = calloc(p->nopts ? p->nopts : 1, sizeof *p->B);
    p->count = calloc(p->nopts ? p->nopts : 1, sizeof *p->count);
    p->sorted = true;
    if (!p->A || !p->B || !p->count) {
        dt_verify_partial_destroy(p);
        return NULL;
    }
    for (size_t o = 0; o < p->nopts; o++) {
        dt_elem_identity(rec->group, &p->A[o]);
        dt_elem_identity(rec->group, &p->B[o]);
    }
    return p;
}

void dt_vp_ballot_free(dt_vp_ballot *b)
{
    free(b->file);
    free(b->id);
    free(b->device);
    for (size_t k = 0; k < b->nmsg; k++)
        free(b->msg[k].text);
    free(b->msg);
    memset(b, 0, sizeof *b);
}

void dt_verify_partial_destroy(dt_verify_partial *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->ballots && i < p->nballots; i++)
        dt_vp_ballot_free(&p->ballots[i]);
    free(p->ballots);
    free(p->A);
    free(p->B);
    free(p->count);
    free(p);
}

bool dt_vp_matches(const dt_verify_partial *p, const dt_record *rec)
{
    return p->group == dt_group_kind(rec->group) && p->eb == rec->elem_bytes && memcmp(p->he, rec->he, 32) == 0 &&
           p->nopts == dt_vp_options(rec);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const dt_vp_ballot *)a)->file, ((const dt_vp_ballot *)b)->file);
}

dt_err dt_vp_sort(dt_verify_partial *p)
{
    bool in_order = true;
    if (p->sorted)
        return DT_OK;
    for (size_t i = 1; i < p->nballots && in_order; i++)
        in_order = strcmp(p->ballots[i - 1].file, p->ballots[i].file) < 0;
    if (!in_order) {
        qsort(p->ballots, p->nballots, sizeof *p->ballots, cmp_file);
        for (size_t i = 1; i < p->nballots; i++)
            if (strcmp(p->ballots[i - 1].file, p->ballots[i].file) == 0)
                return DT_ERR_INVALID; /* shards that overlap */
    }
    p->sorted = true;
    return DT_OK;
}

void dt_vp_trim(dt_verify_partial *p)
{
    size_t kept[DT_VP_SLOTS] = {0};
    for (size_t i = 0; i < p->nballots; i++) {
        dt_vp_ballot *b = &p->ballots[i];
        size_t n = 0;
        for (size_t k = 0; k < b->nmsg; k++) {
            if (b->msg[k].text && kept[b->msg[k].step] < DT_VERIFY_MAX_MESSAGES) {
                kept[b->msg[k].step]++;
                b->msg[n++] = b->msg[k];
            } else {
                free(b->msg[k].text);
            }
        }
        b->nmsg = n;
        if (n == 0) {
            free(b->msg);
            b->msg = NULL;
        }
    }
}

dt_err dt_verify_partial_merge(const dt_record *rec, dt_verify_partial *dst, dt_verify_partial *src)
{
    size_t n = dst->nballots + src->nballots;
    if (!dt_vp_matches(dst, rec) || !dt_vp_matches(src, rec))
        return DT_ERR_INVALID;
    if (n < dst->nballots)
        return DT_ERR_NOMEM;
    if (n > dst->cap) {
        size_t cap = dst->cap ? dst->cap : 64;
        while (cap < n)
            cap = cap > SIZE_MAX / 2 / sizeof *dst->ballots ? n : 2 * cap;
        dt_vp_ballot *nb = realloc(dst->ballots, cap * sizeof *nb);
        if (!nb)
            return DT_ERR_NOMEM;
        dst->ballots = nb;
        dst->cap = cap;
    }
    /* the homomorphic reduction: products of the cast ballots' ciphertexts multiply */
    for (size_t o = 0; o < dst->nopts; o++) {
        dt_elem_mul(rec->group, &dst->A[o], &dst->A[o], &src->A[o]);
        dt_elem_mul(rec->group, &dst->B[o], &dst->B[o], &src->B[o]);
        dst->count[o] += src->count[o];
        dt_elem_identity(rec->group, &src->A[o]);
        dt_elem_identity(rec->group, &src->B[o]);
        src->count[o] = 0;
    }
    for (int s = 0; s < DT_VP_SLOTS; s++) {
        dst->nfail[s] += src->nfail[s];
        dst->checked[s] += src->checked[s];
        src->nfail[s] = src->checked[s] = 0;
    }
    if (src->nballots) {
        dst->sorted = dst->sorted && src->sorted &&
                      (dst->nballots == 0 ||
                       strcmp(dst->ballots[dst->nballots - 1].file, src->ballots[0].file) < 0);
        memcpy(dst->ballots + dst->nballots, src->ballots, src->nballots * sizeof *src->ballots);
        dst->nballots = n;
        src->nballots = 0;
    }
    return DT_OK;
}

size_t dt_verify_partial_ballots(const dt_verify_partial *p)
{
    return p->nballots;
}

void dt_verify_partial_ballot(const dt_verify_partial *p, size_t i, const char **file, const unsigned char **code,
                              int *challenged)
{
    if (i >= p->nballots)
        dt_misuse("dt_verify_partial_ballot: index out of range");
    if (file)
        *file = p->ballots[i].file;
    if (code)
        *code = p->ballots[i].code;
    if (challenged)
        *challenged = p->ballots[i].state == DT_BALLOT_CHALLENGED;
}

/* ---- bytes ---- */

typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool nomem;
} wbuf;

static void put(wbuf *w, const void *x, size_t n)
{
    if (w->nomem || n == 0)
        return;
    if (w->cap - w->n < n) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->n < n && cap <= SIZE_MAX / 2)
            cap *= 2;
        unsigned char *np = cap - w->n >= n ? realloc(w->p, cap) : NULL;
        if (!np) {
            w->nomem = true;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->n, x, n);
    w->n += n;
}

static void put_u64(wbuf *w, uint64_t x)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(x >> (8 * i));
    put(w, b, 8);
}

static void put_u32(wbuf *w, uint32_t x)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(x >> (8 * i));
    put(w, b, 4);
}

static void put_u8(wbuf *w, uint8_t x)
{
    put(w, &x, 1);
}

static void put_str(wbuf *w, const char *s)
{
    if (!s) {
        put_u32(w, VP_NO_STRING);
        return;
    }
    size_t n = strlen(s);
    put_u32(w, (uint32_t)n);
    put(w, s, n);
}

dt_err dt_verify_partial_serialize(unsigned char **out, size_t *outlen, const dt_record *rec,
                                   const dt_verify_partial *p)
{
    wbuf w = {0};
    unsigned char enc[DT_ELEM_MAX_BYTES], h[32];

    *out = NULL;
    *outlen = 0;
    if (!dt_vp_matches(p, rec))
        return DT_ERR_INVALID;
    put(&w, VP_MAGIC, VP_MAGIC_LEN);
    put_u32(&w, (uint32_t)p->group);
    put_u32(&w, (uint32_t)p->eb);
    put(&w, p->he, 32);
    put_u64(&w, p->nopts);
    for (size_t o = 0; o < p->nopts; o++) {
        dt_elem_encode(rec->group, enc, &p->A[o]);
        put(&w, enc, p->eb);
        dt_elem_encode(rec->group, enc, &p->B[o]);
        put(&w, enc, p->eb);
        put_u64(&w, p->count[o]);
    }
    for (int s = 0; s < DT_VP_SLOTS; s++)
        put_u64(&w, p->nfail[s]);
    for (int s = 0; s < DT_VP_SLOTS; s++)
        put_u64(&w, p->checked[s]);
    put_u64(&w, p->nballots);
    for (size_t i = 0; i < p->nballots; i++) {
        const dt_vp_ballot *b = &p->ballots[i];
        size_t nmsg = 0;
        for (size_t k = 0; k < b->nmsg; k++)
            nmsg += b->msg[k].text != NULL;
        put_u8(&w, b->state);
        put_u8(&w, b->flags);
        put(&w, b->code, 32);
        put(&w, b->baux_prev, 32);
        put_str(&w, b->file);
        put_str(&w, b->id);
        put_str(&w, b->device);
        put_u32(&w, (uint32_t)nmsg);
        for (size_t k = 0; k < b->nmsg; k++)
            if (b->msg[k].text) {
                put_u8(&w, b->msg[k].step);
                put_str(&w, b->msg[k].text);
            }
    }
    if (!w.nomem) {
        dt_sha256(h, w.p, w.n);
        put(&w, h, 32);
    }
    if (w.nomem) {
        free(w.p);
        return DT_ERR_NOMEM;
    }
    *out = w.p;
    *outlen = w.n;
    return DT_OK;
}

typedef struct rbuf {
    const unsigned char *p;
    size_t n, off;
    const char *bad; /* the first thing found wrong */
} rbuf;

static const unsigned char *take(rbuf *r, size_t n, const char *what)
{
    if (r->bad)
        return NULL;
    if (r->n - r->off < n) {
        r->bad = what;
        return NULL;
    }
    r->off += n;
    return r->p + r->off - n;
}

static uint64_t get_u64(rbuf *r, const char *what)
{
    const unsigned char *b = take(r, 8, what);
    uint64_t x = 0;
    for (int i = 7; b && i >= 0; i--)
        x = x << 8 | b[i];
    return x;
}

static uint32_t get_u32(rbuf *r, const char *what)
{
    const unsigned char *b = take(r, 4, what);
    uint32_t x = 0;
    for (int i = 3; b && i >= 0; i--)
        x = x << 8 | b[i];
    return x;
}

static uint8_t get_u8(rbuf *r, const char *what)
{
    const unsigned char *b = take(r, 1, what);
    return b ? b[0] : 0;
}

/* A string of at most max bytes without NUL; *s NULL for "none" if
 * optional. False (r->bad set) otherwise or out of memory (*nomem). */
static bool get_str(rbuf *r, char **s, size_t max, bool optional, const char *what, bool *nomem)
{
    uint32_t n = get_u32(r, what);
    const unsigned char *b;
    *s = NULL;
    if (r->bad)
        return false;
    if (n == VP_NO_STRING && optional)
        return true;
    if (n == 0 || n > max) {
        r->bad = what;
        return false;
    }
    if (!(b = take(r, n, what)))
        return false;
    if (memchr(b, 0, n)) {
        r->bad = what;
        return false;
    }
    if (!(*s = malloc((size_t)n + 1))) {
        *nomem = true;
        return false;
    }
    memcpy(*s, b, n);
    (*s)[n] = 0;
    return true;
}

dt_err dt_verify_partial_deserialize(dt_verify_partial **out, char **msg, const dt_record *rec,
                                     const unsigned char *buf, size_t len)
{
    dt_verify_partial *p = NULL;
    rbuf r = {buf, len, 0, NULL};
    unsigned char h[32];
    const unsigned char **enc = NULL;
    bool nomem = false;
    dt_err err = DT_ERR_ENCODING;
    uint64_t n;

    *out = NULL;
    if (msg)
        *msg = NULL;
    if (len < VP_MAGIC_LEN + 32 || memcmp(buf, VP_MAGIC, VP_MAGIC_LEN) != 0) {
        r.bad = len >= VP_MAGIC_LEN && memcmp(buf, VP_MAGIC, VP_MAGIC_LEN - 1) == 0
                    ? "another version of the format"
                    : "not a partial result of detente's verifier (too short or wrong magic)";
        goto out;
    }
    dt_sha256(h, buf, len - 32);
    if (memcmp(h, buf + len - 32, 32) != 0) {
        r.bad = "the bytes do not match their SHA-256 (truncated or corrupted)";
        goto out;
    }
    r.n = len - 32;
    r.off = VP_MAGIC_LEN;
    if (!(p = dt_vp_create(rec))) {
        nomem = true;
        goto out;
    }
    if (get_u32(&r, "group") != (uint32_t)p->group || get_u32(&r, "element length") != (uint32_t)p->eb) {
        err = DT_ERR_INVALID;
        r.bad = r.bad ? r.bad : "another group than the record's";
        goto out;
    }
    {
        const unsigned char *he = take(&r, 32, "H_E");
        if (he && memcmp(he, p->he, 32) != 0) {
            err = DT_ERR_INVALID;
            r.bad = "another election (H_E differs)";
            goto out;
        }
    }
    if (get_u64(&r, "options") != p->nopts) {
        if (!r.bad) {
            err = DT_ERR_INVALID;
            r.bad = "another number of options than the record's manifest";
        }
        goto out;
    }
    if (!(enc = calloc(2 * p->nopts + 1, sizeof *enc))) {
        nomem = true;
        goto out;
    }
    for (size_t o = 0; o < p->nopts; o++) {
        enc[2 * o] = take(&r, p->eb, "aggregate");
        enc[2 * o + 1] = take(&r, p->eb, "aggregate");
        p->count[o] = get_u64(&r, "count");
    }
    if (r.bad)
        goto out;
    /* every aggregate in the group, decoded as one batch (A_0, B_0, A_1, ...) */
    if (p->nopts) {
        dt_elem *e = calloc(2 * p->nopts, sizeof *e);
        dt_err derr = e ? dt_elem_decode_batch_var(rec->group, e, enc, p->eb, 2 * p->nopts) : DT_ERR_NOMEM;
        for (size_t o = 0; derr == DT_OK && o < p->nopts; o++) {
            p->A[o] = e[2 * o];
            p->B[o] = e[2 * o + 1];
        }
        free(e);
        if (derr == DT_ERR_NOMEM) {
            nomem = true;
            goto out;
        }
        if (derr != DT_OK) {
            err = DT_ERR_INVALID;
            r.bad = "an aggregate is not an element of the group";
            goto out;
        }
    }
    for (int s = 0; s < DT_VP_SLOTS; s++)
        p->nfail[s] = get_u64(&r, "failure counts");
    for (int s = 0; s < DT_VP_SLOTS; s++)
        p->checked[s] = get_u64(&r, "checked counts");
    n = get_u64(&r, "ballot count");
    if (r.bad)
        goto out;
    if (n > (r.n - r.off) / VP_BALLOT_MIN) {
        r.bad = "more ballots than the bytes can hold";
        goto out;
    }
    if (!(p->ballots = calloc(n ? n : 1, sizeof *p->ballots))) {
        nomem = true;
        goto out;
    }
    p->cap = n;
    for (size_t i = 0; i < n; i++) {
        dt_vp_ballot *b = &p->ballots[i];
        const unsigned char *x;
        uint32_t nmsg;
        size_t per_step[DT_VP_SLOTS] = {0};
        p->nballots = i + 1;
        b->state = get_u8(&r, "ballot state");
        b->flags = get_u8(&r, "ballot flags");
        if ((x = take(&r, 32, "confirmation code")))
            memcpy(b->code, x, 32);
        if ((x = take(&r, 32, "B_aux")))
            memcpy(b->baux_prev, x, 32);
        if (!r.bad && b->state != DT_BALLOT_CAST && b->state != DT_BALLOT_CHALLENGED)
            r.bad = "ballot state";
        if (!r.bad && (b->flags & ~(DT_VP_PREENCRYPT | DT_VP_BAUX_FORM | DT_VP_BAUX32)))
            r.bad = "ballot flags";
        if (!get_str(&r, &b->file, VP_FILE_MAX, false, "ballot file", &nomem) ||
            !get_str(&r, &b->id, DT_LIMIT_STRING, false, "ballot id", &nomem) ||
            !get_str(&r, &b->device, DT_LIMIT_STRING, true, "ballot device", &nomem))
            goto out;
        nmsg = get_u32(&r, "message count");
        if (r.bad)
            goto out;
        if (nmsg > (size_t)DT_VP_SLOTS * DT_VERIFY_MAX_MESSAGES) {
            r.bad = "message count";
            goto out;
        }
        if (nmsg && !(b->msg = calloc(nmsg, sizeof *b->msg))) {
            nomem = true;
            goto out;
        }
        for (uint32_t k = 0; k < nmsg; k++) {
            uint8_t step = get_u8(&r, "message step");
            if (!r.bad && (step < 1 || step >= DT_VP_SLOTS || ++per_step[step] > DT_VERIFY_MAX_MESSAGES))
                r.bad = "message step";
            b->nmsg = k + 1;
            b->msg[k].step = step;
            if (!get_str(&r, &b->msg[k].text, VP_TEXT_MAX, false, "message", &nomem))
                goto out;
        }
    }
    if (!r.bad && r.off != r.n)
        r.bad = "bytes left over after the last ballot";
    if (r.bad)
        goto out;
    p->sorted = false;
    if (dt_vp_sort(p) != DT_OK) {
        err = DT_ERR_INVALID;
        r.bad = "a ballot file twice";
        goto out;
    }
    *out = p;
    p = NULL;
    err = DT_OK;
out:
    if (nomem)
        err = DT_ERR_NOMEM;
    if (err && msg)
        *msg = dt_strdup_printf("partial result: %s", nomem ? "out of memory" : r.bad ? r.bad : dt_strerror(err));
    free(enc);
    dt_verify_partial_destroy(p);
    return err;
}
