/* The verifying witness's check: before it cosigns a checkpoint, the witness
 * reads the new entries from the board's tiles, keeps its own copy of the
 * record they make up (its mirror), and verifies that record. Its
 * cosignature then means "the record up to here verifies". */
#include <detente/board.h>
#include <detente/hash.h>
#include <detente/record.h>
#include <detente/tiles.h>
#include <detente/verify.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/board_impl.h"
#include "util/codec.h"

typedef struct mirror_walk {
    const dt_board_witness_check_arg *a;
    uint64_t from;
    char *why;
    size_t whycap;
    int wrote_election; /* a file was added */
    char *index;        /* the mirror's paths, one a line, in entry order */
    size_t indexlen, indexcap;
    char *mdir;         /* this log's mirror: mirror_dir/<SHA-256 of the origin, 16 bytes hex> */
} mirror_walk;

/* The mirror's index, mirror/.index: the path of each entry mirrored so far,
 * one a line. Entries past the last cosigned size (from an attempt that was
 * refused) are removed before new ones are added, so the mirror always
 * equals the cosigned log plus what is being checked. */
static dt_err index_load(mirror_walk *w, uint64_t old_size)
{
    char *p = dt_strdup_printf("%s/.index", w->mdir);
    unsigned char *text = NULL;
    size_t len = 0;
    if (p == NULL)
        return DT_ERR_NOMEM;
    dt_err err = dt_read_file(&text, &len, p, (size_t)1 << 31);
    free(p);
    if (err == DT_ERR_IO) {
        w->from = 0;
        return DT_OK;
    }
    if (err != DT_OK)
        return err;
    uint64_t n = 0;
    size_t keep = 0;
    for (size_t at = 0; at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        if (nl == NULL)
            break;
        size_t ll = (size_t)((unsigned char *)nl - (text + at));
        if (n < old_size) {
            keep = at + ll + 1;
        } else {
            char *f = dt_strdup_printf("%s/%.*s", w->mdir, (int)ll, (const char *)text + at);
            if (f)
                unlink(f);
            free(f);
        }
        n++;
        at += ll + 1;
    }
    w->from = n < old_size ? n : old_size;
    w->index = (char *)text;
    w->indexlen = keep;
    w->indexcap = len + 1;
    return DT_OK;
}

static dt_err index_add(mirror_walk *w, const char *path, size_t len)
{
    if (w->indexlen + len + 1 > w->indexcap) {
        size_t cap = 2 * (w->indexlen + len + 1) + 4096;
        char *v = realloc(w->index, cap);
        if (v == NULL)
            return DT_ERR_NOMEM;
        w->index = v;
        w->indexcap = cap;
    }
    memcpy(w->index + w->indexlen, path, len);
    w->index[w->indexlen + len] = '\n';
    w->indexlen += len + 1;
    return DT_OK;
}

static dt_err index_save(mirror_walk *w)
{
    char *p = dt_strdup_printf("%s/.index", w->mdir);
    dt_err err = p ? dt_write_file_atomic(p, w->index ? w->index : "", w->indexlen, 0644) : DT_ERR_NOMEM;
    free(p);
    return err;
}

static dt_err refuse(mirror_walk *w, dt_err err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static dt_err refuse(mirror_walk *w, dt_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, w->whycap, fmt, ap);
    va_end(ap);
    return err;
}

