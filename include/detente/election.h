/* detente: the election's hashes (ElectionGuard 2.0 sections 3.1.2-3.1.5,
 * 3.2.3, 3.4) and its profile per group. */
#ifndef DETENTE_ELECTION_H
#define DETENTE_ELECTION_H

#include <detente/group.h>
#include <detente/hash.h>

/* The specification version string in hashes and records. */
#define DT_SPEC_VERSION "v2.0.0"

/* H_P (eq. 4/5). Integer group: H(ver; 0x00, p, q, g).
 * ristretto255 (docs/ristretto255-profile.md):
 *   H(ver; 0x00, b(len,4) "ristretto255", b(l,32), G) */
void dt_parameter_base_hash(const dt_group *g, unsigned char hp[DT_HASH_BYTES]);
/* H_M = H(H_P; 0x01, b(len,4) || manifest bytes) */
void dt_manifest_hash(unsigned char hm[DT_HASH_BYTES], const unsigned char hp[DT_HASH_BYTES],
                      const unsigned char *manifest, size_t len);
/* H_B = H(H_P; 0x02, H_M, b(n,4), b(k,4)) */
void dt_election_base_hash(unsigned char hb[DT_HASH_BYTES], const unsigned char hp[DT_HASH_BYTES],
                           const unsigned char hm[DT_HASH_BYTES], uint32_t n, uint32_t k);
/* H_E = H(H_B; 0x12, K) */
void dt_extended_base_hash(const dt_group *g, unsigned char he[DT_HASH_BYTES],
                           const unsigned char hb[DT_HASH_BYTES], const dt_elem *K);
/* chi = H(H_E; 0x23, b(ind_c,4), K, alpha_1, beta_1, ..., alpha_m, beta_m) */
void dt_contest_hash(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                     const unsigned char he[DT_HASH_BYTES], uint32_t ind_c, const dt_elem *K,
                     const dt_elem *alpha, const dt_elem *beta, size_t m);
/* H(B) = H(H_E; 0x24, chi_1, ..., chi_mB, B_aux): B_aux without a length
 * prefix, as egk-ec's records have it (docs/record-format.md). */
void dt_confirmation_code(unsigned char out[DT_HASH_BYTES], const unsigned char he[DT_HASH_BYTES],
                          const unsigned char (*chi)[DT_HASH_BYTES], size_t mb,
                          const unsigned char *baux, size_t bauxlen);

#endif
