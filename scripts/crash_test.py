#!/usr/bin/env python3
"""Crash safety: drive a stream of writes (self-assessment entries, submissions, remediation
progress reports, evidence file uploads), kill the server with SIGKILL mid-stream, restart it, and check that
every write that got a 2xx is there and nothing is half-written. Standard library only.

Usage: crash_test.py BINARY WORKDIR [--rounds N]
The database is DATABASE_URL when set (PostgreSQL), else a SQLite file in WORKDIR.
"""

import argparse
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal

ADMIN_PASSWORD = "crash-test-admin-password"
FRAMEWORK = os.path.join(os.path.dirname(__file__), "..", "demo", "fixtures", "commune_framework_2023.json")
COMMUNES = 6


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir, self.env = binary, workdir, env
        self.proc = None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        env = dict(os.environ, **self.env, PARINDEX_ADDR=f"127.0.0.1:{self.port}")
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary], cwd=self.workdir, env=env, stdout=log, stderr=log)
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.base + "/health/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("the server did not become ready; see server.log")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def call(base, method, path, token=None, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def login(base, username, password):
    status, body = call(base, "POST", "/api/v1/auth/login", body={"username": username, "password": password})
    assert status == 200, (status, body)
    return body["access_token"]


def max_inputs(c):
    t = c["method"]["type"]
    return {
        "manual": {"score": c["max_score"]},
        "boolean": {"done": True},
        "penalty_per_item": {"count": 0},
        "per_item": {"count": 100},
        "step_table": {"count": 100},
        "relative_to_best": {"value": 100},
    }.get(t, {"numerator": 10, "denominator": 10})


class Writer(threading.Thread):
    """Writes to one commune's file, one request at a time: entries, then a submission.
    Remembers every acknowledged write, and the one in flight when the server died."""

    def __init__(self, base, f, manual, leaves, stop):
        super().__init__(daemon=True)
        self.base, self.f, self.manual, self.leaves, self.stop = base, f, manual, leaves, stop
        self.acked = {}  # criterion code -> score string
        self.in_flight = None  # (code, score) or ("submit", None)
        self.submitted = False
        self.writes = 0

    def run(self):
        token = login(self.base, self.f["username"], "officer-password-1")
        rnd = random.Random(self.f["unit"])
        # Writers submit after a few writes, so that submissions too are cut mid-stream.
        submit_after = rnd.randint(5, 40)
        path = f"/api/v1/self-assessments/{self.f['sa']}/entries"
        while not self.stop.is_set():
            if self.writes >= submit_after and not self.submitted:
                # Complete the file, then submit it.
                entries = [dict(max_inputs(c), criterion_code=c["code"]) for c in self.leaves if c["code"] not in self.acked]
                self.in_flight = ("fill", None)
                try:
                    status, _ = call(self.base, "PUT", path, token, {"entries": entries})
                except Exception:
                    return
                if status != 200:
                    return
                for c in self.leaves:
                    self.acked.setdefault(c["code"], None)
                self.in_flight = ("submit", None)
                try:
                    status, _ = call(self.base, "POST", f"/api/v1/self-assessments/{self.f['sa']}/submit", token, {})
                except Exception:
                    return
                if status == 200:
                    self.submitted = True
                self.in_flight = None
                return
            c = rnd.choice(self.manual)
            cents = rnd.randint(0, int(Decimal(c["max_score"]) * 100))
            score = f"{cents // 100}.{cents % 100:02d}"
            self.in_flight = (c["code"], score)
            try:
                status, _ = call(self.base, "PUT", path, token, {"entries": [{"criterion_code": c["code"], "score": score, "explanation": f"write {self.writes}"}]})
            except Exception:
                return  # the server died mid-request
            if status == 200:
                self.acked[c["code"]] = score
                self.writes += 1
            self.in_flight = None


