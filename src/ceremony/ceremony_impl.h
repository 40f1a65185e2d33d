/* Private: the guardian object and helpers shared by the ceremony's files
 * (guardian.c: the protocol; guardian_file.c: encryption at rest;
 * messages.c: JSON). */
#ifndef DT_CEREMONY_IMPL_H
#define DT_CEREMONY_IMPL_H

#include <detente/ceremony.h>

#define DT_CER_STR2(x) #x
#define DT_CER_STR(x) DT_CER_STR2(x)
#define DT_CER_CHECK(cond)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_misuse(__FILE__ ":" DT_CER_STR(__LINE__) ": " #cond);                               \
    } while (0)

/* The layout behind dt_share_ct. c1 holds dt_group_scalar_bytes(g) bytes
 * (the rest is zero). */
typedef struct dt_share_ct_impl {
    uint32_t from, to;
    uint32_t reserved[2];
    dt_elem c0;
    unsigned char c1[DT_SCALAR_BYTES];
    unsigned char c2[DT_HASH_BYTES];
} dt_share_ct_impl;

_Static_assert(sizeof(dt_share_ct_impl) <= sizeof(dt_share_ct), "dt_share_ct too small");
_Static_assert(_Alignof(dt_share_ct_impl) <= _Alignof(dt_share_ct), "dt_share_ct misaligned");

/* The secret part of a guardian: its own sodium_malloc'ed block, kept
 * PROT_NONE between calls. s[0..k) are the coefficients a_{i,j};
 * s[k + j - 1] is the share P_j(i) received from guardian j (j != i). */
typedef struct dt_guardian_secrets {
    unsigned char seed[DT_HASH_BYTES]; /* derives the share-encryption nonces */
    dt_scalar key_share;               /* P(i), valid once finished */
    dt_scalar s[];
} dt_guardian_secrets;

struct dt_guardian {
    dt_elem K0; /* K_{i,0}, public */
    const dt_group *g;
    unsigned char hp[DT_HASH_BYTES];
    uint32_t i, n, k;
    int finished;
    dt_guardian_secrets *sec;
    unsigned char have[]; /* have[j - 1]: a checked share from guardian j is held */
};

/* Checks 1 <= k <= n <= DT_CEREMONY_MAX_GUARDIANS, 1 <= i <= n, n < q. */
dt_err dt_ceremony_check_params(const dt_group *g, uint32_t i, uint32_t n, uint32_t k);

/* Allocates a guardian with zeroed secrets, its public fields set (K0 is the
 * identity). The secrets are left accessible (read-write): the caller fills
 * them, calls dt_guardian_seal, then dt_guardian_sec_close. */
dt_err dt_guardian_alloc(dt_guardian **out, const dt_group *g, uint32_t i, uint32_t n, uint32_t k);

/* Computes the public fields from the secrets (K0; the key share if
 * finished). Secrets must be open. */
void dt_guardian_seal(dt_guardian *gd);

/* Makes the secrets readable (and writable) / inaccessible again. */
void dt_guardian_sec_open(const dt_guardian *gd);
void dt_guardian_sec_close(const dt_guardian *gd);

/* key_share = P_i(i) + sum of the received shares. Secrets must be open. */
void dt_guardian_compute_key_share(dt_guardian *gd);

/* Tests only: makes dt_guardian_save use this Argon2id cost (within the
 * range that dt_guardian_load accepts; 0, 0 restores the default). Never
 * called by the library or the CLI. Not thread-safe. */
void dt_guardian_file_cost_for_testing(uint32_t ops, uint64_t mem);

/* Big-endian helpers. */
static inline void dt_cer_put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)(x >> 24);
    p[1] = (unsigned char)(x >> 16);
    p[2] = (unsigned char)(x >> 8);
    p[3] = (unsigned char)x;
}

static inline uint32_t dt_cer_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void dt_cer_put64(unsigned char *p, uint64_t x)
{
    dt_cer_put32(p, (uint32_t)(x >> 32));
    dt_cer_put32(p + 4, (uint32_t)x);
}

static inline uint64_t dt_cer_get64(const unsigned char *p)
{
    return (uint64_t)dt_cer_get32(p) << 32 | dt_cer_get32(p + 4);
}

#endif