/* Copies one new entry's file into the mirror. */
static dt_err mirror_entry(void *arg, uint64_t index, const unsigned char *data, size_t len)
{
    mirror_walk *w = arg;
    if (index < w->from)
        return DT_OK;
    unsigned long long ix = (unsigned long long)index;
    dt_board_entry e;
    if (dt_board_entry_parse(&e, data, len) != DT_OK)
        return refuse(w, DT_ERR_ENCODING, "entry %llu is not a detente board entry", ix);
    /* The rules of check B.4, so that a board this witness cosigns can pass it. */
    if ((e.pathlen >= 13 && memcmp(e.path, "private_data/", 13) == 0) ||
        (e.pathlen >= 6 && memcmp(e.path, "board/", 6) == 0))
        return refuse(w, DT_ERR_INVALID, "entry %llu: %.*s is not a public file of a record", ix, (int)e.pathlen,
                      e.path);
    if (e.has_code != dt_board_is_ballot_path(e.path, e.pathlen))
        return refuse(w, DT_ERR_INVALID, "entry %llu: %.*s %s a confirmation code", ix, (int)e.pathlen, e.path,
                      e.has_code ? "is not a ballot but has" : "is a ballot without");
    char *path = dt_strdup_printf("%s/%.*s", w->mdir, (int)e.pathlen, e.path);
    unsigned char *blob = NULL;
    size_t blen = 0;
    dt_err err = DT_ERR_NOMEM;
    if (path == NULL)
        goto out;
    if (access(path, F_OK) == 0) {
        err = refuse(w, DT_ERR_INVALID, "entry %llu: %.*s is already on the board (a record file is published once)",
                     ix, (int)e.pathlen, e.path);
        goto out;
    }
    const unsigned char *content = e.body;
    size_t clen = e.bodylen;
    if (e.is_blob) {
        char hex[65];
        dt_hex_encode_lower(hex, e.blob_hash, 32);
        char *bp = dt_strdup_printf("%s/blob/%s", w->a->board_dir, hex);
        unsigned char h[32];
        if (bp == NULL)
            goto out;
        err = dt_read_file(&blob, &blen, bp, DT_BOARD_FILE_MAX);
        free(bp);
        if (err != DT_OK) {
            err = refuse(w, DT_ERR_IO, "entry %llu: its blob %s is not served", ix, hex);
            goto out;
        }
        dt_sha256(h, blob, blen);
        if (blen != e.blob_size || memcmp(h, e.blob_hash, 32) != 0) {
            err = refuse(w, DT_ERR_PROOF, "entry %llu: the blob %s does not match the entry", ix, hex);
            goto out;
        }
        content = blob;
        clen = blen;
    }
    if (dt_board_is_ballot_path(e.path, e.pathlen)) {
        unsigned char code[DT_BOARD_CODE_BYTES];
        if (!e.has_code || dt_board_ballot_code(code, content, clen) != DT_OK || memcmp(code, e.code, 32) != 0) {
            err = refuse(w, DT_ERR_PROOF, "entry %llu: the ballot's confirmation code differs from the entry's", ix);
            goto out;
        }
    }
    /* Indexed before it is written, so that a refused attempt's files are
     * always found and removed by the next one. */
    if ((err = index_add(w, e.path, e.pathlen)) != DT_OK)
        goto out;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    err = dt_mkdirs(path);
    *slash = '/';
    if (err == DT_OK)
        err = dt_write_file_atomic(path, content, clen, 0644);
    if (err != DT_OK)
        err = refuse(w, DT_ERR_IO, "cannot write %s", path);
    else
        w->wrote_election = 1;
out:
    free(blob);
    free(path);
    return err;
}

static dt_err check(mirror_walk *w, uint64_t old_size, uint64_t new_size, const unsigned char new_root[32]);

dt_err dt_board_witness_check(void *arg, const char *origin, size_t originlen, uint64_t old_size,
                              const unsigned char old_root[32], uint64_t new_size, const unsigned char new_root[32],
                              char *why, size_t whycap)
{
    const dt_board_witness_check_arg *a = arg;
    mirror_walk w = {a, old_size, why, whycap, 0, NULL, 0, 0, NULL};
    dt_err err;
    unsigned char oh[32];
    char hex[33];
    if (new_size == old_size)
        return DT_OK; /* nothing new: the same checkpoint again */
    dt_sha256(oh, origin, originlen);
    dt_hex_encode_lower(hex, oh, 16);
    if ((w.mdir = dt_strdup_printf("%s/%s", a->mirror_dir, hex)) == NULL)
        return DT_ERR_NOMEM;
    err = check(&w, old_size, new_size, new_root);
    free(w.mdir);
    free(w.index);
    return err;
}

/* 1 if the mirror holds rel. */
static int has(const mirror_walk *w, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", w->mdir, rel);
    return access(p, F_OK) == 0;
}

/* 1 if every path of the index is a set-up file (or, with ceremony, a file
 * of the key ceremony); otherwise *first gets the first other path. */
static int only_before(const mirror_walk *w, int ceremony, const char **first, size_t *firstlen)
{
    static const char *const setup[] = {"constants.json", "manifest.json", "election_config.json"};
    for (size_t at = 0; at < w->indexlen;) {
        const char *line = w->index + at, *nl = memchr(line, '\n', w->indexlen - at);
        size_t ll = nl ? (size_t)(nl - line) : w->indexlen - at;
        int ok = ceremony && ll > 9 && memcmp(line, "ceremony/", 9) == 0;
        for (size_t i = 0; i < 3; i++)
            ok |= ll == strlen(setup[i]) && memcmp(line, setup[i], ll) == 0;
        if (!ok) {
            *first = line;
            *firstlen = ll;
            return 0;
        }
        at += ll + 1;
    }
    return 1;
}

