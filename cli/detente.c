/* detente: end-to-end verifiable elections. The command dispatches to one
 * function per subcommand, from a table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*fn)(int argc, const char *argv[]);
    const char *usage;
    const char *help;
} subcommand;

static const subcommand subcommands[] = {
    {"verify", verify_main, "verify [--json] [--threads N] [--quiet] RECORD_DIR",
     "check every verification step of an election record"},
    {"demo", demo_main,
     "demo [--group ristretto255|integer4096] [--guardians N] [--quorum K] [--absent A] [--ballots B] [--out DIR] "
     "[--until voting] [--selections S]",
     "run a whole election in one command and write its record"},
    {"election", election_main,
     "election create --manifest FILE --guardians N --quorum K [--group ristretto255|integer4096] [--chain] "
     "[--device-info TEXT] DIR\n       detente election open DIR",
     "create an election; open it after the key ceremony (judges its complaints)"},
    {"guardian", guardian_main,
     "guardian init DIR --index I --key KEYFILE [--passphrase-file FILE]\n"
     "       detente guardian shares|receive|reveal DIR --key KEYFILE [--passphrase-file FILE]",
     "a guardian's steps of the key ceremony, alone on its own machine"},
    {"encrypt", encrypt_main, "encrypt [--device ID] [--challenge] [--nonce-out FILE] ELECTION_DIR PLAINTEXT.json",
     "encrypt a plaintext ballot, as a voting device does (JSON on standard output)"},
    {"receipt", receipt_main,
     "receipt verify RECEIPT --log-key FILE_OR_VKEY --witnesses FILE [--quorum K] [--code CODE]\n"
     "       detente receipt show RECEIPT",
     "check a voter's receipt offline: the ballot is on the board the witnesses saw"},
    {"tally", tally_main, "tally DIR", "add up the cast ballots into the encrypted tally"},
    {"decrypt", decrypt_main,
     "decrypt share|respond DIR --key KEYFILE [--passphrase-file FILE]\n"
     "       detente decrypt combine DIR [--guardians I,J,...]\n       detente decrypt finish DIR",
     "decrypt the tally and challenged ballots: any k guardians, two rounds"},
    {"board", board_main,
     "board init DIR --origin ORIGIN --witness W... [--quorum K]\n"
     "       detente board publish DIR\n       detente board receipt DIR CONFIRMATION_CODE [--out FILE]",
     "the election's bulletin board: publish the record, get a voter's receipt"},
    {"witness", witness_main,
     "witness init|add-log|show|cosign|serve DIR ...\n       detente witness push URL FILE",
     "a witness that cosigns a log's consistent checkpoints (C2SP tlog-witness)"},
    {"serve", serve_main, "serve ELECTION_DIR --listen ADDR:PORT [--publish-every SECONDS]",
     "the election server: takes ballots over HTTP, serves receipts and the board"},
    {"close", close_main,
     "close ELECTION_DIR [--guardians-from DIR [--passphrase-file FILE]] [--wait SECONDS]",
     "close voting (a running server stops taking ballots), then tally and decrypt"},
    {"version", version_main, "version", "print the version"},
    {"help", help_main, "help [COMMAND]", "show this help, or a command's"},
};

#define NSUB (sizeof subcommands / sizeof *subcommands)

static void usage(FILE *f)
{
    fprintf(f, "usage: detente COMMAND [ARGS]\n\n"
               "detente runs elections that rivals can check: nobody has to be trusted for the result.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NSUB; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
    fprintf(f, "\nThe roles, each on its own machine, exchange only files in the election folder:\n"
               "election create, guardian init/shares/receive(/reveal), election open, encrypt,\n"
               "tally, decrypt share/combine/respond/finish, verify (docs/roles.md).\n"
               "Passphrases (guardian, decrypt share/respond): from DETENTE_PASSPHRASE if set,\n"
               "else from --passphrase-file FILE, else asked on the terminal; never an argument.\n");
    fprintf(f, "\n'detente help COMMAND' shows a command's usage. Docs: docs/ in the source tree.\n");
}

int help_main(int argc, const char *argv[])
{
    if (argc >= 2) {
        for (size_t i = 0; i < NSUB; i++)
            if (strcmp(argv[1], subcommands[i].name) == 0) {
                printf("usage: detente %s\n\n%s\n", subcommands[i].usage, subcommands[i].help);
                if (strcmp(subcommands[i].name, "help") != 0 && strcmp(subcommands[i].name, "version") != 0) {
                    const char *av[] = {subcommands[i].name, "--help", NULL};
                    return subcommands[i].fn(2, av);
                }
                return 0;
            }
        fprintf(stderr, "detente: no command '%s'\n", argv[1]);
        return 2;
    }
    usage(stdout);
    return 0;
}

int main(int argc, const char *argv[])
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return help_main(1, argv + 1);
    if (strcmp(argv[1], "--version") == 0)
        return version_main(1, argv + 1);
    for (size_t i = 0; i < NSUB; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "detente: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
