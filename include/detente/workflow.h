/* detente: the election's steps that produce its record (the folder layout
 * of docs/record-format.md). Each step reads what the earlier ones wrote and
 * writes its files atomically; an error leaves nothing half-written and
 * comes with a message (*msg, malloc'ed) saying what is wrong and where. */
#ifndef DETENTE_WORKFLOW_H
#define DETENTE_WORKFLOW_H

#include <stdbool.h>

#include <detente/group.h>

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

/* A guardian present at decryption: its index and key share P(i). */
typedef struct dt_trustee {
    uint32_t x;
    dt_scalar P;
} dt_trustee;

/* Decrypts the tally and every challenged ballot with the guardians in U
 * (at least the quorum k; distinct indices) and writes tally.json and
 * challenged_ballots/. Every guardian's share is checked against its public
 * commitments before it is used; a bad share names the guardian. progress,
 * if not NULL, is called after each ciphertext. */
DT_WARN_UNUSED_RESULT dt_err dt_election_decrypt(char **msg, const char *dir, const dt_trustee *U, size_t nU,
                                                 void (*progress)(void *arg, size_t done, size_t total),
                                                 void *progress_arg);

#endif
