"""Fills the workbooks with openpyxl, has the service score them, recalculates them in
LibreOffice and compares every score cell. Called by scripts/check-workbook-formulas.sh."""

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request

import openpyxl

BASE, OUT, WORK = os.environ["BASE"], os.environ["OUT"], os.environ["WORK"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEMO_PASSWORD = os.environ.get("PARINDEX_DEMO_PASSWORD", "demo-password-2023")


def call(path, token=None, method="GET", body=None, raw=None, headers=None):
    req = urllib.request.Request(BASE + path, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if raw is not None:
        data = raw
        req.add_header("Content-Type", XLSX)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, data, timeout=120) as r:
            content = r.read()
            ctype = r.headers.get("Content-Type", "")
            return json.loads(content) if "json" in ctype else content
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()[:2000]}")


def login(username, password):
    return call("/api/v1/auth/login", method="POST",
                body={"username": username, "password": password})["access_token"]


admin = login("admin", os.environ["ADMIN_PASSWORD"])
appraiser = login("vinhlinh.thamdinh", DEMO_PASSWORD)
units = call("/api/v1/units?per_page=100", admin)
units = units["items"] if isinstance(units, dict) else units
district = next(u for u in units if u["name"] == "Huyện Vĩnh Linh")
frameworks = call("/api/v1/frameworks", admin)
frameworks = frameworks["items"] if isinstance(frameworks, dict) else frameworks
framework = next(f for f in frameworks if f["year"] == 2023)
unit = call("/api/v1/units", admin, "POST", {
    "code": "WB-01", "name": "Xã Thử Công Thức", "kind": "commune", "parent_id": district["id"]})
sa = call("/api/v1/self-assessments", admin, "POST",
          {"unit_id": unit["id"], "framework_id": framework["id"]})


def inputs_for(method, max_score, council=False):
    t = method["type"]
    if council:
        return {
            "manual": {"score": round(float(max_score) * 0.61, 2)},
            "ratio": {"numerator": 5, "denominator": 8},
            "target_ratio": {"numerator": 2, "denominator": 11},
            "threshold": {"numerator": 7, "denominator": 10},
            "per_item": {"count": 1},
            "penalty_per_item": {"count": 2},
            "boolean": {"done": "Không"},
            "step_table": {"count": 1},
            "relative_to_best": {"value": 17.25},
        }[t]
    return {
        "manual": {"score": round(float(max_score) * 0.37, 2)},
        "ratio": {"numerator": 7, "denominator": 9},
        "target_ratio": {"numerator": 1, "denominator": 7},
        "threshold": {"numerator": 2, "denominator": 3},
        "per_item": {"count": 3},
        "penalty_per_item": {"count": 1},
        "boolean": {"done": "Có"},
        "step_table": {"count": 2},
        "relative_to_best": {"value": 42.5},
    }[t]


# Unit inputs at E..J (numerator, denominator, count, done, value, score); the council's
# eight columns further right.
COLUMN = {"numerator": 5, "denominator": 6, "count": 7, "done": 8, "value": 9, "score": 10}


def fill(path, sheet_name, offset, pick, out_name):
    book = openpyxl.load_workbook(path)
    ws = book[sheet_name]
    criteria = {c["code"]: c for c in call(f"/api/v1/frameworks/{framework['id']}/criteria",
                                           admin)["criteria"] if c.get("method")}
    typed = 0
    for row in ws.iter_rows(min_row=6):
        code = row[0].value
        c = criteria.get(code)
        if not c or not pick(code):
            continue
        for field, value in inputs_for(c["method"], c["max_score"], offset > 0).items():
            ws.cell(row=row[0].row, column=COLUMN[field] + offset, value=value)
        typed += 1
    filled = os.path.join(OUT, out_name)
    book.save(filled)
    return filled, typed


