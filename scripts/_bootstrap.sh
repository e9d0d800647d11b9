# Sourced by the other scripts: make .venv (Python 3.11+) and install a pinned
# requirements file into it, skipping the install when nothing changed.
# Usage: source scripts/_bootstrap.sh requirements/base.txt
requirements="$1"
VENV="${VENV:-.venv}"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is needed as python3." >&2; exit 1; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
stamp="$VENV/.installed-$(basename "$requirements")-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
