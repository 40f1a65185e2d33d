/* The ristretto255 backend's own arithmetic, checked against second
 * implementations:
 *   - the field GF(2^255 - 19) against GMP (mpz mod p), on random limbs at
 *     the bounds r255_field.h allows and on edge values (0, 1, p - 1, the
 *     non-canonical p .. 2^255 - 1, all-ones limbs);
 *   - decoding against libsodium's crypto_core_ristretto255_is_valid_point
 *     on random strings, valid points, the RFC 9496 invalid encodings and
 *     every non-canonical encoding; encoding of sums against
 *     crypto_core_ristretto255_add/_sub; the 4-torsion coset;
 *   - scalar multiplication (constant-time, variable-time, fixed-base for g
 *     and for a random K) against crypto_scalarmult_ristretto255[_base],
 *     with the edge scalars 0, 1, 2, q - 1, q - 2 and powers of two;
 *   - multi-scalar multiplication against a sum of libsodium
 *     multiplications for n = 0..64, 200 and 1000 (Straus and Pippenger,
 *     with full, 128-bit and zero scalars, repeated and opposite bases; the
 *     stack-only way taken when memory runs out; an unallocatable n);
 *   - an element whose owner zeroed it (the identity), and the integer
 *     group's fallbacks of the same API.
 * DT_R255_ITER sets the number of random field, decoding and addition cases
 * (default 100,000; scalar multiplications run a twentieth of it): e.g.
 * DT_R255_ITER=10000000 for a long run. Random tests print their seed;
 * DT_TEST_SEED=<64 hex digits> replays a run. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmp.h>
#include <sodium.h>

#include <detente/group.h>

#include "group/group_impl.h"
#include "group/r255_point.h"
#include "testrand.h"

static dt_group *G;
static long ITER = 100000;
static mpz_t P; /* 2^255 - 19 */

/* ---- helpers ---- */

static void fe_to_mpz(mpz_t r, const dt_fe *f)
{
    mpz_set_ui(r, 0);
    for (int i = 4; i >= 0; i--) {
        mpz_mul_2exp(r, r, 51);
        mpz_add_ui(r, r, f->v[i]);
    }
}

static void bytes_to_mpz(mpz_t r, const unsigned char s[32])
{
    mpz_import(r, 32, -1, 1, 0, 0, s);
}

static void mpz_to_bytes(unsigned char s[32], const mpz_t x)
{
    size_t n = 0;
    memset(s, 0, 32);
    assert_true(mpz_sizeinbase(x, 256) <= 32);
    mpz_export(s, &n, -1, 1, 0, 0, x);
}

/* f's value mod p equals want mod p */
static void assert_fe_is(const dt_fe *f, const mpz_t want)
{
    mpz_t a, b;
    mpz_inits(a, b, NULL);
    fe_to_mpz(a, f);
    mpz_mod(a, a, P);
    mpz_mod(b, want, P);
    assert_int_equal(mpz_cmp(a, b), 0);
    mpz_clears(a, b, NULL);
}

static void assert_reduced(const dt_fe *f)
{
    for (int i = 0; i < 5; i++)
        assert_true(f->v[i] < (UINT64_C(1) << 52));
}

