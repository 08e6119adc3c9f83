#!/usr/bin/env python3
"""Benchmark: rows/s of `toolkit generate-data --count N` (one shot) against the server's own
INSERT ... SELECT of the same rows (the ceiling), measured in the same run on the same server.

Usage: python3 bench/generate_data.py [--count 200000] [--runs 3]
Builds nothing: run `swift build -c release` first (or pass --toolkit PATH).
"""
import argparse, json, os, shutil, socket, statistics, subprocess, tempfile, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--toolkit", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "toolkit"))
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="toolkit-bench-")
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL_")}
    env["TOOLKIT_HOME"] = home
    port = free_port()
    toolkit = os.path.abspath(args.toolkit)
    try:
        subprocess.run([toolkit, "up", "--port", str(port)], env=env, check=True, capture_output=True)
        info = json.load(open(os.path.join(home, "toolkit.json")))
        sql_env = dict(env, MYSQL_PWD=info["admin_password"])
        def sql(statement):
            subprocess.run(["mariadb", "-h127.0.0.1", f"-P{info['server_port']}", "-uroot", "testdb", "-e", statement],
                           env=sql_env, check=True)
        generated, ceiling = [], []
        for run in range(args.runs):
            table, copy = f"bench_gen_{run}", f"bench_ceiling_{run}"
            start = time.perf_counter()
            subprocess.run([toolkit, "generate-data", "--count", str(args.count), "--table", table, "--json"],
                           env=env, check=True, capture_output=True)
            generated.append(args.count / (time.perf_counter() - start))
            sql(f"CREATE TABLE {copy} LIKE {table}")
            start = time.perf_counter()
            sql(f"INSERT INTO {copy} (name, email, status) SELECT name, email, status FROM {table}")
            ceiling.append(args.count / (time.perf_counter() - start))
            sql(f"DROP TABLE {table}, {copy}")
        g, c = statistics.median(generated), statistics.median(ceiling)
        print(f"rows per run                       {args.count}")
        print(f"generate-data (whole command)      {g:12,.0f} rows/s   runs: {', '.join(f'{x:,.0f}' for x in generated)}")
        print(f"INSERT ... SELECT (server ceiling) {c:12,.0f} rows/s   runs: {', '.join(f'{x:,.0f}' for x in ceiling)}")
        print(f"ratio generate-data / ceiling      {g / c:12.2f}      (aim: >= 0.50)")
    finally:
        subprocess.run([toolkit, "down", "--purge"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

if __name__ == "__main__":
    main()
