/* The ceremony's public messages as JSON: a guardian's commitments and
 * proofs (egk-ec's guardians[] entry of election_initialized.json) and an
 * encrypted share. Parsers validate every type, length, group membership and
 * scalar range, and refuse unknown or duplicate keys. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ceremony/ceremony_impl.h"
#include "util/codec.h"

#define JSON_MAX_BYTES (4u << 20)
#define GUARDIAN_ID_MAX 256u

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static dt_err fail(char **msg, dt_err err, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (!msg)
        return err;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(*msg);
    *msg = strdup(buf);
    return err;
}

static const char *kind_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

static const char *type_name(const json_t *v)
{
    return kind_name(json_typeof(v));
}

/* ---- reading ---- */

static dt_err load_root(json_t **root, const char *json, size_t len, char **msg)
{
    json_error_t jerr;
    *root = NULL;
    if (len > JSON_MAX_BYTES)
        return fail(msg, DT_ERR_LIMIT, "message of %zu bytes exceeds the limit of %u", len, JSON_MAX_BYTES);
    *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return fail(msg, DT_ERR_PARSE, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    if (!json_is_object(*root)) {
        dt_err e = fail(msg, DT_ERR_PARSE, "expected an object, found %s", type_name(*root));
        json_decref(*root);
        *root = NULL;
        return e;
    }
    return DT_OK;
}

static dt_err check_keys(json_t *obj, const char *const *allowed, size_t nallowed, const char *where, char **msg)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t t;
        for (t = 0; t < nallowed; t++)
            if (strcmp(key, allowed[t]) == 0)
                break;
        if (t == nallowed)
            return fail(msg, DT_ERR_PARSE, "%sunknown key \"%.64s\"", where, key);
    }
    return DT_OK;
}

static dt_err get_member(json_t **out, json_t *obj, const char *key, json_type t, const char *where, char **msg)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return fail(msg, DT_ERR_PARSE, "%s\"%s\" is missing", where, key);
    if (json_typeof(v) != t)
        return fail(msg, DT_ERR_PARSE, "%s\"%s\": expected %s, found %s", where, key, kind_name(t),
                    type_name(v));
    *out = v;
    return DT_OK;
}

static dt_err get_string(const char **out, size_t maxlen, json_t *obj, const char *key, const char *where,
                         char **msg)
{
    json_t *v;
    dt_err err = get_member(&v, obj, key, JSON_STRING, where, msg);
    *out = NULL;
    if (err != DT_OK)
        return err;
    if (json_string_length(v) > maxlen)
        return fail(msg, DT_ERR_LIMIT, "%s\"%s\": longer than %zu bytes", where, key, maxlen);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(msg, DT_ERR_ENCODING, "%s\"%s\": contains a NUL character", where, key);
    *out = json_string_value(v);
    return DT_OK;
}

static dt_err get_index(uint32_t *out, json_t *obj, const char *key, const char *where, char **msg)
{
    json_t *v;
    json_int_t x;
    dt_err err = get_member(&v, obj, key, JSON_INTEGER, where, msg);
    *out = 0;
    if (err != DT_OK)
        return err;
    x = json_integer_value(v);
    if (x < 1 || x > (json_int_t)DT_CEREMONY_MAX_GUARDIANS)
        return fail(msg, DT_ERR_RANGE, "%s\"%s\": %lld is not a guardian index in 1..%u", where, key,
                    (long long)x, DT_CEREMONY_MAX_GUARDIANS);
    *out = (uint32_t)x;
    return DT_OK;
}

static dt_err get_b64(unsigned char *out, size_t len, json_t *obj, const char *key, const char *where,
                      char **msg)
{
    const char *s;
    dt_err err = get_string(&s, 4 * ((len + 2) / 3), obj, key, where, msg);
    if (err == DT_ERR_LIMIT)
        err = DT_ERR_ENCODING;
    if (err != DT_OK) {
        if (err == DT_ERR_ENCODING)
            return fail(msg, err, "%s\"%s\": not base64 of %zu bytes", where, key, len);
        return err;
    }
    if (dt_b64_decode_exact(out, len, s) != DT_OK)
        return fail(msg, DT_ERR_ENCODING, "%s\"%s\": not base64 of %zu bytes", where, key, len);
    return DT_OK;
}

static dt_err get_elem(const dt_group *g, dt_elem *out, json_t *obj, const char *key, const char *where,
                       char **msg)
{
    unsigned char buf[DT_ELEM_MAX_BYTES];
    size_t eb = dt_group_elem_bytes(g);
    dt_err err = get_b64(buf, eb, obj, key, where, msg);
    if (err != DT_OK)
        return err;
    if ((err = dt_elem_decode(g, out, buf, eb)) != DT_OK)
        return fail(msg, err, "%s\"%s\": not an element of the group %s (%s)", where, key, dt_group_name(g),
                    dt_strerror(err));
    return DT_OK;
}

