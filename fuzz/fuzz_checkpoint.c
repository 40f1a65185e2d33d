/* Checkpoint bodies: dt_checkpoint_parse.
 *
 * Input: a checkpoint's note text. Promises checked: what parses formats
 * back to exactly the input (dt_checkpoint_format), with the origin and the
 * extension lines pointing into the input; a failure zeroes every output. */
#include <detente/note.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data, *origin = body, *ext = body;
    size_t originlen = 1, extlen = 1, outlen;
    uint64_t tree_size = 1;
    unsigned char root[DT_CHECKPOINT_ROOT_BYTES];
    char *out;

    memset(root, 0xa5, sizeof root);
    if (dt_checkpoint_parse(&origin, &originlen, &tree_size, root, &ext, &extlen, body, size) != DT_OK) {
        FUZZ_CHECK(origin == NULL && originlen == 0 && tree_size == 0 && ext == NULL && extlen == 0);
        FUZZ_CHECK(fuzz_all_zero(root, sizeof root));
        return 0;
    }
    FUZZ_CHECK(origin == body && originlen > 0 && originlen < size);
    FUZZ_CHECK(extlen == 0 ? ext == NULL : (ext > body && ext + extlen == body + size));
    outlen = size + 1;
    out = malloc(outlen);
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(dt_checkpoint_format(out, &outlen, origin, originlen, tree_size, root, ext, extlen) == DT_OK);
    FUZZ_CHECK(outlen == size && memcmp(out, body, size) == 0);
    free(out);
    return 0;
}
