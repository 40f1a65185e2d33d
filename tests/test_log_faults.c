/* The board's stores and detente's files under injected I/O faults, as
 * SQLite's own I/O-error tests do (STYLE 36):
 *
 *  - a test SQLite VFS, registered as the default (so the library needs no
 *    hook), wraps the unix VFS and fails the Nth write, fsync or truncate
 *    (once, with an I/O error; or from the Nth on, with SQLITE_FULL: a full
 *    disk). For N over every such call of a batch append (plain and keyed)
 *    and of a witness's cosignature, the call fails with DT_ERR_IO (or
 *    succeeded before the fault, and then everything is there), the handle
 *    and a reopened log show the log unchanged (size, root, every entry,
 *    proofs), and the same append then succeeds;
 *  - the library's own file writes (tiles, key files) go through write,
 *    fsync and rename, wrapped at link time (-Wl,--wrap): for N over every
 *    call of a tile export and of a guardian key file, the call fails with
 *    DT_ERR_IO, no temporary or half-written file is left, every file in
 *    place is complete, and the call then succeeds;
 *  - key files (guardian, log, witness) are mode 0600 from their creation
 *    and a symbolic link at a key's path is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <detente/board.h>
#include <detente/ceremony.h>
#include <detente/group.h>
#include <detente/log.h>
#include <detente/merkle.h>
#include <detente/note.h>
#include <detente/witness.h>

#include "ceremony/ceremony_impl.h"
#include "testrand.h"
#include "util/codec.h"

#define HB DT_MERKLE_HASH_BYTES

/* ---- fault injection ---------------------------------------------------- */

typedef enum { FAULT_OFF, FAULT_ONCE, FAULT_FROM } fault_mode;
typedef enum { ON_SQLITE, ON_FILES } fault_target;

static struct {
    fault_mode mode;
    fault_target target;
    int full;   /* a full disk (SQLITE_FULL, ENOSPC) rather than an I/O error */
    long at;    /* the at-th counted call fails (1-based) */
    long count; /* counted calls since armed */
    long hits;  /* calls failed */
} F;

static void fault_arm(fault_target target, fault_mode mode, long at, int full)
{
    F.target = target;
    F.mode = mode;
    F.at = at;
    F.full = full;
    F.count = 0;
    F.hits = 0;
}

static long fault_disarm(void)
{
    F.mode = FAULT_OFF;
    return F.hits;
}

/* 1 if this call (of the target's kind) must fail. */
static int fault_fires(fault_target target)
{
    if (F.mode == FAULT_OFF || F.target != target)
        return 0;
    F.count++;
    if (F.count == F.at || (F.mode == FAULT_FROM && F.count > F.at)) {
        F.hits++;
        return 1;
    }
    return 0;
}

/* The test VFS: the unix VFS with xWrite, xSync and xTruncate counted. */
typedef struct ffile {
    sqlite3_file base;
    sqlite3_file *real;
} ffile;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

#define REAL(f) (((ffile *)(f))->real)
#define RM(f) (REAL(f)->pMethods)

static int f_close(sqlite3_file *f) { return RM(f)->xClose(REAL(f)); }
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off) { return RM(f)->xRead(REAL(f), b, n, off); }
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
    if (fault_fires(ON_SQLITE))
        return F.full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    return RM(f)->xWrite(REAL(f), b, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (fault_fires(ON_SQLITE))
        return SQLITE_IOERR_TRUNCATE;
    return RM(f)->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    if (fault_fires(ON_SQLITE))
        return SQLITE_IOERR_FSYNC;
    return RM(f)->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) { return RM(f)->xFileSize(REAL(f), size); }
