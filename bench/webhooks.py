#!/usr/bin/env python3
"""Webhook dispatch latency: events committed at a steady rate (50/s by default) through
`POST /webhooks/{id}/test`, each delivered to a receiver on loopback; latency is from the
event's `timestamp` (set in the committing transaction, so it includes the commit) to its
receipt. A second run adds a subscription whose receiver answers only after 5 s, to show
that a slow receiver slows neither the others nor the API. Standard library only; see
bench/README.md.

Usage: bench/webhooks.py [--rate 50] [--seconds 20] [--database-url URL]
(SQLite in a temporary directory by default).
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from bench import ADMIN_PASSWORD, ROOT, Server, call  # noqa: E402
from verify_webhook import verify  # noqa: E402


class Receiver:
    def __init__(self, delay=0.0):
        self.latencies, self.lock, self.delay, self.samples = [], threading.Lock(), delay, []
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                now = time.time()
                sent = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
                with me.lock:
                    me.latencies.append(now - sent.timestamp())
                    if len(me.samples) < 20:
                        me.samples.append((dict(self.headers), body))
                time.sleep(me.delay)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(server, token, sub_ids, rate, seconds):
    """Commits `rate` events a second to each subscription for `seconds`; the API's
    response times."""
    host, port = server.base.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    api = []
    started = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = started + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        for sub_id in sub_ids:
            t = time.perf_counter()
            conn.request("POST", f"/api/v1/webhooks/{sub_id}/test", body=b"{}",
                         headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 202, r.status
            api.append(time.perf_counter() - t)
    return api, time.perf_counter() - started


def report(label, receiver, expected, api, elapsed):
    deadline = time.time() + 30
    while len(receiver.latencies) < expected and time.time() < deadline:
        time.sleep(0.1)
    lat = [x * 1000 for x in receiver.latencies]
    api_ms = [x * 1000 for x in api]
    print(f"{label}: {len(lat)}/{expected} delivered at {expected / elapsed:.1f} events/s; "
          f"commit→receipt p50 {statistics.median(lat):.1f} ms, p90 {pct(lat, 90):.1f} ms, "
          f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms; "
          f"API POST p50 {statistics.median(api_ms):.1f} ms, p99 {pct(api_ms, 99):.1f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "parindex")
    work = tempfile.mkdtemp(prefix="parindex-webhook-bench-")
    os.environ["PARINDEX_WEBHOOK_ALLOW_PRIVATE"] = "true"
    url = args.database_url or f"sqlite://{work}/bench.db?mode=rwc"
    server = Server(binary, url, work)
    try:
        _, login = call(server.base, "POST", "/api/v1/auth/login",
                        body={"username": "admin", "password": ADMIN_PASSWORD})
        token = login["access_token"]
        fast = Receiver()
        _, sub = call(server.base, "POST", "/api/v1/webhooks", token,
                      {"url": fast.url, "events": ["results.published"], "description": "bench"})
        expected = int(args.rate * args.seconds)
        api, elapsed = run(server, token, [sub["id"]], args.rate, args.seconds)
        report("one fast receiver", fast, expected, api, elapsed)
        for headers, body in fast.samples:
            verify(sub["secret"], headers, body)

        # The same again with a second subscription whose receiver takes 5 s to answer.
        # Each tick commits one event for each: the slow one takes at most its share of
        # the dispatcher's slots.
        slow = Receiver(delay=5.0)
        _, slow_sub = call(server.base, "POST", "/api/v1/webhooks", token,
                           {"url": slow.url, "events": ["results.published"], "description": "slow"})
        fast.latencies.clear()
        api, elapsed = run(server, token, [sub["id"], slow_sub["id"]], args.rate, args.seconds)
        report("fast receiver beside a 5 s one", fast, expected, api, elapsed)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
