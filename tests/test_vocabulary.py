"""Python and the snippet speak one vocabulary: cmp_server/vocabulary.py and
snippet/src/constants.js spell the same actions, tracker kinds, Consent Mode signals, regimes,
cookie name and defaults (the JS file is read as text: no Node needed)."""

import ast
import re
from pathlib import Path

import pytest

from cmp_server import vocabulary
from cmp_server.services.charts import ACTION_LABELS

CONSTANTS_JS = Path(__file__).resolve().parent.parent / "snippet" / "src" / "constants.js"
EXPORT = re.compile(r"^export const ([A-Z][A-Z0-9_]*) = (.+?);", re.MULTILINE | re.DOTALL)
SHARED = ("ACTIONS", "TRACKER_KINDS", "CONSENT_MODE_SIGNALS", "REGIMES", "CONSENT_COOKIE")


def js_constants(source: str) -> dict:
    """The `export const NAME = literal;` of a JS module whose literal is a string, a number,
    a boolean or an array of those; other exports are left out."""
    found = {}
    for name, literal in EXPORT.findall(source):
        text = re.sub(r"//[^\n]*", "", literal)  # comments inside a multi-line array
        text = re.sub(r",\s*]$", "]", text.strip())  # trailing comma
        text = {"true": "True", "false": "False"}.get(text, text)
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue  # an expression (`60 * DAY_MS`), an object: not vocabulary
        found[name] = tuple(value) if isinstance(value, list) else value
    return found


@pytest.fixture(scope="module")
def js():
    return js_constants(CONSTANTS_JS.read_text(encoding="utf-8"))


def test_the_parser_reads_arrays_strings_and_numbers():
    source = "export const A = [\n  'x', // why\n  'y',\n];\nexport const B = 'c';\n"
    source += "export const N = 864e5;\nexport const F = () => 1;\n"
    assert js_constants(source) == {"A": ("x", "y"), "B": "c", "N": 864e5}


@pytest.mark.parametrize("name", SHARED)
def test_python_and_the_snippet_agree(js, name):
    assert name in js, f"snippet/src/constants.js no longer exports {name}"
    assert js[name] == getattr(vocabulary, name)


def test_the_snippet_knows_the_servers_default_refusal_interval(js):
    assert (
        js["REFUSAL_INTERVAL_DAYS"] == vocabulary.VISITOR_OPTION_DEFAULTS["refusal_interval_days"]
    )


def test_every_action_has_a_label_in_the_console():
    assert set(ACTION_LABELS) == set(vocabulary.ACTIONS)
