/* Config parser: valid shapes, and the message for each kind of bad value. */
#include "husk/config.h"
#include "husk/json.h"
#include "unit.h"
#include "../../src/runtime/process_internal.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>

static struct husk_config *parse(const char *json, struct husk_err *err)
{
    return husk_config_parse(json, strlen(json), "config.json", err);
}

/* Parses and expects failure with exactly `msg`. */
static void bad(const char *json, const char *msg)
{
    struct husk_err err = {0};
    struct husk_config *c = parse(json, &err);
    CHECK(c == NULL);
    if (c) {
        fprintf(stderr, "  accepted: %s\n", json);
        husk_config_free(c);
        return;
    }
    CHECK_STR(err.msg, msg);
}

/* Parses (must succeed) and validates; expects validation to fail with `msg`. */
static void invalid(const char *json, const char *msg)
{
    struct husk_err err = {0};
    struct husk_config *c = parse(json, &err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  parse failed: %s\n", err.msg);
        return;
    }
    CHECK(husk_config_validate(c, &err) < 0);
    CHECK_STR(err.msg, msg);
    husk_config_free(c);
}

#define BASE "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"
#define PROC "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]"

static void test_minimal(void)
{
    struct husk_err err = {0};
    struct husk_config *c = parse("{" BASE "," PROC "}}", &err);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->oci_version, "1.0.2");
    CHECK_STR(c->root_path, "rootfs");
    CHECK(!c->root_readonly);
    CHECK(c->has_process);
    CHECK(c->process.args.n == 1);
    CHECK_STR(c->process.args.v[0], "sh");
    CHECK(husk_config_validate(c, &err) == 0);
    husk_config_free(c);
}

