/* RFC 9162 Merkle tree: the transparency-dev/merkle vectors (every file under
 * tests/vectors/rfc9162), exhaustive proofs for trees of up to 64 leaves,
 * the frontier against the recursive root up to 1000 leaves, and trees near
 * 2^64 leaves through a node callback. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include <detente/hash.h>
#include <detente/merkle.h>

#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES
#define MAXN 64
#define VEC_DIR DT_TEST_VECTORS "/rfc9162"

typedef unsigned char hash_t[HB];

/* ---- helpers ---- */

/* Leaf 0 is the empty entry, leaf i > 0 the 8 bytes of i: all distinct. */
static void make_leaves(hash_t *leaves, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char entry[8];
        for (int j = 0; j < 8; j++)
            entry[j] = (unsigned char)((uint64_t)i >> (8 * j));
        dt_merkle_leaf_hash(leaves[i], entry, i == 0 ? 0 : 8);
    }
}

typedef struct array_src {
    const hash_t *leaves;
    uint64_t n;
    unsigned calls;
    int fail_at; /* return DT_ERR_IO on this call (0-based), -1 never */
} array_src;

static void perfect(unsigned char out[HB], const hash_t *leaves, unsigned level, uint64_t start)
{
    unsigned char l[HB], r[HB];
    if (level == 0) {
        memcpy(out, leaves[start], HB);
        return;
    }
    perfect(l, leaves, level - 1, start);
    perfect(r, leaves, level - 1, start + ((uint64_t)1 << (level - 1)));
    dt_merkle_node_hash(out, l, r);
}

static dt_err array_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    array_src *s = arg;
    /* the library promises to ask only for subtrees inside the tree */
    assert_true(level < 64);
    assert_true(index < (s->n >> level));
    if (s->fail_at >= 0 && s->calls == (unsigned)s->fail_at) {
        s->calls++;
        return DT_ERR_IO;
    }
    s->calls++;
    perfect(out, s->leaves, level, index << level);
    return DT_OK;
}

/* A tree of 2^64 - 1 identical leaves: the subtree at level l is c[l]. */
static hash_t big_c[64];

static dt_err big_node(void *arg, unsigned char out[HB], unsigned level, uint64_t index)
{
    unsigned *calls = arg;
    assert_true(level < 64);
    (*calls)++;
    memcpy(out, big_c[level], HB);
    return DT_OK;
}

static void flip(unsigned char *h, size_t bit)
{
    h[(bit / 8) % HB] ^= (unsigned char)(1u << (bit % 8));
}

/* Bottom-up directions of RFC 9162 PATH(m, D[n]): 1 when the sibling is on
 * the right. Two (index, size) pairs with equal shapes combine a proof the
 * same way, so the verifier cannot tell them apart except by the root. */
static size_t path_shape(unsigned char *out, uint64_t m, uint64_t n)
{
    size_t len;
    uint64_t k = 1;
    if (n <= 1)
        return 0;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        len = path_shape(out, m, k);
        out[len] = 1;
    } else {
        len = path_shape(out, m - k, n - k);
        out[len] = 0;
    }
    return len + 1;
}

/* ---- roots.json ---- */

