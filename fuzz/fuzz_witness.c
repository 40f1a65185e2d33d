/* The witness's add-checkpoint request bodies: dt_witness_add_checkpoint
 * (tlog-witness; the body of an HTTP request from anyone).
 *
 * Set-up: a witness in a fresh folder of $TMPDIR (removed at exit) that
 * knows one log, "fuzz.example/log" (the Ed25519 key of seed 32 x 0x01, as
 * in fuzz_note.c), so that fuzz/corpus/witness's signed requests reach the
 * transaction. The witness keeps its state between inputs, as a running
 * one does: an input may be answered differently after another was cosigned.
 *
 * Input: a request body. Promises checked: an answer for every input, with
 * a status of tlog-witness and never 500 (the state is always storable
 * here); a one-line printable reason; for 409 the witness's size as the
 * body; for 200 a cosignature line that verifies, with the witness's key,
 * over the request's checkpoint at the time given, and a stored state equal
 * to that checkpoint. */
#include <dirent.h>
#include <unistd.h>

#include <detente/note.h>
#include <detente/witness.h>

#include "fuzz.h"
#include "util/codec.h"

#define NOW 1700000000u

static dt_witness *wit;
static dt_note_verifier wit_key;
static char dir[4096];

/* Removes the witness's folder (flat: its key, logs and database files). */
static void cleanup(void)
{
    DIR *d;
    struct dirent *e;
    dt_witness_close(wit);
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char *path = dt_strdup_printf("%s/%s", dir, e->d_name);
            if (path)
                unlink(path);
            free(path);
        }
    closedir(d);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    dt_note_signer log;
    dt_note_verifier logv;
    unsigned char seed[32];
    char vkey[DT_NOTE_VKEY_MAX];
    size_t vlen = sizeof vkey;
    (void)argc;
    (void)argv;

    snprintf(dir, sizeof dir, "%s/detente-fuzz-witness-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    FUZZ_CHECK(dt_witness_create(dir, "fuzz.example/witness") == DT_OK);
    FUZZ_CHECK(dt_witness_open(&wit, dir) == DT_OK);
    atexit(cleanup);
    dt_witness_verifier(wit, &wit_key);
    memset(seed, 0x01, sizeof seed);
    FUZZ_CHECK(dt_note_signer_from_seed(&log, "fuzz.example/log", 16, DT_NOTE_ED25519, seed) == DT_OK);
    dt_note_signer_verifier(&logv, &log);
    dt_note_signer_clear(&log);
    FUZZ_CHECK(dt_note_verifier_format(vkey, &vlen, &logv) == DT_OK);
    FUZZ_CHECK(dt_witness_add_log(wit, vkey, vlen) == DT_OK);
    return 0;
}

/* A 200's cosignature line, appended to the request's note, verifies with
 * the witness's key at time NOW; the state is the checkpoint's. */
static void check_cosigned(const char *req, size_t len, const dt_witness_response *r)
{
    const char *blank = NULL, *note, *origin, *ext;
    size_t notelen, textlen, originlen, extlen;
    unsigned char ok = 0, root[DT_CHECKPOINT_ROOT_BYTES], have_root[DT_CHECKPOINT_ROOT_BYTES];
    uint64_t ts = 0, size, have = 0;
    char *cosigned;

    for (size_t i = 0; i + 1 < len && !blank; i++)
        if (req[i] == '\n' && req[i + 1] == '\n')
            blank = req + i + 1;
    FUZZ_CHECK(blank != NULL);
    note = blank + 1;
    notelen = len - (size_t)(note - req);
    cosigned = malloc(notelen + r->len);
    FUZZ_CHECK(cosigned != NULL);
    memcpy(cosigned, note, notelen);
    memcpy(cosigned + notelen, r->body, r->len);
    FUZZ_CHECK(dt_note_open(&textlen, &ok, &ts, cosigned, notelen + r->len, &wit_key, 1) == DT_OK);
    FUZZ_CHECK(ok == 1 && ts == NOW);
    FUZZ_CHECK(dt_checkpoint_parse(&origin, &originlen, &size, root, &ext, &extlen, cosigned, textlen) == DT_OK);
    FUZZ_CHECK(dt_witness_state(wit, origin, originlen, &have, have_root) == DT_OK);
    FUZZ_CHECK(have == size && memcmp(have_root, root, sizeof root) == 0);
    free(cosigned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *req = (const char *)data;
    dt_witness_response r;
    if (dt_witness_add_checkpoint(wit, req, size, NOW, &r) != DT_OK)
        return 0; /* out of memory */
    FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 403 || r.status == 404 || r.status == 409 ||
               r.status == 413 || r.status == 422);
    FUZZ_CHECK(r.body != NULL && r.content_type != NULL && strlen(r.body) == r.len);
    FUZZ_CHECK(memchr(r.why, '\0', sizeof r.why) != NULL);
    for (const char *c = r.why; *c; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    if (r.status == 409) {
        FUZZ_CHECK(strcmp(r.content_type, "text/x.tlog.size") == 0);
        FUZZ_CHECK(r.len >= 2 && r.body[r.len - 1] == '\n' && strspn(r.body, "0123456789") == r.len - 1);
    }
    if (r.status == 200)
        check_cosigned(req, size, &r);
    dt_witness_response_free(&r);
    return 0;
}
