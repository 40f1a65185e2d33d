/* detente: C2SP signed notes, checkpoints and cosignatures.
 *
 * Pinned specifications:
 *   c2sp.org/signed-note@v1.0.0      text, blank line, "— name base64(id || sig)" lines
 *   c2sp.org/tlog-checkpoint@v1.0.0  note text "origin\nsize\nbase64(root)\n[extensions]"
 *   c2sp.org/tlog-cosignature@v1.0.1 Ed25519 cosignatures (signature type 0x04)
 *
 * Two key types are supported, each identified by its signature type byte:
 *   DT_NOTE_ED25519 (0x01)  an Ed25519 signature over the note text;
 *   DT_NOTE_COSIG   (0x04)  a timestamped Ed25519 cosignature over
 *                            "cosignature/v1\ntime <t>\n" || note text.
 * The key ID of both is SHA-256(name || 0x0A || type || 32-byte public key)[:4].
 *
 * Key strings (golang.org/x/mod/sumdb/note encoding):
 *   verifier  name+<8 lower-case hex digits of the key ID>+base64(type || public key)
 *   signer    PRIVATE+KEY+name+<key ID hex>+base64(type || 32-byte seed)
 *
 * Memory: every object is caller-allocated and fixed-size; nothing here
 * allocates. Objects are immutable after they are set up, so threads may
 * share a dt_note_verifier or dt_note_signer for concurrent calls.
 * Buffers: outputs never overlap inputs.
 *
 * Limits (hostile input beyond them is refused with DT_ERR_LIMIT):
 *   DT_NOTE_MAX_BYTES  a whole signed note (text and signature lines);
 *   DT_NOTE_MAX_SIGS   signature lines in one note (the spec asks for >= 16);
 *   DT_NOTE_NAME_MAX   bytes of a key name;
 *   DT_CHECKPOINT_ORIGIN_MAX  bytes of a checkpoint origin line. */
#ifndef DETENTE_NOTE_H
#define DETENTE_NOTE_H

#include <detente/common.h>

#define DT_NOTE_ED25519 0x01
#define DT_NOTE_COSIG 0x04

#define DT_NOTE_MAX_BYTES 65536
#define DT_NOTE_MAX_SIGS 100
#define DT_NOTE_NAME_MAX 255
#define DT_CHECKPOINT_ORIGIN_MAX 1024
#define DT_CHECKPOINT_ROOT_BYTES 32
/* The largest tree size a checkpoint may state: 2^63 - 1 (as golang.org/x/mod/sumdb/tlog). */
#define DT_CHECKPOINT_MAX_SIZE ((uint64_t)INT64_MAX)
/* The largest cosignature timestamp (tlog-cosignature: MUST NOT exceed 2^63 - 1). */
#define DT_COSIG_MAX_TIME ((uint64_t)INT64_MAX)

/* Buffer sizes, including the terminating NUL, that always suffice. */
#define DT_NOTE_VKEY_MAX (DT_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define DT_NOTE_SKEY_MAX (12 + DT_NOTE_VKEY_MAX)
/* One signature line: "— " name " " base64(4 + 8 + 64 bytes) "\n" */
#define DT_NOTE_SIGLINE_MAX (4 + DT_NOTE_NAME_MAX + 1 + 104 + 1 + 1)

size_t dt_note_vkey_max(void);
size_t dt_note_skey_max(void);
size_t dt_note_sigline_max(void);

/* A verifier key: name, key ID, type and Ed25519 public key. */
typedef struct dt_note_verifier {
    _Alignas(8) unsigned char opaque[304];
} dt_note_verifier;

/* A signer key: the verifier key and the Ed25519 secret key. Secret: wipe it
 * with dt_note_signer_clear() when done. */
typedef struct dt_note_signer {
    _Alignas(8) unsigned char opaque[384];
} dt_note_signer;

/* Parses a verifier key string of len bytes (no NUL needed, none allowed).
 * Returns: DT_OK; DT_ERR_LIMIT if len or the name is too long;
 *   DT_ERR_ENCODING if malformed (name, hex, base64, key length);
 *   DT_ERR_INVALID if the type is not 0x01 or 0x04 or the key ID does not
 *   match the name and key. On error *out is zeroed. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err
dt_note_verifier_parse(dt_note_verifier *out, const char *vkey, size_t len);

/* Writes the verifier key string and a NUL to out (capacity *outlen; on
 * success *outlen is the string length without the NUL).
 * Returns: DT_OK; DT_ERR_LIMIT if the capacity is too small (*outlen is then
 * the capacity needed, NUL included). DT_NOTE_VKEY_MAX always suffices. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err
dt_note_verifier_format(char *out, size_t *outlen, const dt_note_verifier *v);

/* Accessors. The name is not NUL-terminated; *namelen receives its length. */
DT_NONNULL(1, 2) const char *dt_note_verifier_name(const dt_note_verifier *v, size_t *namelen);
DT_NONNULL(1) uint32_t dt_note_verifier_id(const dt_note_verifier *v);
DT_NONNULL(1) unsigned dt_note_verifier_type(const dt_note_verifier *v);
DT_NONNULL(1) const unsigned char *dt_note_verifier_pubkey(const dt_note_verifier *v);

