/* The group interface, for the ElectionGuard integer group, ristretto255 and a
 * toy integer group (q = 127, p = 59183, g = 32616, the specification's toy
 * parameters):
 *   - known answers: the standard constants, RFC 9496 A.1 and A.2, and the
 *     sample record (K = prod K_i, g^a = K_1 for guardian 1's secret a);
 *   - every invalid encoding refused with its error code;
 *   - randomized algebraic identities, and scalar arithmetic cross-checked
 *     against GMP's mpz as a second implementation;
 *   - the toy group exhaustively (every x < p decoded: exactly q members);
 *   - bounded discrete logarithms;
 *   - misuse aborts (in a child process).
 * Random tests print their seed; DT_TEST_SEED=<64 hex digits> replays a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>
#include <jansson.h>
#include <sodium.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <detente/group.h>

#include "testrand.h"

#define TOY_P "e72f" /* 59183 */
#define TOY_Q "7f"   /* 127 */
#define TOY_G "7f68" /* 32616 */

static dt_group *G_int, *G_r255, *G_toy;

/* ---- helpers ---- */

static void unhex(unsigned char *out, size_t outlen, const char *hex)
{
    size_t n = 0;
    assert_int_equal(strlen(hex), 2 * outlen);
    assert_int_equal(sodium_hex2bin(out, outlen, hex, strlen(hex), NULL, &n, NULL), 0);
    assert_int_equal(n, outlen);
}

static void rand_scalar(const dt_group *g, dt_scalar *s)
{
    assert_int_equal(dt_scalar_random(g, s), DT_OK);
}

static void rand_elem(const dt_group *g, dt_elem *e)
{
    dt_scalar s;
    rand_scalar(g, &s);
    dt_elem_pow_g(g, e, &s);
}

static void assert_elem_eq(const dt_group *g, const dt_elem *a, const dt_elem *b)
{
    unsigned char ea[DT_ELEM_MAX_BYTES], eb[DT_ELEM_MAX_BYTES];
    dt_elem_encode(g, ea, a);
    dt_elem_encode(g, eb, b);
    assert_memory_equal(ea, eb, dt_group_elem_bytes(g));
    assert_true(dt_elem_eq(g, a, b));
}

static void mpz_from_scalar(mpz_t r, const dt_scalar *s)
{
    mpz_import(r, DT_SCALAR_BYTES, 1, 1, 1, 0, s->be);
}

static void mpz_order(mpz_t q, const dt_group *g)
{
    unsigned char qb[DT_SCALAR_BYTES];
    dt_group_order(g, qb);
    mpz_import(q, DT_SCALAR_BYTES, 1, 1, 1, 0, qb);
}

static void assert_scalar_is_mpz(const dt_scalar *s, const mpz_t want)
{
    mpz_t x;
    mpz_init(x);
    mpz_from_scalar(x, s);
    assert_int_equal(mpz_cmp(x, want), 0);
    mpz_clear(x);
}

