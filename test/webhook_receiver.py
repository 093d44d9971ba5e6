#!/usr/bin/env python3
"""A merchant's webhook endpoint for paycore's tests (python3 stdlib only).

    webhook_receiver.py --log FILE [--port N] [--port-file FILE]

Listens on 127.0.0.1:N (N = 0, the default, picks a free port; the port is
printed on stdout and, with --port-file, written to that file once the socket
listens).  Every request to a non-control path is appended to FILE as one JSON
line, written and flushed *before* the response is sent, so a test that sees
a notification marked delivered will also find it in the log:

    {"received_at": <time.time()>, "method", "path", "headers": {...},
     "body": <raw body text>, "response_status": <status sent>,
     "signature_valid": true|false|null, "v1_count": <n>, "t": <t or null>,
     "v1_matches": [<index into the registered secrets, or null>, ...]}

It exits by itself when the process that started it goes away.

The receiver checks Paycore-Signature itself, as a merchant would:
"t=<t>,v1=<hex>[,v1=<hex>...]" is valid when some v1 equals the lowercase hex
HMAC-SHA256 of "<t>.<raw body>" under some registered secret.
signature_valid is null while no secret is registered.  v1_matches says, for
each v1 value in the order sent, which registered secret (by registration
order) produced it.

Behaviour by path (a trailing "/anything" is allowed after each, so tests can
give every merchant a path of its own):
    /ok               200
    /status/<code>    that status
    /sleep/<seconds>  sleeps, then 200 (the log line is written on arrival)
    /redirect         302, Location: /ok
    /flaky/<n>        500 for the first n requests on that exact path, then 200
    anything else     404
Control paths, not logged:
    GET  /_health     200 "ok" (for start-up polling)
    POST /_secrets    {"secrets": ["whsec_...", ...]} adds secrets; 200
    GET  /_secrets    the registered secrets
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


class State:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.log = open(log_path, "a", encoding="utf-8")
        self.secrets = []
        self.flaky = {}

    def add_secrets(self, secrets):
        with self.lock:
            for s in secrets:
                if s not in self.secrets:
                    self.secrets.append(s)

    def flaky_hit(self, path):
        with self.lock:
            n = self.flaky.get(path, 0) + 1
            self.flaky[path] = n
            return n

    def write(self, record):
        line = json.dumps(record, ensure_ascii=False, sort_keys=True)
        with self.lock:
            self.log.write(line + "\n")
            self.log.flush()

    def verify(self, header, body):
        """-> (valid or None, v1_count, t, v1_matches)"""
        t = None
        v1s = []
        if header is not None:
            for part in header.split(","):
                key, sep, value = part.strip().partition("=")
                if not sep:
                    continue
                if key == "t" and t is None:
                    t = value
                elif key == "v1":
                    v1s.append(value)
        with self.lock:
            secrets = list(self.secrets)
        matches = []
        for v in v1s:
            found = None
            if t is not None:
                for i, s in enumerate(secrets):
                    mac = hmac.new(s.encode(), t.encode() + b"." + body,
                                   hashlib.sha256).hexdigest()
                    if hmac.compare_digest(mac, v):
                        found = i
                        break
            matches.append(found)
        if not secrets:
            valid = None
        else:
            valid = any(m is not None for m in matches)
        return valid, len(v1s), t, matches


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: every answer has a Content-Length
    server_version = "paycore-test-receiver/1"

    def log_message(self, fmt, *args):   # quiet: the JSON log is the record
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def answer(self, status, body=b"", extra=None):
        try:
            headers = {"Content-Type": "text/plain"}
            headers.update(extra or {})
            headers["Content-Length"] = str(len(body))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timed-out delivery): nothing to answer.
            self.close_connection = True

    def route(self, path):
        """-> (status, extra headers) for a webhook path; counts flaky hits."""
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        head = parts[0] if parts else ""
        try:
            if head == "ok":
                return 200, None
            if head == "status" and len(parts) >= 2:
                return int(parts[1]), None
            if head == "sleep" and len(parts) >= 2:
                return ("sleep", float(parts[1])), None
            if head == "redirect":
                return 302, {"Location": "/ok"}
            if head == "flaky" and len(parts) >= 2:
                n = int(parts[1])
                hit = self.server.state.flaky_hit(path)
                return (500 if hit <= n else 200), None
        except ValueError:
            return 400, None
        return 404, None

    def handle_any(self):
        received_at = time.time()
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.answer(400, b"bad request\n")
            return
        state = self.server.state
        path = self.path

        if path.startswith("/_"):
            self.control(path, body)
            return

        status, extra = self.route(path)
        sleep_for = None
        if isinstance(status, tuple):
            sleep_for = status[1]
            status = 200
        valid, v1_count, t, matches = state.verify(
            self.headers.get("Paycore-Signature"), body)
        headers = {}
        for k, v in self.headers.items():
            # Repeated headers are joined, as HTTP allows.
            headers[k] = headers[k] + ", " + v if k in headers else v
        state.write({
            "received_at": received_at,
            "method": self.command,
            "path": path,
            "headers": headers,
            "body": body.decode("utf-8", errors="replace"),
            "response_status": status,
            "signature_valid": valid,
            "v1_count": v1_count,
            "t": t,
            "v1_matches": matches,
        })
        if sleep_for:
            time.sleep(sleep_for)
        self.answer(status, b"ok\n" if 200 <= status < 300 else b"", extra)

    def control(self, path, body):
        state = self.server.state
        if path == "/_health":
            self.answer(200, b"ok\n")
        elif path == "/_secrets" and self.command == "POST":
            try:
                secrets = json.loads(body.decode("utf-8"))["secrets"]
                if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                self.answer(400, b"want {\"secrets\": [\"...\"]}\n")
                return
            state.add_secrets(secrets)
            self.answer(200, b"ok\n")
        elif path == "/_secrets":
            with state.lock:
                out = json.dumps({"secrets": state.secrets}).encode()
            self.answer(200, out, {"Content-Type": "application/json"})
        else:
            self.answer(404)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def watch_parent():
    """Exit when the process that started us is gone (a test that died or
    bailed out), so that no receiver outlives its test."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args.log)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)   # readers never see a half-written file
    print(port, flush=True)
    watch_parent()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
