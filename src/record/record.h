/* Private: the in-memory election record, read from the JSON layout of
 * egk-ec (docs/record-format.md). Values that the verifier must judge
 * (elements, scalars, hashes) are kept as raw bytes of the right length;
 * only encoding errors (bad base64, wrong lengths, wrong JSON types) stop
 * the reader. */
#ifndef DT_RECORD_RECORD_H
#define DT_RECORD_RECORD_H

#include <stdbool.h>

#include <detente/common.h>
#include <detente/group.h>
#include <detente/record.h>

/* Limits enforced while reading (docs/limits.md has every input's limit). */
#define DT_LIMIT_FILE_BYTES (64u << 20)
#define DT_LIMIT_STRING 1024u
#define DT_LIMIT_CONTESTS 10000u
#define DT_LIMIT_SELECTIONS 1000u
#define DT_LIMIT_STYLES 10000u
#define DT_LIMIT_GUARDIANS 1000u
#define DT_LIMIT_BALLOTS 1000000u
#define DT_LIMIT_PROOF_BRANCHES 1001u
#define DT_LIMIT_VOTES 1000u
#define DT_LIMIT_CONTEST_DATA (1u << 20)

typedef struct dt_rec_bytes {
    unsigned char *p;
    size_t n;
} dt_rec_bytes;

typedef unsigned char dt_rec_hash[32];

typedef struct dt_rec_proof {
    size_t n;            /* number of (c, v) pairs */
    dt_rec_hash *c;      /* challenges, 32 bytes each */
    dt_rec_hash *v;      /* responses, 32 bytes each */
    unsigned char *a;    /* commitments a_j, n * elem_bytes; NULL when the record has none */
    unsigned char *b;    /* commitments b_j, likewise */
} dt_rec_proof;

typedef struct dt_rec_ctext {
    unsigned char *pad;  /* alpha, elem_bytes */
    unsigned char *data; /* beta, elem_bytes */
} dt_rec_ctext;

/* manifest */
typedef struct dt_rec_option {
    char *id;
    uint32_t seq;
    char *candidate;          /* candidate_id, or NULL */
} dt_rec_option;

typedef struct dt_rec_mcontest {
    char *id;
    uint32_t seq;
    char *district;
    uint32_t votes_allowed;   /* L */
    uint32_t option_limit;    /* R */
    size_t noptions;
    dt_rec_option *options;
} dt_rec_mcontest;

typedef struct dt_rec_style {
    char *id;
    size_t ngpu;
    char **gpu;
} dt_rec_style;

typedef struct dt_rec_manifest {
    unsigned char *bytes;     /* the file exactly as stored (hashed for H_M) */
    size_t len;
    char *spec_version;
    size_t ncontests;
    dt_rec_mcontest *contests;
    size_t nstyles;
    dt_rec_style *styles;
    size_t ngpus;             /* geopolitical_units[].object_id */
    char **gpus;
    size_t ncandidates;       /* candidates[].object_id */
    char **candidates;
} dt_rec_manifest;

/* Checks a manifest's consistency (docs/record-format.md, "Manifest"):
 * unique ids, sequence orders equal to positions, limits of at least 1,
 * known districts, units and candidates. Returns DT_OK, or DT_ERR_INVALID
 * with a malloc'ed message in *msg naming the item. */
DT_WARN_UNUSED_RESULT dt_err dt_manifest_validate(const dt_rec_manifest *m, char **msg);

/* Parses a manifest from its bytes (the file as stored); the record reader
 * and the election set-up share it. *msg names the key on failure. */
DT_WARN_UNUSED_RESULT dt_err dt_manifest_parse(dt_rec_manifest *m, char **msg, const unsigned char *bytes,
                                               size_t len);
void dt_manifest_free(dt_rec_manifest *m);

typedef struct dt_rec_coef {
    unsigned char *K;         /* elem_bytes */
    dt_rec_hash c, v;
} dt_rec_coef;

typedef struct dt_rec_guardian {
    char *id;
    uint32_t x;
    size_t ncoef;
    dt_rec_coef *coef;
} dt_rec_guardian;

typedef struct dt_rec_data {
    unsigned char *c0;        /* elem_bytes */
    dt_rec_bytes c1;
    dt_rec_hash c2;
    uint32_t num_bytes;
} dt_rec_data;

typedef struct dt_rec_bsel {
    char *id;
    uint32_t seq;
    dt_rec_ctext ct;
    dt_rec_proof proof;
} dt_rec_bsel;

