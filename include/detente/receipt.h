/* detente: voter receipts as C2SP tlog-proof v1 bundles.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 of the log entry>
 *   index <n>
 *   <base64 inclusion proof hash, one a line, leaf's sibling first>
 *   <empty line>
 *   <the cosigned checkpoint, verbatim>
 *
 * detente always fills extra with the entry itself, so that the receipt is
 * checkable offline: the leaf hash is computed from extra, and the entry
 * (a board entry, see board.h) names the confirmation code it is for. */
#ifndef DETENTE_RECEIPT_H
#define DETENTE_RECEIPT_H

#include <detente/common.h>
#include <detente/merkle.h>
#include <detente/note.h>

#define DT_RECEIPT_MAX (DT_NOTE_MAX_BYTES + 96 * 1024 + 70 * 46)

typedef struct dt_receipt {
    unsigned char *extra; /* malloc'ed; NULL when absent */
    size_t extralen;
    uint64_t index;
    unsigned char proof[DT_MERKLE_MAX_PROOF][DT_MERKLE_HASH_BYTES];
    size_t prooflen;
    char *note; /* the checkpoint note, malloc'ed, NUL-terminated */
    size_t notelen;
} dt_receipt;

/* Formats a receipt; *out malloc'ed (NUL-terminated; *outlen excludes it). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 8) dt_err dt_receipt_format(char **out, size_t *outlen, const unsigned char *extra,
                                                                  size_t extralen, uint64_t index,
                                                                  const unsigned char (*proof)[DT_MERKLE_HASH_BYTES],
                                                                  size_t prooflen, const char *note, size_t notelen);
/* Parses strictly (the line order above, canonical base64 and decimal, no
 * trailing garbage before the note). DT_ERR_ENCODING / DT_ERR_LIMIT. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_receipt_parse(dt_receipt *r, const char *text, size_t len);
void dt_receipt_free(dt_receipt *r);

/* Checks a parsed receipt offline: the checkpoint note carries a valid
 * signature by log (whose key name must equal the checkpoint's origin) and
 * valid cosignatures by at least quorum distinct keys among witnesses; the
 * entry (extra; required) is included at index in the checkpoint's tree.
 * On success *size gets the checkpoint's size (if not NULL). On failure
 * why (NUL-terminated, whycap bytes) says which check failed:
 * DT_ERR_PROOF (signature, quorum or inclusion), DT_ERR_ENCODING;
 * DT_ERR_INVALID if log is not a type 0x01 key or a witness not type 0x04. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_receipt_verify(const dt_receipt *r, const dt_note_verifier *log,
                                                                  const dt_note_verifier *witnesses, size_t nwitnesses,
                                                                  size_t quorum, uint64_t *size, char *why,
                                                                  size_t whycap);

#endif