/* The check, with the mirror of this log in w->mdir. */
static dt_err check(mirror_walk *w, uint64_t old_size, uint64_t new_size, const unsigned char new_root[32])
{
    const dt_board_witness_check_arg *a = w->a;
    dt_tiles *t = NULL;
    uint64_t bad = UINT64_MAX;
    dt_err err;
    if ((err = dt_mkdirs(w->mdir)) != DT_OK)
        return refuse(w, err, "cannot create the mirror %s", w->mdir);
    if ((err = index_load(w, old_size)) != DT_OK)
        return refuse(w, err, "cannot read the mirror's index in %s", w->mdir);
    /* The served tiles must be exactly the tree being cosigned. */
    if ((err = dt_tiles_open(&t, a->board_dir, new_size)) == DT_OK)
        err = dt_tiles_verify(t, new_root, mirror_entry, w, &bad);
    dt_tiles_close(t);
    dt_err ierr = index_save(w);
    if (err != DT_OK) {
        if (w->why[0] == '\0')
            refuse(w, err, "the tiles at %s do not match the checkpoint (%s%s)", a->board_dir, dt_strerror(err),
                   bad != UINT64_MAX ? ", at an entry" : "");
        return err;
    }
    if (ierr != DT_OK)
        return refuse(w, ierr, "cannot write the mirror's index in %s", w->mdir);
    if (!w->wrote_election)
        return DT_OK;

    /* The election's phase, from what is on the board, and what may be
     * there in it: nothing but set-up files before the configuration is
     * complete, nothing but the ceremony's files before the election opens. */
    const char *first = NULL;
    size_t firstlen = 0;
    if (!has(w, "election_config.json") || !has(w, "manifest.json") || !has(w, "constants.json")) {
        if (!only_before(w, 0, &first, &firstlen))
            return refuse(w, DT_ERR_PROOF, "%.*s is on the board before the election's configuration", (int)firstlen,
                          first);
        return DT_OK; /* set-up files only: their form was checked */
    }
    dt_record_part part = has(w, "election_initialized.json") ? DT_RECORD_ALL : DT_RECORD_CONFIG;
    if (part == DT_RECORD_CONFIG && !only_before(w, 1, &first, &firstlen))
        return refuse(w, DT_ERR_PROOF, "%.*s is on the board before the election is open (election_initialized.json)",
                      (int)firstlen, first);
    dt_record *rec = NULL;
    char *msg = NULL;
    if ((err = dt_record_load_part(&rec, &msg, w->mdir, part)) != DT_OK) {
        refuse(w, DT_ERR_PROOF, "the record on the board cannot be read: %s", msg ? msg : dt_strerror(err));
        free(msg);
        return DT_ERR_PROOF;
    }
    if (part == DT_RECORD_ALL) {
        /* The steps that apply: while voting is open (no tally yet) steps
         * 1-7 and 15-18; with the encrypted tally step 8 too; once anything
         * of the decryption is there (tally.json, challenged ballots, the
         * rounds' messages), all of them. */
        int last = 7;
        if (has(w, "tally.json") || has(w, "challenged_ballots") || has(w, "decryption"))
            last = DT_VERIFY_STEPS;
        else if (has(w, "encrypted_tally.json"))
            last = 8;
        dt_verify_report *rep = NULL;
        dt_verify_opts o = {0, NULL, NULL};
        if ((err = dt_verify(&rep, rec, &o)) == DT_OK) {
            for (int s = 1; s <= DT_VERIFY_STEPS; s++)
                if (dt_verify_step_status(rep, s) == DT_STEP_FAIL && (s <= last || s >= 15)) {
                    refuse(w, DT_ERR_PROOF, "the record on the board fails step %d (%s)%s%s", s,
                           dt_verify_step_name(s), dt_verify_step_messages(rep, s) ? ": " : "",
                           dt_verify_step_messages(rep, s) ? dt_verify_step_message(rep, s, 0) : "");
                    err = DT_ERR_PROOF;
                    break;
                }
        }
        dt_verify_report_destroy(rep);
    }
    dt_record_destroy(rec);
    return err;
}
