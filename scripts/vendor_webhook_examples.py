"""Vendor GitHub's example webhook payloads as test data for the receiver's tests.

Fetches `@octokit/webhooks-examples` with `npm pack`, keeps `api.github.com/index.json`
(58 events, 329 payloads: event name → examples) and writes it gzipped, without the schemas,
to `tests/data/webhook_examples/api.github.com.json.gz`.

    python scripts/vendor_webhook_examples.py
"""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@octokit/webhooks-examples@7.6.1"
MEMBER = "package/api.github.com/index.json"
TARGET = Path(__file__).resolve().parent.parent / "tests/data/webhook_examples"


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=scratch, check=True)
        archive = next(Path(scratch).glob("*.tgz"))
        with tarfile.open(archive) as tar:
            member = tar.extractfile(MEMBER)
            if member is None:
                raise SystemExit(f"{PACKAGE} has no {MEMBER}; the package layout changed")
            events = json.load(member)
    examples = {event["name"]: event["examples"] for event in events}
    TARGET.mkdir(parents=True, exist_ok=True)
    output = TARGET / "api.github.com.json.gz"
    with gzip.open(output, "wt", encoding="utf-8") as handle:
        json.dump({"package": PACKAGE, "events": examples}, handle, separators=(",", ":"))
    count = sum(len(payloads) for payloads in examples.values())
    print(f"{output}: {len(examples)} events, {count} payloads")


if __name__ == "__main__":
    main()
