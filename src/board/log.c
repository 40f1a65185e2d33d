/* The board's log store (include/detente/log.h): the public functions,
 * common to both stores (src/board/log_impl.h).
 *
 * Everything that the contract fixes is decided here, once: argument
 * checks, limits (DT_ERR_LIMIT before a store is touched), the outputs
 * zeroed on failure, leaf hashing (outside any lock), the tree nodes that an
 * append completes, roots and proofs from stored nodes, and the tiles. A
 * store (SQLite, src/board/log_sqlite.c; PostgreSQL, src/board/log_pg.c)
 * only reads and writes rows, so the same tests hold for both.
 * docs/board.md, "The log store", and docs/scale.md, "The board on
 * PostgreSQL", explain the choices. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <detente/hash.h>
#include <detente/log.h>
#include <detente/tiles.h>

#include "board/log_impl.h"
#include "util/codec.h"

#define HB DT_LOG_HB
#define TILE DT_TILE_WIDTH

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)
#define DT_ARG_CHECK(cond)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_misuse("log.c:" DT_STR(__LINE__) ": " #cond);                                       \
    } while (0)

int dt_log_is_pg(const char *location)
{
    return strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0;
}

dt_err dt_log_open_msg(dt_log **out, char **msg, const char *location, int create)
{
    DT_ARG_CHECK(out && msg && location);
    *out = NULL;
    *msg = NULL;
    return dt_log_is_pg(location) ? dt_log_pg_open(out, msg, location, create)
                                  : dt_log_sqlite_open(out, msg, location, create);
}

dt_err dt_log_open(dt_log **out, const char *path, int create)
{
    char *msg = NULL;
    dt_err err = dt_log_open_msg(out, &msg, path, create);
    free(msg);
    return err;
}

void dt_log_close(dt_log *log)
{
    if (log)
        log->ops->close(log);
}

const char *dt_log_errmsg(const dt_log *log)
{
    DT_ARG_CHECK(log);
    return log->ops->errmsg(log);
}

/* ---- appending ---- */

dt_err dt_log_put_tree(uint64_t size, uint64_t n, unsigned char (*h)[HB], dt_merkle_node_fn sibling,
                       void *sibling_arg, dt_log_put_fn put, void *put_arg)
{
    for (unsigned l = 0; l < 64; l++) {
        uint64_t lo = size >> l, hi = (size + n) >> l;
        dt_err err;
        if (lo == hi) /* no new node here, so none above */
            break;
        /* h[1..] the new nodes of the level, h[0] the left sibling of the
         * first when its index is odd (the next level up needs it) */
        if ((lo & 1) && (err = sibling(sibling_arg, h[0], l, lo - 1)) != DT_OK)
            return err == DT_ERR_RANGE ? DT_ERR_INVALID : err;
        if ((err = put(put_arg, l, lo, hi, (const unsigned char (*)[HB])h + 1)) != DT_OK)
            return err;
        /* node j of level l + 1 hashes nodes 2j, 2j + 1; the first pair
         * starts at h[0] (the sibling) when lo is odd. In place: the result k
         * lands on h[k + 1], never beyond the right child just read. */
        const size_t p = (lo & 1) ? 0 : 1;
        for (uint64_t k = 0; k < (hi >> 1) - (lo >> 1); k++)
            dt_merkle_node_hash(h[k + 1], h[p + 2 * k], h[p + 2 * k + 1]);
    }
    return DT_OK;
}

static dt_err append(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                     const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n, uint64_t *first,
                     size_t *dup)
{
    unsigned char (*h)[HB] = NULL;
    uint64_t f = 0;
    size_t d = SIZE_MAX;
    dt_err err;

    DT_ARG_CHECK(log && (n == 0 || (entries && lens)) && (!keys || keylens));
    if (dup)
        *dup = SIZE_MAX;
    if (n == 0)
        return DT_OK;
    if (first)
        *first = 0;
    if (n > DT_LOG_BATCH_MAX)
        return DT_ERR_LIMIT;
    for (size_t i = 0; i < n; i++) {
        DT_ARG_CHECK(entries[i] || lens[i] == 0);
        if (lens[i] > DT_LOG_ENTRY_MAX)
            return DT_ERR_LIMIT;
        for (size_t k = 0; keys && k < kper; k++)
            if (keys[i * kper + k] && keylens[i * kper + k] > DT_LOG_KEY_MAX)
                return DT_ERR_LIMIT;
    }
    h = malloc((n + 1) * sizeof *h);
    if (!h)
        return DT_ERR_NOMEM;
    /* hashed before any lock is taken */
    for (size_t i = 0; i < n; i++)
        dt_merkle_leaf_hash(h[i + 1], entries[i], lens[i]);
    err = log->ops->append(log, entries, lens, keys, keylens, kper, n, h, &f, &d);
    if (err == DT_OK && first)
        *first = f;
    if (err == DT_ERR_INVALID && dup)
        *dup = d;
    free(h);
    return err;
}

