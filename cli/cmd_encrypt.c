/* detente encrypt ELECTION_DIR PLAINTEXT.json: what a voting device does.
 * Prints the encrypted ballot (the record's JSON layout) on standard output;
 * the confirmation code goes to standard error for the voter to note. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <detente/ballot.h>
#include <detente/record.h>

#include <jansson.h>

#include "cli.h"
#include "record/record.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente encrypt [--device ID] [--challenge] [--nonce-out FILE]\n"
    "                       [--allow-overvote] [--previous-code CODE] ELECTION_DIR PLAINTEXT.json\n"
    "\n"
    "Encrypts a plaintext ballot (the layout of private_data/input/pballot-*.json)\n"
    "under the election in ELECTION_DIR, with its range proofs, contest limit\n"
    "proofs, contest data and confirmation code, and prints the encrypted ballot\n"
    "as JSON on standard output. The confirmation code is also printed on\n"
    "standard error.\n"
    "\n"
    "  --device ID          the encrypting device's id (default: device-1)\n"
    "  --challenge          mark the ballot CHALLENGED (Benaloh challenge) instead of CAST\n"
    "  --nonce-out FILE     write the ballot nonce (hex) to FILE, mode 0600: it opens the\n"
    "                       ballot; publish it only for a challenged ballot\n"
    "  --allow-overvote     record a contest with more votes than its limit as an\n"
    "                       overvote (all its options encrypted as 0, the marks in its\n"
    "                       contest data, as ElectionGuard 2.0 section 3.3.8 says);\n"
    "                       without it such a ballot is refused\n"
    "  --previous-code CODE when the election chains confirmation codes: the code\n"
    "                       (base64) of this device's previous ballot; without it the\n"
    "                       ballot starts the device's chain\n"
    "\n"
    "exit status: 0 done, 1 the ballot is refused (the message says why), 2 usage or\n"
    "the election cannot be read\n";

/* 0 if no contest of the plaintext has more votes than its limit; else
 * prints which and returns -1. Malformed input is left to the parser. */
static int check_overvotes(const dt_record *rec, const char *file, const unsigned char *text, size_t len)
{
    json_t *j = json_loadb((const char *)text, len, 0, NULL), *contests, *c;
    size_t i;
    int rc = 0;
    if (!j)
        return 0;
    contests = json_object_get(j, "contests");
    json_array_foreach(contests, i, c) {
        const char *id = json_string_value(json_object_get(c, "contest_id"));
        json_t *sels = json_object_get(c, "selections"), *sel;
        size_t k;
        json_int_t sum = 0;
        if (!id)
            continue;
        json_array_foreach(sels, k, sel) {
            json_t *v = json_object_get(sel, "vote");
            if (json_is_integer(v) && json_integer_value(v) > 0)
                sum += json_integer_value(v);
        }
        for (size_t m = 0; m < rec->manifest.ncontests; m++)
            if (strcmp(rec->manifest.contests[m].id, id) == 0 && sum > rec->manifest.contests[m].votes_allowed) {
                fprintf(stderr,
                        "detente encrypt: %s: contest %s has %lld votes, its limit is %u (an overvote); "
                        "--allow-overvote records it as one\n",
                        file, id, (long long)sum, rec->manifest.contests[m].votes_allowed);
                rc = -1;
            }
    }
    json_decref(j);
    return rc;
}

