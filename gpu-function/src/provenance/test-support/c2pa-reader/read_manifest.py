"""Reads a file's C2PA manifest store with c2pa-python (the Content Authenticity Initiative's reader, c2pa-rs
through its C API; https://github.com/contentauth/c2pa-python) and prints one JSON object on stdout:
{"validation_state", "validation_results", "active_manifest", "manifest_store"}, or {"manifest_store": null}
when the file holds no manifest.

Usage: read_manifest.py FILE MIME_TYPE [TRUST_ANCHORS_PEM]
With trust anchors, trust is verified against them ("Trusted" when the chain ends in one); without, it is not
verified and a well-formed, intact, correctly signed manifest reads "Valid".
"""

import json
import sys

from c2pa import C2paError, Context, Reader, Settings


def main() -> None:
    path, mime_type = sys.argv[1], sys.argv[2]
    trust = {"verify": {"verify_trust": False}}
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as anchors:
            trust = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors.read()}}
    context = Context(Settings.from_json(json.dumps(trust)))
    with open(path, "rb") as stream:
        try:
            reader = Reader(mime_type, stream, context=context)
        except C2paError.ManifestNotFound:
            print(json.dumps({"manifest_store": None}))
            return
        store = json.loads(reader.json())
        print(
            json.dumps(
                {
                    "validation_state": reader.get_validation_state(),
                    "validation_results": reader.get_validation_results(),
                    "active_manifest": reader.get_active_manifest(),
                    "manifest_store": store,
                }
            )
        )


if __name__ == "__main__":
    main()
