/* GET /api/v1/results: the election's tally, offered only once the server
 * has verified the record (docs/api.md, "Results").
 *
 * The answer is 404 while the record has no tally.json. Otherwise the
 * record is loaded and verified as `detente verify` does (dt_record_load,
 * dt_verify, and dt_board_verify when there is a board/checkpoint, with
 * the board's own keys), and the answer is 200 with the counts and labels,
 * or 409 with what failed. Verification costs seconds to minutes, so the
 * answer is kept, keyed on a fingerprint of the public files (path, size,
 * modification time and inode of each): the next request with the same
 * fingerprint gets the same answer without verifying again. One request
 * verifies at a time; the others are answered 503 with Retry-After
 * meanwhile, so that the server's request threads stay free for others. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include <detente/board.h>
#include <detente/verify.h>

#include "board/board_impl.h"
#include "record/record.h"
#include "server/server_impl.h"
#include "util/codec.h"

struct dt_results {
    char *dir;
    pthread_mutex_t mu;
    bool busy;                 /* a request is verifying */
    bool have;                 /* an answer is kept */
    unsigned char key[32];     /* the fingerprint it belongs to */
    unsigned status;
    char *body;                /* its JSON */
};

dt_err dt_results_create(dt_results **out, const char *dir)
{
    dt_results *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return DT_ERR_NOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return DT_OK;
}

void dt_results_destroy(dt_results *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->body);
    free(r->dir);
    free(r);
}

/* SHA-256 over (path, size, mtime, inode) of every public file, in order.
 * *msg says why the files cannot be listed. */
static dt_err fingerprint(unsigned char key[32], char **msg, const char *dir)
{
    crypto_hash_sha256_state h;
    char **paths = NULL;
    size_t n = 0;
    dt_err err = dt_web_public_files(&paths, &n, msg, dir);
    if (err != DT_OK)
        return err;
    crypto_hash_sha256_init(&h);
    for (size_t i = 0; i < n; i++) {
        char *full = dt_strdup_printf("%s/%s", dir, paths[i]);
        struct stat st;
        unsigned long long v[5] = {0, 0, 0, 0, 0};
        if (!full) {
            err = DT_ERR_NOMEM;
            break;
        }
        if (lstat(full, &st) == 0) {
            v[0] = (unsigned long long)st.st_size;
            v[1] = (unsigned long long)st.st_mtim.tv_sec;
            v[2] = (unsigned long long)st.st_mtim.tv_nsec;
            v[3] = (unsigned long long)st.st_ino;
            v[4] = (unsigned long long)st.st_dev;
        }
        free(full);
        crypto_hash_sha256_update(&h, (const unsigned char *)paths[i], strlen(paths[i]) + 1);
        crypto_hash_sha256_update(&h, (const unsigned char *)v, sizeof v);
    }
    crypto_hash_sha256_final(&h, key);
    dt_board_free_paths(paths, n);
    return err;
}

/* A manifest label: a string, or the first text of ElectionGuard's
 * internationalized text ({"text": [{"value": ...}]}); NULL if neither. */
static const char *label_of(json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    v = json_array_get(json_object_get(v, "text"), 0);
    return json_string_value(json_object_get(v, "value"));
}

static json_t *find_by_id(json_t *arr, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach (arr, i, e) {
        const char *oid = json_string_value(json_object_get(e, "object_id"));
        if (oid && strcmp(oid, id) == 0)
            return e;
    }
    return NULL;
}

/* Every step, its status and (failing) its first messages. */
static json_t *step_list(const dt_verify_report *rep)
{
    json_t *steps = json_array();
    for (int s = 1; steps && s <= DT_VERIFY_STEPS; s++) {
        dt_step_status st = dt_verify_step_status(rep, s);
        json_t *msgs = json_array();
        for (size_t i = 0; msgs && i < dt_verify_step_messages(rep, s); i++)
            json_array_append_new(msgs, json_string(dt_verify_step_message(rep, s, i)));
        json_array_append_new(steps, json_pack("{s:i,s:s,s:s,s:I,s:I,s:o}", "step", s, "name", dt_verify_step_name(s),
                                               "status", st == DT_STEP_PASS   ? "pass"
                                                         : st == DT_STEP_FAIL ? "fail"
                                                                              : "not_applicable",
                                               "checked", (json_int_t)dt_verify_step_checked(rep, s), "failures",
                                               (json_int_t)dt_verify_step_failures(rep, s), "messages", msgs));
    }
    return steps;
}

