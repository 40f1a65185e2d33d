/* detente guardian init|shares|receive|reveal: one guardian's steps of the
 * key ceremony (spec 3.2), run alone on the guardian's own machine. The
 * guardians exchange only public files under DIR/ceremony/ (docs/roles.md);
 * each one's secrets stay in its own key file, encrypted under its
 * passphrase. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>
#include <detente/record.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente guardian init DIR --index I --key KEYFILE [--passphrase-file FILE]\n"
    "       detente guardian shares DIR --key KEYFILE [--passphrase-file FILE]\n"
    "       detente guardian receive DIR --key KEYFILE [--passphrase-file FILE]\n"
    "       detente guardian reveal DIR --key KEYFILE [--passphrase-file FILE]\n"
    "\n"
    "One guardian's steps of the key ceremony, each run by the guardian alone on\n"
    "its own machine; the guardians exchange only the public files of\n"
    "DIR/ceremony/ (docs/roles.md). In order:\n"
    "\n"
    "  init     makes guardian I of the election in DIR: writes its secret key file\n"
    "           KEYFILE (never overwritten; keep it off the election folder) and\n"
    "           publishes DIR/ceremony/commitments-I.json.\n"
    "  shares   once every guardian has joined: checks everyone's commitments\n"
    "           (Schnorr proofs; a bad one is named) and publishes the encrypted\n"
    "           share for each other guardian L: DIR/ceremony/share-I-L.json.\n"
    "  receive  decrypts and checks each share sent to I (eq. 21). A bad one is a\n"
    "           public complaint, DIR/ceremony/complaint-I-against-J.json (exit 1).\n"
    "           With all n-1 shares good, stores the key share in KEYFILE and\n"
    "           publishes DIR/ceremony/ready-I.json. Run it again once missing\n"
    "           shares arrive, or after the sender's reveal.\n"
    "  reveal   answers each complaint against I: publishes the share and its\n"
    "           nonce, DIR/ceremony/reveal-I-L.json, for anyone to judge\n"
    "           ('detente election open').\n"
    "\n" DT_CLI_PASSPHRASE_HELP
    "\n"
    "Errors name the file: a missing key file, one that is not a key file or is\n"
    "damaged, the key file of another election, a wrong passphrase, a missing or\n"
    "malformed public file. Exit status: 0 done, 1 failed or waiting for others,\n"
    "2 usage.\n";

#define PROG_LEN 64

typedef struct gopts {
    char prog[PROG_LEN];
    const char *dir, *key, *pass_file;
    uint32_t index;
} gopts;

static int parse(gopts *o, int argc, const char *argv[], int want_index)
{
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 1;
        }
        if ((r = dt_cli_opt(o->prog, argc, argv, &i, "--key", &o->key)) ||
            (r = dt_cli_opt(o->prog, argc, argv, &i, "--passphrase-file", &o->pass_file))) {
            if (r < 0)
                return -1;
            continue;
        }
        if (want_index && (r = dt_cli_opt(o->prog, argc, argv, &i, "--index", &v))) {
            if (r < 0 || dt_cli_u32(o->prog, "--index", v, 1, DT_CEREMONY_MAX_GUARDIANS, &o->index))
                return -1;
            continue;
        }
        if (!strcmp(argv[i], "--passphrase")) {
            dt_cli_err(o->prog, "a passphrase is never given on the command line: use DETENTE_PASSPHRASE, "
                                "--passphrase-file FILE or the terminal prompt");
            return -1;
        }
        if (argv[i][0] == '-' || o->dir) {
            dt_cli_err(o->prog, "unexpected argument '%s' (see 'detente guardian --help')", argv[i]);
            return -1;
        }
        o->dir = argv[i];
    }
    if (!o->dir || !o->key || (want_index && !o->index)) {
        dt_cli_err(o->prog, "needs DIR, --key KEYFILE%s (see 'detente guardian --help')",
                   want_index ? " and --index I" : "");
        return -1;
    }
    return 0;
}

/* Warns when the key file would sit inside the public election folder. */
static void warn_if_public(const gopts *o)
{
    char *kdir = strdup(o->key), *slash, *rk = NULL, *rd = NULL;
    if (!kdir)
        return;
    slash = strrchr(kdir, '/');
    if (slash)
        *slash = '\0';
    rk = realpath(slash ? (*kdir ? kdir : "/") : ".", NULL);
    rd = realpath(o->dir, NULL);
    if (rk && rd) {
        size_t n = strlen(rd);
        if (!strncmp(rk, rd, n) && (rk[n] == '\0' || rk[n] == '/'))
            fprintf(stderr, "%s: warning: %s is inside the election folder %s, which is public\n", o->prog, o->key,
                    o->dir);
    }
    free(kdir);
    free(rk);
    free(rd);
}

