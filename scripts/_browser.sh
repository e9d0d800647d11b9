# Sourced by scripts/test and .ci/run: the browser tests (tests/browser/) drive
# Debian's headless Chromium through its chromedriver. Install both with apt
# when either is missing; when that is impossible, say why and stop.
# Usage: source scripts/_browser.sh
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    _browser_apt=()
    if [ "$(id -u)" -eq 0 ]; then
        _browser_apt=(apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        _browser_apt=(sudo -n apt-get)
    fi
    if ! command -v apt-get >/dev/null 2>&1 || [ ${#_browser_apt[@]} -eq 0 ]; then
        {
            echo "The browser tests need /usr/bin/chromium and /usr/bin/chromedriver, and they are missing."
            echo "Installing them needs apt-get (Debian/Ubuntu) run as root or through passwordless sudo."
            echo "Install them once yourself, then run this again:"
            echo "    sudo apt-get install -y --no-install-recommends chromium chromium-driver"
        } >&2
        exit 1
    fi
    echo "== installing chromium and chromium-driver for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${_browser_apt[@]}" update -qq \
        && "${_browser_apt[@]}" install -y -qq --no-install-recommends chromium chromium-driver; }; then
        echo "Could not install chromium and chromium-driver with apt-get (see above); the browser tests need them." >&2
        exit 1
    fi
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        echo "apt-get finished, but /usr/bin/chromium or /usr/bin/chromedriver is still missing." >&2
        exit 1
    fi
    unset _browser_apt
fi
