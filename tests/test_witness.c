/* The witness (C2SP tlog-witness v1.0.0): every status of add-checkpoint
 * with the state unchanged on each refusal, the cosignature checked against
 * the witness's key, the state across reopening, races between handles
 * (threads and processes), and the HTTP client against a scripted server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <detente/merkle.h>
#include <detente/note.h>
#include <detente/witness.h>

#include "testrand.h"

#define NOW 1700000000u
#define ORIGIN "example.org/board"
#define LEAVES 64

/* ---- A log to witness: leaves, checkpoints and proofs ------------------ */

typedef struct tlog {
    dt_note_signer key;
    dt_note_verifier vkey;
    char origin[64];
    unsigned char leaves[LEAVES][DT_MERKLE_HASH_BYTES];
} tlog;

/* A log of random leaves (another seed byte, another key). */
static void tlog_init(tlog *l, const char *origin, unsigned char seedbyte)
{
    unsigned char seed[32];
    memset(seed, seedbyte, sizeof seed);
    snprintf(l->origin, sizeof l->origin, "%s", origin);
    assert_int_equal(dt_note_signer_from_seed(&l->key, origin, strlen(origin), DT_NOTE_ED25519, seed), DT_OK);
    dt_note_signer_verifier(&l->vkey, &l->key);
    for (size_t i = 0; i < LEAVES; i++) {
        unsigned char entry[16];
        testrand_bytes(entry, sizeof entry);
        dt_merkle_leaf_hash(l->leaves[i], entry, sizeof entry);
    }
}

static char *vkey_string(const dt_note_verifier *v)
{
    char *s = malloc(DT_NOTE_VKEY_MAX);
    size_t n = DT_NOTE_VKEY_MAX;
    assert_non_null(s);
    assert_int_equal(dt_note_verifier_format(s, &n, v), DT_OK);
    return s;
}

/* A checkpoint (origin, size, root) signed by key: malloc'ed note. */
static char *signed_checkpoint(const dt_note_signer *key, const char *origin, uint64_t size,
                               const unsigned char root[32])
{
    char body[2048];
    char *note = malloc(DT_NOTE_MAX_BYTES);
    size_t bl = sizeof body, nl = DT_NOTE_MAX_BYTES;
    const dt_note_signer *signers[1] = {key};
    assert_non_null(note);
    assert_int_equal(dt_checkpoint_format(body, &bl, origin, strlen(origin), size, root, NULL, 0), DT_OK);
    assert_int_equal(dt_note_sign(note, &nl, body, bl, signers, 1), DT_OK);
    return note;
}

static void tlog_root(const tlog *l, uint64_t size, unsigned char root[32]) { dt_merkle_root(root, l->leaves, size); }

static char *tlog_checkpoint(const tlog *l, uint64_t size)
{
    unsigned char root[32];
    tlog_root(l, size, root);
    return signed_checkpoint(&l->key, l->origin, size, root);
}

/* A request from old to size with the true proof (none from 0, between
 * equal sizes, or backwards). */
static char *tlog_request(const tlog *l, uint64_t old, uint64_t size, size_t *len)
{
    unsigned char proof[DT_MERKLE_MAX_PROOF][32];
    size_t plen = DT_MERKLE_MAX_PROOF;
    char *note = tlog_checkpoint(l, size), *req = NULL;
    if (old == 0 || old >= size)
        plen = 0;
    else
        assert_int_equal(dt_merkle_consistency_proof(proof, &plen, old, l->leaves, size), DT_OK);
    assert_int_equal(dt_witness_request_format(&req, len, old, proof, plen, note, strlen(note)), DT_OK);
    free(note);
    return req;
}

/* ---- A witness folder --------------------------------------------------- */

typedef struct fixture {
    char root[64];
    char dir[96];
    dt_witness *w;
    tlog log;
} fixture;

static int fx_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char *vk;
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/dt-witness-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/w", f->root);
    assert_int_equal(dt_witness_create(f->dir, "witness.example/w1"), DT_OK);
    assert_int_equal(dt_witness_open(&f->w, f->dir), DT_OK);
    tlog_init(&f->log, ORIGIN, 7);
    vk = vkey_string(&f->log.vkey);
    assert_int_equal(dt_witness_add_log(f->w, vk, strlen(vk)), DT_OK);
    free(vk);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    dt_witness_close(f->w);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Submits req; returns the status; the response is left in r (caller frees). */
static int submit_r(dt_witness *w, const char *req, size_t len, dt_witness_response *r)
{
    assert_int_equal(dt_witness_add_checkpoint(w, req, len, NOW, r), DT_OK);
    assert_non_null(r->body);
    assert_non_null(r->content_type);
    assert_int_equal(strlen(r->body), r->len);
    if (r->status == 200)
        assert_string_equal(r->why, "");
    else
        assert_true(r->why[0] != '\0');
    return r->status;
}

static int submit(dt_witness *w, const char *req, size_t len)
{
    dt_witness_response r;
    int st = submit_r(w, req, len, &r);
    dt_witness_response_free(&r);
    return st;
}

/* Submits the true request old -> size of the fixture's log. */
static int grow(fixture *f, uint64_t old, uint64_t size)
{
    size_t len;
    char *req = tlog_request(&f->log, old, size, &len);
    int st = submit(f->w, req, len);
    free(req);
    return st;
}

/* The state is (size, true root of the log at size). */
static void expect_state(fixture *f, uint64_t size)
{
    uint64_t got;
    unsigned char root[32], want[32];
    assert_int_equal(dt_witness_state(f->w, ORIGIN, strlen(ORIGIN), &got, root), DT_OK);
    assert_int_equal(got, size);
    tlog_root(&f->log, size, want);
    assert_memory_equal(root, want, 32);
}

