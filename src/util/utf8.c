/* UTF-8 validation (src/util/utf8.h). ASCII, most of any JSON record, is
 * skipped 8 bytes at a time; a multi-byte sequence is checked against the
 * table of well-formed sequences of Unicode 15, table 3-7 (the same set
 * that jansson's utf8_check_first and utf8_check_full accept). */
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

int dt_utf8_valid(const unsigned char *p, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* the second byte's range depends on the first (table 3-7):
         * E0 A0..BF (no overlong), ED 80..9F (no surrogate), F0 90..BF
         * (no overlong), F4 80..8F (at most U+10FFFF) */
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            goto invalid; /* a continuation byte, C0, C1 (overlong ASCII) or F5..FF */
        }
        if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
            goto invalid;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                goto invalid;
        i += len;
    }
    return 1;
invalid:
    if (bad)
        *bad = i;
    return 0;
}
