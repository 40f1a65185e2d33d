/* The election as ballots see it (dt_ballot_ctx), the encrypting device
 * (dt_ballot_device), messages and manifest lookups. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/election.h>

#include "ballot/ballot_impl.h"

dt_err dt_ballot_fail(char **msg, dt_err err, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    if (!msg || *msg)
        return err;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *msg = strdup(buf);
    return err;
}

/* ---- JSON reading ---- */

const char *dt_ballot_jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A string of 1..1024 bytes without NUL. */
dt_err dt_ballot_jstr(char **msg, const char **out, const json_t *v, const char *where, const char *key)
{
    size_t len;
    *out = NULL;
    if (!v)
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: %s: missing", where, key);
    if (!json_is_string(v))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: %s: expected a string, found %s", where, key, dt_ballot_jtype(v));
    len = json_string_length(v);
    if (len > DT_LIMIT_STRING)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "%s: %s: longer than %u bytes", where, key, DT_LIMIT_STRING);
    if (strlen(json_string_value(v)) != len)
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: %s: contains a NUL character", where, key);
    *out = json_string_value(v);
    return DT_OK;
}

/* ---- manifest lookups ---- */

typedef struct idx_key {
    const char *s;
    uint32_t u;
    size_t i;
} idx_key;

static int cmp_key_str(const void *a, const void *b)
{
    const idx_key *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int cmp_key_u32(const void *a, const void *b)
{
    const idx_key *x = a, *y = b;
    if (x->u != y->u)
        return x->u < y->u ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

long dt_ballot_find_contest(const dt_ballot_ctx *ctx, const char *id)
{
    size_t lo = 0, hi = ctx->m->ncontests;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ctx->m->contests[ctx->by_id[mid]].id, id);
        if (c == 0)
            return (long)ctx->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

long dt_ballot_find_option(const dt_rec_mcontest *mc, const char *id)
{
    for (size_t o = 0; o < mc->noptions; o++)
        if (strcmp(mc->options[o].id, id) == 0)
            return (long)o;
    return -1;
}

long dt_ballot_find_style(const dt_ballot_ctx *ctx, const char *id)
{
    for (size_t s = 0; s < ctx->m->nstyles; s++)
        if (strcmp(ctx->m->styles[s].id, id) == 0)
            return (long)s;
    return -1;
}

int dt_ballot_style_has(const dt_rec_style *st, const dt_rec_mcontest *mc)
{
    for (size_t k = 0; k < st->ngpu; k++)
        if (strcmp(st->gpu[k], mc->district) == 0)
            return 1;
    return 0;
}

size_t *dt_ballot_style_contests(const dt_ballot_ctx *ctx, size_t style, size_t *n)
{
    const dt_rec_style *st = &ctx->m->styles[style];
    size_t *v = malloc((ctx->m->ncontests ? ctx->m->ncontests : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t mi = 0; mi < ctx->m->ncontests; mi++)
        if (dt_ballot_style_has(st, &ctx->m->contests[mi]))
            v[(*n)++] = mi;
    return v;
}

/* ---- the ctx ---- */

/* Unique strings and unique u32 values in keys[0..n) (sorted in place);
 * returns the index of a duplicate pair in *a, *b. */
static int find_dup_str(idx_key *keys, size_t n, size_t *a, size_t *b)
{
    qsort(keys, n, sizeof *keys, cmp_key_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1].s, keys[i].s) == 0) {
            *a = keys[i - 1].i;
            *b = keys[i].i;
            return 1;
        }
    return 0;
}

static int find_dup_u32(idx_key *keys, size_t n, size_t *a, size_t *b)
{
    qsort(keys, n, sizeof *keys, cmp_key_u32);
    for (size_t i = 1; i < n; i++)
        if (keys[i - 1].u == keys[i].u) {
            *a = keys[i - 1].i;
            *b = keys[i].i;
            return 1;
        }
    return 0;
}

static dt_err check_manifest(const dt_rec_manifest *m, char **msg)
{
    size_t cap = m->ncontests, a, b;
    idx_key *keys;
    dt_err err = DT_OK;

    for (size_t i = 0; i < m->ncontests; i++)
        if (m->contests[i].noptions > cap)
            cap = m->contests[i].noptions;
    keys = malloc((cap ? cap : 1) * sizeof *keys);
    if (!keys)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < m->ncontests; i++)
        keys[i] = (idx_key){.s = m->contests[i].id, .u = m->contests[i].seq, .i = i};
    if (find_dup_str(keys, m->ncontests, &a, &b)) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID, "manifest.json: contest id %s appears twice",
                             m->contests[a].id);
        goto out;
    }
    if (find_dup_u32(keys, m->ncontests, &a, &b)) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID,
                             "manifest.json: contests %s and %s share sequence_order %u (their nonces would repeat)",
                             m->contests[a].id, m->contests[b].id, m->contests[a].seq);
        goto out;
    }
    for (size_t i = 0; i < m->ncontests; i++) {
        const dt_rec_mcontest *mc = &m->contests[i];
        if (mc->seq >= 0x80000000u) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "manifest.json: contest %s: sequence_order is not below 2^31",
                                 mc->id);
            goto out;
        }
        for (size_t o = 0; o < mc->noptions; o++)
            keys[o] = (idx_key){.s = mc->options[o].id, .u = mc->options[o].seq, .i = o};
        if (find_dup_str(keys, mc->noptions, &a, &b)) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "manifest.json: contest %s: option id %s appears twice",
                                 mc->id, mc->options[a].id);
            goto out;
        }
        if (find_dup_u32(keys, mc->noptions, &a, &b)) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID,
                                 "manifest.json: contest %s: options %s and %s share sequence_order %u (their nonces would repeat)",
                                 mc->id, mc->options[a].id, mc->options[b].id, mc->options[a].seq);
            goto out;
        }
        for (size_t o = 0; o < mc->noptions; o++)
            if (mc->options[o].seq >= 0x80000000u) {
                err = dt_ballot_fail(msg, DT_ERR_INVALID,
                                     "manifest.json: contest %s, option %s: sequence_order is not below 2^31",
                                     mc->id, mc->options[o].id);
                goto out;
            }
    }