/* The common start: record, passphrase, guardian. */
static int open_guardian(const gopts *o, dt_record **rec, dt_guardian **gd)
{
    char *pass;
    *gd = NULL;
    if (!(*rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_CONFIG)))
        return -1;
    if (!(pass = dt_cli_passphrase(o->prog, o->pass_file, o->key, 0)))
        return -1;
    *gd = dt_cli_guardian_load(o->prog, *rec, o->key, pass);
    dt_cli_passphrase_free(pass);
    return *gd ? 0 : -1;
}

/* ---- init ---- */

static int cmd_init(const gopts *o)
{
    dt_record *rec = NULL;
    dt_guardian *gd = NULL;
    dt_elem *K = NULL;
    dt_scalar *c = NULL, *v = NULL;
    char *pass = NULL, *json = NULL, *cdir = dt_cli_path("%s/ceremony", o->dir);
    char *cpath = dt_cli_path("%s/ceremony/commitments-%u.json", o->dir, o->index);
    char *opened = dt_cli_path("%s/election_initialized.json", o->dir);
    int rc = 1, saved = 0;
    dt_err err;

    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_CONFIG)))
        goto out;
    if (o->index > rec->n) {
        dt_cli_err(o->prog, "--index %u: the election has %u guardians (1..%u)", o->index, rec->n, rec->n);
        goto out;
    }
    if (dt_cli_exists(opened)) {
        dt_cli_err(o->prog, "%s: the election is already open: its key ceremony is over", o->dir);
        goto out;
    }
    if (dt_cli_exists(o->key)) {
        dt_cli_err(o->prog, "%s exists: refusing to overwrite a key file", o->key);
        goto out;
    }
    if (dt_cli_exists(cpath)) {
        dt_cli_err(o->prog,
                   "%s exists: guardian %u has already joined (to restart the ceremony, every guardian "
                   "starts again from an empty %s)",
                   cpath, o->index, cdir);
        goto out;
    }
    warn_if_public(o);
    K = calloc(rec->k, sizeof *K);
    c = calloc(rec->k, sizeof *c);
    v = calloc(rec->k, sizeof *v);
    if (!K || !c || !v) {
        dt_cli_err(o->prog, "out of memory");
        goto out;
    }
    if (!(pass = dt_cli_passphrase(o->prog, o->pass_file, o->key, 1)))
        goto out;
    if ((err = dt_guardian_create(&gd, rec->group, o->index, rec->n, rec->k)) ||
        (err = dt_guardian_commitments(gd, K, c, v, rec->k)) ||
        (err = dt_commitments_to_json(rec->group, &json, NULL, o->index, K, c, v, rec->k))) {
        dt_cli_err(o->prog, "cannot make guardian %u: %s", o->index, dt_strerror(err));
        goto out;
    }
    if (dt_cli_mkdirs(o->prog, cdir))
        goto out;
    if ((err = dt_guardian_save(gd, o->key, pass, rec->hb))) {
        dt_cli_err(o->prog, "%s: cannot write the key file (%s)", o->key, dt_strerror(err));
        goto out;
    }
    saved = 1;
    if (dt_cli_write(o->prog, cpath, json, strlen(json)))
        goto out;
    printf("guardian %u of %u joined the election in %s.\n"
           "  secret: %s (keep it, and its passphrase, to yourself)\n"
           "  public: %s\n"
           "Next, once all %u guardians have joined: detente guardian shares %s --key %s\n",
           o->index, rec->n, o->dir, o->key, cpath, rec->n, o->dir, o->key);
    rc = 0;
