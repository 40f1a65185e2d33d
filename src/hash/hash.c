/* HMAC-SHA-256 over OpenSSL's SHA-256 (which uses the CPU's SHA extensions).
 * The low-level SHA256_* calls keep the state on the caller's stack: no
 * allocation, unlike EVP. */
#define OPENSSL_API_COMPAT 0x10100000L
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include <detente/hash.h>

typedef struct hash_state {
    SHA256_CTX inner;
    unsigned char okey[64];
} hash_state;

_Static_assert(sizeof(hash_state) <= sizeof(((dt_hash_ctx *)0)->opaque), "dt_hash_ctx too small");

static void hmac_start(hash_state *st, const unsigned char *key, size_t keylen)
{
    unsigned char k[64], ipad[64];
    memset(k, 0, sizeof k);
    if (keylen > 64)
        SHA256(key, keylen, k);
    else
        memcpy(k, key, keylen);
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        st->okey[i] = k[i] ^ 0x5c;
    }
    SHA256_Init(&st->inner);
    SHA256_Update(&st->inner, ipad, 64);
    dt_memzero(k, sizeof k);
    dt_memzero(ipad, sizeof ipad);
}

static void hmac_finish(hash_state *st, unsigned char out[DT_HASH_BYTES])
{
    unsigned char ih[32];
    SHA256_CTX outer;
    SHA256_Final(ih, &st->inner);
    SHA256_Init(&outer);
    SHA256_Update(&outer, st->okey, 64);
    SHA256_Update(&outer, ih, 32);
    SHA256_Final(out, &outer);
    dt_memzero(ih, sizeof ih);
    dt_memzero(&outer, sizeof outer);
    dt_memzero(st, sizeof *st);
}

void dt_hash_init(dt_hash_ctx *ctx, const unsigned char key[DT_HASH_BYTES])
{
    hmac_start((hash_state *)ctx->opaque, key, DT_HASH_BYTES);
}

void dt_hash_bytes(dt_hash_ctx *ctx, const void *data, size_t len)
{
    if (len)
        SHA256_Update(&((hash_state *)ctx->opaque)->inner, data, len);
}

void dt_hash_u8(dt_hash_ctx *ctx, uint8_t b)
{
    dt_hash_bytes(ctx, &b, 1);
}

void dt_hash_u32(dt_hash_ctx *ctx, uint32_t x)
{
    unsigned char b[4] = {(unsigned char)(x >> 24), (unsigned char)(x >> 16),
                          (unsigned char)(x >> 8), (unsigned char)x};
    if (x >= 0x80000000u)
        dt_misuse("dt_hash_u32: value must be below 2^31");
    dt_hash_bytes(ctx, b, 4);
}

void dt_hash_prefixed(dt_hash_ctx *ctx, const void *data, size_t len)
{
    if (len >= 0x80000000u)
        dt_misuse("dt_hash_prefixed: length must be below 2^31");
    dt_hash_u32(ctx, (uint32_t)len);
    dt_hash_bytes(ctx, data, len);
}

void dt_hash_elem(dt_hash_ctx *ctx, const dt_group *g, const dt_elem *e)
{
    unsigned char buf[DT_ELEM_MAX_BYTES];
    size_t n = dt_group_elem_bytes(g);
    dt_elem_encode(g, buf, e);
    dt_hash_bytes(ctx, buf, n);
}

void dt_hash_scalar(dt_hash_ctx *ctx, const dt_group *g, const dt_scalar *s)
{
    unsigned char buf[DT_SCALAR_BYTES];
    size_t n = dt_group_scalar_bytes(g);
    dt_scalar_encode(g, buf, s);
    dt_hash_bytes(ctx, buf, n);
    dt_memzero(buf, sizeof buf);
}

void dt_hash_final(dt_hash_ctx *ctx, unsigned char out[DT_HASH_BYTES])
{
    hmac_finish((hash_state *)ctx->opaque, out);
}

void dt_hmac_sha256(unsigned char out[DT_HASH_BYTES], const unsigned char *key, size_t keylen,
                    const void *msg, size_t msglen)
{
    hash_state st;
    hmac_start(&st, key, keylen);
    if (msglen)
        SHA256_Update(&st.inner, msg, msglen);
    hmac_finish(&st, out);
}

void dt_sha256(unsigned char out[DT_HASH_BYTES], const void *msg, size_t len)
{
    SHA256(msg, len, out);
}
