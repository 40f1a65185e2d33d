/* Voter receipts (C2SP tlog-proof v1): format and strict parse, offline
 * verification against the log key and a quorum of witnesses with each
 * field tampered, and `detente receipt verify|show` on receipts made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <detente/board.h>
#include <detente/merkle.h>
#include <detente/note.h>
#include <detente/receipt.h>

#include "testrand.h"
#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES
#define N 21 /* entries on the board */
#define ORIGIN "vote.example/board"
#define T0 1700000000u

typedef unsigned char hash_t[HB];

/* ---- the fixture: a board of N ballots, a log, four witnesses ---- */

static dt_note_signer logkey, otherlog, wit[4]; /* wit[3] is not listed */
static dt_note_verifier vlog, vwit[4];
static unsigned char *entry[N];
static size_t entrylen[N];
static unsigned char code[N][DT_BOARD_CODE_BYTES];
static hash_t leaf[N];
static char workdir[512];

static void mk_signer(dt_note_signer *s, const char *name, unsigned type)
{
    unsigned char seed[32];
    testrand_bytes(seed, sizeof seed);
    assert_int_equal(dt_note_signer_from_seed(s, name, strlen(name), type, seed), DT_OK);
}

static int setup(void **state)
{
    (void)state;
    char path[64], content[64];
    unsigned char h[32];
    int blob;
    mk_signer(&logkey, ORIGIN, DT_NOTE_ED25519);
    mk_signer(&otherlog, ORIGIN, DT_NOTE_ED25519); /* the same name, another key */
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "witness%d.example", i + 1);
        mk_signer(&wit[i], name, DT_NOTE_COSIG);
        dt_note_signer_verifier(&vwit[i], &wit[i]);
    }
    dt_note_signer_verifier(&vlog, &logkey);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "encrypted_ballots/dev/eballot-%d.json", i);
        snprintf(content, sizeof content, "{\"ballot\": %d}\n", i);
        testrand_bytes(code[i], sizeof code[i]);
        assert_int_equal(dt_board_entry_format(&entry[i], &entrylen[i], path, code[i], (unsigned char *)content,
                                               strlen(content), h, &blob),
                         DT_OK);
        dt_merkle_leaf_hash(leaf[i], entry[i], entrylen[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        free(entry[i]);
    dt_note_signer_clear(&logkey);
    dt_note_signer_clear(&otherlog);
    for (int i = 0; i < 4; i++)
        dt_note_signer_clear(&wit[i]);
    return 0;
}

/* A checkpoint of the first size entries (origin, root as given or the
 * true one), signed by log, then cosigned by each witness in cosig (a
 * string of witness numbers 1..4, repeats allowed). */
static void make_note(char *out, size_t cap, const char *origin, uint64_t size, const unsigned char *root,
                      const dt_note_signer *log, const char *cosig)
{
    char body[512], line[DT_NOTE_SIGLINE_MAX];
    hash_t r;
    size_t n = sizeof body;
    const dt_note_signer *ls[1] = {log};
    if (!root) {
        dt_merkle_root(r, (const hash_t *)leaf, size);
        root = r;
    }
    assert_int_equal(dt_checkpoint_format(body, &n, origin, strlen(origin), size, root, NULL, 0), DT_OK);
    n = cap;
    assert_int_equal(dt_note_sign(out, &n, body, strlen(body), ls, 1), DT_OK);
    for (const char *c = cosig; *c; c++) {
        size_t ll = sizeof line;
        assert_int_equal(dt_cosignature_sign(line, &ll, &wit[*c - '1'], T0 + (uint64_t)(c - cosig), body,
                                             strlen(body)),
                         DT_OK);
        assert_true(n + ll < cap);
        memcpy(out + n, line, ll + 1);
        n += ll;
    }
}

/* The receipt of entry index in the tree of size, with the given note. */
static char *make_receipt(uint64_t index, uint64_t size, const char *note)
{
    unsigned char proof[DT_MERKLE_MAX_PROOF][HB];
    size_t plen = DT_MERKLE_MAX_PROOF, len;
    char *out = NULL;
    assert_int_equal(dt_merkle_inclusion_proof(proof, &plen, index, (const hash_t *)leaf, size), DT_OK);
    assert_int_equal(dt_receipt_format(&out, &len, entry[index], entrylen[index], index,
                                       (const unsigned char(*)[HB])proof, plen, note, strlen(note)),
                     DT_OK);
    assert_int_equal(len, strlen(out));
    return out;
}

static char *good_receipt(uint64_t index)
{
    char note[4096];
    make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, "123");
    return make_receipt(index, N, note);
}

