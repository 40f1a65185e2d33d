/* Helpers of the role commands: options, passphrases, key files, the
 * ceremony's public files, progress. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>

#include "record/jsonout.h"
#include "record/record.h"
#include "role_util.h"
#include "util/codec.h"

#define PASSPHRASE_MAX 1024

void dt_cli_err(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int dt_cli_opt(const char *prog, int argc, const char *argv[], int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        dt_cli_err(prog, "%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int dt_cli_u32(const char *prog, const char *name, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < (long)lo || v > (long)hi) {
        dt_cli_err(prog, "%s wants a number from %u to %u, not '%s'", name, lo, hi, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

char *dt_cli_path(const char *fmt, ...)
{
    va_list ap;
    char buf[4096];
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        fprintf(stderr, "detente: path too long\n");
        exit(2);
    }
    char *p = strdup(buf);
    if (!p) {
        fprintf(stderr, "detente: out of memory\n");
        exit(1);
    }
    return p;
}

int dt_cli_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int dt_cli_mkdirs(const char *prog, const char *path)
{
    if (dt_mkdirs(path) == DT_OK)
        return 0;
    dt_cli_err(prog, "%s: cannot create the folder (%s)", path, strerror(errno));
    return -1;
}

int dt_cli_read(const char *prog, const char *path, size_t maxlen, char **out, size_t *len)
{
    unsigned char *buf = NULL;
    dt_err err;
    *out = NULL;
    *len = 0;
    if (!dt_cli_exists(path))
        return 1;
    err = dt_read_file(&buf, len, path, maxlen);
    if (err == DT_ERR_LIMIT) {
        dt_cli_err(prog, "%s: larger than %zu bytes", path, maxlen);
        return -1;
    }
    if (err) {
        dt_cli_err(prog, "%s: cannot read (%s)", path, err == DT_ERR_IO ? "not a readable file" : dt_strerror(err));
        return -1;
    }
    *out = (char *)buf;
    return 0;
}

int dt_cli_write(const char *prog, const char *path, const char *text, size_t len)
{
    dt_err err = dt_write_file_atomic(path, text, len, 0644);
    if (err == DT_OK)
        return 0;
    dt_cli_err(prog, "%s: cannot write (%s)", path, err == DT_ERR_IO ? strerror(errno) : dt_strerror(err));
    return -1;
}

dt_record *dt_cli_record_load(const char *prog, const char *dir, dt_record_part part)
{
    dt_record *rec = NULL;
    char *msg = NULL, *cfg = dt_cli_path("%s/election_config.json", dir);
    dt_err err;
    if (!dt_cli_exists(cfg)) {
        dt_cli_err(prog, "%s: not an election folder (no election_config.json): 'detente election create' makes one",
                   dir);
        free(cfg);
        return NULL;
    }
    free(cfg);
    if ((err = dt_record_load_part(&rec, &msg, dir, part))) {
        dt_cli_err(prog, "%s: %s", dir, msg ? msg : dt_strerror(err));
        free(msg);
        return NULL;
    }
    return rec;
}

/* ---- passphrases ---- */

static struct termios saved_tty;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(int sig)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads a line from the terminal without echo into buf (at most cap-1
 * bytes). Returns its length, or -1. */
static long read_tty(int fd, const char *prompt, char *buf, size_t cap)
{
    struct termios t;
    struct sigaction sa, old_int, old_term, old_hup;
    size_t n = 0;
    int echo_off = 0, too_long = 0;

    if (write(fd, prompt, strlen(prompt)) < 0)
        return -1;
    if (tcgetattr(fd, &saved_tty) == 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_tty;
        sigemptyset(&sa.sa_mask);
        tty_fd = fd;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
        t = saved_tty;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        t.c_lflag |= ICANON;
        echo_off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
    }
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n' || c == '\r')
            break;
        if (n + 1 < cap)
            buf[n++] = c;
        else
            too_long = 1;
    }
    buf[n] = '\0';
    if (echo_off) {
        tcsetattr(fd, TCSAFLUSH, &saved_tty);
        tty_fd = -1;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
    }
    if (write(fd, "\n", 1) < 0) {
        /* the newline is cosmetic */
    }
    return too_long ? -2 : (long)n;
}

void dt_cli_passphrase_free(char *p)
{
    if (p) {
        sodium_memzero(p, PASSPHRASE_MAX + 2);
        sodium_free(p);
    }
}

