/* RFC 9162 proof verification with sizes, indexes, hashes and proofs taken
 * from the input: dt_merkle_inclusion_verify and
 * dt_merkle_consistency_verify must answer DT_OK, DT_ERR_RANGE or
 * DT_ERR_PROOF and never crash, whatever the sizes (up to 2^64 - 1) and the
 * proof's length (up to 70 hashes, more than any proof has). Then the same
 * numbers, reduced to a tree of at most 64 leaves, drive a round trip: the
 * proofs generated for it verify, against the root of dt_merkle_root and of
 * a frontier, and the proof with one bit flipped does not.
 *
 * Input: a (8 bytes, little-endian), b (8 bytes), flip (2 bytes), hash1 (32),
 * hash2 (32), then the proof: the remaining bytes, 32 a hash (a partial
 * last hash is dropped). Short inputs are zero-padded. */
#include <detente/merkle.h>

#include "fuzz.h"

#define HB DT_MERKLE_HASH_BYTES
#define HEADER (8 + 8 + 2 + 2 * HB)
#define MAX_HASHES 70
#define SMALL 64

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void flip_bit(unsigned char (*proof)[HB], size_t n, unsigned flip)
{
    proof[(flip / (8 * HB)) % n][(flip / 8) % HB] ^= (unsigned char)(1u << (flip % 8));
}

static void round_trip(uint64_t a, uint64_t b, unsigned flip, const unsigned char salt[HB])
{
    unsigned char leaves[SMALL][HB], root[HB], root1[HB], froot[HB];
    unsigned char proof[DT_MERKLE_MAX_PROOF][HB];
    size_t n = 1 + (size_t)(a % SMALL), index = (size_t)(b % n), m = 1 + (size_t)(b % n), plen;
    dt_merkle_frontier f;

    dt_merkle_frontier_init(&f);
    for (size_t i = 0; i < n; i++) {
        unsigned char entry[HB + 8];
        memcpy(entry, salt, HB);
        memcpy(entry + HB, &i, 8);
        dt_merkle_leaf_hash(leaves[i], entry, sizeof entry);
        FUZZ_CHECK(dt_merkle_frontier_append(&f, leaves[i]) == DT_OK);
        if (i + 1 == m)
            dt_merkle_frontier_root(&f, root1);
    }
    dt_merkle_root(root, (const unsigned char(*)[HB])leaves, n);
    dt_merkle_frontier_root(&f, froot);
    FUZZ_CHECK(memcmp(root, froot, HB) == 0 && dt_merkle_frontier_size(&f) == n);

    plen = DT_MERKLE_MAX_PROOF;
    FUZZ_CHECK(dt_merkle_inclusion_proof(proof, &plen, index, (const unsigned char(*)[HB])leaves, n) == DT_OK);
    FUZZ_CHECK(dt_merkle_inclusion_verify(index, n, leaves[index], (const unsigned char(*)[HB])proof, plen, root) ==
               DT_OK);
    if (plen > 0) {
        flip_bit(proof, plen, flip);
        FUZZ_CHECK(dt_merkle_inclusion_verify(index, n, leaves[index], (const unsigned char(*)[HB])proof, plen,
                                              root) == DT_ERR_PROOF);
    }

    plen = DT_MERKLE_MAX_PROOF;
    FUZZ_CHECK(dt_merkle_consistency_proof(proof, &plen, m, (const unsigned char(*)[HB])leaves, n) == DT_OK);
    FUZZ_CHECK((plen == 0) == (m == n));
    FUZZ_CHECK(dt_merkle_consistency_verify(m, n, root1, root, (const unsigned char(*)[HB])proof, plen) == DT_OK);
    if (plen > 0) {
        flip_bit(proof, plen, flip);
        FUZZ_CHECK(dt_merkle_consistency_verify(m, n, root1, root, (const unsigned char(*)[HB])proof, plen) ==
                   DT_ERR_PROOF);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char head[HEADER] = {0};
    size_t nproof = size > HEADER ? (size - HEADER) / HB : 0;
    unsigned char (*proof)[HB];
    uint64_t a, b;
    unsigned flip;
    dt_err err;

    memcpy(head, data, size < HEADER ? size : HEADER);
    a = le64(head);
    b = le64(head + 8);
    flip = (unsigned)head[16] | (unsigned)head[17] << 8;
    if (nproof > MAX_HASHES)
        nproof = MAX_HASHES;
    /* an exact copy, so that a read past the last hash is caught */
    proof = (unsigned char(*)[HB])fuzz_dup(nproof ? data + HEADER : data, nproof * HB);

    err = dt_merkle_inclusion_verify(a, b, head + 18, nproof ? (const unsigned char(*)[HB])proof : NULL, nproof,
                                     head + 18 + HB);
    FUZZ_CHECK(err == DT_OK || err == DT_ERR_RANGE || err == DT_ERR_PROOF);
    FUZZ_CHECK((err == DT_ERR_RANGE) == (b == 0 || a >= b));
    err = dt_merkle_consistency_verify(a, b, head + 18, head + 18 + HB,
                                       nproof ? (const unsigned char(*)[HB])proof : NULL, nproof);
    FUZZ_CHECK(err == DT_OK || err == DT_ERR_RANGE || err == DT_ERR_PROOF);
    FUZZ_CHECK((err == DT_ERR_RANGE) == (a == 0 || a > b));
    free(proof);

    round_trip(a, b, flip, head + 18);
    return 0;
}
