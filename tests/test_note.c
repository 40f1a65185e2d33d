/* Signed notes, checkpoints and cosignatures: the signed-note vectors
 * (golang.org/x/mod and the C2SP example), round trips, and every malformed
 * input refused with its error code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <detente/note.h>

#define VECTORS DT_TEST_VECTORS "/signed-note/signed-note-vectors.json"

static const char TEXT[] = "If you think cryptography is the answer to your problem,\n"
                           "then you don't know what your problem is.\n";

static void mk_signer(dt_note_signer *s, const char *name, unsigned type, unsigned char fill)
{
    unsigned char seed[32];
    memset(seed, fill, sizeof seed);
    assert_int_equal(dt_note_signer_from_seed(s, name, strlen(name), type, seed), DT_OK);
}

static dt_err open1(const char *note, const dt_note_verifier *v, size_t *textlen)
{
    unsigned char ok = 0;
    size_t tl = 0;
    dt_err err = dt_note_open(&tl, &ok, NULL, note, strlen(note), v, 1);
    if (err == DT_OK)
        assert_int_equal(ok, 1);
    else
        assert_int_equal(ok, 0);
    if (textlen)
        *textlen = tl;
    return err;
}

static dt_err vparse(dt_note_verifier *v, const char *s) { return dt_note_verifier_parse(v, s, strlen(s)); }
static dt_err sparse(dt_note_signer *s, const char *k) { return dt_note_signer_parse(s, k, strlen(k)); }

static void test_vectors(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *root = json_load_file(VECTORS, 0, &jerr), *vecs, *v;
    size_t i, ran = 0, signed_checked = 0;
    assert_non_null(root);
    vecs = json_object_get(root, "vectors");
    assert_true(json_is_array(vecs));
    json_array_foreach(vecs, i, v)
    {
        const char *vkey = json_string_value(json_object_get(v, "vkey"));
        const char *note = json_string_value(json_object_get(v, "note"));
        const char *expect = json_string_value(json_object_get(v, "expect"));
        json_t *sk = json_object_get(v, "skey");
        dt_note_verifier ver;
        char buf[DT_NOTE_MAX_BYTES + 1];
        size_t tl, n;
        dt_err err;
        assert_non_null(vkey);
        assert_non_null(note);
        assert_non_null(expect);
        assert_int_equal(vparse(&ver, vkey), DT_OK);
        /* the verifier key formats back to the same string */
        n = sizeof buf;
        assert_int_equal(dt_note_verifier_format(buf, &n, &ver), DT_OK);
        assert_string_equal(buf, vkey);
        err = open1(note, &ver, &tl);
        if (strcmp(expect, "valid") == 0) {
            assert_int_equal(err, DT_OK);
        } else {
            assert_string_equal(expect, "invalid");
            assert_int_not_equal(err, DT_OK);
        }
        if (sk) {
            const char *skey = json_string_value(sk);
            dt_note_signer s;
            const dt_note_signer *ss[1] = {&s};
            dt_note_verifier derived;
            assert_non_null(skey);
            assert_int_equal(sparse(&s, skey), DT_OK);
            n = sizeof buf;
            assert_int_equal(dt_note_signer_format(buf, &n, &s), DT_OK);
            assert_string_equal(buf, skey);
            dt_note_signer_verifier(&derived, &s);
            n = sizeof buf;
            assert_int_equal(dt_note_verifier_format(buf, &n, &derived), DT_OK);
            assert_string_equal(buf, vkey);
            if (err == DT_OK) {
                /* Ed25519 is deterministic: signing the text gives the note */
                n = sizeof buf;
                assert_int_equal(dt_note_sign(buf, &n, note, tl, ss, 1), DT_OK);
                assert_int_equal(n, strlen(note));
                assert_string_equal(buf, note);
                signed_checked++;
            }
            dt_note_signer_clear(&s);
        }
        ran++;
    }
    json_decref(root);
    printf("signed-note vectors: %zu ran, %zu re-signed\n", ran, signed_checked);
    assert_true(ran > 0);
    assert_true(signed_checked > 0);
}

