#!/usr/bin/env bash
# The whole test suite: build, unit + integration (Vitest), then the browser e2e (Playwright).
# Runs inside a private D-Bus session with an unlocked gnome-keyring when one can be
# started, so the keyring tests talk to a real Secret Service.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${HALOFORGE_TEST_IN_DBUS:-}" ]] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export HALOFORGE_TEST_IN_DBUS=1
  # No display: a locked keyring under X would wait forever for a password prompt.
  # The keyring daemon keeps its files in a throwaway folder: a fresh, unlocked
  # keyring every run, and the developer's own keyring is never touched.
  keyring_home=$(mktemp -d)
  trap 'rm -rf "$keyring_home"' EXIT
  env -u DISPLAY -u WAYLAND_DISPLAY KEYRING_HOME="$keyring_home" dbus-run-session -- bash -c '
    echo -n halo-forge-test | XDG_DATA_HOME="$KEYRING_HOME" timeout 15 gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 \
      || echo "note: gnome-keyring-daemon did not start; keyring tests will be skipped"
    exec bash scripts/test.sh "$@"' bash "$@"
  exit $?
fi
if [[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
  echo "note: no D-Bus session (install dbus, dbus-user-session, gnome-keyring); keyring tests will be skipped"
fi

npm run build --silent
npm run typecheck --silent
npx vitest run
npx playwright test
