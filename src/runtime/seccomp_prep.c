/* linux.seccomp's program, built once per profile into the cache beside the state root. */
#include "seccomp_internal.h"
#include "husk/security.h"
#include "husk/state.h"

#include <unistd.h>

int husk_seccomp_prepare(struct husk_config *cfg, const char *root, struct husk_err *err)
{
    if (!cfg->linux_.seccomp.set)
        return 0;
    int cache = husk_state_cache_dir(root, "seccomp");
    int r = husk_seccomp_compile(&cfg->linux_.seccomp, cache, err);
    if (cache >= 0)
        close(cache);
    return r;
}
