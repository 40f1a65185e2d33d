/* detente: ballot encryption (ElectionGuard 2.0 sections 3.3 and 3.4), generic
 * over the group interface, in the record layout of egk-ec
 * (docs/record-format.md).
 *
 * The flow on a voting device:
 *   dt_record_load (an election folder: constants, manifest, config,
 *     election_initialized; it may hold no ballots)
 *   -> dt_ballot_ctx_create          the election, checked once
 *   -> dt_ballot_device_create       a device id, B_aux,0, its chain of codes
 *   -> dt_plaintext_ballot_parse     the voter's choices, checked on the manifest
 *   -> dt_ballot_encrypt             ciphertexts, proofs, contest data, code
 *   -> show the confirmation code; the voter decides
 *   -> dt_ballot_set_state (CAST or CHALLENGED) -> dt_ballot_serialize
 * and for a challenged ballot the device reveals the ballot nonce xi_B, which
 * opens the ballot: dt_ballot_decrypt_with_nonce (Benaloh challenge, spec
 * 3.6.5).
 *
 * Nonces (spec 3.3.2, eq. 25 and 50, with detente's unbiased rule for
 * ristretto255; DESIGN.md "Hashing"):
 *   selection:    xi = D(0x20 || xi_B || b(ind_c,4) || b(ind_o,4))            (41 bytes)
 *   contest data: xi = D(0x20 || xi_B || b(ind_c,4) || b(12,4) || "contest_data") (53 bytes)
 * where D = dt_ballot_derive_nonce. ind_c and ind_o are the manifest's
 * sequence_order values of the contest and the option (as egk-ec's records
 * use them).
 *
 * Contest status and contest data: with sigma the sum of a contest's votes
 * and L its votes_allowed, the status is null_vote (sigma = 0), under_vote
 * (0 < sigma < L), normal (sigma = L) or over_vote (sigma > L). An overvoted
 * contest is encrypted with every option 0 (spec 3.3.8) and its contest data
 * lists the sequence orders of the options marked. Write-in texts go into the
 * contest data only (a manifest's write-in option carries the vote). The
 * contest data is egk-ec's layout (LEB128 varints: the number of overvoted
 * options and their sequence orders, the number of write-ins and each as
 * length and UTF-8, the status as length and text), zero-filled to
 * numBytes = 32 (L+1) - 2 bytes (as the sample record; more if the data
 * needs 32 (L+1) - 1 or 32 (L+1) bytes) and encrypted in b_D = L+1 blocks
 * with the record's KDF; data longer than 32 (L+1) bytes is truncated as
 * egk-ec does (write-ins beyond L dropped and "*" appended; each write-in
 * cut to 30 bytes plus "*"; overvote list cut to L+1 entries plus the marker
 * 0xFFFFFFFF; then all write-ins replaced by "*"; then the overvote list
 * by the marker alone).
 *
 * B_aux: without chaining, B_aux = B_aux,0 for every ballot. With chaining
 * (election_config.json chain_confirmation_codes), B_aux,j = H_(j-1) ||
 * B_aux,0 with H_0 = H(H_E; 0x24, B_aux,0) (spec eq. 59, 60; B_aux,0 not
 * length-prefixed, as the confirmation code), and B_aux,0 must be the
 * record's baux0.
 *
 * Threads: a dt_ballot_ctx is immutable after creation and may be shared by
 * any number of threads. A device, a plaintext ballot and a ballot are used
 * by one thread at a time. Lifetimes: the ctx borrows the record, and
 * devices, plaintext ballots and ballots borrow the ctx: destroy them first.
 *
 * Errors: hostile or malformed input (a plaintext ballot, an encrypted
 * ballot) returns an error code and, if msg is not NULL, a malloc'ed message
 * (caller frees; *msg is set to NULL first) naming the ballot, contest and
 * selection. NULL objects and calls in the wrong state abort through
 * dt_misuse. On error every output pointer is set to NULL.
 *
 * Secrets: plaintext ballots and ballot nonces are wiped when destroyed or
 * consumed; a dt_ballot_nonce the caller receives must be wiped by the caller
 * (dt_ballot_nonce_wipe). Not constant time in the votes: parsing JSON
 * (jansson, which also frees its copies of the votes without wiping them),
 * the contest status and the contest-data encoding (a few branches per
 * contest). The range proofs (dt_range_prove_commit treats every branch
 * alike) and the exponentiations run in constant time in the nonces and
 * votes. */