char *dt_cli_passphrase(const char *prog, const char *file, const char *what, int confirm)
{
    const char *env = getenv("DETENTE_PASSPHRASE");
    char *p = sodium_malloc(PASSPHRASE_MAX + 2), *again = NULL;
    size_t n;

    if (!p) {
        dt_cli_err(prog, "out of memory");
        return NULL;
    }
    sodium_memzero(p, PASSPHRASE_MAX + 2);
    if (env) {
        n = strlen(env);
        if (n > PASSPHRASE_MAX) {
            dt_cli_err(prog, "DETENTE_PASSPHRASE is longer than %d bytes", PASSPHRASE_MAX);
            goto fail;
        }
        memcpy(p, env, n);
    } else if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t r;
        struct stat st;
        if (fd < 0) {
            dt_cli_err(prog, "%s: cannot open the passphrase file (%s)", file, strerror(errno));
            goto fail;
        }
        if (fstat(fd, &st) == 0 && (st.st_mode & 077))
            fprintf(stderr, "%s: warning: %s can be read by other users\n", prog, file);
        n = 0;
        while (n < PASSPHRASE_MAX + 1 && (r = read(fd, p + n, PASSPHRASE_MAX + 1 - n)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                dt_cli_err(prog, "%s: cannot read the passphrase file (%s)", file, strerror(errno));
                close(fd);
                goto fail;
            }
            n += (size_t)r;
        }
        close(fd);
        p[n] = '\0';
        n = strcspn(p, "\r\n");
        if (n > PASSPHRASE_MAX) {
            dt_cli_err(prog, "%s: the passphrase is longer than %d bytes", file, PASSPHRASE_MAX);
            goto fail;
        }
        sodium_memzero(p + n, PASSPHRASE_MAX + 2 - n);
    } else {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        char prompt[512];
        long got;
        if (fd < 0) {
            dt_cli_err(prog, "no passphrase: set DETENTE_PASSPHRASE, give --passphrase-file FILE, or run on a "
                             "terminal");
            goto fail;
        }
        snprintf(prompt, sizeof prompt, "Passphrase for %s: ", what);
        got = read_tty(fd, prompt, p, PASSPHRASE_MAX + 1);
        if (got >= 0 && confirm && got > 0) {
            again = sodium_malloc(PASSPHRASE_MAX + 2);
            if (!again) {
                close(fd);
                dt_cli_err(prog, "out of memory");
                goto fail;
            }
            snprintf(prompt, sizeof prompt, "Passphrase for %s, again: ", what);
            if (read_tty(fd, prompt, again, PASSPHRASE_MAX + 1) < 0 || strcmp(p, again) != 0) {
                close(fd);
                dt_cli_err(prog, "the two passphrases differ");
                goto fail;
            }
        }
        close(fd);
        if (got < 0) {
            dt_cli_err(prog, got == -2 ? "the passphrase is longer than %d bytes" : "cannot read the passphrase",
                       PASSPHRASE_MAX);
            goto fail;
        }
    }
    if (!*p) {
        dt_cli_err(prog, "the passphrase is empty");
        goto fail;
    }
    dt_cli_passphrase_free(again);
    return p;
fail:
    dt_cli_passphrase_free(again);
    dt_cli_passphrase_free(p);
    return NULL;
}

/* ---- key files ---- */

dt_guardian *dt_cli_guardian_load(const char *prog, const dt_record *rec, const char *keyfile,
                                  const char *passphrase)
{
    dt_guardian *gd = NULL;
    dt_err err;
    struct stat st;

    if (stat(keyfile, &st) != 0) {
        dt_cli_err(prog, "%s: no such key file (%s)", keyfile, strerror(errno));
        return NULL;
    }
    err = dt_guardian_load(&gd, rec->group, keyfile, passphrase, rec->hb);
    switch (err) {
    case DT_OK:
        if (dt_guardian_count(gd) != rec->n || dt_guardian_quorum(gd) != rec->k) { /* H_B binds them */
            dt_cli_err(prog, "%s: a key file of another election", keyfile);
            dt_guardian_destroy(gd);
            return NULL;
        }
        return gd;
    case DT_ERR_IO:
        dt_cli_err(prog, "%s: cannot read the key file", keyfile);
        break;
    case DT_ERR_ENCODING:
        dt_cli_err(prog, "%s: not a detente guardian key file, or it is damaged", keyfile);
        break;
    case DT_ERR_INVALID:
        dt_cli_err(prog, "%s: the key file of another election (or another group) than %s", keyfile, rec->dir);
        break;
    case DT_ERR_PROOF:
        dt_cli_err(prog, "%s: wrong passphrase", keyfile);
        break;
    case DT_ERR_NOMEM:
        dt_cli_err(prog, "%s: out of memory (the key file's Argon2id needs 256 MiB)", keyfile);
        break;
    default:
        dt_cli_err(prog, "%s: %s", keyfile, dt_strerror(err));
        break;
    }
    return NULL;
}

