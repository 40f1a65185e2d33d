/* Reader for election records in egk-ec's JSON layout. Every value is
 * type-checked and length-checked; an error names the file and the key path. */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/ballot_cjson.h"
#include "record/record.h"
#include "util/codec.h"

#include <unistd.h>

typedef struct rd {
    const char *file; /* relative to the record */
    char **msg;
    size_t elem_bytes;
    const unsigned char *mem; /* if not NULL: the file's bytes (dt_record_parse_file), not read from disk */
    size_t memlen;
} rd;

static dt_err failv(rd *r, dt_err err, const char *where, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (r->msg && !*r->msg)
        *r->msg = dt_strdup_printf("%s: %s%s%s", r->file, where ? where : "", where && *where ? ": " : "", buf);
    return err;
}

static dt_err fail(rd *r, dt_err err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dt_err fail(rd *r, dt_err err, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(r, err, where, fmt, ap);
    va_end(ap);
    return err;
}

static void path_join(char *out, size_t cap, const char *where, const char *key)
{
    if (where && *where)
        snprintf(out, cap, "%s.%s", where, key);
    else
        snprintf(out, cap, "%s", key);
}

static void path_index(char *out, size_t cap, const char *where, const char *key, size_t i)
{
    if (where && *where)
        snprintf(out, cap, "%s.%s[%zu]", where, key, i);
    else
        snprintf(out, cap, "%s[%zu]", key, i);
}

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static dt_err member(rd *r, json_t **out, json_t *obj, const char *where, const char *key, json_type t)
{
    char p[384];
    json_t *v = json_object_get(obj, key);
    path_join(p, sizeof p, where, key);
    *out = NULL;
    if (!v)
        return fail(r, DT_ERR_PARSE, p, "missing");
    if (json_typeof(v) != t && !(t == JSON_TRUE && json_is_boolean(v)))
        return fail(r, DT_ERR_PARSE, p, "expected %s, found %s", type_name(t), type_name(json_typeof(v)));
    *out = v;
    return DT_OK;
}

static dt_err get_str(rd *r, char **out, json_t *obj, const char *where, const char *key)
{
    json_t *v;
    char p[384];
    dt_err err = member(r, &v, obj, where, key, JSON_STRING);
    if (err)
        return err;
    if (json_string_length(v) > DT_LIMIT_STRING) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_LIMIT, p, "string longer than %u bytes", DT_LIMIT_STRING);
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_PARSE, p, "string contains a NUL character");
    }
    *out = strdup(json_string_value(v));
    return *out ? DT_OK : DT_ERR_NOMEM;
}

static dt_err get_uint(rd *r, uint64_t *out, json_t *obj, const char *where, const char *key, uint64_t max)
{
    json_t *v;
    char p[384];
    dt_err err = member(r, &v, obj, where, key, JSON_INTEGER);
    if (err)
        return err;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x > max) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_RANGE, p, "%lld is outside 0..%llu", (long long)x, (unsigned long long)max);
    }
    *out = (uint64_t)x;
    return DT_OK;
}

static dt_err get_u32(rd *r, uint32_t *out, json_t *obj, const char *where, const char *key, uint32_t max)
{
    uint64_t x = 0;
    dt_err err = get_uint(r, &x, obj, where, key, max);
    *out = (uint32_t)x;
    return err;
}

static dt_err get_bool(rd *r, bool *out, json_t *obj, const char *where, const char *key)
{
    json_t *v;
    dt_err err = member(r, &v, obj, where, key, JSON_TRUE);
    if (err)
        return err;
    *out = json_is_true(v);
    return DT_OK;
}

/* base64 of exactly len bytes into out */
static dt_err get_b64(rd *r, unsigned char *out, size_t len, json_t *obj, const char *where, const char *key)
{
    json_t *v;
    char p[384];
    dt_err err = member(r, &v, obj, where, key, JSON_STRING);
    if (err)
        return err;
    if (dt_b64_decode_exact_pub(out, len, json_string_value(v)) != DT_OK) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_ENCODING, p, "not base64 of %zu bytes", len);
    }
    return DT_OK;
}

static dt_err get_elem(rd *r, unsigned char **out, json_t *obj, const char *where, const char *key)
{
    *out = malloc(r->elem_bytes);
    if (!*out)
        return DT_ERR_NOMEM;
    return get_b64(r, *out, r->elem_bytes, obj, where, key);
}

static dt_err get_ctext(rd *r, dt_rec_ctext *ct, json_t *obj, const char *where, const char *key)
{
    json_t *v;
    char p[384];
    dt_err err = member(r, &v, obj, where, key, JSON_OBJECT);
    if (err)
        return err;
    path_join(p, sizeof p, where, key);
    if ((err = get_elem(r, &ct->pad, v, p, "pad")) || (err = get_elem(r, &ct->data, v, p, "data")))
        return err;
    return DT_OK;
}

static dt_err get_array(rd *r, json_t **out, size_t *n, json_t *obj, const char *where, const char *key,
                        size_t max)
{
    char p[384];
    dt_err err = member(r, out, obj, where, key, JSON_ARRAY);
    if (err)
        return err;
    *n = json_array_size(*out);
    if (*n > max) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_LIMIT, p, "more than %zu items", max);
    }
    return DT_OK;
}

static dt_err get_element_of(rd *r, json_t **out, json_t *arr, const char *where, const char *key, size_t i,
                             json_type t)
{
    char p[384];
    *out = json_array_get(arr, i);
    if (json_typeof(*out) != t) {
        path_index(p, sizeof p, where, key, i);
        return fail(r, DT_ERR_PARSE, p, "expected %s, found %s", type_name(t), type_name(json_typeof(*out)));
    }
    return DT_OK;
}

/* {"proofs": [{"challenge", "response"[, "a", "b"]}, ...]}: the commitments
 * a and b (ristretto255 records) in every pair or in none. */
