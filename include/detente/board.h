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

/* The log's lookup keys of an entry (log.h, dt_log_append_multikeyed with
 * two keys an entry): every entry is keyed by its path, "p" + path, and an
 * encrypted ballot also by its code, "c" + code. Whoever appends an entry
 * (dt_board_publish, the election server) uses both, so that a path and a
 * code are each on the board at most once. Return the key's length. */
#define DT_BOARD_KEY_MAX (1 + DT_BOARD_PATH_MAX)
size_t dt_board_path_key(unsigned char key[DT_BOARD_KEY_MAX], const char *path, size_t len);
size_t dt_board_code_key(unsigned char key[1 + DT_BOARD_CODE_BYTES], const unsigned char code[DT_BOARD_CODE_BYTES]);

/* ---- The operator's side ------------------------------------------------
 *
 * A record folder DIR with a board has:
 *   DIR/board/checkpoint       the latest cosigned checkpoint (public)
 *   DIR/board/log.vkey         the log's verifier key, one line
 *   DIR/board/witnesses.vkey   one witness verifier key a line
 *   DIR/board/tile/...         the log as C2SP tlog-tiles
 *   DIR/board/blob/<hex>       artifacts too big for an entry
 *   DIR/private_data/board/    the operator's state: log.db (the log
 *                              store), log.key (the log's signer, 0600),
 *                              or, for a log on PostgreSQL, log.location
 *                              (its postgresql:// URI, 0600) instead of
 *                              log.db
 * The witnesses to ask and the quorum are kept in the log store. A witness
 * is either a local witness folder (dt_witness_open) or an http:// URL with
 * its verifier key ("URL VKEY"). Several processes (election servers, on
 * one machine or many) may open one board whose log is on PostgreSQL, each
 * appending and publishing (docs/scale.md). */
typedef struct dt_board dt_board;

/* The largest number of witnesses of one board. */
#define DT_BOARD_MAX_WITNESSES 32

/* Creates the board of DIR: a new log with a new key and the given origin
 * (the checkpoint's first line; it names the election), and the witnesses
 * to ask, of which quorum must cosign every checkpoint (1 <= quorum <=
 * nwitnesses). Refuses if DIR already has a board. Registers the log's key
 * with every local witness. *msg (malloc'ed) explains a failure. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_board_init(char **msg, const char *dir, const char *origin,
                                                               const char *const *witnesses, size_t nwitnesses,
                                                               size_t quorum);
/* As dt_board_init, with the log at location: NULL for the SQLite store
 * DIR/private_data/board/log.db, or a postgresql:// (postgres://) URI,
 * written to DIR/private_data/board/log.location (0600) so that every later
 * command finds the log. The database must not hold a board's log yet. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 4) dt_err dt_board_init_at(char **msg, const char *dir, const char *location,
                                                                  const char *origin, const char *const *witnesses,
                                                                  size_t nwitnesses, size_t quorum);
/* 1 if DIR has a board (its operator's state: log.db or log.location), else 0. */
int dt_board_exists(const char *dir);
/* Where DIR's log is: location if not NULL, else the URI in
 * DIR/private_data/board/log.location, else DIR/private_data/board/log.db.
 * *out malloc'ed. DT_ERR_IO if log.location cannot be read. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_log_location(char **out, const char *dir, const char *location);
/* Opens DIR's board, its log where dt_board_log_location(dir, NULL) says. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_board_open(dt_board **out, char **msg, const char *dir);
/* As dt_board_open, with the log at location (NULL: as dt_board_open): the
 * same database seen from another machine, say. The log must be this
 * board's: its origin the name of DIR's log key. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_board_open_at(dt_board **out, char **msg, const char *dir,
                                                                  const char *location);
void dt_board_close(dt_board *b);

/* Puts every public file of DIR not yet on the board onto it (in path
 * order, in one durable batch), refusing, with nothing appended, if a file
 * already on the board has changed or two ballots share a confirmation code;
 * exports the tiles and blobs; signs a checkpoint; asks every witness to
 * cosign it; and, if at least the quorum did, writes DIR/board/checkpoint.
 * With too few cosignatures the entries stay in the log (it is append-only)
 * and the next publish asks again. *added (if not NULL) gets the number of
 * entries appended, *cosigned the number of witnesses that cosigned. On
 * success *msg is NULL, or says which witnesses refused and why (a warning:
 * the quorum cosigned); free it. Several processes may publish one board at
 * once: a file that another appended first is simply on the board; a
 * witness that has cosigned a newer checkpoint of this log is asked again
 * at the log's new size, and a newer checkpoint already cosigned and stored
 * covers this one (success); DIR/board/checkpoint and the stored checkpoint
 * only ever move forward. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_publish(dt_board *b, char **msg, size_t *added,
                                                               size_t *cosigned);

/* As dt_board_publish, without the ballots' files: it neither writes them
 * from the log (dt_board_restore) nor reads DIR/encrypted_ballots/. The
 * election server's periodic publish: its ballots are on the log already,
 * and a folder of a million ballot files is not read every few seconds;
 * the record's other files added while it serves are published. Nor does
 * it write the tiles (DIR/board/tile/: the entry bundles are every entry's
 * bytes again), which the server serves from the log (dt_board_tile) --
 * unless a witness of the board is a verifying one in this process, which
 * reads them from the folder. A full publish writes them all. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_publish_light(dt_board *b, char **msg, size_t *added,
                                                                     size_t *cosigned);

/* 1: b's light publishes write the tiles to the folder too, as a full one
 * does (for a verifying witness that reads the folder, such as `detente
 * witness serve --verify DIR/board`, which this process cannot see); 0
 * (the default): only for a verifying witness in this process. */
void dt_board_set_light_tiles(dt_board *b, int write);

