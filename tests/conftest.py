"""Shared fixtures. Area-specific fixtures live in the area's own test module.

* No test may reach the network: every outbound socket connection fails the test.
* ``sample_store``: the three sample focus groups ingested (no codebook), a fresh copy per test.
* ``tiny_codebook_factory``: :func:`tests.helpers.tiny_codebook` (themes and codes created through
  the store API, for tests that need codes but not the shipped YAML codebook). Plain helpers shared
  by test modules live in ``tests/helpers.py``; test modules never import this file.
* ``run``: invoke the CLI on a project path and get (exit_code, stdout, stderr).
* Hypothesis profiles: ``ci`` (the default, and what ``.ci/run`` selects) is derandomized, so a
  property test gives the same examples on every run and never fails by chance; ``fuzz``
  (``make fuzz``) draws fresh random examples, several times as many, and remembers failures in
  ``.hypothesis/``. Choose with ``QUALCODE_HYPOTHESIS_PROFILE``. Every failure a fuzz run finds
  becomes a fixed ``@example`` on its test.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

# ROOT, SAMPLE, SHARED and tiny_codebook live in tests/helpers.py (import them from there); the names
# stay here too for test modules written before it.
from tests.helpers import ROOT, SAMPLE, SHARED, tiny_codebook  # noqa: F401


def pytest_configure(config):
    """Hypothesis profiles (see the module docstring), registered once pytest is configured."""
    from hypothesis import HealthCheck, settings

    settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
    settings.register_profile("fuzz", derandomize=False, deadline=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("QUALCODE_HYPOTHESIS_PROFILE", "ci"))


# ------------------------------------------------------------- no network
NETBLOCK_DIR = Path(__file__).resolve().parent / "netblock"


class NetworkBlocked(AssertionError):
    pass


_ATTEMPTS: list[str] = []


def _blocked(*args, **kwargs):
    _ATTEMPTS.append(repr(args[:2]))
    raise NetworkBlocked("a test tried to open a network connection; qualcode must make no network calls")


@pytest.fixture(scope="session", autouse=True)
def _no_network_in_subprocesses(tmp_path_factory):
    """Python subprocesses started by tests load tests/netblock/sitecustomize.py, which blocks
    connections and logs each attempt to a file that :func:`no_network` watches. They also import
    qualcode from this checkout (ROOT), not from wherever the environment installed it: a clean
    clone tested with an environment made for another checkout tests its own code."""
    import os

    log = tmp_path_factory.mktemp("netlog") / "attempts.log"
    log.touch()
    old = {k: os.environ.get(k) for k in ("PYTHONPATH", "QUALCODE_TEST_NETLOG")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(NETBLOCK_DIR), str(ROOT), old["PYTHONPATH"]) if p)
    os.environ["QUALCODE_TEST_NETLOG"] = str(log)
    yield log
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def no_network(monkeypatch, _no_network_in_subprocesses):
    """Fail any attempt to connect outwards, in the test's process (socket.connect, connect_ex,
    sendto, create_connection, getaddrinfo: urllib, http.client and DNS all go through these) and in
    the Python subprocesses it starts. Attempts fail the test even if the code swallowed the error.
    AF_UNIX sockets stay allowed."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto

    def guarded(self, address, *a, **k):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _blocked(address)
        return real_connect(self, address, *a, **k)

    def guarded_ex(self, address, *a, **k):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _blocked(address)
        return real_connect_ex(self, address, *a, **k)

    def guarded_sendto(self, *a, **k):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _blocked(*a)
        return real_sendto(self, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    monkeypatch.setattr(socket.socket, "sendto", guarded_sendto)
    monkeypatch.setattr(socket, "create_connection", _blocked)
    monkeypatch.setattr(socket, "getaddrinfo", _blocked)
    log = _no_network_in_subprocesses
    size = log.stat().st_size
    del _ATTEMPTS[:]
    yield
    seen, sub = list(_ATTEMPTS), log.read_text(encoding="utf-8")[size:]
    del _ATTEMPTS[:]
    if seen or sub:
        pytest.fail(f"network connection attempted (in the test: {seen}; in subprocesses: {sub.strip()!r}); "
                    "qualcode must make no network calls", pytrace=False)


@pytest.fixture
def network_attempts(no_network) -> list[str]:
    """The attempts :func:`no_network` recorded in this test (clear it to test the blocker itself)."""
    return _ATTEMPTS


# ------------------------------------------------------------- projects
@pytest.fixture(scope="session")
def _sample_project_file(tmp_path_factory) -> Path:
    from qualcode.ingest import ingest
    from qualcode.store import Store

    path = tmp_path_factory.mktemp("sample") / "sample.qualcode"
    store = Store.create(path, language="nl")
    ingest(store, [SAMPLE / "F1.txt", SAMPLE / "F2.txt", SAMPLE / "F3.txt"],
           participants=str(SAMPLE / "participants.csv"))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def sample_path(_sample_project_file, tmp_path) -> Path:
    """A fresh copy of the ingested sample project (F1-F3, 20 participants), no codebook."""
    dest = tmp_path / "sample.qualcode"
    shutil.copy(_sample_project_file, dest)
    return dest


@pytest.fixture
def sample_store(sample_path):
    from qualcode.store import Store

    store = Store.open(sample_path)
    yield store
    store.close()


@pytest.fixture
def empty_store(tmp_path):
    from qualcode.store import Store

    store = Store.create(tmp_path / "empty.qualcode", language="nl")
    yield store
    store.close()


@pytest.fixture
def tiny_codebook_factory():
    return tiny_codebook


@pytest.fixture
def run():
    """run(project_path, *args, input=None) -> click Result (exit_code, stdout, stderr)."""
    from qualcode.cli import cli

    def _run(project, *args, input=None, env=None):
        runner = CliRunner()
        full_env = {"QUALCODE_CODER": "tester"}
        full_env.update(env or {})
        return runner.invoke(cli, ["-p", str(project), *map(str, args)], input=input, env=full_env,
                             catch_exceptions=False)

    return _run
