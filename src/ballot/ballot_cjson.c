/* Encrypted ballots read with cJSON: dt_ballot_parse (ballot_cjson.h).
 * The functions of ballot_json.c's jansson reader (member, get_str, get_u32,
 * get_b64, get_proof, ...) one for one, with the same checks in the same
 * order and the same messages; only the JSON values differ. A change to
 * one reader must go to the other: tests/test_ballot_parse.c compares them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ballot/ballot_cjson.h"
#include "ballot/ballot_impl.h"
#include "util/cjson_strict.h"
#include "util/codec.h"

typedef struct rd {
    char **msg;
    char where[DT_LIMIT_STRING + 32]; /* "encrypted ballot", then "ballot <id>" */
    size_t eb;
    const dt_cjson_doc *doc;
} rd;

/* the key path of a message (util/cjson_strict.h) */
typedef dt_cjson_path kp;

/* "<where>: <path>: <text>", the messages of ballot_json.c */
static dt_err fail(rd *r, dt_err err, const kp *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static dt_err fail(rd *r, dt_err err, const kp *path, const char *fmt, ...)
{
    char text[2048], p[512];
    va_list ap;
    if (!r->msg || *r->msg)
        return err;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    dt_cjson_path_format(p, sizeof p, path);
    return dt_ballot_fail(r->msg, err, "%s: %s: %s", r->where, p, text);
}

static dt_json_type type_of(const rd *r, const cJSON *v)
{
    return dt_cjson_typeof(r->doc, v);
}

static dt_err member(rd *r, const cJSON **out, const cJSON *obj, const kp *path, const char *key, dt_json_type t)
{
    const cJSON *v = dt_cjson_get(obj, key);
    const kp p = {path, key, 0, false};
    *out = NULL;
    if (!v)
        return fail(r, DT_ERR_PARSE, &p, "missing");
    dt_json_type vt = type_of(r, v);
    if (vt != t && !(t == DT_JSON_TRUE && vt == DT_JSON_FALSE))
        return fail(r, DT_ERR_PARSE, &p, "expected %s, found %s",
                    t == DT_JSON_OBJECT   ? "an object"
                    : t == DT_JSON_ARRAY  ? "an array"
                    : t == DT_JSON_STRING ? "a string"
                    : t == DT_JSON_TRUE   ? "a boolean"
                                          : "an integer",
                    dt_cjson_type_name(vt));
    *out = v;
    return DT_OK;
}

/* dt_ballot_jstr (ctx.c) for cJSON: a string of at most 1024 bytes */
static dt_err jstr(rd *r, const char **out, const cJSON *v, const kp *key)
{
    *out = NULL;
    if (!v)
        return fail(r, DT_ERR_PARSE, key, "missing");
    if (!cJSON_IsString(v))
        return fail(r, DT_ERR_PARSE, key, "expected a string, found %s", dt_cjson_type_name(type_of(r, v)));
    /* no NUL inside: dt_cjson_parse refuses \u0000 as jansson does, so
     * "contains a NUL character" cannot happen */
    if (strlen(v->valuestring) > DT_LIMIT_STRING)
        return fail(r, DT_ERR_LIMIT, key, "longer than %u bytes", DT_LIMIT_STRING);
    *out = v->valuestring;
    return DT_OK;
}

static dt_err get_str(rd *r, char **out, const cJSON *obj, const kp *path, const char *key)
{
    const kp p = {path, key, 0, false};
    const char *s;
    dt_err err;
    if ((err = jstr(r, &s, dt_cjson_get(obj, key), &p)))
        return err;
    return (*out = strdup(s)) ? DT_OK : DT_ERR_NOMEM;
}

static dt_err get_u32(rd *r, uint32_t *out, const cJSON *obj, const kp *path, const char *key, uint32_t max)
{
    const kp p = {path, key, 0, false};
    const cJSON *v = dt_cjson_get(obj, key);
    if (!v)
        return fail(r, DT_ERR_PARSE, &p, "missing");
    if (type_of(r, v) != DT_JSON_INTEGER)
        return fail(r, DT_ERR_PARSE, &p, "expected an integer, found %s", dt_cjson_type_name(type_of(r, v)));
    int64_t x = dt_cjson_int(r->doc, v);
    if (x < 0 || x > (int64_t)max)
        return fail(r, DT_ERR_RANGE, &p, "%lld is outside 0..%u", (long long)x, max);
    *out = (uint32_t)x;
    return DT_OK;
}

static dt_err get_b64(rd *r, unsigned char *out, size_t len, const cJSON *obj, const kp *path, const char *key)
{
    const kp p = {path, key, 0, false};
    const cJSON *v = dt_cjson_get(obj, key);
    if (!v || !cJSON_IsString(v))
        return fail(r, DT_ERR_PARSE, &p, "%s", v ? "expected a string" : "missing");
    if (dt_b64_decode_exact_pub(out, len, v->valuestring) != DT_OK)
        return fail(r, DT_ERR_ENCODING, &p, "not base64 of %zu bytes", len);
    return DT_OK;
}

static dt_err get_elem(rd *r, unsigned char **out, const cJSON *obj, const kp *path, const char *key)
{
    if (!(*out = malloc(r->eb)))
        return DT_ERR_NOMEM;
    return get_b64(r, *out, r->eb, obj, path, key);
}

/* *out is the array's first item (NULL if empty): cJSON's arrays are lists,
 * walked with ->next, never indexed */
static dt_err get_array(rd *r, const cJSON **out, size_t *n, const cJSON *obj, const kp *path, const char *key,
                        size_t max)
{
    const kp p = {path, key, 0, false};
    const cJSON *arr;
    dt_err err = member(r, &arr, obj, path, key, DT_JSON_ARRAY);
    *out = NULL;
    if (err)
        return err;
    *n = dt_cjson_size(arr);
    if (*n > max)
        return fail(r, DT_ERR_LIMIT, &p, "more than %zu items", max);
    *out = arr->child;
    return DT_OK;
}

/* ballot_json.c's element: the item (it) at path key[i] is an object */
static dt_err element(rd *r, const cJSON *it, const kp *item)
{
    if (!cJSON_IsObject(it))
        return fail(r, DT_ERR_PARSE, item, "expected an object, found %s", dt_cjson_type_name(type_of(r, it)));
    return DT_OK;
}

static dt_err get_proof(rd *r, dt_bproof *pr, const cJSON *obj, const kp *path, const char *key)
{
    const cJSON *po, *it;
    const kp p = {path, key, 0, false}, proofs = {&p, "proofs", 0, false};
    size_t n;
    dt_err err;
    if ((err = member(r, &po, obj, path, key, DT_JSON_OBJECT)))
        return err;
    if ((err = get_array(r, &it, &n, po, &p, "proofs", DT_LIMIT_PROOF_BRANCHES)))
        return err;
    if (n == 0)
        return fail(r, DT_ERR_PARSE, &proofs, "empty");
    pr->c = calloc(n, sizeof *pr->c);
    pr->v = calloc(n, sizeof *pr->v);
    if (!pr->c || !pr->v)
        return DT_ERR_NOMEM;
    pr->n = n;
    for (size_t j = 0; j < n; j++, it = it->next) {
        const kp q = {&p, "proofs", j, true};
        bool has_a, has_b;
        if ((err = element(r, it, &q)) || (err = get_b64(r, pr->c[j], 32, it, &q, "challenge")) ||
            (err = get_b64(r, pr->v[j], 32, it, &q, "response")))
            return err;
        /* the commitments: both or neither, in every pair or in none */
        has_a = dt_cjson_get(it, "a") != NULL;
        has_b = dt_cjson_get(it, "b") != NULL;
        if (has_a != has_b || (j > 0 && has_a != (pr->a != NULL)))
            return fail(r, DT_ERR_PARSE, &q, "the commitments a and b go together, in every pair of a proof or in none");
        if (!has_a)
            continue;
        if (j == 0 && (!(pr->a = malloc(n * r->eb)) || !(pr->b = malloc(n * r->eb))))
            return DT_ERR_NOMEM;
        if ((err = get_b64(r, pr->a + j * r->eb, r->eb, it, &q, "a")) ||
            (err = get_b64(r, pr->b + j * r->eb, r->eb, it, &q, "b")))
            return err;
    }
    return DT_OK;
}

static dt_err get_contest_data(rd *r, dt_bcontest *c, const cJSON *obj, const kp *path)
{
    const cJSON *d, *c1;
    const kp p = {path, "encrypted_contest_data", 0, false}, q = {&p, "c1", 0, false};
    dt_err err;
    if ((err = member(r, &d, obj, path, "encrypted_contest_data", DT_JSON_OBJECT)))
        return err;
    if ((err = get_elem(r, &c->c0, d, &p, "c0")) || (err = get_b64(r, c->c2, 32, d, &p, "c2")) ||
        (err = get_u32(r, &c->num_bytes, d, &p, "numBytes", DT_LIMIT_CONTEST_DATA)) ||
        (err = member(r, &c1, d, &p, "c1", DT_JSON_STRING)))
        return err;
    if (dt_b64_decode_alloc_pub(&c->c1, &c->c1len, c1->valuestring, DT_LIMIT_CONTEST_DATA + 32) != DT_OK ||
        c->c1len == 0 || c->c1len % 32 != 0)
        return fail(r, DT_ERR_ENCODING, &q, "not base64 of a positive multiple of 32 bytes (at most %u)",
                    DT_LIMIT_CONTEST_DATA + 32);
    c->has_data = true;
    return DT_OK;
}

static dt_err read_contest(rd *r, dt_bcontest *c, const cJSON *it, const kp *p)
{
    const cJSON *sit;
    dt_err err;
    if ((err = get_str(r, &c->id, it, p, "contest_id")) ||
        (err = get_u32(r, &c->seq, it, p, "sequence_order", 0x7fffffff)) ||
        (err = get_b64(r, c->hash, 32, it, p, "contest_hash")) || (err = get_proof(r, &c->proof, it, p, "proof")) ||
        (err = get_array(r, &sit, &c->nsel, it, p, "selections", DT_LIMIT_SELECTIONS)))
        return err;
    if (dt_cjson_get(it, "encrypted_contest_data") && (err = get_contest_data(r, c, it, p)))
        return err;
    c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
    if (!c->sel)
        return DT_ERR_NOMEM;
    for (size_t s = 0; s < c->nsel; s++, sit = sit->next) {
        dt_bsel *sel = &c->sel[s];
        const cJSON *ev;
        const kp q = {p, "selections", s, true}, w = {&q, "encrypted_vote", 0, false};
        if ((err = element(r, sit, &q)) || (err = get_str(r, &sel->id, sit, &q, "selection_id")) ||
            (err = get_u32(r, &sel->seq, sit, &q, "sequence_order", 0x7fffffff)) ||
            (err = member(r, &ev, sit, &q, "encrypted_vote", DT_JSON_OBJECT)))
            return err;
        if ((err = get_elem(r, &sel->alpha, ev, &w, "pad")) || (err = get_elem(r, &sel->beta, ev, &w, "data")) ||
            (err = get_proof(r, &sel->proof, sit, &q, "proof")))
            return err;
    }
    return DT_OK;
}

/* dt_ballot_from_json's checks over a cJSON tree */
static dt_err from_doc(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg, const dt_cjson_doc *doc)
{
    rd r = {.msg = msg, .eb = ctx->eb, .doc = doc};
    const cJSON *j = doc->root, *v, *it;
    const kp state_key = {NULL, "state", 0, false};
    dt_ballot *b = NULL;
    dt_err err;

    snprintf(r.where, sizeof r.where, "encrypted ballot");
    if (!cJSON_IsObject(j))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "encrypted ballot: the top level is not a JSON object");
    b = calloc(1, sizeof *b);
    if (!b)
        return DT_ERR_NOMEM;
    b->ctx = ctx;
    if ((err = get_str(&r, &b->id, j, NULL, "ballot_id")))
        goto out;
    snprintf(r.where, sizeof r.where, "ballot %s", b->id);
    if ((err = get_str(&r, &b->style, j, NULL, "ballot_style_id")) ||
        (err = get_str(&r, &b->device, j, NULL, "encrypting_device")) ||
        (err = member(&r, &v, j, NULL, "timestamp", DT_JSON_INTEGER)))
        goto out;
    b->timestamp = dt_cjson_int(doc, v);
    if ((err = member(&r, &v, j, NULL, "code_baux", DT_JSON_STRING)))
        goto out;
    if (strlen(v->valuestring) % 2 ||
        dt_hex_decode_alloc(&b->baux, &b->bauxlen, v->valuestring, DT_LIMIT_STRING) != DT_OK) {
        err = dt_ballot_fail(msg, DT_ERR_ENCODING, "%s: code_baux: not hexadecimal bytes (at most %u)", r.where,
                             DT_LIMIT_STRING);
        goto out;
    }
    if ((err = get_b64(&r, b->code, 32, j, NULL, "confirmation_code")) ||
        (err = get_b64(&r, b->election_id, 32, j, NULL, "election_id")))
        goto out;
    v = dt_cjson_get(j, "state");
    if (v) {
        const char *s;
        if ((err = jstr(&r, &s, v, &state_key)))
            goto out;
        if (strcmp(s, "CAST") == 0) {
            b->state = DT_BALLOT_STATE_CAST;
        } else if (strcmp(s, "CHALLENGED") == 0) {
            b->state = DT_BALLOT_STATE_CHALLENGED;
        } else {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: state: \"%s\" is neither CAST nor CHALLENGED", r.where, s);
            goto out;
        }
    }
    if (dt_cjson_get(j, "is_preencrypt")) {
        if ((err = member(&r, &v, j, NULL, "is_preencrypt", DT_JSON_TRUE)))
            goto out;
        b->preencrypt = cJSON_IsTrue(v);
    }
    if ((err = get_array(&r, &it, &b->ncontests, j, NULL, "contests", DT_LIMIT_CONTESTS)))
        goto out;
    b->contests = calloc(b->ncontests ? b->ncontests : 1, sizeof *b->contests);
    if (!b->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < b->ncontests; i++, it = it->next) {
        const kp p = {NULL, "contests", i, true};
        if ((err = element(&r, it, &p)) || (err = read_contest(&r, &b->contests[i], it, &p)))
            goto out;
    }
