#!/usr/bin/env python3
"""A cheap OTLP/HTTP sink for bench/e2e/run.sh's "-otlp" variants: what a collector or the Aspire dashboard would
receive, accepted and thrown away, so that the apps pay the whole cost of exporting (recording, batching, protobuf,
the HTTP POSTs) and the sink as little as it can. It answers every POST (/v1/traces, /v1/metrics, /v1/logs) with an
empty protobuf response (a valid Export*ServiceResponse), over HTTP/1.1 keep-alive, and counts requests and bytes per
path. On SIGTERM, or after --max-seconds, it writes the counts to --stats as "path<TAB>requests<TAB>bytes" and stops.
Binds 127.0.0.1 only.
Usage: otlp-sink.py --port PORT --stats FILE [--max-seconds 3600]"""
import argparse, collections, http.server, signal, sys, threading

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--stats", required=True)
parser.add_argument("--max-seconds", type=float, default=3600)
args = parser.parse_args()
counts = collections.defaultdict(lambda: [0, 0])
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
        with lock:
            entry = counts[self.path]
            entry[0] += 1
            entry[1] += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # a readiness probe for the script
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
server.daemon_threads = True


def stop(*_):
    threading.Thread(target=server.shutdown, daemon=True).start()


signal.signal(signal.SIGTERM, stop)
timer = threading.Timer(args.max_seconds, stop)
timer.daemon = True  # a SIGTERM ends the process without waiting for it
timer.start()
server.serve_forever()
with open(args.stats, "w") as out, lock:
    for path, (requests, size) in sorted(counts.items()):
        out.write(f"{path}\t{requests}\t{size}\n")
sys.exit(0)
