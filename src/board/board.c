/* The operator's side of an election's board: publishing the record,
 * checkpoints, witnesses and receipts. */
#define _GNU_SOURCE /* syncfs */
#include <detente/board.h>
#include <detente/hash.h>
#include <detente/log.h>
#include <detente/note.h>
#include <detente/receipt.h>
#include <detente/witness.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "board/board_impl.h"
#include "board/log_impl.h"
#include "util/codec.h"

struct dt_board {
    char *dir;
    dt_log *log;
    dt_note_signer signer;
    char origin[DT_CHECKPOINT_ORIGIN_MAX + 1];
    size_t nw, quorum;
    void (*test_hook)(void *); /* dt_board_test_before_witnesses */
    void *test_arg;
    int light;                 /* in dt_board_publish_light */
    int light_tiles;           /* dt_board_set_light_tiles */
    struct {
        char *where;            /* a witness folder or an http:// URL */
        dt_note_verifier vkey;
    } w[DT_BOARD_MAX_WITNESSES];
};

static int is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0;
}

/* A local witness folder given as a relative path is relative to the record
 * folder (so that a record and its demonstration witnesses move together). */
static char *witness_dir(const char *dir, const char *where)
{
    return where[0] == '/' ? strdup(where) : dt_strdup_printf("%s/%s", dir, where);
}

int dt_board_exists(const char *dir)
{
    char *p = dt_strdup_printf("%s/private_data/board/log.db", dir);
    char *u = dt_strdup_printf("%s/private_data/board/log.location", dir);
    int ok = p && u && (access(p, F_OK) == 0 || access(u, F_OK) == 0);
    free(p);
    free(u);
    return ok;
}

/* The largest log.location: a URI with its parameters. */
#define LOCATION_MAX 4096

dt_err dt_board_log_location(char **out, const char *dir, const char *location)
{
    if (out == NULL || dir == NULL)
        dt_misuse("dt_board_log_location: NULL argument");
    *out = NULL;
    if (location) {
        *out = strdup(location);
        return *out ? DT_OK : DT_ERR_NOMEM;
    }
    char *u = dt_strdup_printf("%s/private_data/board/log.location", dir);
    unsigned char *text = NULL;
    size_t len = 0;
    dt_err err = u ? DT_OK : DT_ERR_NOMEM;
    if (err == DT_OK && access(u, F_OK) != 0) {
        *out = dt_strdup_printf("%s/private_data/board/log.db", dir);
        err = *out ? DT_OK : DT_ERR_NOMEM;
    } else if (err == DT_OK && (err = dt_read_file(&text, &len, u, LOCATION_MAX)) == DT_OK) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
            text[--len] = '\0';
        if (len == 0 || strlen((char *)text) != len || !dt_log_is_pg((char *)text)) {
            err = DT_ERR_INVALID; /* one postgresql:// URI, one line */
        } else {
            *out = (char *)text;
            text = NULL;
        }
    }
    if (text)
        dt_memzero(text, len); /* it may hold a password */
    free(text);
    free(u);
    return err;
}

static dt_err write_text(char **msg, const char *path, const char *text, size_t len, unsigned mode)
{
    dt_err err = dt_write_file_atomic(path, text, len, mode);
    if (err != DT_OK)
        *msg = dt_strdup_printf("%s: cannot write the file", path);
    return err;
}

/* One witness spec: "FOLDER" or "URL VKEY". Fills where and vkey. */
static dt_err witness_spec(char **msg, const char *dir, const char *spec, char **where, dt_note_verifier *v)
{
    if (is_url(spec)) {
        const char *sp = strchr(spec, ' ');
        if (sp == NULL || dt_note_verifier_parse(v, sp + 1, strlen(sp + 1)) != DT_OK) {
            *msg = dt_strdup_printf("witness '%s': give an http:// witness as 'URL VKEY'", spec);
            return DT_ERR_INVALID;
        }
        *where = strndup(spec, (size_t)(sp - spec));
        return *where ? DT_OK : DT_ERR_NOMEM;
    }
    dt_witness *w = NULL;
    char *wd = witness_dir(dir, spec);
    dt_err err = wd ? dt_witness_open(&w, wd) : DT_ERR_NOMEM;
    free(wd);
    if (err != DT_OK) {
        *msg = dt_strdup_printf("witness %s: cannot open the witness folder (%s)", spec, dt_strerror(err));
        return err;
    }
    dt_witness_verifier(w, v);
    dt_witness_close(w);
    *where = strdup(spec);
    return *where ? DT_OK : DT_ERR_NOMEM;
}

dt_err dt_board_init(char **msg, const char *dir, const char *origin, const char *const *witnesses,
                     size_t nwitnesses, size_t quorum)
{
    return dt_board_init_at(msg, dir, NULL, origin, witnesses, nwitnesses, quorum);
}

