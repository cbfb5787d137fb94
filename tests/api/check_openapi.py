#!/usr/bin/env python3
"""Checks docs/openapi.yaml against the relay that implements it.

Usage: check_openapi.py SPEC RELAY_BIN AGENT_BIN CONSOLE_BIN [--routes-only]

1. The spec itself: OpenAPI 3.1.0, every schema valid JSON Schema 2020-12, every $ref resolves.
2. Routes both ways: `tether-relay routes --json` lists every implemented route; each must be
   a path + method of the spec, and each spec operation must be implemented.
3. A real relay (init + serve on 127.0.0.1:0), a real agent (`support --consent auto`) joined
   to a ticket, and every operation called with valid requests and with invalid ones (missing
   field, bad JSON, unknown id, wrong status transition, stale version, another technician).
   Each answer's status must be one the operation declares and its JSON body must validate
   against the declared schema; where the test knows the right answer it checks that too.
   Every operation of the spec must have been exercised.

Exits 1 with a list of mismatches, 0 when there are none. Needs python3-yaml and
python3-jsonschema (Debian packages).
"""

import base64
import copy
import hashlib
import hmac
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema
import yaml

ADMIN_PASSWORD = "correct horse battery staple"
WEBHOOK_SECRET = "conformance-secret-0123456789"
TECH_PASSWORD = "tina's long password 123"
PROCESS_WAIT = 30  # seconds to wait for a line a started process must print
REQUEST_TIMEOUT = 180  # a join waits for consent, diagnostics for the agent's collectors

mismatches = []
per_operation = {}


def mismatch(text, operation=None):
    mismatches.append(text)
    if operation:
        per_operation[operation] = per_operation.get(operation, 0) + 1
    print("MISMATCH: " + text, flush=True)


# ------------------------------------------------------------------------------ the spec