dt_err dt_log_append(dt_log *log, const unsigned char *const *entries, const size_t *lens, size_t n,
                     uint64_t *first)
{
    return append(log, entries, lens, NULL, NULL, 0, n, first, NULL);
}

dt_err dt_log_append_keyed(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                           const unsigned char *const *keys, const size_t *keylens, size_t n, uint64_t *first,
                           size_t *dup)
{
    return append(log, entries, lens, keys, keylens, 1, n, first, dup);
}

dt_err dt_log_append_multikeyed(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                                const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n,
                                uint64_t *first, size_t *dup)
{
    DT_ARG_CHECK(kper >= 1 && kper <= 8);
    return append(log, entries, lens, keys, keylens, kper, n, first, dup);
}

/* ---- reading ---- */

dt_err dt_log_find(dt_log *log, const unsigned char *key, size_t keylen, uint64_t *index)
{
    DT_ARG_CHECK(log && key && index);
    *index = 0;
    if (keylen > DT_LOG_KEY_MAX)
        return DT_ERR_LIMIT;
    dt_err err = log->ops->find(log, key, keylen, index);
    if (err != DT_OK)
        *index = 0;
    return err;
}

dt_err dt_log_size(dt_log *log, uint64_t *size)
{
    DT_ARG_CHECK(log && size);
    *size = 0;
    dt_err err = log->ops->size(log, size);
    if (err != DT_OK)
        *size = 0;
    return err;
}

typedef struct root_arg {
    unsigned char *root;
    uint64_t size;
} root_arg;

static dt_err root_fn(void *arg, dt_merkle_node_fn node, void *node_arg)
{
    root_arg *a = arg;
    return dt_merkle_root_from_nodes(a->root, a->size, node, node_arg);
}

dt_err dt_log_root(dt_log *log, uint64_t size, unsigned char root[HB])
{
    DT_ARG_CHECK(log && root);
    root_arg a = {root, size};
    dt_err err = log->ops->read_tree(log, size, root_fn, &a);
    if (err != DT_OK)
        memset(root, 0, HB);
    return err;
}

