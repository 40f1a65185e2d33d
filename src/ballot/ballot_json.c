/* Encrypted ballots: the object's life, and its JSON in the record's layout
 * (encrypted_ballots/<device>/eballot-<id>.json, docs/record-format.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ballot/ballot_cjson.h"
#include "ballot/ballot_impl.h"
#include "util/codec.h"
#include "util/utf8.h"

/* ---- the object ---- */

void dt_ballot_proof_free(dt_bproof *p)
{
    free(p->c);
    free(p->v);
    free(p->a);
    free(p->b);
    p->c = p->v = NULL;
    p->a = p->b = NULL;
    p->n = 0;
}

void dt_ballot_destroy(dt_ballot *b)
{
    if (!b)
        return;
    for (size_t i = 0; b->contests && i < b->ncontests; i++) {
        dt_bcontest *bc = &b->contests[i];
        for (size_t s = 0; bc->sel && s < bc->nsel; s++) {
            free(bc->sel[s].id);
            free(bc->sel[s].alpha);
            free(bc->sel[s].beta);
            dt_ballot_proof_free(&bc->sel[s].proof);
        }
        free(bc->sel);
        free(bc->id);
        dt_ballot_proof_free(&bc->proof);
        free(bc->c0);
        free(bc->c1);
    }
    free(b->contests);
    free(b->id);
    free(b->style);
    free(b->device);
    free(b->baux);
    free(b);
}

void dt_ballot_set_state(dt_ballot *b, dt_ballot_state state)
{
    DT_BALLOT_CHECK(b);
    if (b->state != DT_BALLOT_STATE_PENDING)
        dt_misuse("dt_ballot_set_state: the ballot's state is already decided");
    if (state != DT_BALLOT_STATE_CAST && state != DT_BALLOT_STATE_CHALLENGED)
        dt_misuse("dt_ballot_set_state: the state must be CAST or CHALLENGED");
    b->state = state;
}

dt_ballot_state dt_ballot_get_state(const dt_ballot *b)
{
    DT_BALLOT_CHECK(b);
    return b->state;
}

const char *dt_ballot_id(const dt_ballot *b)
{
    DT_BALLOT_CHECK(b);
    return b->id;
}

const char *dt_ballot_device_id(const dt_ballot *b)
{
    DT_BALLOT_CHECK(b);
    return b->device;
}

void dt_ballot_confirmation_code(const dt_ballot *b, unsigned char code[DT_HASH_BYTES])
{
    DT_BALLOT_CHECK(b && code);
    memcpy(code, b->code, DT_HASH_BYTES);
}

/* ---- writing ---- */

static json_t *jb64(const unsigned char *p, size_t n)
{
    char *s = dt_b64_encode(p, n);
    json_t *v = s ? json_string(s) : NULL; /* the reference writer keeps libsodium's encoder */
    free(s);
    return v;
}

static bool put_proof(json_t *obj, const char *key, const dt_bproof *p, size_t eb)
{
    json_t *po, *arr = NULL;
    bool ok = (po = dt_jset_obj(obj, key)) && (arr = dt_jset_arr(po, "proofs"));
    for (size_t j = 0; ok && j < p->n; j++) {
        json_t *cv;
        ok = (cv = dt_jadd_obj(arr)) && dt_jset(cv, "challenge", jb64(p->c[j], 32)) &&
             dt_jset(cv, "response", jb64(p->v[j], 32));
        if (ok && p->a)
            ok = dt_jset(cv, "a", jb64(p->a + j * eb, eb)) && dt_jset(cv, "b", jb64(p->b + j * eb, eb));
    }
    return ok;
}

