#!/usr/bin/env python3
"""Benchmark: the gateway's cost against a direct connection to the server, in the same run.

  * bulk throughput: a ~200 MB result set read through the gateway and directly (ratio; aim >= 0.9)
  * added round-trip latency: 10,000 `SELECT 1` on one connection, p50/p99 (aim: added p50 < 50 us)
  * fault reaction: from `toolkit network --down --type reject` returning to the first refused
    connect, p50 over repeated runs
  * TLS (the gateway terminates it and talks TLS to the server): bulk throughput and connect time
    (TCP + TLS handshake + login), through the gateway against TLS straight to the server

Usage: python3 bench/gateway.py [--toolkit PATH] [--megabytes 200] [--queries 10000] [--reactions 10]
Needs `swift build -c release` first and PyMySQL (`pip install pymysql`).
"""
import argparse, json, os, shutil, socket, statistics, subprocess, tempfile, time

import pymysql

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def connect(port, password, ca=None):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password=password, database="testdb",
                           ssl={"ca": ca} if ca else None)

def bulk(port, password, megabytes, ca=None):
    conn = connect(port, password, ca)
    cursor = conn.cursor(pymysql.cursors.SSCursor)
    start = time.perf_counter()
    cursor.execute(f"SELECT REPEAT('x', 1048576) FROM seq_1_to_{megabytes}")
    total = sum(len(row[0]) for row in cursor)
    elapsed = time.perf_counter() - start
    conn.close()
    return total / elapsed / 1e6

def round_trips(port, password, count):
    conn = connect(port, password)
    cursor = conn.cursor()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        samples.append(time.perf_counter() - start)
    conn.close()
    samples.sort()
    return samples[len(samples) // 2] * 1e6, samples[int(len(samples) * 0.99)] * 1e6

def connect_times(port, password, ca, count):
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        connect(port, password, ca).close()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3

def reaction(toolkit, env, port):
    subprocess.run([toolkit, "network", "--down", "--type", "reject", "--backend", "gateway"], env=env, check=True, capture_output=True)
    returned = time.perf_counter()
    deadline = returned + 5
    refused_at = None
    while time.perf_counter() < deadline:
        with socket.socket() as s:
            try:
                s.connect(("127.0.0.1", port))
            except ConnectionRefusedError:
                refused_at = time.perf_counter()
                break
        time.sleep(0.0005)
    subprocess.run([toolkit, "network", "--up"], env=env, check=True, capture_output=True)
    return None if refused_at is None else (refused_at - returned) * 1e3

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--toolkit", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "toolkit"))
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--reactions", type=int, default=10)
    parser.add_argument("--connects", type=int, default=200)
    args = parser.parse_args()
    toolkit = os.path.abspath(args.toolkit)
    home = tempfile.mkdtemp(prefix="toolkit-bench-")
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL_")}
    env["TOOLKIT_HOME"] = home
    port = free_port()
    try:
        subprocess.run([toolkit, "up", "--port", str(port), "--backend", "gateway"], env=env, check=True, capture_output=True)
        info = json.load(open(os.path.join(home, "toolkit.json")))
        password, direct = info["admin_password"], info["server_port"]
        bulk(direct, password, 10)  # warm up
        direct_mb, gateway_mb = bulk(direct, password, args.megabytes), bulk(port, password, args.megabytes)
        direct_rt, gateway_rt = round_trips(direct, password, args.queries), round_trips(port, password, args.queries)
        ca = os.path.join(home, "tls", "ca.pem")
        direct_tls_mb, gateway_tls_mb = bulk(direct, password, args.megabytes, ca), bulk(port, password, args.megabytes, ca)
        direct_connect, gateway_connect = connect_times(direct, password, ca, args.connects), connect_times(port, password, ca, args.connects)
        reactions = [r for r in (reaction(toolkit, env, port) for _ in range(args.reactions)) if r is not None]
        print(f"bulk result set ({args.megabytes} MB)      direct {direct_mb:8.1f} MB/s   gateway {gateway_mb:8.1f} MB/s   ratio {gateway_mb / direct_mb:5.2f} (aim >= 0.90)")
        print(f"round trip p50 ({args.queries} x SELECT 1)  direct {direct_rt[0]:8.1f} us     gateway {gateway_rt[0]:8.1f} us     added {gateway_rt[0] - direct_rt[0]:6.1f} us (aim < 50)")
        print(f"round trip p99                        direct {direct_rt[1]:8.1f} us     gateway {gateway_rt[1]:8.1f} us     added {gateway_rt[1] - direct_rt[1]:6.1f} us")
        print(f"TLS bulk result set ({args.megabytes} MB)  direct {direct_tls_mb:8.1f} MB/s   gateway {gateway_tls_mb:8.1f} MB/s   ratio {gateway_tls_mb / direct_tls_mb:5.2f}")
        print(f"TLS connect + login p50 ({args.connects})   direct {direct_connect:8.2f} ms     gateway {gateway_connect:8.2f} ms     added {gateway_connect - direct_connect:6.2f} ms")
        if reactions:
            print(f"reject reaction (CLI return -> first refused connect)  p50 {statistics.median(reactions):.2f} ms over {len(reactions)} runs (max {max(reactions):.2f} ms)")
        else:
            print("reject reaction: no refused connect seen")
    finally:
        subprocess.run([toolkit, "down", "--purge"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

if __name__ == "__main__":
    main()
