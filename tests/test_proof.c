/* ElGamal and the proofs, in every group: completeness (honest proofs
 * verify) and soundness against a changed statement or proof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <detente/proof.h>

#include "testrand.h"

typedef struct fixture {
    dt_group *g;
    dt_scalar s;
    dt_elem K;
    unsigned char he[32];
    int reps;
    int sound; /* q large enough that a forged proof passes with negligible probability */
} fixture;

static int setup_group(void **state, dt_group *g, int reps)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !g)
        return -1;
    f->g = g;
    f->reps = reps;
    f->sound = dt_group_scalar_bytes(g) == 32;
    if (dt_scalar_random(g, &f->s) != DT_OK)
        return -1;
    dt_elem_pow_g(g, &f->K, &f->s);
    testrand_bytes(f->he, 32);
    *state = f;
    return 0;
}

static int setup_r255(void **state)
{
    return setup_group(state, dt_group_create(DT_GROUP_RISTRETTO255), 20);
}

static int setup_int(void **state)
{
    return setup_group(state, dt_group_create(DT_GROUP_INTEGER4096), 2);
}

/* toy group of the specification: q = 127, p = 59183, g = 32616 */
static int setup_toy(void **state)
{
    return setup_group(state, dt_group_create_integer("e72f", "7f", "7f68"), 50);
}

static int teardown(void **state)
{
    fixture *f = *state;
    dt_group_destroy(f->g);
    free(f);
    return 0;
}

static void random_scalar(fixture *f, dt_scalar *x)
{
    assert_int_equal(dt_scalar_random(f->g, x), DT_OK);
}

static void test_elgamal(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    for (int r = 0; r < f->reps; r++) {
        dt_scalar x1, x2, x;
        dt_elem a1, b1, a2, b2, a, b, m, t;
        uint64_t m1 = testrand_u64(50), m2 = testrand_u64(50), got;
        random_scalar(f, &x1);
        random_scalar(f, &x2);
        dt_elgamal_encrypt(g, &a1, &b1, &f->K, m1, &x1);
        dt_elgamal_encrypt(g, &a2, &b2, &f->K, m2, &x2);
        /* decryption: beta / alpha^s = K^m */
        dt_elem_pow(g, &m, &a1, &f->s);
        dt_elem_div(g, &t, &b1, &m);
        assert_int_equal(dt_elem_dlog_var(g, &got, &f->K, &t, 100), DT_OK);
        assert_int_equal(got, m1);
        /* homomorphism: the product encrypts m1 + m2 with nonce x1 + x2 */
        dt_elem_mul(g, &a, &a1, &a2);
        dt_elem_mul(g, &b, &b1, &b2);
        dt_scalar_add(g, &x, &x1, &x2);
        dt_elgamal_encrypt(g, &a1, &b1, &f->K, m1 + m2, &x);
        assert_true(dt_elem_eq(g, &a, &a1));
        assert_true(dt_elem_eq(g, &b, &b1));
    }
}

static void test_schnorr(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    for (int r = 0; r < f->reps; r++) {
        dt_scalar a, c, v, other;
        dt_elem Kij, Kother;
        random_scalar(f, &a);
        random_scalar(f, &other);
        dt_elem_pow_g(g, &Kij, &a);
        dt_elem_pow_g(g, &Kother, &other);
        assert_int_equal(dt_schnorr_prove(g, &c, &v, f->he, 2, 1, &Kij, &a), DT_OK);
        assert_int_equal(dt_schnorr_verify_var(g, f->he, 2, 1, &Kij, &c, &v), DT_OK);
        /* another statement: guardian, coefficient index, commitment */
        if (f->sound)
            assert_int_equal(dt_schnorr_verify_var(g, f->he, 3, 1, &Kij, &c, &v), DT_ERR_PROOF);
        if (f->sound)
            assert_int_equal(dt_schnorr_verify_var(g, f->he, 2, 0, &Kij, &c, &v), DT_ERR_PROOF);
        if (f->sound)
            assert_int_equal(dt_schnorr_verify_var(g, f->he, 2, 1, &Kother, &c, &v), DT_ERR_PROOF);
        dt_scalar_add(g, &v, &v, &other);
        if (f->sound)
            assert_int_equal(dt_schnorr_verify_var(g, f->he, 2, 1, &Kij, &c, &v), DT_ERR_PROOF);
    }
}

