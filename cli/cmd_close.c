/* detente close ELECTION_DIR: closes voting (a server running on the folder
 * is told through its loopback admin endpoint and stops taking ballots), then
 * leads into the tally and, with the guardians' key files at hand, the
 * decryption, publishing each step on the board (docs/roles.md, "Closing";
 * docs/api.md, "Closing"). Each step is the library call its own command
 * makes: dt_voting_close, dt_election_tally (detente tally),
 * dt_election_decrypt (the rounds of detente decrypt in one process),
 * dt_board_publish (detente board publish). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <detente/board.h>
#include <detente/ceremony.h>
#include <detente/record.h>
#include <detente/server.h>
#include <detente/workflow.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"
#include "steps.h"

static const char usage_text[] =
    "usage: detente close ELECTION_DIR [--guardians-from DIR [--passphrase-file FILE]]\n"
    "                     [--wait SECONDS] [--quiet]\n"
    "\n"
    "Closes voting on the election, then tallies it and, if the guardians' key\n"
    "files are on this machine, decrypts it; each step goes on the board.\n"
    "\n"
    "  1. close: a server that takes ballots on ELECTION_DIR ('detente serve') is\n"
    "     told to stop (POST /api/v1/admin/close on loopback, with the token it\n"
    "     wrote to ELECTION_DIR/private_data/server.token); it commits every ballot\n"
    "     it acknowledged and then refuses ballots (403). Once no server takes\n"
    "     ballots, the board gets what is new and ELECTION_DIR/closed.json records\n"
    "     the board's size and root at closing. A server started later refuses\n"
    "     ballots too.\n"
    "  2. tally: the cast ballots added up (as 'detente tally'), published.\n"
    "  3. decryption, with --guardians-from DIR: the key files DIR/*.key are\n"
    "     opened with one passphrase until the quorum k is reached; the record is\n"
    "     checked (verification steps 1-8) and those k guardians decrypt the tally\n"
    "     and the challenged ballots (the two rounds of 'detente decrypt' in one\n"
    "     process); published. Without it, the command prints what each guardian\n"
    "     runs next, on its own machine.\n"
    "\n"
    "  --guardians-from DIR     the guardians' key files (the demo's are in\n"
    "                           ELECTION_DIR/private_data/trustees, passphrase 'demo')\n"
    "  --passphrase-file FILE   the key files' passphrase (see below)\n"
    "  --wait SECONDS           how long to wait for servers to stop taking ballots\n"
    "                           (default 60)\n"
    "  --quiet                  no progress on standard error\n"
    "\n" DT_CLI_PASSPHRASE_HELP
    "\n"
    "Run it again after a failure: a step already done is not done again\n"
    "(closed.json, tally.json). Then: detente verify ELECTION_DIR.\n"
    "Exit status: 0 done, 1 refused or failed, 2 usage.\n";

typedef struct copts {
    const char *dir, *keys, *pass_file, *wait;
    int quiet, progress;
    uint32_t wait_s;
} copts;

static const char *prog = "detente close";

static void step(const copts *o, int n, int of, const char *what)
{
    if (o->progress)
        fprintf(stderr, "[%d/%d] %s\n", n, of, what);
}

static int has_file(const char *dir, const char *name)
{
    char *p = dt_cli_path("%s/%s", dir, name);
    int r = dt_cli_exists(p);
    free(p);
    return r;
}

static int publish(const char *dir)
{
    size_t added = 0, cosigned = 0;
    if (!dt_board_exists(dir))
        return 0;
    if (dt_cli_board_publish(prog, dir, &added, &cosigned))
        return -1;
    printf("  board: %zu new entr%s, checkpoint cosigned by %zu witnesses\n", added, added == 1 ? "y" : "ies",
           cosigned);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The key files (*.key) of dir, sorted; NULL after a message. */
