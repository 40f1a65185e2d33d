/* Private: dt_ballot_parse reads encrypted ballots with cJSON
 * (ballot_cjson.c, src/util/cjson_strict.h): the election server takes
 * every ballot through it. The jansson reader it replaced (ballot_json.c,
 * dt_ballot_from_json) reads the texts cJSON cannot parse (nested more than
 * 1000 levels), and is the reference that tests/test_ballot_parse.c and
 * fuzz/fuzz_ballot_diff.c hold it to. */
#ifndef DT_BALLOT_BALLOT_CJSON_H
#define DT_BALLOT_BALLOT_CJSON_H

#include <detente/ballot.h>

/* dt_ballot_parse through jansson (json_loadb, then dt_ballot_from_json):
 * for the texts cJSON cannot parse, tests and fuzzing. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_parse_jansson(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg,
                                                     const char *json, size_t len);

#endif