/* random limbs below 2^bits */
static void rand_fe(dt_fe *f, int bits)
{
    testrand_bytes(f->v, sizeof f->v);
    for (int i = 0; i < 5; i++)
        f->v[i] = bits == 64 ? f->v[i] : f->v[i] & ((UINT64_C(1) << bits) - 1);
    /* one case in eight: a limb at its maximum */
    if (testrand_u64(8) == 0)
        f->v[testrand_u64(5)] = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static void rand_point(unsigned char out[32])
{
    unsigned char h[64];
    testrand_bytes(h, sizeof h);
    crypto_core_ristretto255_from_hash(out, h);
}

static void rand_scalar(dt_scalar *s)
{
    unsigned char b[64];
    testrand_bytes(b, sizeof b);
    dt_scalar_reduce(G, s, b, sizeof b);
}

static void le_of(unsigned char le[32], const dt_scalar *s)
{
    for (int i = 0; i < 32; i++)
        le[i] = s->be[31 - i];
}

static void decode_ok(dt_elem *e, const unsigned char s[32])
{
    assert_int_equal(dt_elem_decode(G, e, s, 32), DT_OK);
}

static void assert_enc(const dt_elem *e, const unsigned char want[32])
{
    unsigned char s[32];
    dt_elem_encode(G, s, e);
    assert_memory_equal(s, want, 32);
}

/* libsodium's e P, with its refusal (the identity) mapped to zeros */
static void r255_sodium_mult(unsigned char out[32], const dt_scalar *e, const unsigned char p[32])
{
    unsigned char le[32];
    le_of(le, e);
    if (sodium_is_zero(p, 32) || crypto_scalarmult_ristretto255(out, le, p) != 0)
        memset(out, 0, 32);
}

static void r255_sodium_add(unsigned char out[32], const unsigned char a[32], const unsigned char b[32])
{
    assert_int_equal(crypto_core_ristretto255_add(out, a, b), 0);
}

/* the scalar q - k */
static void q_minus(dt_scalar *s, uint64_t k)
{
    dt_scalar t;
    dt_scalar_from_u64(G, &t, k);
    dt_scalar_neg(G, s, &t);
}

/* ---- the field ---- */

static void test_constants(void **state)
{
    (void)state;
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    /* d = -121665 / 121666 */
    fe_to_mpz(x, &dt_fe_d);
    mpz_mul_ui(x, x, 121666);
    mpz_add_ui(x, x, 121665);
    mpz_mod(x, x, P);
    assert_int_equal(mpz_sgn(x), 0);
    fe_to_mpz(x, &dt_fe_d);
    mpz_mul_2exp(x, x, 1);
    assert_fe_is(&dt_fe_d2, x);
    /* sqrt(-1), non-negative */
    fe_to_mpz(x, &dt_fe_sqrtm1);
    mpz_mul(x, x, x);
    mpz_add_ui(x, x, 1);
    mpz_mod(x, x, P);
    assert_int_equal(mpz_sgn(x), 0);
    assert_int_equal(dt_fe_is_negative(&dt_fe_sqrtm1), 0);
    /* 1/sqrt(a - d) = 1/sqrt(-1 - d), non-negative */
    fe_to_mpz(x, &dt_fe_invsqrt_a_minus_d);
    fe_to_mpz(y, &dt_fe_d);
    mpz_add_ui(y, y, 1);
    mpz_neg(y, y);
    mpz_mul(x, x, x);
    mpz_mul(x, x, y);
    mpz_mod(x, x, P);
    assert_int_equal(mpz_cmp_ui(x, 1), 0);
    assert_int_equal(dt_fe_is_negative(&dt_fe_invsqrt_a_minus_d), 0);
    for (int i = 0; i < 5; i++) {
        assert_true(dt_fe_d.v[i] < (UINT64_C(1) << 51));
        assert_true(dt_fe_sqrtm1.v[i] < (UINT64_C(1) << 51));
    }
    mpz_clears(x, y, NULL);
}

/* The expectations of one case: a and b as integers. */
static void field_case(const dt_fe *a, const dt_fe *b)
{
    mpz_t x, y, z, w;
    dt_fe r;
    unsigned char s[32], t[32];
    mpz_inits(x, y, z, w, NULL);
    fe_to_mpz(x, a);
    fe_to_mpz(y, b);

    dt_fe_mul(&r, a, b);
    assert_reduced(&r);
    mpz_mul(z, x, y);
    assert_fe_is(&r, z);
    dt_fe_sq(&r, a);
    assert_reduced(&r);
    mpz_mul(z, x, x);
    assert_fe_is(&r, z);
    dt_fe_sub(&r, a, b);
    assert_reduced(&r);
    mpz_sub(z, x, y);
    assert_fe_is(&r, z);
    dt_fe_neg(&r, b);
    assert_reduced(&r);
    mpz_neg(z, y);
    assert_fe_is(&r, z);
    dt_fe_add(&r, a, b);
    mpz_add(z, x, y);
    assert_fe_is(&r, z);

    /* canonical bytes: the value mod p, little-endian */
    dt_fe_tobytes(s, a);
    mpz_mod(z, x, P);
    mpz_to_bytes(t, z);
    assert_memory_equal(s, t, 32);
    assert_int_equal(dt_fe_is_negative(a), mpz_odd_p(z) ? 1 : 0);
    assert_int_equal(dt_fe_is_zero(a), mpz_sgn(z) == 0);
    mpz_mod(w, y, P);
    assert_int_equal(dt_fe_eq(a, b), mpz_cmp(z, w) == 0);
    assert_true(dt_fe_eq(a, a));

    /* conditional moves and signs */
    r = *a;
    dt_fe_cmov(&r, b, 0);
    assert_memory_equal(&r, a, sizeof r);
    dt_fe_cmov(&r, b, 1);
    assert_memory_equal(&r, b, sizeof r);
    r = *a;
    dt_fe_cneg(&r, 0);
    assert_memory_equal(&r, a, sizeof r);
    dt_fe_cneg(&r, 1);
    mpz_neg(w, x);
    assert_fe_is(&r, w);
    dt_fe_abs(&r, a);
    assert_int_equal(dt_fe_is_negative(&r), 0);
    mpz_mod(w, x, P);
    if (mpz_odd_p(w))
        mpz_sub(w, P, w);
    assert_fe_is(&r, w);
    mpz_clears(x, y, z, w, NULL);
}

/* u/v with sqrt_ratio_m1's contract, against Legendre symbols */
static void sqrt_case(const dt_fe *u, const dt_fe *v)
{
    mpz_t x, y, w, r2, i;
    dt_fe r;
    unsigned sq = dt_fe_sqrt_ratio_m1(&r, u, v);
    mpz_inits(x, y, w, r2, i, NULL);
    fe_to_mpz(x, u);
    mpz_mod(x, x, P);
    fe_to_mpz(y, v);
    mpz_mod(y, y, P);
    fe_to_mpz(r2, &r);
    mpz_mul(r2, r2, r2);
    mpz_mod(r2, r2, P);
    fe_to_mpz(i, &dt_fe_sqrtm1);
    assert_int_equal(dt_fe_is_negative(&r), 0);
    if (mpz_sgn(x) == 0) {
        assert_int_equal(sq, 1);
        assert_true(dt_fe_is_zero(&r));
    } else if (mpz_sgn(y) == 0) {
        assert_int_equal(sq, 0);
        assert_true(dt_fe_is_zero(&r));
    } else {
        assert_int_not_equal(mpz_invert(w, y, P), 0);
        mpz_mul(w, w, x);
        mpz_mod(w, w, P); /* u/v */
        if (mpz_legendre(w, P) == 1) {
            assert_int_equal(sq, 1);
        } else {
            assert_int_equal(sq, 0);
            mpz_mul(w, w, i);
            mpz_mod(w, w, P); /* sqrt(-1) u/v */
        }
        assert_int_equal(mpz_cmp(r2, w), 0);
    }
    mpz_clears(x, y, w, r2, i, NULL);
}

static void test_field_random(void **state)
{
    (void)state;
    mpz_t x, y, e;
    mpz_inits(x, y, e, NULL);
    mpz_sub_ui(e, P, 5);
    mpz_fdiv_q_2exp(e, e, 3); /* (p - 5)/8 */
    for (long it = 0; it < ITER; it++) {
        static const int bounds[] = {51, 52, 54};
        dt_fe a, b, r;
        unsigned char s[32];
        rand_fe(&a, bounds[it % 3]);
        rand_fe(&b, bounds[(it / 3) % 3]);
        field_case(&a, &b);

        /* any 64-bit limbs: canonical bytes */
        rand_fe(&a, 64);
        dt_fe_tobytes(s, &a);
        fe_to_mpz(x, &a);
        mpz_mod(x, x, P);
        bytes_to_mpz(y, s);
        assert_int_equal(mpz_cmp(x, y), 0);

        /* bytes in: bits 0..254, not reduced */
        testrand_bytes(s, sizeof s);
        dt_fe_frombytes(&a, s);
        for (int i = 0; i < 5; i++)
            assert_true(a.v[i] < (UINT64_C(1) << 51));
        fe_to_mpz(x, &a);
        s[31] &= 0x7f;
        bytes_to_mpz(y, s);
        assert_int_equal(mpz_cmp(x, y), 0);

        if (it % 16 == 0) { /* the exponentiations: 250 squarings each */
            rand_fe(&a, 52);
            rand_fe(&b, 52);
            dt_fe_invert(&r, &a);
            fe_to_mpz(x, &a);
            mpz_mod(x, x, P);
            if (mpz_sgn(x) == 0)
                assert_true(dt_fe_is_zero(&r));
            else {
                assert_int_not_equal(mpz_invert(y, x, P), 0);
                assert_fe_is(&r, y);
            }
            dt_fe_pow22523(&r, &a);
            mpz_powm(y, x, e, P);
            assert_fe_is(&r, y);
            sqrt_case(&a, &b);
            dt_fe_sq(&r, &a);
            sqrt_case(&r, &b); /* u a square: u/v is one iff v is */
            sqrt_case(&r, &r);
        }
    }
    mpz_clears(x, y, e, NULL);
}

static void test_field_edges(void **state)
{
    (void)state;
    /* values at and around 0, p and 2^255, and limbs at their bounds */
    dt_fe v[12];
    unsigned char s[32];
    memset(v, 0, sizeof v);
    v[1].v[0] = 1;
    v[2].v[0] = DT_FE_MASK - 18; /* p */
    v[3].v[0] = DT_FE_MASK - 19; /* p - 1 */
    v[4].v[0] = DT_FE_MASK - 17; /* p + 1 */
    v[5].v[0] = DT_FE_MASK;      /* 2^255 - 1 */
    for (int k = 2; k <= 5; k++)
        for (int i = 1; i < 5; i++)
            v[k].v[i] = DT_FE_MASK;
    for (int i = 0; i < 5; i++) {
        v[6].v[i] = (UINT64_C(1) << 52) - 1;
        v[7].v[i] = (UINT64_C(1) << 54) - 1;
        v[8].v[i] = UINT64_C(1) << 51; /* 2^51 in every limb */
    }
    v[9] = dt_fe_sqrtm1;
    v[10] = dt_fe_d;
    v[11].v[4] = UINT64_C(1) << 50; /* 2^254 */
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 12; j++) {
            field_case(&v[i], &v[j]);
            if (i < 6 && j < 6)
                sqrt_case(&v[i], &v[j]);
        }
    /* every combination of limbs near the carry boundaries: the canonical
     * reduction's carry chain at each limb */
    static const uint64_t lv[] = {0, 1, 18, DT_FE_MASK - 19, DT_FE_MASK - 18, DT_FE_MASK - 17,
                                  DT_FE_MASK - 1, DT_FE_MASK, DT_FE_MASK + 1, (UINT64_C(1) << 52) - 1};
    const size_t nl = sizeof lv / sizeof lv[0];
    for (size_t c = 0; c < nl * nl * nl * nl * nl; c++) {
        dt_fe a, b;
        size_t k = c;
        for (int i = 0; i < 5; i++) {
            a.v[i] = lv[k % nl];
            b.v[i] = lv[(k + i) % nl];
            k /= nl;
        }
        if (c % 7 == 0)
            field_case(&a, &b);
        else {
            mpz_t x, y;
            mpz_inits(x, y, NULL);
            dt_fe_tobytes(s, &a);
            fe_to_mpz(x, &a);
            mpz_mod(x, x, P);
            bytes_to_mpz(y, s);
            assert_int_equal(mpz_cmp(x, y), 0);
            mpz_clears(x, y, NULL);
        }
    }
    /* p .. 2^255 - 1 read from bytes are p's multiples plus 0..18 */
    for (int k = 0; k < 19; k++) {
        dt_fe a;
        unsigned char want[32] = {0};
        memset(s, 0xff, 32);
        s[31] = 0x7f;
        s[0] = (unsigned char)(0xed + k);
        dt_fe_frombytes(&a, s);
        want[0] = (unsigned char)k;
        dt_fe_tobytes(s, &a);
        assert_memory_equal(s, want, 32);
    }
    /* batch inversion */
    dt_fe in[40], out[40], scratch[40], one;
    for (size_t n = 0; n <= 40; n += 5) {
        for (size_t i = 0; i < n; i++) {
            rand_fe(&in[i], 52);
            if (dt_fe_is_zero(&in[i]))
                in[i] = v[1];
        }
        dt_fe_batch_invert(out, in, scratch, n);
        for (size_t i = 0; i < n; i++) {
            dt_fe_mul(&one, &out[i], &in[i]);
            dt_fe_tobytes(s, &one);
            assert_int_equal(s[0], 1);
            assert_true(sodium_is_zero(s + 1, 31));
        }
        memcpy(out, in, n * sizeof *in);
        dt_fe_batch_invert(out, out, scratch, n); /* in place */
        for (size_t i = 0; i < n; i++) {
            dt_fe_mul(&one, &out[i], &in[i]);
            assert_true(dt_fe_eq(&one, &v[1]));
        }
    }
}

