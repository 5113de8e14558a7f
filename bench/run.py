#!/usr/bin/env python3
"""Switchyard gateway benchmark: direct-to-mock vs via-gateway on loopback.

Run it from the repository root with one command:

    python3 bench/run.py                # full run, 10 s per wrk phase (~3 min)
    python3 bench/run.py --quick        # short smoke run (~30 s)
    python3 bench/run.py --write        # full run, then update bench/RESULTS.md

What it does
------------
1. `cargo build --release --quiet`, then starts

   * the mock upstream  `switchyard mock-server`  pinned with `taskset -c 1`,
   * the gateway        `switchyard serve`         pinned with `taskset -c 0`,
   * the load generator `wrk` (-t1, `-s bench/post.lua`, `--latency`)
     pinned with `taskset -c 1`; this script itself (the streaming and
     start-up clients) also pins itself to CPU 1.

   So the gateway has CPU 0 to itself; wrk, the mock and the Python clients
   share CPU 1.  (`--gateway-cpu` / `--load-cpu` change this.)

2. Measures, for direct-to-mock and via-gateway:
   * p50 / p99 latency and req/s at 16 connections (plus 1 connection, for
     the unloaded per-hop cost),
   * max req/s (best of the 16, 64 and 256 connection runs),
   * streaming time to first byte: a raw-socket keep-alive client sends
     `"stream": true` requests one at a time, alternating direct and via,
     timing from `send()` to the arrival of the first `data:` event of the
     body; median and p99,
   * the gateway's peak RSS (VmHWM from /proc/PID/status) after the
     256-connection run,
   * gateway start-up: spawn -> first 200 from /health/liveliness (polled
     with a raw socket), median of several starts.

3. Prints a table (direct, via, added = via - direct, ratio = via / direct),
   compares with the targets (PASS / MISS and by how much), and prints a
   Markdown section for bench/RESULTS.md (`--write` updates that file in
   place between the GENERATED markers, with machine information).

It exits non-zero if anything fails to start, if a port is taken, or if wrk
reports non-2xx/3xx responses or socket errors (`--keep-going` records them
and fails at the end instead).  Every process it starts is killed on exit.

Only the Python 3 standard library is used.  wrk is installed with apt-get
if it is missing.
"""

import argparse
import ctypes
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
LUA = os.path.join(BENCH, "post.lua")
CONFIG = os.path.join(BENCH, "gateway.yaml")
RESULTS = os.path.join(BENCH, "RESULTS.md")
MASTER_KEY = "sk-bench"
HOST = "127.0.0.1"
CHAT_PATH = "/v1/chat/completions"
BEGIN = "<!-- BEGIN GENERATED: python3 bench/run.py --write -->"
END = "<!-- END GENERATED -->"

# Targets from the issue (2-core machine).
T_RPS_RATIO = 0.5  # via max req/s >= 0.5 x direct
T_ADDED_P50_MS = 0.1
T_ADDED_P99_MS = 0.5
T_ADDED_TTFB_MS = 0.3
T_RSS_MB = 40.0
T_STARTUP_MS = 100.0

STREAM_BODY = (
    b'{"model":"bench-model","stream":true,'
    b'"messages":[{"role":"user","content":"Say hello in one short sentence."}],'
    b'"max_tokens":16}'
)
CHAT_BODY = (
    b'{"model":"bench-model",'
    b'"messages":[{"role":"user","content":"Say hello in one short sentence."}],'
    b'"max_tokens":16}'
)


