/* Board entries and tlog-tiles paths: round trips, the spec's examples, and
 * every malformed input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <detente/board.h>
#include <detente/hash.h>
#include <detente/log.h>
#include <detente/tiles.h>

static void check_path(unsigned level, uint64_t index, unsigned width, const char *want)
{
    char p[DT_TILE_PATH_MAX];
    if (level == DT_TILE_ENTRIES)
        assert_int_equal(dt_tile_entries_path(p, index, width), DT_OK);
    else
        assert_int_equal(dt_tile_path(p, level, index, width), DT_OK);
    assert_string_equal(p, want);
    unsigned l, w;
    uint64_t i;
    assert_int_equal(dt_tile_path_parse(&l, &i, &w, p), DT_OK);
    assert_int_equal(l, level);
    assert_true(i == index);
    assert_int_equal(w, width);
}

static void test_tile_paths(void **state)
{
    (void)state;
    check_path(0, 0, 256, "tile/0/000");
    check_path(0, 1234067, 256, "tile/0/x001/x234/067"); /* the spec's example */
    check_path(2, 999, 17, "tile/2/999.p/17");
    check_path(1, 1000, 256, "tile/1/x001/000");
    check_path(63, UINT64_MAX, 255, "tile/63/x018/x446/x744/x073/x709/x551/615.p/255");
    check_path(DT_TILE_ENTRIES, 5, 1, "tile/entries/005.p/1");
    check_path(DT_TILE_ENTRIES, 1000000, 256, "tile/entries/x001/x000/000");

    char p[DT_TILE_PATH_MAX];
    assert_int_equal(dt_tile_path(p, 64, 0, 256), DT_ERR_RANGE);
    assert_int_equal(dt_tile_path(p, 0, 0, 0), DT_ERR_RANGE);
    assert_int_equal(dt_tile_path(p, 0, 0, 257), DT_ERR_RANGE);
    assert_int_equal(dt_tile_entries_path(p, 0, 0), DT_ERR_RANGE);

    static const char *bad[] = {
        "",
        "tile/",
        "tile/0/",
        "tile/00/000",          /* leading zero in L */
        "tile/64/000",          /* L too big */
        "tile/0/00",            /* two digits */
        "tile/0/0000",          /* four digits */
        "tile/0/x000/001",      /* redundant leading group */
        "tile/0/001/002",       /* missing x */
        "tile/0/x001",          /* x on the last group */
        "tile/0/x001/",         /* empty last group */
        "tile/0/000.p/0",       /* width 0 */
        "tile/0/000.p/256",     /* full width as partial */
        "tile/0/000.p/017",     /* leading zero in W */
        "tile/0/000.p/",        /* no width */
        "tile/0/000/",          /* trailing slash */
        "tile/0/000.p/1/",      /* trailing slash */
        "tile/0/-01",           /* sign */
        "tile/entry/000",       /* not entries */
        "tiles/0/000",          /* prefix */
        "tile/0/x018/x446/x744/x073/x709/x551/616", /* 2^64 */
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999", /* overflow */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned l, w;
        uint64_t idx;
        if (dt_tile_path_parse(&l, &idx, &w, bad[i]) != DT_ERR_ENCODING)
            fail_msg("accepted bad tile path '%s'", bad[i]);
    }
}

static void roundtrip(const char *path, const unsigned char *code, size_t contentlen, int want_blob)
{
    unsigned char *content = malloc(contentlen ? contentlen : 1);
    assert_non_null(content);
    for (size_t i = 0; i < contentlen; i++)
        content[i] = (unsigned char)(i * 7 + 3);
    unsigned char *e;
    size_t elen;
    unsigned char h[32], want_h[32];
    int blob;
    assert_int_equal(dt_board_entry_format(&e, &elen, path, code, content, contentlen, h, &blob), DT_OK);
    dt_sha256(want_h, content, contentlen);
    assert_memory_equal(h, want_h, 32);
    assert_int_equal(blob, want_blob);
    assert_true(elen <= DT_LOG_ENTRY_MAX);
    dt_board_entry en;
    assert_int_equal(dt_board_entry_parse(&en, e, elen), DT_OK);
    assert_int_equal(en.pathlen, strlen(path));
    assert_memory_equal(en.path, path, en.pathlen);
    assert_int_equal(en.has_code, code != NULL);
    if (code)
        assert_memory_equal(en.code, code, 32);
    assert_int_equal(en.is_blob, want_blob);
    if (want_blob) {
        assert_memory_equal(en.blob_hash, h, 32);
        assert_true(en.blob_size == contentlen);
        assert_int_equal(en.bodylen, 0);
    } else {
        assert_int_equal(en.bodylen, contentlen);
        if (contentlen)
            assert_memory_equal(en.body, content, contentlen);
    }
    free(e);
    free(content);
}