json_t *dt_ballot_to_json(const dt_ballot *b)
{
    const size_t eb = b ? b->ctx->eb : 0;
    json_t *j, *arr = NULL;
    char *hex = NULL;
    bool ok;

    DT_BALLOT_CHECK(b);
    if (b->state != DT_BALLOT_STATE_CAST && b->state != DT_BALLOT_STATE_CHALLENGED)
        dt_misuse("dt_ballot_to_json: the ballot is neither CAST nor CHALLENGED (dt_ballot_set_state)");
    hex = malloc(2 * b->bauxlen + 1);
    if (!hex)
        return NULL;
    dt_hex_encode_upper(hex, b->baux, b->bauxlen);
    j = json_object();
    ok = j && dt_jset(j, "ballot_id", json_string(b->id)) && dt_jset(j, "ballot_style_id", json_string(b->style)) &&
         dt_jset(j, "encrypting_device", json_string(b->device)) &&
         dt_jset(j, "timestamp", json_integer((json_int_t)b->timestamp)) && dt_jset(j, "code_baux", json_string(hex)) &&
         dt_jset(j, "confirmation_code", jb64(b->code, DT_HASH_BYTES)) &&
         dt_jset(j, "election_id", jb64(b->election_id, DT_HASH_BYTES)) && (arr = dt_jset_arr(j, "contests"));
    free(hex);
    for (size_t i = 0; ok && i < b->ncontests; i++) {
        const dt_bcontest *bc = &b->contests[i];
        json_t *c, *sels = NULL;
        ok = (c = dt_jadd_obj(arr)) && dt_jset(c, "contest_id", json_string(bc->id)) &&
             dt_jset(c, "sequence_order", json_integer(bc->seq)) &&
             dt_jset(c, "contest_hash", jb64(bc->hash, DT_HASH_BYTES)) && (sels = dt_jset_arr(c, "selections"));
        for (size_t k = 0; ok && k < bc->nsel; k++) {
            const dt_bsel *s = &bc->sel[k];
            json_t *so, *ev;
            ok = (so = dt_jadd_obj(sels)) && dt_jset(so, "selection_id", json_string(s->id)) &&
                 dt_jset(so, "sequence_order", json_integer(s->seq)) && (ev = dt_jset_obj(so, "encrypted_vote")) &&
                 dt_jset(ev, "pad", jb64(s->alpha, eb)) && dt_jset(ev, "data", jb64(s->beta, eb)) &&
                 put_proof(so, "proof", &s->proof, eb);
        }
        ok = ok && put_proof(c, "proof", &bc->proof, eb);
        if (ok && bc->has_data) {
            json_t *d;
            ok = (d = dt_jset_obj(c, "encrypted_contest_data")) && dt_jset(d, "c0", jb64(bc->c0, eb)) &&
                 dt_jset(d, "c1", jb64(bc->c1, bc->c1len)) && dt_jset(d, "c2", jb64(bc->c2, DT_HASH_BYTES)) &&
                 dt_jset(d, "numBytes", json_integer(bc->num_bytes));
        }
    }
    ok = ok && dt_jset(j, "state", json_string(b->state == DT_BALLOT_STATE_CAST ? "CAST" : "CHALLENGED")) &&
         dt_jset(j, "is_preencrypt", json_boolean(b->preencrypt));
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static dt_err serialize_jansson(const dt_ballot *b, char **out, size_t *outlen, size_t flags)
{
    json_t *j;
    DT_BALLOT_CHECK(b && out);
    *out = NULL;
    if (outlen)
        *outlen = 0;
    j = dt_ballot_to_json(b);
    if (!j)
        return DT_ERR_NOMEM;
    *out = json_dumps(j, flags | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!*out)
        return DT_ERR_NOMEM;
    if (outlen)
        *outlen = strlen(*out);
    return DT_OK;
}

dt_err dt_ballot_serialize_jansson(const dt_ballot *b, char **out, size_t *outlen)
{
    return serialize_jansson(b, out, outlen, JSON_INDENT(4));
}

dt_err dt_ballot_serialize_compact_jansson(const dt_ballot *b, char **out, size_t *outlen)
{
    return serialize_jansson(b, out, outlen, JSON_COMPACT);
}

/* ---- writing without a tree: the bytes of json_dumps(dt_ballot_to_json(b),
 * JSON_INDENT(4) | JSON_PRESERVE_ORDER), written straight into one buffer
 * (the election server writes every ballot it accepts; the tree and its
 * dump cost a tenth of its time). tests/test_ballot.c and the ballot_diff
 * fuzz harness hold it to jansson's bytes. ---- */

typedef struct jw {
    char *p;
    size_t n, cap;
    bool bad; /* out of memory, or a string that is not UTF-8 */
    bool nomem;
    bool compact; /* json_dumps' JSON_COMPACT: no new lines, no spaces */
} jw;

/* room for n more bytes and a NUL; false if the writer is broken */
static bool jw_room(jw *w, size_t n)
{
    if (w->bad)
        return false;
    if (w->cap - w->n < n + 1) {
        size_t cap = w->cap ? w->cap : 4096;
        char *q;
        while (cap - w->n < n + 1)
            cap *= 2;
        if (!(q = realloc(w->p, cap))) {
            w->bad = w->nomem = true;
            return false;
        }
        w->p = q;
        w->cap = cap;
    }
    return true;
}

static void jw_put(jw *w, const char *s, size_t n)
{
    if (!jw_room(w, n))
        return;
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = '\0';
}

static void jw_puts(jw *w, const char *s)
{
    jw_put(w, s, strlen(s));
}

/* a string as jansson dumps it: '"' and '\\' escaped, the control
 * characters as \b \f \n \r \t or \u00XX, the rest (UTF-8) as it is */
static void jw_str(jw *w, const char *s)
{
    size_t n = strlen(s), run = 0;
    if (!dt_utf8_valid((const unsigned char *)s, n, NULL)) {
        w->bad = true; /* json_string refuses it too */
        return;
    }
    jw_put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        jw_put(w, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"': jw_put(w, "\\\"", 2); break;
        case '\\': jw_put(w, "\\\\", 2); break;
        case '\b': jw_put(w, "\\b", 2); break;
        case '\f': jw_put(w, "\\f", 2); break;
        case '\n': jw_put(w, "\\n", 2); break;
        case '\r': jw_put(w, "\\r", 2); break;
        case '\t': jw_put(w, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", ch);
            jw_put(w, esc, 6);
        }
    }
    jw_put(w, s + run, n - run);
    jw_put(w, "\"", 1);
}