static dt_err get_range_proof(rd *r, dt_rec_proof *pr, json_t *obj, const char *where, const char *key)
{
    json_t *v, *arr, *it;
    char p[384], q[384];
    dt_err err = member(r, &v, obj, where, key, JSON_OBJECT);
    if (err)
        return err;
    path_join(p, sizeof p, where, key);
    if ((err = get_array(r, &arr, &pr->n, v, p, "proofs", DT_LIMIT_PROOF_BRANCHES)))
        return err;
    if (pr->n == 0)
        return fail(r, DT_ERR_PARSE, p, "proofs: empty");
    pr->c = calloc(pr->n, sizeof *pr->c);
    pr->v = calloc(pr->n, sizeof *pr->v);
    if (!pr->c || !pr->v)
        return DT_ERR_NOMEM;
    for (size_t j = 0; j < pr->n; j++) {
        if ((err = get_element_of(r, &it, arr, p, "proofs", j, JSON_OBJECT)))
            return err;
        path_index(q, sizeof q, p, "proofs", j);
        if ((err = get_b64(r, pr->c[j], 32, it, q, "challenge")) ||
            (err = get_b64(r, pr->v[j], 32, it, q, "response")))
            return err;
        bool has_a = json_object_get(it, "a") != NULL, has_b = json_object_get(it, "b") != NULL;
        if (has_a != has_b || (j > 0 && has_a != (pr->a != NULL)))
            return fail(r, DT_ERR_PARSE, q, "the commitments a and b go together, in every pair of a proof or in none");
        if (!has_a)
            continue;
        if (j == 0 && (!(pr->a = malloc(pr->n * r->elem_bytes)) || !(pr->b = malloc(pr->n * r->elem_bytes))))
            return DT_ERR_NOMEM;
        if ((err = get_b64(r, pr->a + j * r->elem_bytes, r->elem_bytes, it, q, "a")) ||
            (err = get_b64(r, pr->b + j * r->elem_bytes, r->elem_bytes, it, q, "b")))
            return err;
    }
    return DT_OK;
}

static dt_err get_cv(rd *r, dt_rec_hash c, dt_rec_hash v, json_t *obj, const char *where, const char *key)
{
    json_t *pv;
    char p[384];
    dt_err err = member(r, &pv, obj, where, key, JSON_OBJECT);
    if (err)
        return err;
    path_join(p, sizeof p, where, key);
    if ((err = get_b64(r, c, 32, pv, p, "challenge")) || (err = get_b64(r, v, 32, pv, p, "response")))
        return err;
    return DT_OK;
}

static dt_err get_contest_data(rd *r, dt_rec_data *d, json_t *obj, const char *where, const char *key)
{
    json_t *v, *c1;
    char p[384], q[400];
    dt_err err = member(r, &v, obj, where, key, JSON_OBJECT);
    if (err)
        return err;
    path_join(p, sizeof p, where, key);
    if ((err = get_elem(r, &d->c0, v, p, "c0")) || (err = get_b64(r, d->c2, 32, v, p, "c2")) ||
        (err = get_u32(r, &d->num_bytes, v, p, "numBytes", DT_LIMIT_CONTEST_DATA)) ||
        (err = member(r, &c1, v, p, "c1", JSON_STRING)))
        return err;
    path_join(q, sizeof q, p, "c1");
    err = dt_b64_decode_alloc_pub(&d->c1.p, &d->c1.n, json_string_value(c1), DT_LIMIT_CONTEST_DATA + 32);
    if (err)
        return fail(r, err, q, "not base64 of at most %u bytes", DT_LIMIT_CONTEST_DATA + 32);
    if (d->c1.n == 0 || d->c1.n % 32 != 0)
        return fail(r, DT_ERR_ENCODING, q, "length %zu is not a positive multiple of 32", d->c1.n);
    return DT_OK;
}

/* The file's bytes: r->mem, or dir/rel read into *buf (the caller frees). */
static dt_err load_bytes(rd *r, unsigned char **buf, const unsigned char **text, size_t *len, const char *dir,
                         const char *rel)
{
    *buf = NULL;
    *text = r->mem;
    *len = r->memlen;
    if (!*text) {
        char *path = dt_strdup_printf("%s/%s", dir, rel);
        dt_err err;
        if (!path)
            return DT_ERR_NOMEM;
        err = dt_read_file(buf, len, path, DT_LIMIT_FILE_BYTES);
        free(path);
        if (err == DT_ERR_LIMIT)
            return fail(r, err, NULL, "file larger than %u bytes", DT_LIMIT_FILE_BYTES);
        if (err)
            return fail(r, err, NULL, "cannot read the file");
        *text = *buf;
    }
    return DT_OK;
}

static dt_err load_json(rd *r, json_t **out, const char *dir, const char *rel)
{
    unsigned char *buf;
    const unsigned char *text;
    size_t len;
    json_error_t jerr;
    dt_err err;
    *out = NULL;
    if ((err = load_bytes(r, &buf, &text, &len, dir, rel)))
        return err;
    *out = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!*out)
        return fail(r, DT_ERR_PARSE, NULL, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return fail(r, DT_ERR_PARSE, NULL, "the top level is not a JSON object");
    }
    return DT_OK;
}

static dt_err get_hexbig(rd *r, dt_rec_bytes *b, json_t *obj, const char *where, const char *key)
{
    json_t *v;
    char p[384];
    dt_err err = member(r, &v, obj, where, key, JSON_STRING);
    if (err)
        return err;
    if (dt_hex_decode_alloc(&b->p, &b->n, json_string_value(v), 1024) != DT_OK || b->n == 0) {
        path_join(p, sizeof p, where, key);
        return fail(r, DT_ERR_ENCODING, p, "not a hexadecimal integer of at most 8192 bits");
    }
    return DT_OK;
}

/* ---- the files ---- */

static dt_err read_constants(dt_record *rec, rd *r)
{
    json_t *j, *c;
    dt_err err;
    r->file = "constants.json";
    if ((err = load_json(r, &j, rec->dir, r->file)))
        return err;
    if ((err = get_str(r, &rec->group_type, j, "", "type")) ||
        (err = get_str(r, &rec->protocol_version, j, "", "protocolVersion")) ||
        (err = member(r, &c, j, "", "constants", JSON_OBJECT)))
        goto out;
    if (strcmp(rec->group_type, "IntegerGroup") == 0) {
        if ((err = get_hexbig(r, &rec->p, c, "constants", "largePrime")) ||
            (err = get_hexbig(r, &rec->q, c, "constants", "smallPrime")) ||
            (err = get_hexbig(r, &rec->r, c, "constants", "cofactor")) ||
            (err = get_hexbig(r, &rec->g, c, "constants", "generator")))
            goto out;
        rec->group = dt_group_create(DT_GROUP_INTEGER4096);
    } else if (strcmp(rec->group_type, "Ristretto255") == 0) {
        if ((err = get_hexbig(r, &rec->q, c, "constants", "order")) ||
            (err = get_hexbig(r, &rec->g, c, "constants", "generator")))
            goto out;
        rec->group = dt_group_create(DT_GROUP_RISTRETTO255);
    } else {
        err = fail(r, DT_ERR_INVALID, "type", "unknown group type \"%s\" (known: IntegerGroup, Ristretto255)",
                   rec->group_type);
        goto out;
    }
    if (!rec->group) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    rec->elem_bytes = dt_group_elem_bytes(rec->group);
    r->elem_bytes = rec->elem_bytes;
out:
    json_decref(j);
    return err;
}

