/* detente serve over HTTP: a demo election (--until voting), its ballots
 * encrypted with `detente encrypt`, the server run as a child process
 * (DT_CLI), and a client of dt_http_post and a small GET of its own:
 * casts 201 with the code; the same ballot again 409 (by the log, and by
 * its code under another ballot id); a tampered ballot 422 and nothing
 * stored; a challenge of a CAST ballot 422; garbage and empty bodies 400;
 * an oversized body 413; wrong methods 405; unknown paths 404; a receipt
 * after `detente board publish` 200 and verified with dt_receipt_verify;
 * tiles and checkpoint served with their cache headers, climbing paths 404;
 * SIGTERM exits 0; then `detente tally` and `detente verify --require-board`
 * pass on the folder. Then SIGKILL while ballots are being cast: after a
 * restart, every ballot acknowledged with 201 is on the log (and in
 * encrypted_ballots/ after a publish), none twice, and `detente board publish` and
 * `detente verify` still pass; and the board is a consistent extension of
 * every checkpoint served (GET /board/checkpoint) before the kill, one of
 * them published while the clients cast. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <detente/board.h>
#include <detente/log.h>
#include <detente/note.h>
#include <detente/receipt.h>
#include <detente/tiles.h>
#include <detente/witness.h>

#include "util/codec.h"

#define NBALLOTS 5

static char work[64];  /* the test's folder */
static pid_t running;  /* the server's pid while it runs */
static char edir[128]; /* the election */

static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static char *slurp(const char *path, size_t *len)
{
    unsigned char *buf = NULL;
    size_t n = 0;
    if (dt_read_file(&buf, &n, path, 64u << 20) != DT_OK)
        return NULL;
    if (len)
        *len = n;
    return (char *)buf;
}

static int exists(const char *fmt, const char *a, const char *b)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, fmt, a, b);
    return lstat(path, &st) == 0;
}

/* ---- the server as a child process ---- */

typedef struct server {
    pid_t pid;
    unsigned port;
    char base[64]; /* http://127.0.0.1:PORT */
} server;

