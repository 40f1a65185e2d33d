/* detente serve against bad requests (docs/api.md, "Bad requests and
 * limits"): every one is refused with a 4xx answer (JSON {"error"} unless
 * libmicrohttpd itself refuses a head it cannot parse), the server keeps
 * serving others, and nothing is stored (the log's size and the public
 * files of the folder are unchanged). Raw sockets, so that the requests can
 * be as broken as an attacker likes: empty and oversized bodies (with and
 * without Content-Length, chunked), 10,000 levels of nesting, invalid UTF-8,
 * NUL bytes, wrong methods on every route, unknown routes, bad query
 * strings, huge headers, slow clients (a slowloris from 127.0.0.2 while a
 * voter on 127.0.0.1 casts), idle connections closed, paths that climb out
 * of the served folders, a ballot of another election, a replayed ballot;
 * then the admin endpoint (peer, token, method) and closing. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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

#include <detente/log.h>

#include "server/admin.h"
#include "util/codec.h"

#define NBALLOTS 4

static char work[64], edir[128], other[128];
static pid_t server_pid;
static unsigned port;
static char *ballots[NBALLOTS], *foreign; /* encrypted, as `detente encrypt` prints them */
static size_t blens[NBALLOTS], foreign_len;

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

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- what the folder holds: the log's size and every public file ---- */

typedef struct snap {
    uint64_t log_size;
    char *files; /* "path size\n" for every file outside private_data/, sorted by readdir order per folder */
} snap;

static void list_tree(const char *root, const char *rel, char **acc, size_t *len)
{
    char path[1024];
    DIR *d;
    struct dirent *e;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        char sub[1024], full[2048];
        struct stat st;
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        if (strcmp(sub, "private_data") != 0 && lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                list_tree(root, sub, acc, len);
            } else {
                char line[1200];
                int l = snprintf(line, sizeof line, "%s %lld\n", sub, (long long)st.st_size);
                *acc = realloc(*acc, *len + (size_t)l + 1);
                memcpy(*acc + *len, line, (size_t)l + 1);
                *len += (size_t)l;
            }
        }
        free(names[i]);
    }
    free(names);
}

static void snap_take(snap *s)
{
    char path[256];
    dt_log *log = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/private_data/board/log.db", edir);
    assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
    assert_int_equal(dt_log_size(log, &s->log_size), DT_OK);
    dt_log_close(log);
    s->files = calloc(1, 1);
    list_tree(edir, "", &s->files, &len);
}

/* Nothing stored since s; frees s. */
static void snap_same(snap *s, const char *what)
{
    snap now;
    snap_take(&now);
    if (now.log_size != s->log_size)
        fail_msg("%s: the log grew from %llu to %llu entries", what, (unsigned long long)s->log_size,
                 (unsigned long long)now.log_size);
    if (strcmp(now.files, s->files) != 0)
        fail_msg("%s: the folder changed:\nbefore:\n%s\nafter:\n%s", what, s->files, now.files);
    free(now.files);
    free(s->files);
}

/* ---- raw HTTP ---- */

typedef struct resp {
    int status; /* 0: no answer (the connection was closed or timed out) */
    char *head;
    char *body;
    size_t len;
} resp;

static void resp_free(resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* A connected socket to the server from address from (NULL: 127.0.0.1). */
static int dial(const char *from)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (from) {
        struct sockaddr_in b;
        memset(&b, 0, sizeof b);
        b.sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, from, &b.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof b), 0);
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Writes what it can of n bytes (the server may close early: that is
 * allowed, an answer may already be waiting). */
