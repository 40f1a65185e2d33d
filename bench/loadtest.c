/* make loadtest's client (scripts/loadtest.sh starts the server): casts
 * pre-encrypted ballots at `detente serve` over N keep-alive connections
 * (one thread each, blocking sockets) for a fixed time or count, and prints
 * one JSON line:
 *   accepted (201) ballots per second over the whole run and over its steady
 *   part (the middle 80% of the run's time, by completion), latency
 *   percentiles of the accepted ballots (p50/p90/p99/max, ms), answers by
 *   status and transport errors, the client's own CPU use (so that it is
 *   seen not to be the bottleneck), and the server's peak RSS (VmHWM of
 *   --server-pid), the cores it kept busy and its CPU time per accepted
 *   ballot (from /proc/PID/stat, over the run).
 * With --log-bench DIR it then measures, in the same run, the board's raw
 * append rate: the same ballots, compact (as the server stores them), as entries into a new log store in DIR
 * (dt_log_append_multikeyed with the board's two keys an entry, as the
 * server's committer does), in batches of 1 and of N, a second each: a
 * second JSON line.
 *
 * usage: loadtest --url http://127.0.0.1:PORT --ballots DIR [--connections N]
 *                 [--duration SECONDS | --count N] [--rate PER_SECOND]
 *                 [--server-pid PID] [--log-bench DIR] [--label TEXT]
 *                 [--samples FILE]
 * Every connection is opened before the clock starts (a run measures the
 * ballots' way over keep-alive connections, not 128 TCP handshakes in its
 * first tenth of a second).
 * --warmup SECONDS: ballots are sent as in the run for this long first,
 * and only those sent (open loop: due) after it are measured, as are the
 * server's CPU time and the rate; the warm-up's own count and p50/p99 are
 * in the line, under "warmup" (a server just started, its memory and
 * caches cold, answers its first tenth of a second of ballots in 30-100 ms
 * at 1,500 a second: that is the start, not the steady state).
 * --rate: open loop, ballot i sent at i / rate seconds (by whichever
 * connection is free) and its latency counted from then, so that time spent
 * waiting for a free connection counts (no coordinated omission); without
 * it, each connection sends its next ballot as soon as it is answered.
 * --samples FILE: every answer as a line "DONE_MS LATENCY_MS STATUS" (ms
 * since the start, whose CLOCK_MONOTONIC time is the first line), to see
 * when in a run the slow ones came.
 * DIR holds the encrypted ballots, one JSON file each (detente encrypt's
 * output); each is sent once (a second time would be 409). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <detente/board.h>
#include <detente/log.h>

#include "util/codec.h"

#define MAX_CONNS 4096
#define NSTATUS 600

typedef struct ballot {
    char *text;
    size_t len;
} ballot;

typedef struct sample {
    double start_ms; /* when it was sent (open loop: due), since the start */
    double done_ms;  /* completion, since the start */
    double lat_ms;
    int status;     /* 0: transport error */
} sample;

typedef struct worker {
    pthread_t th;
    sample *s;
    size_t n, cap;
} worker;

static struct {
    char host[256], port[8], hostport[280];
    ballot *b;
    ballot *compact; /* the same, compact: the board entries the server makes */
    size_t nb;
    atomic_size_t next;
    size_t count;   /* stop after this many requests (0: the time) */
    double end_ms;  /* stop starting requests after this */
    double warm_ms; /* --warmup: requests started before this are not measured */
    atomic_size_t late; /* --rate: requests sent more than 20 ms after they were due */
    pthread_barrier_t ready, go; /* the connections are opened before the clock starts */
    double rate;    /* --rate: ballots a second, open loop (0: each connection sends as soon as answered) */
    struct timespec t0;
} g;

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "loadtest: %s\n", what);
    exit(2);
}

/* ---- the ballots ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_ballots(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    if (!d)
        die("cannot open the ballots' folder");
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        if (n == cap && !(names = realloc(names, (cap = cap ? 2 * cap : 1024) * sizeof *names)))
            die("out of memory");
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!n)
        die("no *.json ballot in the folder");
    qsort(names, n, sizeof *names, cmp_str);
    if (!(g.b = calloc(n, sizeof *g.b)))
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        char *p = dt_strdup_printf("%s/%s", dir, names[i]);
        unsigned char *t = NULL;
        if (!p || dt_read_file(&t, &g.b[i].len, p, 1u << 20) != DT_OK)
            die("cannot read a ballot");
        g.b[i].text = (char *)t;
        free(p);
        free(names[i]);
    }
    free(names);
    g.nb = n;
}

/* ---- HTTP/1.1 keep-alive ---- */

