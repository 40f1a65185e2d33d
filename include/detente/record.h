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

/* Frees a record; NULL does nothing. */
void dt_record_destroy(dt_record *rec);

#endif