/* ---- Tests -------------------------------------------------------------- */

static void test_create_open(void **state)
{
    fixture *f = *state;
    char path[160], *vk, buf[DT_NOTE_VKEY_MAX + 2];
    dt_note_verifier v;
    struct stat st;
    FILE *fp;
    dt_witness *w2 = NULL;
    char long_name[300];

    /* the key is private, the verifier key is the handle's */
    snprintf(path, sizeof path, "%s/witness.key", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    dt_witness_verifier(f->w, &v);
    assert_int_equal(dt_note_verifier_type(&v), DT_NOTE_COSIG);
    vk = vkey_string(&v);
    snprintf(path, sizeof path, "%s/witness.vkey", f->dir);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_int_equal(strlen(buf), strlen(vk) + 1);
    assert_memory_equal(buf, vk, strlen(vk));
    assert_true(strncmp(vk, "witness.example/w1+", 19) == 0);
    free(vk);

    /* a folder that is not empty, and bad names */
    assert_int_equal(dt_witness_create(f->dir, "w"), DT_ERR_INVALID);
    snprintf(path, sizeof path, "%s/w2", f->root);
    assert_int_equal(dt_witness_create(path, ""), DT_ERR_ENCODING);
    assert_int_equal(dt_witness_create(path, "a b"), DT_ERR_ENCODING);
    assert_int_equal(dt_witness_create(path, "a+b"), DT_ERR_ENCODING);
    assert_int_equal(dt_witness_create(path, "caf\xc3\xa9"), DT_ERR_ENCODING);
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    assert_int_equal(dt_witness_create(path, long_name), DT_ERR_LIMIT);
    assert_int_equal(stat(path, &st), -1); /* nothing left behind */
    long_name[255] = '\0';
    assert_int_equal(dt_witness_create(path, long_name), DT_OK);
    /* no parent folder */
    snprintf(path, sizeof path, "%s/none/w", f->root);
    assert_int_equal(dt_witness_create(path, "w"), DT_ERR_IO);

    /* a folder whose published verifier key is not its key's */
    snprintf(path, sizeof path, "%s/w2/witness.vkey", f->root);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("other+01234567+AaRtaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8g\n", fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/w2", f->root);
    assert_int_equal(dt_witness_open(&w2, path), DT_ERR_INVALID);
    assert_null(w2);
    snprintf(path, sizeof path, "%s/none", f->root);
    assert_int_equal(dt_witness_open(&w2, path), DT_ERR_IO);
}

static void test_first_and_growth(void **state)
{
    fixture *f = *state;
    dt_witness_response r;
    dt_note_verifier known[2];
    unsigned char ok[2];
    uint64_t ts[2];
    size_t len, textlen;
    char *req = tlog_request(&f->log, 0, 3, &len), *note, *all;
    uint64_t size;
    unsigned char root[32];

    assert_int_equal(dt_witness_state(f->w, ORIGIN, strlen(ORIGIN), &size, root), DT_ERR_NOT_FOUND);
    /* the first checkpoint: trusted on the log's signature */
    assert_int_equal(submit_r(f->w, req, len, &r), 200);
    free(req);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_true(strncmp(r.body, "\xe2\x80\x94 witness.example/w1 ", 23) == 0);
    assert_int_equal(r.body[r.len - 1], '\n');
    /* the cosignature verifies against the witness's key, with its time */
    note = tlog_checkpoint(&f->log, 3);
    all = malloc(strlen(note) + r.len + 1);
    assert_non_null(all);
    strcpy(all, note);
    strcat(all, r.body);
    known[0] = f->log.vkey;
    dt_witness_verifier(f->w, &known[1]);
    assert_int_equal(dt_note_open(&textlen, ok, ts, all, strlen(all), known, 2), DT_OK);
    assert_int_equal(ok[0], 1);
    assert_int_equal(ok[1], 1);
    assert_int_equal(ts[1], NOW);
    /* and only the witness's: a tampered signature byte fails (the first
     * character of the last base64 quantum "c===": 6 free bits) */
    all[strlen(all) - 5] = all[strlen(all) - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(dt_note_open(&textlen, ok, ts, all, strlen(all), known, 2), DT_ERR_PROOF);
    free(all);
    free(note);
    dt_witness_response_free(&r);
    expect_state(f, 3);

    /* growth with a valid consistency proof, several times */
    assert_int_equal(grow(f, 3, 7), 200);
    expect_state(f, 7);
    assert_int_equal(grow(f, 7, 8), 200);
    assert_int_equal(grow(f, 8, 64), 200);
    expect_state(f, 64);
    /* the same checkpoint again: cosigned again (idempotent) */
    assert_int_equal(grow(f, 64, 64), 200);
    expect_state(f, 64);
}

static void test_empty_tree(void **state)
{
    fixture *f = *state;
    unsigned char empty[32], other[32];
    char *note, *req;
    size_t len;

    dt_merkle_root(empty, NULL, 0);
    /* a size-0 checkpoint must have the empty tree's root */
    memset(other, 0xab, sizeof other);
    note = signed_checkpoint(&f->log.key, ORIGIN, 0, other);
    assert_int_equal(dt_witness_request_format(&req, &len, 0, NULL, 0, note, strlen(note)), DT_OK);
    assert_int_equal(submit(f->w, req, len), 422);
    free(req);
    free(note);
    /* the empty tree is cosigned, then a growth from 0 needs no proof */
    assert_int_equal(grow(f, 0, 0), 200);
    expect_state(f, 0);
    assert_int_equal(grow(f, 0, 5), 200);
    expect_state(f, 5);
}

/* A request old -> size of the fixture's log with its proof changed by fn. */
static int tampered(fixture *f, uint64_t old, uint64_t size, void (*fn)(unsigned char (*)[32], size_t *))
{
    unsigned char proof[DT_MERKLE_MAX_PROOF][32];
    size_t plen = DT_MERKLE_MAX_PROOF, len;
    char *note = tlog_checkpoint(&f->log, size), *req;
    int st;
    if (old == 0 || old == size)
        plen = 0;
    else
        assert_int_equal(dt_merkle_consistency_proof(proof, &plen, old, f->log.leaves, size), DT_OK);
    fn(proof, &plen);
    assert_int_equal(dt_witness_request_format(&req, &len, old, proof, plen, note, strlen(note)), DT_OK);
    st = submit(f->w, req, len);
    free(req);
    free(note);
    return st;
}

static void flip_bit(unsigned char (*p)[32], size_t *n) { p[*n / 2][testrand_u64(32)] ^= (unsigned char)(1u << testrand_u64(8)); }
static void truncate1(unsigned char (*p)[32], size_t *n) { (void)p; (*n)--; }
static void extend1(unsigned char (*p)[32], size_t *n) { memset(p[(*n)++], 0x11, 32); }
static void empty_proof(unsigned char (*p)[32], size_t *n) { (void)p; *n = 0; }
static void one_hash(unsigned char (*p)[32], size_t *n) { memset(p[0], 0x22, 32); *n = 1; }

static void test_bad_proof(void **state)
{
    fixture *f = *state;
    /* a proof from 0 must be empty (on a fresh log) */
    assert_int_equal(tampered(f, 0, 5, one_hash), 422);
    assert_int_equal(dt_witness_state(f->w, ORIGIN, strlen(ORIGIN), &(uint64_t){0}, (unsigned char[32]){0}),
                     DT_ERR_NOT_FOUND);
    assert_int_equal(grow(f, 0, 5), 200);
    for (int i = 0; i < 8; i++)
        assert_int_equal(tampered(f, 5, 13 + (uint64_t)i, flip_bit), 422);
    assert_int_equal(tampered(f, 5, 13, truncate1), 422);
    assert_int_equal(tampered(f, 5, 13, extend1), 422);
    assert_int_equal(tampered(f, 5, 13, empty_proof), 422);
    /* between equal sizes the proof must be empty too */
    assert_int_equal(tampered(f, 5, 5, one_hash), 422);
    expect_state(f, 5);
    /* the right proof still passes */
    assert_int_equal(grow(f, 5, 13), 200);
    expect_state(f, 13);
}

static void test_conflict(void **state)
{
    fixture *f = *state;
    dt_witness_response r;
    size_t len;
    char *req;

    assert_int_equal(grow(f, 0, 9), 200);
    /* an old size that is not the witness's: 409 and its size */
    req = tlog_request(&f->log, 4, 12, &len);
    assert_int_equal(submit_r(f->w, req, len, &r), 409);
    assert_string_equal(r.content_type, "text/x.tlog.size");
    assert_string_equal(r.body, "9\n");
    assert_int_equal(r.len, 2);
    dt_witness_response_free(&r);
    free(req);
    /* "old 0" tells a client the witness's size */
    req = tlog_request(&f->log, 0, 12, &len);
    assert_int_equal(submit_r(f->w, req, len, &r), 409);
    assert_string_equal(r.body, "9\n");
    dt_witness_response_free(&r);
    free(req);
    expect_state(f, 9);
}

static void test_split_view(void **state)
{
    fixture *f = *state;
    dt_witness_response r;
    tlog other;
    char *req;
    size_t len;

    assert_int_equal(grow(f, 0, 5), 200);
    /* the same log key signs another tree of the same size */
    tlog_init(&other, ORIGIN, 7);
    req = tlog_request(&other, 5, 5, &len);
    assert_int_equal(submit_r(f->w, req, len, &r), 409);
    assert_string_equal(r.content_type, "text/x.tlog.size");
    assert_string_equal(r.body, "5\n");
    assert_non_null(strstr(r.why, "split view"));
    dt_witness_response_free(&r);
    free(req);
    /* and a bigger one that does not extend the first */
    req = tlog_request(&other, 5, 9, &len);
    assert_int_equal(submit(f->w, req, len), 422);
    free(req);
    expect_state(f, 5);
}

static void test_smaller(void **state)
{
    fixture *f = *state;
    assert_int_equal(grow(f, 0, 7), 200);
    /* old size above the checkpoint's: 400; claiming the checkpoint's own
     * size as old: 409 */
    assert_int_equal(grow(f, 7, 5), 400);
    assert_int_equal(grow(f, 5, 5), 409);
    assert_int_equal(grow(f, 3, 5), 409);
    expect_state(f, 7);
}

static void test_unknown_and_wrong_key(void **state)
{
    fixture *f = *state;
    dt_witness_response r;
    tlog stranger, impostor;
    char *req, *note;
    size_t len;

    tlog_init(&stranger, "example.org/other", 9);
    req = tlog_request(&stranger, 0, 3, &len);
    assert_int_equal(submit_r(f->w, req, len, &r), 404);
    assert_non_null(strstr(r.why, "example.org/other"));
    dt_witness_response_free(&r);
    free(req);
    /* a known origin signed by another key */
    tlog_init(&impostor, ORIGIN, 8);
    req = tlog_request(&impostor, 0, 3, &len);
    assert_int_equal(submit(f->w, req, len), 403);
    free(req);
    /* the log's key, a damaged signature */
    note = tlog_checkpoint(&f->log, 3);
    /* another base64 letter, four before the padding: flipping a bit could
     * make a character outside the alphabet (a 400, not this 403) */
    note[strlen(note) - 6] = note[strlen(note) - 6] == 'A' ? 'B' : 'A';
    assert_int_equal(dt_witness_request_format(&req, &len, 0, NULL, 0, note, strlen(note)), DT_OK);
    assert_int_equal(submit(f->w, req, len), 403);
    free(req);
    free(note);
    assert_int_equal(dt_witness_state(f->w, ORIGIN, strlen(ORIGIN), &(uint64_t){0}, (unsigned char[32]){0}),
                     DT_ERR_NOT_FOUND);
    /* an origin with a control character is shown as '?' in why */
    req = strdup("old 0\n\nevil\033[2Jorigin\n1\nAAAA\n\n");
    assert_int_equal(submit_r(f->w, req, strlen(req), &r), 404);
    assert_non_null(strstr(r.why, "evil?[2Jorigin"));
    dt_witness_response_free(&r);
    free(req);
}

/* Builds "head" + the signed checkpoint of size 3 into a malloc'ed request. */
static char *with_note(fixture *f, const char *head, size_t *len)
{
    char *note = tlog_checkpoint(&f->log, 3), *req = malloc(strlen(head) + strlen(note) + 1);
    assert_non_null(req);
    strcpy(req, head);
    strcat(req, note);
    free(note);
    *len = strlen(req);
    return req;
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    static const char *const heads[] = {
        "",                                  /* no old line: the note first */
        "old 0\n",                           /* no empty line */
        "old 0",                             /* no newline */
        "new 0\n\n",                         /* not "old" */
        "old\n\n",                           /* no size */
        "old  0\n\n",                        /* two spaces */
        "old 00\n\n",                        /* leading zero */
        "old -1\n\n",                        /* sign */
        "old 0x1\n\n",                       /* hex */
        "old 9223372036854775808\n\n",       /* 2^63 */
        "old 99999999999999999999\n\n",      /* 20 digits */
        "old 0\r\n\r\n",                     /* CR */
        "old 0\nAAAA\n\n",                   /* a short hash */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", /* 43 chars */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\n", /* non-canonical */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=\n\n", /* not base64 */
        "old 0\n \n\n",                      /* a blank that is not empty */
    };
    dt_witness_response r;
    size_t len;
    char *req, head[64 * 45 + 16];
    const dt_note_signer *signers[1] = {&f->log.key};
    char plain[256];
    size_t pl = sizeof plain;

    assert_int_equal(grow(f, 0, 3), 200);
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++) {
        req = with_note(f, heads[i], &len);
        if (submit_r(f->w, req, len, &r) != 400)
            fail_msg("head %zu: status %d", i, r.status);
        assert_string_equal(r.content_type, "text/plain; charset=utf-8");
        assert_int_equal(r.len, strlen(r.why) + 1);
        dt_witness_response_free(&r);
        free(req);
    }
    /* nothing after the empty line */
    assert_int_equal(submit(f->w, "old 3\n\n", 7), 400);
    assert_int_equal(submit(f->w, "", 0), 400);
    /* 63 proof lines are allowed by the syntax (then 422), 64 are not */
    for (int n = 63; n <= 64; n++) {
        char *p = head + snprintf(head, sizeof head, "old 3\n");
        for (int i = 0; i < n; i++)
            p += snprintf(p, 46, "%s\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        snprintf(p, 2, "\n");
        req = with_note(f, head, &len);
        assert_int_equal(submit(f->w, req, len), n == 63 ? 422 : 400);
        free(req);
    }
    /* a signed note that is not a checkpoint; a note without signatures */
    assert_int_equal(dt_note_sign(plain, &pl, ORIGIN "\nhello\n", strlen(ORIGIN) + 7, signers, 1), DT_OK);
    assert_int_equal(dt_witness_request_format(&req, &len, 3, NULL, 0, plain, pl), DT_OK);
    assert_int_equal(submit(f->w, req, len), 400);
    free(req);
    assert_int_equal(submit(f->w, "old 3\n\n" ORIGIN "\n3\n", strlen("old 3\n\n" ORIGIN "\n3\n")), 400);
    /* too large: 413, whatever the content */
    req = calloc(1, DT_WITNESS_REQUEST_MAX + 1);
    assert_non_null(req);
    assert_int_equal(submit(f->w, req, DT_WITNESS_REQUEST_MAX + 1), 413);
    /* the largest request is read (and here refused as malformed) */
    memset(req, 'x', DT_WITNESS_REQUEST_MAX);
    assert_int_equal(submit(f->w, req, DT_WITNESS_REQUEST_MAX), 400);
    free(req);
    /* a note too large for a signed note, in a request under the limit */
    req = malloc(DT_WITNESS_REQUEST_MAX);
    assert_non_null(req);
    len = (size_t)snprintf(req, DT_WITNESS_REQUEST_MAX, "old 3\n\n" ORIGIN "\n");
    memset(req + len, 'a', DT_NOTE_MAX_BYTES);
    len += DT_NOTE_MAX_BYTES;
    assert_int_equal(submit(f->w, req, len), 400);
    free(req);
    expect_state(f, 3);
}

/* ---- The check function ---- */

typedef struct check_log {
    int calls;
    int refuse;
    uint64_t old_size, new_size;
    unsigned char old_root[32], new_root[32];
    char origin[64];
} check_log;

static dt_err check_fn(void *arg, const char *origin, size_t originlen, uint64_t old_size,
                       const unsigned char old_root[32], uint64_t new_size, const unsigned char new_root[32], char *why,
                       size_t whycap)
{
    check_log *c = arg;
    c->calls++;
    snprintf(c->origin, sizeof c->origin, "%.*s", (int)originlen, origin);
    c->old_size = old_size;
    c->new_size = new_size;
    memcpy(c->old_root, old_root, 32);
    memcpy(c->new_root, new_root, 32);
    if (!c->refuse)
        return DT_OK;
    if (c->refuse == 2)
        return DT_ERR_INVALID; /* and no why */
    /* a long why, cut to whycap */
    for (size_t i = 0; i + 1 < whycap; i++)
        why[i] = "entry 4 is not on the board "[i % 28];
    why[whycap - 1] = '\0';
    return DT_ERR_PROOF;
}

static void test_check_fn(void **state)
{
    fixture *f = *state;
    check_log c;
    dt_witness_response r;
    unsigned char want[32];
    size_t len;
    char *req;

    memset(&c, 0, sizeof c);
    dt_witness_set_check(f->w, check_fn, &c);
    assert_int_equal(grow(f, 0, 4), 200);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.origin, ORIGIN);
    assert_int_equal(c.old_size, 0);
    dt_merkle_root(want, NULL, 0);
    assert_memory_equal(c.old_root, want, 32);
    assert_int_equal(c.new_size, 4);
    tlog_root(&f->log, 4, want);
    assert_memory_equal(c.new_root, want, 32);
    /* refused: 422 with the check's why, state unchanged */
    c.refuse = 1;
    req = tlog_request(&f->log, 4, 10, &len);
    assert_int_equal(submit_r(f->w, req, len, &r), 422);
    assert_true(strncmp(r.why, "entry 4 is not on the board", 27) == 0);
    assert_int_equal(strlen(r.why), sizeof r.why - 1);
    assert_int_equal(c.old_size, 4);
    assert_memory_equal(c.old_root, want, 32);
    assert_int_equal(c.new_size, 10);
    dt_witness_response_free(&r);
    c.refuse = 2;
    assert_int_equal(submit_r(f->w, req, len, &r), 422);
    assert_non_null(strstr(r.why, "check"));
    dt_witness_response_free(&r);
    expect_state(f, 4);
    /* the check is not asked about requests that fail before it */
    c.calls = 0;
    assert_int_equal(grow(f, 3, 10), 409);
    assert_int_equal(c.calls, 0);
    c.refuse = 0;
    assert_int_equal(submit(f->w, req, len), 200);
    free(req);
    expect_state(f, 10);
    dt_witness_set_check(f->w, NULL, NULL);
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    assert_int_equal(grow(f, 0, 6), 200);
    dt_witness_close(f->w);
    f->w = NULL;
    assert_int_equal(dt_witness_open(&f->w, f->dir), DT_OK);
    expect_state(f, 6);
    /* the logs and the state: the next step is from 6 */
    assert_int_equal(grow(f, 0, 8), 409);
    assert_int_equal(grow(f, 6, 8), 200);
    expect_state(f, 8);
}

static void test_add_log(void **state)
{
    fixture *f = *state;
    tlog second, impostor;
    dt_note_verifier wv;
    dt_witness *w2 = NULL;
    char *vk, path[160], *text;
    FILE *fp;
    long sz;

    /* the same key again is fine; another key for the origin is not */
    vk = vkey_string(&f->log.vkey);
    assert_int_equal(dt_witness_add_log(f->w, vk, strlen(vk)), DT_OK);
    free(vk);
    tlog_init(&impostor, ORIGIN, 8);
    vk = vkey_string(&impostor.vkey);
    assert_int_equal(dt_witness_add_log(f->w, vk, strlen(vk)), DT_ERR_INVALID);
    free(vk);
    /* a cosigner key is not a log key; a malformed key */
    dt_witness_verifier(f->w, &wv);
    vk = vkey_string(&wv);
    assert_int_equal(dt_witness_add_log(f->w, vk, strlen(vk)), DT_ERR_INVALID);
    free(vk);
    assert_int_equal(dt_witness_add_log(f->w, "not a key", 9), DT_ERR_ENCODING);

    /* a log added through another handle is seen by this one */
    tlog_init(&second, "example.org/second", 11);
    assert_int_equal(dt_witness_open(&w2, f->dir), DT_OK);
    vk = vkey_string(&second.vkey);
    assert_int_equal(dt_witness_add_log(w2, vk, strlen(vk)), DT_OK);
    dt_witness_close(w2);
    {
        size_t len;
        char *req = tlog_request(&second, 0, 2, &len);
        assert_int_equal(submit(f->w, req, len), 200);
        free(req);
    }
    /* DIR/logs: one key a line, in order */
    snprintf(path, sizeof path, "%s/logs", f->dir);
    fp = fopen(path, "r");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    sz = ftell(fp);
    rewind(fp);
    text = calloc(1, (size_t)sz + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    {
        char *first = vkey_string(&f->log.vkey), want[2 * DT_NOTE_VKEY_MAX + 4];
        snprintf(want, sizeof want, "%s\n%s\n", first, vk);
        assert_string_equal(text, want);
        free(first);
    }
    free(text);
    free(vk);

    /* a damaged logs file: the folder does not open */
    fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("garbage\n", fp);
    fclose(fp);
    assert_int_equal(dt_witness_open(&w2, f->dir), DT_ERR_ENCODING);
}

/* ---- Races ---- */

typedef struct racer {
    dt_witness *w;
    const char *req;
    size_t len;
    int status;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *in_check;
} racer;

static dt_err stall_check(void *arg, const char *origin, size_t originlen, uint64_t old_size,
                          const unsigned char old_root[32], uint64_t new_size, const unsigned char new_root[32],
                          char *why, size_t whycap)
{
    racer *r = arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    pthread_mutex_lock(r->mu);
    *r->in_check = 1;
    pthread_cond_signal(r->cv);
    pthread_mutex_unlock(r->mu);
    nanosleep(&ts, NULL); /* the other request starts meanwhile */
    return DT_OK;
}

static void *race_thread(void *arg)
{
    racer *r = arg;
    r->status = submit(r->w, r->req, r->len);
    return NULL;
}

static void test_race_threads(void **state)
{
    fixture *f = *state;
    dt_witness *w2 = NULL;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int in_check = 0;
    racer a, b;
    pthread_t ta, tb;
    size_t la, lb;
    char *ra, *rb;

    assert_int_equal(grow(f, 0, 10), 200);
    assert_int_equal(dt_witness_open(&w2, f->dir), DT_OK);
    /* two handles, both from size 10: A to 20 (stalled inside its
     * transaction), B to 30 */
    ra = tlog_request(&f->log, 10, 20, &la);
    rb = tlog_request(&f->log, 10, 30, &lb);
    a = (racer){f->w, ra, la, 0, &mu, &cv, &in_check};
    b = (racer){w2, rb, lb, 0, &mu, &cv, &in_check};
    dt_witness_set_check(f->w, stall_check, &a);
    assert_int_equal(pthread_create(&ta, NULL, race_thread, &a), 0);
    pthread_mutex_lock(&mu);
    while (!in_check)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(pthread_create(&tb, NULL, race_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 409);
    dt_witness_set_check(f->w, NULL, NULL);
    dt_witness_close(w2);
    expect_state(f, 20);
    free(ra);
    free(rb);
}

static void test_race_processes(void **state)
{
    fixture *f = *state;
    enum { N = 4 };
    pid_t pids[N];
    int go[2], won = 0, lost = 0;
    uint64_t size;
    unsigned char root[32];

    assert_int_equal(grow(f, 0, 9), 200);
    dt_witness_close(f->w); /* no connection crosses a fork */
    f->w = NULL;
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            dt_witness *w = NULL;
            size_t len;
            char *req = tlog_request(&f->log, 9, 10 + (uint64_t)i, &len), c;
            dt_witness_response r;
            close(go[1]);
            dt_err oe = dt_witness_open(&w, f->dir);
            if (oe != DT_OK) {
                fprintf(stderr, "racer %d: open: error %d\n", i, (int)oe);
                _exit(3);
            }
            (void)!read(go[0], &c, 1); /* all start together */
            dt_err e = dt_witness_add_checkpoint(w, req, len, NOW, &r);
            if (e != DT_OK) {
                fprintf(stderr, "racer %d: error %d\n", i, (int)e);
                _exit(3);
            }
            if (r.status != 200 && r.status != 409)
                fprintf(stderr, "racer %d: status %d: %s\n", i, r.status, r.why);
            _exit(r.status == 200 ? 0 : r.status == 409 ? 1 : 2);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 0)
            won++;
        else if (WEXITSTATUS(st) == 1)
            lost++;
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, N - 1);
    assert_int_equal(dt_witness_open(&f->w, f->dir), DT_OK);
    assert_int_equal(dt_witness_state(f->w, ORIGIN, strlen(ORIGIN), &size, root), DT_OK);
    assert_true(size >= 10 && size < 10 + N);
    expect_state(f, size);
}

static void test_request_format(void **state)
{
    (void)state;
    unsigned char proof[64][32];
    char *out = NULL;
    size_t len;
    memset(proof, 0, sizeof proof);
    proof[1][31] = 1;
    assert_int_equal(dt_witness_request_format(&out, &len, 20852014, proof, 2, "N\n", 2), DT_OK);
    assert_string_equal(out, "old 20852014\n"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=\n"
                             "\nN\n");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(dt_witness_request_format(&out, &len, 0, NULL, 0, "N\n", 2), DT_OK);
    assert_string_equal(out, "old 0\n\nN\n");
    free(out);
    assert_int_equal(dt_witness_request_format(&out, &len, 1, proof, 64, "N\n", 2), DT_ERR_LIMIT);
    assert_null(out);
    assert_int_equal(dt_witness_request_format(&out, &len, (uint64_t)INT64_MAX + 1, NULL, 0, "N\n", 2),
                     DT_ERR_RANGE);
    assert_int_equal(dt_witness_request_format(&out, &len, 0, NULL, 0, "N\n", DT_WITNESS_REQUEST_MAX), DT_ERR_LIMIT);
}

/* ---- The HTTP client against a scripted server ---- */

typedef enum { SRV_WAIT_CLIENT_CLOSE, SRV_CLOSE, SRV_SILENT } srv_mode;

typedef struct server {
    int lfd;
    int port;
    const char *reply;
    size_t replylen;
    srv_mode mode;
    char request[4096];
    size_t reqlen;
    pthread_t t;
} server;

static void *server_thread(void *arg)
{
    server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    size_t want = 0;
    char *hdr_end = NULL;
    if (fd < 0)
        return NULL;
    /* the request: head, then Content-Length bytes */
    while (s->reqlen < sizeof s->request - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, 5000) != 1 || (r = recv(fd, s->request + s->reqlen, sizeof s->request - 1 - s->reqlen, 0)) <= 0)
            break;
        s->reqlen += (size_t)r;
        s->request[s->reqlen] = '\0';
        if (!hdr_end && (hdr_end = strstr(s->request, "\r\n\r\n"))) {
            const char *cl = strstr(s->request, "Content-Length: ");
            want = (size_t)(hdr_end + 4 - s->request) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
        }
        if (hdr_end && s->reqlen >= want)
            break;
    }
    if (s->mode != SRV_SILENT)
        (void)!send(fd, s->reply, s->replylen, MSG_NOSIGNAL);
    if (s->mode != SRV_CLOSE) { /* until the client hangs up */
        char c;
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, 5000) == 1 && recv(fd, &c, 1, 0) > 0)
            ;
    }
    close(fd);
    return NULL;
}

