#!/usr/bin/env python3
"""A local webhook receiver for bench/webhook_burst.sh: checks each delivery's signature,
keeps the check-in ids it was sent (and how many came twice), and writes its counts to
STATE every half second. Usage: webhook_receiver.py PORT SECRET_FILE STATE"""
import hashlib, hmac, http.server, json, sys, threading, time

port, secret_file, state = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
seen, deliveries, repeats, bad_sig, first, last = set(), set(), 0, 0, None, None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global repeats, bad_sig, first, last
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            secret = open(secret_file).read().strip().encode()
        except OSError:
            secret = b""
        sig = self.headers.get("X-Jiaxiao-Signature", "")
        t = sig.split(",")[0].removeprefix("t=")
        want = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = sig.endswith("v1=" + want)
        d = json.loads(body)
        with lock:
            now = time.time()
            first = first or now
            if not ok:
                bad_sig += 1
            if d["delivery_id"] in deliveries:
                repeats += 1
            deliveries.add(d["delivery_id"])
            if d["event"] == "checkin.recorded":
                if first is None or len(seen) == 0:
                    first = now
                seen.add(d["data"]["checkin_id"])
                last = now
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def dump():
    while True:
        with lock:
            s = {"checkins": len(seen), "deliveries": len(deliveries), "repeats": repeats,
                 "bad_signatures": bad_sig, "first": first, "last": last}
        with open(state + ".tmp", "w") as f:
            json.dump(s, f)
        import os
        os.replace(state + ".tmp", state)
        time.sleep(0.5)


threading.Thread(target=dump, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
