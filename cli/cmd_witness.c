/* detente witness: run a C2SP tlog-witness v1.0.0 witness (init, add-log,
 * show, cosign, serve) and talk to one (push). The protocol and the state
 * are src/board/witness.c; this file is the folder, the options and the
 * HTTP server (libmicrohttpd). */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include <detente/note.h>
#include <detente/board.h>
#include <detente/witness.h>

#include "cli.h"
#include "role_util.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente witness init DIR --name NAME\n"
    "       detente witness add-log DIR VKEY_OR_FILE\n"
    "       detente witness show DIR\n"
    "       detente witness cosign DIR [--verify BOARD_DIR] [FILE]\n"
    "       detente witness serve DIR --listen ADDR:PORT [--verify BOARD_DIR]\n"
    "       detente witness push URL FILE\n"
    "\n"
    "A witness cosigns a log's checkpoints (C2SP tlog-witness v1.0.0, Ed25519\n"
    "cosignatures of tlog-cosignature v1.0.1) when they are consistent with the\n"
    "last one it cosigned, so that a log cannot show two histories. docs/board.md,\n"
    "\"Witnesses\", has the protocol and its decisions.\n"
    "\n"
    "  init     create the witness folder DIR with a new key named NAME (a\n"
    "           schema-less URL, e.g. witness.example/w1); prints its verifier key\n"
    "  add-log  trust a log: its verifier key (name = the log's origin), given\n"
    "           as the key itself or as a file holding it\n"
    "  show     the witness's name and key, and per log the last cosigned size\n"
    "  cosign   answer one add-checkpoint request read from FILE (default:\n"
    "           standard input): the cosignature on standard output\n"
    "  serve    answer POST /add-checkpoint over HTTP at ADDR:PORT (e.g.\n"
    "           127.0.0.1:7380, [::1]:7380, 0.0.0.0:7380; port 0 picks one) until\n"
    "           SIGINT or SIGTERM; one line per request on standard error\n"
    "  --verify a verifying witness: before it cosigns, it reads the new entries\n"
    "           from BOARD_DIR (the board's tiles, e.g. ELECTION/board), keeps its\n"
    "           copy of the record in DIR/mirror, and verifies it (detente verify's\n"
    "           steps); it refuses (422) a checkpoint whose record fails a step.\n"
    "           An election server writes the tiles there only with\n"
    "           'detente serve --export-tiles'\n"
    "  push     POST the request in FILE to URL/add-checkpoint (http:// only):\n"
    "           the answer's body on standard output, its status on standard error\n"
    "\n"
    "Exit status: 0 done (cosigned); 1 the witness refused (status and reason on\n"
    "standard error); 2 usage error, unreadable input or an unusable folder.\n";

/* serve: 2-4 threads (requests are serialized on the state anyway), a
 * bounded number of connections, each dropped after 10 idle seconds. */
#define SERVE_THREADS 4
#define SERVE_CONNECTIONS 64
#define SERVE_IDLE_SECONDS 10
/* push: the file may exceed what a witness accepts (it then answers 413). */
#define PUSH_MAX ((size_t)1 << 20)
#define PUSH_TIMEOUT_MS 10000

/* Options of the commands that answer requests (cosign, serve). A check
 * function (e.g. a verifying witness's --verify BOARD_DIR) is parsed here
 * and installed in open_for_requests. */
typedef struct request_opts {
    const char *listen;
    const char *verify; /* --verify BOARD_DIR */
    char *mirror;
    dt_board_witness_check_arg check;
} request_opts;

static int usage_error(const char *prog, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_text);
    return 2;
}

static dt_witness *open_witness(const char *prog, const char *dir)
{
    dt_witness *w = NULL;
    dt_err err = dt_witness_open(&w, dir);
    if (err == DT_OK)
        return w;
    if (err == DT_ERR_IO)
        dt_cli_err(prog, "%s: not a witness folder, or unreadable (witness.key, witness.vkey, logs, state.db); "
                         "'detente witness init' makes one", dir);
    else if (err == DT_ERR_INVALID)
        dt_cli_err(prog, "%s: witness.vkey is not the verifier key of witness.key, or a logs line is not a log key "
                         "(or repeats an origin)", dir);
    else
        dt_cli_err(prog, "%s: witness.key or logs is malformed (%s)", dir, dt_strerror(err));
    return NULL;
}

