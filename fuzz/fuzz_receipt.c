/* Voter receipts (tlog-proof bundles): dt_receipt_parse, then
 * dt_receipt_verify of what parses against the log key "fuzz.example/log"
 * and the witness key "fuzz.example/witness" (seeds 32 x 0x01 and 32 x 0x02,
 * as in fuzz_note.c), with which fuzz/corpus/receipt is signed.
 *
 * Input: a receipt. Promises checked: what parses formats back to exactly
 * the input (dt_receipt_format: one text per receipt); a failure leaves the
 * receipt empty; verification answers DT_OK (then the size is the
 * checkpoint's and the reason empty), DT_ERR_PROOF or DT_ERR_ENCODING, with
 * a reason. */
#include <detente/receipt.h>

#include "fuzz.h"

static dt_note_verifier log_key, wit_key;

static void key(dt_note_verifier *v, const char *name, unsigned type, unsigned char fill)
{
    dt_note_signer s;
    unsigned char seed[32];
    memset(seed, fill, sizeof seed);
    FUZZ_CHECK(dt_note_signer_from_seed(&s, name, strlen(name), type, seed) == DT_OK);
    dt_note_signer_verifier(v, &s);
    dt_note_signer_clear(&s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    key(&log_key, "fuzz.example/log", DT_NOTE_ED25519, 0x01);
    key(&wit_key, "fuzz.example/witness", DT_NOTE_COSIG, 0x02);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dt_receipt r; /* 2 KiB of proof: not on libFuzzer's stack */
    char *out = NULL, why[256];
    size_t outlen = 0;
    uint64_t tree_size = 1;

    if (dt_receipt_parse(&r, (const char *)data, size) != DT_OK) {
        FUZZ_CHECK(fuzz_all_zero(&r, sizeof r));
        return 0;
    }
    FUZZ_CHECK(dt_receipt_format(&out, &outlen, r.extra, r.extralen, r.index, (const unsigned char(*)[32])r.proof,
                                 r.prooflen, r.note, r.notelen) == DT_OK);
    FUZZ_CHECK(outlen == size && memcmp(out, data, size) == 0);
    free(out);

    memset(why, 'x', sizeof why);
    dt_err err = dt_receipt_verify(&r, &log_key, &wit_key, 1, 1, &tree_size, why, sizeof why);
    FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL);
    if (err == DT_OK)
        FUZZ_CHECK(why[0] == '\0' && r.index < tree_size);
    else
        FUZZ_CHECK((err == DT_ERR_PROOF || err == DT_ERR_ENCODING) && why[0] != '\0' && tree_size == 0);
    dt_receipt_free(&r);
    return 0;
}