/* Parses text and verifies it against the log and the first nw witnesses. */
static dt_err vrf(const char *text, const dt_note_verifier *w, size_t nw, size_t quorum, char *why, size_t cap)
{
    dt_receipt r;
    uint64_t size = 99;
    dt_err err;
    assert_int_equal(dt_receipt_parse(&r, text, strlen(text)), DT_OK);
    err = dt_receipt_verify(&r, &vlog, w, nw, quorum, &size, why, cap);
    if (err == DT_OK) {
        assert_int_equal(size, N);
        assert_string_equal(why, "");
    } else {
        assert_int_equal(size, 0);
    }
    dt_receipt_free(&r);
    return err;
}

static void expect_fail(const char *text, size_t quorum, dt_err want, const char *why_want)
{
    char why[256];
    assert_int_equal(vrf(text, vwit, 3, quorum, why, sizeof why), want);
    if (strstr(why, why_want) == NULL)
        fail_msg("why: '%s', expected '%s'", why, why_want);
}

/* ---- format and parse ---- */

static void test_roundtrip(void **state)
{
    (void)state;
    for (uint64_t i = 0; i < N; i++) {
        char *text = good_receipt(i), *again = NULL;
        size_t len;
        dt_receipt r;
        assert_int_equal(dt_receipt_parse(&r, text, strlen(text)), DT_OK);
        assert_int_equal(r.index, i);
        assert_int_equal(r.extralen, entrylen[i]);
        assert_memory_equal(r.extra, entry[i], entrylen[i]);
        assert_int_equal(r.notelen, strlen(r.note));
        assert_int_equal(dt_receipt_format(&again, &len, r.extra, r.extralen, r.index,
                                           (const unsigned char(*)[HB])r.proof, r.prooflen, r.note, r.notelen),
                         DT_OK);
        assert_string_equal(again, text);
        free(again);
        dt_receipt_free(&r);
        dt_receipt_free(&r); /* freeing twice is harmless: the struct was zeroed */
        free(text);
    }
    /* the layout, byte for byte */
    {
        unsigned char p[2][HB];
        char *out = NULL;
        size_t len;
        memset(p[0], 0, HB);
        memset(p[1], 0xff, HB);
        assert_int_equal(dt_receipt_format(&out, &len, (const unsigned char *)"hi", 2, 1234,
                                           (const unsigned char(*)[HB])p, 2, "N\n", 2),
                         DT_OK);
        assert_string_equal(out, "c2sp.org/tlog-proof@v1\nextra aGk=\nindex 1234\n"
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                                 "//////////////////////////////////////////8=\n\nN\n");
        free(out);
        /* no extra, no proof; an empty extra is a line of its own */
        assert_int_equal(dt_receipt_format(&out, &len, NULL, 0, 0, NULL, 0, "N\n", 2), DT_OK);
        assert_string_equal(out, "c2sp.org/tlog-proof@v1\nindex 0\n\nN\n");
        free(out);
        assert_int_equal(dt_receipt_format(&out, &len, (const unsigned char *)"", 0, 0, NULL, 0, "N\n", 2), DT_OK);
        assert_string_equal(out, "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\nN\n");
        dt_receipt r;
        assert_int_equal(dt_receipt_parse(&r, out, len), DT_OK);
        assert_non_null(r.extra);
        assert_int_equal(r.extralen, 0);
        dt_receipt_free(&r);
        free(out);
        assert_int_equal(dt_receipt_parse(&r, "c2sp.org/tlog-proof@v1\nindex 0\n\nN\n", 35), DT_OK);
        assert_null(r.extra);
        assert_int_equal(r.prooflen, 0);
        dt_receipt_free(&r);
    }
    /* the example of the specification parses (its signatures are elided:
     * the note is checked by verify, not by parse) */
    {
        static const char ex[] = "c2sp.org/tlog-proof@v1\n"
                                 "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
                                 "index 73894\n"
                                 "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
                                 "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
                                 "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
                                 "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
                                 "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
                                 "\n"
                                 "example.com/fancylog\n"
                                 "109482\n"
                                 "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
                                 "\n"
                                 "\xe2\x80\x94 example.com/fancylog hI2DJw[...]1roloI=\n";
        dt_receipt r;
        char why[128];
        assert_int_equal(dt_receipt_parse(&r, ex, strlen(ex)), DT_OK);
        assert_int_equal(r.index, 73894);
        assert_int_equal(r.prooflen, 5);
        assert_int_equal(r.extralen, 39);
        assert_memory_equal(r.extra, "age-v1.2.1-darwin-arm64.tar.gz", 30);
        assert_int_equal(r.proof[4][0], 0x00);
        assert_int_equal(r.proof[4][1], 0x70);
        assert_memory_equal(r.note, "example.com/fancylog\n109482\n", 28);
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 3, 2, NULL, why, sizeof why), DT_ERR_ENCODING);
        assert_string_equal(why, "the checkpoint is not a well-formed signed note");
        dt_receipt_free(&r);
    }
}

