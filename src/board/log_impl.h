/* The log store's two implementations behind include/detente/log.h: SQLite
 * (src/board/log_sqlite.c, the embedded default) and PostgreSQL
 * (src/board/log_pg.c, when the location is a postgresql:// URI).
 *
 * src/board/log.c owns the public functions: it checks the arguments and
 * the limits, zeroes the outputs, hashes the leaves and builds the tiles, so
 * that both stores answer every call with the same contract and the same
 * error codes; a store only reads and writes rows. Every op below is called
 * with valid arguments (checked by log.c) and returns a dt_err of log.h's
 * contract. */
#ifndef DETENTE_LOG_IMPL_H
#define DETENTE_LOG_IMPL_H

#include <detente/log.h>

#define DT_LOG_HB DT_MERKLE_HASH_BYTES
#define DT_LOG_MAX ((uint64_t)1 << 56) /* entries at most: node keys stay below 2^62 */
#define DT_LOG_KEY_MAX 256u            /* the longest lookup key */
#define DT_LOG_META_KEY_MAX 64u
#define DT_LOG_META_VALUE_MAX 65536u

/* A node reader over a tree already checked against the store: a node of
 * that tree that is absent is damage (DT_ERR_INVALID). */
typedef dt_err (*dt_log_tree_fn)(void *arg, dt_merkle_node_fn node, void *node_arg);
/* One entry of a range, in order (dt_log_ops.entries). */
typedef dt_err (*dt_log_entry_fn)(void *arg, uint64_t index, const unsigned char *data, size_t len);

typedef struct dt_log_ops {
    void (*close)(dt_log *log);
    /* n >= 1 entries (each checked), keys as dt_log_append_multikeyed
     * (keys NULL: none; kper 1..8), h[1..n] their leaf hashes and h[0]
     * scratch: h may be overwritten (dt_log_put_tree works in place). On
     * DT_OK *first is the first index; on DT_ERR_INVALID for a key *dup is
     * the batch position of the first offending entry (log.c set it to
     * SIZE_MAX and *first to 0 before the call). */
    dt_err (*append)(dt_log *log, const unsigned char *const *entries, const size_t *lens,
                     const unsigned char *const *keys, const size_t *keylens, size_t kper, size_t n,
                     unsigned char (*h)[DT_LOG_HB], uint64_t *first, size_t *dup);
    dt_err (*find)(dt_log *log, const unsigned char *key, size_t keylen, uint64_t *index);
    dt_err (*size)(dt_log *log, uint64_t *size);
    /* DT_ERR_RANGE if size is beyond the log; otherwise runs fn once with a
     * node reader for the tree of size entries and returns what it returns.
     * fn depends on the nodes' values only through its output: the node
     * reader may run it twice (once to learn which nodes, once to read). */
    dt_err (*read_tree)(dt_log *log, uint64_t size, dt_log_tree_fn fn, void *arg);
    dt_err (*entry)(dt_log *log, uint64_t index, unsigned char **data, size_t *len);
    /* DT_ERR_RANGE if node (level, index) is not in the store */
    dt_err (*node)(dt_log *log, unsigned char out[DT_LOG_HB], unsigned level, uint64_t index);
    /* count (<= 256) consecutive nodes of one level, all inside a size
     * already checked (absent: DT_ERR_INVALID) */
    dt_err (*nodes)(dt_log *log, unsigned level, uint64_t index, unsigned count, unsigned char (*out)[DT_LOG_HB]);
    /* the entries [from, from + count), count <= 256, to fn in order */
    dt_err (*entries)(dt_log *log, uint64_t from, unsigned count, dt_log_entry_fn fn, void *arg);
    dt_err (*blob_put)(dt_log *log, const unsigned char hash[32], const void *data, size_t len);
    dt_err (*blob_get)(dt_log *log, const unsigned char hash[32], unsigned char **data, size_t *len);
    dt_err (*meta_set)(dt_log *log, const char *key, const void *value, size_t len);
    dt_err (*meta_get)(dt_log *log, const char *key, unsigned char **value, size_t *len);
    /* old NULL: only if unset; DT_ERR_INVALID if the value is not old */
    dt_err (*meta_swap)(dt_log *log, const char *key, const void *old, size_t oldlen, const void *value, size_t len);
    /* the store's own message about the last failure ("" if none) */
    const char *(*errmsg)(const dt_log *log);
    /* NULL where the store has no such thing (dt_log_checkpoint) */
    dt_err (*checkpoint)(dt_log *log);
} dt_log_ops;

/* Every store's handle starts with this. */
struct dt_log {
    const dt_log_ops *ops;
};

/* The stores' openers (dt_log_open_msg chooses). *msg: NULL or malloc'ed. */
dt_err dt_log_sqlite_open(dt_log **out, char **msg, const char *path, int create);
dt_err dt_log_pg_open(dt_log **out, char **msg, const char *uri, int create);
/* 1 if location names a PostgreSQL database (postgresql:// or postgres://) */
int dt_log_is_pg(const char *location);

/* The key of node (level, index) in both stores: 64 * (index of its last
 * leaf) + level, so that nodes are keyed in the order they complete. */
static inline int64_t dt_log_node_key(unsigned level, uint64_t index)
{
    return (int64_t)(((((index + 1) << level) - 1) << 6) | level);
}
/* The largest node key of a tree of size >= 1 entries: the node that entry
 * size - 1 completes at the highest level. */
static inline int64_t dt_log_last_key(uint64_t size)
{
    return (int64_t)((size - 1) << 6 | (uint64_t)__builtin_ctzll(size));
}

/* Stores the new nodes [lo, hi) of one level (nodes[0] is node lo). */
typedef dt_err (*dt_log_put_fn)(void *arg, unsigned level, uint64_t lo, uint64_t hi,
                                const unsigned char (*nodes)[DT_LOG_HB]);
/* Computes the tree nodes that n new leaves complete after size leaves and
 * hands them to put level by level. h[1..n] holds the leaf hashes and is
 * overwritten; sibling(sibling_arg, ...) is asked for the left sibling of a
 * level's first new node when its index is odd (a node of the frontier of
 * size). */
dt_err dt_log_put_tree(uint64_t size, uint64_t n, unsigned char (*h)[DT_LOG_HB], dt_merkle_node_fn sibling,
                       void *sibling_arg, dt_log_put_fn put, void *put_arg);

/* ---- PostgreSQL test hooks (tests/test_log_pg.c) ----
 * The next append of a PostgreSQL handle fails its connection on purpose,
 * so that the tests can check what the handle then does: */
enum {
    DT_LOG_PG_FAULT_NONE = 0,
    DT_LOG_PG_FAULT_BEFORE_COMMIT, /* the connection closes before COMMIT is sent */
    DT_LOG_PG_FAULT_KILLED,        /* the server ends the session (pg_terminate_backend), then COMMIT is sent */
    DT_LOG_PG_FAULT_LOST_ANSWER,   /* COMMIT is sent and done, its answer lost */
};
/* Arms fault for the next append (a SQLite handle ignores it). */
void dt_log_pg_test_fault(dt_log *log, int fault);
/* How many appends of this handle were resolved after a lost connection,
 * by the outcome found: [0] committed, [1] not committed (then retried). */
void dt_log_pg_test_recoveries(const dt_log *log, unsigned out[2]);

#endif
