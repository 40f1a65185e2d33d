/* detente tally DIR: adds up the cast ballots of the record into
 * encrypted_tally.json (homomorphically: nothing is decrypted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/record.h>
#include <detente/workflow.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"

static const char usage_text[] =
    "usage: detente tally DIR\n"
    "\n"
    "Multiplies the encryptions of every cast ballot under DIR/encrypted_ballots/,\n"
    "selection by selection, into DIR/encrypted_tally.json. Challenged ballots are\n"
    "left out. Anyone can run it and anyone can check it ('detente verify', step\n"
    "8). Then the guardians decrypt it: 'detente decrypt share' (docs/roles.md).\n"
    "\n"
    "Exit status: 0 done, 1 the record is unreadable or inconsistent, 2 usage.\n";

int tally_main(int argc, const char *argv[])
{
    const char *prog = "detente tally", *dir = NULL;
    char *msg = NULL;
    size_t cast = 0, challenged = 0;
    dt_err err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || dir) {
            dt_cli_err(prog, "unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        }
        dir = argv[i];
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return 2;
    }
    if ((err = dt_election_tally_counts(&msg, dir, &cast, &challenged))) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        free(msg);
        return 1;
    }
    printf("%s/encrypted_tally.json: the sum of %zu cast ballots (%zu challenged ballots left out).\n"
           "Next, each guardian present: detente decrypt share %s --key KEYFILE\n",
           dir, cast, challenged, dir);
    return 0;
}
