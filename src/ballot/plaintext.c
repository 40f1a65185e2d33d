/* Plaintext ballots: parsed from the layout of egk-ec's private data and
 * checked against the manifest; serialized in the same layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ballot/ballot_impl.h"

const char *const dt_ballot_cd_status_names[4] = {"normal", "null_vote", "over_vote", "under_vote"};

/* ---- allocation ---- */

dt_plaintext_ballot *dt_plaintext_ballot_alloc(const dt_ballot_ctx *ctx, const char *id, size_t style)
{
    dt_plaintext_ballot *pb = calloc(1, sizeof *pb);
    size_t *mis = NULL, n = 0;
    if (!pb)
        return NULL;
    pb->ctx = ctx;
    pb->style = style;
    pb->id = strdup(id);
    mis = dt_ballot_style_contests(ctx, style, &n);
    if (!pb->id || !mis)
        goto fail;
    pb->contests = calloc(n ? n : 1, sizeof *pb->contests);
    if (!pb->contests)
        goto fail;
    pb->ncontests = n;
    for (size_t i = 0; i < n; i++) {
        const dt_rec_mcontest *mc = &ctx->m->contests[mis[i]];
        pb->contests[i].mi = mis[i];
        pb->contests[i].votes = calloc(mc->noptions ? mc->noptions : 1, sizeof *pb->contests[i].votes);
        if (!pb->contests[i].votes)
            goto fail;
    }
    free(mis);
    return pb;
fail:
    free(mis);
    dt_plaintext_ballot_destroy(pb);
    return NULL;
}

void dt_plaintext_ballot_destroy(dt_plaintext_ballot *pb)
{
    if (!pb)
        return;
    for (size_t i = 0; pb->contests && i < pb->ncontests; i++) {
        dt_pcontest *pc = &pb->contests[i];
        if (pc->votes)
            dt_memzero(pc->votes, pb->ctx->m->contests[pc->mi].noptions * sizeof *pc->votes);
        free(pc->votes);
        for (size_t w = 0; pc->write_ins && w < pc->nwrite; w++) {
            if (pc->write_ins[w])
                dt_memzero(pc->write_ins[w], strlen(pc->write_ins[w]));
            free(pc->write_ins[w]);
        }
        free(pc->write_ins);
        if (pc->over)
            dt_memzero(pc->over, pc->nover * sizeof *pc->over);
        free(pc->over);
        dt_memzero(pc, sizeof *pc);
    }
    free(pb->contests);
    free(pb->id);
    free(pb);
}

const char *dt_plaintext_ballot_id(const dt_plaintext_ballot *pb)
{
    DT_BALLOT_CHECK(pb);
    return pb->id;
}

/* ---- parsing ---- */

static dt_err id_member(char **msg, const char **out, const json_t *obj, const char *where, const char *key)
{
    dt_err err = dt_ballot_jstr(msg, out, json_object_get(obj, key), where, key);
    if (err == DT_OK && **out == '\0') {
        *out = NULL;
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: %s: empty", where, key);
    }
    return err;
}

/* An optional sequence_order: if present it must equal the manifest's. */
static dt_err check_seq(char **msg, const json_t *obj, const char *where, uint32_t want)
{
    const json_t *v = json_object_get(obj, "sequence_order");
    if (!v)
        return DT_OK;
    if (!json_is_integer(v))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: sequence_order: expected an integer, found %s", where,
                              dt_ballot_jtype(v));
    if (json_integer_value(v) != (json_int_t)want)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: sequence_order %lld differs from the manifest's %u", where,
                              (long long)json_integer_value(v), want);
    return DT_OK;
}