int encrypt_main(int argc, const char *argv[])
{
    const char *dir = NULL, *file = NULL, *device = "device-1", *nonce_out = NULL, *prev = NULL;
    int challenge = 0, allow_overvote = 0, rc = 1;
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    dt_ballot_device *dev = NULL;
    dt_plaintext_ballot *pb = NULL;
    dt_ballot *b = NULL;
    dt_ballot_nonce xi;
    unsigned char *text = NULL;
    char *msg = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    dt_err err;

    memset(&xi, 0, sizeof xi);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--challenge")) {
            challenge = 1;
        } else if (!strcmp(a, "--allow-overvote")) {
            allow_overvote = 1;
        } else if ((!strcmp(a, "--device") || !strcmp(a, "--nonce-out") || !strcmp(a, "--previous-code"))) {
            if (i + 1 >= argc) {
                fprintf(stderr, "detente encrypt: %s needs a value\n", a);
                return 2;
            }
            if (!strcmp(a, "--device"))
                device = argv[++i];
            else if (!strcmp(a, "--nonce-out"))
                nonce_out = argv[++i];
            else
                prev = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "detente encrypt: unknown option '%s'\n%s", a, usage_text);
            return 2;
        } else if (!dir) {
            dir = a;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "detente encrypt: too many arguments ('%s')\n", a);
            return 2;
        }
    }
    if (!dir || !file) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "detente encrypt: libsodium failed to start\n");
        return 1;
    }
    if ((err = dt_record_load_part(&rec, &msg, dir, DT_RECORD_ELECTION))) {
        fprintf(stderr, "detente encrypt: cannot read the election in %s: %s\n", dir, msg ? msg : dt_strerror(err));
        rc = 2;
        goto out;
    }
    if ((err = dt_read_file(&text, &len, file, 64u << 20))) {
        fprintf(stderr, "detente encrypt: %s: %s\n", file,
                err == DT_ERR_LIMIT ? "larger than 64 MiB" : "cannot read the file");
        rc = 2;
        goto out;
    }
    if ((err = dt_ballot_ctx_create(&ctx, &msg, rec)) ||
        (err = dt_ballot_device_create(&dev, &msg, ctx, device, NULL, 0))) {
        fprintf(stderr, "detente encrypt: %s\n", msg ? msg : dt_strerror(err));
        goto out;
    }
    if (prev) {
        unsigned char code[32];
        if (!dt_ballot_device_chains(dev)) {
            fprintf(stderr, "detente encrypt: --previous-code: this election does not chain confirmation codes\n");
            rc = 2;
            goto out;
        }
        if (dt_b64_decode_exact(code, 32, prev) != DT_OK) {
            fprintf(stderr, "detente encrypt: --previous-code: not base64 of 32 bytes\n");
            rc = 2;
            goto out;
        }
        dt_ballot_device_resume_chain(dev, code);
    }
    if ((err = dt_plaintext_ballot_parse(ctx, &pb, &msg, (const char *)text, len))) {
        fprintf(stderr, "detente encrypt: %s: %s\n", file, msg ? msg : dt_strerror(err));
        goto out;
    }
    if (!allow_overvote && check_overvotes(rec, file, text, len) != 0)
        goto out;
    if ((err = dt_ballot_encrypt(dev, &b, &xi, pb, (int64_t)time(NULL)))) {
        fprintf(stderr, "detente encrypt: %s\n", dt_strerror(err));
        goto out;
    }
    dt_ballot_set_state(b, challenge ? DT_BALLOT_STATE_CHALLENGED : DT_BALLOT_STATE_CAST);
    if (nonce_out) {
        char hex[2 * DT_BALLOT_NONCE_BYTES + 2];
        sodium_bin2hex(hex, sizeof hex, xi.bytes, DT_BALLOT_NONCE_BYTES);
        hex[2 * DT_BALLOT_NONCE_BYTES] = '\n';
        hex[2 * DT_BALLOT_NONCE_BYTES + 1] = '\0';
        err = dt_write_file_atomic(nonce_out, hex, strlen(hex), 0600);
        sodium_memzero(hex, sizeof hex);
        if (err) {
            fprintf(stderr, "detente encrypt: %s: cannot write\n", nonce_out);
            goto out;
        }
    }
    if ((err = dt_ballot_serialize(b, &out, &outlen))) {
        fprintf(stderr, "detente encrypt: %s\n", dt_strerror(err));
        goto out;
    }
    if (fwrite(out, 1, outlen, stdout) != outlen || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "detente encrypt: cannot write to standard output\n");
        goto out;
    }
    {
        unsigned char code[32];
        char *c64;
        dt_ballot_confirmation_code(b, code);
        c64 = dt_b64_encode(code, 32);
        fprintf(stderr, "confirmation code: %s\n", c64 ? c64 : "?");
        free(c64);
    }
    rc = 0;
out:
    dt_ballot_nonce_wipe(&xi);
    if (text) {
        sodium_memzero(text, len);
        free(text);
    }
    free(out);
    free(msg);
    dt_ballot_destroy(b);
    dt_plaintext_ballot_destroy(pb);
    dt_ballot_device_destroy(dev);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    return rc;
}