static void test_roots_json(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *doc = json_load_file(VEC_DIR "/roots.json", 0, &jerr);
    json_t *leaves_j, *roots_j;
    hash_t leaves[16], want, got;
    size_t nleaves, nroots, ran = 0;
    dt_merkle_frontier f;

    if (!doc)
        fail_msg("roots.json: %s", jerr.text);
    leaves_j = json_object_get(doc, "leaves");
    roots_j = json_object_get(doc, "roots");
    assert_true(json_is_array(leaves_j) && json_is_array(roots_j));
    nleaves = json_array_size(leaves_j);
    nroots = json_array_size(roots_j);
    assert_true(nleaves > 0 && nleaves < 16);
    assert_int_equal(nroots, nleaves + 1);
    for (size_t i = 0; i < nleaves; i++) {
        unsigned char *entry;
        size_t len;
        assert_int_equal(dt_hex_decode_alloc(&entry, &len, json_string_value(json_array_get(leaves_j, i)), 4096),
                         DT_OK);
        dt_merkle_leaf_hash(leaves[i], entry, len);
        free(entry);
    }
    dt_merkle_frontier_init(&f);
    for (size_t n = 0; n < nroots; n++) {
        unsigned char *w;
        size_t wlen;
        array_src src = {leaves, n, 0, -1};
        assert_int_equal(dt_hex_decode_alloc(&w, &wlen, json_string_value(json_array_get(roots_j, n)), 64),
                         DT_OK);
        assert_int_equal(wlen, HB);
        memcpy(want, w, HB);
        free(w);
        dt_merkle_root(got, leaves, n);
        assert_memory_equal(got, want, HB);
        dt_merkle_frontier_root(&f, got);
        assert_memory_equal(got, want, HB);
        assert_int_equal(dt_merkle_root_from_nodes(got, n, array_node, &src), DT_OK);
        assert_memory_equal(got, want, HB);
        if (n < nleaves)
            assert_int_equal(dt_merkle_frontier_append(&f, leaves[n]), DT_OK);
        ran++;
    }
    json_decref(doc);
    printf("roots.json: %zu roots checked\n", ran);
    assert_true(ran > 0);
}

/* ---- the transparency-dev/merkle vectors ---- */

/* Our API takes 32-byte hashes only, so a vector whose roots or leaf hash are
 * not 32 bytes counts as an error on our side. It disagrees with wantErr in
 * this one file only (equal sizes, equal 12-byte "roots"), and the test
 * checks that the list is exact. */
static const char *const known_divergences[] = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
};
#define N_DIVERGENCES (sizeof known_divergences / sizeof known_divergences[0])

typedef struct vec_stats {
    unsigned inclusion, consistency, ok, err, diverged;
    unsigned seen_divergence[N_DIVERGENCES];
} vec_stats;

/* Reads an unsigned 64-bit JSON number straight from the text: jansson's
 * integers are signed, and the vectors hold 2^64 - 1. */
static uint64_t raw_u64(const char *text, const char *key)
{
    char pat[64];
    const char *p;
    char *end;
    unsigned long long v;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    p = strstr(text, pat);
    if (!p)
        fail_msg("no %s", key);
    p += strlen(pat);
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p != ':')
        fail_msg("%s: no colon", key);
    p++;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p < '0' || *p > '9')
        fail_msg("%s: not an unsigned number", key);
    errno = 0;
    v = strtoull(p, &end, 10);
    if (errno != 0 || end == p)
        fail_msg("%s: out of range", key);
    return (uint64_t)v;
}

/* 1 and the hash if v is base64 of 32 bytes, 0 if it decodes to another
 * length (or is null). Invalid base64 fails the test. */
static int get_hash(unsigned char out[HB], json_t *v)
{
    unsigned char *b;
    size_t len;
    int ok;
    if (json_is_null(v))
        return 0;
    assert_true(json_is_string(v));
    assert_int_equal(dt_b64_decode_alloc(&b, &len, json_string_value(v), 4096), DT_OK);
    ok = len == HB;
    if (ok)
        memcpy(out, b, HB);
    free(b);
    return ok;
}

/* Returns the number of proof hashes, or -1 if one is not 32 bytes. */
static long get_proof(hash_t *proof, size_t cap, json_t *v)
{
    size_t n;
    if (json_is_null(v))
        return 0;
    assert_true(json_is_array(v));
    n = json_array_size(v);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++)
        if (!get_hash(proof[i], json_array_get(v, i)))
            return -1;
    return (long)n;
}

