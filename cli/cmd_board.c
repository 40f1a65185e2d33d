/* detente board: the election's bulletin board, on the operator's side. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <detente/board.h>
#include <detente/note.h>
#include <detente/tiles.h>

#include "cli.h"
#include "role_util.h"
#include "steps.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente board init DIR --origin ORIGIN --witness W [--witness W ...] [--quorum K]\n"
    "                          [--board URI]\n"
    "       detente board publish DIR\n"
    "       detente board receipt DIR CONFIRMATION_CODE [--out FILE]\n"
    "       detente board entries BOARD_DIR [--log-key VKEY]\n"
    "\n"
    "The board is an append-only Merkle log of every public file of the election\n"
    "record DIR (docs/board.md). Its checkpoints are signed by the log's key and\n"
    "cosigned by independent witnesses; 'detente verify DIR' checks it.\n"
    "\n"
    "init     creates the board: a new log key (DIR/private_data/board/log.key), the\n"
    "         public keys DIR/board/log.vkey and DIR/board/witnesses.vkey. ORIGIN\n"
    "         names the election in every checkpoint (e.g. vote.example.org/2026-city).\n"
    "         A witness W is a witness folder ('detente witness init'), or\n"
    "         'http://HOST:PORT VKEY' for one served by 'detente witness serve'.\n"
    "         K witnesses must cosign each checkpoint (default: a majority).\n"
    "         --board URI keeps the log in a PostgreSQL database (postgresql://...),\n"
    "         which several 'detente serve' may share (docs/scale.md); the URI is\n"
    "         written to DIR/private_data/board/log.location (0600). Default: the\n"
    "         SQLite file DIR/private_data/board/log.db.\n"
    "publish  puts every file of DIR not yet on the board onto it, exports the\n"
    "         tiles to DIR/board/, and has the witnesses cosign a new checkpoint\n"
    "         (DIR/board/checkpoint). A published file that has changed is refused.\n"
    "receipt  prints the voter's receipt (a C2SP tlog-proof) for the ballot with\n"
    "         that confirmation code (base64, as printed by 'detente encrypt'); check\n"
    "         it with 'detente receipt verify'.\n"
    "entries  what an auditor sees: checks BOARD_DIR/checkpoint's log signature\n"
    "         (key: BOARD_DIR/log.vkey unless given) and the tiles against its root,\n"
    "         then lists every entry: index, path, and a ballot's confirmation code.\n"
    "         Reads nothing but the tiles (BOARD_DIR may be a copy of DIR/board).\n"
    "\n"
    "Exit status: 0 done, 1 refused or failed, 2 usage.\n";

static int init_cmd(const char *prog, int argc, const char *argv[])
{
    const char *dir = NULL, *origin = NULL, *location = NULL;
    const char *w[DT_BOARD_MAX_WITNESSES];
    char *owned[DT_BOARD_MAX_WITNESSES] = {0};
    size_t nw = 0, quorum = 0;
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--origin") && i + 1 < argc) {
            origin = argv[++i];
        } else if (!strcmp(argv[i], "--witness") && i + 1 < argc) {
            if (nw == DT_BOARD_MAX_WITNESSES) {
                dt_cli_err(prog, "at most %d witnesses", DT_BOARD_MAX_WITNESSES);
                goto out;
            }
            const char *spec = argv[++i];
            /* a folder is given relative to here; the board keeps it absolute */
            if (strncmp(spec, "http://", 7) != 0) {
                char buf[PATH_MAX];
                if (realpath(spec, buf) == NULL) {
                    dt_cli_err(prog, "witness folder %s: not found", spec);
                    rc = 1;
                    goto out;
                }
                if ((owned[nw] = strdup(buf)) == NULL)
                    goto out;
                spec = owned[nw];
            }
            w[nw++] = spec;
        } else if (!strcmp(argv[i], "--board") && i + 1 < argc) {
            location = argv[++i];
        } else if (!strcmp(argv[i], "--quorum") && i + 1 < argc) {
            char *end;
            unsigned long q = strtoul(argv[++i], &end, 10);
            if (*end || q == 0 || q > DT_BOARD_MAX_WITNESSES) {
                dt_cli_err(prog, "--quorum: a number from 1 to the number of witnesses");
                goto out;
            }
            quorum = q;
        } else if (argv[i][0] == '-' || dir) {
            dt_cli_err(prog, "unexpected argument '%s'\n%s", argv[i], usage_text);
            goto out;
        } else {
            dir = argv[i];
        }
    }
    if (!dir || !origin || nw == 0) {
        dt_cli_err(prog, "init needs DIR, --origin and at least one --witness\n%s", usage_text);
        goto out;
    }
    if (quorum == 0)
        quorum = nw / 2 + 1;
    if (quorum > nw) {
        dt_cli_err(prog, "--quorum %zu: only %zu witnesses", quorum, nw);
        goto out;
    }
    char *msg = NULL;
    dt_err err = dt_board_init_at(&msg, dir, location, origin, w, nw, quorum);
    if (err != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        free(msg);
        rc = 1;
        goto out;
    }
    printf("%s/board: a new board for %s with %zu witnesses, quorum %zu.\n"
           "Publish the record with: detente board publish %s\n",
           dir, origin, nw, quorum, dir);
    rc = 0;
