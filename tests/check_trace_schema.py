#!/usr/bin/env python3
"""Validate every line of the given traces against docs/trace.schema.json (needs python3-jsonschema)."""
import json
import os
import sys

import jsonschema

schema = json.load(open(os.path.join(os.path.dirname(__file__), "..", "docs", "trace.schema.json")))
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[1:]:
    for n, line in enumerate(open(path), 1):
        for e in validator.iter_errors(json.loads(line)):
            print("%s:%d: %s" % (path, n, e.message[:300]))
            bad += 1
            break
sys.exit(1 if bad else 0)