static void server_start(server *s, const char *extra)
{
    char logp[256], cmd[1024];
    snprintf(logp, sizeof logp, "%s/serve.log", work);
    unlink(logp);
    snprintf(cmd, sizeof cmd, "exec '%s' serve '%s' --listen 127.0.0.1:0 --publish-every 0 %s 2>'%s'", DT_CLI, edir,
             extra, logp);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        /* a server that a failed test left running dies with the test
         * (else it keeps ctest's output pipe open, and ctest waits) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    s->port = 0;
    for (int i = 0; i < 200 && !s->port; i++) {
        char *log = slurp(logp, NULL), *p;
        if (log && (p = strstr(log, " on port ")))
            s->port = (unsigned)strtoul(p + 9, NULL, 10);
        free(log);
        if (!s->port)
            usleep(50000);
    }
    running = s->pid;
    if (!s->port)
        fail_msg("the server did not start (see %s)", logp);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", s->port);
}

/* Sends sig and returns the exit status (-1 if killed by a signal). */
static int server_stop(server *s, int sig)
{
    int st = 0;
    kill(s->pid, sig);
    assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
    running = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- a small HTTP client ---- */

typedef struct resp {
    int status;
    char *head; /* the header lines (lower-cased names are not promised) */
    char *body;
    size_t len;
} resp;

static void resp_free(resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* One request over a fresh connection (HTTP/1.0, so that the server
 * closes): the head says Content-Length: declared (if not 0), and len bytes
 * of body follow. */
static void request_body(const server *s, const char *method, const char *path, size_t declared, const char *body,
                         size_t bodylen, resp *r)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char req[1024], *buf = NULL, *sep;
    size_t len = 0, cap = 0;
    memset(r, 0, sizeof *r);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (declared)
        snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n", method, path,
                 declared);
    else
        snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    if (bodylen)
        assert_int_equal(write(fd, body, bodylen), (ssize_t)bodylen);
    for (;;) {
        ssize_t n;
        if (len + 4096 + 1 > cap) {
            cap = 2 * cap + 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n = read(fd, buf + len, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r->status), 1);
    r->head = strndup(buf, (size_t)(sep - buf));
    r->len = len - (size_t)(sep + 4 - buf);
    r->body = malloc(r->len + 1);
    assert_non_null(r->head);
    assert_non_null(r->body);
    memcpy(r->body, sep + 4, r->len);
    r->body[r->len] = '\0';
    free(buf);
}

static void request(const server *s, const char *method, const char *path, resp *r)
{
    request_body(s, method, path, 0, NULL, 0, r);
}

/* POSTs body to path with dt_http_post. */
static void post(const server *s, const char *path, const char *body, size_t len, resp *r)
{
    char url[256];
    memset(r, 0, sizeof *r);
    snprintf(url, sizeof url, "%s%s", s->base, path);
    assert_int_equal(dt_http_post(url, body, len, &r->status, &r->body, &r->len, 30000), DT_OK);
}

/* The JSON field key of r's body (a string or an integer, as text). */
static const char *field(const resp *r, const char *key, char *out, size_t cap)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL), *v;
    out[0] = '\0';
    if (j && (v = json_object_get(j, key))) {
        if (json_is_string(v))
            snprintf(out, cap, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    }
    json_decref(j);
    return out;
}

static void expect_status(const resp *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: status %d, expected %d; body: %.300s", what, r->status, status, r->body ? r->body : "");
}

/* ---- the election ---- */

static char *ballots[NBALLOTS]; /* encrypted, CAST, as `detente encrypt` prints them */
static size_t blens[NBALLOTS];

static uint64_t log_size(void)
{
    char path[256];
    dt_log *log = NULL;
    uint64_t n = 0;
    snprintf(path, sizeof path, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
    assert_int_equal(dt_log_size(log, &n), DT_OK);
    dt_log_close(log);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof work, "/tmp/dt-serve-XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(edir, sizeof edir, "%s/e", work);
    if (run("'%s' demo --until voting --ballots %d --guardians 3 --quorum 2 --absent 1 --quiet --out '%s' >/dev/null "
            "2>&1",
            DT_CLI, NBALLOTS, edir) != 0) {
        fprintf(stderr, "detente demo failed\n");
        return -1;
    }
    for (int i = 0; i < NBALLOTS; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/b%d.json", work, i + 1);
        if (run("'%s' encrypt --allow-overvote '%s' '%s/private_data/input/pballot-ballot-%d.json' >'%s' 2>/dev/null", DT_CLI, edir,
                edir, i + 1, out) != 0 ||
            !(ballots[i] = slurp(out, &blens[i]))) {
            fprintf(stderr, "detente encrypt of ballot %d failed\n", i + 1);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0) { /* a failed test left its server */
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
    }
    for (int i = 0; i < NBALLOTS; i++)
        free(ballots[i]);
    if (!getenv("DT_KEEP"))
        run("rm -rf '%s'", work);
    return 0;
}

/* ballots[i] with the first selection's first proof challenge changed */
static char *tampered(int i)
{
    json_t *j = json_loadb(ballots[i], blens[i], 0, NULL), *p;
    char *s;
    assert_non_null(j);
    p = json_array_get(json_object_get(json_object_get(
                           json_array_get(json_object_get(json_array_get(json_object_get(j, "contests"), 0), "selections"), 0),
                           "proof"),
                       "proofs"),
                       0);
    assert_non_null(p);
    json_object_set_new(p, "challenge", json_string("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    return s;
}

/* the same ballot under another ballot id (so another file): same code */
static char *renamed(int i, const char *id)
{
    json_t *j = json_loadb(ballots[i], blens[i], 0, NULL);
    char *s;
    assert_non_null(j);
    json_object_set_new(j, "ballot_id", json_string(id));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    return s;
}

static void b64url_of(char *out, size_t cap, const char *b64)
{
    size_t i = 0;
    for (; b64[i] && b64[i] != '=' && i + 1 < cap; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    out[i] = '\0';
}

static void check_receipt(const server *s, const char *code)
{
    char path[256], url64[64], why[256], *vk, *wk, *line, *save = NULL;
    dt_note_verifier vlog, wit[8];
    size_t nw = 0;
    dt_receipt rc;
    uint64_t size = 0;
    resp r;
    b64url_of(url64, sizeof url64, code);
    snprintf(path, sizeof path, "/api/v1/receipts/%s", url64);
    request(s, "GET", path, &r);
    expect_status(&r, 200, "receipt");
    assert_int_equal(dt_receipt_parse(&rc, r.body, r.len), DT_OK);
    snprintf(path, sizeof path, "%s/board/log.vkey", edir);
    vk = slurp(path, NULL);
    assert_non_null(vk);
    assert_int_equal(dt_note_verifier_parse(&vlog, vk, strcspn(vk, "\n")), DT_OK);
    snprintf(path, sizeof path, "%s/board/witnesses.vkey", edir);
    wk = slurp(path, NULL);
    assert_non_null(wk);
    for (line = strtok_r(wk, "\n", &save); line && nw < 8; line = strtok_r(NULL, "\n", &save))
        assert_int_equal(dt_note_verifier_parse(&wit[nw++], line, strlen(line)), DT_OK);
    if (dt_receipt_verify(&rc, &vlog, wit, nw, 2, &size, why, sizeof why) != DT_OK)
        fail_msg("receipt does not verify: %s", why);
    {
        /* the entry in the receipt is this ballot's */
        char *codeline = dt_strdup_printf("\ncode %s\n", code);
        assert_non_null(codeline);
        size_t cl = strlen(codeline), k = 0;
        while (k + cl <= rc.extralen && memcmp(rc.extra + k, codeline, cl) != 0)
            k++;
        assert_true(k + cl <= rc.extralen);
        free(codeline);
    }
    dt_receipt_free(&rc);
    free(vk);
    free(wk);
    resp_free(&r);
    /* an unknown code and a malformed one */
    request(s, "GET", "/api/v1/receipts/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
    expect_status(&r, 404, "receipt of an unknown code");
    assert_non_null(strstr(r.body, "no ballot with this confirmation code"));
    resp_free(&r);
    request(s, "GET", "/api/v1/receipts/abc", &r);
    expect_status(&r, 404, "receipt of a malformed code");
    resp_free(&r);
}

static void test_serve(void **state)
{
    (void)state;
    server s;
    resp r;
    char code[NBALLOTS][64], idx[32], path[256];
    uint64_t before;

    server_start(&s, "");

    /* a tampered ballot: 422, nothing stored */
    before = log_size();
    {
        char *t = tampered(1);
        post(&s, "/api/v1/ballots", t, strlen(t), &r);
        free(t);
    }
    expect_status(&r, 422, "tampered ballot");
    assert_non_null(strstr(r.body, "the range proof does not verify"));
    resp_free(&r);
    assert_false(exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, "ballot-2"));
    assert_int_equal(log_size(), before);

    /* a CAST ballot challenged: 422 */
    post(&s, "/api/v1/ballots?action=challenge", ballots[0], blens[0], &r);
    expect_status(&r, 422, "challenge of a CAST ballot");
    resp_free(&r);
    post(&s, "/api/v1/ballots?action=destroy", ballots[0], blens[0], &r);
    expect_status(&r, 400, "unknown action");
    resp_free(&r);

    /* casts: 201 with the code and the index */
    for (int i = 0; i < NBALLOTS; i++) {
        char want[64];
        json_t *j = json_loadb(ballots[i], blens[i], 0, NULL);
        snprintf(want, sizeof want, "%s", json_string_value(json_object_get(j, "confirmation_code")));
        json_decref(j);
        post(&s, "/api/v1/ballots", ballots[i], blens[i], &r);
        expect_status(&r, 201, "cast");
        assert_string_equal(field(&r, "confirmation_code", code[i], sizeof code[i]), want);
        assert_string_equal(field(&r, "state", idx, sizeof idx), "cast");
        assert_int_equal(strtoull(field(&r, "index", idx, sizeof idx), NULL, 10), before + (uint64_t)i);
        resp_free(&r);
    }
    assert_int_equal(log_size(), before + NBALLOTS);

    /* the same ballot again: 409 from the log alone, its file not written
     * (none is while voting is open: test_restore); under another id (same
     * code): 409, no file left */
    assert_false(exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, "ballot-1"));
    post(&s, "/api/v1/ballots", ballots[0], blens[0], &r);
    expect_status(&r, 409, "the same ballot again, its file not written");
    assert_non_null(strstr(r.body, "already received"));
    resp_free(&r);
    {
        char *t = renamed(0, "ballot-1-again");
        post(&s, "/api/v1/ballots", t, strlen(t), &r);
        free(t);
    }
    expect_status(&r, 409, "the same code under another id");
    assert_non_null(strstr(r.body, "confirmation code was already received"));
    resp_free(&r);
    assert_false(exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, "ballot-1-again"));
    assert_int_equal(log_size(), before + NBALLOTS);

    /* garbage, empty, oversized bodies */
    post(&s, "/api/v1/ballots", "this is not JSON", 16, &r);
    expect_status(&r, 400, "garbage");
    assert_non_null(strstr(r.body, "\"error\""));
    resp_free(&r);
    post(&s, "/api/v1/ballots", "", 0, &r);
    expect_status(&r, 400, "empty body");
    resp_free(&r);
    {
        /* a large body (the upload buffer grows) that is not a ballot */
        size_t big = 1u << 20;
        char *t = malloc(big);
        assert_non_null(t);
        memset(t, ' ', big);
        t[0] = '[';
        post(&s, "/api/v1/ballots", t, big, &r);
        free(t);
    }
    expect_status(&r, 400, "1 MiB of garbage");
    resp_free(&r);
    /* a head that announces more than 1 MiB is answered at once */
    request_body(&s, "POST", "/api/v1/ballots", (1u << 20) + 1, "{ ", 2, &r);
    expect_status(&r, 413, "oversized body");
    resp_free(&r);
    assert_int_equal(log_size(), before + NBALLOTS);

    /* methods and paths */
    request(&s, "GET", "/api/v1/ballots", &r);
    expect_status(&r, 405, "GET ballots");
    assert_non_null(strstr(r.head, "Allow: POST"));
    resp_free(&r);
    post(&s, "/board/checkpoint", "x", 1, &r);
    expect_status(&r, 405, "POST checkpoint");
    resp_free(&r);
    request(&s, "GET", "/nowhere", &r);
    expect_status(&r, 404, "unknown path");
    resp_free(&r);
    request(&s, "GET", "/board/../private_data/board/log.key", &r);
    expect_status(&r, 404, "a climbing path");
    resp_free(&r);
    request(&s, "GET", "/board/tile/../../private_data/board/log.db", &r);
    expect_status(&r, 404, "a climbing tile path");
    resp_free(&r);
    request(&s, "GET", "/board/tile", &r);
    expect_status(&r, 404, "a board folder, not a file that is served");
    resp_free(&r);

    /* not yet in a cosigned checkpoint: 404 that says so */
    {
        char url64[64];
        b64url_of(url64, sizeof url64, code[0]);
        snprintf(path, sizeof path, "/api/v1/receipts/%s", url64);
        request(&s, "GET", path, &r);
        expect_status(&r, 404, "receipt before publishing");
        assert_non_null(strstr(r.body, "not yet in a cosigned checkpoint"));
        resp_free(&r);
    }

    /* publish while the server runs: nothing new to add (it writes the
     * ballots' files from the log), then receipts */
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish.out' 2>&1", DT_CLI, edir, work), 0);
    assert_int_equal(log_size(), before + NBALLOTS);
    for (int i = 0; i < NBALLOTS; i++)
        check_receipt(&s, code[i]);

    /* the checkpoint and tiles */
    request(&s, "GET", "/board/checkpoint", &r);
    expect_status(&r, 200, "checkpoint");
    assert_non_null(strstr(r.head, "Cache-Control: no-cache"));
    assert_non_null(strstr(r.body, "demo.detente.example"));
    resp_free(&r);
    {
        char tile[64];
        snprintf(tile, sizeof tile, "/board/tile/0/000.p/%llu", (unsigned long long)(before + NBALLOTS));
        request(&s, "GET", tile, &r);
        expect_status(&r, 200, "partial tile");
        assert_int_equal(r.len, 32 * (before + NBALLOTS));
        assert_non_null(strstr(r.head, "max-age=10"));
        resp_free(&r);
        snprintf(tile, sizeof tile, "/board/tile/entries/000.p/%llu", (unsigned long long)(before + NBALLOTS));
        request(&s, "GET", tile, &r);
        expect_status(&r, 200, "partial entry bundle");
        resp_free(&r);
        request(&s, "GET", "/board/tile/0/0000", &r);
        expect_status(&r, 404, "a non-canonical tile path");
        resp_free(&r);
    }

    assert_int_equal(server_stop(&s, SIGTERM), 0);

    /* the folder is a record: tally it and verify it with its board */
    assert_int_equal(run("'%s' tally '%s' >'%s/tally.out' 2>&1", DT_CLI, edir, work), 0);
    /* two of the three guardians decrypt (docs/roles.md) */
    for (int g = 1; g <= 2; g++)
        assert_int_equal(run("DETENTE_PASSPHRASE=demo '%s' decrypt share '%s' --key '%s/private_data/trustees/guardian%d.key' "
                             ">>'%s/decrypt.out' 2>&1",
                             DT_CLI, edir, edir, g, work),
                         0);
    assert_int_equal(run("'%s' decrypt combine '%s' >>'%s/decrypt.out' 2>&1", DT_CLI, edir, work), 0);
    for (int g = 1; g <= 2; g++)
        assert_int_equal(run("DETENTE_PASSPHRASE=demo '%s' decrypt respond '%s' --key '%s/private_data/trustees/guardian%d.key' "
                             ">>'%s/decrypt.out' 2>&1",
                             DT_CLI, edir, edir, g, work),
                         0);
    assert_int_equal(run("'%s' decrypt finish '%s' >>'%s/decrypt.out' 2>&1", DT_CLI, edir, work), 0);
    assert_int_equal(run("'%s' board publish '%s' >>'%s/publish.out' 2>&1", DT_CLI, edir, work), 0);
    if (run("'%s' verify --require-board '%s' >'%s/verify.out' 2>&1", DT_CLI, edir, work) != 0) {
        run("cat '%s/verify.out'", work);
        fail_msg("detente verify --require-board failed after serving");
    }
}

/* ---- SIGKILL while ballots are being cast ---- */

#define KILL_BALLOTS 24
#define KILL_CLIENTS 4

/* A client: casts ballots k, k + KILL_CLIENTS, ... of dir, appending the
 * code of each one acknowledged with 201 to ackfile; stops at the first
 * failure (the server is gone). */
static void kill_client(const server *s, const char *dir, const char *prefix, int k, const char *ackfile)
{
    for (int i = k; i < KILL_BALLOTS; i += KILL_CLIENTS) {
        char path[512], url[128], *body, *rbody = NULL, code[64];
        size_t len = 0, rlen = 0;
        int status = 0;
        snprintf(path, sizeof path, "%s/%s%d.json", dir, prefix, i + 1);
        if (!(body = slurp(path, &len)))
            _exit(3);
        snprintf(url, sizeof url, "%s/api/v1/ballots", s->base);
        if (dt_http_post(url, body, len, &status, &rbody, &rlen, 30000) != DT_OK || status != 201) {
            free(body);
            free(rbody);
            _exit(0);
        }
        {
            resp r = {status, NULL, rbody, rlen};
            FILE *f = fopen(ackfile, "a");
            field(&r, "confirmation_code", code, sizeof code);
            if (!f || fprintf(f, "%s %d\n", code, i + 1) < 0 || fclose(f) != 0)
                _exit(4);
        }
        free(body);
        free(rbody);
    }
    _exit(0);
}

static size_t count_lines(const char *path)
{
    char *t = slurp(path, NULL);
    size_t n = 0;
    for (char *p = t; p && *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

/* The path of the log's entry i (malloc'ed). */
static char *entry_path(dt_log *log, uint64_t i)
{
    unsigned char *data = NULL;
    size_t dlen = 0;
    dt_board_entry e;
    char *p;
    assert_int_equal(dt_log_entry(log, i, &data, &dlen), DT_OK);
    assert_int_equal(dt_board_entry_parse(&e, data, dlen), DT_OK);
    assert_non_null(p = strndup(e.path, e.pathlen));
    free(data);
    return p;
}

/* Waits for the KILL_CLIENTS clients (each must exit 0) and returns how
 * many ballots ackfile says were acknowledged. */
static size_t clients_done(const pid_t *clients, const char *ackfile, const char *signame)
{
    size_t acked;
    for (int k = 0; k < KILL_CLIENTS; k++) {
        int st = 0;
        assert_int_equal(waitpid(clients[k], &st, 0), clients[k]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    acked = count_lines(ackfile);
    printf("  %s after %zu of %d ballots acknowledged\n", signame, acked, KILL_BALLOTS);
    return acked;
}

/* Every ballot acknowledged in ackfile (lines "CODE N", ballot N of
 * device-1) is on the log (its file comes with a publish). */
static void expect_acked_on_log(dt_log *log, const char *ackfile, const char *when)
{
    char *t = slurp(ackfile, NULL), *line, *save = NULL;
    assert_non_null(t);
    for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned char key[33];
        char code[64];
        uint64_t index;
        int n = 0;
        assert_int_equal(sscanf(line, "%63s %d", code, &n), 2);
        key[0] = 'c';
        assert_int_equal(dt_b64_decode_exact(key + 1, 32, code), DT_OK);
        if (dt_log_find(log, key, sizeof key, &index) != DT_OK)
            fail_msg("acknowledged ballot %s is not on the log %s", code, when);
        assert_true(n >= 1);
    }
    free(t);
}

/* A fresh election in work/SUB (edir) with n plaintext ballots, ballot i
 * encrypted to work/PREFIXi.json. */
static void election_with_ballots(const char *sub, int n, const char *prefix)
{
    snprintf(edir, sizeof edir, "%s/%s", work, sub);
    assert_int_equal(run("'%s' demo --until voting --ballots %d --guardians 3 --quorum 2 --absent 1 --quiet --out '%s' "
                         ">/dev/null 2>&1",
                         DT_CLI, n, edir),
                     0);
    for (int i = 0; i < n; i++)
        assert_int_equal(run("'%s' encrypt --allow-overvote '%s' '%s/private_data/input/pballot-ballot-%d.json' "
                             ">'%s/%s%d.json' 2>/dev/null",
                             DT_CLI, edir, edir, i + 1, work, prefix, i + 1),
                         0);
}

/* The checkpoints served before the kill (GET /board/checkpoint), each
 * different one kept. */
#define MAX_SEEN 16
static char *seen[MAX_SEEN];
static size_t nseen;

static void see_checkpoint(const server *s)
{
    resp r;
    request(s, "GET", "/board/checkpoint", &r);
    expect_status(&r, 200, "checkpoint");
    if ((nseen == 0 || strcmp(seen[nseen - 1], r.body) != 0) && nseen < MAX_SEEN) {
        seen[nseen++] = r.body;
        r.body = NULL;
    }
    resp_free(&r);
}

/* The board after the restart is a consistent extension of every
 * checkpoint served before the kill: each is signed by the log's key, and a
 * consistency proof from the log store leads from it to the root of the
 * checkpoint published after the restart. */
static void check_seen_consistent(void)
{
    char path[256], *vk, *now;
    dt_note_verifier vlog;
    uint64_t size2 = 0;
    unsigned char root2[32];
    const char *origin, *ext;
    size_t originlen, extlen, textlen;
    unsigned char ok;
    dt_log *log = NULL;
    snprintf(path, sizeof path, "%s/board/log.vkey", edir);
    vk = slurp(path, NULL);
    assert_non_null(vk);
    assert_int_equal(dt_note_verifier_parse(&vlog, vk, strcspn(vk, "\n")), DT_OK);
    snprintf(path, sizeof path, "%s/board/checkpoint", edir);
    now = slurp(path, NULL);
    assert_non_null(now);
    assert_int_equal(dt_note_open(&textlen, &ok, NULL, now, strlen(now), &vlog, 1), DT_OK);
    assert_int_equal(dt_checkpoint_parse(&origin, &originlen, &size2, root2, &ext, &extlen, now, textlen), DT_OK);
    snprintf(path, sizeof path, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
    for (size_t i = 0; i < nseen; i++) {
        unsigned char root1[32], proof[DT_MERKLE_MAX_PROOF][32];
        size_t plen = DT_MERKLE_MAX_PROOF;
        uint64_t size1 = 0;
        if (dt_note_open(&textlen, &ok, NULL, seen[i], strlen(seen[i]), &vlog, 1) != DT_OK)
            fail_msg("checkpoint %zu served before the kill is not signed by the log's key:\n%s", i, seen[i]);
        assert_int_equal(dt_checkpoint_parse(&origin, &originlen, &size1, root1, &ext, &extlen, seen[i], textlen),
                         DT_OK);
        if (size1 > size2)
            fail_msg("the board shrank from %llu to %llu entries", (unsigned long long)size1,
                     (unsigned long long)size2);
        assert_int_equal(dt_log_consistency_proof(log, proof, &plen, size1, size2), DT_OK);
        if (dt_merkle_consistency_verify(size1, size2, root1, root2, (const unsigned char(*)[32])proof, plen) != DT_OK)
            fail_msg("the board after the restart (size %llu) is not a consistent extension of the checkpoint of "
                     "size %llu served before the kill",
                     (unsigned long long)size2, (unsigned long long)size1);
        free(seen[i]);
    }
    printf("  the board of %llu entries extends the %zu checkpoints served before the kill\n",
           (unsigned long long)size2, nseen);
    dt_log_close(log);
    free(vk);
    free(now);
}

static void test_sigkill(void **state)
{
    (void)state;
    char ack[256], path[512], logp[256];
    pid_t clients[KILL_CLIENTS], publisher;
    server s;
    size_t acked = 0;
    dt_log *log = NULL;
    uint64_t size = 0;

    /* a fresh election, its ballots encrypted */
    snprintf(edir, sizeof edir, "%s/k", work);
    assert_int_equal(run("'%s' demo --until voting --ballots %d --guardians 3 --quorum 2 --absent 1 --quiet --out '%s' "
                         ">/dev/null 2>&1",
                         DT_CLI, KILL_BALLOTS + 2, edir),
                     0);
    for (int i = KILL_BALLOTS; i < KILL_BALLOTS + 2; i++) /* cast before the clients start */
        assert_int_equal(run("'%s' encrypt --allow-overvote '%s' '%s/private_data/input/pballot-ballot-%d.json' "
                             ">'%s/pre%d.json' 2>/dev/null",
                             DT_CLI, edir, edir, i + 1, work, i + 1),
                         0);
    for (int i = 0; i < KILL_BALLOTS; i++)
        assert_int_equal(run("'%s' encrypt --allow-overvote '%s' '%s/private_data/input/pballot-ballot-%d.json' "
                             ">'%s/k%d.json' 2>/dev/null",
                             DT_CLI, edir, edir, i + 1, work, i + 1),
                         0);
    snprintf(ack, sizeof ack, "%s/acked", work);
    unlink(ack);

    server_start(&s, "--quiet");
    /* checkpoints served before the kill: the demo's; one after two ballots
     * and a publish; any that a publish running beside the clients makes */
    see_checkpoint(&s);
    for (int i = KILL_BALLOTS; i < KILL_BALLOTS + 2; i++) {
        char *body;
        size_t len = 0;
        resp r;
        snprintf(path, sizeof path, "%s/pre%d.json", work, i + 1);
        assert_non_null(body = slurp(path, &len));
        post(&s, "/api/v1/ballots", body, len, &r);
        expect_status(&r, 201, "a ballot before the clients");
        free(body);
        resp_free(&r);
    }
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-pre.out' 2>&1", DT_CLI, edir, work), 0);
    see_checkpoint(&s);
    publisher = fork();
    assert_true(publisher >= 0);
    if (publisher == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "exec '%s' board publish '%s' >'%s/publish-during.out' 2>&1", DT_CLI, edir, work);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int k = 0; k < KILL_CLIENTS; k++) {
        clients[k] = fork();
        assert_true(clients[k] >= 0);
        if (clients[k] == 0)
            kill_client(&s, work, "k", k, ack);
    }
    /* kill -9 once a few ballots are acknowledged and others are in flight */
    for (int i = 0; i < 600 && count_lines(ack) < KILL_BALLOTS / 3; i++) {
        see_checkpoint(&s);
        usleep(10000);
    }
    see_checkpoint(&s);
    assert_int_equal(server_stop(&s, SIGKILL), -1);
    assert_int_equal(waitpid(publisher, NULL, 0), publisher);
    acked = clients_done(clients, ack, "SIGKILL");
    assert_true(acked >= 1);

    /* restart: every acknowledged ballot is on the log (in the folder
     * after the publish below) */
    server_start(&s, "--quiet");
    snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
    expect_acked_on_log(log, ack, "after the restart");
    /* none twice: every entry's path once */
    assert_int_equal(dt_log_size(log, &size), DT_OK);
    {
        char **paths = calloc(size ? size : 1, sizeof *paths);
        assert_non_null(paths);
        for (uint64_t i = 0; i < size; i++) {
            paths[i] = entry_path(log, i);
            for (uint64_t k = 0; k < i; k++)
                if (strcmp(paths[k], paths[i]) == 0)
                    fail_msg("%s is on the log twice (entries %llu and %llu)", paths[i], (unsigned long long)k,
                             (unsigned long long)i);
        }
        for (uint64_t i = 0; i < size; i++)
            free(paths[i]);
        free(paths);
    }
    dt_log_close(log);

    /* the rest cast again: the acknowledged ones are refused (409); then a
     * publish, and the board verifies against the folder */
    for (int i = 0; i < KILL_BALLOTS; i++) {
        char *body;
        size_t len = 0;
        resp r;
        snprintf(path, sizeof path, "%s/k%d.json", work, i + 1);
        body = slurp(path, &len);
        assert_non_null(body);
        post(&s, "/api/v1/ballots", body, len, &r);
        if (r.status != 201 && r.status != 409)
            fail_msg("ballot %d after the restart: %d %s", i + 1, r.status, r.body);
        free(body);
        resp_free(&r);
    }
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-k.out' 2>&1", DT_CLI, edir, work), 0);
    {
        dt_board_report *rep = NULL;
        assert_int_equal(dt_board_verify(&rep, edir, NULL), DT_OK);
        if (!dt_board_report_ok(rep)) {
            for (int c = 0; c < DT_BOARD_CHECKS; c++)
                for (size_t m = 0; m < dt_board_check_messages(rep, (dt_board_check)c); m++)
                    printf("  %s\n", dt_board_check_message(rep, (dt_board_check)c, m));
            fail_msg("the board does not verify after the restart");
        }
        dt_board_report_destroy(rep);
    }
    check_seen_consistent();
    {
        /* every ballot is in the folder exactly once */
        for (int i = 0; i < KILL_BALLOTS; i++) {
            char id[32];
            snprintf(id, sizeof id, "ballot-%d", i + 1);
            assert_true(exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, id));
        }
    }
}

/* ---- SIGTERM while ballots are being cast ----
 *
 * Ballots in progress are suspended connections with the checkers or the
 * committer: the server must finish and answer them, refuse new ones (503),
 * and exit 0 promptly; every ballot answered 201 is on the log. */
static void test_sigterm(void **state)
{
    (void)state;
    char ack[256], logp[300];
    pid_t clients[KILL_CLIENTS];
    server s;
    size_t acked;
    dt_log *log = NULL;
    struct timespec t0, t1;

    election_with_ballots("t", KILL_BALLOTS, "t");
    snprintf(ack, sizeof ack, "%s/acked-t", work);
    unlink(ack);
    server_start(&s, "--quiet");
    for (int k = 0; k < KILL_CLIENTS; k++) {
        clients[k] = fork();
        assert_true(clients[k] >= 0);
        if (clients[k] == 0)
            kill_client(&s, work, "t", k, ack);
    }
    for (int i = 0; i < 600 && count_lines(ack) < KILL_BALLOTS / 3; i++)
        usleep(10000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 20); /* no request left hanging */
    acked = clients_done(clients, ack, "SIGTERM");
    assert_true(acked >= KILL_BALLOTS / 3);
    snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
    expect_acked_on_log(log, ack, "after SIGTERM");
    {
        /* and every ballot on the log was answered 201: a ballot committed
         * as the server stopped still gets its answer */
        uint64_t size = 0, on_log = 0;
        assert_int_equal(dt_log_size(log, &size), DT_OK);
        for (uint64_t i = 0; i < size; i++) {
            char *p = entry_path(log, i);
            on_log += strncmp(p, "encrypted_ballots/", 18) == 0;
            free(p);
        }
        assert_int_equal(on_log, acked);
    }
    dt_log_close(log);
}

/* Ballots checked in groups across requests (server.c, verify_grouped):
 * GROUP_CLIENTS clients post at once, in each round one of them a ballot
 * whose response was changed (its challenge still checks: only the batched
 * equations fail, so the whole group fails). Every good ballot is accepted
 * (201) whatever group it shared with the bad one, the bad one is refused
 * by name (422) and nothing of it is stored. */
#define GROUP_CLIENTS 8
#define GROUP_ROUNDS 5

static void test_grouped(void **state)
{
    (void)state;
    enum { N = GROUP_CLIENTS * GROUP_ROUNDS };
    char path[512];
    server s;
    uint64_t before;

    election_with_ballots("g", N, "g");
    server_start(&s, "--quiet --threads 8");
    before = log_size();
    for (int round = 0; round < GROUP_ROUNDS; round++) {
        pid_t kids[GROUP_CLIENTS];
        for (int k = 0; k < GROUP_CLIENTS; k++) {
            int i = round * GROUP_CLIENTS + k;
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                size_t len = 0;
                char *body, *bad = NULL, url[256];
                int status = 0;
                char *rbody = NULL;
                size_t rlen = 0;
                snprintf(path, sizeof path, "%s/g%d.json", work, i + 1);
                if (!(body = slurp(path, &len)))
                    _exit(10);
                if (k == round % GROUP_CLIENTS) { /* the bad one: a response changed */
                    json_t *j = json_loadb(body, len, 0, NULL);
                    json_t *p = json_array_get(
                        json_object_get(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(
                                                                                          j, "contests"),
                                                                                      0),
                                                                                  "selections"),
                                                                  1),
                                                   "proof"),
                                        "proofs"),
                        1);
                    const char *v = json_string_value(json_object_get(p, "response"));
                    char *nv = v ? strdup(v) : NULL;
                    if (!nv)
                        _exit(11);
                    nv[5] = nv[5] == 'A' ? 'B' : 'A';
                    json_object_set_new(p, "response", json_string(nv));
                    free(nv);
                    bad = json_dumps(j, JSON_COMPACT);
                    json_decref(j);
                }
                snprintf(url, sizeof url, "%s/api/v1/ballots", s.base);
                if (dt_http_post(url, bad ? bad : body, bad ? strlen(bad) : len, &status, &rbody, &rlen, 30000) !=
                    DT_OK)
                    _exit(12);
                if (bad)
                    _exit(status == 422 && rbody && strstr(rbody, "commitments do not match its responses") ? 0 : 13);
                _exit(status == 201 ? 0 : 14);
            }
        }
        for (int k = 0; k < GROUP_CLIENTS; k++) {
            int st = 0;
            assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("round %d, client %d%s: exit %d", round, k, k == round % GROUP_CLIENTS ? " (the bad ballot)" : "",
                         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
    }
    assert_int_equal(log_size(), before + (uint64_t)(N - GROUP_ROUNDS));
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    /* the files, written from the log by a publish: every good ballot's,
     * none of the bad ones' */
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-g.out' 2>&1", DT_CLI, edir, work), 0);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "ballot-%d", i + 1);
        if ((i % GROUP_CLIENTS == (i / GROUP_CLIENTS) % GROUP_CLIENTS) !=
            !exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, id))
            fail_msg("ballot %d: its file is %s", i + 1,
                     exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, id) ? "there (a bad ballot)" : "missing");
    }
}