/* ---- the ceremony's public files ---- */

#define CEREMONY_FILE_MAX (1u << 20)

void dt_cli_commitments_free(dt_cli_commitments *c)
{
    for (uint32_t j = 0; c->text && j < c->n; j++)
        free(c->text[j]);
    free(c->text);
    free(c->K);
    memset(c, 0, sizeof *c);
}

int dt_cli_commitments_load(const char *prog, const char *dir, const dt_record *rec, dt_cli_commitments *out)
{
    uint32_t n = rec->n, k = rec->k, missing = 0;
    dt_scalar *c = calloc(k, sizeof *c), *v = calloc(k, sizeof *v);
    char list[256] = "";
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->n = n;
    out->k = k;
    out->K = calloc((size_t)n * k, sizeof *out->K);
    out->text = calloc(n, sizeof *out->text);
    if (!c || !v || !out->K || !out->text) {
        dt_cli_err(prog, "out of memory");
        goto out;
    }
    for (uint32_t j = 1; j <= n; j++) {
        char *path = dt_cli_path("%s/ceremony/commitments-%u.json", dir, j), *msg = NULL, *id = NULL;
        size_t len, bad = 0;
        uint32_t x = 0;
        dt_err err;
        int r = dt_cli_read(prog, path, CEREMONY_FILE_MAX, &out->text[j - 1], &len);
        if (r != 0) {
            free(path);
            if (r < 0)
                goto out;
            if (missing++ < 10) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%u", l ? ", " : "", j);
            }
            continue;
        }
        err = dt_commitments_from_json(rec->group, &id, &x, &out->K[(size_t)(j - 1) * k], c, v, k, out->text[j - 1],
                                       len, &msg);
        if (err) {
            dt_cli_err(prog, "%s: %s", path, msg ? msg : dt_strerror(err));
        } else if (x != j) {
            dt_cli_err(prog, "%s: x_coordinate is %u, not %u", path, x, j);
            err = DT_ERR_INVALID;
        } else if (dt_commitments_verify_var(rec->group, rec->hp, j, &out->K[(size_t)(j - 1) * k], c, v, k, &bad)) {
            dt_cli_err(prog,
                       "%s: the Schnorr proof of coefficient %zu does not verify: guardian %u's commitments are "
                       "bad (it publishes them again, or is replaced)",
                       path, bad, j);
            err = DT_ERR_PROOF;
        }
        free(msg);
        free(id);
        free(path);
        if (err)
            goto out;
    }
    if (missing) {
        dt_cli_err(prog, "waiting for %u of the %u guardians to join (no %s/ceremony/commitments-I.json for I = %s%s): "
                         "each runs 'detente guardian init'",
                   missing, n, dir, list, missing > 10 ? ", ..." : "");
        goto out;
    }
    rc = 0;
out:
    free(c);
    free(v);
    if (rc)
        dt_cli_commitments_free(out);
    return rc;
}

int dt_cli_guardian_matches(const char *prog, const dt_record *rec, const dt_guardian *gd,
                            const dt_cli_commitments *c, const char *keyfile, const char *dir)
{
    uint32_t i = dt_guardian_index(gd), k = c->k;
    dt_elem *K = calloc(k, sizeof *K);
    dt_scalar *cc = calloc(k, sizeof *cc), *vv = calloc(k, sizeof *vv);
    int rc = -1;
    if (!K || !cc || !vv) {
        dt_cli_err(prog, "out of memory");
        goto out;
    }
    if (dt_guardian_commitments(gd, K, cc, vv, k) != DT_OK) {
        dt_cli_err(prog, "the system's randomness failed");
        goto out;
    }
    for (uint32_t m = 0; m < k; m++)
        if (!dt_elem_eq(rec->group, &K[m], &c->K[(size_t)(i - 1) * k + m])) {
            dt_cli_err(prog,
                       "%s: guardian %u's key does not match %s/ceremony/commitments-%u.json (a key file of an "
                       "earlier ceremony?)",
                       keyfile, i, dir, i);
            goto out;
        }
    rc = 0;
out:
    free(K);
    free(cc);
    free(vv);
    return rc;
}

