/* Private: cJSON with jansson's acceptance, for the hot readers of
 * encrypted ballots (src/record/ballot_cjson.c, src/ballot/ballot_cjson.c).
 *
 * cJSON (libcjson 1.7.15) parses a ballot about 6 times faster than
 * jansson's json_loadb, but accepts texts that jansson refuses: duplicate
 * keys, invalid UTF-8, \u0000, control characters in strings, leading
 * zeros ("01", "1."), integers beyond 64 bits and reals beyond a double, a
 * scalar at the top level, a byte-order mark, any control character as
 * whitespace, and trailing garbage; and it does not tell 1 from 1.0.
 * dt_cjson_parse first checks the text as jansson 2.14's
 * json_loadb(..., JSON_REJECT_DUPLICATES) checks it (a validating scan that
 * also records every number as jansson types it), then lets cJSON build the
 * tree, then checks every object's keys. A text is accepted exactly when
 * jansson accepts it. cJSON cannot parse more than 1000 nested arrays and
 * objects (CJSON_NESTING_LIMIT; jansson: 2048): such a text (never a real
 * ballot) is handed back to the caller, which reads it with jansson, so
 * that no verdict changes. tests/test_ballot_parse.c and
 * fuzz/fuzz_ballot_diff.c hold the readers built on it to the jansson
 * readers.
 *
 * Numbers: jansson has integers (json_int_t, 64 bits: a token without '.',
 * 'e' or 'E') and reals (double); cJSON keeps a double only. The scan keeps
 * each number's jansson type and exact integer value in a table, in
 * document order, and the key check stores each number's index in the
 * table in the cJSON item's valueint (which cJSON itself never reads
 * back): use dt_cjson_typeof and dt_cjson_int, never valuedouble. */
#ifndef DT_UTIL_CJSON_STRICT_H
#define DT_UTIL_CJSON_STRICT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <detente/common.h>

/* The most arrays and objects nested in one another that cJSON parses
 * (its CJSON_NESTING_LIMIT); deeper texts go to jansson (DT_ERR_LIMIT). */
#define DT_JSON_MAX_DEPTH 1000u

/* jansson's types (json_type), booleans apart */
typedef enum dt_json_type {
    DT_JSON_OBJECT,
    DT_JSON_ARRAY,
    DT_JSON_STRING,
    DT_JSON_INTEGER,
    DT_JSON_REAL,
    DT_JSON_TRUE,
    DT_JSON_FALSE,
    DT_JSON_NULL,
} dt_json_type;

typedef struct dt_cjson_num {
    int64_t value; /* an integer's exact value; 0 for a real */
    bool real;
} dt_cjson_num;

struct dt_cjson_chunk;

typedef struct dt_cjson_doc {
    cJSON *root;        /* an object or an array, as jansson's default */
    dt_cjson_num *nums; /* every number, in document order */
    size_t nnums, cap;
    struct dt_cjson_chunk *arena; /* the tree's memory (dt_cjson_parse), or NULL: cJSON's own */
} dt_cjson_doc;

/* Parses text[0..len) (no NUL needed) into *doc, accepting exactly what
 * jansson's json_loadb(text, len, JSON_REJECT_DUPLICATES) accepts. Returns
 *  - DT_OK;
 *  - DT_ERR_PARSE: refused, why set for "invalid JSON %s" in jansson's own
 *    words ("at line 2, column 29: \u0000 is not allowed without
 *    JSON_ALLOW_NUL"): jansson parses a refused text again for them (the
 *    cold path only);
 *  - DT_ERR_LIMIT: beyond cJSON: nested deeper than DT_JSON_MAX_DEPTH, or
 *    cJSON failed (out of memory) on a text the scan found good so far.
 *    Not a verdict: the caller reads the text with jansson instead;
 *  - DT_ERR_NOMEM.
 * On error *doc is empty. Free with dt_cjson_free. Threads may parse at
 * once (no state of ours; cJSON's error position, never read, and
 * localeconv for a real number, as in jansson: dt_cjson_parse). */
DT_WARN_UNUSED_RESULT dt_err dt_cjson_parse(dt_cjson_doc *doc, char *why, size_t whycap, const char *text,
                                            size_t len);
/* Frees the tree and the table; doc is empty after. */
void dt_cjson_free(dt_cjson_doc *doc);

/* v's jansson type (v not NULL, from doc's tree). */
dt_json_type dt_cjson_typeof(const dt_cjson_doc *doc, const cJSON *v);
/* "an object", "an array", "a string", "an integer", "a real number",
 * "a boolean", "null": the names of the readers' messages */
const char *dt_cjson_type_name(dt_json_type t);
/* The exact value of an integer v (dt_cjson_typeof is DT_JSON_INTEGER);
 * 0 otherwise. */
int64_t dt_cjson_int(const dt_cjson_doc *doc, const cJSON *v);
/* obj's member named key (case-sensitive, as json_object_get), or NULL if
 * there is none or obj is not an object. */
const cJSON *dt_cjson_get(const cJSON *obj, const char *key);
/* The number of items of an array or members of an object (0 otherwise);
 * time linear in it, as cJSON keeps a list. */
size_t dt_cjson_size(const cJSON *v);

/* A key path ("contests[0].selections[1].proof") kept on the stack as a
 * reader descends, written out only for an error message: on a valid
 * ballot, formatting every path cost more than the JSON checks. */
typedef struct dt_cjson_path {
    const struct dt_cjson_path *up; /* NULL: the top level */
    const char *key;
    size_t index;
    bool indexed; /* key[index] */
} dt_cjson_path;

/* Writes the path as the jansson readers' messages do ("a.b[2].c"). */
void dt_cjson_path_format(char *out, size_t cap, const dt_cjson_path *k);

#endif
