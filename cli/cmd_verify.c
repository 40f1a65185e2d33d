/* detente verify RECORD_DIR: ElectionGuard 2.0 verification steps 1-18.
 * Exit status: 0 valid, 1 invalid, 2 unreadable or usage error.
 *
 * With --mpi (built with Open MPI: DT_HAVE_MPI), under mpirun: the ranks
 * share the ballots by ranges of the board's entries (or of the ballot
 * files, without a board), each verifies its share on all its cores
 * (dt_verify_ballots_partial), rank 0 merges the partial results
 * (dt_verify_partial_merge: the aggregates multiply), runs the global steps
 * (dt_verify_finish) and the board's checks, and prints the report; every
 * rank exits with the verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/stat.h>
#ifdef DT_HAVE_MPI
#include <mpi.h>
#endif

#include <detente/board.h>
#include <detente/note.h>
#include <detente/record.h>
#include <detente/verify.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente verify [--json] [--threads N] [--quiet] [--require-board]\n"
    "                      [--log-key VKEY_OR_FILE] [--witnesses FILE] [--witness-quorum K] RECORD_DIR\n"
    "\n"
    "Checks an ElectionGuard 2.0 election record (egk-ec's JSON layout, or a\n"
    "detente election): every verification step of the specification, 1 to 18,\n"
    "in order. Prints one line per step (pass, FAIL with where, or not\n"
    "applicable) and the verdict. private_data/ is never read.\n"
    "\n"
    "If the record has a board (RECORD_DIR/board/checkpoint, docs/board.md), it\n"
    "is checked too (B.1-B.5): the log's signature on the checkpoint, a quorum of\n"
    "witness cosignatures, the tiles against the checkpoint's root, and that the\n"
    "board and the record hold exactly the same files. The keys come from\n"
    "RECORD_DIR/board/log.vkey and witnesses.vkey unless given: an auditor should\n"
    "give the keys it trusts, obtained apart from the record.\n"
    "\n"
    "  --require-board        fail if the record has no board\n"
    "  --log-key K            the log's verifier key (a vkey, or a file holding one)\n"
    "  --witnesses FILE       the witnesses' verifier keys, one a line\n"
    "  --witness-quorum K     cosignatures required (default: a majority of them)\n"
    "  --json       print the report as JSON on standard output\n"
    "  --threads N  worker threads (default: one per CPU; with --mpi, per rank)\n"
    "  --quiet      no progress display\n"
    "  --mpi        under mpirun (mpirun -n N detente verify --mpi RECORD_DIR): the\n"
    "               ranks share the ballots by ranges of the board's entries (of\n"
    "               the ballot files without a board); rank 0 prints the report\n"
    "  --timing     with --mpi: where the time went, as JSON lines on standard error\n"
    "               (per rank: load, verification, CPU time; rank 0: merge, finish,\n"
    "               board), for docs/scale.md\n"
    "\n"
    "exit status: 0 valid, 1 invalid, 2 the record cannot be read\n";

typedef struct progress {
    int enabled;
    time_t last;
} progress;

static void show_progress(void *arg, size_t done, size_t total)
{
    progress *p = arg;
    time_t now = time(NULL);
    if (!p->enabled || (now == p->last && done != total))
        return;
    p->last = now;
    fprintf(stderr, "\rverifying: %zu/%zu ballots and decryptions (%3zu%%)", done, total,
            total ? done * 100 / total : 100);
    if (done == total)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

static const char *status_word(dt_step_status s)
{
    return s == DT_STEP_PASS ? "pass" : s == DT_STEP_FAIL ? "FAIL" : "not applicable";
}

static void print_board_text(const dt_board_report *b, int require);

static void print_text(const dt_verify_report *rep, const char *dir, const dt_board_report *b, int require, int ok,
                       const char *extra)
{
    printf("detente verify %s\n", dir);
    if (extra)
        printf("%s\n", extra);
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        dt_step_status st = dt_verify_step_status(rep, s);
        printf("%3d  %-66s %s", s, dt_verify_step_name(s), status_word(st));
        if (st == DT_STEP_PASS && dt_verify_step_checked(rep, s))
            printf(" (%zu checked)", dt_verify_step_checked(rep, s));
        if (st == DT_STEP_FAIL)
            printf(" (%zu failures)", dt_verify_step_failures(rep, s));
        if (st == DT_STEP_NA && dt_verify_step_note(rep, s))
            printf(" (%s)", dt_verify_step_note(rep, s));
        printf("\n");
        for (size_t i = 0; i < dt_verify_step_messages(rep, s); i++)
            printf("       %s\n", dt_verify_step_message(rep, s, i));
        if (st == DT_STEP_FAIL && dt_verify_step_failures(rep, s) > dt_verify_step_messages(rep, s))
            printf("       ... and %zu more\n", dt_verify_step_failures(rep, s) - dt_verify_step_messages(rep, s));
    }
    print_board_text(b, require);
    printf("verdict: %s\n", ok ? "VALID (every applicable step passes)" : "INVALID (at least one step fails)");
}

static void print_board_text(const dt_board_report *b, int require)
{
    if (b == NULL) {
        printf("  B  %-66s %s\n", "the board", require ? "FAIL (the record has no board/checkpoint)"
                                                         : "not applicable (the record has no board/checkpoint)");
        return;
    }
    for (int c = 0; c < DT_BOARD_CHECKS; c++) {
        int st = dt_board_check_status(b, (dt_board_check)c);
        printf("%-4s %-66s %s", "", dt_board_check_name((dt_board_check)c),
               st == 0 ? "pass" : st == 1 ? "FAIL" : "not checked (an earlier check failed)");
        if (st == 0 && c == DT_BOARD_CHECK_QUORUM)
            printf(" (%zu witnesses)", dt_board_report_cosigned(b));
        else if (st == 0 && dt_board_check_count(b, (dt_board_check)c))
            printf(" (%zu checked)", dt_board_check_count(b, (dt_board_check)c));
        printf("\n");
        for (size_t i = 0; i < dt_board_check_messages(b, (dt_board_check)c); i++)
            printf("       %s\n", dt_board_check_message(b, (dt_board_check)c, i));
    }
}

static json_t *board_json(const dt_board_report *b, int require)
{
    json_t *o = json_object();
    if (b == NULL) {
        json_object_set_new(o, "status", json_string(require ? "fail" : "not_applicable"));
        json_object_set_new(o, "note", json_string("the record has no board/checkpoint"));
        return o;
    }
    json_object_set_new(o, "status", json_string(dt_board_report_ok(b) ? "pass" : "fail"));
    json_object_set_new(o, "size", json_integer((json_int_t)dt_board_report_size(b)));
    json_object_set_new(o, "cosigned", json_integer((json_int_t)dt_board_report_cosigned(b)));
    json_t *checks = json_array();
    for (int c = 0; c < DT_BOARD_CHECKS; c++) {
        int st = dt_board_check_status(b, (dt_board_check)c);
        json_t *m = json_array();
        for (size_t i = 0; i < dt_board_check_messages(b, (dt_board_check)c); i++)
            json_array_append_new(m, json_string(dt_board_check_message(b, (dt_board_check)c, i)));
        json_array_append_new(checks, json_pack("{s:s, s:s, s:I, s:o}", "name", dt_board_check_name((dt_board_check)c),
                                                "status", st == 0 ? "pass" : st == 1 ? "fail" : "not_checked",
                                                "checked", (json_int_t)dt_board_check_count(b, (dt_board_check)c),
                                                "messages", m));
    }
    json_object_set_new(o, "checks", checks);
    return o;
}

static int print_json(const dt_verify_report *rep, const char *dir, const dt_board_report *b, int require, int ok,
                      json_t *extra)
{
    json_t *root = json_object(), *steps = json_array();
    char *s;
    if (!root || !steps)
        return -1;
    json_object_set_new(root, "record", json_string(dir));
    json_object_set_new(root, "valid", json_boolean(ok));
    for (int i = 1; i <= DT_VERIFY_STEPS; i++) {
        json_t *st = json_object(), *msgs = json_array();
        dt_step_status status = dt_verify_step_status(rep, i);
        json_object_set_new(st, "step", json_integer(i));
        json_object_set_new(st, "name", json_string(dt_verify_step_name(i)));
        json_object_set_new(st, "status", json_string(status == DT_STEP_PASS   ? "pass"
                                                      : status == DT_STEP_FAIL ? "fail"
                                                                               : "not_applicable"));
        json_object_set_new(st, "checked", json_integer((json_int_t)dt_verify_step_checked(rep, i)));
        json_object_set_new(st, "failures", json_integer((json_int_t)dt_verify_step_failures(rep, i)));
        for (size_t m = 0; m < dt_verify_step_messages(rep, i); m++)
            json_array_append_new(msgs, json_string(dt_verify_step_message(rep, i, m)));
        json_object_set_new(st, "messages", msgs);
        if (dt_verify_step_note(rep, i))
            json_object_set_new(st, "note", json_string(dt_verify_step_note(rep, i)));
        json_array_append_new(steps, st);
    }
    json_object_set_new(root, "steps", steps);
    json_object_set_new(root, "board", board_json(b, require));
    if (extra)
        json_object_set(root, "mpi", extra);
    s = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!s)
        return -1;
    printf("%s\n", s);
    free(s);
    return 0;
}

/* The board's B.4 compares each ballot entry's code line with the ballot's
 * confirmation code: from the record already loaded, found by path. */