static void send_some(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

/* Reads the answer until the server closes (or timeout_ms). */
static void read_answer(int fd, resp *r, int timeout_ms)
{
    char *buf = NULL, *sep;
    size_t len = 0, cap = 0;
    long long end = now_ms() + timeout_ms;
    memset(r, 0, sizeof *r);
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        long long left = end - now_ms();
        ssize_t n;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        if (len + 4097 > cap) {
            cap = 2 * cap + 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n = recv(fd, buf + len, 4096, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (!buf || !(sep = (buf[len] = '\0', strstr(buf, "\r\n\r\n"))) || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        r->status = 0;
        free(buf);
        return;
    }
    r->head = strndup(buf, (size_t)(sep - buf));
    r->len = len - (size_t)(sep + 4 - buf);
    r->body = malloc(r->len + 1);
    assert_non_null(r->body);
    memcpy(r->body, sep + 4, r->len);
    r->body[r->len] = '\0';
    free(buf);
}

/* One raw request (head, then body of blen bytes) on a fresh connection. */
static void raw_from(const char *from, const char *head, const void *body, size_t blen, resp *r)
{
    int fd = dial(from);
    send_some(fd, head, strlen(head));
    if (blen)
        send_some(fd, body, blen);
    shutdown(fd, SHUT_WR);
    read_answer(fd, r, 30000);
    close(fd);
}

static void raw(const char *head, const void *body, size_t blen, resp *r)
{
    raw_from(NULL, head, body, blen, r);
}

/* METHOD PATH with a body of blen bytes and Content-Length. */
static void request(const char *method, const char *path, const void *body, size_t blen, resp *r)
{
    char head[2048];
    snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
             method, path, blen);
    raw(head, body, blen, r);
}

static void expect_status(const resp *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: status %d, expected %d; body: %.300s", what, r->status, status, r->body ? r->body : "");
}

/* A 4xx answer whose body is JSON {"error": "..."}. */
static void expect_json_error(const resp *r, int status, const char *what)
{
    json_t *j;
    expect_status(r, status, what);
    if (!strstr(r->head, "Content-Type: application/json"))
        fail_msg("%s: not a JSON answer: %s", what, r->head);
    j = json_loadb(r->body, r->len, 0, NULL);
    if (!json_is_string(json_object_get(j, "error")))
        fail_msg("%s: no {\"error\": ...} in %.300s", what, r->body);
    json_decref(j);
}

/* Another client is still served: the checkpoint comes back. */
static void others_served(const char *after)
{
    resp r;
    request("GET", "/board/checkpoint", NULL, 0, &r);
    if (r.status != 200)
        fail_msg("after %s: GET /board/checkpoint gives %d: the server no longer serves others", after, r.status);
    resp_free(&r);
}

/* ---- set-up: two elections, ballots encrypted, the server ---- */

static void server_start(void)
{
    char logp[256], cmd[1024];
    snprintf(logp, sizeof logp, "%s/serve.log", work);
    snprintf(cmd, sizeof cmd,
             "exec '%s' serve '%s' --listen 127.0.0.1:0 --publish-every 0 --quiet --connections 32 "
             "--connections-per-ip 16 "
             "--timeout 2 --web '%s/noweb' 2>'%s'",
             DT_CLI, edir, work, logp);
    server_pid = fork();
    assert_true(server_pid >= 0);
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with the test, even a failed one */
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    port = 0;
    for (int i = 0; i < 400 && !port; i++) {
        char *log = slurp(logp, NULL), *p;
        if (log && (p = strstr(log, " on port ")))
            port = (unsigned)strtoul(p + 9, NULL, 10);
        free(log);
        if (!port)
            usleep(25000);
    }
    if (!port)
        fail_msg("the server did not start (see %s)", logp);
}

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof work, "/tmp/dt-serve-bad-XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(edir, sizeof edir, "%s/e", work);
    snprintf(other, sizeof other, "%s/other", work);
    /* one guardian and one witness: the election's set-up is not what is tested */
    if (run("'%s' demo --until voting --ballots %d --guardians 1 --quorum 1 --absent 0 --witnesses 1 "
            "--witness-quorum 1 --quiet --out '%s' >/dev/null 2>&1",
            DT_CLI, NBALLOTS, edir) != 0 ||
        run("'%s' demo --until voting --ballots 1 --guardians 1 --quorum 1 --absent 0 --witnesses 1 "
            "--witness-quorum 1 --quiet --out '%s' >/dev/null 2>&1",
            DT_CLI, other) != 0) {
        fprintf(stderr, "detente demo failed\n");
        return -1;
    }
    for (int i = 0; i <= NBALLOTS; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/b%d.json", work, i);
        if (run("'%s' encrypt --allow-overvote '%s' '%s/private_data/input/pballot-ballot-%d.json' >'%s' 2>/dev/null",
                DT_CLI, i ? edir : other, i ? edir : other, i ? i : 1, out) != 0 ||
            !(i ? (ballots[i - 1] = slurp(out, &blens[i - 1])) : (foreign = slurp(out, &foreign_len)))) {
            fprintf(stderr, "detente encrypt of ballot %d failed\n", i);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
    }
    for (int i = 0; i < NBALLOTS; i++)
        free(ballots[i]);
    free(foreign);
    if (!getenv("DT_KEEP"))
        run("rm -rf '%s'", work);
    return 0;
}

/* ballots[i] with its ballot_id replaced by raw bytes (not escaped). */
static char *with_id(int i, const char *id, size_t idlen, size_t *len)
{
    const char *key = "\"ballot_id\"", *p = strstr(ballots[i], key), *q, *v;
    char *out;
    assert_non_null(p);
    v = strchr(p + strlen(key), '"');
    assert_non_null(v);
    q = strchr(v + 1, '"');
    assert_non_null(q);
    *len = (size_t)(v + 1 - ballots[i]) + idlen + (blens[i] - (size_t)(q - ballots[i]));
    out = malloc(*len);
    assert_non_null(out);
    memcpy(out, ballots[i], (size_t)(v + 1 - ballots[i]));
    memcpy(out + (v + 1 - ballots[i]), id, idlen);
    memcpy(out + (v + 1 - ballots[i]) + idlen, q, blens[i] - (size_t)(q - ballots[i]));
    return out;
}

/* ---- the tests ---- */

/* The nesting guard skips strings with memchr; the byte-by-byte scan it
 * replaced is the reference: both on 2,000,000 random texts of the bytes
 * that matter ([ ] { } quote backslash), and on the edges. */
static int too_deep_ref(const char *text, size_t len, unsigned max)
{
    unsigned depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                return 1;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

static void test_depth_guard(void **state)
{
    static const char alphabet[] = "[]{}\"\\ a";
    char buf[48];
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t deep = 0;
    (void)state;
    for (int it = 0; it < 2000000; it++) {
        size_t n;
        unsigned max;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        n = (size_t)(x % sizeof buf);
        max = (unsigned)(x >> 8) % 6;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = alphabet[x % 8];
        }
        assert_int_equal(dt_json_too_deep(buf, n, max), too_deep_ref(buf, n, max));
        deep += (size_t)too_deep_ref(buf, n, max);
    }
    assert_true(deep > 1000);
    assert_int_equal(dt_json_too_deep("[[[\"[[[[\"]]]", 9, 3), 0);
    assert_int_equal(dt_json_too_deep("[[[[", 4, 3), 1);
    assert_int_equal(dt_json_too_deep("\"\\\"[[[[[", 8, 3), 0); /* an escaped quote keeps the string open */
    assert_int_equal(dt_json_too_deep("\"\\", 2, 0), 0);        /* a backslash at the end */
    {
        /* a string of 2 MiB of escaped backslashes: the scan stays linear
         * (searching for the closing quote after each escape took about 20 s) */
        size_t n = 2u << 20;
        char *t = malloc(n + 4);
        struct timespec t0, t1;
        assert_non_null(t);
        t[0] = '[';
        t[1] = '"';
        memset(t + 2, '\\', n);
        t[n + 2] = '"';
        t[n + 3] = ']';
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(dt_json_too_deep(t, n + 4, 1), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
        free(t);
    }
}

static void test_bodies(void **state)
{
    snap before;
    resp r;
    (void)state;
    server_start();
    snap_take(&before);

    request("POST", "/api/v1/ballots", NULL, 0, &r);
    expect_json_error(&r, 400, "an empty body");
    resp_free(&r);

    /* announced over 1 MiB: answered at once */
    raw("POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1048577\r\n\r\n", "{", 1,
        &r);
    expect_json_error(&r, 413, "Content-Length over 1 MiB");
    resp_free(&r);
    raw("POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "{", 1, &r);
    if (r.status < 400 || r.status > 499)
        fail_msg("a Content-Length beyond 64 bits: %d", r.status);
    resp_free(&r);
    {
        /* chunked, 2 MiB in 64 KiB chunks: 413 without reading it all */
        size_t chunk = 65536, total = 2u << 20, n = 0;
        char *body = malloc(total + (total / chunk) * 16 + 16), line[32];
        assert_non_null(body);
        for (size_t sent = 0; sent < total; sent += chunk) {
            int l = snprintf(line, sizeof line, "%zx\r\n", chunk);
            memcpy(body + n, line, (size_t)l);
            n += (size_t)l;
            memset(body + n, ' ', chunk);
            n += chunk;
            memcpy(body + n, "\r\n", 2);
            n += 2;
        }
        memcpy(body + n, "0\r\n\r\n", 5);
        n += 5;
        raw("POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
            body, n, &r);
        free(body);
    }
    expect_json_error(&r, 413, "a chunked body over 1 MiB");
    resp_free(&r);
    {
        /* chunked and small: the ballot parser sees it (not JSON: 400) */
        const char *b = "5\r\nhello\r\n0\r\n\r\n";
        raw("POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n", b,
            strlen(b), &r);
        expect_json_error(&r, 400, "a small chunked body that is not JSON");
        resp_free(&r);
    }
    /* without Content-Length or chunks a POST has no body */
    raw("POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 0, &r);
    expect_json_error(&r, 400, "a POST without Content-Length");
    resp_free(&r);

    {
        /* 10,000 levels: refused before jansson (which stops at 2048) */
        size_t depth = 10000;
        char *deep = malloc(2 * depth);
        assert_non_null(deep);
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        request("POST", "/api/v1/ballots", deep, 2 * depth, &r);
        expect_json_error(&r, 400, "10,000 nested arrays");
        assert_non_null(strstr(r.body, "nested"));
        resp_free(&r);
        for (size_t i = 0; i < 2 * depth / 5; i++) /* 4,000 levels of {"a": */
            memcpy(deep + 5 * i, "{\"a\":", 5);
        request("POST", "/api/v1/ballots", deep, 2 * depth, &r);
        expect_json_error(&r, 400, "nested objects");
        resp_free(&r);
        /* what jansson does alone: it refuses, it does not overflow the stack */
        {
            json_error_t jerr;
            memset(deep, '[', depth);
            memset(deep + depth, ']', depth);
            assert_null(json_loadb(deep, 2 * depth, 0, &jerr));
            assert_non_null(strstr(jerr.text, "depth"));
        }
        free(deep);
    }
    {
        /* invalid UTF-8 in a string; an overlong '/'; a raw NUL; \u0000; NUL between tokens */
        struct {
            const char *id;
            size_t len;
            const char *what;
        } bad[] = {
            {"ballot-\xff\xfe", 9, "invalid UTF-8 in a string"},
            {"ballot-\xc0\xaf", 9, "an overlong UTF-8 encoding"},
            {"ballot-\xed\xa0\x80", 10, "a UTF-8 surrogate"},
            {"ballot\0-1", 9, "a raw NUL in a string"},
            {"ballot\\u0000-1", 14, "\\u0000 in a string"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            size_t len;
            char *b = with_id(0, bad[i].id, bad[i].len, &len);
            request("POST", "/api/v1/ballots", b, len, &r);
            free(b);
            expect_json_error(&r, 400, bad[i].what);
            resp_free(&r);
        }
        char *b = malloc(blens[0] + 1);
        assert_non_null(b);
        b[0] = '\0';
        memcpy(b + 1, ballots[0], blens[0]);
        request("POST", "/api/v1/ballots", b, blens[0] + 1, &r);
        free(b);
        expect_json_error(&r, 400, "a NUL before the JSON");
        resp_free(&r);
    }
    others_served("bad bodies");
    snap_same(&before, "bad bodies");
}

static void test_routes(void **state)
{
    static const struct {
        const char *path;
        const char *bad[4];
    } routes[] = {
        {"/api/v1/ballots", {"GET", "PUT", "DELETE", "PATCH"}},
        {"/api/v1/receipts/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", {"POST", "PUT", "DELETE", NULL}},
        {"/board/checkpoint", {"POST", "PUT", "DELETE", NULL}},
        {"/board/tile/0/000.p/1", {"POST", "DELETE", NULL, NULL}},
        {"/api/v1/results", {"POST", "PUT", "DELETE", NULL}},
        {"/api/v1/record.tar", {"POST", "PUT", "DELETE", NULL}},
        {"/", {"POST", "PUT", "DELETE", NULL}},
    };
    static const char *unknown[] = {"/nowhere", "/api/v2/ballots", "/api/v1/ballots/1", "/api/v1/", "/api",
                                    "/board/", "/board", "/api/v1/admin/", "/api/v1/admin/open",
                                    "/board/private_data", "/board/tile/x"};
    static const char *query[] = {"?action=", "?action", "?action=cast&action=challenge", "?foo=1",
                                  "?action=cast&x", "?action=%00", "?action=%zz", "?%ff=1", "?action=CAST",
                                  "?action=cast%00challenge"};
    snap before;
    resp r;
    (void)state;
    snap_take(&before);
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        for (int m = 0; m < 4 && routes[i].bad[m]; m++) {
            char what[128];
            snprintf(what, sizeof what, "%s %s", routes[i].bad[m], routes[i].path);
            request(routes[i].bad[m], routes[i].path, "x", 1, &r);
            expect_json_error(&r, 405, what);
            if (!strstr(r.head, "Allow: "))
                fail_msg("%s: 405 without Allow", what);
            resp_free(&r);
        }
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        request("GET", unknown[i], NULL, 0, &r);
        expect_json_error(&r, 404, unknown[i]);
        resp_free(&r);
    }
    for (size_t i = 0; i < sizeof query / sizeof *query; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/ballots%s", query[i]);
        request("POST", path, ballots[0], blens[0], &r);
        expect_json_error(&r, 400, path);
        resp_free(&r);
    }
    {
        /* a query of 8 KiB: refused, by us (400) or by MHD's head limit */
        char *path = malloc(8300);
        assert_non_null(path);
        strcpy(path, "/api/v1/ballots?action=");
        memset(path + strlen(path), 'a', 8192);
        path[23 + 8192] = '\0';
        request("POST", path, ballots[0], blens[0], &r);
        free(path);
        if (r.status < 400 || r.status > 499)
            fail_msg("an 8 KiB query: %d", r.status);
        resp_free(&r);
    }
    /* %00 in a path does not cut it short: "/api/v1/ballots%00x" is no route */
    request("POST", "/api/v1/ballots%00x", ballots[0], blens[0], &r);
    expect_json_error(&r, 404, "%00 in the path");
    resp_free(&r);
    {
        /* a head of 64 KiB: libmicrohttpd refuses it (431, its own page) */
        static const char start[] = "GET /board/checkpoint HTTP/1.1\r\nHost: x\r\nX-Big: ",
                          end[] = "\r\nConnection: close\r\n\r\n";
        char *head = malloc(sizeof start + 65536 + sizeof end);
        assert_non_null(head);
        memcpy(head, start, sizeof start - 1);
        memset(head + sizeof start - 1, 'b', 65536);
        memcpy(head + sizeof start - 1 + 65536, end, sizeof end);
        raw(head, NULL, 0, &r);
        free(head);
        if (r.status != 431 && r.status != 413 && r.status != 400)
            fail_msg("a 64 KiB header: %d", r.status);
        resp_free(&r);
    }
    /* garbage instead of a request line */
    raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", NULL, 0, &r);
    assert_true(r.status == 0 || (r.status >= 400 && r.status <= 499));
    resp_free(&r);
    others_served("wrong methods, routes, queries and heads");
    snap_same(&before, "wrong methods, routes, queries and heads");
}

static void test_climbing(void **state)
{
    static const char *paths[] = {
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "//etc/passwd",
        "/.%2e/.%2e/etc/passwd",
        "/..%2f..%2f..%2fetc/passwd",
        "/board/../private_data/board/log.key",
        "/board/%2e%2e/private_data/board/log.key",
        "/board/..%2fprivate_data%2fboard%2flog.key",
        "/board//etc/passwd",
        "/board/tile/../../private_data/board/log.key",
        "/board/tile/entries/..%2f..%2f..%2fprivate_data/board/log.key",
        "/board/blob/../../private_data/board/log.key",
        "/assets/../../private_data/board/log.key",
        "/assets/%2e%2e/%2e%2e/private_data/board/log.key",
        "/assets//etc/passwd",
        "/index.html/../../private_data/board/log.key",
        "/%00/etc/passwd",
        "/api/v1/receipts/../../../private_data/board/log.key",
    };
    snap before;
    resp r;
    (void)state;
    snap_take(&before);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        request("GET", paths[i], NULL, 0, &r);
        expect_json_error(&r, 404, paths[i]);
        if (strstr(r.body, "root:") || strstr(r.body, "PRIVATE+KEY"))
            fail_msg("GET %s served a file it must not: %.200s", paths[i], r.body);
        resp_free(&r);
    }
    others_served("climbing paths");
    snap_same(&before, "climbing paths");
}

static void test_ballots(void **state)
{
    snap before;
    resp r;
    (void)state;
    /* another election's ballot: 422 (its election_id), nothing stored */
    snap_take(&before);
    request("POST", "/api/v1/ballots", foreign, foreign_len, &r);
    expect_json_error(&r, 422, "a ballot of another election");
    assert_non_null(strstr(r.body, "election"));
    resp_free(&r);
    snap_same(&before, "a ballot of another election");

    /* cast, then replayed: 409, nothing more stored */
    request("POST", "/api/v1/ballots", ballots[0], blens[0], &r);
    expect_status(&r, 201, "a ballot");
    resp_free(&r);
    snap_take(&before);
    for (int i = 0; i < 2; i++) {
        request("POST", "/api/v1/ballots", ballots[0], blens[0], &r);
        expect_json_error(&r, 409, "a replayed ballot");
        resp_free(&r);
    }
    request("POST", "/api/v1/ballots?action=challenge", ballots[0], blens[0], &r);
    assert_true(r.status == 409 || r.status == 422);
    resp_free(&r);
    snap_same(&before, "a replayed ballot");
}

/* Slow clients: a slowloris from 127.0.0.2 opens 40 connections and sends
 * a byte a second on each; the server keeps at most 16 of them (per-IP
 * limit) and a voter on 127.0.0.1 casts in the meantime, within 4 s. An idle
 * connection is closed after the timeout (2 s here). */
static int closed_by_server(int fd)
{
    char c;
    struct pollfd pf = {fd, POLLIN, 0};
    return poll(&pf, 1, 0) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static void test_slow_clients(void **state)
{
    enum { NSLOW = 40 };
    static const char head[] = "POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
    int fds[NSLOW], refused = 0, voter, idle, sent = 1;
    char vhead[256];
    snap before;
    resp r;
    long long t0;
    (void)state;
    for (int i = 0; i < NSLOW; i++) {
        fds[i] = dial("127.0.0.2");
        send_some(fds[i], head, 1);
    }
    /* the voter, while the slow ones dribble: answered within 4 s */
    t0 = now_ms();
    voter = dial(NULL);
    snprintf(vhead, sizeof vhead,
             "POST /api/v1/ballots HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", blens[1]);
    send_some(voter, vhead, strlen(vhead));
    send_some(voter, ballots[1], blens[1]);
    for (;;) {
        struct pollfd pf = {voter, POLLIN, 0};
        if (poll(&pf, 1, 100) == 1)
            break;
        if (now_ms() - t0 > 4000)
            fail_msg("a voter beside a slowloris got no answer in 4 s");
        if ((now_ms() - t0) / 1000 >= sent) { /* a byte a second on each slow connection */
            for (int i = 0; i < NSLOW; i++)
                send_some(fds[i], head + sent, 1);
            sent++;
        }
    }
    read_answer(voter, &r, 5000);
    close(voter);
    expect_status(&r, 201, "a voter beside a slowloris");
    resp_free(&r);
    /* those over the limit were closed at once (before any timeout) */
    if (now_ms() - t0 < 1500)
        usleep(200000);
    for (int i = 0; i < NSLOW; i++)
        refused += closed_by_server(fds[i]);
    if (refused < NSLOW - 16)
        fail_msg("only %d of %d connections from one address were closed at once (limit 16)", refused, NSLOW);
    for (int i = 0; i < NSLOW; i++)
        close(fds[i]);
    /* an idle connection is closed after the timeout (2 s) */
    snap_take(&before);
    idle = dial(NULL);
    t0 = now_ms();
    {
        char c;
        struct pollfd pf = {idle, POLLIN, 0};
        assert_int_equal(poll(&pf, 1, 6000), 1);
        assert_true(recv(idle, &c, 1, 0) <= 0);
        if (now_ms() - t0 < 1000)
            fail_msg("an idle connection was closed after %lld ms, before the timeout", now_ms() - t0);
        close(idle);
    }
    others_served("a slowloris");
    snap_same(&before, "a slowloris");
}

static void test_admin(void **state)
{
    char path[256], *tok, auth[128], head[512];
    struct stat st;
    snap before;
    resp r;
    (void)state;
    snprintf(path, sizeof path, "%s/private_data/server.token", edir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    tok = slurp(path, NULL);
    assert_non_null(tok);
    assert_int_equal(strncmp(tok, "token ", 6), 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %.64s\r\n", tok + 6);
    free(tok);

    snap_take(&before);
    /* no token, a wrong one, a short one: 403 */
    request("POST", "/api/v1/admin/close", NULL, 0, &r);
    expect_json_error(&r, 403, "close without a token");
    resp_free(&r);
    raw("POST /api/v1/admin/close HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: "
        "Bearer 0000000000000000000000000000000000000000000000000000000000000000\r\n\r\n",
        NULL, 0, &r);
    expect_json_error(&r, 403, "close with a wrong token");
    resp_free(&r);
    raw("POST /api/v1/admin/close HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: "
        "Bearer 00\r\n\r\n",
        NULL, 0, &r);
    expect_json_error(&r, 403, "close with a short token");
    resp_free(&r);
    /* the right token from a peer that is not 127.0.0.1: 403 */
    snprintf(head, sizeof head,
             "POST /api/v1/admin/close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: 0\r\n\r\n", auth);
    raw_from("127.0.0.2", head, NULL, 0, &r);
    expect_json_error(&r, 403, "close from 127.0.0.2");
    resp_free(&r);
    /* the right token with GET: 405 */
    snprintf(head, sizeof head, "GET /api/v1/admin/close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", auth);
    raw(head, NULL, 0, &r);
    expect_json_error(&r, 405, "GET close");
    resp_free(&r);
    request("POST", "/api/v1/ballots", ballots[2], blens[2], &r);
    expect_status(&r, 201, "a ballot before closing");
    resp_free(&r);
    free(before.files);

    /* closing: 200 with the board size; then ballots are 403, nothing stored */
    snap_take(&before);
    snprintf(head, sizeof head,
             "POST /api/v1/admin/close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: 0\r\n\r\n", auth);
    raw(head, NULL, 0, &r);
    expect_status(&r, 200, "close");
    {
        json_t *j = json_loadb(r.body, r.len, 0, NULL);
        assert_true(json_is_true(json_object_get(j, "closed")));
        assert_int_equal((uint64_t)json_integer_value(json_object_get(j, "board_size")), before.log_size);
        json_decref(j);
    }
    resp_free(&r);
    request("POST", "/api/v1/ballots", ballots[3], blens[3], &r);
    expect_json_error(&r, 403, "a ballot after closing");
    assert_non_null(strstr(r.body, "closed"));
    resp_free(&r);
    others_served("closing");
    snap_same(&before, "a ballot after closing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_guard), cmocka_unit_test(test_bodies),   cmocka_unit_test(test_routes), cmocka_unit_test(test_climbing),
        cmocka_unit_test(test_ballots),  cmocka_unit_test(test_slow_clients), cmocka_unit_test(test_admin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
