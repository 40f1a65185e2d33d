/* Closing voting (include/detente/server.h, src/server/admin.h; docs/api.md,
 * "Closing").
 *
 * Who may take ballots is settled by one lock, DIR/private_data/serve.lock:
 * a server holds it shared while it takes ballots and lets go of it once
 * voting is closed; `detente close` (dt_voting_close) takes it exclusively
 * to write DIR/closed.json, so that the marker is written only when no
 * server on this machine takes ballots, and a server that starts later
 * finds it. A running server is told to close through
 * POST /api/v1/admin/close, from a loopback peer, with the random token that
 * the server wrote to DIR/private_data/server.token (0600); it stops taking
 * ballots, waits for the ballots already being written (their log entry),
 * and lets go of the lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <detente/board.h>
#include <detente/log.h>
#include <detente/server.h>

#include "server/admin.h"
#include "util/codec.h"

#define TOKEN_BYTES 32
#define LOCK_WAIT_MS 120000

struct dt_admin {
    char *dir;
    char *location; /* the board's log given to the server (--board), or NULL: the folder's own */
    char *token_path;
    int lock_fd;
    bool locked;
    bool wrote_token;
    atomic_int closed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned inflight;
    char token[2 * TOKEN_BYTES + 1];
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* Opens (creating) dir/private_data/serve.lock. */
static int lock_open(const char *dir)
{
    char *pd = dt_strdup_printf("%s/private_data", dir), *p = dt_strdup_printf("%s/private_data/serve.lock", dir);
    int fd = -1;
    if (pd && p && dt_mkdirs(pd) == DT_OK)
        fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    free(pd);
    free(p);
    return fd;
}

