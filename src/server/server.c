/* The election server (include/detente/server.h; the HTTP contract is
 * docs/api.md). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* An answer ready to queue: a JSON body, or a static file. */
typedef struct answer {
    int status;
    char *body; /* malloc'ed */
    const char *type;
    const char *allow;
    const char *cache;
    int fd;     /* a static file instead of body; -1 if none */
    uint64_t size; /* of the file, or of a binary body */
    bool binary;   /* body is size bytes, not a string */
} answer;

struct conn;

/* A POSTed ballot on its way through a checker and the committer, while its
 * connection is suspended (part of its request's conn). */
typedef struct cast {
    struct cast *next;
    struct conn *u;
    struct MHD_Connection *c;
    dt_ballot_state want;
    dt_ballot *b;
    dt_batch *mine;      /* the ballot's own proof equations */
    bool ok;             /* they hold (the group's check, or the ballot's own) */
    char *path, *full;
    unsigned char *entry;
    size_t entrylen;
    unsigned char key[1 + DT_BOARD_CODE_BYTES];  /* the board's code key, dt_board_code_key */
    unsigned char pkey[DT_BOARD_KEY_MAX];         /* and its path key, dt_board_path_key */
    size_t pklen;
    dt_err err;          /* the log's answer */
    bool name_taken;     /* its file name is in the folder, or earlier in its batch: 409 */
    uint64_t index;
} cast;

/* A request's state: its body arriving; its ballot with the checkers or the
 * committer (the connection suspended); its answer ready (resumed); sent. */
enum { REQ_BODY, REQ_QUEUED, REQ_ANSWERED, REQ_SENT };

typedef struct conn {
    char *buf;
    size_t len, cap; /* the buffer grows by doubling, up to DT_SERVER_BODY_MAX */
    bool too_big;
    size_t dropped; /* bytes read and dropped after too_big */
    int state;
    cast k;
    answer a; /* REQ_ANSWERED: the ballot's answer */
} conn;

/* Ballots a checker takes at most as one group. */
#define DT_SERVER_GROUP_MAX 256
/* A checker that finds fewer ballots waiting than this waits up to
 * DT_SERVER_GATHER_NS for more before it takes them. */
#define DT_SERVER_GATHER_MIN 8
#define DT_SERVER_GATHER_NS 2000000L
/* Bytes of memory the checkers touch at start, shared among them (a
 * group's check of 64 ballots of 20 selections takes about 16 MiB), and
 * the least one checker touches. */
#define DT_SERVER_WARM_BYTES ((size_t)32 << 20)
#define DT_SERVER_WARM_MIN ((size_t)4 << 20)
/* Ballots the committer appends at most in one call. */
#define DT_SERVER_COMMIT_MAX 4096
/* Milliseconds between two checkpoints of the log's WAL (the flusher). */
#define DT_SERVER_CKPT_MS 50
/* The publisher's niceness (setpriority; 0..19). */
#define DT_SERVER_PUBLISH_NICE 10

struct dt_server {
    char *dir;
    char *board_at; /* the board's log location given (--board), or NULL: the folder's own */
    dt_record *rec;
    dt_ballot_ctx *ctx;
    int quiet;
    unsigned publish_every;
    int export_tiles;
    struct MHD_Daemon *d;

    /* the pages, results and record archive (server_impl.h) */
    dt_web *web;

    /* closing: the serving lock, the closed state, the admin token (admin.h) */
    dt_admin *admin;

    /* receipts: one board handle, one request at a time */
    pthread_mutex_t board_mu;
    dt_board *board;

    /* The ballots' way: a checker takes every ballot waiting as one group
     * (check_group), the committer every ballot checked (commit_casts). */
    dt_log *log;
    pthread_mutex_t q_mu;
    pthread_cond_t check_cv;  /* the checkers wait for ballots */
    pthread_cond_t commit_cv; /* the committer waits for checked ballots */
    pthread_cond_t idle_cv;   /* dt_server_stop waits for the requests in progress */
    cast *check_head, **check_tail;
    cast *commit_head, **commit_tail;
    size_t inflight;          /* ballot requests not yet answered on their connection */
    bool refusing;            /* stopping: ballots now get 503 */
    bool stopping;            /* the checkers and the committer end once their queues are empty */
    pthread_t *checkers;
    unsigned ncheckers, checkers_started;
    pthread_t committer;
    bool committer_started;
    pthread_cond_t flush_cv;
    bool flush_stopping;
    dt_log *ckpt_log; /* the flusher's handle, for the log's checkpoints */
    pthread_t flusher;
    bool flusher_started;
    /* for the summary at stop (under q_mu) */
    uint64_t n_groups, n_grouped, max_group, n_commits, n_committed;

