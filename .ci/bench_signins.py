#!/usr/bin/env python3
"""Memory under a sign-in flood: 150 concurrent wrong-password sign-ins, each from its own
address (through a trusted proxy) and for its own account, against a release server; prints
the server's peak resident memory before and after and how the sign-ins were answered.
Password checks are capped (4 at once, 64 waiting, the rest refused), so the peak stays near
4 Argon2 buffers (~19 MiB each) above the idle server.

    .ci/bench_signins.py [BINARY]
"""
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/polltelligence"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
workdir = tempfile.mkdtemp()
env = dict(os.environ, DATABASE_URL=f"sqlite://{workdir}/signins.db", LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
           LEPTOS_SITE_ROOT=workdir, POLLTELLIGENCE_DEMO="0", POLLTELLIGENCE_TRUSTED_PROXIES="127.0.0.1",
           POLLTELLIGENCE_SUMMARY_WORKERS="0", RUST_LOG="error")
subprocess.run([binary, "editor", "add", "ed@example.com"], env=env, input=b"a long enough password 1\n",
               check=True, capture_output=True)
server = subprocess.Popen([binary, "serve"], env=env)
for _ in range(100):
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
        break
    except OSError:
        time.sleep(0.1)


def peak_kib():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1])


answers = {}
lock = threading.Lock()


def sign_in(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urllib.parse.urlencode({"email": f"user{i}@example.com", "password": "wrong password", "next": "/editor"})
    conn.request("POST", "/editor/session", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                   "X-Forwarded-For": f"198.51.{i // 200}.{i % 200 + 1}"})
    response = conn.getresponse()
    # A refused sign-in answers with the form again: 401 (wrong) or 429 (throttled).
    answer = {401: "login_failed", 429: "too_many_attempts"}.get(response.status, response.getheader("Location") or str(response.status))
    response.read()
    with lock:
        answers[answer] = answers.get(answer, 0) + 1


before = peak_kib()
started = time.time()
threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(150)]
for t in threads:
    t.start()
for t in threads:
    t.join()
after = peak_kib()
server.terminate()
server.wait()
print(f"sign-in flood: 150 at once answered in {time.time() - started:.1f} s {answers}; "
      f"server peak memory {before / 1024:.0f} MiB idle -> {after / 1024:.0f} MiB (+{(after - before) / 1024:.0f} MiB)")
