/* detente receipt verify|show: a voter's receipt (a C2SP tlog-proof),
 * checked offline against the log's key and the witnesses' keys.
 * Exit status: 0 valid (or shown), 1 a check failed, 2 usage or unreadable
 * input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/board.h>
#include <detente/note.h>
#include <detente/receipt.h>

#include "cli.h"
#include "role_util.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente receipt verify RECEIPT --log-key FILE_OR_VKEY --witnesses FILE\n"
    "                              [--quorum K] [--code CONFIRMATION_CODE]\n"
    "       detente receipt show RECEIPT\n"
    "\n"
    "A receipt is a C2SP tlog-proof (c2sp.org/tlog-proof@v1): a board entry, its\n"
    "index, an inclusion proof and the cosigned checkpoint of the board's log.\n"
    "It is checked offline, with nothing but the keys:\n"
    "\n"
    "verify checks that the checkpoint is signed by the log key (whose name is\n"
    "the checkpoint's origin), that at least K of the witnesses listed cosigned\n"
    "it, and that the entry is in the checkpoint's tree at its index. With\n"
    "--code it also checks that the entry is the ballot with that confirmation\n"
    "code (as 'detente encrypt' printed it, base64).\n"
    "\n"
    "  --log-key FILE_OR_VKEY  the log's verifier key, or a file holding it\n"
    "                          (DIR/board/log.vkey of the election)\n"
    "  --witnesses FILE        the witnesses' verifier keys, one a line\n"
    "                          (DIR/board/witnesses.vkey)\n"
    "  --quorum K              cosignatures required, 1 to the number listed\n"
    "                          (default: a majority of the witnesses listed)\n"
    "  --code CODE             the voter's confirmation code\n"
    "\n"
    "show prints the receipt's fields without checking anything.\n"
    "\n"
    "exit status: 0 valid (show: readable), 1 a check failed, 2 usage or\n"
    "unreadable input\n";

#define PROG "detente receipt"
/* A witnesses file: at most DT_NOTE_MAX_SIGS keys (a note holds no more
 * signatures), one a line. */
#define WITNESSES_FILE_MAX (DT_NOTE_MAX_SIGS * DT_NOTE_VKEY_MAX)

/* Reads and parses the receipt file; 0, or -1 after a message. */
static int load_receipt(dt_receipt *r, const char *path)
{
    char *text = NULL;
    size_t len;
    dt_err err;
    int rc = dt_cli_read(PROG, path, DT_RECEIPT_MAX, &text, &len);
    if (rc == 1)
        dt_cli_err(PROG, "%s: no such file", path);
    if (rc != 0)
        return -1;
    err = dt_receipt_parse(r, text, len);
    free(text);
    if (err) {
        dt_cli_err(PROG, "%s: not a tlog-proof receipt (%s)", path,
                   err == DT_ERR_LIMIT ? "a field is too long" : "malformed");
        return -1;
    }
    return 0;
}

/* Parses one key (len bytes) of the given type; what names it in messages. */
static int parse_key(dt_note_verifier *v, const char *s, size_t len, unsigned type, const char *what)
{
    dt_err err = dt_note_verifier_parse(v, s, len);
    if (err) {
        dt_cli_err(PROG, "%s: not a verifier key (%s)", what,
                   err == DT_ERR_INVALID ? "its key ID does not match" : "malformed");
        return -1;
    }
    if (dt_note_verifier_type(v) != type) {
        dt_cli_err(PROG, "%s: %s", what,
                   type == DT_NOTE_ED25519 ? "not a log key (a log signs with type 0x01 keys)"
                                           : "not a witness key (a witness cosigns with type 0x04 keys)");
        return -1;
    }
    return 0;
}

/* --log-key: a file holding one key line, or the key itself. */
static int load_log_key(dt_note_verifier *v, const char *arg)
{
    char *text = dt_cli_vkey_arg(PROG, "--log-key", arg);
    if (text == NULL)
        return -1;
    char *what = dt_cli_path("--log-key %s", arg);
    int rc = parse_key(v, text, strlen(text), DT_NOTE_ED25519, what ? what : "--log-key");
    free(what);
    free(text);
    return rc;
}

