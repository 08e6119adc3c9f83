#!/usr/bin/env python3
"""Benchmark: the agent's journal at soak sizes (10k, 100k, 1M events) — restart time, `/status`
latency (p50/p99) and memory — for this build and, in the same run, a baseline build.

Journals are generated with the agent's real event shapes: a flapping reject (10 s on, 10 s off)
with a query client polling every second (accept, handshake, login, close), a replica streaming
(binlog dump, first event, progress samples) that is reset by each window and resumes, refused
connects during each window. Each journal is written in the single-file layout of earlier versions
(`journal.jsonl`), so both builds start from the same file: this build migrates it on its first
start (timed separately), then every restart reads its summaries and tail.

The agent runs as `toolkit agent` with a hand-written `toolkit.json` (an unmanaged upstream that is
never connected to, gateway backend, control socket in run/), on a free loopback port.
Exactness: every window the baseline reports (it keeps at most 200,000 events in memory) must equal
this build's report of it (`GET /window?id=N`), and `windows_total` must be the number generated.

Usage: python3 bench/journal.py [--toolkit PATH] [--baseline PATH] [--sizes 10000,100000,1000000]
                                [--requests 200] [--baseline-requests 20]
Builds nothing: `swift build` first; for the baseline, build the base commit with
`--scratch-path .build-base` and pass its toolkit.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, tempfile, time

BASE = 1_760_000_000.0

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def line(event):
    return json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"

def generate(path, target):
    """A flapping soak of about `target` events; returns (events, windows)."""
    reject = {"scope": "all", "type": "reject", "backend": "gateway"}
    count = 0
    windows = 0
    conn = 1
    position = 4
    t = BASE
    with open(path, "w") as out:
        def emit(**event):
            nonlocal count
            event["at"] = round(event["at"], 6)
            out.write(line(event))
            count += 1
        def replica_connects(at):
            nonlocal conn
            c = conn
            conn += 1
            emit(at=at, kind="conn_accepted", conn=c, client=f"10.0.0.7:{50000 + c % 10000}")
            emit(at=at + 0.01, kind="handshake", conn=c, user="repl")
            emit(at=at + 0.02, kind="auth_ok", conn=c)
            emit(at=at + 0.03, kind="binlog_dump", conn=c, file="mysql-bin.000001", position=position, server_id=7)
            emit(at=at + 0.05, kind="binlog_first_event", conn=c, file="mysql-bin.000001", position=position + 100)
            return c
        emit(at=t, kind="note", detail="agent started (pid 1, backend gateway, listening on 127.0.0.1:3307, upstream 127.0.0.1:3306)")
        replica = replica_connects(t)
        t += 1
        while count < target:
            for _ in range(10):  # off: the poller connects every second, the replica streams
                c = conn
                conn += 1
                emit(at=t, kind="conn_accepted", conn=c, client=f"10.0.0.5:{40000 + c % 20000}")
                emit(at=t + 0.01, kind="handshake", conn=c, user="hevo")
                emit(at=t + 0.02, kind="auth_ok", conn=c)
                emit(at=t + 0.3, kind="conn_closed", conn=c, detail="client")
                position += 120
                emit(at=t + 0.5, kind="binlog_progress", conn=replica, file="mysql-bin.000001", position=position)
                t += 1
            windows += 1
            emit(at=t, kind="fault_started", window=windows, fault=reject, detail="gateway")
            emit(at=t + 0.001, kind="conn_reset", conn=replica, detail="reject")
            emit(at=t + 0.002, kind="conn_closed", conn=replica, file="mysql-bin.000001", position=position, detail="fault")
            for second in range(1, 10):
                emit(at=t + second, kind="conn_refused", window=windows, client=f"10.0.0.5:{30000 + (windows * 10 + second) % 30000}")
            emit(at=t + 10, kind="fault_ended", window=windows, fault=reject, detail="flap_toggle")
            t += 10.5
            replica = replica_connects(t)
            t += 0.5
    return count, windows

class Agent:
    def __init__(self, toolkit, home):
        self.toolkit, self.home = toolkit, home
        self.socket_path = os.path.join(home, "run", "agent.sock")

    def start(self):
        """Starts the agent; returns seconds until its control API answers."""
        env = dict(os.environ, TOOLKIT_HOME=self.home)
        begun = time.perf_counter()
        self.process = subprocess.Popen([self.toolkit, "agent"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = begun + 600
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agent exited {self.process.returncode}: {self.process.stderr.read().decode()[-2000:]}")
            try:
                # Listening: an answer that costs nothing (an /status would add its own cost).
                self.get(f"/events?since={1 << 60}")
                return time.perf_counter() - begun
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("agent did not answer within 600 s")

    def get(self, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(900)
            s.connect(self.socket_path)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("connection closed before the headers")
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            while len(body) < length:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                body += chunk
            status = int(head.split(b" ")[1])
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status} {body[:300]!r}")
            return json.loads(body)

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            fields = dict(l.split(":", 1) for l in f)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

def prepare(home, journal, port):
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o755)
    config = {"flavor": "mariadb", "public_port": port, "server_port": free_port(), "host": "127.0.0.1",
              "database": "testdb", "admin_user": "root", "admin_password": "x", "etl_user": "hevo",
              "etl_password": "x", "listen_host": "127.0.0.1", "managed": False, "backend": "gateway"}
    with open(os.path.join(home, "toolkit.json"), "w") as f:
        json.dump(config, f)
    os.chmod(os.path.join(home, "toolkit.json"), 0o600)
    shutil.copy(journal, os.path.join(home, "journal.jsonl"))

def latency(agent, requests, budget_seconds=None):
    """p50/p99 of `requests` GET /status (fewer, but at least one, if they take over `budget_seconds` in all)."""
    samples = []
    begun_all = time.perf_counter()
    for _ in range(requests):
        if budget_seconds and samples and time.perf_counter() - begun_all > budget_seconds:
            break
        begun = time.perf_counter()
        status = agent.get("/status")
        samples.append((time.perf_counter() - begun) * 1e3)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], status, len(samples)

def measure(label, toolkit, journal, requests, restarts, new_layout, budget_seconds=None):
    home = tempfile.mkdtemp(prefix="toolkit-journal-bench-")
    prepare(home, journal, free_port())
    agent = Agent(toolkit, home)
    result = {"label": label}
    try:
        first = agent.start()
        if new_layout:
            result["first_start_s"] = first
            agent.stop()
            times = []
            for _ in range(restarts):
                times.append(agent.start())
                if len(times) < restarts:
                    agent.stop()
            result["restart_s"] = statistics.median(times)
        else:
            result["restart_s"] = first
        p50, p99, status, count = latency(agent, requests, budget_seconds)
        result.update(status_p50_ms=p50, status_p99_ms=p99, requests=count, windows_shown=len(status["windows"]),
                      windows_total=status.get("windows_total"))
        result["rss_mb"], result["peak_rss_mb"] = agent.rss_mb()
        result["status"] = status
        result["agent"] = agent
        result["home"] = home
        return result
    except Exception:
        agent_stop_quietly(agent)
        shutil.rmtree(home, ignore_errors=True)
        raise

def agent_stop_quietly(agent):
    try:
        agent.stop()
    except Exception:
        pass

def main():
    parser = argparse.ArgumentParser()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    parser.add_argument("--toolkit", default=os.path.join(root, ".build", "debug", "toolkit"))
    parser.add_argument("--baseline", default=os.path.join(root, ".build-base", "build", "debug", "toolkit"))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--baseline-requests", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--baseline-seconds", type=float, default=60, help="stop the baseline's /status requests after this long (at least 3)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="toolkit-journal-gen-")
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            journal = os.path.join(work, f"journal-{size}.jsonl")
            events, windows = generate(journal, size)
            megabytes = os.path.getsize(journal) / 1e6
            print(f"== {events} events, {windows} windows, {megabytes:.0f} MB journal", flush=True)
            new = measure("this build", os.path.abspath(args.toolkit), journal, args.requests, args.restarts, True)
            base = None
            if os.path.exists(args.baseline) and not args.no_baseline:
                base = measure("baseline", os.path.abspath(args.baseline), journal, args.baseline_requests, 1, False,
                               args.baseline_seconds)
            for r in filter(None, [new, base]):
                extra = f"  (first start, migrating: {r['first_start_s']:.2f} s)" if "first_start_s" in r else ""
                print(f"   {r['label']:<10}  restart {r['restart_s']:6.2f} s   status p50 {r['status_p50_ms']:8.1f} ms  p99 {r['status_p99_ms']:8.1f} ms ({r['requests']} requests)"
                      f"   RSS {r['rss_mb']:6.1f} MB (peak {r['peak_rss_mb']:6.1f})   windows shown {r['windows_shown']}, total {r['windows_total']}{extra}", flush=True)
            exact = new["windows_total"] == windows
            checked = 0
            if base:
                # This build's reports: the summaries it wrote (windows.jsonl), then the live ones.
                mine_all = {}
                with open(os.path.join(new["home"], "journal", "windows.jsonl")) as f:
                    for text in f:
                        if text.strip():
                            report = json.loads(text)
                            mine_all[report["window"]] = report
                for report in new["agent"].get("/status")["windows"]:
                    mine_all[report["window"]] = report
                for report in base["status"]["windows"]:
                    mine = mine_all.get(report["window"])
                    checked += 1
                    if mine != report:
                        exact = False
                        print(f"   window {report['window']} differs:\n     baseline   {json.dumps(report, sort_keys=True)[:400]}\n     this build {json.dumps(mine, sort_keys=True)[:400]}")
                missing = windows - len(base["status"]["windows"])
                print(f"   baseline reports {len(base['status']['windows'])} of {windows} windows" + (f" ({missing} lost)" if missing else ""))
            print(f"   exact: windows_total {new['windows_total']} of {windows} generated; {checked} windows compared with the baseline: {'all equal' if exact else 'DIFFERENCES'}", flush=True)
            for r in filter(None, [new, base]):
                agent_stop_quietly(r["agent"])
                shutil.rmtree(r["home"], ignore_errors=True)
            os.remove(journal)
    finally:
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
