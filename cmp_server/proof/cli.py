"""`accord-verify BUNDLE [--trusted-keys FILE] [--witness-keys FILE]`: the offline verifier.

It needs Python, `cryptography` and `rfc8785`, nothing of the app: no Flask, no database, no
settings, and it writes no file. `accord proofs verify-bundle` runs this same code.

Exit status: 0 when the bundle is intact and signed by a pinned key; 2 when it is intact but
no key was pinned, so nothing shows who signed it (anyone can make a bundle that verifies
with its own key); 1 when anything is wrong, or the command line or key file is unusable.
With `--witness-keys`, the bundle must also hold a valid cosignature, by one of those witness
keys, of one of its checkpoints, and every cosignature by those keys must be valid.
"""

import argparse
import json
import sys
import time

from cmp_server.proof.bundle import COSIGNATURES, BundleError, BundleReader
from cmp_server.proof.cosign import bundle_cosignatures
from cmp_server.proof.keys import PublicKeys
from cmp_server.proof.verify import BundleReport, verify_bundle

EXIT_OK, EXIT_BROKEN, EXIT_UNPINNED = 0, 1, 2
PIN_HOWTO = (
    "To pin them: save the site's https://<accord server>/.well-known/accord-keys.json (or get "
    "a copy from its DPO), check that its key IDs match the ones above, then run\n"
    "  accord-verify {bundle} --trusted-keys accord-keys.json"
)


class UsageError(Exception):
    """The command line or a key file cannot be used (the message says why)."""


def load_trusted_keys(path: str) -> PublicKeys:
    """Keys in the format of /.well-known/accord-keys.json: {"keys": [{key_id, ...}]}."""
    try:
        with open(path, encoding="utf-8") as file:
            documents = json.load(file)["keys"]
        return PublicKeys.from_documents(documents)
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not an accord-keys.json ({exc})") from None


class Progress:
    """Records checked and rate on stderr, at most twice a second (export does the same);
    a verification shorter than half a second prints nothing."""

    def __init__(self, stream):
        self.stream, self.done, self.shown_any = stream, 0, False
        self.started = self.shown = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.shown >= 0.5:
            self.shown, self.shown_any = now, True
            rate = self.done / max(now - self.started, 1e-9)
            self.stream.write(f"verifying: {self.done:,} records, {rate:,.0f}/s\r")
            self.stream.flush()

    def finish(self) -> None:
        if self.shown_any:
            self.stream.write("\n")


def check_witnesses(bundle: str, witness_keys: PublicKeys, report: BundleReport) -> list[str]:
    """Add the witness check's failures to the report; returns the verified witness key IDs."""
    try:
        with open(bundle, "rb") as file:
            reader = BundleReader(file)
            cosignatures = reader.json_member(COSIGNATURES) if COSIGNATURES in reader.names else []
            good, problems = bundle_cosignatures(
                cosignatures, reader.json_member("checkpoints.json"), witness_keys
            )
    except (OSError, BundleError) as exc:
        good, problems = [], [str(exc)]
    report.problems += problems
    return good


def run(
    bundle: str,
    trusted_keys: str | None = None,
    out=None,
    err=None,
    witness_keys: str | None = None,
) -> int:
    """Verify `bundle`, print what was verified and the verdict; returns the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        trusted = load_trusted_keys(trusted_keys) if trusted_keys else None
        witnesses = load_trusted_keys(witness_keys) if witness_keys else None
    except UsageError as exc:
        err.write(f"Error: {exc}\n")
        return EXIT_BROKEN
    progress = Progress(err)
    try:
        with open(bundle, "rb") as file:
            report = verify_bundle(file, trusted, progress)
    except OSError as exc:
        err.write(f"Error: {bundle}: cannot be read ({exc.strerror})\n")
        return EXIT_BROKEN
    progress.finish()
    witnessed = check_witnesses(bundle, witnesses, report) if witnesses and report.ok else []
    for line in describe(report):
        out.write(line + "\n")
    for key_id in witnessed:
        out.write(f"Witness {key_id}:  cosigned a checkpoint of this bundle (key pinned)\n")
    out.flush()
    if not report.ok:
        err.write(f"FAILED: {report.problems[0]}\n")
        for problem in report.problems[1:]:
            err.write(f"  also: {problem}\n")
        return EXIT_BROKEN
    if not report.pinned:
        out.write(
            "SIGNER NOT ESTABLISHED: the bundle is intact, but it was checked with the keys it "
            "carries itself, which anyone can make.\n" + PIN_HOWTO.format(bundle=bundle) + "\n"
        )
        return EXIT_UNPINNED
    out.write(
        f"OK: bundle of site {report.site_key} intact and signed by the pinned key "
        f"{report.signer_key_id} ({trusted_keys})\n"
    )
    return EXIT_OK


def describe(report: BundleReport) -> list[str]:
    """What was verified, as far as the verification went."""
    manifest = report.manifest
    lines = [f"Site:                {report.site_key or 'unknown'}"]
    if manifest:
        lines.append(f"Exported at:         {manifest.get('created_at')}")
        lines.append(f"Log size at export:  {manifest.get('log_size')} records")
        since, until = manifest.get("since"), manifest.get("until")
        if since or until:
            lines.append(f"Range asked:         from {since or 'the start'} until {until or 'now'}")
    if report.chain is not None and report.chain.records:
        chain = report.chain
        lines.append(
            f"Records:             {chain.records:,} checked, positions "
            f"{chain.first_position}-{chain.last_position}"
        )
    if report.checkpoints:
        lines.append(
            f"Checkpoints:         {report.checkpoints} signed, the largest at size "
            f"{report.largest_checkpoint}"
        )
    if report.revisions:
        lines.append(f"Banner revisions:    {report.revisions}")
    if report.scans:
        lines.append(f"Scans:               {report.scans}, each with its signed statement")
    if report.screenshots:
        lines.append(f"Screenshots:         {report.screenshots} PNGs of those revisions")
    for key_id, fingerprint in report.fingerprints.items():
        role = "signed the manifest" if key_id == report.signer_key_id else "in the bundle"
        lines.append(f"Key {key_id}:  {role}, SHA-256 fingerprint {fingerprint}")
    return lines


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 1, not argparse's 2, which means "not pinned" here
        self.print_usage(sys.stderr)
        self.exit(EXIT_BROKEN, f"{self.prog}: error: {message}\n")


def main(argv=None, prog: str = "accord-verify") -> int:
    parser = _Parser(
        prog=prog,
        description="Verify an Accord proof bundle offline. Exit 0: intact and signed by a "
        "pinned key; 2: intact, signer not established; 1: broken.",
    )
    parser.add_argument("bundle", help="The bundle file (accord proofs export --format bundle).")
    parser.add_argument(
        "--trusted-keys",
        metavar="FILE",
        help="The site's accord-keys.json, saved earlier: every signature must be by these keys.",
    )
    parser.add_argument(
        "--witness-keys",
        metavar="FILE",
        help="Witness public keys (accord-keys.json format, e.g. from `accord witness key`): "
        "the bundle must hold a valid cosignature by one of them.",
    )
    args = parser.parse_args(argv)
    return run(args.bundle, args.trusted_keys, witness_keys=args.witness_keys)


def console() -> None:
    """Entry point of the `accord-verify` console script."""
    sys.exit(main())
