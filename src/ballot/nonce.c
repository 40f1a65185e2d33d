/* Nonce derivation (spec 3.3.2, eq. 25 and 50) with the unbiased rule for
 * ristretto255 (DESIGN.md "Hashing"). */
#include <string.h>

#include "ballot/ballot_impl.h"

#define DT_CONTEST_DATA_LABEL "contest_data"

size_t dt_ballot_nonce_bytes(void)
{
    return DT_BALLOT_NONCE_BYTES;
}

void dt_ballot_nonce_wipe(dt_ballot_nonce *xi_b)
{
    DT_BALLOT_CHECK(xi_b);
    dt_memzero(xi_b, sizeof *xi_b);
}

void dt_ballot_derive_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                            const unsigned char *msg, size_t msglen)
{
    unsigned char wide[2 * DT_HASH_BYTES];
    dt_hash_ctx h;

    DT_BALLOT_CHECK(g && out && he && (msg || msglen == 0));
    if (dt_group_kind(g) == DT_GROUP_RISTRETTO255) {
        /* l is about 2^252: 256 bits reduced mod l would be biased by about
         * 1/16; 512 bits reduced are within 2^-260 of uniform. */
        for (unsigned char i = 1; i <= 2; i++) {
            dt_hash_init(&h, he);
            dt_hash_bytes(&h, msg, msglen);
            dt_hash_u8(&h, i);
            dt_hash_final(&h, wide + (size_t)(i - 1) * DT_HASH_BYTES);
        }
        dt_scalar_reduce(g, out, wide, sizeof wide);
    } else {
        dt_hash_init(&h, he);
        dt_hash_bytes(&h, msg, msglen);
        dt_hash_final(&h, wide);
        dt_scalar_reduce(g, out, wide, DT_HASH_BYTES);
    }
    dt_memzero(wide, sizeof wide);
}

static void put_be32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)(x >> 24);
    p[1] = (unsigned char)(x >> 16);
    p[2] = (unsigned char)(x >> 8);
    p[3] = (unsigned char)x;
}

void dt_ballot_selection_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                               const dt_ballot_nonce *xi_b, uint32_t ind_c, uint32_t ind_o)
{
    unsigned char msg[1 + DT_BALLOT_NONCE_BYTES + 4 + 4];

    DT_BALLOT_CHECK(xi_b && ind_c < 0x80000000u && ind_o < 0x80000000u);
    msg[0] = DT_H_NONCE;
    memcpy(msg + 1, xi_b->bytes, DT_BALLOT_NONCE_BYTES);
    put_be32(msg + 1 + DT_BALLOT_NONCE_BYTES, ind_c);
    put_be32(msg + 1 + DT_BALLOT_NONCE_BYTES + 4, ind_o);
    dt_ballot_derive_nonce(g, out, he, msg, sizeof msg);
    dt_memzero(msg, sizeof msg);
}

void dt_ballot_contest_data_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                                  const dt_ballot_nonce *xi_b, uint32_t ind_c)
{
    /* the string "contest_data" is length-prefixed inside H (spec 5.1.4) */
    unsigned char msg[1 + DT_BALLOT_NONCE_BYTES + 4 + 4 + sizeof DT_CONTEST_DATA_LABEL - 1];
    size_t n = 0;

    DT_BALLOT_CHECK(xi_b && ind_c < 0x80000000u);
    msg[n++] = DT_H_NONCE;
    memcpy(msg + n, xi_b->bytes, DT_BALLOT_NONCE_BYTES);
    n += DT_BALLOT_NONCE_BYTES;
    put_be32(msg + n, ind_c);
    n += 4;
    put_be32(msg + n, (uint32_t)(sizeof DT_CONTEST_DATA_LABEL - 1));
    n += 4;
    memcpy(msg + n, DT_CONTEST_DATA_LABEL, sizeof DT_CONTEST_DATA_LABEL - 1);
    n += sizeof DT_CONTEST_DATA_LABEL - 1;
    dt_ballot_derive_nonce(g, out, he, msg, n);
    dt_memzero(msg, sizeof msg);
}
