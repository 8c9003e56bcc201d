"""The per-chapter memo: results found again by key, diagnostics replayed, the disk file trusted only when signed."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
from pathlib import Path

import pytest

from report import memo as memo_module
from report.cache import code_digest
from report.errors import Collector, Location
from report.memo import KEEP_BUILDS, Memo


@pytest.fixture
def own_secret(tmp_path, monkeypatch) -> Path:
    """A user cache folder of the test's own, and no secret remembered from another test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(memo_module, "_SECRET", [])
    return tmp_path / "user-cache" / "report" / "memo.key"


def _warn(text: str):
    def make(collector: Collector) -> str:
        collector.warning(Location(Path("a.yaml"), 3, 5), f"first {text}", code="x")
        collector.error(Location(Path("a.yaml"), 4, 1), f"second {text}")
        return text.upper()

    return make


def test_a_result_is_made_once_and_its_diagnostics_come_back_in_order():
    memo = Memo()
    memo.begin()
    first, second = Collector(), Collector()
    assert memo.step("s", "k", _warn("x"), first) == "X"
    assert memo.step("s", "k", _warn("changed"), second) == "X"  # found by its key, not made again
    assert first.diagnostics == second.diagnostics and len(second.diagnostics) == 2
    assert [d.message for d in second.diagnostics] == ["first x", "second x"]
    assert memo.counts() == {"s": {"made": 1, "reused": 1}}


def test_results_unused_for_some_builds_are_dropped():
    memo = Memo()
    memo.begin()
    memo.step("s", "old", _warn("old"))
    memo.finish()
    for _ in range(KEEP_BUILDS):
        memo.begin()
        memo.step("s", "new", _warn("new"))
        memo.finish()
    memo.begin()
    memo.step("s", "old", _warn("old"))
    assert memo.counts()["s"]["made"] == 1  # made again: it had been dropped


def test_disk_steps_survive_a_new_memo_and_others_do_not(tmp_path, own_secret):
    path = tmp_path / "out" / "parts.pickle"
    memo = Memo(path)
    memo.begin()
    memo.step("kept", "k", _warn("x"), disk=True)
    memo.step("memory", "k", _warn("y"))
    memo.finish()
    assert own_secret.is_file() and own_secret.stat().st_mode & 0o777 == 0o600
    again = Memo(path)
    again.begin()
    collector = Collector()
    assert again.step("kept", "k", _warn("other"), collector, disk=True) == "X"
    assert [d.message for d in collector.diagnostics] == ["first x", "second x"]
    again.step("memory", "k", _warn("y"))
    assert again.counts() == {"kept": {"made": 0, "reused": 1}, "memory": {"made": 1, "reused": 0}}
    assert Memo(path, read=False)._entries == {}  # --force reads nothing kept


class _Trap:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _signed(secret: bytes, payload: object) -> bytes:
    body = pickle.dumps(payload)
    return memo_module._MAGIC + hmac.new(secret, body, hashlib.sha256).digest() + body


def test_a_memo_file_not_signed_with_the_users_secret_is_never_unpickled(tmp_path, own_secret):
    path = tmp_path / "out" / "parts.pickle"
    path.parent.mkdir()
    marker = tmp_path / "unpickled"
    Memo(path)  # makes the user's secret
    # a file shipped in a dossier folder, signed with a key that is not the user's
    path.write_bytes(_signed(os.urandom(32), _Trap(marker)))
    assert Memo(path)._entries == {} and not marker.exists()
    path.write_bytes(b"garbage")
    assert Memo(path)._entries == {}
    # the same file signed with the user's own secret is read: the signature is what keeps it out
    path.write_bytes(_signed(own_secret.read_bytes(), _Trap(marker)))
    Memo(path)
    assert marker.exists()


def test_results_of_other_code_are_not_used(tmp_path, own_secret):
    path = tmp_path / "parts.pickle"
    Memo(path)
    entries = {("s", "k"): ("STALE", ())}
    path.write_bytes(_signed(own_secret.read_bytes(), {"code": "other code", "entries": entries}))
    assert Memo(path)._entries == {}
    path.write_bytes(_signed(own_secret.read_bytes(), {"code": code_digest(), "entries": entries}))
    assert ("s", "k") in Memo(path)._entries


def test_a_secret_others_can_read_is_no_secret(tmp_path, own_secret):
    Memo(tmp_path / "parts.pickle")
    own_secret.chmod(0o644)
    memo_module._SECRET.clear()
    memo = Memo(tmp_path / "parts.pickle")
    memo.begin()
    memo.step("s", "k", _warn("x"), disk=True)
    memo.finish()
    assert not (tmp_path / "parts.pickle").exists()  # no disk memo, only a slower build
