/* detente: the election's steps that produce its record (the folder layout
 * of docs/record-format.md). Each step reads what the earlier ones wrote and
 * writes its files atomically; an error leaves nothing half-written and
 * comes with a message (*msg, malloc'ed) saying what is wrong and where. */
#ifndef DETENTE_WORKFLOW_H
#define DETENTE_WORKFLOW_H

#include <stdbool.h>

#include <detente/group.h>
#include <detente/record.h>

/* Creates an election in dir: constants.json, manifest.json (the bytes as
 * given, after validation), election_config.json with H_P, H_M, H_B. */
DT_WARN_UNUSED_RESULT dt_err dt_election_create(char **msg, const char *dir, dt_group_id group,
                                                const unsigned char *manifest, size_t len, uint32_t n,
                                                uint32_t k, const unsigned char *baux0, size_t baux0len,
                                                bool chain);

/* Opens the election after the key ceremony: checks every guardian's
 * commitments (JSON texts as dt_commitments_to_json writes them, one per
 * guardian, any order), computes K = prod K_i0 and H_E, and writes
 * election_initialized.json. */
DT_WARN_UNUSED_RESULT dt_err dt_election_open(char **msg, const char *dir, const char *const *commitments,
                                              size_t n);

/* Aggregates the cast ballots of the record in dir into encrypted_tally.json. */
DT_WARN_UNUSED_RESULT dt_err dt_election_tally(char **msg, const char *dir);
/* The same, on every core, and the number of cast and of challenged ballots
 * (either pointer may be NULL). */
DT_WARN_UNUSED_RESULT dt_err dt_election_tally_counts(char **msg, const char *dir, size_t *ncast,
                                                      size_t *nchallenged);

/* ---- decryption by any k guardians, in two rounds (spec 3.6) ----
 *
 * The protocol of include/detente/tally.h, run over every ciphertext that the
 * record asks to decrypt, in this fixed order (the "decryption list"):
 *   1. each selection of encrypted_tally.json, contest by contest, in the
 *      file's order;
 *   2. each challenged ballot, in the record's order (by the path of its file
 *      under encrypted_ballots/), contest by contest in the ballot's order:
 *      each selection in order, then the contest's data C0, if it has data.
 * Its hash L = SHA-256 of the list (docs/roles.md gives the bytes) binds
 * every message to the same ciphertexts; so does the election's H_E.
 *
 * The messages are JSON texts (docs/roles.md):
 *   share     (round 1, guardian i; public): M_i, a_i, b_i per ciphertext;
 *   challenge (anyone): the guardians U with the SHA-256 of each one's share
 *             text, and c per ciphertext;
 *   response  (round 2, guardian i; public): the SHA-256 of the challenge
 *             text, and v_i per ciphertext.
 * A guardian's round-1 nonces u_i are secret and used once: round 2 wipes
 * them. dt_election_decrypt runs the four steps in one process.
 *
 * Every function reads its texts strictly (unknown or duplicate keys, wrong
 * types, elements outside the group, scalars not below q are refused) and on
 * failure returns an error with a malloc'ed message in *msg (msg may be
 * NULL; the caller frees) naming the guardian and the ciphertext.
 * progress, if not NULL, is called after each ciphertext. */

/* A text and its length (a message, exactly the bytes of its file). */
typedef struct dt_text {
    const char *p;
    size_t len;
} dt_text;

typedef void (*dt_progress_fn)(void *arg, size_t done, size_t total);

/* A guardian's round-1 nonces: secret, in guarded memory, used once. */
typedef struct dt_decrypt_nonces dt_decrypt_nonces;

/* Round 1 for guardian i with key share P_i: refuses unless the record has
 * an encrypted tally and P_i matches g^P(i) from the published commitments,
 * and refuses to decrypt a challenged ballot that reuses a ciphertext of a
 * cast ballot (that would decrypt a cast vote). Draws u_i, computes
 * M_i = A^P(i), a_i = g^u_i, b_i = A^u_i per ciphertext.
 * Out: *share: the share text (malloc'ed, NUL-terminated; its bytes are
 *      strlen(*share)); *nonces: u_i, bound to i, H_E, L and the SHA-256 of
 *      *share. Both NULL on error. */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_round1(char **msg, char **share, dt_decrypt_nonces **nonces,
                                               const dt_record *rec, uint32_t i, const dt_scalar *P_i,
                                               dt_progress_fn progress, void *progress_arg);

