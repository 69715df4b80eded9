"""Loaded by every Python subprocess a test starts (tests/conftest.py puts this folder on
PYTHONPATH): outbound network connections fail, and each attempt is logged to the file
named by $QUALCODE_TEST_NETLOG so the test that started the process fails too."""

import os
import socket

_LOG = os.environ.get("QUALCODE_TEST_NETLOG")


def _blocked(*args, **kwargs):
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {args[:2]!r}\n")
    raise OSError("network blocked in qualcode's tests: qualcode must make no network calls")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _guard(real):
    def guarded(self, address, *a, **k):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _blocked(address)
        return real(self, address, *a, **k)
    return guarded


socket.socket.connect = _guard(_connect)
socket.socket.connect_ex = _guard(_connect_ex)
socket.socket.sendto = lambda self, *a, **k: _blocked(*a)
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