/* A verifying witness (--verify BOARD_DIR) checks the record on the board
 * before it cosigns (dt_board_witness_check), keeping its copy of the record
 * in DIR/mirror. It then serves that one board. */
static dt_witness *open_for_requests(const char *prog, const char *dir, request_opts *o)
{
    dt_witness *w = open_witness(prog, dir);
    if (w == NULL || o->verify == NULL)
        return w;
    if ((o->mirror = dt_strdup_printf("%s/mirror", dir)) == NULL) {
        dt_cli_err(prog, "out of memory");
        dt_witness_close(w);
        return NULL;
    }
    o->check.board_dir = o->verify;
    o->check.mirror_dir = o->mirror;
    dt_witness_set_check(w, dt_board_witness_check, &o->check);
    return w;
}

/* Reads at most max bytes of f (one more byte tells that there are more). */
static int read_bounded(const char *prog, const char *name, FILE *f, size_t max, char **out, size_t *len)
{
    char *buf = malloc(max + 1);
    size_t n = 0, r;
    if (!buf) {
        dt_cli_err(prog, "out of memory");
        return -1;
    }
    while (n < max + 1 && (r = fread(buf + n, 1, max + 1 - n, f)) > 0)
        n += r;
    if (ferror(f)) {
        dt_cli_err(prog, "%s: cannot read (%s)", name, strerror(errno));
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int read_path(const char *prog, const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    int r;
    if (!f) {
        dt_cli_err(prog, "%s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
    r = read_bounded(prog, path, f, max, out, len);
    fclose(f);
    return r;
}

/* ---- init, add-log, show ---- */

static int cmd_init(int argc, const char *argv[])
{
    const char *prog = "detente witness init", *dir = NULL, *name = NULL;
    char vkey[DT_NOTE_VKEY_MAX + 2];
    size_t n;
    dt_witness *w;
    dt_note_verifier v;
    dt_err err;

    for (int i = 1; i < argc; i++) {
        int r = dt_cli_opt(prog, argc, argv, &i, "--name", &name);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || dir)
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        dir = argv[i];
    }
    if (!dir || !name)
        return usage_error(prog, "%s", "needs DIR and --name NAME");
    err = dt_witness_create(dir, name);
    if (err == DT_ERR_ENCODING || err == DT_ERR_LIMIT) {
        dt_cli_err(prog, "--name '%s': 1 to 255 printable ASCII characters, no space or '+'", name);
        return 2;
    }
    if (err == DT_ERR_INVALID) {
        dt_cli_err(prog, "%s: exists and is not an empty folder", dir);
        return 2;
    }
    if (err) {
        dt_cli_err(prog, "%s: cannot create the witness (%s)", dir,
                   err == DT_ERR_IO ? "cannot write there" : dt_strerror(err));
        return 2;
    }
    if (!(w = open_witness(prog, dir)))
        return 2;
    dt_witness_verifier(w, &v);
    dt_witness_close(w);
    n = sizeof vkey;
    if (dt_note_verifier_format(vkey, &n, &v) != DT_OK)
        return 2;
    printf("%s\n", vkey);
    fprintf(stderr, "%s: %s/witness.key is the witness's private key (mode 0600); publish the verifier key above "
                    "(also in %s/witness.vkey)\n",
            prog, dir, dir);
    return 0;
}

static int cmd_add_log(int argc, const char *argv[])
{
    const char *prog = "detente witness add-log", *dir = NULL, *arg = NULL, *name;
    char *text = NULL;
    size_t len, namelen;
    dt_note_verifier v;
    dt_witness *w;
    dt_err err;
    int ret = 2;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || (dir && arg))
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        *(dir ? &arg : &dir) = argv[i];
    }
    if (!arg)
        return usage_error(prog, "%s", "needs DIR and a log's verifier key (or a file holding it)");
    if (dt_cli_exists(arg)) {
        if (read_path(prog, arg, DT_NOTE_VKEY_MAX + 1, &text, &len) != 0)
            return 2;
        if (len && text[len - 1] == '\n')
            len--;
    } else {
        if (!(text = strdup(arg)))
            return 2;
        len = strlen(text);
    }
    if (dt_note_verifier_parse(&v, text, len) != DT_OK) {
        dt_cli_err(prog, "'%s' is neither a verifier key (name+keyid+base64) nor a file holding one", arg);
        goto out;
    }
    name = dt_note_verifier_name(&v, &namelen);
    if (dt_note_verifier_type(&v) != DT_NOTE_ED25519) {
        dt_cli_err(prog, "'%.*s' is a cosigner (witness) key, not a log's checkpoint key", (int)namelen, name);
        goto out;
    }
    if (!(w = open_witness(prog, dir)))
        goto out;
    err = dt_witness_add_log(w, text, len);
    dt_witness_close(w);
    if (err == DT_ERR_INVALID) {
        dt_cli_err(prog, "%s: a log named '%.*s' is already known with another key", dir, (int)namelen, name);
        goto out;
    }
    if (err) {
        dt_cli_err(prog, "%s/logs: cannot update (%s)", dir, dt_strerror(err));
        goto out;
    }
    printf("%s witnesses the log '%.*s'\n", dir, (int)namelen, name);
    ret = 0;
out:
    free(text);
    return ret;
}

static int cmd_show(int argc, const char *argv[])
{
    const char *prog = "detente witness show", *dir = NULL;
    char vkey[DT_NOTE_VKEY_MAX + 1], *logs = NULL, *path;
    size_t n = sizeof vkey, len = 0, namelen;
    dt_note_verifier v;
    dt_witness *w;
    const char *name;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || dir)
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        dir = argv[i];
    }
    if (!dir)
        return usage_error(prog, "%s", "needs DIR");
    if (!(w = open_witness(prog, dir)))
        return 2;
    dt_witness_verifier(w, &v);
    name = dt_note_verifier_name(&v, &namelen);
    if (dt_note_verifier_format(vkey, &n, &v) != DT_OK) {
        dt_witness_close(w);
        return 2;
    }
    printf("name  %.*s\nvkey  %s\nlogs\n", (int)namelen, name, vkey);
    /* dt_witness_open has just checked DIR/logs line by line */
    path = dt_cli_path("%s/logs", dir);
    if (dt_cli_read(prog, path, (size_t)1 << 20, &logs, &len) != 0) {
        free(path);
        dt_witness_close(w);
        return 2;
    }
    free(path);
    for (char *line = logs, *nl; line < logs + len && (nl = strchr(line, '\n')); line = nl + 1) {
        dt_note_verifier lv;
        uint64_t size;
        unsigned char root[32];
        if (dt_note_verifier_parse(&lv, line, (size_t)(nl - line)) != DT_OK)
            continue;
        name = dt_note_verifier_name(&lv, &namelen);
        switch (dt_witness_state(w, name, namelen, &size, root)) {
        case DT_OK:
            printf("  %.*s  cosigned up to size %llu\n", (int)namelen, name, (unsigned long long)size);
            break;
        case DT_ERR_NOT_FOUND:
            printf("  %.*s  nothing cosigned yet\n", (int)namelen, name);
            break;
        default:
            printf("  %.*s  state unreadable\n", (int)namelen, name);
        }
    }
    if (len == 0)
        printf("  (none: 'detente witness add-log %s VKEY')\n", dir);
    free(logs);
    dt_witness_close(w);
    return 0;
}