#ifndef DETENTE_BALLOT_H
#define DETENTE_BALLOT_H

#include <detente/common.h>
#include <detente/group.h>
#include <detente/hash.h>
#include <detente/record.h>

/* ---- the ballot nonce xi_B ---- */

#define DT_BALLOT_NONCE_BYTES 32
size_t dt_ballot_nonce_bytes(void);

typedef struct dt_ballot_nonce {
    unsigned char bytes[DT_BALLOT_NONCE_BYTES]; /* xi_B, 32 random bytes */
} dt_ballot_nonce;

/* Wipes a ballot nonce. */
void dt_ballot_nonce_wipe(dt_ballot_nonce *xi_b);

/* ---- nonce derivation (shared with the ceremony and the tally) ----
 *
 * dt_ballot_derive_nonce: a scalar from H(H_E; msg), where msg starts with
 * its domain-separation byte:
 *   ristretto255:     the 64 bytes H(H_E; msg || 0x01) || H(H_E; msg || 0x02),
 *                     read big-endian and reduced mod l (unbiased: the order
 *                     is about 2^252);
 *   other groups:     the 32 bytes H(H_E; msg) read big-endian and reduced
 *                     mod q (spec 3.3.2; q of the integer group is 2^256-189).
 * Constant time in msg's bytes. out may not alias msg. */
void dt_ballot_derive_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                            const unsigned char *msg, size_t msglen);
/* xi_(i,j) = D(0x20 || xi_B || b(ind_c,4) || b(ind_o,4)). ind_c, ind_o < 2^31. */
void dt_ballot_selection_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                               const dt_ballot_nonce *xi_b, uint32_t ind_c, uint32_t ind_o);
/* xi = D(0x20 || xi_B || b(ind_c,4) || b(12,4) || "contest_data"). ind_c < 2^31. */
void dt_ballot_contest_data_nonce(const dt_group *g, dt_scalar *out, const unsigned char he[DT_HASH_BYTES],
                                  const dt_ballot_nonce *xi_b, uint32_t ind_c);

/* ---- the election ---- */

typedef struct dt_ballot_ctx dt_ballot_ctx;

/* Prepares rec's election for ballots. Checks what encryption relies on:
 * K decodes and is not the identity, H_E = H(H_B; 0x12, K), and the manifest
 * has unique contest ids and sequence orders and, within each contest,
 * unique option ids and sequence orders (a repeated sequence order would
 * repeat a nonce). It does not run the verifier: check the election (steps
 * 1-4) before encrypting under it. rec is borrowed and must outlive the ctx.
 * Returns DT_OK, DT_ERR_INVALID, DT_ERR_NOT_IN_GROUP or DT_ERR_NOMEM. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_ctx_create(dt_ballot_ctx **out, char **msg, const dt_record *rec);
void dt_ballot_ctx_destroy(dt_ballot_ctx *ctx);

/* ---- an encrypting device ---- */

typedef struct dt_ballot_device dt_ballot_device;

/* Creates a device named device_id (1..1024 bytes; "encrypting_device" in its
 * ballots). baux0 = NULL takes B_aux,0 from the record (baux0 of
 * election_config.json); otherwise baux0len bytes are used. B_aux,0 has at
 * most 1024 bytes, 992 when chaining (the record reader's limit on B_aux).
 * With chaining, a baux0 that differs from the record's is refused
 * (DT_ERR_INVALID): the verifier would reject the chain. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_device_create(dt_ballot_device **out, char **msg,
                                                     const dt_ballot_ctx *ctx, const char *device_id,
                                                     const unsigned char *baux0, size_t baux0len);
void dt_ballot_device_destroy(dt_ballot_device *dev);
/* 1 if the device chains its confirmation codes. */
int dt_ballot_device_chains(const dt_ballot_device *dev);
/* The code the next ballot chains from: H_0 after creation, then the code
 * of the last ballot encrypted. Chaining only (misuse otherwise). */
void dt_ballot_device_chain_head(const dt_ballot_device *dev, unsigned char head[DT_HASH_BYTES]);
/* Continues a chain after a restart from the code of the device's last
 * published ballot. Chaining only (misuse otherwise). */