/* base64 of a JSON string member into exactly len bytes */
static void b64_member(unsigned char *out, size_t len, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    size_t n = 0;
    assert_non_null(v);
    assert_true(json_is_string(v));
    const char *s = json_string_value(v);
    assert_int_equal(sodium_base642bin(out, len, s, strlen(s), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(n, len);
}

static json_t *load_json(const char *rel)
{
    char path[1024];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/%s", DT_TEST_DATA, rel);
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
    assert_non_null(j);
    return j;
}

/* ---- parameters and known answers ---- */

static void test_params(void **state)
{
    (void)state;
    unsigned char q[DT_SCALAR_BYTES], want[DT_SCALAR_BYTES];
    unsigned char p[512], gen[512];

    assert_int_equal(dt_group_kind(G_int), DT_GROUP_INTEGER4096);
    assert_int_equal(dt_group_kind(G_r255), DT_GROUP_RISTRETTO255);
    assert_int_equal(dt_group_kind(G_toy), DT_GROUP_INTEGER4096);
    assert_string_equal(dt_group_name(G_int), "integer4096");
    assert_string_equal(dt_group_name(G_r255), "ristretto255");
    assert_string_equal(dt_group_name(G_toy), "integer");
    assert_int_equal(dt_group_elem_bytes(G_int), 512);
    assert_int_equal(dt_group_elem_bytes(G_r255), 32);
    assert_int_equal(dt_group_elem_bytes(G_toy), 2);
    assert_int_equal(dt_group_scalar_bytes(G_int), 32);
    assert_int_equal(dt_group_scalar_bytes(G_r255), 32);
    assert_int_equal(dt_group_scalar_bytes(G_toy), 1);

    dt_group_order(G_int, q);
    unhex(want, 32, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff43");
    assert_memory_equal(q, want, 32);
    dt_group_order(G_r255, q);
    unhex(want, 32, "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
    assert_memory_equal(q, want, 32);
    dt_group_order(G_toy, q);
    memset(want, 0, 32);
    want[31] = 127;
    assert_memory_equal(q, want, 32);

    assert_int_equal(dt_group_integer_params(G_r255, p, gen, 32), 0);
    assert_int_equal(dt_group_integer_params(G_toy, p, gen, 2), 1);
    assert_int_equal(p[0] * 256 + p[1], 59183);
    assert_int_equal(gen[0] * 256 + gen[1], 32616);
}

static void test_int_constants(void **state)
{
    (void)state;
    json_t *c = load_json("allAvailable/constants.json");
    json_t *k = json_object_get(c, "constants");
    const char *p_hex = json_string_value(json_object_get(k, "largePrime"));
    const char *q_hex = json_string_value(json_object_get(k, "smallPrime"));
    const char *g_hex = json_string_value(json_object_get(k, "generator"));
    unsigned char p[512], gen[512], want[512], enc[512];
    dt_elem g1, g2, x;
    dt_scalar s, one;

    assert_non_null(p_hex);
    assert_non_null(q_hex);
    assert_non_null(g_hex);
    assert_int_equal(dt_group_integer_params(G_int, p, gen, sizeof p), 1);
    unhex(want, 512, p_hex);
    assert_memory_equal(p, want, 512);
    unhex(want, 512, g_hex);
    assert_memory_equal(gen, want, 512);
    dt_elem_generator(G_int, &g1);
    dt_elem_encode(G_int, enc, &g1);
    assert_memory_equal(enc, want, 512);
    assert_int_equal(dt_elem_decode(G_int, &x, want, 512), DT_OK);
    assert_elem_eq(G_int, &x, &g1);

    /* the same parameters through the checking constructor */
    dt_group *h = dt_group_create_integer(p_hex, q_hex, g_hex);
    assert_non_null(h);
    assert_string_equal(dt_group_name(h), "integer4096");
    assert_int_equal(dt_group_elem_bytes(h), 512);
    dt_elem_generator(h, &g2);
    dt_elem_encode(h, enc, &g2);
    assert_memory_equal(enc, want, 512);
    dt_group_destroy(h);

    /* g^q = 1: g^(q-1) * g = 1, and g^(q-1) = 1/g */
    dt_scalar_from_u64(G_int, &one, 1);
    dt_scalar_neg(G_int, &s, &one); /* q - 1 */
    dt_elem_pow_g(G_int, &x, &s);
    dt_elem_div(G_int, &g2, &g2, &g2);
    assert_true(dt_elem_is_identity(G_int, &g2));
    dt_elem_identity(G_int, &g2);
    dt_elem_div(G_int, &g2, &g2, &g1);
    assert_elem_eq(G_int, &x, &g2);
    dt_elem_mul(G_int, &x, &x, &g1);
    assert_true(dt_elem_is_identity(G_int, &x));
    /* g^(q+1) = g: q + 1 reduces to 1 */
    unsigned char qb[33];
    qb[0] = 0;
    dt_group_order(G_int, qb + 1);
    qb[32] += 1;
    dt_scalar_reduce(G_int, &s, qb, sizeof qb);
    assert_true(dt_scalar_eq(&s, &one));
    dt_elem_pow_g(G_int, &x, &s);
    assert_elem_eq(G_int, &x, &g1);
    json_decref(c);
}

/* K = prod K_i, and g^a_1 = K_1 from guardian 1's private data */
static void test_int_sample_record(void **state)
{
    (void)state;
    json_t *init = load_json("allAvailable/election_initialized.json");
    json_t *tr = load_json("allAvailable/private_data/trustees/decryptingTrustee-guardian1.json");
    unsigned char buf[512], sbuf[32];
    dt_elem K, prod, Ki, K1, x;
    dt_scalar a;
    size_t i;
    json_t *gd;

    b64_member(buf, 512, init, "joint_public_key");
    assert_int_equal(dt_elem_decode(G_int, &K, buf, 512), DT_OK);
    dt_elem_identity(G_int, &prod);
    dt_elem_identity(G_int, &K1);
    json_t *guardians = json_object_get(init, "guardians");
    assert_true(json_is_array(guardians));
    assert_int_equal(json_array_size(guardians), 3);
    json_array_foreach(guardians, i, gd)
    {
        json_t *cp = json_array_get(json_object_get(gd, "coefficient_proofs"), 0);
        assert_non_null(cp);
        b64_member(buf, 512, cp, "public_key");
        assert_int_equal(dt_elem_decode(G_int, &Ki, buf, 512), DT_OK);
        dt_elem_mul(G_int, &prod, &prod, &Ki);
        if (strcmp(json_string_value(json_object_get(gd, "guardian_id")), "guardian1") == 0)
            K1 = Ki;
    }
    assert_elem_eq(G_int, &prod, &K);

    json_t *coeffs = json_object_get(tr, "polynomial_coefficients");
    assert_true(json_is_array(coeffs));
    const char *s0 = json_string_value(json_array_get(coeffs, 0));
    size_t n = 0;
    assert_non_null(s0);
    assert_int_equal(sodium_base642bin(sbuf, 32, s0, strlen(s0), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(n, 32);
    assert_int_equal(dt_scalar_decode(G_int, &a, sbuf, 32), DT_OK);
    dt_elem_pow_g(G_int, &x, &a);
    assert_elem_eq(G_int, &x, &K1);
    dt_elem_generator(G_int, &Ki);
    dt_elem_pow_var(G_int, &x, &Ki, &a);
    assert_elem_eq(G_int, &x, &K1);
    dt_memzero(&a, sizeof a);
    dt_memzero(sbuf, sizeof sbuf);
    json_decref(init);
    json_decref(tr);
}

/* RFC 9496 A.1: encodings of k * B for k = 0..15 */
static const char *const r255_multiples[16] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
    "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
    "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
    "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
    "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
    "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
    "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
    "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
    "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
    "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
    "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
};

/* RFC 9496 A.2: invalid encodings */
static const char *const r255_invalid[] = {
    /* non-canonical field encodings */
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    /* negative field elements */
    "0100000000000000000000000000000000000000000000000000000000000000",
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
    "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
    "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
    "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
    "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
    "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
    /* non-square x^2 */
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
    "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
    "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
    "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
    "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
    "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
    "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
    /* negative xy value */
    "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
    "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
    "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
    "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
    "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
    "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
    "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
    "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
    /* s = -1, which causes y = 0 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void test_r255_vectors(void **state)
{
    (void)state;
    unsigned char want[32], enc[32];
    dt_elem B, acc, x, y;
    dt_scalar k;

    dt_elem_generator(G_r255, &B);
    dt_elem_identity(G_r255, &acc);
    for (unsigned i = 0; i < 16; i++) {
        unhex(want, 32, r255_multiples[i]);
        /* by repeated addition */
        dt_elem_encode(G_r255, enc, &acc);
        assert_memory_equal(enc, want, 32);
        /* by fixed-base and variable-base multiplication */
        dt_scalar_from_u64(G_r255, &k, i);
        dt_elem_pow_g(G_r255, &x, &k);
        dt_elem_encode(G_r255, enc, &x);
        assert_memory_equal(enc, want, 32);
        dt_elem_pow(G_r255, &x, &B, &k);
        dt_elem_encode(G_r255, enc, &x);
        assert_memory_equal(enc, want, 32);
        /* decoding (the identity included) and re-encoding */
        assert_int_equal(dt_elem_decode(G_r255, &y, want, 32), DT_OK);
        assert_elem_eq(G_r255, &y, &acc);
        assert_int_equal(dt_elem_is_identity(G_r255, &y), i == 0);
        dt_elem_mul(G_r255, &acc, &acc, &B);
    }
    /* 16 * B - 15 * B = B */
    dt_elem_div(G_r255, &acc, &acc, &x);
    assert_elem_eq(G_r255, &acc, &B);

    for (size_t i = 0; i < sizeof r255_invalid / sizeof r255_invalid[0]; i++) {
        unhex(enc, 32, r255_invalid[i]);
        rand_elem(G_r255, &x);
        assert_int_equal(dt_elem_decode(G_r255, &x, enc, 32), DT_ERR_ENCODING);
        assert_true(dt_elem_is_identity(G_r255, &x)); /* reset on failure */
    }
}

/* ---- encodings ---- */

static void roundtrip(const dt_group *g, int iters)
{
    unsigned char enc[DT_ELEM_MAX_BYTES], senc[DT_SCALAR_BYTES];
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);
    dt_elem a, b;
    dt_scalar s, t;

    for (int i = 0; i < iters; i++) {
        rand_elem(g, &a);
        dt_elem_encode(g, enc, &a);
        assert_int_equal(dt_elem_decode(g, &b, enc, eb), DT_OK);
        assert_elem_eq(g, &a, &b);
        rand_scalar(g, &s);
        dt_scalar_encode(g, senc, &s);
        assert_int_equal(dt_scalar_decode(g, &t, senc, sb), DT_OK);
        assert_true(dt_scalar_eq(&s, &t));
        assert_memory_equal(senc, s.be + DT_SCALAR_BYTES - sb, sb);
    }
    /* decoding in place (outputs may alias inputs) */
    rand_elem(g, &a);
    dt_elem_encode(g, b.opaque, &a);
    assert_int_equal(dt_elem_decode(g, &b, b.opaque, eb), DT_OK);
    assert_elem_eq(g, &a, &b);
    rand_scalar(g, &s);
    dt_scalar_encode(g, t.be, &s);
    assert_int_equal(dt_scalar_decode(g, &t, t.be, sb), DT_OK);
    assert_true(dt_scalar_eq(&s, &t));
    /* the identity round-trips */
    dt_elem_identity(g, &a);
    dt_elem_encode(g, enc, &a);
    assert_int_equal(dt_elem_decode(g, &b, enc, eb), DT_OK);
    assert_true(dt_elem_is_identity(g, &b));
    /* wrong lengths */
    rand_elem(g, &a);
    dt_elem_encode(g, enc, &a);
    assert_int_equal(dt_elem_decode(g, &b, enc, eb - 1), DT_ERR_ENCODING);
    assert_true(dt_elem_is_identity(g, &b));
    assert_int_equal(dt_elem_decode(g, &b, enc, eb + 1), DT_ERR_ENCODING);
    assert_int_equal(dt_elem_decode(g, &b, enc, 0), DT_ERR_ENCODING);
    assert_int_equal(dt_scalar_decode(g, &t, senc, sb - 1), DT_ERR_ENCODING);
    assert_int_equal(dt_scalar_decode(g, &t, senc, sb + 1), DT_ERR_ENCODING);
    assert_true(dt_scalar_is_zero(&t));
}

static void test_roundtrip_int(void **state)
{
    (void)state;
    roundtrip(G_int, 4);
}

static void test_roundtrip_r255(void **state)
{
    (void)state;
    roundtrip(G_r255, 64);
}

static void test_roundtrip_toy(void **state)
{
    (void)state;
    roundtrip(G_toy, 64);
}

/* scalar q, q - 1, 2^256 - 1 */
static void scalar_range(const dt_group *g)
{
    unsigned char q[DT_SCALAR_BYTES], b[DT_SCALAR_BYTES];
    size_t sb = dt_group_scalar_bytes(g);
    dt_scalar s;

    dt_group_order(g, q);
    memcpy(b, q, sizeof b);
    assert_int_equal(dt_scalar_decode(g, &s, b + 32 - sb, sb), DT_ERR_RANGE);
    assert_true(dt_scalar_is_zero(&s));
    b[31] -= 1; /* q is odd */
    assert_int_equal(dt_scalar_decode(g, &s, b + 32 - sb, sb), DT_OK);
    assert_memory_equal(s.be, b, 32);
    memset(b, 0xff, sizeof b);
    assert_int_equal(dt_scalar_decode(g, &s, b, sb), DT_ERR_RANGE);
    b[0] = 0;
    memset(b, 0, sizeof b);
    assert_int_equal(dt_scalar_decode(g, &s, b, sb), DT_OK);
    assert_true(dt_scalar_is_zero(&s));
}

static void test_invalid_int(void **state)
{
    (void)state;
    unsigned char p[512], gen[512], x[512];
    dt_elem e;
    mpz_t z;

    scalar_range(G_int);
    assert_int_equal(dt_group_integer_params(G_int, p, gen, 512), 1);
    mpz_init(z);
    mpz_import(z, 512, 1, 1, 1, 0, p);
#define DECODE_MPZ(val, want)                                                                      \
    do {                                                                                           \
        size_t cnt = 0;                                                                            \
        memset(x, 0, sizeof x);                                                                    \
        assert_true(mpz_sizeinbase(val, 256) <= 512);                                              \
        mpz_export(x + 512 - (mpz_sgn(val) ? mpz_sizeinbase(val, 256) : 0), &cnt, 1, 1, 1, 0,     \
                   val);                                                                           \
        rand_elem(G_int, &e);                                                                      \
        assert_int_equal(dt_elem_decode(G_int, &e, x, 512), want);                                 \
        if ((want) != DT_OK)                                                                       \
            assert_true(dt_elem_is_identity(G_int, &e));                                           \
    } while (0)
    DECODE_MPZ(z, DT_ERR_RANGE); /* p */
    mpz_add_ui(z, z, 1);
    DECODE_MPZ(z, DT_ERR_RANGE); /* p + 1 */
    mpz_sub_ui(z, z, 2);
    DECODE_MPZ(z, DT_ERR_NOT_IN_GROUP); /* p - 1, of order 2 */
    mpz_set_ui(z, 0);
    DECODE_MPZ(z, DT_ERR_RANGE);
    mpz_set_ui(z, 1);
    DECODE_MPZ(z, DT_OK); /* the identity */
    mpz_set_ui(z, 2);
    DECODE_MPZ(z, DT_ERR_NOT_IN_GROUP); /* 2^q != 1 mod p */
    mpz_set_ui(z, 4);
    DECODE_MPZ(z, DT_ERR_NOT_IN_GROUP);
    mpz_import(z, 512, 1, 1, 1, 0, gen);
    DECODE_MPZ(z, DT_OK);
    mpz_mul_ui(z, z, 2);
    {
        mpz_t pp;
        mpz_init(pp);
        mpz_import(pp, 512, 1, 1, 1, 0, p);
        mpz_mod(z, z, pp); /* 2g: not a member */
        mpz_clear(pp);
    }
    DECODE_MPZ(z, DT_ERR_NOT_IN_GROUP);
#undef DECODE_MPZ
    memset(x, 0xff, sizeof x); /* 2^4096 - 1 */
    assert_int_equal(dt_elem_decode(G_int, &e, x, 512), DT_ERR_RANGE);
    mpz_clear(z);
}

static void test_invalid_r255(void **state)
{
    (void)state;
    unsigned char b[32];
    dt_elem e;

    scalar_range(G_r255);
    /* 2^256 - 1: non-canonical */
    memset(b, 0xff, sizeof b);
    assert_int_equal(dt_elem_decode(G_r255, &e, b, 32), DT_ERR_ENCODING);
    /* the high bit set on a valid encoding */
    unhex(b, 32, r255_multiples[1]);
    b[31] |= 0x80;
    assert_int_equal(dt_elem_decode(G_r255, &e, b, 32), DT_ERR_ENCODING);
    /* bit 255 on every multiple of B and on random elements (libsodium 1.0.18
     * alone accepts these: its canonicity check masks bit 255) */
    for (int i = 0; i < 80; i++) {
        if (i < 16) {
            unhex(b, 32, r255_multiples[i]);
        } else {
            rand_elem(G_r255, &e);
            dt_elem_encode(G_r255, b, &e);
        }
        b[31] |= 0x80;
        rand_elem(G_r255, &e);
        assert_int_equal(dt_elem_decode(G_r255, &e, b, 32), DT_ERR_ENCODING);
        assert_true(dt_elem_is_identity(G_r255, &e));
    }
    /* the field modulus p = 2^255 - 19 (non-canonical encoding of 0) */
    unhex(b, 32, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    assert_int_equal(dt_elem_decode(G_r255, &e, b, 32), DT_ERR_ENCODING);
}

/* The toy group exhaustively: exactly the q powers of g decode, every other
 * value below p is refused with its code. */
static void test_toy_exhaustive(void **state)
{
    (void)state;
    unsigned char b[2];
    unsigned char *member = calloc(59183, 1);
    dt_elem e, x;
    dt_scalar s;
    unsigned count = 0;

    assert_non_null(member);
    dt_elem_identity(G_toy, &x);
    dt_elem_generator(G_toy, &e);
    for (unsigned k = 0; k < 127; k++) {
        dt_elem_encode(G_toy, b, &x);
        unsigned v = b[0] * 256u + b[1];
        assert_true(v > 0 && v < 59183);
        assert_int_equal(member[v], 0); /* g has order exactly q */
        member[v] = 1;
        dt_scalar_from_u64(G_toy, &s, k);
        dt_elem_pow_g(G_toy, &e, &s);
        assert_elem_eq(G_toy, &e, &x);
        dt_elem_generator(G_toy, &e);
        dt_elem_mul(G_toy, &x, &x, &e);
    }
    assert_true(dt_elem_is_identity(G_toy, &x)); /* g^q = 1 */
    for (unsigned v = 0; v < 65536; v++) {
        b[0] = (unsigned char)(v >> 8);
        b[1] = (unsigned char)v;
        dt_err err = dt_elem_decode(G_toy, &e, b, 2);
        if (v == 0 || v >= 59183) {
            assert_int_equal(err, DT_ERR_RANGE);
        } else if (member[v]) {
            assert_int_equal(err, DT_OK);
            count++;
        } else {
            assert_int_equal(err, DT_ERR_NOT_IN_GROUP);
        }
    }
    assert_int_equal(count, 127);
    /* scalars: one byte, below 127 */
    b[0] = 127;
    assert_int_equal(dt_scalar_decode(G_toy, &s, b, 1), DT_ERR_RANGE);
    b[0] = 126;
    assert_int_equal(dt_scalar_decode(G_toy, &s, b, 1), DT_OK);
    dt_scalar_encode(G_toy, b + 1, &s);
    assert_int_equal(b[1], 126);
    scalar_range(G_toy);
    free(member);
}

/* ---- algebra ---- */

static void algebra(const dt_group *g, int iters)
{
    dt_elem a, b, c, d, gen, id, bases[6];
    dt_scalar x, y, z, w, zero, one, es[6];

    dt_elem_generator(g, &gen);
    dt_elem_identity(g, &id);
    memset(&zero, 0, sizeof zero);
    dt_scalar_from_u64(g, &one, 1);
    for (int it = 0; it < iters; it++) {
        rand_elem(g, &a);
        rand_elem(g, &b);
        rand_scalar(g, &x);
        rand_scalar(g, &y);

        /* (a * b) / b = a; a / a = 1; (1 / a) * a = 1; a * 1 = a */
        dt_elem_mul(g, &c, &a, &b);
        dt_elem_div(g, &c, &c, &b);
        assert_elem_eq(g, &c, &a);
        dt_elem_div(g, &c, &a, &a);
        assert_true(dt_elem_is_identity(g, &c));
        dt_elem_div(g, &c, &id, &a);
        dt_elem_mul(g, &c, &c, &a);
        assert_true(dt_elem_is_identity(g, &c));
        dt_elem_mul(g, &c, &a, &id);
        assert_elem_eq(g, &c, &a);
        dt_elem_mul(g, &c, &id, &a);
        assert_elem_eq(g, &c, &a);
        dt_elem_div(g, &c, &a, &id);
        assert_elem_eq(g, &c, &a);
        /* a * a through aliasing = a^2 */
        c = a;
        dt_elem_mul(g, &c, &c, &c);
        dt_scalar_from_u64(g, &z, 2);
        dt_elem_pow_var(g, &d, &a, &z);
        assert_elem_eq(g, &c, &d);

        /* g^(x + y) = g^x g^y */
        dt_scalar_add(g, &z, &x, &y);
        dt_elem_pow_g(g, &c, &z);
        dt_elem_pow_g(g, &a, &x);
        dt_elem_pow_g(g, &d, &y);
        dt_elem_mul(g, &d, &a, &d);
        assert_elem_eq(g, &c, &d);
        /* (g^x)^y = g^(xy), constant and variable time */
        dt_scalar_mul(g, &z, &x, &y);
        dt_elem_pow_g(g, &c, &z);
        dt_elem_pow(g, &d, &a, &y);
        assert_elem_eq(g, &c, &d);
        dt_elem_pow_var(g, &d, &a, &y);
        assert_elem_eq(g, &c, &d);
        /* pow on the generator = pow_g; pow with aliasing */
        dt_elem_pow(g, &c, &gen, &x);
        assert_elem_eq(g, &c, &a);
        c = gen;
        dt_elem_pow(g, &c, &c, &x);
        assert_elem_eq(g, &c, &a);
        /* g^(x - y) = g^x / g^y */
        dt_scalar_sub(g, &z, &x, &y);
        dt_elem_pow_g(g, &c, &z);
        dt_elem_pow_g(g, &d, &y);
        dt_elem_div(g, &d, &a, &d);
        assert_elem_eq(g, &c, &d);

        /* scalar identities */
        dt_scalar_neg(g, &z, &x);
        dt_scalar_add(g, &z, &z, &x);
        assert_true(dt_scalar_is_zero(&z));
        dt_scalar_sub(g, &z, &x, &y);
        dt_scalar_add(g, &z, &z, &y);
        assert_true(dt_scalar_eq(&z, &x));
        dt_scalar_sub(g, &z, &zero, &x);
        dt_scalar_neg(g, &w, &x);
        assert_true(dt_scalar_eq(&z, &w));
        assert_int_equal(dt_scalar_inv_var(g, &z, &x), DT_OK);
        dt_scalar_mul(g, &z, &z, &x);
        assert_true(dt_scalar_eq(&z, &one));
        /* a^x^(1/x) = a */
        assert_int_equal(dt_scalar_inv_var(g, &z, &x), DT_OK);
        dt_elem_pow(g, &c, &b, &x);
        dt_elem_pow_var(g, &c, &c, &z);
        assert_elem_eq(g, &c, &b);

        /* multi-exponentiation against the product of single ones */
        size_t n = 1 + (size_t)(it % 6);
        dt_elem_identity(g, &d);
        for (size_t i = 0; i < n; i++) {
            rand_elem(g, &bases[i]);
            rand_scalar(g, &es[i]);
            if (i == 2)
                es[i] = zero; /* a zero exponent among others */
            if (i == 3)
                dt_elem_identity(g, &bases[i]);
            dt_elem_pow_var(g, &c, &bases[i], &es[i]);
            dt_elem_mul(g, &d, &d, &c);
        }
        dt_elem_multi_pow_var(g, &c, bases, es, n);
        assert_elem_eq(g, &c, &d);
    }

    /* zero exponents and the identity */
    dt_elem_pow_g(g, &c, &zero);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_pow(g, &c, &a, &zero);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_pow_var(g, &c, &a, &zero);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_pow(g, &c, &id, &x);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_pow_var(g, &c, &id, &x);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_pow_g(g, &c, &one);
    assert_elem_eq(g, &c, &gen);
    es[0] = zero;
    es[1] = zero;
    bases[0] = a;
    bases[1] = b;
    dt_elem_multi_pow_var(g, &c, bases, es, 2);
    assert_true(dt_elem_is_identity(g, &c));
    dt_elem_multi_pow_var(g, &c, NULL, NULL, 0);
    assert_true(dt_elem_is_identity(g, &c));
    /* g^(q-1) = 1/g */
    dt_scalar_neg(g, &z, &one);
    dt_elem_pow_g(g, &c, &z);
    dt_elem_mul(g, &c, &c, &gen);
    assert_true(dt_elem_is_identity(g, &c));
    assert_int_equal(dt_scalar_inv_var(g, &z, &zero), DT_ERR_RANGE);
    assert_int_equal(dt_scalar_inv_var(g, &z, &one), DT_OK);
    assert_true(dt_scalar_eq(&z, &one));
}

/* Running products equal the chain of dt_elem_mul, in every group, also
 * when two products are combined and when elements repeat or are the
 * identity. */
static void products(const dt_group *g, int reps)
{
    for (int r = 0; r < reps; r++) {
        dt_elem e[9], want, got, id;
        dt_prod p, q;
        dt_scalar x;
        dt_elem_identity(g, &id);
        dt_elem_identity(g, &want);
        dt_prod_init(g, &p);
        dt_prod_init(g, &q);
        for (int i = 0; i < 9; i++) {
            assert_int_equal(dt_scalar_random(g, &x), DT_OK);
            if (i == 3)
                e[i] = id;
            else if (i == 5)
                e[i] = e[4];
            else
                dt_elem_pow_g(g, &e[i], &x);
            dt_elem_mul(g, &want, &want, &e[i]);
            dt_prod_mul(g, i < 4 ? &p : &q, &e[i]);
        }
        dt_prod_mul_prod(g, &p, &q);
        dt_prod_get(g, &got, &p);
        assert_elem_eq(g, &got, &want);
        dt_prod_init(g, &p);
        dt_prod_get(g, &got, &p);
        assert_true(dt_elem_is_identity(g, &got));
    }
}

static void test_products(void **state)
{
    (void)state;
    products(G_int, 2);
    products(G_r255, 50);
    products(G_toy, 50);
}

/* Fixed-base tables (dt_fixed_base_create) and g's (dt_elem_pow_g) against
 * dt_elem_pow and dt_elem_pow_var: random bases and scalars, and the scalars
 * 0, 1, 2^k (one digit set, at every window boundary of the integer group's
 * 5-bit windows), 2^k - 1 (every digit full) and q - 1, q - 2 */
static void fixed_base(const dt_group *g, int iters)
{
    dt_elem a, gen, r, want;
    dt_scalar x, t, one;
    dt_fixed_base *fb, *fg;
    dt_elem_generator(g, &gen);
    dt_scalar_from_u64(g, &one, 1);
    assert_non_null(fg = dt_fixed_base_create(g, &gen));
    for (int it = 0; it < iters; it++) {
        rand_elem(g, &a);
        assert_non_null(fb = dt_fixed_base_create(g, &a));
        for (int k = -4; k < 270; k++) {
            if (k == -4)
                memset(&x, 0, sizeof x);
            else if (k == -3)
                x = one;
            else if (k == -2) {
                dt_scalar_neg(g, &x, &one); /* q - 1 */
            } else if (k == -1) {
                dt_scalar_neg(g, &x, &one);
                dt_scalar_sub(g, &x, &x, &one); /* q - 2 */
            } else if (k < 256) {
                /* 2^k mod q, then 2^k - 1 mod q on odd k */
                memset(&t, 0, sizeof t);
                t.be[31 - k / 8] = (unsigned char)(1u << (k % 8));
                dt_scalar_reduce(g, &x, t.be, sizeof t.be);
                if (k % 2)
                    dt_scalar_sub(g, &x, &x, &one);
            } else
                rand_scalar(g, &x);
            dt_fixed_base_pow(fb, &r, &x);
            dt_elem_pow_var(g, &want, &a, &x);
            assert_elem_eq(g, &r, &want);
            if (k % 16 == 0) {
                dt_elem_pow(g, &want, &a, &x);
                assert_elem_eq(g, &r, &want);
            }
            dt_elem_pow_g(g, &r, &x);
            dt_fixed_base_pow(fg, &want, &x);
            assert_elem_eq(g, &r, &want);
            dt_elem_pow_var(g, &want, &gen, &x);
            assert_elem_eq(g, &r, &want);
        }
        dt_fixed_base_destroy(fb);
    }
    dt_fixed_base_destroy(fg);
}

static void test_fixed_base(void **state)
{
    (void)state;
    fixed_base(G_int, 1);
    fixed_base(G_r255, 3);
    fixed_base(G_toy, 3);
}

static void test_algebra_int(void **state)
{
    (void)state;
    algebra(G_int, 6);
}

static void test_algebra_r255(void **state)
{
    (void)state;
    algebra(G_r255, 60);
}

static void test_algebra_toy(void **state)
{
    (void)state;
    algebra(G_toy, 200);
}

/* Scalar arithmetic against GMP's mpz. */
static void scalar_vs_mpz(const dt_group *g, int iters)
{
    mpz_t q, a, b, r;
    dt_scalar x, y, z;
    unsigned char buf[200];

    mpz_inits(q, a, b, r, NULL);
    mpz_order(q, g);
    for (int it = 0; it < iters; it++) {
        rand_scalar(g, &x);
        rand_scalar(g, &y);
        if (it == 0) { /* q - 1 + q - 1 and (q - 1)^2 */
            dt_scalar_from_u64(g, &z, 1);
            dt_scalar_neg(g, &x, &z);
            y = x;
        }
        if (it == 1)
            memset(&y, 0, sizeof y);
        mpz_from_scalar(a, &x);
        mpz_from_scalar(b, &y);
        assert_true(mpz_cmp(a, q) < 0);
        mpz_add(r, a, b);
        mpz_mod(r, r, q);
        dt_scalar_add(g, &z, &x, &y);
        assert_scalar_is_mpz(&z, r);
        mpz_sub(r, a, b);
        mpz_mod(r, r, q);
        dt_scalar_sub(g, &z, &x, &y);
        assert_scalar_is_mpz(&z, r);
        mpz_neg(r, a);
        mpz_mod(r, r, q);
        dt_scalar_neg(g, &z, &x);
        assert_scalar_is_mpz(&z, r);
        mpz_mul(r, a, b);
        mpz_mod(r, r, q);
        dt_scalar_mul(g, &z, &x, &y);
        assert_scalar_is_mpz(&z, r);
        if (mpz_sgn(a)) {
            assert_int_equal(mpz_invert(r, a, q), 1);
            assert_int_equal(dt_scalar_inv_var(g, &z, &x), DT_OK);
            assert_scalar_is_mpz(&z, r);
        }
        /* reduction of any length, 0..200 bytes; all-ones strings too */
        size_t len = (size_t)testrand_u64(sizeof buf + 1);
        testrand_bytes(buf, len);
        if (it % 7 == 3)
            memset(buf, 0xff, len);
        if (len)
            mpz_import(r, len, 1, 1, 1, 0, buf);
        else
            mpz_set_ui(r, 0);
        mpz_mod(r, r, q);
        dt_scalar_reduce(g, &z, buf, len);
        assert_scalar_is_mpz(&z, r);
        /* from_u64 */
        uint64_t v = testrand_u64(0);
        mpz_set_ui(r, (unsigned long)v);
        mpz_mod(r, r, q);
        dt_scalar_from_u64(g, &z, v);
        assert_scalar_is_mpz(&z, r);
    }
    /* 64-byte and 32-byte reductions of the edge values */
    unsigned char qb[32];
    dt_group_order(g, qb);
    dt_scalar_reduce(g, &z, qb, 32);
    assert_true(dt_scalar_is_zero(&z));
    memset(buf, 0, 64);
    memcpy(buf + 32, qb, 32);
    dt_scalar_reduce(g, &z, buf, 64);
    assert_true(dt_scalar_is_zero(&z));
    memcpy(buf, qb, 32); /* q * 2^256 + q */
    dt_scalar_reduce(g, &z, buf, 64);
    assert_true(dt_scalar_is_zero(&z));
    mpz_clears(q, a, b, r, NULL);
}

static void test_scalars_int(void **state)
{
    (void)state;
    scalar_vs_mpz(G_int, 300);
}

static void test_scalars_r255(void **state)
{
    (void)state;
    scalar_vs_mpz(G_r255, 300);
}

static void test_scalars_toy(void **state)
{
    (void)state;
    scalar_vs_mpz(G_toy, 300);
}

static void test_scalar_random(void **state)
{
    (void)state;
    const dt_group *gs[3] = {G_int, G_r255, G_toy};
    dt_scalar s, t;
    for (int k = 0; k < 3; k++) {
        unsigned char enc[32];
        rand_scalar(gs[k], &t);
        for (int i = 0; i < 100; i++) {
            rand_scalar(gs[k], &s);
            assert_false(dt_scalar_is_zero(&s));
            dt_scalar_encode(gs[k], enc, &s);
            assert_int_equal(dt_scalar_decode(gs[k], &t, enc, dt_group_scalar_bytes(gs[k])),
                             DT_OK);
        }
    }
}

/* ---- discrete logarithms ---- */

static void dlog(const dt_group *g, const dt_elem *base)
{
    static const uint64_t ts[] = {0, 1, 2, 63, 64, 65, 999, 1000, 1001, 123456, 999999, 1000000};
    dt_elem x;
    dt_scalar s;
    uint64_t t;

    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        dt_scalar_from_u64(g, &s, ts[i]);
        dt_elem_pow_var(g, &x, base, &s);
        assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000000), DT_OK);
        assert_int_equal(t, ts[i]);
        if (ts[i] <= 1000) {
            assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000), DT_OK);
            assert_int_equal(t, ts[i]);
        } else {
            assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000), DT_ERR_NOT_FOUND);
        }
        if (ts[i] <= 63) {
            assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 63), DT_OK);
            assert_int_equal(t, ts[i]);
        } else {
            assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 63), DT_ERR_NOT_FOUND);
        }
        /* max = t exactly, and max = t - 1 */
        assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, ts[i]), DT_OK);
        assert_int_equal(t, ts[i]);
        if (ts[i] > 0)
            assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, ts[i] - 1), DT_ERR_NOT_FOUND);
    }
    /* a random t below 10^6 and a random element (almost surely no small log) */
    uint64_t r = testrand_u64(1000001);
    dt_scalar_from_u64(g, &s, r);
    dt_elem_pow_var(g, &x, base, &s);
    assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000000), DT_OK);
    assert_int_equal(t, r);
    rand_elem(g, &x);
    assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000000), DT_ERR_NOT_FOUND);
    /* 10^6 + 1 is beyond max */
    dt_scalar_from_u64(g, &s, 1000001);
    dt_elem_pow_var(g, &x, base, &s);
    assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000000), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_elem_dlog_var(g, &t, base, &x, 1000001), DT_OK);
    assert_int_equal(t, 1000001);
}