static dt_err get_id_list(rd *r, char ***out, size_t *n, json_t *j, const char *key)
{
    json_t *arr, *it;
    char p[384];
    dt_err err;
    *out = NULL;
    *n = 0;
    if (!json_object_get(j, key))
        return DT_OK;
    if ((err = get_array(r, &arr, n, j, "", key, DT_LIMIT_CONTESTS)))
        return err;
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < *n; i++) {
        if ((err = get_element_of(r, &it, arr, "", key, i, JSON_OBJECT)))
            return err;
        path_index(p, sizeof p, "", key, i);
        if ((err = get_str(r, &(*out)[i], it, p, "object_id")))
            return err;
    }
    return DT_OK;
}

static dt_err parse_manifest(rd *r, dt_rec_manifest *m)
{
    json_t *j = NULL, *arr, *it, *sarr, *sit, *garr, *gv;
    char p[384], q[400];
    dt_err err;
    json_error_t jerr;

    j = json_loadb((const char *)m->bytes, m->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return fail(r, DT_ERR_PARSE, NULL, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    if (!json_is_object(j)) {
        err = fail(r, DT_ERR_PARSE, NULL, "the top level is not a JSON object");
        goto out;
    }
    if ((err = get_str(r, &m->spec_version, j, "", "spec_version")) ||
        (err = get_id_list(r, &m->gpus, &m->ngpus, j, "geopolitical_units")) ||
        (err = get_id_list(r, &m->candidates, &m->ncandidates, j, "candidates")) ||
        (err = get_array(r, &arr, &m->ncontests, j, "", "contests", DT_LIMIT_CONTESTS)))
        goto out;
    m->contests = calloc(m->ncontests ? m->ncontests : 1, sizeof *m->contests);
    if (!m->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->ncontests; i++) {
        dt_rec_mcontest *mc = &m->contests[i];
        if ((err = get_element_of(r, &it, arr, "", "contests", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "contests", i);
        if ((err = get_str(r, &mc->id, it, p, "object_id")) ||
            (err = get_u32(r, &mc->seq, it, p, "sequence_order", 0x7fffffff)) ||
            (err = get_str(r, &mc->district, it, p, "electoral_district_id")) ||
            (err = get_u32(r, &mc->votes_allowed, it, p, "votes_allowed", DT_LIMIT_VOTES)))
            goto out;
        if (json_object_get(it, "option_selection_limit")) {
            if ((err = get_u32(r, &mc->option_limit, it, p, "option_selection_limit", DT_LIMIT_VOTES)))
                goto out;
        } else {
            mc->option_limit = 1;
        }
        if ((err = get_array(r, &sarr, &mc->noptions, it, p, "ballot_selections", DT_LIMIT_SELECTIONS)))
            goto out;
        mc->options = calloc(mc->noptions ? mc->noptions : 1, sizeof *mc->options);
        if (!mc->options) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t o = 0; o < mc->noptions; o++) {
            if ((err = get_element_of(r, &sit, sarr, p, "ballot_selections", o, JSON_OBJECT)))
                goto out;
            path_index(q, sizeof q, p, "ballot_selections", o);
            if ((err = get_str(r, &mc->options[o].id, sit, q, "object_id")) ||
                (err = get_u32(r, &mc->options[o].seq, sit, q, "sequence_order", 0x7fffffff)))
                goto out;
            if (json_object_get(sit, "candidate_id") &&
                (err = get_str(r, &mc->options[o].candidate, sit, q, "candidate_id")))
                goto out;
        }
    }
    if ((err = get_array(r, &arr, &m->nstyles, j, "", "ballot_styles", DT_LIMIT_STYLES)))
        goto out;
    m->styles = calloc(m->nstyles ? m->nstyles : 1, sizeof *m->styles);
    if (!m->styles) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->nstyles; i++) {
        dt_rec_style *st = &m->styles[i];
        if ((err = get_element_of(r, &it, arr, "", "ballot_styles", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "ballot_styles", i);
        if ((err = get_str(r, &st->id, it, p, "object_id")) ||
            (err = get_array(r, &garr, &st->ngpu, it, p, "geopolitical_unit_ids", DT_LIMIT_CONTESTS)))
            goto out;
        st->gpu = calloc(st->ngpu ? st->ngpu : 1, sizeof *st->gpu);
        if (!st->gpu) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t k = 0; k < st->ngpu; k++) {
            if ((err = get_element_of(r, &gv, garr, p, "geopolitical_unit_ids", k, JSON_STRING)))
                goto out;
            st->gpu[k] = strdup(json_string_value(gv));
            if (!st->gpu[k]) {
                err = DT_ERR_NOMEM;
                goto out;
            }
        }
    }
out:
    json_decref(j);
    return err;
}

dt_err dt_manifest_parse(dt_rec_manifest *m, char **msg, const unsigned char *bytes, size_t len)
{
    rd r = {.file = "manifest.json", .msg = msg, .elem_bytes = 0};
    dt_err err;
    memset(m, 0, sizeof *m);
    if (msg)
        *msg = NULL;
    m->bytes = malloc(len + 1);
    if (!m->bytes)
        return DT_ERR_NOMEM;
    memcpy(m->bytes, bytes, len);
    m->bytes[len] = 0;
    m->len = len;
    err = parse_manifest(&r, m);
    if (err) {
        dt_manifest_free(m);
        if (msg && !*msg)
            *msg = dt_strdup_printf("manifest.json: %s", dt_strerror(err));
    }
    return err;
}

static dt_err read_manifest(dt_record *rec, rd *r)
{
    dt_rec_manifest *m = &rec->manifest;
    dt_err err;
    char *path;

    r->file = "manifest.json";
    path = dt_strdup_printf("%s/manifest.json", rec->dir);
    if (!path)
        return DT_ERR_NOMEM;
    err = dt_read_file(&m->bytes, &m->len, path, DT_LIMIT_FILE_BYTES);
    free(path);
    if (err)
        return err == DT_ERR_LIMIT ? fail(r, err, NULL, "file larger than %u bytes", DT_LIMIT_FILE_BYTES)
                                   : fail(r, err, NULL, "cannot read the file");
    return parse_manifest(r, m);
}

static dt_err read_config(dt_record *rec, rd *r)
{
    json_t *j, *b;
    dt_err err;
    r->file = "election_config.json";
    if ((err = load_json(r, &j, rec->dir, r->file)))
        return err;
    if ((err = get_u32(r, &rec->n, j, "", "number_of_guardians", DT_LIMIT_GUARDIANS)) ||
        (err = get_u32(r, &rec->k, j, "", "quorum", DT_LIMIT_GUARDIANS)) ||
        (err = get_b64(r, rec->hp, 32, j, "", "parameter_base_hash")) ||
        (err = get_b64(r, rec->hm, 32, j, "", "manifest_hash")) ||
        (err = get_b64(r, rec->hb, 32, j, "", "election_base_hash")) ||
        (err = get_bool(r, &rec->chain, j, "", "chain_confirmation_codes")) ||
        (err = member(r, &b, j, "", "baux0", JSON_STRING)))
        goto out;
    if (dt_b64_decode_alloc_pub(&rec->baux0.p, &rec->baux0.n, json_string_value(b), DT_LIMIT_STRING) != DT_OK)
        err = fail(r, DT_ERR_ENCODING, "baux0", "not base64 of at most %u bytes", DT_LIMIT_STRING);
out:
    json_decref(j);
    return err;
}

static dt_err read_initialized(dt_record *rec, rd *r)
{
    json_t *j, *arr, *it, *carr, *cit;
    char p[384], q[400];
    dt_err err;
    r->file = "election_initialized.json";
    if ((err = load_json(r, &j, rec->dir, r->file)))
        return err;
    if ((err = get_elem(r, &rec->K, j, "", "joint_public_key")) ||
        (err = get_b64(r, rec->he, 32, j, "", "extended_base_hash")) ||
        (err = get_array(r, &arr, &rec->nguardians, j, "", "guardians", DT_LIMIT_GUARDIANS)))
        goto out;
    rec->guardians = calloc(rec->nguardians ? rec->nguardians : 1, sizeof *rec->guardians);
    if (!rec->guardians) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rec->nguardians; i++) {
        dt_rec_guardian *gd = &rec->guardians[i];
        if ((err = get_element_of(r, &it, arr, "", "guardians", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "guardians", i);
        if ((err = get_str(r, &gd->id, it, p, "guardian_id")) ||
            (err = get_u32(r, &gd->x, it, p, "x_coordinate", 0x7fffffff)) ||
            (err = get_array(r, &carr, &gd->ncoef, it, p, "coefficient_proofs", DT_LIMIT_GUARDIANS)))
            goto out;
        gd->coef = calloc(gd->ncoef ? gd->ncoef : 1, sizeof *gd->coef);
        if (!gd->coef) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t c = 0; c < gd->ncoef; c++) {
            if ((err = get_element_of(r, &cit, carr, p, "coefficient_proofs", c, JSON_OBJECT)))
                goto out;
            path_index(q, sizeof q, p, "coefficient_proofs", c);
            if ((err = get_elem(r, &gd->coef[c].K, cit, q, "public_key")) ||
                (err = get_b64(r, gd->coef[c].c, 32, cit, q, "challenge")) ||
                (err = get_b64(r, gd->coef[c].v, 32, cit, q, "response")))
                goto out;
        }
    }
out:
    json_decref(j);
    return err;
}

static dt_err read_ballot_jansson(dt_record *rec, rd *r, dt_rec_ballot *b, const char *rel);

/* An encrypted ballot, read with cJSON (ballot_cjson.c): the hot path. A
 * text nested deeper than cJSON goes (1001 to 2048 levels: jansson's limit)
 * is read with jansson, so that no verdict changes. */
static dt_err read_ballot(dt_record *rec, rd *r, dt_rec_ballot *b, const char *rel)
{
    unsigned char *buf;
    const unsigned char *text;
    size_t len;
    bool beyond = false;
    dt_err err;
    r->file = rel;
    if (!(b->file = strdup(rel)))
        return DT_ERR_NOMEM;
    if ((err = load_bytes(r, &buf, &text, &len, rec->dir, rel)))
        return err;
    err = dt_rec_ballot_parse(b, r->msg, &beyond, rel, r->elem_bytes, text, len);
    if (beyond) {
        rd rj = *r;
        rj.mem = text;
        rj.memlen = len;
        free(b->file);
        b->file = NULL;
        err = read_ballot_jansson(rec, &rj, b, rel);
    }
    free(buf);
    return err;
}

/* The same with jansson: for the texts cJSON cannot parse, and the
 * reference that tests/test_ballot_parse.c and fuzz/fuzz_ballot_diff.c hold
 * ballot_cjson.c to (dt_record_parse_ballot_jansson). A change here goes
 * there too. */
static dt_err read_ballot_jansson(dt_record *rec, rd *r, dt_rec_ballot *b, const char *rel)
{
    json_t *j, *arr, *it, *sarr, *sit, *v;
    char p[384], q[400];
    char *state = NULL;
    dt_err err;
    r->file = rel;
    if (!(b->file = strdup(rel)))
        return DT_ERR_NOMEM;
    if ((err = load_json(r, &j, rec->dir, rel)))
        return err;
    if ((err = get_str(r, &b->id, j, "", "ballot_id")) ||
        (err = get_str(r, &b->style, j, "", "ballot_style_id")) ||
        (err = get_str(r, &b->device, j, "", "encrypting_device")) ||
        (err = member(r, &v, j, "", "timestamp", JSON_INTEGER)))
        goto out;
    b->timestamp = (int64_t)json_integer_value(v);
    if ((err = member(r, &v, j, "", "code_baux", JSON_STRING)))
        goto out;
    if (dt_hex_decode_alloc(&b->baux.p, &b->baux.n, json_string_value(v), DT_LIMIT_STRING) != DT_OK ||
        strlen(json_string_value(v)) % 2) {
        err = fail(r, DT_ERR_ENCODING, "code_baux", "not hexadecimal bytes (at most %u)", DT_LIMIT_STRING);
        goto out;
    }
    if ((err = get_b64(r, b->code, 32, j, "", "confirmation_code")) ||
        (err = get_b64(r, b->election_id, 32, j, "", "election_id")) ||
        (err = get_str(r, &state, j, "", "state")))
        goto out;
    if (strcmp(state, "CAST") == 0) {
        b->state = DT_BALLOT_CAST;
    } else if (strcmp(state, "CHALLENGED") == 0) {
        b->state = DT_BALLOT_CHALLENGED;
    } else {
        err = fail(r, DT_ERR_INVALID, "state", "\"%s\" is neither CAST nor CHALLENGED", state);
        goto out;
    }
    if (json_object_get(j, "is_preencrypt") && (err = get_bool(r, &b->preencrypt, j, "", "is_preencrypt")))
        goto out;
    if ((err = get_array(r, &arr, &b->ncontests, j, "", "contests", DT_LIMIT_CONTESTS)))
        goto out;
    b->contests = calloc(b->ncontests ? b->ncontests : 1, sizeof *b->contests);
    if (!b->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < b->ncontests; i++) {
        dt_rec_bcontest *c = &b->contests[i];
        if ((err = get_element_of(r, &it, arr, "", "contests", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "contests", i);
        if ((err = get_str(r, &c->id, it, p, "contest_id")) ||
            (err = get_u32(r, &c->seq, it, p, "sequence_order", 0x7fffffff)) ||
            (err = get_b64(r, c->hash, 32, it, p, "contest_hash")) ||
            (err = get_range_proof(r, &c->proof, it, p, "proof")) ||
            (err = get_array(r, &sarr, &c->nsel, it, p, "selections", DT_LIMIT_SELECTIONS)))
            goto out;
        if (json_object_get(it, "encrypted_contest_data")) {
            c->has_data = true;
            if ((err = get_contest_data(r, &c->data, it, p, "encrypted_contest_data")))
                goto out;
        }
        c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
        if (!c->sel) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t s = 0; s < c->nsel; s++) {
            dt_rec_bsel *sel = &c->sel[s];
            if ((err = get_element_of(r, &sit, sarr, p, "selections", s, JSON_OBJECT)))
                goto out;
            path_index(q, sizeof q, p, "selections", s);
            if ((err = get_str(r, &sel->id, sit, q, "selection_id")) ||
                (err = get_u32(r, &sel->seq, sit, q, "sequence_order", 0x7fffffff)) ||
                (err = get_ctext(r, &sel->ct, sit, q, "encrypted_vote")) ||
                (err = get_range_proof(r, &sel->proof, sit, q, "proof")))
                goto out;
        }
    }
out:
    free(state);
    json_decref(j);
    return err;
}

static dt_err read_dsel(rd *r, dt_rec_dsel *s, json_t *it, const char *where)
{
    dt_err err;
    json_t *pv;
    char p[384];
    if ((err = get_str(r, &s->id, it, where, "selection_id")) ||
        (err = get_uint(r, &s->value, it, where, "tally", (uint64_t)1 << 40)) ||
        (err = get_elem(r, &s->T, it, where, "b_over_m")) ||
        (err = get_ctext(r, &s->ct, it, where, "encrypted_vote")) ||
        (err = get_cv(r, s->c, s->v, it, where, "proof")))
        return err;
    /* the commitments a and b, which a ristretto255 record's challenged
     * ballots carry (docs/ristretto255-profile.md): both or neither */
    pv = json_object_get(it, "proof");
    path_join(p, sizeof p, where, "proof");
    bool has_a = json_object_get(pv, "a") != NULL, has_b = json_object_get(pv, "b") != NULL;
    if (has_a != has_b)
        return fail(r, DT_ERR_PARSE, p, "the commitments a and b go together, or neither is there");
    if (has_a && ((err = get_elem(r, &s->a, pv, p, "a")) || (err = get_elem(r, &s->b, pv, p, "b"))))
        return err;
    return DT_OK;
}

static dt_err read_decrypted(dt_record *rec, rd *r, dt_rec_decrypted *d, const char *rel, const char *idkey)
{
    json_t *j, *arr, *it, *sarr, *sit, *dd, *cd, *st;
    char p[384], q[400], w[420];
    dt_err err;
    r->file = rel;
    if (!(d->file = strdup(rel)))
        return DT_ERR_NOMEM;
    if ((err = load_json(r, &j, rec->dir, rel)))
        return err;
    if ((err = get_str(r, &d->id, j, "", idkey)) ||
        (err = get_b64(r, d->election_id, 32, j, "", "election_id")) ||
        (err = get_array(r, &arr, &d->ncontests, j, "", "contests", DT_LIMIT_CONTESTS)))
        goto out;
    d->contests = calloc(d->ncontests ? d->ncontests : 1, sizeof *d->contests);
    if (!d->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < d->ncontests; i++) {
        dt_rec_dcontest *c = &d->contests[i];
        if ((err = get_element_of(r, &it, arr, "", "contests", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "contests", i);
        if ((err = get_str(r, &c->id, it, p, "contest_id")) ||
            (err = get_array(r, &sarr, &c->nsel, it, p, "selections", DT_LIMIT_SELECTIONS)))
            goto out;
        c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
        if (!c->sel) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t s = 0; s < c->nsel; s++) {
            if ((err = get_element_of(r, &sit, sarr, p, "selections", s, JSON_OBJECT)))
                goto out;
            path_index(q, sizeof q, p, "selections", s);
            if ((err = read_dsel(r, &c->sel[s], sit, q)))
                goto out;
        }
        dd = json_object_get(it, "decrypted_contest_data");
        if (dd && !json_is_null(dd)) {
            c->has_data = true;
            if ((err = member(r, &dd, it, p, "decrypted_contest_data", JSON_OBJECT)))
                goto out;
            path_join(q, sizeof q, p, "decrypted_contest_data");
            if ((err = get_contest_data(r, &c->data.data, dd, q, "encrypted_contest_data")) ||
                (err = get_elem(r, &c->data.beta, dd, q, "beta")) ||
                (err = get_cv(r, c->data.c, c->data.v, dd, q, "proof")) ||
                (err = member(r, &cd, dd, q, "contest_data", JSON_OBJECT)))
                goto out;
            path_join(w, sizeof w, q, "contest_data");
            st = json_object_get(cd, "status");
            if (st && (err = get_str(r, &c->data.status, cd, w, "status")))
                goto out;
        }
    }
out:
    json_decref(j);
    return err;
}

static dt_err read_etally(dt_record *rec, rd *r)
{
    json_t *j, *arr, *it, *sarr, *sit, *v;
    char p[384], q[400];
    dt_rec_etally *t = &rec->etally;
    dt_err err;
    r->file = "encrypted_tally.json";
    if ((err = load_json(r, &j, rec->dir, r->file)))
        return err;
    if ((err = get_b64(r, t->election_id, 32, j, "", "election_id")) ||
        (err = get_array(r, &arr, &t->ncontests, j, "", "contests", DT_LIMIT_CONTESTS)))
        goto out;
    t->contests = calloc(t->ncontests ? t->ncontests : 1, sizeof *t->contests);
    if (!t->contests) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->ncontests; i++) {
        dt_rec_econtest *c = &t->contests[i];
        if ((err = get_element_of(r, &it, arr, "", "contests", i, JSON_OBJECT)))
            goto out;
        path_index(p, sizeof p, "", "contests", i);
        if ((err = get_str(r, &c->id, it, p, "contest_id")) ||
            (err = get_u32(r, &c->seq, it, p, "sequence_order", 0x7fffffff)) ||
            (err = get_array(r, &sarr, &c->nsel, it, p, "selections", DT_LIMIT_SELECTIONS)))
            goto out;
        c->sel = calloc(c->nsel ? c->nsel : 1, sizeof *c->sel);
        if (!c->sel) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t s = 0; s < c->nsel; s++) {
            if ((err = get_element_of(r, &sit, sarr, p, "selections", s, JSON_OBJECT)))
                goto out;
            path_index(q, sizeof q, p, "selections", s);
            if ((err = get_str(r, &c->sel[s].id, sit, q, "selection_id")) ||
                (err = get_u32(r, &c->sel[s].seq, sit, q, "sequence_order", 0x7fffffff)) ||
                (err = get_ctext(r, &c->sel[s].ct, sit, q, "encrypted_vote")))
                goto out;
        }
    }
    if ((err = get_array(r, &arr, &t->ncast, j, "", "cast_ballot_ids", DT_LIMIT_BALLOTS)))
        goto out;
    t->cast_ids = calloc(t->ncast ? t->ncast : 1, sizeof *t->cast_ids);
    if (!t->cast_ids) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->ncast; i++) {
        if ((err = get_element_of(r, &v, arr, "", "cast_ballot_ids", i, JSON_STRING)))
            goto out;
        if (!(t->cast_ids[i] = strdup(json_string_value(v)))) {
            err = DT_ERR_NOMEM;
            goto out;
        }
    }
out:
    json_decref(j);
    return err;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The most ballot files of a record (DT_LIMIT_BALLOTS; lowered by tests). */
static size_t ballot_limit = DT_LIMIT_BALLOTS;

void dt_record_ballot_limit_for_testing(size_t max)
{
    ballot_limit = max ? max : DT_LIMIT_BALLOTS;
}

/* Lists the regular *.json files of dir/rel (sorted), at most ballot_limit
 * in all (subfolders included); a missing folder is an empty list. */
static dt_err list_json(rd *r, char ***out, size_t *n, const char *dir, const char *rel, bool subdirs)
{
    char *path = dt_strdup_printf("%s/%s", dir, rel);
    DIR *d;
    struct dirent *e;
    size_t cap = 0;
    dt_err err = DT_OK;
    *out = NULL;
    *n = 0;
    if (!path)
        return DT_ERR_NOMEM;
    d = opendir(path);
    free(path);
    if (!d)
        return DT_OK;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        char *relname = dt_strdup_printf("%s/%s", rel, e->d_name);
        if (!relname) {
            err = DT_ERR_NOMEM;
            break;
        }
        if (subdirs) {
            char **sub;
            size_t nsub;
            err = list_json(r, &sub, &nsub, dir, relname, false);
            free(relname);
            if (err)
                break;
            for (size_t i = 0; i < nsub; i++) {
                /* the limit counts every folder's files together */
                if (err == DT_OK && *n >= ballot_limit) {
                    r->file = rel;
                    err = fail(r, DT_ERR_LIMIT, NULL, "more than %zu files", ballot_limit);
                }
                if (err == DT_OK && *n == cap) {
                    char **nv = realloc(*out, (cap ? 2 * cap : 64) * sizeof *nv);
                    if (nv) {
                        *out = nv;
                        cap = cap ? 2 * cap : 64;
                    } else {
                        err = DT_ERR_NOMEM;
                    }
                }
                if (err == DT_OK)
                    (*out)[(*n)++] = sub[i];
                else
                    free(sub[i]); /* and every one after it */
            }
            free(sub);
            if (err)
                break;
            continue;
        }
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) {
            free(relname);
            continue;
        }
        if (*n >= ballot_limit) {
            free(relname);
            r->file = rel;
            err = fail(r, DT_ERR_LIMIT, NULL, "more than %zu files", ballot_limit);
            break;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(*out, cap * sizeof *nv);
            if (!nv) {
                free(relname);
                err = DT_ERR_NOMEM;
                break;
            }
            *out = nv;
        }
        (*out)[(*n)++] = relname;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, cmp_str);
    return err;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int file_exists(const char *dir, const char *rel)
{
    char *path = dt_strdup_printf("%s/%s", dir, rel);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

dt_err dt_record_load(dt_record **out, char **msg, const char *dir)
{
    return dt_record_load_part(out, msg, dir, DT_RECORD_ALL);
}

/* ---- the ballots, read and parsed on all cores ---- */

typedef struct ballot_load {
    dt_record *rec;
    char **files;
    size_t n, elem_bytes;
    atomic_size_t next;
    dt_err *err;  /* per ballot */
    char **msg;   /* per ballot */
} ballot_load;

static void *ballot_loader(void *arg)
{
    ballot_load *bl = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&bl->next, 1);
        if (i >= bl->n)
            break;
        rd r = {.file = bl->files[i], .msg = &bl->msg[i], .elem_bytes = bl->elem_bytes};
        bl->err[i] = read_ballot(bl->rec, &r, &bl->rec->ballots[i], bl->files[i]);
        if (bl->err[i] && !bl->msg[i])
            bl->msg[i] = dt_strdup_printf("%s: %s", bl->files[i], dt_strerror(bl->err[i]));
    }
    return NULL;
}

/* Reads files[0..n) into rec->ballots. The first failing file (in the
 * folder's order) gives the error and *msg, as a serial reading would. */
static dt_err read_ballots(dt_record *rec, rd *r, char **files, size_t n)
{
    ballot_load bl = {.rec = rec, .files = files, .n = n, .elem_bytes = r->elem_bytes};
    pthread_t tid[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cores > 1 ? (size_t)cores : 1, started = 0;
    dt_err err = DT_OK;

    if (threads > 16)
        threads = 16;
    if (threads > n / 32 + 1)
        threads = n / 32 + 1; /* a thread is worth it for dozens of ballots */
    atomic_init(&bl.next, 0);
    bl.err = calloc(n ? n : 1, sizeof *bl.err);
    bl.msg = calloc(n ? n : 1, sizeof *bl.msg);
    if (!bl.err || !bl.msg) {
        free(bl.err);
        free(bl.msg);
        return DT_ERR_NOMEM;
    }
    rec->nballots = n; /* every slot is zeroed: freeing a slot never read is safe */
    for (size_t t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, ballot_loader, &bl) != 0)
            break;
        started = t;
    }
    ballot_loader(&bl);
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    for (size_t i = 0; i < n; i++) {
        if (bl.err[i] && !err) {
            err = bl.err[i];
            if (r->msg && !*r->msg) {
                *r->msg = bl.msg[i];
                bl.msg[i] = NULL;
            }
        }
        free(bl.msg[i]);
    }
    free(bl.err);
    free(bl.msg);
    return err;
}

