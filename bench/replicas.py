#!/usr/bin/env python3
"""Two replicas on one PostgreSQL database, measured from the database's own statement log:

1. how many statements an idle replica issues per second;
2. how long after an account is deactivated on one replica the other refuses its token
   (both replicas with a 60 s account cache, so only the change notification can explain
   a refusal within the second);
3. how many statements one uncached district ranking and one uncached unit index cost
   (a third server with its read caches off, alone on the database).

Needs PostgreSQL on 127.0.0.1:5432 as `postgres` (trust) and read access to its log
(`--pg-log`, Debian's default path); the release binary (`cargo build --release -p
parindex-api`, or any build: `--binary`). Standard library only. Exits non-zero when the
other replica still accepts a deactivated account's token after 2 s (the notification did
not arrive), or, with `--max-idle-rate`, when an idle replica issues more statements a
second (CI runs it so).
See bench/README.md; figures in BENCHMARKS.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's server and HTTP helpers)

PG_LOG = "/var/log/postgresql/postgresql-15-main.log"


def psql(sql, db="postgres"):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql], check=True)


class StatementLog:
    """Counts the statements PostgreSQL logged for one database (log_statement = all)."""

    def __init__(self, path, database):
        self.path = path
        self.pattern = re.compile(rf"@{re.escape(database)} LOG:  (statement|execute [^:]*):")

    def mark(self):
        return os.path.getsize(self.path)

    def since(self, offset):
        with open(self.path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if self.pattern.search(line)]


def start(binary, url, workdir, **env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        return bench.Server(binary, url, workdir)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def login(server, username, password):
    status, body = bench.call(server.base, "POST", "/api/v1/auth/login", body={"username": username, "password": password})
    assert status == 200, body
    return body["access_token"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(bench.ROOT, "target", "release", "parindex"))
    p.add_argument("--pg-log", default=PG_LOG)
    p.add_argument("--idle-seconds", type=int, default=30)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--max-idle-rate", type=float, help="fail when an idle replica issues more statements a second")
    args = p.parse_args()
    args.binary = os.path.abspath(args.binary)  # the servers run in a temporary directory
    if not os.access(args.pg_log, os.R_OK):
        sys.exit(f"cannot read PostgreSQL's log {args.pg_log} (--pg-log)")
    name = f"parindex_replicas_{int(time.time())}"
    psql(f'CREATE DATABASE "{name}"')
    psql(f'ALTER DATABASE "{name}" SET log_statement = \'all\'')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    log = StatementLog(args.pg_log, name)
    workdir = tempfile.mkdtemp(prefix="parindex-replicas-")
    servers = []
    failed = False
    try:
        bench.generate(args.binary, url, workdir, 160, 0)
        cached = dict(PARINDEX_AUTH_CACHE_MS=60000, PARINDEX_RESULTS_CACHE_MS=60000)
        a = start(args.binary, url, workdir, **cached)
        b = start(args.binary, url, workdir, **cached)
        servers += [a, b]

        # 1. Idle: nothing asked of either replica.
        time.sleep(3)
        mark = log.mark()
        time.sleep(args.idle_seconds)
        idle = log.since(mark)
        per_replica = len(idle) / args.idle_seconds / 2
        print(f"idle: {len(idle)} statements in {args.idle_seconds} s from 2 replicas: "
              f"{per_replica:.2f} statements/s per replica")
        for line in idle[:6]:
            print("   ", line.split("LOG:  ", 1)[1][:110])
        if args.max_idle_rate is not None and per_replica > args.max_idle_rate:
            print(f"an idle replica issued more than {args.max_idle_rate} statements a second")
            failed = True

        # 2. Deactivated on A, refused by B.
        admin = login(a, "admin", bench.ADMIN_PASSWORD)
        latencies = []
        for i in range(args.rounds):
            password = f"probe-password-{i:04d}"
            status, user = bench.call(a.base, "POST", "/api/v1/users", admin, {
                "username": f"probe{i}", "password": password, "full_name": f"Probe {i}", "role": "admin"})
            assert status == 201, user
            token = login(b, f"probe{i}", password)
            status, _ = bench.call(b.base, "GET", "/api/v1/units?per_page=1", token)
            assert status == 200, status
            status, _ = bench.call(a.base, "PATCH", f"/api/v1/users/{user['id']}", admin, {"active": False})
            assert status == 200, status
            changed = time.perf_counter()
            while True:
                status, _ = bench.call(b.base, "GET", "/api/v1/units?per_page=1", token)
                elapsed = time.perf_counter() - changed
                if status == 401:
                    latencies.append(elapsed * 1000)
                    break
                if elapsed > 2:
                    print(f"round {i}: the other replica still answers {status} 2 s after the deactivation")
                    failed = True
                    latencies.append(elapsed * 1000)
                    break
                time.sleep(0.002)
        latencies.sort()
        print(f"deactivated on one replica, refused by the other ({args.rounds} rounds, 60 s account cache): "
              f"p50 {statistics.median(latencies):.1f} ms, max {latencies[-1]:.1f} ms")
        for s in servers:
            s.stop()
        servers.clear()

        # 3. Statements per uncached read, one server alone.
        c = start(args.binary, url, workdir, PARINDEX_AUTH_CACHE_MS=0, PARINDEX_RESULTS_CACHE_MS=0)
        servers.append(c)
        token = login(c, "admin", bench.ADMIN_PASSWORD)
        _, districts, communes = bench.ids(c.base, token)
        time.sleep(1)
        for label, paths in [
            ("district ranking", [f"/api/v1/rankings?parent_unit_id={x}&year=2023" for x in districts[:10]]),
            ("unit index", [f"/api/v1/units/{x}/index?year=2023" for x in communes[:10]]),
        ]:
            mark = log.mark()
            started = time.time()
            for path in paths:
                status, _ = bench.call(c.base, "GET", path, token)
                assert status == 200, (path, status)
            time.sleep(0.3)  # the log is written asynchronously
            lines = log.since(mark)
            print(f"{label}, uncached: {len(lines) / len(paths):.1f} statements per request "
                  f"({len(lines)} for {len(paths)} requests in {time.time() - started:.1f} s)")
            for line in lines[: len(lines) // len(paths)]:
                print("   ", line.split("LOG:  ", 1)[1][:110])
    finally:
        for s in servers:
            s.stop()
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if failed:
        sys.exit("two replicas: see the failures above")


if __name__ == "__main__":
    main()