dt_err dt_board_init_at(char **msg, const char *dir, const char *location, const char *origin,
                        const char *const *witnesses, size_t nwitnesses, size_t quorum)
{
    if (msg == NULL || dir == NULL || origin == NULL || (witnesses == NULL && nwitnesses))
        dt_misuse("dt_board_init: NULL argument");
    *msg = NULL;
    if (location && !dt_log_is_pg(location)) {
        *msg = dt_strdup_printf("--board '%s': a postgresql:// (or postgres://) URI; without it the board's log is "
                                "DIR/private_data/board/log.db", location);
        return DT_ERR_INVALID;
    }
    size_t olen = strlen(origin);
    if (olen == 0 || olen > DT_NOTE_NAME_MAX || strpbrk(origin, " +\n") != NULL) {
        *msg = dt_strdup_printf("origin '%s': 1 to %d printable characters, no space or '+'", origin,
                                DT_NOTE_NAME_MAX);
        return DT_ERR_INVALID;
    }
    if (nwitnesses == 0 || nwitnesses > DT_BOARD_MAX_WITNESSES || quorum == 0 || quorum > nwitnesses) {
        *msg = dt_strdup_printf("a board needs 1 to %d witnesses and a quorum between 1 and their number",
                                DT_BOARD_MAX_WITNESSES);
        return DT_ERR_INVALID;
    }
    if (dt_board_exists(dir)) {
        *msg = dt_strdup_printf("%s already has a board", dir);
        return DT_ERR_INVALID;
    }
    dt_err err = DT_ERR_NOMEM;
    dt_log *log = NULL;
    dt_note_signer s;
    int have_signer = 0;
    char *pdir = dt_strdup_printf("%s/private_data/board", dir), *bdir = dt_strdup_printf("%s/board", dir);
    char *dbp = NULL, *keyp = NULL, *vkp = NULL, *wvp = NULL, *wtext = NULL, *skey = NULL, *locp = NULL;
    size_t wtlen = 0, wvlen = 0;
    char *wvtext = NULL;
    if (!pdir || !bdir)
        goto out;
    dbp = location ? strdup(location) : dt_strdup_printf("%s/log.db", pdir);
    locp = dt_strdup_printf("%s/log.location", pdir);
    keyp = dt_strdup_printf("%s/log.key", pdir);
    vkp = dt_strdup_printf("%s/log.vkey", bdir);
    wvp = dt_strdup_printf("%s/witnesses.vkey", bdir);
    wtext = calloc(nwitnesses, 2 * 4096 + DT_NOTE_VKEY_MAX);
    wvtext = calloc(nwitnesses, DT_NOTE_VKEY_MAX + 1);
    skey = malloc(DT_NOTE_SKEY_MAX);
    if (!dbp || !locp || !keyp || !vkp || !wvp || !wtext || !wvtext || !skey)
        goto out;
    /* The witnesses first: a bad one stops everything before anything is written. */
    for (size_t i = 0; i < nwitnesses; i++) {
        char *where = NULL;
        dt_note_verifier v;
        if ((err = witness_spec(msg, dir, witnesses[i], &where, &v)) != DT_OK)
            goto out;
        char vk[DT_NOTE_VKEY_MAX];
        size_t vl = sizeof vk;
        err = dt_note_verifier_format(vk, &vl, &v);
        if (err == DT_OK && strlen(where) > 4096)
            err = DT_ERR_LIMIT;
        if (err == DT_OK) {
            wtlen += (size_t)sprintf(wtext + wtlen, "%s %s\n", where, vk);
            wvlen += (size_t)sprintf(wvtext + wvlen, "%s\n", vk);
        }
        free(where);
        if (err != DT_OK)
            goto out;
    }
    /* A database must be reachable and hold no board yet, before any key
     * is written (checked again, atomically, when the origin is set). */
    if (location) {
        char *why = NULL;
        unsigned char *o = NULL;
        size_t ol = 0;
        uint64_t size = 0;
        if ((err = dt_log_open_msg(&log, &why, location, 1)) != DT_OK) {
            *msg = dt_strdup_printf("the board's database: cannot open it (%s)%s%s", dt_strerror(err), why ? ": " : "",
                                    why ? why : "");
            free(why);
            goto out;
        }
        if ((err = dt_log_size(log, &size)) == DT_OK && (err = dt_log_meta_get(log, "origin", &o, &ol)) == DT_OK)
            err = DT_ERR_INVALID;
        if (err == DT_ERR_NOT_FOUND && size == 0)
            err = DT_OK;
        else if (err == DT_ERR_INVALID || (err == DT_ERR_NOT_FOUND && size > 0))
            *msg = dt_strdup_printf("the board's database already holds a log%s%.*s: give each board its own "
                                    "database (or schema)", o ? " with origin " : "", (int)ol, o ? (char *)o : "");
        free(o);
        if (err != DT_OK) {
            err = err == DT_ERR_NOT_FOUND ? DT_ERR_INVALID : err;
            goto out;
        }
    }
    if ((err = dt_mkdirs(pdir)) != DT_OK || (err = dt_mkdirs(bdir)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot create the board's folders", dir);
        goto out;
    }
    if ((err = dt_note_signer_generate(&s, origin, olen, DT_NOTE_ED25519)) != DT_OK)
        goto out;
    have_signer = 1;
    size_t sl = DT_NOTE_SKEY_MAX;
    char vk[DT_NOTE_VKEY_MAX];
    size_t vl = sizeof vk;
    dt_note_verifier lv;
    dt_note_signer_verifier(&lv, &s);
    if ((err = dt_note_signer_format(skey, &sl, &s)) != DT_OK || (err = dt_note_verifier_format(vk, &vl, &lv)) != DT_OK)
        goto out;
    /* The log key is written first (O_EXCL on a temp file, 0600), then the
     * store; a board exists once log.db does. */
    skey[sl] = '\n';
    if ((err = write_text(msg, keyp, skey, sl + 1, 0600)) != DT_OK)
        goto out;
    vk[vl] = '\n';
    if ((err = write_text(msg, vkp, vk, vl + 1, 0644)) != DT_OK ||
        (err = write_text(msg, wvp, wvtext, wvlen, 0644)) != DT_OK)
        goto out;
    vk[vl] = '\0';
    /* Register the log with the local witnesses. */
    for (size_t i = 0; i < nwitnesses; i++) {
        if (is_url(witnesses[i]))
            continue;
        dt_witness *w = NULL;
        char *wd = witness_dir(dir, witnesses[i]);
        if ((err = wd ? dt_witness_open(&w, wd) : DT_ERR_NOMEM) == DT_OK)
            err = dt_witness_add_log(w, vk, vl);
        dt_witness_close(w);
        free(wd);
        if (err != DT_OK) {
            *msg = dt_strdup_printf("witness %s: cannot register the log (%s)", witnesses[i], dt_strerror(err));
            goto out;
        }
    }
    char q[32];
    int ql = snprintf(q, sizeof q, "%zu", quorum);
    /* the origin only if none is set: of two boards made at once on one
     * database, one gets it */
    if ((!log && (err = dt_log_open(&log, dbp, 1)) != DT_OK) ||
        (err = dt_log_meta_swap(log, "origin", NULL, 0, origin, olen)) != DT_OK ||
        (err = dt_log_meta_set(log, "witnesses", wtext, wtlen)) != DT_OK ||
        (err = dt_log_meta_set(log, "quorum", q, (size_t)ql)) != DT_OK) {
        if (*msg == NULL)
            *msg = dt_strdup_printf("%s: cannot create the log store (%s)", location ? "the board's database" : dbp,
                                    err == DT_ERR_INVALID && location ? "another board took it meanwhile"
                                                                      : dt_strerror(err));
        dt_log_close(log);
        log = NULL;
        if (!location)
            unlink(dbp);
        goto out;
    }
    /* a board exists once log.db, or log.location, does */
    if (location && (err = write_text(msg, locp, location, strlen(location), 0600)) != DT_OK)
        goto out;
out:
    if (have_signer)
        dt_note_signer_clear(&s);
    if (skey)
        dt_memzero(skey, DT_NOTE_SKEY_MAX);
    dt_log_close(log);
    free(pdir);
    free(bdir);
    free(dbp);
    free(locp);
    free(keyp);
    free(vkp);
    free(wvp);
    free(wtext);
    free(wvtext);
    free(skey);
    if (err != DT_OK && *msg == NULL)
        *msg = dt_strdup_printf("%s: cannot create the board (%s)", dir, dt_strerror(err));
    return err;
}

void dt_board_close(dt_board *b)
{
    if (b == NULL)
        return;
    dt_log_close(b->log);
    dt_note_signer_clear(&b->signer);
    for (size_t i = 0; i < b->nw; i++)
        free(b->w[i].where);
    free(b->dir);
    free(b);
}

dt_err dt_board_open(dt_board **out, char **msg, const char *dir)
{
    return dt_board_open_at(out, msg, dir, NULL);
}

dt_err dt_board_open_at(dt_board **out, char **msg, const char *dir, const char *location)
{
    if (out == NULL || msg == NULL || dir == NULL)
        dt_misuse("dt_board_open: NULL argument");
    *out = NULL;
    *msg = NULL;
    if (!location && !dt_board_exists(dir)) {
        *msg = dt_strdup_printf("%s has no board (create one with 'detente board init')", dir);
        return DT_ERR_NOT_FOUND;
    }
    dt_board *b = calloc(1, sizeof *b);
    char *dbp = NULL, *why = NULL;
    char *keyp = dt_strdup_printf("%s/private_data/board/log.key", dir);
    unsigned char *v = NULL, *key = NULL;
    size_t vlen = 0, klen = 0;
    dt_err err = DT_ERR_NOMEM;
    if (!b || !keyp || !(b->dir = strdup(dir)))
        goto out;
    if ((err = dt_board_log_location(&dbp, dir, location)) != DT_OK) {
        *msg = dt_strdup_printf("%s/private_data/board/log.location: not one postgresql:// URI (%s)", dir,
                                dt_strerror(err));
        goto out;
    }
    if ((err = dt_log_open_msg(&b->log, &why, dbp, 0)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot open the log store (%s)%s%s",
                                dt_log_is_pg(dbp) ? "the board's database" : dbp, dt_strerror(err),
                                why ? ": " : "", why ? why : "");
        goto out;
    }
    if ((err = dt_read_file(&key, &klen, keyp, DT_NOTE_SKEY_MAX + 1)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot read the log's key", keyp);
        goto out;
    }
    while (klen && (key[klen - 1] == '\n'))
        klen--;
    if ((err = dt_note_signer_parse(&b->signer, (const char *)key, klen)) != DT_OK) {
        *msg = dt_strdup_printf("%s: not a signer key", keyp);
        goto out;
    }
    if ((err = dt_log_meta_get(b->log, "origin", &v, &vlen)) != DT_OK || vlen > DT_CHECKPOINT_ORIGIN_MAX)
        goto bad_meta;
    memcpy(b->origin, v, vlen);
    b->origin[vlen] = '\0';
    free(v);
    v = NULL;
    {
        /* the log must be this board's: a location given by hand may name
         * another election's */
        size_t nl = 0;
        dt_note_verifier lv;
        dt_note_signer_verifier(&lv, &b->signer);
        const char *name = dt_note_verifier_name(&lv, &nl);
        if (nl != vlen || memcmp(name, b->origin, nl) != 0) {
            *msg = dt_strdup_printf("the log at %s is the board of '%s', not of this election ('%.*s')",
                                    dt_log_is_pg(dbp) ? "the location given" : dbp, b->origin, (int)nl, name);
            err = DT_ERR_INVALID;
            goto out;
        }
    }
    if ((err = dt_log_meta_get(b->log, "quorum", &v, &vlen)) != DT_OK)
        goto bad_meta;
    b->quorum = strtoul((const char *)v, NULL, 10);
    free(v);
    v = NULL;
    if ((err = dt_log_meta_get(b->log, "witnesses", &v, &vlen)) != DT_OK)
        goto bad_meta;
    for (char *line = (char *)v, *nl; *line && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        char *sp = strrchr(line, ' ');
        if (sp == NULL || b->nw == DT_BOARD_MAX_WITNESSES ||
            dt_note_verifier_parse(&b->w[b->nw].vkey, sp + 1, strlen(sp + 1)) != DT_OK)
            goto bad_meta;
        if ((b->w[b->nw].where = strndup(line, (size_t)(sp - line))) == NULL) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        b->nw++;
    }
    if (b->quorum == 0 || b->quorum > b->nw)
        goto bad_meta;
    err = DT_OK;
    goto out;
bad_meta:
    err = DT_ERR_INVALID;
    *msg = dt_strdup_printf("%s: the board's settings are damaged", dbp);
out:
    if (key)
        dt_memzero(key, klen);
    free(key);
    free(v);
    if (dbp)
        dt_memzero(dbp, strlen(dbp)); /* a URI may hold a password */
    free(dbp);
    free(why);
    free(keyp);
    if (err != DT_OK) {
        dt_board_close(b);
        if (*msg == NULL)
            *msg = dt_strdup_printf("%s: cannot open the board (%s)", dir, dt_strerror(err));
        return err;
    }
    *out = b;
    return DT_OK;
}

/* ---- publishing ---- */

/* Checks that the file already on the board at index is path with content. */
static dt_err same_as_published(dt_board *b, char **msg, uint64_t index, const char *path, const unsigned char *content,
                                size_t len)
{
    unsigned char *data = NULL;
    size_t dlen = 0;
    dt_board_entry e;
    dt_err err = dt_log_entry(b->log, index, &data, &dlen);
    if (err != DT_OK) {
        *msg = dt_strdup_printf("board entry %llu cannot be read (%s)", (unsigned long long)index, dt_strerror(err));
        return err;
    }
    if ((err = dt_board_entry_parse(&e, data, dlen)) != DT_OK) {
        *msg = dt_strdup_printf("board entry %llu is damaged", (unsigned long long)index);
    } else if (e.pathlen != strlen(path) || memcmp(e.path, path, e.pathlen) != 0) {
        *msg = dt_strdup_printf("%s has the confirmation code of entry %llu (%.*s) already on the board", path,
                                (unsigned long long)index, (int)e.pathlen, e.path);
        err = DT_ERR_INVALID;
    } else {
        unsigned char h[32];
        dt_sha256(h, content, len);
        int same = e.is_blob ? (e.blob_size == len && memcmp(e.blob_hash, h, 32) == 0)
                             : (e.bodylen == len && (len == 0 || memcmp(e.body, content, len) == 0));
        if (!same) {
            *msg = dt_strdup_printf("%s changed after it was published as board entry %llu: the board is append-only; "
                                    "restore the published file", path, (unsigned long long)index);
            err = DT_ERR_INVALID;
        }
    }
    free(data);
    return err;
}

/* Writes the blob of an entry beside the tiles, if it is not there yet. */
static dt_err export_blob(dt_board *b, char **msg, const unsigned char hash[32], const unsigned char *content,
                          size_t len)
{
    char hex[65];
    dt_hex_encode_lower(hex, hash, 32);
    char *bdir = dt_strdup_printf("%s/board/blob", b->dir), *p = dt_strdup_printf("%s/board/blob/%s", b->dir, hex);
    dt_err err = DT_ERR_NOMEM;
    if (bdir && p) {
        if (access(p, F_OK) == 0)
            err = DT_OK;
        else if ((err = dt_mkdirs(bdir)) == DT_OK)
            err = dt_write_file_atomic(p, content, len, 0644);
        if (err != DT_OK)
            *msg = dt_strdup_printf("%s: cannot write the blob", p);
    }
    free(bdir);
    free(p);
    return err;
}

typedef struct pending {
    unsigned char **entries;
    size_t *lens;
    unsigned char **keys; /* two an entry: its path's, its code's (NULL if not a ballot) */
    size_t *keylens;
    char **paths;
    size_t n;
} pending;

static void pending_free(pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i]);
        free(p->keys[2 * i]);
        free(p->keys[2 * i + 1]);
    }
    free(p->entries);
    free(p->lens);
    free(p->keys);
    free(p->keylens);
    free(p->paths);
}

