/* Sealed memfds for the exec trampoline and for husk itself (include/husk/exeseal.h). */
#include "husk/exeseal.h"
#include "husk/cleanup.h"
#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* The trampoline, built by the Makefile (HUSK_TRAMPOLINE is its path), embedded as is. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "husk_trampoline_elf:\n"
        ".incbin \"" HUSK_TRAMPOLINE "\"\n"
        "husk_trampoline_end:\n"
        ".previous\n");
extern const char husk_trampoline_elf[] __asm__("husk_trampoline_elf");
extern const char husk_trampoline_end[] __asm__("husk_trampoline_end");

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int exec_memfd(const char *name, struct husk_err *err)
{
    /* vm.memfd_noexec (6.3+) may make memfds non-executable unless asked; older kernels
     * reject the flag */
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return husk_err_set(err, errno, "memfd_create(\"%s\") for an executable copy%s", name,
                            errno == EACCES ? " (vm.memfd_noexec forbids it)" : "");
    return fd;
}

int husk_trampoline_memfd(struct husk_err *err)
{
    int fd = exec_memfd("husk-exec", err);
    if (fd < 0)
        return -1;
    size_t n = (size_t)(husk_trampoline_end - husk_trampoline_elf);
    if (write(fd, husk_trampoline_elf, n) != (ssize_t)n || fcntl(fd, F_ADD_SEALS, ALL_SEALS) < 0) {
        int e = errno;
        close(fd);
        return husk_err_set(err, e, "write and seal the exec trampoline");
    }
    return fd;
}

static bool has_cap(const struct husk_strv *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i], name) == 0)
            return true;
    return false;
}

/* whether a process with these capabilities can hold `name` (without process.capabilities
 * a root process keeps them all; an exec by root gains the bounding set) */
static bool may_hold(const struct husk_process *p, const char *name)
{
    const struct husk_caps *c = &p->caps;
    return !c->set || has_cap(&c->bounding, name) || has_cap(&c->permitted, name) || has_cap(&c->effective, name) ||
           has_cap(&c->ambient, name);
}

bool husk_caps_allow_ptrace(const struct husk_process *p)
{
    return may_hold(p, "CAP_SYS_PTRACE");
}

bool husk_caps_host_root(const struct husk_process *p)
{
    return may_hold(p, "CAP_SYS_ADMIN") || may_hold(p, "CAP_SYS_MODULE") || may_hold(p, "CAP_DAC_READ_SEARCH");
}

/* Our own argv from /proc/self/cmdline: malloc'd vector into a malloc'd buffer. */
static char **self_argv(char **buf_out)
{
    size_t cap = 4096, len = 0;
    char *buf = NULL;
    AUTOCLOSE int fd = husk_open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    for (;;) {
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            return NULL;
        }
        buf = nb;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap)
            cap *= 2;
    }
    buf[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\0';
    char **v = calloc(n + 1, sizeof *v);
    if (!v) {
        free(buf);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1)
        v[k++] = buf + i;
    *buf_out = buf;
    return v;
}

int husk_self_seal(struct husk_err *err)
{
    AUTOCLOSE int self = husk_open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return husk_err_set(err, errno, "open /proc/self/exe");
    int seals = fcntl(self, F_GET_SEALS);
    if (seals >= 0 && (seals & F_SEAL_WRITE))
        return 0;
    struct stat sb;
    if (fstat(self, &sb) < 0)
        return husk_err_set(err, errno, "stat /proc/self/exe");
    AUTOCLOSE int fd = exec_memfd("husk", err);
    if (fd < 0)
        return -1;
    for (off_t off = 0; off < sb.st_size;) {
        ssize_t r = sendfile(fd, self, &off, (size_t)(sb.st_size - off));
        if (r <= 0)
            return husk_err_set(err, r < 0 ? errno : EIO, "copy husk's binary into a memfd");
    }
    if (fcntl(fd, F_ADD_SEALS, ALL_SEALS) < 0)
        return husk_err_set(err, errno, "seal the copy of husk's binary");
    char *buf = NULL;
    AUTOFREE char **argv = self_argv(&buf);
    if (!argv)
        return husk_err_set(err, errno ? errno : ENOMEM, "read /proc/self/cmdline");
    extern char **environ;
    syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    int e = errno;
    free(buf);
    return husk_err_set(err, e, "re-execute husk from a sealed copy");
}