static void test_dlog_int(void **state)
{
    (void)state;
    dt_elem b;
    dt_elem_generator(G_int, &b);
    dlog(G_int, &b);
}

static void test_dlog_r255(void **state)
{
    (void)state;
    dt_elem b;
    dt_elem_generator(G_r255, &b);
    dlog(G_r255, &b);
    rand_elem(G_r255, &b); /* another base, like K */
    dlog(G_r255, &b);
}

static void test_dlog_toy(void **state)
{
    (void)state;
    dt_elem b, x;
    dt_scalar s;
    uint64_t t;
    dt_elem_generator(G_toy, &b);
    for (uint64_t k = 0; k < 127; k++) {
        dt_scalar_from_u64(G_toy, &s, k);
        dt_elem_pow_g(G_toy, &x, &s);
        assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, 126), DT_OK);
        assert_int_equal(t, k);
        /* a larger max finds the smallest logarithm too (the order is 127) */
        assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, 1000000000), DT_OK);
        assert_int_equal(t, k);
        if (k % 16 == 0) { /* the largest max: the cycle of g stops the walk */
            assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, UINT64_MAX), DT_OK);
            assert_int_equal(t, k);
        }
    }
    /* the identity base: only the identity has a logarithm, 0 */
    dt_elem_identity(G_toy, &b);
    dt_elem_identity(G_toy, &x);
    assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, 5000), DT_OK);
    assert_int_equal(t, 0);
    dt_elem_generator(G_toy, &x);
    assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, 5000), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_elem_dlog_var(G_toy, &t, &b, &x, 50), DT_ERR_NOT_FOUND);
    dt_elem_identity(G_r255, &b);
    dt_elem_generator(G_r255, &x);
    assert_int_equal(dt_elem_dlog_var(G_r255, &t, &b, &x, UINT64_MAX), DT_ERR_NOT_FOUND);
    assert_int_equal(dt_elem_dlog_var(G_r255, &t, &b, &b, UINT64_MAX), DT_OK);
    assert_int_equal(t, 0);
}

