/* detente election create|open: the administrator's steps around the key
 * ceremony. create writes the election's configuration; open judges the
 * ceremony's complaints and, when every guardian is ready, publishes the
 * joint key (election_initialized.json). Neither holds a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>
#include <detente/record.h>
#include <detente/workflow.h>

#include "cli.h"
#include "record/record.h"
#include "role_util.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente election create --manifest FILE --guardians N --quorum K\n"
    "                               [--group ristretto255|integer4096] [--chain]\n"
    "                               [--device-info TEXT] DIR\n"
    "       detente election open DIR\n"
    "\n"
    "  create  makes a new election in DIR (created if needed): constants.json,\n"
    "          manifest.json (FILE's bytes, after validation) and\n"
    "          election_config.json with N guardians, any K of whom can decrypt.\n"
    "          --group: ristretto255 (default) or integer4096 (ElectionGuard's\n"
    "          standard group). --chain: chain the ballots' confirmation codes.\n"
    "          --device-info: the bytes of B_aux,0 (default \"detente\").\n"
    "          Then each guardian runs 'detente guardian init' (docs/roles.md).\n"
    "  open    after the key ceremony: judges each complaint of\n"
    "          DIR/ceremony/ with the accused guardian's reveal. An upheld one\n"
    "          prints \"guardian J cheated: replace it\" and nothing is written; a\n"
    "          complaint without a reveal blocks the opening. With no complaint\n"
    "          outstanding and every guardian ready (DIR/ceremony/ready-I.json),\n"
    "          checks every guardian's commitments and writes the joint key to\n"
    "          DIR/election_initialized.json.\n"
    "\n"
    "Exit status: 0 done, 1 refused (the message says why), 2 usage.\n";

#define MANIFEST_MAX (64u << 20)

static int cmd_create(int argc, const char *argv[])
{
    const char *prog = "detente election create", *manifest = NULL, *dir = NULL, *v;
    const char *info = "detente";
    uint32_t n = 0, k = 0;
    dt_group_id group = DT_GROUP_RISTRETTO255;
    bool chain = false;
    char *text = NULL, *msg = NULL, *cfg = NULL;
    size_t len;
    int rc = 1, r;
    dt_err err;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--chain")) {
            chain = true;
            continue;
        }
        if ((r = dt_cli_opt(prog, argc, argv, &i, "--manifest", &manifest)) ||
            (r = dt_cli_opt(prog, argc, argv, &i, "--device-info", &info))) {
            if (r < 0)
                return 2;
            continue;
        }
        if ((r = dt_cli_opt(prog, argc, argv, &i, "--guardians", &v))) {
            if (r < 0 || dt_cli_u32(prog, "--guardians", v, 1, DT_CEREMONY_MAX_GUARDIANS, &n))
                return 2;
            continue;
        }
        if ((r = dt_cli_opt(prog, argc, argv, &i, "--quorum", &v))) {
            if (r < 0 || dt_cli_u32(prog, "--quorum", v, 1, DT_CEREMONY_MAX_GUARDIANS, &k))
                return 2;
            continue;
        }
        if ((r = dt_cli_opt(prog, argc, argv, &i, "--group", &v))) {
            if (r < 0)
                return 2;
            if (!strcmp(v, "ristretto255"))
                group = DT_GROUP_RISTRETTO255;
            else if (!strcmp(v, "integer4096"))
                group = DT_GROUP_INTEGER4096;
            else {
                dt_cli_err(prog, "--group is ristretto255 or integer4096, not '%s'", v);
                return 2;
            }
            continue;
        }
        if (argv[i][0] == '-' || dir) {
            dt_cli_err(prog, "unexpected argument '%s' (see 'detente election --help')", argv[i]);
            return 2;
        }
        dir = argv[i];
    }
    if (!dir || !manifest || !n || !k) {
        dt_cli_err(prog, "needs --manifest FILE, --guardians N, --quorum K and DIR (see 'detente election --help')");
        return 2;
    }
    if (k > n) {
        dt_cli_err(prog, "the quorum (%u) cannot exceed the number of guardians (%u)", k, n);
        return 2;
    }
    if (!*info) {
        dt_cli_err(prog, "--device-info must not be empty");
        return 2;
    }
    cfg = dt_cli_path("%s/election_config.json", dir);
    if (dt_cli_exists(cfg)) {
        dt_cli_err(prog, "%s already holds an election (election_config.json): choose another folder", dir);
        goto out;
    }
    if ((r = dt_cli_read(prog, manifest, MANIFEST_MAX, &text, &len))) {
        if (r > 0)
            dt_cli_err(prog, "%s: no such manifest file", manifest);
        goto out;
    }
    if ((err = dt_election_create(&msg, dir, group, (const unsigned char *)text, len, n, k,
                                  (const unsigned char *)info, strlen(info), chain))) {
        dt_cli_err(prog, "%s: %s", manifest, msg ? msg : dt_strerror(err));
        goto out;
    }
    printf("election created in %s: %u guardians, any %u of whom can decrypt (%s%s).\n"
           "Next, each guardian on its own machine: detente guardian init %s --index I --key KEYFILE\n",
           dir, n, k, group == DT_GROUP_RISTRETTO255 ? "ristretto255" : "integer4096",
           chain ? ", chained confirmation codes" : "", dir);
    rc = 0;
out:
    free(text);
    free(msg);
    free(cfg);
    return rc;
}

/* Judges every complaint. Returns 0 if none is outstanding or upheld, 1 if
 * some guardian cheated, 2 if a complaint awaits its reveal, -1 on a bad
 * file. */