out:
    for (size_t i = 0; i < nw; i++)
        free(owned[i]);
    return rc;
}

static int publish_cmd(const char *prog, const char *dir)
{
    size_t added = 0, cosigned = 0;
    if (dt_cli_board_publish(prog, dir, &added, &cosigned))
        return 1;
    printf("%s/board: %zu new entries; checkpoint cosigned by %zu witnesses.\n", dir, added, cosigned);
    return 0;
}

static int receipt_cmd(const char *prog, int argc, const char *argv[])
{
    const char *dir = NULL, *code = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-') {
            dt_cli_err(prog, "unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        } else if (!dir)
            dir = argv[i];
        else if (!code)
            code = argv[i];
        else {
            dt_cli_err(prog, "unexpected argument '%s'", argv[i]);
            return 2;
        }
    }
    if (!dir || !code) {
        dt_cli_err(prog, "receipt needs DIR and a confirmation code\n%s", usage_text);
        return 2;
    }
    unsigned char c[DT_BOARD_CODE_BYTES];
    if (dt_b64_decode_exact(c, sizeof c, code) != DT_OK) {
        dt_cli_err(prog, "'%s' is not a confirmation code (base64 of 32 bytes)", code);
        return 2;
    }
    dt_board *b = NULL;
    char *msg = NULL, *receipt = NULL;
    size_t len = 0;
    dt_err err = dt_board_open(&b, &msg, dir);
    if (err == DT_OK)
        err = dt_board_receipt(b, &msg, c, &receipt, &len);
    dt_board_close(b);
    if (err == DT_OK && out && (err = dt_write_file_atomic(out, receipt, len, 0644)) != DT_OK)
        msg = dt_strdup_printf("%s: cannot write the receipt", out);
    if (err != DT_OK) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        free(msg);
        free(receipt);
        return 1;
    }
    if (!out)
        fwrite(receipt, 1, len, stdout);
    free(receipt);
    return 0;
}

static dt_err print_entry(void *arg, uint64_t index, const unsigned char *data, size_t len)
{
    size_t *count = arg;
    dt_board_entry e;
    (*count)++;
    if (dt_board_entry_parse(&e, data, len) != DT_OK) {
        printf("%llu\t(not a detente entry)\n", (unsigned long long)index);
        return DT_OK;
    }
    printf("%llu\t%.*s", (unsigned long long)index, (int)e.pathlen, e.path);
    if (e.has_code) {
        char *c = dt_b64_encode(e.code, sizeof e.code);
        printf("\tcode %s", c ? c : "?");
        free(c);
    }
    if (e.is_blob)
        printf("\tblob %llu bytes", (unsigned long long)e.blob_size);
    printf("\n");
    return DT_OK;
}

