"""Public proof routes: the signing keys, and checking a receipt.

Both are read-only for the caller and carry no personal data, so any origin may call them
(`Access-Control-Allow-Origin: *`): a visitor's receipt can be checked from anywhere.
"""

from flask import Blueprint, Response, jsonify

from cmp_server.database import read_or_last_known
from cmp_server.extensions import db
from cmp_server.public.routes import parse_json_body
from cmp_server.schemas.receipt import SignedReceiptSchema
from cmp_server.services import checkpoints, verification
from cmp_server.services.signing_keys import key_documents

bp = Blueprint("proof", __name__)
receipt_in = SignedReceiptSchema()


def open_cors(response: Response, methods: str) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def published_keys() -> list[dict]:
    documents = key_documents()
    if not documents:  # first start: make the key now so there is one to publish
        checkpoints.current_signer()
        documents = key_documents()
    return documents


@bp.get("/.well-known/accord-keys.json")
def signing_keys():
    # Served from memory when the database hangs: keys are only ever added or retired.
    documents = read_or_last_known("signing-keys", published_keys)
    response = jsonify({"keys": documents})
    response.headers["Cache-Control"] = "public, max-age=300"
    return open_cors(response, "GET")


@bp.get("/api/v1/sites/<site_key>/checkpoints/latest")
def latest_checkpoint(site_key):
    """The log's latest signed checkpoint with the witnesses' cosignatures of it (404 JSON
    before the first checkpoint)."""
    from cmp_server.services import sites, witnesses
    from cmp_server.services.errors import NotFound

    site = sites.get_site(site_key)
    stored = checkpoints.site_checkpoints(site)
    if not stored:
        raise NotFound("This site's log has no checkpoint yet.")
    latest = {k: v for k, v in stored[-1].items() if k != "reason"}
    cosigned = [
        c
        for c in witnesses.cosignatures(site, latest["size"])
        if c["checkpoint"]["head_hash"] == latest["head_hash"]
    ]
    db.session.rollback()
    return open_cors(jsonify({"checkpoint": latest, "cosignatures": cosigned}), "GET")


@bp.post("/api/v1/receipts/verify")
def verify_receipt():
    body = parse_json_body()
    receipt_in.load(body)  # shape only: the signature is checked over `body` as sent
    verdict = verification.check_receipt(body)
    db.session.rollback()
    return open_cors(jsonify(verdict), "POST")


@bp.route("/api/v1/receipts/verify", methods=["OPTIONS"])
def verify_receipt_preflight():
    return open_cors(Response(status=204), "POST")
