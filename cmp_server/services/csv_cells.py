"""CSV cells a spreadsheet will not run: every CSV Accord writes goes through `safe_cell`.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
by Excel, LibreOffice and Google Sheets (CSV injection). Visitors control some exported text
(the browser and OS names parsed from their User-Agent) and staff control more (names, audit
details), so such a cell is written with a leading `'`, which spreadsheets show as text. The
NDJSON export and proof bundles keep the exact values (hashes are computed over them).
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """`value`, with a `'` in front when it is text a spreadsheet would read as a formula."""
    if value.__class__ is str and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: list) -> list:
    """A CSV row with every cell made safe (`safe_cell`)."""
    return [safe_cell(value) for value in row]


def make_cells_safe(row: list, indexes: list[int]) -> None:
    """`safe_cell` on the cells of `row` at `indexes`, in place: one call per row for a
    streaming export, where a call per cell would cost more than writing the row."""
    for i in indexes:
        value = row[i]
        if value.__class__ is str and value.startswith(FORMULA_STARTS):
            row[i] = "'" + value
