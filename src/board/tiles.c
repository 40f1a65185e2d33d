/* Reading a board published as C2SP tlog-tiles v0.1.0: hash tiles, entry
 * bundles, node hashes for proofs, and the streaming check of a whole board
 * against a checkpoint's root.
 *
 * Memory is flat: a reader keeps DT_TILES_CACHE hash tiles (8 KiB each,
 * least recently used out) and one bundle buffer that grows to the largest
 * bundle read (at most 256 * (2 + 65535) bytes). A reader is not safe to
 * share between threads (its cache changes on every read).
 *
 * Files are read whole, bounded before any allocation: a hash tile must be
 * exactly 32 * W bytes, a bundle at most W * (2 + 65535). A partial tile or
 * bundle that is missing is read from the full one instead, if present (its
 * first W hashes or entries; tlog-tiles allows a log to delete a partial tile
 * once the full one exists). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <detente/tiles.h>

#define HB DT_MERKLE_HASH_BYTES
#define W DT_TILE_WIDTH
#define DT_TILES_CACHE 16
/* The largest entry a bundle's 16-bit length can state. */
#define DT_BUNDLE_ENTRY_MAX 65535u

typedef struct tile_slot {
    int valid;
    unsigned level;
    uint64_t index;
    uint64_t used; /* the reader's tick at the last use, for LRU */
    unsigned char hash[W][HB];
} tile_slot;

struct dt_tiles {
    char *dir;
    uint64_t size;
    uint64_t tick;
    tile_slot slot[DT_TILES_CACHE];
    unsigned char *buf; /* the bundle buffer */
    size_t bufcap;
};

/* A parsed bundle: entry i is data[i] of len[i] bytes, inside t->buf. */
typedef struct bundle {
    unsigned n;
    const unsigned char *data[W];
    size_t len[W];
} bundle;

dt_err dt_tiles_open(dt_tiles **out, const char *dir, uint64_t size)
{
    struct stat st;
    dt_tiles *t;
    if (!out || !dir)
        dt_misuse("dt_tiles_open: NULL argument");
    *out = NULL;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return DT_ERR_IO;
    t = calloc(1, sizeof *t);
    if (!t)
        return DT_ERR_NOMEM;
    t->dir = strdup(dir);
    if (!t->dir) {
        free(t);
        return DT_ERR_NOMEM;
    }
    t->size = size;
    *out = t;
    return DT_OK;
}

void dt_tiles_close(dt_tiles *t)
{
    if (!t)
        return;
    free(t->dir);
    free(t->buf);
    free(t);
}

uint64_t dt_tiles_size(const dt_tiles *t)
{
    if (!t)
        dt_misuse("dt_tiles_size: NULL argument");
    return t->size;
}

/* The width of tile (level L, index n) in a tree of the reader's size: 256
 * for a full tile, 1..255 for the partial one, 0 if there is no such tile. */
static unsigned tile_width(const dt_tiles *t, unsigned L, uint64_t n)
{
    uint64_t count = t->size >> (8 * L); /* hashes at tree level 8L */
    uint64_t full = count / W;
    if (n < full)
        return W;
    if (n == full)
        return (unsigned)(count % W);
    return 0;
}

/* Opens dir/path as a regular file and returns its descriptor and size;
 * -1 with errno set otherwise. */
static int open_file(const dt_tiles *t, const char *path, uint64_t *fsize)
{
    char full[4096];
    struct stat st;
    int fd;
    size_t dl = strlen(t->dir);
    if (dl + 1 + strlen(path) + 1 > sizeof full) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(full, t->dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, path, strlen(path) + 1);
    fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EIO;
        return -1;
    }
    *fsize = (uint64_t)st.st_size;
    return fd;
}

/* Opens tile (L, n) of width w (L == DT_TILE_ENTRIES for a bundle), or the
 * full tile when a partial one is missing. *fullw gets the width of the file
 * opened. DT_ERR_IO if neither can be opened. */
static dt_err open_tile(const dt_tiles *t, unsigned L, uint64_t n, unsigned w, int *fd, uint64_t *fsize,
                        unsigned *fullw)
{
    char path[DT_TILE_PATH_MAX];
    dt_err err = L == DT_TILE_ENTRIES ? dt_tile_entries_path(path, n, w) : dt_tile_path(path, L, n, w);
    if (err)
        return err;
    *fullw = w;
    *fd = open_file(t, path, fsize);
    if (*fd >= 0)
        return DT_OK;
    if (errno != ENOENT || w == W)
        return DT_ERR_IO;
    err = L == DT_TILE_ENTRIES ? dt_tile_entries_path(path, n, W) : dt_tile_path(path, L, n, W);
    if (err)
        return err;
    *fullw = W;
    *fd = open_file(t, path, fsize);
    return *fd >= 0 ? DT_OK : DT_ERR_IO;
}