out:
    if (rc && saved)
        unlink(o->key); /* nothing published: the next attempt starts afresh */
    dt_cli_passphrase_free(pass);
    dt_guardian_destroy(gd);
    dt_record_destroy(rec);
    free(K);
    free(c);
    free(v);
    free(json);
    free(cdir);
    free(cpath);
    free(opened);
    return rc;
}

/* ---- shares ---- */

static int cmd_shares(const gopts *o)
{
    dt_record *rec = NULL;
    dt_guardian *gd = NULL;
    dt_cli_commitments cm = {0};
    uint32_t i, corrupt = dt_cli_test_corrupt_share();
    int rc = 1;

    if (open_guardian(o, &rec, &gd) || dt_cli_commitments_load(o->prog, o->dir, rec, &cm) ||
        dt_cli_guardian_matches(o->prog, rec, gd, &cm, o->key, o->dir))
        goto out;
    i = dt_guardian_index(gd);
    for (uint32_t l = 1; l <= rec->n; l++) {
        dt_share_ct ct;
        char *json = NULL, *path;
        dt_err err;
        if (l == i)
            continue;
        err = dt_guardian_encrypt_share(gd, &ct, l, &cm.K[(size_t)(l - 1) * rec->k]);
        if (!err && l == corrupt) {
            /* TEST HOOK (docs/roles.md): a cheating guardian that encrypts
             * P_i(l) + 1 for guardian l. Tests only. */
            dt_scalar value, xi, one;
            fprintf(stderr, "%s: TEST HOOK DETENTE_TEST_CORRUPT_SHARE=%u: sending a wrong share to guardian %u\n",
                    o->prog, l, l);
            dt_scalar_from_u64(rec->group, &one, 1);
            err = dt_guardian_reveal_share(gd, &value, &xi, l);
            dt_scalar_add(rec->group, &value, &value, &one);
            if (!err)
                err = dt_share_encrypt(rec->group, &ct, rec->hp, i, l, &cm.K[(size_t)(l - 1) * rec->k], &value, &xi);
            dt_memzero(&value, sizeof value);
            dt_memzero(&xi, sizeof xi);
        }
        if (err == DT_ERR_INVALID) {
            dt_cli_err(o->prog, "guardian %u's public key is the identity: nobody may encrypt to it (it is replaced)",
                       l);
            goto out;
        }
        if (err || (err = dt_share_ct_to_json(rec->group, &json, &ct))) {
            dt_cli_err(o->prog, "cannot encrypt the share for guardian %u: %s", l, dt_strerror(err));
            goto out;
        }
        path = dt_cli_path("%s/ceremony/share-%u-%u.json", o->dir, i, l);
        err = dt_cli_write(o->prog, path, json, strlen(json)) ? DT_ERR_IO : DT_OK;
        free(path);
        free(json);
        if (err)
            goto out;
    }
    printf("guardian %u checked the commitments of all %u guardians and published its shares:\n"
           "  %s/ceremony/share-%u-L.json for each other guardian L\n"
           "Next, once the others' shares are there: detente guardian receive %s --key %s\n",
           i, rec->n, o->dir, i, o->dir, o->key);
    rc = 0;
out:
    dt_cli_commitments_free(&cm);
    dt_guardian_destroy(gd);
    dt_record_destroy(rec);
    return rc;
}

/* ---- receive ---- */

static const char *complaint_reason(dt_err err)
{
    switch (err) {
    case DT_ERR_PROOF:
        return "the share does not decrypt (MAC), or its value fails eq. 21 against the sender's commitments";
    case DT_ERR_RANGE:
        return "the decrypted value is not below q";
    default:
        return "the share is not acceptable";
    }
}

