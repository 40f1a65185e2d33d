#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/codec.h"

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

dt_err dt_b64_decode_exact(unsigned char *out, size_t outlen, const char *in)
{
    size_t inlen = strlen(in), got = 0;
    const char *end = NULL;
    /* Canonical length for outlen bytes with padding. */
    if (inlen != 4 * ((outlen + 2) / 3))
        return DT_ERR_ENCODING;
    if (!b64_ascii(in, inlen) ||
        sodium_base642bin(out, outlen, in, inlen, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != outlen || end != in + inlen) {
        memset(out, 0, outlen);
        return DT_ERR_ENCODING;
    }
    return DT_OK;
}

dt_err dt_b64_decode_alloc(unsigned char **out, size_t *outlen, const char *in, size_t maxlen)
{
    size_t inlen = strlen(in), got = 0, cap = inlen / 4 * 3 + 3;
    const char *end = NULL;
    unsigned char *buf;
    *out = NULL;
    *outlen = 0;
    if (inlen % 4 != 0 || !b64_ascii(in, inlen))
        return DT_ERR_ENCODING;
    if (cap > maxlen + 3)
        return DT_ERR_LIMIT;
    buf = malloc(cap + 1);
    if (!buf)
        return DT_ERR_NOMEM;
    if (sodium_base642bin(buf, cap, in, inlen, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        end != in + inlen) {
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

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
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

static void hex_encode(char *out, const unsigned char *in, size_t inlen, const char *digits)
{
    for (size_t i = 0; i < inlen; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * inlen] = '\0';
}

void dt_hex_encode_upper(char *out, const unsigned char *in, size_t inlen)
{
    hex_encode(out, in, inlen, "0123456789ABCDEF");
}

void dt_hex_encode_lower(char *out, const unsigned char *in, size_t inlen)
{
    hex_encode(out, in, inlen, "0123456789abcdef");
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

dt_err dt_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char *tmp = NULL;
    int fd = -1;
    dt_err err = DT_ERR_IO;
    const unsigned char *p = data;
    size_t done = 0;
    unsigned char rnd[8];

    if (dt_random_bytes(rnd, sizeof rnd) != DT_OK)
        return DT_ERR_RANDOM;
    tmp = dt_strdup_printf("%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2], rnd[3],
                           rnd[4], rnd[5], rnd[6], rnd[7]);
    if (!tmp)
        return DT_ERR_NOMEM;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        goto out;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
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
    err = DT_OK;
out:
    if (fd >= 0)
        close(fd);
    if (err)
        unlink(tmp);
    free(tmp);
    return err;
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