static dt_err read_all(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return DT_ERR_IO;
        got += (size_t)r;
    }
    return DT_OK;
}

/* Hash tile (L, n) through the cache. On error nothing is cached. */
static dt_err get_tile(dt_tiles *t, const unsigned char (**out)[HB], unsigned L, uint64_t n)
{
    tile_slot *s = NULL; /* the slot to fill: an empty one, else the least recently used */
    unsigned w = tile_width(t, L, n), fw;
    uint64_t fsize;
    int fd;
    dt_err err;
    t->tick++;
    for (size_t i = 0; i < DT_TILES_CACHE; i++) {
        tile_slot *c = &t->slot[i];
        if (c->valid && c->level == L && c->index == n) {
            c->used = t->tick;
            *out = (const unsigned char(*)[HB])c->hash;
            return DT_OK;
        }
        if (!s || (s->valid && (!c->valid || c->used < s->used)))
            s = c;
    }
    if (w == 0)
        return DT_ERR_RANGE;
    if ((err = open_tile(t, L, n, w, &fd, &fsize, &fw)))
        return err;
    s->valid = 0;
    if (fsize != (uint64_t)fw * HB)
        err = DT_ERR_ENCODING;
    else
        err = read_all(fd, &s->hash[0][0], (size_t)w * HB);
    close(fd);
    if (err)
        return err;
    s->valid = 1;
    s->level = L;
    s->index = n;
    s->used = t->tick;
    *out = (const unsigned char(*)[HB])s->hash;
    return DT_OK;
}

/* Entry bundle n, parsed exactly (the file's own width of entries, no byte
 * left over); b gets the first tile_width() of them. */
static dt_err get_bundle(dt_tiles *t, bundle *b, uint64_t n)
{
    unsigned w = tile_width(t, 0, n), fw, i;
    uint64_t fsize;
    size_t off = 0, len;
    int fd;
    dt_err err;
    b->n = 0;
    if (w == 0)
        return DT_ERR_RANGE;
    if ((err = open_tile(t, DT_TILE_ENTRIES, n, w, &fd, &fsize, &fw)))
        return err;
    if (fsize < (uint64_t)fw * 2 || fsize > (uint64_t)fw * (2 + DT_BUNDLE_ENTRY_MAX)) {
        close(fd);
        return DT_ERR_ENCODING;
    }
    len = (size_t)fsize;
    if (len > t->bufcap) {
        unsigned char *p = realloc(t->buf, len);
        if (!p) {
            close(fd);
            return DT_ERR_NOMEM;
        }
        t->buf = p;
        t->bufcap = len;
    }
    err = read_all(fd, t->buf, len);
    close(fd);
    if (err)
        return err;
    for (i = 0; i < fw; i++) {
        size_t el;
        if (len - off < 2)
            return DT_ERR_ENCODING;
        el = (size_t)t->buf[off] << 8 | t->buf[off + 1];
        off += 2;
        if (len - off < el)
            return DT_ERR_ENCODING;
        if (i < w) {
            b->data[i] = t->buf + off;
            b->len[i] = el;
        }
        off += el;
    }
    if (off != len)
        return DT_ERR_ENCODING;
    b->n = w;
    return DT_OK;
}

/* Folds 2^h consecutive hashes (h <= 8) into the root of their perfect
 * subtree. */
static void fold(unsigned char out[HB], const unsigned char (*h)[HB], unsigned height)
{
    unsigned char tmp[W / 2][HB];
    size_t n = (size_t)1 << height;
    if (height == 0) {
        memcpy(out, h[0], HB);
        return;
    }
    for (size_t i = 0; i < n / 2; i++)
        dt_merkle_node_hash(tmp[i], h[2 * i], h[2 * i + 1]);
    for (n /= 2; n > 1; n /= 2)
        for (size_t i = 0; i < n / 2; i++)
            dt_merkle_node_hash(tmp[i], tmp[2 * i], tmp[2 * i + 1]);
    memcpy(out, tmp[0], HB);
}