/* Reads every public file; those already on the board must be unchanged;
 * the others become pending entries (blobs stored and exported first). */
static dt_err collect(dt_board *b, char **msg, char **paths, size_t n, pending *p)
{
    p->entries = calloc(n ? n : 1, sizeof *p->entries);
    p->lens = calloc(n ? n : 1, sizeof *p->lens);
    p->keys = calloc(n ? 2 * n : 2, sizeof *p->keys);
    p->keylens = calloc(n ? 2 * n : 2, sizeof *p->keylens);
    p->paths = calloc(n ? n : 1, sizeof *p->paths);
    if (!p->entries || !p->lens || !p->keys || !p->keylens || !p->paths)
        return DT_ERR_NOMEM;
    dt_err err = DT_OK;
    for (size_t i = 0; i < n && err == DT_OK; i++) {
        char *full = dt_strdup_printf("%s/%s", b->dir, paths[i]);
        unsigned char *content = NULL, code[DT_BOARD_CODE_BYTES];
        size_t len = 0;
        size_t plen = strlen(paths[i]);
        int ballot = dt_board_is_ballot_path(paths[i], plen);
        unsigned char pkey[DT_BOARD_KEY_MAX], ckey[DT_BOARD_KEY_MAX];
        size_t pklen = dt_board_path_key(pkey, paths[i], plen), cklen = 0;
        uint64_t index;
        if (full == NULL) {
            err = DT_ERR_NOMEM;
        } else if ((err = dt_read_file(&content, &len, full, DT_BOARD_FILE_MAX)) != DT_OK) {
            *msg = err == DT_ERR_LIMIT ? dt_strdup_printf("%s: larger than %u bytes, the most a file of the board "
                                                          "may have",
                                                          full, DT_BOARD_FILE_MAX)
                                       : dt_strdup_printf("%s: cannot read the file (%s)", full, dt_strerror(err));
        } else {
            /* A path is published once: the same bytes again are nothing new,
             * other bytes are a change the board refuses. A ballot's code is
             * published once too (read only from a ballot not yet on the
             * board: a close reads every ballot file once). */
            err = dt_log_find(b->log, pkey, pklen, &index);
            if (err == DT_OK) {
                err = same_as_published(b, msg, index, paths[i], content, len);
            } else if (err == DT_ERR_NOT_FOUND && ballot && dt_board_ballot_code(code, content, len) != DT_OK) {
                *msg = dt_strdup_printf("%s: an encrypted ballot without a valid confirmation_code", full);
                err = DT_ERR_PARSE;
            } else if (err == DT_ERR_NOT_FOUND && ballot) {
                cklen = dt_board_code_key(ckey, code);
                err = dt_log_find(b->log, ckey, cklen, &index);
                if (err == DT_OK) {
                    *msg = dt_strdup_printf("%s has the confirmation code of board entry %llu, another ballot",
                                            paths[i], (unsigned long long)index);
                    err = DT_ERR_INVALID;
                }
            }
            if (err == DT_ERR_NOT_FOUND) {
                unsigned char h[32];
                int blob = 0;
                size_t k = p->n;
                err = dt_board_entry_format(&p->entries[k], &p->lens[k], paths[i], ballot ? code : NULL, content, len,
                                            h, &blob);
                if (err == DT_OK && blob) {
                    if ((err = dt_log_blob_put(b->log, h, content, len)) != DT_OK)
                        *msg = dt_strdup_printf("%s: cannot store the blob (%s)", full, dt_strerror(err));
                    else
                        err = export_blob(b, msg, h, content, len);
                }
                if (err == DT_OK && ((p->keys[2 * k] = malloc(pklen)) == NULL ||
                                     (cklen && (p->keys[2 * k + 1] = malloc(cklen)) == NULL)))
                    err = DT_ERR_NOMEM;
                if (err == DT_OK) {
                    memcpy(p->keys[2 * k], pkey, pklen);
                    p->keylens[2 * k] = pklen;
                    if (cklen) {
                        memcpy(p->keys[2 * k + 1], ckey, cklen);
                        p->keylens[2 * k + 1] = cklen;
                    }
                    p->paths[k] = paths[i];
                    p->n++;
                } else {
                    free(p->entries[k]);
                    free(p->keys[2 * k]);
                    free(p->keys[2 * k + 1]);
                    p->entries[k] = p->keys[2 * k] = p->keys[2 * k + 1] = NULL;
                }
            } else if (err != DT_OK && *msg == NULL) {
                *msg = dt_strdup_printf("the log store cannot be read (%s)", dt_strerror(err));
            }
        }
        free(content);
        free(full);
    }
    return err;
}

