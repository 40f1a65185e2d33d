/* Decrypted contest data: dt_contest_data_parse (the verifier and the
 * decryption parse what a ballot's contest data decrypts to; the bytes are
 * chosen by whoever encrypted the ballot).
 *
 * Input: the decrypted bytes D. Promises checked: the answer is the same
 * whether or not the overvote list is asked for; on success the status is a
 * NUL-terminated string in its buffer and the counts fit in D. */
#include <detente/tally.h>

#include "fuzz.h"

#define STATUS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char status[STATUS], status2[STATUS];
    uint32_t *over = (uint32_t *)1;
    size_t nover = 0, nwi = 0, nover2 = 0, nwi2 = 0;
    dt_err err = dt_contest_data_parse(data, size, status, sizeof status, &over, &nover, &nwi);
    dt_err err2 = dt_contest_data_parse(data, size, status2, sizeof status2, NULL, &nover2, &nwi2);
    FUZZ_CHECK(err == err2);
    if (err != DT_OK) {
        FUZZ_CHECK(err == DT_ERR_ENCODING || err == DT_ERR_NOMEM);
        FUZZ_CHECK(over == NULL);
        return 0;
    }
    FUZZ_CHECK(memchr(status, '\0', sizeof status) != NULL && strcmp(status, status2) == 0);
    FUZZ_CHECK(nover == nover2 && nwi == nwi2 && nover <= size && nwi <= size);
    FUZZ_CHECK((nover == 0) == (over == NULL));
    for (size_t i = 0; i < nover; i++)
        FUZZ_CHECK(over[i] <= 0x7fffffff || over[i] == 0xFFFFFFFFu);
    free(over);
    return 0;
}
