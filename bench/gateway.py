#!/usr/bin/env python3
"""Benchmark: the gateway's cost against a direct connection to the server, in the same run.

  * bulk throughput: a ~200 MB result set read through the gateway and directly (ratio; aim >= 0.9)
  * added round-trip latency, interleaved: rounds of `SELECT 1` alternating between a connection
    straight to the server and one through the gateway; each round's p50/p99 through the gateway
    minus the direct round next to it (the paired difference), and the median and spread of those
    over the rounds (aim: added p50 < 25 us, p99 < 100 us)
  * many small round trips: 10,000 point selects by primary key, interleaved the same way
  * the floor: the same rounds through socat, a relay without any logic, when it is installed
  * fault reaction: from `toolkit network --down --type reject` returning to the first refused
    connect, p50 over repeated runs
  * TLS (the gateway terminates it and talks TLS to the server): bulk throughput and connect time
    (TCP + TLS handshake + login), through the gateway against TLS straight to the server

Usage: python3 bench/gateway.py [--toolkit PATH] [--megabytes 200] [--rounds 20] [--per-round 500] [--reactions 10]
Needs `swift build -c release` first and PyMySQL (`pip install pymysql`).
"""
import argparse, json, os, random, shutil, socket, statistics, subprocess, tempfile, time

import pymysql

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def connect(port, password, ca=None):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password=password, database="testdb",
                           ssl={"ca": ca} if ca else None, autocommit=True)

def bulk(port, password, megabytes, ca=None):
    conn = connect(port, password, ca)
    cursor = conn.cursor(pymysql.cursors.SSCursor)
    start = time.perf_counter()
    cursor.execute(f"SELECT REPEAT('x', 1048576) FROM seq_1_to_{megabytes}")
    total = sum(len(row[0]) for row in cursor)
    elapsed = time.perf_counter() - start
    conn.close()
    return total / elapsed / 1e6

def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

def round_of(cursor, statements):
    """The p50 and p99 in microseconds of one round: each statement executed and fetched."""
    samples = []
    for statement, parameters in statements:
        start = time.perf_counter()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        samples.append(time.perf_counter() - start)
    return percentile(samples, 0.5) * 1e6, percentile(samples, 0.99) * 1e6

