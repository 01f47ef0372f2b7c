#!/bin/sh
# Builds libseccomp, libcap and yajl as static musl libraries in build/musl (once), from
# Debian's source packages with Debian's patches applied, so `make` can link husk against
# musl: glibc's start-up costs 0.3 ms per exec on a VM (its CPUID probing), musl's does not
# (bench/README.md). Needs musl-tools, gperf and dpkg-dev (scripts/install-deps.sh) and
# Debian's deb-src entries, which it adds next to the deb ones when they are missing.
set -eu
cd "$(dirname "$0")/.."
OUT=$PWD/build/musl
LIB=$OUT/lib
INC=$OUT/include
if [ -f "$LIB/libseccomp.a" ] && [ -f "$LIB/libcap.a" ] && [ -f "$LIB/libyajl.a" ]; then
    exit 0
fi
command -v musl-gcc >/dev/null || { echo "musl-deps: musl-gcc missing (apt-get install musl-tools)" >&2; exit 1; }
command -v dpkg-source >/dev/null || { echo "musl-deps: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }

# Kernel headers: musl-gcc searches only musl's include directory.
multiarch=$(gcc -dumpmachine)
rm -rf "$OUT" && mkdir -p "$LIB" "$INC/sys" "$INC/yajl" "$OUT/src"
ln -s /usr/include/linux "$INC/linux"
ln -s /usr/include/asm-generic "$INC/asm-generic"
ln -s "/usr/include/$multiarch/asm" "$INC/asm"

# Debian's sources, as its deb entries name them
sh scripts/deb-src.sh yajl
cd "$OUT/src"
apt-get source -qq libseccomp libcap2 yajl >/dev/null 2>&1 || apt-get source -qq libseccomp libcap2 yajl
CC="musl-gcc"
CFLAGS="-O2 -idirafter $INC"

cd "$OUT"/src/libseccomp-*/
./configure -q CC="$CC" CFLAGS="$CFLAGS" --enable-static --disable-shared >/dev/null
make -s -C src -j2 >/dev/null 2>&1
cp src/.libs/libseccomp.a "$LIB/"
cp include/seccomp.h include/seccomp-syscalls.h "$INC/"

cd "$OUT"/src/libcap2-*/
make -s -C libcap CC="$CC" BUILD_CC=gcc COPTS="$CFLAGS" SHARED=no libcap.a >/dev/null
cp libcap/libcap.a "$LIB/"
cp libcap/include/sys/capability.h "$INC/sys/"

cd "$OUT"/src/yajl-*/
v=$(sed -n 's/^[Ss][Ee][Tt] *(YAJL_\(MAJOR\|MINOR\|MICRO\) \([0-9]*\)).*/\2/p' CMakeLists.txt | tr '\n' ' ')
set -- $v
sed -e "s/\${YAJL_MAJOR}/$1/" -e "s/\${YAJL_MINOR}/$2/" -e "s/\${YAJL_MICRO}/$3/" \
    src/api/yajl_version.h.cmake > "$INC/yajl/yajl_version.h"
cp src/api/yajl_common.h src/api/yajl_gen.h src/api/yajl_parse.h src/api/yajl_tree.h "$INC/yajl/"
mkdir -p obj
for c in src/*.c; do
    $CC $CFLAGS -I"$INC" -c "$c" -o "obj/$(basename "$c" .c).o"
done
ar rcs "$LIB/libyajl.a" obj/*.o
echo "musl-deps: built $(ls "$LIB" | tr '\n' ' ')in $OUT"
