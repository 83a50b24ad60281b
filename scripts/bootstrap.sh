#!/usr/bin/env bash
# Installs everything the project needs on Debian/Ubuntu, idempotently.
#   scripts/bootstrap.sh          runtime: PostgreSQL, Mosquitto, Node/npm, Python venv with the locked dependencies,
#                                 and web/node_modules (Swagger UI and ReDoc, served by the API at /api/docs, /api/redoc)
#   scripts/bootstrap.sh --test   also Chromium and the npm packages the tests use
#   scripts/bootstrap.sh --bench  also wrk, the HTTP load generator of bench/api_load.py
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
[[ "${1:-}" == "--test" ]] && want_test=1
[[ "${1:-}" == "--bench" ]] && want_bench=1

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap: not root and no sudo; install the Debian packages listed in scripts/bootstrap.sh by hand" >&2
  fi
fi

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql postgresql-contrib)
have_cmd mosquitto || [[ -x /usr/sbin/mosquitto ]] || need+=(mosquitto)
have_cmd mosquitto_pub || need+=(mosquitto-clients)
have_cmd runuser || need+=(util-linux)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
have_cmd node || need+=(nodejs)
have_cmd npm || need+=(npm)
# The supervision monthly report (PDF) embeds a TrueType CJK font: reportlab cannot embed Noto CJK (CFF outlines).
[[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || need+=(fonts-wqy-microhei)
if [[ $want_test == 1 ]]; then
  have_cmd chromium || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
fi
if [[ $want_bench == 1 ]]; then
  have_cmd wrk || need+=(wrk)
fi
if (( ${#need[@]} )); then
  echo "bootstrap: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package starts a system broker on 1883; ours run privately, so that one is not needed.
if have_cmd systemctl && systemctl is-active --quiet mosquitto 2>/dev/null; then
  $SUDO systemctl stop mosquitto >/dev/null 2>&1 || true
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
if [[ ! -x .venv/bin/uv ]]; then
  .venv/bin/python -m pip install -q "uv==0.13.9"
fi
stamp=.venv/.lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s requirements.lock "$stamp"; then
  .venv/bin/uv pip sync -q --python .venv/bin/python requirements.lock
  .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
  cp requirements.lock "$stamp"
fi

# The API's docs pages load Swagger UI and ReDoc from web/node_modules (never a CDN: intranets are offline).
# --ignore-scripts: these are prebuilt browser bundles, nothing to build (and no install-time telemetry).
web_stamp=web/node_modules/.lock-stamp
if [[ ! -f $web_stamp ]] || ! cmp -s web/package-lock.json "$web_stamp"; then
  npm ci --prefix web --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error
  cp web/package-lock.json "$web_stamp"
fi

if [[ $want_test == 1 ]]; then
  for dir in tests/timescale tests/schemas; do
    if [[ -f $dir/package-lock.json ]] && [[ ! -d $dir/node_modules ]] ; then
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    fi
  done
fi
echo "bootstrap: ready"
