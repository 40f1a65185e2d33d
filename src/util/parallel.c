/* dt_parallel_for (parallel.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "util/parallel.h"

typedef struct pf {
    size_t n, grain;
    void (*fn)(void *, size_t);
    void *arg;
    atomic_size_t next;
} pf;

static void *pf_worker(void *p)
{
    pf *f = p;
    for (;;) {
        size_t lo = atomic_fetch_add(&f->next, f->grain);
        if (lo >= f->n)
            break;
        size_t hi = lo + f->grain < f->n ? lo + f->grain : f->n;
        for (size_t i = lo; i < hi; i++)
            f->fn(f->arg, i);
    }
    return NULL;
}

void dt_parallel_for(size_t n, size_t grain, void (*fn)(void *arg, size_t i), void *arg)
{
    pf f = {.n = n, .grain = grain ? grain : 1, .fn = fn, .arg = arg};
    pthread_t tid[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cores > 1 ? (size_t)cores : 1, started = 0;
    atomic_init(&f.next, 0);
    if (threads > 16)
        threads = 16;
    if (threads > (n + f.grain - 1) / f.grain)
        threads = (n + f.grain - 1) / f.grain;
    for (size_t t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, pf_worker, &f) != 0)
            break;
        started = t;
    }
    pf_worker(&f);
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}
