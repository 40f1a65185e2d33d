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

/* ---- Range proofs with their commitments (the ristretto255 profile) ----
 * The same proof as dt_range_prove_fb, which also hands out its commitments
 * a_j = g^v_j alpha^c_j and b_j = K^(v_j - j c_j) beta^c_j (arrays of R + 1;
 * public values). A record that carries them lets a verifier check the
 * challenge over the recorded commitments (dt_range_check_challenge) and the
 * commitments against the responses (dt_range_check_commitments_var, or many
 * proofs at once in a dt_batch). The two together accept exactly the proofs
 * that dt_range_verify_var accepts: if every commitment equation holds, the
 * recorded commitments are the ones dt_range_verify_var recomputes, and the
 * hashes agree (docs/ristretto255-profile.md). */
DT_WARN_UNUSED_RESULT dt_err dt_range_prove_commit(const dt_group *g, dt_scalar *c, dt_scalar *v, dt_elem *a,
                                                   dt_elem *b, const unsigned char he[DT_HASH_BYTES],
                                                   const dt_elem *K, const dt_fixed_base *Kt,
                                                   const dt_elem *alpha, const dt_elem *beta,
                                                   const dt_scalar *xi, uint32_t ell, uint32_t R);
/* DT_OK if H(H_E; 0x21, K, alpha, beta, a_0, b_0, ..., a_R, b_R) = sum c_j
 * mod q, else DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_range_check_challenge(const dt_group *g, const unsigned char he[DT_HASH_BYTES],
                                                      const dt_elem *K, const dt_elem *alpha,
                                                      const dt_elem *beta, const dt_elem *a,
                                                      const dt_elem *b, const dt_scalar *c, uint32_t R);
/* DT_OK if every a_j and b_j satisfies its equation, else DT_ERR_PROOF.
 * Variable time. */
DT_WARN_UNUSED_RESULT dt_err dt_range_check_commitments_var(const dt_group *g, const dt_elem *K,
                                                            const dt_elem *alpha, const dt_elem *beta,
                                                            const dt_elem *a, const dt_elem *b,
                                                            const dt_scalar *c, const dt_scalar *v,
                                                            uint32_t R);

/* ---- Batch verification of commitment equations ----
 * Collects the equations of many proofs, each of the form
 * prod base_i^e_i = 1, and checks them all with one multi-scalar
 * multiplication of their combination with independent random 128-bit
 * weights drawn from the OS when the batch is made. Every element must have
 * been decoded with validation (so lies in the prime-order group): then if
 * any equation fails, the combination is the identity with probability at
 * most 2^-128 (docs/ristretto255-profile.md, "Batch verification"). A failed batch says
 * only that some equation failed: check the proofs one by one
 * (dt_range_check_commitments_var) to name it. Variable time: public data.
 * A batch belongs to one thread. */
typedef struct dt_batch dt_batch;

/* A batch for proofs under the joint key K; NULL when out of memory or
 * without OS randomness. */
dt_batch *dt_batch_create(const dt_group *g, const dt_elem *K);
/* NULL does nothing. */
void dt_batch_destroy(dt_batch *bt);
/* Adds the 2 (R + 1) commitment equations of a range proof (arrays as for
 * dt_range_check_commitments_var; the batch copies what it needs).
 * DT_ERR_NOMEM leaves the batch unusable until dt_batch_check. */
DT_WARN_UNUSED_RESULT dt_err dt_batch_add_range(dt_batch *bt, const dt_elem *alpha, const dt_elem *beta,
                                                const dt_elem *a, const dt_elem *b, const dt_scalar *c,
                                                const dt_scalar *v, uint32_t R);
/* Adds the 2 equations of a decryption proof with its commitments a and b
 * (g^v K^c = a, A^v M^c = b: dt_decryption_check_commitments_var). */
DT_WARN_UNUSED_RESULT dt_err dt_batch_add_dleq(dt_batch *bt, const dt_elem *A, const dt_elem *M,
                                               const dt_elem *a, const dt_elem *b, const dt_scalar *c,
                                               const dt_scalar *v);
/* Adds the equation X = K^s. */
DT_WARN_UNUSED_RESULT dt_err dt_batch_add_kpow(dt_batch *bt, const dt_elem *X, const dt_scalar *s);
/* Adds every equation of src (a batch of the same group and key, left as
 * it is) to dst, with the weights src drew: the ballots of several requests
 * checked by one multi-scalar multiplication. DT_ERR_NOMEM leaves dst
 * unusable until dt_batch_check. */
DT_WARN_UNUSED_RESULT dt_err dt_batch_merge(dt_batch *dst, const dt_batch *src);
/* Equations added since the last check. */
size_t dt_batch_equations(const dt_batch *bt);
/* DT_OK if every equation added since the last check holds, DT_ERR_PROOF if
 * not, DT_ERR_NOMEM (after a failed add, or no scratch space). Empties the
 * batch in every case. An empty batch holds. */
DT_WARN_UNUSED_RESULT dt_err dt_batch_check(dt_batch *bt);

/* ---- Chaum-Pedersen proof of a decryption (spec 69-76, 90) ----
 * Statement: M = A^s where K = g^s, T = B / M.
 * c = H(H_E; 0x30, K, A, B, a, b, M) with a = g^u, b = A^u; v = u - c s.
 * The prover here knows s itself (one key holder); the joint proof of k
 * guardians combines per-guardian commitments (module ceremony). */
DT_WARN_UNUSED_RESULT dt_err dt_decryption_prove(const dt_group *g, dt_elem *M, dt_scalar *c,
                                                 dt_scalar *v, const unsigned char he[DT_HASH_BYTES],
                                                 const dt_elem *K, const dt_elem *A,
                                                 const dt_elem *B, const dt_scalar *s);
/* A proof whose commitments a and b are recorded (ristretto255 records,
 * docs/ristretto255-profile.md): the challenge over them,
 * c = H(H_E; 0x30, K, A, B, a, b, M) ... */
DT_WARN_UNUSED_RESULT dt_err dt_decryption_check_challenge(const dt_group *g, const unsigned char he[DT_HASH_BYTES],
                                                           const dt_elem *K, const dt_elem *A, const dt_elem *B,
                                                           const dt_elem *M, const dt_elem *a, const dt_elem *b,
                                                           const dt_scalar *c);
/* ... and their equations g^v K^c = a and A^v M^c = b. DT_OK or DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_decryption_check_commitments_var(const dt_group *g, const dt_elem *K,
                                                                 const dt_elem *A, const dt_elem *M,
                                                                 const dt_elem *a, const dt_elem *b,
                                                                 const dt_scalar *c, const dt_scalar *v);
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