static void test_full(void)
{
    const char *json =
        "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"/r\",\"readonly\":true},"
        "\"hostname\":\"h\",\"domainname\":\"d\",\"annotations\":{\"a\":\"b\"},"
        "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
        "\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,\"additionalGids\":[5,6]},"
        "\"args\":[\"a\",\"b\"],\"env\":[\"X=1\"],\"cwd\":\"/w\",\"noNewPrivileges\":true,"
        "\"oomScoreAdj\":-5,\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"ambient\":[\"CAP_CHOWN\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":18446744073709551615}],"
        "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":4},"
        "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":5},"
        "\"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"0-1\"}},"
        "\"mounts\":[{\"destination\":\"/p\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\"]}],"
        "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":5}],"
        "\"poststop\":[{\"path\":\"/bin/false\"}]},"
        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"time\"}],"
        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
        "\"timeOffsets\":{\"monotonic\":{\"secs\":-10,\"nanosecs\":5}},"
        "\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
        "\"cgroupsPath\":\"/a/b\",\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
        "\"memory\":{\"limit\":-1,\"swappiness\":10},\"cpu\":{\"shares\":1024,\"quota\":-1,\"cpus\":\"0-1\"},"
        "\"pids\":{\"limit\":64},\"blockIO\":{\"weight\":10,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}]},"
        "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0}],\"unified\":{\"memory.high\":\"max\"},"
        "\"rdma\":{\"mlx\":{\"hcaHandles\":3}},\"network\":{\"classID\":1,\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]}},"
        "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
        "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]},"
        "\"rootfsPropagation\":\"rslave\",\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
        "\"mountLabel\":\"x\",\"personality\":{\"domain\":\"LINUX\"},\"netDevices\":{\"eth1\":{\"name\":\"e1\"}},"
        "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\"},\"intelRdt\":{\"closID\":\"c\"}},"
        "\"unknownField\":{\"ignored\":[1,2,3]}}";
    struct husk_err err = {0};
    struct husk_config *c = parse(json, &err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(husk_config_validate(c, &err) == 0);
    const struct husk_process *p = &c->process;
    CHECK(p->terminal && p->console_size.set && p->console_size.width == 80);
    CHECK(p->uid == 1000 && p->gid == 100 && p->umask.set && p->umask.v == 18);
    CHECK(p->n_additional_gids == 2 && p->additional_gids[1] == 6);
    CHECK(p->oom_score_adj.set && p->oom_score_adj.v == -5);
    CHECK(p->caps.set && p->caps.bounding.n == 1 && p->caps.effective.n == 0 && p->caps.ambient.n == 1);
    CHECK(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(p->rlimits[0].hard == UINT64_MAX);
    CHECK(p->io_priority.set && p->io_priority.priority == 4);
    CHECK(p->scheduler.set && p->scheduler.nice == 5);
    CHECK_STR(p->exec_cpu_final, "0-1");
    CHECK(c->n_mounts == 1 && c->mounts[0].options.n == 1);
    CHECK(c->hooks[HUSK_HOOK_PRESTART].n == 1 && c->hooks[HUSK_HOOK_PRESTART].v[0].timeout.v == 5);
    CHECK(c->hooks[HUSK_HOOK_POSTSTOP].n == 1);
    const struct husk_linux *l = &c->linux_;
    CHECK(l->n_namespaces == 6);
    CHECK(husk_config_namespace(c, CLONE_NEWNET) && husk_config_namespace(c, CLONE_NEWNET)->path);
    CHECK(l->uid_mappings.n == 1 && l->uid_mappings.v[0].host_id == 1000);
    CHECK(l->n_time_offsets == 1 && l->time_offsets[0].secs == -10);
    CHECK(l->n_devices == 1 && l->devices[0].file_mode.v == 438);
    CHECK(l->resources.memory.limit.set && l->resources.memory.limit.v == -1);
    CHECK(l->resources.cpu.quota.v == -1 && l->resources.pids.limit.v == 64);
    CHECK(l->resources.block_io.n_throttle[0] == 1 && l->resources.block_io.throttle[0][0].rate == 100);
    CHECK(l->resources.n_hugepages == 1 && l->resources.n_unified == 1 && l->resources.n_rdma == 1);
    CHECK(l->resources.network.n_priorities == 1);
    CHECK(l->seccomp.set && l->seccomp.default_errno_ret.v == 38 && l->seccomp.n_syscalls == 1);
    CHECK(l->seccomp.syscalls[0].n_args == 1);
    CHECK(l->n_sysctl == 1 && l->masked_paths.n == 1 && l->readonly_paths.n == 1);
    CHECK(l->personality.set && l->n_net_devices == 1 && l->memory_policy.set && l->intel_rdt.set);
    CHECK(c->n_annotations == 1);
    husk_config_free(c);
}

static void test_type_errors(void)
{
    bad("{" BASE "," PROC ",\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":1},"
        "{\"type\":\"RLIMIT_AS\",\"soft\":1,\"hard\":1},{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":\"abc\"}]}}",
        "config.json: .process.rlimits[2].hard: expected a non-negative integer, got \"abc\"");
    bad("{" BASE "," PROC ",\"terminal\":\"yes\"}}", "config.json: .process.terminal: expected a boolean, got \"yes\"");
    bad("{" BASE "," PROC ",\"user\":{\"uid\":-1}}}",
        "config.json: .process.user.uid: expected an integer from 0 to 4294967295, got -1");
    bad("{" BASE "," PROC ",\"user\":{\"uid\":4294967296}}}",
        "config.json: .process.user.uid: expected an integer from 0 to 4294967295, got 4294967296");
    bad("{" BASE ",\"process\":{\"cwd\":\"/\",\"args\":\"sh\"}}",
        "config.json: .process.args: expected an array of strings, got \"sh\"");
    bad("{" BASE ",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",1]}}",
        "config.json: .process.args[1]: expected a string, got 1");
    bad("{" BASE ",\"mounts\":{}}", "config.json: .mounts: expected an array, got an object");
    bad("{" BASE ",\"mounts\":[{\"type\":\"proc\"}]}", "config.json: .mounts[0].destination: required property is missing");
    bad("{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
        "config.json: .linux.namespaces[0].type: unknown namespace type \"bogus\"");
    bad("{" BASE ",\"linux\":{\"resources\":{\"memory\":{\"limit\":1.5}}}}",
        "config.json: .linux.resources.memory.limit: expected an integer, got 1.5");
    bad("{" BASE ",\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}}}",
        "config.json: .linux.resources.devices[0].access: expected a combination of \"r\", \"w\", \"m\", got \"rwx\"");
    bad("{" BASE ",\"linux\":{\"seccomp\":{\"syscalls\":[]}}}",
        "config.json: .linux.seccomp.defaultAction: required property is missing");
    bad("{" BASE ",\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}}",
        "config.json: .hooks.prestart[0].timeout: must be greater than zero, got 0");
    bad("{" BASE "," PROC ",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
        "config.json: .process.rlimits[0].type: unknown resource limit \"RLIMIT_BOGUS\"");
    bad("{" BASE ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1}]}}",
        "config.json: .linux.devices[0].minor: required for a device of type \"c\"");
    bad("{" BASE ",\"linux\":{\"timeOffsets\":{\"realtime\":{\"secs\":1}}}}",
        "config.json: .linux.timeOffsets.realtime: unknown clock \"realtime\" (expected monotonic or boottime)");
    bad("[1,2]", "config.json: (root): expected an object, got an array");
}

