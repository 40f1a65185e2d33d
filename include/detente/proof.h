/* detente: ElGamal encryption and the zero-knowledge proofs of
 * ElectionGuard 2.0, generic over the group interface.
 *
 * Challenges and responses are scalars; a challenge read from a record is
 * the 32-byte hash value reduced mod q (spec 5.4; challenges below 2^256 by
 * construction). Verification functions run in variable time (public data);
 * provers run in constant time in their secrets and wipe them. */
#ifndef DETENTE_PROOF_H
#define DETENTE_PROOF_H

#include <detente/group.h>
#include <detente/hash.h>

/* Exponential ElGamal as in spec (24): (alpha, beta) = (g^xi, K^(m + xi)). */
void dt_elgamal_encrypt(const dt_group *g, dt_elem *alpha, dt_elem *beta, const dt_elem *K,
                        uint64_t m, const dt_scalar *xi);
/* The same with a fixed-base table for K (group.h; constant time), which
 * makes every exponentiation of an encryption and of its range proof a
 * fixed-base one. Kt must be a table of K. */
void dt_elgamal_encrypt_fb(const dt_group *g, dt_elem *alpha, dt_elem *beta, const dt_fixed_base *Kt,
                           uint64_t m, const dt_scalar *xi);

/* ---- Schnorr proof of a guardian's coefficient (spec 11, 12) ----
 * Statement: K_ij = g^a. c = H(H_P; 0x10, i, j, K_ij, h), v = u - c a. */
DT_WARN_UNUSED_RESULT dt_err dt_schnorr_prove(const dt_group *g, dt_scalar *c, dt_scalar *v,
                                              const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                                              uint32_t j, const dt_elem *K_ij, const dt_scalar *a);
/* Returns DT_OK or DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_schnorr_verify_var(const dt_group *g,
                                                   const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                                                   uint32_t j, const dt_elem *K_ij,
                                                   const dt_scalar *c, const dt_scalar *v);

/* ---- Range proof: (alpha, beta) encrypts ell in [0, R] (spec 44-48) ----
 * c and v are arrays of R + 1 scalars (branch order 0..R).
 * c = H(H_E; 0x21, K, alpha, beta, a_0, b_0, ..., a_R, b_R), sum c_j = c mod q. */
DT_WARN_UNUSED_RESULT dt_err dt_range_prove(const dt_group *g, dt_scalar *c, dt_scalar *v,
                                            const unsigned char he[DT_HASH_BYTES],
                                            const dt_elem *K, const dt_elem *alpha,
                                            const dt_elem *beta, const dt_scalar *xi,
                                            uint32_t ell, uint32_t R);
/* The same with Kt, a fixed-base table of K (may be NULL: then K^t is a
 * variable-base power). */
DT_WARN_UNUSED_RESULT dt_err dt_range_prove_fb(const dt_group *g, dt_scalar *c, dt_scalar *v,
                                               const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                                               const dt_fixed_base *Kt, const dt_elem *alpha,
                                               const dt_elem *beta, const dt_scalar *xi, uint32_t ell,
                                               uint32_t R);
/* Returns DT_OK or DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_range_verify_var(const dt_group *g,
                                                 const unsigned char he[DT_HASH_BYTES],
                                                 const dt_elem *K, const dt_elem *alpha,
                                                 const dt_elem *beta, const dt_scalar *c,
                                                 const dt_scalar *v, uint32_t R);

/* ---- Chaum-Pedersen proof of a decryption (spec 69-76, 90) ----
 * Statement: M = A^s where K = g^s, T = B / M.
 * c = H(H_E; 0x30, K, A, B, a, b, M) with a = g^u, b = A^u; v = u - c s.
 * The prover here knows s itself (one key holder); the joint proof of k
 * guardians combines per-guardian commitments (module ceremony). */
DT_WARN_UNUSED_RESULT dt_err dt_decryption_prove(const dt_group *g, dt_elem *M, dt_scalar *c,
                                                 dt_scalar *v, const unsigned char he[DT_HASH_BYTES],
                                                 const dt_elem *K, const dt_elem *A,
                                                 const dt_elem *B, const dt_scalar *s);
/* Checks the proof for T (M = B / T). Returns DT_OK or DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_decryption_verify_var(const dt_group *g,
                                                      const unsigned char he[DT_HASH_BYTES],
                                                      const dt_elem *K, const dt_elem *A,
                                                      const dt_elem *B, const dt_elem *T,
                                                      const dt_scalar *c, const dt_scalar *v);

/* The challenge of a decryption proof from its commitments (used by joint
 * provers and by the verifier). */
void dt_decryption_challenge(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                             const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                             const dt_elem *A, const dt_elem *B, const dt_elem *a,
                             const dt_elem *b, const dt_elem *M);

#endif
