/* cJSON with jansson's acceptance (src/util/cjson_strict.h).
 *
 * Three passes over a ballot of about 20 KB, each much cheaper than
 * jansson's parser: UTF-8 (dt_utf8_valid, 8 bytes a step over ASCII); a
 * validating scan with jansson 2.14's grammar (src/load.c: lex_scan,
 * lex_scan_string, lex_scan_number, parse_value), which records the
 * numbers; cJSON's tree; then one walk over the tree that checks each
 * object's keys and ties each number to its record. The scan refuses
 * everything jansson refuses, so cJSON only builds what is already known
 * to be good: cJSON's own leniency never shows. */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/cjson_strict.h"
#include "util/utf8.h"

/* ---- the scan ---- */

typedef struct scan {
    const unsigned char *p;
    size_t n;
    dt_cjson_doc *doc;
    dt_err err;          /* DT_ERR_PARSE or DT_ERR_NOMEM once failed */
    size_t errpos;       /* the offending byte */
    char reason[96];
} scan;

/* a scan function's failure, instead of the position after what it read */
#define DT_SCAN_FAIL SIZE_MAX

static size_t fail_at(scan *s, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static size_t fail_at(scan *s, size_t pos, const char *fmt, ...)
{
    va_list ap;
    s->err = DT_ERR_PARSE;
    s->errpos = pos;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    return DT_SCAN_FAIL;
}

static size_t fail_nomem(scan *s)
{
    s->err = DT_ERR_NOMEM;
    return DT_SCAN_FAIL;
}

static int is_digit(unsigned c)
{
    return c - '0' < 10u;
}

/* 8 bytes at p as one word (any alignment) */
static uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#define DT_ONES UINT64_C(0x0101010101010101)
#define DT_HIGHS UINT64_C(0x8080808080808080)

/* nonzero iff some byte of w is below n (n <= 128): exact, no false alarm */
static uint64_t has_less(uint64_t w, unsigned n)
{
    return (w - DT_ONES * n) & ~w & DT_HIGHS;
}

/* nonzero iff some byte of w is zero */
static uint64_t has_zero(uint64_t w)
{
    return (w - DT_ONES) & ~w & DT_HIGHS;
}

/* past jansson's whitespace (space, \t, \n, \r; cJSON's is every byte up
 * to 0x20) from i. Indentation, after a newline, 8 spaces a step. */
static inline size_t skip_ws(const unsigned char *p, size_t n, size_t i)
{
    while (i < n) {
        unsigned c = p[i];
        if (c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
            break;
        i++;
        if (c == '\n')
            while (n - i >= 8 && load8(p + i) == DT_ONES * ' ')
                i += 8;
    }
    return i;
}

static int hex4(const unsigned char *p, size_t n, size_t i, unsigned *out)
{
    unsigned v = 0;
    if (i > n || n - i < 4)
        return 0;
    for (size_t k = 0; k < 4; k++) {
        unsigned c = p[i + k], d;
        if (is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* A string at i (its opening quote); the text is valid UTF-8 already.
 * jansson refuses control characters (0x00-0x1F) unescaped, escapes other
 * than \" \\ \/ \b \f \n \r \t \uXXXX, a surrogate not in a pair, and
 * \u0000 (without JSON_ALLOW_NUL; in a key always). Returns the position
 * after the closing quote. */
static size_t scan_string(scan *s, size_t i)
{
    const unsigned char *p = s->p;
    const size_t n = s->n;
    i++;
    for (;;) {
        /* 8 bytes a step while none is a quote, a backslash or a control
         * character (base64 values are long runs of such bytes) */
        while (n - i >= 8) {
            uint64_t w = load8(p + i);
            if (has_less(w, 0x20) | has_zero(w ^ (DT_ONES * '"')) | has_zero(w ^ (DT_ONES * '\\')))
                break;
            i += 8;
        }
        while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
            i++;
        if (i >= n)
            return fail_at(s, i, "premature end of input");
        unsigned c = p[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return c == '\n' ? fail_at(s, i, "unexpected newline") : fail_at(s, i, "control character 0x%x", c);
        /* a backslash */
        if (i + 1 >= n)
            return fail_at(s, i + 1, "premature end of input");
        c = p[i + 1];
        if (c != 'u') {
            if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't')
                return fail_at(s, i, "invalid escape");
            i += 2;
            continue;
        }
        unsigned u, u2;
        if (!hex4(p, n, i + 2, &u))
            return fail_at(s, i, "invalid escape");
        if (u == 0)
            return fail_at(s, i, "\\u0000 is not allowed");
        if (u >= 0xDC00 && u <= 0xDFFF)
            return fail_at(s, i, "invalid Unicode '\\u%04X'", u);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (!(n - i >= 8 && p[i + 6] == '\\' && p[i + 7] == 'u' && hex4(p, n, i + 8, &u2) && u2 >= 0xDC00 &&
                  u2 <= 0xDFFF))
                return fail_at(s, i, "invalid Unicode '\\u%04X' (a high surrogate alone)", u);
            i += 6;
        }
        i += 6;
    }
}

static int add_num(scan *s, int64_t value, bool real)
{
    dt_cjson_doc *d = s->doc;
    if (d->nnums == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        dt_cjson_num *nv = realloc(d->nums, cap * sizeof *nv);
        if (!nv)
            return 0;
        d->nums = nv;
        d->cap = cap;
    }
    d->nums[d->nnums].value = value;
    d->nums[d->nnums].real = real;
    d->nnums++;
    return 1;
}

/* jansson's jsonp_strtod: a real whose value overflows a double is refused
 * (one that underflows is 0, accepted). strtod as jansson calls it, with
 * the locale's decimal point. */
static int real_overflows(const unsigned char *tok, size_t len, int *nomem)
{
    char small[80], *buf = small;
    const char *point = localeconv()->decimal_point;
    double v;
    *nomem = 0;
    if (len >= sizeof small && !(buf = malloc(len + 1))) {
        *nomem = 1;
        return 0;
    }
    memcpy(buf, tok, len);
    buf[len] = '\0';
    if (point && *point && *point != '.') {
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = *point;
    }
    errno = 0;
    v = strtod(buf, NULL);
    int over = (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;
    if (buf != small)
        free(buf);
    return over;
}

/* A number at i ('-' or a digit): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * An integer (no fraction, no exponent) must fit json_int_t (int64). */
static size_t scan_number(scan *s, size_t i)
{
    const unsigned char *p = s->p;
    const size_t n = s->n, start = i;
    bool neg = false, real = false;
    if (p[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= n || !is_digit(p[i]))
        return fail_at(s, start, "invalid token");
    if (p[i] == '0') {
        i++;
        if (i < n && is_digit(p[i]))
            return fail_at(s, start, "invalid token (a leading zero)");
    } else {
        while (i < n && is_digit(p[i]))
            i++;
    }
    const size_t int_end = i;
    if (i < n && p[i] == '.') {
        real = true;
        i++;
        if (i >= n || !is_digit(p[i]))
            return fail_at(s, start, "invalid token");
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        real = true;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit(p[i]))
            return fail_at(s, start, "invalid token");
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (real) {
        int nomem;
        if (real_overflows(p + start, i - start, &nomem))
            return fail_at(s, start, "real number overflow");
        if (nomem || !add_num(s, 0, true))
            return fail_nomem(s);
        return i;
    }
    /* strtoll's range: -2^63 .. 2^63 - 1 */
    uint64_t m = 0;
    const uint64_t lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
    for (size_t k = start + neg; k < int_end; k++) {
        unsigned d = p[k] - '0';
        if (m > (lim - d) / 10)
            return fail_at(s, start, neg ? "too big negative integer" : "too big integer");
        m = m * 10 + d;
    }
    int64_t v = neg ? (m == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return add_num(s, v, false) ? i : fail_nomem(s);
}

/* The whole text: one object or array (jansson without JSON_DECODE_ANY),
 * then only whitespace. Iterative, with the open containers on a stack.
 * Returns 1, or 0 with s->err set. */
static int scan_text(scan *s)
{
    unsigned char stack[DT_JSON_MAX_DEPTH];
    size_t depth = 0, i = 0;
    const unsigned char *p = s->p;
    const size_t n = s->n;

    i = skip_ws(p, n, i);
    if (i >= n || (p[i] != '{' && p[i] != '['))
        return fail_at(s, i, "'[' or '{' expected"), 0;
value:
    i = skip_ws(p, n, i);
    if (i >= n)
        return fail_at(s, i, "premature end of input"), 0;
    switch (p[i]) {
    case '{':
    case '[':
        if (depth == DT_JSON_MAX_DEPTH) {
            /* not an error: beyond cJSON, for jansson (dt_cjson_parse) */
            fail_at(s, i, "nested more than %u levels deep", DT_JSON_MAX_DEPTH);
            s->err = DT_ERR_LIMIT;
            return 0;
        }
        stack[depth++] = p[i++];
        i = skip_ws(p, n, i);
        if (i < n && p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
            i++;
            depth--;
            goto after;
        }
        if (stack[depth - 1] == '[')
            goto value;
        goto key;
    case '"':
        if ((i = scan_string(s, i)) == DT_SCAN_FAIL)
            return 0;
        goto after;
    case 't':
        if (n - i < 4 || memcmp(p + i, "true", 4) != 0)
            return fail_at(s, i, "invalid token"), 0;
        i += 4;
        goto after;
    case 'f':
        if (n - i < 5 || memcmp(p + i, "false", 5) != 0)
            return fail_at(s, i, "invalid token"), 0;
        i += 5;
        goto after;
    case 'n':
        if (n - i < 4 || memcmp(p + i, "null", 4) != 0)
            return fail_at(s, i, "invalid token"), 0;
        i += 4;
        goto after;
    default:
        if (p[i] == '-' || is_digit(p[i])) {
            if ((i = scan_number(s, i)) == DT_SCAN_FAIL)
                return 0;
            goto after;
        }
        return fail_at(s, i, "unexpected token"), 0;
    }
key:
    i = skip_ws(p, n, i);
    if (i >= n || p[i] != '"')
        return fail_at(s, i, "string or '}' expected"), 0;
    if ((i = scan_string(s, i)) == DT_SCAN_FAIL)
        return 0;
    i = skip_ws(p, n, i);
    if (i >= n || p[i] != ':')
        return fail_at(s, i, "':' expected"), 0;
    i++;
    goto value;
after:
    i = skip_ws(p, n, i);
    if (depth == 0) {
        if (i != n)
            return fail_at(s, i, "end of file expected"), 0;
        return 1;
    }
    if (i < n && p[i] == ',') {
        i++;
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    }
    if (i < n && p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
        i++;
        depth--;
        goto after;
    }
    return fail_at(s, i, stack[depth - 1] == '{' ? "'}' expected" : "']' expected"), 0;
}

/* ---- the walk: keys and numbers ---- */

typedef struct frame {
    const struct frame *up;
    const char *key; /* a member's key, or NULL for an array's item */
    size_t index;
} frame;

typedef struct walk {
    dt_cjson_doc *doc;
    size_t next;     /* the next number's index */
    dt_err err;
    char *why;
    size_t whycap;
} walk;

static void path_of(char *out, size_t cap, const frame *f)
{
    /* the frames run from the leaf up: collect them, then write root first */
    const frame *v[DT_JSON_MAX_DEPTH + 1];
    size_t k = 0, len = 0;
    for (; f && k < sizeof v / sizeof *v; f = f->up)
        v[k++] = f;
    out[0] = '\0';
    if (k == 0) {
        snprintf(out, cap, "the top level");
        return;
    }
    while (k-- > 0 && len < cap) {
        int w = v[k]->key ? snprintf(out + len, cap - len, "%s%.64s", len ? "." : "", v[k]->key)
                          : snprintf(out + len, cap - len, "[%zu]", v[k]->index);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key of obj that an earlier one repeats, or NULL; *nomem on
 * allocation failure. Small objects (all of a ballot's) compare pairwise,
 * larger ones sort: no object costs more than O(k log k). */
static const char *duplicate_key(const cJSON *obj, int *nomem)
{
    size_t k = 0;
    const cJSON *c;
    *nomem = 0;
    for (c = obj->child; c; c = c->next)
        k++;
    if (k <= 16) {
        for (c = obj->child; c; c = c->next)
            for (const cJSON *d = obj->child; d != c; d = d->next)
                if (c->string[0] == d->string[0] && strcmp(c->string, d->string) == 0)
                    return c->string;
        return NULL;
    }
    const char **keys = malloc(k * sizeof *keys), *dup = NULL;
    if (!keys) {
        *nomem = 1;
        return NULL;
    }
    k = 0;
    for (c = obj->child; c; c = c->next)
        keys[k++] = c->string;
    qsort(keys, k, sizeof *keys, cmp_key);
    for (size_t i = 1; i < k && !dup; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            dup = keys[i];
    free(keys);
    return dup;
}

/* Out of walk_item, whose frame stays small: it recurses once a level. */
static __attribute__((noinline)) int duplicate_found(walk *w, const frame *f, const char *key)
{
    char path[512];
    path_of(path, sizeof path, f);
    w->err = DT_ERR_PARSE;
    snprintf(w->why, w->whycap, "at %s: duplicate object key \"%.64s\"", path, key);
    return 0;
}

static int walk_item(walk *w, cJSON *v, const frame *f)
{
    if (cJSON_IsNumber(v)) {
        if (w->next >= w->doc->nnums || w->next > (size_t)INT32_MAX) {
            /* the scan saw fewer numbers than cJSON made: cannot happen */
            w->err = DT_ERR_PARSE;
            snprintf(w->why, w->whycap, "at the top level: the scan and cJSON disagree on the numbers");
            return 0;
        }
        v->valueint = (int)w->next++;
        return 1;
    }
    if (cJSON_IsObject(v)) {
        int nomem;
        const char *dup = duplicate_key(v, &nomem);
        if (nomem) {
            w->err = DT_ERR_NOMEM;
            return 0;
        }
        if (dup)
            return duplicate_found(w, f, dup);
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        const bool obj = cJSON_IsObject(v);
        frame cf = {.up = f, .key = NULL, .index = 0};
        for (cJSON *c = v->child; c; c = c->next, cf.index++) {
            cf.key = obj ? c->string : NULL;
            if (!walk_item(w, c, &cf))
                return 0;
        }
    }
    return 1;
}

/* ---- the interface ---- */

/* A refused text's message, jansson's own: the scan knows that the text is
 * bad, jansson says where and why in its words (line, column in
 * characters, "near '...'"), so the messages stay those of the jansson
 * readers. The cold path only. (Should jansson accept it, the scan's own
 * reason stays: the differential test and fuzzer would show that.) */
static void jansson_says(char *why, size_t whycap, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j)
        json_decref(j);
    else if (whycap)
        snprintf(why, whycap, "at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
}

/* ---- the tree's memory ----
 *
 * cJSON allocates every item and string on its own (about 700 for a ballot
 * of 20 selections) and frees them one by one: a tenth of reading a ballot.
 * dt_cjson_parse gives cJSON, through its allocation hooks, a bump arena of
 * its own for the duration of cJSON_ParseWithLengthOpts (a thread-local
 * pointer: other threads' cJSON calls, and this thread's outside a parse,
 * get malloc and free), and dt_cjson_free lets go of the arena whole. Not
 * under AddressSanitizer, which must see each allocation. */
typedef struct dt_cjson_chunk {
    struct dt_cjson_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} dt_cjson_chunk;

#if defined(__SANITIZE_ADDRESS__)
#define DT_CJSON_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DT_CJSON_ARENA 0
#endif
#endif
#ifndef DT_CJSON_ARENA
#define DT_CJSON_ARENA 1
#endif

static __thread dt_cjson_chunk **tl_arena; /* the current parse's arena, or NULL */

static void *arena_malloc(size_t n)
{
    dt_cjson_chunk *c;
    if (!tl_arena)
        return malloc(n);
    n = (n + 15) & ~(size_t)15;
    c = *tl_arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        c->next = *tl_arena;
        c->used = 0;
        c->cap = cap;
        *tl_arena = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static void arena_free(void *p)
{
    if (!tl_arena)
        free(p);
    /* in the arena: freed with it (cJSON frees only on its error paths while parsing) */
}

static void hooks_init(void)
{
    cJSON_Hooks h = {arena_malloc, arena_free};
    cJSON_InitHooks(&h);
}

static void arena_release(dt_cjson_chunk *c)
{
    while (c) {
        dt_cjson_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void dt_cjson_free(dt_cjson_doc *doc)
{
    if (doc->arena)
        arena_release(doc->arena); /* the whole tree at once */
    else
        cJSON_Delete(doc->root);
    free(doc->nums);
    memset(doc, 0, sizeof *doc);
}

dt_err dt_cjson_parse(dt_cjson_doc *doc, char *why, size_t whycap, const char *text, size_t len)
{
    scan s = {.p = (const unsigned char *)text, .n = len, .doc = doc, .err = DT_OK};
    size_t bad = 0;

    memset(doc, 0, sizeof *doc);
    if (whycap)
        why[0] = '\0';
    if (!dt_utf8_valid(s.p, len, &bad)) {
        fail_at(&s, bad, "unable to decode byte 0x%x", s.p[bad]);
    } else if (!scan_text(&s) && s.err == DT_OK) {
        s.err = DT_ERR_PARSE; /* not reached: every failure sets err */
    }
    if (s.err == DT_ERR_LIMIT) {
        dt_cjson_free(doc);
        return DT_ERR_LIMIT; /* nested too deep for cJSON: the caller asks jansson */
    }
    if (s.err != DT_OK) {
        if (s.err == DT_ERR_PARSE && whycap) {
            /* jansson's line and column, 1-based (columns in bytes here) */
            size_t line = 1, col = 1;
            for (size_t i = 0; i < s.errpos && i < len; i++) {
                if (s.p[i] == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            snprintf(why, whycap, "at line %zu, column %zu: %s", line, col, s.reason);
            jansson_says(why, whycap, text, len);
        }
        dt_cjson_free(doc);
        return s.err;
    }
    /* cJSON writes its static error position (NULL, 0) at the start of
     * every parse, from every thread that parses: a race on a value that
     * nothing here reads (cJSON_GetErrorPtr is never called), the one
     * shared state of cJSON 1.7.15's parser (default hooks, never set) */
    if (DT_CJSON_ARENA) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, hooks_init);
        tl_arena = &doc->arena;
        doc->root = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
        tl_arena = NULL;
    } else {
        doc->root = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
    }
    if (!doc->root) {
        /* the scan accepted it: cJSON ran out of memory, or meets a limit
         * of its own (Debian's 1.7.15 has none left below 1000 levels;
         * upstream's cut numbers of 64 characters): jansson decides */
        dt_cjson_free(doc);
        return DT_ERR_LIMIT;
    }
    walk w = {.doc = doc, .next = 0, .err = DT_OK, .why = why, .whycap = whycap};
    if (!walk_item(&w, doc->root, NULL) || w.next != doc->nnums) {
        dt_err err = w.err ? w.err : DT_ERR_PARSE;
        if (!w.err && whycap)
            snprintf(why, whycap, "at the top level: the scan and cJSON disagree on the numbers");
        if (err == DT_ERR_PARSE)
            jansson_says(why, whycap, text, len);
        dt_cjson_free(doc);
        return err;
    }
    return DT_OK;
}

dt_json_type dt_cjson_typeof(const dt_cjson_doc *doc, const cJSON *v)
{
    switch (v->type & 0xFF) {
    case cJSON_Object: return DT_JSON_OBJECT;
    case cJSON_Array: return DT_JSON_ARRAY;
    case cJSON_String: return DT_JSON_STRING;
    case cJSON_True: return DT_JSON_TRUE;
    case cJSON_False: return DT_JSON_FALSE;
    case cJSON_Number:
        if (v->valueint >= 0 && (size_t)v->valueint < doc->nnums)
            return doc->nums[v->valueint].real ? DT_JSON_REAL : DT_JSON_INTEGER;
        return DT_JSON_REAL; /* not from dt_cjson_parse: never an integer */
    default: return DT_JSON_NULL;
    }
}

const char *dt_cjson_type_name(dt_json_type t)
{
    switch (t) {
    case DT_JSON_OBJECT: return "an object";
    case DT_JSON_ARRAY: return "an array";
    case DT_JSON_STRING: return "a string";
    case DT_JSON_INTEGER: return "an integer";
    case DT_JSON_REAL: return "a real number";
    case DT_JSON_TRUE: case DT_JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

int64_t dt_cjson_int(const dt_cjson_doc *doc, const cJSON *v)
{
    if (dt_cjson_typeof(doc, v) != DT_JSON_INTEGER)
        return 0;
    return doc->nums[v->valueint].value;
}

const cJSON *dt_cjson_get(const cJSON *obj, const char *key)
{
    if (!obj || !cJSON_IsObject(obj))
        return NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string[0] == key[0] && strcmp(c->string, key) == 0)
            return c;
    return NULL;
}

size_t dt_cjson_size(const cJSON *v)
{
    size_t n = 0;
    if (v && (cJSON_IsArray(v) || cJSON_IsObject(v)))
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
    return n;
}

void dt_cjson_path_format(char *out, size_t cap, const dt_cjson_path *k)
{
    const dt_cjson_path *v[32];
    size_t n = 0, len = 0;
    for (; k && n < sizeof v / sizeof *v; k = k->up)
        v[n++] = k;
    out[0] = '\0';
    while (n-- > 0 && len < cap) {
        int w = v[n]->indexed ? snprintf(out + len, cap - len, "%s%s[%zu]", len ? "." : "", v[n]->key, v[n]->index)
                              : snprintf(out + len, cap - len, "%s%s", len ? "." : "", v[n]->key);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}
