/* detente: the key ceremony of ElectionGuard 2.0 (spec section 3.2, eqs.
 * 9-23; shared/interop/electionguard-2.0/SPEC-DIGEST.md D2), generic over the
 * group interface.
 *
 * Each of the n guardians G_i (i = 1..n) with quorum k:
 *   1. draws k secret coefficients a_{i,0..k-1} (uniform, nonzero: spec
 *      3.2.2's 0 < a < q; dt_guardian_create) and publishes the commitments
 *      K_{i,j} = g^a_{i,j} with a Schnorr proof each (dt_guardian_commitments);
 *   2. checks everyone's proofs (dt_commitments_verify_var);
 *   3. sends G_l the share P_i(l) = sum_j a_{i,j} l^j, encrypted under
 *      K_l = K_{l,0} with the hashed ElGamal of eqs. 14-19
 *      (dt_guardian_encrypt_share);
 *   4. decrypts and checks every share it receives against the sender's
 *      commitments, eq. 21 (dt_guardian_receive_share); a failure is a
 *      public complaint against the sender, who answers by revealing P_i(l)
 *      and the nonce xi_{i,l} (dt_guardian_reveal_share), and anyone judges
 *      (dt_ceremony_judge_complaint_var);
 *   5. once it holds all n-1 shares, computes its key share
 *      P(i) = sum_{j=1..n} P_j(i) mod q (dt_guardian_finish).
 * The joint key is K = prod_i K_{i,0} (dt_ceremony_joint_key); anyone can
 * compute g^P(i) from the public commitments (dt_ceremony_public_share_var)
 * to check decryption shares (eq. 74).
 *
 * Encodings follow the group: an element is hashed in its canonical encoding
 * (b(x, 512) in the integer group, 32 bytes in ristretto255); a scalar is
 * dt_group_scalar_bytes(g) bytes big-endian (32 for both standard groups).
 * The share-encryption KDF is the spec's layout (1-byte counter, 2-byte
 * length 0x0200), not egk-ec's (SPEC-DIGEST pitfall 9): shares encrypted by
 * egk-ec do not decrypt here, and the reverse.
 *
 * Secrets (coefficients, received shares, the key share, the nonce seed)
 * live in sodium_malloc'ed memory that is inaccessible while no call is
 * running (sodium_mprotect_noaccess) and wiped on destroy. A dt_guardian is
 * not thread-safe: one thread at a time, including for the const calls.
 * Functions ending in _var run in variable time and take public data only.
 * Outputs never alias inputs unless said otherwise. A NULL pointer where an
 * object is required, or a k that differs from the guardian's quorum, is
 * programmer misuse (dt_misuse aborts); hostile data returns an error. */
#ifndef DETENTE_CEREMONY_H
#define DETENTE_CEREMONY_H

#include <detente/group.h>
#include <detente/hash.h>

/* Limits on n (and so on i and k). */
#define DT_CEREMONY_MAX_GUARDIANS 1000u

/* Bytes in the binary form of a share ciphertext (dt_share_ct_bytes):
 * b(from,4) || b(to,4) || enc(C0) || C1 (scalar bytes) || C2 (32). */
#define DT_SHARE_CT_MAX_BYTES (8 + DT_ELEM_MAX_BYTES + DT_SCALAR_BYTES + DT_HASH_BYTES)

typedef struct dt_guardian dt_guardian;

/* An encrypted share E_l(P_i(l)) = (C0, C1, C2) from guardian i to guardian
 * l (public). Fixed size, opaque: read it through the functions below. */
typedef struct dt_share_ct {
    _Alignas(16) unsigned char opaque[16 + DT_ELEM_MAX_BYTES + DT_SCALAR_BYTES + DT_HASH_BYTES];
} dt_share_ct;

/* The verdict on a complaint (dt_ceremony_judge_complaint_var). */
typedef enum dt_complaint_verdict {
    DT_COMPLAINT_DISMISSED = 1, /* the revealed share matches the ciphertext and eq. 21 */
    DT_COMPLAINT_UPHELD = 2,    /* the sender cheated: it must be replaced */
} dt_complaint_verdict;

/* ---- a guardian's secret state ---- */