class ProgressWriter(threading.Thread):
    """Reports progress on the items of one remediation plan, one request at a time, each
    with a unique note and a new status. Remembers every acknowledged report."""

    # What may follow each status (the service's state machine, service/src/workflow.rs).
    NEXT = {
        "not_started": ["in_progress", "done", "cancelled"],
        "in_progress": ["in_progress", "done", "cancelled"],
        "done": ["in_progress"],
        "cancelled": ["not_started", "in_progress"],
    }

    def __init__(self, base, plan, stop):
        super().__init__(daemon=True)
        self.base, self.plan, self.stop = base, plan, stop
        self.acked = []  # (item id, note, status)
        self.in_flight = None  # (item id, note, status)
        self.writes = 0
        self.refused = None  # a refusal means the stream is wrong, not that the server died

    def run(self):
        token = login(self.base, self.plan["username"], "officer-password-1")
        rnd = random.Random(self.plan["id"] * 1000 + len(self.acked))
        # Where each item stands now (a write cut by the crash may or may not have landed).
        current = {}
        for item in self.plan["items"]:
            code, body = call(self.base, "GET", f"/api/v1/remediation-items/{item}", token)
            if code != 200:
                self.refused = (code, body)
                return
            current[item] = body["status"]
        while not self.stop.is_set():
            item = rnd.choice(self.plan["items"])
            status = rnd.choice(self.NEXT[current[item]])
            note = f"{self.plan['prefix']} progress {self.writes} on item {item}"
            body = {"note": note, "status": status,
                    "evidence": [{"title": f"Báo cáo tiến độ {self.writes}", "number": f"{self.writes}/BC-UBND"}]}
            if status == "cancelled":
                body["reason"] = "Không còn phù hợp"
            self.in_flight = (item, note, status)
            try:
                code, answer = call(self.base, "POST", f"/api/v1/remediation-items/{item}/progress", token, body)
            except Exception:
                return  # the server died mid-request
            if code != 201:
                self.refused = (code, answer)
                return
            self.acked.append((item, note, status))
            current[item] = status
            self.writes += 1
            self.in_flight = None


