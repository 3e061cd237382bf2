#!/bin/sh
# Unpacks Debian's CPython 3.13 and 3.14 into BUILD/pythons for the Python
# tests, with the C library they were built against: Debian 12 has only
# 3.11.  Nothing is installed on the system.  Each interpreter runs through
# a wrapper that starts it with the unpacked dynamic loader.  A version that
# neither trixie nor sid has is left out, and its tests are skipped.
set -eu

build=${1:-build}
dir=$build/pythons
apt=$dir/apt
versions="3.13 3.14"

rm -rf "$dir"
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$dir/debs" \
	"$dir/root"
cat >"$apt/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST

set -- -o Dir::Etc::sourcelist="$PWD/$apt/sources.list" \
	-o Dir::Etc::sourceparts=/nonexistent \
	-o Dir::State::Lists="$PWD/$apt/lists" \
	-o Dir::Cache="$PWD/$apt" \
	-o Dir::State::status=/var/lib/dpkg/status \
	-o APT::Sandbox::User="$(id -un)"
apt-get "$@" -qq update

packages="libc6 libexpat1 zlib1g libffi8"
found=
for v in $versions; do
	if apt-cache "$@" show "python$v-minimal" >/dev/null 2>&1; then
		packages="$packages python$v-minimal libpython$v-minimal \
libpython$v-stdlib"
		found="$found $v"
	else
		echo "make pythons: Debian has no CPython $v: its tests" \
			"will be skipped" >&2
	fi
done
(cd "$dir/debs" && apt-get "$@" -qq download $packages)
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
done

for v in $found; do
	cat >"$dir/python$v" <<WRAPPER
#!/bin/sh
root="\${0%/*}/root"
lib="\$root/usr/lib/x86_64-linux-gnu"
export PYTHONHOME="\$root/usr"
exec "\$lib/ld-linux-x86-64.so.2" --library-path "\$lib" \\
	"\$root/usr/bin/python$v" "\$@"
WRAPPER
	chmod +x "$dir/python$v"
	"$dir/python$v" -c 'import sys; print("make pythons: CPython", sys.version.split()[0])'
done
rm -rf "$apt" "$dir/debs"
