/* Signed notes: dt_note_open against a fixed set of keys, and
 * dt_checkpoint_parse on the text of a note that opens.
 *
 * Known keys: the three of tests/vectors/signed-note, and two derived here
 * from fixed seeds: the Ed25519 key "fuzz.example/log" (seed 32 x 0x01) and
 * the cosignature key "fuzz.example/witness" (seed 32 x 0x02, type 0x04),
 * with which fuzz/corpus/note's checkpoints are signed and cosigned.
 *
 * Input: a signed note. Promises checked: on success the text is a prefix of
 * the note ending in a newline, at least one known key verified, and only
 * the cosignature key has a timestamp; on error every output is zero. */
#include <detente/note.h>

#include "fuzz.h"

#define NKNOWN 5

static dt_note_verifier known[NKNOWN];

static void add_vkey(size_t i, const char *vkey)
{
    FUZZ_CHECK(dt_note_verifier_parse(&known[i], vkey, strlen(vkey)) == DT_OK);
}

static void add_derived(size_t i, const char *name, unsigned type, unsigned char fill)
{
    dt_note_signer s;
    unsigned char seed[32];
    memset(seed, fill, sizeof seed);
    FUZZ_CHECK(dt_note_signer_from_seed(&s, name, strlen(name), type, seed) == DT_OK);
    dt_note_signer_verifier(&known[i], &s);
    dt_note_signer_clear(&s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    add_vkey(0, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    add_vkey(1, "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop");
    add_vkey(2, "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    add_derived(3, "fuzz.example/log", DT_NOTE_ED25519, 0x01);
    add_derived(4, "fuzz.example/witness", DT_NOTE_COSIG, 0x02);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t textlen = 1;
    unsigned char verified[NKNOWN];
    uint64_t ts[NKNOWN];
    const char *note = (const char *)data;
    memset(verified, 0xff, sizeof verified);
    memset(ts, 0xff, sizeof ts);
    dt_err err = dt_note_open(&textlen, verified, ts, note, size, known, NKNOWN);
    if (err != DT_OK) {
        FUZZ_CHECK(textlen == 0 && fuzz_all_zero(verified, sizeof verified) && fuzz_all_zero(ts, sizeof ts));
        return 0;
    }
    FUZZ_CHECK(textlen > 0 && textlen < size && note[textlen - 1] == '\n');
    int any = 0;
    for (size_t i = 0; i < NKNOWN; i++) {
        FUZZ_CHECK(verified[i] <= 1);
        any |= verified[i];
        if (dt_note_verifier_type(&known[i]) != DT_NOTE_COSIG)
            FUZZ_CHECK(ts[i] == 0);
    }
    FUZZ_CHECK(any);

    const char *origin, *ext;
    size_t originlen, extlen;
    uint64_t tree_size;
    unsigned char root[DT_CHECKPOINT_ROOT_BYTES];
    if (dt_checkpoint_parse(&origin, &originlen, &tree_size, root, &ext, &extlen, note, textlen) == DT_OK)
        FUZZ_CHECK(origin == note && originlen < textlen);
    return 0;
}
