/* The base64 and hex decoders of src/util/codec.c, used by every reader of
 * records, ballots and messages: dt_b64_decode_exact, dt_b64_decode_alloc
 * and dt_hex_decode_alloc, and the public-data base64 codec
 * (dt_b64_decode_exact_pub, dt_b64_decode_alloc_pub, dt_b64_encode_pub),
 * which must accept, refuse and write exactly as the constant-time one.
 *
 * Input: one byte n, then the text (read as a C string: up to its first NUL).
 * n is the exact length for dt_b64_decode_exact and the limit for
 * dt_b64_decode_alloc and dt_hex_decode_alloc. Promises checked: decoding
 * is canonical (what decodes re-encodes to the same text; hex up to case and
 * the leading 0 of an odd length); lengths and limits are as asked; a
 * failure allocates nothing. */
#include <ctype.h>

#include "fuzz.h"
#include "util/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = data[0];
    char *text = fuzz_cstr(data + 1, size - 1);
    size_t tlen = strlen(text), outlen = 1;
    unsigned char exact[255], *out = (unsigned char *)1;
    char *enc;

    {
        unsigned char pub[255];
        char penc[344];
        dt_err e1 = dt_b64_decode_exact(exact, n, text), e2 = dt_b64_decode_exact_pub(pub, n, text);
        FUZZ_CHECK(e1 == e2); /* the public-data decoder accepts the same texts */
        if (e1 == DT_OK) {
            FUZZ_CHECK(memcmp(exact, pub, n) == 0);
            FUZZ_CHECK((enc = dt_b64_encode(exact, n)) != NULL);
            FUZZ_CHECK(strcmp(enc, text) == 0);
            FUZZ_CHECK(dt_b64_encode_pub(penc, exact, n) == strlen(enc) && memcmp(penc, enc, strlen(enc)) == 0);
            free(enc);
        }
    }

    dt_err err = dt_b64_decode_alloc(&out, &outlen, text, n);
    {
        unsigned char *pout = (unsigned char *)1;
        size_t plen = 1;
        dt_err perr = dt_b64_decode_alloc_pub(&pout, &plen, text, n);
        FUZZ_CHECK(perr == err);
        if (perr == DT_OK) {
            FUZZ_CHECK(plen == outlen && memcmp(pout, out, plen) == 0);
            free(pout);
        } else {
            FUZZ_CHECK(pout == NULL && plen == 0);
        }
    }
    if (err == DT_OK) {
        FUZZ_CHECK(out != NULL && outlen <= n);
        FUZZ_CHECK((enc = dt_b64_encode(out, outlen)) != NULL);
        FUZZ_CHECK(strcmp(enc, text) == 0);
        free(enc);
        free(out);
    } else {
        FUZZ_CHECK(out == NULL && outlen == 0);
    }

    out = (unsigned char *)1;
    outlen = 1;
    err = dt_hex_decode_alloc(&out, &outlen, text, n);
    if (err == DT_OK) {
        FUZZ_CHECK(out != NULL && outlen == (tlen + 1) / 2 && outlen <= n);
        FUZZ_CHECK((enc = malloc(2 * outlen + 1)) != NULL);
        dt_hex_encode_upper(enc, out, outlen);
        if (tlen % 2)
            FUZZ_CHECK(enc[0] == '0');
        for (size_t i = 0; i < tlen; i++)
            FUZZ_CHECK(toupper((unsigned char)text[i]) == enc[i + tlen % 2]);
        free(enc);
        free(out);
    } else {
        FUZZ_CHECK(out == NULL && outlen == 0);
    }
    free(text);
    return 0;
}