/* flock(how | LOCK_NB) until it succeeds or wait_ms have passed: 0 or -1. */
static int lock_wait(int fd, int how, long long wait_ms)
{
    long long end = now_ms() + wait_ms;
    for (;;) {
        if (flock(fd, how | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (now_ms() >= end)
            return -1;
        sleep_ms(50);
    }
}

int dt_voting_closed(const char *dir)
{
    char *p = dt_strdup_printf("%s/%s", dir, DT_CLOSED_FILE);
    struct stat st;
    int r = p && lstat(p, &st) == 0;
    free(p);
    return r;
}

dt_err dt_admin_open(dt_admin **out, char **msg, const char *dir, const char *location)
{
    dt_admin *a = calloc(1, sizeof *a);
    unsigned char t[TOKEN_BYTES];
    dt_err err = DT_ERR_NOMEM;
    *out = NULL;
    if (!a)
        return DT_ERR_NOMEM;
    a->lock_fd = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (!(a->dir = strdup(dir)) || !(a->token_path = dt_strdup_printf("%s/%s", dir, DT_SERVER_TOKEN_FILE)) ||
        (location && !(a->location = strdup(location))))
        goto fail;
    if ((err = dt_random_bytes(t, sizeof t)) != DT_OK)
        goto fail;
    dt_hex_encode_lower(a->token, t, sizeof t);
    dt_memzero(t, sizeof t);
    err = DT_ERR_IO;
    if ((a->lock_fd = lock_open(dir)) < 0) {
        *msg = dt_strdup_printf("%s/private_data/serve.lock: cannot open the serving lock (%s)", dir, strerror(errno));
        goto fail;
    }
    /* `detente close` holds it exclusively while it writes closed.json */
    if (lock_wait(a->lock_fd, LOCK_SH, LOCK_WAIT_MS) != 0) {
        *msg = dt_strdup_printf("%s: detente close holds the serving lock (private_data/serve.lock): voting is being "
                                "closed",
                                dir);
        goto fail;
    }
    a->locked = true;
    if (dt_voting_closed(dir)) {
        atomic_store(&a->closed, 1);
        flock(a->lock_fd, LOCK_UN);
        a->locked = false;
    }
    *out = a;
    return DT_OK;
fail:
    dt_admin_destroy(a);
    return err;
}

dt_err dt_admin_write_token(dt_admin *a, char **msg, const struct sockaddr *addr, unsigned port)
{
    char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1", *text;
    dt_err err;
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
            snprintf(host, sizeof host, "[::1]");
        } else {
            char h[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof h);
            snprintf(host, sizeof host, "[%s]", h);
        }
    } else if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
        /* any address: reach it on loopback; a specific one: there (and the
         * endpoint refuses: the peer is not loopback) */
        if (s4->sin_addr.s_addr != htonl(INADDR_ANY) && (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
            inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
    }
    if (!(text = dt_strdup_printf("token %s\nurl http://%s:%u\npid %ld\n", a->token, host, port, (long)getpid())))
        return DT_ERR_NOMEM;
    err = dt_write_file_atomic(a->token_path, text, strlen(text), 0600);
    dt_memzero(text, strlen(text));
    free(text);
    if (err != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot write the admin token (%s)", a->token_path, dt_strerror(err));
        return err;
    }
    a->wrote_token = true;
    return DT_OK;
}

void dt_admin_destroy(dt_admin *a)
{
    if (!a)
        return;
    if (a->wrote_token) {
        /* only if it is still ours: another server may have written its own */
        unsigned char *t = NULL;
        size_t len = 0;
        if (dt_read_file(&t, &len, a->token_path, 4096) == DT_OK && len > 6 + 2 * TOKEN_BYTES &&
            memcmp(t, "token ", 6) == 0 && dt_ct_eq(t + 6, a->token, 2 * TOKEN_BYTES))
            unlink(a->token_path);
        if (t)
            dt_memzero(t, len);
        free(t);
    }
    if (a->lock_fd >= 0)
        close(a->lock_fd); /* lets go of the lock */
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    dt_memzero(a->token, sizeof a->token);
    free(a->dir);
    free(a->location);
    free(a->token_path);
    free(a);
}

int dt_admin_closed(dt_admin *a)
{
    return atomic_load(&a->closed);
}

int dt_admin_ballot_begin(dt_admin *a)
{
    int ok;
    pthread_mutex_lock(&a->mu);
    ok = !atomic_load(&a->closed);
    if (ok)
        a->inflight++;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void dt_admin_ballot_end(dt_admin *a)
{
    pthread_mutex_lock(&a->mu);
    if (--a->inflight == 0)
        pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Stops taking ballots, waits for those being written, lets go of the lock. */
static void close_voting(dt_admin *a)
{
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->closed, 1);
    while (a->inflight > 0)
        pthread_cond_wait(&a->cv, &a->mu);
    if (a->locked) {
        flock(a->lock_fd, LOCK_UN);
        a->locked = false;
    }
    pthread_mutex_unlock(&a->mu);
}

static int loopback_peer(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        static const unsigned char mapped_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        return IN6_IS_ADDR_LOOPBACK(a6) || memcmp(a6->s6_addr, mapped_lo, 16) == 0;
    }
    return 0;
}

static char *json_answer(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL, *nl = s ? dt_strdup_printf("%s\n", s) : NULL;
    json_decref(j);
    free(s);
    return nl;
}

static int error_body(char **body, int status, const char *why)
{
    *body = json_answer(json_pack("{s:s}", "error", why));
    return status;
}

int dt_admin_answer(dt_admin *a, struct MHD_Connection *c, const char *method, const char *url, char **body,
                    const char **allow)
{
    const char *auth;
    char *logp = NULL;
    dt_log *log = NULL;
    uint64_t size = 0;
    *body = NULL;
    *allow = NULL;
    /* a peer elsewhere learns nothing, not even which routes exist */
    if (!loopback_peer(c))
        return error_body(body, 403, "the admin endpoint answers only on loopback (127.0.0.1, ::1)");
    if (strcmp(url, DT_ADMIN_PREFIX "close") != 0)
        return error_body(body, 404, "not found");
    if (strcmp(method, "POST") != 0) {
        *allow = "POST";
        return error_body(body, 405, "method not allowed: closing is POSTed");
    }
    auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != 2 * TOKEN_BYTES ||
        !dt_ct_eq(auth + 7, a->token, 2 * TOKEN_BYTES))
        return error_body(body, 403, "a missing or wrong admin token (Authorization: Bearer, from "
                                     "private_data/server.token)");
    close_voting(a);
    if (dt_board_log_location(&logp, a->dir, a->location) != DT_OK || dt_log_open(&log, logp, 0) != DT_OK ||
        dt_log_size(log, &size) != DT_OK) {
        dt_log_close(log);
        free(logp);
        return error_body(body, 503, "voting is closed, but the log store cannot be read for its size");
    }
    dt_log_close(log);
    free(logp);
    *body = json_answer(json_pack("{s:b,s:I}", "closed", 1, "board_size", (json_int_t)size));
    return 200;
}

/* ---- the closing side: dt_voting_close ---- */

typedef struct token_file {
    char token[2 * TOKEN_BYTES + 1];
    char host[INET6_ADDRSTRLEN + 1];
    char port[6];
} token_file;

