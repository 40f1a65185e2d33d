/* The witness (include/detente/witness.h): C2SP tlog-witness v1.0.0
 * add-checkpoint, tlog-cosignature v1.0.1 Ed25519 cosignatures, the state in
 * SQLite.
 *
 * The order of the checks, and so which status a request with several
 * faults gets, is the order of the specification:
 *   413 too large; 400 malformed body; 404 unknown origin; 403 no valid
 *   signature by the log's key (400 if the note or checkpoint is malformed);
 *   400 old size above the checkpoint's; 422 a size-0 checkpoint whose root
 *   is not SHA-256(""); then, in one IMMEDIATE transaction: 409 old size is
 *   not the stored size; 409 same size, another root (split view); 422 proof
 *   (not empty where it must be, or not verifying); 422 the check function;
 *   500 the state or the answer could not be made; 200.
 * The log's signature depends on no state, so it is checked before the
 * transaction: the write lock is held only for what reads the state. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <detente/witness.h>

#include "util/codec.h"

#define KEY_FILE "witness.key"
#define VKEY_FILE "witness.vkey"
#define LOGS_FILE "logs"
#define DB_FILE "state.db"
/* DIR/logs: at most 1 MiB, several thousand logs. */
#define LOGS_FILE_MAX ((size_t)1 << 20)
/* tlog-witness: a client MUST NOT send more than 63 consistency proof lines. */
#define PROOF_LINES_MAX 63
/* How long a request waits for another one holding the state's write lock. */
#define BUSY_TIMEOUT_MS 10000

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define TEXT_SIZE "text/x.tlog.size"

struct dt_witness {
    pthread_mutex_t mu; /* every call on a handle is serialized */
    sqlite3 *db;
    char *dir;
    dt_note_signer signer;
    dt_note_verifier verifier;
    dt_note_verifier *logs; /* DIR/logs as last read */
    size_t nlogs;
    struct stat logs_st; /* the file then: a changed file is read again */
    dt_witness_check_fn check;
    void *check_arg;
};

static const char SCHEMA[] = "PRAGMA journal_mode=WAL;"
                             "CREATE TABLE checkpoints ("
                             " origin TEXT PRIMARY KEY NOT NULL,"
                             " size INTEGER NOT NULL CHECK (size >= 0),"
                             " root BLOB NOT NULL CHECK (length(root) = 32),"
                             " note TEXT NOT NULL"
                             ") STRICT;";

/* ---- Files and the database ------------------------------------------- */

static char *path_in(const char *dir, const char *name) { return dt_strdup_printf("%s/%s", dir, name); }

static dt_err db_open(sqlite3 **db, const char *path, int create)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    *db = NULL;
    /* The busy timeout comes first: another process may hold a lock (or be
     * recovering the WAL) while this one reads its first page. */
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_exec(*db, "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
        return DT_ERR_IO;
    }
    return DT_OK;
}

static int name_ok(const char *name, size_t n)
{
    if (n == 0 || n > DT_NOTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f || name[i] == '+')
            return 0;
    return 1;
}

/* 1 if dir exists and is an empty folder, 0 if it does not exist, -1 if it
 * is something else. */
static int dir_state(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;
    if (!d)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty ? 1 : -1;
}

static void unlink_in(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    if (p)
        unlink(p);
    free(p);
}

