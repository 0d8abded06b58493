#!/usr/bin/env bash
# Make sure uv is installed, then install the project's locked dependencies into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  export PATH="$HOME/.local/bin:$PATH"
fi
if ! command -v uv >/dev/null 2>&1; then
  echo "Installing uv..."
  python3 -m pip install --user --quiet uv || python3 -m pip install --quiet --break-system-packages --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --python 3.11 "$@"