    /* periodic publishing */
    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;
    bool pub_stopping;
    pthread_t publisher;
    bool publisher_started;
    /* the publisher's own, read once it has ended: for the summary at stop */
    uint64_t n_pub;
    double pub_ms_sum, pub_ms_max;
};


/* ---- the publisher ---- */

static void *publisher_main(void *arg)
{
    dt_server *s = arg;
    pthread_setname_np(pthread_self(), "dt-publish");
    /* nice 10: the ballots' checks and answers first (a publish, with the
     * local witnesses' checks of every new entry, came in bursts of a
     * seventh of the server's time, and its p99 went past 150 ms); at
     * nice 10 it still gets a tenth of a busy core, the spare time more.
     * Raising one's niceness needs no privilege. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), DT_SERVER_PUBLISH_NICE);
    dt_board *b = NULL;
    char *msg = NULL;
    if (dt_board_open_at(&b, &msg, s->dir, s->board_at) != DT_OK) {
        fprintf(stderr, "detente serve: periodic publishing stopped: %s\n", msg ? msg : "cannot open the board");
        free(msg);
        return NULL;
    }
    dt_board_set_light_tiles(b, s->export_tiles);
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
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            dt_err err = dt_board_publish_light(b, &msg, &added, &cosigned); /* not the ballots' files */
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
            s->n_pub++;
            s->pub_ms_sum += ms;
            s->pub_ms_max = ms > s->pub_ms_max ? ms : s->pub_ms_max;
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


/* ---- HTTP ---- */

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
    if (a->fd >= 0) {
        resp = MHD_create_response_from_fd(a->size, a->fd);
    } else if (a->binary) { /* MHD frees it */
        resp = MHD_create_response_from_buffer((size_t)a->size, a->body, MHD_RESPMEM_MUST_FREE);
        if (resp)
            a->body = NULL;
    } else {
        resp = MHD_create_response_from_buffer(a->body ? strlen(a->body) : 0, a->body ? a->body : (void *)"",
                                               MHD_RESPMEM_MUST_COPY);
    }
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
/* A JSON answer: j (taken) written compact, with a new line; body NULL
 * (the connection dropped) if out of memory. */
static answer json_answer(int status, json_t *j)
{
    answer a = {status, NULL, "application/json", NULL, NULL, -1, 0, false};
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text)
        a.body = dt_strdup_printf("%s\n", text);
    free(text);
    return a;
}

static answer error_answer(int status, const char *why)
{
    return json_answer(status, json_pack("{s:s}", "error", why));
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


/* ---- the ballots' way ----
 *
 * on_request suspends a POSTed ballot's connection and queues the ballot.
 * A checker thread (one a core) takes every ballot waiting as one group:
 * it parses each and adds its proofs' equations to a batch of its own
 * (dt_ballot_verify_batched), then checks the group's batches merged, with
 * one multi-scalar multiplication; a group of 64 ballots of 20 selections
 * costs about a third less a ballot than each alone (bench_cast). The
 * committer thread takes every ballot checked: it appends their entries to
 * the log in one call (one fsync), keeps each ballot's answer in its conn
 * and resumes its connection (on_request sends it). The ballots' files are
 * written from the log at close (dt_board_restore), not while voting is
 * open: creating 1,500 files a second cost a tenth of the server's time and
 * doubled its p99 latency (docs/performance.md). Under load, groups and commits grow by
 * themselves (what arrives while one is worked on is the next); at a trickle
 * a ballot is a group of one, checked at once. */

/* Ends a cast: frees its work, keeps its answer and resumes its connection
 * (MHD then calls on_request, which sends the answer). */
static void finish(cast *k, answer a)
{
    conn *u = k->u;
    dt_ballot_destroy(k->b);
    dt_batch_destroy(k->mine);
    free(k->path);
    free(k->full);
    free(k->entry);
    k->b = NULL;
    k->mine = NULL;
    k->path = k->full = NULL;
    k->entry = NULL;
    u->a = a;
    u->state = REQ_ANSWERED;
    MHD_resume_connection(k->c);
}

/* A ballot's request answered on its connection, or gone: one fewer in progress. */
static void request_done(dt_server *s)
{
    pthread_mutex_lock(&s->q_mu);
    if (--s->inflight == 0)
        pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->q_mu);
}

/* Parses k's body and adds its proofs' equations to k->mine. false: *a is
 * the refusal. With no memory for a batch, the proofs are checked here, one
 * by one (k->ok set). */