static void run_vector(const char *path, const char *rel, vec_stats *st)
{
    unsigned char *text;
    size_t textlen;
    json_error_t jerr;
    json_t *doc;
    json_t *want_j;
    hash_t proof[80], a, b;
    long plen;
    int want_err, got_err, representable;
    dt_err err = DT_OK;
    int inclusion = strncmp(rel, "inclusion/", 10) == 0;

    assert_int_equal(dt_read_file(&text, &textlen, path, 1 << 20), DT_OK);
    doc = json_loadb((const char *)text, textlen, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!doc)
        fail_msg("%s: %s", rel, jerr.text);
    want_j = json_object_get(doc, "wantErr");
    if (!json_is_boolean(want_j))
        fail_msg("%s: no wantErr", rel);
    want_err = json_is_true(want_j);
    plen = get_proof(proof, sizeof proof / sizeof proof[0], json_object_get(doc, "proof"));
    if (inclusion) {
        uint64_t idx = raw_u64((const char *)text, "leafIdx"), size = raw_u64((const char *)text, "treeSize");
        representable = plen >= 0;
        representable &= get_hash(a, json_object_get(doc, "leafHash"));
        representable &= get_hash(b, json_object_get(doc, "root"));
        if (representable)
            err = dt_merkle_inclusion_verify(idx, size, a, (const hash_t *)proof, (size_t)plen, b);
        st->inclusion++;
    } else {
        assert_true(strncmp(rel, "consistency/", 12) == 0);
        uint64_t s1 = raw_u64((const char *)text, "size1"), s2 = raw_u64((const char *)text, "size2");
        representable = plen >= 0;
        representable &= get_hash(a, json_object_get(doc, "root1"));
        representable &= get_hash(b, json_object_get(doc, "root2"));
        if (representable)
            err = dt_merkle_consistency_verify(s1, s2, a, b, (const hash_t *)proof, (size_t)plen);
        st->consistency++;
    }
    got_err = !representable || err != DT_OK;
    if (got_err)
        st->err++;
    else
        st->ok++;
    if (got_err != want_err) {
        size_t i;
        for (i = 0; i < N_DIVERGENCES; i++)
            if (strcmp(rel, known_divergences[i]) == 0)
                break;
        if (i == N_DIVERGENCES)
            fail_msg("%s: wantErr %d, got %s", rel, want_err, representable ? dt_strerror(err) : "unrepresentable");
        st->seen_divergence[i]++;
        st->diverged++;
    }
    json_decref(doc);
    free(text);
}

static void walk(const char *dir, const char *rel, vec_stats *st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        fail_msg("cannot open %s", dir);
    while ((e = readdir(d)) != NULL) {
        char *path, *sub;
        struct stat sb;
        size_t nlen = strlen(e->d_name);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        path = dt_strdup_printf("%s/%s", dir, e->d_name);
        sub = dt_strdup_printf("%s%s%s", rel, *rel ? "/" : "", e->d_name);
        assert_non_null(path);
        assert_non_null(sub);
        assert_int_equal(stat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode))
            walk(path, sub, st);
        else if (nlen > 5 && strcmp(e->d_name + nlen - 5, ".json") == 0)
            run_vector(path, sub, st);
        free(path);
        free(sub);
    }
    closedir(d);
}

static void test_vectors(void **state)
{
    (void)state;
    vec_stats st;
    memset(&st, 0, sizeof st);
    walk(VEC_DIR "/inclusion", "inclusion", &st);
    walk(VEC_DIR "/consistency", "consistency", &st);
    printf("rfc9162 vectors: %u inclusion, %u consistency (%u verify, %u rejected, %u known divergences)\n",
           st.inclusion, st.consistency, st.ok, st.err, st.diverged);
    assert_true(st.inclusion > 0);
    assert_true(st.consistency > 0);
    assert_true(st.ok > 0 && st.err > 0);
    for (size_t i = 0; i < N_DIVERGENCES; i++)
        if (st.seen_divergence[i] != 1)
            fail_msg("known divergence %s seen %u times", known_divergences[i], st.seen_divergence[i]);
}

/* ---- exhaustive inclusion proofs, n <= 64 ---- */