static void test_versions_and_syntax(void)
{
    bad("{\"root\":{\"path\":\"r\"}}", "config.json: .ociVersion: required property is missing");
    bad("{\"ociVersion\":\"2.0.0\"}",
        "config.json: .ociVersion: unsupported version \"2.0.0\": husk supports 1.0.0 through 1.3.x");
    bad("{\"ociVersion\":\"0.9\"}",
        "config.json: .ociVersion: unsupported version \"0.9\": husk supports 1.0.0 through 1.3.x");
    struct husk_err err = {0};
    struct husk_config *c = parse("{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\"path\": \"r\",}\n}", &err);
    CHECK(c == NULL);
    CHECK(strncmp(err.msg, "config.json: invalid JSON at line 3, column ", 44) == 0);
    c = parse("{\"ociVersion\": \"1.0.0\"", &err);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "invalid JSON at line 1") != NULL);
    const char *ok[] = {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0"};
    for (size_t i = 0; i < 5; i++) {
        char j[128];
        snprintf(j, sizeof j, "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}", ok[i]);
        c = parse(j, &err);
        CHECK(c != NULL);
        husk_config_free(c);
    }
    /* null counts as absent */
    c = parse("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":null,\"hostname\":null}", &err);
    CHECK(c != NULL && c->n_mounts == 0 && c->hostname == NULL);
    husk_config_free(c);
}

static void test_validation(void)
{
    invalid("{\"ociVersion\":\"1.0.0\"}", "config.json: .root.path: required property is missing");
    invalid("{" BASE ",\"process\":{\"cwd\":\"/\",\"args\":[]}}",
            "config.json: .process.args: must contain at least one entry (the program to run)");
    invalid("{" BASE ",\"process\":{\"cwd\":\"rel\",\"args\":[\"sh\"]}}", "config.json: .process.cwd: must be an absolute path");
    invalid("{" BASE ",\"process\":{\"args\":[\"sh\"]}}", "config.json: .process.cwd: required property is missing");
    invalid("{" BASE "," PROC ",\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":2,\"hard\":1}]}}",
            "config.json: .process.rlimits[0]: soft limit is greater than the hard limit");
    invalid("{" BASE "," PROC ",\"rlimits\":[{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":1},"
            "{\"type\":\"RLIMIT_CPU\",\"soft\":1,\"hard\":1}]}}",
            "config.json: .process.rlimits[1].type: duplicate resource limit \"RLIMIT_CPU\"");
    invalid("{" BASE ",\"mounts\":[{\"destination\":\"tmp\"}]}",
            "config.json: .mounts[0].destination: must be an absolute path, got \"tmp\"");
    invalid("{" BASE ",\"hostname\":\"x\"}", "config.json: .hostname: setting the hostname needs a new uts namespace");
    invalid("{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
            "config.json: .linux.namespaces[1]: duplicate namespace \"pid\"");
    invalid("{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}",
            "config.json: .linux.uidMappings: a new user namespace needs uid and gid mappings");
    invalid("{" BASE ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
            "config.json: .linux.uidMappings: id mappings need a user namespace");
    invalid("{" BASE ",\"linux\":{\"timeOffsets\":{\"boottime\":{\"secs\":1}}}}",
            "config.json: .linux.timeOffsets: time offsets need a new time namespace");
    invalid("{" BASE ",\"linux\":{\"rootfsPropagation\":\"sideways\"}}",
            "config.json: .linux.rootfsPropagation: unknown propagation \"sideways\"");
    invalid("{" BASE ",\"linux\":{\"sysctl\":{\"vm.swappiness\":\"1\"}}}",
            "config.json: .linux.sysctl: \"vm.swappiness\" is not namespaced: setting it in a container would change the host");
    invalid("{" BASE ",\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}",
            "config.json: .linux.sysctl: \"net.ipv4.ip_forward\" needs the container's own network namespace");
    invalid("{" BASE ",\"linux\":{\"devices\":[{\"path\":\"/dev/../etc/x\",\"type\":\"p\"}]}}",
            "config.json: .linux.devices[0].path: must be a path under /dev without \"..\", got \"/dev/../etc/x\"");
    invalid("{" BASE ",\"hooks\":{\"poststop\":[{\"path\":\"rel\"}]}}",
            "config.json: .hooks.poststop[0].path: must be an absolute path");
}

