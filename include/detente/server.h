/* detente: the election server (docs/api.md): takes encrypted ballots over
 * HTTP, checks each (dt_ballot_verify), puts it in the record folder and on
 * the board's log, and serves voters' receipts and the board's tiles.
 *
 * Threads: libmicrohttpd's pool answers requests, each checking its own
 * ballot; one committer thread appends the ballots that are waiting in one
 * dt_log_append_keyed call (group commit) and wakes their workers; an
 * optional publisher thread runs dt_board_publish every publish_every
 * seconds on its own board handle. */
#ifndef DETENTE_SERVER_H
#define DETENTE_SERVER_H

#include <sys/socket.h>

#include <detente/common.h>

/* The largest request body (an encrypted ballot's JSON). */
#define DT_SERVER_BODY_MAX (1u << 20)

typedef struct dt_server_opts {
    const char *dir;              /* the election folder; it must have a board */
    const struct sockaddr *addr;  /* where to listen (port 0: any free port) */
    unsigned threads;             /* request threads; 0: 4 */
    unsigned connections;         /* open connections at most; 0: 512 */
    unsigned timeout_seconds;     /* idle connection timeout; 0: 30 */
    unsigned publish_every;       /* seconds between publishes; 0: never */
    int quiet;                    /* 1: no request log on stderr */
    const char *web_dir;          /* the pages (docs/pages.md); NULL: none, every page 404 */
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

#endif
