/* detente decrypt share|combine|respond|finish: decryption of the tally and
 * the challenged ballots by any k of the n guardians, in two rounds (spec
 * 3.6; include/detente/workflow.h). Guardians run share and respond alone
 * on their own machines; anyone runs combine and finish. The files go
 * through DIR/decryption/ (docs/roles.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>
#include <detente/record.h>
#include <detente/verify.h>
#include <detente/workflow.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"
#include "steps.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente decrypt share DIR --key KEYFILE [--passphrase-file FILE]\n"
    "       detente decrypt combine DIR [--guardians I,J,...]\n"
    "       detente decrypt respond DIR --key KEYFILE [--passphrase-file FILE]\n"
    "       detente decrypt finish DIR\n"
    "\n"
    "Decrypts the tally and every challenged ballot with any k of the n guardians,\n"
    "in two rounds (docs/roles.md). Guardians run share and respond, each alone on\n"
    "its own machine; anyone runs combine and finish.\n"
    "\n"
    "  share    round 1, a guardian: checks the record first (verification steps\n"
    "           1-8: ballots, proofs, the encrypted tally is the sum of the cast\n"
    "           ballots) and that no challenged ballot reuses a cast ballot's\n"
    "           ciphertext; then commits to every ciphertext to decrypt:\n"
    "           DIR/decryption/share-I.json (public). The one-use secret nonces go\n"
    "           to KEYFILE.pending, encrypted under the key file's passphrase.\n"
    "  combine  anyone, once at least k guardians have shared: the challenge for\n"
    "           the guardians present (all share files, or --guardians):\n"
    "           DIR/decryption/challenge.json.\n"
    "  respond  round 2, a guardian: checks the challenge against the shares, then\n"
    "           answers it: DIR/decryption/response-I.json; deletes KEYFILE.pending\n"
    "           (a nonce answers one challenge only: a second respond is refused).\n"
    "  finish   anyone: checks every answer against the guardian's public key share\n"
    "           (eqs. 74, 75; a bad one is named), then writes DIR/tally.json and\n"
    "           DIR/challenged_ballots/. Check it all with 'detente verify DIR'.\n"
    "\n"
    "To decrypt without a guardian that failed (a bad answer, or none), start a new\n"
    "round with the others: remove DIR/decryption/challenge.json and the responses,\n"
    "then share, combine, respond and finish again.\n"
    "\n" DT_CLI_PASSPHRASE_HELP
    "\n"
    "Errors name the file: a missing key file, one that is not a key file or is\n"
    "damaged, the key file of another election, a wrong passphrase, no pending\n"
    "nonces, a missing or malformed public file. Progress goes to stderr when it is\n"
    "a terminal. Exit status: 0 done, 1 refused or failed, 2 usage.\n";

#define MSG_MAX (256u << 20)

typedef struct dopts {
    char prog[64];
    const char *dir, *key, *pass_file, *guardians;
} dopts;

static int parse(dopts *o, int argc, const char *argv[], int want_key, int want_list)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (want_key && ((r = dt_cli_opt(o->prog, argc, argv, &i, "--key", &o->key)) ||
                         (r = dt_cli_opt(o->prog, argc, argv, &i, "--passphrase-file", &o->pass_file)))) {
            if (r < 0)
                return -1;
            continue;
        }
        if (want_list && (r = dt_cli_opt(o->prog, argc, argv, &i, "--guardians", &o->guardians))) {
            if (r < 0)
                return -1;
            continue;
        }
        if (!strcmp(argv[i], "--passphrase")) {
            dt_cli_err(o->prog, "a passphrase is never given on the command line: use DETENTE_PASSPHRASE, "
                                "--passphrase-file FILE or the terminal prompt");
            return -1;
        }
        if (argv[i][0] == '-' || o->dir) {
            dt_cli_err(o->prog, "unexpected argument '%s' (see 'detente decrypt --help')", argv[i]);
            return -1;
        }
        o->dir = argv[i];
    }
    if (!o->dir || (want_key && !o->key)) {
        dt_cli_err(o->prog, "needs DIR%s (see 'detente decrypt --help')", want_key ? " and --key KEYFILE" : "");
        return -1;
    }
    return 0;
}

/* The "guardian" of a share or response text, 0 if there is none. */
static uint32_t peek_guardian(const char *text, size_t len)
{
    json_t *root = json_loadb(text, len, 0, NULL), *g = json_object_get(root, "guardian");
    uint32_t i = 0;
    if (json_is_integer(g) && json_integer_value(g) > 0 && json_integer_value(g) <= DT_CEREMONY_MAX_GUARDIANS)
        i = (uint32_t)json_integer_value(g);
    json_decref(root);
    return i;
}

