"""`husk features` and the state document against the spec's JSON schemas."""
import json
import os
import subprocess

import pytest

from conftest import HUSK, REPO

SCHEMA_DIRS = [os.path.join(REPO, "..", "shared", "oci-runtime-spec", "schema"), "/work/shared/oci-runtime-spec/schema"]


def schema(name):
    jsonschema = pytest.importorskip("jsonschema")
    for d in SCHEMA_DIRS:
        path = os.path.join(d, name)
        if os.path.exists(path):
            with open(path) as f:
                doc = json.load(f)
            resolver = jsonschema.RefResolver(base_uri="file://" + os.path.abspath(d) + "/", referrer=doc)
            return jsonschema, doc, resolver
    pytest.skip("the OCI runtime spec schemas are not on this machine")


def test_features_document():
    p = subprocess.run([HUSK, "features"], capture_output=True, text=True, check=True)
    doc = json.loads(p.stdout)
    assert doc["ociVersionMin"] == "1.0.0" and doc["ociVersionMax"].startswith("1.3")
    assert "pid" in doc["linux"]["namespaces"] and "CAP_SYS_ADMIN" in doc["linux"]["capabilities"]
    js, sch, resolver = schema("features-schema.json")
    js.validate(doc, sch, resolver=resolver)


def test_state_document(husk):
    b = husk.bundle(edit=lambda c: c.update({"annotations": {"org.example": "x"}}))
    cid, _ = husk.create(b)
    st = husk.state(cid)
    assert st["annotations"] == {"org.example": "x"}
    js, sch, resolver = schema("state-schema.json")
    js.validate(st, sch, resolver=resolver)
