/* The tlog-tiles reader (src/board/tiles.c) against tiles written here by a
 * small independent writer (from leaf arrays and dt_merkle_root, following
 * tlog-tiles v0.1.0's definitions): boards of 0..70,000 entries, every node
 * and proof through the reader, the partial-tile fallback, and each kind of
 * damage with its error and the index it reports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <detente/merkle.h>
#include <detente/tiles.h>

#include "testrand.h"
#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES
typedef unsigned char hash_t[HB];

/* ---- a board of entries ---- */

typedef struct board {
    uint64_t n;
    unsigned char **data;
    size_t *len;
    hash_t *leaf;
} board;

/* Entry i: mostly short (0..40 bytes, the first byte its index), every 97th
 * of 1,000 bytes, and entry 3 of the largest size, 65,535 bytes. */
static void board_make(board *b, uint64_t n)
{
    b->n = n;
    b->data = calloc(n ? n : 1, sizeof *b->data);
    b->len = calloc(n ? n : 1, sizeof *b->len);
    b->leaf = calloc(n ? n : 1, sizeof *b->leaf);
    assert_non_null(b->data);
    assert_non_null(b->len);
    assert_non_null(b->leaf);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = i == 3 ? 65535 : i % 97 == 96 ? 1000 : (size_t)(i * 7 % 41);
        b->data[i] = malloc(len + 1);
        assert_non_null(b->data[i]);
        for (size_t j = 0; j < len; j++)
            b->data[i][j] = (unsigned char)(i * 31 + j * 7 + (i >> 8));
        if (len)
            b->data[i][0] = (unsigned char)i;
        b->len[i] = len;
        dt_merkle_leaf_hash(b->leaf[i], b->data[i], len);
    }
}

static void board_free(board *b)
{
    for (uint64_t i = 0; i < b->n; i++)
        free(b->data[i]);
    free(b->data);
    free(b->len);
    free(b->leaf);
}

/* ---- the test-only writer ---- */

