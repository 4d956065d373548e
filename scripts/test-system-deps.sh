#!/usr/bin/env bash
# System packages the tests drive, from Debian's archive: Chromium for the dashboard's browser
# tests (Playwright drives it; it never downloads a browser of its own) and CJK fonts so that
# weekly briefs typeset Chinese, Japanese and Korean evidence. Installs only what is missing.
# Without root or apt the tests that need a package skip and say which package is missing.
set -uo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! fc-list :lang=ko 2>/dev/null | grep -q .; then need+=(fonts-noto-cjk); fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run=(sudo -n)
else
    echo "test-system-deps: not root and no sudo: not installing ${need[*]}" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-system-deps: no apt-get: install ${need[*]} by hand" >&2
    exit 0
fi
echo "test-system-deps: installing ${need[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${run[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; then
    # A fresh machine may have no package lists yet.
    "${run[@]}" apt-get update -q >/dev/null &&
        "${run[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
        echo "test-system-deps: apt-get failed for ${need[*]}" >&2
fi
exit 0
