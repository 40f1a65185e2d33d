/* The differential check of the two encrypted-ballot readers: cJSON (the
 * one in use: src/record/ballot_cjson.c, src/ballot/ballot_cjson.c) against
 * jansson (the reference kept for this: record.c's read_ballot_jansson,
 * ballot_json.c's dt_ballot_parse_jansson). For tests/test_ballot_parse.c
 * and fuzz/fuzz_ballot_diff.c.
 *
 * On any text both readers accept with equal values, or both refuse with
 * the same error and the same message, word for word (JSON-level messages
 * too: the cJSON path asks jansson for its words when it refuses; a text
 * nested deeper than cJSON goes is read by jansson). */
#ifndef DT_TESTS_BALLOT_DIFF_H
#define DT_TESTS_BALLOT_DIFF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/ballot.h>
#include <detente/record.h>

#include "ballot/ballot_cjson.h"
#include "ballot/ballot_impl.h"
#include "ballot/ballot_json.h"
#include "record/ballot_cjson.h"
#include "record/record.h"

typedef enum bd_outcome {
    BD_ACCEPTED = 0, /* both, equal values */
    BD_REFUSED,      /* both, same error and message */
    BD_DIFFER,       /* a difference: why says which */
} bd_outcome;

#define BD_DIFF(...)                                                                                    \
    do {                                                                                                \
        snprintf(why, cap, __VA_ARGS__);                                                                \
        return 0;                                                                                       \
    } while (0)

static inline int bd_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline int bd_mem_eq(const void *a, const void *b, size_t n)
{
    return (!a && !b) || (a && b && memcmp(a, b, n) == 0);
}

/* ---- the record reader: dt_rec_ballot ---- */

static inline int bd_rec_proof_eq(const dt_rec_proof *a, const dt_rec_proof *b, size_t eb)
{
    return a->n == b->n && bd_mem_eq(a->c, b->c, a->n * 32) && bd_mem_eq(a->v, b->v, a->n * 32) &&
           bd_mem_eq(a->a, b->a, a->n * eb) && bd_mem_eq(a->b, b->b, a->n * eb);
}

static inline int bd_rec_equal(const dt_rec_ballot *x, const dt_rec_ballot *y, size_t eb, char *why, size_t cap)
{
    if (!bd_str_eq(x->file, y->file) || !bd_str_eq(x->id, y->id) || !bd_str_eq(x->style, y->style) ||
        !bd_str_eq(x->device, y->device))
        BD_DIFF("record reader: file, id, style or device differ");
    if (x->timestamp != y->timestamp)
        BD_DIFF("record reader: timestamp %lld != %lld", (long long)x->timestamp, (long long)y->timestamp);
    if (x->baux.n != y->baux.n || !bd_mem_eq(x->baux.p, y->baux.p, x->baux.n) ||
        memcmp(x->code, y->code, 32) != 0 || memcmp(x->election_id, y->election_id, 32) != 0)
        BD_DIFF("record reader: code_baux, confirmation_code or election_id differ");
    if (x->state != y->state || x->preencrypt != y->preencrypt || x->ncontests != y->ncontests)
        BD_DIFF("record reader: state, is_preencrypt or the number of contests differ");
    for (size_t i = 0; i < x->ncontests; i++) {
        const dt_rec_bcontest *a = &x->contests[i], *b = &y->contests[i];
        if (!bd_str_eq(a->id, b->id) || a->seq != b->seq || memcmp(a->hash, b->hash, 32) != 0 ||
            a->nsel != b->nsel || !bd_rec_proof_eq(&a->proof, &b->proof, eb) || a->has_data != b->has_data)
            BD_DIFF("record reader: contest %zu differs", i);
        if (a->has_data &&
            (!bd_mem_eq(a->data.c0, b->data.c0, eb) || a->data.c1.n != b->data.c1.n ||
             !bd_mem_eq(a->data.c1.p, b->data.c1.p, a->data.c1.n) || memcmp(a->data.c2, b->data.c2, 32) != 0 ||
             a->data.num_bytes != b->data.num_bytes))
            BD_DIFF("record reader: contest %zu: contest data differs", i);
        for (size_t s = 0; s < a->nsel; s++) {
            const dt_rec_bsel *p = &a->sel[s], *q = &b->sel[s];
            if (!bd_str_eq(p->id, q->id) || p->seq != q->seq || !bd_mem_eq(p->ct.pad, q->ct.pad, eb) ||
                !bd_mem_eq(p->ct.data, q->ct.data, eb) || !bd_rec_proof_eq(&p->proof, &q->proof, eb))
                BD_DIFF("record reader: contest %zu, selection %zu differs", i, s);
        }
    }
    return 1;
}

