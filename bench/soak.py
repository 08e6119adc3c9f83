#!/usr/bin/env python3
"""Benchmark: what a soak costs the machine it runs on, against the same toolkit idle.

Starts a source and the managed replica in a temporary state directory (`toolkit up`, `toolkit
pipeline up`), then measures, from /proc, the CPU and resident memory of the toolkit's own
processes (the agent and its supervisor; during the soak also the `toolkit soak` process):
  1. idle, for --idle seconds: the baseline of the same run;
  2. during `toolkit soak --pipeline replica --duration --minutes m` with the default faults.
Prints each phase's CPU (% of one core, averaged over the phase), peak RSS (MiB), the journal's
growth against its budget, the ratio soak / idle, and the soak's verdict. Goals (issue 17): CPU of
the toolkit's processes < 5% of one core on average, RSS < 100 MB, journal within its budget.
It also times the nemesis for 7 days (`soak --dry-run`), which must take under a second.
Builds nothing: `swift build -c release` first (or pass --toolkit). Needs root for the agent's
packet log, as the tests do.

Usage: python3 bench/soak.py [--toolkit .build/release/toolkit] [--minutes 30] [--idle 60]
"""
import argparse, json, os, socket, subprocess, sys, tempfile, time

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime, stime, cutime, cstime: the process and the children it waited for.
        return sum(int(x) for x in fields[11:15]) / TICKS
    except OSError:
        return None

def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / (1 << 20)
    except OSError:
        return None

def pids(home):
    found = {}
    for name, file in (("agent", "agent.pid"), ("supervisor", "supervisor.process")):
        try:
            text = open(os.path.join(home, "run", file)).read().strip()
            found[name] = int(json.loads(text)["pid"]) if text.startswith("{") else int(text.split()[0])
        except (OSError, ValueError, KeyError):
            pass
    return found

def journal_bytes(home):
    total = 0
    for root, _, files in os.walk(os.path.join(home, "journal")):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total

def measure(procs, seconds, alive=lambda: True):
    """Samples every second for `seconds` (or until `alive()` is false): CPU % of one core and peak RSS."""
    start = {name: cpu_seconds(pid) for name, pid in procs.items()}
    last = dict(start)
    began = time.monotonic()
    peak = {name: 0.0 for name in procs}
    while time.monotonic() - began < seconds and alive():
        for name, pid in procs.items():
            peak[name] = max(peak[name], rss_mib(pid) or 0)
            # A process that ends (the soak) keeps its last reading: /proc forgets it once reaped.
            last[name] = cpu_seconds(pid) or last[name]
        time.sleep(1)
    elapsed = time.monotonic() - began
    cpu = {}
    for name, pid in procs.items():
        end = cpu_seconds(pid) or last[name]
        if end is not None and start[name] is not None:
            cpu[name] = 100 * (end - start[name]) / elapsed
    return cpu, peak, elapsed

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--toolkit", default=".build/release/toolkit")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--idle", type=float, default=60)
    args = parser.parse_args()
    toolkit = os.path.abspath(args.toolkit)
    # A path the toolkit creates itself (mode 711: the server's account must enter it).
    home = os.path.join(tempfile.gettempdir(), f"toolkit-bench-soak-{os.getpid()}")
    env = dict(os.environ, TOOLKIT_HOME=home)
    run = lambda *a, **k: subprocess.run([toolkit, *a], env=env, check=True, capture_output=True, text=True, **k)

    started = time.perf_counter()
    run("soak", "--duration", "168h", "--seed", "1", "--dry-run", "--json")
    week = time.perf_counter() - started
    print(f"nemesis, 7 days: {week:.3f} s (goal < 1 s)")

    try:
        # A free port of its own: the bench never takes a source's usual 3306.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        run("up", "--port", str(port), timeout=300)
        run("pipeline", "up", timeout=300)
        procs = pids(home)
        journal0 = journal_bytes(home)
        idle_cpu, idle_rss, idle_s = measure(procs, args.idle)
        print(f"idle {idle_s:.0f} s: " + ", ".join(f"{n} {idle_cpu.get(n, 0):.2f}% CPU, {idle_rss[n]:.1f} MiB" for n in procs))

        # Outside the state directory, which the end purges: the soak's reports stay to be read.
        report = tempfile.mkdtemp(prefix="toolkit-bench-soak-report-")
        duration = f"{int(args.minutes * 60)}s"
        soak = subprocess.Popen([toolkit, "soak", "--pipeline", "replica", "--duration", duration, "--seed", "1",
                                 "--report", report, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs_soak = dict(procs, soak=soak.pid)
        cpu, rss, soak_s = measure(procs_soak, args.minutes * 60 + 600, alive=lambda: soak.poll() is None)
        out, _ = soak.communicate(timeout=900)
        total_cpu = sum(cpu.values())
        idle_total = sum(idle_cpu.values()) or 0.01
        print(f"soak {soak_s:.0f} s: " + ", ".join(f"{n} {cpu.get(n, 0):.2f}% CPU, {rss[n]:.1f} MiB" for n in procs_soak))
        print(f"toolkit's processes during the soak: {total_cpu:.2f}% of one core (goal < 5%), "
              f"{total_cpu / idle_total:.1f}x idle ({idle_total:.2f}%); peak RSS {max(rss.values()):.1f} MiB (goal < 100 MB)")
        grown = journal_bytes(home) - journal0
        print(f"journal: grew {grown / 1024:.0f} KiB in {soak_s / 60:.1f} min, "
              f"{grown / max(soak_s, 1) * 3600 / (1 << 20):.2f} MiB per hour (budget 512 MiB)")
        try:
            result = json.loads(out)
            print(f"verdict: {result['verdict']} — {result['reason']}; lag p50 {result['lag'].get('p50')} s, "
                  f"max {result['lag'].get('max')} s; {len(result['faults'])} faults, {result['history']['ok']} writes ok")
        except (ValueError, KeyError):
            print("verdict: the soak printed no result", file=sys.stderr)
        print(f"reports: {report}")
    finally:
        subprocess.run([toolkit, "pipeline", "down", "--purge"], env=env, capture_output=True)
        subprocess.run([toolkit, "down", "--purge", "--force"], env=env, capture_output=True)

if __name__ == "__main__":
    main()
