/* RFC 9162 Merkle tree: hashes, the frontier, inclusion and consistency
 * proofs. Generation works on perfect subtrees (level, index) so that a store
 * or tlog tiles can back it; verification is RFC 9162's own algorithm. The
 * edge-case decisions are in include/detente/merkle.h and docs/board.md. */
#define OPENSSL_API_COMPAT 0x10100000L
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include <detente/merkle.h>

#define HB DT_MERKLE_HASH_BYTES

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)
#define DT_ARG_CHECK(cond)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_misuse("merkle.c:" DT_STR(__LINE__) ": " #cond);                                    \
    } while (0)

typedef struct frontier_state {
    uint64_t size;
    unsigned char node[64][HB]; /* node[l] is valid iff bit l of size is set */
} frontier_state;

_Static_assert(sizeof(frontier_state) <= sizeof(((dt_merkle_frontier *)0)->opaque), "dt_merkle_frontier too small");

size_t dt_merkle_hash_bytes(void)
{
    return DT_MERKLE_HASH_BYTES;
}

size_t dt_merkle_max_proof(void)
{
    return DT_MERKLE_MAX_PROOF;
}

void dt_merkle_leaf_hash(unsigned char out[HB], const void *entry, size_t len)
{
    static const unsigned char prefix = 0x00;
    SHA256_CTX c;
    DT_ARG_CHECK(out && (entry || len == 0));
    SHA256_Init(&c);
    SHA256_Update(&c, &prefix, 1);
    if (len)
        SHA256_Update(&c, entry, len);
    SHA256_Final(out, &c);
}

void dt_merkle_node_hash(unsigned char out[HB], const unsigned char left[HB], const unsigned char right[HB])
{
    unsigned char buf[1 + 2 * HB];
    DT_ARG_CHECK(out && left && right);
    buf[0] = 0x01;
    memcpy(buf + 1, left, HB);
    memcpy(buf + 1 + HB, right, HB);
    SHA256(buf, sizeof buf, out);
}

static void empty_root(unsigned char out[HB])
{
    SHA256((const unsigned char *)"", 0, out);
}

/* The largest power of 2 strictly below n, for n >= 2. */
static uint64_t split_point(uint64_t n)
{
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static void mth(unsigned char out[HB], const unsigned char (*leaves)[HB], uint64_t n)
{
    unsigned char l[HB], r[HB];
    uint64_t k;
    if (n == 1) {
        memcpy(out, leaves[0], HB);
        return;
    }
    k = split_point(n);
    mth(l, leaves, k);
    mth(r, leaves + k, n - k);
    dt_merkle_node_hash(out, l, r);
}

void dt_merkle_root(unsigned char root[HB], const unsigned char (*leaves)[HB], uint64_t n)
{
    DT_ARG_CHECK(root && (leaves || n == 0));
    if (n == 0)
        empty_root(root);
    else
        mth(root, leaves, n);
}

/* MTH of the leaves [begin, end), where begin is a multiple of a power of 2
 * that is >= end - begin (true of every node of an RFC 9162 tree): the right
 * fold of the perfect subtrees given by the bits of end - begin. */
static dt_err range_hash(unsigned char out[HB], uint64_t begin, uint64_t end, dt_merkle_node_fn node, void *arg)
{
    unsigned char parts[64][HB];
    size_t count = 0;
    dt_err err = DT_OK;
    if (begin == end) {
        empty_root(out);
        return DT_OK;
    }
    do { /* begin < end: at least one part */
        unsigned level = 63 - (unsigned)__builtin_clzll(end - begin);
        while (begin & (((uint64_t)1 << level) - 1))
            level--;
        err = node(arg, parts[count], level, begin >> level);
        if (err != DT_OK)
            goto out;
        count++;
        begin += (uint64_t)1 << level;
    } while (begin < end);
    memcpy(out, parts[count - 1], HB);
    while (--count > 0)
        dt_merkle_node_hash(out, parts[count - 1], out);
out:
    if (err != DT_OK)
        memset(out, 0, HB);
    return err;
}

dt_err dt_merkle_root_from_nodes(unsigned char root[HB], uint64_t size, dt_merkle_node_fn node, void *arg)
{
    DT_ARG_CHECK(root && node);
    return range_hash(root, 0, size, node, arg);
}

/* ---- array-backed node source ---- */

typedef struct leaf_array {
    const unsigned char (*leaves)[HB];
    uint64_t n;
} leaf_array;

static void perfect_hash(unsigned char out[HB], const unsigned char (*leaves)[HB], unsigned level, uint64_t start)
{
    unsigned char l[HB], r[HB];
    if (level == 0) {
        memcpy(out, leaves[start], HB);
        return;
    }
    perfect_hash(l, leaves, level - 1, start);
    perfect_hash(r, leaves, level - 1, start + ((uint64_t)1 << (level - 1)));
    dt_merkle_node_hash(out, l, r);
}

static dt_err array_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    const leaf_array *a = arg;
    /* the generators only ask for subtrees inside the tree */
    if (level > 63 || index >= (a->n >> level))
        dt_misuse("merkle.c: node outside the leaf array");
    perfect_hash(out, a->leaves, level, index << level);
    return DT_OK;
}

