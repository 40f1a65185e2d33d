/* Private helpers: base64 and hex codecs, bounded file reading. */
#ifndef DT_UTIL_CODEC_H
#define DT_UTIL_CODEC_H

#include <detente/common.h>

/* Decodes standard base64 (with padding) into exactly outlen bytes.
 * Returns DT_ERR_ENCODING if the text is not valid base64 or its decoded
 * length differs from outlen. */
DT_WARN_UNUSED_RESULT dt_err dt_b64_decode_exact(unsigned char *out, size_t outlen, const char *in);
/* Decodes base64 of any length; *out is malloc'ed (caller frees); at most maxlen bytes. */
DT_WARN_UNUSED_RESULT dt_err dt_b64_decode_alloc(unsigned char **out, size_t *outlen, const char *in,
                                                 size_t maxlen);
/* Encodes inlen bytes as standard base64 with padding; returns a malloc'ed string or NULL. */
char *dt_b64_encode(const unsigned char *in, size_t inlen);
/* base64url without padding (confirmation codes in URLs) */
char *dt_b64url_encode(const unsigned char *in, size_t inlen);

/* The same three for public data only (ballots, proofs, records: never keys
 * or nonces): the same texts accepted and written, in variable time, several
 * times faster. dt_b64_encode_pub writes 4 ((inlen + 2) / 3) characters to
 * out, without a NUL, and returns their number. */
DT_WARN_UNUSED_RESULT dt_err dt_b64_decode_exact_pub(unsigned char *out, size_t outlen, const char *in);
DT_WARN_UNUSED_RESULT dt_err dt_b64_decode_alloc_pub(unsigned char **out, size_t *outlen, const char *in,
                                                     size_t maxlen);
size_t dt_b64_encode_pub(char *out, const unsigned char *in, size_t inlen);

/* Decodes hex (either case, even length unless allow_odd) into a malloc'ed buffer. */
DT_WARN_UNUSED_RESULT dt_err dt_hex_decode_alloc(unsigned char **out, size_t *outlen, const char *in,
                                                 size_t maxlen);
/* Writes 2*inlen upper-case hex digits and a NUL to out. */
void dt_hex_encode_upper(char *out, const unsigned char *in, size_t inlen);
/* The same in lower case (board blob names). */
void dt_hex_encode_lower(char *out, const unsigned char *in, size_t inlen);

/* Reads a whole file of at most maxlen bytes; *out is malloc'ed with a NUL
 * after the data. DT_ERR_IO if it cannot be read, DT_ERR_LIMIT if too big. */
DT_WARN_UNUSED_RESULT dt_err dt_read_file(unsigned char **out, size_t *outlen, const char *path,
                                          size_t maxlen);

/* Formats into a malloc'ed string (NULL on failure). */
char *dt_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));



/* Writes len bytes to path atomically: a temporary file in the same folder
 * (O_CREAT|O_EXCL|O_NOFOLLOW with the given mode from its creation), fsync,
 * rename. Nothing is left behind on failure, and path is unchanged.
 * A secret file (a mode without group or other bits, 0600: every key file,
 * the decryption nonces, the server token) also refuses a path that is a
 * symbolic link (DT_ERR_IO, errno ELOOP) or not a regular file (errno
 * EEXIST), and fsyncs the folder after the rename; if only that fsync fails
 * the new file is in place and DT_ERR_IO is returned. On DT_ERR_IO, errno
 * says why (ENOSPC for a full disk). */
DT_WARN_UNUSED_RESULT dt_err dt_write_file_atomic(const char *path, const void *data, size_t len,
                                                  unsigned mode);
/* fsync of the folder that holds path: makes a rename (or a new name) in it
 * durable. */
DT_WARN_UNUSED_RESULT dt_err dt_sync_parent(const char *path);
/* Writes len bytes to a new hidden file beside path (".tmp-TAG-PID-N" in
 * path's folder, which is made if missing; mode 0644; not flushed) and
 * gives its name in *tmp (malloc'ed): the caller renames it into place.
 * The board's listing skips hidden files, so one left by a crash is
 * harmless. Nothing is left behind on failure (*tmp NULL). */
DT_WARN_UNUSED_RESULT dt_err dt_write_temp_beside(char **tmp, const char *path, const char *tag, const void *data,
                                                  size_t len);
/* 1 if path is a regular file of exactly data's len bytes, else 0 */
int dt_file_equals(const char *path, const void *data, size_t len);
/* mkdir -p with mode 0755; DT_ERR_IO on failure */
DT_WARN_UNUSED_RESULT dt_err dt_mkdirs(const char *path);

#endif