dt_err dt_witness_create(const char *dir, const char *name)
{
    static const char *const made[] = {DB_FILE, DB_FILE "-wal", DB_FILE "-shm", LOGS_FILE, VKEY_FILE, KEY_FILE};
    dt_note_signer s;
    dt_note_verifier v;
    char skey[DT_NOTE_SKEY_MAX + 1], vkey[DT_NOTE_VKEY_MAX + 1];
    size_t sn = DT_NOTE_SKEY_MAX, vn = DT_NOTE_VKEY_MAX;
    char *dbp = NULL, *keyp = NULL, *vkeyp = NULL, *logsp = NULL;
    sqlite3 *db = NULL;
    int st, created = 0;
    dt_err err;

    if (!dir || !name)
        dt_misuse("dt_witness_create: NULL argument");
    if (!name_ok(name, strlen(name)))
        return strlen(name) > DT_NOTE_NAME_MAX ? DT_ERR_LIMIT : DT_ERR_ENCODING;
    st = dir_state(dir);
    if (st < 0)
        return DT_ERR_INVALID;
    if (st == 0) {
        if (mkdir(dir, 0700) != 0)
            return DT_ERR_IO;
        created = 1;
    }
    if ((err = dt_note_signer_generate(&s, name, strlen(name), DT_NOTE_COSIG)))
        goto out;
    dt_note_signer_verifier(&v, &s);
    if ((err = dt_note_signer_format(skey, &sn, &s)) || (err = dt_note_verifier_format(vkey, &vn, &v)))
        goto out;
    skey[sn++] = '\n';
    vkey[vn++] = '\n';
    err = DT_ERR_NOMEM;
    if (!(dbp = path_in(dir, DB_FILE)) || !(keyp = path_in(dir, KEY_FILE)) || !(vkeyp = path_in(dir, VKEY_FILE)) ||
        !(logsp = path_in(dir, LOGS_FILE)))
        goto out;
    if ((err = db_open(&db, dbp, 1)))
        goto out;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        err = DT_ERR_IO;
        goto out;
    }
    if ((err = dt_write_file_atomic(logsp, "", 0, 0644)) || (err = dt_write_file_atomic(vkeyp, vkey, vn, 0644)) ||
        (err = dt_write_file_atomic(keyp, skey, sn, 0600)))
        goto out;
out:
    if (db && sqlite3_close(db) != SQLITE_OK && !err)
        err = DT_ERR_IO;
    if (err) {
        for (size_t i = 0; i < sizeof made / sizeof *made; i++)
            unlink_in(dir, made[i]);
        if (created)
            rmdir(dir);
    }
    dt_note_signer_clear(&s);
    dt_memzero(skey, sizeof skey);
    free(dbp);
    free(keyp);
    free(vkeyp);
    free(logsp);
    return err;
}

/* Parses DIR/logs: one log verifier key (type 0x01) a line, each origin once. */
static dt_err logs_parse(dt_note_verifier **out, size_t *n, const char *text, size_t len)
{
    dt_note_verifier *logs = NULL;
    size_t count = 0, pos = 0;
    dt_err err = DT_OK;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    if (len && text[len - 1] != '\n')
        return DT_ERR_ENCODING;
    if (count && !(logs = calloc(count, sizeof *logs)))
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        const char *nl = memchr(text + pos, '\n', len - pos), *name;
        size_t linelen = (size_t)(nl - (text + pos)), namelen;
        if ((err = dt_note_verifier_parse(&logs[i], text + pos, linelen)))
            break;
        pos += linelen + 1;
        err = DT_ERR_INVALID;
        if (dt_note_verifier_type(&logs[i]) != DT_NOTE_ED25519)
            break;
        name = dt_note_verifier_name(&logs[i], &namelen);
        for (size_t j = 0; j < i; j++) {
            size_t ln;
            const char *other = dt_note_verifier_name(&logs[j], &ln);
            if (ln == namelen && memcmp(other, name, ln) == 0)
                goto out;
        }
        err = DT_OK;
    }
out:
    if (err) {
        free(logs);
        return err;
    }
    *out = logs;
    *n = count;
    return DT_OK;
}

/* Reads DIR/logs into w if it changed since it was last read (always when
 * force). If text is not NULL it receives the file's bytes (malloc'ed). */
