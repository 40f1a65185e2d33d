#include <stdlib.h>
#include <string.h>

#include "record/jsonout.h"
#include "util/codec.h"

json_t *dt_jb64(const unsigned char *p, size_t n)
{
    char *s = dt_b64_encode(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

json_t *dt_jelem(const dt_group *g, const dt_elem *e)
{
    unsigned char buf[DT_ELEM_MAX_BYTES];
    dt_elem_encode(g, buf, e);
    return dt_jb64(buf, dt_group_elem_bytes(g));
}

json_t *dt_jscalar(const dt_group *g, const dt_scalar *s)
{
    unsigned char buf[DT_SCALAR_BYTES];
    (void)g;
    memcpy(buf, s->be, DT_SCALAR_BYTES);
    return dt_jb64(buf, DT_SCALAR_BYTES);
}

json_t *dt_jproof(const dt_group *g, const dt_scalar *c, const dt_scalar *v)
{
    return json_pack("{s:o, s:o}", "challenge", dt_jscalar(g, c), "response", dt_jscalar(g, v));
}

json_t *dt_jciphertext(const dt_group *g, const dt_elem *alpha, const dt_elem *beta)
{
    return json_pack("{s:o, s:o}", "pad", dt_jelem(g, alpha), "data", dt_jelem(g, beta));
}

dt_err dt_json_save(const char *path, json_t *j)
{
    char *s;
    dt_err err;
    if (!j)
        return DT_ERR_NOMEM;
    s = json_dumps(j, JSON_INDENT(4));
    json_decref(j);
    if (!s)
        return DT_ERR_NOMEM;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return DT_ERR_NOMEM;
    }
    t[n] = '\n';
    t[n + 1] = 0;
    err = dt_write_file_atomic(path, t, n + 1, 0644);
    free(t);
    return err;
}