static bool prepare(dt_server *s, cast *k, answer *a)
{
    char *msg = NULL;
    dt_err err;
    conn *u = k->u;
    /* jansson stops at 2048 levels; a ballot has 8: refuse deep nesting before parsing */
    if (dt_json_too_deep(u->buf, u->len, DT_SERVER_JSON_DEPTH)) {
        *a = error_answer(400, "the JSON is nested more than 32 levels deep: not a ballot");
        return false;
    }
    if ((err = dt_ballot_parse(s->ctx, &k->b, &msg, u->buf, u->len)) != DT_OK) {
        *a = err == DT_ERR_NOMEM ? error_answer(503, "out of memory") : error_answer(400, msg ? msg : "malformed ballot");
        free(msg);
        return false;
    }
    if (dt_ballot_get_state(k->b) == DT_BALLOT_STATE_PENDING) {
        dt_ballot_set_state(k->b, k->want);
    } else if (dt_ballot_get_state(k->b) != k->want) {
        *a = error_answer(422, k->want == DT_BALLOT_STATE_CAST
                                   ? "the ballot's state is CHALLENGED: challenge it with ?action=challenge"
                                   : "the ballot's state is CAST: a ballot to challenge must be PENDING or CHALLENGED");
        return false;
    }
    if ((k->mine = dt_ballot_batch_create(s->ctx)))
        err = dt_ballot_verify_batched(s->ctx, k->b, &msg, k->mine);
    else if ((err = dt_ballot_verify(s->ctx, k->b, &msg)) == DT_OK)
        k->ok = true;
    if (err != DT_OK) {
        *a = err == DT_ERR_NOMEM ? error_answer(503, "out of memory") : error_answer(422, msg ? msg : "refused");
        free(msg);
        return false;
    }
    return true;
}

/* Sets ok on members v[0..n) by checking their batches merged (tmp: an
 * empty batch); known_bad: their merged check already failed. A failed
 * group is halved until its bad members are alone, so that one bad ballot
 * costs about 2 log2(n) checks of shrinking groups, not one a member. */
static void check_members(dt_batch *tmp, cast **v, size_t n, bool known_bad)
{
    size_t h = n / 2;
    bool left_ok = true;
    if (n == 1) {
        v[0]->ok = !known_bad && dt_batch_check(v[0]->mine) == DT_OK;
        return;
    }
    if (!known_bad) {
        bool merged = true;
        for (size_t i = 0; i < n; i++)
            merged &= dt_batch_merge(tmp, v[i]->mine) == DT_OK; /* out of memory: the check fails, then halves */
        if (dt_batch_check(tmp) == DT_OK && merged) {            /* (empties tmp) */
            for (size_t i = 0; i < n; i++)
                v[i]->ok = true;
            return;
        }
    }
    check_members(tmp, v, h, false);
    for (size_t i = 0; i < h; i++)
        left_ok &= v[i]->ok;
    check_members(tmp, v + h, n - h, left_ok); /* the left half good: the bad one is on the right */
}

/* k's file name, board keys and board entry. false: *a is the refusal. */
static bool make_entry(dt_server *s, cast *k, answer *a)
{
    unsigned char code[DT_BOARD_CODE_BYTES], hash[32];
    char *text = NULL;
    size_t textlen = 0;
    int is_blob = 0;
    dt_err err;
    k->path = dt_strdup_printf("encrypted_ballots/%s/eballot-%s.json", dt_ballot_device_id(k->b), dt_ballot_id(k->b));
    if (!k->path) {
        *a = error_answer(503, "out of memory");
        return false;
    }
    if (!dt_board_path_valid(k->path, strlen(k->path))) {
        *a = error_answer(422, "the encrypting_device or ballot_id cannot name a file of the record "
                               "(1..255 bytes of A-Z a-z 0-9 . _ - in all)");
        return false;
    }
    dt_ballot_confirmation_code(k->b, code);
    dt_board_code_key(k->key, code);
    k->pklen = dt_board_path_key(k->pkey, k->path, strlen(k->path));
    if ((err = dt_ballot_serialize_compact(k->b, &text, &textlen)) == DT_ERR_ENCODING) {
        *a = error_answer(422, "an id of the ballot is not UTF-8");
        return false;
    }
    if (err == DT_OK) /* the entry holds it: not kept beside */
        err = dt_board_entry_format(&k->entry, &k->entrylen, k->path, k->key + 1, (const unsigned char *)text, textlen,
                                    hash, &is_blob);
    free(text);
    if (err != DT_OK || !(k->full = dt_strdup_printf("%s/%s", s->dir, k->path))) {
        *a = error_answer(503, "out of memory");
        return false;
    }
    if (is_blob) {
        *a = error_answer(413, "the ballot is larger than one board entry (65535 bytes)");
        return false;
    }
    return true;
}