static int f_lock(sqlite3_file *f, int l) { return RM(f)->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return RM(f)->xUnlock(REAL(f), l); }
static int f_reserved(sqlite3_file *f, int *out) { return RM(f)->xCheckReservedLock(REAL(f), out); }
static int f_fcntl(sqlite3_file *f, int op, void *arg) { return RM(f)->xFileControl(REAL(f), op, arg); }
static int f_sector(sqlite3_file *f) { return RM(f)->xSectorSize(REAL(f)); }
static int f_devchar(sqlite3_file *f) { return RM(f)->xDeviceCharacteristics(REAL(f)); }
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return RM(f)->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags) { return RM(f)->xShmLock(REAL(f), off, n, flags); }
static void f_shm_barrier(sqlite3_file *f) { RM(f)->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) { return RM(f)->xShmUnmap(REAL(f), del); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp) { return RM(f)->xFetch(REAL(f), off, n, pp); }
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) { return RM(f)->xUnfetch(REAL(f), off, p); }

static const sqlite3_io_methods fault_io = {
    3,       f_close,   f_read,     f_write,   f_truncate,    f_sync,      f_size,   f_lock,  f_unlock,
    f_reserved, f_fcntl, f_sector, f_devchar, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,
    f_unfetch,
};

static int f_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out)
{
    ffile *p = (ffile *)file;
    int rc;
    (void)vfs;
    p->real = (sqlite3_file *)&p[1];
    rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out);
    p->base.pMethods = p->real->pMethods ? &fault_io : NULL;
    return rc;
}

