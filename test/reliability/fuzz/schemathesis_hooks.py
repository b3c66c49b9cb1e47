"""Schemathesis hooks for the EcomID fuzz suite (loaded through SCHEMATHESIS_HOOKS).

Generated cases keep every shape schemathesis makes, except one: any `url` (a
reference image to fetch, a webhook to call) is pointed at a closed loopback port,
so no generated request can make the edge fetch from or deliver to a host outside
this machine.
"""
import json

import schemathesis

CLOSED_LOOPBACK_URL = "http://127.0.0.1:9/schemathesis.png"


def _loopback_urls(value):
    if isinstance(value, dict):
        return {k: CLOSED_LOOPBACK_URL if k == "url" and isinstance(v, str) else _loopback_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_loopback_urls(v) for v in value]
    return value


@schemathesis.hook
def map_case(context, case):
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("request"), str):
        # multipart/form-data: the job JSON travels as text in the "request" part
        try:
            body = {**body, "request": json.dumps(_loopback_urls(json.loads(body["request"])))}
        except ValueError:
            pass
    case.body = _loopback_urls(body)
    return case