static void put_file(const char *dir, const char *rel, const void *data, size_t len)
{
    char *path = dt_strdup_printf("%s/%s", dir, rel), *slash;
    assert_non_null(path);
    slash = strrchr(path, '/');
    *slash = 0;
    assert_int_equal(dt_mkdirs(path), DT_OK);
    *slash = '/';
    /* plain stdio: the reader is under test, not durability (no fsync) */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

/* Writes every tile and bundle of the tree of the first size entries, as
 * tlog-tiles defines them: tile n of level L holds, for i < its width,
 * MTH(D[(256n + i) * 256^L : (256n + i + 1) * 256^L]); the partial tile of
 * level L has floor(size / 256^L) mod 256 hashes. */
static void write_tiles(const char *dir, const board *b, uint64_t size)
{
    char rel[DT_TILE_PATH_MAX];
    for (unsigned L = 0; (size >> (8 * L)) > 0; L++) {
        uint64_t count = size >> (8 * L), span = (uint64_t)1 << (8 * L);
        for (uint64_t n = 0; n * 256 < count; n++) {
            unsigned w = count - n * 256 >= 256 ? 256 : (unsigned)(count - n * 256);
            hash_t *tile = malloc((size_t)w * HB);
            assert_non_null(tile);
            for (unsigned i = 0; i < w; i++)
                dt_merkle_root(tile[i], (const hash_t *)b->leaf + (n * 256 + i) * span, span);
            assert_int_equal(dt_tile_path(rel, L, n, w), DT_OK);
            put_file(dir, rel, tile, (size_t)w * HB);
            free(tile);
            if (L == 0) {
                size_t blen = 0, off = 0;
                for (unsigned i = 0; i < w; i++)
                    blen += 2 + b->len[n * 256 + i];
                unsigned char *bundle = malloc(blen);
                assert_non_null(bundle);
                for (unsigned i = 0; i < w; i++) {
                    size_t el = b->len[n * 256 + i];
                    bundle[off++] = (unsigned char)(el >> 8);
                    bundle[off++] = (unsigned char)el;
                    memcpy(bundle + off, b->data[n * 256 + i], el);
                    off += el;
                }
                assert_int_equal(dt_tile_entries_path(rel, n, w), DT_OK);
                put_file(dir, rel, bundle, blen);
                free(bundle);
            }
        }
    }
}

static char workdir[512];

static char *fresh_dir(const char *name)
{
    char *d = dt_strdup_printf("%s/%s", workdir, name), *cmd = dt_strdup_printf("rm -rf '%s'", d);
    assert_non_null(d);
    assert_non_null(cmd);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(dt_mkdirs(d), DT_OK);
    return d;
}

static char *file_of(const char *dir, const char *rel)
{
    char *p = dt_strdup_printf("%s/%s", dir, rel);
    assert_non_null(p);
    return p;
}

static int exists(const char *dir, const char *rel)
{
    char *p = file_of(dir, rel);
    struct stat st;
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

/* ---- the entry callback ---- */

typedef struct walk {
    const board *b;
    uint64_t next;
    uint64_t fail_at; /* return DT_ERR_INVALID at this index */
} walk;

static dt_err on_entry(void *arg, uint64_t index, const unsigned char *data, size_t len)
{
    walk *w = arg;
    assert_int_equal(index, w->next);
    assert_int_equal(len, w->b->len[index]);
    if (len)
        assert_memory_equal(data, w->b->data[index], len);
    w->next++;
    return index == w->fail_at ? DT_ERR_INVALID : DT_OK;
}

static void root_of(hash_t root, const board *b, uint64_t size)
{
    dt_merkle_root(root, (const hash_t *)b->leaf, size);
}

/* verify at size, expecting err and bad index; returns entries seen */
static uint64_t check_verify(const char *dir, const board *b, uint64_t size, const hash_t root, dt_err want,
                             uint64_t want_bad)
{
    dt_tiles *t = NULL;
    walk w = {b, 0, UINT64_MAX};
    uint64_t bad = 12345;
    assert_int_equal(dt_tiles_open(&t, dir, size), DT_OK);
    assert_int_equal(dt_tiles_size(t), size);
    dt_err got = dt_tiles_verify(t, root, on_entry, &w, &bad);
    if (got != want)
        fail_msg("verify at size %llu: %d, want %d (bad %llu)", (unsigned long long)size, got, want,
                 (unsigned long long)bad);
    assert_int_equal(bad, want_bad);
    dt_tiles_close(t);
    return w.next;
}

/* ---- tests ---- */

/* Every (level, index) node of a tree through the reader, against the
 * recursive root of its leaves. */
static void check_all_nodes(dt_tiles *t, const board *b, uint64_t size)
{
    hash_t got, want;
    for (unsigned level = 0; level < 64 && (size >> level) > 0; level++) {
        uint64_t count = size >> level;
        for (uint64_t i = 0; i < count; i++) {
            assert_int_equal(dt_tiles_node(t, got, level, i), DT_OK);
            dt_merkle_root(want, (const hash_t *)b->leaf + (i << level), (uint64_t)1 << level);
            assert_memory_equal(got, want, HB);
        }
        /* just beyond the tree */
        assert_int_equal(dt_tiles_node(t, got, level, count), DT_ERR_RANGE);
    }
    assert_int_equal(dt_tiles_node(t, got, 64, 0), DT_ERR_RANGE);
}

static void test_sizes(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, 70000};
    board b;
    board_make(&b, 70000);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t size = sizes[s];
        char name[32];
        hash_t root, got, wrong;
        dt_tiles *t = NULL;
        snprintf(name, sizeof name, "size-%llu", (unsigned long long)size);
        char *dir = fresh_dir(name);
        write_tiles(dir, &b, size);
        root_of(root, &b, size);

        /* the whole board checks, every entry seen in order, once */
        assert_int_equal(check_verify(dir, &b, size, root, DT_OK, UINT64_MAX), size);
        /* against another root: the root check fails, no entry is blamed */
        memcpy(wrong, root, HB);
        wrong[7] ^= 1;
        check_verify(dir, &b, size, wrong, DT_ERR_PROOF, UINT64_MAX);

        assert_int_equal(dt_tiles_open(&t, dir, size), DT_OK);
        /* fn may be NULL, bad_index too */
        assert_int_equal(dt_tiles_verify(t, root, NULL, NULL, NULL), DT_OK);
        /* the root from the tiles' nodes */
        assert_int_equal(dt_merkle_root_from_nodes(got, size, dt_tiles_node_fn, t), DT_OK);
        assert_memory_equal(got, root, HB);
        if (size <= 1000)
            check_all_nodes(t, &b, size);
        /* proofs from the tiles verify; entries come back */
        for (int k = 0; k < 40 && size > 0; k++) {
            uint64_t i = k == 0 ? 0 : k == 1 ? size - 1 : testrand_u64(size);
            unsigned char proof[DT_MERKLE_MAX_PROOF][HB], *data = NULL;
            size_t plen = DT_MERKLE_MAX_PROOF, len = 0;
            assert_int_equal(dt_merkle_inclusion_proof_from_nodes(proof, &plen, i, size, dt_tiles_node_fn, t), DT_OK);
            assert_int_equal(dt_merkle_inclusion_verify(i, size, b.leaf[i], (const hash_t *)proof, plen, root), DT_OK);
            assert_int_equal(dt_tiles_entry(t, i, &data, &len), DT_OK);
            assert_int_equal(len, b.len[i]);
            if (len)
                assert_memory_equal(data, b.data[i], len);
            free(data);
            if (i > 0) {
                uint64_t m = 1 + testrand_u64(i);
                plen = DT_MERKLE_MAX_PROOF;
                assert_int_equal(dt_merkle_consistency_proof_from_nodes(proof, &plen, m, size, dt_tiles_node_fn, t),
                                 DT_OK);
                root_of(got, &b, m);
                assert_int_equal(dt_merkle_consistency_verify(m, size, got, root, (const hash_t *)proof, plen), DT_OK);
            }
        }
        {
            unsigned char *data = (unsigned char *)"x";
            size_t len = 9;
            assert_int_equal(dt_tiles_entry(t, size, &data, &len), DT_ERR_RANGE);
            assert_null(data);
            assert_int_equal(len, 0);
        }
        dt_tiles_close(t);
        free(dir);
    }
    /* the files of size 70,000 are the spec's example: 273 full level-0
     * tiles and one of width 112, one full level-1 tile and one of 17, one
     * level-2 tile of width 1 */
    {
        char *dir = file_of(workdir, "size-70000");
        assert_true(exists(dir, "tile/0/272"));
        assert_true(exists(dir, "tile/0/273.p/112"));
        assert_false(exists(dir, "tile/0/274"));
        assert_true(exists(dir, "tile/1/000"));
        assert_true(exists(dir, "tile/1/001.p/17"));
        assert_true(exists(dir, "tile/2/000.p/1"));
        assert_false(exists(dir, "tile/3/000.p/1"));
        assert_true(exists(dir, "tile/entries/273.p/112"));
        free(dir);
    }
    board_free(&b);
}

