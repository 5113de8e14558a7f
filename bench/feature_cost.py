#!/usr/bin/env python3
"""What each compliance feature costs the gateway, config by config.

    python3 bench/feature_cost.py                      # every bench/compliance/*.yaml
    python3 bench/feature_cost.py bench/compliance/pii.yaml ...

For the plain bench config (bench/gateway.yaml) and then each config given
(by default bench/compliance/*.yaml), with the same pinning as bench/run.py
(gateway on CPU 0; mock upstream and wrk on CPU 1), it runs

  * wrk -c16 for --duration s, and reads the gateway's CPU time (user +
    system, /proc/PID/stat) before the run and after it plus the background
    writers' flush: CPU microseconds per request, the figure that does not
    depend on what else the machine does, and that includes the work the
    spend and audit writers do off the request path;
  * req/s and p50 at 16 connections, and p50 at 1 connection, from wrk;
  * peak RSS (VmHWM) after a 256-connection run.

Each config starts with an empty store (a temporary working directory), so
the SQLite files of one config do not slow the next. Only the Python 3
standard library; reuses bench/run.py's process helpers.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

REPO = bench.REPO
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the whole line.
    return (int(fields[11]) + int(fields[12])) / TICKS


def wrk(args, conns, duration, url):
    cmd = ["taskset", "-c", str(args.load_cpu), args.wrk, "-t1", f"-c{conns}", f"-d{duration}s",
           "--latency", "-s", os.path.join(REPO, "bench", "post.lua"),
           "-H", "Authorization: Bearer sk-bench", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = bench.parse_wrk(out)
    if res["non2xx"] or any(res["socket_errors"]):
        raise bench.BenchError(f"wrk reported errors:\n{out}")
    return res


def measure(args, config):
    workdir = tempfile.mkdtemp(prefix="sy-cost-")
    here = os.getcwd()
    os.chdir(workdir)  # the default SQLite store is created here
    try:
        gw = bench.spawn(["taskset", "-c", str(args.gateway_cpu), args.binary, "serve",
                          "--config", config, "--host", bench.HOST, "--port", str(args.gateway_port)],
                         log_path=os.path.join(workdir, "gateway.log"))
    finally:
        os.chdir(here)
    try:
        bench.wait_ready(gw, args.gateway_port, "/health/liveliness", "gateway")
        url = f"http://{bench.HOST}:{args.gateway_port}/v1/chat/completions"
        wrk(args, 16, 2, url)  # warm-up
        time.sleep(1.5)
        before = cpu_seconds(gw.pid)
        at16 = wrk(args, 16, args.duration, url)
        time.sleep(1.5)  # the spend and audit writers flush every second
        used = cpu_seconds(gw.pid) - before
        at1 = wrk(args, 1, max(2, args.duration // 2), url)
        wrk(args, 256, max(2, args.duration // 2), url)
        rss = bench.vm_status(gw.pid).get("VmHWM")
        requests = at16["requests"]
        return {
            "config": os.path.relpath(config, REPO),
            "cpu_us": used / requests * 1e6,
            "rps16": at16["rps"],
            "p50_16": at16["p50"],
            "p50_1": at1["p50"],
            "rss_mb": rss / 1024 if rss else None,
        }
    finally:
        bench.stop(gw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "switchyard"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--gateway-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--mock-port", type=int, default=9100)
    ap.add_argument("--gateway-port", type=int, default=4000)
    args = ap.parse_args()
    configs = [os.path.join(REPO, "bench", "gateway.yaml")] + [
        os.path.abspath(c) for c in (args.configs or sorted(glob.glob(
            os.path.join(REPO, "bench", "compliance", "*.yaml"))))]
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    args.wrk = bench.ensure_wrk()
    os.sched_setaffinity(0, {args.load_cpu})
    mock = bench.spawn(["taskset", "-c", str(args.load_cpu), args.binary, "mock-server",
                        "--host", bench.HOST, "--port", str(args.mock_port)])
    rows = []
    try:
        bench.wait_mock_ready(mock, args.mock_port)
        for config in configs:
            row = measure(args, config)
            rows.append(row)
            bench.log(f"{row['config']}: {row['cpu_us']:.1f} µs CPU/request, "
                      f"{row['rps16']:,.0f} req/s @16, p50 {row['p50_16']:.3f} ms @16, "
                      f"{row['p50_1']:.3f} ms @1, peak RSS {row['rss_mb']:.1f} MB")
    finally:
        bench.cleanup()
    base = rows[0]
    print("\n| config | CPU µs/request | added | req/s @16 | p50 @16 | p50 @1 | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| `{r['config']}` | {r['cpu_us']:.1f} | {r['cpu_us'] - base['cpu_us']:+.1f} | "
              f"{r['rps16']:,.0f} | {r['p50_16']:.3f} ms | {r['p50_1']:.3f} ms | {r['rss_mb']:.1f} MB |")


if __name__ == "__main__":
    main()
