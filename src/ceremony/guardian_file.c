/* A guardian's secret state at rest (docs/guardian-file.md).
 *
 * Layout, version 1 (all integers big-endian):
 *
 *   offset size  field
 *        0    8  magic "DTGUARD\0"
 *        8    4  version = 1
 *       12   32  group name (dt_group_name), NUL-padded
 *       44   32  H_P of the group (binds the exact parameters)
 *       76   32  election identifier (the caller's 32 bytes, e.g. H_B)
 *      108    4  i        112  4  n        116  4  k
 *      120    4  KDF = 1 (Argon2id v1.3, crypto_pwhash)
 *      124    4  opslimit
 *      128    8  memlimit (bytes)
 *      136   16  salt
 *      152    4  AEAD = 1 (XChaCha20-Poly1305-IETF)
 *      156   24  nonce
 *      180   32  passphrase check = HMAC-SHA-256(kdf[32..64], "detente guardian passphrase check v1")
 *      212   32  SHA-256 of bytes 0..212 (catches accidental damage of the header)
 *      244    -  AEAD ciphertext of the plaintext below, associated data = bytes 0..244,
 *                key = kdf[0..32], where kdf = Argon2id(passphrase, salt) of 64 bytes
 *
 * Plaintext (sb = the group's scalar bytes):
 *        0   32  nonce seed
 *       32    1  finished (0 or 1)
 *       33    n  have[j-1] (0 or 1; have[i-1] = 0)
 *     33+n sb*k  coefficients a_{i,0..k-1} (nonzero, below q)
 *          sb*n  received shares P_j(i) for j = 1..n (zero where not held)
 * The key share P(i) is recomputed on load.
 *
 * Why an AEAD rather than crypto_secretbox: the header (group, election,
 * indices, KDF parameters) must be authenticated but stay readable before
 * the key is derived, so that a file of another election is refused without
 * running Argon2 and with a precise error. XChaCha20-Poly1305 takes the
 * header as associated data directly (secretbox would need a hash of the
 * header inside the plaintext); its 24-byte random nonce is as safe as
 * secretbox's. The passphrase check tells a wrong passphrase (DT_ERR_PROOF)
 * from a damaged body (DT_ERR_ENCODING); it is no extra help to a guesser,
 * who can test a guess against the AEAD tag at the same cost. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <detente/election.h>

#include "ceremony/ceremony_impl.h"
#include "util/codec.h"
#include "util/ctcheck.h"

enum {
    F_MAGIC = 0,
    F_VERSION = 8,
    F_GROUP = 12,
    F_HP = 44,
    F_ELECTION = 76,
    F_I = 108,
    F_N = 112,
    F_K = 116,
    F_KDF = 120,
    F_OPS = 124,
    F_MEM = 128,
    F_SALT = 136,
    F_AEAD = 152,
    F_NONCE = 156,
    F_CHECK = 180,
    F_SUM = 212,
    F_HEADER = 244,
};

#define GROUP_NAME_BYTES 32
#define FILE_VERSION 1u
#define KDF_ARGON2ID13 1u
#define AEAD_XCHACHA20POLY1305 1u
#define FILE_MAX_BYTES (1u << 20)

/* Argon2id cost written (MODERATE: 256 MiB, 3 passes) and accepted on load
 * (from INTERACTIVE to SENSITIVE: a hostile file cannot ask for more). */
#define WRITE_OPS crypto_pwhash_argon2id_OPSLIMIT_MODERATE
#define WRITE_MEM crypto_pwhash_argon2id_MEMLIMIT_MODERATE
#define MIN_OPS crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define MIN_MEM crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
#define MAX_OPS crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
#define MAX_MEM crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE

/* Tests only (ceremony_impl.h): a cheaper cost for the files they write. */
static uint32_t test_ops;
static uint64_t test_mem;

void dt_guardian_file_cost_for_testing(uint32_t ops, uint64_t mem)
{
    if ((ops || mem) && (ops < MIN_OPS || ops > MAX_OPS || mem < MIN_MEM || mem > MAX_MEM))
        dt_misuse("dt_guardian_file_cost_for_testing: cost outside the accepted range");
    test_ops = ops;
    test_mem = mem;
}

static const unsigned char file_magic[8] = {'D', 'T', 'G', 'U', 'A', 'R', 'D', 0};
static const char check_label[] = "detente guardian passphrase check v1";

_Static_assert(F_SUM + 32 == F_HEADER, "header layout");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24, "nonce size");
_Static_assert(crypto_pwhash_argon2id_SALTBYTES == 16, "salt size");

static size_t plain_len(const dt_group *g, uint32_t n, uint32_t k)
{
    return 33 + (size_t)n + dt_group_scalar_bytes(g) * ((size_t)k + n);
}

