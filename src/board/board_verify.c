/* The auditor's side of the board: checks DIR/board against the record. */
#include <detente/board.h>
#include <detente/hash.h>
#include <detente/log.h>
#include <detente/note.h>
#include <detente/tiles.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>

#include "board/board_impl.h"
#include "util/codec.h"

#define MAX_MESSAGES 20

struct dt_board_report {
    struct {
        int status; /* 0 pass, 1 fail, 2 not run */
        size_t count, nmsg;
        char *msg[MAX_MESSAGES];
    } c[DT_BOARD_CHECKS];
    uint64_t size;
    size_t cosigned;
};

static const char *const names[DT_BOARD_CHECKS] = {
    "B.1 the checkpoint is signed by the log",
    "B.2 a quorum of witnesses cosigned the checkpoint",
    "B.3 the tiles and entries hash to the checkpoint's root",
    "B.4 every entry is a file of the record, byte for byte",
    "B.5 every public file of the record is on the board",
    "B.6 no ballot came onto the board after voting closed",
};

const char *dt_board_check_name(dt_board_check c)
{
    return (unsigned)c < DT_BOARD_CHECKS ? names[c] : "?";
}

static void fail(dt_board_report *r, dt_board_check c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(dt_board_report *r, dt_board_check c, const char *fmt, ...)
{
    r->c[c].status = 1;
    if (r->c[c].nmsg == MAX_MESSAGES)
        return;
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->c[c].msg[r->c[c].nmsg] = strdup(buf);
    if (r->c[c].msg[r->c[c].nmsg])
        r->c[c].nmsg++;
}

void dt_board_report_destroy(dt_board_report *r)
{
    if (r == NULL)
        return;
    for (int c = 0; c < DT_BOARD_CHECKS; c++)
        for (size_t i = 0; i < r->c[c].nmsg; i++)
            free(r->c[c].msg[i]);
    free(r);
}

int dt_board_report_ok(const dt_board_report *r)
{
    for (int c = 0; c < DT_BOARD_CHECKS; c++)
        if (r->c[c].status != 0)
            return 0;
    return 1;
}

int dt_board_check_status(const dt_board_report *r, dt_board_check c) { return r->c[c].status; }
size_t dt_board_check_count(const dt_board_report *r, dt_board_check c) { return r->c[c].count; }
size_t dt_board_check_messages(const dt_board_report *r, dt_board_check c) { return r->c[c].nmsg; }
const char *dt_board_check_message(const dt_board_report *r, dt_board_check c, size_t i)
{
    return i < r->c[c].nmsg ? r->c[c].msg[i] : NULL;
}
uint64_t dt_board_report_size(const dt_board_report *r) { return r->size; }
size_t dt_board_report_cosigned(const dt_board_report *r) { return r->cosigned; }

/* Reads one vkey a line (blank lines and lines starting with '#' skipped). */
static int read_keys(dt_note_verifier *keys, size_t *n, size_t max, const char *text)
{
    *n = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len && p[0] != '#') {
            if (*n == max || dt_note_verifier_parse(&keys[*n], p, len) != DT_OK)
                return 0;
            (*n)++;
        }
        p += len + (e != NULL);
    }
    return 1;
}

/* The walk over the entries (B.4). */
typedef struct walk {
    dt_board_report *r;
    const char *dir;
    char **paths; /* the record's public files, sorted */
    size_t npaths;
    unsigned char *seen; /* per path: on the board */
    const dt_board_verify_opts *o;
    uint64_t closed_at;  /* closed.json's board_size, or UINT64_MAX */
} walk;