dt_err dt_tiles_node(dt_tiles *t, unsigned char out[HB], unsigned level, uint64_t index)
{
    const unsigned char(*tile)[HB];
    unsigned L, h;
    uint64_t first;
    dt_err err;
    if (!t || !out)
        dt_misuse("dt_tiles_node: NULL argument");
    memset(out, 0, HB);
    /* Wholly inside the tree: (index + 1) << level <= size, without overflow. */
    if (level > 63 || index >= (t->size >> level))
        return DT_ERR_RANGE;
    L = level / DT_TILE_HEIGHT;
    h = level % DT_TILE_HEIGHT;
    first = index << h; /* the first hash at tree level 8L under the node */
    if ((err = get_tile(t, &tile, L, first / W)))
        return err;
    fold(out, tile + first % W, h);
    return DT_OK;
}

dt_err dt_tiles_node_fn(void *t, unsigned char out[HB], unsigned level, uint64_t index)
{
    return dt_tiles_node(t, out, level, index);
}

dt_err dt_tiles_entry(dt_tiles *t, uint64_t index, unsigned char **data, size_t *len)
{
    const unsigned char(*tile)[HB];
    unsigned char leaf[HB];
    bundle b;
    unsigned i = (unsigned)(index % W);
    dt_err err;
    if (!t || !data || !len)
        dt_misuse("dt_tiles_entry: NULL argument");
    *data = NULL;
    *len = 0;
    if (index >= t->size)
        return DT_ERR_RANGE;
    if ((err = get_bundle(t, &b, index / W)) || (err = get_tile(t, &tile, 0, index / W)))
        return err;
    dt_merkle_leaf_hash(leaf, b.data[i], b.len[i]);
    if (memcmp(leaf, tile[i], HB) != 0)
        return DT_ERR_PROOF;
    *data = malloc(b.len[i] ? b.len[i] : 1);
    if (!*data)
        return DT_ERR_NOMEM;
    memcpy(*data, b.data[i], b.len[i]);
    *len = b.len[i];
    return DT_OK;
}

/* After the full tile (L, n) has been checked from below: its root must be
 * hash n % 256 of tile (L + 1, n / 256), and when that completes a full
 * parent, the same again one level up. */
static dt_err check_up(dt_tiles *t, unsigned L, uint64_t n, const unsigned char (*tile)[HB], uint64_t *bad)
{
    unsigned char root[HB];
    const unsigned char(*parent)[HB];
    dt_err err;
    for (;;) {
        *bad = n << (8 * (L + 1));
        fold(root, tile, 8);
        if ((err = get_tile(t, &parent, L + 1, n / W)))
            return err;
        if (memcmp(root, parent[n % W], HB) != 0)
            return DT_ERR_PROOF;
        if (n % W != W - 1 || tile_width(t, L + 1, n / W) != W)
            return DT_OK;
        tile = parent;
        L++;
        n /= W;
    }
}

dt_err dt_tiles_verify(dt_tiles *t, const unsigned char root[HB], dt_tiles_entry_fn fn, void *arg,
                       uint64_t *bad_index)
{
    dt_merkle_frontier f;
    unsigned char got[HB];
    unsigned char leaf[W][HB];
    const unsigned char(*tile)[HB];
    uint64_t bad = UINT64_MAX, nb, n;
    bundle b;
    dt_err err = DT_OK;
    if (!t || !root)
        dt_misuse("dt_tiles_verify: NULL argument");
    dt_merkle_frontier_init(&f);
    nb = t->size / W + (t->size % W != 0);
    for (n = 0; n < nb; n++) {
        bad = n * W;
        if ((err = get_bundle(t, &b, n)))
            goto out;
        for (unsigned i = 0; i < b.n; i++)
            dt_merkle_leaf_hash(leaf[i], b.data[i], b.len[i]);
        if ((err = get_tile(t, &tile, 0, n)))
            goto out;
        for (unsigned i = 0; i < b.n; i++) {
            bad = n * W + i;
            if (memcmp(leaf[i], tile[i], HB) != 0) {
                err = DT_ERR_PROOF;
                goto out;
            }
            if (fn && (err = fn(arg, bad, b.data[i], b.len[i])))
                goto out;
            if ((err = dt_merkle_frontier_append(&f, leaf[i])))
                goto out;
        }
        if (b.n == W && (err = check_up(t, 0, n, tile, &bad)))
            goto out;
    }
    bad = UINT64_MAX;
    dt_merkle_frontier_root(&f, got);
    if (memcmp(got, root, HB) != 0)
        err = DT_ERR_PROOF;
out:
    if (bad_index)
        *bad_index = err ? bad : UINT64_MAX;
    return err;
}