/* A partial tile or bundle that is gone is read from the full one. */
static void test_partial_fallback(void **state)
{
    (void)state;
    board b;
    hash_t root, got;
    dt_tiles *t = NULL;
    board_make(&b, 512);
    char *dir = fresh_dir("fallback");
    write_tiles(dir, &b, 256); /* tile/1/000.p/1 */
    write_tiles(dir, &b, 512); /* tile/0/001, tile/entries/001, tile/1/000.p/2 */
    assert_false(exists(dir, "tile/0/001.p/44"));
    root_of(root, &b, 300);
    assert_int_equal(check_verify(dir, &b, 300, root, DT_OK, UINT64_MAX), 300);
    assert_int_equal(dt_tiles_open(&t, dir, 300), DT_OK);
    check_all_nodes(t, &b, 300);
    assert_int_equal(dt_merkle_root_from_nodes(got, 300, dt_tiles_node_fn, t), DT_OK);
    assert_memory_equal(got, root, HB);
    dt_tiles_close(t);
    /* a smaller tree than the tiles: every file it needs is there */
    root_of(root, &b, 256);
    check_verify(dir, &b, 256, root, DT_OK, UINT64_MAX);
    /* but tile/1/000.p/3 is not, nor a full tile/1/000 */
    board_free(&b);
    board_make(&b, 768);
    root_of(root, &b, 768);
    write_tiles(dir, &b, 768);
    check_verify(dir, &b, 768, root, DT_OK, UINT64_MAX);
    char *p = file_of(dir, "tile/1/000.p/3");
    assert_int_equal(unlink(p), 0);
    free(p);
    check_verify(dir, &b, 768, root, DT_ERR_IO, 0);
    free(dir);
    board_free(&b);
}