/* One group: every ballot parsed and its equations made, the group checked,
 * a failed ballot named by its own check (nothing of it goes further), the
 * others' entries made and passed to the committer. */
static void check_group(dt_server *s, cast *list, dt_batch *tmp)
{
    cast *all[DT_SERVER_GROUP_MAX], *v[DT_SERVER_GROUP_MAX], *passed = NULL, **ptail = &passed;
    size_t n = 0, nb = 0, np = 0;
    answer a;
    for (cast *k = list, *next; k; k = next) {
        next = k->next;
        k->next = NULL;
        if (!prepare(s, k, &a)) {
            finish(k, a);
            continue;
        }
        all[n++] = k;
        if (!k->ok)
            v[nb++] = k; /* batched (the others were checked one by one) */
    }
    if (nb && tmp)
        check_members(tmp, v, nb, false);
    else
        for (size_t i = 0; i < nb; i++)
            v[i]->ok = dt_batch_check(v[i]->mine) == DT_OK;
    for (size_t i = 0; i < n; i++) {
        cast *k = all[i];
        if (!k->ok) {
            char *msg = NULL;
            dt_err err = dt_ballot_verify_batched(s->ctx, k->b, &msg, NULL); /* names the bad proof */
            if (err != DT_OK) {
                finish(k, err == DT_ERR_NOMEM ? error_answer(503, "out of memory")
                                              : error_answer(422, msg ? msg : "refused"));
                free(msg);
                continue;
            }
            free(msg);
        }
        dt_batch_destroy(k->mine);
        k->mine = NULL;
        if (!make_entry(s, k, &a)) {
            finish(k, a);
            continue;
        }
        *ptail = k;
        ptail = &k->next;
        np++;
    }
    pthread_mutex_lock(&s->q_mu);
    s->n_groups++;
    s->n_grouped += n;
    if (n > s->max_group)
        s->max_group = n;
    if (passed) {
        *s->commit_tail = passed;
        s->commit_tail = ptail;
        pthread_cond_signal(&s->commit_cv);
    }
    pthread_mutex_unlock(&s->q_mu);
}

static void *checker_main(void *arg)
{
    dt_server *s = arg;
    pthread_setname_np(pthread_self(), "dt-check");
    dt_batch *tmp = dt_ballot_batch_create(s->ctx); /* NULL: each ballot checked alone */
    {
        /* the memory of a group's check faulted in now, not under the
         * first ballots (their p99 doubled); kept with cmd_serve's mallopt */
        size_t bytes = DT_SERVER_WARM_BYTES / (s->ncheckers ? s->ncheckers : 1);
        unsigned char *warm;
        if (bytes < DT_SERVER_WARM_MIN)
            bytes = DT_SERVER_WARM_MIN;
        if ((warm = malloc(bytes))) {
            for (size_t i = 0; i < bytes; i += 4096)
                ((volatile unsigned char *)warm)[i] = 0;
            free(warm);
        }
    }
    pthread_mutex_lock(&s->q_mu);
    for (;;) {
        cast *list, *last;
        size_t n = 1;
        while (!s->check_head && !s->stopping)
            pthread_cond_wait(&s->check_cv, &s->q_mu);
        if (!s->check_head)
            break;
        /* a few ballots waiting: wait a moment for more (a group of one
         * costs twice a ballot what a group of 16 does), unless stopping */
        if (!s->stopping) {
            struct timespec until;
            size_t waiting = 0;
            for (cast *k = s->check_head; k && waiting < DT_SERVER_GATHER_MIN; k = k->next)
                waiting++;
            if (waiting < DT_SERVER_GATHER_MIN) {
                clock_gettime(CLOCK_MONOTONIC, &until); /* check_cv waits on the monotonic clock */
                until.tv_nsec += DT_SERVER_GATHER_NS;
                if (until.tv_nsec >= 1000000000L) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000L;
                }
                while (s->check_head && !s->stopping &&
                       pthread_cond_timedwait(&s->check_cv, &s->q_mu, &until) != ETIMEDOUT) {
                    waiting = 0;
                    for (cast *k = s->check_head; k && waiting < DT_SERVER_GATHER_MIN; k = k->next)
                        waiting++;
                    if (waiting >= DT_SERVER_GATHER_MIN)
                        break;
                }
                if (!s->check_head)
                    continue; /* the other checker took them */
            }
        }
        list = last = s->check_head;
        while (last->next && n < DT_SERVER_GROUP_MAX) {
            last = last->next;
            n++;
        }
        s->check_head = last->next;
        if (!s->check_head)
            s->check_tail = &s->check_head;
        last->next = NULL;
        pthread_mutex_unlock(&s->q_mu);
        check_group(s, list, tmp);
        pthread_mutex_lock(&s->q_mu);
    }
    pthread_mutex_unlock(&s->q_mu);
    dt_batch_destroy(tmp);
    return NULL;
}

