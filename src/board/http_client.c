/* dt_http_post (include/detente/witness.h): a small HTTP/1.1 client for
 * plain http:// URLs, enough to reach witnesses.
 *
 * URL: http://HOST[:PORT][/PATH], HOST a name, an IPv4 address or [IPv6];
 * no user information, query strings are passed on as part of the path, no
 * fragment. The request is "POST PATH HTTP/1.1" with Host, Content-Type
 * text/plain, Content-Length and Connection: close. The answer is read
 * until the server closes the connection or the body is complete
 * (Content-Length or the chunked coding, which every HTTP/1.1 client must
 * accept). 1xx interim answers are skipped; 204 and 304 have no body.
 *
 * Limits: the status line and header fields 16 KiB; the body 1 MiB
 * (DT_ERR_LIMIT beyond); the whole exchange timeout_ms, measured on the
 * monotonic clock and enforced with poll() at every connect, send and
 * receive. Name resolution (getaddrinfo) is not covered by the timeout:
 * give numeric addresses where that matters. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <detente/witness.h>

#include "util/codec.h"

#define URL_MAX 2048
#define HEAD_MAX (16u * 1024)
#define BODY_MAX ((size_t)1 << 20)
/* Chunked framing around a body of at most BODY_MAX bytes, generously. */
#define RAW_MAX (HEAD_MAX + BODY_MAX + 64 * 1024)

typedef struct url {
    char host[256]; /* without brackets */
    char port[6];
    const char *path; /* into the URL: "", "/..." or "?..." */
    int v6;
} url;

static dt_err url_parse(url *u, const char *s)
{
    const char *h, *end, *colon;
    size_t hl;
    memset(u, 0, sizeof *u);
    if (strlen(s) > URL_MAX || strncasecmp(s, "http://", 7) != 0)
        return DT_ERR_ENCODING;
    h = s + 7;
    end = h + strcspn(h, "/?");
    if (strchr(h, '#') || memchr(h, '@', (size_t)(end - h)))
        return DT_ERR_ENCODING;
    u->path = end;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return DT_ERR_ENCODING;
        hl = (size_t)(rb - h - 1);
        memcpy(u->host, h + 1, hl < sizeof u->host ? hl : 0);
        colon = rb + 1 < end ? rb + 1 : NULL;
        if (colon && *colon != ':')
            return DT_ERR_ENCODING;
        u->v6 = 1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hl = (size_t)((colon ? colon : end) - h);
        memcpy(u->host, h, hl < sizeof u->host ? hl : 0);
    }
    if (hl == 0 || hl >= sizeof u->host)
        return DT_ERR_ENCODING;
    if (colon) {
        size_t pl = (size_t)(end - colon - 1);
        unsigned long port = 0;
        if (pl == 0 || pl > 5)
            return DT_ERR_ENCODING;
        for (size_t i = 0; i < pl; i++) {
            if (colon[1 + i] < '0' || colon[1 + i] > '9')
                return DT_ERR_ENCODING;
            port = port * 10 + (unsigned long)(colon[1 + i] - '0');
        }
        if (port == 0 || port > 65535)
            return DT_ERR_ENCODING;
        snprintf(u->port, sizeof u->port, "%lu", port);
    } else {
        memcpy(u->port, "80", 3);
    }
    for (const char *c = u->host; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return DT_ERR_ENCODING;
    for (const char *c = u->path; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return DT_ERR_ENCODING;
    return DT_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int64_t left = deadline - now_ms();
        int r;
        if (left <= 0)
            return 0;
        r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r > 0)
            return 1;
    }
}

/* A connected non-blocking socket to one of the addresses, or -1. */
static int dial(const url *u, int64_t deadline)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = u->v6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (u->v6 ? AI_NUMERICHOST : 0);
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static dt_err send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) != 1)
                return DT_ERR_IO;
            continue;
        }
        if (w <= 0)
            return DT_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return DT_OK;
}