static void test_key_roundtrip(void **state)
{
    (void)state;
    static const unsigned types[2] = {DT_NOTE_ED25519, DT_NOTE_COSIG};
    for (int t = 0; t < 2; t++) {
        dt_note_signer s, s2;
        dt_note_verifier v, v2;
        char vk[DT_NOTE_VKEY_MAX], sk[DT_NOTE_SKEY_MAX], again[DT_NOTE_SKEY_MAX];
        size_t n = sizeof vk, namelen;
        unsigned char pre[33];
        unsigned char h[32];
        assert_int_equal(dt_note_signer_generate(&s, "example.com/log", 15, types[t]), DT_OK);
        dt_note_signer_verifier(&v, &s);
        assert_int_equal(dt_note_verifier_type(&v), types[t]);
        assert_int_equal(dt_note_verifier_format(vk, &n, &v), DT_OK);
        assert_int_equal(n, strlen(vk));
        assert_int_equal(vparse(&v2, vk), DT_OK);
        assert_memory_equal(&v, &v2, sizeof v);
        /* key ID recomputed independently: SHA-256(name || 0x0A || type || key)[:4] */
        {
            unsigned char buf[15 + 1 + 33];
            memcpy(buf, "example.com/log\n", 16);
            buf[16] = (unsigned char)types[t];
            memcpy(buf + 17, dt_note_verifier_pubkey(&v), 32);
            crypto_hash_sha256(h, buf, sizeof buf);
            assert_int_equal(dt_note_verifier_id(&v), (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                                                          (uint32_t)h[2] << 8 | h[3]);
        }
        assert_memory_equal(dt_note_verifier_name(&v, &namelen), "example.com/log", 15);
        assert_int_equal(namelen, 15);
        n = sizeof sk;
        assert_int_equal(dt_note_signer_format(sk, &n, &s), DT_OK);
        assert_memory_equal(sk, "PRIVATE+KEY+example.com/log+", 28);
        assert_int_equal(sparse(&s2, sk), DT_OK);
        assert_memory_equal(&s, &s2, sizeof s);
        n = sizeof again;
        assert_int_equal(dt_note_signer_format(again, &n, &s2), DT_OK);
        assert_string_equal(again, sk);
        /* base64 payload starts with the type byte */
        {
            size_t got;
            assert_int_equal(sodium_base642bin(pre, sizeof pre, vk + 15 + 10, 44, NULL, &got, NULL,
                                               sodium_base64_VARIANT_ORIGINAL),
                             0);
            assert_int_equal(pre[0], types[t]);
        }
        /* small buffer: DT_ERR_LIMIT and the size needed */
        n = 10;
        assert_int_equal(dt_note_verifier_format(vk, &n, &v), DT_ERR_LIMIT);
        assert_int_equal(n, strlen(vk) + 1);
        dt_note_signer_clear(&s);
        dt_note_signer_clear(&s2);
    }
}

/* A verifier key string for an arbitrary type byte, with the right key ID. */
static void forge_vkey(char *out, size_t cap, const char *name, unsigned char type, const unsigned char pk[32])
{
    unsigned char buf[300], h[32], kd[33];
    char b64[64];
    size_t nl = strlen(name);
    memcpy(buf, name, nl);
    buf[nl] = '\n';
    buf[nl + 1] = type;
    memcpy(buf + nl + 2, pk, 32);
    crypto_hash_sha256(h, buf, nl + 34);
    kd[0] = type;
    memcpy(kd + 1, pk, 32);
    sodium_bin2base64(b64, sizeof b64, kd, 33, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", name, h[0], h[1], h[2], h[3], b64);
}

static void test_key_malformed(void **state)
{
    (void)state;
    const char *good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const char *goodsk = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    dt_note_verifier v;
    dt_note_signer s;
    char buf[600];
    unsigned char pk[32];
    assert_int_equal(vparse(&v, good), DT_OK);
    memcpy(pk, dt_note_verifier_pubkey(&v), 32);
    /* wrong key hash */
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_INVALID);
    /* the key hash must be 8 lower-case hex digits */
    assert_int_equal(vparse(&v, "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    /* wrong algorithm byte, even with a key ID computed for it */
    forge_vkey(buf, sizeof buf, "PeterNeumann", 0x02, pk);
    assert_int_equal(vparse(&v, buf), DT_ERR_INVALID);
    forge_vkey(buf, sizeof buf, "PeterNeumann", 0x01, pk);
    assert_string_equal(buf, good);
    assert_int_equal(vparse(&v, buf), DT_OK);
    /* a cosignature key (0x04) has its own key ID */
    forge_vkey(buf, sizeof buf, "PeterNeumann", 0x04, pk);
    assert_int_equal(vparse(&v, buf), DT_OK);
    assert_int_equal(dt_note_verifier_type(&v), DT_NOTE_COSIG);
    assert_int_not_equal(dt_note_verifier_id(&v), 0xc74f20a3u);
    /* bad base64: a bad character, missing padding, a short key, trailing data */
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n"), DT_ERR_ENCODING);
    /* names: empty, with a space, with a control character, too long */
    assert_int_equal(vparse(&v, "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "Peter\xc2\xa0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "Peter\tNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), DT_ERR_ENCODING);
    assert_int_equal(vparse(&v, "PeterNeumann"), DT_ERR_ENCODING);
    memset(buf, 'a', 300);
    strcpy(buf + 300, "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    assert_int_equal(vparse(&v, buf), DT_ERR_LIMIT);
    assert_int_equal(dt_note_signer_from_seed(&s, buf, 256, DT_NOTE_ED25519, pk), DT_ERR_LIMIT);
    assert_int_equal(dt_note_signer_from_seed(&s, "a b", 3, DT_NOTE_ED25519, pk), DT_ERR_ENCODING);
    assert_int_equal(dt_note_signer_from_seed(&s, "a+b", 3, DT_NOTE_ED25519, pk), DT_ERR_ENCODING);
    assert_int_equal(dt_note_signer_from_seed(&s, "", 0, DT_NOTE_ED25519, pk), DT_ERR_ENCODING);
    /* NUL inside */
    assert_int_equal(dt_note_verifier_parse(&v, "Peter\0eumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 66),
                     DT_ERR_ENCODING);
    /* signer keys */
    assert_int_equal(sparse(&s, goodsk), DT_OK);
    assert_int_equal(sparse(&s, goodsk + 12), DT_ERR_ENCODING);
    assert_int_equal(sparse(&s, "PRIVATE+KEY+PeterNeumann+c74f20a2+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), DT_ERR_INVALID);
    assert_int_equal(sparse(&s, "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF!"), DT_ERR_ENCODING);
    /* same seed under another type byte: the key ID no longer matches */
    assert_int_equal(sparse(&s, "PRIVATE+KEY+PeterNeumann+c74f20a3+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), DT_ERR_INVALID);
    assert_int_equal(sparse(&s, "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), DT_ERR_INVALID);
    {
        dt_note_signer zero;
        memset(&zero, 0, sizeof zero);
        assert_memory_equal(&s, &zero, sizeof s); /* wiped on error */
    }
}

static void sign_text(char *out, size_t cap, const char *text, const dt_note_signer *const *ss, size_t n)
{
    size_t len = cap;
    assert_int_equal(dt_note_sign(out, &len, text, strlen(text), ss, n), DT_OK);
    assert_int_equal(len, strlen(out));
}

static void test_note_roundtrip(void **state)
{
    (void)state;
    dt_note_signer a, b;
    dt_note_verifier va, vb, both[2];
    const dt_note_signer *ab[2] = {&a, &b};
    char note[4096];
    unsigned char ok[2];
    size_t tl;
    static const char *texts[] = {"\n", "one line\n", "blank\n\nlines\n\n", "— looks like a signature\n\n",
                                  "ed è subito sera.\n"};
    mk_signer(&a, "example.com/a", DT_NOTE_ED25519, 1);
    mk_signer(&b, "example.com/b", DT_NOTE_ED25519, 2);
    dt_note_signer_verifier(&va, &a);
    dt_note_signer_verifier(&vb, &b);
    both[0] = va, both[1] = vb;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sign_text(note, sizeof note, texts[i], ab, 2);
        assert_int_equal(dt_note_open(&tl, ok, NULL, note, strlen(note), both, 2), DT_OK);
        assert_int_equal(ok[0], 1);
        assert_int_equal(ok[1], 1);
        assert_int_equal(tl, strlen(texts[i]));
        assert_memory_equal(note, texts[i], tl);
        assert_int_equal(open1(note, &vb, &tl), DT_OK);
        assert_int_equal(tl, strlen(texts[i]));
    }
    /* only one of two known keys signed */
    sign_text(note, sizeof note, TEXT, ab, 1);
    assert_int_equal(dt_note_open(&tl, ok, NULL, note, strlen(note), both, 2), DT_OK);
    assert_int_equal(ok[0], 1);
    assert_int_equal(ok[1], 0);
    /* a duplicated signature line is verified again and counted once */
    {
        char dup[4096];
        const char *sig = strstr(note, "\n\n") + 2;
        snprintf(dup, sizeof dup, "%s%s", note, sig);
        assert_int_equal(open1(dup, &va, NULL), DT_OK);
    }
    dt_note_signer_clear(&a);
    dt_note_signer_clear(&b);
}

static void test_note_malformed(void **state)
{
    (void)state;
    dt_note_signer a, twin, other;
    dt_note_verifier va, vtwin;
    const dt_note_signer *sa[1] = {&a}, *st[1] = {&twin};
    char note[4096], bad[8192];
    size_t n, tl;
    mk_signer(&a, "example.com/a", DT_NOTE_ED25519, 1);
    mk_signer(&twin, "example.com/a", DT_NOTE_ED25519, 9); /* same name, another key and hash */
    mk_signer(&other, "example.com/other", DT_NOTE_ED25519, 3);
    dt_note_signer_verifier(&va, &a);
    dt_note_signer_verifier(&vtwin, &twin);
    assert_int_not_equal(dt_note_verifier_id(&va), dt_note_verifier_id(&vtwin));
    sign_text(note, sizeof note, TEXT, sa, 1);
    assert_int_equal(open1(note, &va, NULL), DT_OK);
    n = strlen(note);

    /* signing: text must be non-empty, end in a newline, be UTF-8 without controls */
    tl = sizeof bad;
    assert_int_equal(dt_note_sign(bad, &tl, "no newline", 10, sa, 1), DT_ERR_ENCODING);
    tl = sizeof bad;
    assert_int_equal(dt_note_sign(bad, &tl, "", 0, sa, 1), DT_ERR_ENCODING);
    tl = sizeof bad;
    assert_int_equal(dt_note_sign(bad, &tl, "tab\there\n", 9, sa, 1), DT_ERR_ENCODING);
    tl = sizeof bad;
    assert_int_equal(dt_note_sign(bad, &tl, "bad \xff utf8\n", 11, sa, 1), DT_ERR_ENCODING);
    tl = 20;
    assert_int_equal(dt_note_sign(bad, &tl, TEXT, strlen(TEXT), sa, 1), DT_ERR_LIMIT);
    assert_int_equal(tl, n + 1);

    /* missing final newline */
    assert_int_equal(dt_note_open(&tl, (unsigned char[1]){0}, NULL, note, n - 1, &va, 1), DT_ERR_ENCODING);
    /* no blank line before the signatures */
    snprintf(bad, sizeof bad, "%.*s%s", (int)strlen(TEXT) - 1, note, note + strlen(TEXT));
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    /* a control character, invalid UTF-8, a CR */
    memcpy(bad, note, n + 1);
    bad[3] = '\x01';
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    bad[3] = '\xc0';
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    bad[3] = '\r';
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    /* signature lines: no em dash, no space, bad base64, too short */
    snprintf(bad, sizeof bad, "%sjunk\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s— nospace\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s— x AAAA!AAA\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s— x AAAAAA==\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s— x  AAAAAAAA\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s— a+b AAAAAAAA\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s\n", note); /* an empty line after the signatures */
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_ENCODING);
    /* unknown keys (other name, or other key ID) are ignored */
    snprintf(bad, sizeof bad, "%s— x AAAAAAAA\n— example.com/a AAAAAAAA\n", note);
    assert_int_equal(open1(bad, &va, NULL), DT_OK);

    /* a signature by a key with the same name but another hash is ignored */
    {
        char tnote[4096];
        sign_text(tnote, sizeof tnote, TEXT, st, 1);
        assert_int_equal(open1(tnote, &va, NULL), DT_ERR_NOT_FOUND);
        snprintf(bad, sizeof bad, "%s%s", note, strstr(tnote, "\n\n") + 2);
        assert_int_equal(open1(bad, &va, NULL), DT_OK);
        assert_int_equal(open1(bad, &vtwin, NULL), DT_OK);
    }
    /* only unknown signers */
    {
        const dt_note_signer *so[1] = {&other};
        char onote[4096];
        sign_text(onote, sizeof onote, TEXT, so, 1);
        assert_int_equal(open1(onote, &va, NULL), DT_ERR_NOT_FOUND);
    }
    /* a known key whose signature fails: the whole note is refused */
    memcpy(bad, note, n + 1);
    bad[0] ^= 0x01; /* tampered text */
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_PROOF);
    memcpy(bad, note, n + 1);
    bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A'; /* tampered signature */
    assert_int_equal(open1(bad, &va, NULL), DT_ERR_PROOF);
    {
        /* known key ID with a truncated signature */
        unsigned char raw[8];
        char b64[16], line[128];
        uint32_t id = dt_note_verifier_id(&va);
        raw[0] = (unsigned char)(id >> 24), raw[1] = (unsigned char)(id >> 16);
        raw[2] = (unsigned char)(id >> 8), raw[3] = (unsigned char)id;
        memset(raw + 4, 0, 4);
        sodium_bin2base64(b64, sizeof b64, raw, 8, sodium_base64_VARIANT_ORIGINAL);
        snprintf(line, sizeof line, "— example.com/a %s\n", b64);
        snprintf(bad, sizeof bad, "%s%s", note, line);
        assert_int_equal(open1(bad, &va, NULL), DT_ERR_PROOF);
    }

    /* signature count: DT_NOTE_MAX_SIGS lines pass, one more is refused */
    {
        size_t pos = (size_t)snprintf(bad, sizeof bad, "%s", note);
        for (int i = 1; i < DT_NOTE_MAX_SIGS; i++)
            pos += (size_t)snprintf(bad + pos, sizeof bad - pos, "— x AAAAAAAA\n");
        assert_int_equal(open1(bad, &va, NULL), DT_OK);
        snprintf(bad + pos, sizeof bad - pos, "— x AAAAAAAA\n");
        assert_int_equal(open1(bad, &va, NULL), DT_ERR_LIMIT);
    }
    /* oversized note */
    {
        size_t big = DT_NOTE_MAX_BYTES + 1;
        char *huge = malloc(big + 1);
        assert_non_null(huge);
        memset(huge, 'a', big);
        memcpy(huge + big - n, note, n);
        huge[big] = 0;
        assert_int_equal(open1(huge, &va, NULL), DT_ERR_LIMIT);
        tl = big + 200;
        char *out = malloc(tl);
        assert_non_null(out);
        memset(huge, 'a', big);
        huge[DT_NOTE_MAX_BYTES - 11] = '\n'; /* text fits, text and signature do not */
        assert_int_equal(dt_note_sign(out, &tl, huge, DT_NOTE_MAX_BYTES - 10, sa, 1), DT_ERR_LIMIT);
        huge[big - 1] = '\n'; /* text alone too big */
        assert_int_equal(dt_note_sign(out, &tl, huge, big, sa, 1), DT_ERR_LIMIT);
        free(out);
        free(huge);
    }
    dt_note_signer_clear(&a);
    dt_note_signer_clear(&twin);
    dt_note_signer_clear(&other);
}

static void test_checkpoint(void **state)
{
    (void)state;
    static const char example[] = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    unsigned char root[32], want[32];
    const char *origin, *ext;
    size_t olen, elen, n;
    uint64_t size;
    char out[512];
    assert_int_equal(dt_checkpoint_parse(&origin, &olen, &size, root, &ext, &elen, example, strlen(example)), DT_OK);
    assert_int_equal(olen, 27);
    assert_memory_equal(origin, "example.com/behind-the-sofa", 27);
    assert_int_equal(size, 20852163);
    assert_null(ext);
    assert_int_equal(elen, 0);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, origin, olen, size, root, NULL, 0), DT_OK);
    assert_string_equal(out, example);
    /* with extension lines, size 0 and the largest size */
    memset(want, 0xab, 32);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "o", 1, 0, want, "ext one\next two\n", 16), DT_OK);
    assert_int_equal(dt_checkpoint_parse(&origin, &olen, &size, root, &ext, &elen, out, n), DT_OK);
    assert_int_equal(size, 0);
    assert_memory_equal(root, want, 32);
    assert_int_equal(elen, 16);
    assert_memory_equal(ext, "ext one\next two\n", 16);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "o", 1, DT_CHECKPOINT_MAX_SIZE, want, NULL, 0), DT_OK);
    assert_non_null(strstr(out, "\n9223372036854775807\n"));
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "o", 1, DT_CHECKPOINT_MAX_SIZE + 1, want, NULL, 0), DT_ERR_LIMIT);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "a\nb", 3, 1, want, NULL, 0), DT_ERR_ENCODING);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "", 0, 1, want, NULL, 0), DT_ERR_ENCODING);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "o", 1, 1, want, "\n", 1), DT_ERR_ENCODING);
    n = sizeof out;
    assert_int_equal(dt_checkpoint_format(out, &n, "o", 1, 1, want, "no newline", 10), DT_ERR_ENCODING);

    static const struct {
        const char *body;
        dt_err err;
    } bad[] = {
        {"o\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING}, /* leading zero */
        {"o\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},
        {"o\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},       /* empty size */
        {"o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},
        {"o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},
        {"o\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},
        {"o\n9223372036854775808\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_LIMIT},
        {"o\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_LIMIT},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n", DT_ERR_ENCODING},       /* 31-byte root */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", DT_ERR_ENCODING},      /* non-canonical */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},      /* base64url */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", DT_ERR_ENCODING},       /* no padding */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", DT_ERR_ENCODING},        /* no final newline */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", DT_ERR_ENCODING},    /* empty extension */
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\ne\n\nf\n", DT_ERR_ENCODING},
        {"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING},       /* empty origin */
        {"o\n1\n", DT_ERR_ENCODING},                                                   /* two lines */
        {"o\n", DT_ERR_ENCODING},
        {"", DT_ERR_ENCODING},
        {"o\tx\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", DT_ERR_ENCODING}, /* control */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_err err = dt_checkpoint_parse(&origin, &olen, &size, root, &ext, &elen, bad[i].body, strlen(bad[i].body));
        if (err != bad[i].err)
            fail_msg("checkpoint %zu: got %d, want %d", i, err, bad[i].err);
        assert_null(origin);
        assert_int_equal(size, 0);
    }
    {
        char longo[DT_CHECKPOINT_ORIGIN_MAX + 64];
        memset(longo, 'o', DT_CHECKPOINT_ORIGIN_MAX + 1);
        strcpy(longo + DT_CHECKPOINT_ORIGIN_MAX + 1, "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
        assert_int_equal(dt_checkpoint_parse(&origin, &olen, &size, root, &ext, &elen, longo, strlen(longo)),
                         DT_ERR_LIMIT);
    }
}

/* Replaces the base64 payload of the last signature line of note (in place). */
static void rewrite_last_sig(char *note, void (*edit)(unsigned char *raw, size_t n))
{
    char *end = note + strlen(note) - 1, *sp = end;
    unsigned char raw[128];
    size_t got;
    while (*sp != ' ')
        sp--;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, sp + 1, (size_t)(end - sp - 1), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    edit(raw, got);
    sodium_bin2base64(sp + 1, (size_t)(end - sp), raw, got, sodium_base64_VARIANT_ORIGINAL);
    *end = '\n';
}

static void bump_time(unsigned char *raw, size_t n)
{
    assert_int_equal(n, 4 + 8 + 64);
    raw[11] ^= 1;
}

static void test_cosignature(void **state)
{
    (void)state;
    dt_note_signer log, wit, wit_as_note;
    dt_note_verifier vs[2], vnote;
    const dt_note_signer *sl[1] = {&log};
    unsigned char root[32], ok[2];
    uint64_t ts[2];
    char body[256], note[2048], line[DT_NOTE_SIGLINE_MAX], cos[2048], bad[2048];
    size_t n, tl;
    const uint64_t t = 1679315147;
    mk_signer(&log, "example.com/log", DT_NOTE_ED25519, 7);
    mk_signer(&wit, "witness.example.com/w1", DT_NOTE_COSIG, 8);
    mk_signer(&wit_as_note, "witness.example.com/w1", DT_NOTE_ED25519, 8); /* same key, type 0x01 */
    dt_note_signer_verifier(&vs[0], &log);
    dt_note_signer_verifier(&vs[1], &wit);
    dt_note_signer_verifier(&vnote, &wit_as_note);
    assert_int_not_equal(dt_note_verifier_id(&vs[1]), dt_note_verifier_id(&vnote));
    memset(root, 0x5a, 32);
    n = sizeof body;
    assert_int_equal(dt_checkpoint_format(body, &n, "example.com/log", 15, 42, root, NULL, 0), DT_OK);
    sign_text(note, sizeof note, body, sl, 1);
    n = sizeof line;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, t, body, strlen(body)), DT_OK);
    assert_int_equal(n, strlen(line));
    assert_true(n <= DT_NOTE_SIGLINE_MAX - 1);
    snprintf(cos, sizeof cos, "%s%s", note, line);

    /* both verify; the witness's time comes out */
    assert_int_equal(dt_note_open(&tl, ok, ts, cos, strlen(cos), vs, 2), DT_OK);
    assert_int_equal(ok[0], 1);
    assert_int_equal(ok[1], 1);
    assert_int_equal(ts[0], 0);
    assert_int_equal(ts[1], t);
    assert_int_equal(tl, strlen(body));
    /* the cosignature alone */
    assert_int_equal(dt_note_open(&tl, ok, ts, cos, strlen(cos), &vs[1], 1), DT_OK);

    /* the signed message, rebuilt here: "cosignature/v1\ntime <t>\n" || body;
     * signature = key ID || 8-byte big-endian time || Ed25519 signature */
    {
        unsigned char raw[128], msg[512];
        size_t got, ml;
        const char *b64 = strrchr(line, ' ') + 1;
        assert_int_equal(sodium_base642bin(raw, sizeof raw, b64, strlen(b64) - 1, NULL, &got, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(got, 4 + 8 + 64);
        uint32_t id = dt_note_verifier_id(&vs[1]);
        assert_int_equal((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3], id);
        uint64_t tt = 0;
        for (int i = 0; i < 8; i++)
            tt = tt << 8 | raw[4 + i];
        assert_int_equal(tt, t);
        ml = (size_t)snprintf((char *)msg, sizeof msg, "cosignature/v1\ntime 1679315147\n%s", body);
        assert_int_equal(crypto_sign_ed25519_verify_detached(raw + 12, msg, ml, dt_note_verifier_pubkey(&vs[1])), 0);
        assert_memory_equal(line, "— witness.example.com/w1 ", strlen("— witness.example.com/w1 "));
    }

    /* the same key as a plain note key (type 0x01) does not match: ignored */
    assert_int_equal(open1(cos + 0, &vnote, NULL), DT_ERR_NOT_FOUND);

    /* tampered timestamp */
    memcpy(bad, cos, strlen(cos) + 1);
    rewrite_last_sig(bad, bump_time);
    assert_int_not_equal(strcmp(bad, cos), 0);
    assert_int_equal(dt_note_open(&tl, ok, ts, bad, strlen(bad), &vs[1], 1), DT_ERR_PROOF);
    assert_int_equal(ts[0], 0);
    assert_int_equal(ok[0], 0);
    /* tampered body (the size line) */
    memcpy(bad, cos, strlen(cos) + 1);
    bad[16] = '3';
    assert_int_equal(dt_note_open(&tl, ok, ts, bad, strlen(bad), &vs[1], 1), DT_ERR_PROOF);
    /* the cosignature over the body does not transfer to another body */
    {
        char body2[256], note2[2048];
        n = sizeof body2;
        assert_int_equal(dt_checkpoint_format(body2, &n, "example.com/log", 15, 43, root, NULL, 0), DT_OK);
        sign_text(note2, sizeof note2, body2, sl, 1);
        snprintf(bad, sizeof bad, "%s%s", note2, line);
        assert_int_equal(dt_note_open(&tl, ok, ts, bad, strlen(bad), vs, 2), DT_ERR_PROOF);
        assert_int_equal(dt_note_open(&tl, ok, ts, bad, strlen(bad), vs, 1), DT_OK);
    }
    /* timestamps: 0 and 2^63 - 1 are fine, 2^63 is refused */
    n = sizeof line;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, 0, body, strlen(body)), DT_OK);
    snprintf(cos, sizeof cos, "%s%s", note, line);
    assert_int_equal(dt_note_open(&tl, ok, ts, cos, strlen(cos), &vs[1], 1), DT_OK);
    assert_int_equal(ts[0], 0);
    n = sizeof line;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, DT_COSIG_MAX_TIME, body, strlen(body)), DT_OK);
    snprintf(cos, sizeof cos, "%s%s", note, line);
    assert_int_equal(dt_note_open(&tl, ok, ts, cos, strlen(cos), &vs[1], 1), DT_OK);
    assert_true(ts[0] == DT_COSIG_MAX_TIME);
    n = sizeof line;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, DT_COSIG_MAX_TIME + 1, body, strlen(body)), DT_ERR_RANGE);
    /* only checkpoints are cosigned */
    n = sizeof line;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, t, TEXT, strlen(TEXT)), DT_ERR_ENCODING);
    /* small buffer */
    n = 16;
    assert_int_equal(dt_cosignature_sign(line, &n, &wit, t, body, strlen(body)), DT_ERR_LIMIT);
    dt_note_signer_clear(&log);
    dt_note_signer_clear(&wit);
    dt_note_signer_clear(&wit_as_note);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),        cmocka_unit_test(test_key_roundtrip),
        cmocka_unit_test(test_key_malformed),  cmocka_unit_test(test_note_roundtrip),
        cmocka_unit_test(test_note_malformed), cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_cosignature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