dt_err dt_record_load_part(dt_record **out, char **msg, const char *dir, dt_record_part part)
{
    dt_record *rec = calloc(1, sizeof *rec);
    rd r = {.file = "", .msg = msg, .elem_bytes = 0};
    char **files = NULL;
    size_t nfiles = 0;
    dt_err err;

    *out = NULL;
    if (msg)
        *msg = NULL;
    if (!rec || !(rec->dir = strdup(dir))) {
        free(rec);
        return DT_ERR_NOMEM;
    }
    if ((err = read_constants(rec, &r)) || (err = read_manifest(rec, &r)) || (err = read_config(rec, &r)))
        goto out;
    if (part == DT_RECORD_CONFIG)
        goto out;
    if ((err = read_initialized(rec, &r)))
        goto out;
    if (part == DT_RECORD_ELECTION)
        goto out;

    if ((err = list_json(&r, &files, &nfiles, dir, "encrypted_ballots", true)))
        goto out;
    rec->ballots = calloc(nfiles ? nfiles : 1, sizeof *rec->ballots);
    if (!rec->ballots) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = read_ballots(rec, &r, files, nfiles)))
        goto out;
    free_list(files, nfiles);
    files = NULL;
    nfiles = 0;

    if (file_exists(dir, "encrypted_tally.json")) {
        rec->has_etally = true;
        if ((err = read_etally(rec, &r)))
            goto out;
    }
    if (file_exists(dir, "tally.json")) {
        rec->has_tally = true;
        if ((err = read_decrypted(rec, &r, &rec->tally, "tally.json", "id")))
            goto out;
    }
    if ((err = list_json(&r, &files, &nfiles, dir, "challenged_ballots", false)))
        goto out;
    rec->challenged = calloc(nfiles ? nfiles : 1, sizeof *rec->challenged);
    if (!rec->challenged) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        rec->nchallenged++;
        if ((err = read_decrypted(rec, &r, &rec->challenged[i], files[i], "id")))
            goto out;
    }
