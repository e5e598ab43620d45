#!/usr/bin/env bash
# Assembles lntune's English pretraining corpus from text available offline:
#   GLUE training splits and the E2E training part (../shared), and English prose from Debian
#   packages: dict-gcide, dict-foldoc, python3-doc, fortunes (+ fortunes-min).
# Writes OUT_DIR/en.txt (one document per line, deduplicated, no evaluation sentence) and
# OUT_DIR/manifest.json (documents, bytes, words and licence of each source).
# Usage: scripts/build_corpus.sh [OUT_DIR] (default runs/corpus). Sources, sizes, licences:
# docs/corpus.md. Idempotent: an existing corpus whose manifest matches this script is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/runs/corpus}
shared=${LNTUNE_SHARED_DIR:-$root/../shared}

packages=(dict-gcide dict-foldoc python3-doc fortunes fortunes-min)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build_corpus: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
[ -d "$shared/data/glue" ] || { echo "build_corpus: $shared/data/glue: missing (the shared assets)" >&2; exit 1; }

mkdir -p "$out"
stamp=$(cat "$root/scripts/corpus_sources.py" "$0" | md5sum | cut -d' ' -f1)
if [ -f "$out/en.txt" ] && [ -f "$out/manifest.json" ] && [ "$(cat "$out/.stamp" 2> /dev/null)" = "$stamp" ]; then
  echo "build_corpus: $out/en.txt is up to date" >&2
  exit 0
fi
echo "build_corpus: writing $out/en.txt" >&2
python3 "$root/scripts/corpus_sources.py" "$shared" "$out/en.txt" "$out/manifest.json"
echo "$stamp" > "$out/.stamp"
echo "build_corpus: $(wc -l < "$out/en.txt") documents, $(du -h "$out/en.txt" | cut -f1)" >&2