static void test_range(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    for (int r = 0; r < f->reps; r++) {
        uint32_t R = r % 2 ? 1 : (uint32_t)testrand_u64(4) + 1;
        uint32_t ell = (uint32_t)testrand_u64(R + 1);
        dt_scalar xi, c[8], v[8], one;
        dt_elem alpha, beta, beta2;
        unsigned char he2[32];
        random_scalar(f, &xi);
        dt_elgamal_encrypt(g, &alpha, &beta, &f->K, ell, &xi);
        assert_int_equal(dt_range_prove(g, c, v, f->he, &f->K, &alpha, &beta, &xi, ell, R), DT_OK);
        assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta, c, v, R), DT_OK);
        /* a narrower range that excludes ell; a wider one the proof was not made for */
        if (ell > 0)
            if (f->sound)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta, c, v, ell - 1), DT_ERR_PROOF);
        /* another ciphertext, another key hash, a changed challenge or response */
        dt_elgamal_encrypt(g, &alpha, &beta2, &f->K, ell + 1, &xi);
        if (f->sound)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta2, c, v, R), DT_ERR_PROOF);
        memcpy(he2, f->he, 32);
        he2[0] ^= 1;
        if (f->sound)
            assert_int_equal(dt_range_verify_var(g, he2, &f->K, &alpha, &beta, c, v, R), DT_ERR_PROOF);
        dt_scalar_from_u64(g, &one, 1);
        dt_scalar_add(g, &c[R], &c[R], &one);
        if (f->sound)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta, c, v, R), DT_ERR_PROOF);
        dt_scalar_sub(g, &c[R], &c[R], &one);
        dt_scalar_add(g, &v[0], &v[0], &one);
        if (f->sound)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta, c, v, R), DT_ERR_PROOF);
        /* a cheating prover: the ciphertext holds R + 1, outside the range */
        dt_elgamal_encrypt(g, &alpha, &beta, &f->K, R + 1, &xi);
        assert_int_equal(dt_range_prove(g, c, v, f->he, &f->K, &alpha, &beta, &xi, ell, R), DT_OK);
        if (f->sound)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha, &beta, c, v, R), DT_ERR_PROOF);
        assert_int_equal(dt_range_prove(g, c, v, f->he, &f->K, &alpha, &beta, &xi, R + 1, R), DT_ERR_RANGE);
    }
}

/* The fixed-base table of K gives the same ciphertexts, and proofs that verify. */
static void test_table_of_K(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    dt_fixed_base *Kt = dt_fixed_base_create(g, &f->K);
    assert_non_null(Kt);
    for (int r = 0; r < f->reps; r++) {
        uint32_t R = r % 2 ? 1 : (uint32_t)testrand_u64(4) + 1;
        uint32_t ell = (uint32_t)testrand_u64(R + 1);
        dt_scalar xi, c[8], v[8];
        dt_elem a1, b1, a2, b2;
        random_scalar(f, &xi);
        dt_elgamal_encrypt(g, &a1, &b1, &f->K, ell, &xi);
        dt_elgamal_encrypt_fb(g, &a2, &b2, Kt, ell, &xi);
        assert_true(dt_elem_eq(g, &a1, &a2));
        assert_true(dt_elem_eq(g, &b1, &b2));
        assert_int_equal(dt_range_prove_fb(g, c, v, f->he, &f->K, Kt, &a2, &b2, &xi, ell, R), DT_OK);
        assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &a2, &b2, c, v, R), DT_OK);
        if (f->sound && ell > 0)
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &a2, &b2, c, v, ell - 1), DT_ERR_PROOF);
    }
    dt_fixed_base_destroy(Kt);
}