def cpu_seconds(pid):
    """User and system CPU time of a process, all its threads (clock ticks, 10 ms here)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def interleaved(cursors, relays, rounds, make_statements):
    """Rounds of the same statements on one connection per path, the order of the paths rotating
    from round to round: for each path, its p50s and p99s round by round, and the CPU time its
    relay process (`relays`: path to pid) spent per statement during its own rounds."""
    figures = {name: ([], []) for name in cursors}
    cpu = {name: 0.0 for name in relays}
    names = list(cursors)
    count = 0
    for index in range(rounds):
        statements = make_statements(index)
        count += len(statements)
        for name in names[index % len(names):] + names[:index % len(names)]:
            before = cpu_seconds(relays[name]) if name in relays else 0
            p50, p99 = round_of(cursors[name], statements)
            if name in relays:
                cpu[name] += cpu_seconds(relays[name]) - before
            figures[name][0].append(p50); figures[name][1].append(p99)
    return figures, {name: seconds / count * 1e6 for name, seconds in cpu.items()}

def paired(figures, path, baseline, which):
    """Round by round, `path`'s figure minus `baseline`'s (0: p50, 1: p99)."""
    return [a - b for a, b in zip(figures[path][which], figures[baseline][which])]

def spread(values):
    """The median, and the range the middle half of the rounds lies in."""
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):6.1f} us (middle half {quartiles[0]:.1f} .. {quartiles[2]:.1f}, all {min(values):.1f} .. {max(values):.1f})"

def start_relay(target_port):
    """socat as a relay without any logic, in front of the server: what any user-space relay that
    sleeps between packets adds on this machine (the floor), measured in the same run. None when
    socat is not installed."""
    socat = shutil.which("socat")
    if socat is None:
        return None, None
    port = free_port()
    relay = subprocess.Popen([socat, f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"TCP:127.0.0.1:{target_port},nodelay"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return relay, port
        time.sleep(0.05)
    relay.kill()
    return None, None

def latency(port, direct_port, password, rounds, per_round, agent_pid):
    relay, relay_port = start_relay(direct_port)
    try:
        ports = {"direct": direct_port, "gateway": port}
        if relay_port:
            ports["socat"] = relay_port
        connections = {name: connect(p, password) for name, p in ports.items()}
        relays = {"gateway": agent_pid}
        if relay:
            # socat forks a process per connection: the one relaying ours.
            with open(f"/proc/{relay.pid}/task/{relay.pid}/children") as children:
                relays["socat"] = int(children.read().split()[0])
        cursors = {name: c.cursor() for name, c in connections.items()}
        setup = cursors["direct"]
        setup.execute("CREATE TABLE IF NOT EXISTS bench_points (id INT PRIMARY KEY, v VARCHAR(64))")
        setup.execute("TRUNCATE bench_points")
        setup.execute("INSERT INTO bench_points SELECT seq, MD5(seq) FROM seq_1_to_100000")
        for cursor in cursors.values():
            round_of(cursor, [("SELECT 1", None)] * 200)  # warm up
        rng = random.Random(7)
        results = {
            "select1": interleaved(cursors, relays, rounds, lambda _: [("SELECT 1", None)] * per_round),
            "points": interleaved(cursors, relays, rounds, lambda _: [("SELECT id, v FROM bench_points WHERE id = %s", (rng.randint(1, 100000),))
                                                                  for _ in range(per_round)]),
        }
        for name, c in connections.items():
            if name != "direct":
                c.close()
        setup.execute("DROP TABLE bench_points")
        connections["direct"].close()
        return results
    finally:
        if relay:
            relay.kill()
            relay.wait()

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
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=500)
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
        agent_pid = json.loads(subprocess.run([toolkit, "status", "--json"], env=env, check=True, capture_output=True).stdout)["agent"]["pid"]
        trips = latency(port, direct, password, args.rounds, args.per_round, agent_pid)
        ca = os.path.join(home, "tls", "ca.pem")
        direct_tls_mb, gateway_tls_mb = bulk(direct, password, args.megabytes, ca), bulk(port, password, args.megabytes, ca)
        direct_connect, gateway_connect = connect_times(direct, password, ca, args.connects), connect_times(port, password, ca, args.connects)
        reactions = [r for r in (reaction(toolkit, env, port) for _ in range(args.reactions)) if r is not None]
        print(f"bulk result set ({args.megabytes} MB)      direct {direct_mb:8.1f} MB/s   gateway {gateway_mb:8.1f} MB/s   ratio {gateway_mb / direct_mb:5.2f} (aim >= 0.90)")
        count = args.rounds * args.per_round
        for name, label in (("select1", f"{count} x SELECT 1"), ("points", f"{count} point selects by key")):
            figures, cpu = trips[name]
            print(f"round trips, {label}, in {args.rounds} interleaved rounds (the paired difference per round):")
            for which, quantile, aim in ((0, "p50", 25), (1, "p99", 100)):
                print(f"  {quantile}  direct {statistics.median(figures['direct'][which]):6.1f} us   gateway adds {spread(paired(figures, 'gateway', 'direct', which))} (aim < {aim})")
                if "socat" in figures:
                    print(f"       socat (the floor) adds {spread(paired(figures, 'socat', 'direct', which))}; "
                          f"the gateway over socat {statistics.median(paired(figures, 'gateway', 'socat', which)):6.1f} us")
            print(f"  CPU per round trip: the gateway's agent {cpu['gateway']:5.1f} us"
                  + (f", socat {cpu['socat']:5.1f} us" if "socat" in cpu else ""))
            if "socat" not in figures:
                print("  socat is not installed: no floor figure")
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
