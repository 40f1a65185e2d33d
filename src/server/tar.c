/* GET /api/v1/record.tar: the public record as a POSIX ustar archive,
 * written as it is sent (docs/api.md, "The record").
 *
 * The archive holds every public file of the record (dt_board_list_files:
 * never private_data/, hidden files or a symbolic link) and every regular
 * file of board/ (checkpoint, keys, tiles, blobs), under detente-record/,
 * in path order: what `detente verify` reads, so that its extraction
 * verifies as the folder does. Each file is a 512-byte header, its bytes,
 * and zeros up to the next 512-byte boundary; two zero blocks end it. The
 * length is known before the first byte (Content-Length): if a file no
 * longer has the size it was listed with when its turn comes, the
 * transfer is cut short, so the client sees an incomplete download rather
 * than a wrong archive. board/checkpoint is opened before anything is
 * listed: a full publish writes the tiles it needs before it is replaced,
 * and none is ever removed, so after one (detente close) the archive's
 * checkpoint has its tiles. While voting is open the periodic publish
 * writes none (the server serves them from the log): the archive, like the
 * folder, is complete after the close. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board/board_impl.h"
#include "server/server_impl.h"
#include "util/codec.h"

#define DT_TAR_TOP "detente-record/"
/* The ustar size field: 11 octal digits. */
#define DT_TAR_SIZE_MAX 077777777777ull

/* Writes v in octal in a field of w bytes: w - 1 digits and a NUL. */
static void octal(unsigned char *field, size_t w, unsigned long long v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)(w - 1), v);
    memcpy(field, tmp, w - 1);
    field[w - 1] = '\0';
}

dt_err dt_tar_header(unsigned char hdr[DT_TAR_BLOCK], const char *name, uint64_t size, int64_t mtime)
{
    size_t len = strlen(name), split = 0;
    unsigned sum = 0;
    memset(hdr, 0, DT_TAR_BLOCK);
    if (len == 0 || len > 255 || size > DT_TAR_SIZE_MAX)
        return DT_ERR_LIMIT;
    if (len > 100) {
        /* prefix (at most 155 bytes) '/' name (1 to 100 bytes): the last
         * slash that leaves a prefix short enough */
        for (size_t p = len - 1 < 155 ? len - 1 : 155; p > 0 && !split; p--)
            if (name[p] == '/' && len - p - 1 >= 1 && len - p - 1 <= 100)
                split = p;
        if (!split)
            return DT_ERR_LIMIT;
        memcpy(hdr + 345, name, split);
        memcpy(hdr, name + split + 1, len - split - 1);
    } else {
        memcpy(hdr, name, len);
    }
    if (mtime < 0)
        mtime = 0;
    octal(hdr + 100, 8, 0644);
    octal(hdr + 108, 8, 0);
    octal(hdr + 116, 8, 0);
    octal(hdr + 124, 12, size);
    octal(hdr + 136, 12, (unsigned long long)mtime > DT_TAR_SIZE_MAX ? DT_TAR_SIZE_MAX : (unsigned long long)mtime);
    hdr[156] = '0';
    memcpy(hdr + 257, "ustar", 6);
    memcpy(hdr + 263, "00", 2);
    /* the checksum is summed with its own field as eight spaces */
    memset(hdr + 148, ' ', 8);
    for (size_t i = 0; i < DT_TAR_BLOCK; i++)
        sum += hdr[i];
    octal(hdr + 148, 7, sum);
    hdr[155] = ' ';
    return DT_OK;
}

/* ---- the files ---- */

typedef struct tar_file {
    char *path;     /* relative to the record */
    uint64_t size;
    int64_t mtime;
} tar_file;

typedef struct tar_stream {
    char *dir;
    tar_file *f;
    size_t n;
    int cp_fd;      /* board/checkpoint, opened first; -1 if none */
    size_t i;       /* the file being sent */
    int phase;      /* 0 header, 1 data, 2 padding; i == n: the two zero blocks */
    uint64_t off;   /* bytes of this phase sent */
    int fd;         /* the current file */
    unsigned char hdr[DT_TAR_BLOCK];
} tar_stream;

typedef struct plist {
    char **v;
    size_t n, cap;
} plist;

