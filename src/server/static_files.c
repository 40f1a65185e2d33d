/* The pages for voters and observers (web/: docs/pages.md), served by the
 * election server, and the routing of everything in server_impl.h.
 *
 * Only fixed names are served: /, /index.html, /board.html, /results.html
 * and /assets/NAME, NAME of [A-Za-z0-9._-] starting with a letter or digit,
 * with no "..", and an extension on the allow-list. No name the client sends
 * reaches the file system otherwise, so "..", percent-encoded or not, and
 * hidden files cannot be named; the folder assets/ and the file are opened
 * with O_NOFOLLOW, so a symbolic link in web/ is not followed out of it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_impl.h"
#include "util/codec.h"

/* A page or asset larger than this is not served (404): web/ holds small
 * hand-written files. */
#define DT_STATIC_MAX (4u << 20)
#define DT_STATIC_NAME_MAX 100

struct dt_web {
    char *dir;
    char *web_dir; /* NULL: no pages */
    dt_results *results;
};

static const char dt_csp[] = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                             "frame-ancestors 'none'";

void dt_web_secure_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy", dt_csp);
}

dt_web_reply dt_web_json(unsigned status, json_t *body)
{
    dt_web_reply r = {status, NULL};
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *text = s ? dt_strdup_printf("%s\n", s) : NULL;
    json_decref(body);
    free(s);
    if (!text)
        return r;
    r.resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r.resp) {
        free(text);
        return r;
    }
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    dt_web_secure_headers(r.resp);
    return r;
}

dt_web_reply dt_web_error(unsigned status, const char *why)
{
    return dt_web_json(status, json_pack("{s:s}", "error", why));
}

static const struct {
    const char *ext;
    const char *type;
} dt_static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
};

const char *dt_static_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof dt_static_types / sizeof dt_static_types[0]; i++)
        if (strcmp(dot, dt_static_types[i].ext) == 0)
            return dt_static_types[i].type;
    return NULL;
}

/* NAME of /assets/NAME: see the top of the file. */
static bool asset_name_ok(const char *name)
{
    size_t n = strlen(name);
    const char *t = dt_static_type(name);
    if (n == 0 || n > DT_STATIC_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                        "0123456789._-") != n)
        return false;
    if (name[0] == '.' || name[0] == '-' || name[0] == '_' || strstr(name, ".."))
        return false;
    /* pages are served at the top only; assets are scripts, styles, images */
    return t != NULL && strcmp(t, dt_static_types[0].type) != 0;
}

/* Opens sub/name under the web folder (sub NULL: the folder itself), the
 * last two components without following links; a regular file of at most
 * DT_STATIC_MAX bytes. -1 otherwise. */
static int open_web_file(const char *web_dir, const char *sub, const char *name, struct stat *st)
{
    int dfd = open(web_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), sfd = -1, fd = -1;
    if (dfd < 0)
        return -1;
    if (sub && (sfd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        goto out;
    /* O_NONBLOCK: a FIFO put there must not hang the request thread */
    fd = openat(sub ? sfd : dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > (off_t)DT_STATIC_MAX)) {
        close(fd);
        fd = -1;
    }
out:
    if (sfd >= 0)
        close(sfd);
    close(dfd);
    return fd;
}

static dt_web_reply static_get(const dt_web *w, const char *sub, const char *name)
{
    dt_web_reply r = {200, NULL};
    struct stat st;
    int fd;
    if (!w->web_dir)
        return dt_web_error(404, "not found (the server has no web folder: start it with --web DIR)");
    if ((fd = open_web_file(w->web_dir, sub, name, &st)) < 0)
        return dt_web_error(404, "not found");
    r.resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r.resp) {
        close(fd);
        return r;
    }
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_TYPE, dt_static_type(name));
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    dt_web_secure_headers(r.resp);
    return r;
}

dt_err dt_web_create(dt_web **out, const char *dir, const char *web_dir)
{
    dt_web *w;
    dt_err err;
    if (!out || !dir)
        dt_misuse("dt_web_create: NULL argument");
    *out = NULL;
    if (!(w = calloc(1, sizeof *w)) || !(w->dir = strdup(dir)) || (web_dir && !(w->web_dir = strdup(web_dir)))) {
        dt_web_destroy(w);
        return DT_ERR_NOMEM;
    }
    if ((err = dt_results_create(&w->results, dir)) != DT_OK) {
        dt_web_destroy(w);
        return err;
    }
    *out = w;
    return DT_OK;
}

void dt_web_destroy(dt_web *w)
{
    if (!w)
        return;
    dt_results_destroy(w->results);
    free(w->web_dir);
    free(w->dir);
    free(w);
}

bool dt_web_route(dt_web *w, const char *url, bool get, dt_web_reply *r)
{
    static const char *const pages[] = {"/index.html", "/board.html", "/results.html"};
    const char *sub = NULL, *name = NULL;
    bool api = false;
    if (strcmp(url, "/") == 0) {
        name = pages[0] + 1;
    } else if (strcmp(url, "/api/v1/results") == 0 || strcmp(url, "/api/v1/record.tar") == 0) {
        api = true;
    } else if (strncmp(url, "/assets/", 8) == 0) {
        sub = "assets";
        name = url + 8;
    } else {
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
            if (strcmp(url, pages[i]) == 0)
                name = pages[i] + 1;
        if (!name)
            return false;
    }
    if (!get) {
        *r = dt_web_error(405, "method not allowed: read it with GET");
        if (r->resp)
            MHD_add_response_header(r->resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return true;
    }
    if (api)
        *r = strcmp(url, "/api/v1/results") == 0 ? dt_results_get(w->results) : dt_record_tar_get(w->dir);
    else if (sub && !asset_name_ok(name))
        *r = dt_web_error(404, "not found");
    else
        *r = static_get(w, sub, name);
    return true;
}
