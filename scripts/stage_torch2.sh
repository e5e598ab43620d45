#!/usr/bin/env bash
# Stages Debian 13's LibTorch 2.6 (CPU) beside this machine's 1.13, for scripts/test_torch2.sh:
# the GPU machine's LibTorch is 2.x, and so is what most users build against, but Debian 12 ships
# 1.13, so without this the code behind version guards (scaled_dot_product_attention, TCPStore's
# libuv option, ...) would first compile and run on a GPU lease.
#
# Nothing is installed: the packages of `libtorch-dev` and everything libtorch2.6 depends on are
# downloaded from Debian's trixie suite with a private apt state and unpacked into DEST (default
# .torch2/, git-ignored), with trixie's own C library and loader, which test_torch2.sh's binaries
# name as their interpreter (LibTorch 2.6 needs a newer glibc and libstdc++ than Debian 12's).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.torch2}
apt_dir=$dest/apt
rm -rf "$dest" && mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/sources" "$dest/debs"
touch "$apt_dir/status"
cat > "$apt_dir/sources/trixie.sources" << 'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o Dir::State="$apt_dir" -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::status="$apt_dir/status"
  -o Dir::Cache="$apt_dir" -o Dir::Cache::Archives="$apt_dir/archives" -o Dir::Etc::sourcelist=/dev/null
  -o Dir::Etc::sourceparts="$apt_dir/sources" -o Dir::Etc::preferencesparts=/dev/null
  -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
# Every package libtorch2.6 needs at run time, resolved against an empty status (nothing counts
# as installed), plus the headers and CMake config of libtorch-dev.
mapfile -t pkgs < <(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances libtorch2.6 | grep -v '^ ' | grep -v '<' | sort -u)
(cd "$dest/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" libtorch-dev > /dev/null)
for d in "$dest"/debs/*.deb; do dpkg-deb -x "$d" "$dest/root"; done
rm -rf "$dest/debs" "$apt_dir" "$dest/root/usr/share/doc" "$dest/root/usr/share/man"
lib=$dest/root/usr/lib/x86_64-linux-gnu
test -f "$lib/cmake/Torch/TorchConfig.cmake" && test -x "$lib/ld-linux-x86-64.so.2"
# The linker finds libstdc++ as libstdc++.so; the runtime package ships only the .so.6.
mkdir -p "$dest/link" && ln -sf "$lib/libstdc++.so.6" "$dest/link/libstdc++.so"
version=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$dest/root/usr/include/torch/csrc/api/include/torch/version.h" | paste -sd.)
echo "staged LibTorch $version into $dest (${#pkgs[@]} packages, $(du -sh "$dest" | cut -f1))"