static void test_parse_strict(void **state)
{
    (void)state;
    static const char P[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    static const struct {
        const char *text;
        dt_err want;
    } cases[] = {
        {"", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v2\nindex 0\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1 \nindex 0\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\r\nindex 0\r\n\r\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\n\nindex 0\n\nN\n", DT_ERR_ENCODING},     /* an empty line before index */
        {"c2sp.org/tlog-proof@v1\nindex 0\n", DT_ERR_ENCODING},             /* no empty line */
        {"c2sp.org/tlog-proof@v1\nindex 0\n\n", DT_ERR_ENCODING},           /* no note */
        {"c2sp.org/tlog-proof@v1\nindex 007\n\nN\n", DT_ERR_ENCODING},      /* leading zeros */
        {"c2sp.org/tlog-proof@v1\nindex 00\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex -1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex +1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex  1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex 1 \n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex \n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nIndex 1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex 9223372036854775806\n\nN\n", DT_OK}, /* 2^63 - 2 */
        {"c2sp.org/tlog-proof@v1\nindex 9223372036854775807\n\nN\n", DT_ERR_LIMIT},
        {"c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\nN\n", DT_ERR_LIMIT},
        {"c2sp.org/tlog-proof@v1\nextra aGk=\n\nN\n", DT_ERR_ENCODING},    /* no index */
        {"c2sp.org/tlog-proof@v1\nindex 1\nextra aGk=\n\nN\n", DT_ERR_ENCODING}, /* order */
        {"c2sp.org/tlog-proof@v1\nextra aGk=\nextra aGk=\nindex 1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nextra aGk\nindex 1\n\nN\n", DT_ERR_ENCODING}, /* padding missing */
        {"c2sp.org/tlog-proof@v1\nextra aGl=\nindex 1\n\nN\n", DT_ERR_ENCODING}, /* non-zero trailing bits */
        {"c2sp.org/tlog-proof@v1\nextra aG k=\nindex 1\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nextra aGk=\nindex 1\n\nN\n", DT_OK},
        {"c2sp.org/tlog-proof@v1\nextra aGk=\nindex 1\nAAAA\n\nN\n", DT_ERR_ENCODING}, /* a short hash */
        /* 44 characters that decode to 33 bytes */
        {"c2sp.org/tlog-proof@v1\nindex 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\nN\n", DT_ERR_ENCODING},
        /* non-zero trailing bits */
        {"c2sp.org/tlog-proof@v1\nindex 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n \nN\n", DT_ERR_ENCODING},
        {"c2sp.org/tlog-proof@v1\nindex 1\n AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nN\n", DT_ERR_ENCODING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_receipt r;
        dt_err err = dt_receipt_parse(&r, cases[i].text, strlen(cases[i].text));
        if (err != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, err, cases[i].want);
        if (err) {
            assert_null(r.extra);
            assert_null(r.note);
            assert_int_equal(r.index, 0);
            assert_int_equal(r.prooflen, 0);
        }
        dt_receipt_free(&r);
    }

    /* proof lines: 65 are accepted, 66 are too many */
    {
        size_t cap = 64 + 66 * 45 + 8;
        char *t = malloc(cap);
        dt_receipt r;
        assert_non_null(t);
        for (int n = 65; n <= 66; n++) {
            size_t len = (size_t)snprintf(t, cap, "c2sp.org/tlog-proof@v1\nindex 1\n");
            for (int i = 0; i < n; i++)
                len += (size_t)snprintf(t + len, cap - len, "%s", P);
            len += (size_t)snprintf(t + len, cap - len, "\nN\n");
            assert_int_equal(dt_receipt_parse(&r, t, len), n == 65 ? DT_OK : DT_ERR_LIMIT);
            if (n == 65)
                assert_int_equal(r.prooflen, 65);
            dt_receipt_free(&r);
        }
        free(t);
    }
    /* extra: 65,535 bytes at most; the note: 64 KiB at most; the whole */
    {
        size_t cap = DT_RECEIPT_MAX + 16;
        char *t = malloc(cap), *b64;
        unsigned char *big = calloc(65536, 1);
        dt_receipt r;
        assert_non_null(t);
        assert_non_null(big);
        for (size_t n = 65535; n <= 65536; n++) {
            b64 = dt_b64_encode(big, n);
            size_t len = (size_t)snprintf(t, cap, "c2sp.org/tlog-proof@v1\nextra %s\nindex 1\n\nN\n", b64);
            free(b64);
            assert_int_equal(dt_receipt_parse(&r, t, len), n == 65535 ? DT_OK : DT_ERR_LIMIT);
            dt_receipt_free(&r);
        }
        for (size_t n = DT_NOTE_MAX_BYTES; n <= DT_NOTE_MAX_BYTES + 1; n++) {
            size_t len = (size_t)snprintf(t, cap, "c2sp.org/tlog-proof@v1\nindex 1\n\n");
            memset(t + len, 'N', n);
            len += n;
            assert_int_equal(dt_receipt_parse(&r, t, len), n == DT_NOTE_MAX_BYTES ? DT_OK : DT_ERR_LIMIT);
            if (n == DT_NOTE_MAX_BYTES)
                assert_int_equal(r.notelen, n);
            dt_receipt_free(&r);
        }
        memset(t, 'c', DT_RECEIPT_MAX + 1);
        assert_int_equal(dt_receipt_parse(&r, t, DT_RECEIPT_MAX + 1), DT_ERR_LIMIT);
        free(t);
        free(big);
    }
    /* format refuses what parse would */
    {
        unsigned char p[66][HB] = {{0}};
        unsigned char *big = calloc(65536, 1);
        char *out = (char *)"x";
        size_t len = 5;
        assert_non_null(big);
        assert_int_equal(dt_receipt_format(&out, &len, NULL, 0, 1, (const unsigned char(*)[HB])p, 66, "N\n", 2),
                         DT_ERR_LIMIT);
        assert_null(out);
        assert_int_equal(len, 0);
        assert_int_equal(dt_receipt_format(&out, &len, big, 65536, 1, NULL, 0, "N\n", 2), DT_ERR_LIMIT);
        assert_int_equal(dt_receipt_format(&out, &len, NULL, 0, DT_CHECKPOINT_MAX_SIZE, NULL, 0, "N\n", 2),
                         DT_ERR_LIMIT);
        assert_int_equal(dt_receipt_format(&out, &len, NULL, 0, 1, NULL, 0, "", 0), DT_ERR_ENCODING);
        assert_int_equal(dt_receipt_format(&out, &len, NULL, 0, 1, NULL, 0, (const char *)big, DT_NOTE_MAX_BYTES + 1),
                         DT_ERR_LIMIT);
        assert_int_equal(dt_receipt_format(&out, &len, big, 65535, DT_CHECKPOINT_MAX_SIZE - 1,
                                           (const unsigned char(*)[HB])p, 65, (const char *)big, DT_NOTE_MAX_BYTES),
                         DT_OK);
        assert_true(len <= DT_RECEIPT_MAX);
        free(out);
        free(big);
    }
}

/* ---- verification ---- */

static void test_verify_good(void **state)
{
    (void)state;
    char why[256];
    uint64_t size = 0;
    dt_receipt r;
    for (uint64_t i = 0; i < N; i++) {
        char *t = good_receipt(i);
        for (size_t q = 0; q <= 3; q++)
            assert_int_equal(vrf(t, vwit, 3, q, why, sizeof why), DT_OK);
        /* size and why may be left out */
        assert_int_equal(dt_receipt_parse(&r, t, strlen(t)), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 3, 3, NULL, NULL, 0), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 3, 3, &size, why, 1), DT_OK);
        assert_int_equal(size, N);
        dt_receipt_free(&r);
        free(t);
    }
    /* a tree of one entry: an empty proof */
    {
        char note[4096], *t;
        make_note(note, sizeof note, ORIGIN, 1, NULL, &logkey, "12");
        t = make_receipt(0, 1, note);
        assert_non_null(strstr(t, "index 0\n\n"));
        assert_int_equal(dt_receipt_parse(&r, t, strlen(t)), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 3, 2, &size, why, sizeof why), DT_OK);
        assert_int_equal(size, 1);
        dt_receipt_free(&r);
        free(t);
    }
    /* a witness that is not listed is ignored; so is an unknown log */
    {
        char note[4096], *t;
        make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, "41");
        t = make_receipt(5, N, note);
        assert_int_equal(vrf(t, vwit, 3, 1, why, sizeof why), DT_OK);
        expect_fail(t, 2, DT_ERR_PROOF, "1 witness cosignature, 2 required");
        assert_int_equal(vrf(t, vwit, 4, 2, why, sizeof why), DT_OK);
        free(t);
    }
}

