/* The encrypted-ballot readers on cJSON against the jansson readers they
 * replaced (tests/ballot_diff.h): the record reader
 * (DT_RECORD_FILE_BALLOT against dt_record_parse_ballot_jansson) with 32-
 * and 512-byte elements, and dt_ballot_parse against
 * dt_ballot_parse_jansson in both groups (the sample record's integer-group
 * election and fuzz/election, ristretto255).
 *
 * Input: a ballot's JSON (encrypted_ballots/<device>/eballot-*.json).
 * Promises checked: both accept with equal values, or both refuse with the
 * same error and the same message; a text with a NUL byte, where jansson is
 * no reference (expect_refused_nul), is refused by every cJSON reader. */
#include "../tests/ballot_diff.h"
#include "fuzz_election.h"

static fuzz_election el_int, el_r255;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_election_load(&el_int, FUZZ_ELECTION_INT);
    fuzz_election_load(&el_r255, FUZZ_ELECTION_R255);
    return 0;
}

static void expect_same(bd_outcome o, const char *why, const uint8_t *data, size_t size)
{
    if (o != BD_DIFFER)
        return;
    fprintf(stderr, "fuzz: the readers differ on %zu bytes: %s\n", size, why);
    (void)data;
    FUZZ_CHECK(o != BD_DIFFER);
}

/* A text with a NUL byte: JSON allows none outside a string and none raw
 * inside one (RFC 8259), and jansson is no reference for it (its lexer
 * marks the end of its buffer with NUL, so it reads "62<NUL>" as 62 and goes
 * on: found by this harness). Promise checked: every cJSON reader refuses. */
static void expect_refused_nul(const char *text, size_t size)
{
    const size_t ebs[2] = {32, 512};
    const dt_ballot_ctx *ctxs[2] = {el_r255.ctx, el_int.ctx};
    for (int i = 0; i < 2; i++) {
        dt_record *rec = NULL;
        dt_ballot *b = NULL;
        char *msg = NULL;
        dt_err e = dt_record_parse_file(&rec, &msg, DT_RECORD_FILE_BALLOT, ebs[i], (const unsigned char *)text, size);
        dt_record_destroy(rec);
        free(msg);
        msg = NULL;
        FUZZ_CHECK(e != DT_OK);
        e = dt_ballot_parse(ctxs[i], &b, &msg, text, size);
        dt_ballot_destroy(b);
        free(msg);
        FUZZ_CHECK(e != DT_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[4096];
    /* an exact copy: a read past the end is an error under ASan */
    char *text = (char *)fuzz_dup(data, size);
    if (memchr(data, 0, size)) {
        expect_refused_nul(text, size);
        free(text);
        return 0;
    }
    expect_same(bd_record(text, size, 32, why, sizeof why), why, data, size);
    expect_same(bd_record(text, size, 512, why, sizeof why), why, data, size);
    expect_same(bd_ballot(el_r255.ctx, text, size, why, sizeof why), why, data, size);
    expect_same(bd_ballot(el_int.ctx, text, size, why, sizeof why), why, data, size);
    free(text);
    return 0;
}