/* a new line at depth d, after a comma unless it opens the container */
static void jw_line(jw *w, int d, bool first)
{
    static const char spaces[] = "                                "; /* 32 */
    if (!first)
        jw_put(w, ",", 1);
    if (w->compact)
        return;
    jw_put(w, "\n", 1);
    for (int k = 4 * d; k > 0; k -= 32)
        jw_put(w, spaces, k < 32 ? (size_t)k : 32);
}

static void jw_key(jw *w, int d, bool first, const char *key)
{
    jw_line(w, d, first);
    jw_str(w, key);
    jw_put(w, ": ", w->compact ? 1 : 2);
}

static void jw_kstr(jw *w, int d, bool first, const char *key, const char *v)
{
    jw_key(w, d, first, key);
    jw_str(w, v);
}

static void jw_kint(jw *w, int d, bool first, const char *key, long long v)
{
    char num[32];
    jw_key(w, d, first, key);
    jw_put(w, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

static void jw_kb64(jw *w, int d, bool first, const char *key, const unsigned char *p, size_t n)
{
    jw_key(w, d, first, key);
    if (n > SIZE_MAX / 2 || !jw_room(w, 4 * ((n + 2) / 3) + 2))
        return;
    w->p[w->n++] = '"'; /* base64 needs no escape */
    w->n += dt_b64_encode_pub(w->p + w->n, p, n); /* public data: ciphertexts, proofs */
    w->p[w->n++] = '"';
    w->p[w->n] = '\0';
}

/* the end of a container opened at depth d: on its own line, unless empty */
static void jw_close(jw *w, int d, bool empty, const char *close)
{
    if (!empty)
        jw_line(w, d, true);
    jw_puts(w, close);
}

static void jw_proof(jw *w, int d, const char *key, const dt_bproof *p, size_t eb)
{
    jw_key(w, d, false, key);
    jw_put(w, "{", 1);
    jw_key(w, d + 1, true, "proofs");
    jw_put(w, "[", 1);
    for (size_t j = 0; j < p->n; j++) {
        jw_line(w, d + 2, j == 0);
        jw_put(w, "{", 1);
        jw_kb64(w, d + 3, true, "challenge", p->c[j], 32);
        jw_kb64(w, d + 3, false, "response", p->v[j], 32);
        if (p->a) {
            jw_kb64(w, d + 3, false, "a", p->a + j * eb, eb);
            jw_kb64(w, d + 3, false, "b", p->b + j * eb, eb);
        }
        jw_close(w, d + 2, false, "}");
    }
    jw_close(w, d + 1, p->n == 0, "]");
    jw_close(w, d, false, "}");
}

static dt_err serialize(const dt_ballot *b, char **out, size_t *outlen, bool compact);

dt_err dt_ballot_serialize(const dt_ballot *b, char **out, size_t *outlen)
{
    return serialize(b, out, outlen, false);
}

dt_err dt_ballot_serialize_compact(const dt_ballot *b, char **out, size_t *outlen)
{
    return serialize(b, out, outlen, true);
}

static dt_err serialize(const dt_ballot *b, char **out, size_t *outlen, bool compact)
{
    const size_t eb = b ? b->ctx->eb : 0;
    jw w = {0};
    w.compact = compact;
    char *hex;

    DT_BALLOT_CHECK(b && out);
    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (b->state != DT_BALLOT_STATE_CAST && b->state != DT_BALLOT_STATE_CHALLENGED)
        dt_misuse("dt_ballot_serialize: the ballot is neither CAST nor CHALLENGED (dt_ballot_set_state)");
    if (!(hex = malloc(2 * b->bauxlen + 1)))
        return DT_ERR_NOMEM;
    dt_hex_encode_upper(hex, b->baux, b->bauxlen);
    {
        /* room for the whole text at once: about 1.6 KB a selection
         * indented, 0.8 KB compact (no copy as the buffer grows) */
        size_t nsel = 0;
        for (size_t c = 0; c < b->ncontests; c++)
            nsel += b->contests[c].nsel + 1;
        w.cap = 2048 + nsel * (compact ? 1024 : 2048);
        if (!(w.p = malloc(w.cap)))
            w.cap = 0;
    }

    jw_put(&w, "{", 1);
    jw_kstr(&w, 1, true, "ballot_id", b->id);
    jw_kstr(&w, 1, false, "ballot_style_id", b->style);
    jw_kstr(&w, 1, false, "encrypting_device", b->device);
    jw_kint(&w, 1, false, "timestamp", (long long)b->timestamp);
    jw_kstr(&w, 1, false, "code_baux", hex);
    free(hex);
    jw_kb64(&w, 1, false, "confirmation_code", b->code, DT_HASH_BYTES);
    jw_kb64(&w, 1, false, "election_id", b->election_id, DT_HASH_BYTES);
    jw_key(&w, 1, false, "contests");
    jw_put(&w, "[", 1);
    for (size_t i = 0; i < b->ncontests; i++) {
        const dt_bcontest *bc = &b->contests[i];
        jw_line(&w, 2, i == 0);
        jw_put(&w, "{", 1);
        jw_kstr(&w, 3, true, "contest_id", bc->id);
        jw_kint(&w, 3, false, "sequence_order", bc->seq);
        jw_kb64(&w, 3, false, "contest_hash", bc->hash, DT_HASH_BYTES);
        jw_key(&w, 3, false, "selections");
        jw_put(&w, "[", 1);
        for (size_t k = 0; k < bc->nsel; k++) {
            const dt_bsel *s = &bc->sel[k];
            jw_line(&w, 4, k == 0);
            jw_put(&w, "{", 1);
            jw_kstr(&w, 5, true, "selection_id", s->id);
            jw_kint(&w, 5, false, "sequence_order", s->seq);
            jw_key(&w, 5, false, "encrypted_vote");
            jw_put(&w, "{", 1);
            jw_kb64(&w, 6, true, "pad", s->alpha, eb);
            jw_kb64(&w, 6, false, "data", s->beta, eb);
            jw_close(&w, 5, false, "}");
            jw_proof(&w, 5, "proof", &s->proof, eb);
            jw_close(&w, 4, false, "}");
        }
        jw_close(&w, 3, bc->nsel == 0, "]");
        jw_proof(&w, 3, "proof", &bc->proof, eb);
        if (bc->has_data) {
            jw_key(&w, 3, false, "encrypted_contest_data");
            jw_put(&w, "{", 1);
            jw_kb64(&w, 4, true, "c0", bc->c0, eb);
            jw_kb64(&w, 4, false, "c1", bc->c1, bc->c1len);
            jw_kb64(&w, 4, false, "c2", bc->c2, DT_HASH_BYTES);
            jw_kint(&w, 4, false, "numBytes", bc->num_bytes);
            jw_close(&w, 3, false, "}");
        }
        jw_close(&w, 2, false, "}");
    }
    jw_close(&w, 1, b->ncontests == 0, "]");
    jw_kstr(&w, 1, false, "state", b->state == DT_BALLOT_STATE_CAST ? "CAST" : "CHALLENGED");
    jw_key(&w, 1, false, "is_preencrypt");
    jw_puts(&w, b->preencrypt ? "true" : "false");
    jw_close(&w, 0, false, "}");
    if (w.bad) {
        free(w.p);
        return w.nomem ? DT_ERR_NOMEM : DT_ERR_ENCODING;
    }
    *out = w.p;
    if (outlen)
        *outlen = w.n;
    return DT_OK;
}

/* ---- reading (with jansson: dt_ballot_from_json, and the reference of
 * dt_ballot_parse, which reads with cJSON in ballot_cjson.c) ---- */

typedef struct rd {
    char **msg;
    char where[DT_LIMIT_STRING + 32]; /* "encrypted ballot", then "ballot <id>" */
    size_t eb;
} rd;

static void join(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, *path ? "." : "", key);
}

static dt_err member(rd *r, const json_t **out, const json_t *obj, const char *path, const char *key, json_type t)
{
    char p[512];
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    join(p, sizeof p, path, key);
    if (!v)
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: missing", r->where, p);
    if (json_typeof(v) != t && !(t == JSON_TRUE && json_is_boolean(v)))
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: expected %s, found %s", r->where, p,
                              t == JSON_OBJECT   ? "an object"
                              : t == JSON_ARRAY  ? "an array"
                              : t == JSON_STRING ? "a string"
                              : t == JSON_TRUE   ? "a boolean"
                                                 : "an integer",
                              dt_ballot_jtype(v));
    *out = v;
    return DT_OK;
}