/* Creates guardian i of n with quorum k: draws a_{i,0..k-1} (nonzero) and a
 * secret seed for its share-encryption nonces.
 * Returns: DT_OK; DT_ERR_INVALID unless 1 <= k <= n <= DT_CEREMONY_MAX_GUARDIANS,
 *          1 <= i <= n and n < q; DT_ERR_NOMEM; DT_ERR_RANDOM.
 * Args: g: the group; borrowed, must outlive the guardian.
 * Out:  *out: the new guardian (NULL on error). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_create(dt_guardian **out, const dt_group *g, uint32_t i, uint32_t n,
                                                uint32_t k);

/* Wipes and frees a guardian; NULL does nothing. */
void dt_guardian_destroy(dt_guardian *gd);

uint32_t dt_guardian_index(const dt_guardian *gd);  /* i */
uint32_t dt_guardian_count(const dt_guardian *gd);  /* n */
uint32_t dt_guardian_quorum(const dt_guardian *gd); /* k */

/* Out: K_i0 = K_{i,0} = g^a_{i,0}, the guardian's public key. */
void dt_guardian_public_key(const dt_guardian *gd, dt_elem *K_i0);

/* Computes the commitments K_{i,j} = g^a_{i,j} and fresh Schnorr proofs
 * (c_{i,j}, v_{i,j}) (spec 10-12) for j = 0..k-1.
 * Returns: DT_OK; DT_ERR_RANDOM (outputs zeroed).
 * Args: k: must equal the guardian's quorum (misuse otherwise).
 * Out:  K, c, v: arrays of k. */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_commitments(const dt_guardian *gd, dt_elem *K, dt_scalar *c,
                                                     dt_scalar *v, size_t k);

/* Encrypts P_i(l) for guardian l (spec 14-19). The nonce xi_{i,l} is derived
 * from the guardian's secret seed, i and l, so the ciphertext is the same at
 * every call and the guardian can always reveal it (also after a reload).
 * Returns: DT_OK; DT_ERR_INVALID if l is not in 1..n, l == i, or K_l is the
 *          identity (anyone could read the share).
 * In:   K_l: guardian l's public key K_{l,0}, from its verified commitments.
 * Out:  ct. */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_encrypt_share(const dt_guardian *gd, dt_share_ct *ct, uint32_t l,
                                                       const dt_elem *K_l);

/* Answers a complaint by guardian l: P_i(l) and the nonce xi_{i,l} of the
 * share sent to l. Both become public.
 * Returns: DT_OK; DT_ERR_INVALID if l is not in 1..n or l == i (outputs zeroed). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_reveal_share(const dt_guardian *gd, dt_scalar *value, dt_scalar *xi,
                                                      uint32_t l);

/* Decrypts and checks a share sent to this guardian (spec 20, 21): beta =
 * C0^s, the MAC is checked in constant time before anything else is used,
 * the value must be below q and satisfy g^P_i(l) = prod_j K_{i,j}^(l^j).
 * Only then is it stored. Any failure is a complaint against the sender.
 * Returns: DT_OK;
 *          DT_ERR_INVALID: the share is not addressed to this guardian, its
 *                          sender is not in 1..n, a share from that sender is
 *                          already held, or the guardian is finished;
 *          DT_ERR_PROOF:   the MAC or eq. 21 fails;
 *          DT_ERR_RANGE:   the decrypted value is not below q.
 * In:   K_from: the sender's k commitments, whose Schnorr proofs the caller
 *               has checked (dt_commitments_verify_var). k must equal the
 *               quorum (misuse otherwise). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_receive_share(dt_guardian *gd, const dt_share_ct *ct,
                                                       const dt_elem *K_from, size_t k);

/* 1 if a checked share from guardian `from` is held (always 0 for from == i
 * or from outside 1..n), else 0. */
int dt_guardian_has_share(const dt_guardian *gd, uint32_t from);

/* Computes the key share P(i) = sum_{j=1..n} P_j(i) mod q (spec 22, 65).
 * Calling it again recomputes the same value.
 * Returns: DT_OK; DT_ERR_INVALID if a share from some guardian is missing. */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_finish(dt_guardian *gd);

/* Out: P_i = P(i), the key share, for decryption (module tally). The caller
 * keeps it secret and wipes it.
 * Returns: DT_OK; DT_ERR_INVALID if dt_guardian_finish has not succeeded
 *          (P_i zeroed). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_key_share(const dt_guardian *gd, dt_scalar *P_i);

/* ---- the guardian file (docs/guardian-file.md) ----
 * The whole secret state, encrypted under a passphrase (Argon2id, then
 * XChaCha20-Poly1305 with the header as associated data), bound to the group
 * and to a 32-byte election identifier chosen by the caller (H_B, say). */

