#!/usr/bin/env python3
"""A loopback HTTP proxy for deploy benchmarks: gives every call to an upstream (moto) a fixed
round trip, the one a real AWS call takes, and counts the calls per API action.

Each request is forwarded at once and its answer held until the round trip (--delay-ms) has
passed since the request arrived: what moto spends answering is inside the round trip, as an
AWS service's own time is, instead of added to it. moto answers one call at a time (one Python
process), so calls a client makes at once would otherwise come back one after another, up to
5 ms each, a serialisation AWS does not have (issue 17 measured it; BENCHMARKS.md). A call
that moto takes longer than the round trip to answer still takes moto's time. With --added,
the delay is added before forwarding instead (the model of the first measurements).

The listen backlog is large enough for every connection a deploy opens at once: with Python's
default of 5, connections beyond it waited for a retransmitted SYN, and the SDK put their calls
on the first connection that came free instead.

    scripts/delay_proxy.py --upstream PORT --port PORT [--delay-ms 50] [--counts FILE] [--log FILE]
                           [--added]

With --log, every call appends one line to FILE: the client's connection (its port), the
action and stack, and four times in milliseconds since the proxy started: request read,
upstream call started, upstream answered, answer sent (taken just before sending). It shows
which calls overlap and where one waited (benchmark investigation, issue 17).

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


def stack_of(body):
    for kv in body.decode("utf-8", "replace").split("&"):
        if kv.startswith("StackName="):
            return urllib.parse.unquote(kv[len("StackName="):])
    return "-"


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
    p.add_argument("--log")
    # The model of the first measurements: the delay added before forwarding, so moto's
    # one-at-a-time answers add up on top of it.
    p.add_argument("--added", action="store_true")
    args = p.parse_args()
    delay = args.delay_ms / 1000.0
    started = time.perf_counter()
    log = open(args.log, "a", buffering=1) if args.log else None

    def now_ms():
        return (time.perf_counter() - started) * 1000

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
            received = now_ms()
            action = action_of(self.headers, body)
            with lock:
                counts[action] = counts.get(action, 0) + 1
            if args.added:
                time.sleep(delay)
            upstream_start = now_ms()
            conn = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
            headers["Host"] = f"127.0.0.1:{args.upstream}"
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            upstream_end = now_ms()
            # The answer leaves one round trip after the request came, or when moto answered.
            remaining = delay - (upstream_end - received) / 1000
            if remaining > 0 and not args.added:
                time.sleep(remaining)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # Taken before the answer goes out: a call the client makes on receiving it starts later.
            sent = now_ms()
            self.wfile.write(data)
            conn.close()
            if log:
                stack = stack_of(body)
                with lock:
                    log.write(
                        f"conn {self.client_address[1]} {action} {stack} "
                        f"{received:.1f} {upstream_start:.1f} {upstream_end:.1f} {sent:.1f}\n"
                    )

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 128

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
