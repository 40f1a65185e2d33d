/* A guardian's round-1 decryption nonces at rest (docs/roles.md, "The
 * pending file"): written by 'detente decrypt share', read and deleted by
 * 'detente decrypt respond'.
 *
 * Layout, version 1 (integers big-endian):
 *
 *   offset size  field
 *        0    8  magic "DTNONCE\0"
 *        8    4  version = 1
 *       12   32  H_E, the election
 *       44    4  i, the guardian
 *       48    8  N, the number of ciphertexts
 *       56   32  L, the hash of the decryption list
 *       88   32  SHA-256 of the guardian's round-1 share text
 *      120    4  KDF = 1 (Argon2id v1.3, crypto_pwhash)
 *      124    4  opslimit
 *      128    8  memlimit (bytes)
 *      136   16  salt
 *      152   24  nonce (XChaCha20-Poly1305-IETF)
 *      176   32  passphrase check = HMAC-SHA-256(kdf[32..64], "detente decryption nonces passphrase check v1")
 *      208   32  SHA-256 of bytes 0..208
 *      240    -  AEAD ciphertext of u_1..u_N (32 bytes each, below q, nonzero), associated data = bytes
 *                0..240, key = kdf[0..32], where kdf = Argon2id(passphrase, salt), 64 bytes
 *
 * The same construction as the guardian file (docs/guardian-file.md), for
 * the same reasons. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <detente/hash.h>
#include <detente/workflow.h>

#include "election/workflow_impl.h"
#include "util/codec.h"

enum {
    F_MAGIC = 0,
    F_VERSION = 8,
    F_ELECTION = 12,
    F_I = 44,
    F_N = 48,
    F_LIST = 56,
    F_SHARE = 88,
    F_KDF = 120,
    F_OPS = 124,
    F_MEM = 128,
    F_SALT = 136,
    F_NONCE = 152,
    F_CHECK = 176,
    F_SUM = 208,
    F_HEADER = 240,
};

#define FILE_VERSION 1u
#define KDF_ARGON2ID13 1u
#define WRITE_OPS crypto_pwhash_argon2id_OPSLIMIT_MODERATE
#define WRITE_MEM crypto_pwhash_argon2id_MEMLIMIT_MODERATE
#define MIN_OPS crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define MIN_MEM crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
#define MAX_OPS crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
#define MAX_MEM crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE

static const unsigned char file_magic[8] = {'D', 'T', 'N', 'O', 'N', 'C', 'E', 0};
static const char check_label[] = "detente decryption nonces passphrase check v1";

_Static_assert(sizeof(dt_scalar) == 32, "a nonce is 32 bytes");
_Static_assert(F_SUM + 32 == F_HEADER, "header layout");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24, "nonce size");
_Static_assert(crypto_pwhash_argon2id_SALTBYTES == 16, "salt size");

static void put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)(x >> 24);
    p[1] = (unsigned char)(x >> 16);
    p[2] = (unsigned char)(x >> 8);
    p[3] = (unsigned char)x;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(unsigned char *p, uint64_t x)
{
    put32(p, (uint32_t)(x >> 32));
    put32(p + 4, (uint32_t)x);
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

dt_decrypt_nonces *dt_decrypt_nonces_alloc(size_t n)
{
    dt_decrypt_nonces *nn = calloc(1, sizeof *nn);
    if (!nn)
        return NULL;
    nn->n = n;
    nn->u = sodium_malloc((n ? n : 1) * sizeof *nn->u);
    if (!nn->u) {
        free(nn);
        return NULL;
    }
    dt_memzero(nn->u, (n ? n : 1) * sizeof *nn->u);
    return nn;
}

uint32_t dt_decrypt_nonces_guardian(const dt_decrypt_nonces *nonces)
{
    if (!nonces)
        dt_misuse("dt_decrypt_nonces_guardian: nonces is NULL");
    return nonces->i;
}

void dt_decrypt_nonces_destroy(dt_decrypt_nonces *nonces)
{
    if (!nonces)
        return;
    dt_memzero(nonces->u, (nonces->n ? nonces->n : 1) * sizeof *nonces->u);
    sodium_free(nonces->u);
    dt_memzero(nonces, sizeof *nonces);
    free(nonces);
}

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

dt_err dt_decrypt_nonces_save(const dt_decrypt_nonces *nonces, const char *path, const char *passphrase)
{
    unsigned char key[32], check[32], *buf = NULL;
    size_t plen, total;
    unsigned long long clen = 0;
    struct stat st;
    dt_err err;

    if (!nonces || !path || !passphrase)
        dt_misuse("dt_decrypt_nonces_save: NULL argument");
    if (!*passphrase || nonces->used)
        return DT_ERR_INVALID;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return DT_ERR_IO;
    } else if (errno != ENOENT) {
        return DT_ERR_IO;
    }
    plen = nonces->n * 32;
    total = F_HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (!(buf = calloc(1, total)))
        return DT_ERR_NOMEM;
    memcpy(buf + F_MAGIC, file_magic, sizeof file_magic);
    put32(buf + F_VERSION, FILE_VERSION);
    memcpy(buf + F_ELECTION, nonces->he, 32);
    put32(buf + F_I, nonces->i);
    put64(buf + F_N, nonces->n);
    memcpy(buf + F_LIST, nonces->list, 32);
    memcpy(buf + F_SHARE, nonces->share, 32);
    put32(buf + F_KDF, KDF_ARGON2ID13);
    put32(buf + F_OPS, WRITE_OPS);
    put64(buf + F_MEM, WRITE_MEM);
    if ((err = dt_random_bytes(buf + F_SALT, 16)) != DT_OK || (err = dt_random_bytes(buf + F_NONCE, 24)) != DT_OK)
        goto out;
    if ((err = derive_keys(key, check, passphrase, buf + F_SALT, WRITE_OPS, WRITE_MEM)) != DT_OK)
        goto out;
    memcpy(buf + F_CHECK, check, 32);
    dt_sha256(buf + F_SUM, buf, F_SUM);
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + F_HEADER, &clen, (const unsigned char *)nonces->u, plen, buf,
                                               F_HEADER, NULL, buf + F_NONCE, key);
    if (clen != plen + crypto_aead_xchacha20poly1305_ietf_ABYTES) { /* cannot happen */
        err = DT_ERR_IO;
        goto out;
    }
    if ((err = dt_write_file_atomic(path, buf, total, 0600)) == DT_OK)
        err = dt_sync_parent(path);
