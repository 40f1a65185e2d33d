/* detente: verifiable decryption by any k of the n guardians (ElectionGuard
 * 2.0 section 3.6, eqs. 63-90), and the contest-data variant.
 *
 * Decryption of a ciphertext (A, B) is a two-round protocol between the
 * available guardians U (|U| >= k) and a combiner who holds no secret:
 *   round 1: guardian i sends M_i = A^P(i) and commitments a_i = g^u_i,
 *            b_i = A^u_i (it keeps u_i secret, to be used once);
 *   combine: M = prod M_i^w_i (w_i Lagrange coefficients), a = prod a_i,
 *            b = prod b_i, c = H(H_E; 0x30, K, A, B, a, b, M);
 *   round 2: guardian i answers v_i = u_i - c w_i P(i);
 *   combine: every answer is checked against g^P(i) (from the ceremony's
 *            public commitments, eq. 74) and M_i (eq. 75); v = sum v_i.
 * The result is T = B / M = K^t with the proof (c, v). A guardian whose
 * share fails its check is named. */
#ifndef DETENTE_TALLY_H
#define DETENTE_TALLY_H

#include <detente/group.h>
#include <detente/hash.h>

/* w_i = prod_{l in U, l != i} l / (l - i) mod q. U holds distinct nonzero
 * guardian indices and must contain i; DT_ERR_INVALID otherwise. */
DT_WARN_UNUSED_RESULT dt_err dt_lagrange_coefficient(const dt_group *g, dt_scalar *w, uint32_t i,
                                                     const uint32_t *U, size_t nU);

/* Round 1 for one ciphertext component A. P_i is the guardian's key share;
 * u_i receives the one-use secret nonce (the caller wipes it after round 2). */
DT_WARN_UNUSED_RESULT dt_err dt_dshare_commit(const dt_group *g, dt_elem *M_i, dt_elem *a_i, dt_elem *b_i,
                                              dt_scalar *u_i, const dt_elem *A, const dt_scalar *P_i);

/* Round 2: v_i = u_i - c w_i P(i); wipes u_i. */
void dt_dshare_respond(const dt_group *g, dt_scalar *v_i, dt_scalar *u_i, const dt_scalar *c,
                       const dt_scalar *w_i, const dt_scalar *P_i);

/* Checks guardian i's answer (eqs. 74, 75): a_i = g^v_i gP_i^(c w_i) and
 * b_i = A^v_i M_i^(c w_i). gP_i = g^P(i) from the public commitments.
 * Returns DT_OK or DT_ERR_PROOF. */
DT_WARN_UNUSED_RESULT dt_err dt_dshare_verify_var(const dt_group *g, const dt_elem *gP_i, const dt_elem *A,
                                                  const dt_elem *M_i, const dt_elem *a_i, const dt_elem *b_i,
                                                  const dt_scalar *c, const dt_scalar *w_i, const dt_scalar *v_i);

/* Combines round-1 messages of the guardians in U (arrays of nU):
 * M = prod M_i^w_i, a = prod a_i, b = prod b_i. */
void dt_dshare_combine(const dt_group *g, dt_elem *M, dt_elem *a, dt_elem *b, const dt_elem *M_i,
                       const dt_elem *a_i, const dt_elem *b_i, const dt_scalar *w, size_t nU);

/* The challenge of a contest-data decryption proof as egk-ec's records frame
 * it (docs/record-format.md): H(H_E; 0x31, K, C0, hex(C1) upper case, C2, a, b, beta). */
void dt_contest_data_challenge(const dt_group *g, unsigned char out[DT_HASH_BYTES],
                               const unsigned char he[DT_HASH_BYTES], const dt_elem *K, const dt_elem *C0,
                               const unsigned char *C1, size_t c1len, const unsigned char C2[32],
                               const dt_elem *a, const dt_elem *b, const dt_elem *beta);

#endif

/* ---- contest data (record layout, docs/record-format.md) ---- */

/* Opens contest data with beta = C0^s: k = H(H_E; 0x22, K, C0, beta), checks
 * C2 = HMAC(k_0, enc(C0) || C1) in constant time, then writes the first
 * num_bytes plaintext bytes to plain (num_bytes <= c1len). DT_ERR_PROOF if
 * the MAC does not check; nothing is written then. */
DT_WARN_UNUSED_RESULT dt_err dt_contest_data_open(const dt_group *g, unsigned char *plain,
                                                  const unsigned char he[DT_HASH_BYTES], const dt_elem *K,
                                                  const dt_elem *C0, const dt_elem *beta, const char *label,
                                                  const unsigned char *C1, size_t c1len,
                                                  const unsigned char C2[32], uint32_t num_bytes);

/* The record KDF: k_i = HMAC(k, b(i,4) || "share_enc_keys" || 0x00 ||
 * "contest_data" || label || b(bits,4)). */
void dt_contest_data_kdf(unsigned char out[32], const unsigned char k[32], uint32_t i, const char *label,
                         uint32_t bits);

/* Parses the plaintext layout: LEB128 count of overvoted options and their
 * sequence orders, count of write-ins and each (length, UTF-8), then the
 * status (length, text). Fills status (NUL-terminated) and, if not NULL,
 * *over (malloc'ed array, *nover entries) and write-in count. */
DT_WARN_UNUSED_RESULT dt_err dt_contest_data_parse(const unsigned char *plain, size_t n, char *status,
                                                   size_t statuslen, uint32_t **over, size_t *nover,
                                                   size_t *nwrite_ins);