static dt_err logs_load(dt_witness *w, int force, char **text, size_t *textlen)
{
    char *p = path_in(w->dir, LOGS_FILE);
    unsigned char *buf = NULL;
    size_t len = 0, n = 0;
    dt_note_verifier *logs = NULL;
    struct stat st;
    dt_err err = DT_ERR_IO;
    if (!p)
        return DT_ERR_NOMEM;
    if (stat(p, &st) != 0)
        goto out;
    err = DT_OK;
    if (!force && st.st_ino == w->logs_st.st_ino && st.st_dev == w->logs_st.st_dev &&
        st.st_size == w->logs_st.st_size && st.st_mtim.tv_sec == w->logs_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == w->logs_st.st_mtim.tv_nsec)
        goto out;
    if ((err = dt_read_file(&buf, &len, p, LOGS_FILE_MAX)) || (err = logs_parse(&logs, &n, (char *)buf, len)))
        goto out;
    free(w->logs);
    w->logs = logs;
    w->nlogs = n;
    w->logs_st = st;
    if (text) {
        *text = (char *)buf;
        *textlen = len;
        buf = NULL;
    }
out:
    free(buf);
    free(p);
    return err;
}

static const dt_note_verifier *log_find(const dt_witness *w, const char *origin, size_t originlen)
{
    for (size_t i = 0; i < w->nlogs; i++) {
        size_t n;
        const char *name = dt_note_verifier_name(&w->logs[i], &n);
        if (n == originlen && memcmp(name, origin, n) == 0)
            return &w->logs[i];
    }
    return NULL;
}

dt_err dt_witness_open(dt_witness **out, const char *dir)
{
    dt_witness *w = NULL;
    unsigned char *key = NULL, *vkeyfile = NULL;
    size_t keylen = 0, vkeylen = 0;
    char *p = NULL, vkey[DT_NOTE_VKEY_MAX + 1];
    size_t vn = sizeof vkey;
    dt_err err = DT_ERR_NOMEM;

    if (!out || !dir)
        dt_misuse("dt_witness_open: NULL argument");
    *out = NULL;
    if (!(w = calloc(1, sizeof *w)))
        return DT_ERR_NOMEM;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return DT_ERR_NOMEM;
    }
    if (!(w->dir = strdup(dir)) || !(p = path_in(dir, KEY_FILE)))
        goto out;
    if ((err = dt_read_file(&key, &keylen, p, DT_NOTE_SKEY_MAX + 1)))
        goto out;
    if (keylen && key[keylen - 1] == '\n')
        keylen--;
    if ((err = dt_note_signer_parse(&w->signer, (char *)key, keylen)))
        goto out;
    dt_note_signer_verifier(&w->verifier, &w->signer);
    err = DT_ERR_INVALID;
    if (dt_note_verifier_type(&w->verifier) != DT_NOTE_COSIG)
        goto out;
    /* DIR/witness.vkey is what operators publish: it must be this key's. */
    free(p);
    if (!(p = path_in(dir, VKEY_FILE))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = dt_read_file(&vkeyfile, &vkeylen, p, DT_NOTE_VKEY_MAX + 1)) ||
        (err = dt_note_verifier_format(vkey, &vn, &w->verifier)))
        goto out;
    if (vkeylen != vn + 1 || memcmp(vkeyfile, vkey, vn) != 0 || vkeyfile[vn] != '\n') {
        err = DT_ERR_INVALID;
        goto out;
    }
    if ((err = logs_load(w, 1, NULL, NULL)))
        goto out;
    free(p);
    if (!(p = path_in(dir, DB_FILE))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = db_open(&w->db, p, 0)))
        goto out;
    /* The schema is there (a folder of dt_witness_create). */
    if (sqlite3_exec(w->db, "SELECT origin, size, root, note FROM checkpoints LIMIT 0", NULL, NULL, NULL) !=
        SQLITE_OK) {
        err = DT_ERR_IO;
        goto out;
    }
out:
    if (key) {
        dt_memzero(key, keylen);
        free(key);
    }
    free(vkeyfile);
    free(p);
    if (err) {
        dt_witness_close(w);
        return err;
    }
    *out = w;
    return DT_OK;
}

void dt_witness_close(dt_witness *w)
{
    if (!w)
        return;
    sqlite3_close(w->db);
    dt_note_signer_clear(&w->signer);
    free(w->logs);
    free(w->dir);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void dt_witness_verifier(const dt_witness *w, dt_note_verifier *out)
{
    if (!w || !out)
        dt_misuse("dt_witness_verifier: NULL argument");
    *out = w->verifier;
}

void dt_witness_set_check(dt_witness *w, dt_witness_check_fn fn, void *arg)
{
    if (!w)
        dt_misuse("dt_witness_set_check: NULL witness");
    pthread_mutex_lock(&w->mu);
    w->check = fn;
    w->check_arg = arg;
    pthread_mutex_unlock(&w->mu);
}

static int db_exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }

