import ctypes
import gc
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest

from indexsite import allocator

ROOT = Path(__file__).resolve().parents[2]
M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
M_ARENA_MAX = -8


class FakeMallopt:
    """Stands in for glibc's ``mallopt``: records its calls, answers ``answer`` (1 = done)."""

    def __init__(self, answer=1, error=None):
        self.calls = []
        self.answer = answer
        self.error = error

    def __call__(self, parameter, value):
        self.calls.append((parameter, value))
        if self.error:
            raise self.error
        return self.answer


class FakeTrim:
    """Stands in for glibc's ``malloc_trim``; ``calls`` are its ``pad`` arguments."""

    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def __call__(self, pad):
        self.calls.append(pad)
        if self.error:
            raise self.error
        return 1


class FakeLibc:
    def __init__(self, mallopt, trim_error=None):
        self.mallopt = mallopt
        self.malloc_trim = FakeTrim(trim_error)

    @property
    def trims(self):
        return self.malloc_trim.calls


@pytest.fixture(autouse=True)
def untuned(monkeypatch):
    monkeypatch.setattr(allocator, "_tuned", None)


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc(FakeMallopt())
    monkeypatch.setattr(allocator, "glibc", lambda: fake)
    return fake


@pytest.fixture
def mallopt(libc):
    return libc.mallopt


def test_glibc_gets_two_arenas_and_a_fixed_256_kib_mmap_threshold(mallopt):
    assert allocator.tune({}) is True
    assert sorted(mallopt.calls) == [(M_ARENA_MAX, 2), (M_MMAP_THRESHOLD, 256 * 1024)]


@pytest.mark.parametrize("value", ["false", "FALSE", "no", "off", "0", " false "])
def test_malloc_tuning_false_leaves_the_allocator_alone(mallopt, value):
    assert allocator.tune({"MALLOC_TUNING": value}) is False
    assert mallopt.calls == []


@pytest.mark.parametrize("value", ["true", "yes", "on", "1", ""])
def test_malloc_tuning_on_or_unset_tunes(mallopt, value):
    assert allocator.tune({"MALLOC_TUNING": value}) is True
    assert len(mallopt.calls) == 2


