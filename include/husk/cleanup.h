/* Scope-bound release (__attribute__((cleanup))): every exit of a function frees what it took. */
#ifndef HUSK_CLEANUP_H
#define HUSK_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void husk_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void husk_freep(void *p)
{
    free(*(void **)p);
}

#define AUTOCLOSE __attribute__((cleanup(husk_closep)))
#define AUTOFREE __attribute__((cleanup(husk_freep)))

#endif
