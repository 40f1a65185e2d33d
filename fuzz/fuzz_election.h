/* The elections the ballot harnesses parse against: the sample record of
 * tests/data (integer group, egk-ec's manifest) and fuzz/election (a
 * ristretto255 election made by `detente demo`; its set-up files only). */
#ifndef DT_FUZZ_ELECTION_H
#define DT_FUZZ_ELECTION_H

#include <detente/ballot.h>
#include <detente/record.h>

#include "fuzz.h"

typedef struct fuzz_election {
    dt_record *rec;
    dt_ballot_ctx *ctx;
} fuzz_election;

/* Loads dir's election (aborts if it cannot: the harness is broken). */
static inline void fuzz_election_load(fuzz_election *e, const char *dir)
{
    char *msg = NULL;
    if (dt_record_load_part(&e->rec, &msg, dir, DT_RECORD_ELECTION) != DT_OK ||
        dt_ballot_ctx_create(&e->ctx, &msg, e->rec) != DT_OK) {
        fprintf(stderr, "fuzz: cannot load the election %s: %s\n", dir, msg ? msg : "?");
        abort();
    }
}

#define FUZZ_ELECTION_INT DT_TEST_DATA "/allAvailable"
#define FUZZ_ELECTION_R255 DT_FUZZ_DIR "/election"

#endif
