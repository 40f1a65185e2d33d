/* detente: the board's log store: an append-only RFC 9162 Merkle log.
 *
 * Two stores answer the same contract: SQLite (WAL mode, synchronous=FULL),
 * one database file, the embedded default; and PostgreSQL, when the
 * location is a postgresql:// (or postgres://) URI, for several server
 * processes on one machine or many (docs/scale.md, "The board on
 * PostgreSQL").
 *
 * A log holds the entries, the tree's hashes (one row a node, so that
 * proofs and tiles need no recomputation from leaves), content-addressed
 * blobs, and a small key/value table for the board layer (origin, latest
 * signed checkpoint). Several handles, in one process or several, may share
 * one log: every append is one transaction that takes the log's write lock
 * (SQLite's, or a row lock on PostgreSQL) and reads the size inside it, so
 * concurrent appenders never lose or duplicate an entry.
 *
 * Memory does not grow with the log: nothing is cached beyond the frontier
 * (2 KiB) and the database's own caches. */
#ifndef DETENTE_LOG_H
#define DETENTE_LOG_H

#include <detente/common.h>
#include <detente/merkle.h>

/* An entry holds at most this many bytes (tlog-tiles entry bundles use a
 * 16-bit length). Larger artifacts go in as a reference to a blob. */
#define DT_LOG_ENTRY_MAX 65535u
/* At most this many entries in one dt_log_append call. */
#define DT_LOG_BATCH_MAX 65536u
/* The largest blob (artifacts are files of a record). */
#define DT_LOG_BLOB_MAX (256u << 20)

typedef struct dt_log dt_log;

/* Opens the log at path: a SQLite database file, or a PostgreSQL database
 * named by a postgresql:// or postgres:// URI (libpq's syntax; the tables go
 * in the first schema of the search path). With create != 0 a missing file
 * is created (mode 0600), and a database without a log gets one; otherwise
 * a missing file or a database without a log is DT_ERR_NOT_FOUND. A file or
 * database that is not a detente log (another application's, another
 * schema version), or whose stored tree does not match its entries' count,
 * is DT_ERR_INVALID; a server that cannot be reached, or refuses, DT_ERR_IO.
 * A handle is used by one thread at a time. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_open(dt_log **out, const char *path, int create);
/* As dt_log_open; on failure *msg (malloc'ed, or NULL) says why, with the
 * database's own message where there is one ("FATAL: database ... does not
 * exist"). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_log_open_msg(dt_log **out, char **msg, const char *location,
                                                                 int create);
/* Closes a handle (NULL is allowed). */
void dt_log_close(dt_log *log);
/* The database's own message about the handle's last failure ("" if
 * none), valid until the next call on the handle. */
DT_NONNULL(1) const char *dt_log_errmsg(const dt_log *log);

/* Appends n entries (entries[i] of lens[i] <= DT_LOG_ENTRY_MAX bytes; an
 * entry of 0 bytes is allowed, entries[i] may then be NULL) in one
 * transaction. On DT_OK all n are durably committed (fsync'd) and *first, if
 * not NULL, is the index of the first. On any error nothing is stored:
 * DT_ERR_LIMIT for an entry too long or n > DT_LOG_BATCH_MAX, DT_ERR_IO when
 * the database fails (disk full, I/O error, lock timeout). n == 0 is a no-op.
 * PostgreSQL: a connection lost during the call is re-established and the
 * outcome found out (docs/scale.md); only when the server stays unreachable
 * for the whole timeout after a COMMIT was sent is the result DT_ERR_IO with
 * the batch possibly stored (a keyed batch appended again then reports its
 * keys as duplicates). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_log_append(dt_log *log, const unsigned char *const *entries,
                                                         const size_t *lens, size_t n, uint64_t *first);

/* As dt_log_append, and also records keys[i] (keylens[i] <= 256 bytes; a
 * NULL keys[i] records no key) as a unique lookup key of entry i, in the
 * same transaction. A key already in the log, or twice in the batch, makes
 * the whole call DT_ERR_INVALID with nothing stored; *dup, if not NULL, then
 * gets the position in the batch of the first offending entry. (The board
 * keys ballots by confirmation code: a ballot cast twice is refused.) */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_log_append_keyed(dt_log *log, const unsigned char *const *entries,
                                                               const size_t *lens,
                                                               const unsigned char *const *keys,
                                                               const size_t *keylens, size_t n, uint64_t *first,
                                                               size_t *dup);