static bool plist_push(plist *l, char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = path;
    return true;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir/rel whose name is a board path (so no hidden
 * name and nothing a tar could misread); links and other kinds skipped. */
static dt_err walk_board(plist *l, const char *dir, const char *rel)
{
    char *full = dt_strdup_printf("%s/%s", dir, rel);
    DIR *d = full ? opendir(full) : NULL;
    struct dirent *de;
    dt_err err = DT_OK;
    if (!full)
        return DT_ERR_NOMEM;
    if (!d) {
        free(full);
        return errno == ENOENT ? DT_OK : DT_ERR_IO;
    }
    while (err == DT_OK && (de = readdir(d)) != NULL) {
        char *r, *p;
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        r = dt_strdup_printf("%s/%s", rel, de->d_name);
        p = r ? dt_strdup_printf("%s/%s", dir, r) : NULL;
        if (!r || !p) {
            err = DT_ERR_NOMEM;
        } else if (!dt_board_path_valid(r, strlen(r)) || lstat(p, &st) != 0) {
            /* skipped: not a name of the record, or gone */
        } else if (S_ISDIR(st.st_mode)) {
            err = walk_board(l, dir, r);
        } else if (S_ISREG(st.st_mode)) {
            if (l->n >= DT_BOARD_MAX_FILES)
                err = DT_ERR_LIMIT;
            else if (plist_push(l, r))
                r = NULL;
            else
                err = DT_ERR_NOMEM;
        }
        free(r);
        free(p);
    }
    closedir(d);
    free(full);
    return err;
}

dt_err dt_web_public_files(char ***paths, size_t *n, char **msg, const char *dir)
{
    plist l = {NULL, 0, 0};
    char **rec = NULL;
    size_t nrec = 0;
    dt_err err;
    *paths = NULL;
    *n = 0;
    *msg = NULL;
    if ((err = dt_board_list_files(&rec, &nrec, msg, dir)) != DT_OK)
        return err;
    l.v = rec;
    l.n = l.cap = nrec;
    if ((err = walk_board(&l, dir, "board")) != DT_OK) {
        if (err != DT_ERR_NOMEM)
            *msg = dt_strdup_printf("%s/board: cannot be read", dir);
        dt_board_free_paths(l.v, l.n);
        return err;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_path);
    *paths = l.v;
    *n = l.n;
    return DT_OK;
}

static void free_files(tar_file *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].path);
    free(f);
}

static void stream_free(void *cls)
{
    tar_stream *t = cls;
    if (!t)
        return;
    if (t->fd >= 0 && t->fd != t->cp_fd)
        close(t->fd);
    if (t->cp_fd >= 0)
        close(t->cp_fd);
    free_files(t->f, t->n);
    free(t->dir);
    free(t);
}

static uint64_t padded(uint64_t size)
{
    return (size + DT_TAR_BLOCK - 1) / DT_TAR_BLOCK * DT_TAR_BLOCK;
}

/* Opens file i and makes its header; -1 if it changed or is gone. */
static int start_file(tar_stream *t)
{
    tar_file *f = &t->f[t->i];
    struct stat st;
    char *name;
    dt_err err;
    if (strcmp(f->path, "board/checkpoint") == 0 && t->cp_fd >= 0) {
        t->fd = t->cp_fd;
    } else {
        char *full = dt_strdup_printf("%s/%s", t->dir, f->path);
        t->fd = full ? open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) : -1;
        free(full);
    }
    if (t->fd < 0 || fstat(t->fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size)
        return -1;
    if (!(name = dt_strdup_printf(DT_TAR_TOP "%s", f->path)))
        return -1;
    err = dt_tar_header(t->hdr, name, f->size, f->mtime);
    free(name);
    return err == DT_OK ? 0 : -1;
}

