#!/usr/bin/env python3
"""Webhooks survive SIGKILL: an event of a committed change is delivered after a restart.

1. The server runs without a dispatcher (PARINDEX_WEBHOOK_DISPATCHER=false): N test events
   are committed, none can be delivered; SIGKILL.
2. The server runs with its dispatcher against a slow receiver: N more events, SIGKILL
   while deliveries are in flight.
3. The server restarts: every one of the 2N events arrives (at least once, each with its
   one webhook-id), and every delivery's signature verifies with the independent verifier
   (scripts/verify_webhook.py).

Usage: webhook_crash_test.py BINARY WORKDIR. The database is DATABASE_URL when set
(PostgreSQL), else a SQLite file in WORKDIR.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from crash_test import ADMIN_PASSWORD, Server, call  # noqa: E402
from verify_webhook import verify  # noqa: E402

N = 20


class Receiver:
    def __init__(self):
        self.received = []
        self.delay = 0.0
        self.arrivals = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                with receiver.lock:
                    receiver.arrivals += 1
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body, arrived, time.time()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self):
        with self.lock:
            return [h.get("webhook-id") for h, _, _, _ in self.received]

    def answered(self, killed_at, restarted_at):
        """The events whose delivery the server saw answered: answered before the kill, or
        arrived after the restart (an answer to a killed server is no delivery)."""
        with self.lock:
            return {h.get("webhook-id") for h, _, arrived, done in self.received
                    if done < killed_at or arrived >= restarted_at}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("workdir")
    args = p.parse_args()
    receiver = Receiver()
    env = {
        "PARINDEX_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PARINDEX_JWT_SECRET": "crash-test-secret-0123456789abcdef0123456789",
        "PARINDEX_WEBHOOK_ALLOW_PRIVATE": "true",
        "PARINDEX_WEBHOOK_POLL_MS": "100",
        "PARINDEX_WEBHOOK_TIMEOUT_MS": "2000",
        "PARINDEX_WEBHOOK_RETRY_BASE_MS": "200",
    }
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite://{os.path.join(args.workdir, 'hooks.db')}?mode=rwc"

    # 1. Committed, never sent: no dispatcher in this process.
    server = Server(args.binary, args.workdir, dict(env, PARINDEX_WEBHOOK_DISPATCHER="false"))
    server.start()
    status, login = call(server.base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, login
    token = login["access_token"]
    status, sub = call(server.base, "POST", "/api/v1/webhooks", token,
                       {"url": receiver.url, "events": ["results.published"], "description": "crash test"})
    assert status == 201, sub
    secret = sub["secret"]
    expected = []
    for _ in range(N):
        status, queued = call(server.base, "POST", f"/api/v1/webhooks/{sub['id']}/test", token, {})
        assert status == 202, queued
        expected.append(queued["webhook_id"])
    time.sleep(0.5)
    server.kill()
    assert not receiver.ids(), "nothing can be delivered without a dispatcher"
    print(f"phase 1: {N} events committed, none delivered; SIGKILL")

    # 2. SIGKILL with deliveries in flight to a slow receiver (it answers after 1.5 s).
    receiver.delay = 1.5
    server = Server(args.binary, args.workdir, env)
    server.start()
    for _ in range(N):
        status, queued = call(server.base, "POST", f"/api/v1/webhooks/{sub['id']}/test", token, {})
        assert status == 202, queued
        expected.append(queued["webhook_id"])
    time.sleep(0.5)
    server.kill()
    killed_at = time.time()
    in_flight = receiver.arrivals
    print(f"phase 2: {N} more events; SIGKILL with {in_flight} deliveries in flight, none answered")

    # 3. Restart: everything arrives, signed.
    time.sleep(1.5)
    receiver.delay = 0.0
    server = Server(args.binary, args.workdir, env)
    started = time.time()
    server.start()
    while not set(expected) <= receiver.answered(killed_at, started):
        if time.time() - started > 60:
            missing = set(expected) - receiver.answered(killed_at, started)
            server.stop()
            sys.exit(f"FAIL: {len(missing)} events never arrived after the restart")
        time.sleep(0.1)
    took = time.time() - started
    server.stop()
    with receiver.lock:
        for headers, body, _, _ in receiver.received:
            verify(secret, headers, body)
    ids = receiver.ids()
    duplicates = len(ids) - len(set(ids))
    print(f"phase 3: all {2 * N} events arrived {took:.1f} s after the restart; "
          f"{len(ids)} requests ({duplicates} repeated, at least once), every signature valid")


if __name__ == "__main__":
    main()
