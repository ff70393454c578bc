#!/bin/sh
# Installs code-server (VS Code 1.100 in a browser) into .e2e/code-server for the end-to-end test.
# Idempotent: does nothing when the pinned version is already installed there.
#
# Needs (Debian): build-essential python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep,
# and network access to the npm registry (code-server's postinstall installs VS Code's own dependencies
# and compiles their native modules against the local Node 20).
set -eu

CODE_SERVER_VERSION=4.100.3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX="$ROOT/.e2e/code-server"
PACKAGE_DIR="$PREFIX/node_modules/code-server"

installed_version() {
  node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch { }' "$PACKAGE_DIR/package.json"
}

# A half-finished install (interrupted postinstall) leaves package.json behind but no marker.
if [ "$(installed_version)" = "$CODE_SERVER_VERSION" ] && [ -f "$PREFIX/.install-complete" ]; then
  echo "code-server $CODE_SERVER_VERSION already installed in $PREFIX"
  exit 0
fi

for tool in rg g++ make; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing (apt-get install ripgrep build-essential)" >&2; exit 1; }
done

# @vscode/ripgrep (a VS Code dependency) downloads a ripgrep release from GitHub in its install step
# unless the archive is already in its cache: give it Debian's rg, packed the way the release is.
RIPGREP_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RIPGREP_ARCHIVE="$RIPGREP_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$RIPGREP_ARCHIVE" ]; then
  mkdir -p "$RIPGREP_CACHE"
  staging=$(mktemp -d)
  cp "$(command -v rg)" "$staging/rg"
  tar -czf "$RIPGREP_ARCHIVE" -C "$staging" rg
  rm -rf "$staging"
fi

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
# A private project folder rather than `npm install --global --prefix`: npm hands its settings to the
# postinstall's nested `npm install` as npm_config_* variables, and an inherited global/prefix setting
# would make that nested install reinstall code-server itself instead of VS Code's dependencies.
cd "$PREFIX"
echo '{ "name": "loss-lens-e2e-code-server", "private": true }' > package.json
# npm 11 runs no install scripts unless allowed; code-server's postinstall (which installs VS Code's
# dependencies with a nested npm) and the native modules it compiles all need theirs. The settings
# are passed as environment variables so that the nested npm processes inherit them too.
export npm_config_dangerously_allow_all_scripts=true
export npm_config_ignore_scripts=false
export npm_config_unsafe_perm=true
export npm_config_yes=true
export npm_config_audit=false
export npm_config_fund=false
npm install --foreground-scripts --no-save "code-server@$CODE_SERVER_VERSION"

if [ "$(installed_version)" != "$CODE_SERVER_VERSION" ]; then
  echo "install-code-server: code-server $CODE_SERVER_VERSION did not install into $PREFIX" >&2
  exit 1
fi
# Its first run writes a default config under XDG_CONFIG_HOME: keep that out of the user's home.
XDG_CONFIG_HOME="$PREFIX/config" XDG_DATA_HOME="$PREFIX/data" "$PREFIX/node_modules/.bin/code-server" --version
touch "$PREFIX/.install-complete"