static void server_start(server *s, const char *reply, size_t replylen, srv_mode mode)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(s, 0, sizeof *s);
    s->reply = reply;
    s->replylen = replylen;
    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->t, NULL, server_thread, s), 0);
}

static void server_stop(server *s)
{
    pthread_join(s->t, NULL);
    close(s->lfd);
}

/* POSTs "hello" to the scripted server; returns the client's result. */
static dt_err post(const char *reply, size_t replylen, srv_mode mode, int timeout_ms, int *status, char **body,
                   size_t *bodylen, server *s)
{
    char url[64];
    dt_err err;
    server_start(s, reply, replylen, mode);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/add-checkpoint", s->port);
    err = dt_http_post(url, "hello", 5, status, body, bodylen, timeout_ms);
    server_stop(s);
    return err;
}

#define REPLY(s) s, sizeof s - 1

static void test_http_client(void **state)
{
    (void)state;
    server s;
    int status;
    char *body = NULL, url[64];
    size_t len;
    struct timespec t0, t1;
    static const char *const bad_urls[] = {
        "https://127.0.0.1/", "http://", "http:///x", "http://127.0.0.1:0/", "http://127.0.0.1:65536/",
        "http://127.0.0.1:/", "http://127.0.0.1:8x/", "http://u@127.0.0.1/", "http://[::1/x", "http://[::1]x/",
        "http://127.0.0.1/#f", "http://127.0.0.1/a b", "ftp://127.0.0.1/",
    };

    /* Content-Length: the answer is complete before the server closes; the
     * request is as documented */
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Other: 1\r\n\r\nworld"),
                          SRV_WAIT_CLIENT_CLOSE, 5000, &status, &body, &len, &s),
                     DT_OK);
    assert_int_equal(status, 200);
    assert_int_equal(len, 5);
    assert_string_equal(body, "world");
    free(body);
    assert_true(strncmp(s.request, "POST /add-checkpoint HTTP/1.1\r\n", 31) == 0);
    assert_non_null(strstr(s.request, "\r\nContent-Length: 5\r\n"));
    assert_non_null(strstr(s.request, "\r\nConnection: close\r\n"));
    {
        char host[64];
        snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s.port);
        assert_non_null(strstr(s.request, host));
    }
    assert_string_equal(strstr(s.request, "\r\n\r\n") + 4, "hello");

    /* chunked, with an extension; lower-case field names */
    assert_int_equal(post(REPLY("HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n"
                                "Content-Type: text/x.tlog.size\r\n\r\n2\r\n12\r\n1;x=y\r\n\n\r\n0\r\nT: 1\r\n\r\n"),
                          SRV_WAIT_CLIENT_CLOSE, 5000, &status, &body, &len, &s),
                     DT_OK);
    assert_int_equal(status, 409);
    assert_string_equal(body, "12\n");
    assert_int_equal(len, 3);
    free(body);

    /* a 100 interim answer, then a body until the server closes */
    assert_int_equal(post(REPLY("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close"), SRV_CLOSE, 5000,
                          &status, &body, &len, &s),
                     DT_OK);
    assert_int_equal(status, 200);
    assert_string_equal(body, "until close");
    free(body);

    /* 204: no body */
    assert_int_equal(post(REPLY("HTTP/1.1 204 No Content\r\n\r\n"), SRV_WAIT_CLIENT_CLOSE, 5000, &status, &body,
                          &len, &s),
                     DT_OK);
    assert_int_equal(status, 204);
    assert_int_equal(len, 0);
    free(body);

    /* malformed answers */
    assert_int_equal(post(REPLY("HTTP/1.1 2x0 OK\r\n\r\n"), SRV_CLOSE, 5000, &status, &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_null(body);
    assert_int_equal(status, 0);
    assert_int_equal(post(REPLY("SMTP 200 OK\r\n\r\n"), SRV_CLOSE, 5000, &status, &body, &len, &s), DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), SRV_CLOSE, 5000, &status,
                          &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"), SRV_CLOSE,
                          5000, &status, &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), SRV_CLOSE, 5000, &status,
                          &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), SRV_CLOSE, 5000,
                          &status, &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc"), SRV_CLOSE, 5000,
                          &status, &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), SRV_CLOSE, 5000, &status, &body, &len, &s),
                     DT_ERR_ENCODING);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), SRV_CLOSE, 5000, &status, &body, &len,
                          &s),
                     DT_ERR_ENCODING);
    /* too large: declared, chunked, until close */
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n"), SRV_WAIT_CLIENT_CLOSE, 5000,
                          &status, &body, &len, &s),
                     DT_ERR_LIMIT);
    assert_int_equal(post(REPLY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n"),
                          SRV_WAIT_CLIENT_CLOSE, 5000, &status, &body, &len, &s),
                     DT_ERR_LIMIT);
    {
        size_t n = 40 + ((size_t)1 << 20) + 1;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, 'b', n);
        memcpy(big, "HTTP/1.1 200 OK\r\n\r\n", 19);
        assert_int_equal(post(big, n, SRV_CLOSE, 5000, &status, &body, &len, &s), DT_ERR_LIMIT);
        /* a head that never ends */
        memset(big, 'h', n);
        memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
        assert_int_equal(post(big, n, SRV_CLOSE, 5000, &status, &body, &len, &s), DT_ERR_LIMIT);
        free(big);
    }
    /* a server that does not answer: the timeout */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(post(REPLY(""), SRV_SILENT, 300, &status, &body, &len, &s), DT_ERR_IO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000);
    /* a server that closes without a word */
    assert_int_equal(post(REPLY(""), SRV_CLOSE, 5000, &status, &body, &len, &s), DT_ERR_IO);
    /* nobody listening: a port just bound and released */
    {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        close(fd);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    }
    assert_int_equal(dt_http_post(url, "x", 1, &status, &body, &len, 2000), DT_ERR_IO);
    /* URLs */
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++)
        if (dt_http_post(bad_urls[i], "x", 1, &status, &body, &len, 1000) != DT_ERR_ENCODING)
            fail_msg("URL %s accepted", bad_urls[i]);
}

