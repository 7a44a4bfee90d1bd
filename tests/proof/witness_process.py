"""A real witness for tests: `accord witness serve` in a subprocess, with its own instance
folder and database, as someone other than the operator would run it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fixtures.network import free_port

BIN = Path(sys.executable).parent


class Witness:
    def __init__(self, folder: Path, database_url: str | None = None, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(folder),
            "LANG": "C.UTF-8",
            "ACCORD_INSTANCE_PATH": str(folder / "instance"),
        }
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.process = None

    def accord(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "accord"), "witness", *map(str, args)],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def key_file(self) -> Path:
        """The witness's public key file, as `accord witness key` prints it."""
        path = self.folder / "witness-key.json"
        path.write_text(self.accord("key").stdout)
        return path

    def keys(self) -> dict:
        return json.loads(self.accord("key").stdout)

    def start(self) -> "Witness":
        self.log = (self.folder / "witness.log").open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "accord"), "witness", "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.env,
            cwd=self.folder,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "witness.log").read_text())
            try:
                requests.get(self.url + "/v1/key", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the witness did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()
        self.process = None