/* Tile (level, index) of width (1..256) of the board, as a full publish
 * writes it to DIR/board/tile/..., built from the log: level 0..7 a hash
 * tile, DT_TILE_ENTRIES (tiles.h) an entry bundle. *data malloc'ed (caller
 * frees). DT_ERR_RANGE if the log does not hold the whole tile. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 5, 6) dt_err dt_board_tile(dt_board *b, unsigned level, uint64_t index,
                                                               unsigned width, unsigned char **data, size_t *len);

/* The ballots' files. The election server puts ballots on the log only;
 * their files in DIR/encrypted_ballots/ are written from the log by
 * dt_board_restore, which dt_board_publish (detente board publish, detente
 * close) runs first. DIR/private_data/board/files.synced records a log size
 * below which every ballot entry's file is on disk in DIR, and the log's
 * origin. dt_board_restore writes, from its entry, the file of each later
 * ballot entry that is missing or is not the entry's bytes (what a crash
 * leaves of a file being written), then syncs the file system and records
 * the log's size. Without a mark, or with another log's, it first records
 * a mark of 0 for this log (its folder synced), then does the same from
 * entry 0; a run cut short is followed by the same.
 * *restored (if not NULL) gets the number of files written, *marked (if
 * not NULL) the size recorded (0 on failure). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_restore(dt_board *b, char **msg, size_t *restored,
                                                               uint64_t *marked);

/* The voter's receipt (a tlog-proof, see receipt.h) for the ballot with
 * confirmation code code, against the latest cosigned checkpoint.
 * DT_ERR_NOT_FOUND if no ballot has that code or it is not yet covered by a
 * cosigned checkpoint (*msg says which). *receipt malloc'ed. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 4, 5) dt_err dt_board_receipt(dt_board *b, char **msg,
                                                                        const unsigned char code[DT_BOARD_CODE_BYTES],
                                                                        char **receipt, size_t *len);

/* ---- The auditor's side -------------------------------------------------- */

/* The board's checks, in the order they run. */
typedef enum dt_board_check {
    DT_BOARD_CHECK_SIGNATURE = 0, /* the checkpoint is signed by the log key and names its origin */
    DT_BOARD_CHECK_QUORUM,        /* at least the quorum of witnesses cosigned it */
    DT_BOARD_CHECK_TREE,          /* tiles and entries hash to the checkpoint's root */
    DT_BOARD_CHECK_ENTRIES,       /* every entry is well formed, its file is in the record, byte for byte */
    DT_BOARD_CHECK_COMPLETE,      /* every public file of the record is on the board */
    DT_BOARD_CHECK_CLOSED,        /* no ballot entry from closed.json's board_size on */
    DT_BOARD_CHECKS
} dt_board_check;

typedef struct dt_board_verify_opts {
    const char *log_vkey;       /* the log's key (a vkey string); NULL: DIR/board/log.vkey */
    const char *witnesses_file; /* witness keys, one a line; NULL: DIR/board/witnesses.vkey */
    size_t quorum;              /* 0: a majority of the witnesses listed */
    /* The confirmation code of the ballot file at path (relative to DIR) as
     * the caller already parsed it from that file (detente verify has the
     * record loaded): 1 and *code set, or 0 if it does not know. NULL: the
     * board parses every ballot file again to compare its code with the
     * entry's (a JSON parse per ballot). */
    int (*ballot_code)(void *arg, const char *path, unsigned char code[32]);
    void *ballot_code_arg;
} dt_board_verify_opts;

typedef struct dt_board_report dt_board_report;

/* Checks DIR's board. DT_ERR_NOT_FOUND if DIR has no DIR/board/checkpoint
 * (the caller decides whether that is acceptable); otherwise DT_OK with a
 * report (whatever the checks found) or DT_ERR_NOMEM. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err dt_board_verify(dt_board_report **out, const char *dir,
                                                              const dt_board_verify_opts *opts);
void dt_board_report_destroy(dt_board_report *r);
int dt_board_report_ok(const dt_board_report *r);
const char *dt_board_check_name(dt_board_check c);
/* 0 pass, 1 fail, 2 not run (an earlier check failed and this one depends on it) */
int dt_board_check_status(const dt_board_report *r, dt_board_check c);
size_t dt_board_check_count(const dt_board_report *r, dt_board_check c); /* items checked */
size_t dt_board_check_messages(const dt_board_report *r, dt_board_check c);
const char *dt_board_check_message(const dt_board_report *r, dt_board_check c, size_t i);
/* The checkpoint's size and the number of witnesses that cosigned it. */
uint64_t dt_board_report_size(const dt_board_report *r);
size_t dt_board_report_cosigned(const dt_board_report *r);

/* ---- The verifying witness ---------------------------------------------- */

/* The argument of dt_board_witness_check. */
typedef struct dt_board_witness_check_arg {
    const char *board_dir;  /* the board's tiles (DIR/board, as served) */
    const char *mirror_dir; /* the witness's own copy of the record, kept between checkpoints */
} dt_board_witness_check_arg;

/* A dt_witness_check_fn (witness.h): reads the entries of the checkpoint
 * being cosigned from board_dir's tiles (they must hash to new_root), adds
 * the new ones (old_size .. new_size - 1) to the mirror (each file at most
 * once; a ballot's code must match its entry), and verifies the record the
 * mirror holds (every ElectionGuard step that applies must pass). Refuses
 * otherwise, with why. The cost is one verification of the record so far
 * per checkpoint. */
dt_err dt_board_witness_check(void *arg, const char *origin, size_t originlen, uint64_t old_size,
                              const unsigned char old_root[32], uint64_t new_size, const unsigned char new_root[32],
                              char *why, size_t whycap);

#endif