out:
    free(keys);
    return err;
}

dt_err dt_ballot_ctx_create(dt_ballot_ctx **out, char **msg, const dt_record *rec)
{
    dt_ballot_ctx *ctx = NULL;
    unsigned char he[DT_HASH_BYTES];
    idx_key *keys = NULL;
    dt_err err;

    DT_BALLOT_CHECK(out && rec && rec->group);
    *out = NULL;
    if (msg)
        *msg = NULL;
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return DT_ERR_NOMEM;
    ctx->rec = rec;
    ctx->g = rec->group;
    ctx->eb = rec->elem_bytes;
    ctx->Kenc = rec->K;
    ctx->m = &rec->manifest;
    memcpy(ctx->he, rec->he, DT_HASH_BYTES);

    if (dt_elem_decode(ctx->g, &ctx->K, rec->K, ctx->eb) != DT_OK) {
        err = dt_ballot_fail(msg, DT_ERR_NOT_IN_GROUP, "election_initialized.json: joint_public_key is not in the group");
        goto out;
    }
    if (dt_elem_is_identity(ctx->g, &ctx->K)) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID,
                             "election_initialized.json: joint_public_key is the identity (it would reveal every vote)");
        goto out;
    }
    dt_extended_base_hash(ctx->g, he, rec->hb, &ctx->K);
    if (memcmp(he, rec->he, DT_HASH_BYTES) != 0) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID,
                             "election_initialized.json: extended_base_hash is not H(H_B; 0x12, K)");
        goto out;
    }
    if ((ctx->Kt = dt_fixed_base_create(ctx->g, &ctx->K)) == NULL) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = check_manifest(ctx->m, msg)))
        goto out;
    ctx->by_id = malloc((ctx->m->ncontests ? ctx->m->ncontests : 1) * sizeof *ctx->by_id);
    keys = malloc((ctx->m->ncontests ? ctx->m->ncontests : 1) * sizeof *keys);
    if (!ctx->by_id || !keys) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < ctx->m->ncontests; i++)
        keys[i] = (idx_key){.s = ctx->m->contests[i].id, .i = i};
    qsort(keys, ctx->m->ncontests, sizeof *keys, cmp_key_str);
    for (size_t i = 0; i < ctx->m->ncontests; i++)
        ctx->by_id[i] = keys[i].i;
    err = DT_OK;
