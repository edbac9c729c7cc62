#!/usr/bin/env python3
"""A loopback HTTP proxy for deploy benchmarks: forwards every request to an upstream (moto)
after a fixed delay, the round trip a real AWS call takes, and counts the calls per API
action.

    scripts/delay_proxy.py --upstream PORT --port PORT [--delay-ms 50] [--counts FILE]

The counts (one `action count` line each, then `total N`) are written to FILE whenever the
proxy gets SIGTERM or SIGINT, and on `GET /__counts` (which also resets them). Benchmarks only:
the tests use their own proxy (tests/support).
"""

import argparse
import http.client
import http.server
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

counts = {}
lock = threading.Lock()


def action_of(headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    for kv in body.decode("utf-8", "replace").split("&"):
        if kv.startswith("Action="):
            return urllib.parse.unquote(kv[len("Action="):])
    return "?"


def report():
    with lock:
        lines = [f"{k} {v}" for k, v in sorted(counts.items())]
        lines.append(f"total {sum(counts.values())}")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay-ms", type=int, default=50)
    p.add_argument("--counts")
    args = p.parse_args()
    delay = args.delay_ms / 1000.0

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/__counts":
                text = report().encode()
                with lock:
                    counts.clear()
                self.send_response(200)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                return
            self.forward(b"")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.forward(self.rfile.read(n))

        def forward(self, body):
            action = action_of(self.headers, body)
            with lock:
                counts[action] = counts.get(action, 0) + 1
            time.sleep(delay)
            conn = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
            headers["Host"] = f"127.0.0.1:{args.upstream}"
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", args.port), Handler)

    def stop(*_):
        if args.counts:
            with open(args.counts, "w") as f:
                f.write(report())
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
