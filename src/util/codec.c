#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/codec.h"
#include "util/ctcheck.h"

/* 1 if no byte of in[0..n) has its top bit set. sodium_base642bin (libsodium
 * 1.0.18) reads each such byte as a signed char that compares equal to '/',
 * so "\xff" or any UTF-8 letter decodes as "/" (found by fuzz/fuzz_codec.c):
 * the decoders refuse them first. Constant time (keys are decoded here). */
static int b64_ascii(const char *in, size_t n)
{
    unsigned high = 0;
    for (size_t i = 0; i < n; i++)
        high |= (unsigned char)in[i];
    return (high & 0x80) == 0;
}

/* in[0..inlen) decoded into out (at most cap bytes): 0 and *got, or -1 */
typedef int (*b64_decoder)(unsigned char *out, size_t cap, size_t *got, const char *in, size_t inlen);

/* libsodium's constant-time decoder, bytes from 0x80 up refused first */
static int b64_decode_ct(unsigned char *out, size_t cap, size_t *got, const char *in, size_t inlen)
{
    const char *end = NULL;
    return b64_ascii(in, inlen) &&
                   sodium_base642bin(out, cap, in, inlen, NULL, got, &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
                   end == in + inlen
               ? 0
               : -1;
}

/* dt_b64_decode_exact and dt_b64_decode_exact_pub, by their decoder */
static dt_err b64_decode_exact(unsigned char *out, size_t outlen, const char *in, b64_decoder dec)
{
    size_t inlen = strlen(in), got = 0;
    /* the canonical length for outlen bytes with padding */
    if (inlen != 4 * ((outlen + 2) / 3) || dec(out, outlen, &got, in, inlen) != 0 || got != outlen) {
        memset(out, 0, outlen);
        return DT_ERR_ENCODING;
    }
    return DT_OK;
}

dt_err dt_b64_decode_exact(unsigned char *out, size_t outlen, const char *in)
{
    return b64_decode_exact(out, outlen, in, b64_decode_ct);
}

/* dt_b64_decode_alloc and dt_b64_decode_alloc_pub, by their decoder */
static dt_err b64_decode_alloc(unsigned char **out, size_t *outlen, const char *in, size_t maxlen, b64_decoder dec)
{
    size_t inlen = strlen(in), got = 0, cap = inlen / 4 * 3;
    unsigned char *buf;
    *out = NULL;
    *outlen = 0;
    if (inlen % 4 != 0 || !b64_ascii(in, inlen))
        return DT_ERR_ENCODING; /* (before the limit: a long text of other bytes is ENCODING) */
    if (cap > maxlen + 2) /* more than maxlen bytes even with "==" */
        return DT_ERR_LIMIT;
    if (!(buf = malloc(cap + 1)))
        return DT_ERR_NOMEM;
    if (dec(buf, cap, &got, in, inlen) != 0) {
        free(buf);
        return DT_ERR_ENCODING;
    }
    if (got > maxlen) {
        free(buf);
        return DT_ERR_LIMIT;
    }
    *out = buf;
    *outlen = got;
    return DT_OK;
}

dt_err dt_b64_decode_alloc(unsigned char **out, size_t *outlen, const char *in, size_t maxlen)
{
    return b64_decode_alloc(out, outlen, in, maxlen, b64_decode_ct);
}

/* ---- base64 of public data: table lookups, variable time ----
 *
 * Ballots, proofs and records are public, and their base64 is most of the
 * text a verifier and the election server read and write; libsodium's
 * constant-time codec cost 4-6% of the server's time. These accept and
 * produce exactly what the constant-time functions do (fuzz_codec and
 * test_hash hold them to it): padded, canonical (the unused bits of the
 * last character zero), nothing else. Never for keys or nonces. */

/* a base64 character's value + 1; 0 for any other byte */
static const unsigned char b64_val[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 0,  0,  0,  0,  0,  0,
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 0,  0,  0,  0,  0,
    0,  27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
    42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 0,  0,  0,  0,  0,
    /* 0x80..0xff: 0 */
};

static const char b64_chars[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes in[0..inlen) into out (at most cap bytes): 0 and *got, or -1. */
static int b64_decode_pub(unsigned char *out, size_t cap, size_t *got, const char *in, size_t inlen)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;
    if (inlen % 4 != 0)
        return -1;
    for (size_t i = 0; i < inlen; i += 4, p += 4) {
        unsigned a = b64_val[p[0]], b = b64_val[p[1]], c = b64_val[p[2]], d = b64_val[p[3]];
        if (!a || !b)
            return -1;
        if (c && d) {
            uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6 | (d - 1);
            if (cap - n < 3)
                return -1;
            out[n] = (unsigned char)(v >> 16);
            out[n + 1] = (unsigned char)(v >> 8);
            out[n + 2] = (unsigned char)v;
            n += 3;
            continue;
        }
        /* padding: only in the last group, "x==" or "xy=", the unused bits zero */
        if (i + 4 != inlen || p[3] != '=')
            return -1;
        if (!c) {
            if (p[2] != '=' || ((b - 1) & 0xf) || cap - n < 1)
                return -1;
            out[n++] = (unsigned char)((a - 1) << 2 | (b - 1) >> 4);
        } else {
            if (((c - 1) & 0x3) || cap - n < 2)
                return -1;
            out[n] = (unsigned char)((a - 1) << 2 | (b - 1) >> 4);
            out[n + 1] = (unsigned char)(((b - 1) & 0xf) << 4 | (c - 1) >> 2);
            n += 2;
        }
    }
    *got = n;
    return 0;
}

dt_err dt_b64_decode_exact_pub(unsigned char *out, size_t outlen, const char *in)
{
    return b64_decode_exact(out, outlen, in, b64_decode_pub);
}

dt_err dt_b64_decode_alloc_pub(unsigned char **out, size_t *outlen, const char *in, size_t maxlen)
{
    return b64_decode_alloc(out, outlen, in, maxlen, b64_decode_pub);
}

size_t dt_b64_encode_pub(char *out, const unsigned char *in, size_t inlen)
{
    size_t n = 0, i = 0;
    for (; inlen - i >= 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[n] = b64_chars[v >> 18];
        out[n + 1] = b64_chars[(v >> 12) & 63];
        out[n + 2] = b64_chars[(v >> 6) & 63];
        out[n + 3] = b64_chars[v & 63];
        n += 4;
    }
    if (inlen - i == 1) {
        out[n] = b64_chars[in[i] >> 2];
        out[n + 1] = b64_chars[(in[i] & 3) << 4];
        out[n + 2] = out[n + 3] = '=';
        n += 4;
    } else if (inlen - i == 2) {
        out[n] = b64_chars[in[i] >> 2];
        out[n + 1] = b64_chars[(in[i] & 3) << 4 | in[i + 1] >> 4];
        out[n + 2] = b64_chars[(in[i + 1] & 0xf) << 2];
        out[n + 3] = '=';
        n += 4;
    }
    return n;
}

static char *b64_encode(const unsigned char *in, size_t inlen, int variant)
{
    size_t n = sodium_base64_encoded_len(inlen, variant);
    char *s = malloc(n);
    if (!s)
        return NULL;
    sodium_bin2base64(s, n, in, inlen, variant);
    return s;
}

char *dt_b64_encode(const unsigned char *in, size_t inlen)
{
    return b64_encode(in, inlen, sodium_base64_VARIANT_ORIGINAL);
}

char *dt_b64url_encode(const unsigned char *in, size_t inlen)
{
    return b64_encode(in, inlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 1 if lo <= c <= hi, for 0 <= c < 256, without a branch. */
static unsigned in_range(int c, int lo, int hi)
{
    return ((unsigned)((c - lo) | (hi - c)) >> 31) ^ 1u;
}

/* The value of a hex digit, or -1; no branch or index on c (keys and nonces
 * are decoded here, STYLE 29). Whether a digit is valid is public: an
 * invalid one is an error. */
static int hexval(int c)
{
    int l = c | 0x20;
    unsigned is_d = in_range(c, '0', '9'), is_l = in_range(l, 'a', 'f'), ok = is_d | is_l;
    unsigned v = ((0u - is_d) & (unsigned)(c - '0')) | ((0u - is_l) & (unsigned)(l - 'a' + 10));
    dt_declassify(&ok, sizeof ok);
    return ok ? (int)v : -1;
}

dt_err dt_hex_decode_alloc(unsigned char **out, size_t *outlen, const char *in, size_t maxlen)
{
    size_t n = strlen(in), odd = n & 1, len = (n + 1) / 2;
    unsigned char *buf;
    *out = NULL;
    *outlen = 0;
    if (len > maxlen)
        return DT_ERR_LIMIT;
    buf = calloc(len + 1, 1);
    if (!buf)
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v = hexval((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return DT_ERR_ENCODING;
        }
        size_t pos = (i + odd) / 2;
        if ((i + odd) % 2 == 0)
            buf[pos] = (unsigned char)(v << 4);
        else
            buf[pos] |= (unsigned char)v;
    }
    *out = buf;
    *outlen = len;
    return DT_OK;
}

/* '0'..'9', then a10 + 0..5 for 10..15, without a branch or a table index
 * on c (secrets are encoded here, STYLE 29). */
static char hex_digit(unsigned c, unsigned a10)
{
    unsigned ge10 = (9u - c) >> 31; /* 9 - c wraps exactly when c >= 10 */
    return (char)('0' + c + ((0u - ge10) & (a10 - '0' - 10u)));
}

static void hex_encode(char *out, const unsigned char *in, size_t inlen, unsigned a10)
{
    for (size_t i = 0; i < inlen; i++) {
        out[2 * i] = hex_digit(in[i] >> 4, a10);
        out[2 * i + 1] = hex_digit(in[i] & 15u, a10);
    }
    out[2 * inlen] = '\0';
}

void dt_hex_encode_upper(char *out, const unsigned char *in, size_t inlen)
{
    hex_encode(out, in, inlen, 'A');
}

void dt_hex_encode_lower(char *out, const unsigned char *in, size_t inlen)
{
    hex_encode(out, in, inlen, 'a');
}

dt_err dt_read_file(unsigned char **out, size_t *outlen, const char *path, size_t maxlen)
{
    dt_err err = DT_ERR_IO;
    unsigned char *buf = NULL;
    size_t len = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *out = NULL;
    *outlen = 0;
    if (fd < 0)
        return DT_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((uint64_t)st.st_size > maxlen) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        len += (size_t)r;
    }
    buf[len] = 0;
    *out = buf;
    *outlen = len;
    buf = NULL;
    err = DT_OK;
out:
    free(buf);
    close(fd);
    return err;
}

char *dt_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

dt_err dt_sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    int fd;
    dt_err err = DT_ERR_IO;
    if (!dir)
        return DT_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fsync(fd) == 0)
        err = DT_OK;
    if (fd >= 0)
        close(fd);
    free(dir);
    return err;
}