/* Reads and checks DIR/private_data/server.token: 0, 1 if absent, -1 if malformed. */
static int token_read(const char *dir, token_file *t)
{
    char *p = dt_strdup_printf("%s/%s", dir, DT_SERVER_TOKEN_FILE), *s, *u, *h, *e;
    unsigned char *text = NULL;
    size_t len = 0;
    int rc = -1;
    memset(t, 0, sizeof *t);
    if (!p)
        return -1;
    if (dt_read_file(&text, &len, p, 4096) != DT_OK) {
        rc = access(p, F_OK) == 0 ? -1 : 1;
        free(p);
        return rc;
    }
    free(p);
    s = (char *)text;
    if (strncmp(s, "token ", 6) != 0 || strspn(s + 6, "0123456789abcdef") != 2 * TOKEN_BYTES ||
        s[6 + 2 * TOKEN_BYTES] != '\n')
        goto out;
    memcpy(t->token, s + 6, 2 * TOKEN_BYTES);
    if (!(u = strstr(s, "\nurl http://")))
        goto out;
    h = u + 12;
    if (*h == '[') {
        if (!(e = strchr(h, ']')) || (size_t)(e - h - 1) >= sizeof t->host || e[1] != ':')
            goto out;
        memcpy(t->host, h + 1, (size_t)(e - h - 1));
        e++;
    } else {
        if (!(e = strchr(h, ':')) || (size_t)(e - h) >= sizeof t->host)
            goto out;
        memcpy(t->host, h, (size_t)(e - h));
    }
    e++;
    len = strspn(e, "0123456789");
    if (len == 0 || len > 5 || e[len] != '\n')
        goto out;
    memcpy(t->port, e, len);
    rc = 0;
out:
    dt_memzero(text, len);
    free(text);
    return rc;
}

/* Sends the whole buffer, or -1 past the deadline. */
static int send_all(int fd, const char *p, size_t n, long long end)
{
    while (n) {
        struct pollfd pf = {fd, POLLOUT, 0};
        long long left = end - now_ms();
        ssize_t w;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* POST /api/v1/admin/close to the server of t: the status (0 if it cannot
 * be reached), the board size of a 200, and why otherwise. */
static int ask_close(const token_file *t, unsigned timeout_ms, uint64_t *size, char *why, size_t whycap)
{
    struct addrinfo hints, *ai = NULL;
    char req[512], resp[4096];
    size_t got = 0;
    long long end = now_ms() + timeout_ms;
    int fd = -1, status = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(why, whycap, "cannot reach the server at %s port %s", t->host, t->port);
    if (getaddrinfo(t->host, t->port, &hints, &ai) != 0 || !ai)
        goto out;
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        goto out;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
        goto out;
    snprintf(req, sizeof req,
             "POST /api/v1/admin/close HTTP/1.1\r\nHost: %s%s%s:%s\r\nAuthorization: Bearer %s\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n",
             strchr(t->host, ':') ? "[" : "", t->host, strchr(t->host, ':') ? "]" : "", t->port, t->token);
    if (send_all(fd, req, strlen(req), end) != 0) {
        dt_memzero(req, sizeof req);
        goto out;
    }
    dt_memzero(req, sizeof req);
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        long long left = end - now_ms();
        ssize_t n;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
            snprintf(why, whycap, "the server at %s port %s did not answer in %u s", t->host, t->port,
                     timeout_ms / 1000);
            goto out;
        }
        n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof resp - 1)
            break;
    }
    resp[got] = '\0';
    if (strncmp(resp, "HTTP/1.", 7) != 0 || got < 12) {
        snprintf(why, whycap, "the server at %s port %s gave no HTTP answer", t->host, t->port);
        goto out;
    }
    status = atoi(resp + 9);
    {
        char *b = strstr(resp, "\r\n\r\n");
        json_t *j = b ? json_loads(b + 4, 0, NULL) : NULL;
        if (status == 200 && json_is_integer(json_object_get(j, "board_size")))
            *size = (uint64_t)json_integer_value(json_object_get(j, "board_size"));
        else if (json_is_string(json_object_get(j, "error")))
            snprintf(why, whycap, "the server at %s port %s answered %d: %s", t->host, t->port, status,
                     json_string_value(json_object_get(j, "error")));
        else
            snprintf(why, whycap, "the server at %s port %s answered %d", t->host, t->port, status);
        if (status == 200 && !json_is_integer(json_object_get(j, "board_size")))
            status = 0;
        json_decref(j);
    }
out:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    return status;
}

