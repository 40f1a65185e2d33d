/* Private: helpers shared by the election's steps (workflow.c) and the
 * decryption rounds (decrypt_rounds.c, decrypt_nonces.c). */
#ifndef DT_ELECTION_WORKFLOW_IMPL_H
#define DT_ELECTION_WORKFLOW_IMPL_H

#include <jansson.h>

#include <detente/workflow.h>

#include "record/record.h"

/* Sets *msg (if msg is not NULL and *msg is NULL) to the formatted message;
 * returns err. */
dt_err dt_wf_failmsg(char **msg, dt_err err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes j to dir/rel (dt_json_save: atomic, mode 0644) and releases j;
 * a failure names the file. */
DT_WARN_UNUSED_RESULT dt_err dt_wf_save(char **msg, const char *dir, const char *rel, json_t *j);

/* The manifest contest with this id, or -1. */
long dt_wf_mcontest_index(const dt_rec_manifest *m, const char *id);

/* The secret state behind dt_decrypt_nonces (decrypt_nonces.c). */
struct dt_decrypt_nonces {
    uint32_t i;                     /* the guardian */
    int used;                       /* round 2 has consumed them */
    size_t n;                       /* ciphertexts */
    unsigned char he[32];           /* H_E */
    unsigned char list[32];         /* L, the hash of the decryption list */
    unsigned char share[32];        /* SHA-256 of the round-1 share text */
    dt_scalar *u;                   /* n nonces, sodium_malloc'ed */
};

/* Allocates nonces for n ciphertexts (u zeroed); NULL if out of memory. */
dt_decrypt_nonces *dt_decrypt_nonces_alloc(size_t n);

/* Most ciphertexts a decryption handles (docs/roles.md). */
#define DT_DECRYPT_MAX_CIPHERTEXTS 4000000u

#endif