/* The signed (not yet cosigned) checkpoint of the log at size. */
static dt_err sign_checkpoint(dt_board *b, char *note, size_t *notelen, uint64_t size)
{
    unsigned char root[32];
    char body[DT_CHECKPOINT_ORIGIN_MAX + 128];
    size_t blen = sizeof body;
    dt_err err = dt_log_root(b->log, size, root);
    if (err == DT_OK)
        err = dt_checkpoint_format(body, &blen, b->origin, strlen(b->origin), size, root, NULL, 0);
    const dt_note_signer *s = &b->signer;
    if (err == DT_OK)
        err = dt_note_sign(note, notelen, body, blen, &s, 1);
    return err;
}

static dt_err meta_u64(dt_log *log, const char *key, uint64_t *v)
{
    unsigned char *val = NULL;
    size_t len;
    dt_err err = dt_log_meta_get(log, key, &val, &len);
    if (err == DT_OK)
        *v = strtoull((const char *)val, NULL, 10);
    free(val);
    return err;
}

/* Asks witness i to cosign note (of the log at size); on success appends its
 * cosignature line(s) to sigs. why says what went wrong. */
static dt_err ask_witness(dt_board *b, size_t i, const char *note, size_t notelen, uint64_t size, char *sigs,
                          size_t *siglen, size_t sigcap, char *why, size_t whycap)
{
    char key[32];
    snprintf(key, sizeof key, "witness.%zu.size", i);
    uint64_t old = 0;
    if (meta_u64(b->log, key, &old) != DT_OK)
        old = 0;
    dt_err err = DT_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        unsigned char proof[DT_MERKLE_MAX_PROOF][DT_MERKLE_HASH_BYTES];
        size_t plen = DT_MERKLE_MAX_PROOF;
        char *req = NULL, *resp = NULL;
        size_t reqlen = 0, resplen = 0;
        int status = 0;
        if (old > size) {
            /* another publisher of this log went ahead (publish asks again
             * at the log's new size) */
            snprintf(why, whycap, "it has cosigned a newer checkpoint (%llu entries) than this one",
                     (unsigned long long)old);
            return DT_ERR_RANGE;
        }
        if (old == 0 || old == size)
            plen = 0;
        else if ((err = dt_log_consistency_proof(b->log, proof, &plen, old, size)) != DT_OK) {
            snprintf(why, whycap, "no consistency proof from %llu (%s)", (unsigned long long)old, dt_strerror(err));
            return err;
        }
        if ((err = dt_witness_request_format(&req, &reqlen, old, proof, plen, note, notelen)) != DT_OK)
            return err;
        if (is_url(b->w[i].where)) {
            char *url = dt_strdup_printf("%s/add-checkpoint", b->w[i].where);
            err = url ? dt_http_post(url, req, reqlen, &status, &resp, &resplen, 10000) : DT_ERR_NOMEM;
            free(url);
            if (err != DT_OK)
                snprintf(why, whycap, "unreachable (%s)", dt_strerror(err));
        } else {
            dt_witness *w = NULL;
            dt_witness_response r;
            memset(&r, 0, sizeof r);
            char *wd = witness_dir(b->dir, b->w[i].where);
            char *vflag = wd ? dt_strdup_printf("%s/verify", wd) : NULL;
            char *mirror = wd ? dt_strdup_printf("%s/mirror", wd) : NULL;
            char *tiles = dt_strdup_printf("%s/board", b->dir);
            dt_board_witness_check_arg ca = {tiles, mirror};
            err = wd && vflag && mirror && tiles ? dt_witness_open(&w, wd) : DT_ERR_NOMEM;
            /* A witness folder holding a file named "verify" is a verifying
             * witness: it checks the record on the board before it cosigns. */
            if (err == DT_OK && access(vflag, F_OK) == 0)
                dt_witness_set_check(w, dt_board_witness_check, &ca);
            free(wd);
            free(vflag);
            if (err != DT_OK) {
                snprintf(why, whycap, "cannot open its folder (%s)", dt_strerror(err));
            } else if ((err = dt_witness_add_checkpoint(w, req, reqlen, (uint64_t)time(NULL), &r)) == DT_OK) {
                status = r.status;
                resp = r.body;
                resplen = r.len;
                r.body = NULL;
                if (status != 200)
                    snprintf(why, whycap, "%d: %s", status, r.why);
            }
            dt_witness_response_free(&r);
            dt_witness_close(w);
            free(mirror);
            free(tiles);
        }
        free(req);
        if (err != DT_OK) {
            free(resp);
            return err;
        }
        if (status == 409 && attempt == 0 && resp != NULL) {
            /* The witness knows another size: ask again from there. */
            char num[24], *end = NULL;
            size_t nl = resplen < sizeof num - 1 ? resplen : sizeof num - 1;
            memcpy(num, resp, nl);
            num[nl] = '\0';
            free(resp);
            errno = 0;
            unsigned long long known = strtoull(num, &end, 10);
            if (errno || end == num || (*end != '\0' && *end != '\n')) {
                snprintf(why, whycap, "answered 409 without a size");
                return DT_ERR_ENCODING;
            }
            old = known;
            continue;
        }
        if (status != 200) {
            if (is_url(b->w[i].where))
                snprintf(why, whycap, "refused with %d: %.*s", status, (int)(resplen > 200 ? 200 : resplen),
                         resp ? resp : "");
            free(resp);
            return DT_ERR_PROOF;
        }
        /* Keep only cosignature lines by this witness's key. */
        size_t nl;
        const char *wname = dt_note_verifier_name(&b->w[i].vkey, &nl);
        int got = 0;
        for (size_t at = 0; at < resplen;) {
            const char *line = resp + at, *e = memchr(line, '\n', resplen - at);
            size_t ll = e ? (size_t)(e - line) + 1 : resplen - at;
            if (ll > 4 + nl && memcmp(line, "\xe2\x80\x94 ", 4) == 0 && memcmp(line + 4, wname, nl) == 0 &&
                line[4 + nl] == ' ' && e != NULL && *siglen + ll < sigcap && notelen + ll < DT_NOTE_MAX_BYTES) {
                /* Count it only if it verifies: the checkpoint with this line
                 * alone, opened against the witness's key. */
                char *one = malloc(notelen + ll);
                size_t tl;
                unsigned char okw = 0;
                if (one != NULL) {
                    memcpy(one, note, notelen);
                    memcpy(one + notelen, line, ll);
                    if (dt_note_open(&tl, &okw, NULL, one, notelen + ll, &b->w[i].vkey, 1) == DT_OK && okw &&
                        dt_note_verifier_type(&b->w[i].vkey) == DT_NOTE_COSIG) {
                        memcpy(sigs + *siglen, line, ll);
                        *siglen += ll;
                        got = 1;
                    }
                    free(one);
                }
            }
            at += ll;
        }
        free(resp);
        if (!got) {
            snprintf(why, whycap, "answered 200 without a valid cosignature by its key");
            return DT_ERR_PROOF;
        }
        char v[32];
        int vl = snprintf(v, sizeof v, "%llu", (unsigned long long)size);
        return dt_log_meta_set(b->log, key, v, (size_t)vl);
    }
    snprintf(why, whycap, "disagrees twice about the size it knows");
    return DT_ERR_PROOF;
}