static void end_file(tar_stream *t)
{
    if (t->fd >= 0 && t->fd != t->cp_fd)
        close(t->fd);
    t->fd = -1;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    tar_stream *t = cls;
    size_t done = 0;
    (void)pos; /* sequential: MHD asks for the bytes in order */
    while (done < max) {
        if (t->i == t->n) { /* the end: two zero blocks */
            uint64_t left = 2 * DT_TAR_BLOCK - t->off;
            size_t k = left < max - done ? (size_t)left : max - done;
            if (left == 0)
                break;
            memset(buf + done, 0, k);
            done += k;
            t->off += k;
            continue;
        }
        if (t->phase == 0) {
            size_t k;
            if (t->off == 0 && start_file(t) != 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            k = DT_TAR_BLOCK - (size_t)t->off < max - done ? DT_TAR_BLOCK - (size_t)t->off : max - done;
            memcpy(buf + done, t->hdr + t->off, k);
            done += k;
            t->off += k;
            if (t->off == DT_TAR_BLOCK) {
                t->phase = 1;
                t->off = 0;
            }
        } else if (t->phase == 1) {
            uint64_t left = t->f[t->i].size - t->off;
            size_t k = left < max - done ? (size_t)left : max - done;
            ssize_t got;
            if (k > 0) {
                got = pread(t->fd, buf + done, k, (off_t)t->off);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got <= 0)
                    return MHD_CONTENT_READER_END_WITH_ERROR; /* shrank: cut the transfer */
                done += (size_t)got;
                t->off += (uint64_t)got;
            }
            if (t->off == t->f[t->i].size) {
                end_file(t);
                t->phase = 2;
                t->off = 0;
            }
        } else {
            uint64_t left = padded(t->f[t->i].size) - t->f[t->i].size - t->off;
            size_t k = left < max - done ? (size_t)left : max - done;
            memset(buf + done, 0, k);
            done += k;
            t->off += k;
            if (t->off == padded(t->f[t->i].size) - t->f[t->i].size) {
                t->i++;
                t->phase = 0;
                t->off = 0;
            }
        }
    }
    if (done == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)done;
}

dt_web_reply dt_record_tar_get(const char *dir)
{
    dt_web_reply r = {200, NULL};
    tar_stream *t = calloc(1, sizeof *t);
    char **paths = NULL, *msg = NULL, *cp = NULL;
    size_t np = 0;
    uint64_t total = 2 * DT_TAR_BLOCK;
    dt_err err;
    if (!t || !(t->dir = strdup(dir)) || !(cp = dt_strdup_printf("%s/board/checkpoint", dir))) {
        free(cp);
        if (t)
            free(t->dir);
        free(t);
        return r;
    }
    t->fd = -1;
    t->cp_fd = open(cp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    free(cp);
    if ((err = dt_web_public_files(&paths, &np, &msg, dir)) != DT_OK) {
        char *why = dt_strdup_printf("the record cannot be archived: %s", msg ? msg : dt_strerror(err));
        if (err != DT_ERR_NOMEM)
            r = dt_web_error(503, why ? why : "the record cannot be archived");
        free(why);
        goto fail;
    }
    if (!(t->f = calloc(np ? np : 1, sizeof *t->f)))
        goto fail;
    for (size_t i = 0; i < np; i++) {
        struct stat st;
        int ok;
        t->f[i].path = paths[i];
        paths[i] = NULL;
        t->n = i + 1;
        if (strcmp(t->f[i].path, "board/checkpoint") == 0 && t->cp_fd >= 0) {
            ok = fstat(t->cp_fd, &st) == 0;
        } else {
            char *full = dt_strdup_printf("%s/%s", dir, t->f[i].path);
            ok = full && lstat(full, &st) == 0;
            free(full);
        }
        if (!ok || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > DT_TAR_SIZE_MAX ||
            strlen(t->f[i].path) + sizeof DT_TAR_TOP - 1 > 255) {
            char *why = dt_strdup_printf("the record cannot be archived: %s cannot be read or is too large",
                                         t->f[i].path);
            r = dt_web_error(503, why ? why : "the record cannot be archived");
            free(why);
            goto fail;
        }
        t->f[i].size = (uint64_t)st.st_size;
        t->f[i].mtime = (int64_t)st.st_mtime;
        total += DT_TAR_BLOCK + padded(t->f[i].size);
    }
    dt_board_free_paths(paths, np);
    paths = NULL;
    r.resp = MHD_create_response_from_callback(total, 64 * 1024, stream_read, t, stream_free);
    if (!r.resp) {
        stream_free(t);
        return r;
    }
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-tar");
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                            "attachment; filename=\"detente-record.tar\"");
    MHD_add_response_header(r.resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    dt_web_secure_headers(r.resp);
    return r;
fail:
    dt_board_free_paths(paths, np);
    free(msg);
    stream_free(t);
    return r;
}