/* Combines the round-1 shares of the guardians U (one text each, any order;
 * at least the quorum k, distinct guardians): Lagrange coefficients w_i for
 * U, M = prod M_i^w_i, a = prod a_i, b = prod b_i and the challenge c per
 * ciphertext (eq. 72; the contest-data form for contest data).
 * Out: *challenge: the challenge text (malloc'ed; NULL on error). */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_combine(char **msg, char **challenge, const dt_record *rec,
                                                const dt_text *shares, size_t nshares, dt_progress_fn progress,
                                                void *progress_arg);

/* Round 2 for guardian i: checks that the challenge names i, that every share
 * of U is given with the hash the challenge names, that nonces belong to i's
 * share, and that every c is the one the shares define (a wrong challenge
 * would waste the nonces); only then v_i = u_i - c w_i P(i) per ciphertext,
 * and the nonces are wiped (a second call with them returns DT_ERR_INVALID).
 * On an error before that the nonces are untouched.
 * In:  shares: the share texts of every guardian of U (i's included).
 * Out: *response: the response text (malloc'ed; NULL on error). */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_round2(char **msg, char **response, const dt_record *rec,
                                               const dt_text *challenge, const dt_text *shares, size_t nshares,
                                               uint32_t i, const dt_scalar *P_i, dt_decrypt_nonces *nonces,
                                               dt_progress_fn progress, void *progress_arg);

/* Checks every response against g^P(i) from the published commitments
 * (eqs. 74, 75; a bad one names the guardian), recomputes each challenge,
 * then writes challenged_ballots/ and tally.json into dir (the record's
 * folder). Nothing is written unless every check passes.
 * In:  shares, responses: one text per guardian of the challenge's U. */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_finish(char **msg, const dt_record *rec, const char *dir,
                                               const dt_text *challenge, const dt_text *shares, size_t nshares,
                                               const dt_text *responses, size_t nresponses,
                                               dt_progress_fn progress, void *progress_arg);

/* The guardian whose nonces these are. */
uint32_t dt_decrypt_nonces_guardian(const dt_decrypt_nonces *nonces);

/* Wipes and frees; NULL does nothing. */
void dt_decrypt_nonces_destroy(dt_decrypt_nonces *nonces);

/* Writes the nonces to path, encrypted under passphrase (Argon2id MODERATE,
 * XChaCha20-Poly1305 with the header as associated data; docs/roles.md):
 * a new file beside path (O_EXCL|O_NOFOLLOW, mode 0600), fsync, rename over
 * path, fsync of the folder. Refuses a path that is not a regular file.
 * Returns: DT_OK; DT_ERR_INVALID (empty passphrase, nonces already used);
 *          DT_ERR_IO; DT_ERR_NOMEM; DT_ERR_RANDOM. */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_nonces_save(const dt_decrypt_nonces *nonces, const char *path,
                                                    const char *passphrase);

/* Reads nonces written by dt_decrypt_nonces_save for rec's election.
 * Returns: DT_OK; DT_ERR_IO (cannot be read); DT_ERR_ENCODING (not a nonce
 *          file, or damaged); DT_ERR_INVALID (another election);
 *          DT_ERR_PROOF (wrong passphrase); DT_ERR_NOMEM. */
DT_WARN_UNUSED_RESULT dt_err dt_decrypt_nonces_load(dt_decrypt_nonces **out, const dt_record *rec,
                                                    const char *path, const char *passphrase);

/* A guardian present at decryption: its index and key share P(i). */
typedef struct dt_trustee {
    uint32_t x;
    dt_scalar P;
} dt_trustee;

/* Decrypts the tally and every challenged ballot with the guardians in U
 * (at least the quorum k; distinct indices) and writes tally.json and
 * challenged_ballots/: the two rounds above in one process (round 1 for each
 * guardian, combine, round 2 for each, finish). Every guardian's share is
 * checked against its public commitments before it is used; a bad share
 * names the guardian. progress, if not NULL, is called after each
 * ciphertext of each step. */
DT_WARN_UNUSED_RESULT dt_err dt_election_decrypt(char **msg, const char *dir, const dt_trustee *U, size_t nU,
                                                 void (*progress)(void *arg, size_t done, size_t total),
                                                 void *progress_arg);

#endif