/* ---- The fixtures of tests/cli/witness.sh ----
 * The CLI test cannot sign checkpoints, so it carries its requests as
 * here-documents. They are deterministic (fixed keys and leaves, Ed25519)
 * and built here: this test checks that the script holds exactly these
 * (DT_WITNESS_FIXTURES=1 prints them, to paste into the script). */

#define CLI_ORIGIN "example.org/cli-log"

static char *fixture_request(const char *origin, unsigned char seedbyte, const char *word, uint64_t old,
                             uint64_t size, int flip)
{
    dt_note_signer key;
    unsigned char seed[32], leaves[16][32], root[32], proof[DT_MERKLE_MAX_PROOF][32];
    size_t plen = 0, len;
    char *note, *req;
    memset(seed, seedbyte, sizeof seed);
    assert_int_equal(dt_note_signer_from_seed(&key, origin, strlen(origin), DT_NOTE_ED25519, seed), DT_OK);
    for (size_t i = 0; i < 16; i++) {
        char entry[32];
        int n = snprintf(entry, sizeof entry, "%s %zu", word, i);
        dt_merkle_leaf_hash(leaves[i], entry, (size_t)n);
    }
    dt_merkle_root(root, leaves, size);
    note = signed_checkpoint(&key, origin, size, root);
    if (old != 0 && old < size) {
        plen = DT_MERKLE_MAX_PROOF;
        assert_int_equal(dt_merkle_consistency_proof(proof, &plen, old, leaves, size), DT_OK);
        proof[0][0] ^= (unsigned char)flip;
    }
    assert_int_equal(dt_witness_request_format(&req, &len, old, proof, plen, note, strlen(note)), DT_OK);
    free(note);
    dt_note_signer_clear(&key);
    return req;
}