/* The ballots' files, written from the log (server.c, commit_casts;
 * board.c, dt_board_restore). While voting is open the server puts ballots
 * on the log only, and its periodic publish only signs the log; a publish
 * (detente board publish, and detente close, which publishes first) writes
 * each ballot's file from its entry, from the folder's mark (files.synced)
 * on, then moves the mark. A crash while it writes can leave a file
 * missing, empty or cut short: the next publish writes it again. Another
 * server's ballot on a shared log gets its file the same way, and a folder
 * without a mark gets every missing file. */
static char *mark_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/private_data/board/files.synced", edir);
    return out;
}

static uint64_t synced_mark(void)
{
    char path[256], *t;
    uint64_t v;
    t = slurp(mark_path(path, sizeof path), NULL);
    if (!t)
        fail_msg("%s is missing", path);
    v = strtoull(t, NULL, 10);
    free(t);
    return v;
}

/* the mark moved back to v (its log's origin kept) */
static void set_mark(uint64_t v)
{
    char path[256], text[512], *t, *sp;
    t = slurp(mark_path(path, sizeof path), NULL);
    assert_non_null(t);
    assert_non_null(sp = strchr(t, ' '));
    snprintf(text, sizeof text, "%llu%s", (unsigned long long)v, sp);
    free(t);
    assert_int_equal(dt_write_file_atomic(path, text, strlen(text), 0644), DT_OK);
}

