/* Private: a loop over 0..n-1 on every core. */
#ifndef DT_UTIL_PARALLEL_H
#define DT_UTIL_PARALLEL_H

#include <stddef.h>

/* Calls fn(arg, i) once for each i < n, on up to one thread per online core
 * (the caller's among them), handing out indices in blocks of grain; returns
 * when every call has returned. fn must be safe to run concurrently for
 * different i. Without threads (creation fails) it runs the rest itself. */
void dt_parallel_for(size_t n, size_t grain, void (*fn)(void *arg, size_t i), void *arg);

#endif
