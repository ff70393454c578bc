#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: Debian's Chromium (browser and webview tests),
# PyTorch and NumPy for /usr/bin/python3 (the Python helper's tests, the conformance generator),
# and the libraries code-server needs for the end-to-end tests in a real VS Code.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(chromium python3-torch python3-numpy libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "[loss-lens] installing Debian packages: ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${missing[@]}"
fi
