/* The manifest reader: dt_manifest_parse (the record reader's and the
 * election set-up's), then dt_manifest_validate on what parses.
 *
 * Input: manifest.json's bytes. Promises checked: the parsed manifest keeps
 * the input bytes exactly (they are hashed for H_M); failures come with a
 * message naming manifest.json; validation fails only with DT_ERR_INVALID
 * and a message (or DT_ERR_NOMEM). */
#include "fuzz.h"
#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_rec_manifest m;
    char *msg = NULL;
    dt_err err = dt_manifest_parse(&m, &msg, data, size);
    if (err != DT_OK) {
        FUZZ_CHECK(msg != NULL && strncmp(msg, "manifest.json", 13) == 0);
        free(msg);
        return 0;
    }
    FUZZ_CHECK(msg == NULL);
    FUZZ_CHECK(m.len == size && memcmp(m.bytes, data, size) == 0);
    err = dt_manifest_validate(&m, &msg);
    FUZZ_CHECK(err == DT_OK || err == DT_ERR_INVALID || err == DT_ERR_NOMEM);
    FUZZ_CHECK((err == DT_ERR_INVALID) == (msg != NULL));
    free(msg);
    dt_manifest_free(&m);
    return 0;
}