/* Derives a signer from a 32-byte seed, name (namelen bytes) and type
 * (DT_NOTE_ED25519 or DT_NOTE_COSIG; anything else is misuse).
 * Returns: DT_OK; DT_ERR_LIMIT if the name is too long; DT_ERR_ENCODING if the
 * name is empty or has a space, '+' or control character. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 5) dt_err
dt_note_signer_from_seed(dt_note_signer *out, const char *name, size_t namelen, unsigned type,
                         const unsigned char seed[32]);

/* As dt_note_signer_from_seed with a seed from dt_random_bytes (fails closed:
 * DT_ERR_RANDOM). */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err
dt_note_signer_generate(dt_note_signer *out, const char *name, size_t namelen, unsigned type);

/* Parses a signer key string ("PRIVATE+KEY+..."); errors as
 * dt_note_verifier_parse (the key ID is checked against the derived public
 * key). Secret input: the caller wipes skey; locals are wiped here. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2) dt_err
dt_note_signer_parse(dt_note_signer *out, const char *skey, size_t len);

/* Writes the signer key string and a NUL; buffer rules as
 * dt_note_verifier_format (DT_NOTE_SKEY_MAX always suffices). Secret output. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3) dt_err
dt_note_signer_format(char *out, size_t *outlen, const dt_note_signer *s);

/* The verifier key of a signer. */
DT_NONNULL(1, 2) void dt_note_signer_verifier(dt_note_verifier *out, const dt_note_signer *s);

/* Wipes a signer. */
DT_NONNULL(1) void dt_note_signer_clear(dt_note_signer *s);

/* Signs text (textlen bytes) with nsigners Ed25519 signers (type 0x01; a
 * cosigner here is misuse; 1 <= nsigners <= DT_NOTE_MAX_SIGS) and writes the
 * signed note: text, a blank line, one signature line per signer, then a NUL.
 * Buffer rules as dt_note_verifier_format.
 * Returns: DT_OK; DT_ERR_ENCODING if the text is empty, does not end in a
 *   newline, is not UTF-8 or has a control character other than newline;
 *   DT_ERR_LIMIT if the note would exceed DT_NOTE_MAX_BYTES or out is small. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 5) dt_err
dt_note_sign(char *out, size_t *outlen, const char *text, size_t textlen,
             const dt_note_signer *const *signers, size_t nsigners);

/* Opens a signed note of notelen bytes against nknown known verifier keys.
 * Every signature line whose (name, key ID) matches a known key is verified;
 * lines from unknown keys (same name but another ID, or the reverse) are
 * ignored. Out: *textlen, the note text is note[0 .. *textlen) (final newline
 * included); verified[i] = 1 if known[i] signed (0 otherwise); timestamps
 * (may be NULL) receives each cosigner's time (0 for other keys).
 * Returns: DT_OK if at least one known key signed and none failed;
 *   DT_ERR_LIMIT (too large, too many signature lines);
 *   DT_ERR_ENCODING (malformed: not UTF-8, control characters, no blank line,
 *   missing final newline, bad signature line or base64);
 *   DT_ERR_PROOF if a signature from a known key does not verify (the whole
 *   note is refused);
 *   DT_ERR_NOT_FOUND if no known key signed.
 * On error all outputs are zeroed. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 4) dt_err
dt_note_open(size_t *textlen, unsigned char *verified, uint64_t *timestamps, const char *note,
             size_t notelen, const dt_note_verifier *known, size_t nknown);

/* Parses a checkpoint note text (body) of bodylen bytes. Pointers out are
 * borrowed from body. Out: origin and *originlen (no newline), *size, root,
 * ext and *extlen: the extension lines (each non-empty, newline-terminated;
 * *extlen == 0 if none).
 * Returns: DT_OK; DT_ERR_LIMIT (body or origin too long, size > 2^63 - 1);
 *   DT_ERR_ENCODING (fewer than three lines, empty line, missing final
 *   newline, control characters, size not canonical decimal, root not the
 *   canonical base64 of 32 bytes). On error the outputs are zeroed. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 4, 5, 6, 7) dt_err
dt_checkpoint_parse(const char **origin, size_t *originlen, uint64_t *size,
                    unsigned char root[DT_CHECKPOINT_ROOT_BYTES], const char **ext, size_t *extlen,
                    const char *body, size_t bodylen);

/* Formats a checkpoint body and a NUL into out; ext (extlen bytes, NULL if
 * extlen == 0) holds zero or more non-empty newline-terminated lines. The
 * result is validated by dt_checkpoint_parse. Buffer rules as
 * dt_note_verifier_format. Returns as dt_checkpoint_parse. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 6) dt_err
dt_checkpoint_format(char *out, size_t *outlen, const char *origin, size_t originlen, uint64_t size,
                     const unsigned char root[DT_CHECKPOINT_ROOT_BYTES], const char *ext,
                     size_t extlen);

/* Cosigns a checkpoint body at time timestamp (POSIX seconds) with a
 * cosigner (type 0x04; another type is misuse), writing one signature line
 * "— name base64(key ID || timestamp || signature)\n" and a NUL, to append
 * to the signed checkpoint. Buffer rules as dt_note_verifier_format
 * (DT_NOTE_SIGLINE_MAX always suffices).
 * Returns: DT_OK; DT_ERR_RANGE if timestamp > 2^63 - 1; errors of
 * dt_checkpoint_parse if body is not a checkpoint. */
DT_WARN_UNUSED_RESULT DT_NONNULL(1, 2, 3, 5) dt_err
dt_cosignature_sign(char *out, size_t *outlen, const dt_note_signer *s, uint64_t timestamp,
                    const char *body, size_t bodylen);

#endif
