"""`qualcode serve`: the link it prints, where it listens, and its errors."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from qualcode.errors import QualcodeError  # noqa: E402
from qualcode.web.server import listen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_serve_prints_a_local_link_with_a_token_and_stops_on_a_signal(sample_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
           "QUALCODE_CODER": "anna"}
    proc = subprocess.Popen([sys.executable, "-m", "qualcode", "-p", str(sample_path), "serve", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()
        link = proc.stdout.readline().strip()
        third = proc.stdout.readline()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert first == "qualcode workspace for sample.qualcode, coding as anna:\n"
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{32})", link)
    assert m, link
    assert "Ctrl-C stops it" in third
    assert "Traceback" not in err


def test_serve_on_a_missing_project_is_one_error_line(tmp_path, run):
    r = run(tmp_path / "none.qualcode", "serve", "--no-browser")
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {tmp_path / 'none.qualcode'} does not exist. Give the project with -p PATH, or make "
                        "one with 'qualcode init'.\n")


def test_serve_on_a_taken_port_says_so(sample_path, run):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        r = run(sample_path, "serve", "--no-browser", "--port", port)
    finally:
        taken.close()
    assert r.exit_code == 1
    assert f"Error: cannot listen on 127.0.0.1:{port}" in r.stderr and "choose another with --port" in r.stderr


def test_listen_binds_loopback_only_and_checks_the_port():
    sock = listen(0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
    finally:
        sock.close()
    with pytest.raises(QualcodeError, match="--port must be between 1 and 65535"):
        listen(70000)


def test_serve_help_names_every_page(run, tmp_path):
    r = run(tmp_path / "x.qualcode", "serve", "--help")
    assert r.exit_code == 0
    for word in ("Theme board", "Review", "Supervisor", "History", "--no-browser", "--port", "--coder"):
        assert word in r.stdout