/* ---- the committer ---- */

/* One entry alone. A key already on the log is a ballot already received
 * (409): by its confirmation code, or else by its file name (name_taken).
 * Even when the entry there is byte for byte this one (a voter casting
 * again after a 503 whose append did land: the receipt shows it). */
static void commit_one(dt_log *log, cast *k)
{
    const unsigned char *e = k->entry, *key[2] = {k->pkey, k->key};
    size_t kl[2] = {k->pklen, sizeof k->key};
    uint64_t idx;
    k->err = dt_log_append_multikeyed(log, &e, &k->entrylen, key, kl, 2, 1, &k->index, NULL);
    if (k->err != DT_ERR_INVALID || dt_log_find(log, k->key, sizeof k->key, &idx) == DT_OK)
        return;
    if (dt_log_find(log, k->pkey, k->pklen, &idx) == DT_OK)
        k->name_taken = true;
    else
        k->err = DT_ERR_IO; /* refused, but for no key of its: 503 */
}

/* Appends v[0..n) in one call; if a key in it is refused (a duplicate),
 * one by one, so that only the duplicates fail, and a ballot whose file
 * name an earlier one of the batch has is refused by name (name_taken). */
static void commit_batch(dt_log *log, cast **v, size_t n)
{
    const unsigned char **entries = malloc(n * sizeof *entries), **keys = malloc(2 * n * sizeof *keys);
    size_t *lens = malloc(n * sizeof *lens), *klens = malloc(2 * n * sizeof *klens);
    uint64_t first = 0;
    dt_err err = DT_ERR_NOMEM;
    if (entries && keys && lens && klens) {
        for (size_t i = 0; i < n; i++) {
            entries[i] = v[i]->entry;
            lens[i] = v[i]->entrylen;
            keys[2 * i] = v[i]->pkey;
            klens[2 * i] = v[i]->pklen;
            keys[2 * i + 1] = v[i]->key;
            klens[2 * i + 1] = sizeof v[i]->key;
        }
        err = dt_log_append_multikeyed(log, entries, lens, keys, klens, 2, n, &first, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        v[i]->err = err;
        v[i]->index = first + i;
        if (err == DT_ERR_INVALID || (err == DT_ERR_NOMEM && n > 1)) {
            for (size_t j = 0; j < i && !v[i]->name_taken; j++)
                v[i]->name_taken = strcmp(v[j]->path, v[i]->path) == 0;
            if (v[i]->name_taken)
                v[i]->err = DT_ERR_INVALID;
            else
                commit_one(log, v[i]);
        }
    }
    free(entries);
    free(keys);
    free(lens);
    free(klens);
}

/* The 201 answer. */
static answer accepted_answer(const cast *k)
{
    char *code64 = dt_b64_encode(k->key + 1, DT_BOARD_CODE_BYTES);
    answer a = json_answer(201, code64 ? json_pack("{s:s,s:I,s:s}", "confirmation_code", code64, "index",
                                                   (json_int_t)k->index, "state",
                                                   k->want == DT_BALLOT_STATE_CAST ? "cast" : "challenged")
                                       : NULL);
    free(code64);
    return a.body ? a : error_answer(503, "out of memory");
}

/* The 409 of a ballot whose file name is taken. */
static answer name_taken_answer(const cast *k)
{
    char *msg = dt_strdup_printf("%s is already in the record: ballot %s was already received", k->path,
                                 dt_ballot_id(k->b));
    answer a = error_answer(409, msg ? msg : "already received");
    free(msg);
    return a;
}

/* Puts v[0..n)'s entries on the log (durable when it returns) and answers
 * each. The log is the ballots' only copy while voting is open: their files
 * are written from it by the publish that `detente close` starts with
 * (dt_board_restore). A file already at a ballot's name (put in the folder
 * by other means) refuses it (409); closing waits from that look to the
 * ballot's entry (dt_admin_ballot_begin). */
static void commit_casts(dt_server *s, cast **v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        cast *k = v[i];
        struct stat st;
        if (!dt_admin_ballot_begin(s->admin)) {
            finish(k, error_answer(DT_ADMIN_CLOSED_STATUS, DT_ADMIN_CLOSED_MSG));
            continue;
        }
        if ((k->name_taken = lstat(k->full, &st) == 0) || errno != ENOENT) {
            dt_admin_ballot_end(s->admin);
            finish(k, k->name_taken ? name_taken_answer(k)
                                    : error_answer(503, "the ballot cannot be stored (the record folder cannot be read)"));
            continue;
        }
        v[m++] = k;
    }
    if (m == 0)
        return;
    commit_batch(s->log, v, m);
    pthread_mutex_lock(&s->q_mu);
    s->n_commits++;
    pthread_mutex_unlock(&s->q_mu);
    for (size_t i = 0; i < m; i++) {
        cast *k = v[i];
        answer a;
        dt_admin_ballot_end(s->admin);
        if (k->err == DT_OK)
            a = accepted_answer(k);
        else if (k->name_taken)
            a = name_taken_answer(k);
        else if (k->err == DT_ERR_INVALID)
            a = error_answer(409, "a ballot with this confirmation code was already received");
        else
            a = error_answer(503, "the ballot cannot be put on the board (the log store failed)");
        if (k->err == DT_OK) {
            pthread_mutex_lock(&s->q_mu);
            s->n_committed++;
            pthread_mutex_unlock(&s->q_mu);
        }
        finish(k, a);
    }
}