static dt_err get_str(rd *r, char **out, const json_t *obj, const char *path, const char *key)
{
    char p[512];
    const char *s;
    dt_err err;
    join(p, sizeof p, path, key);
    if ((err = dt_ballot_jstr(r->msg, &s, json_object_get(obj, key), r->where, p)))
        return err;
    return (*out = strdup(s)) ? DT_OK : DT_ERR_NOMEM;
}

static dt_err get_u32(rd *r, uint32_t *out, const json_t *obj, const char *path, const char *key, uint32_t max)
{
    char p[512];
    const json_t *v = json_object_get(obj, key);
    join(p, sizeof p, path, key);
    if (!v)
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: missing", r->where, p);
    if (!json_is_integer(v))
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: expected an integer, found %s", r->where, p,
                              dt_ballot_jtype(v));
    if (json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max)
        return dt_ballot_fail(r->msg, DT_ERR_RANGE, "%s: %s: %lld is outside 0..%u", r->where, p,
                              (long long)json_integer_value(v), max);
    *out = (uint32_t)json_integer_value(v);
    return DT_OK;
}

static dt_err get_b64(rd *r, unsigned char *out, size_t len, const json_t *obj, const char *path, const char *key)
{
    char p[512];
    const json_t *v = json_object_get(obj, key);
    join(p, sizeof p, path, key);
    if (!v || !json_is_string(v))
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: %s", r->where, p, v ? "expected a string" : "missing");
    if (dt_b64_decode_exact(out, len, json_string_value(v)) != DT_OK)
        return dt_ballot_fail(r->msg, DT_ERR_ENCODING, "%s: %s: not base64 of %zu bytes", r->where, p, len);
    return DT_OK;
}