/* Both errors and messages equal; on BD_DIFFER, why. */
static inline bd_outcome bd_outcomes(const char *who, dt_err ej, const char *mj, dt_err ec, const char *mc, char *why,
                                     size_t cap)
{
    if (ej != ec) {
        snprintf(why, cap, "%s: jansson %d (%s), cJSON %d (%s)", who, ej, mj ? mj : "no message", ec,
                 mc ? mc : "no message");
        return BD_DIFFER;
    }
    if (ej != DT_OK && !bd_str_eq(mj, mc)) {
        snprintf(why, cap, "%s: error %d, messages differ:\n  jansson: %s\n  cJSON:   %s", who, ej, mj ? mj : "-",
                 mc ? mc : "-");
        return BD_DIFFER;
    }
    return ej == DT_OK ? BD_ACCEPTED : BD_REFUSED;
}

/* The record reader's two paths on one ballot text, elements of eb bytes. */
static inline bd_outcome bd_record(const char *text, size_t len, size_t eb, char *why, size_t cap)
{
    dt_record *rj = NULL, *rc = NULL;
    char *mj = NULL, *mc = NULL, w[1200];
    dt_err ej = dt_record_parse_ballot_jansson(&rj, &mj, eb, (const unsigned char *)text, len);
    dt_err ec = dt_record_parse_file(&rc, &mc, DT_RECORD_FILE_BALLOT, eb, (const unsigned char *)text, len);
    snprintf(w, sizeof w, "record reader (%zu-byte elements)", eb);
    bd_outcome o = bd_outcomes(w, ej, mj, ec, mc, why, cap);
    if (o != BD_DIFFER && ((ej == DT_OK) != (rj != NULL) || (ec == DT_OK) != (rc != NULL) ||
                           (ej == DT_OK) != (mj == NULL) || (ec == DT_OK) != (mc == NULL))) {
        snprintf(why, cap, "%s: a record without success, or a message with it", w);
        o = BD_DIFFER;
    }
    if (o == BD_ACCEPTED && (rj->nballots != 1 || rc->nballots != 1)) {
        snprintf(why, cap, "%s: accepted without one ballot", w);
        o = BD_DIFFER;
    }
    if (o == BD_ACCEPTED && !bd_rec_equal(&rj->ballots[0], &rc->ballots[0], eb, why, cap))
        o = BD_DIFFER;
    dt_record_destroy(rj);
    dt_record_destroy(rc);
    free(mj);
    free(mc);
    return o;
}

/* ---- the ballot module's reader: dt_ballot ---- */

static inline int bd_proof_eq(const dt_bproof *a, const dt_bproof *b, size_t eb)
{
    return a->n == b->n && bd_mem_eq(a->c, b->c, a->n * 32) && bd_mem_eq(a->v, b->v, a->n * 32) &&
           bd_mem_eq(a->a, b->a, a->n * eb) && bd_mem_eq(a->b, b->b, a->n * eb);
}

