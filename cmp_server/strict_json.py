"""JSON request bodies read strictly, with orjson.

The standard library accepts a lone UTF-16 surrogate escape (`"\\ud800"`), which no UTF-8
encoder or database can store: a body carrying one (a visitor's page URL, a site name) got
past validation and failed at commit with a 500. orjson refuses it as invalid JSON, as it does
NaN, Infinity and nesting deeper than 1024, so such a body is a 400 like any malformed one.
"""

import orjson
from flask.json.provider import DefaultJSONProvider


def loads(data: bytes | str):
    """The parsed value; ValueError (orjson.JSONDecodeError) when the text is not strict JSON."""
    return orjson.loads(data)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with `loads` above for request bodies (`request.get_json`). A call with
    options (the session serializer's `object_hook`) keeps the standard library's parser."""

    def loads(self, s, **kwargs):
        if kwargs:
            return super().loads(s, **kwargs)
        return loads(s)