static dt_err get_elem(rd *r, unsigned char **out, const json_t *obj, const char *path, const char *key)
{
    if (!(*out = malloc(r->eb)))
        return DT_ERR_NOMEM;
    return get_b64(r, *out, r->eb, obj, path, key);
}

static dt_err get_array(rd *r, const json_t **out, size_t *n, const json_t *obj, const char *path, const char *key,
                        size_t max)
{
    char p[512];
    dt_err err = member(r, out, obj, path, key, JSON_ARRAY);
    if (err)
        return err;
    *n = json_array_size(*out);
    if (*n > max) {
        join(p, sizeof p, path, key);
        return dt_ballot_fail(r->msg, DT_ERR_LIMIT, "%s: %s: more than %zu items", r->where, p, max);
    }
    return DT_OK;
}

static dt_err element(rd *r, const json_t **out, const json_t *arr, const char *path, const char *key, size_t i,
                      char *ipath, size_t cap)
{
    snprintf(ipath, cap, "%s%s%s[%zu]", path, *path ? "." : "", key, i);
    *out = json_array_get(arr, i);
    if (!json_is_object(*out))
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s: expected an object, found %s", r->where, ipath,
                              dt_ballot_jtype(*out));
    return DT_OK;
}

static dt_err get_proof(rd *r, dt_bproof *pr, const json_t *obj, const char *path, const char *key)
{
    const json_t *po, *arr, *it;
    char p[512], q[560];
    size_t n;
    dt_err err;
    if ((err = member(r, &po, obj, path, key, JSON_OBJECT)))
        return err;
    join(p, sizeof p, path, key);
    if ((err = get_array(r, &arr, &n, po, p, "proofs", DT_LIMIT_PROOF_BRANCHES)))
        return err;
    if (n == 0)
        return dt_ballot_fail(r->msg, DT_ERR_PARSE, "%s: %s.proofs: empty", r->where, p);
    pr->c = calloc(n, sizeof *pr->c);
    pr->v = calloc(n, sizeof *pr->v);
    if (!pr->c || !pr->v)
        return DT_ERR_NOMEM;
    pr->n = n;
    for (size_t j = 0; j < n; j++) {
        bool has_a, has_b;
        if ((err = element(r, &it, arr, p, "proofs", j, q, sizeof q)) ||
            (err = get_b64(r, pr->c[j], 32, it, q, "challenge")) || (err = get_b64(r, pr->v[j], 32, it, q, "response")))
            return err;
        /* the commitments: both or neither, in every pair or in none */
        has_a = json_object_get(it, "a") != NULL;
        has_b = json_object_get(it, "b") != NULL;
        if (has_a != has_b || (j > 0 && has_a != (pr->a != NULL)))
            return dt_ballot_fail(r->msg, DT_ERR_PARSE,
                                  "%s: %s: the commitments a and b go together, in every pair of a proof or in none",
                                  r->where, q);
        if (!has_a)
            continue;
        if (j == 0 && (!(pr->a = malloc(n * r->eb)) || !(pr->b = malloc(n * r->eb))))
            return DT_ERR_NOMEM;
        if ((err = get_b64(r, pr->a + j * r->eb, r->eb, it, q, "a")) ||
            (err = get_b64(r, pr->b + j * r->eb, r->eb, it, q, "b")))
            return err;
    }
    return DT_OK;
}