/* As dt_log_append_keyed with kper (1..8) keys an entry: keys[i * kper + j]
 * (NULL: none) is the j-th key of entry i. All are unique, as above. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_log_append_multikeyed(dt_log *log, const unsigned char *const *entries,
                                                                    const size_t *lens,
                                                                    const unsigned char *const *keys,
                                                                    const size_t *keylens, size_t kper, size_t n,
                                                                    uint64_t *first, size_t *dup);
/* The index of the entry recorded under key; DT_ERR_NOT_FOUND if none. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 4) dt_err dt_log_find(dt_log *log, const unsigned char *key, size_t keylen,
                                                             uint64_t *index);

/* The number of committed entries (read from the database: another handle
 * may have appended). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_size(dt_log *log, uint64_t *size);

/* The root of the first size entries, 0 <= size <= the current size
 * (DT_ERR_RANGE beyond). O(log size) reads. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 3) dt_err dt_log_root(dt_log *log, uint64_t size,
                                                          unsigned char root[DT_MERKLE_HASH_BYTES]);

/* Entry index: *data is malloc'ed (caller frees; one spare NUL byte after
 * the data), *len its length. DT_ERR_RANGE if index >= size. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 3, 4) dt_err dt_log_entry(dt_log *log, uint64_t index,
                                                              unsigned char **data, size_t *len);

/* The hash of the perfect subtree (level, index) (tlog-tiles addressing, see
 * merkle.h); DT_ERR_RANGE unless it lies wholly inside the tree. Has the
 * shape of dt_merkle_node_fn when wrapped: dt_log_node_fn(log, ...). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_node(dt_log *log, unsigned char out[DT_MERKLE_HASH_BYTES],
                                                          unsigned level, uint64_t index);
/* dt_log_node with arg = the dt_log *, for the dt_merkle_*_from_nodes calls. */
dt_err dt_log_node_fn(void *log, unsigned char out[DT_MERKLE_HASH_BYTES], unsigned level, uint64_t index);

/* Proofs against the tree of the first size (size2) entries; the edge cases
 * are merkle.h's (docs/board.md). *proof_len in: capacity, out: length. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err
dt_log_inclusion_proof(dt_log *log, unsigned char (*proof)[DT_MERKLE_HASH_BYTES], size_t *proof_len,
                       uint64_t index, uint64_t size);
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err
dt_log_consistency_proof(dt_log *log, unsigned char (*proof)[DT_MERKLE_HASH_BYTES], size_t *proof_len,
                         uint64_t size1, uint64_t size2);

/* Blobs, addressed by their SHA-256. _put stores len <= DT_LOG_BLOB_MAX
 * bytes durably under hash = SHA-256(data) (computed here, returned in
 * hash); storing the same blob twice is not an error. _get: *data malloc'ed;
 * DT_ERR_NOT_FOUND if absent. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_blob_put(dt_log *log, unsigned char hash[32],
                                                              const void *data, size_t len);
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 4) dt_err dt_log_blob_get(dt_log *log, const unsigned char hash[32],
                                                                    unsigned char **data, size_t *len);

/* The SQLite store's WAL checkpoints (copying committed pages into the
 * database file): SQLite runs one inside the append that fills the WAL past
 * 1,000 pages, and that append waits for it. dt_log_checkpoint runs one now
 * (PASSIVE: it waits for no one and no append waits for it; another handle
 * checkpointing at that moment is success too); run often on another
 * handle, in another thread, it leaves the appends' own little to copy.
 * Nothing on PostgreSQL. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1) dt_err dt_log_checkpoint(dt_log *log);

/* Small durable key/value settings for the board layer (key: NUL-terminated
 * ASCII, at most 64 bytes; value at most 65,536 bytes). _get: *value
 * malloc'ed with a NUL after it; DT_ERR_NOT_FOUND if unset. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_meta_set(dt_log *log, const char *key, const void *value,
                                                              size_t len);
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 4) dt_err dt_log_meta_get(dt_log *log, const char *key,
                                                                    unsigned char **value, size_t *len);
/* Compare and swap: sets key to value only if its value is old (oldlen
 * bytes), or, old NULL, only if key is unset; otherwise DT_ERR_INVALID and
 * nothing changes. Atomic against every other handle's _set and _swap. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_meta_swap(dt_log *log, const char *key, const void *old,
                                                               size_t oldlen, const void *value, size_t len);

/* Writes the tree of the first size entries under dir as C2SP tlog-tiles
 * v0.1.0: dir/tile/<L>/<N>[.p/<W>] hash tiles and dir/tile/entries/<N>[.p/<W>]
 * entry bundles (big-endian uint16 length + entry), every tile that a
 * checkpoint of this size needs. Full tiles already present are kept (they
 * are immutable), partial ones are (re)written; each file is written
 * atomically. Does not write dir/checkpoint. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_log_export_tiles(dt_log *log, const char *dir, uint64_t size);
/* Tile (level, index) of width (1..256) as dt_log_export_tiles writes it:
 * level 0..7 a hash tile (the nodes of tree level 8 level), DT_TILE_ENTRIES
 * (tiles.h) an entry bundle. *data malloc'ed (caller frees), *len bytes.
 * DT_ERR_RANGE if the log does not hold the whole tile yet, or there is no
 * such tile. The election server serves the tiles its periodic publish
 * leaves out of the folder from here. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 5, 6) dt_err dt_log_tile(dt_log *log, unsigned level, uint64_t index, unsigned width,
                                                             unsigned char **data, size_t *len);

#endif