void dt_ballot_device_resume_chain(dt_ballot_device *dev, const unsigned char last_code[DT_HASH_BYTES]);

/* ---- plaintext ballots ---- */

typedef struct dt_plaintext_ballot dt_plaintext_ballot;

/* Parses a plaintext ballot in the layout of egk-ec's private data
 * (private_data/input/pballot-*.json):
 *   {"ballot_id", "ballot_style", "contests": [{"contest_id", "sequence_order"?,
 *     "selections": [{"selection_id", "sequence_order"?, "vote"}], "write_ins"?: [text]}]}
 * and checks it against the manifest. Refused, each with its own message:
 * malformed JSON or wrong types (DT_ERR_PARSE); an unknown ballot style, a
 * contest not in the manifest, a contest not on the ballot's style, an
 * option not in its contest, a contest or selection given twice, a
 * sequence_order that differs from the manifest (DT_ERR_INVALID); a vote
 * that is negative or above the option limit R (DT_ERR_RANGE) or not an
 * integer (DT_ERR_PARSE); more than 64 MiB, strings over 1024 bytes, more
 * than 1000 selections or write-ins in a contest (DT_ERR_LIMIT). Accepted: options
 * absent (0), contests of the style absent (all 0), and more votes in a
 * contest than its limit L (an overvote, recorded as such when encrypted). */
DT_WARN_UNUSED_RESULT dt_err dt_plaintext_ballot_parse(const dt_ballot_ctx *ctx, dt_plaintext_ballot **out,
                                                       char **msg, const char *json, size_t len);
/* Writes the ballot as JSON text in the same layout (every contest of the
 * style, every option; *out malloc'ed, NUL-terminated, *outlen without the
 * NUL; the caller wipes and frees it). A ballot opened by
 * dt_ballot_decrypt_with_nonce also has, per contest, "status" and
 * "over_votes" from its contest data, and its write-ins. */
DT_WARN_UNUSED_RESULT dt_err dt_plaintext_ballot_serialize(const dt_plaintext_ballot *pb, char **out,
                                                           size_t *outlen);
const char *dt_plaintext_ballot_id(const dt_plaintext_ballot *pb);
/* Wipes and frees; NULL does nothing. */
void dt_plaintext_ballot_destroy(dt_plaintext_ballot *pb);

/* ---- encrypted ballots ---- */

typedef struct dt_ballot dt_ballot;

typedef enum dt_ballot_state {
    DT_BALLOT_STATE_PENDING = 0,    /* encrypted, the voter has not decided */
    DT_BALLOT_STATE_CAST = 1,
    DT_BALLOT_STATE_CHALLENGED = 2,
} dt_ballot_state;

/* Encrypts pb on dev: a fresh ballot nonce xi_B, every option of every
 * contest of the ballot's style with its range proof 0..R, each contest's
 * limit proof 0..L, contest data, contest hashes, and the confirmation code
 * (B_aux per the device; a chaining device advances its chain). The ballot
 * is PENDING. If xi_b is not NULL it receives xi_B, which opens the ballot
 * (keep it secret unless the ballot is challenged; wipe it). timestamp:
 * seconds since the Unix epoch. pb must come from dev's ctx.
 * Returns DT_OK, DT_ERR_RANDOM or DT_ERR_NOMEM; on error the chain does not
 * advance. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_encrypt(dt_ballot_device *dev, dt_ballot **out, dt_ballot_nonce *xi_b,
                                               const dt_plaintext_ballot *pb, int64_t timestamp);

/* Records the voter's decision: CAST or CHALLENGED, once (misuse otherwise). */
void dt_ballot_set_state(dt_ballot *b, dt_ballot_state state);
dt_ballot_state dt_ballot_get_state(const dt_ballot *b);
const char *dt_ballot_id(const dt_ballot *b);
/* The ballot's "encrypting_device": the folder of the record it goes to. */
const char *dt_ballot_device_id(const dt_ballot *b);
void dt_ballot_confirmation_code(const dt_ballot *b, unsigned char code[DT_HASH_BYTES]);