static dt_err get_contest_data(rd *r, dt_bcontest *c, const json_t *obj, const char *path)
{
    const json_t *d, *c1;
    char p[512];
    dt_err err;
    if ((err = member(r, &d, obj, path, "encrypted_contest_data", JSON_OBJECT)))
        return err;
    join(p, sizeof p, path, "encrypted_contest_data");
    if ((err = get_elem(r, &c->c0, d, p, "c0")) || (err = get_b64(r, c->c2, 32, d, p, "c2")) ||
        (err = get_u32(r, &c->num_bytes, d, p, "numBytes", DT_LIMIT_CONTEST_DATA)) ||
        (err = member(r, &c1, d, p, "c1", JSON_STRING)))
        return err;
    if (dt_b64_decode_alloc(&c->c1, &c->c1len, json_string_value(c1), DT_LIMIT_CONTEST_DATA + 32) != DT_OK ||
        c->c1len == 0 || c->c1len % 32 != 0)
        return dt_ballot_fail(r->msg, DT_ERR_ENCODING, "%s: %s.c1: not base64 of a positive multiple of 32 bytes (at most %u)",
                              r->where, p, DT_LIMIT_CONTEST_DATA + 32);
    c->has_data = true;
    return DT_OK;
}

static dt_err read_contest(rd *r, dt_bcontest *c, const json_t *it, const char *p)
{
    const json_t *sarr, *sit;
    char q[600];
    dt_err err;
    if ((err = get_str(r, &c->id, it, p, "contest_id")) ||
        (err = get_u32(r, &c->seq, it, p, "sequence_order", 0x7fffffff)) ||
        (err = get_b64(r, c->hash, 32, it, p, "contest_hash")) || (err = get_proof(r, &c->proof, it, p, "proof")) ||
        (err = get_array(r, &sarr, &c->nsel, it, p, "selections", DT_LIMIT_SELECTIONS)))
        return err;
    if (json_object_get(it, "encrypted_contest_data") && (err = get_contest_data(r, c, it, p)))
        return err;
    c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
    if (!c->sel)
        return DT_ERR_NOMEM;
    for (size_t s = 0; s < c->nsel; s++) {
        dt_bsel *sel = &c->sel[s];
        const json_t *ev;
        char w[640];
        if ((err = element(r, &sit, sarr, p, "selections", s, q, sizeof q)) ||
            (err = get_str(r, &sel->id, sit, q, "selection_id")) ||
            (err = get_u32(r, &sel->seq, sit, q, "sequence_order", 0x7fffffff)) ||
            (err = member(r, &ev, sit, q, "encrypted_vote", JSON_OBJECT)))
            return err;
        join(w, sizeof w, q, "encrypted_vote");
        if ((err = get_elem(r, &sel->alpha, ev, w, "pad")) || (err = get_elem(r, &sel->beta, ev, w, "data")) ||
            (err = get_proof(r, &sel->proof, sit, q, "proof")))
            return err;
    }
    return DT_OK;
}

