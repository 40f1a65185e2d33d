/* detente: a witness that cosigns a log's checkpoints (C2SP tlog-witness
 * v1.0.0, tlog-cosignature v1.0.1).
 *
 * A witness has its own Ed25519 key and its own state folder:
 *   DIR/witness.key   its signer key (PRIVATE+KEY+..., mode 0600)
 *   DIR/witness.vkey  its verifier key, one line
 *   DIR/logs          the logs it knows: one log verifier key (vkey) a line;
 *                     the key's name is the log's origin
 *   DIR/state.db      SQLite: per origin the last checkpoint it cosigned
 * It cosigns a checkpoint only if the log's signature verifies and, when it
 * has cosigned one before, a consistency proof from that one verifies. The
 * check and the store of the new state are one SQLite transaction (IMMEDIATE),
 * so two requests racing, in one process or several, cannot both advance
 * from the same state. */
#ifndef DETENTE_WITNESS_H
#define DETENTE_WITNESS_H

#include <detente/common.h>
#include <detente/merkle.h>
#include <detente/note.h>

/* Request bodies larger than this are refused (413). */
#define DT_WITNESS_REQUEST_MAX (DT_NOTE_MAX_BYTES + 70 * 46)

typedef struct dt_witness dt_witness;

/* Creates a new witness folder dir (which must not exist or be empty) with a
 * fresh key named name (1..255 printable ASCII, no '+' or space). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_witness_create(const char *dir, const char *name);
/* Opens an existing witness folder. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_witness_open(dt_witness **out, const char *dir);
void dt_witness_close(dt_witness *w);
/* The witness's verifier key. */
DT_NONNULL(1, 2) void dt_witness_verifier(const dt_witness *w, dt_note_verifier *out);
/* Adds a log's verifier key (a vkey string of len bytes) to DIR/logs, atomically;
 * DT_ERR_INVALID if a log of that origin is already known with another key. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_witness_add_log(dt_witness *w, const char *vkey, size_t len);

/* The verifying witness's extra check, called inside the transaction after
 * the consistency proof has verified and before the state is stored, for a
 * checkpoint that grows the log from (old_size, old_root) to (new_size,
 * new_root) (old_size is 0 for the first checkpoint of a log). DT_OK lets
 * the witness cosign; anything else refuses with 422 and why (NUL-terminated,
 * at most whycap bytes) as the reason. */
typedef dt_err (*dt_witness_check_fn)(void *arg, const char *origin, size_t originlen, uint64_t old_size,
                                      const unsigned char old_root[DT_MERKLE_HASH_BYTES], uint64_t new_size,
                                      const unsigned char new_root[DT_MERKLE_HASH_BYTES], char *why, size_t whycap);
DT_NONNULL(1) void dt_witness_set_check(dt_witness *w, dt_witness_check_fn fn, void *arg);

/* The answer to one request. body is malloc'ed (free with
 * dt_witness_response_free); content_type is static. why explains a refusal
 * in one line (empty on success), for logs and error bodies. */
typedef struct dt_witness_response {
    int status;               /* HTTP status */
    const char *content_type; /* e.g. "text/plain; charset=utf-8", "text/x.tlog.size" */
    char *body;
    size_t len;
    char why[256];
} dt_witness_response;
void dt_witness_response_free(dt_witness_response *r);

/* Handles the body of one tlog-witness add-checkpoint request ("old N",
 * consistency proof lines, an empty line, the signed checkpoint) at time now
 * (POSIX seconds, for the cosignature). Fills resp; the status follows
 * tlog-witness v1.0.0:
 *   200  cosigned: body = the cosignature line(s)
 *   400  malformed request body
 *   403  checkpoint not signed by a known key of a known origin
 *   404  unknown origin
 *   409  old size differs from the witness's: body = its size, content type
 *        text/x.tlog.size; also for a checkpoint of the same size as the last
 *        cosigned one but a different root (a split view)
 *   422  consistency proof invalid, or the check function refused
 *   500  the state could not be stored (nothing cosigned)
 * Returns DT_OK when resp was filled (whatever its status), DT_ERR_NOMEM
 * otherwise. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 5) dt_err dt_witness_add_checkpoint(dt_witness *w, const char *req, size_t reqlen,
                                                                          uint64_t now, dt_witness_response *resp);

/* The last checkpoint the witness cosigned for origin: size and root
 * (DT_ERR_NOT_FOUND if none). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 4, 5) dt_err dt_witness_state(dt_witness *w, const char *origin, size_t originlen,
                                                                    uint64_t *size, unsigned char root[DT_MERKLE_HASH_BYTES]);

/* Builds an add-checkpoint request body: "old <old_size>\n", one base64 hash
 * a line, "\n", then the checkpoint note. *out malloc'ed. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 6) dt_err dt_witness_request_format(char **out, size_t *outlen, uint64_t old_size,
                                                                          const unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                                          size_t prooflen, const char *note,
                                                                          size_t notelen);

/* A minimal HTTP/1.1 client for plain http://host:port/path URLs (the
 * witnesses of a board are reached this way). POSTs body and returns the
 * status and the response body (*resp malloc'ed, at most 1 MiB). Timeout
 * in milliseconds for the whole exchange. DT_ERR_IO on connection failure
 * or timeout, DT_ERR_ENCODING on a malformed response. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 4, 5, 6) dt_err dt_http_post(const char *url, const void *body, size_t len, int *status,
                                                                char **resp, size_t *resplen, int timeout_ms);

#endif