/* A set of message files, one per guardian. */
typedef struct files {
    size_t n;
    uint32_t *who;
    char **text;
    dt_text *t;
} files;

static void files_free(files *f)
{
    for (size_t i = 0; f->text && i < f->n; i++)
        free(f->text[i]);
    free(f->text);
    free(f->who);
    free(f->t);
    memset(f, 0, sizeof *f);
}

/* Reads DIR/decryption/<kind>-I.json for each I of want (nwant), or for
 * I = 1..n when want is NULL (missing files skipped). A file whose guardian
 * is not I is refused. required: a missing one is an error. */
static int files_read(const dopts *o, files *f, const char *kind, uint32_t n, const uint32_t *want, size_t nwant,
                      int required)
{
    size_t cap = want ? nwant : n;
    memset(f, 0, sizeof *f);
    f->who = calloc(cap + 1, sizeof *f->who);
    f->text = calloc(cap + 1, sizeof *f->text);
    f->t = calloc(cap + 1, sizeof *f->t);
    if (!f->who || !f->text || !f->t) {
        dt_cli_err(o->prog, "out of memory");
        return -1;
    }
    for (size_t x = 0; x < cap; x++) {
        uint32_t i = want ? want[x] : (uint32_t)x + 1;
        char *path = dt_cli_path("%s/decryption/%s-%u.json", o->dir, kind, i), *text = NULL;
        size_t len;
        int r = dt_cli_read(o->prog, path, MSG_MAX, &text, &len);
        if (r > 0 && required) {
            dt_cli_err(o->prog, "%s: missing: guardian %u has not %s yet (it runs 'detente decrypt %s')", path, i,
                       !strcmp(kind, "share") ? "shared" : "answered", !strcmp(kind, "share") ? "share" : "respond");
            r = -1;
        }
        if (r == 0 && peek_guardian(text, len) != i) {
            dt_cli_err(o->prog, "%s: not guardian %u's %s", path, i, kind);
            r = -1;
        }
        free(path);
        if (r < 0) {
            free(text);
            return -1;
        }
        if (r > 0)
            continue;
        f->who[f->n] = i;
        f->text[f->n] = text;
        f->t[f->n] = (dt_text){text, len};
        f->n++;
    }
    return 0;
}

/* The guardians U named by challenge.json (ascending), or -1. */
static int challenge_members(const dopts *o, const char *path, const char *text, size_t len, uint32_t **U,
                             size_t *nU)
{
    json_t *root = json_loadb(text, len, 0, NULL), *g = json_object_get(root, "guardians");
    *U = NULL;
    *nU = 0;
    if (!json_is_array(g) || json_array_size(g) == 0 || json_array_size(g) > DT_CEREMONY_MAX_GUARDIANS ||
        !(*U = calloc(json_array_size(g), sizeof **U))) {
        dt_cli_err(o->prog, "%s: not a decryption challenge (no guardians)", path);
        json_decref(root);
        return -1;
    }
    for (size_t u = 0; u < json_array_size(g); u++) {
        json_t *i = json_object_get(json_array_get(g, u), "guardian");
        if (!json_is_integer(i) || json_integer_value(i) < 1 || json_integer_value(i) > DT_CEREMONY_MAX_GUARDIANS) {
            dt_cli_err(o->prog, "%s: guardians[%zu] is not a guardian", path, u);
            free(*U);
            *U = NULL;
            json_decref(root);
            return -1;
        }
        (*U)[u] = (uint32_t)json_integer_value(i);
    }
    *nU = json_array_size(g);
    json_decref(root);
    return 0;
}

static void list_members(char *buf, size_t cap, const uint32_t *who, size_t n)
{
    buf[0] = '\0';
    for (size_t x = 0; x < n; x++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%u", x ? ", " : "", who[x]);
    }
}

/* The guardian's key share, with a message if the ceremony is unfinished. */
static int load_key_share(const dopts *o, const dt_record *rec, const char *pass, uint32_t *i, dt_scalar *P)
{
    dt_guardian *gd = dt_cli_guardian_load(o->prog, rec, o->key, pass);
    int rc = -1;
    if (!gd)
        return -1;
    *i = dt_guardian_index(gd);
    if (dt_guardian_key_share(gd, P) != DT_OK)
        dt_cli_err(o->prog, "%s: guardian %u has no key share: its key ceremony is unfinished ('detente guardian "
                            "receive')",
                   o->key, *i);
    else
        rc = 0;
    dt_guardian_destroy(gd);
    return rc;
}