static dt_err parse_selection(char **msg, dt_pcontest *pc, const dt_rec_mcontest *mc, bool *seen, const json_t *s,
                              const char *cwhere, size_t idx)
{
    char where[2 * DT_LIMIT_STRING + 200];
    const char *sid;
    const json_t *v;
    json_int_t vote;
    long o;
    dt_err err;

    snprintf(where, sizeof where, "%s: selections[%zu]", cwhere, idx);
    if (!json_is_object(s))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: expected an object, found %s", where, dt_ballot_jtype(s));
    if ((err = id_member(msg, &sid, s, where, "selection_id")))
        return err;
    o = dt_ballot_find_option(mc, sid);
    if (o < 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: selection %s is not an option of the contest", cwhere, sid);
    if (seen[o])
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: selection %s appears twice", cwhere, sid);
    seen[o] = true;
    snprintf(where, sizeof where, "%s, selection %s", cwhere, sid);
    if ((err = check_seq(msg, s, where, mc->options[o].seq)))
        return err;
    v = json_object_get(s, "vote");
    if (!v)
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: vote: missing", where);
    if (json_is_real(v))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: vote %g is not an integer", where, json_real_value(v));
    if (!json_is_integer(v))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: vote: expected an integer, found %s", where, dt_ballot_jtype(v));
    vote = json_integer_value(v);
    if (vote < 0)
        return dt_ballot_fail(msg, DT_ERR_RANGE, "%s: vote %lld is negative", where, (long long)vote);
    if (vote > (json_int_t)mc->option_limit)
        return dt_ballot_fail(msg, DT_ERR_RANGE, "%s: vote %lld exceeds the option limit R = %u", where,
                              (long long)vote, mc->option_limit);
    pc->votes[o] = (uint32_t)vote;
    return DT_OK;
}

static dt_err parse_write_ins(char **msg, dt_pcontest *pc, const json_t *arr, const char *cwhere)
{
    char key[64];
    size_t n;
    if (!arr)
        return DT_OK;
    if (!json_is_array(arr))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: write_ins: expected an array, found %s", cwhere,
                              dt_ballot_jtype(arr));
    n = json_array_size(arr);
    if (n > DT_LIMIT_SELECTIONS)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "%s: write_ins: more than %u", cwhere, DT_LIMIT_SELECTIONS);
    if (n == 0)
        return DT_OK;
    pc->write_ins = calloc(n, sizeof *pc->write_ins);
    if (!pc->write_ins)
        return DT_ERR_NOMEM;
    pc->nwrite = n;
    for (size_t w = 0; w < n; w++) {
        const char *text;
        dt_err err;
        snprintf(key, sizeof key, "write_ins[%zu]", w);
        if ((err = dt_ballot_jstr(msg, &text, json_array_get(arr, w), cwhere, key)))
            return err;
        if (!(pc->write_ins[w] = strdup(text)))
            return DT_ERR_NOMEM;
    }
    return DT_OK;
}

static dt_err parse_contest(char **msg, dt_plaintext_ballot *pb, bool *seen_c, bool *seen_o, const json_t *c,
                            const char *bwhere, size_t idx)
{
    const dt_ballot_ctx *ctx = pb->ctx;
    const dt_rec_style *st = &ctx->m->styles[pb->style];
    char where[2 * DT_LIMIT_STRING + 100];
    const dt_rec_mcontest *mc;
    const json_t *sarr;
    dt_pcontest *pc = NULL;
    const char *cid;
    size_t k, n;
    long mi;
    dt_err err;

    snprintf(where, sizeof where, "%s: contests[%zu]", bwhere, idx);
    if (!json_is_object(c))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: expected an object, found %s", where, dt_ballot_jtype(c));
    if ((err = id_member(msg, &cid, c, where, "contest_id")))
        return err;
    mi = dt_ballot_find_contest(ctx, cid);
    if (mi < 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s is not in the manifest", bwhere, cid);
    mc = &ctx->m->contests[mi];
    for (k = 0; k < pb->ncontests && !pc; k++)
        if (pb->contests[k].mi == (size_t)mi)
            pc = &pb->contests[k];
    if (!pc)
        return dt_ballot_fail(msg, DT_ERR_INVALID,
                              "%s: contest %s is not on ballot style %s (its district %s is not one of the style's geopolitical units)",
                              bwhere, cid, st->id, mc->district);
    k--;
    if (seen_c[k])
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s appears twice", bwhere, cid);
    seen_c[k] = true;
    snprintf(where, sizeof where, "%s, contest %s", bwhere, cid);
    if ((err = check_seq(msg, c, where, mc->seq)))
        return err;
    sarr = json_object_get(c, "selections");
    if (sarr) {
        if (!json_is_array(sarr))
            return dt_ballot_fail(msg, DT_ERR_PARSE, "%s: selections: expected an array, found %s", where,
                                  dt_ballot_jtype(sarr));
        n = json_array_size(sarr);
        if (n > DT_LIMIT_SELECTIONS)
            return dt_ballot_fail(msg, DT_ERR_LIMIT, "%s: selections: more than %u", where, DT_LIMIT_SELECTIONS);
        memset(seen_o, 0, mc->noptions * sizeof *seen_o);
        for (size_t s = 0; s < n; s++)
            if ((err = parse_selection(msg, pc, mc, seen_o, json_array_get(sarr, s), where, s)))
                return err;
    }
    return parse_write_ins(msg, pc, json_object_get(c, "write_ins"), where);
}

dt_err dt_plaintext_ballot_parse(const dt_ballot_ctx *ctx, dt_plaintext_ballot **out, char **msg, const char *json,
                                 size_t len)
{
    json_t *j = NULL;
    json_error_t jerr;
    dt_plaintext_ballot *pb = NULL;
    bool *seen_c = NULL, *seen_o = NULL;
    char where[DT_LIMIT_STRING + 32];
    const char *id, *style;
    const json_t *arr;
    size_t maxopt = 1, n;
    long si;
    dt_err err;

    DT_BALLOT_CHECK(ctx && out && json);
    *out = NULL;
    if (msg)
        *msg = NULL;
    if (len > DT_LIMIT_FILE_BYTES)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "plaintext ballot: %zu bytes, at most %u", len, DT_LIMIT_FILE_BYTES);
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return dt_ballot_fail(msg, DT_ERR_PARSE, "plaintext ballot: invalid JSON at line %d, column %d: %s",
                              jerr.line, jerr.column, jerr.text);
    if (!json_is_object(j)) {
        err = dt_ballot_fail(msg, DT_ERR_PARSE, "plaintext ballot: the top level is not a JSON object");
        goto out;
    }
    if ((err = id_member(msg, &id, j, "plaintext ballot", "ballot_id")))
        goto out;
    snprintf(where, sizeof where, "ballot %s", id);
    if ((err = id_member(msg, &style, j, where, "ballot_style")))
        goto out;
    si = dt_ballot_find_style(ctx, style);
    if (si < 0) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: ballot style %s is not in the manifest", where, style);
        goto out;
    }
    arr = json_object_get(j, "contests");
    if (!arr || !json_is_array(arr)) {
        err = dt_ballot_fail(msg, DT_ERR_PARSE, "%s: contests: %s%s", where, arr ? "expected an array, found " : "missing",
                             arr ? dt_ballot_jtype(arr) : "");
        goto out;
    }
    n = json_array_size(arr);
    if (n > DT_LIMIT_CONTESTS) {
        err = dt_ballot_fail(msg, DT_ERR_LIMIT, "%s: contests: more than %u", where, DT_LIMIT_CONTESTS);
        goto out;
    }
    pb = dt_plaintext_ballot_alloc(ctx, id, (size_t)si);
    if (!pb) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < pb->ncontests; i++)
        if (ctx->m->contests[pb->contests[i].mi].noptions > maxopt)
            maxopt = ctx->m->contests[pb->contests[i].mi].noptions;
    seen_c = calloc(pb->ncontests ? pb->ncontests : 1, sizeof *seen_c);
    seen_o = calloc(maxopt, sizeof *seen_o);
    if (!seen_c || !seen_o) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((err = parse_contest(msg, pb, seen_c, seen_o, json_array_get(arr, i), where, i)))
            goto out;
    err = DT_OK;
