#include <string.h>

#include <detente/election.h>

static const char r255_name[] = "ristretto255";

void dt_parameter_base_hash(const dt_group *g, unsigned char hp[DT_HASH_BYTES])
{
    unsigned char ver[DT_HASH_BYTES] = {0};
    unsigned char buf[DT_ELEM_MAX_BYTES], q[DT_SCALAR_BYTES];
    dt_hash_ctx ctx;
    dt_elem gen;
    size_t eb = dt_group_elem_bytes(g), sb = dt_group_scalar_bytes(g);

    memcpy(ver, DT_SPEC_VERSION, strlen(DT_SPEC_VERSION));
    dt_hash_init(&ctx, ver);
    dt_hash_u8(&ctx, DT_H_PARAMETER_BASE);
    dt_group_order(g, q);
    if (dt_group_kind(g) == DT_GROUP_RISTRETTO255) {
        dt_hash_prefixed(&ctx, r255_name, strlen(r255_name));
        dt_hash_bytes(&ctx, q, DT_SCALAR_BYTES);
        dt_elem_generator(g, &gen);
        dt_hash_elem(&ctx, g, &gen);
    } else {
        unsigned char gb[DT_ELEM_MAX_BYTES];
        if (!dt_group_integer_params(g, buf, gb, eb))
            dt_misuse("dt_parameter_base_hash: unknown group");
        dt_hash_bytes(&ctx, buf, eb);
        dt_hash_bytes(&ctx, q + DT_SCALAR_BYTES - sb, sb);
        dt_hash_bytes(&ctx, gb, eb);
    }
    dt_hash_final(&ctx, hp);
}

void dt_manifest_hash(unsigned char hm[DT_HASH_BYTES], const unsigned char hp[DT_HASH_BYTES],
                      const unsigned char *manifest, size_t len)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, hp);
    dt_hash_u8(&ctx, DT_H_MANIFEST);
    dt_hash_prefixed(&ctx, manifest, len);
    dt_hash_final(&ctx, hm);
}

void dt_election_base_hash(unsigned char hb[DT_HASH_BYTES], const unsigned char hp[DT_HASH_BYTES],
                           const unsigned char hm[DT_HASH_BYTES], uint32_t n, uint32_t k)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, hp);
    dt_hash_u8(&ctx, DT_H_ELECTION_BASE);
    dt_hash_bytes(&ctx, hm, DT_HASH_BYTES);
    dt_hash_u32(&ctx, n);
    dt_hash_u32(&ctx, k);
    dt_hash_final(&ctx, hb);
}

void dt_extended_base_hash(const dt_group *g, unsigned char he[DT_HASH_BYTES],
                           const unsigned char hb[DT_HASH_BYTES], const dt_elem *K)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, hb);
    dt_hash_u8(&ctx, DT_H_EXTENDED_BASE);
    dt_hash_elem(&ctx, g, K);
    dt_hash_final(&ctx, he);
}

void dt_contest_hash(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                     const unsigned char he[DT_HASH_BYTES], uint32_t ind_c, const dt_elem *K,
                     const dt_elem *alpha, const dt_elem *beta, size_t m)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, he);
    dt_hash_u8(&ctx, DT_H_CONTEST_HASH);
    dt_hash_u32(&ctx, ind_c);
    dt_hash_elem(&ctx, g, K);
    for (size_t i = 0; i < m; i++) {
        dt_hash_elem(&ctx, g, &alpha[i]);
        dt_hash_elem(&ctx, g, &beta[i]);
    }
    dt_hash_final(&ctx, out);
}

void dt_confirmation_code(unsigned char out[DT_HASH_BYTES], const unsigned char he[DT_HASH_BYTES],
                          const unsigned char (*chi)[DT_HASH_BYTES], size_t mb,
                          const unsigned char *baux, size_t bauxlen)
{
    dt_hash_ctx ctx;
    dt_hash_init(&ctx, he);
    dt_hash_u8(&ctx, DT_H_CONFIRMATION_CODE);
    for (size_t i = 0; i < mb; i++)
        dt_hash_bytes(&ctx, chi[i], DT_HASH_BYTES);
    dt_hash_bytes(&ctx, baux, bauxlen);
    dt_hash_final(&ctx, out);
}