dt_err dt_log_entry(dt_log *log, uint64_t index, unsigned char **data, size_t *len)
{
    DT_ARG_CHECK(log && data && len);
    *data = NULL;
    *len = 0;
    if (index > INT64_MAX)
        return DT_ERR_RANGE;
    dt_err err = log->ops->entry(log, index, data, len);
    if (err != DT_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    return err;
}

dt_err dt_log_node(dt_log *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    dt_err err = DT_ERR_RANGE;
    DT_ARG_CHECK(log && out);
    if (level <= 63 && index < (DT_LOG_MAX >> level))
        err = log->ops->node(log, out, level, index);
    if (err != DT_OK)
        memset(out, 0, HB);
    return err;
}

dt_err dt_log_node_fn(void *log, unsigned char out[HB], unsigned level, uint64_t index)
{
    return dt_log_node(log, out, level, index);
}

typedef struct proof_arg {
    unsigned char (*proof)[HB];
    size_t *proof_len;
    uint64_t a, b;
    int consistency;
} proof_arg;

static dt_err proof_fn(void *arg, dt_merkle_node_fn node, void *node_arg)
{
    proof_arg *p = arg;
    return p->consistency ? dt_merkle_consistency_proof_from_nodes(p->proof, p->proof_len, p->a, p->b, node, node_arg)
                          : dt_merkle_inclusion_proof_from_nodes(p->proof, p->proof_len, p->a, p->b, node, node_arg);
}

static dt_err proof(dt_log *log, unsigned char (*out)[HB], size_t *proof_len, uint64_t a, uint64_t b, int consistency)
{
    DT_ARG_CHECK(log && out && proof_len);
    size_t cap = *proof_len;
    proof_arg p = {out, proof_len, a, b, consistency};
    dt_err err = log->ops->read_tree(log, b, proof_fn, &p);
    if (err != DT_OK) {
        memset(out, 0, cap * HB);
        *proof_len = 0;
    }
    return err;
}

dt_err dt_log_inclusion_proof(dt_log *log, unsigned char (*out)[HB], size_t *proof_len, uint64_t index,
                              uint64_t size)
{
    return proof(log, out, proof_len, index, size, 0);
}

dt_err dt_log_consistency_proof(dt_log *log, unsigned char (*out)[HB], size_t *proof_len, uint64_t size1,
                                uint64_t size2)
{
    return proof(log, out, proof_len, size1, size2, 1);
}

/* ---- blobs and settings ---- */

dt_err dt_log_blob_put(dt_log *log, unsigned char hash[32], const void *data, size_t len)
{
    unsigned char h[32];
    dt_err err;
    DT_ARG_CHECK(log && hash && (data || len == 0));
    memset(hash, 0, 32);
    if (len > DT_LOG_BLOB_MAX)
        return DT_ERR_LIMIT;
    dt_sha256(h, data, len);
    if ((err = log->ops->blob_put(log, h, data, len)) == DT_OK)
        memcpy(hash, h, 32);
    return err;
}

dt_err dt_log_blob_get(dt_log *log, const unsigned char hash[32], unsigned char **data, size_t *len)
{
    DT_ARG_CHECK(log && hash && data && len);
    *data = NULL;
    *len = 0;
    return log->ops->blob_get(log, hash, data, len);
}

/* 1..64 bytes of printable ASCII. */
static dt_err check_meta_key(const char *key)
{
    size_t n = strlen(key);
    if (n > DT_LOG_META_KEY_MAX)
        return DT_ERR_LIMIT;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return DT_ERR_ENCODING;
    return n ? DT_OK : DT_ERR_ENCODING;
}

dt_err dt_log_checkpoint(dt_log *log)
{
    DT_ARG_CHECK(log);
    return log->ops->checkpoint ? log->ops->checkpoint(log) : DT_OK;
}

dt_err dt_log_meta_set(dt_log *log, const char *key, const void *value, size_t len)
{
    dt_err err;
    DT_ARG_CHECK(log && key && (value || len == 0));
    if ((err = check_meta_key(key)) != DT_OK)
        return err;
    if (len > DT_LOG_META_VALUE_MAX)
        return DT_ERR_LIMIT;
    return log->ops->meta_set(log, key, value ? value : "", len);
}

dt_err dt_log_meta_swap(dt_log *log, const char *key, const void *old, size_t oldlen, const void *value, size_t len)
{
    dt_err err;
    DT_ARG_CHECK(log && key && (old || oldlen == 0) && (value || len == 0));
    if ((err = check_meta_key(key)) != DT_OK)
        return err;
    if (len > DT_LOG_META_VALUE_MAX || oldlen > DT_LOG_META_VALUE_MAX)
        return DT_ERR_LIMIT;
    return log->ops->meta_swap(log, key, old, oldlen, value ? value : "", len);
}

dt_err dt_log_meta_get(dt_log *log, const char *key, unsigned char **value, size_t *len)
{
    dt_err err;
    DT_ARG_CHECK(log && key && value && len);
    *value = NULL;
    *len = 0;
    if ((err = check_meta_key(key)) != DT_OK)
        return err;
    return log->ops->meta_get(log, key, value, len);
}

/* ---- tiles ---- */

/* Sets path (dir "/", dirlen + 1 bytes, with room for any tile path) to the
 * file rel; 1 if it is a full tile that is already there (it is kept:
 * full tiles never change). */
static int tile_kept(char *path, size_t dirlen, const char *rel, unsigned width)
{
    struct stat sb;
    strcpy(path + dirlen + 1, rel);
    return width == TILE && stat(path, &sb) == 0;
}

/* Writes path atomically, creating its folder. */
static dt_err put_file(char *path, const void *data, size_t len)
{
    char *slash = strrchr(path, '/');
    dt_err err;
    *slash = 0;
    err = dt_mkdirs(path);
    *slash = '/';
    return err != DT_OK ? err : dt_write_file_atomic(path, data, len, 0644);
}

/* An entry bundle being built: entries [next, ...) appended in order. */
typedef struct bundle {
    unsigned char *buf;
    size_t cap, len;
    uint64_t next;
} bundle;

static dt_err bundle_add(void *arg, uint64_t index, const unsigned char *data, size_t n)
{
    bundle *b = arg;
    if (index != b->next++ || n > DT_LOG_ENTRY_MAX)
        return DT_ERR_INVALID;
    if (b->len + 2 + n > b->cap) {
        unsigned char *p = realloc(b->buf, 2 * (b->len + 2 + n));
        if (!p)
            return DT_ERR_NOMEM;
        b->buf = p;
        b->cap = 2 * (b->len + 2 + n);
    }
    b->buf[b->len] = (unsigned char)(n >> 8);
    b->buf[b->len + 1] = (unsigned char)n;
    if (n)
        memcpy(b->buf + b->len + 2, data, n);
    b->len += 2 + n;
    return DT_OK;
}

/* Builds bundle t of width w into b (its buffer kept for the next). */
static dt_err bundle_build(dt_log *log, bundle *b, uint64_t t, unsigned w)
{
    b->len = 0;
    b->next = t * TILE;
    dt_err err = log->ops->entries(log, t * TILE, w, bundle_add, b);
    return err != DT_OK ? err : b->next != t * TILE + w ? DT_ERR_INVALID : DT_OK;
}

dt_err dt_log_tile(dt_log *log, unsigned level, uint64_t index, unsigned width, unsigned char **data, size_t *len)
{
    bundle b = {NULL, 0, 0, 0};
    uint64_t cur, end;
    dt_err err;
    if (!log || !data || !len)
        dt_misuse("dt_log_tile: NULL argument");
    *data = NULL;
    *len = 0;
    /* the tile's end, in entries: (index * 256 + width) << 8 level, if
     * that fits in 64 bits */
    unsigned shift = level == DT_TILE_ENTRIES ? 0 : 8 * level;
    if (width < 1 || width > TILE || (level != DT_TILE_ENTRIES && level > 7) || width > (UINT64_MAX >> shift) ||
        index > ((UINT64_MAX >> shift) - width) / TILE)
        return DT_ERR_RANGE;
    end = (index * TILE + width) << shift;
    if ((err = log->ops->size(log, &cur)) != DT_OK)
        return err;
    if (end > cur)
        return DT_ERR_RANGE;
    if (level != DT_TILE_ENTRIES) {
        if (!(b.buf = malloc((size_t)width * HB)))
            return DT_ERR_NOMEM;
        if ((err = log->ops->nodes(log, 8 * level, index * TILE, width, (unsigned char(*)[HB])b.buf)) != DT_OK) {
            free(b.buf);
            return err;
        }
        b.len = (size_t)width * HB;
    } else if ((err = bundle_build(log, &b, index, width)) != DT_OK) {
        free(b.buf);
        return err;
    }
    *data = b.buf;
    *len = b.len;
    return DT_OK;
}

dt_err dt_log_export_tiles(dt_log *log, const char *dir, uint64_t size)
{
    unsigned char tile[TILE][HB];
    bundle b = {NULL, 0, 0, 0};
    size_t dirlen;
    uint64_t cur;
    char rel[DT_TILE_PATH_MAX], *path;
    dt_err err;

    DT_ARG_CHECK(log && dir);
    /* not one snapshot: nodes and entries below a committed size never
     * change, and holding one for as long as the files take to write would
     * hold back the store (WAL checkpoints, vacuum) */
    if ((err = log->ops->size(log, &cur)) != DT_OK || size > cur)
        return err != DT_OK ? err : DT_ERR_RANGE;
    dirlen = strlen(dir);
    if (!(path = malloc(dirlen + 1 + DT_TILE_PATH_MAX)))
        return DT_ERR_NOMEM;
    memcpy(path, dir, dirlen);
    path[dirlen] = '/';
    /* hash tiles: tile level L holds nodes of tree level 8L */
    for (unsigned L = 0; L < 8 && (size >> (8 * L)) > 0 && err == DT_OK; L++) {
        uint64_t c = size >> (8 * L);
        for (uint64_t t = 0; t <= (c - 1) / TILE && err == DT_OK; t++) {
            unsigned w = t < c / TILE ? TILE : (unsigned)(c % TILE);
            if ((err = dt_tile_path(rel, L, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w))
                continue;
            if ((err = log->ops->nodes(log, 8 * L, t * TILE, w, tile)) == DT_OK)
                err = put_file(path, tile, (size_t)w * HB);
        }
    }
    /* entry bundles (big-endian uint16 length, then the entry) */
    for (uint64_t t = 0; size > 0 && t <= (size - 1) / TILE && err == DT_OK; t++) {
        unsigned w = t < size / TILE ? TILE : (unsigned)(size % TILE);
        if ((err = dt_tile_entries_path(rel, t, w)) != DT_OK || tile_kept(path, dirlen, rel, w))
            continue;
        if ((err = bundle_build(log, &b, t, w)) == DT_OK)
            err = put_file(path, b.buf, b.len);
    }
    free(b.buf);
    free(path);
    return err;
}
