"""Schemathesis hooks for the EcomID fuzz suite (loaded through SCHEMATHESIS_HOOKS).

What schemathesis generates is sent as generated, except:

- Every `url` the API would fetch points at the suite's loopback peer (FUZZ_IMAGE_URL:
  a GET gets a real face photo, a webhook POST gets 204): no generated request makes the
  edge fetch from or deliver to a host outside this machine. A URL the API refuses
  unread (a negative case) is left as it is.
- Positive (schema-valid) job requests are held to the rules no JSON Schema can state,
  which the API checks with its own code: a prompt fits the model's CLIP window
  (75 tokens; at most 75 UTF-8 bytes always do), keypoints lie inside the image (an inpaint
  job gets an explicit size: its default is the image's), a mask is not taken from the
  alpha of the peer's photo (it has none), outputs stay labelled (embed "none" needs a
  scope the fuzzer's key lacks), and an
  Idempotency-Key was not used before with another body (so each gets a fresh prefix).
- A revocation of one of the fuzzer's own keys revokes a sacrificial key instead: the
  fuzzer must not lock itself out (FUZZ_PROTECTED_KEY_IDS, FUZZ_SACRIFICIAL_KEY_ID).
- Every other schema-valid redelivery, and every other request for an output, names the
  suite's own finished job (FUZZ_DELIVERY: the job and its delivery): schemathesis
  learns a delivery id only if one of its jobs finished with a webhook before it listed
  the deliveries, and an output only of a job that succeeded before it asked. A delete of
  that job (whose id the listing shows) deletes a job that does not exist instead.
- Every answer's method, URL and status is appended to FUZZ_ANSWERS_LOG (one JSON line
  each), from which the runner counts the answers that reached each operation. Not from a
  HAR report: that keeps every body, and a CI run's grew past what Node can read as one
  string (512 MiB).
- A multipart job's `request` part goes first, as the API reads it (an order no JSON
  Schema states), and a schema-valid one's image part is a real image when what was
  generated is not one (the document cannot state "a decodable image").

An edited multipart job keeps schemathesis' judgment of the case as generated: judged
again, a form with a binary part fails its JSON Schema and would pass for a negative case,
and these edits keep a case valid or invalid as it was.
"""
import ast
import itertools
import json
import os
import threading
from urllib.parse import urlsplit

import schemathesis

# CPython 3.11 keeps the AST constructor's recursion counter in interpreter-wide state, so two
# schemathesis workers (threads) rendering a strategy's lambda at once (Hypothesis parses its
# source to describe it) can fail with "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905; seen here in a CI run). One parse at a time cannot meet it, and costs
# nothing beside the HTTP requests.
_parse_alone = threading.Lock()
_shared_parse = ast.parse


def _parse_one_at_a_time(*args, **kwargs):
    with _parse_alone:
        return _shared_parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time

ANSWERS_LOG = os.environ.get("FUZZ_ANSWERS_LOG")
_log_alone = threading.Lock()

IMAGE_URL = os.environ.get("FUZZ_IMAGE_URL", "http://127.0.0.1:9/schemathesis.png")
PROTECTED_KEYS = set(filter(None, os.environ.get("FUZZ_PROTECTED_KEY_IDS", "").split(",")))
SACRIFICIAL_KEY = os.environ.get("FUZZ_SACRIFICIAL_KEY_ID", "")
MAX_PROMPT_BYTES = 75
_fresh_keys = itertools.count(1)
DELIVERY = os.environ.get("FUZZ_DELIVERY", "")
NO_SUCH_JOB = "job_" + "0" * 26
FACE_PATH = os.environ.get("FUZZ_FACE_PNG")
FACE = open(FACE_PATH, "rb").read() if FACE_PATH else b""
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF")
_alternate = {"redeliver": 0, "output": 0}


