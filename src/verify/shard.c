/* Shards of a record for verification in parts (verify.h): ranges of the
 * board's entries, read from the tiles. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <detente/board.h>
#include <detente/merkle.h>
#include <detente/note.h>
#include <detente/record.h>
#include <detente/tiles.h>
#include <detente/verify.h>

#include "util/codec.h"

/* The most bytes of an entry bundle: 256 entries of at most 65,535 bytes,
 * each behind its 2-byte length (C2SP tlog-tiles). */
#define BUNDLE_MAX ((size_t)DT_TILE_WIDTH * (2 + 65535))

dt_err dt_verify_board_size(uint64_t *size, char **why, const char *dir, const char *log_vkey)
{
    char *cpp = dt_strdup_printf("%s/board/checkpoint", dir), *kp = dt_strdup_printf("%s/board/log.vkey", dir);
    unsigned char *note = NULL, *key = NULL;
    size_t notelen = 0, keylen = 0, textlen = 0, olen, elen, kn;
    const char *origin, *ext, *kname;
    unsigned char ok = 0, root[32];
    dt_note_verifier v;
    struct stat st;
    dt_err err = DT_ERR_NOMEM;

    *size = 0;
    *why = NULL;
    if (!cpp || !kp)
        goto out;
    if (lstat(cpp, &st) != 0 && errno == ENOENT) {
        err = DT_ERR_NOT_FOUND; /* no board */
        goto out;
    }
    if ((err = dt_read_file(&note, &notelen, cpp, DT_NOTE_MAX_BYTES)) != DT_OK) {
        *why = dt_strdup_printf("board/checkpoint cannot be read (%s)", dt_strerror(err));
        goto out;
    }
    if (!log_vkey) {
        if ((err = dt_read_file(&key, &keylen, kp, DT_NOTE_VKEY_MAX + 1)) != DT_OK) {
            *why = dt_strdup_printf("board/log.vkey: the log's key cannot be read");
            goto out;
        }
        while (keylen && (key[keylen - 1] == '\n' || key[keylen - 1] == '\r'))
            keylen--;
        log_vkey = (const char *)key;
    } else {
        keylen = strlen(log_vkey);
    }
    err = DT_ERR_INVALID;
    if (dt_note_verifier_parse(&v, log_vkey, keylen) != DT_OK) {
        *why = dt_strdup_printf("the log's key is not a verifier key");
        goto out;
    }
    if (dt_note_open(&textlen, &ok, NULL, (const char *)note, notelen, &v, 1) != DT_OK ||
        dt_checkpoint_parse(&origin, &olen, size, root, &ext, &elen, (const char *)note, textlen) != DT_OK) {
        *why = dt_strdup_printf("board/checkpoint is not a checkpoint signed by the log's key");
        goto out;
    }
    kname = dt_note_verifier_name(&v, &kn);
    if (kn != olen || memcmp(kname, origin, olen) != 0) {
        *why = dt_strdup_printf("board/checkpoint: its origin is not the log key's name");
        *size = 0;
        goto out;
    }
    err = DT_OK;
out:
    if (err)
        *size = 0;
    free(cpp);
    free(kp);
    free(note);
    free(key);
    return err;
}

/* A path that dt_record_ballot_files would list: encrypted_ballots/F/N.json,
 * neither F nor N hidden. The board's paths are checked for "", "." and
 * ".." components when the entry is parsed. */
static int ballot_file(const char *path, size_t len)
{
    static const char pre[] = "encrypted_ballots/";
    const size_t pl = sizeof pre - 1;
    const char *folder = path + pl, *slash, *name;
    if (len <= pl || memcmp(path, pre, pl) != 0 || folder[0] == '.')
        return 0;
    slash = memchr(folder, '/', len - pl);
    if (!slash)
        return 0;
    name = slash + 1;
    len -= (size_t)(name - path);
    return len >= 6 && name[0] != '.' && !memchr(name, '/', len) && memcmp(name + len - 5, ".json", 5) == 0;
}

typedef struct flist {
    char **v;
    size_t n, cap;
} flist;

static int push(flist *l, const char *s, size_t len)
{
    char *c;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return 0;
        l->v = v;
        l->cap = cap;
    }
    if (!(c = malloc(len + 1)))
        return 0;
    memcpy(c, s, len);
    c[len] = 0;
    l->v[l->n++] = c;
    return 1;
}

