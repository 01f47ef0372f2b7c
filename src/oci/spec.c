/* `husk spec`: a starting config in the shape runc writes, so users and tools
 * that expect runc's defaults get the same container. */
#include "husk/fileio.h"
#include "husk/config.h"
#include "husk/jsonw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void mount(struct husk_jsonw *w, const char *dst, const char *type, const char *src,
                  const char *const *opts)
{
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_str(w, "destination", dst);
    husk_jsonw_kv_str(w, "type", type);
    husk_jsonw_kv_str(w, "source", src);
    if (opts)
        husk_jsonw_kv_strv(w, "options", opts);
    husk_jsonw_end_object(w);
}

static void idmap(struct husk_jsonw *w, const char *key, unsigned host)
{
    husk_jsonw_key(w, key);
    husk_jsonw_begin_array(w);
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_int(w, "containerID", 0);
    husk_jsonw_kv_int(w, "hostID", host);
    husk_jsonw_kv_int(w, "size", 1);
    husk_jsonw_end_object(w);
    husk_jsonw_end_array(w);
}

/* config.md "Process": a shell on a terminal, runc's capabilities and rlimits. */
static void spec_process(struct husk_jsonw *w)
{
    static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
    static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                      "TERM=xterm", NULL};
    static const char *const args[] = {"sh", NULL};
    husk_jsonw_key(w, "process");
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_bool(w, "terminal", true);
    husk_jsonw_key(w, "user");
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_int(w, "uid", 0);
    husk_jsonw_kv_int(w, "gid", 0);
    husk_jsonw_end_object(w);
    husk_jsonw_kv_strv(w, "args", args);
    husk_jsonw_kv_strv(w, "env", env);
    husk_jsonw_kv_str(w, "cwd", "/");
    husk_jsonw_key(w, "capabilities");
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_strv(w, "bounding", caps);
    husk_jsonw_kv_strv(w, "effective", caps);
    husk_jsonw_kv_strv(w, "permitted", caps);
    husk_jsonw_end_object(w);
    husk_jsonw_key(w, "rlimits");
    husk_jsonw_begin_array(w);
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_str(w, "type", "RLIMIT_NOFILE");
    husk_jsonw_kv_int(w, "hard", 1024);
    husk_jsonw_kv_int(w, "soft", 1024);
    husk_jsonw_end_object(w);
    husk_jsonw_end_array(w);
    husk_jsonw_kv_bool(w, "noNewPrivileges", true);
    husk_jsonw_end_object(w);
}

/* config.md "Mounts": the rootless config binds the host's /sys and has no gid=5 on devpts. */
static void spec_mounts(struct husk_jsonw *w, bool rootless)
{
    husk_jsonw_key(w, "mounts");
    husk_jsonw_begin_array(w);
    mount(w, "/proc", "proc", "proc", NULL);
    mount(w, "/dev", "tmpfs", "tmpfs", (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL});
    if (rootless)
        mount(w, "/dev/pts", "devpts", "devpts",
              (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL});
    else
        mount(w, "/dev/pts", "devpts", "devpts",
              (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL});
    mount(w, "/dev/shm", "tmpfs", "shm",
          (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL});
    mount(w, "/dev/mqueue", "mqueue", "mqueue", (const char *const[]){"nosuid", "noexec", "nodev", NULL});
    if (rootless)
        mount(w, "/sys", "none", "/sys", (const char *const[]){"rbind", "nosuid", "noexec", "nodev", "ro", NULL});
    else
        mount(w, "/sys", "sysfs", "sysfs", (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL});
    mount(w, "/sys/fs/cgroup", "cgroup", "cgroup",
          (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro", NULL});
    husk_jsonw_end_array(w);
}

/* config-linux.md: id mappings or a device cgroup that denies all, namespaces, masked paths. */
static void spec_linux(struct husk_jsonw *w, bool rootless)
{
    husk_jsonw_key(w, "linux");
    husk_jsonw_begin_object(w);
    if (rootless) {
        idmap(w, "uidMappings", getuid());
        idmap(w, "gidMappings", getgid());
    } else {
        husk_jsonw_key(w, "resources");
        husk_jsonw_begin_object(w);
        husk_jsonw_key(w, "devices");
        husk_jsonw_begin_array(w);
        husk_jsonw_begin_object(w);
        husk_jsonw_kv_bool(w, "allow", false);
        husk_jsonw_kv_str(w, "access", "rwm");
        husk_jsonw_end_object(w);
        husk_jsonw_end_array(w);
        husk_jsonw_end_object(w);
    }
    husk_jsonw_key(w, "namespaces");
    husk_jsonw_begin_array(w);
    const char *ns_rootful[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};
    const char *ns_rootless[] = {"pid", "ipc", "uts", "user", "mount", "cgroup", NULL};
    for (const char **n = rootless ? ns_rootless : ns_rootful; *n; n++) {
        husk_jsonw_begin_object(w);
        husk_jsonw_kv_str(w, "type", *n);
        husk_jsonw_end_object(w);
    }
    husk_jsonw_end_array(w);
    husk_jsonw_kv_strv(w, "maskedPaths",
         (const char *const[]){"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                               "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                               "/proc/scsi", NULL});
    husk_jsonw_kv_strv(w, "readonlyPaths",
         (const char *const[]){"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL});
    husk_jsonw_end_object(w);
}

static void build(struct husk_jsonw *w, bool rootless)
{
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_str(w, "ociVersion", "1.3.0");
    spec_process(w);
    husk_jsonw_key(w, "root");
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_str(w, "path", "rootfs");
    husk_jsonw_kv_bool(w, "readonly", true);
    husk_jsonw_end_object(w);
    husk_jsonw_kv_str(w, "hostname", "husk");
    spec_mounts(w, rootless);
    spec_linux(w, rootless);
    husk_jsonw_end_object(w);
    husk_jsonw_raw(w, "\n");
}

int husk_spec_write(const char *path, bool rootless, struct husk_err *err)
{
    struct husk_jsonw w;
    husk_jsonw_init(&w, 2);
    build(&w, rootless);
    if (w.oom) {
        husk_jsonw_free(&w);
        return husk_err_set(err, ENOMEM, "build default config");
    }
    /* runc refuses to overwrite an existing config; so do we. */
    int fd = husk_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        husk_jsonw_free(&w);
        if (e == EEXIST)
            return husk_err_set(err, 0, "File %s exists. Remove it first", path);
        return husk_err_set(err, e, "create `%s`", path);
    }
    ssize_t len = (ssize_t)w.len;
    ssize_t n = write(fd, w.buf, w.len);
    int e = errno;
    close(fd);
    husk_jsonw_free(&w);
    if (n != len)
        return husk_err_set(err, n < 0 ? e : EIO, "write `%s`", path);
    return 0;
}