/* A challenge: a 32-byte hash value in every group, reduced mod q where it
 * enters arithmetic (as the record reader and the verifier read it). */
static dt_err get_challenge(const dt_group *g, dt_scalar *out, json_t *obj, const char *key, const char *where,
                            char **msg)
{
    unsigned char buf[DT_HASH_BYTES];
    dt_err err = get_b64(buf, sizeof buf, obj, key, where, msg);
    if (err != DT_OK)
        return err;
    dt_scalar_reduce(g, out, buf, sizeof buf);
    return DT_OK;
}

/* A response: 32 bytes big-endian in every group (the record's width),
 * below q. */
static dt_err get_response(const dt_group *g, dt_scalar *out, json_t *obj, const char *key, const char *where,
                           char **msg)
{
    unsigned char buf[DT_SCALAR_BYTES];
    size_t sb = dt_group_scalar_bytes(g);
    dt_err err = get_b64(buf, sizeof buf, obj, key, where, msg);
    if (err != DT_OK)
        return err;
    for (size_t t = 0; t < DT_SCALAR_BYTES - sb; t++)
        if (buf[t])
            return fail(msg, DT_ERR_RANGE, "%s\"%s\": not below the group order", where, key);
    if (dt_scalar_decode(g, out, buf + DT_SCALAR_BYTES - sb, sb) != DT_OK)
        return fail(msg, DT_ERR_RANGE, "%s\"%s\": not below the group order", where, key);
    return DT_OK;
}

/* ---- writing ---- */

static json_t *b64_value(const unsigned char *p, size_t len)
{
    char *s = dt_b64_encode(p, len);
    json_t *v;
    if (!s)
        return NULL;
    v = json_string(s);
    free(s);
    return v;
}

static json_t *elem_value(const dt_group *g, const dt_elem *e)
{
    unsigned char buf[DT_ELEM_MAX_BYTES];
    dt_elem_encode(g, buf, e);
    return b64_value(buf, dt_group_elem_bytes(g));
}

/* challenges and responses: 32 bytes big-endian in every group */
static json_t *scalar32_value(const dt_scalar *s)
{
    return b64_value(s->be, DT_SCALAR_BYTES);
}