def _fetchable(url):
    """A URL the API would go on to fetch (others it refuses unread, as a negative case means them)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 2048


def _urls_to_peer(value):
    if isinstance(value, dict):
        return {k: IMAGE_URL if k == "url" and isinstance(v, str) and _fetchable(v) else _urls_to_peer(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_urls_to_peer(v) for v in value]
    return value


def _fit_prompt(text):
    data = text.encode("utf-8")[:MAX_PROMPT_BYTES]
    fitted = data.decode("utf-8", errors="ignore")
    return fitted if fitted.strip() else "a portrait"


def _keep_rules_between_fields(inp):
    """The rules between fields the JSON body's schema states (if/anyOf) and the multipart form's cannot (schemathesis
    cannot judge them beside a binary part): a mask unless mask_from is alpha, one softedge image, no detector for an
    edge map, intermediates and inpaint keypoints only with their input."""
    inpaint, softedge = inp.get("inpaint"), inp.get("softedge")
    if isinstance(inpaint, dict) and inpaint.get("mask_from", "mask") == "mask" and "mask" not in inpaint and "image" in inpaint:
        inpaint["mask"] = inpaint["image"]
    if isinstance(softedge, dict):
        if "image" in softedge:
            softedge.pop("edge_map", None)
        elif "edge_map" not in softedge:
            softedge["edge_map"] = {"url": IMAGE_URL}
        if "edge_map" in softedge:
            softedge.pop("detector", None)
    needs = {"edge_map": "softedge", "inpaint_mask": "inpaint"}
    if isinstance(inp.get("return_intermediates"), list):
        inp["return_intermediates"] = [k for k in inp["return_intermediates"] if needs.get(k) is None or needs[k] in inp]
    keypoints = inp.get("keypoints")
    if isinstance(keypoints, dict) and keypoints.get("type") == "inpaint_image" and "inpaint" not in inp:
        inp["keypoints"] = {"type": "reference"}


def _keep_stated_rules(job):
    """Bring a schema-valid job inside the rules only the API's code states."""
    inp = job.get("input") if isinstance(job, dict) else None
    if not isinstance(inp, dict):
        return job
    for field in ("prompt", "negative_prompt"):
        if isinstance(inp.get(field), str) and len(inp[field].encode("utf-8")) > MAX_PROMPT_BYTES:
            inp[field] = _fit_prompt(inp[field])
    provenance = inp.get("provenance")
    if isinstance(provenance, dict) and provenance.get("embed") == "none":
        # Only keys with the provenance:none scope may leave outputs unlabelled; the fuzzer's key has not got it.
        provenance["embed"] = "iptc"
    _keep_rules_between_fields(inp)
    inpaint = inp.get("inpaint")
    if isinstance(inpaint, dict):
        # The size defaults to the inpaint image's (the peer's photo, rounded): stated here so keypoints can be
        # kept inside it. The peer's photo has no alpha channel, so a mask is taken from a mask image instead.
        inp.setdefault("width", 64)
        inp.setdefault("height", 64)
        if inpaint.get("mask_from") == "alpha":
            inpaint["mask_from"] = "mask"
            if "mask" not in inpaint and isinstance(inpaint.get("image"), dict):
                inpaint["mask"] = dict(inpaint["image"])
    kp = inp.get("keypoints")
    width, height = inp.get("width"), inp.get("height")
    if isinstance(kp, dict) and kp.get("type") == "points" and isinstance(kp.get("points"), list):
        w = width if isinstance(width, int) else 64
        h = height if isinstance(height, int) else 64
        kp["points"] = [[min(max(p[0], 0), w - 1), min(max(p[1], 0), h - 1)] if isinstance(p, list) and len(p) == 2 and all(isinstance(c, (int, float)) for c in p) else p for p in kp["points"]]
    return job


def _is_positive(case):
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    mode = getattr(generation, "mode", None)
    return bool(getattr(mode, "is_positive", False))


def _is_job_creation(case):
    return case.operation.path == "/v1/jobs" and case.method.upper() == "POST"


@schemathesis.hook
def map_case(context, case):
    positive = _is_positive(case)
    headers = case.headers
    if positive and headers is not None and hasattr(headers, "items"):
        for name, value in list(headers.items()):
            if name.lower() == "idempotency-key" and isinstance(value, str):
                case.headers = {**dict(headers), name: f"st{next(_fresh_keys)}-{value}"[:255]}
                break
    if case.operation.path == "/v1/admin/keys/{id}/revoke" and isinstance(case.path_parameters, dict):
        if case.path_parameters.get("id") in PROTECTED_KEYS and SACRIFICIAL_KEY:
            case.path_parameters = {**case.path_parameters, "id": SACRIFICIAL_KEY}
    if positive and "/" in DELIVERY:
        job_id, delivery_id = DELIVERY.split("/", 1)
        if case.operation.path == "/v1/jobs/{id}/webhook_deliveries/{delivery}/redeliver" and _every_other("redeliver"):
            case.path_parameters = {"id": job_id, "delivery": delivery_id}
        if case.operation.path == "/v1/jobs/{id}/outputs/{index}" and _every_other("output"):
            case.path_parameters = {"id": job_id, "index": "0"}
    if case.operation.path == "/v1/jobs/{id}" and case.method.upper() == "DELETE" and isinstance(case.path_parameters, dict):
        if "/" in DELIVERY and case.path_parameters.get("id") == DELIVERY.split("/", 1)[0]:
            case.path_parameters = {**case.path_parameters, "id": NO_SUCH_JOB}
    if _is_multipart(case) and _is_job_creation(case) and isinstance(case.body, dict) and "request" in case.body:
        edited = {"request": _edit_request_part(case.body["request"], positive), **{k: v for k, v in case.body.items() if k != "request"}}
        if positive and FACE and "face" in edited and not _is_image(edited["face"]):
            edited["face"] = FACE
        if edited != case.body or list(edited) != list(case.body):
            case.body = edited
            if hasattr(case, "_record_starting_state"):
                case._record_starting_state()
    elif isinstance(case.body, (dict, list)):
        body = _urls_to_peer(case.body)
        if positive and _is_job_creation(case):
            body = _keep_stated_rules(body)
        if body != case.body:
            case.body = body
    return case


def _every_other(what):
    _alternate[what] += 1
    return _alternate[what] % 2 == 1


def _is_image(value):
    raw = getattr(value, "data", value)
    if isinstance(raw, str):
        raw = raw.encode("latin-1", errors="replace")
    return isinstance(raw, (bytes, bytearray)) and bytes(raw).startswith(IMAGE_SIGNATURES)


def _is_multipart(case):
    return (case.media_type or "").startswith("multipart/")


def _edit_request_part(value, positive):
    """The job in the `request` part: an object, or its JSON text."""
    if isinstance(value, dict):
        job = _urls_to_peer(value)
        return _keep_stated_rules(job) if positive else job
    if not isinstance(value, str):
        return value
    try:
        job = json.loads(value)
    except ValueError:
        return value
    return json.dumps(_edit_request_part(job, positive)) if isinstance(job, dict) else value


@schemathesis.hook
def after_call(context, case, response):
    if not ANSWERS_LOG:
        return
    line = json.dumps({"method": response.request.method, "url": response.request.url, "status": response.status_code})
    # Two workers (threads) answer at once; one line at a time keeps each whole.
    with _log_alone, open(ANSWERS_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")