/* ---- encoding ---- */

/* RFC 9496 A.2 */
static const char *const rfc_invalid[] = {
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
    "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
    "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
    "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
    "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
    "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
    "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
    "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
    "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
    "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
    "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
    "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
    "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
    "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
    "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
    "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
    "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
    "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
    "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
    "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

/* Our decoder accepts s exactly when libsodium does and bit 255 is clear;
 * an accepted s encodes back to itself. */
static int decode_matches(const unsigned char s[32])
{
    dt_elem e;
    int ours = dt_elem_decode(G, &e, s, 32) == DT_OK;
    int theirs = !(s[31] & 0x80) && (sodium_is_zero(s, 32) || crypto_core_ristretto255_is_valid_point(s));
    assert_int_equal(ours, theirs);
    if (ours)
        assert_enc(&e, s);
    else
        assert_true(dt_elem_is_identity(G, &e));
    return ours;
}

static void test_decode(void **state)
{
    (void)state;
    unsigned char s[32];
    long valid = 0;
    for (long it = 0; it < ITER; it++) {
        testrand_bytes(s, sizeof s);
        valid += decode_matches(s);
        s[31] &= 0x7f;
        valid += decode_matches(s);
        s[0] &= 0xfe; /* even: about one in four of these is valid */
        valid += decode_matches(s);
        if (it % 8 == 0) {
            rand_point(s);
            assert_int_equal(decode_matches(s), 1);
            s[31] |= 0x80;
            assert_int_equal(decode_matches(s), 0);
        }
    }
    printf("decode: %ld random strings, %ld valid\n", 3 * ITER, valid);
    assert_true(valid > ITER / 4);

    for (size_t i = 0; i < sizeof rfc_invalid / sizeof rfc_invalid[0]; i++) {
        size_t n = 0;
        assert_int_equal(sodium_hex2bin(s, 32, rfc_invalid[i], 64, NULL, &n, NULL), 0);
        assert_int_equal(decode_matches(s), 0);
    }
    /* every non-canonical encoding: p + k for k = 0..18, with and without
     * bit 255, and the canonical k (valid for k = 0 only among the small
     * values that are even) */
    for (int k = 0; k < 19; k++) {
        memset(s, 0xff, 32);
        s[31] = 0x7f;
        s[0] = (unsigned char)(0xed + k);
        assert_int_equal(decode_matches(s), 0);
        s[31] = 0xff;
        assert_int_equal(decode_matches(s), 0);
        memset(s, 0, 32);
        s[0] = (unsigned char)k;
        decode_matches(s);
        s[31] = 0x80;
        assert_int_equal(decode_matches(s), 0);
    }
    memset(s, 0, 32);
    assert_int_equal(decode_matches(s), 1); /* the identity */
}

/* dt_fe_pow22523_x8 on AVX-512 IFMA against the portable dt_fe_pow22523,
 * lane by lane: random limbs up to the 2^52 bound the vector code relies on,
 * and the edge values of test_field_edges in every lane */
static void test_ifma_pow(void **state)
{
    (void)state;
    if (!dt_r255_ifma()) {
        printf("no AVX-512 IFMA here (or DT_NO_IFMA set): the vector path is not run\n");
        skip();
    }
    dt_fe in[8], got[8], want;
    long n = 0;
    for (long it = 0; it < ITER / 8 + 1; it++) {
        static const int bounds[] = {51, 52};
        for (int j = 0; j < 8; j++)
            rand_fe(&in[j], bounds[(it + j) % 2]);
        dt_fe_pow22523_x8(got, in);
        for (int j = 0; j < 8; j++, n++) {
            dt_fe_pow22523(&want, &in[j]);
            assert_reduced(&got[j]);
            assert_true(dt_fe_eq(&got[j], &want));
        }
    }
    {
        static const uint64_t m = DT_FE_MASK, top = (UINT64_C(1) << 52) - 1;
        const dt_fe edges[8] = {
            {{0, 0, 0, 0, 0}},         {{1, 0, 0, 0, 0}},     {{m - 18, m, m, m, m}}, /* p */
            {{m - 19, m, m, m, m}},    {{m, m, m, m, m}},     {{top, top, top, top, top}},
            {{top, 0, top, 0, top}},   {{0, top, 0, top, 0}},
        };
        for (int r = 0; r < 8; r++) { /* every edge in every lane */
            for (int j = 0; j < 8; j++)
                in[j] = edges[(j + r) % 8];
            dt_fe_pow22523_x8(got, in);
            for (int j = 0; j < 8; j++, n++) {
                dt_fe_pow22523(&want, &in[j]);
                assert_reduced(&got[j]);
                assert_true(dt_fe_eq(&got[j], &want));
            }
        }
    }
    printf("ifma: %ld exponentiations match\n", n);
}

/* dt_r255_decode_many and dt_elem_decode_batch_var against one decode at a
 * time, on batches of every length up to 70 mixing valid points, random
 * strings and non-canonical encodings (on the IFMA path where the processor
 * has it, and the portable one under DT_NO_IFMA: CTest runs both) */
static void test_decode_many(void **state)
{
    (void)state;
    enum { MAXN = 70 };
    unsigned char buf[MAXN][32];
    const unsigned char *in[MAXN];
    dt_ge_affine got[MAXN], want;
    int ret[MAXN];
    dt_elem e[MAXN], one;
    long valid = 0, total = 0;
    printf("decode_many: IFMA %s\n", dt_r255_ifma() ? "on" : "off");
    for (long it = 0; it < ITER / 64 + MAXN; it++) {
        size_t n = (size_t)(it % MAXN) + 1;
        int all_ok = 1;
        for (size_t i = 0; i < n; i++) {
            switch (testrand_u64(4)) {
            case 0:
                testrand_bytes(buf[i], 32);
                break;
            case 1: /* non-canonical: p + k */
                memset(buf[i], 0xff, 32);
                buf[i][31] = 0x7f;
                buf[i][0] = (unsigned char)(0xed + testrand_u64(19));
                break;
            default:
                rand_point(buf[i]);
            }
            in[i] = buf[i];
        }
        dt_r255_decode_many(got, ret, in, n);
        for (size_t i = 0; i < n; i++, total++) {
            int r = dt_r255_decode(&want, in[i]);
            assert_int_equal(ret[i], r);
            if (r == 0) {
                unsigned char a[32], b[32];
                valid++;
                dt_fe_tobytes(a, &got[i].x), dt_fe_tobytes(b, &want.x);
                assert_memory_equal(a, b, 32);
                dt_fe_tobytes(a, &got[i].y), dt_fe_tobytes(b, &want.y);
                assert_memory_equal(a, b, 32);
                dt_fe_tobytes(a, &got[i].t), dt_fe_tobytes(b, &want.t);
                assert_memory_equal(a, b, 32);
            }
            all_ok &= r == 0;
        }
        assert_int_equal(dt_elem_decode_batch_var(G, e, in, 32, n) == DT_OK, all_ok);
        for (size_t i = 0; i < n; i++) {
            if (dt_elem_decode(G, &one, in[i], 32) == DT_OK) {
                assert_true(dt_elem_eq(G, &e[i], &one));
                assert_enc(&e[i], in[i]);
            } else
                assert_true(dt_elem_is_identity(G, &e[i]));
        }
    }
    printf("decode_many: %ld encodings, %ld valid\n", total, valid);
    assert_true(valid > total / 4);
}

static void test_add(void **state)
{
    (void)state;
    unsigned char a[32], b[32], want[32];
    dt_elem x, y, z;
    rand_point(a);
    decode_ok(&x, a);
    for (long it = 0; it < ITER; it++) {
        if (it % 64 == 0)
            memset(b, 0, 32); /* the identity */
        else if (it % 64 == 1)
            memcpy(b, a, 32); /* doubling */
        else
            rand_point(b);
        decode_ok(&y, b);
        r255_sodium_add(want, a, b);
        dt_elem_mul(G, &z, &x, &y);
        assert_enc(&z, want);
        dt_elem_mul(G, &z, &y, &x);
        assert_enc(&z, want);
        if (it % 4 == 0) {
            assert_int_equal(crypto_core_ristretto255_sub(want, a, b), 0);
            dt_elem_div(G, &z, &x, &y);
            assert_enc(&z, want);
        }
        /* the sum is the next operand: results feed results */
        dt_elem_mul(G, &x, &x, &y);
        r255_sodium_add(a, a, b);
        assert_enc(&x, a);
    }
    dt_elem_div(G, &z, &x, &x);
    assert_true(dt_elem_is_identity(G, &z));
}

/* The 4-torsion: T1 = (0, -1), T2 = (sqrt(-1), 0), T3 = -T2. P + T has
 * P's encoding, and encode's Z = 1 representative stands for P. */
static void test_torsion(void **state)
{
    (void)state;
    dt_ge_p3 t[4], p, q, id;
    dt_ge_affine a, b;
    dt_ge_cached c;
    dt_ge_p1p1 s;
    unsigned char e1[32], e2[32], zero[32] = {0};
    dt_ge_p3_0(&t[0]);
    dt_ge_p3_0(&t[1]);
    dt_fe_neg(&t[1].Y, &t[1].Y);
    dt_ge_p3_0(&t[2]);
    t[2].X = dt_fe_sqrtm1;
    dt_fe_0(&t[2].Y);
    dt_ge_p3_0(&t[3]);
    dt_fe_neg(&t[3].X, &dt_fe_sqrtm1);
    dt_fe_0(&t[3].Y);
    dt_ge_p3_0(&id);
    for (int k = 0; k < 4; k++) {
        /* the coset of the identity: encoding 0, representative (0, 1) */
        dt_r255_encode(e1, &a, &t[k]);
        assert_memory_equal(e1, zero, 32);
        assert_true(dt_fe_is_zero(&a.x) && dt_fe_eq(&a.y, &id.Y) && dt_fe_is_zero(&a.t));
        assert_true(dt_r255_eq(&t[k], &id));
    }
    for (int it = 0; it < 1000; it++) {
        rand_point(e1);
        assert_int_equal(dt_r255_decode(&a, e1), 0);
        dt_ge_from_affine(&p, &a);
        /* a projective representative with a random Z */
        dt_fe z;
        rand_fe(&z, 51);
        z.v[0] |= 1;
        dt_fe_mul(&p.X, &p.X, &z);
        dt_fe_mul(&p.Y, &p.Y, &z);
        dt_fe_mul(&p.T, &p.T, &z);
        p.Z = z;
        for (int k = 0; k < 4; k++) {
            dt_ge_p3_to_cached(&c, &t[k]);
            dt_ge_add_cached(&s, &p, &c, 0);
            dt_ge_p1p1_to_p3(&q, &s);
            dt_r255_encode(e2, &b, &q);
            assert_memory_equal(e1, e2, 32);
            assert_true(dt_r255_eq(&p, &q));
            dt_ge_from_affine(&q, &b); /* the representative: same element */
            dt_r255_encode(e2, NULL, &q);
            assert_memory_equal(e1, e2, 32);
        }
        assert_false(dt_r255_eq(&p, &id));
    }
}

/* ---- scalar multiplication ---- */

static void scalar_case(const dt_scalar *e, const unsigned char kb[32], const dt_elem *K,
                        const dt_fixed_base *fk, const dt_fixed_base *fg)
{
    unsigned char want[32], base[32], le[32];
    dt_elem r;
    le_of(le, e);
    r255_sodium_mult(want, e, kb);
    dt_elem_pow(G, &r, K, e);
    assert_enc(&r, want);
    dt_elem_pow_var(G, &r, K, e);
    assert_enc(&r, want);
    dt_fixed_base_pow(fk, &r, e);
    assert_enc(&r, want);
    if (crypto_scalarmult_ristretto255_base(base, le) != 0)
        memset(base, 0, 32);
    dt_elem_pow_g(G, &r, e);
    assert_enc(&r, base);
    dt_fixed_base_pow(fg, &r, e);
    assert_enc(&r, base);
}

static void edge_scalars(dt_scalar *s, size_t *n)
{
    size_t k = 0;
    dt_scalar_from_u64(G, &s[k++], 0);
    dt_scalar_from_u64(G, &s[k++], 1);
    dt_scalar_from_u64(G, &s[k++], 2);
    dt_scalar_from_u64(G, &s[k++], 8);
    dt_scalar_from_u64(G, &s[k++], 15);
    dt_scalar_from_u64(G, &s[k++], 16);
    q_minus(&s[k++], 1);
    q_minus(&s[k++], 2);
    q_minus(&s[k++], 8);
    for (int b = 3; b < 253; b += 25) { /* 2^b and 2^b - 1 */
        memset(&s[k], 0, sizeof s[k]);
        s[k].be[31 - b / 8] = (unsigned char)(1 << (b % 8));
        dt_scalar_sub(G, &s[k + 1], &s[k], &s[1]);
        k += 2;
    }
    memset(&s[k], 0x88, sizeof s[k]); /* every signed digit 8 or -8 before reduction */
    s[k].be[0] = 0x08;
    k++;
    *n = k;
}

static void test_scalarmult(void **state)
{
    (void)state;
    unsigned char kb[32];
    dt_elem K, g;
    dt_scalar s[64];
    size_t ns;
    long m = ITER / 20;
    dt_fixed_base *fk = NULL, *fg;

    dt_elem_generator(G, &g);
    fg = dt_fixed_base_create(G, &g);
    assert_non_null(fg);
    edge_scalars(s, &ns);
    /* bases: the identity, g, random points */
    for (long it = 0; it < m || it < 8; it++) {
        if (it % 100 == 0) {
            if (it == 0)
                memset(kb, 0, 32);
            else if (it == 100)
                dt_elem_encode(G, kb, &g);
            else
                rand_point(kb);
            decode_ok(&K, kb);
            dt_fixed_base_destroy(fk);
            fk = dt_fixed_base_create(G, &K);
            assert_non_null(fk);
            for (size_t i = 0; i < ns; i++)
                scalar_case(&s[i], kb, &K, fk, fg);
        }
        dt_scalar e;
        rand_scalar(&e);
        scalar_case(&e, kb, &K, fk, fg);
        if (it < 8) { /* a short scalar, as batching weights are */
            memset(e.be, 0, 16);
            scalar_case(&e, kb, &K, fk, fg);
        }
    }
    /* outputs may alias inputs */
    dt_scalar e;
    dt_elem r;
    rand_scalar(&e);
    dt_elem_pow(G, &r, &K, &e);
    dt_elem_pow(G, &K, &K, &e);
    assert_true(dt_elem_eq(G, &r, &K));
    dt_fixed_base_destroy(fk);
    dt_fixed_base_destroy(fg);
    dt_fixed_base_destroy(NULL);
}

/* ---- multi-scalar multiplication ---- */

static void msm_case(size_t n, int kind)
{
    unsigned char (*enc)[32] = malloc((n + 1) * 32);
    dt_elem *b = malloc((n + 1) * sizeof *b);
    dt_scalar *e = malloc((n + 1) * sizeof *e);
    unsigned char want[32] = {0}, t[32];
    dt_elem r;
    assert_true(enc && b && e);
    for (size_t i = 0; i < n; i++) {
        rand_scalar(&e[i]);
        if (kind == 1 || (kind == 3 && i % 2)) /* 128-bit weights */
            memset(e[i].be, 0, 16);
        if (kind == 2 && i % 3 == 0) /* zero scalars */
            memset(&e[i], 0, sizeof e[i]);
        if (i % 17 == 5)
            memset(enc[i], 0, 32); /* the identity */
        else if (i % 11 == 3)
            memcpy(enc[i], enc[i - 1], 32); /* a repeated base */
        else if (i % 13 == 7 && sodium_is_zero(enc[i - 1], 32))
            memset(enc[i], 0, 32);
        else if (i % 13 == 7) /* the opposite base */
            assert_int_equal(crypto_core_ristretto255_sub(enc[i], (const unsigned char[32]){0}, enc[i - 1]), 0);
        else
            rand_point(enc[i]);
        decode_ok(&b[i], enc[i]);
        r255_sodium_mult(t, &e[i], enc[i]);
        if (sodium_is_zero(want, 32))
            memcpy(want, t, 32);
        else if (!sodium_is_zero(t, 32))
            r255_sodium_add(want, want, t);
    }
    assert_int_equal(dt_msm_var(G, &r, b, e, n), DT_OK);
    assert_enc(&r, want);
    dt_elem_multi_pow_var(G, &r, b, e, n);
    assert_enc(&r, want);
    if (kind == 0) { /* the out-of-memory way: Straus in pieces on the stack */
        dt_r255_multi_pow_stack_var(&r, b, e, n);
        assert_enc(&r, want);
    }
    if (n > 0) { /* r may alias a base */
        b[n] = b[0];
        assert_int_equal(dt_msm_var(G, &b[0], b, e, n), DT_OK);
        assert_enc(&b[0], want);
        b[0] = b[n];
    }
    free(enc);
    free(b);
    free(e);
}

static void test_msm(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 64; n++)
        for (int kind = 0; kind < 4; kind++)
            msm_case(n, kind);
    for (int kind = 0; kind < 4; kind++) {
        msm_case(200, kind);
        msm_case(1000, kind);
    }
    msm_case(5000, 3); /* windows of 10 bits or more, half of the weights short */
    if (ITER > 100000) /* long runs: larger windows */
        for (int kind = 0; kind < 4; kind++)
            msm_case(20000, kind);
    /* every scalar zero, with Pippenger's sizes too */
    dt_elem b[100], r;
    dt_scalar e[100];
    dt_elem_generator(G, &b[0]);
    for (int i = 0; i < 100; i++) {
        b[i] = b[0];
        memset(&e[i], 0, sizeof e[i]);
    }
    assert_int_equal(dt_msm_var(G, &r, b, e, 100), DT_OK);
    assert_true(dt_elem_is_identity(G, &r));
    assert_int_equal(dt_msm_var(G, &r, NULL, NULL, 0), DT_OK);
    assert_true(dt_elem_is_identity(G, &r));
    /* scratch space whose size does not fit: refused before any use of the
     * arrays, the output the identity */
    dt_elem_generator(G, &r);
    assert_int_equal(dt_msm_var(G, &r, b, e, SIZE_MAX), DT_ERR_NOMEM);
    assert_true(dt_elem_is_identity(G, &r));
}

