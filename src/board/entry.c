/* Board entries: one public artifact of an election record each. */
#include <detente/board.h>
#include <detente/hash.h>
#include <detente/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"

#define MAGIC_LINE DT_BOARD_ENTRY_MAGIC "\n"

int dt_board_path_valid(const char *path, size_t len)
{
    if (path == NULL || len == 0 || len > DT_BOARD_PATH_MAX)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t clen = i - start;
            if (clen == 0 || (clen == 1 && path[start] == '.') ||
                (clen == 2 && path[start] == '.' && path[start + 1] == '.'))
                return 0;
            start = i + 1;
            continue;
        }
        char c = path[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The line starting at p (up to end), without its '\n'; NULL if there is no '\n'. */
static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* lower case only: one encoding per hash */
}

dt_err dt_board_entry_parse(dt_board_entry *e, const unsigned char *data, size_t len)
{
    if (e == NULL || (data == NULL && len != 0))
        dt_misuse("dt_board_entry_parse: NULL argument");
    memset(e, 0, sizeof *e);
    if (len > DT_LOG_ENTRY_MAX)
        return DT_ERR_ENCODING;
    const char *p = (const char *)data, *end = p + len, *nl;
    size_t mlen = strlen(MAGIC_LINE);
    if (len < mlen || memcmp(p, MAGIC_LINE, mlen) != 0)
        return DT_ERR_ENCODING;
    p += mlen;

    /* path */
    if ((size_t)(end - p) < 5 || memcmp(p, "path ", 5) != 0 || (nl = line_end(p, end)) == NULL)
        return DT_ERR_ENCODING;
    if (!dt_board_path_valid(p + 5, (size_t)(nl - p - 5)))
        return DT_ERR_ENCODING;
    e->path = p + 5;
    e->pathlen = (size_t)(nl - p - 5);
    p = nl + 1;

    /* code (optional): canonical base64 of 32 bytes is 44 characters */
    if ((size_t)(end - p) >= 5 && memcmp(p, "code ", 5) == 0) {
        if ((nl = line_end(p, end)) == NULL || nl - p - 5 != 44)
            return DT_ERR_ENCODING;
        char b64[45];
        memcpy(b64, p + 5, 44);
        b64[44] = '\0';
        if (dt_b64_decode_exact(e->code, sizeof e->code, b64) != DT_OK)
            return DT_ERR_ENCODING;
        char *again = dt_b64_encode(e->code, sizeof e->code);
        if (again == NULL)
            return DT_ERR_NOMEM;
        int canonical = strcmp(again, b64) == 0;
        free(again);
        if (!canonical)
            return DT_ERR_ENCODING;
        e->has_code = 1;
        p = nl + 1;
    }

    /* blob (optional): 64 lower-case hex digits, a space, a decimal size */
    if ((size_t)(end - p) >= 5 && memcmp(p, "blob ", 5) == 0) {
        if ((nl = line_end(p, end)) == NULL || nl - p < 5 + 64 + 2 || p[5 + 64] != ' ')
            return DT_ERR_ENCODING;
        for (size_t i = 0; i < 32; i++) {
            int hi = hex_value(p[5 + 2 * i]), lo = hex_value(p[6 + 2 * i]);
            if (hi < 0 || lo < 0)
                return DT_ERR_ENCODING;
            e->blob_hash[i] = (unsigned char)(hi << 4 | lo);
        }
        const char *s = p + 5 + 65;
        if (s == nl || (*s == '0' && s + 1 != nl))
            return DT_ERR_ENCODING;
        uint64_t size = 0;
        for (; s < nl; s++) {
            if (*s < '0' || *s > '9' || size > (UINT64_MAX - 9) / 10)
                return DT_ERR_ENCODING;
            size = size * 10 + (uint64_t)(*s - '0');
        }
        if (size > DT_LOG_BLOB_MAX)
            return DT_ERR_ENCODING;
        e->is_blob = 1;
        e->blob_size = size;
        p = nl + 1;
    }

    if (p >= end || *p != '\n')
        return DT_ERR_ENCODING;
    p++;
    e->body = (const unsigned char *)p;
    e->bodylen = (size_t)(end - p);
    if (e->is_blob && e->bodylen != 0)
        return DT_ERR_ENCODING;
    return DT_OK;
}

dt_err dt_board_entry_format(unsigned char **out, size_t *outlen, const char *path, const unsigned char *code,
                             const unsigned char *content, size_t contentlen, unsigned char blob_hash[32],
                             int *is_blob)
{
    if (out == NULL || outlen == NULL || path == NULL || blob_hash == NULL || is_blob == NULL ||
        (content == NULL && contentlen != 0))
        dt_misuse("dt_board_entry_format: NULL argument");
    *out = NULL;
    *outlen = 0;
    *is_blob = 0;
    size_t pathlen = strlen(path);
    if (!dt_board_path_valid(path, pathlen))
        return DT_ERR_INVALID;
    if (contentlen > DT_LOG_BLOB_MAX)
        return DT_ERR_LIMIT;
    dt_sha256(blob_hash, content, contentlen);

    char head[DT_BOARD_PATH_MAX + 256];
    size_t hlen = (size_t)sprintf(head, "%spath %s\n", MAGIC_LINE, path);
    if (code != NULL) {
        char *b64 = dt_b64_encode(code, DT_BOARD_CODE_BYTES);
        if (b64 == NULL)
            return DT_ERR_NOMEM;
        hlen += (size_t)sprintf(head + hlen, "code %s\n", b64);
        free(b64);
    }
    int blob = hlen + 1 + contentlen > DT_LOG_ENTRY_MAX;
    if (blob) {
        char hex[65];
        dt_hex_encode_lower(hex, blob_hash, 32);
        hlen += (size_t)sprintf(head + hlen, "blob %s %zu\n", hex, contentlen);
    }
    head[hlen++] = '\n';
    size_t total = hlen + (blob ? 0 : contentlen);
    unsigned char *buf = malloc(total ? total : 1);
    if (buf == NULL)
        return DT_ERR_NOMEM;
    memcpy(buf, head, hlen);
    if (!blob && contentlen)
        memcpy(buf + hlen, content, contentlen);
    *out = buf;
    *outlen = total;
    *is_blob = blob;
    return DT_OK;
}

size_t dt_board_path_key(unsigned char key[DT_BOARD_KEY_MAX], const char *path, size_t len)
{
    if (key == NULL || path == NULL || len > DT_BOARD_PATH_MAX)
        dt_misuse("dt_board_path_key: NULL argument or path too long");
    key[0] = 'p';
    memcpy(key + 1, path, len);
    return 1 + len;
}

size_t dt_board_code_key(unsigned char key[1 + DT_BOARD_CODE_BYTES], const unsigned char code[DT_BOARD_CODE_BYTES])
{
    if (key == NULL || code == NULL)
        dt_misuse("dt_board_code_key: NULL argument");
    key[0] = 'c';
    memcpy(key + 1, code, DT_BOARD_CODE_BYTES);
    return 1 + DT_BOARD_CODE_BYTES;
}
