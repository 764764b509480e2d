#!/usr/bin/env python3
"""Evidence file benchmark: streams a 20 MiB file up and down through the release server
(file store, SQLite) and compares it with `cp` of the same file on the same disk in the
same run; reads the server's RSS growth; then 32 concurrent clients upload 1 MiB files.
Standard library plus curl; see bench/README.md.

Each upload carries different bytes: the store is content-addressed, and the same bytes
twice would only touch the stored blob, not write it.
"""

import argparse
import hashlib
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ADMIN_PASSWORD, ROOT, Server, call  # noqa: E402

MIB = 1024 * 1024


def pdf_like(size, seed):
    """`size` bytes that the service takes for a PDF, different for every seed."""
    head = b"%PDF-1.7\n%" + seed.to_bytes(8, "big")
    body = hashlib.sha256(head).digest() * (size // 32 + 1)
    # Cheap but not constant: every MiB differs, so nothing upstream can shortcut it.
    chunks = [head]
    for i in range(0, size, MIB):
        chunks.append(hashlib.sha256(head + i.to_bytes(8, "big")).digest() + body[: MIB - 32])
    return b"".join(chunks)[: size - 7] + b"\n%%EOF\n"


def reset_peak(pid):
    """Resets VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def curl(args):
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"] + args,
                         capture_output=True, text=True, check=True)
    code, seconds = out.stdout.split()
    return int(code), float(seconds)


def timed(cmd):
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def multipart(unit_id, name, content):
    boundary = "parindex-bench-" + hashlib.sha256(content[:64]).hexdigest()[:16]
    head = (f'--{boundary}\r\ncontent-disposition: form-data; name="unit_id"\r\n\r\n{unit_id}\r\n'
            f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="{name}"\r\n'
            f"content-type: application/pdf\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def concurrent_uploads(server, token, unit_id, clients, per_client, size):
    """`clients` threads, each uploading `per_client` distinct files over one keep-alive
    connection; returns (requests/s, p50 ms, p99 ms, failures)."""
    bodies = [[multipart(unit_id, f"tệp {c}-{i}.pdf", pdf_like(size, 1000 + c * per_client + i))
               for i in range(per_client)] for c in range(clients)]
    latencies, failures = [], []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(mine):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        start.wait()
        for body, ctype in mine:
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/evidence-files", body=body,
                         headers={"authorization": "Bearer " + token, "content-type": ctype})
            resp = conn.getresponse()
            resp.read()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if resp.status != 201:
                    failures.append(resp.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return len(latencies) / wall, p(0.5), p(0.99), failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--per-client", type=int, default=10)
    args = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "parindex")
    work = tempfile.mkdtemp(prefix="parindex-evidence-bench-", dir=os.environ.get("BENCH_DIR"))
    try:
        os.environ["PARINDEX_EVIDENCE_DIR"] = os.path.join(work, "evidence")
        os.environ["PARINDEX_EVIDENCE_MAX_BYTES"] = str((args.size_mib + 1) * MIB)
        server = Server(binary, f"sqlite://{work}/bench.db?mode=rwc", work)
        try:
            _, login = call(server.base, "POST", "/api/v1/auth/login",
                            body={"username": "admin", "password": ADMIN_PASSWORD})
            token = login["access_token"]
            _, unit = call(server.base, "POST", "/api/v1/units", token,
                           {"code": "BENCH", "name": "Xã Thử", "kind": "commune"})
            size = args.size_mib * MIB
            files = []
            for r in range(args.rounds):
                path = os.path.join(work, f"source-{r}.pdf")
                with open(path, "wb") as f:
                    f.write(pdf_like(size, r))
                files.append(path)
            # Warm up: one small upload and download, then measure growth from here.
            curl(["-H", f"authorization: Bearer {token}", "-F", f"unit_id={unit['id']}",
                  "-F", f"file=@{files[0]};filename=warm.pdf", server.base + "/api/v1/evidence-files"])
            rss_before = server.rss_mb("VmRSS")
            reset_peak(server.proc.pid)
            up, down, cp, cp_sync = [], [], [], []
            for r, path in enumerate(files[1:] + files[:1]):
                code, seconds = curl(["-H", f"authorization: Bearer {token}", "-F", f"unit_id={unit['id']}",
                                      "-F", f"file=@{path};filename=Minh chứng {r}.pdf",
                                      server.base + "/api/v1/evidence-files"])
                assert code == 201, code
                up.append(seconds)
            _, listed = call(server.base, "GET", f"/api/v1/evidence-files?unit_id={unit['id']}&per_page=100", token)
            for f in listed["items"]:
                code, seconds = curl(["-H", f"authorization: Bearer {token}",
                                      f"{server.base}/api/v1/evidence-files/{f['id']}/content"])
                assert code == 200, code
                down.append(seconds)
            rss_peak = server.rss_mb("VmHWM")
            for r, path in enumerate(files):
                target = os.path.join(work, f"copy-{r}.pdf")
                cp.append(timed(["cp", path, target]))
                os.remove(target)
                # The store fsyncs what it commits; `cp` alone does not.
                cp_sync.append(timed(["sh", "-c", f'cp "{path}" "{target}" && sync "{target}"']))
                os.remove(target)
            mb = size / 1e6
            med = statistics.median
            print(f"20 MiB evidence file, median of {args.rounds} ({mb:.1f} MB each), file store on the same disk as cp:")
            print(f"  upload   {mb / med(up):7.1f} MB/s  ({med(up) * 1000:.0f} ms)")
            print(f"  download {mb / med(down):7.1f} MB/s  ({med(down) * 1000:.0f} ms)")
            print(f"  cp       {mb / med(cp):7.1f} MB/s  ({med(cp) * 1000:.0f} ms); cp + sync {mb / med(cp_sync):7.1f} MB/s")
            print(f"  ratio upload/cp {med(cp) / med(up):.2f}, upload/(cp+sync) {med(cp_sync) / med(up):.2f}, "
                  f"download/cp {med(cp) / med(down):.2f}")
            print(f"  server RSS {rss_before:.1f} MiB before, peak {rss_peak:.1f} MiB during: growth {rss_peak - rss_before:.1f} MiB")
            rss_before = server.rss_mb("VmRSS")
            reset_peak(server.proc.pid)
            rps, p50, p99, failures = concurrent_uploads(server, token, unit["id"], args.clients, args.per_client, MIB)
            print(f"{args.clients} concurrent clients × {args.per_client} uploads of 1 MiB: {rps:.1f} requests/s, "
                  f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, {len(failures)} failures; "
                  f"RSS growth {server.rss_mb('VmHWM') - rss_before:.1f} MiB")
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
