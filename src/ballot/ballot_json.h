/* Private: the ballot module's JSON values (jansson), for the CLI and the
 * other modules that assemble records. The public API (ballot.h) has the
 * same as text. */
#ifndef DT_BALLOT_BALLOT_JSON_H
#define DT_BALLOT_BALLOT_JSON_H

#include <jansson.h>

#include <detente/ballot.h>

/* The encrypted ballot in the record's layout; NULL on allocation failure.
 * A PENDING ballot is misuse. */
json_t *dt_ballot_to_json(const dt_ballot *b);
/* dt_ballot_serialize as it was, json_dumps of dt_ballot_to_json: the
 * reference its bytes are tested against */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_serialize_jansson(const dt_ballot *b, char **out, size_t *outlen);
/* and of dt_ballot_serialize_compact: JSON_COMPACT */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_serialize_compact_jansson(const dt_ballot *b, char **out, size_t *outlen);
/* Reads an encrypted ballot from a JSON value (see dt_ballot_parse). */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_from_json(const dt_ballot_ctx *ctx, dt_ballot **out, char **msg,
                                                 const json_t *j);
/* The plaintext ballot in the pballot layout; NULL on allocation failure.
 * jansson does not wipe what it frees: prefer dt_plaintext_ballot_serialize
 * for secrets. */
json_t *dt_plaintext_ballot_to_json(const dt_plaintext_ballot *pb);

#endif
