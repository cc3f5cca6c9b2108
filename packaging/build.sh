#!/usr/bin/env bash
# Build the one-folder bundle (build/dist/gan-studio/) with PyInstaller and smoke-test it:
# the bundled gan-studio must open the studio, train ring8 for a while and save a screenshot.
#   packaging/build.sh            (uses VENV=.venv, created by `make` if missing)
# Prints how long each step took; exit status 0 only when the smoke test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || make setup VENV="$VENV"
t0=$(date +%s)
"$VENV/bin/python" -m pip install --quiet "pyinstaller>=6.3"
"$VENV/bin/python" -m PyInstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/pyinstaller \
    packaging/gan-studio.spec
t1=$(date +%s)
app=build/dist/gan-studio/gan-studio
echo "built $app in $((t1 - t0)) s ($(du -sh build/dist/gan-studio | cut -f1))"
"$app" --version
out=$(QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" GAN_STUDIO_CONFIG_DIR="$(mktemp -d)" \
      GAN_STUDIO_CACHE="$(mktemp -d)" "$app" --preset ring8 --exit-after 25 --screenshot build/bundle-smoke.png | tail -1)
t2=$(date +%s)
echo "$out"
echo "smoke test took $((t2 - t1)) s"
"$VENV/bin/python" - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r.get("screenshot"), "no screenshot"
assert r["iterations"] > 100 and r["state"] == "running", f"the bundle did not train: {r}"
print(f"bundle OK: {r['iterations']} iterations, {r['it_per_s']} it/s, startup {r['startup_s']} s")
PY
