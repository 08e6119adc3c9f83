#!/usr/bin/env python3
"""Benchmark: `toolkit verify` against reladiff (the maintained data-diff), in the same run, on the
same 300,000-row table in a throwaway MariaDB source and a throwaway PostgreSQL cluster:
identical tables, 1% of the rows changed at the destination, and a single changed row (which
verify must find and name).

Usage: python3 bench/verify.py [--count 300000] [--runs 3]
Builds nothing: run `swift build -c release` first (or pass --toolkit PATH). Needs PostgreSQL
(Debian's `postgresql`) and the `postgres` account. reladiff is installed into the benchmark's
own venv (--venv, default /opt/toolkit-bench-venvs/reladiff) when it is missing.
Neither tool gets a password on its command line: reladiff reads the source as a password-less
account created on the throwaway server, PostgreSQL trusts loopback connections of its own cluster.
"""
import argparse, glob, json, os, shutil, socket, statistics, subprocess, tempfile, time

COLUMNS = ["name", "email", "status"]

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def as_postgres(*command):
    subprocess.run(["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", *command],
                   check=True, capture_output=True)

def timed(command, env=None):
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--toolkit", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "toolkit"))
    parser.add_argument("--venv", default="/opt/toolkit-bench-venvs/reladiff")
    parser.add_argument("--only-identical", action="store_true", help="measure the identical tables only")
    args = parser.parse_args()
    toolkit = os.path.abspath(args.toolkit)
    reladiff = os.path.join(args.venv, "bin", "reladiff")
    if not os.path.exists(reladiff):
        subprocess.run(["/usr/bin/python3", "-m", "venv", args.venv], check=True)
        subprocess.run([os.path.join(args.venv, "bin", "pip"), "install", "-q", "reladiff[mysql,postgresql]"], check=True)

    home = tempfile.mkdtemp(prefix="toolkit-bench-verify-")
    os.chmod(home, 0o755)
    pg_dir = tempfile.mkdtemp(prefix="toolkit-bench-pg-")
    shutil.chown(pg_dir, "postgres")
    pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "PG"))}
    env["TOOLKIT_HOME"] = home
    port, pg_port = free_port(), free_port()
    pg_started = False
    try:
        subprocess.run([toolkit, "up", "--port", str(port)], env=env, check=True, capture_output=True)
        info = json.load(open(os.path.join(home, "toolkit.json")))
        server = info["server_port"]
        sql_env = dict(env, MYSQL_PWD=info["admin_password"])
        def sql(statement, **kw):
            return subprocess.run(["mariadb", "-h127.0.0.1", f"-P{server}", "-uroot", "testdb", "-e", statement],
                                  env=sql_env, check=True, **kw)
        as_postgres(f"{pg_bin}/initdb", "-D", f"{pg_dir}/data", "-A", "trust", "-U", "postgres", "--no-sync")
        as_postgres(f"{pg_bin}/pg_ctl", "-D", f"{pg_dir}/data", "-l", f"{pg_dir}/log", "-w", "-o",
                    f"-p {pg_port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        pg_started = True
        def psql(statement, database="dest", **kw):
            return subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-d", database,
                                   "-v", "ON_ERROR_STOP=1", "-c", statement], check=True, capture_output=True, **kw)
        psql("CREATE DATABASE dest", database="postgres")

        # The same rows on both sides.
        subprocess.run([toolkit, "generate-data", "--count", str(args.count)], env=env, check=True, capture_output=True)
        sql("CREATE USER 'bench'@'127.0.0.1'; GRANT SELECT ON testdb.* TO 'bench'@'127.0.0.1'")
        psql("CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100), email varchar(255), status text, "
             "created_at timestamp, updated_at timestamp)")
        rows = subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{server}", "-uroot", "testdb", "-N", "-B", "-e",
             "SET time_zone = '+00:00'; SELECT id, name, email, status, created_at, updated_at FROM users"],
            env=sql_env, check=True, capture_output=True).stdout
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-d", "dest",
                        "-c", "COPY users FROM STDIN"], input=rows, check=True, capture_output=True)
        psql("ANALYZE users")
        total = int(sql("SELECT COUNT(*) FROM users", capture_output=True, text=True).stdout.split()[-1])

        destination = f"postgres://postgres@127.0.0.1:{pg_port}/dest"
        verify_cmd = [toolkit, "verify", "--destination", destination, "--table", "users", "--json"]
        reladiff_cmd = [reladiff, f"mysql://bench@127.0.0.1:{server}/testdb", "users",
                        f"postgresql://postgres@127.0.0.1:{pg_port}/dest", "users", "-k", "id"] + \
                       [x for c in COLUMNS for x in ("-c", c)]

        def measure(label, expect_differences):
            same_columns, all_columns, baseline = [], [], []
            report = None
            for _ in range(args.runs):
                seconds, result = timed(verify_cmd + ["--columns", ",".join(COLUMNS)], env)
                same_columns.append(seconds)
                report = json.loads(result.stdout)
                seconds, _ = timed(verify_cmd, env)
                all_columns.append(seconds)
                seconds, result = timed(reladiff_cmd, env)
                if result.returncode not in (0, 1):
                    raise SystemExit(f"reladiff failed: {result.stderr[-2000:]}")
                baseline.append(seconds)
                reladiff_lines = sum(1 for line in result.stdout.splitlines() if line.startswith(("+", "-")))
            table = report["tables"][0]
            v, a, r = statistics.median(same_columns), statistics.median(all_columns), statistics.median(baseline)
            print(f"{label}")
            print(f"  toolkit verify (name, email, status) {v:7.3f} s   runs: {', '.join(f'{x:.3f}' for x in same_columns)}")
            print(f"  toolkit verify (all 6 columns)       {a:7.3f} s   runs: {', '.join(f'{x:.3f}' for x in all_columns)}")
            print(f"  reladiff (name, email, status)       {r:7.3f} s   runs: {', '.join(f'{x:.3f}' for x in baseline)}")
            print(f"  speed-up (same columns)              {r / v:7.2f} x  (goal >= 1, aim 2)")
            print(f"  verify: verdict {report['verdict']}, changed {table['changed']}, missing {table['missing']}, "
                  f"extra {table['extra']}; reladiff printed {reladiff_lines} +/- lines")
            assert (report["verdict"] == "differences") == expect_differences, report
            return table

        print(f"rows: {total} (source MariaDB, destination PostgreSQL {os.path.basename(os.path.dirname(pg_bin))})")
        measure("identical tables", False)
        if args.only_identical:
            return
        psql("UPDATE users SET name = name || ' (changed)' WHERE id % 100 = 0")
        changed = total // 100  # generated ids are 1..total
        table = measure(f"1% of the rows changed at the destination ({changed})", True)
        assert table["changed"] == changed, table
        psql("UPDATE users SET name = regexp_replace(name, ' \\(changed\\)$', '') WHERE id % 100 = 0")
        one = total // 2
        email = sql(f"SELECT email FROM users WHERE id = {one}", capture_output=True, text=True).stdout.split()[-1]
        psql(f"UPDATE users SET name = name || '!' WHERE id = {one}")
        table = measure(f"a single changed row (id {one}, {email})", True)
        assert table["changed"] == 1 and table["examples"]["changed"] == [email.split("@")[0]], table
        print(f"  the single row is named: {table['examples']['changed'][0]}")
    finally:
        subprocess.run([toolkit, "down", "--purge"], env=env, capture_output=True)
        if pg_started:
            subprocess.run(["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", f"{pg_bin}/pg_ctl",
                            "-D", f"{pg_dir}/data", "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)

if __name__ == "__main__":
    main()