/* Range proofs with their commitments, checked one by one and in batches:
 * an honest batch holds; a changed response fails the batch (and is found
 * one by one) while the challenge still checks; a changed commitment fails
 * the challenge; two errors that cancel under equal weights are caught. */
static void test_commitments_and_batch(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    enum { N = 6 };
    dt_fixed_base *Kt = dt_fixed_base_create(g, &f->K);
    dt_batch *bt = dt_batch_create(g, &f->K);
    dt_scalar xi, c[N][8], v[N][8], one, c2[8], v2[8];
    dt_elem alpha[N], beta[N], a[N][8], b[N][8], a2[8], b2[8], t;
    uint32_t R[N];
    assert_non_null(Kt);
    assert_non_null(bt);
    dt_scalar_from_u64(g, &one, 1);
    for (int r = 0; r < (f->reps + 1) / 2; r++) {
        for (int i = 0; i < N; i++) {
            R[i] = i % 2 ? 1 : (uint32_t)testrand_u64(4) + 1;
            uint32_t ell = (uint32_t)testrand_u64(R[i] + 1);
            random_scalar(f, &xi);
            dt_elgamal_encrypt_fb(g, &alpha[i], &beta[i], Kt, ell, &xi);
            assert_int_equal(dt_range_prove_commit(g, c[i], v[i], a[i], b[i], f->he, &f->K, Kt, &alpha[i],
                                                   &beta[i], &xi, ell, R[i]),
                             DT_OK);
            /* the same proof as dt_range_verify_var accepts */
            assert_int_equal(dt_range_verify_var(g, f->he, &f->K, &alpha[i], &beta[i], c[i], v[i], R[i]), DT_OK);
            assert_int_equal(dt_range_check_challenge(g, f->he, &f->K, &alpha[i], &beta[i], a[i], b[i], c[i], R[i]),
                             DT_OK);
            assert_int_equal(
                dt_range_check_commitments_var(g, &f->K, &alpha[i], &beta[i], a[i], b[i], c[i], v[i], R[i]), DT_OK);
            assert_int_equal(dt_batch_add_range(bt, &alpha[i], &beta[i], a[i], b[i], c[i], v[i], R[i]), DT_OK);
        }
        assert_int_equal(dt_batch_equations(bt), 0 + (size_t)2 * (R[0] + R[1] + R[2] + R[3] + R[4] + R[5] + 6));
        assert_int_equal(dt_batch_check(bt), DT_OK);
        assert_int_equal(dt_batch_equations(bt), 0);
        assert_int_equal(dt_batch_check(bt), DT_OK); /* empty */
        if (!f->sound)
            continue;
        /* a changed response: the challenge does not see it, the equations do */
        int bad = (int)testrand_u64(N);
        uint32_t jb = (uint32_t)testrand_u64(R[bad] + 1);
        dt_scalar_add(g, &v[bad][jb], &v[bad][jb], &one);
        assert_int_equal(dt_range_check_challenge(g, f->he, &f->K, &alpha[bad], &beta[bad], a[bad], b[bad], c[bad],
                                                  R[bad]),
                         DT_OK);
        for (int i = 0; i < N; i++) {
            assert_int_equal(dt_batch_add_range(bt, &alpha[i], &beta[i], a[i], b[i], c[i], v[i], R[i]), DT_OK);
            assert_int_equal(
                dt_range_check_commitments_var(g, &f->K, &alpha[i], &beta[i], a[i], b[i], c[i], v[i], R[i]),
                i == bad ? DT_ERR_PROOF : DT_OK);
        }
        assert_int_equal(dt_batch_check(bt), DT_ERR_PROOF);
        /* the batch is empty again and usable */
        dt_scalar_sub(g, &v[bad][jb], &v[bad][jb], &one);
        for (int i = 0; i < N; i++)
            assert_int_equal(dt_batch_add_range(bt, &alpha[i], &beta[i], a[i], b[i], c[i], v[i], R[i]), DT_OK);
        assert_int_equal(dt_batch_check(bt), DT_OK);
        /* a changed commitment (a valid element): the challenge fails */
        dt_elem_mul(g, &t, &a[bad][jb], &f->K);
        memcpy(a2, a[bad], sizeof a2);
        a2[jb] = t;
        assert_int_equal(dt_range_check_challenge(g, f->he, &f->K, &alpha[bad], &beta[bad], a2, b[bad], c[bad], R[bad]),
                         DT_ERR_PROOF);
        assert_int_equal(dt_batch_add_range(bt, &alpha[bad], &beta[bad], a2, b[bad], c[bad], v[bad], R[bad]), DT_OK);
        assert_int_equal(dt_batch_check(bt), DT_ERR_PROOF);
        memcpy(b2, b[bad], sizeof b2);
        dt_elem_mul(g, &b2[jb], &b2[jb], &f->K);
        assert_int_equal(dt_batch_add_range(bt, &alpha[bad], &beta[bad], a[bad], b2, c[bad], v[bad], R[bad]), DT_OK);
        assert_int_equal(dt_batch_check(bt), DT_ERR_PROOF);
        /* two errors that cancel in a plain sum: v_0 + 1 in one copy of a
         * proof and v_0 - 1 in another; the random weights catch it */
        memcpy(v2, v[0], sizeof v2);
        memcpy(c2, c[0], sizeof c2);
        dt_scalar_add(g, &v2[0], &v2[0], &one);
        assert_int_equal(dt_batch_add_range(bt, &alpha[0], &beta[0], a[0], b[0], c2, v2, R[0]), DT_OK);
        dt_scalar_sub(g, &v2[0], &v2[0], &one);
        dt_scalar_sub(g, &v2[0], &v2[0], &one);
        assert_int_equal(dt_batch_add_range(bt, &alpha[0], &beta[0], a[0], b[0], c2, v2, R[0]), DT_OK);
        assert_int_equal(dt_batch_check(bt), DT_ERR_PROOF);
    }
    dt_batch_destroy(bt);
    dt_fixed_base_destroy(Kt);
}