static void test_inclusion_exhaustive(void **state)
{
    (void)state;
    hash_t leaves[MAXN + 1], roots[MAXN + 2], proof[DT_MERKLE_MAX_PROOF], proof2[DT_MERKLE_MAX_PROOF],
        bad[DT_MERKLE_MAX_PROOF + 1], other;
    unsigned checked = 0;
    make_leaves(leaves, MAXN + 1);
    for (uint64_t n = 0; n <= MAXN + 1; n++)
        dt_merkle_root(roots[n], leaves, n);

    /* size 0 and index >= size: DT_ERR_RANGE, with the outputs zeroed */
    for (uint64_t n = 0; n <= MAXN; n++) {
        for (uint64_t idx = n; idx <= n + 2; idx++) {
            size_t len = DT_MERKLE_MAX_PROOF;
            memset(proof, 0xAA, sizeof proof);
            assert_int_equal(dt_merkle_inclusion_proof(proof, &len, idx, leaves, n), DT_ERR_RANGE);
            assert_int_equal(len, 0);
            memset(other, 0, HB);
            assert_memory_equal(proof[0], other, HB);
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, leaves[0], (const hash_t *)proof, 0, roots[n]),
                             DT_ERR_RANGE);
        }
    }
    assert_int_equal(dt_merkle_inclusion_verify(UINT64_MAX, 1, leaves[0], NULL, 0, leaves[0]), DT_ERR_RANGE);

    for (uint64_t n = 1; n <= MAXN; n++) {
        for (uint64_t idx = 0; idx < n; idx++) {
            size_t len = DT_MERKLE_MAX_PROOF, len2 = DT_MERKLE_MAX_PROOF, blen;
            unsigned char shape[70], shape2[70];
            size_t slen;
            array_src src = {leaves, n, 0, -1};
            assert_int_equal(dt_merkle_inclusion_proof(proof, &len, idx, leaves, n), DT_OK);
            assert_int_equal(dt_merkle_inclusion_proof_from_nodes(proof2, &len2, idx, n, array_node, &src), DT_OK);
            assert_int_equal(len, len2);
            assert_memory_equal(proof, proof2, len * HB);
            slen = path_shape(shape, idx, n);
            assert_int_equal(len, slen);
            if (n == 1)
                assert_memory_equal(roots[1], leaves[0], HB); /* size 1: root is the leaf */
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)proof, len, roots[n]),
                             DT_OK);

            /* a flipped bit anywhere in the proof */
            for (size_t j = 0; j < len; j++) {
                for (size_t bit = 0; bit < 8 * HB; bit += 37) {
                    memcpy(bad, proof, len * HB);
                    flip(bad[j], bit + j);
                    assert_int_equal(
                        dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)bad, len, roots[n]),
                        DT_ERR_PROOF);
                }
            }
            /* a wrong leaf, a wrong root */
            memcpy(other, leaves[idx], HB);
            flip(other, 5);
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, other, (const hash_t *)proof, len, roots[n]),
                             DT_ERR_PROOF);
            memcpy(other, roots[n], HB);
            flip(other, 200);
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)proof, len, other),
                             DT_ERR_PROOF);
            /* truncated, extended at either end */
            if (len > 0)
                assert_int_equal(
                    dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)proof, len - 1, roots[n]),
                    DT_ERR_PROOF);
            memcpy(bad, proof, len * HB);
            memcpy(bad[len], roots[n], HB);
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)bad, len + 1, roots[n]),
                             DT_ERR_PROOF);
            memcpy(bad[0], leaves[idx], HB);
            memcpy(bad + 1, proof, len * HB);
            assert_int_equal(dt_merkle_inclusion_verify(idx, n, leaves[idx], (const hash_t *)bad, len + 1, roots[n]),
                             DT_ERR_PROOF);

            /* every other index fails */
            for (uint64_t i2 = 0; i2 < n + 2; i2++) {
                if (i2 == idx)
                    continue;
                assert_int_equal(
                    dt_merkle_inclusion_verify(i2, n, leaves[idx], (const hash_t *)proof, len, roots[n]),
                    i2 < n ? DT_ERR_PROOF : DT_ERR_RANGE);
            }
            /* every other size: against that size's root it always fails; against
             * this root it passes exactly when the path has the same shape (the
             * size is bound by the root, i.e. by the checkpoint that signs both) */
            for (uint64_t n2 = 0; n2 <= MAXN + 1; n2++) {
                dt_err want;
                if (n2 == n)
                    continue;
                if (idx >= n2) {
                    want = DT_ERR_RANGE;
                } else {
                    size_t s2 = path_shape(shape2, idx, n2);
                    want = (s2 == slen && memcmp(shape, shape2, slen) == 0) ? DT_OK : DT_ERR_PROOF;
                    assert_int_equal(
                        dt_merkle_inclusion_verify(idx, n2, leaves[idx], (const hash_t *)proof, len, roots[n2]),
                        DT_ERR_PROOF);
                }
                assert_int_equal(
                    dt_merkle_inclusion_verify(idx, n2, leaves[idx], (const hash_t *)proof, len, roots[n]), want);
            }

            /* capacity too small, and a failing node source */
            if (len > 0) {
                blen = len - 1;
                assert_int_equal(dt_merkle_inclusion_proof(bad, &blen, idx, leaves, n), DT_ERR_LIMIT);
                assert_int_equal(blen, 0);
                src.calls = 0;
                src.fail_at = (int)(idx % len);
                blen = DT_MERKLE_MAX_PROOF;
                assert_int_equal(dt_merkle_inclusion_proof_from_nodes(bad, &blen, idx, n, array_node, &src),
                                 DT_ERR_IO);
                assert_int_equal(blen, 0);
                memset(other, 0, HB);
                assert_memory_equal(bad[0], other, HB);
            }
            checked++;
        }
    }
    printf("inclusion: %u (index, size) pairs, all tampering rejected\n", checked);
}

