"""The proof signing keys (admin): list them, rotate to a new one. Old keys keep verifying."""

import base64

from flask import flash, redirect, render_template, url_for

from cmp_server.admin.access import record, requires
from cmp_server.admin.blueprint import api_bp, bp
from cmp_server.admin.forms import ActionForm
from cmp_server.extensions import db
from cmp_server.services import checkpoints, signing_keys


def key_row(key) -> dict:
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": base64.b64encode(key.public_key).decode(),
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }


def rotate() -> str:
    key_id = checkpoints.rotate_key()
    record("keys.rotate", target=key_id)
    db.session.commit()
    return key_id


@bp.get("/keys")
@requires("keys")
def keys_page():
    rows = [key_row(k) for k in signing_keys.list_keys()]
    return render_template("admin/keys.html", rows=rows, form=ActionForm())


@bp.post("/keys/rotate")
@requires("keys")
def keys_rotate():
    if ActionForm().validate_on_submit():
        flash(f"New signing key {rotate()}; earlier keys still verify.", "success")
    return redirect(url_for("admin.keys_page"))


@api_bp.get("/keys")
@requires("keys")
def keys_list():
    return {"keys": [key_row(k) for k in signing_keys.list_keys()]}


@api_bp.post("/keys/rotate")
@requires("keys")
def keys_rotate_api():
    return {"key_id": rotate()}, 201