/* Entry bundle k of a tree of size entries: the partial bundle if the tree
 * ends inside it, or, missing that, the first entries of the full one
 * (tlog-tiles lets a log delete a partial tile once the full one exists).
 * *count gets the entries in the file. */
static dt_err read_bundle(unsigned char **buf, size_t *len, unsigned *count, const char *bdir, uint64_t size, uint64_t k)
{
    uint64_t left = size - k * DT_TILE_WIDTH;
    unsigned w = left >= DT_TILE_WIDTH ? DT_TILE_WIDTH : (unsigned)left;
    char rel[DT_TILE_PATH_MAX], *path;
    dt_err err;
    for (int full = w == DT_TILE_WIDTH; full < 2; full++) {
        if ((err = dt_tile_entries_path(rel, k, full ? DT_TILE_WIDTH : w)) != DT_OK)
            return err;
        if (!(path = dt_strdup_printf("%s/%s", bdir, rel)))
            return DT_ERR_NOMEM;
        err = dt_read_file(buf, len, path, BUNDLE_MAX);
        free(path);
        *count = full ? DT_TILE_WIDTH : w;
        if (err != DT_ERR_IO) /* missing, or another error than a missing file */
            return err;
    }
    return err;
}

dt_err dt_verify_board_ballots(char ***files, size_t *nfiles, char **why, const char *dir, uint64_t size,
                               uint64_t first, uint64_t end)
{
    char *bdir = dt_strdup_printf("%s/board", dir);
    dt_tiles *t = NULL;
    flist l = {0};
    unsigned char *buf = NULL;
    dt_err err = DT_ERR_NOMEM;

    *files = NULL;
    *nfiles = 0;
    *why = NULL;
    if (first > end || end > size)
        dt_misuse("dt_verify_board_ballots: the range is not inside the board");
    if (!bdir)
        goto out;
    if ((err = dt_tiles_open(&t, bdir, size)) != DT_OK) {
        *why = dt_strdup_printf("board/: cannot read the tiles (%s)", dt_strerror(err));
        goto out;
    }
    for (uint64_t k = first / DT_TILE_WIDTH; first < end && k <= (end - 1) / DT_TILE_WIDTH; k++) {
        size_t len = 0, off = 0;
        unsigned count = 0;
        free(buf);
        buf = NULL;
        if ((err = read_bundle(&buf, &len, &count, bdir, size, k)) != DT_OK) {
            *why = dt_strdup_printf("board/: entry bundle %llu cannot be read (%s)", (unsigned long long)k,
                                    dt_strerror(err));
            goto out;
        }
        for (unsigned i = 0; i < count; i++) {
            uint64_t index = k * DT_TILE_WIDTH + i;
            unsigned char leaf[DT_MERKLE_HASH_BYTES], want[DT_MERKLE_HASH_BYTES];
            dt_board_entry e;
            size_t el;
            if (len - off < 2 || len - off - 2 < (el = (size_t)buf[off] << 8 | buf[off + 1])) {
                err = DT_ERR_ENCODING;
                *why = dt_strdup_printf("board/: entry bundle %llu is malformed", (unsigned long long)k);
                goto out;
            }
            off += 2 + el;
            if (index < first || index >= end)
                continue;
            dt_merkle_leaf_hash(leaf, buf + off - el, el);
            if ((err = dt_tiles_node(t, want, 0, index)) != DT_OK || memcmp(leaf, want, sizeof leaf) != 0) {
                err = err ? err : DT_ERR_PROOF;
                *why = dt_strdup_printf("board/: entry %llu does not hash to its leaf in the tiles (%s)",
                                        (unsigned long long)index, dt_strerror(err));
                goto out;
            }
            /* an entry that is not a detente entry is no ballot (B.4 names it) */
            if (dt_board_entry_parse(&e, buf + off - el, el) == DT_OK && ballot_file(e.path, e.pathlen) &&
                !push(&l, e.path, e.pathlen)) {
                err = DT_ERR_NOMEM;
                goto out;
            }
        }
        if (off != len) {
            err = DT_ERR_ENCODING;
            *why = dt_strdup_printf("board/: entry bundle %llu is malformed", (unsigned long long)k);
            goto out;
        }
    }
    *files = l.v;
    *nfiles = l.n;
    l.v = NULL;
    l.n = 0;
    err = DT_OK;
out:
    dt_record_free_files(l.v, l.n);
    dt_tiles_close(t);
    free(buf);
    free(bdir);
    return err;
}