/* ---- storage ---- */

static void test_storage(void **state)
{
    (void)state;
    dt_elem z, x, y, r;
    dt_scalar e;
    unsigned char s[32];
    /* an element its owner zeroed is the identity */
    memset(&z, 0, sizeof z);
    rand_point(s);
    decode_ok(&x, s);
    dt_elem_mul(G, &r, &x, &z);
    assert_enc(&r, s);
    dt_elem_mul(G, &r, &z, &x);
    assert_enc(&r, s);
    rand_scalar(&e);
    dt_elem_pow(G, &r, &z, &e);
    assert_true(dt_elem_is_identity(G, &r));
    /* an element holding only its encoding is decoded on use */
    memset(&y, 0, sizeof y);
    memcpy(y.opaque, s, 32);
    dt_elem_pow_var(G, &r, &y, &e);
    dt_elem_pow(G, &x, &x, &e);
    assert_true(dt_elem_eq(G, &r, &x));
    dt_elem_multi_pow_var(G, &r, &y, &e, 1);
    assert_true(dt_elem_eq(G, &r, &x));
}

/* ---- the integer group: the same API, by its fallbacks ---- */

static void test_integer_fallbacks(void **state)
{
    (void)state;
    dt_group *t = dt_group_create_integer("e72f", "7f", "7f68"); /* the toy group */
    dt_group *gi = dt_group_create(DT_GROUP_INTEGER4096);
    dt_group *gs[2] = {t, gi};
    assert_true(t && gi);
    for (int k = 0; k < 2; k++) {
        const dt_group *g = gs[k];
        dt_elem K, r, want, b[3];
        dt_scalar x, e[3];
        assert_int_equal(dt_scalar_random(g, &x), DT_OK);
        dt_elem_pow_g(g, &K, &x);
        dt_fixed_base *fb = dt_fixed_base_create(g, &K);
        assert_non_null(fb);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(dt_scalar_random(g, &e[i]), DT_OK);
            dt_elem_pow(g, &want, &K, &e[i]);
            dt_fixed_base_pow(fb, &r, &e[i]);
            assert_true(dt_elem_eq(g, &r, &want));
            b[i] = want;
        }
        dt_fixed_base_destroy(fb);
        dt_elem_multi_pow_var(g, &want, b, e, 3);
        assert_int_equal(dt_msm_var(g, &r, b, e, 3), DT_OK);
        assert_true(dt_elem_eq(g, &r, &want));
        assert_int_equal(dt_msm_var(g, &r, b, e, 0), DT_OK);
        assert_true(dt_elem_is_identity(g, &r));
    }
    dt_group_destroy(t);
    dt_group_destroy(gi);
}

