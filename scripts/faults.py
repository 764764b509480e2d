#!/usr/bin/env python3
"""Faults a deployment meets, with a server of their own: its PostgreSQL stopped under load
and started again, and its SQLite disk filled while writes stream in and freed again.

For each: every request answers (503 with Retry-After while the database cannot serve:
never 401, never 500), the server recovers by itself when the database does (no restart),
and every write that got a 2xx is there after a restart. Standard library only.

Usage: faults.py BINARY WORKDIR [--postgres] [--disk-full]
  --postgres   a private PostgreSQL cluster (initdb, as the postgres user), stopped and
               started under load
  --disk-full  a SQLite file on a small tmpfs (needs root, for mount) filled to the last
               byte mid-stream
"""

import argparse
import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
import crash_test as ct  # noqa: E402  (the crash test's server, calls and fixtures)

ENV = {
    "PARINDEX_ADMIN_PASSWORD": ct.ADMIN_PASSWORD,
    "PARINDEX_JWT_SECRET": "faults-test-secret-0123456789abcdef0123456789",
    "PARINDEX_ARGON2_MEMORY_KIB": "1024",
    "PARINDEX_ARGON2_ITERATIONS": "1",
    "PARINDEX_AUTH_CACHE_MS": "0",
    "PARINDEX_RESULTS_CACHE_MS": "0",
    "RUST_LOG": "warn",
}


def lower(headers):
    """Header names in lower case (HTTP/1.1 names are case-insensitive; actix sends them so)."""
    return {k.lower(): v for k, v in headers.items()}


def call(base, method, path, token=None, body=None, timeout=20):
    """(status, body, headers, seconds): never raises for an HTTP status."""
    import json
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw or b"null"), lower(r.headers), time.monotonic() - started
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = raw.decode(errors="replace")
        return e.code, parsed, lower(e.headers), time.monotonic() - started
    except Exception as e:  # noqa: BLE001 (a refused connection is a failure to report)
        return None, str(e), {}, time.monotonic() - started


class Load(threading.Thread):
    """One commune's officer: reads its file and writes a manual criterion, in turn, and
    remembers what each request answered and every acknowledged write."""

    def __init__(self, base, f, manual, stop):
        super().__init__(daemon=True)
        self.base, self.f, self.manual, self.stop = base, f, manual, stop
        self.token = ct.login(base, f["username"], "officer-password-1")
        self.log = []  # (time, kind, status, code)
        self.acked = {}
        # Writes answered with anything but 200 after the last acknowledged one: a commit
        # whose answer was lost may or may not have landed, so either value is honest.
        self.unsure = {}
        self.rnd = random.Random(f["unit"])

    def run(self):
        path = f"/api/v1/self-assessments/{self.f['sa']}"
        n = 0
        while not self.stop.is_set():
            s, body, headers, _ = call(self.base, "GET", path, self.token)
            self.log.append((time.monotonic(), "read", s, code_of(body), headers.get("retry-after")))
            c = self.rnd.choice(self.manual)
            cents = self.rnd.randint(0, int(Decimal(c["max_score"]) * 100))
            score = f"{cents // 100}.{cents % 100:02d}"
            s, body, headers, _ = call(self.base, "PUT", path + "/entries", self.token,
                                       {"entries": [{"criterion_code": c["code"], "score": score,
                                                     "explanation": f"ghi lần {n}"}]})
            self.log.append((time.monotonic(), "write", s, code_of(body), headers.get("retry-after")))
            if s == 200:
                self.acked[c["code"]] = score
                self.unsure[c["code"]] = set()
            else:
                self.unsure.setdefault(c["code"], set()).add(Decimal(score))
            n += 1
            time.sleep(0.02)


def upload(base, token, body, content_type):
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request(base + "/api/v1/evidence-files", data=body, method="POST")
    req.add_header("content-type", content_type)
    req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def code_of(body):
    return body.get("code") if isinstance(body, dict) else None


def restart_and_check(server, loads, stop_load, binary, workdir, env):
    """Stops the load and the server, starts it again, and fails unless every acknowledged
    write is there; returns the new (stopped) server and how many writes were checked."""
    stop_load.set()
    for load in loads:
        load.join(timeout=30)
    server.stop()
    server = ct.Server(binary, workdir, env)
    server.start()
    problems, checked = check_acked(server.base, loads)
    server.stop()
    if problems:
        raise SystemExit("FAIL: acknowledged writes lost:\n  " + "\n  ".join(problems[:20]))
    return server, checked


