/* husk's mount(2) option table against libmount's MNT_LINUX_MAP: same names, same flags. */
#include "husk/rootfs.h"
#include "unit.h"

#include <libmount/libmount.h>
#include <sys/mount.h>

int main(void)
{
    const struct libmnt_optmap *m = mnt_get_builtin_optmap(MNT_LINUX_MAP);
    CHECK(m != NULL);
    int compared = 0;
    for (; m && m->name; m++) {
        unsigned long want = (unsigned long)m->id;
        /* handled before the table: bind mounts and propagation are not flag words */
        if (want & (MS_BIND | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE))
            continue;
        unsigned long flag = 0;
        bool clears = false;
        bool found = husk_mount_flag_lookup(m->name, &flag, &clears);
        if (!found)
            fprintf(stderr, "libmount knows \"%s\", husk does not\n", m->name);
        CHECK(found);
        CHECK(flag == want);
        CHECK(clears == !!(m->mask & MNT_INVERT));
        compared++;
    }
    CHECK(compared >= 30);

    /* what the parser makes of them, and of data */
    struct husk_err err;
    struct husk_mount_flags f;
    char *o1[] = {"nosuid", "rw", "newinstance", "ptmxmode=0666", "rprivate", "noiversion"};
    struct husk_strv v1 = {o1, 6};
    CHECK(husk_mount_flags_parse(&v1, &f, &err) == 0);
    CHECK(f.flags == MS_NOSUID);
    CHECK(f.clear == (MS_RDONLY | MS_I_VERSION));
    CHECK_STR(f.data, "newinstance,ptmxmode=0666");
    CHECK(f.propagation == (MS_PRIVATE | MS_REC));
    char *o2[] = {"ro", "rw"};
    struct husk_strv v2 = {o2, 2};
    CHECK(husk_mount_flags_parse(&v2, &f, &err) == 0);
    CHECK(f.flags == 0 && f.clear == MS_RDONLY);
    /* what `features` lists, the parser knows: none of it ends up as filesystem data */
    const char *names[128];
    size_t n = husk_mount_option_names(names, 128);
    CHECK(n > 50);
    for (size_t i = 0; i < n; i++) {
        char *one[] = {(char *)names[i]};
        struct husk_strv v = {one, 1};
        CHECK(husk_mount_flags_parse(&v, &f, &err) == 0);
        if (f.data[0])
            fprintf(stderr, "\"%s\" is listed but parsed as data\n", names[i]);
        CHECK(f.data[0] == '\0');
    }
    return unit_done("test_mountopts");
}