/* ---- complaints and reveals ---- */

static json_t *share_obj(const dt_group *g, const dt_share_ct *ct)
{
    char *text = NULL;
    json_t *j;
    json_error_t jerr;
    if (dt_share_ct_to_json(g, &text, ct) != DT_OK)
        return NULL;
    j = json_loads(text, 0, &jerr);
    free(text);
    return j;
}

static char *dump(json_t *j)
{
    char *s, *t;
    size_t n;
    if (!j)
        return NULL;
    s = json_dumps(j, JSON_INDENT(4));
    json_decref(j);
    if (!s || !(t = realloc(s, (n = strlen(s)) + 2))) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

char *dt_cli_complaint_json(const dt_group *g, uint32_t l, uint32_t i, const char *reason, const dt_share_ct *ct)
{
    return dump(json_pack("{s:i, s:i, s:s, s:o}", "complainer", (json_int_t)l, "accused", (json_int_t)i, "reason",
                          reason, "share", share_obj(g, ct)));
}

char *dt_cli_reveal_json(const dt_group *g, uint32_t i, uint32_t l, const dt_scalar *value, const dt_scalar *xi,
                         const dt_share_ct *ct)
{
    return dump(json_pack("{s:i, s:i, s:o, s:o, s:o}", "from", (json_int_t)i, "to", (json_int_t)l, "value",
                          dt_jscalar(g, value), "xi", dt_jscalar(g, xi), "share", share_obj(g, ct)));
}

/* Reads path as a JSON object with exactly these keys; its "share" parsed
 * into ct, which must go from `from` to `to`. */
static int read_with_share(const char *prog, const char *path, const dt_record *rec, const char *const *keys,
                           uint32_t from, uint32_t to, json_t **root, dt_share_ct *ct)
{
    char *text = NULL, *st = NULL, *msg = NULL;
    size_t len, n = 0;
    json_error_t jerr;
    dt_err err;
    int r = dt_cli_read(prog, path, CEREMONY_FILE_MAX, &text, &len);
    *root = NULL;
    if (r)
        return r;
    *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!*root) {
        dt_cli_err(prog, "%s: not JSON (line %d: %s)", path, jerr.line, jerr.text);
        return -1;
    }
    for (; keys[n]; n++)
        if (!json_object_get(*root, keys[n]))
            break;
    if (!json_is_object(*root) || keys[n] || json_object_size(*root) != n) {
        dt_cli_err(prog, "%s: unknown or missing keys", path);
        goto fail;
    }
    if (!(st = json_dumps(json_object_get(*root, "share"), 0))) {
        dt_cli_err(prog, "%s: share is not a share ciphertext", path);
        goto fail;
    }
    err = dt_share_ct_from_json(rec->group, ct, st, strlen(st), &msg);
    free(st);
    if (err) {
        dt_cli_err(prog, "%s: share: %s", path, msg ? msg : dt_strerror(err));
        free(msg);
        goto fail;
    }
    if (dt_share_ct_from(ct) != from || dt_share_ct_to(ct) != to) {
        dt_cli_err(prog, "%s: the share goes from guardian %u to guardian %u, not from %u to %u", path,
                   dt_share_ct_from(ct), dt_share_ct_to(ct), from, to);
        goto fail;
    }
    return 0;
fail:
    json_decref(*root);
    *root = NULL;
    return -1;
}

static int json_u32_is(const json_t *o, const char *key, uint32_t want)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) == (json_int_t)want;
}