static void fault_vfs_install(void)
{
    if (real_vfs)
        return;
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    assert_true(real_vfs->iVersion >= 3);
    fault_vfs = *real_vfs;
    fault_vfs.zName = "detente-faults";
    fault_vfs.szOsFile = (int)sizeof(ffile) + real_vfs->szOsFile;
    fault_vfs.pNext = NULL;
    fault_vfs.xOpen = f_open;
    /* the default VFS from now on: every database the library opens uses it */
    assert_int_equal(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
}

/* The library's file writes (libdetente.a is linked with --wrap=write,
 * --wrap=fsync, --wrap=rename): a full disk writes half a buffer, then
 * fails with ENOSPC. */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (fault_fires(ON_FILES)) {
        if (F.full && F.mode == FAULT_FROM && n > 1 && F.hits == 1)
            return __real_write(fd, buf, n / 2);
        errno = F.full ? ENOSPC : EIO;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (fault_fires(ON_FILES)) {
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (fault_fires(ON_FILES)) {
        errno = F.full ? ENOSPC : EIO;
        return -1;
    }
    return __real_rename(from, to);
}

/* ---- helpers ------------------------------------------------------------ */

static char tmproot[64];

static int setup_all(void **state)
{
    (void)state;
    testrand_init();
    snprintf(tmproot, sizeof tmproot, "/tmp/dt-faults-XXXXXX");
    assert_non_null(mkdtemp(tmproot));
    fault_vfs_install();
    return 0;
}

static int teardown_all(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

/* Entry i: 1 + (i * 7919) % 300 bytes derived from i. */
static size_t entry_of(unsigned char *buf, uint64_t i)
{
    size_t n = 1 + (size_t)((i * 7919) % 300);
    for (size_t j = 0; j < n; j++)
        buf[j] = (unsigned char)(i * 2654435761u >> (j % 24) ^ j);
    if (n >= 8)
        memcpy(buf, &i, 8);
    return n;
}

/* Appends entries first..first+n-1 (keyed "key-<i>" when keyed). */
static dt_err append_range(dt_log *log, uint64_t first, size_t n, int keyed, uint64_t *at)
{
    unsigned char(*buf)[300] = malloc(n * sizeof *buf);
    const unsigned char **e = malloc(n * sizeof *e), **k = malloc(n * sizeof *k);
    size_t *lens = malloc(n * sizeof *lens), *klens = malloc(n * sizeof *klens);
    char(*keys)[32] = malloc(n * sizeof *keys);
    dt_err err;
    assert_true(buf && e && k && lens && klens && keys);
    for (size_t i = 0; i < n; i++) {
        lens[i] = entry_of(buf[i], first + i);
        e[i] = buf[i];
        klens[i] = (size_t)snprintf(keys[i], sizeof keys[i], "key-%llu", (unsigned long long)(first + i));
        k[i] = (const unsigned char *)keys[i];
    }
    err = keyed ? dt_log_append_keyed(log, e, lens, k, klens, n, at, NULL) : dt_log_append(log, e, lens, n, at);
    free(buf);
    free(e);
    free(k);
    free(lens);
    free(klens);
    free(keys);
    return err;
}

/* The log holds exactly entries 0..size-1, its stored root is their root,
 * and proofs from (size1, root1) still verify. */
static void check_log(dt_log *log, uint64_t size, uint64_t size1, const unsigned char root1[HB])
{
    uint64_t got;
    unsigned char(*leaves)[HB] = malloc((size ? size : 1) * sizeof *leaves);
    unsigned char root[HB], want[HB], buf[300], proof[DT_MERKLE_MAX_PROOF][HB];
    size_t plen;
    assert_non_null(leaves);
    assert_int_equal(dt_log_size(log, &got), DT_OK);
    assert_int_equal(got, size);
    for (uint64_t i = 0; i < size; i++) {
        unsigned char *data = NULL;
        size_t len = 0, n = entry_of(buf, i);
        assert_int_equal(dt_log_entry(log, i, &data, &len), DT_OK);
        assert_int_equal(len, n);
        assert_memory_equal(data, buf, n);
        free(data);
        dt_merkle_leaf_hash(leaves[i], buf, n);
    }
    dt_merkle_root(want, (const unsigned char(*)[HB])leaves, size);
    assert_int_equal(dt_log_root(log, size, root), DT_OK);
    assert_memory_equal(root, want, HB);
    if (size1 > 0 && size1 <= size) {
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_log_consistency_proof(log, proof, &plen, size1, size), DT_OK);
        assert_int_equal(dt_merkle_consistency_verify(size1, size, root1, root, (const unsigned char(*)[HB])proof, plen),
                         DT_OK);
    }
    if (size > 0) {
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_log_inclusion_proof(log, proof, &plen, size - 1, size), DT_OK);
        assert_int_equal(
            dt_merkle_inclusion_verify(size - 1, size, leaves[size - 1], (const unsigned char(*)[HB])proof, plen, root),
            DT_OK);
    }
    free(leaves);
}

/* ---- the log store under SQLite faults ---------------------------------- */

/* For N = 1, 2, ... until an append runs without reaching the Nth call:
 * append a batch with the Nth write/fsync/truncate failing. */
static void append_faults(fault_mode mode, int full, int keyed, size_t batch)
{
    char path[160];
    dt_log *log = NULL;
    uint64_t size = 0, first = 0;
    unsigned char root[HB];
    long n, failed = 0, after_commit = 0;
    const char *why = NULL;

    snprintf(path, sizeof path, "%s/log-%d-%d-%d.db", tmproot, (int)mode, full, keyed);
    assert_int_equal(dt_log_open(&log, path, 1), DT_OK);
    /* a tree of a few levels first */
    assert_int_equal(append_range(log, 0, 1, keyed, &first), DT_OK);
    assert_int_equal(append_range(log, 1, 20, keyed, &first), DT_OK);
    size = 21;
    for (n = 1;; n++) {
        dt_err err;
        uint64_t got = 0;
        long hits;

        assert_int_equal(dt_log_root(log, size, root), DT_OK);
        fault_arm(ON_SQLITE, mode, n, full);
        err = append_range(log, size, batch, keyed, &first);
        hits = fault_disarm();
        if (hits == 0) {
            /* the append made fewer than n calls: every position was covered */
            assert_int_equal(err, DT_OK);
            assert_int_equal(first, size);
            size += batch;
            break;
        }
        if (err == DT_OK) {
            /* the fault came after the commit (a checkpoint): acknowledged
             * means stored */
            after_commit++;
            assert_int_equal(first, size);
            dt_log_close(log);
            log = NULL;
            assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
            size += batch;
            check_log(log, size, size - batch, root);
            continue;
        }
        failed++;
        assert_int_equal(err, DT_ERR_IO);
        why = dt_log_errmsg(log);
        assert_true(why[0] != '\0');
        if (failed == 1)
            print_message("  fault at call %ld: DT_ERR_IO, \"%s\"\n", n, why);
        /* the handle shows the log unchanged (the transaction rolled back) */
        assert_int_equal(dt_log_size(log, &got), DT_OK);
        assert_int_equal(got, size);
        /* so does the log reopened, entry by entry */
        dt_log_close(log);
        log = NULL;
        assert_int_equal(dt_log_open(&log, path, 0), DT_OK);
        check_log(log, size, size, root);
        /* and the same batch now goes in, as the next entries */
        assert_int_equal(append_range(log, size, batch, keyed, &first), DT_OK);
        assert_int_equal(first, size);
        size += batch;
        check_log(log, size, size - batch, root);
    }
    print_message("  %s%s%s batch of %zu: %ld calls, %ld failed appends, %ld faults after the commit\n",
                  mode == FAULT_ONCE ? "one I/O error" : "disk full from the call on", full ? " (SQLITE_FULL)" : "",
                  keyed ? ", keyed" : "", batch, n - 1, failed, after_commit);
    assert_true(failed >= 3); /* the test reached the append's writes and syncs */
    dt_log_close(log);
}

static void test_append_io_error(void **state)
{
    (void)state;
    append_faults(FAULT_ONCE, 0, 0, 7);
}

static void test_append_io_error_keyed(void **state)
{
    (void)state;
    append_faults(FAULT_ONCE, 0, 1, 7);
}

static void test_append_disk_full(void **state)
{
    (void)state;
    append_faults(FAULT_FROM, 1, 0, 7);
    append_faults(FAULT_FROM, 1, 1, 40);
}

/* ---- a witness's state under SQLite faults ------------------------------ */

#define WLEAVES 256
#define NOW 1700000000u

typedef struct wlog {
    dt_note_signer key;
    const char *origin;
    unsigned char leaves[WLEAVES][HB];
} wlog;

/* The request to grow the witness's state from old to size (malloc'ed). */
static char *wrequest(const wlog *l, uint64_t old, uint64_t size, size_t *len)
{
    char body[2048], *note = malloc(DT_NOTE_MAX_BYTES), *req = NULL;
    size_t bl = sizeof body, nl = DT_NOTE_MAX_BYTES, plen = 0;
    const dt_note_signer *signers[1] = {&l->key};
    unsigned char root[HB], proof[DT_MERKLE_MAX_PROOF][HB];
    assert_non_null(note);
    dt_merkle_root(root, (const unsigned char(*)[HB])l->leaves, size);
    assert_int_equal(dt_checkpoint_format(body, &bl, l->origin, strlen(l->origin), size, root, NULL, 0), DT_OK);
    assert_int_equal(dt_note_sign(note, &nl, body, bl, signers, 1), DT_OK);
    if (old > 0) {
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_merkle_consistency_proof(proof, &plen, old, (const unsigned char(*)[HB])l->leaves, size),
                         DT_OK);
    }
    assert_int_equal(dt_witness_request_format(&req, len, old, (const unsigned char(*)[HB])proof, plen, note, nl),
                     DT_OK);
    free(note);
    return req;
}

