"""Marshmallow schemas at every boundary: one per resource, unknown fields rejected."""