/* Writes the guardian to path atomically: a new file in the same folder
 * (O_EXCL|O_NOFOLLOW, mode 0600), fsync, rename over path, fsync of the
 * folder. Refuses a path that is a symbolic link or not a regular file.
 * The Argon2id cost is libsodium's MODERATE (256 MiB, 3 passes, about 1 s).
 * Returns: DT_OK; DT_ERR_INVALID (empty passphrase); DT_ERR_IO; DT_ERR_NOMEM;
 *          DT_ERR_RANDOM. On error path is unchanged, except when the final
 *          fsync of the folder fails (DT_ERR_IO with the new file in place). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_save(const dt_guardian *gd, const char *path, const char *passphrase,
                                              const unsigned char election_id[32]);

/* Reads a guardian written by dt_guardian_save. The header is checked (and
 * a file of another election refused) before the passphrase is stretched.
 * Returns: DT_OK;
 *          DT_ERR_IO:       the file cannot be opened or read (not found);
 *          DT_ERR_ENCODING: not a guardian file, truncated or corrupted
 *                           (also a valid passphrase with a damaged body);
 *          DT_ERR_INVALID:  a file of another election or another group;
 *          DT_ERR_PROOF:    wrong passphrase;
 *          DT_ERR_NOMEM.
 * Args: g: must be the group the file was written with; borrowed.
 * Out:  *out: the guardian (NULL on error). */
DT_WARN_UNUSED_RESULT dt_err dt_guardian_load(dt_guardian **out, const dt_group *g, const char *path,
                                              const char *passphrase, const unsigned char election_id[32]);

/* ---- public checks (anyone) ---- */

/* Verifies guardian i's k Schnorr proofs (spec 2.A-2.B / eq. 12).
 * Returns: DT_OK; DT_ERR_PROOF (and *bad_j = the first failing j, if bad_j
 *          is not NULL); DT_ERR_INVALID if k == 0 or i is not in 1..2^31-1.
 * Identity commitments are accepted (spec 3.2.1 allows a_{i,j} = 0;
 * dt_guardian_encrypt_share refuses to encrypt to an identity key). */
DT_WARN_UNUSED_RESULT dt_err dt_commitments_verify_var(const dt_group *g,
                                                       const unsigned char hp[DT_HASH_BYTES], uint32_t i,
                                                       const dt_elem *K, const dt_scalar *c,
                                                       const dt_scalar *v, size_t k, size_t *bad_j);

/* K = prod_{i=1..n} K_{i,0} (spec 8). K_i0: the n public keys. n >= 1. */
void dt_ceremony_joint_key(const dt_group *g, dt_elem *K, const dt_elem *K_i0, size_t n);

/* g^P(i) = prod_{j=1..n} prod_{m=0..k-1} K_{j,m}^(i^m) (spec 13, 74): the
 * public image of guardian i's key share. K_all: n*k commitments, row j-1
 * holds guardian j's (K_all[(j-1)*k + m] = K_{j,m}). i >= 1, n, k >= 1. */
void dt_ceremony_public_share_var(const dt_group *g, dt_elem *out, uint32_t i, const dt_elem *K_all, size_t n,
                                  size_t k);

/* Judges guardian l's complaint against guardian i about ct, given what i
 * revealed (spec 3.2.2, D2.4): re-encrypts value with xi and requires the
 * very same ciphertext, then requires eq. 21. Public data only.
 * In:  K_l: the complainer's public key K_{l,0} (l = dt_share_ct_to(ct));
 *      K_i: the sender's k commitments (i = dt_share_ct_from(ct)).
 * Returns DT_COMPLAINT_UPHELD if either check fails (the sender cheated),
 * DT_COMPLAINT_DISMISSED otherwise. */
dt_complaint_verdict dt_ceremony_judge_complaint_var(const dt_group *g, const unsigned char hp[DT_HASH_BYTES],
                                                     const dt_share_ct *ct, const dt_elem *K_l,
                                                     const dt_elem *K_i, size_t k, const dt_scalar *value,
                                                     const dt_scalar *xi);

/* ---- share ciphertexts ---- */

/* The encryption of eqs. 14-19 with an explicit share value and nonce:
 * alpha = g^xi, beta = K_l^xi, k = H(H_P; 0x11, b(i,4), b(l,4), K_l, alpha, beta),
 * k0/k1 = HMAC(k, 0x01/0x02 || "share_enc_keys" || 0x00 || "share_encrypt"
 *              || b(i,4) || b(l,4) || 0x02 0x00),
 * C0 = alpha, C1 = b(value, lq) XOR k1, C2 = HMAC(k0, enc(C0) || C1).
 * Constant time in value and xi.
 * Returns: DT_OK; DT_ERR_INVALID if i or l is not in 1..2^31-1, i == l, or
 *          xi is zero (ct zeroed). */