/* Replaces the first occurrence of from in text by to (a new string). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    char *out = dt_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    assert_non_null(out);
    return out;
}

/* Changes the character at offset k of the first occurrence of what in
 * text (a base64 character) to another valid one. */
static char *edit_at(const char *text, const char *what, size_t k)
{
    char *out = strdup(text), *at = strstr(out, what);
    assert_non_null(at);
    assert_true(k < strlen(what));
    at += k;
    *at = *at == 'A' ? 'B' : 'A';
    return out;
}

static void test_verify_tampered(void **state)
{
    (void)state;
    char note[4096], *t = good_receipt(7), *x;
    dt_receipt r;

    /* the entry */
    assert_int_equal(dt_receipt_parse(&r, t, strlen(t)), DT_OK);
    {
        char *b64 = dt_b64_encode(r.extra, r.extralen), *line = dt_strdup_printf("extra %s\n", b64);
        r.extra[20] ^= 1;
        char *b64x = dt_b64_encode(r.extra, r.extralen), *linex = dt_strdup_printf("extra %s\n", b64x);
        x = replace(t, line, linex);
        expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7 (tree size 21)");
        free(x);
        /* another entry at the same index */
        free(b64x);
        free(linex);
        b64x = dt_b64_encode(entry[8], entrylen[8]);
        linex = dt_strdup_printf("extra %s\n", b64x);
        x = replace(t, line, linex);
        expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7");
        free(x);
        /* no entry at all */
        x = replace(t, line, "");
        expect_fail(x, 2, DT_ERR_ENCODING, "the receipt carries no entry");
        free(x);
        free(b64);
        free(line);
        free(b64x);
        free(linex);
    }
    dt_receipt_free(&r);

    /* the index: another one inside the tree, one beyond */
    x = replace(t, "index 7\n", "index 6\n");
    expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 6");
    free(x);
    x = replace(t, "index 7\n", "index 21\n");
    expect_fail(x, 2, DT_ERR_PROOF, "index 21 is beyond the checkpoint's tree of size 21");
    free(x);

    /* each proof hash; one removed; one added */
    assert_int_equal(dt_receipt_parse(&r, t, strlen(t)), DT_OK);
    assert_int_equal(r.prooflen, 5);
    for (size_t k = 0; k < r.prooflen; k++) {
        char *b64 = dt_b64_encode(r.proof[k], HB), *line = dt_strdup_printf("\n%s\n", b64);
        x = edit_at(t, line, 1 + k * 7);
        expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7");
        free(x);
        x = replace(t, line, "\n");
        expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7");
        free(x);
        char *two = dt_strdup_printf("\n%s\n%s\n", b64, b64);
        x = replace(t, line, two);
        expect_fail(x, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7");
        free(x);
        free(two);
        free(b64);
        free(line);
    }
    dt_receipt_free(&r);

    /* the checkpoint's size or root, edited after signing */
    x = replace(t, "\n21\n", "\n22\n");
    expect_fail(x, 2, DT_ERR_PROOF, "the log's signature on the checkpoint does not verify");
    free(x);
    {
        const char *root = strstr(t, ORIGIN "\n21\n") + strlen(ORIGIN "\n21\n");
        x = strdup(t);
        x[root - t + 3] = root[3] == 'A' ? 'B' : 'A';
        expect_fail(x, 2, DT_ERR_PROOF, "the log's signature on the checkpoint does not verify");
        free(x);
    }
    /* a checkpoint the log did sign, of another tree (the log lying) */
    {
        hash_t other;
        char *y;
        memset(other, 7, HB);
        make_note(note, sizeof note, ORIGIN, N, other, &logkey, "123");
        y = make_receipt(7, N, note);
        expect_fail(y, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7 (tree size 21)");
        free(y);
        /* the true checkpoint with the proof of entry 7 in the tree of 20 */
        make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, "123");
        y = make_receipt(7, N - 1, note);
        expect_fail(y, 2, DT_ERR_PROOF, "the entry is not in the tree at index 7 (tree size 21)");
        free(y);
    }

    /* the log's signature: a byte of it; gone; by another key of the same
     * name; the origin differing from the key's name */
    {
        const char *sig = strstr(t, "\xe2\x80\x94 " ORIGIN " ");
        assert_non_null(sig);
        x = strdup(t);
        size_t at = (size_t)(sig - t) + strlen("\xe2\x80\x94 " ORIGIN " ") + 30;
        x[at] = x[at] == 'A' ? 'B' : 'A';
        expect_fail(x, 2, DT_ERR_PROOF, "the log's signature on the checkpoint does not verify");
        free(x);
        const char *eol = strchr(sig, '\n');
        char *line = strndup(sig, (size_t)(eol - sig) + 1);
        x = replace(t, line, "");
        expect_fail(x, 2, DT_ERR_PROOF, "the checkpoint is not signed by the log key");
        free(x);
        free(line);
    }
    make_note(note, sizeof note, ORIGIN, N, NULL, &otherlog, "123");
    x = make_receipt(7, N, note);
    expect_fail(x, 2, DT_ERR_PROOF, "the checkpoint is not signed by the log key");
    free(x);
    {
        dt_note_signer l2;
        dt_note_verifier v2;
        char why[256];
        mk_signer(&l2, "elsewhere.example/log", DT_NOTE_ED25519);
        dt_note_signer_verifier(&v2, &l2);
        make_note(note, sizeof note, ORIGIN, N, NULL, &l2, "123");
        x = make_receipt(7, N, note);
        assert_int_equal(dt_receipt_parse(&r, x, strlen(x)), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &v2, vwit, 3, 2, NULL, why, sizeof why), DT_ERR_PROOF);
        assert_string_equal(why, "the checkpoint's origin 'vote.example/board' is not the log key's name "
                                 "'elsewhere.example/log'");
        /* why is cut to its capacity, NUL-terminated */
        assert_int_equal(dt_receipt_verify(&r, &v2, vwit, 3, 2, NULL, why, 8), DT_ERR_PROOF);
        assert_string_equal(why, "the che");
        dt_receipt_free(&r);
        free(x);
        dt_note_signer_clear(&l2);
    }

    /* a witness's cosignature, one byte changed: the receipt is refused */
    {
        const char *sig = strstr(t, "\xe2\x80\x94 witness2.example ");
        assert_non_null(sig);
        x = strdup(t);
        size_t at = (size_t)(sig - t) + strlen("\xe2\x80\x94 witness2.example ") + 40;
        x[at] = x[at] == 'A' ? 'B' : 'A';
        expect_fail(x, 1, DT_ERR_PROOF, "the cosignature of witness witness2.example does not verify");
        free(x);
    }

    /* a note that is not a checkpoint; a malformed note */
    {
        const dt_note_signer *ls[1] = {&logkey};
        size_t n = sizeof note;
        assert_int_equal(dt_note_sign(note, &n, ORIGIN "\nnot a size\n", strlen(ORIGIN "\nnot a size\n"), ls, 1),
                         DT_OK);
        x = make_receipt(7, N, note);
        expect_fail(x, 0, DT_ERR_ENCODING, "the signed note is not a checkpoint");
        free(x);
        x = replace(t, ORIGIN "\n21\n", ORIGIN "\n\t21\n");
        expect_fail(x, 2, DT_ERR_ENCODING, "the checkpoint is not a well-formed signed note");
        free(x);
    }
    free(t);
}