/* ---- exhaustive consistency proofs, 0 <= m <= n <= 64 ---- */

static void test_consistency_exhaustive(void **state)
{
    (void)state;
    hash_t leaves[MAXN + 1], roots[MAXN + 2], proof[DT_MERKLE_MAX_PROOF], proof2[DT_MERKLE_MAX_PROOF],
        bad[DT_MERKLE_MAX_PROOF + 1], other;
    static hash_t all[MAXN + 2][MAXN + 2][DT_MERKLE_MAX_PROOF];
    static size_t all_len[MAXN + 2][MAXN + 2];
    unsigned checked = 0;
    make_leaves(leaves, MAXN + 1);
    for (uint64_t n = 0; n <= MAXN + 1; n++)
        dt_merkle_root(roots[n], leaves, n);

    /* every proof first, to compare across sizes */
    for (uint64_t n = 1; n <= MAXN + 1; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            all_len[m][n] = DT_MERKLE_MAX_PROOF;
            assert_int_equal(dt_merkle_consistency_proof(all[m][n], &all_len[m][n], m, leaves, n), DT_OK);
        }
    }

    for (uint64_t n = 0; n <= MAXN; n++) {
        /* from size 0: DT_ERR_RANGE whatever the proof and roots */
        size_t len = DT_MERKLE_MAX_PROOF;
        array_src src0 = {leaves, n, 0, -1};
        assert_int_equal(dt_merkle_consistency_proof(proof, &len, 0, leaves, n), DT_ERR_RANGE);
        assert_int_equal(len, 0);
        len = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_merkle_consistency_proof_from_nodes(proof, &len, 0, n, array_node, &src0), DT_ERR_RANGE);
        assert_int_equal(dt_merkle_consistency_verify(0, n, roots[0], roots[n], NULL, 0), DT_ERR_RANGE);
        assert_int_equal(dt_merkle_consistency_verify(0, n, roots[0], roots[n], (const hash_t *)roots, 1),
                         DT_ERR_RANGE);
        /* size1 > size2 */
        len = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_merkle_consistency_proof(proof, &len, n + 1, leaves, n), DT_ERR_RANGE);
        assert_int_equal(dt_merkle_consistency_verify(n + 1, n, roots[n + 1], roots[n], NULL, 0), DT_ERR_RANGE);

        for (uint64_t m = 1; m <= n; m++) {
            array_src src = {leaves, n, 0, -1};
            size_t len2 = DT_MERKLE_MAX_PROOF, blen;
            len = all_len[m][n];
            memcpy(proof, all[m][n], len * HB);
            assert_int_equal(dt_merkle_consistency_proof_from_nodes(proof2, &len2, m, n, array_node, &src), DT_OK);
            assert_int_equal(len, len2);
            assert_memory_equal(proof, proof2, len * HB);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)proof, len),
                             DT_OK);

            if (m == n) {
                /* equal sizes: empty proof, equal roots only */
                assert_int_equal(len, 0);
                memcpy(other, roots[n], HB);
                flip(other, 77);
                assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], other, NULL, 0), DT_ERR_PROOF);
                assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)roots + n, 1),
                                 DT_ERR_PROOF);
                checked++;
                continue;
            }
            assert_true(len > 0);
            /* a flipped bit anywhere in the proof */
            for (size_t j = 0; j < len; j++) {
                for (size_t bit = 0; bit < 8 * HB; bit += 41) {
                    memcpy(bad, proof, len * HB);
                    flip(bad[j], bit + j);
                    assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)bad, len),
                                     DT_ERR_PROOF);
                }
            }
            /* wrong or swapped roots */
            memcpy(other, roots[m], HB);
            flip(other, 3);
            assert_int_equal(dt_merkle_consistency_verify(m, n, other, roots[n], (const hash_t *)proof, len),
                             DT_ERR_PROOF);
            memcpy(other, roots[n], HB);
            flip(other, 250);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], other, (const hash_t *)proof, len),
                             DT_ERR_PROOF);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[n], roots[m], (const hash_t *)proof, len),
                             DT_ERR_PROOF);
            /* empty, truncated, extended at either end */
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], NULL, 0), DT_ERR_PROOF);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)proof, len - 1),
                             DT_ERR_PROOF);
            memcpy(bad, proof, len * HB);
            memcpy(bad[len], roots[m], HB);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)bad, len + 1),
                             DT_ERR_PROOF);
            memcpy(bad[0], proof[0], HB);
            memcpy(bad + 1, proof, len * HB);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)bad, len + 1),
                             DT_ERR_PROOF);
            memcpy(bad[0], roots[m], HB);
            assert_int_equal(dt_merkle_consistency_verify(m, n, roots[m], roots[n], (const hash_t *)bad, len + 1),
                             DT_ERR_PROOF);
            /* other sizes, each with its own true roots: the proof passes only
             * if it is byte for byte that pair's proof */
            const uint64_t m2s[] = {0, 1, m - 1, m, m + 1, m + 2, n - 1, n};
            const uint64_t n2s[] = {m, m + 1, n - 2, n - 1, n, n + 1, n + 2, MAXN + 1};
            for (size_t a = 0; a < sizeof m2s / sizeof m2s[0]; a++) {
                for (size_t b = 0; b < sizeof n2s / sizeof n2s[0]; b++) {
                    uint64_t m2 = m2s[a], n2 = n2s[b];
                    dt_err want;
                    if ((m2 == m && n2 == n) || m2 > n2 || n2 > MAXN + 1)
                        continue;
                    if (m2 == 0)
                        want = DT_ERR_RANGE;
                    else if (all_len[m2][n2] == len && memcmp(all[m2][n2], proof, len * HB) == 0)
                        want = DT_OK;
                    else
                        want = DT_ERR_PROOF;
                    assert_int_equal(
                        dt_merkle_consistency_verify(m2, n2, roots[m2], roots[n2], (const hash_t *)proof, len), want);
                }
            }
            /* capacity too small, and a failing node source */
            blen = len - 1;
            assert_int_equal(dt_merkle_consistency_proof(bad, &blen, m, leaves, n), DT_ERR_LIMIT);
            assert_int_equal(blen, 0);
            src.calls = 0;
            src.fail_at = (int)(m % len);
            blen = DT_MERKLE_MAX_PROOF;
            assert_int_equal(dt_merkle_consistency_proof_from_nodes(bad, &blen, m, n, array_node, &src), DT_ERR_IO);
            assert_int_equal(blen, 0);
            checked++;
        }
    }
    printf("consistency: %u (size1, size2) pairs with size1 > 0, all tampering rejected\n", checked);
}