def recalculated_scores(path, score_col):
    """The score column as LibreOffice computes it, by code (the file holds no cached
    values: openpyxl drops them, so LibreOffice must calculate every formula)."""
    profile = os.path.join(WORK, "lo-profile")
    os.makedirs(os.path.join(profile, "user"), exist_ok=True)
    with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
                '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
                '</oor:items>\n')
    env_arg = f"-env:UserInstallation=file://{profile}"
    stem = os.path.splitext(path)[0]
    for target, written in (("csv:Text - txt - csv (StarCalc):44,34,76,1", stem + ".csv"),
                            ("pdf", stem + ".pdf")):
        if os.path.exists(written):
            os.remove(written)
        run = subprocess.run(["soffice", env_arg, "--headless", "--norestore", "--convert-to",
                              target, "--outdir", OUT, path],
                             check=True, capture_output=True, timeout=180)
        # soffice exits 0 and writes nothing when the component that opens the file is
        # missing: Calc for a workbook (Debian: libreoffice-calc-nogui).
        if not os.path.exists(written):
            sys.exit(f"LibreOffice wrote no {os.path.basename(written)} from {os.path.basename(path)}: "
                     "is LibreOffice Calc installed (Debian package libreoffice-calc-nogui)?\n"
                     + run.stderr.decode(errors="replace") + run.stdout.decode(errors="replace"))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-l", "2", stem + ".pdf", stem], check=True)
    scores = {}
    with open(stem + ".csv", encoding="utf-8") as f:
        for i, row in enumerate(csv.reader(f)):
            if i >= 5 and row and len(row) > score_col:
                scores[row[0]] = row[score_col]
    return scores


def compare(name, lo, api):
    # The check must be able to fail: LibreOffice computed values, some of them fractions.
    values = [v for v in lo.values() if v not in ("", "KPS")]
    fractions = [v for v in values if v.replace(".", "", 1).isdigit() and not v.endswith(".00")]
    assert len(values) >= len(api) // 2 and fractions, f"{name}: LibreOffice computed nothing"
    bad = []
    checked = 0
    for code, expected in api.items():
        got = lo.get(code, "<missing>")
        if expected is None:
            ok = got in ("", "KPS")
        else:
            try:
                ok = abs(float(got) - float(expected)) < 1e-9 and f"{float(got):.2f}" == f"{float(expected):.2f}"
            except ValueError:
                ok = False
        checked += 1
        if not ok:
            bad.append(f"{name} {code}: LibreOffice {got!r}, service {expected!r}")
    print(f"{name}: {checked} score cells recalculated by LibreOffice equal the service's")
    return bad


# 1. The unit's workbook, every self-scored leaf typed in.
empty = call(f"/api/v1/self-assessments/{sa['id']}/workbook", admin)
path = os.path.join(OUT, "tu-danh-gia-trong.xlsx")
with open(path, "wb") as f:
    f.write(empty)
filled, typed = fill(path, "Tự đánh giá", 0, lambda code: True, "tu-danh-gia.xlsx")
with open(filled, "rb") as f:
    stored = call(f"/api/v1/self-assessments/{sa['id']}/entries", admin, "PUT", raw=f.read())
api = {e["criterion_code"]: e["self_score"] for e in stored["entries"]}
methods = {e["method"]["type"] for e in stored["entries"]}
assert len(methods) == 9, methods
failures = compare("self-assessment", recalculated_scores(filled, 13), api)
print(f"  {typed} leaves typed, methods: {', '.join(sorted(methods))}; self total {stored['self_total']}")

# 2. The council's workbook: its own inputs on every other leaf, the unit's elsewhere.
submitted = call(f"/api/v1/self-assessments/{sa['id']}/submit", admin, "POST", {})
appraisal = submitted["appraisal_id"]
empty = call(f"/api/v1/appraisals/{appraisal}/workbook", appraiser)
path = os.path.join(OUT, "tham-dinh-trong.xlsx")
with open(path, "wb") as f:
    f.write(empty)
every_other = {"n": 0}


def alternate(code):
    every_other["n"] += 1
    return every_other["n"] % 2 == 0


filled, typed = fill(path, "Thẩm định", 8, alternate, "tham-dinh.xlsx")
# openpyxl writes the Có of a council yes/no cell as typed; the unit's cells stay as read.
with open(filled, "rb") as f:
    stored = call(f"/api/v1/appraisals/{appraisal}/entries", appraiser, "PUT", raw=f.read())
api = {e["criterion_code"]: e["appraised_score"] for e in stored["entries"]}
failures += compare("appraisal", recalculated_scores(filled, 21), api)
print(f"  {typed} leaves typed by the council; appraised total {stored['appraised_total']}")
assert stored["appraised_total"] != stored["self_total"], "the council's inputs changed nothing"

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"workbooks, PDFs and PNG pages in {OUT}")
