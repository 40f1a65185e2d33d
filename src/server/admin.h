/* The election server's closing and admin endpoint (src/server/admin.c;
 * docs/api.md, "Closing"), and the guards against bad requests
 * (src/server/guard.c). Private to the server module. */
#ifndef DT_SERVER_ADMIN_H
#define DT_SERVER_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <detente/common.h>

/* The answer to a ballot POSTed once voting is closed. */
#define DT_ADMIN_CLOSED_STATUS 403
#define DT_ADMIN_CLOSED_MSG "voting is closed: the election takes no more ballots"

/* The admin routes start with this. */
#define DT_ADMIN_PREFIX "/api/v1/admin/"

/* A server's side of closing: the serving lock, the closed state, the
 * ballots in flight, the token. Shared by all request threads. */
typedef struct dt_admin dt_admin;

/* Takes the serving lock of dir (a shared flock on
 * dir/private_data/serve.lock, held while the server takes ballots: `detente
 * close` takes it exclusively), then learns whether voting is closed
 * (dir/closed.json). A closed server holds no lock. Waits up to 120 s for a
 * `detente close` that holds the lock. Draws the admin token. location: the
 * board's log as the server was given it (NULL: the folder's own), where
 * closing reads the board's size. */
DT_WARN_UNUSED_RESULT dt_err dt_admin_open(dt_admin **out, char **msg, const char *dir, const char *location);

/* Writes dir/private_data/server.token (0600, atomically): the token, the
 * loopback URL of the server listening on addr (its port: port) and the pid. */
DT_WARN_UNUSED_RESULT dt_err dt_admin_write_token(dt_admin *a, char **msg, const struct sockaddr *addr,
                                                  unsigned port);

/* Removes the token file if it is still this server's, releases the lock,
 * frees. NULL allowed. */
void dt_admin_destroy(dt_admin *a);

/* 1 once voting is closed. */
int dt_admin_closed(dt_admin *a);

/* A ballot request enters the part that writes (its file and its log
 * entry): returns 0 (and the caller refuses the ballot) if voting is closed;
 * otherwise 1 and the caller must call dt_admin_ballot_end when its ballot is
 * committed or refused. Closing waits for every ballot in that part. */
int dt_admin_ballot_begin(dt_admin *a);
void dt_admin_ballot_end(dt_admin *a);

/* Answers a request to DT_ADMIN_PREFIX...: the status, *body a malloc'ed JSON
 * text (NULL if out of memory), *allow the Allow header of a 405 or NULL.
 * POST /api/v1/admin/close from a loopback peer with the token closes voting
 * (waits for the ballots in flight) and answers 200 {"closed": true,
 * "board_size": N}. */
int dt_admin_answer(dt_admin *a, struct MHD_Connection *c, const char *method, const char *url, char **body,
                    const char **allow);

/* ---- guards against bad requests (guard.c) ---- */

/* JSON nested deeper than this is refused before it is parsed (a ballot is
 * 7 levels deep). */
#define DT_SERVER_JSON_DEPTH 32

/* 1 if the JSON text (len bytes; not NUL-terminated) opens more than max
 * arrays or objects at once, outside strings. */
int dt_json_too_deep(const char *text, size_t len, unsigned max);

/* Checks a request's query arguments: each must be one of allowed (a NULL-
 * terminated list), at most once, with a value. Returns 1, or 0 with why
 * (NUL-terminated) in why. */
int dt_server_query_ok(struct MHD_Connection *c, const char *const *allowed, char *why, size_t whycap);

/* libmicrohttpd's unescape callback (MHD_OPTION_UNESCAPE_CALLBACK): %HH
 * decoded in place as MHD does, except %00, which is left as it is (a
 * NUL would cut the path or argument short, hiding what follows). */
size_t dt_server_unescape(void *cls, struct MHD_Connection *c, char *s);

#endif
