#!/usr/bin/env python3
"""Load benchmark of parindex: generates a country's data, starts the release server, and
drives it with oha (a real HTTP load generator) at fixed concurrency and duration.
Prints one table: endpoint, requests/s, p50, p99, errors, and the throughput as a ratio
to the baseline endpoint (/health/ready: one trivial database round trip) — the ratio is
what compares across machines. Standard library only; see bench/README.md.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ADMIN_PASSWORD = "bench-admin-password"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


CACHE_MS = None  # --no-cache sets "0": every request reads the database
DOCUMENTS = None  # --no-documents sets "false": every read is built live (the first read after a change)


def env_for(database_url):
    extra = {"PARINDEX_AUTH_CACHE_MS": CACHE_MS, "PARINDEX_RESULTS_CACHE_MS": CACHE_MS} if CACHE_MS else {}
    if DOCUMENTS:
        extra["PARINDEX_RESULT_DOCUMENTS"] = DOCUMENTS
    return dict(
        os.environ,
        **extra,
        DATABASE_URL=database_url,
        PARINDEX_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PARINDEX_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef",
        PARINDEX_DB_MAX_CONNECTIONS=os.environ.get("PARINDEX_DB_MAX_CONNECTIONS", "16"),
        # Password attempts count before they are checked: eight parallel logins of one
        # account would otherwise meet the per-username limit this benchmark is not about.
        PARINDEX_LOGIN_MAX_FAILURES_PER_USERNAME="64",
        RUST_LOG="warn",
    )


class Server:
    def __init__(self, binary, database_url, workdir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = env_for(database_url)
        env["PARINDEX_ADDR"] = f"127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "server.log"), "ab")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=self.log, stderr=self.log, cwd=workdir)
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.base + "/health/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("server did not start; see server.log")

    def rss_mb(self, field="VmHWM"):
        """The server's peak (VmHWM) or current (VmRSS) resident memory."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def generate(binary, database_url, workdir, communes, pending):
    started = time.time()
    out = subprocess.run(
        [binary, "generate", "--communes", str(communes), "--years", "2022,2023", "--pending", str(pending)],
        env=env_for(database_url), cwd=workdir, capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"generate failed:\n{out.stdout}\n{out.stderr}")
    return time.time() - started, out.stdout.strip().splitlines()[-1]