/* The witness, reopened, holds (have, root of have). */
static void expect_witness(dt_witness **w, const char *dir, const wlog *l, uint64_t have)
{
    uint64_t got;
    unsigned char root[HB], want[HB];
    dt_witness_close(*w);
    *w = NULL;
    assert_int_equal(dt_witness_open(w, dir), DT_OK);
    assert_int_equal(dt_witness_state(*w, l->origin, strlen(l->origin), &got, root), DT_OK);
    assert_int_equal(got, have);
    dt_merkle_root(want, (const unsigned char(*)[HB])l->leaves, have);
    assert_memory_equal(root, want, HB);
}

static void test_witness_faults(void **state)
{
    char dir[128], *vk;
    wlog *l = calloc(1, sizeof *l);
    unsigned char seed[32];
    dt_note_verifier vkey;
    dt_witness *w = NULL;
    uint64_t have = 1;
    size_t vl = DT_NOTE_VKEY_MAX, rl;
    long failed = 0;
    dt_witness_response r;
    char *req;
    (void)state;

    assert_non_null(l);
    l->origin = "example.org/faults";
    snprintf(dir, sizeof dir, "%s/witness", tmproot);
    assert_int_equal(dt_witness_create(dir, "witness.example/faults"), DT_OK);
    assert_int_equal(dt_witness_open(&w, dir), DT_OK);
    memset(seed, 9, sizeof seed);
    assert_int_equal(dt_note_signer_from_seed(&l->key, l->origin, strlen(l->origin), DT_NOTE_ED25519, seed), DT_OK);
    dt_note_signer_verifier(&vkey, &l->key);
    vk = malloc(DT_NOTE_VKEY_MAX);
    assert_non_null(vk);
    assert_int_equal(dt_note_verifier_format(vk, &vl, &vkey), DT_OK);
    assert_int_equal(dt_witness_add_log(w, vk, vl), DT_OK);
    free(vk);
    for (size_t i = 0; i < WLEAVES; i++) {
        unsigned char e[16];
        testrand_bytes(e, sizeof e);
        dt_merkle_leaf_hash(l->leaves[i], e, sizeof e);
    }
    req = wrequest(l, 0, 1, &rl);
    assert_int_equal(dt_witness_add_checkpoint(w, req, rl, NOW, &r), DT_OK);
    assert_int_equal(r.status, 200);
    dt_witness_response_free(&r);
    free(req);
    for (int full = 0; full <= 1; full++) {
        for (long n = 1;; n++) {
            long hits;
            assert_true(have + 1 < WLEAVES);
            req = wrequest(l, have, have + 1, &rl);
            fault_arm(ON_SQLITE, full ? FAULT_FROM : FAULT_ONCE, n, full);
            assert_int_equal(dt_witness_add_checkpoint(w, req, rl, NOW, &r), DT_OK);
            hits = fault_disarm();
            if (r.status == 200) {
                /* cosigned: stored (the fault, if any, came after the commit) */
                dt_witness_response_free(&r);
                free(req);
                have++;
                expect_witness(&w, dir, l, have);
                if (hits == 0)
                    break;
                continue;
            }
            /* the store failed: a server error, and nothing cosigned */
            assert_true(hits > 0);
            assert_int_equal(r.status, 500);
            assert_true(r.why[0] != '\0');
            if (failed++ == 0)
                print_message("  witness store, fault at call %ld: %d \"%s\"\n", n, r.status, r.why);
            dt_witness_response_free(&r);
            expect_witness(&w, dir, l, have);
            /* the same request, without a fault, is cosigned */
            assert_int_equal(dt_witness_add_checkpoint(w, req, rl, NOW, &r), DT_OK);
            assert_int_equal(r.status, 200);
            dt_witness_response_free(&r);
            free(req);
            have++;
            expect_witness(&w, dir, l, have);
        }
    }
    print_message("  witness: %ld cosignatures refused with 500, state unchanged each time\n", failed);
    assert_true(failed >= 2);
    dt_witness_close(w);
    free(l);
}