static void test_decryption(void **state)
{
    fixture *f = *state;
    const dt_group *g = f->g;
    for (int r = 0; r < f->reps; r++) {
        dt_scalar xi, c, v, one;
        dt_elem A, B, M, T, T2;
        uint64_t t = testrand_u64(100), got;
        random_scalar(f, &xi);
        dt_elgamal_encrypt(g, &A, &B, &f->K, t, &xi);
        assert_int_equal(dt_decryption_prove(g, &M, &c, &v, f->he, &f->K, &A, &B, &f->s), DT_OK);
        dt_elem_div(g, &T, &B, &M);
        assert_int_equal(dt_elem_dlog_var(g, &got, &f->K, &T, 1000), DT_OK);
        assert_int_equal(got, t);
        assert_int_equal(dt_decryption_verify_var(g, f->he, &f->K, &A, &B, &T, &c, &v), DT_OK);
        /* a false result: T for t + 1 */
        dt_elem_mul(g, &T2, &T, &f->K);
        if (f->sound)
            assert_int_equal(dt_decryption_verify_var(g, f->he, &f->K, &A, &B, &T2, &c, &v), DT_ERR_PROOF);
        dt_scalar_from_u64(g, &one, 1);
        dt_scalar_add(g, &v, &v, &one);
        if (f->sound)
            assert_int_equal(dt_decryption_verify_var(g, f->he, &f->K, &A, &B, &T, &c, &v), DT_ERR_PROOF);
    }
}

#define GROUP_TESTS(setup)                                                                               \
    cmocka_unit_test_setup_teardown(test_elgamal, setup, teardown),                                      \
        cmocka_unit_test_setup_teardown(test_schnorr, setup, teardown),                                  \
        cmocka_unit_test_setup_teardown(test_range, setup, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_table_of_K, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(test_commitments_and_batch, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_decryption, setup, teardown)

int main(void)
{
    testrand_init();
    const struct CMUnitTest tests[] = {
        GROUP_TESTS(setup_r255),
        GROUP_TESTS(setup_int),
        GROUP_TESTS(setup_toy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