static int same_key(const dt_note_verifier *a, const dt_note_verifier *b)
{
    return dt_note_verifier_id(a) == dt_note_verifier_id(b) &&
           memcmp(dt_note_verifier_pubkey(a), dt_note_verifier_pubkey(b), 32) == 0;
}

dt_err dt_witness_add_log(dt_witness *w, const char *vkey, size_t len)
{
    dt_note_verifier v;
    const dt_note_verifier *known;
    char line[DT_NOTE_VKEY_MAX + 1], *text = NULL, *p = NULL, *all = NULL;
    size_t n = sizeof line, textlen = 0, namelen;
    const char *name;
    dt_err err;

    if (!w || !vkey)
        dt_misuse("dt_witness_add_log: NULL argument");
    if ((err = dt_note_verifier_parse(&v, vkey, len)))
        return err;
    if (dt_note_verifier_type(&v) != DT_NOTE_ED25519)
        return DT_ERR_INVALID;
    if ((err = dt_note_verifier_format(line, &n, &v)))
        return err;
    name = dt_note_verifier_name(&v, &namelen);
    pthread_mutex_lock(&w->mu);
    /* The write lock of the state database also serializes writers of
     * DIR/logs, in this process and others: nothing is lost between the
     * read and the write of the file. */
    if (db_exec(w->db, "BEGIN IMMEDIATE") != 0) {
        pthread_mutex_unlock(&w->mu);
        return DT_ERR_IO;
    }
    if ((err = logs_load(w, 1, &text, &textlen)))
        goto out;
    if ((known = log_find(w, name, namelen))) {
        err = same_key(known, &v) ? DT_OK : DT_ERR_INVALID;
        goto out;
    }
    err = DT_ERR_NOMEM;
    if (!(p = path_in(w->dir, LOGS_FILE)) || !(all = malloc(textlen + n + 1)))
        goto out;
    memcpy(all, text, textlen);
    memcpy(all + textlen, line, n);
    all[textlen + n] = '\n';
    if ((err = dt_write_file_atomic(p, all, textlen + n + 1, 0644)))
        goto out;
    err = logs_load(w, 1, NULL, NULL);
out:
    db_exec(w->db, "ROLLBACK");
    pthread_mutex_unlock(&w->mu);
    free(text);
    free(p);
    free(all);
    return err;
}

/* The stored state of origin: 1 (size, root set), 0 none, -1 error. */
static int state_get(sqlite3 *db, const char *origin, size_t originlen, uint64_t *size,
                     unsigned char root[DT_MERKLE_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc, ret = -1;
    if (sqlite3_prepare_v2(db, "SELECT size, root FROM checkpoints WHERE origin = ?", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, origin, (int)originlen, SQLITE_TRANSIENT) != SQLITE_OK)
        goto out;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = 0;
    } else if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == DT_MERKLE_HASH_BYTES &&
               sqlite3_column_int64(st, 0) >= 0) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(root, sqlite3_column_blob(st, 1), DT_MERKLE_HASH_BYTES);
        ret = 1;
    }
out:
    sqlite3_finalize(st);
    return ret;
}