/* ---- the flusher ---- */

/* The flusher: every DT_SERVER_CKPT_MS a checkpoint of the log's WAL on
 * its own handle, so that the one SQLite runs in the committer's append
 * every 1,000 pages finds little left to copy. */
static void *flusher_main(void *arg)
{
    dt_server *s = arg;
    pthread_setname_np(pthread_self(), "dt-flush");
    pthread_mutex_lock(&s->q_mu);
    while (!s->flush_stopping) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += DT_SERVER_CKPT_MS * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        while (!s->flush_stopping && pthread_cond_timedwait(&s->flush_cv, &s->q_mu, &t) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&s->q_mu);
        if (dt_log_checkpoint(s->ckpt_log) != DT_OK)
            fprintf(stderr, "detente serve: the log's checkpoint failed (%s); the next one tries again\n",
                    dt_log_errmsg(s->ckpt_log));
        pthread_mutex_lock(&s->q_mu);
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

static void *committer_main(void *arg)
{
    dt_server *s = arg;
    pthread_setname_np(pthread_self(), "dt-commit");
    cast **v = malloc(DT_SERVER_COMMIT_MAX * sizeof *v), *one[1];
    size_t cap = v ? DT_SERVER_COMMIT_MAX : 1;
    if (!v)
        v = one; /* out of memory: one at a time */
    pthread_mutex_lock(&s->q_mu);
    for (;;) {
        size_t n = 0;
        while (!s->commit_head && !s->stopping)
            pthread_cond_wait(&s->commit_cv, &s->q_mu);
        if (!s->commit_head)
            break;
        while (s->commit_head && n < cap) {
            v[n++] = s->commit_head;
            s->commit_head = s->commit_head->next;
        }
        if (!s->commit_head)
            s->commit_tail = &s->commit_head;
        pthread_mutex_unlock(&s->q_mu);
        commit_casts(s, v, n);
        pthread_mutex_lock(&s->q_mu);
    }
    pthread_mutex_unlock(&s->q_mu);
    if (v != one)
        free(v);
    return NULL;
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
        a = (answer){200, receipt, "text/plain; charset=utf-8", NULL, "no-cache", -1, 0, false};
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

/* A tile that is not in the folder: the periodic publish leaves them to
 * the log (dt_board_publish_light), and it is built from there, byte for
 * byte what a full publish writes. Only of entries the log holds: 404 for
 * the others, as for a file that is not there. */
static answer tile_from_log(dt_server *s, answer a, char *path, unsigned level, uint64_t index,
                            unsigned width)
{
    unsigned char *data = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->board_mu);
    dt_err err = dt_board_tile(s->board, level, index, width, &data, &len);
    pthread_mutex_unlock(&s->board_mu);
    if (err == DT_ERR_RANGE)
        return error_answer(404, "not found");
    if (err != DT_OK)
        return error_answer(503, "the board's log cannot be read");
    /* A full tile never changes: written to the folder once (as a full
     * publish would), it is served from there next time, so that asking
     * for it again does not read up to 4.3 MB from the log each time. A
     * write that fails costs nothing but that. */
    if (width == DT_TILE_WIDTH) {
        char *slash = strrchr(path, '/');
        *slash = '\0';
        dt_err made = dt_mkdirs(path);
        *slash = '/';
        if (made == DT_OK && dt_write_file_atomic(path, data, len, 0644) != DT_OK)
            made = DT_ERR_IO; /* served all the same, from the log */
    }
    a.body = (char *)data;
    a.size = len;
    a.binary = true;
    return a;
}

/* /board/<rel>: checkpoint, tile/... (strict tlog-tiles paths) and
 * blob/<64 lower-case hex>; anything else is 404. */
static answer get_static(dt_server *s, const char *rel)
{
    answer a = {200, NULL, "application/octet-stream", NULL, NULL, -1, 0, false};
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
    int missing = a.fd < 0 && errno == ENOENT;
    if (a.fd < 0 || fstat(a.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (a.fd >= 0)
            close(a.fd);
        a.fd = -1;
        if (missing && strncmp(rel, "tile/", 5) == 0)
            a = tile_from_log(s, a, full, level, index, width);
        else
            a = error_answer(404, "not found");
        free(full);
        return a;
    }
    free(full);
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
            if (cl) { /* the announced size at once, up to 64 KiB (more grows as it arrives: a
                       * client cannot reserve memory by announcing what it never sends) */
                size_t want = (size_t)strtoull(cl, NULL, 10);
                if (want > 65536)
                    want = 65536;
                if (want > 0 && (u->buf = malloc(want)))
                    u->cap = want;
            }
            *con_cls = u;
            return MHD_YES;
        }
        if (strncmp(url, DT_ADMIN_PREFIX, strlen(DT_ADMIN_PREFIX)) == 0) {
            a = (answer){0, NULL, "application/json", NULL, "no-store", -1, 0, false};
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
    if (u->state == REQ_ANSWERED) { /* resumed: the ballot's answer (on_completed counts it done once sent) */
        a = u->a;
        u->a.body = NULL;
        u->state = REQ_SENT;
        return send_answer(s, c, method, url, &a);
    }
    if (u->state != REQ_BODY)
        return MHD_YES;
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
        pthread_mutex_lock(&s->q_mu);
        if (s->refusing) {
            pthread_mutex_unlock(&s->q_mu);
            return send_error(s, c, method, url, 503, "the server is stopping", NULL);
        }
        s->inflight++; /* dt_server_stop waits for it */
        pthread_mutex_unlock(&s->q_mu);
        u->state = REQ_QUEUED;
        u->k.u = u;
        u->k.c = c;
        u->k.want = want;
        MHD_suspend_connection(c); /* before a checker can resume it */
        pthread_mutex_lock(&s->q_mu);
        *s->check_tail = &u->k;
        s->check_tail = &u->k.next;
        pthread_cond_signal(&s->check_cv);
        pthread_mutex_unlock(&s->q_mu);
        return MHD_YES;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    dt_server *s = cls;
    conn *u = *con_cls;
    (void)c;
    (void)toe;
    if (u) {
        if (u->state == REQ_ANSWERED) { /* resumed, but the answer was never queued (the client went away) */
            free(u->a.body);
            if (u->a.fd >= 0)
                close(u->a.fd);
        }
        /* a ballot's request is done once its answer went out (or could not):
         * dt_server_stop waits for this before it stops the daemon */
        if (u->state == REQ_ANSWERED || u->state == REQ_SENT)
            request_done(s);
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
    s->quiet = o->quiet;
    s->publish_every = o->publish_every;
    s->export_tiles = o->export_tiles;
    s->check_tail = &s->check_head;
    s->commit_tail = &s->commit_head;
    pthread_mutex_init(&s->board_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->check_cv, &ca);
        pthread_cond_init(&s->flush_cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    pthread_cond_init(&s->commit_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    pthread_mutex_init(&s->pub_mu, NULL);
    pthread_cond_init(&s->pub_cv, NULL);
    if ((err = dt_record_load_part(&s->rec, msg, o->dir, DT_RECORD_ELECTION)) != DT_OK ||
        (err = dt_ballot_ctx_create(&s->ctx, msg, s->rec)) != DT_OK) {
        char *m = dt_strdup_printf("%s: not an election folder: %s", o->dir, *msg ? *msg : dt_strerror(err));
        free(*msg);
        *msg = m;
        goto fail;
    }
    if (s->rec->chain) {
        *msg = dt_strdup_printf("%s: the election chains confirmation codes, which the server does not handle yet",
                                o->dir);
        err = DT_ERR_INVALID;
        goto fail;
    }
    if (!dt_board_exists(o->dir)) {
        /* with --board too: detente close writes the ballots' files from
         * the log through the folder's own board (log.location) */
        *msg = dt_strdup_printf("%s has no board%s (make one with detente board init%s, or detente demo)", o->dir,
                                o->board ? " of its own (private_data/board/log.location), through which detente close "
                                           "writes the ballots' files"
                                         : "",
                                o->board ? " --board URI" : "");
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
        why = NULL;
        if (err != DT_OK)
            goto fail;
        if ((err = dt_log_open_msg(&s->ckpt_log, &why, logp, 0)) != DT_OK) {
            *msg = dt_strdup_printf("%s: cannot open the log store (%s)%s%s", o->board ? "--board" : logp,
                                    dt_strerror(err), why ? ": " : "", why ? why : "");
            free(why);
            goto fail;
        }
    }
    if (pthread_create(&s->flusher, NULL, flusher_main, s) != 0) {
        err = DT_ERR_NOMEM;
        goto fail;
    }
    s->flusher_started = true;
    if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
        err = DT_ERR_NOMEM;
        goto fail;
    }
    s->committer_started = true;
    {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        s->ncheckers = o->workers ? o->workers : ncpu > 0 ? (unsigned)(ncpu < 64 ? ncpu : 64) : 2u;
    }
    if (!(s->checkers = calloc(s->ncheckers, sizeof *s->checkers))) {
        err = DT_ERR_NOMEM;
        goto fail;
    }
    for (; s->checkers_started < s->ncheckers; s->checkers_started++)
        if (pthread_create(&s->checkers[s->checkers_started], NULL, checker_main, s) != 0) {
            err = DT_ERR_NOMEM;
            goto fail;
        }
    if (s->publish_every) {
        if (pthread_create(&s->publisher, NULL, publisher_main, s) != 0) {
            err = DT_ERR_NOMEM;
            goto fail;
        }
        s->publisher_started = true;
    }
    s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
                                (o->addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, o->addr, MHD_OPTION_THREAD_POOL_SIZE,
                            o->threads ? o->threads : 4u, MHD_OPTION_CONNECTION_LIMIT,
                            o->connections ? o->connections : 512u, MHD_OPTION_CONNECTION_TIMEOUT,
                            o->timeout_seconds ? o->timeout_seconds : 30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                            s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
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
    /* Requests first: ballots now get 503, and those in progress are
     * checked, committed and answered (the checkers and the committer still
     * run; a suspended connection must not outlive the daemon). */
    if (s->d) {
        /* no time limit: every queued ballot is finished by the checkers and
         * the committer, and its answer sent or its connection closed (at
         * worst by the connection timeout); stopping the daemon with a
         * connection still suspended would free it under them */
        pthread_mutex_lock(&s->q_mu);
        s->refusing = true;
        while (s->inflight > 0)
            pthread_cond_wait(&s->idle_cv, &s->q_mu);
        pthread_mutex_unlock(&s->q_mu);
        MHD_stop_daemon(s->d);
    }
    dt_web_destroy(s->web);
    pthread_mutex_lock(&s->q_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->check_cv);
    pthread_cond_broadcast(&s->commit_cv);
    pthread_mutex_unlock(&s->q_mu);
    for (unsigned i = 0; i < s->checkers_started; i++)
        pthread_join(s->checkers[i], NULL);
    free(s->checkers);
    if (s->committer_started)
        pthread_join(s->committer, NULL);
    if (s->flusher_started) {
        pthread_mutex_lock(&s->q_mu);
        s->flush_stopping = true;
        pthread_cond_signal(&s->flush_cv);
        pthread_mutex_unlock(&s->q_mu);
        pthread_join(s->flusher, NULL);
    }
    if (s->n_groups) /* one line, even with --quiet (which drops the line per request) */
        fprintf(stderr,
                "detente serve: %llu ballots checked in %llu groups (%.1f a group, at most %llu); %llu put on the "
                "board in %llu commits\n",
                (unsigned long long)s->n_grouped, (unsigned long long)s->n_groups,
                (double)s->n_grouped / (double)s->n_groups, (unsigned long long)s->max_group,
                (unsigned long long)s->n_committed, (unsigned long long)s->n_commits);
    if (s->publisher_started) {
        pthread_mutex_lock(&s->pub_mu);
        s->pub_stopping = true;
        pthread_cond_signal(&s->pub_cv);
        pthread_mutex_unlock(&s->pub_mu);
        pthread_join(s->publisher, NULL);
        if (s->n_pub)
            fprintf(stderr, "detente serve: %llu periodic publishes, %.0f ms on average, the longest %.0f ms\n",
                    (unsigned long long)s->n_pub, s->pub_ms_sum / (double)s->n_pub, s->pub_ms_max);
    }
    dt_admin_destroy(s->admin); /* every acknowledged ballot is committed: let go of the lock */
    dt_log_close(s->log);
    dt_log_close(s->ckpt_log);
    dt_board_close(s->board);
    dt_ballot_ctx_destroy(s->ctx);
    dt_record_destroy(s->rec);
    pthread_mutex_destroy(&s->board_mu);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->check_cv);
    pthread_cond_destroy(&s->commit_cv);
    pthread_cond_destroy(&s->flush_cv);
    pthread_cond_destroy(&s->idle_cv);
    pthread_mutex_destroy(&s->pub_mu);
    pthread_cond_destroy(&s->pub_cv);
    free(s->dir);
    free(s->board_at);
    free(s);
}