/* The size a signed checkpoint note names (its second line). */
static dt_err note_size(const unsigned char *note, size_t len, uint64_t *size)
{
    const unsigned char *nl = memchr(note, '\n', len), *end;
    char num[24];
    if (!nl || !(end = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - note))) || end - nl - 1 < 1 ||
        end - nl - 1 > 20)
        return DT_ERR_ENCODING;
    memcpy(num, nl + 1, (size_t)(end - nl - 1));
    num[end - nl - 1] = '\0';
    if (strspn(num, "0123456789") != strlen(num))
        return DT_ERR_ENCODING;
    errno = 0;
    *size = strtoull(num, NULL, 10);
    return errno ? DT_ERR_ENCODING : DT_OK;
}

/* The latest cosigned checkpoint in the log store, and its size. */
static dt_err stored_checkpoint(dt_board *b, unsigned char **note, size_t *len, uint64_t *size)
{
    dt_err err = dt_log_meta_get(b->log, "checkpoint", note, len);
    if (err == DT_OK && (err = note_size(*note, *len, size)) != DT_OK) {
        free(*note);
        *note = NULL;
    }
    return err;
}

/* 1 if a witness of this board is a folder holding a file named "verify":
 * a verifying witness in this process, which reads the tiles from the
 * folder (ask_witness). */
static int local_verifier(const dt_board *b)
{
    int found = 0;
    for (size_t i = 0; i < b->nw && !found; i++) {
        if (is_url(b->w[i].where))
            continue;
        char *wd = witness_dir(b->dir, b->w[i].where), *v = wd ? dt_strdup_printf("%s/verify", wd) : NULL;
        found = v == NULL || access(v, F_OK) == 0; /* out of memory: as if there were one */
        free(wd);
        free(v);
    }
    return found;
}

/* The tiles of a checkpoint of size entries, into bdir. The light publish
 * (the election server's, every few seconds) writes none: the entry
 * bundles are every entry's bytes again (a ballot is 16.7 KB), the hash
 * tiles' writes are a few hundred small fsyncs on the disk the ballots
 * wait for, and the server serves them all from the log (dt_board_tile).
 * A full publish writes them, as does the light one when a witness in
 * this process verifies (it reads them from the folder). */
static dt_err export_tiles(dt_board *b, const char *bdir, uint64_t size)
{
    if (b->light && !b->light_tiles && !local_verifier(b))
        return DT_OK;
    return dt_log_export_tiles(b->log, bdir, size);
}

