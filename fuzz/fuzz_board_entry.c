/* Board entries: dt_board_entry_parse (a board's entries come from its
 * tiles, which anyone may serve).
 *
 * Input: an entry. Promises checked: the path is valid and lies in the
 * input; the body is the input's tail, empty for a blob; an inline entry is
 * exactly what dt_board_entry_format writes for its path, code and body
 * (one encoding per entry). */
#include <detente/board.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_board_entry e;
    unsigned char *out = NULL, blob_hash[32];
    size_t outlen = 0;
    int is_blob = 1;

    if (dt_board_entry_parse(&e, data, size) != DT_OK)
        return 0;
    FUZZ_CHECK(dt_board_path_valid(e.path, e.pathlen));
    FUZZ_CHECK(e.path > (const char *)data && e.path + e.pathlen < (const char *)data + size);
    FUZZ_CHECK(e.body + e.bodylen == data + size);
    if (e.is_blob) {
        FUZZ_CHECK(e.bodylen == 0);
        return 0;
    }
    char *path = fuzz_cstr((const uint8_t *)e.path, e.pathlen);
    FUZZ_CHECK(dt_board_entry_format(&out, &outlen, path, e.has_code ? e.code : NULL, e.body, e.bodylen, blob_hash,
                                     &is_blob) == DT_OK);
    FUZZ_CHECK(!is_blob && outlen == size && memcmp(out, data, size) == 0);
    free(out);
    free(path);
    return 0;
}
