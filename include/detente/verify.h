/* detente: the verifier of an ElectionGuard 2.0 election record (spec 6.2,
 * verification steps 1 to 18).
 *
 * The report keeps, for each step, its status, how many items it checked,
 * how many failed, and the first messages (file, ballot, contest, selection
 * and which sub-check failed). A record is valid if and only if every
 * applicable step passes. */
#ifndef DETENTE_VERIFY_H
#define DETENTE_VERIFY_H

#include <detente/common.h>
#include <detente/record.h>

#define DT_VERIFY_STEPS 18

typedef enum dt_step_status {
    DT_STEP_PASS = 0,
    DT_STEP_FAIL = 1,
    DT_STEP_NA = 2,
} dt_step_status;

typedef struct dt_verify_report dt_verify_report;

typedef struct dt_verify_opts {
    unsigned threads;                                   /* 0: one per online CPU */
    void (*progress)(void *arg, size_t done, size_t total); /* may be NULL */
    void *progress_arg;
} dt_verify_opts;

/* Runs every verification step on rec. opts may be NULL. */
DT_WARN_UNUSED_RESULT dt_err dt_verify(dt_verify_report **out, const dt_record *rec,
                                       const dt_verify_opts *opts);
void dt_verify_report_destroy(dt_verify_report *rep);

/* 1 if every applicable step passed, 0 otherwise. */
int dt_verify_report_ok(const dt_verify_report *rep);
/* Steps are numbered 1..DT_VERIFY_STEPS. */
const char *dt_verify_step_name(int step);
dt_step_status dt_verify_step_status(const dt_verify_report *rep, int step);
size_t dt_verify_step_checked(const dt_verify_report *rep, int step);
size_t dt_verify_step_failures(const dt_verify_report *rep, int step);
/* The number of stored failure messages (at most DT_VERIFY_MAX_MESSAGES). */
size_t dt_verify_step_messages(const dt_verify_report *rep, int step);
const char *dt_verify_step_message(const dt_verify_report *rep, int step, size_t i);
/* Why a step is not applicable, or NULL. */
const char *dt_verify_step_note(const dt_verify_report *rep, int step);

#define DT_VERIFY_MAX_MESSAGES 20

/* ---- Verification in parts (detente verify --mpi) ----
 *
 * dt_verify is dt_verify_ballots_partial followed by dt_verify_finish on
 * the same record: one code path. Split, the work that grows with the
 * ballots runs where a shard of them is loaded (dt_record_load_shard): the
 * per-ballot steps (4.A, 5, 6, 7.A, 7.B, a cast ballot that cannot be
 * aggregated (8), its contests against tally.json (10.E)) and the product
 * of the cast ballots' ciphertexts per option. Each shard's partial result
 * holds those products, the failures found with their messages, and each
 * ballot's small metadata (file, id, state, confirmation code, chaining
 * fields). Partial results travel as bytes and merge (the products
 * multiply: the homomorphic tally is an associative, commutative
 * reduction); the global steps then run once over the merged result. The
 * report equals dt_verify's over the whole record, message for message,
 * provided the shards hold every ballot file of the record once.
 *
 * A partial result does not borrow from the record it came from; the
 * functions that need the group or the election take a record of the same
 * election (any shard of it, or the whole). */
typedef struct dt_verify_partial dt_verify_partial;

/* The per-ballot steps on every ballot of rec (a whole record or a shard),
 * on opts->threads threads (0: one per CPU). opts may be NULL.
 * Returns: DT_OK, DT_ERR_NOMEM, DT_ERR_INVALID if two ballots of rec have
 * the same file name. */
DT_WARN_UNUSED_RESULT dt_err dt_verify_ballots_partial(dt_verify_partial **out, const dt_record *rec,
                                                       const dt_verify_opts *opts);

/* The global steps (1-4, 7.C-7.E, 8-14 and the notes of 11, 15-18) with
 * the ballots of p, which it consumes: afterwards only the functions
 * below that read ballots' files and codes, and dt_verify_partial_destroy,
 * may be called on p. rec holds the election's files, the results
 * (encrypted_tally.json, tally.json, challenged_ballots/) and at least the
 * encrypted ballots that are challenged (dt_verify_partial_ballot tells
 * which); its other ballots are not used.
 * Returns: DT_OK; DT_ERR_INVALID if p is not of rec's election or holds a
 * ballot file twice (shards that overlap); DT_ERR_NOMEM. */
DT_WARN_UNUSED_RESULT dt_err dt_verify_finish(dt_verify_report **out, const dt_record *rec, dt_verify_partial *p,
                                              const dt_verify_opts *opts);

/* Serializes p (a versioned binary format closed by its SHA-256) into *out,
 * malloc'ed. rec: of p's election. DT_ERR_NOMEM, DT_ERR_INVALID (p is of
 * another election). */
DT_WARN_UNUSED_RESULT dt_err dt_verify_partial_serialize(unsigned char **out, size_t *outlen, const dt_record *rec,
                                                         const dt_verify_partial *p);

/* Reads a serialized partial result of rec's election. A buffer that is
 * truncated, corrupted, of another election or version, or holds an
 * element outside the group is refused: DT_ERR_ENCODING or DT_ERR_INVALID,
 * with a malloc'ed message in *msg (if not NULL) saying what is wrong. */
DT_WARN_UNUSED_RESULT dt_err dt_verify_partial_deserialize(dt_verify_partial **out, char **msg, const dt_record *rec,
                                                           const unsigned char *buf, size_t len);

/* Adds src into dst: the products per option multiply, the counts and the
 * failures add up, the ballots join. src is left empty (destroy it after).
 * DT_ERR_INVALID if they are not of rec's election, DT_ERR_NOMEM (dst and
 * src unchanged). */
DT_WARN_UNUSED_RESULT dt_err dt_verify_partial_merge(const dt_record *rec, dt_verify_partial *dst,
                                                     dt_verify_partial *src);

/* Frees a partial result; NULL does nothing. */
void dt_verify_partial_destroy(dt_verify_partial *p);

/* The number of ballots in p, and ballot i's file (relative to the
 * record), confirmation code (32 bytes) and whether it is challenged.
 * Borrowed: valid until p changes. */
size_t dt_verify_partial_ballots(const dt_verify_partial *p);
void dt_verify_partial_ballot(const dt_verify_partial *p, size_t i, const char **file, const unsigned char **code,
                              int *challenged);

/* ---- Shards of a record ---- */

/* The size (entries) of the board of the record in dir: its checkpoint,
 * signed by the log key log_vkey (NULL: dir/board/log.vkey).
 * DT_ERR_NOT_FOUND if dir has no board/checkpoint; another error with a
 * malloc'ed reason in *why when it cannot be read or does not verify. */
DT_WARN_UNUSED_RESULT dt_err dt_verify_board_size(uint64_t *size, char **why, const char *dir, const char *log_vkey);

/* The encrypted ballot files among the entries [first, end) of the board
 * of dir, a board of size entries: read from its entry bundles, each
 * entry's leaf hash checked against the level-0 tile (the whole tree
 * against the checkpoint is the board check B.3's). Paths the record
 * reader would read (encrypted_ballots/FOLDER/NAME.json), in board order;
 * free with dt_record_free_files. A missing tile or a hash that differs is
 * an error, with a malloc'ed reason in *why. */
DT_WARN_UNUSED_RESULT dt_err dt_verify_board_ballots(char ***files, size_t *nfiles, char **why, const char *dir,
                                                     uint64_t size, uint64_t first, uint64_t end);

#endif
