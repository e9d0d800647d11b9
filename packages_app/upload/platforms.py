"""Which wheel platform tags the public index accepts (``ALLOW_UNSUPPORTED_PLATFORM_TAGS=false``).

A tag is accepted when an installer on some real platform can pick the wheel
and the tag promises an ABI that is specified somewhere (manylinux, musllinux,
the macOS, Windows, iOS and Android conventions, Pyodide's Emscripten ABI).
A plain ``linux_x86_64`` promises nothing beyond the machine it was built on,
which is why the public index refuses it and why a private index may well
want it (``ALLOW_UNSUPPORTED_PLATFORM_TAGS``, on by default).

The list follows what the public index accepted when this was written; a new
platform convention needs a line here.
"""

from __future__ import annotations

import re

_FIXED = frozenset(
    {
        "any",
        "win32",
        "win_amd64",
        "win_arm64",
        "win_ia64",
        "manylinux1_x86_64",
        "manylinux1_i686",
        "manylinux2010_x86_64",
        "manylinux2010_i686",
        *(f"manylinux2014_{arch}" for arch in ("x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x")),
        "linux_armv6l",
        "linux_armv7l",
    }
)
_LINUX_ARCHES = frozenset({"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"})
_ARCHES = {"many": _LINUX_ARCHES | {"ppc64"}, "musl": _LINUX_ARCHES}
_LINUX = re.compile(r"(?P<libc>many|musl)linux_\d+_\d+_(?P<arch>.+)\Z")

_MACOS_ARCHES = frozenset(
    {"ppc", "ppc64", "i386", "x86_64", "arm64", "intel", "fat", "fat3", "fat32", "fat64", "universal", "universal2"}
)
# macOS 10.x counted its minor versions; from 11 on only the major moves, so the minor is 0.
_MACOS = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)\Z")
_MACOS_MAJORS = frozenset({"11", "12", "13", "14", "15", "26"})

_IOS = re.compile(r"ios_\d+_\d+_(?P<arch>arm64|x86_64)_(iphoneos|iphonesimulator)\Z")
_ANDROID = re.compile(r"android_\d+_(?P<arch>armeabi_v7a|arm64_v8a|x86|x86_64)\Z")
_EMSCRIPTEN = re.compile(r"(pyemscripten|pyodide)_\d+_\d+_wasm32\Z")


def is_supported(platform: str) -> bool:
    if platform in _FIXED:
        return True
    linux = _LINUX.match(platform)
    if linux:
        return linux["arch"] in _ARCHES[linux["libc"]]
    macos = _MACOS.match(platform)
    if macos:
        if macos["arch"] not in _MACOS_ARCHES:
            return False
        return macos["major"] == "10" or (macos["major"] in _MACOS_MAJORS and macos["minor"] == "0")
    return any(pattern.match(platform) for pattern in (_IOS, _ANDROID, _EMSCRIPTEN))