out:
    free_list(files, nfiles);
    if (err) {
        if (msg && !*msg)
            *msg = dt_strdup_printf("%s: %s", r.file, dt_strerror(err));
        dt_record_destroy(rec);
        return err;
    }
    *out = rec;
    return DT_OK;
}

/* ---- a shard: the election's files and some of the ballots (MPI) ---- */

dt_err dt_record_ballot_files(char ***files, size_t *n, char **msg, const char *dir)
{
    rd r = {.file = "encrypted_ballots", .msg = msg};
    dt_err err;
    if (msg)
        *msg = NULL;
    err = list_json(&r, files, n, dir, "encrypted_ballots", true);
    if (err && msg && !*msg)
        *msg = dt_strdup_printf("encrypted_ballots: %s", dt_strerror(err));
    return err;
}

void dt_record_free_files(char **files, size_t n)
{
    free_list(files, n);
}

/* A path the reader itself would list: encrypted_ballots/<folder>/<name>.json,
 * neither part hidden (list_json). */
static bool shard_path_ok(const char *p)
{
    static const char pre[] = "encrypted_ballots/";
    const char *folder = p + sizeof pre - 1, *slash, *name;
    size_t len;
    if (strncmp(p, pre, sizeof pre - 1) != 0 || folder[0] == '.' || folder[0] == '/' || !(slash = strchr(folder, '/')))
        return false;
    name = slash + 1;
    len = strlen(name);
    return name[0] != '.' && !strchr(name, '/') && len >= 6 && strcmp(name + len - 5, ".json") == 0;
}

