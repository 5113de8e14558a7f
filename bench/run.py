#!/usr/bin/env python3
"""Switchyard gateway benchmark: direct-to-mock vs via-gateway on loopback.

Run it from the repository root with one command:

    python3 bench/run.py                # full run, 10 s per wrk phase (~3 min idle)
    python3 bench/run.py --quick        # short smoke run (~1 min)
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

Note on wrk's percentiles: wrk 4 corrects its latency histogram for
coordinated omission (stats_correct: every sample longer than the mean
per-connection interval adds synthetic samples), so a single stall of a few
milliseconds (e.g. the gateway being preempted) shows up strongly in p99,
most of all at 1 connection.

The machine should be otherwise idle.  Before each phase the script waits (up
to --wait-idle s) until other processes use at most 15% of a core, measures
how much CPU other processes used during the phase, re-runs a disturbed phase
(up to --retries times) and reports the load per phase.

It exits non-zero if anything fails to start, if a port is taken, or if wrk
reports non-2xx/3xx responses or socket errors (`--keep-going` records them
and fails at the end instead).  Every process it starts is killed on exit.

Only the Python 3 standard library is used.  wrk is installed with apt-get
if it is missing.
"""

import argparse
import ctypes
import datetime
import json
import math
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
# The key the "via" requests carry: the master key, or (--virtual-key) a
# virtual key with a budget and limits, generated at start-up.
VIA_KEY = [MASTER_KEY]
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


def generate_virtual_key(port):
    """A key with every limit set (high enough never to refuse): the budget
    is reserved and settled, the rate limits counted, on every request."""
    body = json.dumps({
        "key_alias": "bench", "max_budget": 1e9, "budget_duration": "30d",
        "rpm_limit": 10**9, "tpm_limit": 10**12, "max_parallel_requests": 100000,
    }).encode()
    req = (
        f"POST /key/generate HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {MASTER_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    c = HttpConn(port)
    try:
        status, _, answer = c.request(req, marker=None)
    finally:
        c.close()
    if status != 200:
        raise BenchError(f"/key/generate answered {status}: {answer[:300]!r}")
    return json.loads(answer)["key"]


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
    k = max(0, min(len(v) - 1, math.ceil(q / 100.0 * len(v)) - 1))
    return v[k]


def measure_ttfb(direct_port, gw_port, n, warmup):
    """Sequential streaming requests, alternating direct and via, each on its
    own keep-alive connection.  Returns {'direct': [ms], 'via': [ms]}."""
    conns = {
        "direct": (HttpConn(direct_port), chat_request(direct_port, STREAM_BODY, None)),
        "via": (HttpConn(gw_port), chat_request(gw_port, STREAM_BODY, VIA_KEY[0])),
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
        self.phases = []  # (name, loadavg, other CPU %, steal %, runs)
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

    def other_cpu_now(self, window=1.0):
        """% of one core used by processes other than ours over `window` s."""
        busy0, _ = self.cpu_busy_jiffies()
        own0 = self.own_jiffies()
        time.sleep(window)
        busy1, _ = self.cpu_busy_jiffies()
        own1 = self.own_jiffies()
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / os.sysconf("SC_CLK_TCK") / window * 100)

    def wait_idle(self):
        """Wait (at most --wait-idle s) until other processes use <= 15% of a core."""
        if self.args.wait_idle <= 0:
            return
        t0 = time.monotonic()
        noted = False
        while True:
            other = self.other_cpu_now()
            if other <= 15:
                if noted:
                    log(f"      machine idle again after {time.monotonic() - t0:.0f} s")
                return
            if time.monotonic() - t0 >= self.args.wait_idle:
                log(f"      still busy after {self.args.wait_idle} s (other CPU {other:.0f}%); measuring anyway")
                return
            if not noted:
                log(f"      machine busy (other processes use {other:.0f}% of a core); "
                    f"waiting up to {self.args.wait_idle} s for it to go idle ...")
                noted = True

    def phase(self, name, fn):
        """Run one measured phase; re-run it (up to --retries times) when other
        processes used more than 15% of a core meanwhile."""
        hz = os.sysconf("SC_CLK_TCK")
        for attempt in range(self.args.retries + 1):
            self.wait_idle()
            load = self.loadavg()
            log(f"  [{name}]  loadavg {load}" + (f"  (retry {attempt})" if attempt else ""))
            busy0, steal0 = self.cpu_busy_jiffies()
            own0 = self.own_jiffies()
            t0 = time.monotonic()
            result = fn()
            dt = max(time.monotonic() - t0, 1e-3)
            busy1, steal1 = self.cpu_busy_jiffies()
            own1 = self.own_jiffies()
            other = max(0.0, ((busy1 - busy0) - (own1 - own0)) / hz / dt * 100)
            steal = (steal1 - steal0) / hz / dt * 100
            noisy = other > 15 or steal > 15
            if noisy:
                log(f"      note: other processes used {other:.0f}% of a core (steal {steal:.0f}%) during this phase")
            if not noisy or attempt == self.args.retries:
                break
            log("      re-running the phase")
        self.phases.append((name, load, other, steal, attempt + 1))
        return result

    # -- wrk -----------------------------------------------------------------
    def run_wrk(self, target, port, conns, duration):
        cmd = [
            "taskset", "-c", str(self.args.load_cpu), self.wrk,
            "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "5s",
            "-s", LUA,
        ]
        if target == "via":
            cmd += ["-H", f"Authorization: Bearer {VIA_KEY[0]}"]
        cmd.append(f"http://{HOST}:{port}{CHAT_PATH}")
        p = spawn(cmd, pipe=True)
        try:
            out, _ = p.communicate(timeout=duration + 60)
        finally:
            stop(p)
        out = out.decode("utf-8", "replace")
        if self.args.verbose:
            log(out)
        if p.returncode != 0:
            raise BenchError(f"wrk failed with code {p.returncode}: {' '.join(cmd)}\n{out}")
        r = parse_wrk(out)
        bad = []
        if r["non2xx"]:
            bad.append(f"{r['non2xx']} non-2xx/3xx responses")
        if any(r["socket_errors"]):
            c, rd, w, t = r["socket_errors"]
            bad.append(f"socket errors: connect {c}, read {rd}, write {w}, timeout {t}")
        if r["requests"] == 0:
            bad.append("no requests completed")
        if bad:
            msg = f"wrk {target} @{conns} connections: " + "; ".join(bad)
            log("\n" + "!" * 78 + f"\nERROR: {msg}\n" + out + "!" * 78)
            if not self.args.keep_going:
                raise BenchError(msg)
            self.problems.append(msg)
        r["raw"] = out
        return r


def vm_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "Threads"):
                out[k] = int(v.split()[0])
    return out