/* ---- frontier ---- */

void dt_merkle_frontier_init(dt_merkle_frontier *f)
{
    DT_ARG_CHECK(f);
    memset(f, 0, sizeof *f);
}

dt_err dt_merkle_frontier_restore(dt_merkle_frontier *f, uint64_t size, dt_merkle_node_fn node, void *arg)
{
    frontier_state *st;
    dt_err err = DT_OK;
    DT_ARG_CHECK(f && node);
    st = (frontier_state *)f->opaque;
    dt_merkle_frontier_init(f);
    for (unsigned l = 0; l < 64; l++) {
        if (!((size >> l) & 1))
            continue;
        err = node(arg, st->node[l], l, (size >> l) - 1);
        if (err != DT_OK)
            goto out;
    }
    st->size = size;
out:
    if (err != DT_OK)
        dt_merkle_frontier_init(f);
    return err;
}

dt_err dt_merkle_frontier_append(dt_merkle_frontier *f, const unsigned char leaf_hash[HB])
{
    frontier_state *st;
    unsigned char h[HB];
    unsigned l = 0;
    DT_ARG_CHECK(f && leaf_hash);
    st = (frontier_state *)f->opaque;
    if (st->size == UINT64_MAX)
        return DT_ERR_LIMIT;
    memcpy(h, leaf_hash, HB);
    while ((st->size >> l) & 1) {
        dt_merkle_node_hash(h, st->node[l], h);
        l++;
    }
    memcpy(st->node[l], h, HB);
    st->size++;
    return DT_OK;
}

uint64_t dt_merkle_frontier_size(const dt_merkle_frontier *f)
{
    DT_ARG_CHECK(f);
    return ((const frontier_state *)f->opaque)->size;
}

void dt_merkle_frontier_root(const dt_merkle_frontier *f, unsigned char root[HB])
{
    const frontier_state *st;
    unsigned l;
    DT_ARG_CHECK(f && root);
    st = (const frontier_state *)f->opaque;
    if (st->size == 0) {
        empty_root(root);
        return;
    }
    l = (unsigned)__builtin_ctzll(st->size);
    memcpy(root, st->node[l], HB);
    for (l++; l < 64; l++)
        if ((st->size >> l) & 1)
            dt_merkle_node_hash(root, st->node[l], root);
}

/* ---- proof generation ---- */

typedef struct node_range {
    uint64_t begin, end;
} node_range;

/* Writes the hashes of ranges[count-1], ..., ranges[0] (the generators
 * collect nodes top-down; proofs list them bottom-up). */
static dt_err emit(unsigned char (*proof)[HB], size_t *proof_len, const node_range *ranges, size_t count,
                   dt_merkle_node_fn node, void *arg)
{
    size_t cap = *proof_len;
    dt_err err = DT_OK;
    if (count > cap) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        err = range_hash(proof[i], ranges[count - 1 - i].begin, ranges[count - 1 - i].end, node, arg);
        if (err != DT_OK)
            goto out;
    }
    *proof_len = count;
out:
    if (err != DT_OK) {
        memset(proof, 0, cap * HB);
        *proof_len = 0;
    }
    return err;
}

dt_err dt_merkle_inclusion_proof_from_nodes(unsigned char (*proof)[HB], size_t *proof_len, uint64_t index,
                                            uint64_t size, dt_merkle_node_fn node, void *arg)
{
    node_range ranges[DT_MERKLE_MAX_PROOF];
    size_t count = 0;
    uint64_t begin = 0, end = size;
    DT_ARG_CHECK(proof && proof_len && node);
    if (size == 0 || index >= size) {
        memset(proof, 0, *proof_len * HB);
        *proof_len = 0;
        return DT_ERR_RANGE;
    }
    /* PATH(m, D[n]): at each node, the sibling of the side holding m */
    while (end - begin > 1) {
        uint64_t k = split_point(end - begin);
        if (index < begin + k) {
            ranges[count].begin = begin + k;
            ranges[count].end = end;
            end = begin + k;
        } else {
            ranges[count].begin = begin;
            ranges[count].end = begin + k;
            begin += k;
        }
        count++;
    }
    return emit(proof, proof_len, ranges, count, node, arg);
}