out:
    free(keys);
    if (err) {
        if (msg && !*msg)
            dt_ballot_fail(msg, err, "election: %s", dt_strerror(err));
        dt_ballot_ctx_destroy(ctx);
        return err;
    }
    *out = ctx;
    return DT_OK;
}

void dt_ballot_ctx_destroy(dt_ballot_ctx *ctx)
{
    if (!ctx)
        return;
    dt_fixed_base_destroy(ctx->Kt);
    free(ctx->by_id);
    free(ctx);
}

/* ---- devices ---- */

dt_err dt_ballot_device_create(dt_ballot_device **out, char **msg, const dt_ballot_ctx *ctx, const char *device_id,
                               const unsigned char *baux0, size_t baux0len)
{
    const dt_record *rec;
    dt_ballot_device *dev;
    size_t idlen;
    dt_err err = DT_OK;

    DT_BALLOT_CHECK(out && ctx && device_id && (baux0 || baux0len == 0));
    *out = NULL;
    if (msg)
        *msg = NULL;
    rec = ctx->rec;
    idlen = strlen(device_id);
    if (idlen == 0 || idlen > DT_LIMIT_STRING)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "device id: %zu bytes, expected 1 to %u", idlen, DT_LIMIT_STRING);
    if (!baux0) {
        baux0 = rec->baux0.p;
        baux0len = rec->baux0.n;
    }
    /* the record reader takes a B_aux of at most 1024 bytes, the chained code included */
    if (baux0len > DT_LIMIT_STRING - (rec->chain ? DT_HASH_BYTES : 0))
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "device %s: B_aux,0 has %zu bytes, at most %u", device_id, baux0len,
                              DT_LIMIT_STRING - (rec->chain ? DT_HASH_BYTES : 0));
    if (rec->chain && (baux0len != rec->baux0.n || (baux0len && memcmp(baux0, rec->baux0.p, baux0len) != 0)))
        return dt_ballot_fail(msg, DT_ERR_INVALID,
                              "device %s: the election chains confirmation codes, so B_aux,0 must be the baux0 of election_config.json",
                              device_id);
    dev = calloc(1, sizeof *dev);
    if (!dev)
        return DT_ERR_NOMEM;
    dev->ctx = ctx;
    dev->chain = rec->chain;
    dev->id = strdup(device_id);
    dev->baux0 = malloc(baux0len ? baux0len : 1);
    if (!dev->id || !dev->baux0) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (baux0len)
        memcpy(dev->baux0, baux0, baux0len);
    dev->baux0len = baux0len;
    if (dev->chain) {
        /* H_0 = H(H_E; 0x24, B_aux,0), B_aux,0 not length-prefixed (as the verifier's 7.D) */
        dt_hash_ctx h;
        dt_hash_init(&h, ctx->he);
        dt_hash_u8(&h, DT_H_CONFIRMATION_CODE);
        dt_hash_bytes(&h, dev->baux0, dev->baux0len);
        dt_hash_final(&h, dev->head);
    }
out:
    if (err) {
        dt_ballot_device_destroy(dev);
        return err;
    }
    *out = dev;
    return DT_OK;
}

void dt_ballot_device_destroy(dt_ballot_device *dev)
{
    if (!dev)
        return;
    free(dev->id);
    free(dev->baux0);
    free(dev);
}

int dt_ballot_device_chains(const dt_ballot_device *dev)
{
    DT_BALLOT_CHECK(dev);
    return dev->chain;
}

void dt_ballot_device_chain_head(const dt_ballot_device *dev, unsigned char head[DT_HASH_BYTES])
{
    DT_BALLOT_CHECK(dev && head && dev->chain);
    memcpy(head, dev->head, DT_HASH_BYTES);
}

void dt_ballot_device_resume_chain(dt_ballot_device *dev, const unsigned char last_code[DT_HASH_BYTES])
{
    DT_BALLOT_CHECK(dev && last_code && dev->chain);
    memcpy(dev->head, last_code, DT_HASH_BYTES);
}