static char **key_files(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d) {
        dt_cli_err(prog, "--guardians-from %s: cannot open the folder", dir);
        return NULL;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".key") != 0)
            continue;
        if (*n == cap) {
            char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[(*n)++] = dt_cli_path("%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (*n == 0) {
        dt_cli_err(prog, "--guardians-from %s: no key file (*.key) in it", dir);
        free(v);
        return NULL;
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Step 3 with the guardians' key files: k of them decrypt. */
static int decrypt_here(const copts *o)
{
    dt_record *rec = NULL;
    dt_trustee *U = NULL;
    dt_cli_progress pr;
    char **files = NULL, *pass = NULL, *msg = NULL, who[256] = "";
    size_t nfiles = 0, nU = 0;
    int rc = -1;
    dt_err err;

    if (!(rec = dt_cli_record_load(prog, o->dir, DT_RECORD_ALL)))
        goto out;
    if (dt_cli_check_before_decrypt(prog, rec))
        goto out;
    if (!(files = key_files(o->keys, &nfiles)) || !(U = calloc(rec->k, sizeof *U)))
        goto out;
    if (!(pass = dt_cli_passphrase(prog, o->pass_file, o->keys, 0)))
        goto out;
    for (size_t f = 0; f < nfiles && nU < rec->k; f++) {
        dt_guardian *gd = dt_cli_guardian_load(prog, rec, files[f], pass);
        int dup = 0;
        if (!gd)
            continue; /* named by dt_cli_guardian_load; another may do */
        for (size_t u = 0; u < nU; u++)
            dup |= U[u].x == dt_guardian_index(gd);
        if (!dup && dt_guardian_key_share(gd, &U[nU].P) == DT_OK) {
            U[nU].x = dt_guardian_index(gd);
            snprintf(who + strlen(who), sizeof who - strlen(who), "%s%u", nU ? ", " : "", U[nU].x);
            nU++;
        } else if (!dup) {
            dt_cli_err(prog, "%s: guardian %u has no key share: its key ceremony is unfinished", files[f],
                       dt_guardian_index(gd));
        }
        dt_guardian_destroy(gd);
    }
    if (nU < rec->k) {
        dt_cli_err(prog, "decryption needs %u of the %u guardians; the key files of %s opened %zu", rec->k, rec->n,
                   o->keys, nU);
        goto out;
    }
    if (o->progress)
        fprintf(stderr, "      guardians %s decrypt\n", who);
    dt_cli_progress_init(&pr, "decrypting");
    pr.on = pr.on && o->progress;
    if ((err = dt_election_decrypt(&msg, o->dir, U, nU, dt_cli_progress_tick, &pr)) != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    printf("decrypted by guardians %s: %s/tally.json and %s/challenged_ballots/\n", who, o->dir, o->dir);
    rc = 0;
out:
    if (U)
        dt_memzero(U, rec ? rec->k * sizeof *U : 0);
    free(U);
    for (size_t f = 0; f < nfiles; f++)
        free(files[f]);
    free(files);
    dt_cli_passphrase_free(pass);
    dt_record_destroy(rec);
    free(msg);
    return rc;
}

/* Without the key files: what each guardian runs next. */
static void print_next(const copts *o, const dt_record *rec)
{
    printf("\nNext, the guardians decrypt: any %u of the %u, each on its own machine with its own key file.\n",
           rec->k, rec->n);
    for (uint32_t i = 1; i <= rec->n; i++)
        printf("  guardian %u:  detente decrypt share %s --key GUARDIAN%u_KEYFILE\n", i, o->dir, i);
    printf("then anyone, once %u have shared:  detente decrypt combine %s\n"
           "then each guardian of the challenge:  detente decrypt respond %s --key ITS_KEYFILE\n"
           "then anyone:  detente decrypt finish %s && detente board publish %s\n"
           "and anyone checks it all:  detente verify %s\n"
           "(or, with the key files on this machine: detente close %s --guardians-from DIR)\n",
           rec->k, o->dir, o->dir, o->dir, o->dir, o->dir, o->dir);
}

static int parse(copts *o, int argc, const char *argv[])
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(argv[i], "--passphrase")) {
            dt_cli_err(prog, "a passphrase is never given on the command line: use DETENTE_PASSPHRASE, "
                             "--passphrase-file FILE or the terminal prompt");
            return -1;
        }
        if ((r = dt_cli_opt(prog, argc, argv, &i, "--guardians-from", &o->keys)) == 0 &&
            (r = dt_cli_opt(prog, argc, argv, &i, "--passphrase-file", &o->pass_file)) == 0)
            r = dt_cli_opt(prog, argc, argv, &i, "--wait", &o->wait);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || o->dir) {
            dt_cli_err(prog, "unexpected argument '%s' (see detente close --help)", argv[i]);
            return -1;
        }
        o->dir = argv[i];
    }
    if (!o->dir) {
        dt_cli_err(prog, "needs ELECTION_DIR (see detente close --help)");
        return -1;
    }
    if (o->pass_file && !o->keys) {
        dt_cli_err(prog, "--passphrase-file goes with --guardians-from DIR");
        return -1;
    }
    o->wait_s = 60;
    if (o->wait && dt_cli_u32(prog, "--wait", o->wait, 1, 86400, &o->wait_s) < 0)
        return -1;
    return 0;
}

int close_main(int argc, const char *argv[])
{
    copts o;
    dt_record *rec = NULL;
    char *msg = NULL;
    int p, rc = 1, steps;
    dt_err err;

    memset(&o, 0, sizeof o);
    if ((p = parse(&o, argc, argv)))
        return p > 0 ? 0 : 2;
    if (sodium_init() < 0) {
        dt_cli_err(prog, "libsodium failed to start");
        return 1;
    }
    o.progress = !o.quiet && isatty(2);
    steps = o.keys ? 3 : 2;
    /* an open election (its joint key) before anything is closed */
    if (!(rec = dt_cli_record_load(prog, o.dir, DT_RECORD_ELECTION)))
        return 1;

    step(&o, 1, steps, "closing voting");
    if (dt_voting_closed(o.dir)) {
        printf("voting was already closed (%s/%s)\n", o.dir, DT_CLOSED_FILE);
    } else {
        uint64_t size = 0;
        unsigned told = 0;
        if ((err = dt_voting_close(&msg, o.dir, o.wait_s, &size, &told)) != DT_OK) {
            dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
            goto out;
        }
        if (msg)
            fprintf(stderr, "%s: warning: %s\n", prog, msg);
        free(msg);
        msg = NULL;
        printf("voting closed: %s/%s (%s%llu entries on the board at closing)\n", o.dir, DT_CLOSED_FILE,
               told ? (told == 1 ? "the server stopped taking ballots; " : "the servers stopped taking ballots; ")
                    : "no server was taking ballots; ",
               (unsigned long long)size);
    }
    if (publish(o.dir))
        goto out;

    if (has_file(o.dir, "tally.json")) {
        printf("the tally is already decrypted (%s/tally.json)\n", o.dir);
        rc = 0;
        goto out;
    }
    step(&o, 2, steps, "tally");
    if ((err = dt_election_tally(&msg, o.dir)) != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    printf("%s/encrypted_tally.json: the sum of the cast ballots\n", o.dir);
    if (publish(o.dir))
        goto out;

    if (!o.keys) {
        print_next(&o, rec);
        rc = 0;
        goto out;
    }
    step(&o, 3, steps, "decryption");
    if (decrypt_here(&o) || publish(o.dir))
        goto out;
    dt_cli_print_tally(o.dir);
    printf("Check the whole record: detente verify %s\n", o.dir);
    rc = 0;
out:
    dt_record_destroy(rec);
    free(msg);
    return rc;
}