/* ---- damage ---- */

#define SIZE 600 /* bundles 0 and 1 full, 2 of width 88; tile/1/000.p/2 */

static unsigned char *slurp(const char *dir, const char *rel, size_t *len)
{
    unsigned char *d = NULL;
    char *p = file_of(dir, rel);
    assert_int_equal(dt_read_file(&d, len, p, 64u << 20), DT_OK);
    free(p);
    return d;
}

static void spit(const char *dir, const char *rel, const unsigned char *d, size_t len)
{
    put_file(dir, rel, d, len);
}

typedef struct damage {
    const char *name;
    const char *file;
    void (*edit)(unsigned char **d, size_t *len, size_t arg);
    size_t arg;
    dt_err want;
    uint64_t bad;  /* the index reported */
    uint64_t seen; /* entries the callback saw before the error */
} damage;

static void flip(unsigned char **d, size_t *len, size_t at)
{
    assert_true(at < *len);
    (*d)[at] ^= 0x40;
}

static void cut(unsigned char **d, size_t *len, size_t n)
{
    *len -= n;
}

static void grow(unsigned char **d, size_t *len, size_t n)
{
    unsigned char *p = realloc(*d, *len + n);
    assert_non_null(p);
    memset(p + *len, 0, n);
    *d = p;
    *len += n;
}

/* Removes the last entry of a bundle (entries of bundle 1 are entry 256 +
 * i; the last is 511, 7 * 511 % 41 = 10 bytes long). */
static void drop_last(unsigned char **d, size_t *len, size_t elen)
{
    *len -= 2 + elen;
}

/* Sets the length prefix of the first entry to more than remains. */
static void overlong(unsigned char **d, size_t *len, size_t unused)
{
    (*d)[0] = 0xff;
    (*d)[1] = 0xff;
}

/* Offset of entry i's data inside its bundle. */
static size_t entry_offset(const board *b, uint64_t i)
{
    size_t off = 0;
    for (uint64_t j = i / 256 * 256; j < i; j++)
        off += 2 + b->len[j];
    return off + 2;
}

