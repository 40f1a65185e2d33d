/* The plaintext ballot parser, dt_plaintext_ballot_parse, against the
 * manifest of the sample record (tests/data/allAvailable).
 *
 * Input: a ballot's JSON (private_data/input/pballot-*.json). Promises
 * checked: a failure gives no ballot and a message; what parses serializes,
 * the serialization parses again, and serializing that gives the same text
 * (the serialization is a fixed point). */
#include "fuzz_election.h"

static fuzz_election el;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_election_load(&el, FUZZ_ELECTION_INT);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_plaintext_ballot *pb = NULL, *again = NULL;
    char *msg = NULL, *text = NULL, *text2 = NULL;
    size_t len = 0, len2 = 0;
    dt_err err = dt_plaintext_ballot_parse(el.ctx, &pb, &msg, (const char *)data, size);
    if (err != DT_OK) {
        FUZZ_CHECK(pb == NULL && msg != NULL);
        free(msg);
        return 0;
    }
    FUZZ_CHECK(pb != NULL && msg == NULL);
    FUZZ_CHECK(dt_plaintext_ballot_serialize(pb, &text, &len) == DT_OK && strlen(text) == len);
    err = dt_plaintext_ballot_parse(el.ctx, &again, &msg, text, len);
    if (err != DT_OK)
        fprintf(stderr, "fuzz: the serialization does not parse: %s\n%s\n", msg, text);
    FUZZ_CHECK(err == DT_OK);
    FUZZ_CHECK(strcmp(dt_plaintext_ballot_id(again), dt_plaintext_ballot_id(pb)) == 0);
    FUZZ_CHECK(dt_plaintext_ballot_serialize(again, &text2, &len2) == DT_OK);
    FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
    free(text);
    free(text2);
    dt_plaintext_ballot_destroy(pb);
    dt_plaintext_ballot_destroy(again);
    return 0;
}
