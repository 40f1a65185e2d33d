/* Hashing: HMAC-SHA-256 against RFC 4231, and ElectionGuard 2.0's base hashes
 * against the values of the specification and the sample record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <detente/election.h>
#include <detente/hash.h>

#include "util/codec.h"

static void unhex(unsigned char *out, const char *hex)
{
    unsigned char *b;
    size_t n;
    assert_int_equal(dt_hex_decode_alloc(&b, &n, hex, 4096), DT_OK);
    memcpy(out, b, n);
    free(b);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char key[131], out[32], want[32];
    /* test case 2 */
    dt_hmac_sha256(out, (const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28);
    unhex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_memory_equal(out, want, 32);
    /* test case 6: a key longer than the block */
    memset(key, 0xaa, sizeof key);
    dt_hmac_sha256(out, key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54);
    unhex(want, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    assert_memory_equal(out, want, 32);
}

static void test_streaming_equals_oneshot(void **state)
{
    (void)state;
    unsigned char key[32], a[32], b[32], msg[100];
    for (int i = 0; i < 32; i++)
        key[i] = (unsigned char)i;
    for (int i = 0; i < 100; i++)
        msg[i] = (unsigned char)(7 * i);
    dt_hmac_sha256(a, key, 32, msg, 100);
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, key);
    dt_hash_bytes(&ctx, msg, 1);
    dt_hash_bytes(&ctx, msg + 1, 0);
    dt_hash_bytes(&ctx, msg + 1, 63);
    dt_hash_bytes(&ctx, msg + 64, 36);
    dt_hash_final(&ctx, b);
    assert_memory_equal(a, b, 32);
}

static void test_encodings(void **state)
{
    (void)state;
    unsigned char key[32] = {1}, a[32], b[32];
    const unsigned char msg[] = {0x20, 0, 0, 0, 7, 0, 0, 0, 12, 'c', 'o', 'n', 't', 'e', 's', 't', '_', 'd', 'a', 't', 'a'};
    dt_hmac_sha256(a, key, 32, msg, sizeof msg);
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, key);
    dt_hash_u8(&ctx, 0x20);
    dt_hash_u32(&ctx, 7);
    dt_hash_prefixed(&ctx, "contest_data", 12);
    dt_hash_final(&ctx, b);
    assert_memory_equal(a, b, 32);
}

/* eq. 5 of the specification and the sample record's election_config.json */
static void test_base_hashes(void **state)
{
    (void)state;
    dt_group *g = dt_group_create(DT_GROUP_INTEGER4096);
    unsigned char hp[32], want[32], hm[32], hb[32], rec[32];
    unsigned char *manifest;
    size_t len;
    assert_non_null(g);
    dt_parameter_base_hash(g, hp);
    unhex(want, "2B3B025E50E09C119CBA7E9448ACD1CABC9447EF39BF06327D81C665CDD86296");
    assert_memory_equal(hp, want, 32);

    assert_int_equal(dt_read_file(&manifest, &len, DT_TEST_DATA "/allAvailable/manifest.json", 1 << 24), DT_OK);
    dt_manifest_hash(hm, hp, manifest, len);
    assert_int_equal(dt_b64_decode_exact(rec, 32, "4jSi8SdhkaPaIx+pTNfI1iE9rI4H6rwEmwZtnrpx2Xg="), DT_OK);
    assert_memory_equal(hm, rec, 32);
    dt_election_base_hash(hb, hp, hm, 3, 3);
    assert_int_equal(dt_b64_decode_exact(rec, 32, "eIJW8rlh4BCwRS2uSzla7dLY2svGLt+PswOfRfs5ZSw="), DT_OK);
    assert_memory_equal(hb, rec, 32);
    /* one changed manifest byte changes H_M */
    manifest[len / 2] ^= 1;
    dt_manifest_hash(hm, hp, manifest, len);
    assert_memory_not_equal(hm, rec, 32);
    free(manifest);

    /* ristretto255's H_P differs from the integer group's and is stable */
    dt_group *r = dt_group_create(DT_GROUP_RISTRETTO255);
    unsigned char hr[32], hr2[32];
    assert_non_null(r);
    dt_parameter_base_hash(r, hr);
    dt_parameter_base_hash(r, hr2);
    assert_memory_equal(hr, hr2, 32);
    /* docs/ristretto255-profile.md, recomputed with Python's hmac */
    unhex(want, "eb5a63c1fa1fc474c78394de0f989ba2f67f64c74c3f6502a506f6dad98dda80");
    assert_memory_equal(hr, want, 32);
    assert_memory_not_equal(hr, hp, 32);
    dt_group_destroy(r);
    dt_group_destroy(g);
}

