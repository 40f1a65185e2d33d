/* The election server (include/detente/server.h; the HTTP contract is
 * docs/api.md). */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include <detente/ballot.h>
#include <detente/board.h>
#include <detente/log.h>
#include <detente/proof.h>
#include <detente/record.h>
#include <detente/server.h>
#include <detente/tiles.h>

#include "record/record.h"
#include "server/admin.h"
#include "server/server_impl.h"
#include "util/codec.h"

/* A cast or challenged ballot waiting for the committer. */
typedef struct job {
    const unsigned char *entry;
    size_t len;
    unsigned char key[1 + DT_BOARD_CODE_BYTES];  /* the board's code key, dt_board_code_key */
    unsigned char pkey[DT_BOARD_KEY_MAX];         /* and its path key, dt_board_path_key */
    size_t pklen;
    dt_err err;
    uint64_t index;
    bool done;
    struct job *next;
} job;

struct dt_server {
    char *dir;
    int dir_fd; /* the record folder, for syncfs: -1 until open */
    char *board_at; /* the board's log location given (--board), or NULL: the folder's own */
    dt_record *rec;
    dt_ballot_ctx *ctx;
    int quiet;
    unsigned publish_every;
    struct MHD_Daemon *d;
    atomic_uint tmp_counter;

    /* the pages, results and record archive (server_impl.h) */
    dt_web *web;

    /* closing: the serving lock, the closed state, the admin token (admin.h) */
    dt_admin *admin;

    /* receipts: one board handle, one request at a time */
    pthread_mutex_t board_mu;
    dt_board *board;

    /* group commit */
    dt_log *log;
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;    /* the committer waits for jobs */
    pthread_cond_t done_cv; /* workers wait for their job */
    job *head, **tail;
    bool stopping;
    pthread_t committer;
    bool committer_started;

    /* checking the ballots that arrive together as one batch (verify_grouped) */
    pthread_mutex_t v_mu;
    pthread_cond_t v_cv;
    dt_batch *v_acc, *v_spare; /* the open group's equations; the other batch */
    struct vwait *v_head;      /* the open group's members */
    bool v_checking;           /* a thread is checking a group */

    /* periodic publishing */
    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;
    bool pub_stopping;
    pthread_t publisher;
    bool publisher_started;
};

/* ---- the committer ---- */

/* One entry alone; a key already on the log is accepted if its entry is
 * this one (a concurrent `detente board publish` found the file first). */
static void commit_one(dt_log *log, job *j)
{
    const unsigned char *e = j->entry, *k[2] = {j->pkey, j->key};
    size_t klen = sizeof j->key, kl[2] = {j->pklen, sizeof j->key};
    j->err = dt_log_append_multikeyed(log, &e, &j->len, k, kl, 2, 1, &j->index, NULL);
    if (j->err == DT_ERR_INVALID) {
        unsigned char *data = NULL;
        size_t dlen = 0;
        uint64_t idx;
        if (dt_log_find(log, j->key, klen, &idx) == DT_OK && dt_log_entry(log, idx, &data, &dlen) == DT_OK &&
            dlen == j->len && memcmp(data, j->entry, dlen) == 0) {
            j->err = DT_OK;
            j->index = idx;
        }
        free(data);
    }
}

/* Appends the batch in one call; if a key in it is refused (a duplicate),
 * one by one, so that only the duplicates fail. */
static void commit_batch(dt_log *log, job *list, size_t n)
{
    const unsigned char **entries = malloc(n * sizeof *entries), **keys = malloc(2 * n * sizeof *keys);
    size_t *lens = malloc(n * sizeof *lens), *klens = malloc(2 * n * sizeof *klens), i = 0;
    uint64_t first = 0;
    dt_err err = DT_ERR_NOMEM;
    if (entries && keys && lens && klens) {
        for (job *j = list; j; j = j->next, i++) {
            entries[i] = j->entry;
            lens[i] = j->len;
            keys[2 * i] = j->pkey;
            klens[2 * i] = j->pklen;
            keys[2 * i + 1] = j->key;
            klens[2 * i + 1] = sizeof j->key;
        }
        err = dt_log_append_multikeyed(log, entries, lens, keys, klens, 2, n, &first, NULL);
    }
    i = 0;
    for (job *j = list; j; j = j->next, i++) {
        j->err = err;
        j->index = first + i;
        if (err == DT_ERR_INVALID || (err == DT_ERR_NOMEM && n > 1))
            commit_one(log, j);
    }
    free(entries);
    free(keys);
    free(lens);
    free(klens);
}

