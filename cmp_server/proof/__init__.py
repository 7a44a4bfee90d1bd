"""Proof of consent: canonical JSON, hashing and verification. No Flask, no database here."""
