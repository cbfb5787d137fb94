#!/usr/bin/env python3
"""Validates a GLPI inventory against the format's JSON schema (draft-07).

usage: validate_glpi.py SCHEMA -- COMMAND [ARG...]

Runs COMMAND, parses what it prints as JSON and validates it with jsonschema's
Draft7Validator, checking the formats the schema declares (ipv4, ipv6). Also checks what
GLPI needs to import a computer at all. Exits 0 when valid, 1 with every error otherwise.
"""
import json
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_glpi.py: python3-jsonschema is missing (scripts/install-deps.sh)")


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    run = subprocess.run(argv[3:], capture_output=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"{' '.join(argv[3:])} exited with {run.returncode}: "
                 f"{run.stderr.decode(errors='replace')}")
    document = json.loads(run.stdout)

    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        path = "/".join(str(p) for p in error.absolute_path) or "(top)"
        print(f"{path}: {error.message}", file=sys.stderr)

    # Beyond the schema: what GLPI uses to file the document as a computer.
    content = document.get("content", {})
    problems = []
    if document.get("itemtype") != "Computer":
        problems.append("itemtype is not Computer")
    if not str(content.get("versionclient", "")).startswith("Tether-Agent_v"):
        problems.append("versionclient does not name Tether's agent")
    for key in ("hardware", "operatingsystem"):
        if not content.get(key):
            problems.append(f"content.{key} is missing or empty")
    if not isinstance(content.get("hardware", {}).get("name"), str):
        problems.append("content.hardware.name (the computer's name) is missing")
    for problem in problems:
        print(problem, file=sys.stderr)

    if errors or problems:
        return 1
    print(f"valid: {len(content)} inventory sections, "
          f"{len(content.get('softwares', []))} softwares")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