typedef struct code_entry {
    const char *file;
    const unsigned char *code;
} code_entry;

typedef struct code_map {
    code_entry *e; /* by file name */
    size_t n;
} code_map;

static int cmp_code_entry(const void *a, const void *b)
{
    return strcmp(((const code_entry *)a)->file, ((const code_entry *)b)->file);
}

static int code_of(void *arg, const char *path, unsigned char code[32])
{
    const code_map *m = arg;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->e[mid].file, path);
        if (c == 0) {
            memcpy(code, m->e[mid].code, 32);
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The board's checks (its B.4 takes the ballots' codes from cm, sorted
 * here), then the report on standard output; the exit status. extra: the
 * MPI line and object, or NULL. */
static int report(const char *dir, const dt_verify_report *rep, code_map *cm, dt_board_verify_opts *bopts, int json,
                  int require_board, const char *extra, json_t *extra_json)
{
    dt_board_report *brep = NULL;
    dt_err err;
    int rc = 2;

    if (cm->e) {
        qsort(cm->e, cm->n, sizeof *cm->e, cmp_code_entry);
        bopts->ballot_code = code_of;
        bopts->ballot_code_arg = cm;
    }
    err = dt_board_verify(&brep, dir, bopts);
    if (err != DT_OK && err != DT_ERR_NOT_FOUND) {
        fprintf(stderr, "detente verify: the board: %s\n", dt_strerror(err));
        goto out;
    }
    int ok = dt_verify_report_ok(rep) && (brep ? dt_board_report_ok(brep) : !require_board);
    if (json) {
        if (print_json(rep, dir, brep, require_board, ok, extra_json) != 0) {
            fprintf(stderr, "detente verify: out of memory\n");
            goto out;
        }
    } else {
        print_text(rep, dir, brep, require_board, ok, extra);
    }
    rc = ok ? 0 : 1;
out:
    dt_board_report_destroy(brep);
    return rc;
}