def check_acked(base, loads):
    """Every acknowledged write is there (its last acknowledged score per criterion)."""
    admin = ct.login(base, "admin", ct.ADMIN_PASSWORD)
    problems, checked = [], 0
    for load in loads:
        s, body, _, _ = call(base, "GET", f"/api/v1/self-assessments/{load.f['sa']}", admin)
        assert s == 200, (s, body)
        stored = {e["criterion_code"]: e.get("self_score") for e in body["entries"]}
        for code, score in load.acked.items():
            checked += 1
            allowed = {Decimal(score)} | load.unsure.get(code, set())
            if stored.get(code) is None or Decimal(stored[code]) not in allowed:
                problems.append(f"{load.f['sa']} {code}: acknowledged {score}, stored {stored.get(code)}")
    return problems, checked


def summarize(loads, since, until):
    out = {}
    for load in loads:
        for t, kind, s, code, _ in load.log:
            if since <= t <= until:
                out.setdefault((kind, s, code), 0)
                out[(kind, s, code)] += 1
    return out


def wait_for(what, predicate, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"FAIL: {what} did not happen within {within} s")


def postgres_outage(binary, workdir):
    os.makedirs(workdir, exist_ok=True)
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    data = os.path.join(workdir, "pgdata")
    os.makedirs(data, exist_ok=True)
    shutil.chown(workdir, "postgres")
    shutil.chown(data, "postgres")
    port = ct.free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    pg_log = os.path.join(workdir, "pg.log")
    start = as_pg + [f"{bindir}/pg_ctl", "-D", data, "-l", pg_log, "-w",
                     "-o", f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1", "start"]
    stop = as_pg + [f"{bindir}/pg_ctl", "-D", data, "-w", "-m", "fast", "stop"]
    subprocess.run(start, check=True, stdout=subprocess.DEVNULL)
    try:
        env = dict(ENV, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/postgres",
                   PARINDEX_DB_MAX_CONNECTIONS="8")
        server = ct.Server(binary, workdir, env)
        server.start()
        files, _plan, manual, _leaves = ct.setup_with_prefix(server.base, "PG")
        stop_load = threading.Event()
        loads = [Load(server.base, f, manual, stop_load) for f in files[:4]]
        for load in loads:
            load.start()
        time.sleep(2)
        admin = ct.login(server.base, "admin", ct.ADMIN_PASSWORD)
        # PostgreSQL stops under load.
        subprocess.run(stop, check=True, stdout=subprocess.DEVNULL)
        stopped = time.monotonic()
        # Within 3 s: readiness, reads, writes and login all answer 503 with Retry-After.
        for what, method, path, token, body in [
            ("readiness", "GET", "/health/ready", None, None),
            ("an authenticated read", "GET", f"/api/v1/self-assessments/{files[0]['sa']}", admin, None),
            ("login", "POST", "/api/v1/auth/login", None, {"username": "admin", "password": ct.ADMIN_PASSWORD}),
        ]:
            s, answer, headers, seconds = call(server.base, method, path, token, body)
            took = time.monotonic() - stopped
            if s != 503 or "retry-after" not in headers or took > 3.0:
                raise SystemExit(f"FAIL: {what} with PostgreSQL down answered {s} {answer} "
                                 f"after {seconds:.1f} s ({took:.1f} s since the stop)")
            print(f"  {what}: 503 {code_of(answer)} in {seconds:.2f} s, Retry-After {headers['retry-after']}")
        time.sleep(3)
        outage = summarize(loads, stopped + 0.5, time.monotonic())
        bad = {k: v for k, v in outage.items() if k[1] not in (503,)}
        print(f"  during the outage: {outage}")
        if bad:
            raise SystemExit(f"FAIL: during the outage some requests answered other than 503: {bad}")
        # PostgreSQL comes back: the same server serves again, without a restart.
        subprocess.run(start, check=True, stdout=subprocess.DEVNULL)
        restarted = time.monotonic()
        back = wait_for("readiness after PostgreSQL restarted",
                        lambda: call(server.base, "GET", "/health/ready")[0] == 200, 20)
        wait_for("a write after PostgreSQL restarted",
                 lambda: any(s == 200 and t > restarted for load in loads for t, k, s, _, _ in load.log if k == "write"), 20)
        print(f"  recovered {back - restarted:.1f} s after PostgreSQL restarted, without restarting the server")
        server, checked = restart_and_check(server, loads, stop_load, binary, workdir, env)
        total = sum(len(load.acked) for load in loads)
        print(f"PostgreSQL outage: 503 within 3 s, recovery without restart, {checked} acknowledged writes present ({total} criteria)")
    finally:
        subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def disk_full(binary, workdir):
    os.makedirs(workdir, exist_ok=True)
    if os.geteuid() != 0:
        raise SystemExit("FAIL: the disk-full test mounts a small tmpfs and must run as root")
    small = os.path.join(workdir, "small-disk")
    os.makedirs(small, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", small], check=True)
    try:
        env = dict(ENV, DATABASE_URL=f"sqlite://{small}/parindex.db?mode=rwc",
                   PARINDEX_EVIDENCE_DIR=os.path.join(small, "evidence"))
        server = ct.Server(binary, workdir, env)
        server.start()
        files, _plan, manual, _leaves = ct.setup_with_prefix(server.base, "DF")
        stop_load = threading.Event()
        loads = [Load(server.base, f, manual, stop_load) for f in files[:4]]
        for load in loads:
            load.start()
        time.sleep(2)
        # The disk fills to the last byte while the writes stream in.
        filler = os.path.join(small, "filler")
        # Unbuffered, and the whole of it under the handler: a buffered file's close()
        # flushes what the last write left and fails again on the full disk.
        try:
            with open(filler, "wb", buffering=0) as out:
                while True:
                    out.write(b"\0" * 65536)
        except OSError:
            pass
        full = time.monotonic()
        ready = wait_for("readiness 503 on a full disk", lambda: call(server.base, "GET", "/health/ready")[0] == 503, 20)
        time.sleep(3)
        during = summarize(loads, full, time.monotonic())
        print(f"  disk full: readiness 503 after {ready - full:.1f} s; requests meanwhile: {during}")
        bad = {k: v for k, v in during.items() if k[1] not in (200, 503)}
        if bad:
            raise SystemExit(f"FAIL: on a full disk some requests answered other than 200 or 503: {bad}")
        # An evidence file on the full disk: 507, nothing kept.
        officer = ct.login(server.base, files[0]["username"], "officer-password-1")
        body, content_type = ct.multipart([("unit_id", files[0]["unit"]), ("year", 2023)],
                                          "bao-cao.pdf", b"%PDF-1.4\n" + b"%" * 200_000)
        status, answer = upload(server.base, officer, body, content_type)
        if status != 507 or code_of(answer) != "insufficient_storage":
            raise SystemExit(f"FAIL: an upload to a full evidence disk answered {status} {answer}")
        print("  an evidence upload on the full disk: 507 insufficient_storage")
        # Room again: writes and readiness come back without a restart.
        os.remove(filler)
        freed = time.monotonic()
        wait_for("readiness after the disk was freed", lambda: call(server.base, "GET", "/health/ready")[0] == 200, 20)
        wait_for("a write after the disk was freed",
                 lambda: any(s == 200 and t > freed for load in loads for t, k, s, _, _ in load.log if k == "write"), 20)
        print(f"  freed: writes back {time.monotonic() - freed:.1f} s later, without restarting the server")
        server, checked = restart_and_check(server, loads, stop_load, binary, workdir, env)
        print(f"SQLite disk full: 503 while full, recovery without restart, {checked} acknowledged writes present after a restart")
    finally:
        subprocess.run(["umount", "-l", small], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("workdir")
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--disk-full", action="store_true")
    args = p.parse_args()
    if not (args.postgres or args.disk_full):
        p.error("name at least one fault: --postgres, --disk-full")
    if args.disk_full:
        print("-- SQLite, disk full")
        disk_full(args.binary, os.path.join(args.workdir, "disk"))
    if args.postgres:
        print("-- PostgreSQL stopped under load")
        postgres_outage(args.binary, os.path.join(args.workdir, "pg"))


if __name__ == "__main__":
    main()