/* The board's checks B.1-B.5, or null without a board. */
static json_t *board_list(const dt_board_report *b)
{
    json_t *checks;
    if (!b)
        return json_null();
    checks = json_array();
    for (int c = 0; checks && c < DT_BOARD_CHECKS; c++) {
        int st = dt_board_check_status(b, (dt_board_check)c);
        json_t *msgs = json_array();
        for (size_t i = 0; msgs && i < dt_board_check_messages(b, (dt_board_check)c); i++)
            json_array_append_new(msgs, json_string(dt_board_check_message(b, (dt_board_check)c, i)));
        json_array_append_new(checks, json_pack("{s:s,s:s,s:o}", "name", dt_board_check_name((dt_board_check)c),
                                                "status", st == 0 ? "pass" : st == 1 ? "fail" : "not_checked",
                                                "messages", msgs));
    }
    return json_pack("{s:b,s:I,s:I,s:o}", "ok", dt_board_report_ok(b), "size", (json_int_t)dt_board_report_size(b),
                     "cosigned", (json_int_t)dt_board_report_cosigned(b), "checks", checks);
}

/* The 200 body: per contest of the manifest, in its order, each option's
 * label and count from tally.json. NULL with *why if the tally lacks a
 * contest or option of the manifest (the verifier would have said so). */
static json_t *results_json(const dt_record *rec, const dt_verify_report *rep, const dt_board_report *brep,
                            char **why)
{
    json_t *m = json_loadb((const char *)rec->manifest.bytes, rec->manifest.len, 0, NULL);
    json_t *contests = json_array(), *out = NULL, *steps = step_list(rep);
    json_t *mcontests = json_object_get(m, "contests"), *cands = json_object_get(m, "candidates");
    if (!m || !contests || !steps)
        goto out;
    for (size_t c = 0; c < rec->manifest.ncontests; c++) {
        const dt_rec_mcontest *mc = &rec->manifest.contests[c];
        const dt_rec_dcontest *dc = NULL;
        json_t *jc = find_by_id(mcontests, mc->id), *opts = json_array();
        const char *clabel = label_of(json_object_get(jc, "name"));
        for (size_t k = 0; k < rec->tally.ncontests && !dc; k++)
            if (strcmp(rec->tally.contests[k].id, mc->id) == 0)
                dc = &rec->tally.contests[k];
        if (!opts || !dc) {
            json_decref(opts);
            *why = dt_strdup_printf("tally.json has no contest %s", mc->id);
            goto out;
        }
        for (size_t o = 0; o < mc->noptions; o++) {
            const dt_rec_option *mo = &mc->options[o];
            const dt_rec_dsel *ds = NULL;
            const char *olabel = NULL;
            for (size_t k = 0; k < dc->nsel && !ds; k++)
                if (strcmp(dc->sel[k].id, mo->id) == 0)
                    ds = &dc->sel[k];
            if (!ds) {
                json_decref(opts);
                *why = dt_strdup_printf("tally.json has no option %s in contest %s", mo->id, mc->id);
                goto out;
            }
            if (mo->candidate)
                olabel = label_of(json_object_get(find_by_id(cands, mo->candidate), "name"));
            if (!olabel)
                olabel = mo->candidate ? mo->candidate : mo->id;
            json_array_append_new(opts, json_pack("{s:s,s:s,s:I}", "id", mo->id, "label", olabel, "votes",
                                                  (json_int_t)ds->value));
        }
        json_array_append_new(contests, json_pack("{s:s,s:s,s:I,s:o}", "id", mc->id, "label", clabel ? clabel : mc->id,
                                                  "votes_allowed", (json_int_t)mc->votes_allowed, "options", opts));
    }
    out = json_pack("{s:b,s:{s:s?,s:s?},s:I,s:I,s:O,s:O,s:o}", "verified", 1, "election", "scope",
                    json_string_value(json_object_get(m, "election_scope_id")), "name",
                    label_of(json_object_get(m, "name")), "cast_ballots", (json_int_t)rec->etally.ncast,
                    "challenged_ballots", (json_int_t)rec->nchallenged, "contests", contests, "steps", steps, "board",
                    board_list(brep));
out:
    json_decref(steps);
    json_decref(contests);
    json_decref(m);
    return out;
}

/* Loads and verifies the record: *status and *body (malloc'ed JSON) of
 * the answer. Returns false if the answer must not be kept (out of memory,
 * or the verifier could not run). */
