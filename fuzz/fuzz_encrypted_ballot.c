/* The encrypted ballot parser of the ballot module, dt_ballot_parse (the one
 * a voting device and the board use; the record reader has its own,
 * fuzz_record with DT_RECORD_FILE_BALLOT), in both groups: the sample
 * record's integer-group election and fuzz/election (ristretto255).
 *
 * Input: a ballot's JSON (encrypted_ballots/<device>/eballot-*.json).
 * Promises checked: a failure gives no ballot and a message; a CAST or
 * CHALLENGED ballot that parses serializes, parses again to the same id and
 * confirmation code, and serializes to the same text. */
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

static void parse(const fuzz_election *el, const uint8_t *data, size_t size)
{
    dt_ballot *b = NULL, *again = NULL;
    char *msg = NULL, *text = NULL, *text2 = NULL;
    size_t len = 0, len2 = 0;
    unsigned char code[DT_HASH_BYTES], code2[DT_HASH_BYTES];
    dt_err err = dt_ballot_parse(el->ctx, &b, &msg, (const char *)data, size);
    if (err != DT_OK) {
        FUZZ_CHECK(b == NULL && msg != NULL);
        free(msg);
        return;
    }
    FUZZ_CHECK(b != NULL && msg == NULL);
    if (dt_ballot_get_state(b) == DT_BALLOT_STATE_PENDING) {
        dt_ballot_destroy(b);
        return;
    }
    FUZZ_CHECK(dt_ballot_serialize(b, &text, &len) == DT_OK && strlen(text) == len);
    err = dt_ballot_parse(el->ctx, &again, &msg, text, len);
    if (err != DT_OK)
        fprintf(stderr, "fuzz: the serialization does not parse: %s\n", msg);
    FUZZ_CHECK(err == DT_OK);
    FUZZ_CHECK(strcmp(dt_ballot_id(again), dt_ballot_id(b)) == 0);
    dt_ballot_confirmation_code(b, code);
    dt_ballot_confirmation_code(again, code2);
    FUZZ_CHECK(memcmp(code, code2, sizeof code) == 0);
    FUZZ_CHECK(dt_ballot_serialize(again, &text2, &len2) == DT_OK);
    FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
    free(text);
    free(text2);
    dt_ballot_destroy(b);
    dt_ballot_destroy(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(&el_int, data, size);
    parse(&el_r255, data, size);
    return 0;
}