def ensure_wrk():
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    log("wrk is not installed; installing it with apt-get ...")
    sudo = [] if os.geteuid() == 0 else (["sudo"] if shutil.which("sudo") else [])
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = sudo + ["apt-get", "install", "-y", "wrk"]
    if subprocess.call(install, env=env) != 0:
        subprocess.call(sudo + ["apt-get", "update"], env=env)
        if subprocess.call(install, env=env) != 0:
            raise BenchError("could not install wrk (apt-get install -y wrk failed)")
    wrk = shutil.which("wrk")
    if not wrk:
        raise BenchError("wrk is still not on PATH after installing it")
    return wrk


def cmd_out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=30).stdout.strip()
    except Exception:
        return ""


def machine_info(wrk):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = cmd_out(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = [
        l for l in cmd_out(["git", "status", "--porcelain"]).splitlines()
        if l[3:].strip() and not l[3:].startswith("bench/")
    ]
    if dirty:
        commit += f" + uncommitted changes in {len(dirty)} path(s) outside bench/"
    wrk_version = ""
    try:
        wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[0]
        wrk_version = wrk_version.split("Copyright")[0].strip()
    except Exception:
        pass
    return {
        "nproc": cmd_out(["nproc"]) or str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": f"{platform.system()} {platform.release()}",
        "rustc": cmd_out(["rustc", "--version"]),
        "commit": commit,
        "wrk": wrk_version,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.3f} ms"
    if unit == "req/s":
        return f"{v:,.0f}"
    if unit == "MB":
        return f"{v:.1f} MB"
    return f"{v}"


def fmt_added(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:+.3f} ms"
    if unit == "req/s":
        return f"{v:+,.0f}"
    return f"{v:+}"


def build_rows(res):
    w = res["wrk"]
    rows = []  # (label, unit, direct, via, target-key)

    def lat(c, q, target=None):
        rows.append((f"p{q} latency @{c} conn{'s' if c > 1 else ''}", "ms",
                     w[("direct", c)][f"p{q}"], w[("via", c)][f"p{q}"], target))

    def rps(c):
        rows.append((f"req/s @{c} conn{'s' if c > 1 else ''}", "req/s",
                     w[("direct", c)]["rps"], w[("via", c)]["rps"], None))

    lat(16, "50", "p50")
    lat(16, "99", "p99")
    rps(16)
    lat(1, "50")
    lat(1, "99")
    rps(1)
    rps(64)
    rps(256)
    conns = sorted({c for (_, c) in w})
    best_d = max(conns, key=lambda c: w[("direct", c)]["rps"])
    best_v = max(conns, key=lambda c: w[("via", c)]["rps"])
    rows.append((f"max req/s (direct @{best_d}, via @{best_v} conns)", "req/s",
                 w[("direct", best_d)]["rps"], w[("via", best_v)]["rps"], "rps"))
    t = res["ttfb"]
    rows.append((f"stream TTFB median (n={len(t['via'])})", "ms",
                 statistics.median(t["direct"]), statistics.median(t["via"]), "ttfb"))
    rows.append(("stream TTFB p99", "ms", percentile(t["direct"], 99), percentile(t["via"], 99), None))
    rows.append(("gateway peak RSS (VmHWM) after 256 conns", "MB", None, res["rss_peak_kb"] / 1024, "rss"))
    st = res["startup_ms"]
    rows.append((f"gateway start-up median (n={len(st)}, min {min(st):.1f}, max {max(st):.1f})", "ms",
                 None, statistics.median(st), "startup"))
    return rows


def judge(key, direct, via):
    """Returns (target text, PASS/MISS text) for a row with a target."""
    if key in ("p50", "p99", "ttfb"):
        limit = {"p50": T_ADDED_P50_MS, "p99": T_ADDED_P99_MS, "ttfb": T_ADDED_TTFB_MS}[key]
        added = via - direct
        if added <= limit:
            return f"added <= {limit:.1f} ms", f"PASS ({limit - added:.3f} ms to spare)"
        return f"added <= {limit:.1f} ms", f"MISS by {added - limit:.3f} ms ({added / limit:.1f}x the budget)"
    if key == "rps":
        ratio = via / direct
        if ratio >= T_RPS_RATIO:
            return f"via >= {T_RPS_RATIO}x direct", f"PASS ({ratio:.2f}x)"
        need = T_RPS_RATIO * direct
        return (f"via >= {T_RPS_RATIO}x direct",
                f"MISS by {T_RPS_RATIO - ratio:.2f}x ({ratio:.2f}x; needs {need:,.0f} req/s, {need / via:.2f}x more)")
    if key == "rss":
        if via <= T_RSS_MB:
            return f"<= {T_RSS_MB:.0f} MB", f"PASS ({T_RSS_MB - via:.1f} MB to spare)"
        return f"<= {T_RSS_MB:.0f} MB", f"MISS by {via - T_RSS_MB:.1f} MB"
    if key == "startup":
        if via < T_STARTUP_MS:
            return f"< {T_STARTUP_MS:.0f} ms", f"PASS ({T_STARTUP_MS - via:.1f} ms to spare)"
        return f"< {T_STARTUP_MS:.0f} ms", f"MISS by {via - T_STARTUP_MS:.1f} ms"
    return "", ""


def table_cells(rows):
    out = []
    for label, unit, d, v, key in rows:
        added = (v - d) if (d is not None and v is not None) else None
        ratio = f"{v / d:.2f}x" if (d and v is not None) else "-"
        target, verdict = judge(key, d, v) if key else ("", "")
        out.append([label, fmt(d, unit), fmt(v, unit), fmt_added(added, unit), ratio, target, verdict])
    return out


HEADER = ["metric", "direct", "via gateway", "added", "ratio", "target", "result"]


def print_table(cells):
    widths = [max(len(str(r[i])) for r in cells + [HEADER]) for i in range(len(HEADER))]
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(HEADER))
    log(line)
    log("-" * len(line))
    for r in cells:
        log("  ".join(str(c).ljust(widths[i]) if i in (0, 5, 6) else str(c).rjust(widths[i])
                      for i, c in enumerate(r)).rstrip())