/* kdf -> AEAD key and passphrase check */
static dt_err derive_keys(unsigned char key[32], unsigned char check[32], const char *passphrase,
                          const unsigned char salt[16], uint64_t ops, uint64_t mem)
{
    unsigned char out[64];
    if (crypto_pwhash(out, sizeof out, passphrase, strlen(passphrase), salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        dt_memzero(out, sizeof out);
        return DT_ERR_NOMEM;
    }
    memcpy(key, out, 32);
    dt_hmac_sha256(check, out + 32, 32, check_label, sizeof check_label - 1);
    dt_memzero(out, sizeof out);
    return DT_OK;
}

static void group_field(const dt_group *g, unsigned char out[GROUP_NAME_BYTES])
{
    const char *name = dt_group_name(g);
    size_t len = strlen(name);
    memset(out, 0, GROUP_NAME_BYTES);
    memcpy(out, name, len < GROUP_NAME_BYTES - 1 ? len : GROUP_NAME_BYTES - 1);
}

/* ---- writing ---- */

dt_err dt_guardian_save(const dt_guardian *gd, const char *path, const char *passphrase,
                        const unsigned char election_id[32])
{
    DT_CER_CHECK(gd && path && passphrase && election_id);
    const dt_group *g = gd->g;
    size_t sb = dt_group_scalar_bytes(g), plen = plain_len(g, gd->n, gd->k);
    size_t total = F_HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char key[32], check[32], *plain = NULL, *buf = NULL, *p;
    unsigned long long clen = 0;
    uint32_t ops = test_ops ? test_ops : WRITE_OPS;
    uint64_t mem = test_mem ? test_mem : WRITE_MEM;
    dt_err err;

    if (!*passphrase)
        return DT_ERR_INVALID;
    buf = calloc(1, total);
    plain = sodium_malloc(plen);
    if (!buf || !plain) {
        err = DT_ERR_NOMEM;
        goto out;
    }

    /* header */
    memcpy(buf + F_MAGIC, file_magic, sizeof file_magic);
    dt_cer_put32(buf + F_VERSION, FILE_VERSION);
    group_field(g, buf + F_GROUP);
    memcpy(buf + F_HP, gd->hp, 32);
    memcpy(buf + F_ELECTION, election_id, 32);
    dt_cer_put32(buf + F_I, gd->i);
    dt_cer_put32(buf + F_N, gd->n);
    dt_cer_put32(buf + F_K, gd->k);
    dt_cer_put32(buf + F_KDF, KDF_ARGON2ID13);
    dt_cer_put32(buf + F_OPS, ops);
    dt_cer_put64(buf + F_MEM, mem);
    dt_cer_put32(buf + F_AEAD, AEAD_XCHACHA20POLY1305);
    if ((err = dt_random_bytes(buf + F_SALT, 16)) != DT_OK ||
        (err = dt_random_bytes(buf + F_NONCE, 24)) != DT_OK)
        goto out;
    if ((err = derive_keys(key, check, passphrase, buf + F_SALT, ops, mem)) != DT_OK)
        goto out;
    memcpy(buf + F_CHECK, check, 32);
    dt_sha256(buf + F_SUM, buf, F_SUM);

    /* plaintext */
    dt_guardian_sec_open(gd);
    memcpy(plain, gd->sec->seed, 32);
    plain[32] = (unsigned char)(gd->finished ? 1 : 0);
    memcpy(plain + 33, gd->have, gd->n);
    p = plain + 33 + gd->n;
    for (uint32_t j = 0; j < gd->k + gd->n; j++, p += sb)
        dt_scalar_encode(g, p, &gd->sec->s[j]);
    dt_guardian_sec_close(gd);

    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + F_HEADER, &clen, plain, plen, buf, F_HEADER, NULL,
                                               buf + F_NONCE, key);
    if (clen != plen + crypto_aead_xchacha20poly1305_ietf_ABYTES) { /* cannot happen */
        err = DT_ERR_IO;
        goto out;
    }
    /* public from here on: the header and the ciphertext */
    dt_declassify(buf, total);
    /* a new file beside path (O_EXCL|O_NOFOLLOW, 0600), fsync, rename,
     * fsync of the folder; a link or non-regular file at path is refused */
    err = dt_write_file_atomic(path, buf, total, 0600);
out:
    dt_memzero(key, sizeof key);
    dt_memzero(check, sizeof check);
    if (plain) {
        dt_memzero(plain, plen);
        sodium_free(plain);
    }
    free(buf);
    return err;
}

/* ---- reading ---- */

static int all_zero(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    for (size_t t = 0; t < n; t++)
        acc |= p[t];
    return acc == 0;
}

/* Fills gd's secrets from the plaintext; DT_ERR_ENCODING if anything is out
 * of place. Secrets must be open. */