out:
    free(seen_c);
    free(seen_o);
    json_decref(j);
    if (err) {
        if (msg && !*msg)
            dt_ballot_fail(msg, err, "plaintext ballot: %s", dt_strerror(err));
        dt_plaintext_ballot_destroy(pb);
        return err;
    }
    *out = pb;
    return DT_OK;
}

/* ---- serializing ---- */

json_t *dt_plaintext_ballot_to_json(const dt_plaintext_ballot *pb)
{
    const dt_rec_manifest *m;
    json_t *j, *arr = NULL;
    bool ok;

    DT_BALLOT_CHECK(pb);
    m = pb->ctx->m;
    j = json_object();
    ok = j && dt_jset(j, "ballot_id", json_string(pb->id)) &&
         dt_jset(j, "ballot_style", json_string(m->styles[pb->style].id)) && (arr = dt_jset_arr(j, "contests"));
    for (size_t i = 0; ok && i < pb->ncontests; i++) {
        const dt_pcontest *pc = &pb->contests[i];
        const dt_rec_mcontest *mc = &m->contests[pc->mi];
        json_t *c, *sels = NULL, *wi = NULL, *ov = NULL;
        ok = (c = dt_jadd_obj(arr)) && dt_jset(c, "contest_id", json_string(mc->id)) &&
             dt_jset(c, "sequence_order", json_integer(mc->seq)) && (sels = dt_jset_arr(c, "selections"));
        for (size_t o = 0; ok && o < mc->noptions; o++) {
            json_t *s;
            ok = (s = dt_jadd_obj(sels)) && dt_jset(s, "selection_id", json_string(mc->options[o].id)) &&
                 dt_jset(s, "sequence_order", json_integer(mc->options[o].seq)) &&
                 dt_jset(s, "vote", json_integer(pc->votes[o]));
        }
        ok = ok && (wi = dt_jset_arr(c, "write_ins"));
        for (size_t w = 0; ok && w < pc->nwrite; w++)
            ok = dt_jappend(wi, json_string(pc->write_ins[w]));
        if (ok && pc->has_data) {
            ok = dt_jset(c, "status", json_string(dt_ballot_cd_status_names[pc->status])) &&
                 (ov = dt_jset_arr(c, "over_votes"));
            for (size_t k = 0; ok && k < pc->nover; k++)
                ok = dt_jappend(ov, json_integer(pc->over[k] == DT_BALLOT_CD_MARKER ? -1 : (json_int_t)pc->over[k]));
        }
    }
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

dt_err dt_plaintext_ballot_serialize(const dt_plaintext_ballot *pb, char **out, size_t *outlen)
{
    json_t *j;
    DT_BALLOT_CHECK(pb && out);
    *out = NULL;
    if (outlen)
        *outlen = 0;
    j = dt_plaintext_ballot_to_json(pb);
    if (!j)
        return DT_ERR_NOMEM;
    *out = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!*out)
        return DT_ERR_NOMEM;
    if (outlen)
        *outlen = strlen(*out);
    return DT_OK;
}