static int path_index(const walk *w, const char *path, size_t len, size_t *at)
{
    size_t lo = 0, hi = w->npaths;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = w->paths[mid];
        size_t ml = strlen(m);
        int c = memcmp(m, path, ml < len ? ml : len);
        if (c == 0)
            c = ml < len ? -1 : ml > len;
        if (c == 0) {
            *at = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static dt_err on_entry(void *arg, uint64_t index, const unsigned char *data, size_t len)
{
    walk *w = arg;
    dt_board_report *r = w->r;
    dt_board_entry e;
    size_t at;
    unsigned long long ix = (unsigned long long)index;
    r->c[DT_BOARD_CHECK_ENTRIES].count++;
    if (dt_board_entry_parse(&e, data, len) != DT_OK) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: not a detente board entry", ix);
        return DT_OK;
    }
    if (!path_index(w, e.path, e.pathlen, &at)) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %.*s is on the board but not in the record", ix, (int)e.pathlen,
             e.path);
        return DT_OK;
    }
    const char *path = w->paths[at];
    /* B.6: closed.json records the board's size when voting closed; a
     * ballot entry at that index or later came after */
    if (index >= w->closed_at) {
        r->c[DT_BOARD_CHECK_CLOSED].count++;
        if (dt_board_is_ballot_path(path, strlen(path)))
            fail(r, DT_BOARD_CHECK_CLOSED,
                 "entry %llu: ballot %s came onto the board after voting closed (closed.json: board_size %llu)", ix,
                 path, (unsigned long long)w->closed_at);
    }
    if (w->seen[at]) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %s is on the board twice", ix, path);
        return DT_OK;
    }
    w->seen[at] = 1;
    char *full = dt_strdup_printf("%s/%s", w->dir, path);
    unsigned char *content = NULL;
    size_t clen = 0;
    if (full == NULL)
        return DT_ERR_NOMEM;
    if (dt_read_file(&content, &clen, full, DT_BOARD_FILE_MAX) != DT_OK) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %s cannot be read", ix, full);
        goto out;
    }
    unsigned char h[32];
    dt_sha256(h, content, clen);
    if (e.is_blob) {
        if (e.blob_size != clen || memcmp(h, e.blob_hash, 32) != 0) {
            fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %s differs from the blob the board holds for it", ix, path);
            goto out;
        }
        char hex[65];
        dt_hex_encode_lower(hex, e.blob_hash, 32);
        char *bp = dt_strdup_printf("%s/board/blob/%s", w->dir, hex);
        unsigned char *blob = NULL, bh[32];
        size_t blen = 0;
        if (bp == NULL) {
            free(content);
            free(full);
            return DT_ERR_NOMEM;
        }
        if (dt_read_file(&blob, &blen, bp, DT_BOARD_FILE_MAX) != DT_OK) {
            fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: the blob of %s (board/blob/%s) is missing", ix, path, hex);
        } else {
            dt_sha256(bh, blob, blen);
            if (memcmp(bh, e.blob_hash, 32) != 0)
                fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: board/blob/%s does not hash to its name", ix, hex);
        }
        free(blob);
        free(bp);
    } else if (e.bodylen != clen || (clen && memcmp(e.body, content, clen) != 0)) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %s differs from the file published on the board", ix, path);
        goto out;
    }
    int ballot = dt_board_is_ballot_path(path, strlen(path));
    unsigned char code[DT_BOARD_CODE_BYTES];
    if (ballot != e.has_code) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: %s %s a confirmation code", ix, path,
             ballot ? "is a ballot without" : "is not a ballot but has");
    } else if (ballot && !(w->o->ballot_code && w->o->ballot_code(w->o->ballot_code_arg, path, code)) &&
               dt_board_ballot_code(code, content, clen) != DT_OK) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: the confirmation code of %s differs from the ballot's", ix, path);
    } else if (ballot && memcmp(code, e.code, 32) != 0) {
        fail(r, DT_BOARD_CHECK_ENTRIES, "entry %llu: the confirmation code of %s differs from the ballot's", ix, path);
    }
out:
    free(content);
    free(full);
    return DT_OK;
}