static void test_damage(void **state)
{
    (void)state;
    board b;
    hash_t root;
    board_make(&b, SIZE);
    root_of(root, &b, SIZE);
    assert_int_equal(b.len[511], 10);
    assert_true(b.len[300] > 0);
    const damage cases[] = {
        {"a byte of entry 300", "tile/entries/001", flip, entry_offset(&b, 300), DT_ERR_PROOF, 300, 300},
        {"a byte of entry 599", "tile/entries/002.p/88", flip, entry_offset(&b, 599), DT_ERR_PROOF, 599, 599},
        {"a length prefix", "tile/entries/001", flip, 1, DT_ERR_ENCODING, 256, 256},
        {"an overlong entry", "tile/entries/000", overlong, 0, DT_ERR_ENCODING, 0, 0},
        {"a trailing byte in a bundle", "tile/entries/001", grow, 1, DT_ERR_ENCODING, 256, 256},
        {"one entry too few", "tile/entries/001", drop_last, 10, DT_ERR_ENCODING, 256, 256},
        {"a truncated partial bundle", "tile/entries/002.p/88", cut, 1, DT_ERR_ENCODING, 512, 512},
        {"hash 45 of level-0 tile 1", "tile/0/001", flip, 45 * HB + 3, DT_ERR_PROOF, 256 + 45, 301},
        {"hash 87 of the partial level-0 tile", "tile/0/002.p/88", flip, 87 * HB, DT_ERR_PROOF, 512 + 87, 599},
        {"hash 1 of the level-1 tile", "tile/1/000.p/2", flip, HB + 31, DT_ERR_PROOF, 256, 512},
        {"hash 0 of the level-1 tile", "tile/1/000.p/2", flip, 0, DT_ERR_PROOF, 0, 256},
        {"a truncated level-0 tile", "tile/0/000", cut, 1, DT_ERR_ENCODING, 0, 0},
        {"a level-0 tile one hash short", "tile/0/001", cut, HB, DT_ERR_ENCODING, 256, 256},
        {"a level-0 tile one byte long", "tile/0/001", grow, 1, DT_ERR_ENCODING, 256, 256},
        {"a truncated level-1 tile", "tile/1/000.p/2", cut, 1, DT_ERR_ENCODING, 0, 256},
        {"a bundle beyond the largest", "tile/entries/002.p/88", grow, 88 * 65537, DT_ERR_ENCODING, 512, 512},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const damage *k = &cases[c];
        size_t len;
        char *dir = fresh_dir("damage");
        print_message("damage: %s\n", k->name);
        write_tiles(dir, &b, SIZE);
        unsigned char *d = slurp(dir, k->file, &len);
        k->edit(&d, &len, k->arg);
        spit(dir, k->file, d, len);
        free(d);
        assert_int_equal(check_verify(dir, &b, SIZE, root, k->want, k->bad), k->seen);
        free(dir);
    }
    board_free(&b);
}