dt_err dt_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char *tmp = NULL;
    int fd = -1, renamed = 0;
    const int secret = (mode & 077) == 0;
    dt_err err = DT_ERR_IO;
    const unsigned char *p = data;
    size_t done = 0;
    unsigned char rnd[8];
    struct stat st;

    /* A secret file replaces only a regular file: a symbolic link or anything
     * else at the path is a sign of an attack or a mistake (rename would
     * replace the link itself, but whoever placed it expects us to write
     * through it). */
    if (secret) {
        if (lstat(path, &st) == 0) {
            if (!S_ISREG(st.st_mode)) {
                errno = S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
                return DT_ERR_IO;
            }
        } else if (errno != ENOENT) {
            return DT_ERR_IO;
        }
    }
    if (dt_random_bytes(rnd, sizeof rnd) != DT_OK)
        return DT_ERR_RANDOM;
    dt_declassify(rnd, sizeof rnd); /* public: a temporary file's name */
    tmp = dt_strdup_printf("%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2], rnd[3],
                           rnd[4], rnd[5], rnd[6], rnd[7]);
    if (!tmp)
        return DT_ERR_NOMEM;
    /* the mode is the file's from its creation: never a chmod afterwards */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        goto out;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    renamed = 1;
    /* a key must survive a crash once written: make the rename durable */
    if (secret && (err = dt_sync_parent(path)) != DT_OK)
        goto out;
    err = DT_OK;