def oha(oha_bin, url, token, seconds, concurrency, method="GET", body=None):
    """`url` is one URL, or a list of URLs that oha requests in turn."""
    cmd = [oha_bin, "-z", f"{seconds}s", "-c", str(concurrency), "--no-tui", "--output-format", "json",
           "-H", f"Authorization: Bearer {token}"]
    if isinstance(url, list):
        fd, path = tempfile.mkstemp(prefix="parindex-urls-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(url) + "\n")
        cmd += ["--urls-from-file"]
        url = path
    if method != "GET":
        cmd += ["-m", method]
    if body is not None:
        cmd += ["-T", "application/json", "-d", body]
    out = subprocess.run(cmd + [url], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"oha failed: {out.stderr}")
    data = json.loads(out.stdout)
    codes = data.get("statusCodeDistribution", {})
    ok = sum(v for k, v in codes.items() if k.startswith("2"))
    # Requests still in flight when the duration ends are aborted by oha itself: not errors.
    failures = {k: v for k, v in data.get("errorDistribution", {}).items() if "aborted due to deadline" not in k}
    bad = sum(v for k, v in codes.items() if not k.startswith("2")) + sum(failures.values())
    pct = data.get("latencyPercentiles", {})
    return {
        "rps": data["summary"]["requestsPerSec"],
        "p50": pct.get("p50", 0) * 1000,
        "p99": pct.get("p99", 0) * 1000,
        "ok": ok,
        "errors": bad,
    }


def timed_calls(base, token, method, paths):
    latencies, errors = [], 0
    for p in paths:
        t = time.perf_counter()
        status, _ = call(base, method, p, token, {} if method == "POST" else None)
        latencies.append((time.perf_counter() - t) * 1000)
        if status >= 300:
            errors += 1
    latencies.sort()
    q = lambda f: latencies[min(len(latencies) - 1, int(f * len(latencies)))]
    return {"rps": len(paths) / (sum(latencies) / 1000), "p50": statistics.median(latencies), "p99": q(0.99),
            "ok": len(paths) - errors, "errors": errors}


def ids(base, token):
    """A province, and up to 200 of its districts and communes to spread the reads over."""
    _, districts = call(base, "GET", "/api/v1/units?kind=district&per_page=200", token)
    _, communes = call(base, "GET", "/api/v1/units?kind=commune&per_page=200", token)
    districts = districts["items"]
    return districts[0]["parent_id"], [d["id"] for d in districts], [c["id"] for c in communes["items"]]


def draft_file(base, token, commune):
    """A draft self-assessment on a 2024 framework, and a 60-entry body for it."""
    _, f = call(base, "GET", "/api/v1/frameworks?year=2023&per_page=1", token)
    fid = f["items"][0]["id"]
    status, copy = call(base, "POST", f"/api/v1/frameworks/{fid}/copy", token, {"year": 2024})
    assert status == 201, copy
    status, _ = call(base, "POST", f"/api/v1/frameworks/{copy['id']}/publish", token, {})
    assert status == 200
    status, sa = call(base, "POST", "/api/v1/self-assessments", token, {"unit_id": commune, "framework_id": copy["id"]})
    assert status == 201, sa
    leaves = [c for c in copy["criteria"] if c["is_leaf"]]
    entries = []
    for c in leaves:
        t = c["method"]["type"]
        inputs = {"manual": {"score": c["max_score"]}, "boolean": {"done": True}, "penalty_per_item": {"count": 0},
                  "per_item": {"count": 9}, "step_table": {"count": 9}, "relative_to_best": {"value": 95}}.get(
            t, {"numerator": 97, "denominator": 100})
        entries.append(dict(inputs, criterion_code=c["code"], explanation="Đã thực hiện đầy đủ theo kế hoạch",
                            evidence=[{"title": "Báo cáo kết quả", "number": "12/BC-UBND", "issued_on": "2024-06-30"}]))
    return sa["id"], json.dumps({"entries": entries}), len(entries)


def run_full(args, binary, oha_bin, database_url, workdir):
    gen_seconds, gen_line = generate(binary, database_url, workdir, args.communes, args.pending)
    print(f"generated: {gen_line} ({gen_seconds:.1f} s)")
    server = Server(binary, database_url, workdir)
    try:
        _, login = call(server.base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD})
        token = login["access_token"]
        province, districts, communes = ids(server.base, token)
        commune = communes[0]
        b = server.base
        d, c = args.duration, args.concurrency
        rows = []

        def add(name, result):
            result["rss"] = server.rss_mb()  # the peak so far: which endpoint raised it
            rows.append((name, result))

        add("baseline: GET /health/ready", oha(oha_bin, f"{b}/health/ready", token, d, c))
        add(f"district ranking ({len(districts)} districts)", oha(oha_bin, [f"{b}/api/v1/rankings?parent_unit_id={x}&year=2023" for x in districts], token, d, c))
        add(f"unit index ({len(communes)} communes)", oha(oha_bin, [f"{b}/api/v1/units/{x}/index?year=2023" for x in communes], token, d, c))
        add(f"criteria losses ({len(districts)} districts)", oha(oha_bin, [f"{b}/api/v1/rankings/criteria?parent_unit_id={x}&year=2023" for x in districts], token, d, c))
        add("province ranking (depth=all)", oha(oha_bin, f"{b}/api/v1/rankings?parent_unit_id={province}&year=2023&depth=all", token, d, c))
        add("national ranking (c=1)", oha(oha_bin, f"{b}/api/v1/rankings?year=2023&depth=all", token, d, 1))
        sa, body, n = draft_file(b, token, commune)
        add(f"upsert {n} entries (c=1)", oha(oha_bin, f"{b}/api/v1/self-assessments/{sa}/entries", token, d, 1, "PUT", body))
        _, pending = call(b, "GET", f"/api/v1/appraisals?status=in_progress&year=2023&per_page=200", token)
        finalize_paths = [f"/api/v1/appraisals/{a['id']}/finalize" for a in pending["items"]]
        add(f"finalize ({len(finalize_paths)} sequential)", timed_calls(b, token, "POST", finalize_paths))
        login_body = json.dumps({"username": "admin", "password": ADMIN_PASSWORD})
        add("login, Argon2id OWASP (c=8)", oha(oha_bin, f"{b}/api/v1/auth/login", token, d, 8, "POST", login_body))
        rss = server.rss_mb()
    finally:
        server.stop()
    base_rps = rows[0][1]["rps"]
    print()
    print(f"{'endpoint':42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6} {'peak RSS MB':>12}")
    for name, r in rows:
        print(f"{name:42} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:7d} {r['rps'] / base_rps:6.2f} {r['rss']:12.0f}")
    caches = "caches off (--no-cache)" if CACHE_MS else "default caches (1 s)"
    if DOCUMENTS:
        caches += ", no stored documents (--no-documents)"
    print(f"\nserver peak RSS: {rss:.0f} MB; {args.communes} communes, concurrency {c}, {d} s per endpoint, {caches}")


