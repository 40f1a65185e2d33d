/* Private to src/server: what the election server serves besides ballots,
 * receipts and tiles (docs/api.md, "Pages", "Results", "The record"):
 *
 *   static_files.c  the pages (web/) and the routing of this part: dt_web
 *   results.c       GET /api/v1/results: the tally, only once it verified
 *   tar.c           GET /api/v1/record.tar: the public record, streamed
 *
 * server.c's on_request hands every request head to dt_web_route first. */
#ifndef DT_SERVER_SERVER_IMPL_H
#define DT_SERVER_SERVER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include <detente/common.h>

/* An answer ready to queue. resp NULL means out of memory: drop the
 * connection. */
typedef struct dt_web_reply {
    unsigned status;
    struct MHD_Response *resp;
} dt_web_reply;

typedef struct dt_web dt_web;

/* dir: the election folder; web_dir: the pages' folder, or NULL (every page
 * is then 404, the API still answers). A web_dir that does not exist is not
 * an error either: its pages are 404. */
DT_WARN_UNUSED_RESULT dt_err dt_web_create(dt_web **out, const char *dir, const char *web_dir);
/* NULL does nothing. */
void dt_web_destroy(dt_web *w);

/* If url is one of this part's routes (/, /index.html, /board.html,
 * /results.html, /assets/..., /api/v1/results, /api/v1/record.tar), fills
 * *r and returns true (405 for a method other than GET or HEAD: get false);
 * otherwise returns false and leaves *r alone. Safe from any thread. */
bool dt_web_route(dt_web *w, const char *url, bool get, dt_web_reply *r);

/* ---- shared by the three files ---- */

/* A JSON answer; body is taken (decref'ed) whatever happens. */
dt_web_reply dt_web_json(unsigned status, json_t *body);
/* {"error": why} */
dt_web_reply dt_web_error(unsigned status, const char *why);
/* X-Content-Type-Options, Referrer-Policy and the Content-Security-Policy,
 * on every answer of this part. */
void dt_web_secure_headers(struct MHD_Response *resp);

/* ---- static_files.c ---- */

/* The content type of a page or asset name by its extension, or NULL if the
 * extension is not on the allow-list. */
const char *dt_static_type(const char *name);

/* ---- results.c ---- */

typedef struct dt_results dt_results;
DT_WARN_UNUSED_RESULT dt_err dt_results_create(dt_results **out, const char *dir);
void dt_results_destroy(dt_results *r);
/* 404 before the decryption, 200 verified results, 409 a record that does
 * not verify, 503 while another request verifies it or on an unreadable
 * record. Verifies at most once per state of the record's files. */
dt_web_reply dt_results_get(dt_results *r);

/* ---- tar.c ---- */

#define DT_TAR_BLOCK 512

/* One ustar header: name (at most 255 bytes, split at a '/' into prefix
 * and name when over 100), a regular file of size bytes (below 8 GiB) and
 * mtime (seconds, clamped to 0 .. 8^11 - 1), mode 0644, owner 0/0.
 * DT_ERR_LIMIT if the name cannot be split or the size does not fit. */
DT_WARN_UNUSED_RESULT dt_err dt_tar_header(unsigned char hdr[DT_TAR_BLOCK], const char *name, uint64_t size,
                                           int64_t mtime);
/* The public files of dir, sorted: the record's (dt_board_list_files, whose
 * refusals it passes on with *msg) and every regular file of board/ with a
 * valid board path. Free with dt_board_free_paths. */
DT_WARN_UNUSED_RESULT dt_err dt_web_public_files(char ***paths, size_t *n, char **msg, const char *dir);
/* GET /api/v1/record.tar: every public file of dir (the record's files and
 * board/, never private_data/ or hidden files) under "detente-record/". */
dt_web_reply dt_record_tar_get(const char *dir);

#endif