typedef struct vargs {
    const char *dir;
    int json, quiet, require_board, timing;
    unsigned threads;
    dt_board_verify_opts bopts;
} vargs;

static int verify_one(vargs *a)
{
    code_map cm = {0};
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    progress prog = {0, 0};
    dt_verify_opts opts;
    dt_err err;
    int rc;

    err = dt_record_load(&rec, &msg, a->dir);
    if (err) {
        fprintf(stderr, "detente verify: cannot read the record in %s: %s\n", a->dir, msg ? msg : dt_strerror(err));
        free(msg);
        return 2;
    }
    prog.enabled = !a->quiet && isatty(2);
    opts.threads = a->threads;
    opts.progress = show_progress;
    opts.progress_arg = &prog;
    err = dt_verify(&rep, rec, &opts);
    if (err) {
        fprintf(stderr, "detente verify: %s\n", dt_strerror(err));
        dt_record_destroy(rec);
        return 2;
    }
    if ((cm.e = malloc((rec->nballots + 1) * sizeof *cm.e)) != NULL) {
        for (size_t i = 0; i < rec->nballots; i++)
            cm.e[i] = (code_entry){rec->ballots[i].file, rec->ballots[i].code};
        cm.n = rec->nballots;
    }
    rc = report(a->dir, rep, &cm, &a->bopts, a->json, a->require_board, NULL, NULL);
    free(cm.e);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
    return rc;
}

static int verify_mpi(vargs *a);