/* ---- Parsing the answer ------------------------------------------------
 * Each returns 1 when complete, 0 when more bytes are needed, or an error
 * (negated dt_err) for a malformed or oversized answer. */

/* The next line of buf[*pos .. len) ("\r\n" or "\n" ended): its length
 * without the ending, or -1 if no full line is there yet. */
static long next_line(const char *buf, size_t len, size_t *pos, const char **line)
{
    const char *nl = memchr(buf + *pos, '\n', len - *pos);
    size_t n;
    if (!nl)
        return -1;
    *line = buf + *pos;
    n = (size_t)(nl - *line);
    *pos += n + 1;
    if (n && (*line)[n - 1] == '\r')
        n--;
    return (long)n;
}

static int parse_u64(const char *s, size_t n, int base, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0'
                : base == 16 && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                : base == 16 && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10
                                                             : -1;
        if (d < 0 || v > (max - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

typedef struct answer {
    int status;
    size_t body_at; /* where the body starts in the raw bytes */
    int chunked;
    int has_length;
    uint64_t length;
} answer;

/* The status line and header fields (after any 1xx interim answers). */
static int parse_head(answer *a, const char *buf, size_t len)
{
    size_t pos = 0;
    for (;;) {
        const char *line;
        long n = next_line(buf, len, &pos, &line);
        uint64_t code;
        memset(a, 0, sizeof *a);
        if (n < 0)
            return len > HEAD_MAX ? -DT_ERR_LIMIT : 0;
        if (n < 12 || (memcmp(line, "HTTP/1.1 ", 9) != 0 && memcmp(line, "HTTP/1.0 ", 9) != 0) ||
            parse_u64(line + 9, 3, 10, 999, &code) != 0 || code < 100 || code > 599 || (n > 12 && line[12] != ' '))
            return -DT_ERR_ENCODING;
        a->status = (int)code;
        for (;;) {
            const char *colon, *v, *ve;
            n = next_line(buf, len, &pos, &line);
            if (n < 0)
                return len > HEAD_MAX ? -DT_ERR_LIMIT : 0;
            if (n == 0)
                break;
            if (!(colon = memchr(line, ':', (size_t)n)) || colon == line)
                return -DT_ERR_ENCODING;
            for (v = colon + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
                ;
            for (ve = line + n; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
                ;
            if (colon - line == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
                uint64_t l;
                if (parse_u64(v, (size_t)(ve - v), 10, UINT64_MAX, &l) != 0 || (a->has_length && l != a->length))
                    return -DT_ERR_ENCODING;
                a->has_length = 1;
                a->length = l;
            } else if (colon - line == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
                if (ve - v != 7 || strncasecmp(v, "chunked", 7) != 0)
                    return -DT_ERR_ENCODING;
                a->chunked = 1;
            }
        }
        if (pos > HEAD_MAX)
            return -DT_ERR_LIMIT;
        if (a->status >= 200)
            break;
    }
    a->body_at = pos;
    return 1;
}

/* Decodes a chunked body (raw bytes p[0..n)) into out (if not NULL). */
static int dechunk(const char *p, size_t n, char *out, size_t *outlen)
{
    size_t pos = 0, got = 0;
    for (;;) {
        const char *line;
        long l = next_line(p, n, &pos, &line);
        uint64_t size;
        size_t digits = 0;
        if (l < 0)
            return 0;
        while (digits < (size_t)l && line[digits] != ';')
            digits++;
        if (parse_u64(line, digits, 16, UINT64_MAX, &size) != 0)
            return -DT_ERR_ENCODING;
        if (size == 0)
            break;
        if (size > BODY_MAX - got)
            return -DT_ERR_LIMIT;
        if (n - pos < size + 2)
            return 0;
        if (memcmp(p + pos + size, "\r\n", 2) != 0)
            return -DT_ERR_ENCODING;
        if (out)
            memcpy(out + got, p + pos, size);
        got += size;
        pos += size + 2;
    }
    for (;;) { /* trailer fields, up to the empty line */
        const char *line;
        long l = next_line(p, n, &pos, &line);
        if (l < 0)
            return 0;
        if (l == 0)
            break;
    }
    *outlen = got;
    return 1;
}

/* Whether the raw answer is complete (eof: the server closed). */
static int complete(answer *a, const char *buf, size_t len, int eof, size_t *bodylen)
{
    int r = parse_head(a, buf, len);
    if (r <= 0)
        return r == 0 && eof ? -DT_ERR_ENCODING : r;
    if (a->status == 204 || a->status == 304) {
        *bodylen = 0;
        return 1;
    }
    if (a->chunked) {
        r = dechunk(buf + a->body_at, len - a->body_at, NULL, bodylen);
        return r == 0 && eof ? -DT_ERR_ENCODING : r;
    }
    if (a->has_length) {
        if (a->length > BODY_MAX)
            return -DT_ERR_LIMIT;
        if (len - a->body_at >= a->length) {
            *bodylen = (size_t)a->length;
            return 1;
        }
        return eof ? -DT_ERR_ENCODING : 0;
    }
    if (len - a->body_at > BODY_MAX)
        return -DT_ERR_LIMIT;
    *bodylen = len - a->body_at;
    return eof;
}

dt_err dt_http_post(const char *urlstr, const void *body, size_t len, int *status, char **resp, size_t *resplen,
                    int timeout_ms)
{
    url u;
    char *head = NULL, *raw = NULL, *out = NULL;
    size_t rawlen = 0, bodylen = 0;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int fd = -1, done = 0;
    answer a;
    dt_err err;

    if (!urlstr || (!body && len) || !status || !resp || !resplen)
        dt_misuse("dt_http_post: NULL argument");
    *status = 0;
    *resp = NULL;
    *resplen = 0;
    if ((err = url_parse(&u, urlstr)))
        return err;
    head = dt_strdup_printf("POST %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: detente\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            *u.path == '/' ? "" : "/", u.path, u.v6 ? "[" : "", u.host, u.v6 ? "]" : "", u.port, len);
    err = DT_ERR_NOMEM;
    if (!head || !(raw = malloc(RAW_MAX + 1)))
        goto out;
    err = DT_ERR_IO;
    if ((fd = dial(&u, deadline)) < 0 || send_all(fd, head, strlen(head), deadline) ||
        send_all(fd, body, len, deadline))
        goto out;
    while (!done) {
        ssize_t r;
        int c;
        if (rawlen == RAW_MAX) {
            err = DT_ERR_LIMIT;
            goto out;
        }
        if (wait_fd(fd, POLLIN, deadline) != 1) {
            err = DT_ERR_IO;
            goto out;
        }
        r = recv(fd, raw + rawlen, RAW_MAX - rawlen, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r < 0 || (r == 0 && rawlen == 0)) { /* closed without an answer */
            err = DT_ERR_IO;
            goto out;
        }
        rawlen += (size_t)r;
        c = complete(&a, raw, rawlen, r == 0, &bodylen);
        if (c < 0) {
            err = (dt_err)-c;
            goto out;
        }
        done = c;
    }
    err = DT_ERR_NOMEM;
    if (!(out = malloc(bodylen + 1)))
        goto out;
    if (a.chunked && a.status != 204 && a.status != 304)
        (void)dechunk(raw + a.body_at, rawlen - a.body_at, out, &bodylen);
    else
        memcpy(out, raw + a.body_at, bodylen);
    out[bodylen] = '\0';
    *status = a.status;
    *resp = out;
    *resplen = bodylen;
    out = NULL;
    err = DT_OK;
out:
    if (fd >= 0)
        close(fd);
    free(head);
    free(raw);
    free(out);
    return err;
}