/* ---- frontier ---- */

static void test_frontier(void **state)
{
    (void)state;
    enum { N = 1000 };
    static hash_t leaves[N + 1];
    hash_t a, b, c;
    dt_merkle_frontier f, g;
    make_leaves(leaves, N + 1);
    dt_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= N; n++) {
        array_src src = {leaves, n, 0, -1};
        assert_int_equal(dt_merkle_frontier_size(&f), n);
        dt_merkle_frontier_root(&f, a);
        dt_merkle_root(b, leaves, n);
        assert_memory_equal(a, b, HB);
        assert_int_equal(dt_merkle_root_from_nodes(c, n, array_node, &src), DT_OK);
        assert_memory_equal(c, b, HB);
        /* restored from the store's nodes, it carries on the same */
        src.calls = 0;
        assert_int_equal(dt_merkle_frontier_restore(&g, n, array_node, &src), DT_OK);
        assert_int_equal(src.calls, (unsigned)__builtin_popcountll(n));
        assert_int_equal(dt_merkle_frontier_size(&g), n);
        dt_merkle_frontier_root(&g, c);
        assert_memory_equal(c, b, HB);
        if (n < N) {
            assert_int_equal(dt_merkle_frontier_append(&g, leaves[n]), DT_OK);
            dt_merkle_root(b, leaves, n + 1);
            dt_merkle_frontier_root(&g, c);
            assert_memory_equal(c, b, HB);
            assert_int_equal(dt_merkle_frontier_append(&f, leaves[n]), DT_OK);
        }
        /* a failing store leaves an empty frontier */
        if (n > 0) {
            src.calls = 0;
            src.fail_at = 0;
            assert_int_equal(dt_merkle_frontier_restore(&g, n, array_node, &src), DT_ERR_IO);
            assert_int_equal(dt_merkle_frontier_size(&g), 0);
        }
    }
    printf("frontier: roots equal the recursive root for sizes 0..%d\n", N);
}