int verify_main(int argc, const char *argv[])
{
    vargs a = {0};
    char *log_key = NULL;
    int mpi = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            free(log_key);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            a.json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            a.quiet = 1;
        } else if (strcmp(argv[i], "--require-board") == 0) {
            a.require_board = 1;
        } else if (strcmp(argv[i], "--mpi") == 0) {
            mpi = 1;
        } else if (strcmp(argv[i], "--timing") == 0) {
            a.timing = 1;
        } else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc) {
            free(log_key);
            if ((log_key = dt_cli_vkey_arg("detente verify", "--log-key", argv[++i])) == NULL)
                return 2;
            a.bopts.log_vkey = log_key;
        } else if (strcmp(argv[i], "--witnesses") == 0 && i + 1 < argc) {
            a.bopts.witnesses_file = argv[++i];
        } else if (strcmp(argv[i], "--witness-quorum") == 0 && i + 1 < argc) {
            char *end;
            long q = strtol(argv[++i], &end, 10);
            if (*end || q < 1 || q > DT_BOARD_MAX_WITNESSES) {
                fprintf(stderr, "detente verify: --witness-quorum wants a number from 1 to %d, not '%s'\n",
                        DT_BOARD_MAX_WITNESSES, argv[i]);
                free(log_key);
                return 2;
            }
            a.bopts.quorum = (size_t)q;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 64) {
                fprintf(stderr, "detente verify: --threads wants a number from 1 to 64, not '%s'\n", argv[i]);
                free(log_key);
                return 2;
            }
            a.threads = (unsigned)t;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "detente verify: unknown option '%s'\n%s", argv[i], usage_text);
            free(log_key);
            return 2;
        } else if (!a.dir) {
            a.dir = argv[i];
        } else {
            fprintf(stderr, "detente verify: one record at a time ('%s' is extra)\n", argv[i]);
            free(log_key);
            return 2;
        }
    }
    if (!a.dir) {
        fputs(usage_text, stderr);
        free(log_key);
        return 2;
    }
    rc = mpi ? verify_mpi(&a) : verify_one(&a);
    free(log_key);
    return rc;
}

#ifndef DT_HAVE_MPI

static int verify_mpi(vargs *a)
{
    (void)a;
    fprintf(stderr, "detente verify: --mpi: this detente was built without MPI (install Debian's libopenmpi-dev "
                    "and build again)\n");
    return 2;
}

#else

/* ---- detente verify --mpi ----
 *
 * Rank 0 reads the board's size and tells every rank; rank r of N takes
 * the entries [r E / N, (r + 1) E / N) and verifies the encrypted ballots
 * among them (those whose file the record holds: a file the board has and
 * the record lacks is B.4's to report, as without MPI). Without a usable
 * board the ranks share the record's sorted ballot files the same way.
 * Each rank sends rank 0 one message: a header, then an error message or
 * its partial result's bytes. Rank 0 receives them in rank order, merging
 * each as it comes (one buffer at a time: no 2 GiB limit of a gather's int
 * counts, and memory for one partial's bytes, not N), then loads the
 * results and the challenged ballots (their files come from the merged
 * metadata: few, and what steps 12-14 need beside the decryptions) and
 * finishes. */

#define MPI_CHUNK (1 << 30) /* bytes per MPI_Send: counts are ints */

enum { SHARD_BOARD = 1, SHARD_FILES = 2 };

/* What a rank tells rank 0 before its partial result. */
typedef struct shard_head {
    int32_t status;    /* 0: a partial result follows; 2: an error message follows */
    uint32_t msglen;   /* the error message, or a note (why the board could not be used) */
    uint64_t first, end;
    uint64_t nballots; /* ballot files verified */
    uint64_t missing;  /* board entries whose file the record lacks */
    /* --timing: this rank's selections, seconds to find and load its
     * ballots, to verify them (wall and this process's CPU), and the
     * partial result's bytes */
    uint64_t nsel;
    double load_s, verify_s, verify_cpu_s;
    uint64_t bytes;
} shard_head;