dt_err dt_record_load_shard(dt_record **out, char **msg, const char *dir, const char *const *files, size_t nfiles,
                            int results)
{
    dt_record *rec = calloc(1, sizeof *rec);
    rd r = {.file = "", .msg = msg, .elem_bytes = 0};
    char **list = NULL, **chal = NULL;
    size_t nlist = 0, nchal = 0;
    dt_err err = DT_OK;

    *out = NULL;
    if (msg)
        *msg = NULL;
    if (!rec || !(rec->dir = strdup(dir))) {
        free(rec);
        return DT_ERR_NOMEM;
    }
    /* the shard's files in the reader's order (sorted), each at most once */
    if (nfiles > ballot_limit) {
        r.file = "encrypted_ballots";
        err = fail(&r, DT_ERR_LIMIT, NULL, "more than %zu files in a shard", ballot_limit);
        goto out;
    }
    if (!(list = calloc(nfiles ? nfiles : 1, sizeof *list))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (; nlist < nfiles; nlist++) {
        if (!shard_path_ok(files[nlist])) {
            r.file = files[nlist];
            err = fail(&r, DT_ERR_INVALID, NULL, "not an encrypted ballot's path (encrypted_ballots/FOLDER/NAME.json)");
            goto out;
        }
        if (!(list[nlist] = strdup(files[nlist]))) {
            err = DT_ERR_NOMEM;
            goto out;
        }
    }
    if (nlist > 1)
        qsort(list, nlist, sizeof *list, cmp_str);
    for (size_t i = 1; i < nlist; i++)
        if (strcmp(list[i - 1], list[i]) == 0) {
            r.file = list[i];
            err = fail(&r, DT_ERR_INVALID, NULL, "listed twice in a shard");
            goto out;
        }
    if ((err = read_constants(rec, &r)) || (err = read_manifest(rec, &r)) || (err = read_config(rec, &r)) ||
        (err = read_initialized(rec, &r)))
        goto out;
    if (!(rec->ballots = calloc(nlist ? nlist : 1, sizeof *rec->ballots))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = read_ballots(rec, &r, list, nlist)))
        goto out;
    if (results && file_exists(dir, "encrypted_tally.json")) {
        rec->has_etally = true;
        if ((err = read_etally(rec, &r)))
            goto out;
    }
    /* tally.json is small and every shard reads it: a ballot's contests are
     * compared with it (10.E) where the ballot is verified */
    if (file_exists(dir, "tally.json")) {
        rec->has_tally = true;
        if ((err = read_decrypted(rec, &r, &rec->tally, "tally.json", "id")))
            goto out;
    }
    if (!results)
        goto out;
    if ((err = list_json(&r, &chal, &nchal, dir, "challenged_ballots", false)))
        goto out;
    if (!(rec->challenged = calloc(nchal ? nchal : 1, sizeof *rec->challenged))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nchal; i++) {
        rec->nchallenged++;
        if ((err = read_decrypted(rec, &r, &rec->challenged[i], chal[i], "id")))
            goto out;
    }
out:
    free_list(list, nlist);
    free_list(chal, nchal);
    if (err) {
        if (msg && !*msg)
            *msg = dt_strdup_printf("%s: %s", r.file, dt_strerror(err));
        dt_record_destroy(rec);
        return err;
    }
    *out = rec;
    return DT_OK;
}

