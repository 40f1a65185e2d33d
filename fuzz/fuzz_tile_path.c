/* tlog-tiles resource paths: dt_tile_path_parse (the board server reads
 * them from request URLs).
 *
 * Input: a path (read as a C string: up to its first NUL). Promises
 * checked: a path that parses is the one dt_tile_path or
 * dt_tile_entries_path writes for its level, index and width (one path per
 * tile), with the width in 1..256 and the level at most 63. */
#include <detente/tiles.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstr(data, size), again[DT_TILE_PATH_MAX];
    unsigned level, width;
    uint64_t index;

    if (dt_tile_path_parse(&level, &index, &width, path) == DT_OK) {
        FUZZ_CHECK(width >= 1 && width <= DT_TILE_WIDTH);
        if (level == DT_TILE_ENTRIES) {
            FUZZ_CHECK(dt_tile_entries_path(again, index, width) == DT_OK);
        } else {
            FUZZ_CHECK(level <= 63);
            FUZZ_CHECK(dt_tile_path(again, level, index, width) == DT_OK);
        }
        FUZZ_CHECK(strcmp(again, path) == 0);
    }
    free(path);
    return 0;
}