/* ---- trees of nearly 2^64 leaves, through the node callback ---- */

static void test_big_trees(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {UINT64_MAX,          UINT64_MAX - 1,         (uint64_t)1 << 63,
                                     ((uint64_t)1 << 63) + 1, ((uint64_t)1 << 63) - 1, 0x5555555555555555ULL,
                                     0xAAAAAAAAAAAAAAAAULL, 1000000007ULL};
    hash_t proof[DT_MERKLE_MAX_PROOF], root, root1;
    dt_merkle_frontier f;
    unsigned calls = 0;
    size_t maxlen_incl = 0, maxlen_cons = 0;

    dt_merkle_leaf_hash(big_c[0], "x", 1);
    for (int l = 1; l < 64; l++)
        dt_merkle_node_hash(big_c[l], big_c[l - 1], big_c[l - 1]);

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        const uint64_t idxs[] = {0, 1, n / 2, n / 3, n - 2, n - 1};
        assert_int_equal(dt_merkle_root_from_nodes(root, n, big_node, &calls), DT_OK);
        for (size_t i = 0; i < sizeof idxs / sizeof idxs[0]; i++) {
            size_t len = DT_MERKLE_MAX_PROOF;
            uint64_t m = idxs[i] + 1;
            calls = 0;
            assert_int_equal(dt_merkle_inclusion_proof_from_nodes(proof, &len, idxs[i], n, big_node, &calls), DT_OK);
            assert_true(len <= 64);
            assert_true(calls <= 128); /* O(log n) node reads */
            if (len > maxlen_incl)
                maxlen_incl = len;
            assert_int_equal(dt_merkle_inclusion_verify(idxs[i], n, big_c[0], (const hash_t *)proof, len, root),
                             DT_OK);
            flip(proof[len - 1], 9);
            assert_int_equal(dt_merkle_inclusion_verify(idxs[i], n, big_c[0], (const hash_t *)proof, len, root),
                             DT_ERR_PROOF);

            len = DT_MERKLE_MAX_PROOF;
            calls = 0;
            assert_int_equal(dt_merkle_consistency_proof_from_nodes(proof, &len, m, n, big_node, &calls), DT_OK);
            assert_true(len <= DT_MERKLE_MAX_PROOF);
            assert_true(calls <= 130);
            if (len > maxlen_cons)
                maxlen_cons = len;
            assert_int_equal(dt_merkle_root_from_nodes(root1, m, big_node, &calls), DT_OK);
            assert_int_equal(dt_merkle_consistency_verify(m, n, root1, root, (const hash_t *)proof, len), DT_OK);
            if (len > 0) {
                flip(proof[0], 1);
                assert_int_equal(dt_merkle_consistency_verify(m, n, root1, root, (const hash_t *)proof, len),
                                 DT_ERR_PROOF);
            }
        }
    }
    /* the frontier's limit */
    assert_int_equal(dt_merkle_frontier_restore(&f, UINT64_MAX - 1, big_node, &calls), DT_OK);
    assert_int_equal(dt_merkle_frontier_append(&f, big_c[0]), DT_OK);
    dt_merkle_frontier_root(&f, root1);
    assert_int_equal(dt_merkle_root_from_nodes(root, UINT64_MAX, big_node, &calls), DT_OK);
    assert_memory_equal(root, root1, HB);
    assert_int_equal(dt_merkle_frontier_append(&f, big_c[0]), DT_ERR_LIMIT);
    assert_int_equal(dt_merkle_frontier_size(&f), UINT64_MAX);
    printf("big trees: longest inclusion proof %zu, longest consistency proof %zu hashes\n", maxlen_incl,
           maxlen_cons);
}