/* ---- tile export under file faults --------------------------------------- */

/* 1 if every regular file under dir has the same bytes under ref (and no
 * temporary file is anywhere); counts the files. */
static void same_files(const char *dir, const char *ref, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char p[1024], q[1024];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        assert_null(strstr(de->d_name, ".tmp"));
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        snprintf(q, sizeof q, "%s/%s", ref, de->d_name);
        assert_int_equal(lstat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            same_files(p, q, count);
            continue;
        }
        unsigned char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        assert_int_equal(dt_read_file(&a, &al, p, 1 << 20), DT_OK);
        assert_int_equal(dt_read_file(&b, &bl, q, 1 << 20), DT_OK);
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
        free(a);
        free(b);
        (*count)++;
    }
    closedir(d);
}

static void test_export_tiles_faults(void **state)
{
    char path[160], ref[160], dir[160];
    dt_log *log = NULL;
    uint64_t first;
    size_t nref = 0;
    long n, failed = 0;
    (void)state;

    snprintf(path, sizeof path, "%s/tiles.db", tmproot);
    snprintf(ref, sizeof ref, "%s/tiles-ref", tmproot);
    snprintf(dir, sizeof dir, "%s/tiles", tmproot);
    assert_int_equal(dt_log_open(&log, path, 1), DT_OK);
    assert_int_equal(append_range(log, 0, 300, 0, &first), DT_OK);
    assert_int_equal(append_range(log, 300, 300, 0, &first), DT_OK);
    assert_int_equal(dt_log_export_tiles(log, ref, 600), DT_OK);
    same_files(ref, ref, &nref);
    assert_true(nref >= 5);
    for (n = 1;; n++) {
        dt_err err;
        long hits;
        size_t count = 0;
        rm_rf(dir);
        fault_arm(ON_FILES, n % 2 ? FAULT_ONCE : FAULT_FROM, (n + 1) / 2, !(n % 2));
        err = dt_log_export_tiles(log, dir, 600);
        hits = fault_disarm();
        if (hits == 0) {
            assert_int_equal(err, DT_OK);
            if (n > 2)
                break;
            continue;
        }
        failed++;
        assert_int_equal(err, DT_ERR_IO);
        /* what is there is whole and right; no temporary file is left */
        if (access(dir, F_OK) == 0)
            same_files(dir, ref, &count);
        assert_true(count < nref);
        /* and the export then completes */
        assert_int_equal(dt_log_export_tiles(log, dir, 600), DT_OK);
        count = 0;
        same_files(dir, ref, &count);
        assert_int_equal(count, nref);
    }
    print_message("  tiles: %zu files, %ld exports failed with DT_ERR_IO\n", nref, failed);
    assert_true(failed >= (long)nref);
    dt_log_close(log);
}