static int dial(void)
{
    struct addrinfo hints, *ai = NULL;
    int fd = -1, one = 1;
    struct timeval tv = {60, 0};
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(g.host, g.port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

static int send_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* The value of header name (with its colon) in head (up to end), or NULL. */
static const char *header(const char *head, const char *end, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, nl) == 0)
            return p + 2 + nl;
    return NULL;
}

/* One answer: the status, or 0 if the connection failed; *keep 0 if the
 * server closes it. */
static int read_answer(int fd, int *keep)
{
    char buf[16384];
    size_t len = 0, body = 0, want = 0;
    char *end = NULL;
    int status = 0;
    while (!end) {
        ssize_t n;
        if (len == sizeof buf - 1)
            return 0;
        n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    {
        const char *conn = header(buf, end, "connection:"), *cl = header(buf, end, "content-length:");
        *keep = !conn || strncasecmp(conn + strspn(conn, " "), "close", 5) != 0;
        if (!cl)
            return 0;
        want = strtoul(cl, NULL, 10);
    }
    body = len - (size_t)(end + 4 - buf);
    while (body < want) {
        ssize_t n = recv(fd, buf, sizeof buf < want - body ? sizeof buf : want - body, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        body += (size_t)n;
    }
    return status;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int fd = dial(); /* before the clock starts (main waits on g.ready) */
    pthread_barrier_wait(&g.ready);
    pthread_barrier_wait(&g.go);
    for (;;) {
        size_t i;
        double start;
        char head[512];
        struct iovec iov[2];
        int status = 0, keep = 0;
        if (g.count == 0 && ms_since(&g.t0) >= g.end_ms)
            break;
        i = atomic_fetch_add(&g.next, 1);
        if (i >= g.nb || (g.count && i >= g.count))
            break;
        start = ms_since(&g.t0);
        if (g.rate > 0) {
            /* open loop: ballot i is due at i / rate; its latency counts
             * from then, so that a server that falls behind is charged for
             * the wait in this client too */
            double due = 1e3 * (double)i / g.rate;
            if (g.count == 0 && due >= g.end_ms)
                break;
            if (due > start) {
                struct timespec ts = {(time_t)((due - start) / 1e3), (long)(fmod(due - start, 1e3) * 1e6)};
                while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                    ;
            }
            start = due;
            if (due >= g.warm_ms) { /* measured ones only */
                double late = ms_since(&g.t0) - due;
                if (late > 20)
                    atomic_fetch_add(&g.late, 1);
            }
        }
        if (fd < 0)
            fd = dial();
        if (fd >= 0) {
            int hl = snprintf(head, sizeof head,
                              "POST /api/v1/ballots HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              g.hostport, g.b[i].len);
            iov[0] = (struct iovec){head, (size_t)hl};
            iov[1] = (struct iovec){g.b[i].text, g.b[i].len};
            if (send_all(fd, iov, 2) == 0)
                status = read_answer(fd, &keep);
            if (!status || !keep) {
                close(fd);
                fd = -1;
            }
        }
        if (w->n == w->cap && !(w->s = realloc(w->s, (w->cap = w->cap ? 2 * w->cap : 4096) * sizeof *w->s)))
            die("out of memory");
        w->s[w->n].start_ms = start;
        w->s[w->n].done_ms = ms_since(&g.t0);
        w->s[w->n].lat_ms = w->s[w->n].done_ms - start;
        w->s[w->n].status = status;
        w->n++;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    size_t k;
    if (!n)
        return 0;
    k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

static long vmhwm_kb(long pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* CPU seconds (user + system) of process pid so far, from /proc/PID/stat;
 * -1 if unreadable */
static double proc_cpu_s(long pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after the command's closing parenthesis: state, then fields 4..; utime and stime are 14 and 15 */
    if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* The board's raw append rate: the ballots as board entries, batches of
 * batch, for about a second, into a new log in dir. Entries per second. */
/* text without the whitespace outside strings (in place): the compact JSON
 * the server stores (dt_ballot_serialize_compact) is the same bytes */
static size_t json_compact(char *t, size_t n)
{
    size_t o = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (in_str) {
            t[o++] = ch;
            if (ch == '\\' && i + 1 < n)
                t[o++] = t[++i];
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
            t[o++] = ch;
        } else if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') {
            t[o++] = ch;
        }
    }
    return o;
}

static double log_rate(const char *dir, size_t batch, size_t *entry_bytes)
{
    char *path = dt_strdup_printf("%s/loadtest-log-%ld-%zu.db", dir, (long)getpid(), batch);
    dt_log *log = NULL;
    const unsigned char **e = calloc(batch, sizeof *e), **k = calloc(2 * batch, sizeof *k);
    size_t *el = calloc(batch, sizeof *el), *kl = calloc(2 * batch, sizeof *kl), done = 0, bytes = 0;
    unsigned char (*keys)[1 + DT_BOARD_CODE_BYTES] = calloc(batch, sizeof *keys);
    unsigned char (*pkeys)[DT_BOARD_KEY_MAX] = calloc(batch, sizeof *pkeys);
    unsigned char **entries = calloc(batch, sizeof *entries);
    struct timespec t0;
    double secs;
    if (!path || !e || !k || !el || !kl || !keys || !pkeys || !entries || dt_log_open(&log, path, 1) != DT_OK)
        die("cannot create the log for --log-bench");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (ms_since(&t0) < 1000.0) {
        for (size_t j = 0; j < batch; j++) {
            /* a unique path and code per entry, the ballot's bytes as its file */
            size_t i = (done + j) % g.nb, elen = 0;
            unsigned char code[DT_BOARD_CODE_BYTES], hash[32];
            char p[96];
            int is_blob = 0;
            memset(code, 0, sizeof code);
            memcpy(code, &(uint64_t){done + j}, 8);
            snprintf(p, sizeof p, "encrypted_ballots/loadtest/eballot-%zu.json", done + j);
            free(entries[j]);
            entries[j] = NULL;
            if (dt_board_entry_format(&entries[j], &elen, p, code, (const unsigned char *)g.compact[i].text,
                                      g.compact[i].len, hash, &is_blob) != DT_OK)
                die("cannot format an entry");
            e[j] = entries[j];
            el[j] = elen;
            bytes += elen;
            dt_board_code_key(keys[j], code);
            k[2 * j] = pkeys[j];
            kl[2 * j] = dt_board_path_key(pkeys[j], p, strlen(p));
            k[2 * j + 1] = keys[j];
            kl[2 * j + 1] = sizeof keys[j];
        }
        if (dt_log_append_multikeyed(log, e, el, k, kl, 2, batch, NULL, NULL) != DT_OK)
            die("a log append failed");
        done += batch;
    }
    secs = ms_since(&t0) / 1e3;
    *entry_bytes = done ? bytes / done : 0;
    dt_log_close(log);
    {
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int s = 0; s < 3; s++) {
            char *q = dt_strdup_printf("%s%s", path, suffix[s]);
            if (q)
                unlink(q);
            free(q);
        }
    }
    for (size_t j = 0; j < batch; j++)
        free(entries[j]);
    free(entries);
    free(path);
    free(e);
    free(k);
    free(el);
    free(kl);
    free(keys);
    free(pkeys);
    return (double)done / secs;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *bdir = NULL, *logdir = NULL, *label = "", *samples = NULL;
    unsigned nconn = 64;
    double duration = 10;
    long server_pid = 0;
    worker *w;
    size_t total = 0, accepted = 0, errors = 0, steady = 0, status_n[NSTATUS] = {0}, na = 0;
    double *lat, *wlat, first = 1e300, last = 0, cpu0, cpu1, scpu0, scpu1, wall, warmup = 0;
    size_t nw = 0, wbad = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("every option takes a value (see the comment at the top of bench/loadtest.c)");
        i++;
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--ballots"))
            bdir = v;
        else if (!strcmp(a, "--connections"))
            nconn = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--duration"))
            duration = strtod(v, NULL);
        else if (!strcmp(a, "--count"))
            g.count = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--server-pid"))
            server_pid = strtol(v, NULL, 10);
        else if (!strcmp(a, "--log-bench"))
            logdir = v;
        else if (!strcmp(a, "--label"))
            label = v;
        else if (!strcmp(a, "--rate"))
            g.rate = strtod(v, NULL);
        else if (!strcmp(a, "--samples"))
            samples = v;
        else if (!strcmp(a, "--warmup"))
            warmup = strtod(v, NULL);
        else
            die("unknown option");
    }
    if (!url || !bdir || nconn < 1 || nconn > MAX_CONNS || duration <= 0 || g.rate < 0 || warmup < 0 ||
        (warmup > 0 && g.count))
        die("usage: loadtest --url http://HOST:PORT --ballots DIR [--connections N] [--duration S | --count N] "
            "[--rate PER_SECOND] [--server-pid PID] [--log-bench DIR] [--label TEXT] [--samples FILE] "
            "[--warmup SECONDS (not with --count)]");
    {
        /* http://HOST:PORT or http://[V6]:PORT, numeric */
        const char *h = url + 7, *colon;
        if (strncmp(url, "http://", 7) != 0)
            die("--url wants http://HOST:PORT");
        if (*h == '[') {
            const char *rb = strchr(h, ']');
            if (!rb || rb[1] != ':' || (size_t)(rb - h - 1) >= sizeof g.host)
                die("--url wants http://[V6]:PORT");
            memcpy(g.host, h + 1, (size_t)(rb - h - 1));
            colon = rb + 1;
        } else {
            if (!(colon = strrchr(h, ':')) || (size_t)(colon - h) >= sizeof g.host)
                die("--url wants http://HOST:PORT");
            memcpy(g.host, h, (size_t)(colon - h));
        }
        snprintf(g.port, sizeof g.port, "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
        snprintf(g.hostport, sizeof g.hostport, "%s", h);
        g.hostport[strcspn(g.hostport, "/")] = '\0';
    }
    load_ballots(bdir);
    g.warm_ms = warmup * 1e3;
    g.end_ms = (warmup + duration) * 1e3;
    if (!(w = calloc(nconn, sizeof *w)))
        die("out of memory");
    cpu0 = cpu_s();
    scpu0 = server_pid ? proc_cpu_s(server_pid) : -1;
    if (pthread_barrier_init(&g.ready, NULL, nconn + 1) != 0 || pthread_barrier_init(&g.go, NULL, nconn + 1) != 0)
        die("cannot make a barrier");
    for (unsigned i = 0; i < nconn; i++)
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0)
            die("cannot start a thread");
    pthread_barrier_wait(&g.ready); /* every connection open */
    clock_gettime(CLOCK_MONOTONIC, &g.t0);
    pthread_barrier_wait(&g.go);
    if (g.warm_ms > 0) { /* the CPU counted from the end of the warm-up (the warm-up's
                          * ballots still in flight then, at most one a connection, are
                          * charged to the measured part: under 1% of a 10 s run) */
        struct timespec ts = {(time_t)warmup, (long)(fmod(warmup, 1.0) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        cpu0 = cpu_s();
        scpu0 = server_pid ? proc_cpu_s(server_pid) : -1;
    }
    for (unsigned i = 0; i < nconn; i++)
        pthread_join(w[i].th, NULL);
    wall = ms_since(&g.t0) / 1e3 - warmup;
    cpu1 = cpu_s();
    scpu1 = server_pid ? proc_cpu_s(server_pid) : -1;

    for (unsigned i = 0; i < nconn; i++)
        total += w[i].n;
    if (!(lat = calloc(total + 1, sizeof *lat)) || !(wlat = calloc(total + 1, sizeof *wlat)))
        die("out of memory");
    for (unsigned i = 0; i < nconn; i++)
        for (size_t j = 0; j < w[i].n; j++) {
            const sample *s = &w[i].s[j];
            if (s->start_ms < g.warm_ms) { /* the warm-up's, apart */
                if (s->status == 201)
                    wlat[nw++] = s->lat_ms;
                else
                    wbad++;
                continue;
            }
            if (s->status == 0)
                errors++;
            else if (s->status > 0 && s->status < NSTATUS)
                status_n[s->status]++;
            if (s->status == 201) {
                accepted++;
                lat[na++] = s->lat_ms;
                first = s->done_ms < first ? s->done_ms : first;
                last = s->done_ms > last ? s->done_ms : last;
            }
        }
    /* the steady part: the middle 80% of the time from the first accepted
     * ballot to the last (connections opening, and the tail draining, left out) */
    double lo = first + 0.1 * (last - first), hi = first + 0.9 * (last - first);
    for (unsigned i = 0; i < nconn; i++)
        for (size_t j = 0; j < w[i].n; j++)
            steady += w[i].s[j].status == 201 && w[i].s[j].start_ms >= g.warm_ms && w[i].s[j].done_ms >= lo &&
                      w[i].s[j].done_ms <= hi;
    qsort(lat, na, sizeof *lat, cmp_double);
    qsort(wlat, nw, sizeof *wlat, cmp_double);
    total -= nw + wbad;
    if (samples) {
        FILE *f = fopen(samples, "w");
        if (!f)
            die("--samples: cannot create the file");
        fprintf(f, "# t0 CLOCK_MONOTONIC %.3f ms\n", g.t0.tv_sec * 1e3 + g.t0.tv_nsec / 1e6);
        for (unsigned i = 0; i < nconn; i++)
            for (size_t j = 0; j < w[i].n; j++)
                fprintf(f, "%.3f %.3f %d\n", w[i].s[j].done_ms, w[i].s[j].lat_ms, w[i].s[j].status);
        if (fclose(f) != 0)
            die("--samples: cannot write the file");
    }

    printf("{\"bench\":\"loadtest\",\"label\":\"%s\",\"rate\":%.0f,\"connections\":%u,\"seconds\":%.2f,\"ballots_available\":%zu,"
           "\"requests\":%zu,\"accepted\":%zu,\"ballots_per_s\":%.1f,\"steady_ballots_per_s\":%.1f,"
           "\"latency_ms\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"status\":{",
           label, g.rate, nconn, wall, g.nb, total, accepted, wall > 0 ? (double)accepted / wall : 0,
           hi > lo ? (double)steady / ((hi - lo) / 1e3) : 0, pct(lat, na, 0.5), pct(lat, na, 0.9),
           pct(lat, na, 0.99), na ? lat[na - 1] : 0);
    for (int s = 0, any = 0; s < NSTATUS; s++)
        if (status_n[s]) {
            printf("%s\"%d\":%zu", any ? "," : "", s, status_n[s]);
            any = 1;
        }
    printf("},\"transport_errors\":%zu,\"ran_out_of_ballots\":%s,\"client_cpu_s\":%.2f,\"client_cpu_cores\":%.3f,"
           "\"server_vmhwm_kb\":%ld",
           errors, atomic_load(&g.next) >= g.nb && !g.count ? "true" : "false", cpu1 - cpu0,
           wall > 0 ? (cpu1 - cpu0) / wall : 0, server_pid ? vmhwm_kb(server_pid) : -1L);
    if (g.rate > 0)
        printf(",\"sent_over_20ms_late\":%zu", atomic_load(&g.late));
    if (g.warm_ms > 0)
        printf(",\"warmup\":{\"seconds\":%.1f,\"accepted\":%zu,\"not_accepted\":%zu,\"p50\":%.1f,\"p99\":%.1f}", warmup, nw,
               wbad, pct(wlat, nw, 0.5), pct(wlat, nw, 0.99));
    if (scpu0 >= 0 && scpu1 >= scpu0 && wall > 0)
        printf(",\"server_cpu_cores\":%.2f,\"server_cpu_ms_per_ballot\":%.2f", (scpu1 - scpu0) / wall,
               accepted ? (scpu1 - scpu0) * 1e3 / (double)accepted : 0);
    printf("}\n");
    fflush(stdout);
    if (logdir) {
        size_t eb1 = 0, ebn = 0;
        if (!(g.compact = calloc(g.nb, sizeof *g.compact)))
            die("out of memory");
        for (size_t i = 0; i < g.nb; i++) {
            if (!(g.compact[i].text = malloc(g.b[i].len)))
                die("out of memory");
            memcpy(g.compact[i].text, g.b[i].text, g.b[i].len);
            g.compact[i].len = json_compact(g.compact[i].text, g.b[i].len);
        }
        double r1 = log_rate(logdir, 1, &eb1), rn = log_rate(logdir, nconn, &ebn);
        printf("{\"bench\":\"loadtest_log_append\",\"label\":\"%s\",\"entry_bytes\":%zu,\"batch_1_entries_per_s\":%.0f,"
               "\"batch_%u_entries_per_s\":%.0f}\n",
               label, ebn, r1, nconn, rn);
    }
    for (unsigned i = 0; i < nconn; i++)
        free(w[i].s);
    free(w);
    free(lat);
    free(wlat);
    for (size_t i = 0; i < g.nb; i++)
        free(g.b[i].text);
    free(g.b);
    return accepted ? 0 : 1;
}
