/* detente: ElectionGuard 2.0 hashing.
 *
 * H(key; msg) = HMAC-SHA-256(key, msg) with a 32-byte key (spec 5.2). The
 * message starts with a one-byte domain separator and concatenates fixed-width
 * encodings: elements in their group encoding, scalars as dt_group_scalar_bytes
 * big-endian, small integers as 4 bytes big-endian, strings and files
 * length-prefixed (4 bytes). The context is caller-allocated; dt_hash_final
 * wipes it. */
#ifndef DETENTE_HASH_H
#define DETENTE_HASH_H

#include <detente/common.h>
#include <detente/group.h>

#define DT_HASH_BYTES 32

typedef struct dt_hash_ctx {
    _Alignas(16) unsigned char opaque[256];
} dt_hash_ctx;

/* Domain separators of ElectionGuard 2.0 (spec 5.5). */
enum {
    DT_H_PARAMETER_BASE = 0x00,
    DT_H_MANIFEST = 0x01,
    DT_H_ELECTION_BASE = 0x02,
    DT_H_COEFFICIENT_PROOF = 0x10,
    DT_H_SHARE_ENCRYPTION = 0x11,
    DT_H_EXTENDED_BASE = 0x12,
    DT_H_NONCE = 0x20,
    DT_H_RANGE_PROOF = 0x21,
    DT_H_CONTEST_DATA_KEY = 0x22,
    DT_H_CONTEST_HASH = 0x23,
    DT_H_CONFIRMATION_CODE = 0x24,
    DT_H_DECRYPTION_PROOF = 0x30,
    DT_H_CONTEST_DATA_PROOF = 0x31,
};

/* Starts H(key; ...). */
void dt_hash_init(dt_hash_ctx *ctx, const unsigned char key[DT_HASH_BYTES]);
void dt_hash_bytes(dt_hash_ctx *ctx, const void *data, size_t len);
void dt_hash_u8(dt_hash_ctx *ctx, uint8_t b);
/* b(x, 4): 4 bytes big-endian; x must be < 2^31 */
void dt_hash_u32(dt_hash_ctx *ctx, uint32_t x);
/* b(len, 4) || data: strings, files, variable byte arrays */
void dt_hash_prefixed(dt_hash_ctx *ctx, const void *data, size_t len);
void dt_hash_elem(dt_hash_ctx *ctx, const dt_group *g, const dt_elem *e);
void dt_hash_scalar(dt_hash_ctx *ctx, const dt_group *g, const dt_scalar *s);
/* Writes the 32-byte result and wipes ctx. */
void dt_hash_final(dt_hash_ctx *ctx, unsigned char out[DT_HASH_BYTES]);

/* One-shot HMAC-SHA-256 with a key of any length (KDFs and MACs). */
void dt_hmac_sha256(unsigned char out[DT_HASH_BYTES], const unsigned char *key, size_t keylen,
                    const void *msg, size_t msglen);
/* Plain SHA-256. */
void dt_sha256(unsigned char out[DT_HASH_BYTES], const void *msg, size_t len);

#endif