dt_err dt_merkle_inclusion_proof(unsigned char (*proof)[HB], size_t *proof_len, uint64_t index,
                                 const unsigned char (*leaves)[HB], uint64_t size)
{
    leaf_array a;
    DT_ARG_CHECK(leaves || size == 0);
    a.leaves = leaves;
    a.n = size;
    return dt_merkle_inclusion_proof_from_nodes(proof, proof_len, index, size, array_node, &a);
}

dt_err dt_merkle_consistency_proof_from_nodes(unsigned char (*proof)[HB], size_t *proof_len, uint64_t size1,
                                              uint64_t size2, dt_merkle_node_fn node, void *arg)
{
    node_range ranges[DT_MERKLE_MAX_PROOF];
    size_t count = 0;
    uint64_t begin = 0, end = size2;
    int whole = 1; /* b of SUBPROOF: still on the left edge, MTH(D[0:m]) is known */
    DT_ARG_CHECK(proof && proof_len && node);
    if (size1 == 0 || size1 > size2) {
        memset(proof, 0, *proof_len * HB);
        *proof_len = 0;
        return DT_ERR_RANGE;
    }
    /* SUBPROOF(m, D[begin:end], b) with m = size1 - begin > 0 */
    for (;;) {
        uint64_t k;
        if (size1 == end) {
            if (!whole) {
                ranges[count].begin = begin;
                ranges[count].end = end;
                count++;
            }
            break;
        }
        k = split_point(end - begin);
        if (size1 <= begin + k) {
            ranges[count].begin = begin + k;
            ranges[count].end = end;
            end = begin + k;
        } else {
            ranges[count].begin = begin;
            ranges[count].end = begin + k;
            begin += k;
            whole = 0;
        }
        count++;
    }
    return emit(proof, proof_len, ranges, count, node, arg);
}

dt_err dt_merkle_consistency_proof(unsigned char (*proof)[HB], size_t *proof_len, uint64_t size1,
                                   const unsigned char (*leaves)[HB], uint64_t size2)
{
    leaf_array a;
    DT_ARG_CHECK(leaves || size2 == 0);
    a.leaves = leaves;
    a.n = size2;
    return dt_merkle_consistency_proof_from_nodes(proof, proof_len, size1, size2, array_node, &a);
}

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2, step by step) ---- */

dt_err dt_merkle_inclusion_verify(uint64_t index, uint64_t size, const unsigned char leaf_hash[HB],
                                  const unsigned char (*proof)[HB], size_t proof_len, const unsigned char root[HB])
{
    unsigned char r[HB];
    uint64_t fn, sn;
    DT_ARG_CHECK(leaf_hash && root && (proof || proof_len == 0));
    if (size == 0 || index >= size)
        return DT_ERR_RANGE;
    if (proof_len > DT_MERKLE_MAX_PROOF)
        return DT_ERR_PROOF;
    fn = index;
    sn = size - 1;
    memcpy(r, leaf_hash, HB);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return DT_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            dt_merkle_node_hash(r, proof[i], r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            dt_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !dt_ct_eq(r, root, HB))
        return DT_ERR_PROOF;
    return DT_OK;
}

dt_err dt_merkle_consistency_verify(uint64_t size1, uint64_t size2, const unsigned char root1[HB],
                                    const unsigned char root2[HB], const unsigned char (*proof)[HB],
                                    size_t proof_len)
{
    unsigned char fr[HB], sr[HB];
    const unsigned char *c;
    uint64_t fn, sn;
    size_t total, pre;
    DT_ARG_CHECK(root1 && root2 && (proof || proof_len == 0));
    if (size1 == 0 || size1 > size2)
        return DT_ERR_RANGE;
    if (size1 == size2)
        return proof_len == 0 && dt_ct_eq(root1, root2, HB) ? DT_OK : DT_ERR_PROOF;
    if (proof_len == 0 || proof_len > DT_MERKLE_MAX_PROOF)
        return DT_ERR_PROOF;
    /* 2: if size1 is a power of 2, the path starts with root1 */
    pre = (size1 & (size1 - 1)) == 0;
    total = proof_len + pre;
    fn = size1 - 1;
    sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    c = pre ? root1 : proof[0];
    memcpy(fr, c, HB);
    memcpy(sr, c, HB);
    for (size_t i = 1; i < total; i++) {
        c = proof[i - pre];
        if (sn == 0)
            return DT_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            dt_merkle_node_hash(fr, c, fr);
            dt_merkle_node_hash(sr, c, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            dt_merkle_node_hash(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !dt_ct_eq(fr, root1, HB) || !dt_ct_eq(sr, root2, HB))
        return DT_ERR_PROOF;
    return DT_OK;
}
