#include <stdlib.h>
#include <string.h>

#include <detente/proof.h>
#include <detente/tally.h>

#include "util/codec.h"

dt_err dt_lagrange_coefficient(const dt_group *g, dt_scalar *w, uint32_t i, const uint32_t *U, size_t nU)
{
    dt_scalar num, den, t, li, ii, inv;
    int found = 0;
    dt_scalar_from_u64(g, &num, 1);
    dt_scalar_from_u64(g, &den, 1);
    dt_scalar_from_u64(g, &ii, i);
    if (i == 0)
        return DT_ERR_INVALID;
    for (size_t k = 0; k < nU; k++) {
        if (U[k] == 0)
            return DT_ERR_INVALID;
        for (size_t m = 0; m < k; m++)
            if (U[m] == U[k])
                return DT_ERR_INVALID;
        if (U[k] == i) {
            found = 1;
            continue;
        }
        dt_scalar_from_u64(g, &li, U[k]);
        dt_scalar_mul(g, &num, &num, &li);
        dt_scalar_sub(g, &t, &li, &ii);
        dt_scalar_mul(g, &den, &den, &t);
    }
    if (!found)
        return DT_ERR_INVALID;
    if (dt_scalar_inv_var(g, &inv, &den) != DT_OK)
        return DT_ERR_INVALID; /* two indices equal mod q */
    dt_scalar_mul(g, w, &num, &inv);
    return DT_OK;
}

dt_err dt_dshare_commit(const dt_group *g, dt_elem *M_i, dt_elem *a_i, dt_elem *b_i, dt_scalar *u_i,
                        const dt_elem *A, const dt_scalar *P_i)
{
    dt_err err = dt_scalar_random(g, u_i);
    if (err != DT_OK)
        return err;
    dt_elem_pow(g, M_i, A, P_i);
    dt_elem_pow_g(g, a_i, u_i);
    dt_elem_pow(g, b_i, A, u_i);
    return DT_OK;
}

void dt_dshare_respond(const dt_group *g, dt_scalar *v_i, dt_scalar *u_i, const dt_scalar *c, const dt_scalar *w_i,
                       const dt_scalar *P_i)
{
    dt_scalar ci, t;
    dt_scalar_mul(g, &ci, c, w_i);
    dt_scalar_mul(g, &t, &ci, P_i);
    dt_scalar_sub(g, v_i, u_i, &t);
    dt_memzero(&t, sizeof t);
    dt_memzero(u_i, sizeof *u_i);
}

dt_err dt_dshare_verify_var(const dt_group *g, const dt_elem *gP_i, const dt_elem *A, const dt_elem *M_i,
                            const dt_elem *a_i, const dt_elem *b_i, const dt_scalar *c, const dt_scalar *w_i,
                            const dt_scalar *v_i)
{
    dt_elem base[2], x;
    dt_scalar e[2];
    dt_elem_generator(g, &base[0]);
    base[1] = *gP_i;
    e[0] = *v_i;
    dt_scalar_mul(g, &e[1], c, w_i);
    dt_elem_multi_pow_var(g, &x, base, e, 2);
    if (!dt_elem_eq(g, &x, a_i))
        return DT_ERR_PROOF;
    base[0] = *A;
    base[1] = *M_i;
    dt_elem_multi_pow_var(g, &x, base, e, 2);
    if (!dt_elem_eq(g, &x, b_i))
        return DT_ERR_PROOF;
    return DT_OK;
}

void dt_dshare_combine(const dt_group *g, dt_elem *M, dt_elem *a, dt_elem *b, const dt_elem *M_i, const dt_elem *a_i,
                       const dt_elem *b_i, const dt_scalar *w, size_t nU)
{
    dt_elem_multi_pow_var(g, M, M_i, w, nU);
    dt_elem_identity(g, a);
    dt_elem_identity(g, b);
    for (size_t k = 0; k < nU; k++) {
        dt_elem_mul(g, a, a, &a_i[k]);
        dt_elem_mul(g, b, b, &b_i[k]);
    }
}

void dt_contest_data_challenge(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                               const unsigned char he[DT_HASH_BYTES], const dt_elem *K, const dt_elem *C0,
                               const unsigned char *C1, size_t c1len, const unsigned char C2[32], const dt_elem *a,
                               const dt_elem *b, const dt_elem *beta)
{
    dt_hash_ctx h;
    char hex[2 * 64 + 1];
    dt_hash_init(&h, he);
    dt_hash_u8(&h, DT_H_CONTEST_DATA_PROOF);
    dt_hash_elem(&h, g, K);
    dt_hash_elem(&h, g, C0);
    for (size_t off = 0; off < c1len; off += 64) {
        size_t n = c1len - off < 64 ? c1len - off : 64;
        dt_hex_encode_upper(hex, C1 + off, n);
        dt_hash_bytes(&h, hex, 2 * n);
    }
    dt_hash_bytes(&h, C2, 32);
    dt_hash_elem(&h, g, a);
    dt_hash_elem(&h, g, b);
    dt_hash_elem(&h, g, beta);
    dt_hash_final(&h, out);
}