DT_WARN_UNUSED_RESULT dt_err dt_share_encrypt(const dt_group *g, dt_share_ct *ct,
                                              const unsigned char hp[DT_HASH_BYTES], uint32_t i, uint32_t l,
                                              const dt_elem *K_l, const dt_scalar *value,
                                              const dt_scalar *xi);

uint32_t dt_share_ct_from(const dt_share_ct *ct); /* i, the sender */
uint32_t dt_share_ct_to(const dt_share_ct *ct);   /* l, the recipient */

/* Length of the binary form: 8 + element bytes + scalar bytes + 32. */
size_t dt_share_ct_bytes(const dt_group *g);
/* Writes dt_share_ct_bytes(g) bytes. */
void dt_share_ct_serialize(const dt_group *g, unsigned char *out, const dt_share_ct *ct);
/* Parses the binary form: exact length, 1 <= from, to < 2^31, from != to,
 * C0 in the group. Returns DT_OK, DT_ERR_ENCODING, DT_ERR_RANGE or
 * DT_ERR_NOT_IN_GROUP (ct zeroed on error). */
DT_WARN_UNUSED_RESULT dt_err dt_share_ct_parse(const dt_group *g, dt_share_ct *ct, const unsigned char *in,
                                               size_t inlen);
/* Compares the binary forms: < 0, 0 or > 0. Variable time. */
int dt_share_ct_cmp_var(const dt_group *g, const dt_share_ct *a, const dt_share_ct *b);

/* ---- JSON messages ----
 * Elements and scalars are standard base64 (with padding) of their exact
 * encodings. Parsers check JSON types, reject unknown and duplicate keys,
 * decode every element with full validation and every scalar below q. On
 * failure they return an error and, if msg is not NULL, a malloc'ed message
 * naming the key (the caller frees it). Outputs are malloc'ed strings. */

/* A guardian's commitments and proofs, the layout of an entry of
 * election_initialized.json's guardians[] (egk-ec):
 *   {"guardian_id": "guardian<i>", "x_coordinate": i,
 *    "coefficient_proofs": [{"public_key": b64, "challenge": b64, "response": b64}, ...]}
 * As in the record (docs/record-format.md), the challenge and the response
 * are 32 bytes big-endian in every group; a challenge read is reduced mod q
 * (it is a hash value), a response must be below q.
 * guardian_id: NULL for "guardian<i>".
 * Returns: DT_OK; DT_ERR_NOMEM; DT_ERR_INVALID if i is 0 or >= 2^31 or k == 0. */
DT_WARN_UNUSED_RESULT dt_err dt_commitments_to_json(const dt_group *g, char **out, const char *guardian_id,
                                                    uint32_t i, const dt_elem *K, const dt_scalar *c,
                                                    const dt_scalar *v, size_t k);

/* Parses the above. Exactly k coefficient proofs are required, 1 <= i <=
 * DT_CEREMONY_MAX_GUARDIANS, guardian_id a non-empty string of at most 256
 * bytes. The proofs are not verified here (dt_commitments_verify_var).
 * Returns: DT_OK; DT_ERR_PARSE (bad JSON, types, keys); DT_ERR_ENCODING
 *          (base64, lengths); DT_ERR_NOT_IN_GROUP; DT_ERR_RANGE; DT_ERR_LIMIT;
 *          DT_ERR_NOMEM.
 * Out: *guardian_id (if not NULL): a malloc'ed copy; *i; K, c, v: arrays of k. */
DT_WARN_UNUSED_RESULT dt_err dt_commitments_from_json(const dt_group *g, char **guardian_id, uint32_t *i,
                                                      dt_elem *K, dt_scalar *c, dt_scalar *v, size_t k,
                                                      const char *json, size_t len, char **msg);

/* An encrypted share: {"from": i, "to": l, "c0": b64, "c1": b64, "c2": b64}. */
DT_WARN_UNUSED_RESULT dt_err dt_share_ct_to_json(const dt_group *g, char **out, const dt_share_ct *ct);
/* Parses the above: 1 <= from, to <= DT_CEREMONY_MAX_GUARDIANS, from != to,
 * c0 in the group, c1 of scalar bytes, c2 of 32. Same errors as above. */
DT_WARN_UNUSED_RESULT dt_err dt_share_ct_from_json(const dt_group *g, dt_share_ct *ct, const char *json,
                                                   size_t len, char **msg);

#endif