static void test_entry_roundtrip(void **state)
{
    (void)state;
    unsigned char code[32];
    for (int i = 0; i < 32; i++)
        code[i] = (unsigned char)(0xf0 + i);
    roundtrip("manifest.json", NULL, 0, 0);
    roundtrip("manifest.json", NULL, 1000, 0);
    roundtrip("encrypted_ballots/dev-1/eballot-b1.json", code, 30000, 0);
    /* The largest inline entry, and one byte more becomes a blob. */
    size_t head = strlen(DT_BOARD_ENTRY_MAGIC "\npath a/b.json\n\n");
    roundtrip("a/b.json", NULL, DT_LOG_ENTRY_MAX - head, 0);
    roundtrip("a/b.json", NULL, DT_LOG_ENTRY_MAX - head + 1, 1);
    roundtrip("encrypted_ballots/x.json", code, 200000, 1);
}

static void test_entry_paths(void **state)
{
    (void)state;
    static const char *bad[] = {"", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a b", "a\\b", "é", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(dt_board_path_valid(bad[i], strlen(bad[i])));
        unsigned char *e, h[32];
        size_t elen;
        int blob;
        assert_int_equal(dt_board_entry_format(&e, &elen, bad[i], NULL, NULL, 0, h, &blob), DT_ERR_INVALID);
    }
    char longp[DT_BOARD_PATH_MAX + 2];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_false(dt_board_path_valid(longp, strlen(longp)));
    assert_true(dt_board_path_valid(longp, DT_BOARD_PATH_MAX));
    assert_true(dt_board_path_valid("a.b/c-d/E_9.json", 16));
    assert_true(dt_board_path_valid("...", 3)); /* only "." and ".." are special */
}

static void test_entry_malformed(void **state)
{
    (void)state;
#define M DT_BOARD_ENTRY_MAGIC "\n"
    static const char *bad[] = {
        "",
        M,
        "detente/entry/v2\npath a\n\n",
        M "path a\n",                       /* no blank line */
        M "path \n\n",                       /* empty path */
        M "path ../a\n\n",                   /* bad path */
        M "Path a\n\n",                      /* key case */
        M "path a\ncode AAAA\n\n",           /* short code */
        M "path a\ncode 8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8Q\n\n", /* 45 chars */
        M "path a\ncode 8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg9=\n\n", /* non-canonical */
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" " 10\n\nx", /* body */
        M "path a\nblob " "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff" " 10\n\n", /* upper */
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddee" " 10\n\n",   /* short */
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" " 010\n\n", /* zero */
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" " \n\n",
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" " 99999999999\n\n",
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" "  1\n\n",
        M "path a\nextra x\n\n",             /* unknown line */
        M "path a\nblob " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" " 1\ncode 8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8=\n\n", /* order */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_board_entry e;
        if (dt_board_entry_parse(&e, (const unsigned char *)bad[i], strlen(bad[i])) != DT_ERR_ENCODING)
            fail_msg("accepted bad entry %zu: '%s'", i, bad[i]);
    }
    dt_board_entry e;
    const char *good = M "path a\ncode 8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8=\n\n{}";
    assert_int_equal(dt_board_entry_parse(&e, (const unsigned char *)good, strlen(good)), DT_OK);
    assert_int_equal(e.code[0], 0xf0);
    /* Too long as a whole */
    size_t big = DT_LOG_ENTRY_MAX + 1;
    unsigned char *buf = calloc(1, big);
    assert_non_null(buf);
    memcpy(buf, M "path a\n\n", strlen(M "path a\n\n"));
    assert_int_equal(dt_board_entry_parse(&e, buf, big), DT_ERR_ENCODING);
    assert_int_equal(dt_board_entry_parse(&e, buf, big - 1), DT_OK);
    free(buf);
#undef M
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tile_paths),
        cmocka_unit_test(test_entry_roundtrip),
        cmocka_unit_test(test_entry_paths),
        cmocka_unit_test(test_entry_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
