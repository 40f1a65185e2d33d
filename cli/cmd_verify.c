/* detente verify RECORD_DIR: ElectionGuard 2.0 verification steps 1-18.
 * Exit status: 0 valid, 1 invalid, 2 unreadable or usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <detente/board.h>
#include <detente/note.h>
#include <detente/record.h>
#include <detente/verify.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"

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
    "  --threads N  worker threads (default: one per CPU)\n"
    "  --quiet      no progress display\n"
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

static void print_text(const dt_verify_report *rep, const char *dir, const dt_board_report *b, int require, int ok)
{
    printf("detente verify %s\n", dir);
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

static int print_json(const dt_verify_report *rep, const char *dir, const dt_board_report *b, int require, int ok)
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

int verify_main(int argc, const char *argv[])
{
    code_map cm = {0};
    int json = 0, quiet = 0, require_board = 0;
    unsigned threads = 0;
    dt_board_verify_opts bopts = {0};
    dt_board_report *brep = NULL;
    char *log_key = NULL;
    const char *dir = NULL;
    dt_record *rec = NULL;
    dt_verify_report *rep = NULL;
    char *msg = NULL;
    dt_err err;
    progress prog = {0, 0};
    dt_verify_opts opts;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--require-board") == 0) {
            require_board = 1;
        } else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc) {
            free(log_key);
            if ((log_key = dt_cli_vkey_arg("detente verify", "--log-key", argv[++i])) == NULL)
                return 2;
            bopts.log_vkey = log_key;
        } else if (strcmp(argv[i], "--witnesses") == 0 && i + 1 < argc) {
            bopts.witnesses_file = argv[++i];
        } else if (strcmp(argv[i], "--witness-quorum") == 0 && i + 1 < argc) {
            char *end;
            long q = strtol(argv[++i], &end, 10);
            if (*end || q < 1 || q > DT_BOARD_MAX_WITNESSES) {
                fprintf(stderr, "detente verify: --witness-quorum wants a number from 1 to %d, not '%s'\n",
                        DT_BOARD_MAX_WITNESSES, argv[i]);
                return 2;
            }
            bopts.quorum = (size_t)q;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 64) {
                fprintf(stderr, "detente verify: --threads wants a number from 1 to 64, not '%s'\n", argv[i]);
                return 2;
            }
            threads = (unsigned)t;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "detente verify: unknown option '%s'\n%s", argv[i], usage_text);
            return 2;
        } else if (!dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "detente verify: one record at a time ('%s' is extra)\n", argv[i]);
            return 2;
        }
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return 2;
    }
    err = dt_record_load(&rec, &msg, dir);
    if (err) {
        fprintf(stderr, "detente verify: cannot read the record in %s: %s\n", dir, msg ? msg : dt_strerror(err));
        free(msg);
        return 2;
    }
    prog.enabled = !quiet && isatty(2);
    opts.threads = threads;
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
        qsort(cm.e, cm.n, sizeof *cm.e, cmp_code_entry);
        bopts.ballot_code = code_of;
        bopts.ballot_code_arg = &cm;
    }
    err = dt_board_verify(&brep, dir, &bopts);
    if (err != DT_OK && err != DT_ERR_NOT_FOUND) {
        fprintf(stderr, "detente verify: the board: %s\n", dt_strerror(err));
        rc = 2;
        goto out;
    }
    int ok = dt_verify_report_ok(rep) && (brep ? dt_board_report_ok(brep) : !require_board);
    if (json) {
        if (print_json(rep, dir, brep, require_board, ok) != 0) {
            fprintf(stderr, "detente verify: out of memory\n");
            rc = 2;
            goto out;
        }
    } else {
        print_text(rep, dir, brep, require_board, ok);
    }
    rc = ok ? 0 : 1;
out:
    free(cm.e);
    dt_board_report_destroy(brep);
    free(log_key);
    dt_verify_report_destroy(rep);
    dt_record_destroy(rec);
    return rc;
}