static void test_hash_definitions(void **state)
{
    (void)state;
    unsigned char buf[65], want[HB], got[HB], l[HB], r[HB];
    buf[0] = 0x00;
    memcpy(buf + 1, "abc", 3);
    dt_sha256(want, buf, 4);
    dt_merkle_leaf_hash(got, "abc", 3);
    assert_memory_equal(got, want, HB);
    dt_sha256(want, buf, 1);
    dt_merkle_leaf_hash(got, NULL, 0);
    assert_memory_equal(got, want, HB);
    memset(l, 1, HB);
    memset(r, 2, HB);
    buf[0] = 0x01;
    memcpy(buf + 1, l, HB);
    memcpy(buf + 1 + HB, r, HB);
    dt_sha256(want, buf, 65);
    dt_merkle_node_hash(got, l, r);
    assert_memory_equal(got, want, HB);
    dt_merkle_node_hash(l, l, r); /* out may alias an input */
    assert_memory_equal(l, want, HB);
    dt_sha256(want, "", 0);
    dt_merkle_root(got, NULL, 0);
    assert_memory_equal(got, want, HB);
    assert_int_equal(dt_merkle_hash_bytes(), DT_MERKLE_HASH_BYTES);
    assert_int_equal(dt_merkle_max_proof(), DT_MERKLE_MAX_PROOF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_definitions),
        cmocka_unit_test(test_roots_json),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_inclusion_exhaustive),
        cmocka_unit_test(test_consistency_exhaustive),
        cmocka_unit_test(test_frontier),
        cmocka_unit_test(test_big_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
