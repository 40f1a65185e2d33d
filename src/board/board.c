/* The operator's side of an election's board: publishing the record,
 * checkpoints, witnesses and receipts. */
#include <detente/board.h>
#include <detente/hash.h>
#include <detente/log.h>
#include <detente/note.h>
#include <detente/receipt.h>
#include <detente/witness.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "board/board_impl.h"
#include "util/codec.h"

struct dt_board {
    char *dir;
    dt_log *log;
    dt_note_signer signer;
    char origin[DT_CHECKPOINT_ORIGIN_MAX + 1];
    size_t nw, quorum;
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
    int ok = p && access(p, F_OK) == 0;
    free(p);
    return ok;
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
    if (msg == NULL || dir == NULL || origin == NULL || (witnesses == NULL && nwitnesses))
        dt_misuse("dt_board_init: NULL argument");
    *msg = NULL;
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
    char *dbp = NULL, *keyp = NULL, *vkp = NULL, *wvp = NULL, *wtext = NULL, *skey = NULL;
    size_t wtlen = 0, wvlen = 0;
    char *wvtext = NULL;
    if (!pdir || !bdir)
        goto out;
    dbp = dt_strdup_printf("%s/log.db", pdir);
    keyp = dt_strdup_printf("%s/log.key", pdir);
    vkp = dt_strdup_printf("%s/log.vkey", bdir);
    wvp = dt_strdup_printf("%s/witnesses.vkey", bdir);
    wtext = calloc(nwitnesses, 2 * 4096 + DT_NOTE_VKEY_MAX);
    wvtext = calloc(nwitnesses, DT_NOTE_VKEY_MAX + 1);
    skey = malloc(DT_NOTE_SKEY_MAX);
    if (!dbp || !keyp || !vkp || !wvp || !wtext || !wvtext || !skey)
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
    if ((err = dt_log_open(&log, dbp, 1)) != DT_OK || (err = dt_log_meta_set(log, "origin", origin, olen)) != DT_OK ||
        (err = dt_log_meta_set(log, "witnesses", wtext, wtlen)) != DT_OK ||
        (err = dt_log_meta_set(log, "quorum", q, (size_t)ql)) != DT_OK) {
        if (*msg == NULL)
            *msg = dt_strdup_printf("%s: cannot create the log store (%s)", dbp, dt_strerror(err));
        dt_log_close(log);
        log = NULL;
        unlink(dbp);
        goto out;
    }
out:
    if (have_signer)
        dt_note_signer_clear(&s);
    if (skey)
        dt_memzero(skey, DT_NOTE_SKEY_MAX);
    dt_log_close(log);
    free(pdir);
    free(bdir);
    free(dbp);
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
    if (out == NULL || msg == NULL || dir == NULL)
        dt_misuse("dt_board_open: NULL argument");
    *out = NULL;
    *msg = NULL;
    if (!dt_board_exists(dir)) {
        *msg = dt_strdup_printf("%s has no board (create one with 'detente board init')", dir);
        return DT_ERR_NOT_FOUND;
    }
    dt_board *b = calloc(1, sizeof *b);
    char *dbp = dt_strdup_printf("%s/private_data/board/log.db", dir);
    char *keyp = dt_strdup_printf("%s/private_data/board/log.key", dir);
    unsigned char *v = NULL, *key = NULL;
    size_t vlen = 0, klen = 0;
    dt_err err = DT_ERR_NOMEM;
    if (!b || !dbp || !keyp || !(b->dir = strdup(dir)))
        goto out;
    if ((err = dt_log_open(&b->log, dbp, 0)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot open the log store (%s)", dbp, dt_strerror(err));
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
    free(dbp);
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
        } else if (ballot && dt_board_ballot_code(code, content, len) != DT_OK) {
            *msg = dt_strdup_printf("%s: an encrypted ballot without a valid confirmation_code", full);
            err = DT_ERR_PARSE;
        } else {
            /* A path is published once: the same bytes again are nothing new,
             * other bytes are a change the board refuses. A ballot's code is
             * published once too. */
            err = dt_log_find(b->log, pkey, pklen, &index);
            if (err == DT_OK) {
                err = same_as_published(b, msg, index, paths[i], content, len);
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
            snprintf(why, whycap, "it has cosigned a larger tree (%llu entries) than this log holds",
                     (unsigned long long)old);
            return DT_ERR_INVALID;
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

dt_err dt_board_publish(dt_board *b, char **msg, size_t *added, size_t *cosigned)
{
    if (b == NULL || msg == NULL)
        dt_misuse("dt_board_publish: NULL argument");
    *msg = NULL;
    if (added)
        *added = 0;
    if (cosigned)
        *cosigned = 0;
    char **paths = NULL;
    size_t n = 0, ok = 0;
    pending p;
    memset(&p, 0, sizeof p);
    char *note = malloc(DT_NOTE_MAX_BYTES), *sigs = malloc(DT_NOTE_MAX_BYTES), *whys = calloc(1, 4096);
    char *bdir = dt_strdup_printf("%s/board", b->dir), *cpp = dt_strdup_printf("%s/board/checkpoint", b->dir);
    size_t notelen = DT_NOTE_MAX_BYTES, siglen = 0, wl = 0;
    uint64_t size = 0, last = 0;
    dt_err err = DT_ERR_NOMEM;
    if (!note || !sigs || !whys || !bdir || !cpp)
        goto out;
    if ((err = dt_board_list_files(&paths, &n, msg, b->dir)) != DT_OK || (err = collect(b, msg, paths, n, &p)) != DT_OK)
        goto out;
    for (size_t at = 0; at < p.n; at += DT_LOG_BATCH_MAX) {
        size_t k = p.n - at < DT_LOG_BATCH_MAX ? p.n - at : DT_LOG_BATCH_MAX, dup = 0;
        err = dt_log_append_multikeyed(b->log, (const unsigned char *const *)p.entries + at, p.lens + at,
                                       (const unsigned char *const *)p.keys + 2 * at, p.keylens + 2 * at, 2, k, NULL,
                                       &dup);
        if (err == DT_ERR_INVALID) {
            *msg = dt_strdup_printf("%s: its confirmation code or path is already on the board, or twice in the record",
                                    p.paths[at + dup]);
            goto out;
        } else if (err != DT_OK) {
            *msg = dt_strdup_printf("the log store refused the entries (%s); nothing of this batch was stored",
                                    dt_strerror(err));
            goto out;
        }
        if (added)
            *added += k;
    }
    if ((err = dt_log_size(b->log, &size)) != DT_OK)
        goto out;
    if (size == 0) {
        *msg = dt_strdup_printf("%s: the record has no public file to publish", b->dir);
        err = DT_ERR_INVALID;
        goto out;
    }
    if (meta_u64(b->log, "checkpoint.size", &last) == DT_OK && last == size) {
        err = DT_OK; /* nothing new, and that size is already cosigned */
        ok = b->quorum;
        goto out;
    }
    if ((err = dt_log_export_tiles(b->log, bdir, size)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot write the tiles (%s)", bdir, dt_strerror(err));
        goto out;
    }
    if ((err = sign_checkpoint(b, note, &notelen, size)) != DT_OK)
        goto out;
    for (size_t i = 0; i < b->nw; i++) {
        char why[512] = "";
        dt_err e = ask_witness(b, i, note, notelen, size, sigs, &siglen, DT_NOTE_MAX_BYTES, why, sizeof why);
        if (e == DT_OK) {
            ok++;
        } else if (wl + strlen(b->w[i].where) + strlen(why) + 16 < 4096) {
            if (why[0] == '\0')
                snprintf(why, sizeof why, "%s", dt_strerror(e));
            wl += (size_t)sprintf(whys + wl, "; %s: %s", b->w[i].where, why);
        }
    }
    if (ok < b->quorum) {
        *msg = dt_strdup_printf("only %zu of %zu witnesses cosigned the checkpoint of %llu entries (quorum %zu)%s",
                                ok, b->nw, (unsigned long long)size, b->quorum, whys);
        err = DT_ERR_PROOF;
        goto out;
    }
    if (notelen + siglen >= DT_NOTE_MAX_BYTES) {
        err = DT_ERR_LIMIT;
        goto out;
    }
    if (ok < b->nw)
        *msg = dt_strdup_printf("%zu of %zu witnesses did not cosign the checkpoint of %llu entries%s", b->nw - ok, b->nw,
                                (unsigned long long)size, whys);
    memcpy(note + notelen, sigs, siglen);
    notelen += siglen;
    char v[32];
    int vl = snprintf(v, sizeof v, "%llu", (unsigned long long)size);
    if ((err = dt_write_file_atomic(cpp, note, notelen, 0644)) != DT_OK) {
        *msg = dt_strdup_printf("%s: cannot write the checkpoint", cpp);
        goto out;
    }
    if ((err = dt_log_meta_set(b->log, "checkpoint", note, notelen)) != DT_OK ||
        (err = dt_log_meta_set(b->log, "checkpoint.size", v, (size_t)vl)) != DT_OK)
        goto out;
out:
    if (cosigned)
        *cosigned = ok;
    if (err != DT_OK && *msg == NULL)
        *msg = dt_strdup_printf("%s: cannot publish the board (%s)", b->dir, dt_strerror(err));
    pending_free(&p);
    dt_board_free_paths(paths, n);
    free(note);
    free(sigs);
    free(whys);
    free(bdir);
    free(cpp);
    return err;
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
    if (err == DT_OK && (err = meta_u64(b->log, "checkpoint.size", &size)) == DT_OK && index >= size) {
        *msg = dt_strdup_printf("the ballot is on the board (entry %llu) but not yet in a cosigned checkpoint; "
                                "publish the board and ask again", (unsigned long long)index);
        return DT_ERR_NOT_FOUND;
    }
    if (err == DT_ERR_NOT_FOUND) {
        *msg = dt_strdup_printf("the board has no cosigned checkpoint yet");
        return err;
    }
    if (err == DT_OK && (err = dt_log_meta_get(b->log, "checkpoint", &note, &notelen)) == DT_OK &&
        (err = dt_log_entry(b->log, index, &entry, &elen)) == DT_OK &&
        (err = dt_log_inclusion_proof(b->log, proof, &plen, index, size)) == DT_OK)
        err = dt_receipt_format(receipt, len, entry, elen, index, proof, plen, (const char *)note, notelen);
    if (err != DT_OK && *msg == NULL)
        *msg = dt_strdup_printf("cannot make the receipt (%s)", dt_strerror(err));
    free(entry);
    free(note);
    return err;
}