out:
    if (fd >= 0) {
        int e = errno;
        close(fd);
        errno = e;
    }
    if (err && !renamed) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return err;
}

dt_err dt_write_temp_beside(char **tmp, const char *path, const char *tag, const void *data, size_t len)
{
    static atomic_uint counter;
    const char *slash = strrchr(path, '/');
    char *parent = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    const unsigned char *p = data;
    dt_err err = DT_ERR_NOMEM;
    int fd = -1;
    *tmp = NULL;
    if (!parent || !(*tmp = dt_strdup_printf("%s/.tmp-%s-%ld-%u", parent, tag, (long)getpid(),
                                              atomic_fetch_add(&counter, 1))))
        goto out;
    err = DT_ERR_IO;
    if (dt_mkdirs(parent) != DT_OK || (fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
        goto out;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    err = close(fd) == 0 ? DT_OK : DT_ERR_IO;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    if (err != DT_OK && *tmp) {
        int e = errno;
        unlink(*tmp);
        errno = e;
        free(*tmp);
        *tmp = NULL;
    }
    free(parent);
    return err;
}

int dt_file_equals(const char *path, const void *data, size_t len)
{
    unsigned char *t = NULL;
    size_t tl = 0;
    int same = dt_read_file(&t, &tl, path, len) == DT_OK && tl == len && (len == 0 || memcmp(t, data, len) == 0);
    free(t);
    return same;
}

dt_err dt_mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return DT_ERR_NOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return DT_ERR_IO;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        free(p);
        return DT_ERR_IO;
    }
    free(p);
    return DT_OK;
}