@pytest.mark.parametrize(
    "environ",
    [
        {"MALLOC_ARENA_MAX": "4"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=4"},
        {"GLIBC_TUNABLES": "glibc.rtld.optional_static_tls=2048:glibc.malloc.mmap_threshold=65536"},
    ],
)
def test_an_operators_own_allocator_settings_win(mallopt, environ):
    assert allocator.tune(environ) is False
    assert mallopt.calls == []


def test_other_tunables_do_not_stop_the_tuning(mallopt):
    assert allocator.tune({"GLIBC_TUNABLES": "glibc.rtld.optional_static_tls=2048"}) is True
    assert len(mallopt.calls) == 2


@pytest.mark.parametrize(
    "fake", [FakeMallopt(answer=0), FakeMallopt(error=OSError("no")), FakeMallopt(error=ctypes.ArgumentError("x"))]
)
def test_a_refusing_or_failing_mallopt_never_raises(monkeypatch, fake):
    monkeypatch.setattr(allocator, "glibc", lambda: FakeLibc(fake))
    assert allocator.tune({}) is False
    assert fake.calls


def test_a_big_build_is_followed_by_malloc_trim_once_tuned(libc):
    assert allocator.tune({}) is True
    assert allocator.trim_after(2**20) is True
    assert libc.trims == [0]


def test_the_html_root_list_of_ten_thousand_projects_is_a_big_build():
    assert allocator.TRIM_AFTER <= 600_000  # its 0.61 MB (docs/benchmarks.md, "Lean workers")


class Node:
    pass


def test_what_a_build_left_in_reference_cycles_is_freed_before_the_trim(libc):
    allocator.tune({})
    gc.collect()
    left = Node()
    left.cycle = left  # only the cyclic collector frees it
    alive = weakref.ref(left)
    del left
    assert alive() is not None
    assert allocator.trim_after(allocator.TRIM_AFTER) is True
    assert alive() is None


@pytest.mark.parametrize("built", [0, 1, allocator.TRIM_AFTER - 1])
def test_no_trim_after_small_or_no_builds(libc, built):
    allocator.tune({})
    assert allocator.trim_after(built) is False
    assert libc.trims == []


@pytest.mark.parametrize("environ", [{"MALLOC_TUNING": "false"}, {"MALLOC_ARENA_MAX": "4"}])
def test_no_trim_when_the_allocator_was_left_alone(libc, environ):
    assert allocator.tune(environ) is False
    assert allocator.trim_after(50 * 2**20) is False
    assert libc.trims == []


def test_no_trim_when_mallopt_refused(monkeypatch):
    fake = FakeLibc(FakeMallopt(answer=0))
    monkeypatch.setattr(allocator, "glibc", lambda: fake)
    allocator.tune({})
    assert allocator.trim_after(50 * 2**20) is False
    assert fake.trims == []


def test_a_failing_malloc_trim_never_raises(monkeypatch):
    fake = FakeLibc(FakeMallopt(), trim_error=OSError("no"))
    monkeypatch.setattr(allocator, "glibc", lambda: fake)
    allocator.tune({})
    assert allocator.trim_after(50 * 2**20) is False
    assert fake.trims == [0]


def test_a_libc_without_mallopt_is_a_no_op(monkeypatch):
    monkeypatch.setattr(allocator, "glibc", lambda: object())
    assert allocator.tune({}) is False


def refuse_to_load(*args, **kwargs):
    raise AssertionError("no C library may be loaded when it is not glibc")


@pytest.mark.parametrize(
    "confstr",
    [
        lambda name: None,  # a C library that names no GNU version
        lambda name: "musl 1.2.4",
        lambda name: (_ for _ in ()).throw(ValueError("unrecognized configuration name")),  # musl, macOS
        lambda name: (_ for _ in ()).throw(OSError(22, "Invalid argument")),
    ],
)
def test_anything_but_glibc_is_a_no_op(monkeypatch, confstr):
    monkeypatch.setattr(os, "confstr", confstr)
    monkeypatch.setattr(ctypes, "CDLL", refuse_to_load)
    assert allocator.glibc() is None
    assert allocator.tune({}) is False


def test_no_confstr_at_all_is_a_no_op(monkeypatch):
    monkeypatch.delattr(os, "confstr")  # Windows
    monkeypatch.setattr(ctypes, "CDLL", refuse_to_load)
    assert allocator.tune({}) is False


def test_a_c_library_that_cannot_be_opened_is_a_no_op(monkeypatch):
    monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.36")

    def cannot_open(*args, **kwargs):
        raise OSError("cannot open shared object")

    monkeypatch.setattr(ctypes, "CDLL", cannot_open)
    assert allocator.tune({}) is False


def on_glibc():
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not on_glibc(), reason="the real mallopt is glibc's")
def test_the_real_glibc_takes_both_settings():
    # In a process of its own: the test process keeps its allocator as it is.
    code = "import sys; from indexsite import allocator as a; sys.exit(0 if a.tune({}) and a.trim_after(2**20) else 1)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)  # noqa: S603


def gunicorn_config():
    config: dict = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)  # noqa: S102
    return config


def test_gunicorn_tunes_each_worker_after_the_fork(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "tune", lambda: calls.append("tune") or True)
    gunicorn_config()["post_fork"](server=None, worker=None)
    assert calls == ["tune"]


def test_gunicorn_trims_after_each_request_by_what_its_thread_built(monkeypatch):
    from packages_app.pages import store

    asked = []
    monkeypatch.setattr(allocator, "trim_after", asked.append)
    monkeypatch.setattr(store, "_thread", threading.local())
    post_request = gunicorn_config()["post_request"]
    post_request(worker=None, req=None, environ={}, resp=None)
    big = store.page_key("test-allocator", "big", serial=1)
    small = store.page_key("test-allocator", "small", serial=1)
    store.get_or_build(big, lambda: store.make_page(b"x" * 3000, None), gzip=True)
    store.get_or_build(small, lambda: store.make_page(b"y" * 500, None), gzip=False, compress=False)
    post_request(worker=None, req=None, environ={}, resp=None)
    store.get_or_build(big, lambda: store.make_page(b"x" * 3000, None), gzip=False)  # stored: not built again
    post_request(worker=None, req=None, environ={}, resp=None)
    assert asked == [0, 3500, 0]