out:
    if (err) {
        if (msg && !*msg)
            dt_ballot_fail(msg, err, "%s: %s", r.where, dt_strerror(err));
        dt_ballot_destroy(b);
        return err;
    }
    *out = b;
    return DT_OK;
}

dt_err dt_ballot_parse(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg, const char *json, size_t len)
{
    dt_cjson_doc doc;
    char why[256];
    dt_err err;
    DT_BALLOT_CHECK(ctx && out && json);
    *out = NULL;
    if (msg)
        *msg = NULL;
    if (len > DT_LIMIT_FILE_BYTES)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "encrypted ballot: %zu bytes, at most %u", len, DT_LIMIT_FILE_BYTES);
    err = dt_cjson_parse(&doc, why, sizeof why, json, len);
    if (err == DT_ERR_LIMIT) /* nested deeper than cJSON goes: jansson decides */
        return dt_ballot_parse_jansson(ctx, out, msg, json, len);
    if (err == DT_ERR_PARSE)
        return dt_ballot_fail(msg, err, "encrypted ballot: invalid JSON %s", why);
    if (err)
        return dt_ballot_fail(msg, err, "encrypted ballot: %s", dt_strerror(err));
    err = from_doc(ctx, out, msg, &doc);
    dt_cjson_free(&doc);
    return err;
}