/* ---- construction ---- */

static void test_create_integer(void **state)
{
    (void)state;
    dt_group *g;
    /* the toy group itself */
    g = dt_group_create_integer(TOY_P, TOY_Q, TOY_G);
    assert_non_null(g);
    dt_group_destroy(g);
    dt_group_destroy(NULL);
    /* bad hex */
    assert_null(dt_group_create_integer("e72g", TOY_Q, TOY_G));
    assert_null(dt_group_create_integer("", TOY_Q, TOY_G));
    /* q does not divide p - 1 */
    assert_null(dt_group_create_integer(TOY_P, "7d", TOY_G));
    /* g = 1, g = 0, g = p, g not of order q (2^127 != 1 mod 59183) */
    assert_null(dt_group_create_integer(TOY_P, TOY_Q, "1"));
    assert_null(dt_group_create_integer(TOY_P, TOY_Q, "0"));
    assert_null(dt_group_create_integer(TOY_P, TOY_Q, TOY_P));
    assert_null(dt_group_create_integer(TOY_P, TOY_Q, "2"));
    /* p = 509^2 composite, q = 127 | p - 1, 93^127 = 1 mod p */
    assert_null(dt_group_create_integer("3f409", TOY_Q, "5d"));
    /* q = 125 composite, p = 251, 3^125 = 1 mod 251 */
    assert_null(dt_group_create_integer("fb", "7d", "3"));
    /* p = 251 prime, q = 5 | 250, g = 20 has order 5 (20^5 = 1 mod 251) -- valid */
    g = dt_group_create_integer("fb", "5", "14");
    assert_non_null(g);
    assert_int_equal(dt_group_elem_bytes(g), 1);
    assert_int_equal(dt_group_scalar_bytes(g), 1);
    dt_group_destroy(g);
    /* even q, negative values, q over 256 bits, p over 4096 bits */
    assert_null(dt_group_create_integer("7", "2", "6"));
    assert_null(dt_group_create_integer("-e72f", TOY_Q, TOY_G));
    assert_null(dt_group_create_integer(
        "1" "0000000000000000000000000000000000000000000000000000000000000000" "3",
        "1" "0000000000000000000000000000000000000000000000000000000000000000" "1", "3"));
    {
        char big[1100];
        memset(big, 'f', 1025);
        big[1025] = 0;
        assert_null(dt_group_create_integer(big, TOY_Q, TOY_G));
    }
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
        _exit(0); /* not reached if fn aborts */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void misuse_null_group(void)
{
    (void)dt_group_elem_bytes(NULL);
}

static void misuse_null_out(void)
{
    unsigned char b[32] = {0};
    if (dt_elem_decode(G_r255, NULL, b, 32) == DT_OK)
        _exit(0);
}

static void misuse_null_in(void)
{
    dt_elem e;
    if (dt_elem_decode(G_r255, &e, NULL, 32) == DT_OK)
        _exit(0);
}

static void misuse_params_len(void)
{
    unsigned char p[512], g[512];
    (void)dt_group_integer_params(G_int, p, g, 511);
}

static void misuse_null_scalar(void)
{
    dt_elem e;
    dt_elem_pow_g(G_int, &e, NULL);
}

static void misuse_multi_null(void)
{
    dt_elem e;
    dt_elem_multi_pow_var(G_r255, &e, NULL, NULL, 2);
}

static void misuse_create_null(void)
{
    (void)dt_group_create_integer(NULL, TOY_Q, TOY_G);
}

static void misuse_corrupt_elem(void)
{
    /* an element that was never decoded (a non-canonical encoding) */
    dt_elem a, b;
    memset(&a, 0xff, sizeof a);
    dt_elem_generator(G_r255, &b);
    dt_elem_mul(G_r255, &a, &a, &b);
}

static void test_misuse(void **state)
{
    (void)state;
    expect_abort(misuse_null_group);
    expect_abort(misuse_null_out);
    expect_abort(misuse_null_in);
    expect_abort(misuse_params_len);
    expect_abort(misuse_null_scalar);
    expect_abort(misuse_multi_null);
    expect_abort(misuse_create_null);
    expect_abort(misuse_corrupt_elem);
}

/* ---- util ---- */

static void test_util(void **state)
{
    (void)state;
    unsigned char a[16] = {1, 2, 3}, b[16] = {1, 2, 3};
    assert_true(dt_ct_eq(a, b, sizeof a));
    b[15] = 1;
    assert_false(dt_ct_eq(a, b, sizeof a));
    assert_true(dt_ct_eq(a, b, 0));
    dt_memzero(b, sizeof b);
    assert_true(sodium_is_zero(b, sizeof b));
    for (int e = DT_OK; e <= DT_ERR_INVALID; e++)
        assert_non_null(dt_strerror((dt_err)e));
    assert_string_equal(dt_strerror(DT_ERR_NOT_FOUND), "not found");
    /* the real source: two 64-byte draws differ */
    unsigned char r1[64], r2[64];
    dt_random_set_source_for_testing(NULL);
    assert_int_equal(dt_random_bytes(r1, sizeof r1), DT_OK);
    assert_int_equal(dt_random_bytes(r2, sizeof r2), DT_OK);
    assert_int_equal(dt_random_bytes(r2, 0), DT_OK);
    assert_false(dt_ct_eq(r1, r2, sizeof r1));
    dt_random_set_source_for_testing(testrand_bytes);
}

static int setup(void **state)
{
    (void)state;
    G_int = dt_group_create(DT_GROUP_INTEGER4096);
    G_r255 = dt_group_create(DT_GROUP_RISTRETTO255);
    G_toy = dt_group_create_integer(TOY_P, TOY_Q, TOY_G);
    return G_int && G_r255 && G_toy ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dt_group_destroy(G_int);
    dt_group_destroy(G_r255);
    dt_group_destroy(G_toy);
    return 0;
}

/* The batched decode accepts exactly what one-by-one decoding accepts: a
 * batch of members passes; one value of order 2 (Legendre symbol -1), or a
 * square outside the order-q subgroup (it has an order-r' part, caught by the
 * random linear combination), anywhere in the batch, fails it. */
static void test_decode_batch(void **state)
{
    (void)state;
    dt_group_id ids[2] = {DT_GROUP_INTEGER4096, DT_GROUP_RISTRETTO255};
    for (int k = 0; k < 2; k++) {
        dt_group *g = dt_group_create(ids[k]);
        size_t eb = dt_group_elem_bytes(g);
        enum { N = 12 };
        dt_elem e[N], out[N];
        unsigned char *enc = calloc(N, eb);
        const unsigned char *in[N];
        assert_non_null(g);
        assert_non_null(enc);
        for (int i = 0; i < N; i++) {
            dt_scalar x;
            assert_int_equal(dt_scalar_random(g, &x), DT_OK);
            dt_elem_pow_g(g, &e[i], &x);
            dt_elem_encode(g, enc + i * eb, &e[i]);
            in[i] = enc + i * eb;
        }
        assert_int_equal(dt_elem_decode_batch_var(g, out, in, eb, N), DT_OK);
        for (int i = 0; i < N; i++)
            assert_true(dt_elem_eq(g, &out[i], &e[i]));
        assert_int_equal(dt_elem_decode_batch_var(g, out, in, eb - 1, N), DT_ERR_ENCODING);
        if (ids[k] == DT_GROUP_INTEGER4096) {
            unsigned char save[512];
            for (int pos = 0; pos < N; pos += 5) {
                memcpy(save, enc + pos * eb, eb);
                /* p - 1: order 2 */
                mpz_t z, p, h;
                mpz_inits(z, p, h, NULL);
                unsigned char pb[512], gb[512];
                assert_int_equal(dt_group_integer_params(g, pb, gb, 512), 1);
                mpz_import(p, 512, 1, 1, 1, 0, pb);
                mpz_sub_ui(z, p, 1);
                memset(enc + pos * eb, 0, eb);
                mpz_export(enc + pos * eb + 512 - (mpz_sizeinbase(z, 256)), NULL, 1, 1, 1, 0, z);
                assert_int_not_equal(dt_elem_decode_batch_var(g, out, in, eb, N), DT_OK);
                /* 9 = 3^2: a square, Legendre symbol 1, but not of order q */
                mpz_set_ui(h, 9);
                memset(enc + pos * eb, 0, eb);
                enc[pos * eb + 511] = 9;
                assert_int_not_equal(dt_elem_decode(g, &out[0], enc + pos * eb, eb), DT_OK);
                assert_int_not_equal(dt_elem_decode_batch_var(g, out, in, eb, N), DT_OK);
                mpz_clears(z, p, h, NULL);
                memcpy(enc + pos * eb, save, eb);
            }
            assert_int_equal(dt_elem_decode_batch_var(g, out, in, eb, N), DT_OK);
        } else {
            enc[3 * eb] ^= 1; /* not canonical or not on the curve */
            if (dt_elem_decode(g, &out[0], enc + 3 * eb, eb) != DT_OK)
                assert_int_not_equal(dt_elem_decode_batch_var(g, out, in, eb, N), DT_OK);
        }
        free(enc);
        dt_group_destroy(g);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    testrand_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_decode_batch),
        cmocka_unit_test(test_int_constants),
        cmocka_unit_test(test_int_sample_record),
        cmocka_unit_test(test_r255_vectors),
        cmocka_unit_test(test_roundtrip_int),
        cmocka_unit_test(test_roundtrip_r255),
        cmocka_unit_test(test_roundtrip_toy),
        cmocka_unit_test(test_invalid_int),
        cmocka_unit_test(test_invalid_r255),
        cmocka_unit_test(test_toy_exhaustive),
        cmocka_unit_test(test_fixed_base),
        cmocka_unit_test(test_algebra_int),
        cmocka_unit_test(test_algebra_r255),
        cmocka_unit_test(test_products),
        cmocka_unit_test(test_algebra_toy),
        cmocka_unit_test(test_scalars_int),
        cmocka_unit_test(test_scalars_r255),
        cmocka_unit_test(test_scalars_toy),
        cmocka_unit_test(test_scalar_random),
        cmocka_unit_test(test_dlog_int),
        cmocka_unit_test(test_dlog_r255),
        cmocka_unit_test(test_dlog_toy),
        cmocka_unit_test(test_create_integer),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_util),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