static void cast_file(const server *s, const char *prefix, int i)
{
    char bp[512];
    size_t len = 0;
    char *body;
    resp r;
    snprintf(bp, sizeof bp, "%s/%s%d.json", work, prefix, i);
    body = slurp(bp, &len);
    assert_non_null(body);
    post(s, "/api/v1/ballots", body, len, &r);
    expect_status(&r, 201, "a ballot");
    free(body);
    resp_free(&r);
}

/* The file of log entry i is in the folder, byte for byte its body. */
static void expect_file_of_entry(uint64_t i, const char *what)
{
    char logp[256], *path, full[600], *got;
    unsigned char *data = NULL;
    size_t dlen = 0, glen = 0;
    dt_log *log = NULL;
    dt_board_entry e;
    snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
    assert_int_equal(dt_log_entry(log, i, &data, &dlen), DT_OK);
    dt_log_close(log);
    assert_int_equal(dt_board_entry_parse(&e, data, dlen), DT_OK);
    assert_non_null(path = strndup(e.path, e.pathlen));
    snprintf(full, sizeof full, "%s/%s", edir, path);
    if (!(got = slurp(full, &glen)))
        fail_msg("%s: %s is missing", what, path);
    if (glen != e.bodylen || memcmp(got, e.body, glen) != 0)
        fail_msg("%s: %s is not the bytes of log entry %llu", what, path, (unsigned long long)i);
    free(got);
    free(path);
    free(data);
}

