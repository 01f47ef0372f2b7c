/* `husk features`: what this build recognizes (features.md, features-linux.md). */
#include "husk/config.h"
#include "husk/jsonw.h"
#include "husk/rootfs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "KEY": {"enabled": ON} */
static void enabled(struct husk_jsonw *w, const char *key, bool on)
{
    husk_jsonw_key(w, key);
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_bool(w, "enabled", on);
    husk_jsonw_end_object(w);
}

/* features-linux.md "Capabilities": every capability libcap knows, upper case as in a config. */
static void capabilities(struct husk_jsonw *w)
{
    husk_jsonw_key(w, "capabilities");
    husk_jsonw_begin_array(w);
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
        char *n = cap_to_name(c);
        if (n) {
            char up[64];
            size_t i = 0;
            for (; n[i] && i < sizeof up - 1; i++)
                up[i] = (n[i] >= 'a' && n[i] <= 'z') ? (char)(n[i] - 32) : n[i];
            up[i] = '\0';
            husk_jsonw_str(w, up);
            cap_free(n);
        }
    }
    husk_jsonw_end_array(w);
}

/* features-linux.md "Seccomp". */
static void seccomp(struct husk_jsonw *w)
{
    husk_jsonw_key(w, "seccomp");
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_bool(w, "enabled", true);
    husk_jsonw_kv_strv(w, "actions", (const char *const[]){"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                             "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                                             "SCMP_ACT_TRAP", NULL});
    husk_jsonw_kv_strv(w, "operators", (const char *const[]){"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                                               "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL});
    husk_jsonw_kv_strv(w, "archs", (const char *const[]){"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
                                           "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                                           "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
                                           "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
                                           "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", NULL});
    husk_jsonw_kv_strv(w, "knownFlags", (const char *const[]){"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                                "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL});
    husk_jsonw_kv_strv(w, "supportedFlags", (const char *const[]){"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL});
    husk_jsonw_end_object(w);
}

char *husk_features_json(void)
{
    struct husk_jsonw w;
    husk_jsonw_init(&w, 2);
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_str(&w, "ociVersionMin", "1.0.0");
    husk_jsonw_kv_str(&w, "ociVersionMax", "1.3.0");
    husk_jsonw_kv_strv(&w, "hooks", (const char *const[]){"prestart", "createRuntime", "createContainer", "startContainer",
                                            "poststart", "poststop", NULL});
    const char *opts[128];
    size_t nopts = husk_mount_option_names(opts, sizeof opts / sizeof *opts - 1);
    qsort(opts, nopts, sizeof *opts, by_name);
    opts[nopts] = NULL;
    husk_jsonw_kv_strv(&w, "mountOptions", opts);
    husk_jsonw_key(&w, "linux");
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_strv(&w, "namespaces", (const char *const[]){"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL});
    capabilities(&w);
    husk_jsonw_key(&w, "cgroup");
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_bool(&w, "v1", true);
    husk_jsonw_kv_bool(&w, "v2", true);
    husk_jsonw_kv_bool(&w, "systemd", true);
    husk_jsonw_kv_bool(&w, "systemdUser", true);
    husk_jsonw_kv_bool(&w, "rdma", true);
    husk_jsonw_end_object(&w);
    seccomp(&w);
    enabled(&w, "apparmor", true);
    enabled(&w, "selinux", true);
    husk_jsonw_key(&w, "memoryPolicy");
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_strv(&w, "modes", (const char *const[]){"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
                                            "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL", NULL});
    husk_jsonw_kv_strv(&w, "flags", (const char *const[]){"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES", NULL});
    husk_jsonw_end_object(&w);
    enabled(&w, "intelRdt", false);
    husk_jsonw_key(&w, "mountExtensions");
    husk_jsonw_begin_object(&w);
    enabled(&w, "idmap", true);
    husk_jsonw_end_object(&w);
    enabled(&w, "netDevices", false);
    husk_jsonw_end_object(&w);
    husk_jsonw_key(&w, "annotations");
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_str(&w, "io.github.husk.version", HUSK_VERSION);
    husk_jsonw_end_object(&w);
    husk_jsonw_end_object(&w);
    husk_jsonw_raw(&w, "\n");
    if (w.oom) {
        husk_jsonw_free(&w);
        return NULL;
    }
    return w.buf;
}