static void test_quorum(void **state)
{
    (void)state;
    char note[4096], why[256], *t;
    static const struct {
        const char *cosig;
        size_t count;
    } cases[] = {{"", 0}, {"1", 1}, {"3", 1}, {"12", 2}, {"11", 1}, {"1111", 1}, {"121", 2}, {"4", 0},
                 {"44", 0}, {"321", 3}, {"3214", 3}, {"12332", 3}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, cases[c].cosig);
        t = make_receipt(11, N, note);
        for (size_t q = 0; q <= 4; q++) {
            dt_err err = vrf(t, vwit, 3, q, why, sizeof why);
            if (q <= cases[c].count) {
                assert_int_equal(err, DT_OK);
            } else {
                char want[64];
                snprintf(want, sizeof want, "%zu witness cosignature%s, %zu required", cases[c].count,
                         cases[c].count == 1 ? "" : "s", q);
                assert_int_equal(err, DT_ERR_PROOF);
                assert_string_equal(why, want);
            }
        }
        free(t);
    }
    /* the same witness listed twice counts once */
    {
        dt_note_verifier twice[4] = {vwit[0], vwit[0], vwit[1], vwit[0]};
        make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, "12");
        t = make_receipt(3, N, note);
        assert_int_equal(vrf(t, twice, 4, 2, why, sizeof why), DT_OK);
        assert_int_equal(vrf(t, twice, 4, 3, why, sizeof why), DT_ERR_PROOF);
        assert_string_equal(why, "2 witness cosignatures, 3 required");
        free(t);
    }
    /* keys of the wrong type */
    {
        dt_note_verifier bad[2] = {vwit[0], vlog};
        dt_receipt r;
        t = good_receipt(2);
        assert_int_equal(dt_receipt_parse(&r, t, strlen(t)), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &vlog, bad, 2, 1, NULL, why, sizeof why), DT_ERR_INVALID);
        assert_string_equal(why, "witness key vote.example/board is not a cosignature key (type 0x04)");
        assert_int_equal(dt_receipt_verify(&r, &vwit[0], vwit, 3, 1, NULL, why, sizeof why), DT_ERR_INVALID);
        assert_string_equal(why, "the log key is not a signed-note Ed25519 key (type 0x01)");
        /* no witnesses at all: only a quorum of 0 passes */
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 0, 0, NULL, why, sizeof why), DT_OK);
        assert_int_equal(dt_receipt_verify(&r, &vlog, vwit, 0, 1, NULL, why, sizeof why), DT_ERR_PROOF);
        assert_string_equal(why, "0 witness cosignatures, 1 required");
        dt_receipt_free(&r);
        free(t);
    }
}