def markdown(res, cells, info, args):
    md = []
    cmdline = "python3 bench/run.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    md.append(f"### Run of {info['date']}")
    md.append("")
    md.append(f"Command (from the repository root): `{cmdline}`  ")
    md.append(f"wrk phases of {args.duration} s (after {args.warmup} s warm-up), "
              f"wrk `-t1 -s bench/post.lua --latency`; streaming TTFB over "
              f"{args.ttfb_requests} sequential keep-alive requests per target; "
              f"start-up median of {args.startup_runs} starts.")
    md.append("")
    md.append(f"Pinning: gateway `taskset -c {args.gateway_cpu}`; mock upstream, wrk and the "
              f"Python clients `taskset -c {args.load_cpu}`.")
    md.append("")
    md.append("| machine | |")
    md.append("|---|---|")
    for k in ("nproc", "cpu", "memory", "kernel", "rustc", "commit", "wrk", "python"):
        md.append(f"| {k} | {info[k]} |")
    md.append("")
    md.append("| " + " | ".join(HEADER) + " |")
    md.append("|" + "|".join(["---"] + ["---:"] * 4 + ["---", "---"]) + "|")
    for r in cells:
        md.append("| " + " | ".join(str(c) for c in r) + " |")
    md.append("")
    busy = [p for p in res["phases"] if p[2] > 15 or p[3] > 15]
    md.append("Machine load per phase (1/5/15-min load average at the start; CPU used by "
              "processes other than the benchmark's own during the (last) run of the phase, in % of "
              "one core; runs > 1 means earlier runs were disturbed by other processes and discarded):")
    md.append("")
    md.append("| phase | loadavg | other CPU | steal | runs |")
    md.append("|---|---|---:|---:|---:|")
    for name, load, other, steal, runs in res["phases"]:
        md.append(f"| {name} | {load} | {other:.0f}% | {steal:.0f}% | {runs} |")
    md.append("")
    if busy:
        md.append(f"**The machine was busy** during {len(busy)} phase(s) "
                  f"({', '.join(p[0] for p in busy)}): results there are noisy.")
    else:
        md.append("The machine was otherwise idle during every phase (other CPU <= 15% of a core).")
    if res["problems"]:
        md.append("")
        md.append("**Errors:** " + "; ".join(res["problems"]))
    md.append("")
    md.append(f"Gateway after the run: VmRSS {res['rss_now_kb'] / 1024:.1f} MB, "
              f"{res['threads']} threads; gateway log lines at WARN/ERROR: {res['log_warnings']}.")
    return "\n".join(md)


