"""The witness: a small service, run by someone other than the operator, that cosigns an
Accord log's checkpoints only while the log keeps growing as one chain (docs/witness.md).

It shares nothing with the Accord app but the proof code: its own key file, its own database
(DATABASE_URL, default a SQLite file in ACCORD_INSTANCE_PATH), its own small Flask app.
"""