/* the size of DIR/board/checkpoint (its second line), 0 if none */
static uint64_t checkpoint_size(void)
{
    char path[256], *t, *nl;
    uint64_t v = 0;
    snprintf(path, sizeof path, "%s/board/checkpoint", edir);
    if (!(t = slurp(path, NULL)))
        return 0;
    if ((nl = strchr(t, '\n')))
        v = strtoull(nl + 1, NULL, 10);
    free(t);
    return v;
}

static void test_restore(void **state)
{
    (void)state;
    enum { N = 6, CAST = 4 };
    char path[N][512], mp[256];
    uint64_t before, mark0;
    server s;
    int waited = 0;

    election_with_ballots("r", N, "r");
    for (int i = 0; i < N; i++)
        snprintf(path[i], sizeof path[i], "%s/encrypted_ballots/device-1/eballot-ballot-%d.json", edir, i + 1);
    server_start(&s, "--quiet --publish-every 1");
    before = log_size();
    mark0 = synced_mark();
    for (int i = 0; i < CAST; i++)
        cast_file(&s, "r", i + 1);
    /* a ballot's file put in the folder by hand while the server runs */
    {
        char src[512], dir[512], *body;
        size_t len = 0;
        resp r;
        snprintf(src, sizeof src, "%s/r6.json", work);
        assert_non_null(body = slurp(src, &len));
        snprintf(dir, sizeof dir, "%s/encrypted_ballots/device-1", edir);
        assert_int_equal(run("mkdir -p '%s'", dir), 0);
        assert_int_equal(dt_write_file_atomic(path[5], body, len, 0644), DT_OK);
        /* the periodic publish signs and cosigns the log, writes no file,
         * and leaves encrypted_ballots/ alone: the file is not published */
        while (checkpoint_size() < before + CAST && waited++ < 3000)
            usleep(10000);
        assert_true(checkpoint_size() >= before + CAST);
        usleep(1500000); /* one publish more */
        assert_int_equal(log_size(), before + CAST);
        /* and that ballot cast: its name is taken in the folder, 409 */
        post(&s, "/api/v1/ballots", body, len, &r);
        expect_status(&r, 409, "a ballot whose file is in the folder");
        assert_non_null(strstr(r.body, "is already in the record"));
        resp_free(&r);
        assert_int_equal(log_size(), before + CAST);
        assert_int_equal(unlink(path[5]), 0);
        free(body);
    }
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    /* nor does the stop: the ballots are on the log, not in the folder */
    assert_int_equal(log_size(), before + CAST);
    assert_int_equal(synced_mark(), mark0);
    for (int i = 0; i < CAST; i++)
        if (access(path[i], F_OK) == 0)
            fail_msg("%s was written while voting was open", path[i]);

    /* a publish writes them from the log and moves the mark */
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r1.out' 2>&1", DT_CLI, edir, work), 0);
    for (int i = 0; i < CAST; i++)
        expect_file_of_entry(before + (uint64_t)i, "after a publish");
    assert_int_equal(synced_mark(), before + CAST);

    /* a crash while a publish wrote them (the mark not moved): ballot 1's
     * file never written, ballot 2's empty, ballot 3's other bytes (cut
     * short, or zeros); the next publish writes each again */
    set_mark(before);
    assert_int_equal(unlink(path[0]), 0);
    assert_int_equal(truncate(path[1], 0), 0);
    assert_int_equal(dt_write_file_atomic(path[2], "{}", 2, 0644), DT_OK);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r2.out' 2>&1", DT_CLI, edir, work), 0);
    for (int i = 0; i < 3; i++)
        expect_file_of_entry(before + (uint64_t)i, "after a crash, a publish");
    assert_int_equal(synced_mark(), before + CAST);

    /* below the mark, files are taken as written: not looked at */
    assert_int_equal(unlink(path[3]), 0);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r3.out' 2>&1", DT_CLI, edir, work), 0);
    assert_false(exists("%s/encrypted_ballots/device-1/eballot-%s.json", edir, "ballot-4"));
    set_mark(before + 2);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r4.out' 2>&1", DT_CLI, edir, work), 0);
    expect_file_of_entry(before + 3, "from the mark on, a publish");

    /* no mark (lost, or a folder never published): every missing file */
    assert_int_equal(unlink(mark_path(mp, sizeof mp)), 0);
    assert_int_equal(unlink(path[0]), 0);
    assert_int_equal(unlink(path[3]), 0);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r5.out' 2>&1", DT_CLI, edir, work), 0);
    expect_file_of_entry(before, "without a mark, a publish");
    expect_file_of_entry(before + 3, "without a mark, a publish");
    assert_int_equal(synced_mark(), log_size());

    /* a tally without a close (nor a publish) writes them first too */
    server_start(&s, "--quiet");
    cast_file(&s, "r", 6);
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    assert_false(access(path[5], F_OK) == 0);
    assert_int_equal(run("'%s' tally '%s' >'%s/tally-r.out' 2>&1", DT_CLI, edir, work), 0);
    expect_file_of_entry(log_size() - 1, "after a tally");
    {
        char tp[512];
        snprintf(tp, sizeof tp, "%s/encrypted_tally.json", edir);
        assert_int_equal(unlink(tp), 0); /* the rest as before */
    }

    /* another server's ballot on the log (a shared log), with one of this
     * server's after it: a publish writes both files */
    server_start(&s, "--quiet");
    {
        static const char fpath[] = "encrypted_ballots/device-9/eballot-foreign.json";
        unsigned char code[DT_BOARD_CODE_BYTES], h[32], *entry = NULL, pkey[DT_BOARD_KEY_MAX],
            ckey[1 + DT_BOARD_CODE_BYTES];
        const unsigned char *e, *keys[2];
        size_t elen = 0, klens[2], wlen = 0;
        int blob = 0;
        uint64_t first = 0;
        dt_log *log = NULL;
        char logp[256], *want;
        assert_non_null(want = slurp(path[0], &wlen));
        memset(code, 0x5a, sizeof code);
        assert_int_equal(dt_board_entry_format(&entry, &elen, fpath, code, (const unsigned char *)want, wlen, h, &blob),
                         DT_OK);
        free(want);
        keys[0] = pkey;
        klens[0] = dt_board_path_key(pkey, fpath, strlen(fpath));
        keys[1] = ckey;
        klens[1] = dt_board_code_key(ckey, code);
        e = entry;
        snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
        assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
        assert_int_equal(dt_log_append_multikeyed(log, &e, &elen, keys, klens, 2, 1, &first, NULL), DT_OK);
        dt_log_close(log);
        free(entry);
        cast_file(&s, "r", 5);
        assert_int_equal(server_stop(&s, SIGTERM), 0);
        assert_false(exists("%s/%s", edir, fpath));
        assert_false(access(path[4], F_OK) == 0);
        assert_int_equal(run("'%s' board publish '%s' >'%s/publish-r6.out' 2>&1", DT_CLI, edir, work), 0);
        expect_file_of_entry(first, "another server's ballot, after a publish");
        expect_file_of_entry(first + 1, "this server's next ballot, after a publish");
        assert_int_equal(synced_mark(), log_size());
    }
}