/* ---- misuse aborts ---- */

static void expect_abort(void (*fn)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stderr);
        (void)devnull;
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void misuse_fb_null_base(void)
{
    (void)dt_fixed_base_create(G, NULL);
}

static void misuse_fb_null_table(void)
{
    dt_elem r;
    dt_scalar e = {{0}};
    dt_fixed_base_pow(NULL, &r, &e);
}

static void misuse_msm_null(void)
{
    dt_elem r;
    if (dt_msm_var(G, &r, NULL, NULL, 3) == DT_OK)
        _exit(0);
}

static void misuse_fb_corrupt(void)
{
    dt_elem a;
    memset(&a, 0xff, sizeof a); /* never decoded, not an encoding */
    (void)dt_fixed_base_create(G, &a);
}

static void test_misuse(void **state)
{
    (void)state;
    expect_abort(misuse_fb_null_base);
    expect_abort(misuse_fb_null_table);
    expect_abort(misuse_msm_null);
    expect_abort(misuse_fb_corrupt);
}

static int setup(void **state)
{
    (void)state;
    const char *it = getenv("DT_R255_ITER");
    if (it) {
        char *end;
        ITER = strtol(it, &end, 10);
        if (*end || ITER < 1) {
            fprintf(stderr, "DT_R255_ITER must be a positive integer\n");
            return -1;
        }
    }
    printf("DT_R255_ITER=%ld\n", ITER);
    mpz_init(P);
    mpz_ui_pow_ui(P, 2, 255);
    mpz_sub_ui(P, P, 19);
    G = dt_group_create(DT_GROUP_RISTRETTO255);
    return G ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dt_group_destroy(G);
    mpz_clear(P);
    return 0;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    testrand_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_field_random),
        cmocka_unit_test(test_field_edges),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_ifma_pow),
        cmocka_unit_test(test_decode_many),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_torsion),
        cmocka_unit_test(test_scalarmult),
        cmocka_unit_test(test_msm),
        cmocka_unit_test(test_storage),
        cmocka_unit_test(test_integer_fallbacks),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
