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

/* The encrypted ballot files of the record in dir as dt_record_load reads
 * them (encrypted_ballots/FOLDER/NAME.json, sorted), relative to dir; at
 * most the reader's limit. Free with dt_record_free_files. */
DT_WARN_UNUSED_RESULT dt_err dt_record_ballot_files(char ***files, size_t *n, char **msg, const char *dir);
void dt_record_free_files(char **files, size_t n);

/* Reads a shard of a record: the election's files (as DT_RECORD_ELECTION),
 * tally.json if there is one, and the nfiles ballot files given (paths
 * relative to dir, as dt_record_ballot_files gives them, each once, in any
 * order; the record holds them sorted). With results, also
 * encrypted_tally.json and challenged_ballots/. Errors as dt_record_load. */
DT_WARN_UNUSED_RESULT dt_err dt_record_load_shard(dt_record **out, char **msg, const char *dir,
                                                  const char *const *files, size_t nfiles, int results);

/* Frees a record; NULL does nothing. */
void dt_record_destroy(dt_record *rec);

#endif
