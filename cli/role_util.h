/* Private helpers of the role commands (election, guardian, tally,
 * decrypt): options, passphrases, key files, the ceremony's files, progress.
 * Every function that fails prints why on stderr, prefixed with the
 * command's name, naming the file. */
#ifndef DT_CLI_ROLE_UTIL_H
#define DT_CLI_ROLE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <detente/ceremony.h>
#include <detente/note.h>
#include <detente/record.h>

/* The passphrase sources, for every --help that asks for one. */
#define DT_CLI_PASSPHRASE_HELP                                                                           \
    "The passphrase of the key file comes from the environment variable\n"                               \
    "DETENTE_PASSPHRASE if it is set, else from the first line of --passphrase-file\n"                   \
    "FILE, else it is asked on the terminal (without echo). It is never taken from\n"                    \
    "the command line.\n"

/* Prints "prog: message\n" on stderr. */
void dt_cli_err(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option parsing. If argv[*i] is "--name" (value in the next argument) or
 * "--name=value", stores the value, advances *i and returns 1; returns -1
 * (with a message) if the value is missing; 0 if argv[*i] is another
 * argument. */
int dt_cli_opt(const char *prog, int argc, const char *argv[], int *i, const char *name, const char **value);

/* Parses a decimal number in lo..hi; -1 with a message otherwise. */
int dt_cli_u32(const char *prog, const char *name, const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

/* The passphrase (see DT_CLI_PASSPHRASE_HELP) in guarded memory, or NULL
 * after a message. confirm: ask twice on a terminal (a new key file).
 * what: what it unlocks, for the prompt. Free with dt_cli_passphrase_free. */
char *dt_cli_passphrase(const char *prog, const char *file, const char *what, int confirm);
void dt_cli_passphrase_free(char *p);

/* Loads the guardian of keyfile for rec's election (H_B), with one message
 * per failure: no such file, unreadable, not a key file or damaged, another
 * election, wrong passphrase. NULL on failure. */
dt_guardian *dt_cli_guardian_load(const char *prog, const dt_record *rec, const char *keyfile,
                                  const char *passphrase);

/* Loads the record (all of it, or a part) with a message on failure. */
dt_record *dt_cli_record_load(const char *prog, const char *dir, dt_record_part part);

/* Reads a whole file (at most maxlen bytes, NUL-terminated). Returns 0;
 * 1 if it does not exist (no message, *out NULL); -1 after a message. */
int dt_cli_read(const char *prog, const char *path, size_t maxlen, char **out, size_t *len);

/* Writes text to path atomically (mode 0644), or prints why and returns -1. */
int dt_cli_write(const char *prog, const char *path, const char *text, size_t len);

/* 1 if path exists (lstat), else 0. */
int dt_cli_exists(const char *path);

/* mkdir -p, or a message and -1. */
int dt_cli_mkdirs(const char *prog, const char *path);

/* A malloc'ed formatted path; aborts on allocation failure (a CLI cannot go
 * on without its paths). */
char *dt_cli_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Every guardian's published commitments, read from DIR/ceremony/ and
 * checked (Schnorr proofs). */
typedef struct dt_cli_commitments {
    uint32_t n, k;
    dt_elem *K;   /* n*k: K[(j-1)*k + m] = K_{j,m} */
    char **text;  /* each file's text */
} dt_cli_commitments;

/* Reads DIR/ceremony/commitments-J.json for J = 1..n. Every one must be
 * present (missing ones are listed), parse, carry x_coordinate J and verify;
 * a bad one is named. Returns 0 or -1 after a message. */
int dt_cli_commitments_load(const char *prog, const char *dir, const dt_record *rec, dt_cli_commitments *out);
void dt_cli_commitments_free(dt_cli_commitments *c);

/* 0 if the guardian's own commitments K_{i,0..k-1} are those published in
 * c, else -1 after a message (a key file of an earlier ceremony). */
int dt_cli_guardian_matches(const char *prog, const dt_record *rec, const dt_guardian *gd,
                            const dt_cli_commitments *c, const char *keyfile, const char *dir);

/* Complaints and reveals (docs/roles.md):
 *   complaint-L-against-I.json  {"complainer": L, "accused": I, "reason": text, "share": share}
 *   reveal-I-L.json             {"from": I, "to": L, "value": P_I(L), "xi": xi_{I,L}, "share": share}
 * where share is the share ciphertext as dt_share_ct_to_json writes it: in a
 * complaint, the one L received; in a reveal, the one I says it sent.
 * The readers return 0, 1 if the file does not exist, -1 after a message. */
char *dt_cli_complaint_json(const dt_group *g, uint32_t l, uint32_t i, const char *reason, const dt_share_ct *ct);
char *dt_cli_reveal_json(const dt_group *g, uint32_t i, uint32_t l, const dt_scalar *value, const dt_scalar *xi,
                         const dt_share_ct *ct);
int dt_cli_complaint_read(const char *prog, const char *dir, const dt_record *rec, uint32_t l, uint32_t i,
                          dt_share_ct *ct);
int dt_cli_reveal_read(const char *prog, const char *dir, const dt_record *rec, uint32_t i, uint32_t l,
                       dt_scalar *value, dt_scalar *xi, dt_share_ct *ct);

/* Progress on stderr, shown only when stderr is a terminal. */
typedef struct dt_cli_progress {
    const char *what;
    int on;
    time_t last;
} dt_cli_progress;

void dt_cli_progress_init(dt_cli_progress *p, const char *what);
void dt_cli_progress_tick(void *arg, size_t done, size_t total);

/* The test hook of docs/roles.md: the guardian index in
 * DETENTE_TEST_CORRUPT_SHARE, or 0 when it is not set. For tests only: a
 * guardian that sets it cheats. */
uint32_t dt_cli_test_corrupt_share(void);

/* The address of --listen ADDR:PORT (numeric: 127.0.0.1:7380, [::1]:7380,
 * port 0 for any), for bind; free with freeaddrinfo. NULL after a message. */
struct addrinfo *dt_cli_listen_addr(const char *prog, const char *s);

/* A verifier key given on the command line as the key itself or as a file
 * holding it on one line: the key's text (malloc'ed, no newline), or NULL
 * after a message naming opt. */
char *dt_cli_vkey_arg(const char *prog, const char *opt, const char *arg);

#endif
