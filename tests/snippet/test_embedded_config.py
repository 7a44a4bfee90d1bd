"""What the server embeds in the snippet (client_config.snippet_config): the size reference."""

import json
import os
from pathlib import Path

from cmp_server.services import client_config, revisions

# The build's size reference (snippet/build.mjs): what `GET /s/<key>.js?lang=fr` (the inline
# stub's request for a French-speaking visitor) embeds for the demo site (3 categories,
# English and French) for an opt_in visitor without GPC; French is the demo's longer language.
DEMO_SNIPPET_CONFIG = Path(__file__).resolve().parents[2] / "snippet/test/demo-snippet-config.json"
SITE_KEY = "q3Xv9LmT2bKw"  # 12 characters, as site keys are
API = f"http://127.0.0.1:5000/api/v1/sites/{SITE_KEY}"


def embedded(site) -> dict:
    client = client_config.client_config(
        revisions.published_revision(site), SITE_KEY, "opt_in", API, False
    )
    return client_config.snippet_config(client, language="fr")


def test_the_builds_size_reference_is_what_the_server_embeds_for_the_demo_site(make_site):
    """The budget is measured with the trimmed configuration the server embeds, not the
    whole client configuration. ACCORD_UPDATE_SNIPPET_FIXTURE=1 rewrites the file."""
    config = embedded(make_site())
    assert len(config["config"]["categories"]) == 3
    assert "texts" not in config["config"]
    assert config["texts"]["lang"] == "fr"
    if os.environ.get("ACCORD_UPDATE_SNIPPET_FIXTURE") == "1":
        text = json.dumps(config, ensure_ascii=False, indent=1) + "\n"
        DEMO_SNIPPET_CONFIG.write_text(text, encoding="utf-8")
    fixture = json.loads(DEMO_SNIPPET_CONFIG.read_text(encoding="utf-8"))
    # Same content and key order: the order is part of what gzip sees.
    assert json.dumps(fixture) == json.dumps(config), (
        f"{DEMO_SNIPPET_CONFIG.name} is not what the server embeds; rewrite it with "
        "ACCORD_UPDATE_SNIPPET_FIXTURE=1 pytest tests/snippet/test_embedded_config.py"
    )