static dt_err parse_plain(dt_guardian *gd, const unsigned char *plain)
{
    const dt_group *g = gd->g;
    size_t sb = dt_group_scalar_bytes(g);
    const unsigned char *p;
    int all = 1;

    /* The flags are public (the shares received are on the board); the
     * seed, the coefficients and the shares are not: only whether each is
     * well formed (zero where not held, nonzero coefficients, below q) is. */
    dt_declassify(plain + 32, 1 + (size_t)gd->n);
    if (plain[32] > 1)
        return DT_ERR_ENCODING;
    memcpy(gd->sec->seed, plain, 32);
    gd->finished = plain[32];
    for (uint32_t j = 1; j <= gd->n; j++) {
        unsigned char h = plain[33 + j - 1];
        if (h > 1 || (j == gd->i && h))
            return DT_ERR_ENCODING;
        gd->have[j - 1] = h;
        if (j != gd->i && !h)
            all = 0;
    }
    if (gd->finished && !all)
        return DT_ERR_ENCODING;
    p = plain + 33 + gd->n;
    for (uint32_t j = 0; j < gd->k; j++, p += sb) {
        if (dt_scalar_decode(g, &gd->sec->s[j], p, sb) != DT_OK)
            return DT_ERR_ENCODING;
        int zero = dt_scalar_is_zero(&gd->sec->s[j]);
        dt_declassify(&zero, sizeof zero);
        if (zero)
            return DT_ERR_ENCODING;
    }
    for (uint32_t j = 1; j <= gd->n; j++, p += sb) {
        if (!gd->have[j - 1]) {
            int zero = all_zero(p, sb);
            dt_declassify(&zero, sizeof zero);
            if (!zero)
                return DT_ERR_ENCODING;
            continue;
        }
        if (dt_scalar_decode(g, &gd->sec->s[gd->k + j - 1], p, sb) != DT_OK)
            return DT_ERR_ENCODING;
    }
    return DT_OK;
}

dt_err dt_guardian_load(dt_guardian **out, const dt_group *g, const char *path, const char *passphrase,
                        const unsigned char election_id[32])
{
    DT_CER_CHECK(out && g && path && passphrase && election_id);
    unsigned char *buf = NULL, *plain = NULL, sum[32], field[GROUP_NAME_BYTES], hp[32];
    unsigned char key[32], check[32];
    size_t len = 0, plen = 0;
    uint32_t i, n, k, ops;
    uint64_t mem;
    unsigned long long got = 0;
    dt_guardian *gd = NULL;
    dt_err err;

    *out = NULL;
    memset(key, 0, sizeof key);
    memset(check, 0, sizeof check);
    err = dt_read_file(&buf, &len, path, FILE_MAX_BYTES);
    if (err == DT_ERR_LIMIT)
        err = DT_ERR_ENCODING;
    if (err != DT_OK)
        goto out;

    err = DT_ERR_ENCODING;
    if (len < F_HEADER || memcmp(buf + F_MAGIC, file_magic, sizeof file_magic) != 0 ||
        dt_cer_get32(buf + F_VERSION) != FILE_VERSION)
        goto out;
    dt_sha256(sum, buf, F_SUM);
    if (memcmp(sum, buf + F_SUM, 32) != 0)
        goto out;

    /* another group or another election */
    err = DT_ERR_INVALID;
    group_field(g, field);
    dt_parameter_base_hash(g, hp);
    if (memcmp(field, buf + F_GROUP, GROUP_NAME_BYTES) != 0 || memcmp(hp, buf + F_HP, 32) != 0 ||
        memcmp(election_id, buf + F_ELECTION, 32) != 0)
        goto out;

    err = DT_ERR_ENCODING;
    i = dt_cer_get32(buf + F_I);
    n = dt_cer_get32(buf + F_N);
    k = dt_cer_get32(buf + F_K);
    ops = dt_cer_get32(buf + F_OPS);
    mem = dt_cer_get64(buf + F_MEM);
    if (dt_ceremony_check_params(g, i, n, k) != DT_OK || dt_cer_get32(buf + F_KDF) != KDF_ARGON2ID13 ||
        dt_cer_get32(buf + F_AEAD) != AEAD_XCHACHA20POLY1305 || ops < MIN_OPS || ops > MAX_OPS ||
        mem < MIN_MEM || mem > MAX_MEM)
        goto out;
    plen = plain_len(g, n, k);
    if (len != F_HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES)
        goto out; /* truncated or extended */

    if ((err = derive_keys(key, check, passphrase, buf + F_SALT, ops, mem)) != DT_OK)
        goto out;
    /* public: a wrong passphrase is reported */
    int right = dt_ct_eq(check, buf + F_CHECK, 32);
    dt_declassify(&right, sizeof right);
    if (!right) {
        err = DT_ERR_PROOF;
        goto out;
    }
    plain = sodium_malloc(plen);
    if (!plain) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    int open_ok = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &got, NULL, buf + F_HEADER, len - F_HEADER, buf,
                                                             F_HEADER, buf + F_NONCE, key) == 0;
    dt_declassify(&open_ok, sizeof open_ok); /* public: a damaged file is reported */
    dt_declassify(&got, sizeof got);
    if (!open_ok || got != plen) {
        err = DT_ERR_ENCODING;
        goto out;
    }
    if ((err = dt_guardian_alloc(&gd, g, i, n, k)) != DT_OK)
        goto out;
    if ((err = parse_plain(gd, plain)) != DT_OK)
        goto out;
    dt_guardian_seal(gd);
    dt_guardian_sec_close(gd);
    *out = gd;
    gd = NULL;
out:
    dt_guardian_destroy(gd);
    dt_memzero(key, sizeof key);
    dt_memzero(check, sizeof check);
    if (plain) {
        dt_memzero(plain, plen);
        sodium_free(plain);
    }
    free(buf);
    return err;
}