/* 1 if a and b are the same key (name, key ID, type and public key). */
static int same_key(const dt_note_verifier *a, const dt_note_verifier *b)
{
    size_t na, nb;
    const char *sa = dt_note_verifier_name(a, &na), *sb = dt_note_verifier_name(b, &nb);
    return dt_note_verifier_type(a) == dt_note_verifier_type(b) && dt_note_verifier_id(a) == dt_note_verifier_id(b) &&
           na == nb && memcmp(sa, sb, na) == 0 &&
           memcmp(dt_note_verifier_pubkey(a), dt_note_verifier_pubkey(b), 32) == 0;
}

/* --witnesses FILE: one key a line; empty lines are skipped, a key listed
 * twice is refused (it would look like two witnesses). */
static int load_witnesses(dt_note_verifier **out, size_t *n, const char *path)
{
    dt_note_verifier *w = NULL;
    char *text = NULL, *p, *end;
    size_t len, ll, line = 0, count = 0;
    int rc = dt_cli_read(PROG, path, WITNESSES_FILE_MAX, &text, &len);
    *out = NULL;
    *n = 0;
    if (rc == 1)
        dt_cli_err(PROG, "%s: no such file", path);
    if (rc != 0)
        return -1;
    w = calloc(DT_NOTE_MAX_SIGS, sizeof *w);
    if (!w) {
        dt_cli_err(PROG, "out of memory");
        goto fail;
    }
    for (p = text, end = text + len; p < end; p += ll + 1) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char *what;
        int bad = 0;
        ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (ll == 0)
            continue;
        what = dt_cli_path("%s:%zu", path, line);
        if (count == DT_NOTE_MAX_SIGS) {
            dt_cli_err(PROG, "%s: more than %d witness keys", what, DT_NOTE_MAX_SIGS);
            bad = 1;
        } else if (parse_key(&w[count], p, ll, DT_NOTE_COSIG, what) != 0) {
            bad = 1;
        } else {
            for (size_t j = 0; j < count && !bad; j++)
                if (same_key(&w[j], &w[count])) {
                    dt_cli_err(PROG, "%s: listed twice", what);
                    bad = 1;
                }
        }
        free(what);
        if (bad)
            goto fail;
        count++;
    }
    if (count == 0) {
        dt_cli_err(PROG, "%s: no witness key", path);
        goto fail;
    }
    free(text);
    *out = w;
    *n = count;
    return 0;
fail:
    free(text);
    free(w);
    return -1;
}