/* Writes DIR/closed.json: when, and the board's size and root (if it has a board). */
static dt_err write_marker(char **msg, const char *dir, uint64_t *board_size)
{
    char when[32], *text = NULL, *path = NULL, *logp = NULL, *root64 = NULL;
    unsigned char root[DT_MERKLE_HASH_BYTES];
    time_t now = time(NULL);
    struct tm tm;
    dt_log *log = NULL;
    json_t *j;
    dt_err err = DT_ERR_NOMEM;
    *board_size = 0;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!(j = json_pack("{s:i,s:s}", "version", 1, "closed_at", when)))
        goto out;
    if (dt_board_exists(dir)) {
        if ((err = dt_board_log_location(&logp, dir, NULL)) != DT_OK) {
            *msg = dt_strdup_printf("%s: cannot tell where the board's log is (%s)", dir, dt_strerror(err));
            goto out;
        }
        if ((err = dt_log_open(&log, logp, 0)) != DT_OK || (err = dt_log_size(log, board_size)) != DT_OK ||
            (err = dt_log_root(log, *board_size, root)) != DT_OK) {
            *msg = dt_strdup_printf("%s: cannot read the board's log (%s)", dir, dt_strerror(err));
            goto out;
        }
        err = DT_ERR_NOMEM;
        if (!(root64 = dt_b64_encode(root, sizeof root)) ||
            json_object_set_new(j, "board_size", json_integer((json_int_t)*board_size)) != 0 ||
            json_object_set_new(j, "board_root", json_string(root64)) != 0)
            goto out;
    }
    if (!(text = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER)) ||
        !(path = dt_strdup_printf("%s/%s", dir, DT_CLOSED_FILE)))
        goto out;
    {
        char *nl = dt_strdup_printf("%s\n", text);
        free(text);
        if (!(text = nl))
            goto out;
    }
    if ((err = dt_write_file_atomic(path, text, strlen(text), 0644)) != DT_OK || (err = dt_sync_parent(path)) != DT_OK)
        *msg = dt_strdup_printf("%s: cannot write the closing marker (%s)", path, dt_strerror(err));
out:
    if (err != DT_OK && !*msg)
        *msg = dt_strdup_printf("%s: cannot close voting (%s)", dir, dt_strerror(err));
    json_decref(j);
    dt_log_close(log);
    free(text);
    free(path);
    free(logp);
    free(root64);
    return err;
}

/* Publishes the board in full before the marker: the ballots' files written
 * from the log (the server writes none while voting), and what is new in
 * the folder put on the board. */
static dt_err catch_up_board(char **msg, const char *dir, char **warning)
{
    dt_board *b = NULL;
    dt_err err;
    *warning = NULL;
    if (!dt_board_exists(dir))
        return DT_OK;
    if ((err = dt_board_open(&b, msg, dir)) == DT_OK)
        err = dt_board_publish(b, msg, NULL, NULL);
    dt_board_close(b);
    if (err == DT_OK) {
        *warning = *msg;
        *msg = NULL;
    }
    return err;
}

dt_err dt_voting_close(char **msg, const char *dir, unsigned wait_seconds, uint64_t *board_size, unsigned *told)
{
    char last[2 * TOKEN_BYTES + 1] = "", why[512] = "", *warning = NULL;
    int fd;
    dt_err err;
    if (!msg || !dir || !board_size || !told)
        dt_misuse("dt_voting_close: NULL argument");
    *msg = NULL;
    *board_size = 0;
    *told = 0;
    if (dt_voting_closed(dir)) {
        *msg = dt_strdup_printf("%s: voting is already closed (%s)", dir, DT_CLOSED_FILE);
        return DT_ERR_INVALID;
    }
    if ((fd = lock_open(dir)) < 0) {
        *msg = dt_strdup_printf("%s/private_data/serve.lock: cannot open the serving lock (%s)", dir, strerror(errno));
        return DT_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        /* a server takes ballots: tell it (and any that writes a new token
         * meanwhile), then wait until every server has let go */
        long long end = now_ms() + (long long)(wait_seconds ? wait_seconds : 60) * 1000;
        for (;;) {
            token_file t;
            int r = token_read(dir, &t);
            if (r == 0 && strcmp(t.token, last) != 0) {
                uint64_t size = 0;
                if (ask_close(&t, 30000, &size, why, sizeof why) == 200) {
                    memcpy(last, t.token, sizeof last);
                    (*told)++;
                }
            } else if (r != 0 && !*told) {
                snprintf(why, sizeof why, "%s %s", DT_SERVER_TOKEN_FILE, r > 0 ? "does not exist" : "is malformed");
            }
            dt_memzero(&t, sizeof t);
            if (lock_wait(fd, LOCK_EX, 200) == 0)
                break;
            if (now_ms() >= end) {
                *msg = dt_strdup_printf("%s: a server still takes ballots on this election after %u s (%s): stop it "
                                        "(SIGTERM finishes the ballots in flight) and run detente close again",
                                        dir, wait_seconds ? wait_seconds : 60, why[0] ? why : "it was told to close");
                close(fd);
                return DT_ERR_IO;
            }
        }
    }
    /* No server takes ballots now, and none can start to until the marker
     * is written: the board first, then the marker with its size. */
    if (dt_voting_closed(dir)) {
        *msg = dt_strdup_printf("%s: voting is already closed (%s)", dir, DT_CLOSED_FILE);
        err = DT_ERR_INVALID;
    } else if ((err = catch_up_board(msg, dir, &warning)) == DT_OK) {
        err = write_marker(msg, dir, board_size);
    }
    close(fd);
    if (err == DT_OK)
        *msg = warning;
    else
        free(warning);
    return err;
}