int dt_cli_complaint_read(const char *prog, const char *dir, const dt_record *rec, uint32_t l, uint32_t i,
                          dt_share_ct *ct)
{
    static const char *const keys[] = {"complainer", "accused", "reason", "share", NULL};
    char *path = dt_cli_path("%s/ceremony/complaint-%u-against-%u.json", dir, l, i);
    json_t *root;
    int r = read_with_share(prog, path, rec, keys, i, l, &root, ct);
    if (r == 0 && (!json_u32_is(root, "complainer", l) || !json_u32_is(root, "accused", i) ||
                   !json_is_string(json_object_get(root, "reason")))) {
        dt_cli_err(prog, "%s: complainer, accused or reason is wrong", path);
        r = -1;
    }
    json_decref(root);
    free(path);
    return r;
}

int dt_cli_reveal_read(const char *prog, const char *dir, const dt_record *rec, uint32_t i, uint32_t l,
                       dt_scalar *value, dt_scalar *xi, dt_share_ct *ct)
{
    static const char *const keys[] = {"from", "to", "value", "xi", "share", NULL};
    char *path = dt_cli_path("%s/ceremony/reveal-%u-%u.json", dir, i, l);
    unsigned char buf[DT_SCALAR_BYTES];
    size_t sb = dt_group_scalar_bytes(rec->group);
    json_t *root;
    int r = read_with_share(prog, path, rec, keys, i, l, &root, ct);
    if (r == 0) {
        const json_t *jv = json_object_get(root, "value"), *jx = json_object_get(root, "xi");
        if (!json_u32_is(root, "from", i) || !json_u32_is(root, "to", l) || !json_is_string(jv) ||
            !json_is_string(jx) || dt_b64_decode_exact(buf, sb, json_string_value(jv)) != DT_OK ||
            dt_scalar_decode(rec->group, value, buf, sb) != DT_OK ||
            dt_b64_decode_exact(buf, sb, json_string_value(jx)) != DT_OK ||
            dt_scalar_decode(rec->group, xi, buf, sb) != DT_OK) {
            dt_cli_err(prog, "%s: from, to, value or xi is wrong (value and xi: base64 of scalars below q)", path);
            r = -1;
        }
    }
    json_decref(root);
    free(path);
    return r;
}

/* ---- progress ---- */

void dt_cli_progress_init(dt_cli_progress *p, const char *what)
{
    p->what = what;
    p->on = isatty(2);
    p->last = 0;
}

void dt_cli_progress_tick(void *arg, size_t done, size_t total)
{
    dt_cli_progress *p = arg;
    time_t now = time(NULL);
    if (!p->on || (now == p->last && done != total))
        return;
    p->last = now;
    fprintf(stderr, "\r%s: %zu/%zu (%3zu%%)", p->what, done, total, total ? done * 100 / total : 100);
    if (done == total)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

uint32_t dt_cli_test_corrupt_share(void)
{
    const char *s = getenv("DETENTE_TEST_CORRUPT_SHARE");
    char *end;
    long v;
    if (!s || !*s)
        return 0;
    v = strtol(s, &end, 10);
    return *end || v < 1 || v > (long)DT_CEREMONY_MAX_GUARDIANS ? 0 : (uint32_t)v;
}

struct addrinfo *dt_cli_listen_addr(const char *prog, const char *s)
{
    char host[64];
    const char *colon = strrchr(s, ':'), *h = s;
    size_t hl;
    struct addrinfo hints, *res = NULL;
    if (!colon || colon == s)
        goto bad;
    hl = (size_t)(colon - s);
    if (s[0] == '[') {
        if (hl < 3 || s[hl - 1] != ']')
            goto bad;
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (colon[1] && getaddrinfo(host, colon + 1, &hints, &res) == 0)
        return res;
bad:
    dt_cli_err(prog, "--listen '%s': want ADDR:PORT with a numeric address (127.0.0.1:7380, [::1]:7380)", s);
    return NULL;
}

char *dt_cli_vkey_arg(const char *prog, const char *opt, const char *arg)
{
    char *text = NULL;
    size_t len = 0;
    if (!dt_cli_exists(arg)) {
        dt_note_verifier v;
        if (dt_note_verifier_parse(&v, arg, strlen(arg)) != DT_OK) {
            dt_cli_err(prog, "%s: '%s' is neither a file nor a verifier key", opt, arg);
            return NULL;
        }
        if ((text = strdup(arg)) == NULL)
            dt_cli_err(prog, "out of memory");
        return text;
    }
    if (dt_cli_read(prog, arg, DT_NOTE_VKEY_MAX + 1, &text, &len) != 0)
        return NULL;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    return text;
}
