/* detente: RFC 9162 Merkle tree hashing and proofs (the board's log).
 *
 * Hashes (RFC 9162 section 2.1.1), SHA-256, no padding by duplication:
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")                     (the empty tree)
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])),  k the largest power of 2 < n
 *
 * Nodes are addressed like C2SP tlog-tiles: (level, index) is the perfect
 * subtree over leaves [index << level, (index + 1) << level); level 0 is a
 * leaf hash. Proofs are arrays of 32-byte hashes in RFC 9162 order (from the
 * bottom of the tree up).
 *
 * Edge cases (libraries and specifications differ; these are ours, chosen
 * to agree with the transparency-dev/merkle vectors, and tested):
 *   - Root of 0 leaves: SHA-256("") (RFC 9162 2.1.1).
 *   - Inclusion, size 0 or index >= size: DT_ERR_RANGE, for generation and
 *     verification alike. No leaf is in an empty tree.
 *   - Inclusion, size 1: the proof is empty and the root is the leaf hash.
 *   - Consistency from size1 == 0: DT_ERR_RANGE, for generation and
 *     verification, whatever the sizes, roots and proof (also 0 -> 0). Every
 *     tree extends the empty one, so such a proof proves nothing; a caller
 *     without a previous checkpoint (a new witness) must decide to trust the
 *     first one on its own, not through this call.
 *   - Consistency with size1 > size2: DT_ERR_RANGE.
 *   - Consistency with size1 == size2 > 0: the proof is empty (generation
 *     returns 0 hashes); verification accepts only an empty proof and
 *     root1 == root2, else DT_ERR_PROOF.
 *   - A proof of the wrong length (too short, too long) is DT_ERR_PROOF; so
 *     is a consistency proof that is empty while size1 < size2.
 *
 * Errors: DT_ERR_RANGE for sizes and indexes that no proof can serve,
 * DT_ERR_PROOF for a proof that does not verify, DT_ERR_LIMIT when an
 * output array is too small or a frontier is full, and whatever a node
 * callback returns. Outputs are zeroed on error. NULL pointers where an
 * object is required abort through dt_misuse(). Nothing here allocates and
 * nothing is secret: every function is variable-time. Objects may be read by
 * several threads at once; a frontier being appended to may not be shared.
 * Output buffers must not overlap inputs unless a function says so. */
#ifndef DETENTE_MERKLE_H
#define DETENTE_MERKLE_H

#include <detente/common.h>

#define DT_MERKLE_HASH_BYTES 32
/* Enough for any proof of a tree of fewer than 2^64 leaves: an inclusion
 * proof has at most 64 hashes, a consistency proof at most 65. */
#define DT_MERKLE_MAX_PROOF 65

size_t dt_merkle_hash_bytes(void);
size_t dt_merkle_max_proof(void);

/* SHA-256(0x00 || entry). entry may be NULL when len is 0. */
void dt_merkle_leaf_hash(unsigned char out[DT_MERKLE_HASH_BYTES], const void *entry, size_t len)
    DT_NONNULL(1);
/* SHA-256(0x01 || left || right). out may alias left or right. */
void dt_merkle_node_hash(unsigned char out[DT_MERKLE_HASH_BYTES],
                         const unsigned char left[DT_MERKLE_HASH_BYTES],
                         const unsigned char right[DT_MERKLE_HASH_BYTES]) DT_NONNULL(1, 2, 3);

/* MTH of n leaf hashes, by the recursive definition (O(log n) stack).
 * n == 0 gives SHA-256(""); leaves may then be NULL. */
void dt_merkle_root(unsigned char root[DT_MERKLE_HASH_BYTES],
                    const unsigned char (*leaves)[DT_MERKLE_HASH_BYTES], uint64_t n) DT_NONNULL(1);

/* A source of node hashes, so that a store can back proof generation.
 * Writes to out the hash of the perfect subtree (level, index); returns
 * DT_OK or an error that is passed on to the caller. It is only asked for
 * subtrees that lie wholly inside the tree of the size in question. */
typedef dt_err (*dt_merkle_node_fn)(void *arg, unsigned char out[DT_MERKLE_HASH_BYTES], unsigned level,
                                    uint64_t index);

/* MTH of the first size leaves, from at most 64 perfect subtrees. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_root_from_nodes(unsigned char root[DT_MERKLE_HASH_BYTES], uint64_t size,
                                                       dt_merkle_node_fn node, void *arg) DT_NONNULL(1, 3);

/* ---- Frontier (compact range [0, size)) ----------------------------------
 * Appends leaf hashes one at a time and gives the root of the tree so far,
 * keeping one perfect subtree per set bit of size: O(log n) memory, amortized
 * O(1) node hashes per append, O(log n) per root. Caller-allocated. Unlike a
 * hash context it has no _final: the root may be read at every size. */