static void test_missing_and_sizes(void **state)
{
    (void)state;
    board b;
    hash_t root, h;
    dt_tiles *t = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    board_make(&b, SIZE + 1);
    root_of(root, &b, SIZE);
    char *dir = fresh_dir("missing");
    write_tiles(dir, &b, SIZE);
    static const struct {
        const char *file;
        uint64_t bad;
    } gone[] = {{"tile/entries/000", 0}, {"tile/entries/002.p/88", 512}, {"tile/0/001", 256}, {"tile/1/000.p/2", 0}};
    for (size_t g = 0; g < sizeof gone / sizeof *gone; g++) {
        char *p = file_of(dir, gone[g].file), *q = dt_strdup_printf("%s.away", p);
        assert_int_equal(rename(p, q), 0);
        check_verify(dir, &b, SIZE, root, DT_ERR_IO, gone[g].bad);
        assert_int_equal(rename(q, p), 0);
        free(p);
        free(q);
    }
    check_verify(dir, &b, SIZE, root, DT_OK, UINT64_MAX);

    /* a wrong size: one more entry needs files that are not there */
    root_of(h, &b, SIZE + 1);
    check_verify(dir, &b, SIZE + 1, h, DT_ERR_IO, 512);
    /* one fewer: the partial tile of width 87 is not there either */
    root_of(h, &b, SIZE - 1);
    check_verify(dir, &b, SIZE - 1, h, DT_ERR_IO, 512);
    /* the size of the full tiles works, but not with the root of 600 */
    root_of(h, &b, 512);
    check_verify(dir, &b, 512, h, DT_OK, UINT64_MAX);
    check_verify(dir, &b, 512, root, DT_ERR_PROOF, UINT64_MAX);

    /* nodes and entries report the same errors */
    assert_int_equal(dt_tiles_open(&t, dir, SIZE), DT_OK);
    {
        char *p = file_of(dir, "tile/0/001"), *q = dt_strdup_printf("%s.away", p);
        assert_int_equal(rename(p, q), 0);
        assert_int_equal(dt_tiles_node(t, h, 0, 300), DT_ERR_IO);
        assert_int_equal(dt_tiles_node(t, h, 3, 300 / 8), DT_ERR_IO);
        assert_int_equal(dt_tiles_entry(t, 300, &data, &len), DT_ERR_IO);
        assert_null(data);
        assert_int_equal(dt_tiles_node(t, h, 8, 0), DT_OK); /* from tile/1 */
        assert_int_equal(rename(q, p), 0);
        free(p);
        free(q);
    }
    {
        size_t n;
        unsigned char *d = slurp(dir, "tile/entries/001", &n);
        d[entry_offset(&b, 300)] ^= 1;
        spit(dir, "tile/entries/001", d, n);
        assert_int_equal(dt_tiles_entry(t, 300, &data, &len), DT_ERR_PROOF);
        assert_null(data);
        assert_int_equal(dt_tiles_entry(t, 299, &data, &len), DT_OK);
        assert_int_equal(len, b.len[299]);
        free(data);
        d[entry_offset(&b, 300)] ^= 1;
        grow(&d, &n, 1);
        spit(dir, "tile/entries/001", d, n);
        assert_int_equal(dt_tiles_entry(t, 299, &data, &len), DT_ERR_ENCODING);
        free(d);
    }
    {
        size_t n;
        unsigned char *d = slurp(dir, "tile/0/000", &n);
        spit(dir, "tile/0/000", d, n - 1);
        /* tile/0/000 may still be cached: a fresh reader sees the damage */
        dt_tiles_close(t);
        assert_int_equal(dt_tiles_open(&t, dir, SIZE), DT_OK);
        assert_int_equal(dt_tiles_node(t, h, 0, 5), DT_ERR_ENCODING);
        assert_int_equal(dt_tiles_node(t, h, 7, 1), DT_ERR_ENCODING);
        spit(dir, "tile/0/000", d, n);
        free(d);
    }
    dt_tiles_close(t);
    dt_tiles_close(NULL);

    /* no such folder, or a file instead of one */
    assert_int_equal(dt_tiles_open(&t, "/nonexistent/detente/board", 1), DT_ERR_IO);
    assert_null(t);
    {
        char *p = file_of(dir, "tile/0/001");
        assert_int_equal(dt_tiles_open(&t, p, 1), DT_ERR_IO);
        free(p);
    }
    /* a folder where a tile should be */
    write_tiles(dir, &b, SIZE);
    {
        char *p = file_of(dir, "tile/0/002.p/88"), *q = dt_strdup_printf("%s.away", p);
        assert_int_equal(rename(p, q), 0);
        assert_int_equal(mkdir(p, 0755), 0);
        check_verify(dir, &b, SIZE, root, DT_ERR_IO, 512);
        assert_int_equal(rmdir(p), 0);
        assert_int_equal(rename(q, p), 0);
        free(p);
        free(q);
    }
    free(dir);
    board_free(&b);
}

/* The callback's error stops the walk and is returned, with its index. */
static void test_callback_error(void **state)
{
    (void)state;
    board b;
    hash_t root;
    dt_tiles *t = NULL;
    uint64_t bad = 0;
    board_make(&b, 300);
    root_of(root, &b, 300);
    char *dir = fresh_dir("callback");
    write_tiles(dir, &b, 300);
    assert_int_equal(dt_tiles_open(&t, dir, 300), DT_OK);
    walk w = {&b, 0, 257};
    assert_int_equal(dt_tiles_verify(t, root, on_entry, &w, &bad), DT_ERR_INVALID);
    assert_int_equal(bad, 257);
    assert_int_equal(w.next, 258);
    dt_tiles_close(t);
    free(dir);
    board_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_partial_fallback),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_missing_and_sizes),
        cmocka_unit_test(test_callback_error),
    };
    int rc;
    testrand_init();
    snprintf(workdir, sizeof workdir, "%s/detente-test-tiles-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char *cmd = dt_strdup_printf("rm -rf '%s'", workdir);
        if (cmd && system(cmd) != 0)
            rc = 1;
        free(cmd);
    }
    return rc;
}
