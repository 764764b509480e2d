#!/usr/bin/env python3
"""An independent Standard Webhooks verifier (https://www.standardwebhooks.com/), in the
few lines a receiver needs; the black-box tests check every delivery with it.

Reads {"secret": "whsec_…", "headers": {...}, "body": "..."} as JSON on standard input;
exits 0 when one of the `webhook-signature` signatures is HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}` keyed with the secret's base64-decoded bytes and
the timestamp is within five minutes; prints why and exits 1 otherwise.
"""
import base64
import hashlib
import hmac
import json
import sys
import time


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> None:
    headers = {k.lower(): v for k, v in headers.items()}
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise ValueError(f"timestamp {timestamp} is too far from now")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return
    raise ValueError("no signature matches")


if __name__ == "__main__":
    given = json.load(sys.stdin)
    try:
        verify(given["secret"], given["headers"], given["body"].encode())
    except (KeyError, ValueError) as e:
        print(f"invalid: {e}")
        sys.exit(1)
    print("valid")