/* ---- key files ------------------------------------------------------------ */

static void expect_mode(const char *path, unsigned mode)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, mode);
}

/* No name in dir contains ".tmp". */
static void no_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        assert_null(strstr(de->d_name, ".tmp"));
    closedir(d);
}

static void test_key_file_helper(void **state)
{
    char dir[160], path[200], target[200], buf[16];
    mode_t old = umask(0);
    struct stat st;
    FILE *fp;
    (void)state;

    snprintf(dir, sizeof dir, "%s/keys", tmproot);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/secret.key", dir);
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    /* mode 0600 from its creation, whatever the umask */
    assert_int_equal(dt_write_file_atomic(path, "key\n", 4, 0600), DT_OK);
    expect_mode(path, 0600);
    /* replaced atomically */
    assert_int_equal(dt_write_file_atomic(path, "new key\n", 8, 0600), DT_OK);
    expect_mode(path, 0600);
    /* a symbolic link at the path is refused, and its target untouched */
    assert_int_equal(unlink(path), 0);
    fp = fopen(target, "w");
    assert_non_null(fp);
    fputs("target", fp);
    fclose(fp);
    assert_int_equal(symlink(target, path), 0);
    errno = 0;
    assert_int_equal(dt_write_file_atomic(path, "key\n", 4, 0600), DT_ERR_IO);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    fp = fopen(target, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "target");
    /* a dangling link too */
    assert_int_equal(unlink(target), 0);
    assert_int_equal(dt_write_file_atomic(path, "key\n", 4, 0600), DT_ERR_IO);
    assert_int_equal(access(target, F_OK), -1);
    /* a folder at the path */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(dt_write_file_atomic(path, "key\n", 4, 0600), DT_ERR_IO);
    assert_int_equal(rmdir(path), 0);
    no_temporaries(dir);
    umask(old);
}