static int judge_complaints(const char *prog, const char *dir, const dt_record *rec, const dt_cli_commitments *cm)
{
    int cheated = 0, waiting = 0;
    uint32_t n = rec->n, k = rec->k;
    for (uint32_t j = 1; j <= n; j++) {     /* the accused */
        for (uint32_t l = 1; l <= n; l++) { /* the complainer */
            dt_share_ct got, sent;
            dt_scalar value, xi;
            int r;
            if (l == j)
                continue;
            if ((r = dt_cli_complaint_read(prog, dir, rec, l, j, &got)) < 0)
                return -1;
            if (r > 0)
                continue;
            if ((r = dt_cli_reveal_read(prog, dir, rec, j, l, &value, &xi, &sent)) < 0)
                return -1;
            if (r > 0) {
                printf("guardian %u complains about guardian %u's share, which has not answered: guardian %u runs "
                       "'detente guardian reveal'\n",
                       l, j, j);
                waiting = 1;
                continue;
            }
            /* the sender's own account: its revealed share against the
             * ciphertext it says it sent, and against its commitments */
            if (dt_ceremony_judge_complaint_var(rec->group, rec->hp, &sent, &cm->K[(size_t)(l - 1) * k],
                                                &cm->K[(size_t)(j - 1) * k], k, &value, &xi) == DT_COMPLAINT_UPHELD) {
                printf("guardian %u cheated: replace it (its share to guardian %u, revealed in %s/ceremony/"
                       "reveal-%u-%u.json, does not match its commitments or its ciphertext)\n",
                       j, l, dir, j, l);
                cheated = 1;
            } else if (dt_share_ct_cmp_var(rec->group, &got, &sent) == 0) {
                printf("guardian %u's complaint against guardian %u: complaint dismissed (the share decrypts and "
                       "checks)\n",
                       l, j);
            } else {
                printf("guardian %u's complaint against guardian %u: complaint dismissed: guardian %u's revealed "
                       "share is good, but it is not the share guardian %u complains about (changed on the way?); "
                       "guardian %u takes it with 'detente guardian receive'\n",
                       l, j, j, l, l);
            }
        }
    }
    return cheated ? 1 : waiting ? 2 : 0;
}