static void *committer_main(void *arg)
{
    dt_server *s = arg;
    pthread_mutex_lock(&s->q_mu);
    for (;;) {
        job *list, *last;
        size_t n = 1;
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        if (!s->head)
            break;
        /* take at most DT_LOG_BATCH_MAX waiting jobs */
        list = last = s->head;
        while (last->next && n < DT_LOG_BATCH_MAX) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = &s->head;
        last->next = NULL;
        pthread_mutex_unlock(&s->q_mu);
        /* The batch's files were written without fsync: one syncfs makes
         * them all durable (data and folder entries) before their entries
         * are committed, where an fsync of each file and folder cost two
         * disk flushes a ballot. */
        if (syncfs(s->dir_fd) != 0) {
            for (job *j = list; j; j = j->next)
                j->err = DT_ERR_IO;
        } else {
            commit_batch(s->log, list, n);
        }
        pthread_mutex_lock(&s->q_mu);
        for (job *j = list; j; j = j->next)
            j->done = true;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

/* Queues j and waits until the committer has appended it (or failed). */
static void commit_wait(dt_server *s, job *j)
{
    pthread_mutex_lock(&s->q_mu);
    j->next = NULL;
    j->done = false;
    *s->tail = j;
    s->tail = &j->next;
    pthread_cond_signal(&s->q_cv);
    while (!j->done)
        pthread_cond_wait(&s->done_cv, &s->q_mu);
    pthread_mutex_unlock(&s->q_mu);
}

/* ---- the publisher ---- */

static void *publisher_main(void *arg)
{
    dt_server *s = arg;
    dt_board *b = NULL;
    char *msg = NULL;
    if (dt_board_open_at(&b, &msg, s->dir, s->board_at) != DT_OK) {
        fprintf(stderr, "detente serve: periodic publishing stopped: %s\n", msg ? msg : "cannot open the board");
        free(msg);
        return NULL;
    }
    pthread_mutex_lock(&s->pub_mu);
    while (!s->pub_stopping) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += s->publish_every;
        while (!s->pub_stopping && pthread_cond_timedwait(&s->pub_cv, &s->pub_mu, &t) != ETIMEDOUT)
            ;
        if (s->pub_stopping)
            break;
        pthread_mutex_unlock(&s->pub_mu);
        {
            size_t added = 0, cosigned = 0;
            dt_err err = dt_board_publish(b, &msg, &added, &cosigned);
            if (err != DT_OK)
                fprintf(stderr, "detente serve: publish failed: %s\n", msg ? msg : dt_strerror(err));
            else if (msg)
                fprintf(stderr, "detente serve: published (%zu added, %zu cosigned); warning: %s\n", added, cosigned,
                        msg);
            free(msg);
            msg = NULL;
        }
        pthread_mutex_lock(&s->pub_mu);
    }
    pthread_mutex_unlock(&s->pub_mu);
    dt_board_close(b);
    return NULL;
}

/* ---- storing a ballot's file ---- */

/* Writes the file dir/rel (mode 0644) durably, refusing (DT_ERR_INVALID,
 * nothing written) if it exists: a hidden temporary file in the same folder
 * (skipped by the board's listing), fsync, link to the name (which fails if
 * the name exists), unlink the temporary, fsync the folder. */
static dt_err store_new_file(dt_server *s, const char *full, const char *text, size_t len)
{
    char *slash = strrchr(full, '/'), *parent = NULL, *tmp = NULL;
    dt_err err = DT_ERR_NOMEM;
    int fd = -1;
    parent = strndup(full, (size_t)(slash - full));
    if (parent)
        tmp = dt_strdup_printf("%s/.tmp-serve-%ld-%u", parent, (long)getpid(), atomic_fetch_add(&s->tmp_counter, 1));
    if (!parent || !tmp)
        goto out;
    err = DT_ERR_IO;
    if (dt_mkdirs(parent) != DT_OK || (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
        goto out;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    /* no fsync here: the committer's syncfs makes the batch durable before
     * the ballots are put on the log and acknowledged */
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (link(tmp, full) != 0) {
        err = errno == EEXIST ? DT_ERR_INVALID : DT_ERR_IO;
        goto out;
    }
    err = DT_OK;
out:
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(parent);
    return err;
}

/* ---- HTTP ---- */

typedef struct conn {
    char *buf;
    size_t len, cap; /* the buffer grows by doubling, up to DT_SERVER_BODY_MAX */
    bool too_big;
    size_t dropped; /* bytes read and dropped after too_big */
} conn;

typedef struct answer {
    int status;
    char *body; /* malloc'ed */
    const char *type;
    const char *allow;
    const char *cache;
    int fd;     /* a static file instead of body; -1 if none */
    uint64_t size;
} answer;

static void printable(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
}

static enum MHD_Result send_answer(dt_server *s, struct MHD_Connection *c, const char *method, const char *url,
                                   answer *a)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;
    if (a->fd >= 0)
        resp = MHD_create_response_from_fd(a->size, a->fd);
    else
        resp = MHD_create_response_from_buffer(a->body ? strlen(a->body) : 0, a->body ? a->body : (void *)"",
                                               MHD_RESPMEM_MUST_COPY);
    if (!s->quiet) {
        char m[17], u[161];
        printable(m, sizeof m, method);
        printable(u, sizeof u, url);
        fprintf(stderr, "detente serve: %s %s %d\n", m, u, a->status);
    }
    free(a->body);
    if (!resp) {
        if (a->fd >= 0)
            close(a->fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type ? a->type : "application/json");
    if (a->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->allow);
    if (a->cache)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, a->cache);
    ok = MHD_queue_response(c, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* A JSON error answer {"error": why}. */
static answer error_answer(int status, const char *why)
{
    answer a = {status, NULL, "application/json", NULL, NULL, -1, 0};
    json_t *j = json_pack("{s:s}", "error", why);
    a.body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (a.body) {
        char *nl = dt_strdup_printf("%s\n", a.body);
        free(a.body);
        a.body = nl;
    }
    return a;
}

/* Queues an answer of server_impl.h's part, logged as send_answer does. */
static enum MHD_Result send_reply(dt_server *s, struct MHD_Connection *c, const char *method, const char *url,
                                  dt_web_reply *r)
{
    enum MHD_Result ok;
    if (!s->quiet) {
        char m[17], u[161];
        printable(m, sizeof m, method);
        printable(u, sizeof u, url);
        fprintf(stderr, "detente serve: %s %s %u\n", m, u, r->status);
    }
    if (!r->resp)
        return MHD_NO;
    ok = MHD_queue_response(c, r->status, r->resp);
    MHD_destroy_response(r->resp);
    return ok;
}

static enum MHD_Result send_error(dt_server *s, struct MHD_Connection *c, const char *method, const char *url,
                                  int status, const char *why, const char *allow)
{
    answer a = error_answer(status, why);
    a.allow = allow;
    return send_answer(s, c, method, url, &a);
}

/* ---- checking ballots in groups ----
 *
 * A request adds its ballot's equations (dt_ballot_verify_batched) to the
 * open group. A thread that finds no group being checked takes the open one
 * (its own ballot is in it), checks it with one multi-scalar multiplication
 * and wakes the members; those that arrived meanwhile form the next group,
 * which the first of them to wake up checks. A group's multi-scalar
 * multiplication costs less a term than each ballot's alone (about 150
 * terms a ballot of 20 selections). If a group fails, each member checks
 * its own equations, and a bad ballot is named as before. */
typedef struct vwait {
    struct vwait *next;
    bool done, ok;
} vwait;

static dt_err verify_grouped(dt_server *s, const dt_ballot *b, char **msg)
{
    dt_batch *mine;
    vwait w = {NULL, false, false};
    dt_err err;
    if (!s->v_acc || !(mine = dt_ballot_batch_create(s->ctx)))
        return dt_ballot_verify(s->ctx, b, msg);
    if ((err = dt_ballot_verify_batched(s->ctx, b, msg, mine)) != DT_OK) {
        dt_batch_destroy(mine);
        return err;
    }
    pthread_mutex_lock(&s->v_mu);
    if (dt_batch_merge(s->v_acc, mine) != DT_OK) {
        /* out of memory: the group fails (the batch is broken), each member alone */
    }
    w.next = s->v_head;
    s->v_head = &w;
    while (!w.done) {
        if (s->v_checking) {
            pthread_cond_wait(&s->v_cv, &s->v_mu);
            continue;
        }
        /* check the open group, which holds w */
        dt_batch *acc = s->v_acc;
        vwait *members = s->v_head;
        s->v_acc = s->v_spare;
        s->v_spare = NULL;
        s->v_head = NULL;
        s->v_checking = true;
        pthread_mutex_unlock(&s->v_mu);
        bool ok = dt_batch_check(acc) == DT_OK; /* empties acc */
        pthread_mutex_lock(&s->v_mu);
        s->v_spare = acc;
        for (vwait *m = members, *next; m; m = next) {
            next = m->next;
            m->ok = ok;
            m->done = true;
        }
        s->v_checking = false;
        pthread_cond_broadcast(&s->v_cv);
    }
    pthread_mutex_unlock(&s->v_mu);
    if (!w.ok && dt_batch_check(mine) != DT_OK)
        err = dt_ballot_verify_batched(s->ctx, b, msg, NULL); /* names the bad proof */
    dt_batch_destroy(mine);
    return err;
}

/* POST /api/v1/ballots: the whole body is in; check, store, commit. */
static answer post_ballot(dt_server *s, const char *body, size_t len, dt_ballot_state want)
{
    dt_ballot *b = NULL;
    char *msg = NULL, *text = NULL, *path = NULL, *full = NULL, *code64 = NULL;
    unsigned char *entry = NULL, hash[32];
    size_t textlen = 0, entrylen = 0;
    int is_blob = 0;
    job j;
    answer a;
    dt_err err;

    memset(&j, 0, sizeof j);
    /* jansson stops at 2048 levels; a ballot has 8: refuse deep nesting before parsing */
    if (dt_json_too_deep(body, len, DT_SERVER_JSON_DEPTH)) {
        a = error_answer(400, "the JSON is nested more than 32 levels deep: not a ballot");
        goto out;
    }
    if ((err = dt_ballot_parse(s->ctx, &b, &msg, body, len)) != DT_OK) {
        a = err == DT_ERR_NOMEM ? error_answer(503, "out of memory") : error_answer(400, msg ? msg : "malformed ballot");
        goto out;
    }
    if (dt_ballot_get_state(b) == DT_BALLOT_STATE_PENDING) {
        dt_ballot_set_state(b, want);
    } else if (dt_ballot_get_state(b) != want) {
        a = error_answer(422, want == DT_BALLOT_STATE_CAST
                                  ? "the ballot's state is CHALLENGED: challenge it with ?action=challenge"
                                  : "the ballot's state is CAST: a ballot to challenge must be PENDING or CHALLENGED");
        goto out;
    }
    if ((err = verify_grouped(s, b, &msg)) != DT_OK) {
        a = err == DT_ERR_NOMEM ? error_answer(503, "out of memory") : error_answer(422, msg ? msg : "refused");
        goto out;
    }
    free(msg);
    msg = NULL;
    path = dt_strdup_printf("encrypted_ballots/%s/eballot-%s.json", dt_ballot_device_id(b), dt_ballot_id(b));
    if (!path) {
        a = error_answer(503, "out of memory");
        goto out;
    }
    if (!dt_board_path_valid(path, strlen(path))) {
        a = error_answer(422, "the encrypting_device or ballot_id cannot name a file of the record "
                              "(1..255 bytes of A-Z a-z 0-9 . _ - in all)");
        goto out;
    }
    {
        unsigned char code[DT_BOARD_CODE_BYTES];
        dt_ballot_confirmation_code(b, code);
        dt_board_code_key(j.key, code);
        j.pklen = dt_board_path_key(j.pkey, path, strlen(path));
    }
    if ((err = dt_ballot_serialize(b, &text, &textlen)) == DT_ERR_ENCODING) {
        a = error_answer(422, "an id of the ballot is not UTF-8");
        goto out;
    }
    if (err != DT_OK ||
        dt_board_entry_format(&entry, &entrylen, path, j.key + 1, (const unsigned char *)text, textlen, hash,
                              &is_blob) != DT_OK ||
        !(full = dt_strdup_printf("%s/%s", s->dir, path)) || !(code64 = dt_b64_encode(j.key + 1, DT_BOARD_CODE_BYTES))) {
        a = error_answer(503, "out of memory");
        goto out;
    }
    if (is_blob) {
        a = error_answer(413, "the ballot is larger than one board entry (65535 bytes)");
        goto out;
    }
    /* from here to the commit, closing waits for this ballot */
    if (!dt_admin_ballot_begin(s->admin)) {
        a = error_answer(DT_ADMIN_CLOSED_STATUS, DT_ADMIN_CLOSED_MSG);
        goto out;
    }
    err = store_new_file(s, full, text, textlen);
    if (err == DT_OK) {
        j.entry = entry;
        j.len = entrylen;
        commit_wait(s, &j);
        if (j.err != DT_OK)
            unlink(full);
    }
    dt_admin_ballot_end(s->admin);
    if (err == DT_ERR_INVALID) {
        msg = dt_strdup_printf("%s is already in the record: ballot %s was already received", path, dt_ballot_id(b));
        a = error_answer(409, msg ? msg : "already received");
        goto out;
    }
    if (err != DT_OK) {
        a = error_answer(503, "the ballot cannot be stored (the record folder cannot be written)");
        goto out;
    }
    if (j.err != DT_OK) {
        a = j.err == DT_ERR_INVALID ? error_answer(409, "a ballot with this confirmation code was already received")
                                    : error_answer(503, "the ballot cannot be put on the board (the log store failed)");
        goto out;
    }
    {
        json_t *r = json_pack("{s:s,s:I,s:s}", "confirmation_code", code64, "index", (json_int_t)j.index, "state",
                              want == DT_BALLOT_STATE_CAST ? "cast" : "challenged");
        a = (answer){201, r ? json_dumps(r, JSON_COMPACT) : NULL, "application/json", NULL, NULL, -1, 0};
        json_decref(r);
        if (a.body) {
            char *nl = dt_strdup_printf("%s\n", a.body);
            free(a.body);
            a.body = nl;
        }
    }
out:
    free(msg);
    free(text);
    free(path);
    free(full);
    free(code64);
    free(entry);
    dt_ballot_destroy(b);
    return a;
}

/* base64url without padding of exactly 32 bytes (43 characters). */
static bool code_from_url(unsigned char code[DT_BOARD_CODE_BYTES], const char *s)
{
    char buf[48];
    if (strlen(s) != 43)
        return false;
    for (size_t i = 0; i < 43; i++) {
        char ch = s[i];
        if (ch == '+' || ch == '/' || ch == '=')
            return false;
        buf[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    buf[43] = '=';
    buf[44] = '\0';
    return dt_b64_decode_exact(code, DT_BOARD_CODE_BYTES, buf) == DT_OK;
}

static answer get_receipt(dt_server *s, const char *codetext)
{
    unsigned char code[DT_BOARD_CODE_BYTES];
    char *msg = NULL, *receipt = NULL;
    size_t len = 0;
    dt_err err;
    answer a;
    if (!code_from_url(code, codetext))
        return error_answer(404, "not a confirmation code: want 43 characters of base64url without padding");
    pthread_mutex_lock(&s->board_mu);
    err = dt_board_receipt(s->board, &msg, code, &receipt, &len);
    pthread_mutex_unlock(&s->board_mu);
    if (err == DT_OK) {
        a = (answer){200, receipt, "text/plain; charset=utf-8", NULL, "no-cache", -1, 0};
        receipt = NULL;
    } else if (err == DT_ERR_NOT_FOUND) {
        a = error_answer(404, msg ? msg : "no such ballot");
    } else {
        a = error_answer(503, msg ? msg : "the receipt cannot be made");
    }
    free(receipt);
    free(msg);
    return a;
}

/* /board/<rel>: checkpoint, tile/... (strict tlog-tiles paths) and
 * blob/<64 lower-case hex>; anything else is 404. */
static answer get_static(dt_server *s, const char *rel)
{
    answer a = {200, NULL, "application/octet-stream", NULL, NULL, -1, 0};
    unsigned level, width;
    uint64_t index;
    struct stat st;
    char *full;
    if (strcmp(rel, "checkpoint") == 0 || strcmp(rel, "log.vkey") == 0 || strcmp(rel, "witnesses.vkey") == 0) {
        a.type = "text/plain; charset=utf-8";
        a.cache = "no-cache";
    } else if (strncmp(rel, "tile/", 5) == 0 && dt_tile_path_parse(&level, &index, &width, rel) == DT_OK) {
        a.cache = strstr(rel, ".p/") ? "public, max-age=10" : "public, max-age=31536000, immutable";
    } else if (strncmp(rel, "blob/", 5) == 0 && strlen(rel) == 5 + 64 && strspn(rel + 5, "0123456789abcdef") == 64) {
        a.cache = "public, max-age=31536000, immutable";
    } else {
        return error_answer(404, "not found");
    }
    if (!(full = dt_strdup_printf("%s/board/%s", s->dir, rel)))
        return error_answer(503, "out of memory");
    a.fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(full);
    if (a.fd < 0 || fstat(a.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (a.fd >= 0)
            close(a.fd);
        return error_answer(404, "not found");
    }
    a.size = (uint64_t)st.st_size;
    return a;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
    dt_server *s = cls;
    conn *u = *con_cls;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    answer a;
    (void)version;

    if (!u) { /* the head has arrived */
        if (strcmp(url, "/api/v1/ballots") == 0) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (strcmp(method, "POST") != 0)
                return send_error(s, c, method, url, 405, "method not allowed: ballots are POSTed", "POST");
            if (dt_admin_closed(s->admin))
                return send_error(s, c, method, url, DT_ADMIN_CLOSED_STATUS, DT_ADMIN_CLOSED_MSG, NULL);
            if (cl && strtoull(cl, NULL, 10) > DT_SERVER_BODY_MAX)
                return send_error(s, c, method, url, 413, "the request body is larger than 1 MiB", NULL);
            if (!(u = calloc(1, sizeof *u)))
                return MHD_NO;
            *con_cls = u;
            return MHD_YES;
        }
        if (strncmp(url, DT_ADMIN_PREFIX, strlen(DT_ADMIN_PREFIX)) == 0) {
            a = (answer){0, NULL, "application/json", NULL, "no-store", -1, 0};
            a.status = dt_admin_answer(s->admin, c, method, url, &a.body, &a.allow);
            return send_answer(s, c, method, url, &a);
        }
        if (strncmp(url, "/api/v1/receipts/", 17) == 0) {
            if (!get)
                return send_error(s, c, method, url, 405, "method not allowed: receipts are read with GET", "GET, HEAD");
            a = get_receipt(s, url + 17);
            return send_answer(s, c, method, url, &a);
        }
        if (strncmp(url, "/board/", 7) == 0) {
            if (!get)
                return send_error(s, c, method, url, 405, "method not allowed: the board is read with GET", "GET, HEAD");
            a = get_static(s, url + 7);
            return send_answer(s, c, method, url, &a);
        }
        {
            dt_web_reply r;
            if (dt_web_route(s->web, url, get, &r))
                return send_reply(s, c, method, url, &r);
        }
        return send_error(s, c, method, url, 404, "not found", NULL);
    }
    if (*data_size) { /* a part of the body */
        if (!u->too_big && *data_size > DT_SERVER_BODY_MAX - u->len) {
            u->too_big = true; /* without Content-Length: read and drop the rest, then answer 413 */
            free(u->buf);
            u->buf = NULL;
        }
        /* Dropping has a limit too: past 16 MiB the connection is closed
         * without an answer. (An answer sent before the body is read would be
         * lost: closing a socket with unread data resets the connection.) */
        if (u->too_big && (u->dropped += *data_size) > 16 * (size_t)DT_SERVER_BODY_MAX)
            return MHD_NO;
        if (!u->too_big) {
            if (*data_size > u->cap - u->len) {
                size_t cap = u->cap ? u->cap : 16384;
                char *nb;
                while (cap - u->len < *data_size)
                    cap *= 2;
                if (cap > DT_SERVER_BODY_MAX)
                    cap = DT_SERVER_BODY_MAX;
                if (!(nb = realloc(u->buf, cap)))
                    return MHD_NO;
                u->buf = nb;
                u->cap = cap;
            }
            memcpy(u->buf + u->len, data, *data_size);
            u->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (u->too_big)
        return send_error(s, c, method, url, 413, "the request body is larger than 1 MiB", NULL);
    {
        static const char *const args[] = {"action", NULL};
        const char *action = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "action");
        dt_ballot_state want;
        char why[128];
        if (!dt_server_query_ok(c, args, why, sizeof why))
            return send_error(s, c, method, url, 400, why, NULL);
        if (!action || strcmp(action, "cast") == 0)
            want = DT_BALLOT_STATE_CAST;
        else if (strcmp(action, "challenge") == 0)
            want = DT_BALLOT_STATE_CHALLENGED;
        else
            return send_error(s, c, method, url, 400, "action must be cast or challenge", NULL);
        if (u->len == 0)
            return send_error(s, c, method, url, 400, "the request body is empty: POST an encrypted ballot's JSON", NULL);
        a = post_ballot(s, u->buf, u->len, want);
    }
    return send_answer(s, c, method, url, &a);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    conn *u = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (u) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

/* ---- start and stop ---- */

dt_err dt_server_start(dt_server **out, char **msg, const dt_server_opts *o)
{
    dt_server *s;
    char *logp = NULL;
    dt_err err;
    if (!out || !msg || !o || !o->dir || !o->addr)
        dt_misuse("dt_server_start: NULL argument");
    *out = NULL;
    *msg = NULL;
    if (!(s = calloc(1, sizeof *s)) || !(s->dir = strdup(o->dir)) || (o->board && !(s->board_at = strdup(o->board)))) {
        if (s)
            free(s->dir);
        free(s);
        return DT_ERR_NOMEM;
    }
    s->dir_fd = -1;
    s->quiet = o->quiet;
    s->publish_every = o->publish_every;
    s->tail = &s->head;
    pthread_mutex_init(&s->board_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    pthread_mutex_init(&s->pub_mu, NULL);
    pthread_cond_init(&s->pub_cv, NULL);
    pthread_mutex_init(&s->v_mu, NULL);
    pthread_cond_init(&s->v_cv, NULL);
    if ((err = dt_record_load_part(&s->rec, msg, o->dir, DT_RECORD_ELECTION)) != DT_OK ||
        (err = dt_ballot_ctx_create(&s->ctx, msg, s->rec)) != DT_OK) {
        char *m = dt_strdup_printf("%s: not an election folder: %s", o->dir, *msg ? *msg : dt_strerror(err));
        free(*msg);
        *msg = m;
        goto fail;
    }
    /* the two batches of the groups; without them each ballot is checked alone */
    s->v_acc = dt_ballot_batch_create(s->ctx);
    s->v_spare = dt_ballot_batch_create(s->ctx);
    if (!s->v_acc || !s->v_spare) {
        dt_batch_destroy(s->v_acc);
        dt_batch_destroy(s->v_spare);
        s->v_acc = s->v_spare = NULL;
    }
    if ((s->dir_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        *msg = dt_strdup_printf("%s: cannot open the folder: %s", o->dir, strerror(errno));
        err = DT_ERR_IO;
        goto fail;
    }
    if (s->rec->chain) {
        *msg = dt_strdup_printf("%s: the election chains confirmation codes, which the server does not handle yet",
                                o->dir);
        err = DT_ERR_INVALID;
        goto fail;
    }
    if (!o->board && !dt_board_exists(o->dir)) {
        *msg = dt_strdup_printf("%s has no board (make one with detente board init, or detente demo)", o->dir);
        err = DT_ERR_NOT_FOUND;
        goto fail;
    }
    if ((err = dt_board_open_at(&s->board, msg, o->dir, o->board)) != DT_OK)
        goto fail;
    if ((err = dt_admin_open(&s->admin, msg, o->dir, o->board)) != DT_OK)
        goto fail;
    if ((err = dt_board_log_location(&logp, o->dir, o->board)) != DT_OK)
        goto fail;
    if ((err = dt_web_create(&s->web, o->dir, o->web_dir)) != DT_OK)
        goto fail;
    {
        char *why = NULL;
        if ((err = dt_log_open_msg(&s->log, &why, logp, 0)) != DT_OK)
            *msg = dt_strdup_printf("%s: cannot open the log store (%s)%s%s", o->board ? "--board" : logp,
                                    dt_strerror(err), why ? ": " : "", why ? why : "");
        free(why);
        if (err != DT_OK)
            goto fail;
    }
    if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
        err = DT_ERR_NOMEM;
        goto fail;
    }
    s->committer_started = true;
    if (s->publish_every) {
        if (pthread_create(&s->publisher, NULL, publisher_main, s) != 0) {
            err = DT_ERR_NOMEM;
            goto fail;
        }
        s->publisher_started = true;
    }
    s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                                (o->addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, o->addr, MHD_OPTION_THREAD_POOL_SIZE,
                            o->threads ? o->threads : 4u, MHD_OPTION_CONNECTION_LIMIT,
                            o->connections ? o->connections : 512u, MHD_OPTION_CONNECTION_TIMEOUT,
                            o->timeout_seconds ? o->timeout_seconds : 30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                            NULL, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            o->per_ip_connections ? o->per_ip_connections : 64u, MHD_OPTION_UNESCAPE_CALLBACK,
                            dt_server_unescape, NULL, MHD_OPTION_END);
    if (!s->d) {
        *msg = dt_strdup_printf("cannot listen (the address is in use, or not an address of this machine)");
        err = DT_ERR_IO;
        goto fail;
    }
    if ((err = dt_admin_write_token(s->admin, msg, o->addr, dt_server_port(s))) != DT_OK)
        goto fail;
    free(logp);
    *out = s;
    return DT_OK;
fail:
    free(logp);
    if (*msg == NULL)
        *msg = dt_strdup_printf("%s: cannot start the server (%s)", o->dir, dt_strerror(err));
    dt_server_stop(s);
    return err;
}

unsigned dt_server_port(const dt_server *s)
{
    const union MHD_DaemonInfo *info;
    if (!s)
        dt_misuse("dt_server_port: NULL server");
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (unsigned)info->port : 0u;
}

void dt_server_stop(dt_server *s)
{
    if (!s)
        return;
    /* requests first (their ballots are committed: the committer still runs) */
    if (s->d)
        MHD_stop_daemon(s->d);
    dt_web_destroy(s->web);
    if (s->committer_started) {
        pthread_mutex_lock(&s->q_mu);
        s->stopping = true;
        pthread_cond_signal(&s->q_cv);
        pthread_mutex_unlock(&s->q_mu);
        pthread_join(s->committer, NULL);
    }
    if (s->publisher_started) {
        pthread_mutex_lock(&s->pub_mu);
        s->pub_stopping = true;
        pthread_cond_signal(&s->pub_cv);
        pthread_mutex_unlock(&s->pub_mu);
        pthread_join(s->publisher, NULL);
    }
    dt_admin_destroy(s->admin); /* every acknowledged ballot is committed: let go of the lock */
    dt_log_close(s->log);
    dt_board_close(s->board);
    dt_batch_destroy(s->v_acc);
    dt_batch_destroy(s->v_spare);
    dt_ballot_ctx_destroy(s->ctx);
    dt_record_destroy(s->rec);
    pthread_mutex_destroy(&s->v_mu);
    pthread_cond_destroy(&s->v_cv);
    pthread_mutex_destroy(&s->board_mu);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    pthread_cond_destroy(&s->done_cv);
    pthread_mutex_destroy(&s->pub_mu);
    pthread_cond_destroy(&s->pub_cv);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    free(s->dir);
    free(s->board_at);
    free(s);
}
