#!/usr/bin/env python3
"""Workbooks and papers benchmark: against the release server with the demo district
(SQLite), the latency of what an officer or the council does at a desk, one request at a
time: download the seed file's workbook, upload it unchanged (a no-op) and with one
change, download the appraisal workbook, print the remediation letter and the results
notice as DOCX, and (with LibreOffice) as PDF. Standard library only; see bench/README.md.

    cargo build --release -p parindex-api && bench/papers.py [--rounds 30] [--soffice PATH]
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Server, call, env_for  # noqa: E402

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def request(base, method, path, token, body=None, content_type=None):
    req = urllib.request.Request(base + path, data=body, method=method)
    req.add_header("authorization", "Bearer " + token)
    if content_type:
        req.add_header("content-type", content_type)
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        data = r.read()
        status = r.status
    return status, data, (time.perf_counter() - started) * 1000


def measure(label, rounds, f):
    times = []
    size = 0
    for _ in range(rounds):
        status, data, ms = f()
        assert status == 200, (label, status)
        times.append(ms)
        size = len(data)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"| {label} | {size:,} B | {p50:.1f} ms | {p95:.1f} ms |")


def one_cell_changed(xlsx):
    """The workbook with the shared-string-free count of 1.5.4 raised by one (text edit of
    the sheet XML, as a spreadsheet program would save it)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                marker = '<c r="G17" '
                i = text.index(marker)
                cell_end = text.index(">", i)
                if text[cell_end - 1] == "/":  # an empty cell: give it a value
                    text = text[:cell_end - 1] + "><v>5</v></c>" + text[cell_end + 1:]
                else:
                    v = text.index("<v>", i)
                    w = text.index("</v>", v)
                    text = text[:v + 3] + str(int(float(text[v + 3:w])) + 1) + text[w:]
                data = text.encode()
            dst.writestr(item, data)
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--soffice", default=shutil.which("soffice"))
    args = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "parindex")
    work = tempfile.mkdtemp(prefix="parindex-papers-")
    db = f"sqlite://{work}/bench.db?mode=rwc"
    subprocess.run([binary, "demo-data"], env=env_for(db), cwd=work, check=True, capture_output=True)
    if args.soffice:
        os.environ["PARINDEX_SOFFICE"] = args.soffice
    server = Server(binary, db, work)
    try:
        base = server.base
        password = "demo-password-2023"
        _, officer = call(base, "POST", "/api/v1/auth/login", body={"username": "vinhlong.vanphong", "password": password})
        _, council = call(base, "POST", "/api/v1/auth/login", body={"username": "vinhlinh.thamdinh", "password": password})
        officer, council = officer["access_token"], council["access_token"]
        _, me = call(base, "GET", "/api/v1/auth/me", officer)
        unit = me["unit_id"]
        _, files = call(base, "GET", f"/api/v1/self-assessments?unit_id={unit}&year=2023", officer)
        sa = files["items"][0]["id"]
        _, file = call(base, "GET", f"/api/v1/self-assessments/{sa}", officer)
        appraisal = file["appraisal_id"]
        _, plans = call(base, "GET", f"/api/v1/remediation-plans?unit_id={unit}", officer)
        plan = plans[0]["id"]
        _, pubs = call(base, "GET", "/api/v1/publications?year=2023", council)
        pub = pubs[0]["id"]
        # A fresh file to upload into (the demo's own is appraised and closed to edits).
        _, admin = call(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": "bench-admin-password"})
        admin = admin["access_token"]
        _, fws = call(base, "GET", "/api/v1/frameworks", admin)
        fw = next(f for f in fws["items"] if f["year"] == 2023)["id"]
        _, units = call(base, "GET", "/api/v1/units?per_page=100", admin)
        parent = next(u for u in units["items"] if u["name"] == "Huyện Vĩnh Linh")["id"]
        _, fresh = call(base, "POST", "/api/v1/units", admin, {"code": "BENCH-1", "name": "Xã Đo Tốc Độ", "kind": "commune", "parent_id": parent})
        _, open_ = call(base, "POST", "/api/v1/self-assessments", admin, {"unit_id": fresh["id"], "framework_id": fw})
        target = open_["id"]
        _, empty, _ = request(base, "GET", f"/api/v1/self-assessments/{target}/workbook", admin)
        print(f"release build, SQLite, demo district, {args.rounds} sequential requests each\n")
        print("| request | size | p50 | p95 |")
        print("|---|---:|---:|---:|")
        measure("GET self-assessment workbook (70 criteria)", args.rounds,
                lambda: request(base, "GET", f"/api/v1/self-assessments/{sa}/workbook", officer))
        measure("GET appraisal workbook", args.rounds,
                lambda: request(base, "GET", f"/api/v1/appraisals/{appraisal}/workbook", council))
        measure("PUT workbook, unchanged (no-op)", args.rounds,
                lambda: request(base, "PUT", f"/api/v1/self-assessments/{target}/entries", admin, empty, XLSX))
        state = {"book": empty}

        def changed():
            state["book"] = one_cell_changed(state["book"])
            return request(base, "PUT", f"/api/v1/self-assessments/{target}/entries", admin, state["book"], XLSX)

        measure("PUT workbook, one cell changed", args.rounds, changed)
        measure("GET remediation letter (DOCX)", args.rounds,
                lambda: request(base, "GET", f"/api/v1/remediation-plans/{plan}/letter", officer))
        measure("GET results notice (DOCX)", args.rounds,
                lambda: request(base, "GET", f"/api/v1/publications/{pub}/decision", council))
        if args.soffice:
            measure("GET results notice (PDF, LibreOffice)", max(3, args.rounds // 5),
                    lambda: request(base, "GET", f"/api/v1/publications/{pub}/decision?format=pdf", council))
        print(f"\nserver peak RSS: {server.rss_mb():.0f} MiB")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
