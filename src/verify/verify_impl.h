/* Private to the verifier: the partial result of the per-ballot steps
 * (verify.c makes and finishes it, partial.c serializes and merges it). */
#ifndef DT_VERIFY_IMPL_H
#define DT_VERIFY_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <detente/group.h>
#include <detente/verify.h>

#include "record/record.h"

/* Failure messages of step 10.E ("contest C, used by ballot B, is missing"
 * from tally.json) are found per ballot but reported with step 10's label
 * checks, after the tally's own: they travel in this extra slot. */
#define DT_VP_LATE10 (DT_VERIFY_STEPS + 1)
#define DT_VP_SLOTS (DT_VERIFY_STEPS + 2)

/* flags of a ballot's metadata */
#define DT_VP_PREENCRYPT 1u /* is_preencrypt */
#define DT_VP_BAUX_FORM 2u  /* B_aux is 32 bytes followed by B_aux,0 (7.E) */
#define DT_VP_BAUX32 4u     /* B_aux has at least 32 bytes */

typedef struct dt_vp_msg {
    uint8_t step; /* 1..DT_VERIFY_STEPS, or DT_VP_LATE10 */
    char *text;
} dt_vp_msg;

/* What the global steps need of one ballot: small, whatever its size. */
typedef struct dt_vp_ballot {
    char *file; /* relative to the record: the ballots' order */
    char *id;
    char *device;                /* chained records only (7.E); else NULL */
    unsigned char code[32];      /* confirmation code (7.C, the board's B.4) */
    unsigned char baux_prev[32]; /* chained records: B_aux's first 32 bytes */
    uint8_t state;               /* DT_BALLOT_CAST or DT_BALLOT_CHALLENGED */
    uint8_t flags;               /* DT_VP_* */
    size_t nmsg;                 /* the ballot's failure messages that are kept, */
    dt_vp_msg *msg;              /* in the order they were found */
    const dt_rec_ballot *b;      /* the ballot in the record it was verified from; not serialized */
} dt_vp_ballot;

struct dt_verify_partial {
    dt_group_id group;
    size_t eb;                /* element length */
    unsigned char he[32];     /* H_E of the election */
    size_t nopts;             /* options of the manifest, in manifest order */
    dt_elem *A, *B;           /* per option: the product of the cast ballots' alphas and betas */
    uint64_t *count;          /* per option: the cast ballots multiplied in */
    uint64_t nfail[DT_VP_SLOTS];
    uint64_t checked[DT_VP_SLOTS];
    size_t nballots, cap;
    dt_vp_ballot *ballots;
    bool sorted;              /* ballots in file order, each file once */
};

/* An empty partial for rec's election (identity aggregates); NULL if out of memory. */
dt_verify_partial *dt_vp_create(const dt_record *rec);
/* The number of options of rec's manifest. */
size_t dt_vp_options(const dt_record *rec);
/* Frees one ballot's metadata (not the struct). */
void dt_vp_ballot_free(dt_vp_ballot *b);
/* Sorts the ballots by file if they are not; DT_ERR_INVALID if a file is
 * there twice (two shards that overlap), DT_ERR_NOMEM. */
dt_err dt_vp_sort(dt_verify_partial *p);
/* Keeps only the first DT_VERIFY_MAX_MESSAGES messages of each step over
 * the ballots in file order (p sorted): no others can be reported. */
void dt_vp_trim(dt_verify_partial *p);
/* Whether p belongs to rec's election: group, element length, H_E, options. */
bool dt_vp_matches(const dt_verify_partial *p, const dt_record *rec);

#endif
