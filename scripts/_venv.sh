# Shared by scripts/serve and scripts/test: find Python >= 3.11, make .venv, install.
# Usage: source scripts/_venv.sh; ensure_venv "<pip extras spec>"
find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "siarkan needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

ensure_venv() {
  local spec="$1"
  local python
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
  fi
  # Reinstall only when pyproject.toml or the wanted extras changed (fast second runs).
  local stamp=".venv/.siarkan-installed"
  local want
  want="$spec $(cksum < pyproject.toml)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing siarkan ($spec) into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e "$spec" >&2
    echo "$want" > "$stamp"
  fi
}
