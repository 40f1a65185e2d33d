/* The detente command: one file per subcommand. */
#ifndef DT_CLI_H
#define DT_CLI_H

int verify_main(int argc, const char *argv[]);
int version_main(int argc, const char *argv[]);
int help_main(int argc, const char *argv[]);
int demo_main(int argc, const char *argv[]);
int encrypt_main(int argc, const char *argv[]);
int receipt_main(int argc, const char *argv[]);
int election_main(int argc, const char *argv[]);
int guardian_main(int argc, const char *argv[]);
int tally_main(int argc, const char *argv[]);
int decrypt_main(int argc, const char *argv[]);
int board_main(int argc, const char *argv[]);
int witness_main(int argc, const char *argv[]);
int serve_main(int argc, const char *argv[]);
int close_main(int argc, const char *argv[]);

#endif
