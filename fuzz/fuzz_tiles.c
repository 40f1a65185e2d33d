/* The tiles reader (src/board/tiles.c): a board's tiles folder, served by
 * anyone, read by auditors and verifying witnesses. dt_tiles_open,
 * dt_tiles_verify, dt_tiles_entry and dt_tiles_node over a folder written
 * from the input.
 *
 * Input: the tree size (2 bytes little-endian, mod 1024: up to four
 * bundles and a level-1 tile), the root it is checked against (32 bytes),
 * then files, each as a selector byte, a 2-byte little-endian length and
 * its bytes (the last one cut short by the end of the input). Selector s
 * names tile (L, n), with L = entries, 0 or 1 for s % 3, n = (s / 3) % 4, of
 * the full width when (s / 12) % 2 == 0, else of the partial width the size
 * calls for (or 1 if it calls for none). The files live in a folder of
 * $TMPDIR made once (removed at exit) and are removed after each input.
 *
 * Promises checked: every answer is DT_OK or a documented error; after a
 * successful verify every entry read alone is the one the walk gave, and
 * the root made from the hash tiles (dt_merkle_root_from_nodes) is the root
 * verified. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <detente/merkle.h>
#include <detente/tiles.h>

#include "fuzz.h"
#include "util/codec.h"

#define MAX_FILES 16
#define CHECKED 3

static char dir[4096];

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (d) {
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char *sub = dt_strdup_printf("%s/%s", path, e->d_name);
                if (sub)
                    rm_tree(sub);
                free(sub);
            }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void cleanup(void)
{
    rm_tree(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%s/detente-fuzz-tiles-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    return 0;
}

/* What the walk of dt_tiles_verify gave for the checked indexes. */
typedef struct seen {
    uint64_t index[CHECKED];
    unsigned char hash[CHECKED][DT_MERKLE_HASH_BYTES];
    int got[CHECKED];
} seen;

static dt_err on_entry(void *arg, uint64_t index, const unsigned char *data, size_t len)
{
    seen *s = arg;
    for (int i = 0; i < CHECKED; i++)
        if (s->index[i] == index) {
            dt_merkle_leaf_hash(s->hash[i], data, len);
            s->got[i] = 1;
        }
    return DT_OK;
}

/* The partial width the tree calls for at tile (L, n); 0 if none. */
static unsigned partial_width(uint64_t size, unsigned L, uint64_t n)
{
    uint64_t count = size >> (8 * L);
    return n == count / DT_TILE_WIDTH ? (unsigned)(count % DT_TILE_WIDTH) : 0;
}

static void check(uint64_t size, const unsigned char root[DT_MERKLE_HASH_BYTES])
{
    dt_tiles *t = NULL;
    seen s = {.index = {0, size / 2, size ? size - 1 : 0}};
    uint64_t bad = 0;
    dt_err err = dt_tiles_open(&t, dir, size);
    if (err != DT_OK) {
        FUZZ_CHECK(t == NULL);
        return;
    }
    err = dt_tiles_verify(t, root, on_entry, &s, &bad);
    FUZZ_CHECK(err == DT_OK || err == DT_ERR_IO || err == DT_ERR_ENCODING || err == DT_ERR_PROOF ||
               err == DT_ERR_NOMEM);
    FUZZ_CHECK(err != DT_OK || bad == UINT64_MAX);
    FUZZ_CHECK(err == DT_OK || bad == UINT64_MAX || bad < size);
    if (err == DT_OK && size > 0) {
        unsigned char again[DT_MERKLE_HASH_BYTES];
        for (int i = 0; i < CHECKED; i++) {
            unsigned char *data = NULL, leaf[DT_MERKLE_HASH_BYTES];
            size_t len = 0;
            FUZZ_CHECK(s.got[i]);
            FUZZ_CHECK(dt_tiles_entry(t, s.index[i], &data, &len) == DT_OK);
            dt_merkle_leaf_hash(leaf, data, len);
            FUZZ_CHECK(memcmp(leaf, s.hash[i], sizeof leaf) == 0);
            free(data);
        }
        FUZZ_CHECK(dt_merkle_root_from_nodes(again, size, dt_tiles_node_fn, t) == DT_OK);
        FUZZ_CHECK(memcmp(again, root, sizeof again) == 0);
    } else {
        /* Whatever verify said, reading is safe. */
        unsigned char *data = NULL, node[DT_MERKLE_HASH_BYTES];
        size_t len = 0;
        for (int i = 0; i < CHECKED; i++) {
            err = dt_tiles_entry(t, s.index[i], &data, &len);
            FUZZ_CHECK(err == DT_OK || err == DT_ERR_IO || err == DT_ERR_ENCODING || err == DT_ERR_PROOF ||
                       err == DT_ERR_RANGE || err == DT_ERR_NOMEM);
            FUZZ_CHECK(err == DT_OK || data == NULL);
            free(data);
        }
        for (unsigned level = 0; level <= 9; level++) {
            err = dt_tiles_node(t, node, level, 0);
            FUZZ_CHECK(err == DT_OK || err == DT_ERR_IO || err == DT_ERR_ENCODING || err == DT_ERR_RANGE);
        }
    }
    dt_tiles_close(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char written[MAX_FILES][4096 + DT_TILE_PATH_MAX];
    size_t nwritten = 0, off = 2 + DT_MERKLE_HASH_BYTES;
    uint64_t tree_size;
    if (size < off)
        return 0;
    tree_size = ((uint64_t)data[0] | (uint64_t)data[1] << 8) % 1024;

    while (off + 3 <= size && nwritten < MAX_FILES) {
        unsigned sel = data[off], L = sel % 3, n = (sel / 3) % 4, width = DT_TILE_WIDTH;
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        char rel[DT_TILE_PATH_MAX], *slash;
        off += 3;
        if (len > size - off)
            len = size - off;
        if ((sel / 12) % 2) {
            width = partial_width(tree_size, L == 0 ? 0 : L - 1, n);
            if (width == 0)
                width = 1;
        }
        FUZZ_CHECK((L == 0 ? dt_tile_entries_path(rel, n, width) : dt_tile_path(rel, L - 1, n, width)) == DT_OK);
        snprintf(written[nwritten], sizeof written[nwritten], "%s/%s", dir, rel);
        slash = strrchr(written[nwritten], '/');
        *slash = '\0';
        FUZZ_CHECK(dt_mkdirs(written[nwritten]) == DT_OK);
        *slash = '/';
        FILE *f = fopen(written[nwritten], "wb");
        FUZZ_CHECK(f != NULL);
        FUZZ_CHECK(len == 0 || fwrite(data + off, 1, len, f) == len);
        FUZZ_CHECK(fclose(f) == 0);
        nwritten++;
        off += len;
    }
    check(tree_size, data + 2);
    for (size_t i = 0; i < nwritten; i++)
        unlink(written[i]);
    return 0;
}