/* Writes the ballot as JSON text in the record's layout
 * (encrypted_ballots/<device>/eballot-<id>.json; *out malloc'ed,
 * NUL-terminated, *outlen without the NUL). A PENDING ballot is misuse.
 * Returns DT_OK, DT_ERR_NOMEM, or DT_ERR_ENCODING for a string (an id, the
 * device) that is not UTF-8. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_serialize(const dt_ballot *b, char **out, size_t *outlen);
/* The same without new lines or spaces (json_dumps' JSON_COMPACT), about
 * half the bytes: what the election server stores and puts on the board. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_serialize_compact(const dt_ballot *b, char **out, size_t *outlen);
/* Reads an encrypted ballot in the record's layout: types, base64 and lengths
 * (elements of ctx's group, 32-byte scalars and hashes) are checked, nothing
 * cryptographic (that is the verifier's job, or dt_ballot_decrypt_with_nonce's).
 * A ballot without "state" is PENDING. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_parse(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg,
                                             const char *json, size_t len);
void dt_ballot_destroy(dt_ballot *b);

/* Checks one encrypted ballot as the verifier's steps 4.A, 5, 6 and 7.A-B
 * do (what an election server checks before it accepts a ballot): its
 * election_id is ctx's H_E; its style is in the manifest and it has exactly
 * that style's contests, in manifest order, each with the manifest's options
 * in order; every selection ciphertext is in the group with its range proof
 * 0..R; each contest's limit proof 0..L of the product of its selections;
 * each contest's data is present with C0 in the group, C1 of 32 (L+1) bytes
 * and numBytes within C1; every contest hash and the confirmation code.
 * Not handled yet, and refused (DT_ERR_INVALID): elections that chain
 * confirmation codes (the chain needs the device's previous ballots) and
 * pre-encrypted ballots. The first failure ends the check; *msg (if msg is
 * not NULL; malloc'ed) names the ballot, contest and selection. The ballot's
 * state is not looked at. Returns DT_OK, DT_ERR_INVALID (not this
 * election's ballot, or not its style's shape), DT_ERR_NOT_IN_GROUP,
 * DT_ERR_PROOF (a proof, hash or code that does not check) or DT_ERR_NOMEM.
 * The ballot's range proofs are checked as one batch (proof.h), and one by
 * one only when the batch fails, to name the bad one.
 * ctx may be shared between threads; b is only read. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_verify(const dt_ballot_ctx *ctx, const dt_ballot *b, char **msg);

/* dt_ballot_verify, with the commitment equations of the ballot's range
 * proofs (ristretto255 ballots carry their commitments: proof.h) added to bt,
 * a dt_batch under this election's K, instead of checked one by one; bt NULL:
 * dt_ballot_verify. DT_OK says that every other check passed. The ballot
 * passes only when dt_batch_check(bt) then holds; if it fails, check the
 * batch's ballots with dt_ballot_verify to name the bad ones. */
typedef struct dt_batch dt_batch;
/* A batch for ctx's election (dt_batch_destroy frees it); NULL when out of
 * memory. */
dt_batch *dt_ballot_batch_create(const dt_ballot_ctx *ctx);
DT_WARN_UNUSED_RESULT dt_err dt_ballot_verify_batched(const dt_ballot_ctx *ctx, const dt_ballot *b, char **msg,
                                                      dt_batch *bt);

/* Opens b with its ballot nonce (the voter's check of a challenged ballot):
 * checks that b is a ballot of ctx's election (election_id, style, its
 * contests and options in manifest order); re-derives every nonce; checks
 * alpha = g^xi and finds sigma in 0..R with beta = K^(sigma + xi) for each
 * option; opens and parses the contest data (MAC, layout, zero padding) and
 * checks that its status agrees with the votes; recomputes every contest hash
 * and the confirmation code. Range proofs are not checked (the verifier
 * does). Returns DT_OK with the plaintext ballot, or DT_ERR_INVALID (not this
 * election's ballot, or inconsistent), DT_ERR_PROOF (a value does not open
 * with this nonce, a hash or code does not match), DT_ERR_NOT_IN_GROUP,
 * DT_ERR_NOMEM. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_decrypt_with_nonce(const dt_ballot_ctx *ctx, dt_plaintext_ballot **out,
                                                          char **msg, const dt_ballot *b,
                                                          const dt_ballot_nonce *xi_b);

#endif
