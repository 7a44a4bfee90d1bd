"""The reference the benchmarks compare Accord to, under the same gunicorn settings:

- POST /consent: a bare Flask + SQLAlchemy endpoint that parses the JSON body and inserts and
  commits one row per request (same database, same SQLite pragmas as Accord);
- GET /snippet.js: Flask serving the same bytes as Accord's snippet from memory.
"""

import json
import os
from pathlib import Path

from flask import Flask, Response, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from cmp_server.database import _sqlite_pragmas, engine_options

app = Flask(__name__)
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
app.config["SQLALCHEMY_DATABASE_URI"] = url
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
db = SQLAlchemy(app)
SNIPPET = Path(os.environ.get("REFERENCE_SNIPPET", "/dev/null")).read_bytes()


class Consent(db.Model):
    __tablename__ = "reference_consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))
    choices: Mapped[dict] = mapped_column(JSON)


with app.app_context():
    if db.engine.dialect.name == "sqlite":
        event.listen(db.engine, "connect", _sqlite_pragmas)
    db.create_all()


@app.post("/consent")
def consent():
    body = json.loads(request.get_data())
    db.session.add(
        Consent(
            consent_id=body["consent_id"],
            device_id=body["device_id"],
            action=body["action"],
            choices=body["choices"],
        )
    )
    db.session.commit()
    return {"ok": True}, 201


@app.get("/snippet.js")
def snippet():
    return Response(SNIPPET, mimetype="text/javascript")