static int entries_cmd(const char *prog, int argc, const char *argv[])
{
    const char *bdir = NULL, *key = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--log-key") && i + 1 < argc)
            key = argv[++i];
        else if (argv[i][0] == '-' || bdir) {
            dt_cli_err(prog, "unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        } else
            bdir = argv[i];
    }
    if (!bdir) {
        dt_cli_err(prog, "entries needs BOARD_DIR\n%s", usage_text);
        return 2;
    }
    char *cpp = dt_strdup_printf("%s/checkpoint", bdir), *kp = dt_strdup_printf("%s/log.vkey", bdir);
    char *note = NULL, *kt = NULL;
    size_t notelen = 0, ktlen = 0, textlen = 0, olen, elen, count = 0;
    dt_note_verifier v;
    unsigned char signed_ok = 0, root[32];
    const char *origin, *ext;
    uint64_t size = 0, bad = UINT64_MAX;
    dt_tiles *t = NULL;
    int rc = 1;
    dt_err err;
    if (!cpp || !kp)
        goto out;
    int r = dt_cli_read(prog, cpp, DT_NOTE_MAX_BYTES, &note, &notelen);
    if (r > 0)
        dt_cli_err(prog, "%s: no checkpoint (is %s a board folder, e.g. ELECTION/board?)", cpp, bdir);
    if (r != 0)
        goto out;
    if ((kt = dt_cli_vkey_arg(prog, "--log-key", key ? key : kp)) == NULL)
        goto out;
    key = kt;
    ktlen = strlen(kt);
    if (dt_note_verifier_parse(&v, key, ktlen) != DT_OK) {
        dt_cli_err(prog, "the log key is not a verifier key");
        goto out;
    }
    if ((err = dt_note_open(&textlen, &signed_ok, NULL, note, notelen, &v, 1)) != DT_OK ||
        dt_checkpoint_parse(&origin, &olen, &size, root, &ext, &elen, note, textlen) != DT_OK) {
        dt_cli_err(prog, "%s: not a checkpoint signed by the log key (%s)", cpp, dt_strerror(err));
        goto out;
    }
    size_t kn;
    const char *kname = dt_note_verifier_name(&v, &kn);
    if (kn != olen || memcmp(kname, origin, olen) != 0) {
        dt_cli_err(prog, "%s: the checkpoint's origin '%.*s' is not the log key's name '%.*s'", cpp, (int)olen, origin,
                   (int)kn, kname);
        goto out;
    }
    printf("# %.*s: %llu entries (the checkpoint's log signature verifies)\n", (int)olen, origin,
           (unsigned long long)size);
    if ((err = dt_tiles_open(&t, bdir, size)) == DT_OK)
        err = dt_tiles_verify(t, root, print_entry, &count, &bad);
    if (err != DT_OK) {
        dt_cli_err(prog, "%s: the tiles do not match the checkpoint (%s)", bdir, dt_strerror(err));
        goto out;
    }
    printf("# all %zu entries hash to the checkpoint's root\n", count);
    rc = 0;
out:
    dt_tiles_close(t);
    free(cpp);
    free(kp);
    free(note);
    free(kt);
    return rc;
}

int board_main(int argc, const char *argv[])
{
    const char *prog = "detente board";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (!strcmp(argv[1], "init"))
        return init_cmd("detente board init", argc - 2, argv + 2);
    if (!strcmp(argv[1], "publish")) {
        if (argc != 3 || argv[2][0] == '-') {
            dt_cli_err(prog, "publish needs exactly one DIR\n%s", usage_text);
            return 2;
        }
        return publish_cmd("detente board publish", argv[2]);
    }
    if (!strcmp(argv[1], "receipt"))
        return receipt_cmd("detente board receipt", argc - 2, argv + 2);
    if (!strcmp(argv[1], "entries"))
        return entries_cmd("detente board entries", argc - 2, argv + 2);
    dt_cli_err(prog, "unknown action '%s'\n%s", argv[1], usage_text);
    return 2;
}
