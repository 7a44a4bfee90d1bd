"""Metrics in the Prometheus text exposition format (version 0.0.4), written by hand: the
format is a few lines of text, not worth a dependency."""

from collections.abc import Iterable

from cmp_server.services.witnesses import Lag

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    """A label value with `\\`, `"` and newlines escaped, as the format requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def witness_lag_text(lags: Iterable[Lag]) -> str:
    """`accord_witness_lag_records` and `accord_witness_cosigned_size`, one sample per site
    and configured witness."""
    lags = list(lags)
    lines = [
        "# HELP accord_witness_lag_records Records of the site's log the witness has not "
        "cosigned yet.",
        "# TYPE accord_witness_lag_records gauge",
    ]
    lines += [f"accord_witness_lag_records{{{_labels(lag)}}} {lag.behind}" for lag in lags]
    lines += [
        "# HELP accord_witness_cosigned_size Size of the latest checkpoint the witness cosigned.",
        "# TYPE accord_witness_cosigned_size gauge",
    ]
    lines += [f"accord_witness_cosigned_size{{{_labels(lag)}}} {lag.cosigned_size}" for lag in lags]
    return "\n".join(lines) + "\n"


def _labels(lag: Lag) -> str:
    return f'site="{_label(lag.site_key)}",witness="{_label(lag.witness)}"'
