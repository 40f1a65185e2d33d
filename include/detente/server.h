/* detente: the election server (docs/api.md): takes encrypted ballots over
 * HTTP, checks each (dt_ballot_verify), puts it on the board's log, and
 * serves voters' receipts and the board's tiles. While voting is open the
 * log is the ballots' only copy: their files in the record folder are
 * written from it by a full publish (dt_board_publish, which detente close
 * runs).
 *
 * Threads: libmicrohttpd's pool reads requests and answers them; a POSTed
 * ballot's connection is suspended while checker threads (one a processor)
 * check the ballots waiting as one group (one multi-scalar multiplication),
 * and one committer thread appends the ballots checked in one
 * dt_log_append_multikeyed call (one fsync: group commit); their answers
 * then go out. A flusher thread checkpoints the log's WAL; an optional
 * publisher thread runs dt_board_publish_light every publish_every seconds
 * on its own board handle. */
#ifndef DETENTE_SERVER_H
#define DETENTE_SERVER_H

#include <sys/socket.h>

#include <detente/common.h>

/* The largest request body (an encrypted ballot's JSON). */
#define DT_SERVER_BODY_MAX (1u << 20)

typedef struct dt_server_opts {
    const char *dir;              /* the election folder; it must have a board */
    const struct sockaddr *addr;  /* where to listen (port 0: any free port) */
    unsigned threads;             /* HTTP threads; 0: 4 */
    unsigned workers;             /* threads checking ballots; 0: one per processor */
    unsigned connections;         /* open connections at most; 0: 512 */
    unsigned timeout_seconds;     /* idle connection timeout; 0: 30 */
    unsigned per_ip_connections;  /* open connections from one address at most; 0: 64 */
    unsigned publish_every;       /* seconds between publishes; 0: never */
    int export_tiles;             /* 1: the periodic publish writes the tiles to the folder too, for a
                                     verifying witness that reads them there (dt_board_set_light_tiles) */
    int quiet;                    /* 1: no request log on stderr */
    const char *web_dir;          /* the pages (docs/pages.md); NULL: none, every page 404 */
    const char *board;            /* the board's log: a postgresql:// URI shared with other servers
                                     (docs/scale.md); NULL: the folder's own (dt_board_log_location) */
} dt_server_opts;

typedef struct dt_server dt_server;

/* Loads the election (DT_RECORD_ELECTION), opens its board and starts
 * serving. Refused with *msg (malloc'ed): no election or no board
 * (DT_ERR_NOT_FOUND), an election that chains confirmation codes
 * (DT_ERR_INVALID: not handled yet), an address that cannot be listened on
 * (DT_ERR_IO). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err dt_server_start(dt_server **out, char **msg,
                                                                 const dt_server_opts *opts);
/* The port listened on. */
unsigned dt_server_port(const dt_server *s);
/* Stops accepting, finishes the requests in progress (every ballot
 * acknowledged is on the log), stops the threads and frees. NULL allowed. */
void dt_server_stop(dt_server *s);

/* ---- closing voting (docs/api.md, "Closing") ----
 *
 * A server takes ballots while it holds DIR/private_data/serve.lock shared;
 * it writes DIR/private_data/server.token (0600): "token HEX\nurl URL\npid
 * N\n", what POST URL/api/v1/admin/close needs (from loopback, with
 * "Authorization: Bearer HEX"). DIR/closed.json, once written, refuses
 * every ballot: a server started later answers 403. */
#define DT_SERVER_TOKEN_FILE "private_data/server.token"
#define DT_CLOSED_FILE "closed.json"

/* 1 if voting on the election in dir is closed (dir/closed.json exists). */
int dt_voting_closed(const char *dir);

/* Closes voting on the election in dir: tells each server that takes ballots
 * on it to close (the admin endpoint, with the token of its token file) and
 * waits, at most wait_seconds (0: 60), until no server takes ballots (each
 * has committed what it acknowledged); then, with the serving lock held
 * exclusively, publishes the board (a ballot written to the folder but not
 * yet on the log goes on it) and writes DIR/closed.json durably:
 * {"version": 1, "closed_at": UTC time, "board_size": N, "board_root":
 * base64} (the log's size and root at closing; without a board, no board_*).
 * Out: *board_size, N; *told, the number of servers that closed.
 * Returns DT_OK (*msg NULL or a warning of the publish: free it);
 * DT_ERR_INVALID if voting is already closed; DT_ERR_IO if a server still
 * takes ballots after the wait, or a file cannot be written; the errors of
 * dt_board_publish. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 4, 5) dt_err dt_voting_close(char **msg, const char *dir, unsigned wait_seconds,
                                                                    uint64_t *board_size, unsigned *told);

#endif
