/* Private: the record reader's encrypted ballots, read with cJSON
 * (src/util/cjson_strict.h) instead of jansson: the hot path of
 * dt_record_load (one call a ballot file, on every core). Same checks, same
 * messages and same acceptance as the jansson reader it replaces, which
 * stays in record.c for the texts cJSON cannot parse (nested more than 1000
 * levels) and as the reference of the differential test
 * (tests/test_ballot_parse.c) and fuzzer (fuzz/fuzz_ballot_diff.c). */
#ifndef DT_RECORD_BALLOT_CJSON_H
#define DT_RECORD_BALLOT_CJSON_H

#include "record/record.h"

/* Parses the encrypted ballot text[0..len) into b, whose fields must be
 * zero but for b->file (left alone); file (the path relative to the record)
 * begins every message. elem_bytes is the length of an element. On error
 * *msg (if msg and not yet set) is set and b may hold some fields: the
 * caller frees them as it frees a ballot (dt_record_destroy). No size
 * limit is checked here: the caller has (DT_LIMIT_FILE_BYTES).
 * *beyond is set (and DT_ERR_LIMIT returned, b untouched, no message) when
 * cJSON cannot parse the text (nested deeper than DT_JSON_MAX_DEPTH): the
 * caller then reads it with jansson, which decides. */
DT_WARN_UNUSED_RESULT dt_err dt_rec_ballot_parse(dt_rec_ballot *b, char **msg, bool *beyond, const char *file,
                                                 size_t elem_bytes, const unsigned char *text, size_t len);

/* The reference for tests and fuzzing only: dt_record_parse_file with
 * DT_RECORD_FILE_BALLOT, but through the jansson reader (record.c). */
DT_WARN_UNUSED_RESULT dt_err dt_record_parse_ballot_jansson(dt_record **out, char **msg, size_t elem_bytes,
                                                            const unsigned char *bytes, size_t len);

#endif