static inline int bd_ballot_equal(const dt_ballot *x, const dt_ballot *y, size_t eb, char *why, size_t cap)
{
    if (x->ctx != y->ctx || !bd_str_eq(x->id, y->id) || !bd_str_eq(x->style, y->style) ||
        !bd_str_eq(x->device, y->device))
        BD_DIFF("dt_ballot_parse: context, id, style or device differ");
    if (x->timestamp != y->timestamp)
        BD_DIFF("dt_ballot_parse: timestamp %lld != %lld", (long long)x->timestamp, (long long)y->timestamp);
    if (x->bauxlen != y->bauxlen || !bd_mem_eq(x->baux, y->baux, x->bauxlen) || memcmp(x->code, y->code, 32) != 0 ||
        memcmp(x->election_id, y->election_id, 32) != 0)
        BD_DIFF("dt_ballot_parse: code_baux, confirmation_code or election_id differ");
    if (x->state != y->state || x->preencrypt != y->preencrypt || x->ncontests != y->ncontests)
        BD_DIFF("dt_ballot_parse: state, is_preencrypt or the number of contests differ");
    for (size_t i = 0; i < x->ncontests; i++) {
        const dt_bcontest *a = &x->contests[i], *b = &y->contests[i];
        if (!bd_str_eq(a->id, b->id) || a->seq != b->seq || memcmp(a->hash, b->hash, 32) != 0 ||
            a->nsel != b->nsel || !bd_proof_eq(&a->proof, &b->proof, eb) || a->has_data != b->has_data)
            BD_DIFF("dt_ballot_parse: contest %zu differs", i);
        if (a->has_data && (!bd_mem_eq(a->c0, b->c0, eb) || a->c1len != b->c1len || !bd_mem_eq(a->c1, b->c1, a->c1len) ||
                            memcmp(a->c2, b->c2, 32) != 0 || a->num_bytes != b->num_bytes))
            BD_DIFF("dt_ballot_parse: contest %zu: contest data differs", i);
        for (size_t s = 0; s < a->nsel; s++) {
            const dt_bsel *p = &a->sel[s], *q = &b->sel[s];
            if (!bd_str_eq(p->id, q->id) || p->seq != q->seq || !bd_mem_eq(p->alpha, q->alpha, eb) ||
                !bd_mem_eq(p->beta, q->beta, eb) || !bd_proof_eq(&p->proof, &q->proof, eb))
                BD_DIFF("dt_ballot_parse: contest %zu, selection %zu differs", i, s);
        }
    }
    return 1;
}

/* dt_ballot_parse (cJSON) against dt_ballot_parse_jansson on one text. */
static inline bd_outcome bd_ballot(const dt_ballot_ctx *ctx, const char *text, size_t len, char *why, size_t cap)
{
    dt_ballot *bj = NULL, *bc = NULL;
    char *mj = NULL, *mc = NULL;
    dt_err ej = dt_ballot_parse_jansson(ctx, &bj, &mj, text, len);
    dt_err ec = dt_ballot_parse(ctx, &bc, &mc, text, len);
    bd_outcome o = bd_outcomes("dt_ballot_parse", ej, mj, ec, mc, why, cap);
    if (o != BD_DIFFER && ((ej == DT_OK) != (bj != NULL) || (ec == DT_OK) != (bc != NULL) ||
                           (ej == DT_OK) != (mj == NULL) || (ec == DT_OK) != (mc == NULL))) {
        snprintf(why, cap, "dt_ballot_parse: a ballot without success, or a message with it");
        o = BD_DIFFER;
    }
    if (o == BD_ACCEPTED && !bd_ballot_equal(bj, bc, ctx->eb, why, cap))
        o = BD_DIFFER;
    /* and the writer without a tree against json_dumps, on what was read
     * (a PENDING ballot is written as CAST) */
    if (o == BD_ACCEPTED) {
        char *tw = NULL, *tj = NULL;
        size_t nw = 0, nj = 0;
        dt_err sw, sj;
        if (dt_ballot_get_state(bc) == DT_BALLOT_STATE_PENDING)
            dt_ballot_set_state(bc, DT_BALLOT_STATE_CAST);
        sw = dt_ballot_serialize(bc, &tw, &nw);
        sj = dt_ballot_serialize_jansson(bc, &tj, &nj);
        if (sw != sj || (sw == DT_OK && (nw != nj || memcmp(tw, tj, nw) != 0))) {
            snprintf(why, cap, "dt_ballot_serialize (%d, %zu bytes) differs from json_dumps (%d, %zu bytes)", (int)sw,
                     nw, (int)sj, nj);
            o = BD_DIFFER;
        }
        free(tw);
        free(tj);
        tw = tj = NULL;
        sw = dt_ballot_serialize_compact(bc, &tw, &nw);
        sj = dt_ballot_serialize_compact_jansson(bc, &tj, &nj);
        if (o == BD_ACCEPTED && (sw != sj || (sw == DT_OK && (nw != nj || memcmp(tw, tj, nw) != 0)))) {
            snprintf(why, cap, "dt_ballot_serialize_compact (%d, %zu bytes) differs from json_dumps (%d, %zu bytes)",
                     (int)sw, nw, (int)sj, nj);
            o = BD_DIFFER;
        }
        free(tw);
        free(tj);
    }
    dt_ballot_destroy(bj);
    dt_ballot_destroy(bc);
    free(mj);
    free(mc);
    return o;
}

#undef BD_DIFF

#endif