typedef struct dt_merkle_frontier {
    _Alignas(8) unsigned char opaque[8 + 64 * DT_MERKLE_HASH_BYTES];
} dt_merkle_frontier;

/* Starts an empty tree. */
void dt_merkle_frontier_init(dt_merkle_frontier *f) DT_NONNULL(1);
/* Restores the frontier of a tree of size leaves from its popcount(size)
 * perfect subtrees (the log restarting from its store). On error *f is empty. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_frontier_restore(dt_merkle_frontier *f, uint64_t size,
                                                        dt_merkle_node_fn node, void *arg) DT_NONNULL(1, 3);
/* Appends one leaf hash. DT_ERR_LIMIT (and no change) at 2^64 - 1 leaves. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_frontier_append(dt_merkle_frontier *f,
                                                       const unsigned char leaf_hash[DT_MERKLE_HASH_BYTES])
    DT_NONNULL(1, 2);
uint64_t dt_merkle_frontier_size(const dt_merkle_frontier *f) DT_NONNULL(1);
/* MTH of the leaves appended so far (SHA-256("") when there are none). */
void dt_merkle_frontier_root(const dt_merkle_frontier *f, unsigned char root[DT_MERKLE_HASH_BYTES])
    DT_NONNULL(1, 2);

/* ---- Inclusion proofs (RFC 9162 2.1.3) ------------------------------------
 * Generation. In: *proof_len is the capacity of proof (DT_MERKLE_MAX_PROOF is
 * always enough). Out: the proof of leaf index in the tree of size leaves,
 * *proof_len its length. DT_ERR_RANGE if size == 0 or index >= size;
 * DT_ERR_LIMIT if the capacity is too small. Asks node for O(log size)
 * subtrees. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_inclusion_proof_from_nodes(unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                                  size_t *proof_len, uint64_t index,
                                                                  uint64_t size, dt_merkle_node_fn node,
                                                                  void *arg) DT_NONNULL(1, 2, 5);
/* The same from an array of size leaf hashes (O(size) hashing). */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_inclusion_proof(unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                       size_t *proof_len, uint64_t index,
                                                       const unsigned char (*leaves)[DT_MERKLE_HASH_BYTES],
                                                       uint64_t size) DT_NONNULL(1, 2);
/* Verification (RFC 9162 2.1.3.2): DT_OK if proof shows that leaf_hash is
 * leaf index of the tree of size leaves whose root is root. DT_ERR_RANGE if
 * size == 0 or index >= size, DT_ERR_PROOF otherwise. proof may be NULL when
 * proof_len is 0. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_inclusion_verify(uint64_t index, uint64_t size,
                                                        const unsigned char leaf_hash[DT_MERKLE_HASH_BYTES],
                                                        const unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                        size_t proof_len,
                                                        const unsigned char root[DT_MERKLE_HASH_BYTES])
    DT_NONNULL(3, 6);

/* ---- Consistency proofs (RFC 9162 2.1.4) ----------------------------------
 * Generation of the proof that the tree of size1 leaves is a prefix of the
 * tree of size2 leaves; capacity and length as above. DT_ERR_RANGE if
 * size1 == 0 or size1 > size2; size1 == size2 gives an empty proof. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_consistency_proof_from_nodes(unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                                    size_t *proof_len, uint64_t size1,
                                                                    uint64_t size2, dt_merkle_node_fn node,
                                                                    void *arg) DT_NONNULL(1, 2, 5);
DT_WARN_UNUSED_RESULT dt_err dt_merkle_consistency_proof(unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                         size_t *proof_len, uint64_t size1,
                                                         const unsigned char (*leaves)[DT_MERKLE_HASH_BYTES],
                                                         uint64_t size2) DT_NONNULL(1, 2);
/* Verification (RFC 9162 2.1.4.2) of proof between (size1, root1) and
 * (size2, root2). DT_ERR_RANGE if size1 == 0 or size1 > size2; with
 * size1 == size2 only an empty proof and equal roots pass; DT_ERR_PROOF when
 * the proof does not verify. proof may be NULL when proof_len is 0. */
DT_WARN_UNUSED_RESULT dt_err dt_merkle_consistency_verify(uint64_t size1, uint64_t size2,
                                                          const unsigned char root1[DT_MERKLE_HASH_BYTES],
                                                          const unsigned char root2[DT_MERKLE_HASH_BYTES],
                                                          const unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                          size_t proof_len) DT_NONNULL(3, 4);

#endif
