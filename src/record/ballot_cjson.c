/* The record reader's encrypted ballots with cJSON (ballot_cjson.h): the
 * functions of record.c's jansson reader (member, get_str, get_b64, ...)
 * one for one, with the same checks in the same order and the same
 * messages; only the JSON values differ. A change to one reader must go to
 * the other: tests/test_ballot_parse.c compares them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/ballot_cjson.h"
#include "util/cjson_strict.h"
#include "util/codec.h"

typedef struct rd {
    const char *file;
    char **msg;
    size_t elem_bytes;
    const dt_cjson_doc *doc;
} rd;

/* the key path of a message (util/cjson_strict.h) */
typedef dt_cjson_path kp;

/* record.c's fail: "file: where: text" (no "where: " at the top level) */
static dt_err fail(rd *r, dt_err err, const kp *where, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static dt_err fail(rd *r, dt_err err, const kp *where, const char *fmt, ...)
{
    char buf[512], p[384];
    va_list ap;
    if (!r->msg || *r->msg)
        return err;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dt_cjson_path_format(p, sizeof p, where);
    *r->msg = dt_strdup_printf("%s: %s%s%s", r->file, p, *p ? ": " : "", buf);
    return err;
}

static dt_json_type type_of(rd *r, const cJSON *v)
{
    return dt_cjson_typeof(r->doc, v);
}

static dt_err member(rd *r, const cJSON **out, const cJSON *obj, const kp *where, const char *key, dt_json_type t)
{
    const cJSON *v = dt_cjson_get(obj, key);
    const kp p = {where, key, 0, false};
    *out = NULL;
    if (!v)
        return fail(r, DT_ERR_PARSE, &p, "missing");
    dt_json_type vt = type_of(r, v);
    if (vt != t && !(t == DT_JSON_TRUE && vt == DT_JSON_FALSE))
        return fail(r, DT_ERR_PARSE, &p, "expected %s, found %s", dt_cjson_type_name(t), dt_cjson_type_name(vt));
    *out = v;
    return DT_OK;
}

static dt_err get_str(rd *r, char **out, const cJSON *obj, const kp *where, const char *key)
{
    const cJSON *v;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_STRING);
    if (err)
        return err;
    /* no NUL inside: dt_cjson_parse refuses \u0000, as jansson does, so
     * jansson's "string contains a NUL character" cannot happen */
    if (strlen(v->valuestring) > DT_LIMIT_STRING)
        return fail(r, DT_ERR_LIMIT, &p, "string longer than %u bytes", DT_LIMIT_STRING);
    *out = strdup(v->valuestring);
    return *out ? DT_OK : DT_ERR_NOMEM;
}

static dt_err get_u32(rd *r, uint32_t *out, const cJSON *obj, const kp *where, const char *key, uint32_t max)
{
    const cJSON *v;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_INTEGER);
    *out = 0;
    if (err)
        return err;
    int64_t x = dt_cjson_int(r->doc, v);
    if (x < 0 || (uint64_t)x > max)
        return fail(r, DT_ERR_RANGE, &p, "%lld is outside 0..%llu", (long long)x, (unsigned long long)max);
    *out = (uint32_t)x;
    return DT_OK;
}

/* base64 of exactly len bytes into out */
static dt_err get_b64(rd *r, unsigned char *out, size_t len, const cJSON *obj, const kp *where, const char *key)
{
    const cJSON *v;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_STRING);
    if (err)
        return err;
    if (dt_b64_decode_exact_pub(out, len, v->valuestring) != DT_OK)
        return fail(r, DT_ERR_ENCODING, &p, "not base64 of %zu bytes", len);
    return DT_OK;
}

static dt_err get_elem(rd *r, unsigned char **out, const cJSON *obj, const kp *where, const char *key)
{
    *out = malloc(r->elem_bytes);
    if (!*out)
        return DT_ERR_NOMEM;
    return get_b64(r, *out, r->elem_bytes, obj, where, key);
}

static dt_err get_ctext(rd *r, dt_rec_ctext *ct, const cJSON *obj, const kp *where, const char *key)
{
    const cJSON *v;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_OBJECT);
    if (err)
        return err;
    if ((err = get_elem(r, &ct->pad, v, &p, "pad")) || (err = get_elem(r, &ct->data, v, &p, "data")))
        return err;
    return DT_OK;
}

/* *out is the array's first item (NULL if empty): cJSON's arrays are lists,
 * walked with ->next, never indexed */
