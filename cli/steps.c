/* Steps of the election shared by several commands (cli/steps.h). */
#include <stdio.h>
#include <stdlib.h>

#include <detente/board.h>
#include <detente/record.h>
#include <detente/verify.h>

#include "record/record.h"
#include "role_util.h"
#include "steps.h"

int dt_cli_check_before_decrypt(const char *prog, const dt_record *rec)
{
    dt_verify_report *rep = NULL;
    dt_cli_progress pr;
    dt_verify_opts vo = {0, dt_cli_progress_tick, &pr};
    int bad = 0;
    dt_cli_progress_init(&pr, "checking the record");
    if (dt_verify(&rep, rec, &vo) != DT_OK) {
        dt_cli_err(prog, "cannot check the record (out of memory?)");
        return -1;
    }
    for (int s = 1; s <= DT_VERIFY_STEPS; s++) {
        if ((s >= 9 && s <= 14) || dt_verify_step_status(rep, s) != DT_STEP_FAIL)
            continue;
        dt_cli_err(prog, "refusing to decrypt: the record fails verification step %d (%s)%s%s", s,
                   dt_verify_step_name(s), dt_verify_step_messages(rep, s) ? ": " : "",
                   dt_verify_step_messages(rep, s) ? dt_verify_step_message(rep, s, 0) : "");
        bad = 1;
    }
    dt_verify_report_destroy(rep);
    return bad ? -1 : 0;
}

int dt_cli_board_publish(const char *prog, const char *dir, size_t *added, size_t *cosigned)
{
    dt_board *b = NULL;
    char *msg = NULL;
    size_t a = 0, c = 0;
    dt_err err = dt_board_open(&b, &msg, dir);
    if (err == DT_OK)
        err = dt_board_publish(b, &msg, &a, &c);
    dt_board_close(b);
    if (err != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        free(msg);
        return -1;
    }
    if (msg)
        fprintf(stderr, "%s: warning: %s\n", prog, msg);
    free(msg);
    if (added)
        *added = a;
    if (cosigned)
        *cosigned = c;
    return 0;
}

void dt_cli_print_tally(const char *dir)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    if (dt_record_load(&rec, &msg, dir) != DT_OK) {
        free(msg);
        return;
    }
    printf("\n%-20s %-24s %8s\n", "contest", "selection", "votes");
    for (size_t c = 0; c < rec->tally.ncontests; c++)
        for (size_t s = 0; s < rec->tally.contests[c].nsel; s++)
            printf("%-20s %-24s %8llu\n", s ? "" : rec->tally.contests[c].id, rec->tally.contests[c].sel[s].id,
                   (unsigned long long)rec->tally.contests[c].sel[s].value);
    printf("\n");
    dt_record_destroy(rec);
}
