#!/usr/bin/python3
"""Validates Trove events against the generated JSON Schemas with an independent validator.

The oracle for tests/data/events_test.cpp: python3-jsonschema (Debian's), which nobody here
wrote, judges the same events the C++ parser judges, and the C++ test asserts they agree.

    /usr/bin/python3 -I validate_events.py --schemas DIR [--valid FILE] [--invalid FILE]
                                           [--judge FILE] ...

  --schemas DIR   <Name>.json for every event type plus index.json, as written by
                  event_schema_json() / event_schema_index_json(). Every schema must pass
                  Draft202012Validator.check_schema and index.json must list exactly them.
  --valid FILE    one event per line; each must be valid against the schema its "type" names.
  --invalid FILE  one wrapper per line: {"why", "expect_path", "schema_can_tell", "event"};
                  each event with schema_can_tell=true must be invalid (an event whose type
                  names no schema is invalid: no schema applies).
  --judge FILE    one event per line; only reports each verdict, expects nothing.

Prints one JSON report on stdout:

  {"ok": bool, "schemas": {"count": N, "errors": [...]},
   "files": [{"path", "mode", "results": [{"line", "type", "valid", "errors"?}]}],
   "failures": ["FILE:LINE: what went wrong", ...]}

Exit status: 0 when every expectation held, 1 otherwise, 2 on bad usage or unreadable input,
77 (the automake "skipped" code) when the jsonschema module is missing.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError as e:  # pragma: no cover - depends on the machine
    print(json.dumps({"ok": False, "unavailable": "python3 module jsonschema is missing: %s" % e}))
    sys.exit(77)

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_ERRORS = 3  # per event; enough to see why without flooding the report
MAX_MESSAGE = 240


def load_schemas(directory, report):
    """Returns {type name: validator}; problems go to report["schemas"]["errors"]."""
    errors = report["schemas"]["errors"]
    validators = {}
    names = sorted(f for f in os.listdir(directory) if f.endswith(".json") and f != "index.json")
    for file_name in names:
        name = file_name[: -len(".json")]
        with open(os.path.join(directory, file_name), encoding="utf-8") as f:
            schema = json.load(f)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            errors.append("%s: not a valid draft 2020-12 schema: %s" % (file_name, e.message))
            continue
        if schema.get("$schema") != DRAFT_2020_12:
            errors.append("%s: $schema is %r" % (file_name, schema.get("$schema")))
        if schema.get("title") != name:
            errors.append("%s: title is %r" % (file_name, schema.get("title")))
        type_const = schema.get("properties", {}).get("type", {}).get("const")
        if type_const != name:
            errors.append("%s: properties.type.const is %r" % (file_name, type_const))
        if "type" not in schema.get("required", []):
            errors.append("%s: type is not required" % file_name)
        validators[name] = jsonschema.Draft202012Validator(schema)

    index_path = os.path.join(directory, "index.json")
    if not os.path.exists(index_path):
        errors.append("index.json is missing")
    else:
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
        listed = [e.get("schema") for e in index.get("events", [])]
        if len(listed) != len(set(listed)):
            errors.append("index.json lists a schema twice")
        if sorted(listed) != names:
            errors.append("index.json lists %s but the directory holds %s"
                          % (sorted(listed), names))
        for entry in index.get("events", []):
            if entry.get("schema") != "%s.json" % entry.get("type"):
                errors.append("index.json entry %r: schema does not match type" % entry)
            if not entry.get("group"):
                errors.append("index.json entry %r: no group" % entry)
    report["schemas"]["count"] = len(validators)
    return validators


def judge(event, validators):
    """Returns (type name or None, list of error strings); no errors means valid."""
    type_name = event.get("type") if isinstance(event, dict) else None
    if not isinstance(type_name, str) or type_name not in validators:
        return None, ["no schema applies: type is %s" % json.dumps(type_name)[:80]]
    errors = []
    for error in validators[type_name].iter_errors(event):
        where = "/".join(str(p) for p in error.absolute_path)
        errors.append(("%s: %s" % (where or "(root)", error.message))[:MAX_MESSAGE])
        if len(errors) >= MAX_ERRORS:
            break
    return type_name, errors


def read_lines(path):
    """Yields (line number, text) for every non-blank line; strict UTF-8."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield number, line


def check_file(path, mode, validators, report):
    results = []
    base = os.path.basename(path)
    for number, line in read_lines(path):
        try:
            record = json.loads(line)
        except ValueError as e:
            report["failures"].append("%s:%d: not JSON: %s" % (base, number, e))
            results.append({"line": number, "type": None, "valid": False,
                            "errors": ["not JSON"]})
            continue
        event = record.get("event") if mode == "invalid" else record
        type_name, errors = judge(event, validators)
        result = {"line": number, "type": type_name, "valid": not errors}
        if errors:
            result["errors"] = errors
        if mode == "invalid":
            can_tell = record.get("schema_can_tell") is True
            result["schema_can_tell"] = can_tell
            if can_tell and not errors:
                report["failures"].append("%s:%d: schema accepts an invalid event (%s)"
                                          % (base, number, record.get("why")))
        elif mode == "valid" and errors:
            report["failures"].append("%s:%d: schema rejects a valid event: %s"
                                      % (base, number, "; ".join(errors)))
        results.append(result)
    report["files"].append({"path": path, "mode": mode, "results": results})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", required=True)
    parser.add_argument("--valid", action="append", default=[])
    parser.add_argument("--invalid", action="append", default=[])
    parser.add_argument("--judge", action="append", default=[])
    args = parser.parse_args()

    report = {"ok": False, "schemas": {"count": 0, "errors": []}, "files": [], "failures": []}
    try:
        validators = load_schemas(args.schemas, report)
        for mode in ("valid", "invalid", "judge"):
            for path in getattr(args, mode):
                check_file(path, mode, validators, report)
    except (OSError, ValueError) as e:
        report["failures"].append("cannot read input: %s" % e)
        print(json.dumps(report, ensure_ascii=False))
        return 2
    report["failures"][:0] = ["schemas: " + e for e in report["schemas"]["errors"]]
    report["ok"] = not report["failures"]
    print(json.dumps(report, ensure_ascii=False))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