dt_err dt_board_verify(dt_board_report **out, const char *dir, const dt_board_verify_opts *opts)
{
    if (out == NULL || dir == NULL)
        dt_misuse("dt_board_verify: NULL argument");
    *out = NULL;
    dt_board_verify_opts o = {0};
    if (opts)
        o = *opts;
    char *cpp = dt_strdup_printf("%s/board/checkpoint", dir), *bdir = dt_strdup_printf("%s/board", dir);
    char *lvp = dt_strdup_printf("%s/board/log.vkey", dir);
    char *wvp = o.witnesses_file ? strdup(o.witnesses_file) : dt_strdup_printf("%s/board/witnesses.vkey", dir);
    unsigned char *note = NULL, *lv = NULL, *wv = NULL;
    size_t notelen = 0, lvlen = 0, wvlen = 0;
    dt_board_report *r = calloc(1, sizeof *r);
    dt_note_verifier *wk = calloc(DT_BOARD_MAX_WITNESSES, sizeof *wk);
    dt_note_verifier logk;
    dt_tiles *t = NULL;
    walk w = {0};
    char *msg = NULL;
    dt_err err = DT_ERR_NOMEM;
    if (!cpp || !bdir || !lvp || !wvp || !r || !wk)
        goto out;
    struct stat sb;
    int st_ok = lstat(cpp, &sb) == 0;
    if (!st_ok && errno == ENOENT) {
        err = DT_ERR_NOT_FOUND; /* no board: the caller decides */
        goto out;
    }
    dt_err rerr = dt_read_file(&note, &notelen, cpp, DT_NOTE_MAX_BYTES);
    err = DT_OK;
    for (int c = 0; c < DT_BOARD_CHECKS; c++)
        r->c[c].status = 2;

    /* B.1 */
    r->c[DT_BOARD_CHECK_SIGNATURE].status = 0;
    r->c[DT_BOARD_CHECK_SIGNATURE].count = 1;
    if (rerr != DT_OK || !st_ok || !S_ISREG(sb.st_mode)) {
        fail(r, DT_BOARD_CHECK_SIGNATURE, "board/checkpoint: %s",
             st_ok && !S_ISREG(sb.st_mode) ? "not a regular file"
             : rerr == DT_ERR_LIMIT ? "larger than a signed note may be (64 KiB)"
                                    : "cannot be read");
        goto done;
    }
    const char *lkey = o.log_vkey;
    size_t lklen = lkey ? strlen(lkey) : 0;
    if (lkey == NULL) {
        if (dt_read_file(&lv, &lvlen, lvp, DT_NOTE_VKEY_MAX + 1) != DT_OK) {
            fail(r, DT_BOARD_CHECK_SIGNATURE, "%s: the log's key cannot be read", lvp);
            goto done;
        }
        lkey = (const char *)lv;
        lklen = lvlen;
        while (lklen && lkey[lklen - 1] == '\n')
            lklen--;
    }
    if (dt_note_verifier_parse(&logk, lkey, lklen) != DT_OK) {
        fail(r, DT_BOARD_CHECK_SIGNATURE, "the log's key is not a verifier key");
        goto done;
    }
    size_t textlen = 0;
    unsigned char ok1 = 0;
    dt_err e = dt_note_open(&textlen, &ok1, NULL, (const char *)note, notelen, &logk, 1);
    const char *origin = NULL, *ext = NULL;
    size_t originlen = 0, extlen = 0, kn = 0;
    uint64_t size = 0;
    unsigned char root[32];
    if (e != DT_OK) {
        fail(r, DT_BOARD_CHECK_SIGNATURE, "board/checkpoint: %s",
             e == DT_ERR_NOT_FOUND ? "not signed by the log's key"
             : e == DT_ERR_PROOF   ? "the log's signature does not verify"
                                   : "not a well-formed signed note");
        goto done;
    }
    if (dt_checkpoint_parse(&origin, &originlen, &size, root, &ext, &extlen, (const char *)note, textlen) != DT_OK) {
        fail(r, DT_BOARD_CHECK_SIGNATURE, "board/checkpoint: not a well-formed checkpoint");
        goto done;
    }
    const char *kname = dt_note_verifier_name(&logk, &kn);
    if (kn != originlen || memcmp(kname, origin, kn) != 0) {
        fail(r, DT_BOARD_CHECK_SIGNATURE, "board/checkpoint: its origin '%.*s' is not the log key's name '%.*s'",
             (int)originlen, origin, (int)kn, kname);
        goto done;
    }
    r->size = size;

    /* B.2: each witness on its own, so that a bad cosignature is named. */
    r->c[DT_BOARD_CHECK_QUORUM].status = 0;
    size_t nw = 0;
    if (dt_read_file(&wv, &wvlen, wvp, (size_t)DT_BOARD_MAX_WITNESSES * (DT_NOTE_VKEY_MAX + 1)) != DT_OK ||
        !read_keys(wk, &nw, DT_BOARD_MAX_WITNESSES, (const char *)wv) || nw == 0) {
        fail(r, DT_BOARD_CHECK_QUORUM, "%s: cannot read the witnesses' keys (one vkey a line, 1 to %d)", wvp,
             DT_BOARD_MAX_WITNESSES);
        goto done;
    }
    size_t quorum = o.quorum ? o.quorum : nw / 2 + 1;
    for (size_t i = 0; i < nw; i++) {
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            dup |= memcmp(dt_note_verifier_pubkey(&wk[j]), dt_note_verifier_pubkey(&wk[i]), 32) == 0;
        if (dup)
            continue;
        r->c[DT_BOARD_CHECK_QUORUM].count++;
        unsigned char okw = 0;
        size_t tl;
        size_t wn;
        const char *wname = dt_note_verifier_name(&wk[i], &wn);
        e = dt_note_open(&tl, &okw, NULL, (const char *)note, notelen, &wk[i], 1);
        if (e == DT_OK && okw && dt_note_verifier_type(&wk[i]) == DT_NOTE_COSIG)
            r->cosigned++;
        else if (e == DT_ERR_PROOF)
            fail(r, DT_BOARD_CHECK_QUORUM, "the cosignature of witness %.*s does not verify", (int)wn, wname);
        else if (e == DT_OK && dt_note_verifier_type(&wk[i]) != DT_NOTE_COSIG)
            fail(r, DT_BOARD_CHECK_QUORUM, "witness %.*s signed with a key that is not a cosignature key", (int)wn,
                 wname);
    }
    if (r->cosigned < quorum)
        fail(r, DT_BOARD_CHECK_QUORUM, "%zu witness cosignatures, %zu required (of %zu witnesses)", r->cosigned,
             quorum, nw);

    /* B.3 and B.4: one walk over the tiles. */
    if ((err = dt_board_list_files(&w.paths, &w.npaths, &msg, dir)) != DT_OK) {
        fail(r, DT_BOARD_CHECK_COMPLETE, "%s", msg ? msg : dt_strerror(err));
        err = DT_OK;
        goto done;
    }
    w.r = r;
    w.dir = dir;
    w.o = &o;
    w.closed_at = UINT64_MAX;
    r->c[DT_BOARD_CHECK_CLOSED].status = 0;
    {
        /* closed.json (written by detente close): its board_size */
        char *cp = dt_strdup_printf("%s/closed.json", dir);
        unsigned char *ct = NULL;
        size_t clen = 0;
        if (!cp) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        struct stat cs;
        if (lstat(cp, &cs) != 0 && errno == ENOENT) {
            /* voting not closed (or closed without a board): nothing to check */
        } else if (lstat(cp, &cs) != 0 || !S_ISREG(cs.st_mode) || dt_read_file(&ct, &clen, cp, 65536) != DT_OK) {
            fail(r, DT_BOARD_CHECK_CLOSED, "closed.json: cannot be read (not a regular file, or over 64 KiB)");
        } else {
            json_t *cj = json_loadb((const char *)ct, clen, 0, NULL);
            json_t *bs = cj ? json_object_get(cj, "board_size") : NULL;
            if (!json_is_integer(bs) || json_integer_value(bs) < 0)
                fail(r, DT_BOARD_CHECK_CLOSED, "closed.json: no board_size (a whole number) to check against");
            else if ((uint64_t)json_integer_value(bs) > size)
                fail(r, DT_BOARD_CHECK_CLOSED, "closed.json: board_size %lld, but the board has only %llu entries",
                     (long long)json_integer_value(bs), (unsigned long long)size);
            else
                w.closed_at = (uint64_t)json_integer_value(bs);
            json_decref(cj);
        }
        free(ct);
        free(cp);
    }
    if ((w.seen = calloc(w.npaths ? w.npaths : 1, 1)) == NULL) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    r->c[DT_BOARD_CHECK_TREE].status = 0;
    r->c[DT_BOARD_CHECK_TREE].count = 1;
    r->c[DT_BOARD_CHECK_ENTRIES].status = 0;
    uint64_t bad = UINT64_MAX;
    e = dt_tiles_open(&t, bdir, size);
    if (e == DT_OK)
        e = dt_tiles_verify(t, root, on_entry, &w, &bad);
    if (e == DT_ERR_NOMEM) {
        err = e;
        goto out;
    }
    if (e != DT_OK) {
        if (bad != UINT64_MAX)
            fail(r, DT_BOARD_CHECK_TREE, "the tiles do not match the checkpoint at entry %llu (%s)",
                 (unsigned long long)bad, dt_strerror(e));
        else
            fail(r, DT_BOARD_CHECK_TREE, "the tiles do not match the checkpoint (%s)", dt_strerror(e));
        r->c[DT_BOARD_CHECK_ENTRIES].status = 2;
        if (r->c[DT_BOARD_CHECK_CLOSED].status == 0) /* a closed.json failure above stands */
            r->c[DT_BOARD_CHECK_CLOSED].status = 2;
        goto done;
    }

    /* B.5 */
    r->c[DT_BOARD_CHECK_COMPLETE].status = 0;
    for (size_t i = 0; i < w.npaths; i++) {
        r->c[DT_BOARD_CHECK_COMPLETE].count++;
        if (!w.seen[i])
            fail(r, DT_BOARD_CHECK_COMPLETE, "%s is in the record but not on the board", w.paths[i]);
    }
done:
    *out = r;
    r = NULL;
out:
    dt_tiles_close(t);
    dt_board_free_paths(w.paths, w.npaths);
    free(w.seen);
    free(msg);
    dt_board_report_destroy(r);
    free(cpp);
    free(bdir);
    free(lvp);
    free(wvp);
    free(note);
    free(lv);
    free(wv);
    free(wk);
    return err;
}