/* dt_record_parse_file; reference: ballots through read_ballot_jansson */
static dt_err parse_file(dt_record **out, char **msg, dt_record_file kind, size_t elem_bytes,
                         const unsigned char *bytes, size_t len, bool reference)
{
    dt_record *rec = calloc(1, sizeof *rec);
    rd r = {.file = "", .msg = msg, .elem_bytes = elem_bytes, .mem = bytes, .memlen = len};
    dt_err err;

    *out = NULL;
    if (msg)
        *msg = NULL;
    if (!rec || !(rec->dir = strdup(""))) {
        free(rec);
        return DT_ERR_NOMEM;
    }
    rec->elem_bytes = elem_bytes;
    if (len > DT_LIMIT_FILE_BYTES) {
        err = fail(&r, DT_ERR_LIMIT, NULL, "file larger than %u bytes", DT_LIMIT_FILE_BYTES);
        goto out;
    }
    switch (kind) {
    case DT_RECORD_FILE_CONSTANTS:
        err = read_constants(rec, &r);
        break;
    case DT_RECORD_FILE_CONFIG:
        err = read_config(rec, &r);
        break;
    case DT_RECORD_FILE_INITIALIZED:
        err = read_initialized(rec, &r);
        break;
    case DT_RECORD_FILE_BALLOT:
        if (!(rec->ballots = calloc(1, sizeof *rec->ballots))) {
            err = DT_ERR_NOMEM;
            break;
        }
        rec->nballots = 1;
        err = (reference ? read_ballot_jansson : read_ballot)(rec, &r, &rec->ballots[0],
                                                              "encrypted_ballots/ballot.json");
        break;
    case DT_RECORD_FILE_ETALLY:
        rec->has_etally = true;
        err = read_etally(rec, &r);
        break;
    case DT_RECORD_FILE_DECRYPTED:
        rec->has_tally = true;
        err = read_decrypted(rec, &r, &rec->tally, "tally.json", "id");
        break;
    default:
        dt_misuse("dt_record_parse_file: unknown kind of file");
    }
out:
    if (err) {
        if (msg && !*msg)
            *msg = dt_strdup_printf("%s: %s", r.file, dt_strerror(err));
        dt_record_destroy(rec);
        return err;
    }
    *out = rec;
    return DT_OK;
}

