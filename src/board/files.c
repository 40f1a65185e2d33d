/* The public files of a record, as the board sees them. */
#include "board/board_impl.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/codec.h"

typedef struct list {
    char **v;
    size_t n, cap;
} list;

static int push(list *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return 0;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 1;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static dt_err walk(list *l, char **msg, const char *dir, const char *rel, int ballots)
{
    char *full = rel[0] ? dt_strdup_printf("%s/%s", dir, rel) : dt_strdup_printf("%s", dir);
    if (full == NULL)
        return DT_ERR_NOMEM;
    DIR *d = opendir(full);
    if (d == NULL) {
        *msg = dt_strdup_printf("%s: cannot read the folder", full);
        free(full);
        return DT_ERR_IO;
    }
    dt_err err = DT_OK;
    struct dirent *de;
    while (err == DT_OK && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        /* Hidden names are not part of a record (the record reader skips
         * them too). A temporary file of an interrupted atomic write is an
         * error, not something to skip: the verifier would read it. */
        if (name[0] == '.')
            continue;
        if (rel[0] == '\0' && (strcmp(name, "private_data") == 0 || strcmp(name, "board") == 0 ||
                                (!ballots && strcmp(name, "encrypted_ballots") == 0)))
            continue;
        char *r = rel[0] ? dt_strdup_printf("%s/%s", rel, name) : dt_strdup_printf("%s", name);
        char *p = r ? dt_strdup_printf("%s/%s", dir, r) : NULL;
        struct stat sb;
        if (r == NULL || p == NULL) {
            err = DT_ERR_NOMEM;
        } else if (lstat(p, &sb) != 0) {
            *msg = dt_strdup_printf("%s: cannot be read", p);
            err = DT_ERR_IO;
        } else if (strstr(name, ".tmp-") != NULL) {
            *msg = dt_strdup_printf("%s: a temporary file of an interrupted write; remove it (or finish the write)", p);
            err = DT_ERR_INVALID;
        } else if (!dt_board_path_valid(r, strlen(r))) {
            *msg = dt_strdup_printf("%s: the name cannot go on the board (letters, digits, '.', '_', '-' only)", p);
            err = DT_ERR_INVALID;
        } else if (S_ISDIR(sb.st_mode)) {
            err = walk(l, msg, dir, r, ballots);
        } else if (!S_ISREG(sb.st_mode)) {
            *msg = dt_strdup_printf("%s: not a regular file (links are not followed)", p);
            err = DT_ERR_INVALID;
        } else if (l->n >= DT_BOARD_MAX_FILES) {
            *msg = dt_strdup_printf("%s: more than %u files", dir, DT_BOARD_MAX_FILES);
            err = DT_ERR_LIMIT;
        } else if (!push(l, r)) {
            err = DT_ERR_NOMEM;
        } else {
            r = NULL;
        }
        free(r);
        free(p);
    }
    closedir(d);
    free(full);
    return err;
}

dt_err dt_board_list_files_opt(char ***paths, size_t *n, char **msg, const char *dir, int ballots)
{
    list l = {0};
    *paths = NULL;
    *n = 0;
    dt_err err = walk(&l, msg, dir, "", ballots);
    if (err != DT_OK) {
        dt_board_free_paths(l.v, l.n);
        return err;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp);
    *paths = l.v;
    *n = l.n;
    return DT_OK;
}

dt_err dt_board_list_files(char ***paths, size_t *n, char **msg, const char *dir)
{
    return dt_board_list_files_opt(paths, n, msg, dir, 1);
}

void dt_board_free_paths(char **paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

int dt_board_is_ballot_path(const char *path, size_t len)
{
    static const char pre[] = "encrypted_ballots/";
    return len > sizeof pre - 1 + 5 && memcmp(path, pre, sizeof pre - 1) == 0 &&
           memcmp(path + len - 5, ".json", 5) == 0;
}

dt_err dt_board_ballot_code(unsigned char code[DT_BOARD_CODE_BYTES], const unsigned char *json, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return DT_ERR_PARSE;
    const char *s = json_string_value(json_object_get(j, "confirmation_code"));
    dt_err err = s ? dt_b64_decode_exact(code, DT_BOARD_CODE_BYTES, s) : DT_ERR_PARSE;
    json_decref(j);
    return err == DT_OK ? DT_OK : DT_ERR_PARSE;
}
