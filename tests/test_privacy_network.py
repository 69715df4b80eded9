"""The test suite itself makes sure qualcode never reaches the network (tests/conftest.py)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("attempt", [
    lambda: socket.create_connection(("127.0.0.1", 9), timeout=1),
    lambda: socket.getaddrinfo("example.org", 80),
    lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("127.0.0.1", 9)),
    lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect_ex(("::1", 9)),
    lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 53)),
    lambda: urllib.request.urlopen("http://example.org/", timeout=1),
    lambda: http.client.HTTPSConnection("example.org", timeout=1).request("GET", "/"),
], ids=["create_connection", "getaddrinfo", "connect", "connect_ex-v6", "udp-sendto", "urllib", "http.client"])
def test_every_route_out_is_blocked(attempt, network_attempts):
    with pytest.raises(AssertionError, match="qualcode must make no network calls"):
        attempt()
    assert network_attempts, "the attempt was not recorded"
    network_attempts.clear()   # this test provoked it on purpose


def test_unix_sockets_still_work():
    a, b = socket.socketpair()
    a.sendall(b"ok")
    assert b.recv(2) == b"ok"
    a.close()
    b.close()


def test_subprocesses_are_blocked_too(network_attempts, _no_network_in_subprocesses):
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
            "except OSError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "network blocked in qualcode's tests: qualcode must make no network calls"
    log = _no_network_in_subprocesses
    assert "127.0.0.1" in log.read_text(encoding="utf-8")
    # leave the log as the fixture found it, so this deliberate attempt does not fail the test
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(ln for ln in lines if "127.0.0.1', 9" not in ln), encoding="utf-8")


def test_a_test_that_connects_fails(tmp_path):
    """Run pytest on a small test that swallows the error: the fixture still fails it."""
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    shutil.copytree(ROOT / "tests" / "netblock", tmp_path / "netblock")
    (tmp_path / "test_inner.py").write_text(
        "import socket\n\ndef test_sneaky():\n    try:\n        socket.create_connection(('127.0.0.1', 80))\n"
        "    except BaseException:\n        pass\n\ndef test_fine():\n    assert 1\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 1, out.stdout
    assert "ERROR test_inner.py::test_sneaky - Failed: network connection attempted" in out.stdout
    assert "2 passed, 1 error" in out.stdout   # the failure is reported at teardown
    assert "('127.0.0.1', 80)" in out.stdout
