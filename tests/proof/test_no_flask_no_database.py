"""The verifier runs with neither Flask nor a database: no module of cmp_server.proof imports
them (the offline `verify-bundle` and third-party auditors depend on it). This reads the
imports; test_accord_verify.py runs the verifier where those packages cannot be imported at
all, which also catches an import made by a parent package."""

import ast
from pathlib import Path

import pytest

import cmp_server.proof

PACKAGE = Path(cmp_server.proof.__file__).parent
FORBIDDEN = (
    "flask",
    "sqlalchemy",
    "psycopg",
    "cmp_server.models",
    "cmp_server.extensions",
    "cmp_server.services",
)


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_proof_modules_import_no_flask_and_no_database(module):
    tree = ast.parse((PACKAGE / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not [m for m in imported if m.startswith(FORBIDDEN)]