def resolve_pointer(spec, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local $refs are used: " + ref)
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def deref(spec, node):
    """A Reference Object (responses, parameters) → the object it names."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = resolve_pointer(spec, node["$ref"])
        seen += 1
    return node


def check_spec(spec):
    if spec.get("openapi") != "3.1.0":
        mismatch("spec: openapi is %r, expected 3.1.0" % spec.get("openapi"))
    validator = jsonschema.Draft202012Validator
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        try:
            validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            mismatch("spec: components.schemas.%s is not valid JSON Schema 2020-12: %s"
                     % (name, e.message))

    def walk(node, where):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    resolve_pointer(spec, ref)
                except (KeyError, TypeError, ValueError):
                    mismatch("spec: %s: $ref %s does not resolve" % (where, ref))
            for key, value in node.items():
                walk(value, where + "/" + str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, "%s/%d" % (where, i))

    walk(spec, "#")
    for path, item in spec.get("paths", {}).items():
        for method, op in operations_of(item):
            if not op.get("responses"):
                mismatch("spec: %s %s declares no responses" % (method, path))
            for status, response in op.get("responses", {}).items():
                response = deref(spec, response)
                if status != "101" and not status.startswith("2") and \
                        "application/json" not in response.get("content", {}):
                    mismatch("spec: %s %s %s has no JSON error body" % (method, path, status))


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations_of(path_item):
    for method in HTTP_METHODS:
        if method in path_item:
            yield method.upper(), path_item[method]


def normalize(path):
    return re.sub(r"\{[^}/]+\}", "{}", path.rstrip("/") or "/")


# ------------------------------------------------------------------------------ routes


def check_routes(spec, relay_bin):
    try:
        result = subprocess.run([relay_bin, "routes", "--json"], capture_output=True, text=True,
                                timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        mismatch("routes: could not run `tether-relay routes --json`: %s" % e)
        return
    if result.returncode != 0:
        mismatch("routes: `tether-relay routes --json` exited %d: %s"
                 % (result.returncode, (result.stderr or result.stdout).strip()[:500]))
        return
    try:
        routes = json.loads(result.stdout)
        implemented = {}
        for r in routes:
            implemented[(r["method"].upper(), normalize(r["path"]))] = r["path"]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        mismatch("routes: `tether-relay routes --json` did not print [{method, path}]: %s: %s"
                 % (e, result.stdout[:300]))
        return
    documented = {}
    for path, item in spec["paths"].items():
        for method, _ in operations_of(item):
            documented[(method, normalize(path))] = path
    for key in sorted(implemented.keys() - documented.keys()):
        mismatch("routes: %s %s is implemented but not in docs/openapi.yaml"
                 % (key[0], implemented[key]))
    for key in sorted(documented.keys() - implemented.keys()):
        mismatch("routes: %s %s is in docs/openapi.yaml but not implemented"
                 % (key[0], documented[key]))
    for key in sorted(documented.keys() & implemented.keys()):
        if documented[key] != implemented[key]:
            mismatch("routes: parameter names differ: relay %s %s, spec %s"
                     % (key[0], implemented[key], documented[key]))
    print("routes: %d implemented, %d documented" % (len(implemented), len(documented)),
          flush=True)


# ------------------------------------------------------------------------------ processes


class Process:
    """A child process whose stdout lines are read by a thread (so it never blocks on a full
    pipe) and can be waited for; stderr goes to a file."""

    def __init__(self, argv, log_path, stdin=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=stdin or subprocess.DEVNULL)
        self.lines = queue.Queue()
        self.out = []
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.out.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, needle, timeout=PROCESS_WAIT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if needle in line:
                return line

    def stderr_tail(self):
        self.log.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


# ------------------------------------------------------------------------------ webhooks


class WebhookReceiver:
    """A local receiver for the relay's webhook: records every request, answers 204."""

    def __init__(self):
        received = self.received = queue.Queue()
        self.all = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self.send_response(204)
                self.end_headers()
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for_first(self, timeout=PROCESS_WAIT):
        if self.all:
            return True
        try:
            self.all.append(self.received.get(timeout=timeout))
            return True
        except queue.Empty:
            return False

    def drain(self):
        while True:
            try:
                self.all.append(self.received.get_nowait())
            except queue.Empty:
                return self.all

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def verify_signature(secret, header, body, now=None, tolerance=300):
    """The check docs/integrations.md tells receivers to make. Returns None or why not."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        t = int(fields["t"])
        given = fields["v1"]
    except (ValueError, KeyError):
        return "malformed X-Tether-Signature %r" % header
    expected = hmac.new(secret.encode(), str(t).encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return "signature does not verify"
    if abs((now or time.time()) - t) > tolerance:
        return "t=%d is %d s from now" % (t, (now or time.time()) - t)
    return None


def check_webhook_requests(spec, checker, receiver):
    requests = receiver.drain()
    if not requests:
        mismatch("webhooks: the receiver got no delivery", "webhook ticketEvent")
        return
    operation = spec.get("webhooks", {}).get("ticketEvent", {}).get("post")
    if not operation:
        mismatch("spec: webhooks.ticketEvent.post is missing")
        return
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validator = checker.validator_for(schema)
    header_params = [deref(spec, p) for p in operation.get("parameters", [])]
    seen = set()
    for headers, body in requests:
        problems = []
        why = verify_signature(WEBHOOK_SECRET, headers.get("x-tether-signature", ""), body)
        if why:
            problems.append(why)
        for param in header_params:
            value = headers.get(param["name"].lower())
            if value is None:
                problems.append("no %s header" % param["name"])
                continue
            for e in checker.validator_for(param["schema"]).iter_errors(value):
                problems.append("%s: %s" % (param["name"], e.message))
        if headers.get("content-type", "").split(";")[0] != "application/json":
            problems.append("Content-Type %r" % headers.get("content-type"))
        try:
            event = json.loads(body)
        except ValueError:
            problems.append("the body is not JSON")
            event = None
        if event is not None:
            problems += schema_problems(validator, event)
            if isinstance(event, dict) and event.get("event") != headers.get("x-tether-event"):
                problems.append("X-Tether-Event %r but event %r"
                                % (headers.get("x-tether-event"), event.get("event")))
        kind = headers.get("x-tether-event", "?")
        for problem in problems:
            if (kind, problem) not in seen:
                seen.add((kind, problem))
                mismatch("webhooks: %s delivery %s: %s"
                         % (kind, headers.get("x-tether-delivery"), problem),
                         "webhook ticketEvent")
    print("webhooks: %d deliveries received and checked" % len(requests), flush=True)


# ------------------------------------------------------------------------------ the client


def store_inventory(database, device_id):
    """One inventory report for `device_id` as the relay stores it (its SQLite tables, written
    while it runs, as a second relay sharing the database would): sections without the live
    figures, the live overlay and findings, and two history lines."""
    now = int(time.time() * 1000)
    db = sqlite3.connect(database, timeout=30)
    try:
        with db:
            sections = {
                "system": {"hostname": "<b>conformance-pc</b>",
                           "os": {"id": "debian", "version_id": "12"}},
                "storage": {"filesystems": [{"mount_point": "/", "read_only": False}]},
            }
            for name, content in sections.items():
                db.execute("INSERT INTO inventory_sections (device_id, name, hash, content, "
                           "updated_at) VALUES (?, ?, ?, ?, ?)",
                           (device_id, name, "sha256:" + "0" * 64, json.dumps(content), now))
            live = {"overlay": {"storage": {"filesystems": [{"used_pct": 96}]}},
                    "findings": [{"id": "disk.space", "severity": "critical"}]}
            db.execute("INSERT INTO inventories (device_id, live, collected_at, reported_at, "
                       "reports, deltas_since_full) VALUES (?, ?, ?, ?, 1, 0)",
                       (device_id, json.dumps(live), now, now))
            for kind, summary in (("inventory.first", "First inventory"),
                                  ("software.installed", "Installed <i>zoom</i> 5.16")):
                db.execute("INSERT INTO inventory_history (device_id, at, section, kind, "
                           "summary, detail) VALUES (?, ?, ?, ?, ?, '{}')",
                           (device_id, now, kind.split(".")[0], kind, summary))
    finally:
        db.close()



class Checker:
    def __init__(self, spec, address, ca_file):
        self.spec = spec
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.tls = ssl.create_default_context(cafile=ca_file)
        self.exercised = set()
        self.calls = 0
        # One validator per schema node; $refs resolve against the spec's components because
        # the schema is validated inside a root that carries them.
        self.validators = {}

    def operation(self, method, template):
        item = self.spec["paths"].get(template)
        if item is None or method.lower() not in item:
            raise AssertionError("test bug: %s %s is not an operation of the spec"
                                 % (method, template))
        return item[method.lower()]

    def validator_for(self, schema):
        key = id(schema)
        if key not in self.validators:
            root = copy.deepcopy(schema)
            root["components"] = self.spec["components"]
            root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            # The schema is kept with its validator so that its id() is never reused.
            self.validators[key] = (schema, jsonschema.Draft202012Validator(root))
        return self.validators[key][1]

    def call(self, method, template, params=None, body=None, raw=None, token=None,
             expect=None, query="", headers=None, note=""):
        """One request. `template` is the spec path, `params` fill it; `body` is sent as JSON,
        `raw` as bytes. `expect`: a status or set of statuses the test knows to be right.
        Returns (status, parsed JSON or None, response headers, raw body)."""
        params = params or {}
        op = self.operation(method, template)
        self.exercised.add((method, template))
        self.calls += 1
        path = template
        for name, value in params.items():
            path = path.replace("{%s}" % name, value)
        target = path + (("?" + query) if query else "")
        label = "%s %s%s" % (method, target, (" (" + note + ")") if note else "")
        operation = "%s %s" % (method, template)

        def mismatch(text):
            globals()["mismatch"](text, operation)

        send_headers = {"Host": "%s:%d" % (self.host, self.port)}
        if token:
            send_headers["Authorization"] = "Bearer " + token
        payload = None
        if raw is not None:
            payload = raw
        elif body is not None:
            payload = json.dumps(body).encode()
            send_headers["Content-Type"] = "application/json"
        if headers:
            send_headers.update(headers)
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls,
                                           timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, target, body=payload, headers=send_headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
            got_headers = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as e:
            mismatch("%s: request failed: %s" % (label, e))
            return None, None, {}, b""
        finally:
            conn.close()

        declared = op.get("responses", {})
        if isinstance(expect, int):
            expect = {expect}
        if expect is not None and status not in expect:
            mismatch("%s: answered %d, expected %s; body: %s"
                     % (label, status, "/".join(str(s) for s in sorted(expect)),
                        data[:300].decode("utf-8", "replace")))
        if str(status) not in declared:
            mismatch("%s: answered %d, which the spec does not declare (declared: %s); body: %s"
                     % (label, status, ", ".join(sorted(declared)),
                        data[:300].decode("utf-8", "replace")))
            return status, self._json(data), got_headers, data
        response_spec = deref(self.spec, declared[str(status)])
        for name, header in response_spec.get("headers", {}).items():
            header = deref(self.spec, header)
            value = got_headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    mismatch("%s: %d lacks the declared header %s" % (label, status, name))
                continue
            errors = list(self.validator_for(header.get("schema", {})).iter_errors(value))
            if errors:
                mismatch("%s: header %s: %r: %s" % (label, name, value, errors[0].message))
        content = response_spec.get("content", {})
        if not content:
            return status, None, got_headers, data
        content_type = got_headers.get("content-type", "").split(";")[0].strip()
        if content_type not in content:
            mismatch("%s: %d has Content-Type %r, the spec declares %s"
                     % (label, status, content_type, ", ".join(content)))
            return status, None, got_headers, data
        schema = content[content_type].get("schema")
        if content_type != "application/json":
            return status, None, got_headers, data
        parsed = self._json(data)
        if parsed is None and data.strip() != b"null":
            mismatch("%s: %d body is not JSON: %r" % (label, status, data[:200]))
            return status, None, got_headers, data
        if schema is not None:
            problems = schema_problems(self.validator_for(schema), parsed)
            if problems:
                mismatch("%s: %d body does not match the spec: %s"
                         % (label, status, "; ".join(problems)))
        return status, parsed, got_headers, data

    def unrouted(self, method, target, token, expect, code):
        """A request that is no operation of the spec: the documented error with the Error
        body (and, for 405, the Allow header HTTP requires)."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls,
                                           timeout=REQUEST_TIMEOUT)
        headers = {"Authorization": "Bearer " + token} if token else {}
        label = "%s %s (no such operation)" % (method, target)
        try:
            conn.request(method, target, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            mismatch("%s: request failed: %s" % (label, e), "unrouted")
            return
        finally:
            conn.close()
        body = self._json(data)
        error_schema = {"$ref": "#/components/schemas/Error"}
        problems = schema_problems(self.validator_for(error_schema), body)
        got_code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        if response.status != expect or got_code != code:
            problems.insert(0, "answered %d %s, expected %d %s"
                            % (response.status, got_code, expect, code))
        if expect == 405 and not response.getheader("Allow"):
            problems.append("405 without an Allow header (RFC 9110 15.5.6)")
        for problem in problems:
            mismatch("%s: %s" % (label, problem), "unrouted")

    @staticmethod
    def _json(data):
        try:
            return json.loads(data)
        except ValueError:
            return None

    def websocket(self, template, params, token, expect, note=""):
        """A WebSocket upgrade on the channel route: 101 with a correct Sec-WebSocket-Accept,
        or a declared refusal."""
        key = base64.b64encode(os.urandom(16)).decode()
        status, _, headers, _ = self.call(
            "GET", template, params, token=token, expect=expect, note=note,
            headers={"Connection": "Upgrade", "Upgrade": "websocket",
                     "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key})
        if status == 101:
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            if headers.get("sec-websocket-accept") != accept:
                mismatch("GET channel: 101 with Sec-WebSocket-Accept %r, expected %r"
                         % (headers.get("sec-websocket-accept"), accept))
        return status


def schema_problems(validator, instance, limit=8):
    """Validation errors as short distinct sentences: array indices become *, missing
    required properties of one place are listed together."""
    missing = {}
    others = []
    for e in validator.iter_errors(instance):
        where = "/".join("*" if isinstance(p, int) else str(p) for p in e.absolute_path)
        where = where or "(root)"
        if e.validator == "required":
            name = e.message.split("'")[1] if e.message.count("'") >= 2 else e.message
            missing.setdefault(where, [])
            if name not in missing[where]:
                missing[where].append(name)
            continue
        text = "at %s: %s" % (where, shorten(e.message, 200))
        if text not in others:
            others.append(text)
    out = ["at %s: missing %s" % (where, ", ".join(names)) for where, names in missing.items()]
    out += others
    if len(out) > limit:
        out = out[:limit] + ["%d more" % (len(out) - limit)]
    return out


DAMM = ((0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
        (4, 2, 0, 6, 8, 7, 1, 3, 5, 9), (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
        (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
        (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
        (9, 4, 3, 8, 6, 1, 7, 2, 0, 5), (2, 5, 8, 1, 4, 3, 6, 7, 9, 0))


def well_formed_code(digits8):
    """A support code with a correct Damm check digit that no agent holds."""
    interim = 0
    for ch in digits8:
        interim = DAMM[interim][int(ch)]
    return digits8 + str(interim)


def shorten(text, limit=300):
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------ the scenario


def run_scenario(c, ctx):
    """Every operation with valid and invalid requests. `ctx` holds the processes' needs."""
    T = "/api/v1/tickets/{ticket}"
    S = "/api/v1/sessions/{session}"
    F = "/api/v1/faq/{faq}"

    # --- health, login, me
    c.call("GET", "/api/v1/health", expect=200)
    c.call("GET", "/api/v1/health", raw=b"{not json", expect=400, note="bad JSON body")
    c.call("POST", "/api/v1/login", body={"user": "admin"}, expect=400, note="no password")
    c.call("POST", "/api/v1/login", raw=b"{\"user\":", expect=400, note="bad JSON")
    c.call("POST", "/api/v1/login", raw=b"[1,2]", expect=400, note="not an object")
    c.call("POST", "/api/v1/login", body={"user": "admin", "password": 42}, expect=400,
           note="password not a string")
    c.call("POST", "/api/v1/login", body={"user": "x" * 300, "password": "p"}, expect=413,
           note="user over 256 bytes")
    c.call("POST", "/api/v1/login", body={"user": "admin", "password": "wrong"}, expect=401,
           note="wrong password")
    _, login, _, _ = c.call("POST", "/api/v1/login",
                            body={"user": "admin", "password": ADMIN_PASSWORD}, expect=200)
    if not login or "token" not in login:
        raise RuntimeError("cannot log in as admin; nothing else can be checked")
    admin = login["token"]
    _, login, _, _ = c.call("POST", "/api/v1/login",
                            body={"user": "tina", "password": TECH_PASSWORD}, expect=200,
                            note="an L1 technician")
    tina = (login or {}).get("token", "")
    # --- enrollment of a managed device: the token is the credential
    E = "/api/v1/enroll"
    identity = {"hostname": "conformance-pc", "os": "Debian GNU/Linux 12",
                "machine_id": "0123456789abcdef0123456789abcdef", "smbios_uuid": "",
                "serials": ["SN-0001"], "macs": ["00:11:22:33:44:55"]}
    good = {"token": ctx["enroll_token"], "csr": ctx["csr"], "identity": identity}
    c.call("POST", E, body=dict(good, token="tt_not-a-token"), expect=401, note="unknown token")
    c.call("POST", E, body=dict(good, csr="not a CSR"), expect=400, note="not a CSR")
    c.call("POST", E, body={"token": ctx["enroll_token"], "identity": identity}, expect=400,
           note="no csr")
    c.call("POST", E, body=dict(good, csr="x" * 20000), expect=413, note="csr too large")
    c.call("POST", E, body=dict(good, identity=dict(identity, macs=["m"] * 65)), expect=400,
           note="too many MACs")
    _, enrolled, _, _ = c.call("POST", E, body=good, expect=201)
    if enrolled and not str(enrolled.get("certificate", "")).startswith("-----BEGIN CERTIFICATE"):
        mismatch("POST %s: the certificate is not PEM" % E, "POST " + E)
    c.call("POST", E, body=good, expect=401, note="token already used")
    # --- managed devices: list, show, revoke (admins only)
    DV = "/api/v1/devices"
    _, devices, _, _ = c.call("GET", DV, token=admin, expect=200)
    if devices is not None and [d.get("id") for d in devices.get("devices", [])] != ["D-1"]:
        mismatch("GET %s: expected the enrolled D-1: %r" % (DV, devices), "GET " + DV)
    c.call("GET", DV, token=admin, query="online=0&group=default&search=conformance",
           expect=200)
    c.call("GET", DV, token=admin, query="online=maybe", expect=400, note="bad online")
    c.call("GET", DV, token=admin, query="colour=red", expect=400, note="unknown parameter")
    c.call("GET", DV, expect=401, note="no token")
    DD = DV + "/{device}"
    c.call("GET", DD, {"device": "D-1"}, token=tina, expect=200)
    c.call("GET", DD, {"device": "D-99"}, token=admin, expect=404, note="unknown device")
    # --- the fleet inventory: D-1 has reported nothing yet, then one report is stored as the
    # relay stores an agent's (its SQLite tables), with markup in a value.
    DI = DD + "/inventory"
    _, none_yet, _, _ = c.call("GET", DI, {"device": "D-1"}, token=admin, expect=404,
                               note="no inventory yet")
    if none_yet and none_yet["error"]["message"] != "D-1 has not reported an inventory yet":
        mismatch("GET %s: %r" % (DI, none_yet), "GET " + DI)
    c.call("GET", DI, {"device": "D-99"}, token=admin, expect=404, note="unknown device")
    store_inventory(ctx["database"], 1)
    _, inventory, _, _ = c.call("GET", DI, {"device": "D-1"}, token=tina, expect=200)
    if inventory is not None:
        composed = inventory.get("inventory", {})
        if composed.get("storage", {}).get("filesystems", [{}])[0].get("used_pct") != 96 or \
                composed.get("system", {}).get("hostname") != "<b>conformance-pc</b>":
            mismatch("GET %s: the live overlay is not merged: %r" % (DI, inventory), "GET " + DI)
    DH = DD + "/history"
    _, history, _, _ = c.call("GET", DH, {"device": "D-1"}, token=admin, expect=200)
    if history is not None and [h.get("kind") for h in history.get("changes", [])] != \
            ["software.installed", "inventory.first"]:
        mismatch("GET %s: not newest first: %r" % (DH, history), "GET " + DH)
    c.call("GET", DH, {"device": "D-1"}, token=admin, query="limit=1&before=2", expect=200)
    for bad in ("limit=0", "limit=1001", "before=x", "since=1"):
        c.call("GET", DH, {"device": "D-1"}, token=admin, query=bad, expect=400, note=bad)
    c.call("GET", DH, {"device": "D-99"}, token=admin, expect=404, note="unknown device")
    c.call("GET", DH, {"device": "D-1"}, expect=401, note="no token")
    IQ = "/api/v1/inventory"
    _, found, _, _ = c.call("GET", IQ, token=admin, expect=200,
                            query="q=storage.free_pct%3C10%20and%20hostname~conformance")
    if found is not None and [d.get("id") for d in found.get("devices", [])] != ["D-1"]:
        mismatch("GET %s: expected D-1: %r" % (IQ, found), "GET " + IQ)
    c.call("GET", IQ, token=admin, query="q=hardware.vendor%3Ddell", expect=200, note="no match")
    _, refused, _, _ = c.call("GET", IQ, token=admin, query="q=sofware.name%3Dx", expect=400,
                              note="unknown field")
    if refused is not None and refused["error"].get("column") != 1:
        mismatch("GET %s: no column in %r" % (IQ, refused), "GET " + IQ)
    c.call("GET", IQ, token=admin, expect=400, note="no q")
    c.call("GET", IQ, token=admin, query="q=" + "a" * 4097, expect=400, note="q too long")
    c.call("GET", IQ, query="q=online%3Dtrue", expect=401, note="no token")
    IE = IQ + "/export"
    _, _, headers, csv = c.call("GET", IE, token=admin, expect=200)
    if not csv.startswith(b"id,hostname,") or b"\r\nD-1,conformance-pc," not in csv or \
            not headers.get("content-type", "").startswith("text/csv"):
        mismatch("GET %s: not the CSV export: %r %r" % (IE, headers, csv[:200]), "GET " + IE)
    c.call("GET", IE, token=admin, query="format=json&q=group%3Ddefault", expect=200)
    _, glpi, _, _ = c.call("GET", IE, token=admin, query="format=glpi", expect=200)
    if glpi is not None and [d.get("deviceid") for d in glpi] != ["conformance-pc-D-1"]:
        mismatch("GET %s: GLPI deviceids %r" % (IE, [d.get("deviceid") for d in glpi]),
                 "GET " + IE)
    c.call("GET", IE, token=admin, query="format=xml", expect=400, note="unknown format")
    c.call("GET", IE, token=admin, query="format=csv&q=cpu.cores~4", expect=400,
           note="bad filter")
    c.call("GET", IE, expect=401, note="no token")
    DR = DD + "/revoke"
    c.call("POST", DR, {"device": "D-1"}, token=admin, body={}, expect=400, note="no reason")
    c.call("POST", DR, {"device": "D-1"}, token=tina, body={"reason": "x"}, expect=403,
           note="not an admin")
    c.call("POST", DR, {"device": "D-99"}, token=admin, body={"reason": "x"}, expect=404,
           note="unknown device")
    c.call("POST", DR, {"device": "D-1"}, token=admin, body={"reason": "x" * 5000}, expect=413,
           note="reason too long")
    _, revoked, _, _ = c.call("POST", DR, {"device": "D-1"}, token=admin,
                              body={"reason": "laptop stolen"}, expect=200)
    if revoked is not None and revoked.get("status") != "revoked":
        mismatch("POST %s: not revoked: %r" % (DR, revoked), "POST " + DR)
    c.call("POST", DR, {"device": "D-1"}, token=admin, body={"reason": "again"}, expect=409,
           note="already revoked")
    c.call("GET", "/api/v1/me", expect=401, note="no token")
    c.call("GET", "/api/v1/me", token="not-a-token", expect=401, note="unknown token")
    c.call("GET", "/api/v1/me", token=admin, expect=200)
    c.call("GET", "/api/v1/me", token=admin, raw=b"nope", expect=400, note="bad JSON body")
    c.call("GET", "/api/v1/users", token=admin, expect=200)
    c.unrouted("DELETE", "/api/v1/tickets/T-1", admin, 405, "method_not_allowed")
    c.unrouted("PUT", "/api/v1/me", None, 405, "method_not_allowed")
    c.unrouted("GET", "/api/v1/no-such-thing", admin, 404, "not_found")
    c.unrouted("GET", "/api/v1/tickets/T-1/nothing", None, 404, "not_found")
    c.call("GET", "/api/v1/users", expect=401, note="no token")

    # --- tickets
    P = "/api/v1/tickets"
    c.call("POST", P, token=admin, body={"description": "no title"}, expect=400,
           note="missing title")
    c.call("POST", P, token=admin, body={"title": "   "}, expect=400, note="blank title")
    c.call("POST", P, token=admin, body={"title": 7}, expect=400, note="title not a string")
    c.call("POST", P, token=admin, body={"title": "x" * 513}, expect=413, note="title too long")
    c.call("POST", P, token=admin, raw=b"{\"title\": \"unterminated", expect=400, note="bad JSON")
    c.call("POST", P, token=admin, raw=b"\"a string\"", expect=400, note="not an object")
    c.call("POST", P, token=admin, body={"title": "x", "impact": "enormous"}, expect=400,
           note="bad impact")
    c.call("POST", P, token=admin, body={"title": "x", "external": "no-colon"}, expect=400,
           note="bad external")
    c.call("POST", P, body={"title": "x"}, expect=401, note="no token")
    _, t1, _, _ = c.call("POST", P, token=admin, expect=201, body={
        "title": "Printer offline", "description": "Since Monday", "requester": "Ann Example",
        "requester_email": "ann@example.com", "category": "printing", "impact": "high",
        "urgency": "medium", "device": "PC-042", "external": "glpi:1234"})
    _, t2, _, _ = c.call("POST", P, token=admin, body={"title": "VPN drops",
                                                       "category": "network"},
                         expect=201, note="title and category")
    id1 = (t1 or {}).get("id", "T-1")
    id2 = (t2 or {}).get("id", "T-2")
    if t1 and t1.get("priority") != "P2":
        mismatch("POST %s: impact high × urgency medium gave priority %r, ITIL says P2"
                 % (P, t1.get("priority")))

    c.call("GET", P, token=admin, expect=200)
    c.call("GET", P, token=admin, query="status=new,open&sort=priority", expect=200)
    c.call("GET", P, token=admin, query="assignee=me&level=L1&sort=sla", expect=200)
    c.call("GET", P, token=admin, query="assignee=none&breaching=1&sort=updated", expect=200)
    c.call("GET", P, token=admin, query="sort=alphabetical", expect=400, note="bad sort")
    c.call("GET", P, token=admin, query="status=sleeping", expect=400, note="bad status")
    c.call("GET", P, token=admin, query="level=L9", expect=400, note="bad level")
    c.call("GET", P, token=admin, query="colour=red", expect=400, note="unknown parameter")
    c.call("GET", P, expect=401, note="no token")

    c.call("GET", T, {"ticket": id1}, token=admin, expect=200)
    c.call("GET", T, {"ticket": id1.lower()}, token=admin, expect=200, note="lower-case id")
    c.call("GET", T, {"ticket": "999999"}, token=admin, expect=404, note="unknown ticket")
    c.call("GET", T, {"ticket": "T-abc"}, token=admin, expect=404, note="malformed id")
    c.call("GET", T, {"ticket": id1}, expect=401, note="no token")

    _, patched, _, _ = c.call("PATCH", T, {"ticket": id1}, token=admin, expect=200,
                              body={"category": "printers", "urgency": "high"})
    if patched and patched.get("priority") != "P1":
        mismatch("PATCH %s: impact high × urgency high gave priority %r, ITIL says P1"
                 % (id1, patched.get("priority")))
    version = (patched or {}).get("version", 2)
    c.call("PATCH", T, {"ticket": id1}, token=admin, expect=409,
           body={"title": "stale", "version": max(1, version - 1)}, note="stale version")
    c.call("PATCH", T, {"ticket": id1}, token=admin, expect=400, body={"impact": "colossal"},
           note="bad impact")
    c.call("PATCH", T, {"ticket": id1}, token=admin, expect=400, body={"title": ""},
           note="blank title")
    c.call("PATCH", T, {"ticket": id1}, token=admin, expect=400, raw=b"{]", note="bad JSON")
    c.call("PATCH", T, {"ticket": "424242"}, token=admin, expect=404, body={"title": "x"},
           note="unknown ticket")
    c.call("PATCH", T, {"ticket": id1}, token=admin, expect={200, 400}, body={},
           note="no change")

    A = T + "/assign"
    c.call("POST", A, {"ticket": id1}, token=admin, expect=400, body={}, note="no assignee")
    c.call("POST", A, {"ticket": id1}, token=admin, expect={400, 404},
           body={"assignee": "nobody-by-that-name"}, note="unknown user")
    c.call("POST", A, {"ticket": "424242"}, token=admin, expect=404, body={"assignee": "me"},
           note="unknown ticket")
    _, assigned, _, _ = c.call("POST", A, {"ticket": id1}, token=admin, expect=200,
                               body={"assignee": "me"}, note="take")
    if assigned and (assigned.get("status") != "open" or assigned.get("assignee") != "admin"):
        mismatch("POST %s/assign me: status %r assignee %r, expected open / admin"
                 % (id1, assigned.get("status"), assigned.get("assignee")))
    c.call("POST", A, {"ticket": id1}, token=admin, expect=409,
           body={"assignee": "tina", "version": 1}, note="stale version")

    N = T + "/notes"
    c.call("POST", N, {"ticket": id1}, token=admin, expect=201,
           body={"text": "Called Ann; printer shows error 49"})
    c.call("POST", N, {"ticket": id1}, token=admin, expect=201,
           body={"text": "Ann is a VIP", "internal": True}, note="internal")
    c.call("POST", N, {"ticket": id1}, token=admin, expect=400, body={}, note="no text")
    c.call("POST", N, {"ticket": id1}, token=admin, expect=400, body={"text": " "},
           note="blank text")
    c.call("POST", N, {"ticket": id1}, token=admin, expect=413, body={"text": "x" * 16385},
           note="text too long")
    c.call("POST", N, {"ticket": "424242"}, token=admin, expect=404, body={"text": "x"},
           note="unknown ticket")

    ST = T + "/status"
    RO = T + "/reopen"
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=400, body={}, note="no status")
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=400, body={"status": "asleep"},
           note="unknown status")
    c.call("POST", ST, {"ticket": id1}, token=admin, expect={400, 409},
           body={"status": "resolved"}, note="resolving without a note")
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=200, body={"status": "pending"})
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=409, body={"status": "closed"},
           note="pending -> closed is not allowed")
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=409,
           body={"status": "open", "version": 1}, note="stale version")
    c.call("POST", ST, {"ticket": id1}, token=admin, expect=200, body={"status": "open"})
    c.call("POST", ST, {"ticket": "424242"}, token=admin, expect=404, body={"status": "open"},
           note="unknown ticket")
    c.call("POST", RO, {"ticket": id1}, token=admin, expect=409, body={"reason": "again"},
           note="reopening an open ticket")
    c.call("POST", RO, {"ticket": "424242"}, token=admin, expect=404, body={"reason": "x"},
           note="unknown ticket")

    # T-2 through its whole life: open, resolved, reopened, resolved, closed.
    c.call("POST", A, {"ticket": id2}, token=tina, expect=200, body={"assignee": "me"},
           note="an L1 technician takes an L1 ticket")
    c.call("POST", ST, {"ticket": id2}, token=admin, expect=200,
           body={"status": "resolved", "note": "VPN client updated"})
    c.call("POST", RO, {"ticket": id2}, token=admin, expect=400, body={},
           note="no reason (a resolved ticket)")
    c.call("POST", RO, {"ticket": id2}, token=admin, expect=200,
           body={"reason": "drops again"})
    c.call("POST", ST, {"ticket": id2}, token=admin, expect=200,
           body={"status": "resolved", "note": "MTU lowered to 1400"})
    c.call("POST", ST, {"ticket": id2}, token=admin, expect=200, body={"status": "closed"})
    c.call("POST", ST, {"ticket": id2}, token=admin, expect=409, body={"status": "open"},
           note="closed -> open by status")

    E = T + "/escalate"
    D = T + "/deescalate"
    c.call("POST", E, {"ticket": id1}, token=admin, expect=400, body={"to": "L2"},
           note="no reason")
    c.call("POST", E, {"ticket": id1}, token=admin, expect=400,
           body={"to": "L7", "reason": "x"}, note="no such level")
    c.call("POST", E, {"ticket": id1}, token=admin, expect={400, 409},
           body={"to": "L1", "reason": "x"}, note="escalating to the same level")
    c.call("POST", E, {"ticket": "424242"}, token=admin, expect=404,
           body={"to": "L2", "reason": "x"}, note="unknown ticket")
    c.call("POST", E, {"ticket": id1}, token=admin, expect=409,
           body={"to": "L2", "reason": "x", "version": 1}, note="stale version")
    c.call("POST", E, {"ticket": id1}, token=admin, expect=200,
           body={"to": "L2", "reason": "fuser error 49 needs an engineer"})
    c.call("POST", N, {"ticket": id1}, token=tina, expect=403, body={"text": "may I?"},
           note="an L1 technician on an L2 ticket")
    c.call("POST", D, {"ticket": id1}, token=admin, expect={400, 409},
           body={"to": "L3"}, note="de-escalating upwards")
    c.call("POST", D, {"ticket": id1}, token=admin, expect=400, body={}, note="no target")
    c.call("POST", D, {"ticket": id1}, token=admin, expect=200,
           body={"to": "L1", "reason": "spare part ordered; L1 follows up",
                 "assignee": "admin"})
    c.call("POST", D, {"ticket": "424242"}, token=admin, expect=404, body={"to": "L1"},
           note="unknown ticket")

    # --- webhooks delivery log (admins only)
    W = "/api/v1/webhooks/deliveries"
    if not ctx["receiver"].wait_for_first():
        mismatch("webhooks: nothing reached the receiver within %d s" % PROCESS_WAIT,
                 "webhook ticketEvent")
    _, log, _, _ = c.call("GET", W, token=admin, expect=200)
    if log is not None and not (log.get("deliveries") if isinstance(log, dict) else None):
        mismatch("GET %s: empty after a delivery was received: %r" % (W, log),
                 "GET " + W)
    c.call("GET", W, token=admin, query="status=pending&limit=5", expect=200)
    c.call("GET", W, token=admin, query="status=lost", expect=400, note="bad status")
    c.call("GET", W, token=tina, expect=403, note="not an admin")

    # --- sessions
    code = ctx["start_agent"]()
    J = "/api/v1/sessions"
    c.call("POST", J, token=admin, expect=400, body={"ticket": id1}, note="no code")
    c.call("POST", J, token=admin, expect=400, body={"code": code}, note="no ticket")
    c.call("POST", J, token=admin, expect=404, body={"code": "123", "ticket": id1},
           note="malformed code")
    c.call("POST", J, token=admin, expect=404, body={"code": code, "ticket": "424242"},
           note="unknown ticket")
    unheld = well_formed_code("13572468")
    if unheld == code:
        unheld = well_formed_code("86427531")
    c.call("POST", J, token=admin, expect=404, body={"code": unheld, "ticket": id1},
           note="well-formed code nobody holds")
    c.call("POST", J, token=admin, expect=409, body={"code": unheld, "ticket": id2},
           note="closed ticket")
    _, session, _, _ = c.call("POST", J, token=admin, expect=201,
                              body={"code": code, "ticket": id1})
    sid = (session or {}).get("id", "S-1")
    c.call("POST", J, token=admin, expect=409, body={"code": code, "ticket": id1},
           note="code already used")

    # A refused request must not spend the user's code: the same code joins afterwards.
    code2 = ctx["start_agent"]()
    c.call("POST", J, token=admin, expect=400,
           body={"code": code2, "ticket": id1, "scopes": ["everything"]}, note="unknown scope")
    _, second, _, _ = c.call("POST", J, token=admin, expect=201,
                             body={"code": code2, "ticket": id1, "scopes": ["diagnostics"]},
                             note="the code of a refused request, one scope")
    if second and (second.get("consent") or {}).get("scopes") != ["diagnostics"]:
        mismatch("POST %s scopes [diagnostics]: granted %r" % (J, second.get("consent")))
    if second and "id" in second:
        c.call("POST", S + "/end", {"session": second["id"]}, token=admin, expect=200,
               body={"note": "second agent not needed"})

    c.call("GET", S, {"session": sid}, token=admin, expect=200)
    c.call("GET", S, {"session": "999999"}, token=admin, expect=404, note="unknown session")
    c.call("GET", S, {"session": sid}, token=tina, expect=403, note="another technician")

    G = S + "/diagnostics"
    c.call("POST", G, {"session": sid}, token=admin, expect=400, body={"sections": "memory"},
           note="sections not a list")
    c.call("POST", G, {"session": sid}, token=admin, expect=400, body={"sections": [""]},
           note="empty section name")
    c.call("POST", G, {"session": "999999"}, token=admin, expect=404, body={},
           note="unknown session")
    c.call("POST", G, {"session": sid}, token=tina, expect=403, body={},
           note="another technician")
    c.call("POST", G, {"session": sid}, token=admin, expect=201, body={"sections": ["memory"]})
    c.call("POST", G, {"session": sid}, token=admin, expect=201, raw=b"", note="all sections")

    CH = S + "/channel"
    c.websocket(CH, {"session": sid}, admin, 101)
    c.websocket(CH, {"session": sid}, None, 401, note="no token")
    c.websocket(CH, {"session": sid}, tina, 403, note="another technician")
    c.websocket(CH, {"session": "999999"}, admin, 404, note="unknown session")

    # A recording: the console's shell in pipe mode, as the admin who joined.
    ctx["run_shell"](sid)
    R = S + "/recordings"
    _, listed, _, _ = c.call("GET", R, {"session": sid}, token=admin, expect=200)
    c.call("GET", R, {"session": "999999"}, token=admin, expect=404, note="unknown session")
    recordings = (listed or {}).get("recordings") or []
    RD = "/api/v1/recordings/{session}/{name}"
    if recordings:
        _, _, headers, data = c.call("GET", RD, {"session": sid, "name": recordings[0]["name"]},
                                     token=admin, expect=200)
        header = Checker._json(data.split(b"\n", 1)[0]) if data else None
        if not isinstance(header, dict) or header.get("version") != 2:
            mismatch("GET recording: the first line is not an asciicast v2 header: %r"
                     % data[:80])
    else:
        mismatch("GET %s/recordings: no recording after a shell ran (%r)" % (sid, listed))
    c.call("GET", RD, {"session": sid, "name": "20000101T000000Z-9.cast"}, token=admin,
           expect=404, note="unknown recording")
    c.call("GET", RD, {"session": sid, "name": "x.cast"}, expect=401, note="no token")

    EN = S + "/end"
    c.call("POST", EN, {"session": sid}, token=admin, expect=400, body={"note": 12},
           note="note not a string")
    c.call("POST", EN, {"session": sid}, token=tina, expect=403, body={},
           note="another technician")
    c.call("POST", EN, {"session": "999999"}, token=admin, expect=404, body={},
           note="unknown session")
    c.call("POST", EN, {"session": sid}, token=admin, expect=200,
           body={"note": "fuser replaced, test page printed"})
    c.call("POST", EN, {"session": sid}, token=admin, expect=409, body={},
           note="already ended")
    c.call("POST", G, {"session": sid}, token=admin, expect=409, body={},
           note="diagnostics on an ended session")
    c.websocket(CH, {"session": sid}, admin, 409, note="ended session")

    # --- FAQ
    FQ = "/api/v1/faq"
    c.call("POST", FQ, token=admin, expect=400, body={"title": "No body"}, note="no body")
    c.call("POST", FQ, token=admin, expect=400, body={"body": "No title"}, note="no title")
    c.call("POST", FQ, token=admin, expect=400,
           body={"title": "t", "body": "b", "finding_ids": "disk"}, note="ids not a list")
    _, article, _, _ = c.call("POST", FQ, token=admin, expect=201, body={
        "title": "Printer shows error 49", "body": "Power-cycle, then replace the fuser.",
        "finding_ids": ["disk.root_full"], "categories": ["printing"]})
    fid = (article or {}).get("id", "FAQ-1")
    c.call("GET", FQ, token=admin, expect=200)
    c.call("GET", FQ, token=admin, query="search=fuser", expect=200)
    c.call("GET", F, {"faq": fid}, token=admin, expect=200)
    c.call("GET", F, {"faq": "999999"}, token=admin, expect=404, note="unknown article")
    _, edited, _, _ = c.call("PATCH", F, {"faq": fid}, token=admin, expect=200,
                             body={"title": "Printer error 49 (fuser)"})
    c.call("PATCH", F, {"faq": fid}, token=admin, expect=409,
           body={"body": "stale", "version": max(1, (edited or {}).get("version", 2) - 1)},
           note="stale version")
    c.call("PATCH", F, {"faq": fid}, token=admin, expect=400, body={"title": ""},
           note="blank title")
    c.call("PATCH", F, {"faq": "999999"}, token=admin, expect=404, body={"title": "x"},
           note="unknown article")
    L = T + "/faq"
    c.call("POST", L, {"ticket": id1}, token=admin, expect=200, body={"faq": fid})
    c.call("POST", L, {"ticket": id1}, token=admin, expect=404, body={"faq": "FAQ-999999"},
           note="unknown article")
    c.call("POST", L, {"ticket": "424242"}, token=admin, expect=404, body={"faq": fid},
           note="unknown ticket")
    c.call("POST", L, {"ticket": id1}, token=admin, expect=400, body={}, note="no faq")
    SG = "/api/v1/faq/suggestions"
    _, suggested, _, _ = c.call("GET", SG, token=admin, expect=200)
    keys = [(x.get("kind"), x.get("key")) for x in (suggested or {}).get("suggestions", [])
            if isinstance(x, dict)]
    if suggested is not None and ("category", "network") not in keys:
        mismatch("GET %s: no suggestion for the category of the resolved (closed) %s: %s"
                 % (SG, id2, keys), "GET " + SG)
    c.call("GET", SG, token=admin, query="since=12h", expect=200)
    c.call("GET", SG, token=admin, query="since=forever", expect=400, note="bad since")

    # --- the ticket afterwards, its report, the SLA overview
    c.call("GET", T, {"ticket": id1}, token=admin, expect=200, note="after a session")
    c.call("GET", T + "/report", {"ticket": id1}, token=admin, expect=200)
    c.call("GET", T + "/report", {"ticket": id2}, token=admin, expect=200, note="closed")
    c.call("GET", T + "/report", {"ticket": "424242"}, token=admin, expect=404,
           note="unknown ticket")
    c.call("GET", "/api/v1/sla", token=admin, expect=200)
    c.call("GET", "/api/v1/sla", expect=401, note="no token")
    c.call("GET", P, token=admin, query="sort=sla&breaching=1", expect=200)


def live_check(spec, relay_bin, agent_bin, console_bin):
    work = tempfile.mkdtemp(prefix="tether-openapi-")
    processes = []
    stoppers = []
    try:
        data = os.path.join(work, "relay")
        admin_file = os.path.join(work, "admin-password")
        tech_file = os.path.join(work, "tina-password")
        with open(admin_file, "w") as f:
            f.write(ADMIN_PASSWORD + "\n")
        with open(tech_file, "w") as f:
            f.write(TECH_PASSWORD + "\n")
        init = subprocess.run([relay_bin, "init", "--data", data, "--admin-password-file",
                               admin_file], capture_output=True, text=True, timeout=60)
        if init.returncode != 0:
            mismatch("live: tether-relay init failed: " + init.stderr.strip()[:500])
            return
        found = re.search(r"fingerprint: (SHA256:[0-9a-fA-F:]+)", init.stdout)
        if not found:
            mismatch("live: tether-relay init printed no fingerprint: " + init.stdout[:300])
            return
        fingerprint = found.group(1)
        add = subprocess.run([relay_bin, "user", "add", "--data", data, "--name", "tina",
                              "--password-file", tech_file],
                             capture_output=True, text=True, timeout=60)
        if add.returncode != 0:
            mismatch("live: tether-relay user add failed: " + add.stderr.strip()[:500])
            return

        token = subprocess.run([relay_bin, "token", "create", "--data", data, "--json"],
                               capture_output=True, text=True, timeout=60)
        if token.returncode != 0:
            mismatch("live: tether-relay token create failed: " + token.stderr.strip()[:500])
            return
        enroll_token = json.loads(token.stdout)["token"]
        key_file = os.path.join(work, "device.key")
        csr = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", key_file,
                              "-subj", "/CN=conformance-pc"],
                             capture_output=True, text=True, timeout=60)
        if csr.returncode != 0:
            mismatch("live: openssl req failed: " + csr.stderr.strip()[:500])
            return

        receiver = WebhookReceiver()
        stoppers.append(receiver.stop)
        config_path = os.path.join(data, "relay.json")
        with open(config_path) as f:
            config = json.load(f)
        config["webhooks"] = [{"name": "conformance", "url": receiver.url,
                               "secret": WEBHOOK_SECRET, "events": ["*"],
                               "timeout_ms": 5000, "retry_base_ms": 200}]
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)

        relay = Process([relay_bin, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                        os.path.join(work, "relay.log"))
        processes.append(relay)
        line = relay.wait_for_line("listening on ")
        if not line:
            mismatch("live: the relay did not start: " + relay.stderr_tail())
            return
        address = line.split("listening on ", 1)[1].strip()
        checker = Checker(spec, address, os.path.join(data, "ca.pem"))

        def start_agent():
            agent = Process([agent_bin, "support", "--relay", "wss://" + address,
                             "--fingerprint", fingerprint, "--consent", "auto"],
                            os.path.join(work, "agent.log"))
            processes.append(agent)
            line = agent.wait_for_line("support code: ")
            if not line:
                raise RuntimeError("the agent printed no support code: " + agent.stderr_tail())
            return re.sub(r"[^0-9]", "", line.split(":", 1)[1])

        console_env = dict(os.environ, TETHER_CONFIG_DIR=os.path.join(work, "console"),
                           TERM="xterm-256color")

        def run_shell(session):
            login = subprocess.run([console_bin, "login", "--relay", "https://" + address,
                                    "--ca", os.path.join(data, "ca.pem"), "--user", "admin",
                                    "--password-file", admin_file], env=console_env,
                                   capture_output=True, text=True, timeout=60)
            if login.returncode != 0:
                mismatch("live: tether login failed: " + login.stderr.strip()[:300])
                return
            shell = subprocess.run([console_bin, "shell", session], env=console_env,
                                   input="echo openapi-$((6*7))\nexit 0\n",
                                   capture_output=True, text=True, timeout=90)
            if shell.returncode != 0 or "openapi-42" not in shell.stdout:
                mismatch("live: tether shell %s exited %d: %s"
                         % (session, shell.returncode, shell.stderr.strip()[:300]))

        try:
            run_scenario(checker, {"start_agent": start_agent, "run_shell": run_shell,
                                   "receiver": receiver, "enroll_token": enroll_token,
                                   "csr": csr.stdout,
                                   "database": os.path.join(data, "tether.db")})
        except RuntimeError as e:
            mismatch("live: stopped early: %s" % e)
        check_webhook_requests(spec, checker, receiver)
        print("live: %d requests, %d operations exercised" % (checker.calls,
                                                              len(checker.exercised)),
              flush=True)
        for path, item in spec["paths"].items():
            for method, _ in operations_of(item):
                if (method, path) not in checker.exercised:
                    mismatch("live: %s %s was never exercised" % (method, path))
        for p in processes[1:]:
            p.stop()
        status = relay.stop()
        if status != 0:
            mismatch("live: the relay exited %s after SIGTERM: %s"
                     % (status, relay.stderr_tail()))
    finally:
        for p in reversed(processes):
            p.stop()
        for stop in stoppers:
            stop()
        if mismatches:
            for name in ("relay.log", "agent.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        tail = f.read()[-3000:].decode("utf-8", "replace")
                    print("---- last lines of %s ----\n%s" % (name, tail))
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    if len(argv) < 5:
        print(__doc__)
        return 2
    spec_path, relay_bin, agent_bin, console_bin = argv[1:5]
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    check_spec(spec)
    check_routes(spec, relay_bin)
    if "--routes-only" not in argv:
        live_check(spec, relay_bin, agent_bin, console_bin)
    if mismatches:
        print("\n%d mismatch(es) between docs/openapi.yaml and the relay:" % len(mismatches))
        for m in mismatches:
            print("  - " + m)
        if per_operation:
            print("\nmismatches per operation:")
            for key, count in sorted(per_operation.items()):
                print("  %4d  %s" % (count, key))
        return 1
    print("docs/openapi.yaml matches the relay")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
