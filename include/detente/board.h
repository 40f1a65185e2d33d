/* detente: an election's bulletin board.
 *
 * Every public artifact of an election record (each file under DIR except
 * DIR/private_data and DIR/board) is one entry of the board's log:
 *
 *   detente/entry/v1\n
 *   path <path of the file, relative to DIR>\n
 *   code <confirmation code, base64>\n          (encrypted ballots only)
 *   blob <SHA-256 of the file, 64 lower-case hex> <size>\n
 *                                               (only when too big to inline)
 *   \n
 *   <the file's bytes, unless blob>
 *
 * An entry is at most DT_LOG_ENTRY_MAX bytes; a file that would not fit is
 * entered as its blob line and served beside the tiles as
 * DIR/board/blob/<hex>. Paths are 1..255 bytes of [A-Za-z0-9._-] and '/',
 * with no empty, "." or ".." component. */
#ifndef DETENTE_BOARD_H
#define DETENTE_BOARD_H

#include <detente/common.h>

#define DT_BOARD_ENTRY_MAGIC "detente/entry/v1"
#define DT_BOARD_PATH_MAX 255
#define DT_BOARD_CODE_BYTES 32

typedef struct dt_board_entry {
    const char *path; /* points into the parsed data; not NUL-terminated */
    size_t pathlen;
    int has_code;
    unsigned char code[DT_BOARD_CODE_BYTES];
    int is_blob;
    unsigned char blob_hash[32];
    uint64_t blob_size;
    const unsigned char *body; /* the inline file bytes (bodylen 0 for a blob) */
    size_t bodylen;
} dt_board_entry;

/* Parses an entry strictly (the line order above, canonical base64 and hex,
 * a valid path, at most DT_LOG_ENTRY_MAX bytes). DT_ERR_ENCODING otherwise. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_entry_parse(dt_board_entry *e, const unsigned char *data,
                                                                   size_t len);

/* Builds the entry for a file of the record: *out malloc'ed. code may be
 * NULL. If the inline entry would exceed DT_LOG_ENTRY_MAX bytes the entry is
 * the blob form and *is_blob is set (the caller stores the content as a
 * blob); blob_hash gets SHA-256(content) either way. DT_ERR_INVALID for a bad
 * path. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 7, 8) dt_err dt_board_entry_format(unsigned char **out, size_t *outlen,
                                                                             const char *path, const unsigned char *code,
                                                                             const unsigned char *content, size_t contentlen,
                                                                             unsigned char blob_hash[32], int *is_blob);

/* 1 if path (len bytes) is a valid board path, else 0. */
int dt_board_path_valid(const char *path, size_t len);

#endif