static int state_put(sqlite3 *db, const char *origin, size_t originlen, uint64_t size,
                     const unsigned char root[DT_MERKLE_HASH_BYTES], const char *note, size_t notelen)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db,
                                "INSERT INTO checkpoints (origin, size, root, note) VALUES (?, ?, ?, ?) "
                                "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                                "note = excluded.note",
                                -1, &st, NULL) == SQLITE_OK &&
             sqlite3_bind_text(st, 1, origin, (int)originlen, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_bind_int64(st, 2, (sqlite3_int64)size) == SQLITE_OK &&
             sqlite3_bind_blob(st, 3, root, DT_MERKLE_HASH_BYTES, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_bind_text(st, 4, note, (int)notelen, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

dt_err dt_witness_state(dt_witness *w, const char *origin, size_t originlen, uint64_t *size,
                        unsigned char root[DT_MERKLE_HASH_BYTES])
{
    int r;
    if (!w || !origin || !size || !root)
        dt_misuse("dt_witness_state: NULL argument");
    *size = 0;
    memset(root, 0, DT_MERKLE_HASH_BYTES);
    if (originlen > DT_CHECKPOINT_ORIGIN_MAX)
        return DT_ERR_NOT_FOUND;
    pthread_mutex_lock(&w->mu);
    r = state_get(w->db, origin, originlen, size, root);
    pthread_mutex_unlock(&w->mu);
    return r < 0 ? DT_ERR_IO : r == 0 ? DT_ERR_NOT_FOUND : DT_OK;
}

/* ---- Requests ---------------------------------------------------------- */

void dt_witness_response_free(dt_witness_response *r)
{
    if (!r)
        return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Sets status and why (control characters, e.g. from an origin, shown as
 * '?', so that a why is always one printable line) and the body: the why and
 * a newline, or for 409 the witness's size. */
static dt_err respond(dt_witness_response *r, int status, uint64_t size409, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dt_err respond(dt_witness_response *r, int status, uint64_t size409, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    for (char *c = r->why; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    r->status = status;
    if (status == 409) {
        r->content_type = TEXT_SIZE;
        r->body = dt_strdup_printf("%llu\n", (unsigned long long)size409);
    } else {
        r->content_type = TEXT_PLAIN;
        r->body = dt_strdup_printf("%s\n", r->why);
    }
    if (!r->body) {
        memset(r, 0, sizeof *r);
        return DT_ERR_NOMEM;
    }
    r->len = strlen(r->body);
    return DT_OK;
}

/* A request body, parsed (borrowed pointers into it). */
typedef struct request {
    uint64_t old;
    unsigned char proof[PROOF_LINES_MAX][DT_MERKLE_HASH_BYTES];
    size_t nproof;
    const char *note;
    size_t notelen;
} request;

/* Parses "old N\n", up to 63 base64 hash lines, "\n", the note. Returns
 * NULL or what is wrong. */
static const char *request_parse(request *q, const char *req, size_t len)
{
    const char *nl = memchr(req, '\n', len), *p;
    size_t digits;
    memset(q, 0, sizeof *q);
    if (!nl || (size_t)(nl - req) < 5 || memcmp(req, "old ", 4) != 0)
        return "the body does not start with an \"old <size>\" line";
    digits = (size_t)(nl - req) - 4;
    if (digits > 19 || (digits > 1 && req[4] == '0'))
        return "the old size is not a canonical decimal number up to 2^63 - 1";
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned char)req[4 + i] - '0';
        if (d > 9 || q->old > (DT_CHECKPOINT_MAX_SIZE - d) / 10)
            return "the old size is not a canonical decimal number up to 2^63 - 1";
        q->old = q->old * 10 + d;
    }
    p = nl + 1;
    for (;;) {
        char b64[45];
        nl = memchr(p, '\n', len - (size_t)(p - req));
        if (!nl)
            return "no empty line between the proof and the checkpoint";
        if (nl == p)
            break;
        if (q->nproof == PROOF_LINES_MAX)
            return "more than 63 consistency proof lines";
        if (nl - p != 44)
            return "a proof line is not the base64 of a 32-byte hash";
        memcpy(b64, p, 44);
        b64[44] = '\0';
        if (dt_b64_decode_exact(q->proof[q->nproof], DT_MERKLE_HASH_BYTES, b64) != DT_OK)
            return "a proof line is not the base64 of a 32-byte hash";
        q->nproof++;
        p = nl + 1;
    }
    q->note = nl + 1;
    q->notelen = len - (size_t)(q->note - req);
    if (q->notelen == 0)
        return "no checkpoint after the empty line";
    return NULL;
}

/* Everything after the log's signature: the transaction. */
static dt_err add_locked(dt_witness *w, const request *q, const char *text, size_t textlen, const char *origin,
                         size_t originlen, uint64_t size, const unsigned char root[DT_MERKLE_HASH_BYTES],
                         uint64_t now, dt_witness_response *r)
{
    unsigned char have_root[DT_MERKLE_HASH_BYTES];
    uint64_t have = 0;
    char line[DT_NOTE_SIGLINE_MAX + 1];
    size_t linelen = sizeof line;
    int got;
    dt_err err;

    if (db_exec(w->db, "BEGIN IMMEDIATE") != 0)
        return respond(r, 500, 0, "the state cannot be locked: %s", sqlite3_errmsg(w->db));
    got = state_get(w->db, origin, originlen, &have, have_root);
    if (got < 0) {
        err = respond(r, 500, 0, "the state cannot be read: %s", sqlite3_errmsg(w->db));
        goto out;
    }
    if (got == 0) /* never cosigned: size 0, the empty tree */
        dt_merkle_root(have_root, NULL, 0);
    if (q->old != have) {
        err = respond(r, 409, have, "old size %llu is not the witness's size %llu", (unsigned long long)q->old,
                      (unsigned long long)have);
        goto out;
    }
    if (size == have && memcmp(root, have_root, DT_MERKLE_HASH_BYTES) != 0) {
        err = respond(r, 409, have, "split view: size %llu was cosigned with another root", (unsigned long long)size);
        goto out;
    }
    if ((q->old == 0 || q->old == size) && q->nproof != 0) {
        err = respond(r, 422, 0, "the consistency proof from size %llu to %llu must be empty",
                      (unsigned long long)q->old, (unsigned long long)size);
        goto out;
    }
    /* From size 0 there is no proof to check (the merkle module refuses
     * one): a log's first checkpoint is trusted on its signature alone. */
    if (q->old != 0 && q->old != size &&
        dt_merkle_consistency_verify(q->old, size, have_root, root, q->proof, q->nproof) != DT_OK) {
        err = respond(r, 422, 0, "the consistency proof from size %llu to %llu does not verify",
                      (unsigned long long)q->old, (unsigned long long)size);
        goto out;
    }
    if (w->check) {
        char why[sizeof r->why] = "";
        if (w->check(w->check_arg, origin, originlen, have, have_root, size, root, why, sizeof why) != DT_OK) {
            why[sizeof why - 1] = '\0';
            err = respond(r, 422, 0, "%s", why[0] ? why : "the witness's check refused the checkpoint");
            goto out;
        }
    }
    if (dt_cosignature_sign(line, &linelen, &w->signer, now, text, textlen) != DT_OK) {
        err = respond(r, 500, 0, "no cosignature at time %llu", (unsigned long long)now);
        goto out;
    }
    if (!(r->body = malloc(linelen + 1))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (state_put(w->db, origin, originlen, size, root, q->note, q->notelen) != 0 || db_exec(w->db, "COMMIT") != 0) {
        free(r->body);
        r->body = NULL;
        err = respond(r, 500, 0, "the state cannot be stored: %s", sqlite3_errmsg(w->db));
        goto out;
    }
    memcpy(r->body, line, linelen + 1);
    r->len = linelen;
    r->status = 200;
    r->content_type = TEXT_PLAIN;
    return DT_OK;
out:
    db_exec(w->db, "ROLLBACK");
    return err;
}

static dt_err add_checkpoint(dt_witness *w, const char *req, size_t reqlen, uint64_t now, dt_witness_response *r)
{
    request q;
    const dt_note_verifier *key;
    const char *bad, *nl, *origin, *ext;
    size_t originlen, textlen, extlen;
    uint64_t size;
    unsigned char root[DT_MERKLE_HASH_BYTES], empty[DT_MERKLE_HASH_BYTES], signer_ok = 0;
    dt_err err;

    if (reqlen > DT_WITNESS_REQUEST_MAX)
        return respond(r, 413, 0, "the request body is over %u bytes", (unsigned)DT_WITNESS_REQUEST_MAX);
    if ((bad = request_parse(&q, req, reqlen)))
        return respond(r, 400, 0, "malformed request: %s", bad);
    if (!(nl = memchr(q.note, '\n', q.notelen)))
        return respond(r, 400, 0, "malformed request: the checkpoint has no origin line");
    originlen = (size_t)(nl - q.note);
    if (!(key = log_find(w, q.note, originlen))) {
        /* A log added while the witness runs is seen at its first request. */
        if ((err = logs_load(w, 0, NULL, NULL)))
            return err == DT_ERR_NOMEM ? err : respond(r, 500, 0, "the logs file cannot be read: %s", dt_strerror(err));
        if (!(key = log_find(w, q.note, originlen)))
            return respond(r, 404, 0, "unknown log %.*s", (int)(originlen > 200 ? 200 : originlen), q.note);
    }
    err = dt_note_open(&textlen, &signer_ok, NULL, q.note, q.notelen, key, 1);
    if (err == DT_ERR_NOT_FOUND || err == DT_ERR_PROOF)
        return respond(r, 403, 0, "the checkpoint is not signed by the key of log %.*s",
                       (int)(originlen > 200 ? 200 : originlen), q.note);
    if (err)
        return respond(r, 400, 0, "malformed checkpoint note: %s", dt_strerror(err));
    if (dt_checkpoint_parse(&origin, &originlen, &size, root, &ext, &extlen, q.note, textlen) != DT_OK)
        return respond(r, 400, 0, "the signed note is not a checkpoint");
    if (q.old > size)
        return respond(r, 400, 0, "old size %llu is above the checkpoint's size %llu", (unsigned long long)q.old,
                       (unsigned long long)size);
    dt_merkle_root(empty, NULL, 0);
    if (size == 0 && memcmp(root, empty, sizeof root) != 0)
        return respond(r, 422, 0, "a checkpoint of size 0 must have the empty tree's root");
    return add_locked(w, &q, q.note, textlen, origin, originlen, size, root, now, r);
}

dt_err dt_witness_add_checkpoint(dt_witness *w, const char *req, size_t reqlen, uint64_t now,
                                 dt_witness_response *resp)
{
    dt_err err;
    if (!w || (!req && reqlen) || !resp)
        dt_misuse("dt_witness_add_checkpoint: NULL argument");
    memset(resp, 0, sizeof *resp);
    pthread_mutex_lock(&w->mu);
    err = add_checkpoint(w, req ? req : "", reqlen, now, resp);
    pthread_mutex_unlock(&w->mu);
    if (err)
        dt_witness_response_free(resp);
    return err;
}

dt_err dt_witness_request_format(char **out, size_t *outlen, uint64_t old_size,
                                 const unsigned char (*proof)[DT_MERKLE_HASH_BYTES], size_t prooflen,
                                 const char *note, size_t notelen)
{
    char head[32], *buf, *p;
    size_t headlen, total;
    if (!out || !outlen || !note || (!proof && prooflen))
        dt_misuse("dt_witness_request_format: NULL argument");
    *out = NULL;
    *outlen = 0;
    if (old_size > DT_CHECKPOINT_MAX_SIZE)
        return DT_ERR_RANGE;
    if (prooflen > PROOF_LINES_MAX)
        return DT_ERR_LIMIT;
    headlen = (size_t)snprintf(head, sizeof head, "old %llu\n", (unsigned long long)old_size);
    total = headlen + prooflen * 45 + 1 + notelen;
    if (total > DT_WITNESS_REQUEST_MAX)
        return DT_ERR_LIMIT;
    if (!(buf = malloc(total + 1)))
        return DT_ERR_NOMEM;
    memcpy(buf, head, headlen);
    p = buf + headlen;
    for (size_t i = 0; i < prooflen; i++) {
        char *b64 = dt_b64_encode(proof[i], DT_MERKLE_HASH_BYTES);
        if (!b64) {
            free(buf);
            return DT_ERR_NOMEM;
        }
        memcpy(p, b64, 44);
        p[44] = '\n';
        p += 45;
        free(b64);
    }
    *p++ = '\n';
    memcpy(p, note, notelen);
    buf[total] = '\0';
    *out = buf;
    *outlen = total;
    return DT_OK;
}