out:
    dt_memzero(key, sizeof key);
    dt_memzero(check, sizeof check);
    free(buf);
    return err;
}

dt_err dt_decrypt_nonces_load(dt_decrypt_nonces **out, const dt_record *rec, const char *path,
                              const char *passphrase)
{
    unsigned char *buf = NULL, *plain = NULL, sum[32], key[32], check[32];
    size_t len = 0, plen = 0;
    uint64_t n, mem;
    uint32_t ops;
    unsigned long long got = 0;
    dt_decrypt_nonces *nn = NULL;
    const dt_group *g;
    dt_err err;

    if (!out || !rec || !path || !passphrase)
        dt_misuse("dt_decrypt_nonces_load: NULL argument");
    *out = NULL;
    g = rec->group;
    memset(key, 0, sizeof key);
    memset(check, 0, sizeof check);
    err = dt_read_file(&buf, &len, path, F_HEADER + (size_t)DT_DECRYPT_MAX_CIPHERTEXTS * 32 + 16);
    if (err == DT_ERR_LIMIT)
        err = DT_ERR_ENCODING;
    if (err != DT_OK)
        goto out;
    err = DT_ERR_ENCODING;
    if (len < F_HEADER || memcmp(buf + F_MAGIC, file_magic, sizeof file_magic) != 0 ||
        get32(buf + F_VERSION) != FILE_VERSION)
        goto out;
    dt_sha256(sum, buf, F_SUM);
    if (memcmp(sum, buf + F_SUM, 32) != 0)
        goto out;
    if (memcmp(buf + F_ELECTION, rec->he, 32) != 0) {
        err = DT_ERR_INVALID;
        goto out;
    }
    n = get64(buf + F_N);
    ops = get32(buf + F_OPS);
    mem = get64(buf + F_MEM);
    if (n > DT_DECRYPT_MAX_CIPHERTEXTS || get32(buf + F_KDF) != KDF_ARGON2ID13 || ops < MIN_OPS || ops > MAX_OPS ||
        mem < MIN_MEM || mem > MAX_MEM || get32(buf + F_I) < 1 || get32(buf + F_I) > rec->n)
        goto out;
    plen = (size_t)n * 32;
    if (len != F_HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES)
        goto out;
    if ((err = derive_keys(key, check, passphrase, buf + F_SALT, ops, mem)) != DT_OK)
        goto out;
    if (!dt_ct_eq(check, buf + F_CHECK, 32)) {
        err = DT_ERR_PROOF;
        goto out;
    }
    nn = dt_decrypt_nonces_alloc((size_t)n);
    plain = sodium_malloc(plen ? plen : 1);
    if (!nn || !plain) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &got, NULL, buf + F_HEADER, len - F_HEADER, buf, F_HEADER,
                                                   buf + F_NONCE, key) != 0 ||
        got != plen) {
        err = DT_ERR_ENCODING;
        goto out;
    }
    for (size_t t = 0; t < n; t++)
        if (dt_scalar_decode(g, &nn->u[t], plain + 32 * t, 32) != DT_OK || dt_scalar_is_zero(&nn->u[t])) {
            err = DT_ERR_ENCODING;
            goto out;
        }
    nn->i = get32(buf + F_I);
    memcpy(nn->he, buf + F_ELECTION, 32);
    memcpy(nn->list, buf + F_LIST, 32);
    memcpy(nn->share, buf + F_SHARE, 32);
    *out = nn;
    nn = NULL;
    err = DT_OK;
out:
    dt_decrypt_nonces_destroy(nn);
    dt_memzero(key, sizeof key);
    dt_memzero(check, sizeof check);
    if (plain) {
        dt_memzero(plain, plen ? plen : 1);
        sodium_free(plain);
    }
    free(buf);
    return err;
}