/* Takes v; NULL v (a failed allocation) makes it fail. */
static int set(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

static dt_err dump(char **out, json_t *root)
{
    *out = json_dumps(root, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    return *out ? DT_OK : DT_ERR_NOMEM;
}

/* ---- commitments ---- */

static const char *const coef_keys[] = {"public_key", "challenge", "response"};
static const char *const guardian_keys[] = {"guardian_id", "x_coordinate", "coefficient_proofs"};
static const char *const share_keys[] = {"from", "to", "c0", "c1", "c2"};

dt_err dt_commitments_to_json(const dt_group *g, char **out, const char *guardian_id, uint32_t i,
                              const dt_elem *K, const dt_scalar *c, const dt_scalar *v, size_t k)
{
    DT_CER_CHECK(g && out && K && c && v);
    json_t *root = NULL, *arr, *o, *id;
    char idbuf[32];
    dt_err err = DT_ERR_NOMEM;

    *out = NULL;
    if (i < 1 || i >= 0x80000000u || k == 0)
        return DT_ERR_INVALID;
    if (!guardian_id) {
        snprintf(idbuf, sizeof idbuf, "guardian%u", (unsigned)i);
        guardian_id = idbuf;
    }
    id = json_string(guardian_id);
    if (!id)
        return DT_ERR_INVALID; /* not UTF-8 (or out of memory) */
    root = json_object();
    if (!root) {
        json_decref(id);
        goto out;
    }
    if (set(root, "guardian_id", id) != 0) /* takes id, also on failure */
        goto out;
    arr = json_array();
    if (set(root, "x_coordinate", json_integer(i)) != 0 || set(root, "coefficient_proofs", arr) != 0)
        goto out;
    for (size_t j = 0; j < k; j++) {
        o = json_object();
        if (!o || json_array_append_new(arr, o) != 0)
            goto out;
        if (set(o, "public_key", elem_value(g, &K[j])) != 0 || set(o, "challenge", scalar32_value(&c[j])) != 0 ||
            set(o, "response", scalar32_value(&v[j])) != 0)
            goto out;
    }
    err = dump(out, root);
out:
    json_decref(root);
    return err;
}

dt_err dt_commitments_from_json(const dt_group *g, char **guardian_id, uint32_t *i, dt_elem *K, dt_scalar *c,
                                dt_scalar *v, size_t k, const char *json, size_t len, char **msg)
{
    DT_CER_CHECK(g && i && K && c && v && json);
    DT_CER_CHECK(k >= 1 && k <= DT_CEREMONY_MAX_GUARDIANS);
    json_t *root = NULL, *arr, *it;
    const char *id;
    char where[64];
    dt_err err;

    if (msg)
        *msg = NULL;
    if (guardian_id)
        *guardian_id = NULL;
    *i = 0;
    if ((err = load_root(&root, json, len, msg)) != DT_OK)
        goto out;
    if ((err = check_keys(root, guardian_keys, 3, "", msg)) != DT_OK ||
        (err = get_string(&id, GUARDIAN_ID_MAX, root, "guardian_id", "", msg)) != DT_OK ||
        (err = get_index(i, root, "x_coordinate", "", msg)) != DT_OK ||
        (err = get_member(&arr, root, "coefficient_proofs", JSON_ARRAY, "", msg)) != DT_OK)
        goto out;
    if (!*id) {
        err = fail(msg, DT_ERR_PARSE, "\"guardian_id\" is empty");
        goto out;
    }
    if (json_array_size(arr) != k) {
        err = fail(msg, DT_ERR_PARSE, "\"coefficient_proofs\": %zu entries, expected the quorum %zu",
                   json_array_size(arr), k);
        goto out;
    }
    for (size_t j = 0; j < k; j++) {
        snprintf(where, sizeof where, "coefficient_proofs[%zu]: ", j);
        it = json_array_get(arr, j);
        if (!json_is_object(it)) {
            err = fail(msg, DT_ERR_PARSE, "%sexpected an object, found %s", where, type_name(it));
            goto out;
        }
        if ((err = check_keys(it, coef_keys, 3, where, msg)) != DT_OK ||
            (err = get_elem(g, &K[j], it, "public_key", where, msg)) != DT_OK ||
            (err = get_challenge(g, &c[j], it, "challenge", where, msg)) != DT_OK ||
            (err = get_response(g, &v[j], it, "response", where, msg)) != DT_OK)
            goto out;
    }
    if (guardian_id && !(*guardian_id = strdup(id))) {
        err = fail(msg, DT_ERR_NOMEM, "out of memory");
        goto out;
    }
    err = DT_OK;
out:
    if (err != DT_OK) {
        *i = 0;
        memset(K, 0, k * sizeof *K);
        memset(c, 0, k * sizeof *c);
        memset(v, 0, k * sizeof *v);
    }
    json_decref(root);
    return err;
}

/* ---- shares ---- */

dt_err dt_share_ct_to_json(const dt_group *g, char **out, const dt_share_ct *ct)
{
    DT_CER_CHECK(g && out && ct);
    dt_share_ct_impl c;
    json_t *root;
    dt_err err = DT_ERR_NOMEM;

    *out = NULL;
    memcpy(&c, ct->opaque, sizeof c);
    root = json_object();
    if (!root)
        return DT_ERR_NOMEM;
    if (set(root, "from", json_integer(c.from)) != 0 || set(root, "to", json_integer(c.to)) != 0 ||
        set(root, "c0", elem_value(g, &c.c0)) != 0 ||
        set(root, "c1", b64_value(c.c1, dt_group_scalar_bytes(g))) != 0 ||
        set(root, "c2", b64_value(c.c2, DT_HASH_BYTES)) != 0)
        goto out;
    err = dump(out, root);
out:
    json_decref(root);
    return err;
}

dt_err dt_share_ct_from_json(const dt_group *g, dt_share_ct *ct, const char *json, size_t len, char **msg)
{
    DT_CER_CHECK(g && ct && json);
    dt_share_ct_impl c;
    json_t *root = NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    memset(&c, 0, sizeof c);
    memset(ct->opaque, 0, sizeof ct->opaque);
    if ((err = load_root(&root, json, len, msg)) != DT_OK)
        goto out;
    if ((err = check_keys(root, share_keys, 5, "", msg)) != DT_OK ||
        (err = get_index(&c.from, root, "from", "", msg)) != DT_OK ||
        (err = get_index(&c.to, root, "to", "", msg)) != DT_OK ||
        (err = get_elem(g, &c.c0, root, "c0", "", msg)) != DT_OK ||
        (err = get_b64(c.c1, dt_group_scalar_bytes(g), root, "c1", "", msg)) != DT_OK ||
        (err = get_b64(c.c2, DT_HASH_BYTES, root, "c2", "", msg)) != DT_OK)
        goto out;
    if (c.from == c.to) {
        err = fail(msg, DT_ERR_RANGE, "\"from\" and \"to\" are both %u", (unsigned)c.from);
        goto out;
    }
    memcpy(ct->opaque, &c, sizeof c);
out:
    json_decref(root);
    return err;
}
