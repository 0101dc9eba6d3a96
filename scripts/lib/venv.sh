# Sourced by scripts/plan and scripts/check: make sure "$venv" holds meshlib (editable) with the
# given extras, quietly, and only install when pyproject.toml or requirements.txt changed since the
# last successful install (a hash of them is kept in the virtualenv).
# Usage: ensure_venv VENV [EXTRAS]   e.g. ensure_venv .venv dev
ensure_venv() {
  local venv=$1 extras=${2:-} stamp hash target
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
  fi
  hash=$(cat pyproject.toml requirements.txt | "$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
  # A dev install also serves plain runs.
  for stamp in "$venv/.meshlib-installed-${extras:-base}" "$venv/.meshlib-installed-dev"; do
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
      return 0
    fi
  done
  target=.${extras:+[$extras]}
  # setuptools' editable-install notice ("Editable installation. Please be careful with folders ...")
  # is information, not a problem: keep it out of the output.
  PYTHONWARNINGS="ignore:Editable installation:UserWarning${PYTHONWARNINGS:+,$PYTHONWARNINGS}" \
    "$venv/bin/python" -m pip install --quiet -e "$target"
  echo "$hash" > "$venv/.meshlib-installed-${extras:-base}"
}
