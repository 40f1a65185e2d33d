/* Private: UTF-8 validation (RFC 3629), as jansson's reader checks its
 * input: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF, no stray continuation bytes, no truncated sequence. */
#ifndef DT_UTIL_UTF8_H
#define DT_UTIL_UTF8_H

#include <stddef.h>

/* Returns 1 if p[0..n) is valid UTF-8 (NUL bytes are valid UTF-8: callers
 * that refuse them check apart), else 0 and, if bad is not NULL, the offset
 * of the first byte of the first invalid sequence in *bad. Runs in time
 * linear in n, 8 bytes a step over ASCII. */
int dt_utf8_valid(const unsigned char *p, size_t n, size_t *bad);

#endif
