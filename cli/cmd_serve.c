/* detente serve: the election server (docs/api.md). */
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <detente/server.h>

#include "cli.h"
#include "role_util.h"

static const char usage_text[] =
    "usage: detente serve ELECTION_DIR --listen ADDR:PORT [--board URI] [--publish-every SECONDS]\n"
    "                     [--threads N] [--workers N] [--connections N] [--connections-per-ip N]\n"
    "                     [--timeout SECONDS] [--web DIR] [--export-tiles] [--quiet]\n"
    "\n"
    "Serves an election while voting is open (an election folder with a board, as\n"
    "'detente demo --until voting' makes): voters' devices POST encrypted ballots\n"
    "to /api/v1/ballots (?action=challenge to challenge one); each is checked (every\n"
    "proof, its election, its style, its contest hashes and confirmation code)\n"
    "and appended to the board's log before the answer 201. The ballots' files in\n"
    "ELECTION_DIR/encrypted_ballots/ are written from the board when it is published\n"
    "('detente close', 'detente board publish'); the periodic publish leaves them\n"
    "out. Voters' receipts are at /api/v1/receipts/CODE (base64url) once a\n"
    "cosigned checkpoint covers the ballot; the board's tiles at /board/.\n"
    "The pages for voters and observers are at / (docs/pages.md); the verified\n"
    "results at /api/v1/results and the public record at /api/v1/record.tar.\n"
    "The HTTP contract is docs/api.md.\n"
    "\n"
    "  --listen ADDR:PORT       a numeric address (127.0.0.1:7380, [::1]:7380); port 0\n"
    "                           takes a free port, printed on standard error\n"
    "  --board URI              the board's log on PostgreSQL (postgresql://...), which\n"
    "                           other servers of this election share (docs/scale.md);\n"
    "                           default: the board's own ('board init --board', or SQLite)\n"
    "  --publish-every SECONDS  publish the board (cosigned checkpoint) this often\n"
    "                           (default 10; 0: never, publish with 'detente board publish')\n"
    "  --threads N              HTTP threads, which read requests and send answers\n"
    "                           (default 4)\n"
    "  --workers N              threads checking ballots, each taking all that wait\n"
    "                           as one batch (default: one per processor)\n"
    "  --connections N          open connections at most (default 512)\n"
    "  --connections-per-ip N   open connections from one address at most (default 64)\n"
    "  --timeout SECONDS        close a connection idle this long (default 30)\n"
    "  --web DIR                the pages' folder (default: the web/ folder of the\n"
    "                           source tree this detente was built from)\n"
    "  --export-tiles           the periodic publish writes the board's tiles to\n"
    "                           ELECTION_DIR/board/ too, for a verifying witness that\n"
    "                           reads them there ('detente witness serve --verify');\n"
    "                           by default the server serves them from the board's log\n"
    "                           and 'detente close' writes them\n"
    "  --quiet                  no line per request on standard error\n"
    "\n"
    "Runs until SIGINT or SIGTERM, then finishes the requests in progress.\n"
    "'detente close ELECTION_DIR' closes voting: the server then refuses ballots\n"
    "(403) and goes on serving receipts and the board until it is stopped.\n"
    "exit status: 0 stopped by a signal, 2 usage error or the election cannot be served\n";

int serve_main(int argc, const char *argv[])
{
    const char *prog = "detente serve", *dir = NULL, *listen = NULL, *every = NULL, *threads = NULL,
               *workers = NULL, *conns = NULL, *web = DT_WEB_DIR, *perip = NULL, *timeout = NULL;
    uint32_t publish_every = 10, nthreads = 4, nworkers = 0, nconns = 512, nperip = 64, ntimeout = 30;
    dt_server_opts o;
    dt_server *s = NULL;
    struct addrinfo *ai;
    char *msg = NULL;
    sigset_t sigs;
    int sig = 0, quiet = 0, export_tiles = 0;
    const char *board = NULL;

    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--export-tiles") == 0) {
            export_tiles = 1;
            continue;
        }
        r = dt_cli_opt(prog, argc, argv, &i, "--listen", &listen);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--board", &board);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--publish-every", &every);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--threads", &threads);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--workers", &workers);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--connections", &conns);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--web", &web);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--connections-per-ip", &perip);
        if (r == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--timeout", &timeout);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || dir) {
            dt_cli_err(prog, "unexpected argument '%s' (see detente serve --help)", argv[i]);
            return 2;
        }
        dir = argv[i];
    }
    if (!dir || !listen) {
        dt_cli_err(prog, "needs ELECTION_DIR and --listen ADDR:PORT (see detente serve --help)");
        return 2;
    }
    if ((every && dt_cli_u32(prog, "--publish-every", every, 0, 86400, &publish_every) < 0) ||
        (threads && dt_cli_u32(prog, "--threads", threads, 1, 256, &nthreads) < 0) ||
        (workers && dt_cli_u32(prog, "--workers", workers, 1, 64, &nworkers) < 0) ||
        (conns && dt_cli_u32(prog, "--connections", conns, 1, 65536, &nconns) < 0) ||
        (perip && dt_cli_u32(prog, "--connections-per-ip", perip, 1, 65536, &nperip) < 0) ||
        (timeout && dt_cli_u32(prog, "--timeout", timeout, 1, 86400, &ntimeout) < 0))
        return 2;
    if (board && strncmp(board, "postgresql://", 13) != 0 && strncmp(board, "postgres://", 11) != 0) {
        dt_cli_err(prog, "--board: a postgresql:// (or postgres://) URI, not '%s'", board);
        return 2;
    }
    if (!(ai = dt_cli_listen_addr(prog, listen)))
        return 2;
    /* SIGINT and SIGTERM are taken by sigwait below: blocked before the
     * server's threads start, so that they inherit the mask */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* The checkers' buffers (a group's points, 0.5-2 MB) come and go every
     * few milliseconds; glibc would hand them back to the system each time
     * (its trim and mmap thresholds) and fault them in again, page by page:
     * 9 page faults a ballot, measured. Kept instead: the process keeps
     * its high-water mark, which the group limit and the connection limit
     * (request bodies) bound. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.addr = ai->ai_addr;
    o.threads = nthreads;
    o.workers = nworkers;
    o.connections = nconns;
    o.per_ip_connections = nperip;
    o.timeout_seconds = ntimeout;
    o.publish_every = publish_every;
    o.quiet = quiet;
    o.export_tiles = export_tiles;
    o.board = board;
    o.web_dir = web;
    if (dt_server_start(&s, &msg, &o) != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : "cannot start");
        free(msg);
        freeaddrinfo(ai);
        return 2;
    }
    freeaddrinfo(ai);
    fprintf(stderr, "detente serve: serving %s on port %u\n", dir, dt_server_port(s));
    while (sig != SIGINT && sig != SIGTERM)
        if (sigwait(&sigs, &sig) != 0)
            break;
    dt_server_stop(s);
    fprintf(stderr, "detente serve: stopped (signal %d)\n", sig);
    return 0;
}