dt_err dt_ballot_from_json(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg, const json_t *j)
{
    rd r = {.msg = msg, .eb = 0};
    dt_ballot *b = NULL;
    const json_t *v, *arr, *it;
    char p[64];
    dt_err err;

    DT_BALLOT_CHECK(ctx && out && j);
    *out = NULL;
    if (msg)
        *msg = NULL;
    r.eb = ctx->eb;
    snprintf(r.where, sizeof r.where, "encrypted ballot");
    if (!json_is_object(j))
        return dt_ballot_fail(msg, DT_ERR_PARSE, "encrypted ballot: the top level is not a JSON object");
    b = calloc(1, sizeof *b);
    if (!b)
        return DT_ERR_NOMEM;
    b->ctx = ctx;
    if ((err = get_str(&r, &b->id, j, "", "ballot_id")))
        goto out;
    snprintf(r.where, sizeof r.where, "ballot %s", b->id);
    if ((err = get_str(&r, &b->style, j, "", "ballot_style_id")) ||
        (err = get_str(&r, &b->device, j, "", "encrypting_device")) ||
        (err = member(&r, &v, j, "", "timestamp", JSON_INTEGER)))
        goto out;
    b->timestamp = (int64_t)json_integer_value(v);
    if ((err = member(&r, &v, j, "", "code_baux", JSON_STRING)))
        goto out;
    if (strlen(json_string_value(v)) % 2 ||
        dt_hex_decode_alloc(&b->baux, &b->bauxlen, json_string_value(v), DT_LIMIT_STRING) != DT_OK) {
        err = dt_ballot_fail(msg, DT_ERR_ENCODING, "%s: code_baux: not hexadecimal bytes (at most %u)", r.where,
                             DT_LIMIT_STRING);
        goto out;
    }
    if ((err = get_b64(&r, b->code, 32, j, "", "confirmation_code")) ||
        (err = get_b64(&r, b->election_id, 32, j, "", "election_id")))
        goto out;
    v = json_object_get(j, "state");
    if (v) {
        const char *s;
        if ((err = dt_ballot_jstr(msg, &s, v, r.where, "state")))
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
    if (json_object_get(j, "is_preencrypt")) {
        if ((err = member(&r, &v, j, "", "is_preencrypt", JSON_TRUE)))
            goto out;
        b->preencrypt = json_is_true(v);
    }
    if ((err = get_array(&r, &arr, &b->ncontests, j, "", "contests", DT_LIMIT_CONTESTS)))
        goto out;
    b->contests = calloc(b->ncontests ? b->ncontests : 1, sizeof *b->contests);
    if (!b->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < b->ncontests; i++)
        if ((err = element(&r, &it, arr, "", "contests", i, p, sizeof p)) ||
            (err = read_contest(&r, &b->contests[i], it, p)))
            goto out;
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

/* dt_ballot_parse (ballot_cjson.c) as it was with jansson: the reference of
 * the differential test and fuzzer. A change here goes there too. */
dt_err dt_ballot_parse_jansson(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *j;
    dt_err err;
    DT_BALLOT_CHECK(ctx && out && json);
    *out = NULL;
    if (msg)
        *msg = NULL;
    if (len > DT_LIMIT_FILE_BYTES)
        return dt_ballot_fail(msg, DT_ERR_LIMIT, "encrypted ballot: %zu bytes, at most %u", len, DT_LIMIT_FILE_BYTES);
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return dt_ballot_fail(msg, DT_ERR_PARSE, "encrypted ballot: invalid JSON at line %d, column %d: %s", jerr.line,
                              jerr.column, jerr.text);
    err = dt_ballot_from_json(ctx, out, msg, j);
    json_decref(j);
    return err;
}