/* Each member of the process and resources sections and each validator section names its own
 * path (issue 21 split these readers and validators into one function per section). */
#define RES(x) "{" BASE ",\"linux\":{\"resources\":" x "}}"
static void test_section_errors(void)
{
    bad("{" BASE "," PROC ",\"consoleSize\":1}}", "config.json: .process.consoleSize: expected an object, got 1");
    bad("{" BASE "," PROC ",\"consoleSize\":{\"height\":1}}}",
        "config.json: .process.consoleSize.width: required property is missing");
    bad("{" BASE "," PROC ",\"user\":{\"additionalGids\":[1,-1]}}}",
        "config.json: .process.user.additionalGids[1]: expected an integer from 0 to 4294967295, got -1");
    bad("{" BASE "," PROC ",\"user\":{\"additionalGids\":{}}}}",
        "config.json: .process.user.additionalGids: expected an array, got an object");
    bad("{" BASE "," PROC ",\"ioPriority\":{\"priority\":1}}}",
        "config.json: .process.ioPriority.class: required property is missing");
    bad("{" BASE "," PROC ",\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":\"x\"}}}",
        "config.json: .process.scheduler.nice: expected a 32-bit integer, got \"x\"");
    bad("{" BASE "," PROC ",\"scheduler\":{}}}", "config.json: .process.scheduler.policy: required property is missing");
    bad("{" BASE "," PROC ",\"execCPUAffinity\":{\"final\":1}}}",
        "config.json: .process.execCPUAffinity.final: expected a string, got 1");
    bad(RES("[]"), "config.json: .linux.resources: expected an object, got an array");
    bad(RES("{\"memory\":[]}"), "config.json: .linux.resources.memory: expected an object, got an array");
    bad(RES("{\"memory\":{\"disableOOMKiller\":1}}"),
        "config.json: .linux.resources.memory.disableOOMKiller: expected a boolean, got 1");
    bad(RES("{\"cpu\":{\"shares\":-1}}"),
        "config.json: .linux.resources.cpu.shares: expected a non-negative integer, got -1");
    bad(RES("{\"cpu\":{\"mems\":0}}"), "config.json: .linux.resources.cpu.mems: expected a string, got 0");
    bad(RES("{\"pids\":{\"limit\":\"x\"}}"), "config.json: .linux.resources.pids.limit: expected an integer, got \"x\"");
    bad(RES("{\"blockIO\":{\"leafWeight\":true}}"),
        "config.json: .linux.resources.blockIO.leafWeight: expected a non-negative integer, got true");
    bad(RES("{\"blockIO\":{\"weightDevice\":[{\"major\":1,\"minor\":2,\"weight\":-5}]}}"),
        "config.json: .linux.resources.blockIO.weightDevice[0].weight: expected a non-negative integer, got -5");
    bad(RES("{\"blockIO\":{\"throttleWriteIOPSDevice\":[{\"major\":1,\"minor\":2}]}}"),
        "config.json: .linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: required property is missing");
    bad(RES("{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}"),
        "config.json: .linux.resources.hugepageLimits[0].limit: required property is missing");
    bad(RES("{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":\"x\"}]}}"),
        "config.json: .linux.resources.network.priorities[0].priority: "
        "expected an integer from 0 to 4294967295, got \"x\"");
    bad(RES("{\"rdma\":{\"mlx5_1\":1}}"), "config.json: .linux.resources.rdma.mlx5_1: expected an object, got 1");
    bad(RES("{\"rdma\":{\"mlx5_1\":{\"hcaObjects\":\"x\"}}}"),
        "config.json: .linux.resources.rdma.mlx5_1.hcaObjects: expected a non-negative integer, got \"x\"");
    bad(RES("{\"unified\":{\"memory.max\":1}}"), "config.json: .linux.resources.unified.memory.max: expected a string, got 1");
    /* the first bad section in reading order is the one reported */
    bad(RES("{\"pids\":{\"limit\":\"x\"},\"memory\":{\"swap\":\"y\"}}"),
        "config.json: .linux.resources.memory.swap: expected an integer, got \"y\"");

    invalid("{" BASE "," PROC ",\"user\":{\"umask\":512}}}", "config.json: .process.user.umask: must be between 0 and 0777");
    invalid("{" BASE "," PROC ",\"oomScoreAdj\":-1001}}", "config.json: .process.oomScoreAdj: must be between -1000 and 1000");
    invalid("{" BASE ",\"domainname\":\"x\"}", "config.json: .domainname: setting the domainname needs a new uts namespace");
    invalid("{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
            "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
            "config.json: .linux.gidMappings: a new user namespace needs uid and gid mappings");
    invalid("{" BASE ",\"linux\":{\"sysctl\":{\"net/ipv4\":\"1\"}}}", "config.json: .linux.sysctl: invalid key \"net/ipv4\"");
    invalid("{" BASE ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
            "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
            "config.json: .linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs .linux.seccomp.listenerPath");
    invalid("{" BASE ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/l\"}}}",
            "config.json: .linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    invalid("{" BASE ",\"linux\":{\"maskedPaths\":[\"/a\",\"b\"]}}", "config.json: .linux.maskedPaths[1]: must be an absolute path");
    invalid("{" BASE ",\"linux\":{\"readonlyPaths\":[\"b\"]}}", "config.json: .linux.readonlyPaths[0]: must be an absolute path");
    /* validators run in section order: the process before the mounts, namespaces before paths */
    invalid("{" BASE ",\"process\":{\"cwd\":\"/\",\"args\":[]},\"mounts\":[{\"destination\":\"tmp\"}]}",
            "config.json: .process.args: must contain at least one entry (the program to run)");
    invalid("{" BASE ",\"hostname\":\"h\",\"linux\":{\"maskedPaths\":[\"b\"]}}",
            "config.json: .hostname: setting the hostname needs a new uts namespace");
}

static void test_example_file(void)
{
    struct husk_err err = {0};
    struct husk_config *c = husk_config_load("config.json.example", &err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(husk_config_validate(c, &err) == 0);
    CHECK(c->linux_.seccomp.set && c->linux_.masked_paths.n > 0 && c->linux_.resources.set);
    husk_config_free(c);
    c = husk_config_load("/nonexistent/config.json", &err);
    CHECK(c == NULL);
    CHECK_STR(err.msg, "open `/nonexistent/config.json`: No such file or directory");
}

static void test_spec(void)
{
    char dir[] = "/tmp/husk-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    struct husk_err err = {0};
    for (int rootless = 0; rootless < 2; rootless++) {
        CHECK(husk_spec_write(path, rootless, &err) == 0);
        struct husk_config *c = husk_config_load(path, &err);
        CHECK(c != NULL);
        if (c) {
            CHECK(husk_config_validate(c, &err) == 0);
            CHECK(c->process.terminal);
            CHECK_STR(c->process.args.v[0], "sh");
            CHECK((husk_config_namespace(c, CLONE_NEWUSER) != NULL) == rootless);
            husk_config_free(c);
        }
        CHECK(husk_spec_write(path, rootless, &err) < 0);
        CHECK(strstr(err.msg, "exists. Remove it first") != NULL);
        remove(path);
    }
    remove(dir);
}

/* Documents from outside husk: depth, NUL, duplicate keys, each named by its JSON path. */
static void test_hostile(void)
{
    struct husk_err err = {0};
    /* deeper than the limit: refused before yajl builds (and recursively frees) a tree */
    size_t depth = 300000;
    char *deep = malloc(2 * depth + 8);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    CHECK(husk_config_parse(deep, 2 * depth, "config.json", &err) == NULL);
    CHECK(strstr(err.msg, "config.json: [0][0][0]") == err.msg);
    CHECK(strstr(err.msg, "...: nested deeper than 256 arrays and objects") != NULL);
    struct husk_arena a = {0};
    struct husk_process p = {0};
    CHECK(husk_process_parse(deep, 2 * depth, "process.json", &a, &p, &err) < 0);
    CHECK(strstr(err.msg, "nested deeper than 256") != NULL);
    /* exactly at the limit is fine (for the depth check: the root must still be an object) */
    memset(deep, '[', 256);
    memset(deep + 256, ']', 256);
    deep[512] = '\0';
    yajl_val v = husk_json_parse(deep, 512, "x.json", &err);
    CHECK(v != NULL);
    husk_json_free(v);
    free(deep);
    struct husk_config *c;
    /* the path says where: four levels of objects and arrays, then 253 arrays */
    char mid[1024];
    int k = sprintf(mid, "{" BASE ",\"x\":{\"a\":[1,{\"b\":");
    memset(mid + k, '[', 253);
    memset(mid + k + 253, ']', 253);
    strcpy(mid + k + 506, "}]}}");
    CHECK(parse(mid, &err) == NULL);
    CHECK(strncmp(err.msg, "config.json: .x.a[1].b[0][0][0]", 31) == 0);
    mid[k + 252] = ' ';
    mid[k + 253] = ' ';
    c = parse(mid, &err);
    CHECK(c != NULL);
    husk_config_free(c);
    bad("{" BASE ",\"hostname\":\"a\\u0000b\"}",
        "config.json: .hostname: \\u0000 (a NUL character) is not allowed in a string");
    bad("{" BASE "," PROC ",\"args\":[\"sh\",\"echo\\u0000 --rest\"]}}",
        "config.json: .process.args[1]: \\u0000 (a NUL character) is not allowed in a string");
    bad("{" BASE ",\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\\u0000/c\"}]}",
        "config.json: .mounts[1].destination: \\u0000 (a NUL character) is not allowed in a string");
    bad("{" BASE ",\"annotations\":{\"k\\u0000\":\"v\"}}",
        "config.json: .annotations.k: \\u0000 (a NUL character) is not allowed in a string");
    /* an escaped backslash before u0000 is text, not a NUL */
    c = parse("{" BASE ",\"hostname\":\"a\\\\u0000\"}", &err);
    CHECK(c != NULL && c->hostname && strcmp(c->hostname, "a\\u0000") == 0);
    husk_config_free(c);
    c = husk_config_parse("{" BASE "}\0{}", sizeof("{" BASE "}\0{}") - 1, "config.json", &err);
    CHECK(c == NULL);
    CHECK_STR(err.msg, "config.json: invalid JSON: a NUL byte at offset 47");
    /* duplicate keys: neither the first (yajl) nor the last (Go) wins */
    bad("{" BASE ",\"ociVersion\":\"1.0.0\"}", "config.json: .ociVersion: duplicate key");
    bad("{" BASE "," PROC ",\"user\":{\"uid\":0,\"gid\":0,\"uid\":1}}}",
        "config.json: .process.user.uid: duplicate key");
    bad("{" BASE ",\"linux\":{\"devices\":[{},{\"path\":\"/dev/a\",\"path\":\"/dev/b\"}]}}",
        "config.json: .linux.devices[1].path: duplicate key");
    /* the same name written two ways is the same key */
    bad("{" BASE ",\"hostname\":\"a\",\"host\\u006eame\":\"b\"}", "config.json: .hostname: duplicate key");
    /* a big object goes through the hash table: the duplicate is found at the end */
    size_t n = 100000;
    char *big = malloc(n * 24 + 64), *o = big;
    o += sprintf(o, "{" BASE ",\"annotations\":{");
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s\"k%zu\":\"v\"", i ? "," : "", i);
    char *end = o;
    o += sprintf(o, "}}");
    c = husk_config_parse(big, (size_t)(o - big), "config.json", &err);
    CHECK(c != NULL && c->n_annotations == n);
    husk_config_free(c);
    o = end + sprintf(end, ",\"k99998\":\"w\"}}");
    CHECK(husk_config_parse(big, (size_t)(o - big), "config.json", &err) == NULL);
    CHECK_STR(err.msg, "config.json: .annotations.k99998: duplicate key");
    free(big);
    husk_arena_free(&a);
}

/* process.env absent: HOME is added to an empty environment (UBSan: memcpy from NULL). */
static void test_home_without_env(void)
{
    struct husk_arena a = {0};
    struct husk_process p = {0};
    p.uid = 0;
    CHECK(husk_proc_set_home(&p, &a) == 0);
    CHECK(p.env.n == 1 && strncmp(p.env.v[0], "HOME=", 5) == 0);
    husk_arena_free(&a);
}

static void test_quote(void)
{
    char q[32];
    CHECK_STR(husk_quote("a\nb", q, sizeof q), "\"a\\nb\"");
    CHECK_STR(husk_quote("\x1b[31m\"\\", q, sizeof q), "\"\\u001b[31m\\\"\\\\\"");
    CHECK_STR(husk_quote("0123456789abcdefghijklmnopqrstuvwxyz", q, sizeof q), "\"0123456789abcdefghijklmnop...\"");
    CHECK(strlen(q) == sizeof q - 1);
}

int main(void)
{
    test_minimal();
    test_full();
    test_type_errors();
    test_versions_and_syntax();
    test_validation();
    test_section_errors();
    test_example_file();
    test_spec();
    test_hostile();
    test_home_without_env();
    test_quote();
    return unit_done("test_config");
}