/* Makes the cosigned note (of size entries) the board's checkpoint, unless
 * a checkpoint of that size or more is already stored (another publisher's:
 * it stays, and DIR/board/checkpoint gets it if it has less). Stored means:
 * in the log store by compare and swap, so that concurrent publishers on
 * any machine only move it forward, then in DIR/board/checkpoint, written
 * under an exclusive lock of private_data/board/publish.lock, so that the
 * publishers sharing this folder write it in that order too. The tiles of
 * the size exported are there; another size's are exported first (none by
 * a light publish: export_tiles). *newer
 * is set if a newer checkpoint than note was found. */
static dt_err store_checkpoint(dt_board *b, char **msg, const char *note, size_t notelen, uint64_t size,
                               uint64_t exported, int *newer)
{
    char *lockp = dt_strdup_printf("%s/private_data/board/publish.lock", b->dir);
    char *cpp = dt_strdup_printf("%s/board/checkpoint", b->dir), *bdir = dt_strdup_printf("%s/board", b->dir);
    unsigned char *cur = NULL, *file = NULL;
    size_t curlen = 0, filelen = 0;
    uint64_t cursize = 0, filesize = 0;
    int fd = -1;
    dt_err err = DT_ERR_NOMEM;
    *newer = 0;
    if (!lockp || !cpp || !bdir)
        goto out;
    err = DT_ERR_IO;
    if ((fd = open(lockp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) != 0) {
        *msg = dt_strdup_printf("%s: cannot lock it", lockp);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        free(cur);
        cur = NULL;
        err = stored_checkpoint(b, &cur, &curlen, &cursize);
        if (err == DT_OK && cursize >= size) {
            *newer = cursize > size;
            break; /* as new or newer there already */
        }
        if (err != DT_OK && err != DT_ERR_NOT_FOUND)
            goto out;
        err = dt_log_meta_swap(b->log, "checkpoint", cur, err == DT_OK ? curlen : 0, note, notelen);
        if (err == DT_OK) {
            free(cur);
            if (!(cur = malloc(notelen))) {
                err = DT_ERR_NOMEM;
                goto out;
            }
            memcpy(cur, note, notelen);
            curlen = notelen;
            cursize = size;
            break;
        }
        if (err != DT_ERR_INVALID || attempt == 10) /* INVALID: another publisher stored one meanwhile */
            goto out;
    }
    /* the folder's copy: never older than what it has */
    int folder_has = dt_read_file(&file, &filelen, cpp, DT_NOTE_MAX_BYTES) == DT_OK &&
                     note_size(file, filelen, &filesize) == DT_OK &&
                     (filesize > cursize || (filesize == cursize && filelen == curlen && memcmp(file, cur, curlen) == 0));
    /* A checkpoint stored by a publisher on another machine needs its tiles
     * here; a full publish also writes the entry bundles that the light
     * publishes before it left out, even when the checkpoint is the same. */
    if (cursize != exported && (!folder_has || !b->light) && (err = export_tiles(b, bdir, cursize)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot write the tiles (%s)", bdir, dt_strerror(err));
        goto out;
    }
    if (folder_has) {
        err = DT_OK;
        goto out;
    }
    if ((err = dt_write_file_atomic(cpp, cur, curlen, 0644)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot write the checkpoint", cpp);
        goto out;
    }
    char v[32];
    int vl = snprintf(v, sizeof v, "%llu", (unsigned long long)cursize);
    err = dt_log_meta_set(b->log, "checkpoint.size", v, (size_t)vl); /* kept for older readers */
out:
    if (fd >= 0)
        close(fd); /* and the lock with it */
    free(cur);
    free(file);
    free(lockp);
    free(cpp);
    free(bdir);
    return err;
}

/* ---- the ballots' files, written from the log ----
 *
 * The election server puts a ballot on the log only, where one flush of the
 * log makes it durable; its file in the folder is written from its entry
 * here (dt_board_restore), when the board is published (detente close
 * publishes first). private_data/board/files.synced holds "SIZE ORIGIN": a
 * log size below which every ballot entry's file is on disk in this
 * folder, and the log it is of. */

static char *synced_path(const char *dir)
{
    return dt_strdup_printf("%s/private_data/board/files.synced", dir);
}

/* The recorded size; *have 0 if there is no mark, or it is another log's
 * (*have -1). */
static dt_err files_synced_get(const dt_board *b, uint64_t *upto, int *have)
{
    char *p = synced_path(b->dir), *end = NULL;
    unsigned char *t = NULL;
    size_t len = 0, olen = strlen(b->origin);
    int missing;
    dt_err err;
    *upto = 0;
    *have = 0;
    if (!p)
        return DT_ERR_NOMEM;
    errno = 0;
    err = dt_read_file(&t, &len, p, 64 + DT_CHECKPOINT_ORIGIN_MAX);
    missing = err == DT_ERR_IO && errno == ENOENT;
    free(p);
    if (missing)
        return DT_OK;
    if (err != DT_OK)
        return err;
    errno = 0;
    *upto = strtoull((const char *)t, &end, 10);
    *have = !errno && end != (char *)t && *end == ' ' && (size_t)((char *)t + len - (end + 1)) == olen + 1 &&
                    memcmp(end + 1, b->origin, olen) == 0 && end[1 + olen] == '\n'
                ? 1
                : -1;
    free(t);
    return DT_OK;
}

/* Records upto as the mark, after a syncfs of dir_fd (b's folder; -1:
 * none, for the mark 0, which promises nothing: its folder is synced
 * instead, so that it is on disk before any file it covers is written). */
static dt_err files_mark(const dt_board *b, int dir_fd, uint64_t upto)
{
    char *p, *text;
    dt_err err;
    if (dir_fd >= 0 && syncfs(dir_fd) != 0)
        return DT_ERR_IO;
    p = synced_path(b->dir);
    text = dt_strdup_printf("%llu %s\n", (unsigned long long)upto, b->origin);
    err = p && text ? dt_write_file_atomic(p, text, strlen(text), 0644) : DT_ERR_NOMEM;
    if (err == DT_OK && dir_fd < 0)
        err = dt_sync_parent(p);
    free(p);
    free(text);
    return err;
}

/* full (a ballot's file in the record) written with body: a hidden
 * temporary file beside it (the board's listing skips it, and a crash
 * leaves nothing it refuses), renamed over it; flushed by the caller's
 * syncfs. */
static dt_err rewrite_file(const char *full, const unsigned char *body, size_t len)
{
    char *tmp = NULL;
    dt_err err = dt_write_temp_beside(&tmp, full, "restore", body, len);
    if (err == DT_OK && rename(tmp, full) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        err = DT_ERR_IO;
    }
    free(tmp);
    return err;
}

dt_err dt_board_restore(dt_board *b, char **msg, size_t *restored, uint64_t *marked)
{
    uint64_t from = 0, size = 0;
    size_t n = 0;
    int fd = -1, have = 0;
    dt_err err;
    if (b == NULL || msg == NULL)
        dt_misuse("dt_board_restore: NULL argument");
    *msg = NULL;
    if (restored)
        *restored = 0;
    if (marked)
        *marked = 0;
    if ((err = files_synced_get(b, &from, &have)) != DT_OK) {
        *msg = dt_strdup_printf("%s/private_data/board/files.synced cannot be read (%s)", b->dir, dt_strerror(err));
        return err;
    }
    if ((err = dt_log_size(b->log, &size)) != DT_OK) {
        *msg = dt_strdup_printf("the log store cannot be read (%s)", dt_strerror(err));
        return err;
    }
    if (have == 1 && from == size) {
        if (marked)
            *marked = size;
        return DT_OK;
    }
    if (have != 1 || from > size) {
        /* no mark, or not this log's: every entry, from a mark of 0 for
         * this log recorded first (a run cut short is then followed by the
         * same full comparison) */
        if ((err = files_mark(b, -1, 0)) != DT_OK) {
            *msg = dt_strdup_printf("%s/private_data/board/files.synced cannot be written (%s)", b->dir,
                                    dt_strerror(err));
            return err;
        }
        from = 0;
    }
    for (uint64_t i = from; i < size && err == DT_OK; i++) {
        unsigned char *data = NULL;
        size_t dlen = 0;
        dt_board_entry e;
        char *path = NULL, *full = NULL;
        struct stat st;
        if ((err = dt_log_entry(b->log, i, &data, &dlen)) != DT_OK) {
            *msg = dt_strdup_printf("board entry %llu cannot be read (%s)", (unsigned long long)i, dt_strerror(err));
        } else if (dt_board_entry_parse(&e, data, dlen) != DT_OK || !dt_board_path_valid(e.path, e.pathlen)) {
            *msg = dt_strdup_printf("board entry %llu is damaged", (unsigned long long)i);
            err = DT_ERR_PARSE;
        } else if (!e.is_blob && dt_board_is_ballot_path(e.path, e.pathlen)) {
            /* only ballots: the one kind of file written from its entry
             * (the election server's ballots are on the log only) */
            int missing, damaged = 0;
            path = strndup(e.path, e.pathlen);
            full = path ? dt_strdup_printf("%s/%s", b->dir, path) : NULL;
            if (!full) {
                err = DT_ERR_NOMEM;
            } else if (!(missing = lstat(full, &st) != 0) ||
                       errno == ENOENT) { /* else: cannot be looked at, an error */
                /* from the mark on, a file that is not the entry's bytes is
                 * what a crash leaves (cut short, or zeros): the log holds
                 * what was acknowledged */
                if (!missing)
                    damaged = !dt_file_equals(full, e.body, e.bodylen);
                if (missing || damaged) {
                    if ((err = rewrite_file(full, e.body, e.bodylen)) != DT_OK)
                        *msg = dt_strdup_printf("%s: cannot write the file of board entry %llu again (%s)", full,
                                                (unsigned long long)i, strerror(errno));
                    else
                        n++;
                }
            } else {
                err = DT_ERR_IO;
                *msg = dt_strdup_printf("%s: cannot be looked at (%s)", full, strerror(errno));
            }
        }
        free(full);
        free(path);
        free(data);
    }
    if (err == DT_OK) {
        if ((fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            (err = files_mark(b, fd, size)) != DT_OK) {
            err = err != DT_OK ? err : DT_ERR_IO;
            *msg = dt_strdup_printf("%s: cannot make the record's files durable (%s)", b->dir, strerror(errno));
        }
        if (fd >= 0)
            close(fd);
        if (err == DT_OK && marked)
            *marked = size;
    }
    if (restored)
        *restored = n;
    return err;
}

/* The end of a publish: signs the log's size, asks the witnesses, and
 * stores the checkpoint if the quorum cosigned (dt_board_publish). *ok gets
 * the number of witnesses that cosigned. */
static dt_err sign_and_cosign(dt_board *b, char **msg, size_t *okp)
{
    char *note = malloc(DT_NOTE_MAX_BYTES), *sigs = malloc(DT_NOTE_MAX_BYTES), *whys = calloc(1, 4096);
    char *bdir = dt_strdup_printf("%s/board", b->dir);
    size_t notelen = DT_NOTE_MAX_BYTES, siglen = 0, wl = 0, ok = 0;
    uint64_t size = 0, last = 0;
    unsigned char *stored = NULL;
    size_t storedlen = 0;
    int newer = 0;
    dt_err err = DT_ERR_NOMEM;
    if (!note || !sigs || !whys || !bdir)
        goto out;
    /* Sign the log's size and ask the witnesses. A witness that has
     * cosigned a newer checkpoint (another publisher of this log went
     * ahead) means: sign again at the log's new size. */
    for (int round = 0;; round++) {
        int ahead = 0;
        if ((err = dt_log_size(b->log, &size)) != DT_OK)
            goto out;
        if (size == 0) {
            *msg = dt_strdup_printf("%s: the record has no public file to publish", b->dir);
            err = DT_ERR_INVALID;
            goto out;
        }
        free(stored);
        stored = NULL;
        last = 0;
        if (stored_checkpoint(b, &stored, &storedlen, &last) != DT_OK)
            last = 0; /* none yet (or unreadable: the checks below see it) */
        else if (last >= size) {
            /* nothing new, or a newer checkpoint (another publisher's) covers it */
            ok = b->quorum;
            err = store_checkpoint(b, msg, (const char *)stored, storedlen, last, 0, &newer);
            goto out;
        }
        if ((err = export_tiles(b, bdir, size)) != DT_OK ||
            /* and the tiles of the folder's checkpoint, which light
             * publishes left to the log: if the witnesses refuse this one,
             * that checkpoint stays, and a folder's checkpoint has its tiles
             * after a full publish (full tiles are kept: only partial ones
             * are written) */
            (!b->light && last > 0 && last < size && (err = export_tiles(b, bdir, last)) != DT_OK)) {
            *msg = dt_strdup_printf("%s: cannot write the tiles (%s)", bdir, dt_strerror(err));
            goto out;
        }
        notelen = DT_NOTE_MAX_BYTES;
        siglen = wl = ok = 0;
        whys[0] = '\0';
        if ((err = sign_checkpoint(b, note, &notelen, size)) != DT_OK)
            goto out;
        if (b->test_hook)
            b->test_hook(b->test_arg);
        for (size_t i = 0; i < b->nw; i++) {
            char why[512] = "";
            dt_err e = ask_witness(b, i, note, notelen, size, sigs, &siglen, DT_NOTE_MAX_BYTES, why, sizeof why);
            if (e == DT_OK) {
                ok++;
            } else {
                ahead |= e == DT_ERR_RANGE;
                if (wl + strlen(b->w[i].where) + strlen(why) + 16 < 4096) {
                    if (why[0] == '\0')
                        snprintf(why, sizeof why, "%s", dt_strerror(e));
                    wl += (size_t)sprintf(whys + wl, "; %s: %s", b->w[i].where, why);
                }
            }
        }
        if (ok >= b->quorum)
            break;
        if (!ahead || round == 4) {
            *msg = dt_strdup_printf("only %zu of %zu witnesses cosigned the checkpoint of %llu entries (quorum %zu)%s",
                                    ok, b->nw, (unsigned long long)size, b->quorum, whys);
            err = DT_ERR_PROOF;
            goto out;
        }
    }
    if (notelen + siglen >= DT_NOTE_MAX_BYTES) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    memcpy(note + notelen, sigs, siglen);
    notelen += siglen;
    if ((err = store_checkpoint(b, msg, note, notelen, size, size, &newer)) != DT_OK)
        goto out;
    if (ok < b->nw)
        *msg = dt_strdup_printf("%zu of %zu witnesses did not cosign the checkpoint of %llu entries%s", b->nw - ok, b->nw,
                                (unsigned long long)size, whys);
out:
    *okp = ok;
    free(stored);
    free(note);
    free(sigs);
    free(whys);
    free(bdir);
    return err;
}

/* dt_board_publish; ballots 0: dt_board_publish_light */
static dt_err publish(dt_board *b, char **msg, size_t *added, size_t *cosigned, int ballots)
{
    *msg = NULL;
    if (added)
        *added = 0;
    if (cosigned)
        *cosigned = 0;
    char **paths = NULL;
    size_t n = 0, ok = 0;
    pending p;
    memset(&p, 0, sizeof p);
    dt_err err;
    /* the ballots' files first: the election server puts ballots on the
     * log only, and their files are written here, from the log */
    if (ballots && (err = dt_board_restore(b, msg, NULL, NULL)) != DT_OK)
        goto out;
    /* Another process may append some of these files first (an election
     * server, another publisher): the append then refuses the batch, and
     * the files are listed again (those now on the board are checked byte
     * for byte, as any published file). */
    for (int attempt = 0;; attempt++) {
        if ((err = dt_board_list_files_opt(&paths, &n, msg, b->dir, ballots)) != DT_OK ||
            (err = collect(b, msg, paths, n, &p)) != DT_OK)
            goto out;
        for (size_t at = 0; at < p.n && err == DT_OK; at += DT_LOG_BATCH_MAX) {
            size_t k = p.n - at < DT_LOG_BATCH_MAX ? p.n - at : DT_LOG_BATCH_MAX, dup = 0;
            err = dt_log_append_multikeyed(b->log, (const unsigned char *const *)p.entries + at, p.lens + at,
                                           (const unsigned char *const *)p.keys + 2 * at, p.keylens + 2 * at, 2, k,
                                           NULL, &dup);
            if (err == DT_ERR_INVALID && attempt == 2) {
                *msg = dt_strdup_printf(
                    "%s: its confirmation code or path is already on the board, or twice in the record",
                    dup < k ? p.paths[at + dup] : "a file");
                goto out;
            } else if (err != DT_OK && err != DT_ERR_INVALID) {
                *msg = dt_strdup_printf("the log store refused the entries (%s: %s); nothing of this batch was stored",
                                        dt_strerror(err), dt_log_errmsg(b->log));
                goto out;
            }
            if (err == DT_OK && added)
                *added += k;
        }
        if (err == DT_OK)
            break;
        pending_free(&p);
        memset(&p, 0, sizeof p);
        dt_board_free_paths(paths, n);
        paths = NULL;
        n = 0;
    }
    err = sign_and_cosign(b, msg, &ok);
out:
    if (cosigned)
        *cosigned = ok;
    if (err != DT_OK && *msg == NULL)
        *msg = dt_strdup_printf("%s: cannot publish the board (%s)", b->dir, dt_strerror(err));
    pending_free(&p);
    dt_board_free_paths(paths, n);
    return err;
}

dt_err dt_board_publish(dt_board *b, char **msg, size_t *added, size_t *cosigned)
{
    if (b == NULL || msg == NULL)
        dt_misuse("dt_board_publish: NULL argument");
    return publish(b, msg, added, cosigned, 1);
}

dt_err dt_board_publish_light(dt_board *b, char **msg, size_t *added, size_t *cosigned)
{
    if (b == NULL || msg == NULL)
        dt_misuse("dt_board_publish_light: NULL argument");
    b->light = 1;
    dt_err err = publish(b, msg, added, cosigned, 0);
    b->light = 0;
    return err;
}

void dt_board_set_light_tiles(dt_board *b, int write)
{
    if (b == NULL)
        dt_misuse("dt_board_set_light_tiles: NULL board");
    b->light_tiles = write != 0;
}

dt_err dt_board_tile(dt_board *b, unsigned level, uint64_t index, unsigned width, unsigned char **data, size_t *len)
{
    if (b == NULL || data == NULL || len == NULL)
        dt_misuse("dt_board_tile: NULL argument");
    return dt_log_tile(b->log, level, index, width, data, len);
}

void dt_board_test_before_witnesses(dt_board *b, void (*fn)(void *arg), void *arg)
{
    b->test_hook = fn;
    b->test_arg = arg;
}

dt_err dt_board_receipt(dt_board *b, char **msg, const unsigned char code[DT_BOARD_CODE_BYTES], char **receipt,
                        size_t *len)
{
    if (b == NULL || msg == NULL || code == NULL || receipt == NULL || len == NULL)
        dt_misuse("dt_board_receipt: NULL argument");
    *msg = NULL;
    *receipt = NULL;
    *len = 0;
    unsigned char key[DT_BOARD_KEY_MAX], *entry = NULL, *note = NULL;
    size_t elen = 0, notelen = 0;
    uint64_t index, size = 0;
    unsigned char proof[DT_MERKLE_MAX_PROOF][DT_MERKLE_HASH_BYTES];
    size_t plen = DT_MERKLE_MAX_PROOF;
    size_t klen = dt_board_code_key(key, code);
    dt_err err = dt_log_find(b->log, key, klen, &index);
    if (err == DT_ERR_NOT_FOUND) {
        *msg = dt_strdup_printf("no ballot with this confirmation code is on the board");
        return err;
    }
    /* the size from the note itself: another publisher may replace the
     * stored checkpoint at any moment */
    if (err == DT_OK && (err = stored_checkpoint(b, &note, &notelen, &size)) == DT_OK && index >= size) {
        *msg = dt_strdup_printf("the ballot is on the board (entry %llu) but not yet in a cosigned checkpoint; "
                                "publish the board and ask again", (unsigned long long)index);
        free(note);
        return DT_ERR_NOT_FOUND;
    }
    if (err == DT_ERR_NOT_FOUND) {
        *msg = dt_strdup_printf("the board has no cosigned checkpoint yet");
        return err;
    }
    if (err == DT_OK && (err = dt_log_entry(b->log, index, &entry, &elen)) == DT_OK &&
        (err = dt_log_inclusion_proof(b->log, proof, &plen, index, size)) == DT_OK)
        err = dt_receipt_format(receipt, len, entry, elen, index, proof, plen, (const char *)note, notelen);
    if (err != DT_OK && *msg == NULL)
        *msg = dt_strdup_printf("cannot make the receipt (%s)", dt_strerror(err));
    free(entry);
    free(note);
    return err;
}