def run_growth(args, binary, oha_bin, make_db, workdir):
    print(f"{'communes':>9} {'district ranking p50/p99 ms':>28} {'unit index p50/p99 ms':>23} {'national ranking p50 ms':>24}")
    for n in [int(x) for x in args.growth.split(",")]:
        url = make_db()
        generate(binary, url, workdir, n, 0)
        server = Server(binary, url, workdir)
        try:
            _, login = call(server.base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD})
            token = login["access_token"]
            province, districts, communes = ids(server.base, token)
            district, commune = districts[0], communes[0]
            b, d = server.base, args.duration
            r1 = oha(oha_bin, f"{b}/api/v1/rankings?parent_unit_id={district}&year=2023", token, d, args.concurrency)
            r2 = oha(oha_bin, f"{b}/api/v1/units/{commune}/index?year=2023", token, d, args.concurrency)
            r3 = oha(oha_bin, f"{b}/api/v1/rankings?year=2023&depth=all", token, d, 1)
        finally:
            server.stop()
        print(f"{n:9d} {r1['p50']:13.2f} / {r1['p99']:8.2f}   {r2['p50']:9.2f} / {r2['p99']:8.2f}   {r3['p50']:18.1f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--communes", type=int, default=10000)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--pending", type=int, default=200)
    p.add_argument("--growth", help="comma-separated commune counts, e.g. 100,1000,10000")
    p.add_argument("--no-cache", action="store_true", help="run the server with its read caches off")
    p.add_argument("--no-documents", action="store_true",
                   help="store no results documents: every read is built live, as the first read after a change is")
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "parindex"))
    p.add_argument("--oha", default=os.path.join(HERE, ".tools", "bin", "oha"))
    args = p.parse_args()
    global CACHE_MS, DOCUMENTS
    CACHE_MS = "0" if args.no_cache else None
    DOCUMENTS = "false" if args.no_documents else None
    workdir = tempfile.mkdtemp(prefix="parindex-bench-")
    created = []

    def make_db():
        if args.db == "sqlite":
            path = os.path.join(workdir, f"bench-{len(created)}.db")
            created.append(path)
            return f"sqlite://{path}?mode=rwc"
        name = f"parindex_bench_{int(time.time())}_{len(created)}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
        created.append(name)
        return f"postgres://postgres@127.0.0.1:5432/{name}"

    try:
        print(f"parindex load benchmark on {args.db}: {os.cpu_count()} CPUs")
        if args.growth:
            run_growth(args, args.binary, args.oha, make_db, workdir)
        else:
            run_full(args, args.binary, args.oha, make_db(), workdir)
    finally:
        if args.db == "postgres":
            for name in created:
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


if __name__ == "__main__":
    main()