static int write_ready(const gopts *o, const dt_record *rec, uint32_t i, const dt_share_ct *cts)
{
    json_t *arr = json_array(), *root;
    unsigned char bin[DT_SHARE_CT_MAX_BYTES], h[32];
    char hex[65], *text, *path;
    int rc;
    for (uint32_t j = 1; arr && j <= rec->n; j++) {
        if (j == i)
            continue;
        dt_share_ct_serialize(rec->group, bin, &cts[j - 1]);
        crypto_hash_sha256(h, bin, dt_share_ct_bytes(rec->group));
        sodium_bin2hex(hex, sizeof hex, h, 32);
        json_array_append_new(arr, json_pack("{s:i, s:s}", "from", (json_int_t)j, "sha256", hex));
    }
    root = json_pack("{s:i, s:o}", "guardian", (json_int_t)i, "shares_received", arr);
    text = root ? json_dumps(root, JSON_INDENT(4)) : NULL;
    json_decref(root);
    if (!text) {
        dt_cli_err(o->prog, "out of memory");
        return -1;
    }
    path = dt_cli_path("%s/ceremony/ready-%u.json", o->dir, i);
    rc = dt_cli_write(o->prog, path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

static int cmd_receive(const gopts *o)
{
    dt_record *rec = NULL;
    dt_guardian *gd = NULL;
    dt_cli_commitments cm = {0};
    dt_share_ct *cts = NULL;
    dt_scalar P;
    char *pass = NULL, waiting[256] = "", complained[256] = "";
    uint32_t i, nwait = 0, ncomplaints = 0, nbad = 0;
    int rc = 1, finished;
    dt_err err;

    if (!(rec = dt_cli_record_load(o->prog, o->dir, DT_RECORD_CONFIG)))
        goto out;
    if (!(pass = dt_cli_passphrase(o->prog, o->pass_file, o->key, 0)) ||
        !(gd = dt_cli_guardian_load(o->prog, rec, o->key, pass)) ||
        dt_cli_commitments_load(o->prog, o->dir, rec, &cm) ||
        dt_cli_guardian_matches(o->prog, rec, gd, &cm, o->key, o->dir))
        goto out;
    i = dt_guardian_index(gd);
    finished = dt_guardian_key_share(gd, &P) == DT_OK;
    dt_memzero(&P, sizeof P);
    if (!(cts = calloc(rec->n, sizeof *cts))) {
        dt_cli_err(o->prog, "out of memory");
        goto out;
    }
    for (uint32_t j = 1; j <= rec->n; j++) {
        char *path, *text = NULL, *msg = NULL;
        const dt_elem *Kj = &cm.K[(size_t)(j - 1) * rec->k];
        dt_share_ct rct;
        dt_scalar value, xi;
        size_t len;
        int r;
        if (j == i)
            continue;
        path = dt_cli_path("%s/ceremony/share-%u-%u.json", o->dir, j, i);
        r = dt_cli_read(o->prog, path, 1u << 20, &text, &len);
        if (r > 0) {
            size_t l = strlen(waiting);
            snprintf(waiting + l, sizeof waiting - l, "%s%u", l ? ", " : "", j);
            nwait++;
            free(path);
            continue;
        }
        if (r < 0 || (err = dt_share_ct_from_json(rec->group, &cts[j - 1], text, len, &msg))) {
            if (r == 0)
                dt_cli_err(o->prog, "%s: %s (guardian %u publishes it again with 'detente guardian shares')", path,
                           msg ? msg : dt_strerror(err), j);
            free(msg);
            free(text);
            free(path);
            nbad++;
            continue;
        }
        free(text);
        if (dt_share_ct_from(&cts[j - 1]) != j || dt_share_ct_to(&cts[j - 1]) != i) {
            dt_cli_err(o->prog, "%s: holds a share from guardian %u to guardian %u", path,
                       dt_share_ct_from(&cts[j - 1]), dt_share_ct_to(&cts[j - 1]));
            free(path);
            nbad++;
            continue;
        }
        if (finished) { /* an earlier run has checked them */
            free(path);
            continue;
        }
        err = dt_guardian_receive_share(gd, &cts[j - 1], Kj, rec->k);
        if (err && dt_cli_reveal_read(o->prog, o->dir, rec, j, i, &value, &xi, &rct) == 0) {
            /* guardian j has answered a complaint: its revealed share is public */
            if (dt_share_ct_cmp_var(rec->group, &rct, &cts[j - 1]) != 0 &&
                dt_guardian_receive_share(gd, &rct, Kj, rec->k) == DT_OK) {
                printf("took guardian %u's share from its reveal (%s/ceremony/reveal-%u-%u.json)\n", j, o->dir, j, i);
                cts[j - 1] = rct;
                err = DT_OK;
            }
        }
        dt_memzero(&value, sizeof value);
        dt_memzero(&xi, sizeof xi);
        if (err) {
            char *cpath = dt_cli_path("%s/ceremony/complaint-%u-against-%u.json", o->dir, i, j);
            char *cj = dt_cli_complaint_json(rec->group, i, j, complaint_reason(err), &cts[j - 1]);
            size_t l = strlen(complained);
            if (!cj || dt_cli_write(o->prog, cpath, cj, strlen(cj))) {
                free(cj);
                free(cpath);
                free(path);
                goto out;
            }
            fprintf(stderr, "%s: guardian %u's share (%s) is bad: %s.\n  complaint published: %s\n", o->prog, j,
                    path, complaint_reason(err), cpath);
            snprintf(complained + l, sizeof complained - l, "%s%u", l ? ", " : "", j);
            ncomplaints++;
            free(cj);
            free(cpath);
        }
        free(path);
    }
    if (nwait || ncomplaints || nbad) {
        if (nwait)
            dt_cli_err(o->prog, "waiting for the shares of guardians %s: each runs 'detente guardian shares'", waiting);
        if (ncomplaints)
            dt_cli_err(o->prog,
                       "complaint against guardian%s %s: each answers with 'detente guardian reveal'; then anyone "
                       "judges with 'detente election open'",
                       ncomplaints > 1 ? "s" : "", complained);
        goto out;
    }
    if (finished) {
        if (write_ready(o, rec, i, cts))
            goto out;
        printf("guardian %u already holds its key share (in %s); %s/ceremony/ready-%u.json is published.\n", i,
               o->key, o->dir, i);
        rc = 0;
        goto out;
    }
    if ((err = dt_guardian_finish(gd)) || (err = dt_guardian_key_share(gd, &P))) {
        dt_cli_err(o->prog, "cannot compute the key share: %s", dt_strerror(err));
        goto out;
    }
    dt_memzero(&P, sizeof P);
    if ((err = dt_guardian_save(gd, o->key, pass, rec->hb))) {
        dt_cli_err(o->prog, "%s: cannot write the key file (%s)", o->key, dt_strerror(err));
        goto out;
    }
    if (write_ready(o, rec, i, cts))
        goto out;
    printf("guardian %u checked the shares of all %u other guardians and holds its key share (in %s).\n"
           "  public: %s/ceremony/ready-%u.json\n"
           "Next, once every guardian is ready, anyone: detente election open %s\n",
           i, rec->n - 1, o->key, o->dir, i, o->dir);
    rc = 0;
out:
    dt_cli_passphrase_free(pass);
    dt_cli_commitments_free(&cm);
    dt_guardian_destroy(gd);
    dt_record_destroy(rec);
    free(cts);
    return rc;
}

/* ---- reveal ---- */

static int cmd_reveal(const gopts *o)
{
    dt_record *rec = NULL;
    dt_guardian *gd = NULL;
    dt_cli_commitments cm = {0};
    uint32_t i, n = 0, corrupt = dt_cli_test_corrupt_share();
    int rc = 1;

    if (open_guardian(o, &rec, &gd) || dt_cli_commitments_load(o->prog, o->dir, rec, &cm) ||
        dt_cli_guardian_matches(o->prog, rec, gd, &cm, o->key, o->dir))
        goto out;
    i = dt_guardian_index(gd);
    for (uint32_t l = 1; l <= rec->n; l++) {
        dt_share_ct got, mine;
        dt_scalar value, xi;
        char *json, *path;
        int r;
        dt_err err;
        if (l == i)
            continue;
        r = dt_cli_complaint_read(o->prog, o->dir, rec, l, i, &got);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        err = dt_guardian_reveal_share(gd, &value, &xi, l);
        if (!err)
            err = dt_guardian_encrypt_share(gd, &mine, l, &cm.K[(size_t)(l - 1) * rec->k]);
        if (!err && l == corrupt) {
            /* TEST HOOK (docs/roles.md): the cheater of 'guardian shares'
             * reveals what it sent, P_i(l) + 1. Tests only. */
            dt_scalar one;
            fprintf(stderr, "%s: TEST HOOK DETENTE_TEST_CORRUPT_SHARE=%u: revealing the wrong share\n", o->prog, l);
            dt_scalar_from_u64(rec->group, &one, 1);
            dt_scalar_add(rec->group, &value, &value, &one);
            err = dt_share_encrypt(rec->group, &mine, rec->hp, i, l, &cm.K[(size_t)(l - 1) * rec->k], &value, &xi);
        }
        if (err) {
            dt_cli_err(o->prog, "cannot answer guardian %u's complaint: %s", l, dt_strerror(err));
            dt_memzero(&value, sizeof value);
            goto out;
        }
        json = dt_cli_reveal_json(rec->group, i, l, &value, &xi, &mine);
        dt_memzero(&value, sizeof value);
        dt_memzero(&xi, sizeof xi);
        path = dt_cli_path("%s/ceremony/reveal-%u-%u.json", o->dir, i, l);
        r = !json ? -1 : dt_cli_write(o->prog, path, json, strlen(json));
        if (!json)
            dt_cli_err(o->prog, "out of memory");
        if (r == 0) {
            printf("guardian %u answered guardian %u's complaint: %s\n", i, l, path);
            if (dt_share_ct_cmp_var(rec->group, &got, &mine) != 0)
                printf("  note: the share guardian %u complains about is not the one guardian %u sent (was %s/"
                       "ceremony/share-%u-%u.json changed?); the reveal gives guardian %u the share that was sent\n",
                       l, i, o->dir, i, l, l);
            n++;
        }
        free(json);
        free(path);
        if (r)
            goto out;
    }
    if (n == 0)
        printf("no complaint against guardian %u\n", i);
    else
        printf("Next, anyone judges the complaints: detente election open %s\n", o->dir);
    rc = 0;
out:
    dt_cli_commitments_free(&cm);
    dt_guardian_destroy(gd);
    dt_record_destroy(rec);
    return rc;
}

int guardian_main(int argc, const char *argv[])
{
    gopts o;
    const char *sub = argc >= 2 ? argv[1] : NULL;
    int p;

    memset(&o, 0, sizeof o);
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage_text, sub ? stdout : stderr);
        return sub ? 0 : 2;
    }
    if (strcmp(sub, "init") && strcmp(sub, "shares") && strcmp(sub, "receive") && strcmp(sub, "reveal")) {
        fprintf(stderr, "detente guardian: unknown step '%s' (init, shares, receive or reveal)\n", sub);
        return 2;
    }
    snprintf(o.prog, sizeof o.prog, "detente guardian %s", sub);
    if ((p = parse(&o, argc, argv, !strcmp(sub, "init"))))
        return p > 0 ? 0 : 2;
    if (sodium_init() < 0) {
        dt_cli_err(o.prog, "libsodium failed to start");
        return 1;
    }
    if (!strcmp(sub, "init"))
        return cmd_init(&o);
    if (!strcmp(sub, "shares"))
        return cmd_shares(&o);
    if (!strcmp(sub, "receive"))
        return cmd_receive(&o);
    return cmd_reveal(&o);
}