static dt_err get_array(rd *r, const cJSON **out, size_t *n, const cJSON *obj, const kp *where, const char *key,
                        size_t max)
{
    const cJSON *arr;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &arr, obj, where, key, DT_JSON_ARRAY);
    *out = NULL;
    if (err)
        return err;
    *n = dt_cjson_size(arr);
    if (*n > max)
        return fail(r, DT_ERR_LIMIT, &p, "more than %zu items", max);
    *out = arr->child;
    return DT_OK;
}

/* record.c's get_element_of: item i (it) of where.key is of type t */
static dt_err check_element(rd *r, const cJSON *it, const kp *item, dt_json_type t)
{
    dt_json_type vt = type_of(r, it);
    if (vt != t)
        return fail(r, DT_ERR_PARSE, item, "expected %s, found %s", dt_cjson_type_name(t), dt_cjson_type_name(vt));
    return DT_OK;
}

/* {"proofs": [{"challenge", "response"[, "a", "b"]}, ...]}: the commitments
 * a and b (ristretto255 records) in every pair or in none. */
static dt_err get_range_proof(rd *r, dt_rec_proof *pr, const cJSON *obj, const kp *where, const char *key)
{
    const cJSON *v, *it;
    const kp p = {where, key, 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_OBJECT);
    if (err)
        return err;
    if ((err = get_array(r, &it, &pr->n, v, &p, "proofs", DT_LIMIT_PROOF_BRANCHES)))
        return err;
    if (pr->n == 0)
        return fail(r, DT_ERR_PARSE, &p, "proofs: empty");
    pr->c = calloc(pr->n, sizeof *pr->c);
    pr->v = calloc(pr->n, sizeof *pr->v);
    if (!pr->c || !pr->v)
        return DT_ERR_NOMEM;
    for (size_t j = 0; j < pr->n; j++, it = it->next) {
        const kp q = {&p, "proofs", j, true};
        if ((err = check_element(r, it, &q, DT_JSON_OBJECT)))
            return err;
        if ((err = get_b64(r, pr->c[j], 32, it, &q, "challenge")) ||
            (err = get_b64(r, pr->v[j], 32, it, &q, "response")))
            return err;
        bool has_a = dt_cjson_get(it, "a") != NULL, has_b = dt_cjson_get(it, "b") != NULL;
        if (has_a != has_b || (j > 0 && has_a != (pr->a != NULL)))
            return fail(r, DT_ERR_PARSE, &q, "the commitments a and b go together, in every pair of a proof or in none");
        if (!has_a)
            continue;
        if (j == 0 && (!(pr->a = malloc(pr->n * r->elem_bytes)) || !(pr->b = malloc(pr->n * r->elem_bytes))))
            return DT_ERR_NOMEM;
        if ((err = get_b64(r, pr->a + j * r->elem_bytes, r->elem_bytes, it, &q, "a")) ||
            (err = get_b64(r, pr->b + j * r->elem_bytes, r->elem_bytes, it, &q, "b")))
            return err;
    }
    return DT_OK;
}

static dt_err get_contest_data(rd *r, dt_rec_data *d, const cJSON *obj, const kp *where, const char *key)
{
    const cJSON *v, *c1;
    const kp p = {where, key, 0, false}, q = {&p, "c1", 0, false};
    dt_err err = member(r, &v, obj, where, key, DT_JSON_OBJECT);
    if (err)
        return err;
    if ((err = get_elem(r, &d->c0, v, &p, "c0")) || (err = get_b64(r, d->c2, 32, v, &p, "c2")) ||
        (err = get_u32(r, &d->num_bytes, v, &p, "numBytes", DT_LIMIT_CONTEST_DATA)) ||
        (err = member(r, &c1, v, &p, "c1", DT_JSON_STRING)))
        return err;
    err = dt_b64_decode_alloc_pub(&d->c1.p, &d->c1.n, c1->valuestring, DT_LIMIT_CONTEST_DATA + 32);
    if (err)
        return fail(r, err, &q, "not base64 of at most %u bytes", DT_LIMIT_CONTEST_DATA + 32);
    if (d->c1.n == 0 || d->c1.n % 32 != 0)
        return fail(r, DT_ERR_ENCODING, &q, "length %zu is not a positive multiple of 32", d->c1.n);
    return DT_OK;
}

