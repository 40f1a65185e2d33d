/* Private: writing record JSON. */
#ifndef DT_RECORD_JSONOUT_H
#define DT_RECORD_JSONOUT_H

#include <jansson.h>

#include <detente/group.h>

/* base64 of n bytes as a JSON string (NULL on allocation failure) */
json_t *dt_jb64(const unsigned char *p, size_t n);
json_t *dt_jelem(const dt_group *g, const dt_elem *e);
json_t *dt_jscalar(const dt_group *g, const dt_scalar *s);
/* {"challenge": b64(c), "response": b64(v)} */
json_t *dt_jproof(const dt_group *g, const dt_scalar *c, const dt_scalar *v);
/* {"pad": alpha, "data": beta} */
json_t *dt_jciphertext(const dt_group *g, const dt_elem *alpha, const dt_elem *beta);
/* Writes j (indented by 4, a final newline) atomically with mode 0644 and
 * releases j. */
DT_WARN_UNUSED_RESULT dt_err dt_json_save(const char *path, json_t *j);

#endif
