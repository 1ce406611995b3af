"""Copy the run objects from the results bucket (the sandbox's, or a real one) to a local folder for DuckDB."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootwatch_cli.analytics.catalog import QueryError

RESULTS_PREFIX = "results/"
_STACK_BUCKET = re.compile(r"-results-\d{12}$")


def find_results_bucket(client: Any) -> str:
    """The one bucket that holds run objects (``results/dt=...``): how a sandbox's bucket is found.

    Prefers ``*-results-<account>`` (the stack's naming); QueryError when none or several qualify.
    """
    try:
        names = [bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])]
        holding = [
            name
            for name in names
            if client.list_objects_v2(Bucket=name, Prefix=RESULTS_PREFIX + "dt=", MaxKeys=1).get("KeyCount", 0)
        ]
    except (ClientError, BotoCoreError) as exc:
        raise QueryError(f"--endpoint-url: cannot list the buckets there: {exc}") from None
    named = [name for name in holding if _STACK_BUCKET.search(name)]
    for candidates in (named, holding):
        if len(candidates) == 1:
            return candidates[0]
    if not holding:
        raise QueryError("--bucket: no bucket there holds results/ yet (deploy and `rootwatch run` first), or name it")
    raise QueryError(f"--bucket: several buckets hold results ({', '.join(sorted(holding))}); name one")


def download_results(client: Any, bucket: str, dest: str | os.PathLike[str], *, since: str | None = None) -> int:
    """Download every ``results/dt=.../*.json.gz`` object (``dt`` >= ``since`` when given) under ``dest``.

    Keys keep their layout (``dest/results/dt=YYYY-MM-DD/<run_id>.json.gz``). Returns the number of
    objects. QueryError naming the bucket when it cannot be listed or read.
    """
    keys: list[str] = []
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=RESULTS_PREFIX):
            for item in page.get("Contents", []):
                key = item["Key"]
                partition = key[len(RESULTS_PREFIX) :].split("/", 1)[0]
                if not (partition.startswith("dt=") and key.endswith(".json.gz")):
                    continue
                if since is not None and partition[3:] < since:
                    continue
                keys.append(key)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise QueryError(f"--bucket {bucket}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as exc:
        raise QueryError(f"--bucket {bucket}: {exc}") from None

    root = Path(dest)

    def fetch(key: str) -> None:
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(target))

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fetch, keys))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise QueryError(f"--bucket {bucket}: cannot download results: {error.get('Message') or exc}") from None
    return len(keys)