/* Waits (up to 30 s) for DIR/board/checkpoint to reach size entries. */
static void wait_checkpoint(uint64_t size)
{
    for (int waited = 0; checkpoint_size() < size && waited < 3000; waited++)
        usleep(10000);
    assert_int_equal(checkpoint_size(), size);
}

/* 1 if the level-0 hash tile and the entry bundle of a board of size
 * entries (fewer than 256) are both in the folder. */
static int tiles_in_folder(uint64_t size)
{
    char hrel[DT_TILE_PATH_MAX], erel[DT_TILE_PATH_MAX];
    assert_int_equal(dt_tile_path(hrel, 0, 0, (unsigned)size), DT_OK);
    assert_int_equal(dt_tile_entries_path(erel, 0, (unsigned)size), DT_OK);
    return exists("%s/board/%s", edir, hrel) && exists("%s/board/%s", edir, erel);
}

/* The tiles: the periodic publish leaves them out of the folder (the
 * entry bundles are every entry's bytes again) and the server serves them
 * from the log, byte for byte what a full publish then writes; with a
 * verifying witness in the process (it reads them from the folder) it
 * writes them. */
static void test_bundles(void **state)
{
    (void)state;
    enum { N = 5 };
    char flag[512], rel[96], file[600], url[128];
    uint64_t size;
    server s;
    resp r;

    election_with_ballots("t", N, "t");
    snprintf(flag, sizeof flag, "%s/private_data/witnesses/w1/verify", edir);
    assert_int_equal(unlink(flag), 0); /* no witness of this board verifies */
    server_start(&s, "--quiet --publish-every 1");
    for (int i = 0; i < 2; i++)
        cast_file(&s, "t", i + 1);
    size = log_size();
    wait_checkpoint(size);
    assert_true(size < DT_TILE_WIDTH);

    /* neither the hash tile nor the entry bundle is in the folder */
    char hrel[96], hfile[600];
    resp h;
    assert_int_equal(dt_tile_path(hrel, 0, 0, (unsigned)size), DT_OK);
    snprintf(hfile, sizeof hfile, "%s/board/%s", edir, hrel);
    if (access(hfile, F_OK) == 0)
        fail_msg("%s was written by the periodic publish", hfile);
    snprintf(url, sizeof url, "/board/%s", hrel);
    request(&s, "GET", url, &h);
    expect_status(&h, 200, "a hash tile not in the folder");
    assert_non_null(strstr(h.head, "max-age=10"));
    assert_int_equal(h.len, 32 * size);
    {
        dt_log *log = NULL;
        char logp[256];
        unsigned char node[32];
        snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
        assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
        for (uint64_t i = 0; i < size; i++) {
            assert_int_equal(dt_log_node(log, node, 0, i), DT_OK);
            assert_memory_equal(h.body + 32 * i, node, 32);
        }
        dt_log_close(log);
    }
    assert_int_equal(dt_tile_entries_path(rel, 0, (unsigned)size), DT_OK);
    snprintf(file, sizeof file, "%s/board/%s", edir, rel);
    if (access(file, F_OK) == 0)
        fail_msg("%s was written by the periodic publish", file);
    /* served from the log */
    snprintf(url, sizeof url, "/board/%s", rel);
    request(&s, "GET", url, &r);
    expect_status(&r, 200, "an entry bundle not in the folder");
    assert_non_null(strstr(r.head, "max-age=10"));
    {
        /* entry by entry, the log's (big-endian uint16 length, then the entry) */
        dt_log *log = NULL;
        char logp[256];
        size_t at = 0;
        snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
        assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
        for (uint64_t i = 0; i < size; i++) {
            unsigned char *e = NULL;
            size_t elen = 0;
            assert_int_equal(dt_log_entry(log, i, &e, &elen), DT_OK);
            assert_true(at + 2 + elen <= r.len);
            assert_int_equal(((size_t)(unsigned char)r.body[at] << 8) | (unsigned char)r.body[at + 1], elen);
            assert_memory_equal(r.body + at + 2, e, elen);
            at += 2 + elen;
            free(e);
        }
        assert_int_equal(at, r.len);
        dt_log_close(log);
    }
    /* entries the log does not hold, and a full bundle of them: 404 */
    {
        char past[96], purl[128];
        assert_int_equal(dt_tile_entries_path(past, 0, (unsigned)size + 1), DT_OK);
        snprintf(purl, sizeof purl, "/board/%s", past);
        resp q;
        request(&s, "GET", purl, &q);
        expect_status(&q, 404, "a bundle past the log");
        resp_free(&q);
        request(&s, "GET", "/board/tile/entries/000", &q);
        expect_status(&q, 404, "a full bundle of a log of fewer entries");
        resp_free(&q);
        request(&s, "GET", "/board/tile/entries/x001/000", &q);
        expect_status(&q, 404, "a bundle far past the log");
        resp_free(&q);
        request(&s, "GET", "/board/tile/1/000.p/1", &q);
        expect_status(&q, 404, "a level-1 tile of a log of fewer than 256 entries");
        resp_free(&q);
        request(&s, "GET", "/board/tile/7/000", &q);
        expect_status(&q, 404, "a full level-7 tile (2^64 entries)");
        resp_free(&q);
        request(&s, "GET", "/board/tile/9/000.p/1", &q);
        expect_status(&q, 404, "a hash tile of a level no log reaches");
        resp_free(&q);
    }
    assert_int_equal(server_stop(&s, SIGTERM), 0);

    /* a full publish with nothing new (the same checkpoint) writes the
     * bundle that the periodic publish left out: the bytes served */
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-t1.out' 2>&1", DT_CLI, edir, work), 0);
    assert_int_equal(checkpoint_size(), size);
    {
        size_t flen = 0;
        char *f = slurp(file, &flen);
        if (f == NULL)
            fail_msg("%s was not written by a full publish", file);
        assert_int_equal(flen, r.len);
        assert_memory_equal(f, r.body, flen);
        free(f);
        if (!(f = slurp(hfile, &flen)))
            fail_msg("%s was not written by a full publish", hfile);
        assert_int_equal(flen, h.len);
        assert_memory_equal(f, h.body, flen);
        free(f);
    }
    resp_free(&r);
    resp_free(&h);

    /* a verifying witness in the process: the periodic publish writes them */
    assert_int_equal(run("touch '%s'", flag), 0);
    server_start(&s, "--quiet --publish-every 1");
    cast_file(&s, "t", 3);
    wait_checkpoint(size + 1);
    if (!tiles_in_folder(size + 1))
        fail_msg("the tiles were not written for the verifying witness");
    assert_int_equal(server_stop(&s, SIGTERM), 0);

    /* serve --export-tiles (a verifying witness reading the folder from
     * another process): the periodic publish writes them */
    assert_int_equal(unlink(flag), 0);
    server_start(&s, "--quiet --publish-every 1 --export-tiles");
    cast_file(&s, "t", 4);
    wait_checkpoint(size + 2);
    if (!tiles_in_folder(size + 2))
        fail_msg("the tiles were not written with --export-tiles");
    assert_int_equal(server_stop(&s, SIGTERM), 0);

    /* a full publish that the witnesses refuse: the folder's checkpoint
     * (a periodic publish's, its tiles left to the log) stays, and gets
     * its tiles */
    server_start(&s, "--quiet --publish-every 1");
    cast_file(&s, "t", 5);
    wait_checkpoint(size + 3);
    assert_int_equal(server_stop(&s, SIGTERM), 0);
    assert_int_equal(dt_tile_entries_path(rel, 0, (unsigned)size + 3), DT_OK);
    assert_int_equal(dt_tile_path(hrel, 0, 0, (unsigned)size + 3), DT_OK);
    assert_false(exists("%s/board/%s", edir, rel));
    assert_false(exists("%s/board/%s", edir, hrel));
    assert_int_equal(run("mv '%s/private_data/witnesses/w2' '%s/w2-away' && mv '%s/private_data/witnesses/w3' '%s/w3-away' && "
                         "echo '{\"late\": 1}' >'%s/ceremony/late.json'",
                         edir, work, edir, work, edir),
                     0);
    assert_int_not_equal(run("'%s' board publish '%s' >'%s/publish-t2.out' 2>&1", DT_CLI, edir, work), 0);
    assert_int_equal(checkpoint_size(), size + 3);
    assert_int_equal(log_size(), size + 4);
    if (!tiles_in_folder(size + 3))
        fail_msg("the tiles of the folder's checkpoint (%llu entries) are missing after a refused full publish",
                 (unsigned long long)(size + 3));
    assert_int_equal(run("mv '%s/w2-away' '%s/private_data/witnesses/w2' && mv '%s/w3-away' '%s/private_data/witnesses/w3'",
                         work, edir, work, edir),
                     0);
    assert_int_equal(run("'%s' board publish '%s' >'%s/publish-t3.out' 2>&1", DT_CLI, edir, work), 0);
    assert_int_equal(checkpoint_size(), size + 4);

    /* a full tile served from the log is written to the folder once (it
     * never changes), and served from there next time: the log filled to
     * 300 entries (bytes of no file: only the tiles are looked at here) */
    {
        dt_log *log = NULL;
        char logp[256];
        uint64_t n = log_size();
        snprintf(logp, sizeof logp, "%s/private_data/board/log.db", edir);
        assert_int_equal(dt_log_open(&log, logp, 0), DT_OK);
        for (; n < 300; n++) {
            char e[32];
            const unsigned char *ep = (const unsigned char *)e;
            size_t el = (size_t)snprintf(e, sizeof e, "filler %llu", (unsigned long long)n);
            assert_int_equal(dt_log_append(log, &ep, &el, 1, NULL), DT_OK);
        }
        dt_log_close(log);
    }
    server_start(&s, "--quiet --publish-every 0");
    static const char *const full[] = {"tile/entries/000", "tile/0/000"};
    for (size_t k = 0; k < 2; k++) {
        resp a, b2;
        size_t flen = 0;
        char *f;
        snprintf(file, sizeof file, "%s/board/%s", edir, full[k]);
        assert_false(exists("%s/board/%s", edir, full[k]));
        snprintf(url, sizeof url, "/board/%s", full[k]);
        request(&s, "GET", url, &a);
        expect_status(&a, 200, "a full tile from the log");
        assert_non_null(strstr(a.head, "immutable"));
        if (!(f = slurp(file, &flen)))
            fail_msg("%s was not written when it was served", file);
        assert_int_equal(flen, a.len);
        assert_memory_equal(f, a.body, flen);
        free(f);
        request(&s, "GET", url, &b2);
        expect_status(&b2, 200, "a full tile again, from the folder");
        assert_int_equal(b2.len, a.len);
        assert_memory_equal(b2.body, a.body, a.len);
        resp_free(&a);
        resp_free(&b2);
    }
    assert_int_equal(server_stop(&s, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve),
        cmocka_unit_test(test_sigkill),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_grouped),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_bundles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