static char *fixture_vkey(const char *origin, unsigned char seedbyte)
{
    dt_note_signer key;
    dt_note_verifier v;
    unsigned char seed[32];
    char *s;
    memset(seed, seedbyte, sizeof seed);
    assert_int_equal(dt_note_signer_from_seed(&key, origin, strlen(origin), DT_NOTE_ED25519, seed), DT_OK);
    dt_note_signer_verifier(&v, &key);
    s = vkey_string(&v);
    dt_note_signer_clear(&key);
    return s;
}

static void test_cli_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *name, *origin;
        unsigned char seed;
        const char *word;
        uint64_t old, size;
        int flip;
    } fx[] = {
        {"first", CLI_ORIGIN, 0x42, "entry", 0, 3, 0},         /* the first checkpoint */
        {"grow", CLI_ORIGIN, 0x42, "entry", 3, 7, 0},          /* 3 -> 7 */
        {"again", CLI_ORIGIN, 0x42, "entry", 7, 7, 0},         /* 7 -> 7, the same root */
        {"grow2", CLI_ORIGIN, 0x42, "entry", 7, 9, 0},         /* 7 -> 9 */
        {"badproof", CLI_ORIGIN, 0x42, "entry", 7, 9, 1},      /* 7 -> 9, a bit flipped */
        {"split", CLI_ORIGIN, 0x42, "other", 7, 7, 0},         /* size 7, another tree */
        {"unknown", "example.org/unknown", 0x43, "entry", 0, 2, 0},
    };
    unsigned char *script = NULL;
    size_t slen = 0;
    int print = getenv("DT_WITNESS_FIXTURES") != NULL;
    char *vk[2] = {fixture_vkey(CLI_ORIGIN, 0x42), fixture_vkey(CLI_ORIGIN, 0x44)}, line[DT_NOTE_VKEY_MAX + 32];
    if (!print) {
        FILE *f = fopen(DT_TEST_DATA "/../cli/witness.sh", "rb");
        assert_non_null(f);
        script = malloc(1 << 20);
        assert_non_null(script);
        slen = fread(script, 1, (1 << 20) - 1, f);
        fclose(f);
        script[slen] = '\0';
    }
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof line, "%s='%s'\n", i ? "otherkey" : "logkey", vk[i]);
        if (print)
            fputs(line, stdout);
        else if (!strstr((char *)script, line))
            fail_msg("tests/cli/witness.sh lacks: %s", line);
        free(vk[i]);
    }
    for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
        char *req = fixture_request(fx[i].origin, fx[i].seed, fx[i].word, fx[i].old, fx[i].size, fx[i].flip);
        size_t cap = strlen(req) + 64;
        char *block = malloc(cap);
        assert_non_null(block);
        snprintf(block, cap, "cat >\"$work/%s\" <<'EOF'\n%sEOF\n", fx[i].name, req);
        if (print)
            fputs(block, stdout);
        else if (!strstr((char *)script, block))
            fail_msg("tests/cli/witness.sh: the request '%s' is not the one built here", fx[i].name);
        free(block);
        free(req);
    }
    free(script);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_open, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_first_and_growth, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_empty_tree, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_proof, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_conflict, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_split_view, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_smaller, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_wrong_key, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_check_fn, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_add_log, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_race_threads, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_race_processes, fx_setup, fx_teardown),
        cmocka_unit_test(test_request_format),
        cmocka_unit_test(test_http_client),
        cmocka_unit_test(test_cli_fixtures),
    };
    testrand_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
