/* The record reader (src/record/record.c), one kind of file per harness:
 * FUZZ_RECORD_FILE is a dt_record_file. DT_RECORD_FILE_CONSTANTS reads the
 * input both as constants.json and as election_config.json, the two small
 * files of an election's set-up.
 *
 * Input: the file's bytes. Files with elements are read twice, with the
 * element length of ristretto255 (32 bytes) and of the integer group (512).
 * Promises checked: success gives a record and no message; every failure
 * gives no record and one message naming the file (dt_record_load's
 * contract). */
#include <detente/record.h>

#include "fuzz.h"
#include "record/record.h"

static void parse(dt_record_file kind, size_t elem_bytes, const char *file, const uint8_t *data, size_t size)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    dt_err err = dt_record_parse_file(&rec, &msg, kind, elem_bytes, data, size);
    if (err == DT_OK) {
        FUZZ_CHECK(rec != NULL && msg == NULL);
        if (kind == DT_RECORD_FILE_CONSTANTS)
            FUZZ_CHECK(rec->group != NULL && rec->elem_bytes == dt_group_elem_bytes(rec->group));
        dt_record_destroy(rec);
    } else {
        FUZZ_CHECK(rec == NULL && msg != NULL);
        FUZZ_CHECK(strncmp(msg, file, strlen(file)) == 0);
        free(msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const dt_record_file kind = FUZZ_RECORD_FILE;
    switch (kind) {
    case DT_RECORD_FILE_CONSTANTS:
    case DT_RECORD_FILE_CONFIG:
        parse(DT_RECORD_FILE_CONSTANTS, 0, "constants.json", data, size);
        parse(DT_RECORD_FILE_CONFIG, 0, "election_config.json", data, size);
        break;
    case DT_RECORD_FILE_INITIALIZED:
    case DT_RECORD_FILE_BALLOT:
    case DT_RECORD_FILE_ETALLY:
    case DT_RECORD_FILE_DECRYPTED: {
        const char *file = kind == DT_RECORD_FILE_INITIALIZED ? "election_initialized.json"
                           : kind == DT_RECORD_FILE_BALLOT    ? "encrypted_ballots/"
                           : kind == DT_RECORD_FILE_ETALLY    ? "encrypted_tally.json"
                                                              : "tally.json";
        parse(kind, 32, file, data, size);
        parse(kind, 512, file, data, size);
        break;
    }
    }
    return 0;
}
