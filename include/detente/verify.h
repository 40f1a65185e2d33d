/* detente: the verifier of an ElectionGuard 2.0 election record (spec 6.2,
 * verification steps 1 to 18).
 *
 * The report keeps, for each step, its status, how many items it checked,
 * how many failed, and the first messages (file, ballot, contest, selection
 * and which sub-check failed). A record is valid if and only if every
 * applicable step passes. */
#ifndef DETENTE_VERIFY_H
#define DETENTE_VERIFY_H

#include <detente/common.h>
#include <detente/record.h>

#define DT_VERIFY_STEPS 18

typedef enum dt_step_status {
    DT_STEP_PASS = 0,
    DT_STEP_FAIL = 1,
    DT_STEP_NA = 2,
} dt_step_status;

typedef struct dt_verify_report dt_verify_report;

typedef struct dt_verify_opts {
    unsigned threads;                                   /* 0: one per online CPU */
    void (*progress)(void *arg, size_t done, size_t total); /* may be NULL */
    void *progress_arg;
} dt_verify_opts;

/* Runs every verification step on rec. opts may be NULL. */
DT_WARN_UNUSED_RESULT dt_err dt_verify(dt_verify_report **out, const dt_record *rec,
                                       const dt_verify_opts *opts);
void dt_verify_report_destroy(dt_verify_report *rep);

/* 1 if every applicable step passed, 0 otherwise. */
int dt_verify_report_ok(const dt_verify_report *rep);
/* Steps are numbered 1..DT_VERIFY_STEPS. */
const char *dt_verify_step_name(int step);
dt_step_status dt_verify_step_status(const dt_verify_report *rep, int step);
size_t dt_verify_step_checked(const dt_verify_report *rep, int step);
size_t dt_verify_step_failures(const dt_verify_report *rep, int step);
/* The number of stored failure messages (at most DT_VERIFY_MAX_MESSAGES). */
size_t dt_verify_step_messages(const dt_verify_report *rep, int step);
const char *dt_verify_step_message(const dt_verify_report *rep, int step, size_t i);
/* Why a step is not applicable, or NULL. */
const char *dt_verify_step_note(const dt_verify_report *rep, int step);

#define DT_VERIFY_MAX_MESSAGES 20

#endif