/* ---- cosign ---- */

static int cmd_cosign(int argc, const char *argv[])
{
    const char *prog = "detente witness cosign", *dir = NULL, *file = NULL;
    request_opts o = {NULL};
    dt_witness_response r;
    dt_witness *w;
    char *req = NULL;
    size_t len;
    int ret = 2;

    for (int i = 1; i < argc; i++) {
        int got = dt_cli_opt(prog, argc, argv, &i, "--verify", &o.verify);
        if (got < 0)
            return 2;
        if (got > 0)
            continue;
        if (argv[i][0] == '-' || (dir && file))
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        *(dir ? &file : &dir) = argv[i];
    }
    if (!dir)
        return usage_error(prog, "%s", "needs DIR");
    if (file ? read_path(prog, file, DT_WITNESS_REQUEST_MAX, &req, &len)
             : read_bounded(prog, "standard input", stdin, DT_WITNESS_REQUEST_MAX, &req, &len))
        return 2;
    if (!(w = open_for_requests(prog, dir, &o)))
        goto out;
    if (dt_witness_add_checkpoint(w, req, len, (uint64_t)time(NULL), &r) != DT_OK) {
        dt_cli_err(prog, "out of memory");
        dt_witness_close(w);
        goto out;
    }
    dt_witness_close(w);
    fwrite(r.body, 1, r.len, stdout);
    if (r.status != 200)
        dt_cli_err(prog, "%d: %s", r.status, r.why);
    ret = r.status == 200 ? 0 : 1;
    dt_witness_response_free(&r);
out:
    free(req);
    free(o.mirror);
    return ret;
}

