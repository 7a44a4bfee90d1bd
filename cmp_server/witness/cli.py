"""`accord witness serve|key|pin`: run a witness (no Accord app, no Accord database).

It reads ACCORD_INSTANCE_PATH (its key and, by default, its SQLite database) and DATABASE_URL
(its own database) from the environment, never the operator's.
"""

import json
import os

import click

from cmp_server.witness import store


@click.group("witness", help="Run a witness that cosigns other installations' checkpoints.")
def witness_cli():
    pass


@witness_cli.command("serve")
@click.option("--bind", default="127.0.0.1:8800", show_default=True, help="HOST:PORT")
def serve(bind):
    """Serve the witness API (docs/witness.md) until stopped."""
    from werkzeug.serving import make_server

    from cmp_server.witness.app import create_witness_app

    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{bind!r} is not HOST:PORT", param_hint="--bind")
    app = create_witness_app(os.environ)
    server = make_server(host, int(port), app, threaded=True)
    signer = store.load_signer(os.environ)
    click.echo(f"witness {signer.key_id} listening on http://{bind}", err=True)
    server.serve_forever()


@witness_cli.command("key")
def key():
    """Print the witness's public key file (made with the key on first use)."""
    store.load_signer(os.environ)
    click.echo((store.instance_path(os.environ) / store.PUBLIC_FILE).read_text(), nl=False)


@witness_cli.command("pin")
@click.option("--site", "site_key", required=True, help="The log's site key.")
@click.option("--keys", "keys_file", required=True, type=click.File("r"), help="accord-keys.json")
def pin(site_key, keys_file):
    """Register a log's signing keys ahead of its first checkpoint (instead of trusting the
    keys its first checkpoint brings)."""
    try:
        documents = json.load(keys_file)["keys"]
        with store.open_database(os.environ).begin() as conn:
            store.pin_keys(conn, site_key, documents)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise click.ClickException(f"not an accord-keys.json: {exc}") from None
    click.echo(f"{site_key}: pinned {', '.join(d['key_id'] for d in documents)}")
