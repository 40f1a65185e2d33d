/* detente: reading a board published as C2SP tlog-tiles v0.1.0.
 *
 * Tile paths:   tile/<L>/<N>[.p/<W>]  and  tile/entries/<N>[.p/<W>]
 * <N> in 3-digit groups, all but the last prefixed by 'x' (1234067 ->
 * x001/x234/067); <W> (1..255) only for partial tiles. */
#ifndef DETENTE_TILES_H
#define DETENTE_TILES_H

#include <detente/common.h>
#include <detente/merkle.h>

#define DT_TILE_WIDTH 256u
#define DT_TILE_HEIGHT 8u
/* A path always fits in this many bytes with its NUL. */
#define DT_TILE_PATH_MAX 96

/* Writes the path of tile (level, index) of width (1..256; 256 = full) to
 * out (DT_TILE_PATH_MAX bytes). level <= 63. DT_ERR_RANGE otherwise. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_tile_path(char out[DT_TILE_PATH_MAX], unsigned level,
                                                        uint64_t index, unsigned width);
/* The same for entry bundle index. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_tile_entries_path(char out[DT_TILE_PATH_MAX], uint64_t index,
                                                                unsigned width);
/* Parses a path produced by the two functions above (level = DT_TILE_ENTRIES
 * for an entry bundle); strict: no leading zeros in <L> or <W>, exactly 3
 * digits a group, no redundant leading "x000" group, W in 1..255.
 * DT_ERR_ENCODING otherwise. */
#define DT_TILE_ENTRIES 0xffffffffu
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 4) dt_err dt_tile_path_parse(unsigned *level, uint64_t *index,
                                                                      unsigned *width, const char *path);

/* A reader of a tiles folder (the board of a record, DIR/board) for a tree
 * of a given size, normally the size of a checkpoint already verified. */
typedef struct dt_tiles dt_tiles;

DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_tiles_open(dt_tiles **out, const char *dir, uint64_t size);
void dt_tiles_close(dt_tiles *t);
uint64_t dt_tiles_size(const dt_tiles *t);

/* The hash of the perfect subtree (level, index), read from hash tiles
 * (hashing inside a tile where level is not a multiple of 8). DT_ERR_IO if
 * a tile is missing, DT_ERR_ENCODING if it has the wrong length,
 * DT_ERR_RANGE if the subtree is not wholly inside the tree. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_tiles_node(dt_tiles *t, unsigned char out[DT_MERKLE_HASH_BYTES],
                                                            unsigned level, uint64_t index);
dt_err dt_tiles_node_fn(void *t, unsigned char out[DT_MERKLE_HASH_BYTES], unsigned level, uint64_t index);

/* Called for each entry in index order; a non-DT_OK return stops the walk
 * and is returned. data is valid only during the call. */
typedef dt_err (*dt_tiles_entry_fn)(void *arg, uint64_t index, const unsigned char *data, size_t len);

/* Reads every entry bundle in order and checks the whole tree against root:
 * each bundle parses exactly (no trailing bytes, the right count), each
 * entry's leaf hash equals the level-0 tile's, every tile at every level
 * equals the hashes of the tiles below it, and the root of all the entries
 * equals root. Calls fn (may be NULL) on each entry once its leaf hash is
 * checked, before the checks above it: trust what fn saw only when the call
 * returns DT_OK. Errors: DT_ERR_IO
 * (missing file), DT_ERR_ENCODING (malformed bundle or tile), DT_ERR_PROOF
 * (a hash or the root differs). *bad_index, if not NULL, gets the index of
 * the first entry concerned (or UINT64_MAX when none applies). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_tiles_verify(dt_tiles *t, const unsigned char root[DT_MERKLE_HASH_BYTES],
                                                              dt_tiles_entry_fn fn, void *arg, uint64_t *bad_index);

/* One entry, from its bundle: *data malloc'ed (caller frees). Checks the
 * entry's leaf hash against the level-0 tile. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 3, 4) dt_err dt_tiles_entry(dt_tiles *t, uint64_t index, unsigned char **data,
                                                                size_t *len);

#endif
