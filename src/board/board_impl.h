/* Private to the board: the public files of a record. */
#ifndef DT_BOARD_IMPL_H
#define DT_BOARD_IMPL_H

#include <detente/board.h>

/* The most files a record may hold (a record of 10 million ballots). */
#define DT_BOARD_MAX_FILES 20000000u
/* The largest artifact (a file of the record). */
#define DT_BOARD_FILE_MAX (256u << 20)

/* Lists the public files of the record dir, sorted by path (bytewise):
 * every regular file under dir except those under private_data/ and board/
 * and hidden names (starting with '.', which the record reader skips too).
 * A path that is not a valid board path, a temporary file of an atomic write
 * (".tmp-" in its name), a symbolic link or another kind of file is an error
 * (DT_ERR_INVALID, *msg says which):
 * the record must be exactly what the board can hold. *paths and each path
 * malloc'ed; free with dt_board_free_paths. */
dt_err dt_board_list_files(char ***paths, size_t *n, char **msg, const char *dir);
/* As dt_board_list_files; ballots 0: without DIR/encrypted_ballots/. */
dt_err dt_board_list_files_opt(char ***paths, size_t *n, char **msg, const char *dir, int ballots);
void dt_board_free_paths(char **paths, size_t n);

/* 1 if path is an encrypted ballot of the record (its entry carries the
 * confirmation code). */
int dt_board_is_ballot_path(const char *path, size_t len);

/* The confirmation code of an encrypted ballot file's JSON text. */
dt_err dt_board_ballot_code(unsigned char code[DT_BOARD_CODE_BYTES], const unsigned char *json, size_t len);

/* Test hook (tests/test_log_pg.c): fn(arg) runs in dt_board_publish after
 * each checkpoint is signed and before its witnesses are asked, so that a
 * test can have another publisher go ahead at that moment. NULL: none. */
void dt_board_test_before_witnesses(dt_board *b, void (*fn)(void *arg), void *arg);

#endif
