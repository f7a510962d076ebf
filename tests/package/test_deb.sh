#!/usr/bin/env bash
# The Debian package: built by CPack from the build folder, its dependencies resolvable on
# this system (apt's simulation), installed into a private dpkg root (the system is not
# touched), run, and removed without leftovers. Usage: test_deb.sh BUILD_DIR VERSION
set -euo pipefail
build=$(cd "$1" && pwd)
version=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/claribi-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null)
deb=$(ls "$work"/out/claribi-bridge_"$version"_*.deb)
info=$(dpkg-deb --info "$deb")
grep -Eq "^ Depends:.*libc6" <<<"$info" || { echo "no libc6 dependency: $info" >&2; exit 1; }
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/claribi-bridge ./usr/share/doc/claribi-bridge/usage.txt; do
  grep -q " $f\$" <<<"$contents" || { echo "missing $f in the package" >&2; exit 1; }
done
echo "ok   built $(basename "$deb"): $(grep -E '^ (Depends|Recommends):' <<<"$info" | tr -s ' ' | tr '\n' ';')"

apt-get install --simulate --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; exit 1; }
echo "ok   its dependencies resolve here (apt-get --simulate)"

root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
export PATH="$PATH:/usr/sbin:/sbin"
# The private root has no libc6 package, hence --force-depends (apt checked them above).
dpkg --root="$root" --force-not-root --force-depends -i "$deb" >/dev/null 2>"$work/dpkg.log" ||
  { cat "$work/dpkg.log" >&2; exit 1; }
out=$("$root/usr/bin/claribi-bridge" --version)
[[ "$out" == "claribi-bridge $version" ]] || { echo "--version said: $out" >&2; exit 1; }
echo "ok   installed into a private root; --version: $out"
dpkg --root="$root" --force-not-root -r claribi-bridge >/dev/null
left=$(find "$root" -path "$root/var" -prune -o -type f -print)
[[ -z "$left" ]] || { echo "left behind after removal: $left" >&2; exit 1; }
echo "ok   removed without leftovers"