/* ---- serve ---- */

typedef struct upload {
    char *buf;
    size_t len;
} upload;

static void client_name(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (ci && ci->client_addr)
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                    out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
}

/* The client's text, cut to cap - 1 bytes, control characters as '?': a
 * log line stays one line. */
static void printable(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
}

static enum MHD_Result reply(struct MHD_Connection *c, const char *method, const char *url, int status,
                             const char *type, const char *body, size_t len, const char *why)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    char who[64], m[17], u[101];
    enum MHD_Result ok;
    client_name(c, who, sizeof who);
    printable(m, sizeof m, method);
    printable(u, sizeof u, url);
    /* why is always one printable line (dt_witness_add_checkpoint) */
    fprintf(stderr, "detente witness: %s %s %s %d %s\n", who, m, u, status, why[0] ? why : "cosigned");
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, const char *method, const char *url, int status,
                                  const char *why)
{
    char body[300];
    int n = snprintf(body, sizeof body, "%s\n", why);
    return reply(c, method, url, status, "text/plain; charset=utf-8", body, (size_t)n, why);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
    dt_witness *w = cls;
    upload *u = *con_cls;
    dt_witness_response r;
    enum MHD_Result ok;

    (void)version;
    if (!u) { /* the head has arrived */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (strcmp(url, "/add-checkpoint") != 0)
            return reply_text(c, method, url, 404, "not found: a witness answers POST /add-checkpoint only");
        if (strcmp(method, "POST") != 0)
            return reply_text(c, method, url, 405, "method not allowed: add-checkpoint is a POST");
        if (cl && strtoull(cl, NULL, 10) > DT_WITNESS_REQUEST_MAX)
            return reply_text(c, method, url, 413, "the request body is too large");
        if (!(u = calloc(1, sizeof *u)) || !(u->buf = malloc(DT_WITNESS_REQUEST_MAX))) {
            free(u);
            return MHD_NO;
        }
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) { /* a part of the body */
        if (*data_size > DT_WITNESS_REQUEST_MAX - u->len) {
            /* only a body without Content-Length gets here: no answer can be
             * queued in the middle of it, so the connection is dropped */
            fprintf(stderr, "detente witness: a body without Content-Length over %u bytes: connection closed\n",
                    (unsigned)DT_WITNESS_REQUEST_MAX);
            return MHD_NO;
        }
        memcpy(u->buf + u->len, data, *data_size);
        u->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (dt_witness_add_checkpoint(w, u->buf, u->len, (uint64_t)time(NULL), &r) != DT_OK)
        return reply_text(c, method, url, 500, "out of memory");
    ok = reply(c, method, url, r.status, r.content_type, r.body, r.len, r.why);
    dt_witness_response_free(&r);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    upload *u = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (u) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

static int cmd_serve(int argc, const char *argv[])
{
    const char *prog = "detente witness serve", *dir = NULL;
    request_opts o = {NULL};
    struct addrinfo *ai;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    dt_witness *w;
    sigset_t sigs;
    int sig = 0;

    for (int i = 1; i < argc; i++) {
        int r = dt_cli_opt(prog, argc, argv, &i, "--listen", &o.listen);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--verify", &o.verify);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || dir)
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        dir = argv[i];
    }
    if (!dir || !o.listen)
        return usage_error(prog, "%s", "needs DIR and --listen ADDR:PORT");
    if (!(ai = dt_cli_listen_addr(prog, o.listen)))
        return 2;
    if (!(w = open_for_requests(prog, dir, &o))) {
        freeaddrinfo(ai);
        return 2;
    }
    /* SIGINT and SIGTERM are taken by sigwait below: blocked here, before
     * the server's threads start, so that they inherit the mask */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                             (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                         0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)SERVE_THREADS, MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_IDLE_SECONDS, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, NULL, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        dt_cli_err(prog, "cannot listen on %s (in use, or not an address of this machine?)", o.listen);
        dt_witness_close(w);
        free(o.mirror);
        return 2;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "detente witness: serving %s on port %u: POST /add-checkpoint\n", dir,
            info ? (unsigned)info->port : 0u);
    while (sig != SIGINT && sig != SIGTERM)
        if (sigwait(&sigs, &sig) != 0)
            break;
    MHD_stop_daemon(d);
    dt_witness_close(w);
    free(o.mirror);
    fprintf(stderr, "detente witness: stopped (signal %d)\n", sig);
    return 0;
}

/* ---- push ---- */

static int cmd_push(int argc, const char *argv[])
{
    const char *prog = "detente witness push", *url = NULL, *file = NULL;
    char *req = NULL, *full, *body = NULL;
    size_t len, bodylen, ul;
    int status = 0;
    dt_err err;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || (url && file))
            return usage_error(prog, "unexpected argument '%s'", argv[i]);
        *(url ? &file : &url) = argv[i];
    }
    if (!file)
        return usage_error(prog, "%s", "needs URL and FILE");
    if (read_path(prog, file, PUSH_MAX, &req, &len) != 0)
        return 2;
    if (len > PUSH_MAX) {
        dt_cli_err(prog, "%s: larger than %zu bytes", file, PUSH_MAX);
        free(req);
        return 2;
    }
    ul = strlen(url);
    while (ul && url[ul - 1] == '/')
        ul--;
    full = dt_cli_path("%.*s/add-checkpoint", (int)ul, url);
    err = dt_http_post(full, req, len, &status, &body, &bodylen, PUSH_TIMEOUT_MS);
    free(req);
    if (err) {
        dt_cli_err(prog, "%s: %s", full,
                   err == DT_ERR_ENCODING ? "not an http:// URL, or a malformed answer"
                   : err == DT_ERR_IO     ? "no answer (connection refused, failed or timed out)"
                                          : dt_strerror(err));
        free(full);
        return 2;
    }
    fwrite(body, 1, bodylen, stdout);
    fprintf(stderr, "%s: %s: %d\n", prog, full, status);
    free(full);
    free(body);
    return status == 200 ? 0 : 1;
}

int witness_main(int argc, const char *argv[])
{
    static const struct {
        const char *name;
        int (*fn)(int, const char *[]);
    } subs[] = {{"init", cmd_init},     {"add-log", cmd_add_log}, {"show", cmd_show},
                {"cosign", cmd_cosign}, {"serve", cmd_serve},     {"push", cmd_push}};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(argv[1], subs[i].name)) {
            for (int j = 2; j < argc; j++)
                if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                    fputs(usage_text, stdout);
                    return 0;
                }
            return subs[i].fn(argc - 1, argv + 1);
        }
    return usage_error("detente witness", "unknown subcommand '%s'", argc >= 2 ? argv[1] : "");
}
