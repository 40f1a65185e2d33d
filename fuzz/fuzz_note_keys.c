/* Note key strings: dt_note_verifier_parse and dt_note_signer_parse.
 *
 * Input: a key string (the same bytes are tried as both kinds). Promises
 * checked: a key that parses formats back to exactly the input (one string
 * per key), a signer's verifier key has the same name and key ID; a
 * failure leaves the output zeroed. */
#include <detente/note.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    dt_note_verifier v;
    dt_note_signer sk;
    char out[DT_NOTE_SKEY_MAX];
    size_t outlen;

    memset(&v, 0xa5, sizeof v);
    if (dt_note_verifier_parse(&v, s, size) == DT_OK) {
        outlen = sizeof out;
        FUZZ_CHECK(dt_note_verifier_format(out, &outlen, &v) == DT_OK);
        FUZZ_CHECK(outlen == size && memcmp(out, s, size) == 0);
    } else {
        FUZZ_CHECK(fuzz_all_zero(&v, sizeof v));
    }

    memset(&sk, 0xa5, sizeof sk);
    if (dt_note_signer_parse(&sk, s, size) == DT_OK) {
        outlen = sizeof out;
        FUZZ_CHECK(dt_note_signer_format(out, &outlen, &sk) == DT_OK);
        FUZZ_CHECK(outlen == size && memcmp(out, s, size) == 0);
        /* "PRIVATE+KEY+" name "+" id "+": the verifier key starts with name "+" id "+" */
        char vout[DT_NOTE_VKEY_MAX];
        size_t vlen = sizeof vout, namelen;
        dt_note_signer_verifier(&v, &sk);
        FUZZ_CHECK(dt_note_verifier_format(vout, &vlen, &v) == DT_OK);
        dt_note_verifier_name(&v, &namelen);
        FUZZ_CHECK(12 + namelen + 10 < size && memcmp(vout, s + 12, namelen + 10) == 0);
        dt_note_signer_clear(&sk);
        dt_memzero(out, sizeof out);
    } else {
        FUZZ_CHECK(fuzz_all_zero(&sk, sizeof sk));
    }
    return 0;
}