static int verify(int argc, const char *argv[])
{
    const char *file = NULL, *logarg = NULL, *witfile = NULL, *quorum_arg = NULL, *code_arg = NULL, *v;
    unsigned char code[DT_BOARD_CODE_BYTES], *ok = NULL;
    dt_note_verifier vlog, *wit = NULL;
    dt_receipt r;
    dt_board_entry e;
    size_t nwit = 0, quorum, cosigned = 0, tl;
    uint64_t size = 0;
    char why[512];
    int rc = 2, o;

    memset(&r, 0, sizeof r);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((o = dt_cli_opt(PROG, argc, argv, &i, "--log-key", &v)) != 0)
            logarg = v;
        else if ((o = dt_cli_opt(PROG, argc, argv, &i, "--witnesses", &v)) != 0)
            witfile = v;
        else if ((o = dt_cli_opt(PROG, argc, argv, &i, "--quorum", &v)) != 0)
            quorum_arg = v;
        else if ((o = dt_cli_opt(PROG, argc, argv, &i, "--code", &v)) != 0)
            code_arg = v;
        else if (argv[i][0] == '-' || file) {
            dt_cli_err(PROG, "unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        } else
            file = argv[i];
        if (o < 0)
            return 2;
    }
    if (!file) {
        dt_cli_err(PROG, "verify: which receipt?\n%s", usage_text);
        return 2;
    }
    if (!logarg || !witfile) {
        dt_cli_err(PROG, "verify needs %s", !logarg ? "--log-key" : "--witnesses");
        return 2;
    }
    if (code_arg && dt_b64_decode_exact(code, sizeof code, code_arg) != DT_OK) {
        dt_cli_err(PROG, "--code: '%s' is not a confirmation code (the base64 of 32 bytes)", code_arg);
        return 2;
    }
    if (load_log_key(&vlog, logarg) != 0 || load_witnesses(&wit, &nwit, witfile) != 0)
        goto out;
    quorum = nwit / 2 + 1;
    if (quorum_arg) {
        uint32_t q;
        if (dt_cli_u32(PROG, "--quorum", quorum_arg, 1, (uint32_t)nwit, &q) != 0)
            goto out;
        quorum = q;
    }
    if (load_receipt(&r, file) != 0)
        goto out;

    rc = 1;
    printf("receipt %s\n", file);
    if (dt_receipt_verify(&r, &vlog, wit, nwit, quorum, &size, why, sizeof why) != DT_OK) {
        printf("  FAIL: %s\n", why);
        printf("verdict: INVALID\n");
        goto out;
    }
    /* How many of the listed witnesses cosigned (verify has checked them
     * all: this only counts them for the report). */
    ok = calloc(nwit, 1);
    if (!ok) {
        dt_cli_err(PROG, "out of memory");
        rc = 2;
        goto out;
    }
    if (dt_note_open(&tl, ok, NULL, r.note, r.notelen, wit, nwit) != DT_OK)
        memset(ok, 0, nwit); /* cannot happen: verify found quorum >= 1 of them */
    for (size_t j = 0; j < nwit; j++)
        cosigned += ok[j];
    printf("  entry: index %llu in a tree of %llu entries\n", (unsigned long long)r.index, (unsigned long long)size);
    if (dt_board_entry_parse(&e, r.extra, r.extralen) == DT_OK)
        printf("  artifact: %.*s\n", (int)e.pathlen, e.path);
    else
        printf("  artifact: none (the entry is not a detente board entry)\n");
    {
        size_t nl;
        const char *name = dt_note_verifier_name(&vlog, &nl);
        printf("  log signature: ok (%.*s, the checkpoint's origin)\n", (int)nl, name);
    }
    printf("  witnesses: %zu of %zu witnesses cosigned, %zu required\n", cosigned, nwit, quorum);
    printf("  inclusion: ok (%zu proof hashes)\n", r.prooflen);
    if (code_arg) {
        if (dt_board_entry_parse(&e, r.extra, r.extralen) != DT_OK) {
            printf("  FAIL: the entry is not a detente board entry, so it has no confirmation code\n");
            printf("verdict: INVALID\n");
            goto out;
        }
        if (!e.has_code || memcmp(e.code, code, sizeof code) != 0) {
            printf("  FAIL: the entry %s\n",
                   e.has_code ? "is for another confirmation code" : "is not a ballot (it has no confirmation code)");
            printf("verdict: INVALID\n");
            goto out;
        }
        printf("  code: the confirmation code matches\n");
    }
    printf("verdict: VALID\n");
    rc = 0;
out:
    dt_receipt_free(&r);
    free(wit);
    free(ok);
    return rc;
}

static int show(int argc, const char *argv[])
{
    const char *file = NULL;
    dt_receipt r;
    dt_board_entry e;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || file) {
            dt_cli_err(PROG, "unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        }
        file = argv[i];
    }
    if (!file) {
        dt_cli_err(PROG, "show: which receipt?\n%s", usage_text);
        return 2;
    }
    if (load_receipt(&r, file) != 0)
        return 2;
    printf("receipt %s (not verified: 'detente receipt verify' checks it)\n", file);
    printf("index: %llu\n", (unsigned long long)r.index);
    if (!r.extra)
        printf("entry: none\n");
    else if (dt_board_entry_parse(&e, r.extra, r.extralen) == DT_OK) {
        printf("entry: %zu bytes, a detente board entry\n", r.extralen);
        printf("  path: %.*s\n", (int)e.pathlen, e.path);
        if (e.has_code) {
            char *c = dt_b64_encode(e.code, sizeof e.code);
            printf("  confirmation code: %s\n", c ? c : "?");
            free(c);
        }
    } else
        printf("entry: %zu bytes, not a detente board entry\n", r.extralen);
    printf("proof: %zu hashes\n", r.prooflen);
    for (size_t i = 0; i < r.prooflen; i++) {
        char *h = dt_b64_encode(r.proof[i], sizeof r.proof[i]);
        printf("  %s\n", h ? h : "?");
        free(h);
    }
    printf("checkpoint:\n");
    fwrite(r.note, 1, r.notelen, stdout);
    dt_receipt_free(&r);
    return 0;
}

int receipt_main(int argc, const char *argv[])
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show"))
        return show(argc - 1, argv + 1);
    dt_cli_err(PROG, "no subcommand '%s'\n%s", argv[1], usage_text);
    return 2;
}