/* unlink and fsync of the folder */
static int remove_durably(const char *path)
{
    char *dir = strdup(path), *slash;
    int fd, rc = -1;
    if (!dir || unlink(path) != 0) {
        free(dir);
        return -1;
    }
    slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fsync(fd) == 0)
        rc = 0;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* ---- share (round 1) ---- */

static int cmd_share(const dopts *o)
{
    dt_record *rec = NULL;
    dt_decrypt_nonces *nonces = NULL;
    dt_cli_progress pr;
    dt_scalar P;
    char *pass = NULL, *text = NULL, *msg = NULL, *ddir = dt_cli_path("%s/decryption", o->dir);
    char *pending = dt_cli_path("%s.pending", o->key), *path = NULL;
    uint32_t i = 0;
    int rc = 1, replacing;
    dt_err err;

    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_ALL)))
        goto out;
    if (!rec->has_etally) {
        dt_cli_err(o->prog, "%s: no encrypted_tally.json: tally the ballots first ('detente tally %s')", o->dir,
                   o->dir);
        goto out;
    }
    if (dt_cli_check_before_decrypt(o->prog, rec))
        goto out;
    if (!(pass = dt_cli_passphrase(o->prog, o->pass_file, o->key, 0)) || load_key_share(o, rec, pass, &i, &P))
        goto out;
    dt_cli_progress_init(&pr, "round 1");
    err = dt_decrypt_round1(&msg, &text, &nonces, rec, i, &P, dt_cli_progress_tick, &pr);
    dt_memzero(&P, sizeof P);
    if (err) {
        dt_cli_err(o->prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    if (dt_cli_mkdirs(o->prog, ddir))
        goto out;
    path = dt_cli_path("%s/share-%u.json", ddir, i);
    replacing = dt_cli_exists(pending);
    if ((err = dt_decrypt_nonces_save(nonces, pending, pass))) {
        dt_cli_err(o->prog, "%s: cannot write the pending nonces (%s)", pending,
                   err == DT_ERR_IO ? "not a regular file, or an I/O error" : dt_strerror(err));
        goto out;
    }
    if (dt_cli_write(o->prog, path, text, strlen(text))) {
        remove_durably(pending);
        goto out;
    }
    if (replacing)
        printf("(guardian %u's earlier round-1 share and nonces are replaced)\n", i);
    printf("guardian %u, round 1: %s (public)\n"
           "  secret one-use nonces: %s (encrypted; 'decrypt respond' uses and deletes them)\n"
           "Next, once at least %u guardians have shared, anyone: detente decrypt combine %s\n",
           i, path, pending, rec->k, o->dir);
    rc = 0;
out:
    dt_memzero(&P, sizeof P);
    dt_cli_passphrase_free(pass);
    dt_decrypt_nonces_destroy(nonces);
    dt_record_destroy(rec);
    free(text);
    free(msg);
    free(ddir);
    free(pending);
    free(path);
    return rc;
}

/* ---- combine ---- */

static int parse_list(const dopts *o, uint32_t n, uint32_t **out, size_t *nout)
{
    const char *s = o->guardians;
    uint32_t *v = calloc(n + 1, sizeof *v);
    size_t c = 0;
    if (!v)
        return -1;
    while (*s) {
        char *end;
        long x;
        errno = 0;
        x = strtol(s, &end, 10);
        if (errno || end == s || x < 1 || x > (long)n || (*end && *end != ',') || c == n) {
            dt_cli_err(o->prog, "--guardians wants distinct guardian indices in 1..%u separated by commas, not '%s'",
                       n, o->guardians);
            free(v);
            return -1;
        }
        for (size_t y = 0; y < c; y++)
            if (v[y] == (uint32_t)x) {
                dt_cli_err(o->prog, "--guardians names guardian %ld twice", x);
                free(v);
                return -1;
            }
        v[c++] = (uint32_t)x;
        s = *end ? end + 1 : end;
    }
    *out = v;
    *nout = c;
    return 0;
}

static int cmd_combine(const dopts *o)
{
    dt_record *rec = NULL;
    files sh = {0}, rs = {0};
    dt_cli_progress pr;
    uint32_t *want = NULL;
    size_t nwant = 0;
    char *msg = NULL, *text = NULL, *old = NULL, *path = dt_cli_path("%s/decryption/challenge.json", o->dir);
    char who[256];
    size_t len;
    int rc = 1, r;
    dt_err err;

    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_ALL)))
        goto out;
    if (o->guardians && parse_list(o, rec->n, &want, &nwant))
        goto out;
    if (files_read(o, &sh, "share", rec->n, want, nwant, want != NULL))
        goto out;
    if (sh.n < rec->k) {
        list_members(who, sizeof who, sh.who, sh.n);
        dt_cli_err(o->prog, "decryption needs at least %u of the %u guardians; have %zu%s%s%s", rec->k, rec->n, sh.n,
                   sh.n ? " (share files of guardians " : "", who, sh.n ? ")" : "");
        goto out;
    }
    /* a challenge already answered stays: replacing it would waste the round */
    if ((r = dt_cli_read(o->prog, path, MSG_MAX, &old, &len)) < 0)
        goto out;
    if (r == 0) {
        unsigned char h[32];
        char *b64;
        crypto_hash_sha256(h, (const unsigned char *)old, len);
        b64 = dt_b64_encode(h, 32);
        if (files_read(o, &rs, "response", rec->n, NULL, 0, 0)) {
            free(b64);
            goto out;
        }
        for (size_t x = 0; b64 && x < rs.n; x++)
            if (strstr(rs.text[x], b64)) {
                dt_cli_err(o->prog,
                           "%s has been answered by guardian %u: a new challenge needs a new round; remove it and "
                           "the responses first",
                           path, rs.who[x]);
                free(b64);
                goto out;
            }
        free(b64);
    }
    dt_cli_progress_init(&pr, "combining");
    if ((err = dt_decrypt_combine(&msg, &text, rec, sh.t, sh.n, dt_cli_progress_tick, &pr))) {
        dt_cli_err(o->prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    if (dt_cli_write(o->prog, path, text, strlen(text)))
        goto out;
    list_members(who, sizeof who, sh.who, sh.n);
    printf("challenge for guardians %s: %s\n"
           "Next, each of them: detente decrypt respond %s --key KEYFILE\n",
           who, path, o->dir);
    rc = 0;
out:
    files_free(&sh);
    files_free(&rs);
    dt_record_destroy(rec);
    free(want);
    free(msg);
    free(text);
    free(old);
    free(path);
    return rc;
}

/* ---- respond (round 2) ---- */

static int cmd_respond(const dopts *o)
{
    dt_record *rec = NULL;
    dt_decrypt_nonces *nonces = NULL;
    files sh = {0};
    dt_cli_progress pr;
    dt_scalar P;
    uint32_t *U = NULL, i = 0;
    size_t nU = 0, clen;
    char *pass = NULL, *ctext = NULL, *text = NULL, *msg = NULL, *path = NULL;
    char *cpath = dt_cli_path("%s/decryption/challenge.json", o->dir), *pending = dt_cli_path("%s.pending", o->key);
    int rc = 1, r;
    dt_err err;

    memset(&P, 0, sizeof P);
    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_ALL)))
        goto out;
    if ((r = dt_cli_read(o->prog, cpath, MSG_MAX, &ctext, &clen))) {
        if (r > 0)
            dt_cli_err(o->prog, "%s: no challenge yet: anyone runs 'detente decrypt combine %s' first", cpath, o->dir);
        goto out;
    }
    if (!dt_cli_exists(pending)) {
        dt_cli_err(o->prog,
                   "%s: no pending round-1 nonces: this guardian has answered already (a nonce answers one "
                   "challenge only), or has not run 'detente decrypt share'; to answer a new challenge, start a new "
                   "round with 'detente decrypt share'",
                   pending);
        goto out;
    }
    if (challenge_members(o, cpath, ctext, clen, &U, &nU))
        goto out;
    if (!(pass = dt_cli_passphrase(o->prog, o->pass_file, o->key, 0)) || load_key_share(o, rec, pass, &i, &P))
        goto out;
    err = dt_decrypt_nonces_load(&nonces, rec, pending, pass);
    if (err) {
        dt_cli_err(o->prog, "%s: %s", pending,
                   err == DT_ERR_PROOF      ? "wrong passphrase (not the key file's?)"
                   : err == DT_ERR_INVALID  ? "the pending nonces of another election"
                   : err == DT_ERR_ENCODING ? "not a pending-nonces file, or it is damaged"
                   : err == DT_ERR_IO       ? "cannot read it"
                                            : dt_strerror(err));
        goto out;
    }
    if (dt_decrypt_nonces_guardian(nonces) != i) {
        dt_cli_err(o->prog, "%s: the nonces of guardian %u, not of guardian %u (%s)", pending,
                   dt_decrypt_nonces_guardian(nonces), i, o->key);
        goto out;
    }
    if (files_read(o, &sh, "share", rec->n, U, nU, 1))
        goto out;
    dt_cli_progress_init(&pr, "round 2");
    err = dt_decrypt_round2(&msg, &text, rec, &(dt_text){ctext, clen}, sh.t, sh.n, i, &P, nonces,
                            dt_cli_progress_tick, &pr);
    dt_memzero(&P, sizeof P);
    if (err) {
        dt_cli_err(o->prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    /* the nonces go before the answer is out: never two answers with them */
    if (remove_durably(pending)) {
        dt_cli_err(o->prog, "%s: cannot delete the used nonces (%s): the response is not published", pending,
                   strerror(errno));
        goto out;
    }
    path = dt_cli_path("%s/decryption/response-%u.json", o->dir, i);
    if (dt_cli_write(o->prog, path, text, strlen(text))) {
        dt_cli_err(o->prog, "the nonces are used: start a new round with 'detente decrypt share'");
        goto out;
    }
    printf("guardian %u, round 2: %s (public); its nonces are used and deleted.\n"
           "Next, once every guardian of the challenge has answered, anyone: detente decrypt finish %s\n",
           i, path, o->dir);
    rc = 0;
out:
    dt_memzero(&P, sizeof P);
    dt_cli_passphrase_free(pass);
    dt_decrypt_nonces_destroy(nonces);
    files_free(&sh);
    dt_record_destroy(rec);
    free(U);
    free(ctext);
    free(text);
    free(msg);
    free(path);
    free(cpath);
    free(pending);
    return rc;
}

/* ---- finish ---- */

static int cmd_finish(const dopts *o)
{
    dt_record *rec = NULL;
    files sh = {0}, rs = {0};
    dt_cli_progress pr;
    uint32_t *U = NULL;
    size_t nU = 0, clen, nchal = 0;
    char *ctext = NULL, *msg = NULL, *cpath = dt_cli_path("%s/decryption/challenge.json", o->dir), who[256];
    int rc = 1, r;
    dt_err err;

    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_ALL)))
        goto out;
    if ((r = dt_cli_read(o->prog, cpath, MSG_MAX, &ctext, &clen))) {
        if (r > 0)
            dt_cli_err(o->prog, "%s: no challenge yet: 'detente decrypt combine %s' first", cpath, o->dir);
        goto out;
    }
    if (challenge_members(o, cpath, ctext, clen, &U, &nU) || files_read(o, &sh, "share", rec->n, U, nU, 1) ||
        files_read(o, &rs, "response", rec->n, U, nU, 1))
        goto out;
    dt_cli_progress_init(&pr, "checking the answers");
    if ((err = dt_decrypt_finish(&msg, rec, o->dir, &(dt_text){ctext, clen}, sh.t, sh.n, rs.t, rs.n,
                                 dt_cli_progress_tick, &pr))) {
        dt_cli_err(o->prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    for (size_t b = 0; b < rec->nballots; b++)
        nchal += rec->ballots[b].state == DT_BALLOT_CHALLENGED;
    list_members(who, sizeof who, U, nU);
    printf("decrypted by guardians %s: %s/tally.json and %zu challenged ballot%s in %s/challenged_ballots/\n", who,
           o->dir, nchal, nchal == 1 ? "" : "s", o->dir);
    dt_cli_print_tally(o->dir);
    printf("Check the whole record: detente verify %s\n", o->dir);
    rc = 0;
out:
    files_free(&sh);
    files_free(&rs);
    dt_record_destroy(rec);
    free(U);
    free(ctext);
    free(msg);
    free(cpath);
    return rc;
}

int decrypt_main(int argc, const char *argv[])
{
    dopts o;
    const char *sub = argc >= 2 ? argv[1] : NULL;
    int p, key, list;

    memset(&o, 0, sizeof o);
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage_text, sub ? stdout : stderr);
        return sub ? 0 : 2;
    }
    if (strcmp(sub, "share") && strcmp(sub, "combine") && strcmp(sub, "respond") && strcmp(sub, "finish")) {
        fprintf(stderr, "detente decrypt: unknown step '%s' (share, combine, respond or finish)\n", sub);
        return 2;
    }
    snprintf(o.prog, sizeof o.prog, "detente decrypt %s", sub);
    key = !strcmp(sub, "share") || !strcmp(sub, "respond");
    list = !strcmp(sub, "combine");
    if ((p = parse(&o, argc, argv, key, list)))
        return p > 0 ? 0 : 2;
    if (sodium_init() < 0) {
        dt_cli_err(o.prog, "libsodium failed to start");
        return 1;
    }
    if (!strcmp(sub, "share"))
        return cmd_share(&o);
    if (!strcmp(sub, "combine"))
        return cmd_combine(&o);
    if (!strcmp(sub, "respond"))
        return cmd_respond(&o);
    return cmd_finish(&o);
}