static bool verify_now(const char *dir, unsigned *status, char **body)
{
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    dt_board_report *brep = NULL;
    dt_verify_opts opts = {0, NULL, NULL};
    char *msg = NULL, *why = NULL, *s;
    json_t *j = NULL;
    bool keep = true;
    dt_err err;

    *status = 503;
    *body = NULL;
    if ((err = dt_record_load(&rec, &msg, dir)) != DT_OK) {
        if (err == DT_ERR_NOMEM) {
            keep = false;
        } else {
            why = dt_strdup_printf("the record cannot be read: %s", msg ? msg : dt_strerror(err));
            *status = 409;
            j = json_pack("{s:b,s:s?}", "verified", 0, "error", why);
        }
        goto out;
    }
    if (dt_verify(&rep, rec, &opts) != DT_OK) {
        keep = false;
        goto out;
    }
    err = dt_board_verify(&brep, dir, NULL);
    if (err != DT_OK && err != DT_ERR_NOT_FOUND) {
        keep = false;
        goto out;
    }
    if (dt_verify_report_ok(rep) && (!brep || dt_board_report_ok(brep))) {
        if ((j = results_json(rec, rep, brep, &why)) != NULL) {
            *status = 200;
            goto out;
        }
        if (!why) {
            keep = false;
            goto out;
        }
    }
    {
        size_t failing = 0;
        for (int st = 1; st <= DT_VERIFY_STEPS; st++)
            failing += dt_verify_step_status(rep, st) == DT_STEP_FAIL;
        if (!why)
            why = failing ? dt_strdup_printf("the record does not verify: %zu of the %d steps fail", failing,
                                             DT_VERIFY_STEPS)
                          : dt_strdup_printf("the record's board does not verify");
        *status = 409;
        j = json_pack("{s:b,s:s?,s:o,s:o}", "verified", 0, "error", why, "steps", step_list(rep), "board",
                      board_list(brep));
    }
out:
    s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    *body = s ? dt_strdup_printf("%s\n", s) : NULL;
    if (!*body)
        keep = false;
    free(s);
    json_decref(j);
    free(why);
    free(msg);
    dt_board_report_destroy(brep);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
    return keep;
}

static dt_web_reply reply_text(unsigned status, const char *body)
{
    dt_web_reply r = {status, NULL};
    char *copy = strdup(body);
    if (!copy)
        return r;
    r.resp = MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
    if (!r.resp) {
        free(copy);
        return r;
    }
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    dt_web_secure_headers(r.resp);
    return r;
}

dt_web_reply dt_results_get(dt_results *r)
{
    unsigned char key[32];
    char *path = dt_strdup_printf("%s/tally.json", r->dir), *msg = NULL, *body = NULL;
    struct stat st;
    unsigned status;
    dt_web_reply out;
    dt_err err;
    bool keep;

    if (!path)
        return (dt_web_reply){503, NULL};
    if (lstat(path, &st) != 0) {
        free(path);
        return dt_web_error(404, "no results yet: the election is not decrypted (the record has no tally.json)");
    }
    free(path);
    if ((err = fingerprint(key, &msg, r->dir)) != DT_OK) {
        char *why = dt_strdup_printf("the record cannot be read: %s", msg ? msg : dt_strerror(err));
        out = dt_web_error(503, why ? why : "the record cannot be read");
        free(why);
        free(msg);
        return out;
    }
    pthread_mutex_lock(&r->mu);
    if (r->have && memcmp(r->key, key, sizeof key) == 0) {
        out = reply_text(r->status, r->body);
        pthread_mutex_unlock(&r->mu);
        return out;
    }
    if (r->busy) {
        pthread_mutex_unlock(&r->mu);
        out = dt_web_error(503, "the record is being verified: ask again in a few seconds");
        if (out.resp)
            MHD_add_response_header(out.resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        return out;
    }
    r->busy = true;
    pthread_mutex_unlock(&r->mu);

    keep = verify_now(r->dir, &status, &body);

    pthread_mutex_lock(&r->mu);
    r->busy = false;
    if (keep) {
        free(r->body);
        r->body = body;
        r->status = status;
        memcpy(r->key, key, sizeof key);
        r->have = true;
        out = reply_text(status, body);
    } else {
        out = body ? reply_text(status, body) : dt_web_error(503, "the record cannot be verified now (out of memory)");
        free(body);
    }
    pthread_mutex_unlock(&r->mu);
    return out;
}