static void test_guardian_key_file(void **state)
{
    char path[200], link[200];
    dt_group *g = dt_group_create(DT_GROUP_RISTRETTO255);
    dt_guardian *gd = NULL, *back = NULL;
    unsigned char eid[32] = {7};
    struct stat st;
    long n, failed = 0;
    (void)state;

    assert_non_null(g);
    dt_guardian_file_cost_for_testing(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
    assert_int_equal(dt_guardian_create(&gd, g, 1, 3, 2), DT_OK);
    snprintf(path, sizeof path, "%s/keys/g1.key", tmproot);
    snprintf(link, sizeof link, "%s/keys/g2.key", tmproot);
    /* a symbolic link at the path: refused */
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(dt_guardian_save(gd, link, "pass", eid), DT_ERR_IO);
    assert_int_equal(lstat(path, &st), -1);
    /* every write, fsync and rename failing in turn: an error, and no file */
    for (n = 1;; n++) {
        dt_err err;
        /* odd n: the (n+1)/2-th call fails once with EIO; even n: the disk
         * is full from the n/2-th call on */
        fault_arm(ON_FILES, n % 2 ? FAULT_ONCE : FAULT_FROM, (n + 1) / 2, !(n % 2));
        err = dt_guardian_save(gd, path, "pass", eid);
        if (fault_disarm() == 0) {
            assert_int_equal(err, DT_OK);
            if (n % 2)
                break;
            unlink(path);
            continue;
        }
        failed++;
        assert_int_equal(err, DT_ERR_IO);
        /* the rename is the commit point: only the folder's fsync may fail after it */
        if (lstat(path, &st) == 0)
            assert_int_equal(dt_guardian_load(&back, g, path, "pass", eid), DT_OK);
        dt_guardian_destroy(back);
        back = NULL;
        unlink(path);
    }
    print_message("  guardian key file: %ld write/fsync/rename faults, each DT_ERR_IO\n", failed);
    assert_true(failed >= 3);
    expect_mode(path, 0600);
    assert_int_equal(dt_guardian_load(&back, g, path, "pass", eid), DT_OK);
    dt_guardian_destroy(back);
    snprintf(link, sizeof link, "%s/keys", tmproot);
    no_temporaries(link);
    dt_guardian_file_cost_for_testing(0, 0);
    dt_guardian_destroy(gd);
    dt_group_destroy(g);
}

static void test_board_and_witness_keys(void **state)
{
    char e[160], w[200], key[260], other[260], *msg = NULL;
    const char *ws[1];
    (void)state;

    snprintf(e, sizeof e, "%s/election", tmproot);
    snprintf(w, sizeof w, "%s/election-witness", tmproot);
    assert_int_equal(dt_witness_create(w, "witness.example/keys"), DT_OK);
    snprintf(key, sizeof key, "%s/witness.key", w);
    expect_mode(key, 0600);
    ws[0] = w;
    /* a symbolic link where the log key goes: board init refuses */
    snprintf(key, sizeof key, "%s/private_data/board", e);
    assert_int_equal(dt_mkdirs(key), DT_OK);
    snprintf(key, sizeof key, "%s/private_data/board/log.key", e);
    snprintf(other, sizeof other, "%s/stolen.key", tmproot);
    assert_int_equal(symlink(other, key), 0);
    assert_int_not_equal(dt_board_init(&msg, e, "example.org/election", ws, 1, 1), DT_OK);
    assert_non_null(msg);
    print_message("  board init with a link at log.key: %s\n", msg);
    free(msg);
    msg = NULL;
    assert_int_equal(access(other, F_OK), -1);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(dt_board_init(&msg, e, "example.org/election", ws, 1, 1), DT_OK);
    expect_mode(key, 0600);
    snprintf(key, sizeof key, "%s/private_data/board/log.db", e);
    expect_mode(key, 0600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_io_error),
        cmocka_unit_test(test_append_io_error_keyed),
        cmocka_unit_test(test_append_disk_full),
        cmocka_unit_test(test_witness_faults),
        cmocka_unit_test(test_export_tiles_faults),
        cmocka_unit_test(test_key_file_helper),
        cmocka_unit_test(test_guardian_key_file),
        cmocka_unit_test(test_board_and_witness_keys),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