class BenchError(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

PROCS = []  # every Popen we started, killed in cleanup()


def _pdeathsig():
    """Child pre-exec: die with SIGKILL if this script dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def spawn(cmd, log_path=None, pipe=False):
    """Start a process we own: registered for cleanup, killed if we die."""
    out = open(log_path, "wb") if log_path else (subprocess.PIPE if pipe else subprocess.DEVNULL)
    try:
        p = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_pdeathsig,
        )
    finally:
        if log_path:
            out.close()
    p.log_path = log_path
    PROCS.append(p)
    return p


def stop(p, timeout=3.0):
    if p.poll() is None:
        try:
            p.terminate()
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except ProcessLookupError:
            pass
    if p in PROCS:
        PROCS.remove(p)


def cleanup():
    for p in list(PROCS):
        try:
            stop(p)
        except Exception:
            pass


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


def port_free(port):
    """True when nothing listens on HOST:port (same SO_REUSEADDR as tokio)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def require_port_free(port, what):
    if not port_free(port):
        raise BenchError(
            f"port {HOST}:{port} for the {what} is already in use; stop whatever "
            f"listens there or pick another port (--mock-port / --gateway-port)"
        )


def http_get_status(port, path, timeout=1.0):
    """One raw-socket GET; returns the status code (raises on connect errors)."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def wait_ready(p, port, path, what, timeout=10.0, poll_sleep=0.0002):
    """Poll until `path` answers 200; returns seconds since `t0` of the call."""
    t0 = time.perf_counter()
    while True:
        if p.poll() is not None:
            raise BenchError(
                f"the {what} exited with code {p.returncode} before it was ready:\n"
                + tail(p.log_path)
            )
        try:
            if http_get_status(port, path) == 200:
                return time.perf_counter() - t0
        except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
            pass
        if time.perf_counter() - t0 > timeout:
            raise BenchError(f"the {what} did not answer {path} within {timeout} s:\n" + tail(p.log_path))
        time.sleep(poll_sleep)


def wait_mock_ready(p, port, timeout=10.0):
    t0 = time.perf_counter()
    while True:
        if p.poll() is not None:
            raise BenchError(
                f"the mock upstream exited with code {p.returncode}:\n" + tail(p.log_path)
            )
        try:
            c = HttpConn(port)
            try:
                status, _, body = c.request(chat_request(port, CHAT_BODY, None))
            finally:
                c.close()
            if status == 200:
                return
            raise BenchError(f"the mock answered {status}: {body[:300]!r}")
        except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
            pass
        if time.perf_counter() - t0 > timeout:
            raise BenchError("the mock upstream did not come up:\n" + tail(p.log_path))
        time.sleep(0.005)


# --------------------------------------------------------------------------
# Raw-socket HTTP/1.1 keep-alive client (for streaming TTFB and sanity checks)
# --------------------------------------------------------------------------


def chat_request(port, body, token):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {CHAT_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{auth}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class HttpConn:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.last_recv = 0

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(262144)
        self.last_recv = time.perf_counter_ns()
        if not data:
            raise ConnectionError("connection closed by the server mid-response")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            self._fill()

    def request(self, raw, marker=b"data:"):
        """Send one request and read the whole response.

        Returns (status, ns from send to the receipt of the first body bytes
        containing `marker` (or None), body)."""
        self.buf.clear()
        t0 = time.perf_counter_ns()
        self.sock.sendall(raw)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            self._fill()
        head = bytes(self.buf[:i]).split(b"\r\n")
        del self.buf[: i + 4]
        status = int(head[0].split(b" ", 2)[1])
        headers = {}
        for h in head[1:]:
            k, _, v = h.partition(b":")
            headers[k.strip().lower()] = v.strip().lower()
        body = bytearray()
        first = None
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the empty line
                        pass
                    break
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                del self.buf[: size + 2]
                if first is None and marker and marker in body:
                    first = self.last_recv - t0 if self.last_recv >= t0 else time.perf_counter_ns() - t0
        elif b"content-length" in headers:
            n = int(headers[b"content-length"])
            while len(self.buf) < n:
                if first is None and marker and marker in self.buf:
                    first = self.last_recv - t0
                self._fill()
            body += self.buf[:n]
            del self.buf[:n]
            if first is None and marker and marker in body:
                first = self.last_recv - t0 if self.last_recv >= t0 else time.perf_counter_ns() - t0
        else:
            raise BenchError("response without Content-Length or chunked encoding")
        return status, first, bytes(body)


def percentile(values, q):
    """Nearest-rank percentile, q in [0, 100]."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(q / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def measure_ttfb(direct_port, gw_port, n, warmup):
    """Sequential streaming requests, alternating direct and via, each on its
    own keep-alive connection.  Returns {'direct': [ms], 'via': [ms]}."""
    conns = {
        "direct": (HttpConn(direct_port), chat_request(direct_port, STREAM_BODY, None)),
        "via": (HttpConn(gw_port), chat_request(gw_port, STREAM_BODY, MASTER_KEY)),
    }
    out = {"direct": [], "via": []}
    try:
        for i in range(warmup + n):
            for name, (c, raw) in conns.items():
                status, first, body = c.request(raw)
                if status != 200:
                    raise BenchError(f"streaming request {name} answered {status}: {body[:300]!r}")
                if first is None or not body.rstrip().endswith(b"data: [DONE]"):
                    raise BenchError(f"streaming request {name} returned no SSE stream: {body[:300]!r}")
                if i >= warmup:
                    out[name].append(first / 1e6)
    finally:
        for c, _ in conns.values():
            c.close()
    return out


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_time_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise BenchError(f"cannot parse wrk time {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out):
    r = {}
    for q in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{q}(?:\.0+)?%\s+([0-9.]+(?:us|ms|s|m|h))\s*$", out, re.M)
        if not m:
            raise BenchError(f"no {q}% latency in wrk output (was --latency passed?):\n{out}")
        r[f"p{q}"] = parse_time_ms(m.group(1))
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    if not m:
        raise BenchError(f"no Requests/sec in wrk output:\n{out}")
    r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", out, re.M)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)
    return r


class Bench:
    def __init__(self, args, wrk_bin):
        self.args = args
        self.wrk = wrk_bin
        self.problems = []  # error strings (with --keep-going)
        self.phases = []  # (name, loadavg, other_cpu_pct)
        self.own_pids = []

    # -- machine noise -----------------------------------------------------
    @staticmethod
    def loadavg():
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])

    @staticmethod
    def cpu_busy_jiffies():
        with open("/proc/stat") as f:
            parts = f.readline().split()
        user, nice, system = (int(x) for x in parts[1:4])
        steal = int(parts[8]) if len(parts) > 8 else 0
        return user + nice + system, steal

    def own_jiffies(self):
        total = 0
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        for pid in self.own_pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total

    def phase(self, name, fn):
        load = self.loadavg()
        log(f"  [{name}]  loadavg {load}")
        busy0, steal0 = self.cpu_busy_jiffies()
        own0 = self.own_jiffies()
        t0 = time.monotonic()
        result = fn()
        dt = max(time.monotonic() - t0, 1e-3)
        busy1, steal1 = self.cpu_busy_jiffies()
        own1 = self.own_jiffies()
        hz = os.sysconf("SC_CLK_TCK")
        other = max(0.0, ((busy1 - busy0) - (own1 - own0)) / hz / dt * 100)
        steal = (steal1 - steal0) / hz / dt * 100
        self.phases.append((name, load, other, steal))
        if other > 10 or steal > 10:
            log(f"      note: other processes used {other:.0f}% of a core (steal {steal:.0f}%) during this phase")
        return result

