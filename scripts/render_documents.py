"""Fetches the demo district's papers as DOCX and PDF, renders each PDF to PNG, and checks
the printed text against the API's own figures. Called by scripts/render-documents.sh."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import io

BASE = os.environ["BASE"]
OUT = os.environ["OUT"]
PASSWORD = os.environ.get("PARINDEX_DEMO_PASSWORD", "demo-password-2023")


def call(path, token=None, method="GET", body=None, raw=False):
    req = urllib.request.Request(BASE + path, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, data, timeout=120) as r:
        content = r.read()
        return (content, r.headers) if raw else json.loads(content)


def login(username):
    return call("/api/v1/auth/login", method="POST",
                body={"username": username, "password": PASSWORD})["access_token"]


def vi(d):
    """A decimal string as the papers print it: "88.25" -> "88,25"."""
    return d.replace(".", ",")


failures = []


def check(name, text, expected):
    for e in expected:
        if e not in text:
            failures.append(f"{name}: {e!r} is not in the printed PDF")


def render(name, path, token, expected):
    sep = "&" if "?" in path else "?"
    docx, headers = call(path + sep + "format=docx", token, raw=True)
    assert docx[:2] == b"PK", f"{name}: not a DOCX"
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        z.testzip()
        assert "word/document.xml" in z.namelist()
    with open(os.path.join(OUT, name + ".docx"), "wb") as f:
        f.write(docx)
    try:
        pdf, headers = call(path + sep + "format=pdf", token, raw=True)
    except urllib.error.HTTPError as e:
        # The server's log names the cause (e.g. LibreOffice Writer missing): show it.
        log = os.path.join(os.environ.get("WORK", ""), "server.log")
        tail = open(log, encoding="utf-8", errors="replace").read()[-2000:] if os.path.exists(log) else ""
        sys.exit(f"{name}: the PDF was refused ({e.code}): {e.read().decode(errors='replace')}\n{tail}")
    assert headers["Content-Type"] == "application/pdf", headers["Content-Type"]
    assert pdf.startswith(b"%PDF-"), f"{name}: not a PDF"
    pdf_path = os.path.join(OUT, name + ".pdf")
    with open(pdf_path, "wb") as f:
        f.write(pdf)
    text = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], check=True,
                          capture_output=True, text=True).stdout
    # Justified lines come out of pdftotext with spaces inside words, and table cells wrap:
    # compare without any whitespace.
    bare = "".join(text.split())
    check(name, bare, ["".join(e.split()) for e in expected])
    subprocess.run(["pdftoppm", "-png", "-r", "60", pdf_path, os.path.join(OUT, name)],
                   check=True)
    pages = sorted(p for p in os.listdir(OUT) if p.startswith(name + "-") and p.endswith(".png"))
    print(f"{name}: {len(docx):,} B DOCX, {len(pdf):,} B PDF, {len(pages)} page(s)")
    return pages


appraiser = login("vinhlinh.thamdinh")
officer = login("vinhlong.vanphong")
me = call("/api/v1/auth/me", officer)
unit_id = me["unit"]["id"] if isinstance(me.get("unit"), dict) else me["unit_id"]
index = call(f"/api/v1/units/{unit_id}/index?year=2023", appraiser)
motto = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Nơi nhận:"]

# 1. The appendix, attached to the seed's letter (its number left blank, as in the seed).
render("1-phu-luc", f"/api/v1/units/{unit_id}/appendix?year=2023&letter_number=/UBND-CCHC",
       appraiser,
       ["PHỤ LỤC", "KẾT QUẢ ĐÁNH GIÁ CCHC XÃ VĨNH LONG NĂM 2023", "Tổng cộng",
        "-" + vi(index["deduction_total"]), "Kèm theo Công văn số /UBND-CCHC"])

# 2. The remediation letter (the seed).
plans = call(f"/api/v1/remediation-plans?unit_id={unit_id}", officer)
plan = (plans["items"] if isinstance(plans, dict) else plans)[0]
render("2-cong-van-khac-phuc", f"/api/v1/remediation-plans/{plan['id']}/letter", officer,
       motto + ["ỦY BAN NHÂN DÂN", "XÃ VĨNH LONG", "Số: /UBND-CCHC", "Kính gửi:",
                "Vĩnh Long, ngày tháng năm 2024",
                f"xếp thứ {index['rank']}/{index['ranked_units']}",
                f"tổng điểm đạt được: {vi(index['index'])}",
                "tụt 3 bậc", "4006/TB-HĐTĐ", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                "Trần Quốc Lương", "Kèm theo Công văn số /UBND-CCHC"])

# 3. The district's results notice with its ranking annex.
pubs = call("/api/v1/publications?year=2023", appraiser)
pub = (pubs["items"] if isinstance(pubs, dict) else pubs)[0]
detail = call(f"/api/v1/publications/{pub['id']}", appraiser)
first = detail["items"][0]
render("3-thong-bao-ket-qua", f"/api/v1/publications/{pub['id']}/decision", appraiser,
       motto + ["THÔNG BÁO", "Số: 4006/TB-HĐTĐ", "Vĩnh Linh, ngày 29 tháng 12 năm 2023",
                "KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2023", first["unit_name"],
                vi(first["index"]), "Bình quân"])

# 4. The self-assessment report, signed off by the chairman in the demo.
files = call(f"/api/v1/self-assessments?unit_id={unit_id}&year=2023", officer)
file = (files["items"] if isinstance(files, dict) else files)[0]
render("4-bao-cao-tu-danh-gia", f"/api/v1/self-assessments/{file['id']}/report", officer,
       motto + ["BÁO CÁO", "Số: /BC-UBND", "Kính gửi:", "huyện Vĩnh Linh",
                f"Tổng điểm tự đánh giá: {vi(index['self_total'])}/100",
                "Trần Quốc Lương", "Đã phê duyệt trên hệ thống", "TÀI LIỆU KIỂM CHỨNG"])

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print("every paper printed with its Vietnamese text and the API's figures")