dt_err dt_record_parse_file(dt_record **out, char **msg, dt_record_file kind, size_t elem_bytes,
                            const unsigned char *bytes, size_t len)
{
    return parse_file(out, msg, kind, elem_bytes, bytes, len, false);
}

dt_err dt_record_parse_ballot_jansson(dt_record **out, char **msg, size_t elem_bytes, const unsigned char *bytes,
                                      size_t len)
{
    return parse_file(out, msg, DT_RECORD_FILE_BALLOT, elem_bytes, bytes, len, true);
}

/* ---- freeing ---- */

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void dt_manifest_free(dt_rec_manifest *m)
{
    free(m->bytes);
    free(m->spec_version);
    for (size_t i = 0; m->contests && i < m->ncontests; i++) {
        free(m->contests[i].id);
        free(m->contests[i].district);
        for (size_t o = 0; m->contests[i].options && o < m->contests[i].noptions; o++) {
            free(m->contests[i].options[o].id);
            free(m->contests[i].options[o].candidate);
        }
        free(m->contests[i].options);
    }
    free(m->contests);
    for (size_t i = 0; m->styles && i < m->nstyles; i++)
        free_strings(m->styles[i].gpu, m->styles[i].ngpu), free(m->styles[i].id);
    free(m->styles);
    free_strings(m->gpus, m->ngpus);
    free_strings(m->candidates, m->ncandidates);
    memset(m, 0, sizeof *m);
}

static void free_proof(dt_rec_proof *p)
{
    free(p->c);
    free(p->v);
    free(p->a);
    free(p->b);
}

static void free_ct(dt_rec_ctext *c)
{
    free(c->pad);
    free(c->data);
}

static void free_data(dt_rec_data *d)
{
    free(d->c0);
    free(d->c1.p);
}

static void free_decrypted(dt_rec_decrypted *d)
{
    free(d->file);
    free(d->id);
    for (size_t i = 0; d->contests && i < d->ncontests; i++) {
        dt_rec_dcontest *c = &d->contests[i];
        free(c->id);
        for (size_t s = 0; c->sel && s < c->nsel; s++) {
            free(c->sel[s].id);
            free(c->sel[s].T);
            free(c->sel[s].a);
            free(c->sel[s].b);
            free_ct(&c->sel[s].ct);
        }
        free(c->sel);
        free_data(&c->data.data);
        free(c->data.beta);
        free(c->data.status);
    }
    free(d->contests);
}

void dt_record_destroy(dt_record *rec)
{
    if (!rec)
        return;
    dt_group_destroy(rec->group);
    free(rec->dir);
    free(rec->group_type);
    free(rec->protocol_version);
    free(rec->p.p);
    free(rec->q.p);
    free(rec->r.p);
    free(rec->g.p);
    dt_manifest_free(&rec->manifest);
    free(rec->baux0.p);
    free(rec->K);
    for (size_t i = 0; rec->guardians && i < rec->nguardians; i++) {
        free(rec->guardians[i].id);
        for (size_t c = 0; rec->guardians[i].coef && c < rec->guardians[i].ncoef; c++)
            free(rec->guardians[i].coef[c].K);
        free(rec->guardians[i].coef);
    }
    free(rec->guardians);
    for (size_t i = 0; rec->ballots && i < rec->nballots; i++) {
        dt_rec_ballot *b = &rec->ballots[i];
        free(b->file);
        free(b->id);
        free(b->style);
        free(b->device);
        free(b->baux.p);
        for (size_t c = 0; b->contests && c < b->ncontests; c++) {
            dt_rec_bcontest *bc = &b->contests[c];
            free(bc->id);
            free_proof(&bc->proof);
            free_data(&bc->data);
            for (size_t s = 0; bc->sel && s < bc->nsel; s++) {
                free(bc->sel[s].id);
                free_ct(&bc->sel[s].ct);
                free_proof(&bc->sel[s].proof);
            }
            free(bc->sel);
        }
        free(b->contests);
    }
    free(rec->ballots);
    dt_rec_etally *t = &rec->etally;
    for (size_t i = 0; t->contests && i < t->ncontests; i++) {
        free(t->contests[i].id);
        for (size_t s = 0; t->contests[i].sel && s < t->contests[i].nsel; s++) {
            free(t->contests[i].sel[s].id);
            free_ct(&t->contests[i].sel[s].ct);
        }
        free(t->contests[i].sel);
    }
    free(t->contests);
    for (size_t i = 0; t->cast_ids && i < t->ncast; i++)
        free(t->cast_ids[i]);
    free(t->cast_ids);
    free_decrypted(&rec->tally);
    for (size_t i = 0; rec->challenged && i < rec->nchallenged; i++)
        free_decrypted(&rec->challenged[i]);
    free(rec->challenged);
    free(rec);
}