/* ---- the command ---- */

static char *wpath(const char *name)
{
    char *p = dt_strdup_printf("%s/%s", workdir, name);
    assert_non_null(p);
    return p;
}

static void put(const char *name, const char *text)
{
    char *p = wpath(name);
    assert_int_equal(dt_write_file_atomic(p, text, strlen(text), 0644), DT_OK);
    free(p);
}

static char *vkey_of(const dt_note_verifier *v)
{
    char buf[DT_NOTE_VKEY_MAX];
    size_t n = sizeof buf;
    assert_int_equal(dt_note_verifier_format(buf, &n, v), DT_OK);
    return strdup(buf);
}

/* Runs the CLI with args (a shell fragment) in workdir; returns its exit
 * status and its output (stdout and stderr) in *out. */
static int run(char **out, const char *args)
{
    char *cmd = dt_strdup_printf("cd '%s' && '%s' receipt %s >out.txt 2>&1", workdir, DT_CLI, args), *p;
    unsigned char *o = NULL;
    size_t len;
    int st;
    assert_non_null(cmd);
    st = system(cmd);
    free(cmd);
    assert_true(WIFEXITED(st));
    p = wpath("out.txt");
    assert_int_equal(dt_read_file(&o, &len, p, 1 << 20), DT_OK);
    free(p);
    *out = (char *)o;
    return WEXITSTATUS(st);
}

