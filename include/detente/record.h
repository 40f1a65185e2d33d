/* detente: reading an election record (the JSON layout of ElectionGuard 2.0
 * records made by egk-ec; docs/record-format.md). */
#ifndef DETENTE_RECORD_H
#define DETENTE_RECORD_H

#include <detente/common.h>

typedef struct dt_record dt_record;

/* Reads the public record in dir (private_data/ is never read). On failure
 * returns an error and, if msg is not NULL, a malloc'ed message naming the
 * file and what is wrong (caller frees). */
DT_WARN_UNUSED_RESULT dt_err dt_record_load(dt_record **out, char **msg, const char *dir);

/* Parts of a record, for the steps that produce one. */
typedef enum dt_record_part {
    DT_RECORD_CONFIG = 1,   /* constants.json, manifest.json, election_config.json */
    DT_RECORD_ELECTION = 2, /* and election_initialized.json (what a voting device needs) */
    DT_RECORD_ALL = 3,      /* and the ballots, tallies and decryptions */
} dt_record_part;

/* Reads the first part(s) of a record only; as dt_record_load otherwise. */
DT_WARN_UNUSED_RESULT dt_err dt_record_load_part(dt_record **out, char **msg, const char *dir,
                                                 dt_record_part part);

/* Frees a record; NULL does nothing. */
void dt_record_destroy(dt_record *rec);

#endif
