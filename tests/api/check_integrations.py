#!/usr/bin/env python3
"""Runs the receivers that docs/integrations.md shows, exactly as written there.

Usage: check_integrations.py docs/integrations.md

The Python blocks of section 7 (tether_receiver.py and the GLPI, Zammad, Jira Service
Management and ServiceNow receivers) are written to a temporary directory and each receiver is
started against a fake of its target system (a local HTTP server that records requests). Then
deliveries signed the way the relay signs them (relay/src/webhooks/webhook_payload.hpp) are
posted to it, and the test checks what reached the target: method, path, authentication and
JSON body per system; internal notes stay internal; another system's tickets, duplicates
(same X-Tether-Delivery), bad or stale signatures and uninteresting events are not forwarded;
a failing target makes the receiver answer 5xx so that the relay retries. The shell signature
check of section 5 is run with bash and openssl on a genuine and on a forged signature.

Exits 1 with the list of problems.
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SECRET = "integration-doc-secret-0123456789"
WAIT = 20  # seconds for a process line or a request to arrive

problems = []


def problem(text):
    problems.append(text)
    print("PROBLEM: " + text, flush=True)


def python_blocks(markdown):
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def block_defining(blocks, needle):
    found = [b for b in blocks if needle in b]
    if len(found) != 1:
        raise SystemExit("docs: expected one python block containing %r, found %d"
                         % (needle, len(found)))
    return found[0]


class FakeTarget:
    """Records every request; answers like the real system would (status, JSON)."""

    def __init__(self, answer):
        self.requests = queue.Queue()
        self.fail_next = False
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = {"method": self.command, "path": self.path,
                          "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": json.loads(body) if body else None}
                if target.fail_next:
                    target.fail_next = False
                    status, payload = 500, {"error": "down for maintenance"}
                else:
                    status, payload = answer(record)
                target.requests.put(record)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, count):
        out = []
        for _ in range(count):
            try:
                out.append(self.requests.get(timeout=WAIT))
            except queue.Empty:
                break
        return out

    def idle(self):
        """Nothing else arrived (the receiver answers only after calling the target, so a
        request it made is always recorded before its answer reached us)."""
        return self.requests.empty()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def payload(event, ticket_external, detail, number, summary="something happened"):
    body = {
        "id": "evt-%d" % number, "event": event, "at": "2026-11-30T06:14:14Z",
        "actor": "alice", "summary": summary,
        "ticket": {"id": "T-12", "title": "Printer offline", "status": "open",
                   "priority": "P2", "level": "L1", "assignee": "alice",
                   "requester": "Ann Example", "external": ticket_external},
        "session": "S-3" if event.startswith("session") else None,
        "detail": detail, "relay": "tether.example.com"}
    return json.dumps(body, separators=(",", ":")).encode()


def signature(body, t=None, secret=SECRET):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def post(port, body, delivery, event, sig=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/tether", body=body, headers={
            "Content-Type": "application/json", "X-Tether-Event": event,
            "X-Tether-Delivery": delivery, "X-Tether-Signature": sig or signature(body)})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# What each system must receive for a public note on its ticket; `check` returns problems.
def glpi_expect(requests, public, text):
    out = []
    methods = [(r["method"], r["path"]) for r in requests]
    want = [("GET", "/apirest.php/initSession"), ("POST", "/apirest.php/ITILFollowup"),
            ("GET", "/apirest.php/killSession")]
    if methods != want:
        return ["requests %s, expected %s" % (methods, want)]
    init, followup, kill = requests
    if init["headers"].get("authorization") != "user_token USERTOKEN":
        out.append("initSession Authorization %r" % init["headers"].get("authorization"))
    for r in requests:
        if r["headers"].get("app-token") != "APPTOKEN":
            out.append("%s without App-Token" % r["path"])
    for r in (followup, kill):
        if r["headers"].get("session-token") != "SESSION-1":
            out.append("%s without the Session-Token" % r["path"])
    item = (followup["body"] or {}).get("input", {})
    if item.get("itemtype") != "Ticket" or item.get("items_id") != 1234:
        out.append("followup for %r %r, expected Ticket 1234" % (item.get("itemtype"),
                                                                  item.get("items_id")))
    if item.get("is_private") != (0 if public else 1):
        out.append("is_private %r for a %s note" % (item.get("is_private"),
                                                   "public" if public else "internal"))
    if text not in item.get("content", ""):
        out.append("content %r lacks %r" % (item.get("content"), text))
    return out


def glpi_answer(record):
    if record["path"].endswith("/initSession"):
        return 200, {"session_token": "SESSION-1"}
    if record["path"].endswith("/ITILFollowup"):
        return 201, {"id": 77, "message": ""}
    return 200, True


def zammad_expect(requests, public, text):
    if [(r["method"], r["path"]) for r in requests] != [("POST", "/api/v1/ticket_articles")]:
        return ["requests %s" % [(r["method"], r["path"]) for r in requests]]
    r = requests[0]
    out = []
    if r["headers"].get("authorization") != "Token token=ZTOKEN":
        out.append("Authorization %r" % r["headers"].get("authorization"))
    b = r["body"] or {}
    if b.get("ticket_id") != 5678 or b.get("type") != "note" or \
            b.get("content_type") != "text/plain":
        out.append("article %r" % b)
    if b.get("internal") is not (not public):
        out.append("internal %r for a %s note" % (b.get("internal"),
                                                  "public" if public else "internal"))
    if text not in b.get("body", ""):
        out.append("body lacks %r" % text)
    return out


def basic(user, password):
    import base64
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def jira_expect(requests, public, text):
    want = [("POST", "/rest/servicedeskapi/request/HELP-42/comment")]
    if [(r["method"], r["path"]) for r in requests] != want:
        return ["requests %s" % [(r["method"], r["path"]) for r in requests]]
    r = requests[0]
    out = []
    if r["headers"].get("authorization") != basic("agent@example.com", "JTOKEN"):
        out.append("Authorization %r" % r["headers"].get("authorization"))
    b = r["body"] or {}
    if b.get("public") is not public or text not in b.get("body", ""):
        out.append("comment %r" % b)
    return out


SYS_ID = "9d385017c611228701d22104cc95c371"


def servicenow_expect(requests, public, text):
    want = [("PATCH", "/api/now/table/incident/%s?sysparm_fields=sys_id" % SYS_ID)]
    if [(r["method"], r["path"]) for r in requests] != want:
        return ["requests %s" % [(r["method"], r["path"]) for r in requests]]
    r = requests[0]
    out = []
    if r["headers"].get("authorization") != basic("tether.integration", "SNPASS"):
        out.append("Authorization %r" % r["headers"].get("authorization"))
    b = r["body"] or {}
    field = "comments" if public else "work_notes"
    if list(b) != [field] or text not in b[field]:
        out.append("update %r, expected only %s" % (b, field))
    return out


SYSTEMS = [
    # name, script marker, external key, env, answer, expectation
    ("glpi", "tr.serve(\"glpi\"", "1234",
     lambda url: {"GLPI_URL": url, "GLPI_APP_TOKEN": "APPTOKEN", "GLPI_USER_TOKEN": "USERTOKEN"},
     glpi_answer, glpi_expect, 3),
    ("zammad", "tr.serve(\"zammad\"", "5678",
     lambda url: {"ZAMMAD_URL": url, "ZAMMAD_TOKEN": "ZTOKEN"},
     lambda r: (201, {"id": 1}), zammad_expect, 1),
    ("jira", "tr.serve(\"jira\"", "HELP-42",
     lambda url: {"JIRA_URL": url, "JIRA_USER": "agent@example.com", "JIRA_API_TOKEN": "JTOKEN"},
     lambda r: (201, {"id": "1"}), jira_expect, 1),
    ("servicenow", "tr.serve(\"servicenow\"", SYS_ID,
     lambda url: {"SN_URL": url, "SN_USER": "tether.integration", "SN_PASSWORD": "SNPASS"},
     lambda r: (200, {"result": {"sys_id": SYS_ID}}), servicenow_expect, 1),
]


def check_system(work, blocks, system):
    name, marker, key, env_of, answer, expect, calls = system
    script = os.path.join(work, name + "_receiver.py")
    with open(script, "w") as f:
        f.write(block_defining(blocks, marker))
    target = FakeTarget(answer)
    env = dict(os.environ, TETHER_WEBHOOK_SECRET=SECRET, TETHER_LISTEN="127.0.0.1:0",
               TETHER_SEEN_DB=os.path.join(work, name + "-seen.sqlite3"),
               PYTHONPATH=work, **env_of(target.url))
    env.pop("TETHER_WEBHOOK_SECRET_FILE", None)
    proc = subprocess.Popen([sys.executable, script], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=open(os.path.join(work, name + ".err"),
                                                                "wb"))
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l.decode()) for l in proc.stdout] and None,
                     daemon=True).start()
    try:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            line = ""
        found = re.search(r" on [0-9.]+:([0-9]+)", line)
        if not found:
            with open(os.path.join(work, name + ".err")) as f:
                problem("%s: the receiver did not start: %r %s" % (name, line, f.read()[-800:]))
            return
        port = int(found.group(1))
        mine = {"system": name, "key": key}

        def note(number, internal, text):
            return payload("ticket.note", mine, {"text": text, "internal": internal}, number,
                           summary=("Internal note" if internal else "Note") + " by alice: "
                           + text)

        # A public note, then an internal one: one call each, visible or not.
        for number, internal in ((1, False), (2, True)):
            text = "printer-fixed-%d" % number
            status = post(port, note(number, internal, text), "D-%d" % number, "ticket.note")
            if status // 100 != 2:
                problem("%s: a valid delivery answered %d" % (name, status))
            got = target.take(calls)
            for p in expect(got, not internal, text):
                problem("%s (%s note): %s" % (name, "internal" if internal else "public", p))

        # The same delivery again: acknowledged, not forwarded twice.
        status = post(port, note(1, False, "printer-fixed-1"), "D-1", "ticket.note")
        if status // 100 != 2:
            problem("%s: a repeated delivery answered %d" % (name, status))
        # Not forwarded: another system's ticket, a ticket without reference, a listing.
        other = {"system": "elsewhere", "key": "1"}
        for number, body, event in (
                (3, payload("ticket.note", other, {"text": "x", "internal": False}, 3),
                 "ticket.note"),
                (4, payload("ticket.note", None, {"text": "x", "internal": False}, 4),
                 "ticket.note"),
                (5, payload("processes.listed", mine, {}, 5), "processes.listed")):
            status = post(port, body, "D-%d" % number, event)
            if status // 100 != 2:
                problem("%s: an ignored event (%s) answered %d, the relay would retry it"
                        % (name, event, status))
        # Refused: a forged signature, a stale one.
        body = note(6, False, "forged")
        if post(port, body, "D-6", "ticket.note", sig=signature(body, secret="wrong" * 4)) != 401:
            problem("%s: a forged signature was not answered 401" % name)
        if post(port, body, "D-6", "ticket.note", sig=signature(body, t=int(time.time()) - 3600)) \
                != 401:
            problem("%s: an hour-old signature was not answered 401" % name)
        if not target.idle():
            problem("%s: forwarded something it should not have: %s"
                    % (name, target.take(target.requests.qsize())))
        # The target fails: 5xx, so that the relay retries; the retry then goes through.
        target.fail_next = True
        body = payload("session.ended", mine, {"note": "fuser replaced", "by": "alice",
                                               "from": "technician"}, 7,
                       summary="Session S-3 ended by alice: fuser replaced")
        status = post(port, body, "D-7", "session.ended")
        if status // 100 != 5:
            problem("%s: a failing target gave %d, expected 5xx" % (name, status))
        target.take(1)
        target.take(target.requests.qsize())  # GLPI: the killSession after the failure
        status = post(port, body, "D-7", "session.ended")
        got = target.take(calls)
        if status // 100 != 2 or len(got) != calls:
            problem("%s: the retry after a failure answered %d with %d target calls"
                    % (name, status, len(got)))
        else:
            for p in expect(got, False, "fuser replaced"):
                problem("%s (retried session.ended): %s" % (name, p))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        target.stop()


def check_shell_snippet(work, markdown):
    blocks = re.findall(r"```sh\n(.*?)```", markdown, re.S)
    found = [b for b in blocks if "t=${SIG#t=}" in b]
    if len(found) != 1:
        problem("docs: expected one sh block with the openssl check, found %d" % len(found))
        return
    with open(os.path.join(work, "glpi-webhook.secret"), "w") as f:
        f.write(SECRET + "\n")
    body = payload("ticket.note", {"system": "glpi", "key": "1"}, {"text": "é ü", "internal": True},
                   9)
    with open(os.path.join(work, "body.json"), "wb") as f:
        f.write(body)
    for sig, want in ((signature(body), "valid"),
                      (signature(body, secret="another secret 123"), "INVALID"),
                      (signature(body, t=int(time.time()) - 3600), "INVALID")):
        result = subprocess.run(["bash", "-c", found[0]], cwd=work, capture_output=True,
                                text=True, env=dict(os.environ, SIG=sig), timeout=30)
        if result.stdout.strip() != want:
            problem("the shell signature check printed %r (%s), expected %s"
                    % (result.stdout.strip(), result.stderr.strip()[:200], want))


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        markdown = f.read()
    blocks = python_blocks(markdown)
    work = tempfile.mkdtemp(prefix="tether-integrations-")
    try:
        with open(os.path.join(work, "tether_receiver.py"), "w") as f:
            f.write(block_defining(blocks, "def serve(system, forward)"))
        for system in SYSTEMS:
            check_system(work, blocks, system)
        check_shell_snippet(work, markdown)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("\n%d problem(s) with the receivers of docs/integrations.md:" % len(problems))
        for p in problems:
            print("  - " + p)
        return 1
    print("the receivers of docs/integrations.md work as documented (GLPI, Zammad, Jira "
          "Service Management, ServiceNow; shell signature check)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
