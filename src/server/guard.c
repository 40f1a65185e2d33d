/* Guards of the election server against bad requests (src/server/admin.h):
 * nesting depth before jansson parses, query arguments, %00 in URLs. */
#include <stdio.h>
#include <string.h>

#include "server/admin.h"

int dt_json_too_deep(const char *text, size_t len, unsigned max)
{
    unsigned depth = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        char ch = *p++;
        if (ch == '"') {
            /* to the closing quote (a backslash escapes the next
             * character), with memchr: most of a ballot is base64 strings.
             * The next quote is searched for again only once an escape has
             * passed it, so that a string of backslashes stays linear. */
            const char *q = NULL, *b;
            for (;;) {
                if (!q || q < p) {
                    if (!(q = memchr(p, '"', (size_t)(end - p))))
                        return 0;
                }
                if (!(b = memchr(p, '\\', (size_t)(q - p)))) {
                    p = q + 1;
                    break;
                }
                if (end - b < 2)
                    return 0;
                p = b + 2;
            }
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                return 1;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

typedef struct query_walk {
    const char *const *allowed;
    unsigned seen[8];
    char *why;
    size_t whycap;
    int ok;
} query_walk;

static void printable(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
    out[i] = '\0';
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    query_walk *w = cls;
    char k[48];
    size_t i = 0;
    (void)kind;
    printable(k, sizeof k, key ? key : "");
    for (; w->allowed[i] && strcmp(w->allowed[i], key ? key : "") != 0; i++)
        ;
    if (!w->allowed[i] || i >= sizeof w->seen / sizeof *w->seen) {
        snprintf(w->why, w->whycap, "unknown query argument '%s'", k);
    } else if (!value) {
        snprintf(w->why, w->whycap, "the query argument '%s' has no value", k);
    } else if (++w->seen[i] > 1) {
        snprintf(w->why, w->whycap, "the query argument '%s' is given twice", k);
    } else {
        return MHD_YES;
    }
    w->ok = 0;
    return MHD_NO;
}

int dt_server_query_ok(struct MHD_Connection *c, const char *const *allowed, char *why, size_t whycap)
{
    query_walk w;
    memset(&w, 0, sizeof w);
    w.allowed = allowed;
    w.why = why;
    w.whycap = whycap;
    w.ok = 1;
    if (whycap)
        why[0] = '\0';
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &w);
    return w.ok;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

size_t dt_server_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *r = s, *w = s;
    (void)cls;
    (void)c;
    while (*r) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi || lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}