static double seconds(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for r without spinning on a core (Open MPI's blocking calls poll):
 * the ranks of a machine share its cores with each other's threads, and
 * while rank 0 finishes the others only wait. */
static int mpi_wait(MPI_Request *r)
{
    struct timespec ms = {0, 1000000};
    int done = 0;
    while (MPI_Test(r, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nanosleep(&ms, NULL);
    return done ? 0 : -1;
}

static int send_bytes(const unsigned char *p, uint64_t n, int to)
{
    MPI_Request r;
    if (MPI_Isend(&n, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD, &r) != MPI_SUCCESS || mpi_wait(&r) != 0)
        return -1;
    for (uint64_t off = 0; off < n; off += MPI_CHUNK) {
        int c = n - off < MPI_CHUNK ? (int)(n - off) : MPI_CHUNK;
        if (MPI_Isend(p + off, c, MPI_BYTE, to, 1, MPI_COMM_WORLD, &r) != MPI_SUCCESS || mpi_wait(&r) != 0)
            return -1;
    }
    return 0;
}

/* *p malloc'ed (rank 0 out of memory for it aborts the job: exit 2). */
static int recv_bytes(unsigned char **p, uint64_t *n, int from)
{
    MPI_Request r;
    unsigned char *buf;
    *p = NULL;
    if (MPI_Irecv(n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, &r) != MPI_SUCCESS || mpi_wait(&r) != 0)
        return -1;
    if (*n >= SIZE_MAX || !(buf = malloc((size_t)*n + 1))) {
        fprintf(stderr, "detente verify: out of memory for rank %d's result\n", from);
        MPI_Abort(MPI_COMM_WORLD, 2);
        return -1;
    }
    for (uint64_t off = 0; off < *n; off += MPI_CHUNK) {
        int c = *n - off < MPI_CHUNK ? (int)(*n - off) : MPI_CHUNK;
        if (MPI_Irecv(buf + off, c, MPI_BYTE, from, 1, MPI_COMM_WORLD, &r) != MPI_SUCCESS || mpi_wait(&r) != 0) {
            free(buf);
            return -1;
        }
    }
    *p = buf;
    return 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int file_in_record(const char *dir, const char *rel)
{
    struct stat st;
    char *p = dt_strdup_printf("%s/%s", dir, rel);
    int r = p && stat(p, &st) == 0;
    free(p);
    return r;
}

/* Rank r's share of [0, n): [r n / N, (r + 1) n / N), without overflow. */
static uint64_t share(uint64_t n, int r, int nranks)
{
    return n / (uint64_t)nranks * (uint64_t)r + n % (uint64_t)nranks * (uint64_t)r / (uint64_t)nranks;
}

/* This rank's ballot files: *files (malloc'ed strings) for its share, and
 * 0. 1 if the board's entries cannot be read here (the ranks then share the
 * ballot files), 2 if the record cannot be read; *msg says why. */
static int shard_files(char ***files, size_t *nfiles, uint64_t *first, uint64_t *end, uint64_t *missing, char **msg,
                       const char *dir, int mode, uint64_t size, int rank, int nranks)
{
    dt_err err;
    *files = NULL;
    *nfiles = 0;
    *missing = 0;
    if (mode == SHARD_BOARD) {
        char **all = NULL;
        size_t n = 0, k = 0;
        *first = share(size, rank, nranks);
        *end = share(size, rank + 1, nranks);
        if ((err = dt_verify_board_ballots(&all, &n, msg, dir, size, *first, *end)) != DT_OK) {
            if (!*msg)
                *msg = dt_strdup_printf("the board's entries: %s", dt_strerror(err));
            return 1;
        }
        /* each file once (a board that lists one twice fails B.4; the
         * record reader reads it once), and only those the record holds */
        if (n > 1)
            qsort(all, n, sizeof *all, cmp_path);
        for (size_t i = 0; i < n; i++) {
            if (k > 0 && strcmp(all[k - 1], all[i]) == 0) {
                free(all[i]);
            } else if (file_in_record(dir, all[i])) {
                all[k++] = all[i];
            } else {
                free(all[i]);
                (*missing)++;
            }
        }
        *files = all;
        *nfiles = k;
        return 0;
    }
    char **all = NULL, **mine;
    size_t n = 0;
    if ((err = dt_record_ballot_files(&all, &n, msg, dir)) != DT_OK) {
        char *m = dt_strdup_printf("cannot read the record in %s: %s", dir, *msg ? *msg : dt_strerror(err));
        free(*msg);
        *msg = m;
        return 2;
    }
    *first = share(n, rank, nranks);
    *end = share(n, rank + 1, nranks);
    if (!(mine = calloc(*end - *first + 1, sizeof *mine))) {
        dt_record_free_files(all, n);
        *msg = dt_strdup_printf("out of memory");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (i >= *first && i < *end)
            mine[(*nfiles)++] = all[i];
        else
            free(all[i]);
    }
    free(all);
    *files = mine;
    return 0;
}

/* This rank's message to rank 0: the header, then an error message or a
 * note, then the partial result's bytes (if status 0). */
static unsigned char *shard_message(size_t *len, shard_head *h, const char *text, const unsigned char *part,
                                    size_t partlen)
{
    size_t tl = text ? strlen(text) : 0;
    unsigned char *m = malloc(sizeof *h + tl + partlen + 1);
    h->msglen = (uint32_t)tl;
    if (!m)
        return NULL;
    memcpy(m, h, sizeof *h);
    if (tl)
        memcpy(m + sizeof *h, text, tl);
    if (partlen)
        memcpy(m + sizeof *h + tl, part, partlen);
    *len = sizeof *h + tl + partlen;
    return m;
}

/* Rank 0, with every rank's partial result merged into p: loads the
 * results and the challenged ballots (rec, its own shard, is freed first),
 * runs the global steps, the board's checks, and prints the report with a
 * line on the shards. The exit status. */
static int mpi_finish(vargs *a, dt_record *rec, dt_verify_partial *p, const shard_head *heads, char *const *notes,
                      int nranks, int mode, const char *board_why, double merge_s)
{
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID), load_s = 0, finish_s = 0,
           finish_cpu_s = 0;
    size_t n = dt_verify_partial_ballots(p), nchal = 0, len = 0, cap = 256;
    const char **chal = malloc((n + 1) * sizeof *chal);
    const char *why = board_why;
    dt_record *frec = NULL;
    dt_verify_report *rep = NULL;
    code_map cm = {0};
    char *msg = NULL, *line = malloc(cap);
    json_t *jm = json_object(), *shards = json_array();
    progress prog = {!a->quiet && isatty(2), 0};
    dt_verify_opts opts = {.threads = a->threads, .progress = show_progress, .progress_arg = &prog};
    dt_err err;
    int rc = 2;

    dt_record_destroy(rec);
    if (!chal || !line || !jm || !shards) {
        fprintf(stderr, "detente verify: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *file;
        int c;
        dt_verify_partial_ballot(p, i, &file, NULL, &c);
        if (c)
            chal[nchal++] = file;
    }
    /* each once, even if two shards overlapped (dt_verify_finish says so) */
    if (nchal > 1)
        qsort(chal, nchal, sizeof *chal, cmp_path);
    for (size_t i = 1, k = 1; i <= nchal; i++) {
        if (i == nchal) {
            nchal = k;
            break;
        }
        if (strcmp(chal[k - 1], chal[i]) != 0)
            chal[k++] = chal[i];
    }
    if ((err = dt_record_load_shard(&frec, &msg, a->dir, chal, nchal, 1)) != DT_OK) {
        fprintf(stderr, "detente verify: cannot read the record in %s: %s\n", a->dir, msg ? msg : dt_strerror(err));
        goto out;
    }
    load_s = seconds(CLOCK_MONOTONIC) - t0;
    t0 = seconds(CLOCK_MONOTONIC);
    c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    err = dt_verify_finish(&rep, frec, p, &opts);
    if (err == DT_ERR_INVALID) {
        /* two ranks verified the same ballot file: the board lists it twice
         * (B.4 fails). Rank 0 verifies the record alone, as without MPI,
         * for the same report. */
        dt_record_destroy(frec);
        frec = NULL;
        why = "the board lists a ballot file twice: rank 0 verified the record alone";
        if ((err = dt_record_load(&frec, &msg, a->dir)) != DT_OK) {
            fprintf(stderr, "detente verify: cannot read the record in %s: %s\n", a->dir, msg ? msg : dt_strerror(err));
            goto out;
        }
        err = dt_verify(&rep, frec, &opts);
        n = 0; /* the codes for B.4: from the record */
        if (err == DT_OK && (cm.e = malloc((frec->nballots + 1) * sizeof *cm.e)) != NULL) {
            for (size_t i = 0; i < frec->nballots; i++)
                cm.e[i] = (code_entry){frec->ballots[i].file, frec->ballots[i].code};
            cm.n = frec->nballots;
        }
    }
    if (err != DT_OK) {
        fprintf(stderr, "detente verify: %s\n", dt_strerror(err));
        goto out;
    }
    finish_s = seconds(CLOCK_MONOTONIC) - t0;
    finish_cpu_s = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (!cm.e && (cm.e = malloc((n + 1) * sizeof *cm.e)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            const char *file;
            const unsigned char *code;
            dt_verify_partial_ballot(p, i, &file, &code, NULL);
            cm.e[i] = (code_entry){file, code};
        }
        cm.n = n;
    }

    /* the line on the shards, and its JSON */
    for (int r = 0; r < nranks && !why; r++)
        why = notes[r];
    len = (size_t)snprintf(line, cap, "mpi: %d rank%s over the %s %llu %s%s%s%s:", nranks, nranks == 1 ? "" : "s",
                           mode == SHARD_BOARD ? "board's" : "record's",
                           (unsigned long long)heads[nranks - 1].end,
                           mode == SHARD_BOARD ? "entries" : "ballot files", why ? " (" : "", why ? why : "",
                           why ? ")" : "");
    json_object_set_new(jm, "ranks", json_integer(nranks));
    json_object_set_new(jm, "shards_by", json_string(mode == SHARD_BOARD ? "board entries" : "ballot files"));
    if (why)
        json_object_set_new(jm, "why", json_string(why));
    for (int r = 0; r < nranks; r++) {
        char part[160];
        int pl = snprintf(part, sizeof part, "%s rank %d [%llu, %llu) %llu ballots", r ? ";" : "", r,
                          (unsigned long long)heads[r].first, (unsigned long long)heads[r].end,
                          (unsigned long long)heads[r].nballots);
        if (heads[r].missing)
            pl += snprintf(part + pl, sizeof part - (size_t)pl, " (%llu not in the record)",
                           (unsigned long long)heads[r].missing);
        while (len + (size_t)pl + 1 > cap) {
            char *nl = realloc(line, 2 * cap);
            if (!nl) {
                fprintf(stderr, "detente verify: out of memory\n");
                goto out;
            }
            line = nl;
            cap *= 2;
        }
        memcpy(line + len, part, (size_t)pl + 1);
        len += (size_t)pl;
        json_array_append_new(shards, json_pack("{s:i, s:I, s:I, s:I, s:I}", "rank", r, "first",
                                                (json_int_t)heads[r].first, "end", (json_int_t)heads[r].end,
                                                "ballots", (json_int_t)heads[r].nballots, "missing",
                                                (json_int_t)heads[r].missing));
    }
    json_object_set(jm, "shards", shards);
    t0 = seconds(CLOCK_MONOTONIC);
    c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    rc = report(a->dir, rep, &cm, &a->bopts, a->json, a->require_board, line, jm);
    if (a->timing) {
        for (int r = 0; r < nranks; r++)
            fprintf(stderr,
                    "{\"bench\":\"verify_mpi_rank\",\"ranks\":%d,\"rank\":%d,\"ballots\":%llu,\"selections\":%llu,"
                    "\"load_s\":%.3f,\"verify_s\":%.3f,\"verify_cpu_s\":%.3f,\"partial_bytes\":%llu}\n",
                    nranks, r, (unsigned long long)heads[r].nballots, (unsigned long long)heads[r].nsel,
                    heads[r].load_s, heads[r].verify_s, heads[r].verify_cpu_s, (unsigned long long)heads[r].bytes);
        fprintf(stderr,
                "{\"bench\":\"verify_mpi_rank0\",\"ranks\":%d,\"ballots\":%zu,\"challenged\":%zu,"
                "\"receive_merge_s\":%.3f,\"results_load_s\":%.3f,\"finish_s\":%.3f,\"finish_cpu_s\":%.3f,"
                "\"board_and_report_s\":%.3f,\"board_and_report_cpu_s\":%.3f}\n",
                nranks, n, nchal, merge_s, load_s, finish_s, finish_cpu_s, seconds(CLOCK_MONOTONIC) - t0,
                seconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
    }
out:
    free(cm.e);
    free(chal);
    free(msg);
    free(line);
    json_decref(shards);
    json_decref(jm);
    dt_verify_report_destroy(rep);
    dt_record_destroy(frec);
    return rc;
}

static int verify_mpi(vargs *a)
{
    int provided = 0, rank = 0, nranks = 1, rc = 2, status = 0, fell = 0;
    uint64_t hdr[2] = {0, 0}; /* the board's size; SHARD_BOARD or SHARD_FILES */
    char **files = NULL, *msg = NULL, *note = NULL, *board_why = NULL;
    size_t nfiles = 0, partlen = 0, mlen = 0;
    unsigned char *part = NULL, *m = NULL;
    dt_record *rec = NULL;
    dt_verify_partial *p = NULL;
    dt_verify_opts opts = {.threads = a->threads};
    shard_head h = {0};
    dt_err err;

    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "detente verify: --mpi: MPI_Init failed\n");
        return 2;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    double t0 = seconds(CLOCK_MONOTONIC), c0;

    /* the board's size, from rank 0 */
    if (rank == 0) {
        err = dt_verify_board_size(&hdr[0], &board_why, a->dir, a->bopts.log_vkey);
        hdr[1] = err == DT_OK ? SHARD_BOARD : SHARD_FILES;
        if (err == DT_ERR_NOT_FOUND)
            board_why = strdup("the record has no board");
        else if (err == DT_ERR_NOMEM)
            board_why = strdup("out of memory");
    }
    MPI_Request req;
    MPI_Ibcast(hdr, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
    mpi_wait(&req);

    /* this rank's share; if any rank cannot read its entries, all share the files */
    status = shard_files(&files, &nfiles, &h.first, &h.end, &h.missing, &msg, a->dir, (int)hdr[1], hdr[0], rank, nranks);
    fell = status == 1;
    MPI_Allreduce(MPI_IN_PLACE, &fell, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (fell) {
        note = status == 1 ? msg : NULL; /* why this rank could not use the board */
        msg = NULL;
        dt_record_free_files(files, nfiles);
        files = NULL;
        nfiles = 0;
        hdr[1] = SHARD_FILES;
        status = shard_files(&files, &nfiles, &h.first, &h.end, &h.missing, &msg, a->dir, SHARD_FILES, 0, rank, nranks);
    }

    /* verify it on all this rank's cores */
    if (status == 0) {
        err = dt_record_load_shard(&rec, &msg, a->dir, (const char *const *)files, nfiles, 0);
        h.load_s = seconds(CLOCK_MONOTONIC) - t0;
        t0 = seconds(CLOCK_MONOTONIC);
        c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        if (err) {
            char *mm = dt_strdup_printf("cannot read the record in %s: %s", a->dir, msg ? msg : dt_strerror(err));
            free(msg);
            msg = mm;
            status = 2;
        } else if ((err = dt_verify_ballots_partial(&p, rec, &opts)) != DT_OK ||
                   (err = dt_verify_partial_serialize(&part, &partlen, rec, p)) != DT_OK) {
            msg = dt_strdup_printf("rank %d: %s", rank, dt_strerror(err));
            status = 2;
        }
        h.verify_s = seconds(CLOCK_MONOTONIC) - t0;
        h.verify_cpu_s = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
        h.bytes = partlen;
        for (size_t i = 0; rec && i < rec->nballots; i++)
            for (size_t c = 0; c < rec->ballots[i].ncontests; c++)
                h.nsel += rec->ballots[i].contests[c].nsel;
    }
    h.status = status;
    h.nballots = nfiles;
    if (rank != 0) {
        m = shard_message(&mlen, &h, status ? msg : note, status ? NULL : part, status ? 0 : partlen);
        if (!m) {
            /* out of memory: an error without words */
            h.status = 2;
            m = shard_message(&mlen, &h, NULL, NULL, 0);
        }
        if (send_bytes(m ? m : (const unsigned char *)&h, m ? mlen : sizeof h, 0) != 0)
            fprintf(stderr, "detente verify: rank %d: cannot send its result to rank 0\n", rank);
    } else {
        shard_head *heads = calloc((size_t)nranks, sizeof *heads);
        char **notes = calloc((size_t)nranks, sizeof *notes);
        char *first_error = NULL;
        if (!heads || !notes) {
            fprintf(stderr, "detente verify: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        heads[0] = h;
        notes[0] = note;
        note = NULL;
        if (status)
            first_error = msg ? msg : strdup("out of memory"), msg = NULL;
        t0 = seconds(CLOCK_MONOTONIC);
        for (int r = 1; r < nranks; r++) {
            unsigned char *buf = NULL;
            uint64_t n = 0;
            shard_head rh;
            if (recv_bytes(&buf, &n, r) != 0 || !buf || n < sizeof rh) {
                if (!first_error)
                    first_error = dt_strdup_printf("rank %d: its result did not arrive whole", r);
                free(buf);
                continue;
            }
            memcpy(&rh, buf, sizeof rh);
            heads[r] = rh;
            if (rh.msglen > n - sizeof rh)
                rh.status = 2, rh.msglen = 0;
            char *text = rh.msglen ? dt_strdup_printf("%.*s", (int)rh.msglen, (const char *)buf + sizeof rh) : NULL;
            if (rh.status != 0) {
                if (!first_error)
                    first_error = text ? text : dt_strdup_printf("rank %d failed", r);
                else
                    free(text);
            } else {
                dt_verify_partial *q = NULL;
                char *dmsg = NULL;
                notes[r] = text;
                if (!first_error && p) {
                    size_t off = sizeof rh + rh.msglen;
                    if ((err = dt_verify_partial_deserialize(&q, &dmsg, rec, buf + off, (size_t)(n - off))) != DT_OK ||
                        (err = dt_verify_partial_merge(rec, p, q)) != DT_OK)
                        first_error = dt_strdup_printf("rank %d's partial result: %s", r, dmsg ? dmsg : dt_strerror(err));
                }
                free(dmsg);
                dt_verify_partial_destroy(q);
            }
            free(buf);
        }
        if (first_error) {
            fprintf(stderr, "detente verify: %s\n", first_error);
            rc = 2;
        } else {
            rc = mpi_finish(a, rec, p, heads, notes, nranks, (int)hdr[1], board_why,
                            seconds(CLOCK_MONOTONIC) - t0);
            rec = NULL; /* mpi_finish freed it */
        }
        free(first_error);
        for (int r = 0; r < nranks; r++)
            free(notes[r]);
        free(notes);
        free(heads);
    }
    MPI_Ibcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    mpi_wait(&req);
    dt_record_free_files(files, nfiles);
    dt_verify_partial_destroy(p);
    dt_record_destroy(rec);
    free(part);
    free(m);
    free(msg);
    free(note);
    free(board_why);
    MPI_Finalize();
    return rc;
}

#endif
