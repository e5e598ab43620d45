#!/usr/bin/env bash
# Stages the header/library dependencies from this machine's Debian packages into a folder
# (default .deps/, git-ignored) for machines that lack them and have no apt (the GPU machine).
# Nothing staged is ever committed. Then, there:
#   cmake -S . -B build -DLNTUNE_DEPS_DIR=$PWD/.deps \
#         -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
# and name .deps in the device tool's `carry`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.deps}
pkgs=(libcxxopts-dev nlohmann-json3-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libgtest-dev googletest)
rm -rf "$dest" && mkdir -p "$dest/debs"
(cd "$dest/debs" && apt-get download "${pkgs[@]}" > /dev/null 2>&1)
for d in "$dest"/debs/*.deb; do dpkg-deb -x "$d" "$dest"; done
rm -rf "$dest/debs" "$dest/usr/share/doc" "$dest/usr/share/man"
# Debian's CMake configs compute their prefix from their own location, so the staged tree is
# usable as it is, wherever it lands.
echo "staged into $dest: ${pkgs[*]} ($(du -sh "$dest" | cut -f1))"
