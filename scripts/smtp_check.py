#!/usr/bin/env python3
"""Notifications by e-mail against a real SMTP server written by others (aiosmtpd), with the
real binary on the demo district (SQLite):

1. the officer of Vĩnh Long gives its address (its own preferences); the council releases
   the district's preliminary 2024 results: the officer's e-mail arrives, and parsed back
   (Python's `email`) it has the Vietnamese subject, plain text and HTML, and the one-click
   unsubscribe headers;
2. the SMTP server goes down; the 2025 release is made (answered 201 at once); the server
   comes back on its port: the e-mail arrives;
3. the service restarts on the same database: nothing is sent twice;
4. the unsubscribe link, posted as a mail program does, turns the officer's e-mail off;
5. the metrics listener's exposition parses with prometheus_client's parser and counts
   that request under its route template, with an empty e-mail outbox.

Usage: smtp_check.py BINARY WORKDIR
"""

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families

ADMIN_PASSWORD = "smtp-check-admin-password"
OFFICER = ("vinhlong.vanphong", "demo-password-2023")
ADDRESS = "lien.nt@vinhlong.gov.vn"
PUBLIC = "https://cchc.vinhlinh.gov.vn"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """Keeps every message aiosmtpd accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def wait_for(what, check, seconds=30):
    for _ in range(seconds * 10):
        if check():
            return
        time.sleep(0.1)
    raise SystemExit(f"FAIL: {what}")


def call(base, method, path, token=None, body=None, raw=None):
    data = json.dumps(body).encode() if body is not None else raw
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if raw is not None:
        req.add_header("content-type", "application/x-www-form-urlencoded")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            ctype = r.headers.get("content-type", "")
            return r.status, json.loads(text) if "json" in ctype else text.decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir, self.env = binary, workdir, env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        env = dict(os.environ, **self.env, PARINDEX_ADDR=f"127.0.0.1:{self.port}")
        env.pop("DATABASE_URL", None)
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary], cwd=self.workdir, env=env, stdout=log, stderr=log)
        wait_for("the server to become ready", self.ready)

    def ready(self):
        try:
            with urllib.request.urlopen(self.base + "/health/ready", timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def login(base, username, password):
    status, body = call(base, "POST", "/api/v1/auth/login", body={"username": username, "password": password})
    assert status == 200, (status, body)
    return body["access_token"]


def parsed(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


RELEASE_SUBJECT = "Đã thông báo kết quả thẩm định sơ bộ chỉ số CCHC năm "


def releases(sink):
    """The officer's e-mails of the preliminary releases. Others may come too, depending on
    the hour the check runs: the demo's overdue remediation milestones are noticed by the
    daily reminders (from PARINDEX_DIGEST_HOUR, Vietnam time) and e-mailed as well."""
    return [raw for to, raw in sink.messages
            if ADDRESS in to and str(parsed(raw)["subject"]).startswith(RELEASE_SUBJECT)]


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    smtp_port = free_port()
    metrics_port = free_port()
    env = {
        "PARINDEX_METRICS_ADDR": f"127.0.0.1:{metrics_port}",
        "PARINDEX_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PARINDEX_JWT_SECRET": "smtp-check-secret-0123456789abcdef0123456789",
        "PARINDEX_ARGON2_MEMORY_KIB": "1024",
        "PARINDEX_ARGON2_ITERATIONS": "1",
        "PARINDEX_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "PARINDEX_SMTP_FROM": "Hội đồng thẩm định CCHC huyện Vĩnh Linh <cchc@vinhlinh.gov.vn>",
        "PARINDEX_PUBLIC_URL": PUBLIC,
        "PARINDEX_SMTP_POLL_MS": "100",
        "PARINDEX_SMTP_RETRY_BASE_MS": "200",
        "RUST_LOG": "warn",
    }
    subprocess.run([binary, "demo-data"], cwd=workdir, env=dict(os.environ, **env), check=True,
                   stdout=subprocess.DEVNULL)
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    server = Server(binary, workdir, env)
    server.start()
    try:
        base = server.base
        admin = login(base, "admin", ADMIN_PASSWORD)
        officer = login(base, *OFFICER)
        status, prefs = call(base, "PUT", "/api/v1/notifications/preferences", officer,
                             {"email": ADDRESS, "items": []})
        assert status == 200 and prefs["email"] == ADDRESS, (status, prefs)
        status, units = call(base, "GET", "/api/v1/units?per_page=200", admin)
        district = next(u["id"] for u in units["items"] if u["name"] == "Huyện Vĩnh Linh")

        # 1. A release reaches the officer's mailbox.
        status, body = call(base, "POST", "/api/v1/preliminary-results", admin,
                            {"parent_unit_id": district, "year": 2024})
        assert status == 201, (status, body)
        wait_for("the release's e-mail", lambda: len(releases(sink)) == 1)
        mine = releases(sink)
        assert len(mine) == 1, len(mine)
        m = parsed(mine[0])
        subject = str(m["subject"])
        assert subject == "Đã thông báo kết quả thẩm định sơ bộ chỉ số CCHC năm 2024", subject
        assert "cchc@vinhlinh.gov.vn" in str(m["from"]) and ADDRESS in str(m["to"])
        text = m.get_body(("plain",)).get_content()
        html = m.get_body(("html",)).get_content()
        assert "Kính gửi Nguyễn Thị Liên," in text, text
        assert f"{PUBLIC}/api/v1/preliminary-results?year=2024" in text, text
        assert "<html lang=\"vi\">" in html and "Ngừng nhận thư thông báo" in html
        unsubscribe = str(m["list-unsubscribe"]).strip("<>")
        assert unsubscribe.startswith(f"{PUBLIC}/api/v1/unsubscribe/"), unsubscribe
        assert str(m["list-unsubscribe-post"]) == "List-Unsubscribe=One-Click"
        print(f"1. received: {subject!r}, text/plain and text/html, List-Unsubscribe")

        # 2. The SMTP server is down while the next release is made; it comes back.
        smtp.stop()
        status, body = call(base, "POST", "/api/v1/preliminary-results", admin,
                            {"parent_unit_id": district, "year": 2025})
        assert status == 201, (status, body)
        time.sleep(1.5)
        before = len(releases(sink))
        assert before == 1, before
        smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        wait_for("the e-mail held while the SMTP server was down",
                 lambda: len(releases(sink)) == 2)
        print("2. held while the SMTP server was down, delivered once it was back")

        # 3. A restart sends nothing again.
        server.stop()
        server.start()
        time.sleep(3)
        total = len(releases(sink))
        assert total == 2, f"{total} release e-mails after the restart"
        ids = {parsed(raw)["message-id"] for to, raw in sink.messages if ADDRESS in to}
        assert len(ids) == len([1 for to, _ in sink.messages if ADDRESS in to]), ids
        print("3. after a restart: still 2 e-mails, 2 Message-IDs")

        # 4. One-click unsubscribe, as a mail program posts it.
        path = unsubscribe[len(PUBLIC):]
        status, _ = call(server.base, "POST", path, raw=b"List-Unsubscribe=One-Click")
        assert status == 200, status
        officer = login(server.base, *OFFICER)
        status, prefs = call(server.base, "GET", "/api/v1/notifications/preferences", officer)
        assert all(p["email"] == "off" for p in prefs["items"]), prefs
        print("4. unsubscribed in one click: every kind's e-mail is off")

        # 5. The metrics, read by Prometheus' own Python parser.
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
            families = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
        durations = families["http_server_request_duration_seconds"]
        posted = [s for s in durations.samples if s.name.endswith("_count")
                  and s.labels.get("http_route") == "/api/v1/unsubscribe/{token}"
                  and s.labels.get("http_request_method") == "POST"
                  and s.labels.get("http_response_status_code") == "200"]
        assert posted and posted[0].value >= 1, posted
        pending = {s.labels["channel"]: s.value for s in families["parindex_outbox_pending"].samples}
        assert pending["email"] == 0, pending
        assert "parindex_build_info" in families and "parindex_db_pool_connections" in families
        print(f"5. /metrics: {len(families)} families parsed by prometheus_client, the unsubscribe counted by route")
    finally:
        server.stop()
        smtp.stop()


if __name__ == "__main__":
    main()