def write_results(section):
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            text = f.read()
    else:
        text = ("# Switchyard benchmark results\n\n"
                "Run `python3 bench/run.py` from the repository root; "
                "`python3 bench/run.py --write` updates the section below.\n\n"
                f"{BEGIN}\n{END}\n")
    if BEGIN in text and END in text:
        a = text.index(BEGIN) + len(BEGIN)
        b = text.index(END)
        text = text[:a] + "\n" + section + "\n" + text[b:]
    else:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{section}\n{END}\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    log(f"updated {os.path.relpath(RESULTS, REPO)}")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(
        description="Benchmark the switchyard gateway against direct-to-mock (run from the repo root).")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk phase (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per target (default 2)")
    ap.add_argument("--quick", action="store_true",
                    help="short smoke run: 2 s phases, 1 s warm-up, fewer TTFB requests and starts")
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md with this run")
    ap.add_argument("--no-build", action="store_true", help="skip cargo build --release")
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "switchyard"))
    ap.add_argument("--config", default=CONFIG,
                    help="gateway config (default bench/gateway.yaml; bench/gateway-two.yaml has a "
                         "two-deployment group, to measure what selection costs)")
    ap.add_argument("--virtual-key", action="store_true",
                    help="send the via requests with a virtual key that has a budget and limits "
                         "(generated at start-up) instead of the master key")
    ap.add_argument("--mock-port", type=int, default=9100)
    ap.add_argument("--gateway-port", type=int, default=4000)
    ap.add_argument("--gateway-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1, help="CPU for wrk, the mock and the Python clients")
    ap.add_argument("--ttfb-requests", type=int, default=2000)
    ap.add_argument("--startup-runs", type=int, default=10)
    ap.add_argument("--wait-idle", type=int, default=None,
                    help="before each phase wait up to this many seconds for other processes to stop "
                         "using the CPUs (default 60; 0 with --quick)")
    ap.add_argument("--retries", type=int, default=None,
                    help="re-run a phase up to this many times when other processes disturbed it "
                         "(default 2; 0 with --quick)")
    ap.add_argument("--keep-going", action="store_true",
                    help="on wrk errors (non-2xx, socket errors) keep measuring and fail at the end")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every wrk output")
    args = ap.parse_args()
    if args.wait_idle is None:
        args.wait_idle = 0 if args.quick else 60
    if args.retries is None:
        args.retries = 0 if args.quick else 2
    if args.quick:
        args.duration = min(args.duration, 2)
        args.warmup = min(args.warmup, 1)
        args.ttfb_requests = min(args.ttfb_requests, 300)
        args.startup_runs = min(args.startup_runs, 3)
    return args


def run(args):
    os.chdir(REPO)
    wrk = ensure_wrk()
    if not shutil.which("taskset"):
        raise BenchError("taskset (util-linux) is required")
    allowed = os.sched_getaffinity(0)
    for cpu in (args.gateway_cpu, args.load_cpu):
        if cpu not in allowed:
            raise BenchError(f"CPU {cpu} is not available (allowed: {sorted(allowed)}); "
                             "use --gateway-cpu / --load-cpu")
    if args.gateway_cpu == args.load_cpu:
        log("WARNING: the gateway and the load generator share a CPU")

    if not args.no_build:
        log("building: cargo build --release --quiet")
        if subprocess.call(["cargo", "build", "--release", "--quiet"], cwd=REPO) != 0:
            raise BenchError("cargo build --release failed")
    if not os.access(args.binary, os.X_OK):
        raise BenchError(f"no gateway binary at {args.binary}")

    info = machine_info(wrk)
    # This script's own clients (TTFB, start-up polling) run next to wrk and the mock.
    os.sched_setaffinity(0, {args.load_cpu})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    require_port_free(args.mock_port, "mock upstream")
    require_port_free(args.gateway_port, "gateway")

    log(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['kernel']}, {info['rustc']}, commit {info['commit']}")
    log(f"pinning: gateway on CPU {args.gateway_cpu}; mock, wrk and this script on CPU {args.load_cpu}")
    log(f"loadavg at start: {Bench.loadavg()}")

    tmp = tempfile.mkdtemp(prefix="switchyard-bench-")
    with open(args.config) as f:
        cfg = f.read().replace("127.0.0.1:9100", f"127.0.0.1:{args.mock_port}")
    cfg_path = os.path.join(tmp, "gateway.yaml")
    with open(cfg_path, "w") as f:
        f.write(cfg)

    mock = spawn(["taskset", "-c", str(args.load_cpu), args.binary, "mock-server",
                  "--host", HOST, "--port", str(args.mock_port)],
                 log_path=os.path.join(tmp, "mock.log"))
    wait_mock_ready(mock, args.mock_port)
    log(f"mock upstream up on :{args.mock_port} (pid {mock.pid})")

    gw_cmd = ["taskset", "-c", str(args.gateway_cpu), args.binary, "serve",
              "--config", cfg_path, "--host", HOST, "--port", str(args.gateway_port)]
    gw_log = os.path.join(tmp, "gateway.log")

    b = Bench(args, wrk)
    b.own_pids = [mock.pid]

    # (f) start-up: spawn -> first 200 from /health/liveliness
    def startup():
        times = []
        for _ in range(args.startup_runs):
            require_port_free(args.gateway_port, "gateway")
            t0 = time.perf_counter()
            p = spawn(gw_cmd, log_path=gw_log)
            try:
                wait_ready(p, args.gateway_port, "/health/liveliness", "gateway", poll_sleep=0.0001)
                times.append((time.perf_counter() - t0) * 1e3)
            finally:
                stop(p)
            time.sleep(0.05)
        return times

    startup_ms = b.phase("start-up", startup)
    log(f"      start-up ms: {', '.join(f'{t:.1f}' for t in startup_ms)}")

    require_port_free(args.gateway_port, "gateway")
    gw = spawn(gw_cmd, log_path=gw_log)
    wait_ready(gw, args.gateway_port, "/health/liveliness", "gateway")
    with open(f"/proc/{gw.pid}/comm") as f:
        if f.read().strip() != "switchyard":
            raise BenchError("the gateway pid is not the switchyard process (taskset did not exec?)")
    b.own_pids = [mock.pid, gw.pid]
    log(f"gateway up on :{args.gateway_port} (pid {gw.pid}, CPU affinity {sorted(os.sched_getaffinity(gw.pid))})")

    # sanity: both paths answer the bench requests with 200 and a completion
    if args.virtual_key:
        VIA_KEY[0] = generate_virtual_key(args.gateway_port)
        log("via requests carry a virtual key with a budget, rpm/tpm and parallel limits")
    for port, token, name in ((args.mock_port, None, "direct"), (args.gateway_port, VIA_KEY[0], "via")):
        c = HttpConn(port)
        try:
            status, _, body = c.request(chat_request(port, CHAT_BODY, token), marker=None)
        finally:
            c.close()
        if status != 200 or b'"choices"' not in body:
            raise BenchError(f"sanity request {name} answered {status}: {body[:300]!r}")
    log(f"idle gateway RSS: {vm_status(gw.pid)['VmRSS'] / 1024:.1f} MB")

    ports = {"direct": args.mock_port, "via": args.gateway_port}
    w = {}

    def wrk_pair(conns, label=None):
        for target in ("direct", "via"):
            name = label or f"wrk {target} @{conns}"
            r = b.phase(f"{name} {target}" if label else name,
                        lambda: b.run_wrk(target, ports[target], conns, args.duration if not label else args.warmup))
            if not label:
                w[(target, conns)] = r
                log(f"      p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms  {r['rps']:,.0f} req/s")
            if gw.poll() is not None:
                raise BenchError(f"the gateway died (code {gw.returncode}):\n" + tail(gw_log))

    log("measuring ...")
    wrk_pair(16, label="warm-up @16")
    wrk_pair(16)
    wrk_pair(1)
    wrk_pair(64)
    ttfb = b.phase("stream TTFB", lambda: measure_ttfb(args.mock_port, args.gateway_port,
                                                       args.ttfb_requests, max(20, args.ttfb_requests // 20)))
    log(f"      median direct {statistics.median(ttfb['direct']):.3f} ms, "
        f"via {statistics.median(ttfb['via']):.3f} ms")
    rss_before_256 = vm_status(gw.pid)["VmHWM"]
    wrk_pair(256)
    st = vm_status(gw.pid)
    log(f"      gateway VmHWM {st['VmHWM'] / 1024:.1f} MB (before the 256-conn runs {rss_before_256 / 1024:.1f} MB)")
    if gw.poll() is not None:
        raise BenchError("the gateway died:\n" + tail(gw_log))

    with open(gw_log, "rb") as f:
        gw_log_text = f.read().decode("utf-8", "replace")
    warn_lines = [l for l in gw_log_text.splitlines() if re.search(r"\b(WARN|ERROR)\b", l)]
    if warn_lines:
        log(f"gateway logged {len(warn_lines)} WARN/ERROR line(s), e.g.:\n  " + "\n  ".join(warn_lines[:5]))

    res = {
        "wrk": w, "ttfb": ttfb, "startup_ms": startup_ms, "rss_peak_kb": st["VmHWM"],
        "rss_now_kb": st["VmRSS"], "threads": st["Threads"], "phases": b.phases,
        "problems": b.problems, "log_warnings": len(warn_lines),
    }
    cells = table_cells(build_rows(res))
    log("")
    log(f"RESULTS  (gateway on CPU {args.gateway_cpu}; mock + wrk on CPU {args.load_cpu}; "
        f"{args.duration} s per wrk phase)")
    print_table(cells)
    section = markdown(res, cells, info, args)
    log("")
    log("---- Markdown for bench/RESULTS.md " + "-" * 40)
    log(section)
    log("-" * 75)
    if args.write:
        write_results(section)
    misses = [c[0] for c in cells if c[6].startswith("MISS")]
    log(f"targets: {sum(1 for c in cells if c[6].startswith('PASS'))} PASS, {len(misses)} MISS")
    if b.problems:
        log("\nERRORS during the run:\n  " + "\n  ".join(b.problems))
        return 2
    return 0


def main():
    args = parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        code = run(args)
    except BenchError as e:
        log(f"\nbench failed: {e}")
        code = 1
    except KeyboardInterrupt:
        log("\ninterrupted")
        code = 130
    except SystemExit as e:
        log(f"\nstopped by signal {(e.code or 128) - 128}; killing the processes started")
        code = e.code
    finally:
        cleanup()
    sys.exit(code)


if __name__ == "__main__":
    main()
