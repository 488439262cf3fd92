#!/usr/bin/env python3
"""Validates project files against docs/project-file.schema.json (with the label schema it
references), so the published schema and the example in docs/examples stay true.

Usage: check_project_file.py FILE...   (exit 1 naming the first problem of each bad file)
"""
import json
import pathlib
import sys

import jsonschema

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def main(paths):
    project = json.loads((DOCS / "project-file.schema.json").read_text())
    labels = json.loads((DOCS / "label-schema.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(project)
    try:  # jsonschema >= 4.18 (referencing); Debian 12 has 4.10 (RefResolver)
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in (labels, project)])
        validator = jsonschema.Draft202012Validator(project, registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver.from_schema(project, store={s["$id"]: s for s in (labels, project)})
        validator = jsonschema.Draft202012Validator(project, resolver=resolver)
    bad = 0
    for path in paths:
        errors = sorted(validator.iter_errors(json.loads(pathlib.Path(path).read_text())), key=str)
        for e in errors[:1]:
            print(f"{path}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
