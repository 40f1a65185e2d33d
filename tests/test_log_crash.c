/* The log store under crashes: a child process appends batches and, after
 * each dt_log_append that returned DT_OK, reports (size, root) on a pipe;
 * the parent SIGKILLs it at a random moment, reopens the log and checks that
 * everything acknowledged is there: the size is at least the last reported
 * one, every entry is byte for byte what was appended, every reported root
 * is the root of its size and consistent with the new root, and appending
 * works again. Entries are derived from their index, so they can be checked.
 *
 * A SIGKILL loses the process, not the machine: this tests SQLite's
 * recovery of the WAL and of unfinished transactions, not the fsync that
 * synchronous=FULL adds for a power loss. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <detente/log.h>

#include "testrand.h"

#define HB DT_MERKLE_HASH_BYTES
#define KILLS 15
#define ENTRY_MAXLEN 600
#define BATCH_MAX 200

typedef struct ack {
    uint64_t size;
    unsigned char root[HB];
} ack;

/* Entry i: 1 + (i * 7919) % 600 bytes derived from i. */
static size_t entry_of(unsigned char *buf, uint64_t i)
{
    size_t n = 1 + (size_t)((i * 7919) % ENTRY_MAXLEN);
    for (size_t j = 0; j < n; j++)
        buf[j] = (unsigned char)(i * 2654435761u >> (j % 24) ^ j);
    if (n >= 8)
        memcpy(buf, &i, 8);
    return n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The child: appends batches of 1..BATCH_MAX entries until killed, and
 * reports each one once it is acknowledged. Uses only its own handle. */
static void child(const char *path, int fd, uint64_t seed)
{
    static unsigned char buf[BATCH_MAX][ENTRY_MAXLEN];
    const unsigned char *ents[BATCH_MAX];
    size_t lens[BATCH_MAX];
    dt_log *log = NULL;
    uint64_t size, first;
    ack a;
    if (dt_log_open(&log, path, 0) != DT_OK || dt_log_size(log, &size) != DT_OK)
        _exit(3);
    for (;;) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t n = 1 + (size_t)((seed >> 33) % BATCH_MAX);
        for (size_t i = 0; i < n; i++) {
            lens[i] = entry_of(buf[i], size + i);
            ents[i] = buf[i];
        }
        if (dt_log_append(log, ents, lens, n, &first) != DT_OK || first != size)
            _exit(4);
        size += n;
        a.size = size;
        if (dt_log_root(log, size, a.root) != DT_OK || write(fd, &a, sizeof a) != (ssize_t)sizeof a)
            _exit(5);
    }
}

/* Runs one child for about ms milliseconds, kills it, and collects every
 * acknowledgement it wrote. Returns how many (acks grows as needed). */
static size_t run_and_kill(const char *path, double ms, uint64_t seed, ack **acks, size_t count, size_t *cap)
{
    int fds[2], status;
    pid_t pid;
    double t0 = now_ms();
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(path, fds[1], seed);
    }
    close(fds[1]);
    for (int killed = 0;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        double left = t0 + ms - now_ms();
        if (!killed && left <= 0) {
            assert_int_equal(kill(pid, SIGKILL), 0);
            killed = 1;
        }
        if (poll(&p, 1, killed ? -1 : (int)left + 1) <= 0)
            continue;
        if (count == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            *acks = realloc(*acks, *cap * sizeof **acks);
            assert_non_null(*acks);
        }
        ssize_t r = read(fds[0], &(*acks)[count], sizeof **acks);
        if (r == 0) /* the child is gone and everything it wrote is read */
            break;
        assert_int_equal(r, sizeof **acks); /* writes of < PIPE_BUF bytes are atomic */
        count++;
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("the child ended on its own (status %d) instead of being killed", status);
    return count;
}

static void check_log(const char *path, const ack *acks, size_t count, uint64_t *checked)
{
    dt_log *log = NULL;
    uint64_t size;
    unsigned char root[HB], r[HB], want[ENTRY_MAXLEN];
    unsigned char proof[DT_MERKLE_MAX_PROOF][HB];
    size_t plen;

    assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
    assert_int_equal(dt_log_size(log, &size), DT_OK);
    assert_true(count == 0 || size >= acks[count - 1].size);
    /* entries not checked yet, byte for byte (those committed but not yet
     * reported included) */
    for (uint64_t i = *checked; i < size; i++) {
        unsigned char *data;
        size_t len, wlen = entry_of(want, i);
        assert_int_equal(dt_log_entry(log, i, &data, &len), DT_OK);
        assert_int_equal(len, wlen);
        assert_memory_equal(data, want, wlen);
        free(data);
    }
    *checked = size;
    /* every acknowledged (size, root) ever seen, against the tree now */
    assert_int_equal(dt_log_root(log, size, root), DT_OK);
    for (size_t k = 0; k < count; k++) {
        assert_int_equal(dt_log_root(log, acks[k].size, r), DT_OK);
        assert_memory_equal(r, acks[k].root, HB);
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_log_consistency_proof(log, proof, &plen, acks[k].size, size), DT_OK);
        assert_int_equal(dt_merkle_consistency_verify(acks[k].size, size, acks[k].root, root,
                                                      (const unsigned char (*)[HB])proof, plen),
                         DT_OK);
    }
    /* and appending works again (an entry of the same form, checked on the
     * next round) */
    unsigned char buf[ENTRY_MAXLEN];
    const unsigned char *ent = buf;
    size_t len = entry_of(buf, size);
    uint64_t first;
    assert_int_equal(dt_log_append(log, &ent, &len, 1, &first), DT_OK);
    assert_int_equal(first, size);
    dt_log_close(log);
}

static void test_crash(void **state)
{
    (void)state;
    char dir[] = "/tmp/dt-logcrash-XXXXXX", path[64], cmd[96];
    ack *acks = NULL;
    size_t count = 0, cap = 0, before;
    uint64_t checked = 0;
    dt_log *log = NULL;

    testrand_init();
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/log.db", dir);
    assert_int_equal(dt_log_open(&log, path, 1), DT_OK);
    dt_log_close(log); /* no handle is open across fork() */
    for (int k = 0; k < KILLS; k++) {
        /* mostly mid-stream; sometimes while the child is still opening */
        double ms = testrand_u64(4) == 0 ? (double)testrand_u64(5) : 20 + (double)testrand_u64(200);
        before = count;
        count = run_and_kill(path, ms, testrand_u64(0), &acks, count, &cap);
        printf("kill %d after %.0f ms: %zu batches acknowledged, size %llu\n", k, ms, count - before,
               count ? (unsigned long long)acks[count - 1].size : 0ULL);
        check_log(path, acks, count, &checked);
    }
    assert_true(count > 0);
    free(acks);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