typedef struct dt_rec_bcontest {
    char *id;
    uint32_t seq;
    dt_rec_hash hash;
    size_t nsel;
    dt_rec_bsel *sel;
    dt_rec_proof proof;
    bool has_data;
    dt_rec_data data;
} dt_rec_bcontest;

typedef enum { DT_BALLOT_CAST = 1, DT_BALLOT_CHALLENGED = 2 } dt_rec_state;

typedef struct dt_rec_ballot {
    char *file;               /* path relative to the record */
    char *id;
    char *style;
    char *device;
    int64_t timestamp;
    dt_rec_bytes baux;
    dt_rec_hash code;
    dt_rec_hash election_id;
    dt_rec_state state;
    bool preencrypt;
    size_t ncontests;
    dt_rec_bcontest *contests;
} dt_rec_ballot;

/* decrypted selection: tally.json and challenged_ballots/ */
typedef struct dt_rec_dsel {
    char *id;
    uint64_t value;           /* t or sigma */
    unsigned char *T;         /* b_over_m, elem_bytes */
    dt_rec_ctext ct;
    dt_rec_hash c, v;
    unsigned char *a, *b;     /* the proof's commitments (elem_bytes each), or NULL */
} dt_rec_dsel;

typedef struct dt_rec_ddata {
    dt_rec_data data;
    unsigned char *beta;      /* elem_bytes */
    dt_rec_hash c, v;
    char *status;
} dt_rec_ddata;

typedef struct dt_rec_dcontest {
    char *id;
    size_t nsel;
    dt_rec_dsel *sel;
    bool has_data;
    dt_rec_ddata data;
} dt_rec_dcontest;

typedef struct dt_rec_decrypted {
    char *file;
    char *id;
    dt_rec_hash election_id;
    size_t ncontests;
    dt_rec_dcontest *contests;
} dt_rec_decrypted;

typedef struct dt_rec_esel {
    char *id;
    uint32_t seq;
    dt_rec_ctext ct;
} dt_rec_esel;

typedef struct dt_rec_econtest {
    char *id;
    uint32_t seq;
    size_t nsel;
    dt_rec_esel *sel;
} dt_rec_econtest;

typedef struct dt_rec_etally {
    dt_rec_hash election_id;
    size_t ncontests;
    dt_rec_econtest *contests;
    size_t ncast;
    char **cast_ids;
} dt_rec_etally;

/* One file of a record, for dt_record_parse_file. */
typedef enum dt_record_file {
    DT_RECORD_FILE_CONSTANTS = 1, /* constants.json (sets the record's group) */
    DT_RECORD_FILE_CONFIG,        /* election_config.json */
    DT_RECORD_FILE_INITIALIZED,   /* election_initialized.json */
    DT_RECORD_FILE_BALLOT,        /* an encrypted ballot: ballots[0] */
    DT_RECORD_FILE_ETALLY,        /* encrypted_tally.json: etally */
    DT_RECORD_FILE_DECRYPTED,     /* tally.json or a challenged ballot: tally */
} dt_record_file;

/* Parses one file of a record from its len bytes, with the checks and
 * messages of dt_record_load, into a record that holds only that file's
 * values (group, dir and the other files' values stay empty). elem_bytes is
 * the length of an element (dt_group_elem_bytes; unused for constants).
 * For the fuzzing harnesses (fuzz/); the manifest has dt_manifest_parse. */
DT_WARN_UNUSED_RESULT dt_err dt_record_parse_file(dt_record **out, char **msg, dt_record_file kind,
                                                  size_t elem_bytes, const unsigned char *bytes, size_t len);

/* Tests only: lowers the limit on a record's ballot files (all folders
 * together) from DT_LIMIT_BALLOTS to max (0 restores it), so that the limit
 * can be shown without a million files. Never called by the library or the
 * CLI. Not thread-safe. */
void dt_record_ballot_limit_for_testing(size_t max);

struct dt_record {
    char *dir;
    dt_group *group;
    size_t elem_bytes;

    /* constants.json */
    char *group_type;
    char *protocol_version;
    dt_rec_bytes p, q, r, g; /* big-endian, integer group; ristretto255: q and g only */

    dt_rec_manifest manifest;

    /* election_config.json */
    uint32_t n, k;
    dt_rec_hash hp, hm, hb;
    bool chain;
    dt_rec_bytes baux0;

    /* election_initialized.json */
    unsigned char *K;
    dt_rec_hash he;
    size_t nguardians;
    dt_rec_guardian *guardians;

    size_t nballots;
    dt_rec_ballot *ballots;

    bool has_etally;
    dt_rec_etally etally;
    bool has_tally;
    dt_rec_decrypted tally;

    size_t nchallenged;
    dt_rec_decrypted *challenged;
};

#endif