def multipart(fields, filename, content):
    """A multipart/form-data body: the text fields, then the file (as a browser sends it)."""
    boundary = "----parindex-crash-" + hashlib.sha256(content[:64]).hexdigest()[:16]
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.append(f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="{filename}"\r\n'
               f"content-type: application/pdf\r\n\r\n".encode())
    out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def fetch(base, path, token, timeout=60):
    req = urllib.request.Request(base + path, headers={"authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class UploadWriter(threading.Thread):
    """Uploads evidence files (fake PDFs of 64 KiB to 3 MiB, each with unique bytes) to one
    commune, one at a time, so that SIGKILL lands in the middle of a streamed upload.
    Remembers every acknowledged file (id, sha256, size)."""

    def __init__(self, base, f, stop):
        super().__init__(daemon=True)
        self.base, self.f, self.stop = base, f, stop
        self.acked = []  # (id, sha256, size)
        self.writes = 0
        self.refused = None

    def run(self):
        token = login(self.base, self.f["username"], "officer-password-1")
        rnd = random.Random(self.f["unit"] * 7919)
        while not self.stop.is_set():
            size = rnd.randint(64 * 1024, 3 * 1024 * 1024)
            content = b"%PDF-1.4\n%" + rnd.randbytes(size - 20) + b"\n%%EOF\n"
            body, ctype = multipart([("unit_id", self.f["unit"])], f"Minh chứng số {self.writes}.pdf", content)
            req = urllib.request.Request(self.base + "/api/v1/evidence-files", data=body, method="POST",
                                         headers={"authorization": "Bearer " + token, "content-type": ctype})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    answer = json.loads(r.read())
                    code = r.status
            except urllib.error.HTTPError as e:
                self.refused = (e.code, e.read()[:300])
                return
            except Exception:
                return  # the server died mid-request
            if code != 201 or answer["sha256"] != hashlib.sha256(content).hexdigest() or answer["size"] != len(content):
                self.refused = (code, answer)
                return
            self.acked.append((answer["id"], answer["sha256"], answer["size"]))
            self.writes += 1


def verify_uploads(base, admin, upload_writers):
    """Every acknowledged upload is there, byte-identical; and every file the service lists
    (the acknowledged ones and any the crash cut after commit) serves all its bytes."""
    problems = []
    for w in upload_writers:
        if w.refused:
            problems.append(f"unit {w.f['unit']}: an upload was refused: {w.refused}")
        listed, page = {}, 1
        while True:
            status, answer = call(base, "GET", f"/api/v1/evidence-files?unit_id={w.f['unit']}&per_page=100&page={page}", admin)
            if status != 200:
                problems.append(f"unit {w.f['unit']}: listing evidence files answered {status}")
                break
            listed.update((f["id"], f) for f in answer["items"])
            if page * 100 >= answer["total"]:
                break
            page += 1
        for fid, sha, size in w.acked:
            if fid not in listed:
                problems.append(f"evidence file {fid}: acknowledged, not listed after restart")
            elif (listed[fid]["sha256"], listed[fid]["size"]) != (sha, size):
                problems.append(f"evidence file {fid}: acknowledged {sha}/{size}, stored {listed[fid]['sha256']}/{listed[fid]['size']}")
        for fid, meta in listed.items():
            status, content = fetch(base, f"/api/v1/evidence-files/{fid}/content", admin)
            if status != 200 or hashlib.sha256(content).hexdigest() != meta["sha256"] or len(content) != meta["size"]:
                problems.append(f"evidence file {fid}: metadata says {meta['size']} bytes {meta['sha256'][:12]}…, "
                                f"content answered {status} with {len(content)} bytes")
    return problems


def collect_garbage(binary, workdir, env):
    """Run `parindex evidence gc` as an operator would after a crash, with no grace period:
    it may remove only blobs no metadata names (the crash's orphans), never a listed file's."""
    run_env = dict(os.environ, **env)
    out = subprocess.run([binary, "evidence", "gc", "--older-than-minutes", "0"], cwd=workdir, env=run_env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"evidence gc failed: {out.stderr}")
    return out.stdout.strip().splitlines()[-1]


def verify_progress(base, admin, progress_writers):
    problems = []
    for w in progress_writers:
        if w.refused:
            problems.append(f"plan {w.plan['id']}: a progress report was refused: {w.refused}")
        for item in w.plan["items"]:
            status, body = call(base, "GET", f"/api/v1/remediation-items/{item}", admin)
            if status != 200:
                problems.append(f"item {item}: {status} after restart")
                continue
            notes = [h["note"] for h in body["history"] if h["kind"] == "progress"]
            acked = [a for a in w.acked if a[0] == item]
            expected = [a[1] for a in acked]
            in_flight = w.in_flight if w.in_flight and w.in_flight[0] == item else None
            # Every acknowledged report is there, once, in order; at most the one in flight
            # when the server died may follow it.
            if notes != expected and not (in_flight and notes == expected + [in_flight[1]]):
                missing = [n for n in expected if n not in notes]
                problems.append(f"item {item}: {len(expected)} acknowledged reports, history has {len(notes)}; "
                                f"missing or out of order: {missing[:3] or 'order differs'}")
                continue
            # Nothing half-written: the item's status is the one of its last stored report.
            if len(notes) > len(expected):
                last = in_flight[2]
            else:
                last = acked[-1][2] if acked else "not_started"
            if body["status"] != last:
                problems.append(f"item {item}: status {body['status']}, last stored report says {last}")
            if (body["status"] == "cancelled") != (body["cancel_reason"] is not None):
                problems.append(f"item {item}: status {body['status']} with cancel_reason {body['cancel_reason']}")
        status, trail = call(base, "GET", f"/api/v1/audit-events?entity=remediation_item&unit_id={w.plan['unit']}&per_page=1", admin)
        if trail["total"] < w.writes:
            problems.append(f"plan {w.plan['id']}: {w.writes} acknowledged reports, {trail['total']} audit events")
    return problems


def verify(base, writers, progress_writers, upload_writers, leaves):
    admin = login(base, "admin", ADMIN_PASSWORD)
    problems = verify_progress(base, admin, progress_writers) + verify_uploads(base, admin, upload_writers)
    for w in writers:
        status, sa = call(base, "GET", f"/api/v1/self-assessments/{w.f['sa']}", admin)
        assert status == 200, sa
        entries = {e["criterion_code"]: e for e in sa["entries"]}
        for code, score in w.acked.items():
            if score is None:
                continue
            got = entries[code]["self_score"]
            allowed = {Decimal(score)}
            if w.in_flight and w.in_flight[0] == code:
                allowed.add(Decimal(w.in_flight[1]))
            if got is None or Decimal(got) not in allowed:
                problems.append(f"sa {w.f['sa']} {code}: acknowledged {score}, found {got}")
        # Nothing half-written: the stored total is the sum of the stored scores.
        total = sum(Decimal(e["self_score"]) for e in sa["entries"] if e["self_score"] is not None)
        if Decimal(sa["self_total"]) != total:
            problems.append(f"sa {w.f['sa']}: self_total {sa['self_total']} but entries sum to {total}")
        if w.submitted and sa["status"] != "submitted":
            problems.append(f"sa {w.f['sa']}: acknowledged submission, status {sa['status']}")
        if sa["status"] == "submitted" and sa["appraisal_id"] is None:
            problems.append(f"sa {w.f['sa']}: submitted without an appraisal")
        if sa["status"] == "draft" and sa["appraisal_id"] is not None:
            problems.append(f"sa {w.f['sa']}: a draft with an appraisal")
        # Every acknowledged entry write left its audit event.
        status, trail = call(base, "GET", f"/api/v1/audit-events?entity=assessment_entry&unit_id={w.f['unit']}&per_page=1", admin)
        if trail["total"] < w.writes:
            problems.append(f"unit {w.f['unit']}: {w.writes} acknowledged writes, {trail['total']} audit events")
    return problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("workdir")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    env = {"PARINDEX_ADMIN_PASSWORD": ADMIN_PASSWORD, "PARINDEX_JWT_SECRET": "crash-test-secret-0123456789abcdef0123456789",
           "PARINDEX_ARGON2_MEMORY_KIB": "1024", "PARINDEX_ARGON2_ITERATIONS": "1", "RUST_LOG": "warn"}
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite://{os.path.join(args.workdir, 'crash.db')}?mode=rwc"
    url = env.get("DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    all_writers, all_progress, all_uploads = [], [], []
    for round_ in range(1, args.rounds + 1):
        server = Server(args.binary, args.workdir, env)
        server.start()
        # Each round works on new units of the same database: earlier rounds' data must
        # survive the later kills too, and is checked again after each one.
        files, plan, manual, leaves = setup_with_prefix(server.base, f"R{round_}")
        stop = threading.Event()
        writers = [Writer(server.base, f, manual, leaves, stop) for f in files]
        progress = ProgressWriter(server.base, plan, stop)
        # Two communes also upload evidence files while the others write entries.
        uploads = [UploadWriter(server.base, f, stop) for f in files[:2]]
        for w in writers + [progress] + uploads:
            w.start()
        time.sleep(random.uniform(1.5, 3.0))
        server.kill()  # SIGKILL: no graceful shutdown; requests in flight are cut
        stop.set()
        for w in writers + [progress] + uploads:
            w.join(timeout=10)
        all_writers.extend(writers)
        all_progress.append(progress)
        all_uploads.extend(uploads)
        acked = sum(w.writes for w in writers)
        submitted = sum(1 for w in writers if w.submitted)
        server = Server(args.binary, args.workdir, env)
        server.start()
        problems = verify(server.base, all_writers, all_progress, all_uploads, leaves)
        server.stop()
        gc = collect_garbage(args.binary, args.workdir, env)
        # After the collector, every listed file must still serve all its bytes.
        server = Server(args.binary, args.workdir, env)
        server.start()
        problems += verify_uploads(server.base, login(server.base, "admin", ADMIN_PASSWORD), all_uploads)
        server.stop()
        print(f"round {round_} on {backend}: {acked} acknowledged entry writes, {submitted} submissions and "
              f"{progress.writes} remediation progress reports and {sum(w.writes for w in uploads)} evidence uploads "
              f"({sum(s for w in uploads for _, _, s in w.acked) // 1024} KiB) before SIGKILL; "
              f"{'all present, nothing half-written' if not problems else str(len(problems)) + ' problems'}")
        if problems:
            for line in problems[:20]:
                print("  " + line)
            sys.exit(1)
        print(f"  evidence gc after the crash: {gc}")
    total_writes = sum(w.writes for w in all_writers + all_progress + all_uploads)
    print(f"crash test passed on {backend}: {args.rounds} SIGKILLs, {total_writes} acknowledged writes verified")


def setup_with_prefix(base, prefix):
    admin = login(base, "admin", ADMIN_PASSWORD)
    ok = lambda r: r[1] if r[0] in (200, 201) else sys.exit(f"setup failed: {r}")
    province = ok(call(base, "POST", "/api/v1/units", admin, {"code": f"{prefix}-P", "name": "Tỉnh", "kind": "province"}))["id"]
    district = ok(call(base, "POST", "/api/v1/units", admin, {"code": f"{prefix}-D", "name": "Huyện", "kind": "district", "parent_id": province}))["id"]
    framework = json.load(open(FRAMEWORK))
    framework["owner_unit_id"] = district
    fid = ok(call(base, "POST", "/api/v1/frameworks", admin, framework))["id"]
    ok(call(base, "POST", f"/api/v1/frameworks/{fid}/publish", admin, {}))
    files = []
    for i in range(COMMUNES):
        unit = ok(call(base, "POST", "/api/v1/units", admin, {"code": f"{prefix}-{i}", "name": f"Xã Thử {i}", "kind": "commune", "parent_id": district}))["id"]
        username = f"{prefix.lower()}.officer{i}"
        ok(call(base, "POST", "/api/v1/users", admin, {"username": username, "password": "officer-password-1", "full_name": f"Officer {i}", "role": "unit_officer", "unit_id": unit}))
        token = login(base, username, "officer-password-1")
        sa = ok(call(base, "POST", "/api/v1/self-assessments", token, {"unit_id": unit, "framework_id": fid}))["id"]
        files.append({"unit": unit, "username": username, "sa": sa})
    manual = [c for c in framework["criteria"] if c.get("method", {}).get("type") == "manual"]
    leaves = [c for c in framework["criteria"] if "method" in c]
    plan = setup_plan(base, admin, prefix, district, fid, manual, leaves)
    return files, plan, manual, leaves


def setup_plan(base, admin, prefix, district, fid, manual, leaves):
    """One more commune whose file is submitted, appraised with deductions and finalised,
    and the remediation plan made from it: the progress writer reports on its items."""
    ok = lambda r: r[1] if r[0] in (200, 201) else sys.exit(f"setup failed: {r}")
    unit = ok(call(base, "POST", "/api/v1/units", admin, {"code": f"{prefix}-RP", "name": "Thị trấn Thử", "kind": "town", "parent_id": district}))["id"]
    username = f"{prefix.lower()}.planner"
    ok(call(base, "POST", "/api/v1/users", admin, {"username": username, "password": "officer-password-1", "full_name": "Planner", "role": "unit_officer", "unit_id": unit}))
    token = login(base, username, "officer-password-1")
    sa = ok(call(base, "POST", "/api/v1/self-assessments", token, {"unit_id": unit, "framework_id": fid}))["id"]
    ok(call(base, "PUT", f"/api/v1/self-assessments/{sa}/entries", token, {"entries": [dict(max_inputs(c), criterion_code=c["code"]) for c in leaves]}))
    appraisal = ok(call(base, "POST", f"/api/v1/self-assessments/{sa}/submit", token, {}))["appraisal_id"]
    lowered = [{"criterion_code": c["code"], "score": "0", "comment": "Chưa đạt"} for c in manual[:6]]
    ok(call(base, "PUT", f"/api/v1/appraisals/{appraisal}/entries", admin, {"entries": lowered}))
    finalized = ok(call(base, "POST", f"/api/v1/appraisals/{appraisal}/finalize", admin, {}))
    # The unit sees its deductions, and makes its plan, once the results are published.
    ok(call(base, "POST", "/api/v1/publications", admin, {"parent_unit_id": district, "year": finalized["year"]}))
    milestones = [{"label": "đợt 1", "due_on": "2024-10-31"}, {"label": "đợt 2", "due_on": "2024-12-15"}]
    plan = ok(call(base, "POST", "/api/v1/remediation-plans", token, {"appraisal_id": appraisal, "milestones": milestones}))
    items = [i["id"] for i in plan["items"]]
    assert len(items) == len(lowered), plan
    return {"id": plan["id"], "unit": unit, "username": username, "items": items, "prefix": prefix}


if __name__ == "__main__":
    main()