static void test_codecs(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(dt_b64_decode_exact(out, 3, "YWJj"), DT_OK);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(dt_b64_decode_exact(out, 3, "YWJ"), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact(out, 3, "YW!j"), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact(out, 2, "YWJj"), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact(out, 2, "YWI="), DT_OK);
    char hex[9];
    dt_hex_encode_upper(hex, (const unsigned char *)"\x01\xab\xff\x00", 4);
    assert_string_equal(hex, "01ABFF00");
    unsigned char *b;
    size_t n;
    assert_int_equal(dt_hex_decode_alloc(&b, &n, "01abFF00", 16), DT_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(b, "\x01\xab\xff\x00", 4);
    free(b);
    /* at most maxlen bytes: "YQ==" is one (it was refused as possibly three) */
    assert_int_equal(dt_b64_decode_alloc(&b, &n, "YQ==", 1), DT_OK);
    assert_int_equal(n, 1);
    free(b);
    assert_int_equal(dt_b64_decode_alloc(&b, &n, "YWI=", 1), DT_ERR_LIMIT);
    assert_int_equal(dt_hex_decode_alloc(&b, &n, "0g", 16), DT_ERR_ENCODING);
    assert_int_equal(dt_hex_decode_alloc(&b, &n, "00000000", 2), DT_ERR_LIMIT);
}

/* The public-data base64 codec accepts, refuses and writes exactly what the
 * constant-time one does: every text of a valid encoding (0..40 bytes) with
 * each position replaced by each byte value, against both decoders. */
static void test_b64_pub(void **state)
{
    (void)state;
    unsigned char in[40], a[40], b[40];
    char text[64], pub[64];
    size_t nd = 0;
    for (size_t n = 0; n <= sizeof in; n++) {
        randombytes_buf(in, n);
        char *enc = dt_b64_encode(in, n);
        size_t tl;
        assert_non_null(enc);
        tl = strlen(enc);
        assert_int_equal(dt_b64_encode_pub(pub, in, n), tl);
        assert_memory_equal(pub, enc, tl);
        assert_int_equal(dt_b64_decode_exact_pub(a, n, enc), DT_OK);
        assert_memory_equal(a, in, n);
        for (size_t pos = 0; pos < tl; pos++)
            for (int v = 1; v < 256; v++) {
                unsigned char *x = NULL, *y = NULL;
                size_t xl = 0, yl = 0;
                dt_err e1, e2;
                memcpy(text, enc, tl + 1);
                text[pos] = (char)v;
                e1 = dt_b64_decode_exact(a, n, text);
                e2 = dt_b64_decode_exact_pub(b, n, text);
                assert_int_equal(e1, e2);
                if (e1 == DT_OK)
                    assert_memory_equal(a, b, n);
                nd += e1 == DT_OK;
                e1 = dt_b64_decode_alloc(&x, &xl, text, n);
                e2 = dt_b64_decode_alloc_pub(&y, &yl, text, n);
                assert_int_equal(e1, e2);
                assert_int_equal(xl, yl);
                if (e1 == DT_OK)
                    assert_memory_equal(x, y, xl);
                free(x);
                free(y);
            }
        free(enc);
    }
    assert_true(nd > 1000); /* the replacements include valid texts */
    /* unused bits set, padding inside, whitespace, a byte from 0x80 up */
    assert_int_equal(dt_b64_decode_exact_pub(a, 1, "YR=="), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact_pub(a, 2, "YWJ="), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact_pub(a, 2, "YWI="), DT_OK);
    assert_int_equal(dt_b64_decode_exact_pub(a, 4, "YQ==YWI="), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact_pub(a, 3, "YW Jj"), DT_ERR_ENCODING);
    assert_int_equal(dt_b64_decode_exact_pub(a, 3, "YWJ\xff"), DT_ERR_ENCODING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_streaming_equals_oneshot),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_base_hashes),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_b64_pub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