static int cmd_open(int argc, const char *argv[])
{
    const char *prog = "detente election open", *dir = NULL;
    dt_record *rec = NULL;
    dt_cli_commitments cm = {0};
    char *msg = NULL, *opened = NULL, notready[256] = "";
    uint32_t nnot = 0;
    int rc = 1, j;
    dt_err err;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || dir) {
            dt_cli_err(prog, "unexpected argument '%s' (see 'detente election --help')", argv[i]);
            return 2;
        }
        dir = argv[i];
    }
    if (!dir) {
        dt_cli_err(prog, "needs DIR (see 'detente election --help')");
        return 2;
    }
    if (!(rec = dt_cli_record_load(prog, dir, DT_RECORD_CONFIG)))
        goto out;
    opened = dt_cli_path("%s/election_initialized.json", dir);
    if (dt_cli_exists(opened)) {
        dt_cli_err(prog, "%s is already open (%s exists)", dir, opened);
        goto out;
    }
    if (dt_cli_commitments_load(prog, dir, rec, &cm))
        goto out;
    j = judge_complaints(prog, dir, rec, &cm);
    if (j == 1) {
        dt_cli_err(prog,
                   "the election is not opened: the key ceremony restarts without the cheating guardian: with a "
                   "new guardian in its place, every guardian starts again (an empty %s/ceremony, new key files)",
                   dir);
        goto out;
    }
    if (j == 2) {
        dt_cli_err(prog, "the election is not opened: a complaint awaits its answer");
        goto out;
    }
    if (j < 0)
        goto out;
    for (uint32_t i = 1; i <= rec->n; i++) {
        char *path = dt_cli_path("%s/ceremony/ready-%u.json", dir, i), *text = NULL;
        size_t len;
        json_t *root = NULL, *g;
        int r = dt_cli_read(prog, path, 1u << 20, &text, &len);
        if (r == 0) {
            root = json_loadb(text, len, 0, NULL);
            g = json_object_get(root, "guardian");
            if (!json_is_integer(g) || json_integer_value(g) != (json_int_t)i) {
                dt_cli_err(prog, "%s: not guardian %u's ready file", path, i);
                r = -1;
            }
        }
        json_decref(root);
        free(text);
        free(path);
        if (r < 0)
            goto out;
        if (r > 0) {
            size_t l = strlen(notready);
            snprintf(notready + l, sizeof notready - l, "%s%u", l ? ", " : "", i);
            nnot++;
        }
    }
    if (nnot) {
        dt_cli_err(prog,
                   "the election is not opened: guardian%s %s %s not confirmed %s shares yet (no "
                   "%s/ceremony/ready-I.json): each runs 'detente guardian receive'",
                   nnot > 1 ? "s" : "", notready, nnot > 1 ? "have" : "has", nnot > 1 ? "their" : "its", dir);
        goto out;
    }
    if ((err = dt_election_open(&msg, dir, (const char *const *)cm.text, rec->n))) {
        dt_cli_err(prog, "%s", msg ? msg : dt_strerror(err));
        goto out;
    }
    printf("election open: %s holds the joint public key of the %u guardians.\n"
           "Ballots can be encrypted now: detente encrypt %s PLAINTEXT_BALLOT\n",
           opened, rec->n, dir);
    rc = 0;
out:
    dt_cli_commitments_free(&cm);
    dt_record_destroy(rec);
    free(msg);
    free(opened);
    return rc;
}

int election_main(int argc, const char *argv[])
{
    const char *sub = argc >= 2 ? argv[1] : NULL;
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage_text, sub ? stdout : stderr);
        return sub ? 0 : 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "detente election: libsodium failed to start\n");
        return 1;
    }
    if (!strcmp(sub, "create"))
        return cmd_create(argc, argv);
    if (!strcmp(sub, "open"))
        return cmd_open(argc, argv);
    fprintf(stderr, "detente election: unknown step '%s' (create or open)\n", sub);
    return 2;
}