static void expect_run(const char *args, int status, const char *want)
{
    char *out = NULL;
    int st = run(&out, args);
    if (st != status || strstr(out, want) == NULL)
        fail_msg("detente receipt %s: exit %d (want %d), output:\n%s\n(want '%s')", args, st, status, out, want);
    free(out);
}

static void test_cli(void **state)
{
    (void)state;
    char note[4096], *t, *c64, *args;
    char *vk = vkey_of(&vlog), *w[4];
    for (int i = 0; i < 4; i++)
        w[i] = vkey_of(&vwit[i]);
    char *cmd = dt_strdup_printf("mkdir -p '%s'", workdir);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    t = good_receipt(7);
    put("r.tlog-proof", t);
    free(t);
    char *wl = dt_strdup_printf("%s\n%s\n%s\n", w[0], w[1], w[2]);
    put("witnesses.vkey", wl);
    free(wl);
    char *lk = dt_strdup_printf("%s\n", vk);
    put("log.vkey", lk);
    free(lk);
    c64 = dt_b64_encode(code[7], 32);

    /* good, with the key in a file or on the command line */
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 0, "index 7");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 0, "3 of 3 witnesses cosigned");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 0,
               "encrypted_ballots/dev/eballot-7.json");
    args = dt_strdup_printf("verify r.tlog-proof --log-key '%s' --witnesses witnesses.vkey --quorum 3 --code '%s'", vk,
                            c64);
    expect_run(args, 0, "the confirmation code matches");
    free(args);
    expect_run("verify --quorum=1 --witnesses=witnesses.vkey --log-key=log.vkey r.tlog-proof", 0, "tree of 21 entries");

    /* another code */
    {
        char *c8 = dt_b64_encode(code[8], 32);
        args = dt_strdup_printf("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --code '%s'", c8);
        expect_run(args, 1, "is for another confirmation code");
        free(args);
        free(c8);
    }
    /* too few cosignatures for the quorum asked, and for the majority */
    make_note(note, sizeof note, ORIGIN, N, NULL, &logkey, "1");
    t = make_receipt(7, N, note);
    put("one.tlog-proof", t);
    free(t);
    expect_run("verify one.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 1,
               "1 witness cosignature, 2 required");
    expect_run("verify one.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --quorum 1", 0, "1 of 3");
    /* a tampered receipt */
    t = good_receipt(7);
    char *x = replace(t, "index 7\n", "index 6\n");
    put("bad.tlog-proof", x);
    free(x);
    free(t);
    expect_run("verify bad.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 1,
               "the entry is not in the tree at index 6");
    /* an entry that is not a board entry: fine without --code, not with it */
    {
        unsigned char proof[1][HB];
        char *out;
        size_t len;
        hash_t leaves[2];
        dt_merkle_leaf_hash(leaves[0], "plain", 5);
        memcpy(leaves[1], leaf[1], HB);
        hash_t root;
        dt_merkle_root(root, (const hash_t *)leaves, 2);
        memcpy(proof[0], leaves[1], HB);
        make_note(note, sizeof note, ORIGIN, 2, root, &logkey, "123");
        assert_int_equal(dt_receipt_format(&out, &len, (const unsigned char *)"plain", 5, 0,
                                           (const unsigned char(*)[HB])proof, 1, note, strlen(note)),
                         DT_OK);
        put("plain.tlog-proof", out);
        free(out);
        expect_run("verify plain.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 0,
                   "not a detente board entry");
        args = dt_strdup_printf("verify plain.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --code '%s'",
                                c64);
        expect_run(args, 1, "not a detente board entry");
        free(args);
    }

    /* show */
    expect_run("show r.tlog-proof", 0, "index: 7");
    expect_run("show r.tlog-proof", 0, "path: encrypted_ballots/dev/eballot-7.json");
    expect_run("show r.tlog-proof", 0, c64);
    expect_run("show r.tlog-proof", 0, "proof: 5 hashes");
    expect_run("show r.tlog-proof", 0, "not verified");

    /* unusable input: exit 2, naming it */
    put("junk.tlog-proof", "c2sp.org/tlog-proof@v1\nindex 07\n\nN\n");
    expect_run("verify junk.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 2,
               "junk.tlog-proof: not a tlog-proof receipt");
    expect_run("show junk.tlog-proof", 2, "junk.tlog-proof: not a tlog-proof receipt");
    expect_run("verify missing.tlog-proof --log-key log.vkey --witnesses witnesses.vkey", 2, "missing.tlog-proof");
    expect_run("verify r.tlog-proof --log-key nokey --witnesses witnesses.vkey", 2, "--log-key");
    args = dt_strdup_printf("verify r.tlog-proof --log-key '%s' --witnesses witnesses.vkey", w[0]);
    expect_run(args, 2, "not a log key");
    free(args);
    put("wlog.vkey", vk);
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses wlog.vkey", 2, "wlog.vkey:1: not a witness key");
    wl = dt_strdup_printf("%s\n%s\n%s\n", w[0], w[1], w[0]);
    put("twice.vkey", wl);
    free(wl);
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses twice.vkey", 2, "twice.vkey:3: listed twice");
    wl = dt_strdup_printf("%s\nnonsense\n", w[0]);
    put("junk.vkey", wl);
    free(wl);
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses junk.vkey", 2, "junk.vkey:2");
    put("empty.vkey", "\n");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses empty.vkey", 2, "empty.vkey: no witness key");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses nofile", 2, "nofile");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --quorum 4", 2, "--quorum");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --quorum 0", 2, "--quorum");
    expect_run("verify r.tlog-proof --log-key log.vkey --witnesses witnesses.vkey --code nope", 2, "--code");
    expect_run("verify r.tlog-proof --witnesses witnesses.vkey", 2, "--log-key");
    expect_run("verify r.tlog-proof --log-key log.vkey", 2, "--witnesses");
    expect_run("verify --log-key log.vkey --witnesses witnesses.vkey", 2, "usage");
    expect_run("verify a b --log-key log.vkey --witnesses witnesses.vkey", 2, "usage");
    expect_run("", 2, "usage");
    expect_run("frobnicate", 2, "usage");
    expect_run("--help", 0, "tlog-proof");
    expect_run("verify --help", 0, "--quorum");

    free(c64);
    free(vk);
    for (int i = 0; i < 4; i++)
        free(w[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_parse_strict), cmocka_unit_test(test_verify_good),
        cmocka_unit_test(test_verify_tampered), cmocka_unit_test(test_quorum),     cmocka_unit_test(test_cli),
    };
    int rc;
    testrand_init();
    snprintf(workdir, sizeof workdir, "%s/detente-test-receipt-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    rc = cmocka_run_group_tests(tests, setup, teardown);
    if (rc == 0) {
        char *cmd = dt_strdup_printf("rm -rf '%s'", workdir);
        if (cmd && system(cmd) != 0)
            rc = 1;
        free(cmd);
    }
    return rc;
}
