/* Steps of the election that more than one command runs (decrypt, board,
 * close): one copy each. Every function that fails prints why on stderr,
 * prefixed with the command's name. */
#ifndef DT_CLI_STEPS_H
#define DT_CLI_STEPS_H

#include <stddef.h>

#include <detente/record.h>

/* Steps 1-8 and 15-18 of the verifier must pass before a guardian decrypts
 * anything: the election, the ballots' proofs and codes, and the encrypted
 * tally as the product of the cast ballots (steps 9-14 check decryptions,
 * which do not exist yet). Returns 0, or -1 after naming each failing step.
 * Progress on stderr when it is a terminal. */
int dt_cli_check_before_decrypt(const char *prog, const dt_record *rec);

/* detente board publish DIR: every new public file onto the board, cosigned.
 * A witness's refusal (the quorum held) is printed as a warning. Returns 0
 * with *added and *cosigned (either may be NULL), or -1 after a message. */
int dt_cli_board_publish(const char *prog, const char *dir, size_t *added, size_t *cosigned);

/* Prints the decrypted tally of dir (tally.json) as a table on stdout;
 * nothing if it cannot be read. */
void dt_cli_print_tally(const char *dir);

#endif
