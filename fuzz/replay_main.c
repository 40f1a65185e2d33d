/* Replays fuzzing inputs without libFuzzer: runs a harness's
 * LLVMFuzzerTestOneInput once over every file of the folders given (not
 * recursing; names starting with '.' are skipped), in name order. The test
 * suite runs it over fuzz/corpus/<harness> and fuzz/regressions/<harness>,
 * under gcc and under ASan+UBSan, so that every input that ever crashed
 * stays fixed.
 *
 * usage: replay_<harness> DIR...    exit 0 if every input ran (a harness
 * aborts on a broken promise), 2 if a folder or file cannot be read or the
 * folders hold no input at all. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/codec.h"

/* Harnesses without set-up do not define it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REPLAY_MAX_INPUT (64u << 20)

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every input of dir; returns the number run, or -1 on error. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    long ran = -1;

    if (!d) {
        fprintf(stderr, "replay: cannot open folder %s\n", dir);
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(names, cap * sizeof *nv);
            if (!nv)
                goto out;
            names = nv;
        }
        if (!(names[n] = strdup(e->d_name)))
            goto out;
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        char *path = dt_strdup_printf("%s/%s", dir, names[i]);
        unsigned char *buf = NULL, *exact;
        size_t len = 0;
        if (!path || dt_read_file(&buf, &len, path, REPLAY_MAX_INPUT) != DT_OK) {
            fprintf(stderr, "replay: cannot read %s\n", path ? path : names[i]);
            free(path);
            goto out;
        }
        /* dt_read_file adds a NUL after the data: copy to an exact buffer. */
        exact = fuzz_dup(buf, len);
        free(buf);
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        free(path);
    }
    ran = (long)n;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return ran;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        long n = replay_dir(argv[i]);
        if (n < 0)
            return 2;
        printf("replay: %ld inputs from %s\n", n, argv[i]);
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no input at all\n");
        return 2;
    }
    printf("replay: %ld inputs, no failure\n", total);
    return 0;
}