static dt_err read_ballot(rd *r, dt_rec_ballot *b, const cJSON *j)
{
    const cJSON *it, *sit, *v;
    const kp code_baux = {NULL, "code_baux", 0, false}, state_key = {NULL, "state", 0, false};
    char *state = NULL;
    dt_err err;
    if ((err = get_str(r, &b->id, j, NULL, "ballot_id")) || (err = get_str(r, &b->style, j, NULL, "ballot_style_id")) ||
        (err = get_str(r, &b->device, j, NULL, "encrypting_device")) ||
        (err = member(r, &v, j, NULL, "timestamp", DT_JSON_INTEGER)))
        goto out;
    b->timestamp = dt_cjson_int(r->doc, v);
    if ((err = member(r, &v, j, NULL, "code_baux", DT_JSON_STRING)))
        goto out;
    if (dt_hex_decode_alloc(&b->baux.p, &b->baux.n, v->valuestring, DT_LIMIT_STRING) != DT_OK ||
        strlen(v->valuestring) % 2) {
        err = fail(r, DT_ERR_ENCODING, &code_baux, "not hexadecimal bytes (at most %u)", DT_LIMIT_STRING);
        goto out;
    }
    if ((err = get_b64(r, b->code, 32, j, NULL, "confirmation_code")) ||
        (err = get_b64(r, b->election_id, 32, j, NULL, "election_id")) ||
        (err = get_str(r, &state, j, NULL, "state")))
        goto out;
    if (strcmp(state, "CAST") == 0) {
        b->state = DT_BALLOT_CAST;
    } else if (strcmp(state, "CHALLENGED") == 0) {
        b->state = DT_BALLOT_CHALLENGED;
    } else {
        err = fail(r, DT_ERR_INVALID, &state_key, "\"%s\" is neither CAST nor CHALLENGED", state);
        goto out;
    }
    if (dt_cjson_get(j, "is_preencrypt")) {
        if ((err = member(r, &v, j, NULL, "is_preencrypt", DT_JSON_TRUE)))
            goto out;
        b->preencrypt = cJSON_IsTrue(v);
    }
    if ((err = get_array(r, &it, &b->ncontests, j, NULL, "contests", DT_LIMIT_CONTESTS)))
        goto out;
    b->contests = calloc(b->ncontests ? b->ncontests : 1, sizeof *b->contests);
    if (!b->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < b->ncontests; i++, it = it->next) {
        dt_rec_bcontest *c = &b->contests[i];
        const kp p = {NULL, "contests", i, true};
        if ((err = check_element(r, it, &p, DT_JSON_OBJECT)))
            goto out;
        if ((err = get_str(r, &c->id, it, &p, "contest_id")) ||
            (err = get_u32(r, &c->seq, it, &p, "sequence_order", 0x7fffffff)) ||
            (err = get_b64(r, c->hash, 32, it, &p, "contest_hash")) ||
            (err = get_range_proof(r, &c->proof, it, &p, "proof")) ||
            (err = get_array(r, &sit, &c->nsel, it, &p, "selections", DT_LIMIT_SELECTIONS)))
            goto out;
        if (dt_cjson_get(it, "encrypted_contest_data")) {
            c->has_data = true;
            if ((err = get_contest_data(r, &c->data, it, &p, "encrypted_contest_data")))
                goto out;
        }
        c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
        if (!c->sel) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t s = 0; s < c->nsel; s++, sit = sit->next) {
            dt_rec_bsel *sel = &c->sel[s];
            const kp q = {&p, "selections", s, true};
            if ((err = check_element(r, sit, &q, DT_JSON_OBJECT)))
                goto out;
            if ((err = get_str(r, &sel->id, sit, &q, "selection_id")) ||
                (err = get_u32(r, &sel->seq, sit, &q, "sequence_order", 0x7fffffff)) ||
                (err = get_ctext(r, &sel->ct, sit, &q, "encrypted_vote")) ||
                (err = get_range_proof(r, &sel->proof, sit, &q, "proof")))
                goto out;
        }
    }
out:
    free(state);
    return err;
}

dt_err dt_rec_ballot_parse(dt_rec_ballot *b, char **msg, bool *beyond, const char *file, size_t elem_bytes,
                           const unsigned char *text, size_t len)
{
    rd r = {.file = file, .msg = msg, .elem_bytes = elem_bytes, .doc = NULL};
    dt_cjson_doc doc;
    char why[256];
    dt_err err = dt_cjson_parse(&doc, why, sizeof why, (const char *)text, len);
    *beyond = err == DT_ERR_LIMIT;
    if (err == DT_ERR_PARSE)
        return fail(&r, err, NULL, "invalid JSON %s", why);
    if (err)
        return err;
    r.doc = &doc;
    if (!cJSON_IsObject(doc.root))
        err = fail(&r, DT_ERR_PARSE, NULL, "the top level is not a JSON object");
    else
        err = read_ballot(&r, b, doc.root);
    dt_cjson_free(&doc);
    return err;
}
