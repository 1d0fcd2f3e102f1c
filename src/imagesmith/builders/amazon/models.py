"""botocore's data loader, made fast: service models cut to the operations imagesmith calls, cached.

Measured (docs/amazon.md): making the first EC2 client costs about a second, almost all of it
decoding EC2's 1,000-operation service model from JSON and building a method for every
operation. imagesmith calls a few dozen operations, so :class:`TrimmedLoader` keeps only those
(and the shapes they reach, without documentation) and stores the result, and every other file
the client reads (endpoint rules, partitions, retry settings), as pickles in the user's cache
directory, keyed by botocore's version. The first build after an upgrade pays the full load once;
later ones load a few kilobytes. If the cache cannot be written, the loader still trims and goes on.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.loaders import Loader  # type: ignore[import-untyped]

#: every operation imagesmith calls, per service (tests/unit/test_amazon_models.py checks the source)
OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({
        "AuthorizeSecurityGroupIngress", "CopyImage", "CreateFleet", "CreateImage", "CreateKeyPair",
        "CreateLaunchTemplate", "CreateSecurityGroup", "CreateSnapshot", "CreateTags", "CreateVolume",
        "DeleteKeyPair", "DeleteLaunchTemplate", "DeleteSecurityGroup", "DeleteSnapshot", "DeleteTags",
        "DeleteVolume", "DeregisterImage", "DescribeImages", "DescribeImportImageTasks", "DescribeInstances",
        "DescribeRegions", "DescribeSecurityGroups", "DescribeSnapshots", "DescribeSubnets", "DescribeVolumes",
        "DescribeVpcs", "GetPasswordData", "ImportImage", "ModifyImageAttribute", "ModifyInstanceAttribute",
        "ModifySnapshotAttribute", "RegisterImage", "RunInstances", "StopInstances", "TerminateInstances",
    }),
    "iam": frozenset({
        "AddRoleToInstanceProfile", "CreateInstanceProfile", "CreateRole", "DeleteInstanceProfile",
        "DeleteRole", "DeleteRolePolicy", "GetInstanceProfile", "GetRole", "PutRolePolicy",
        "RemoveRoleFromInstanceProfile",
    }),
    "sts": frozenset({"AssumeRole", "DecodeAuthorizationMessage", "GetCallerIdentity"}),
    "secretsmanager": frozenset({"GetSecretValue"}),
    "ssm": frozenset({"GetParameter"}),
    "s3": frozenset({"DeleteObject", "PutObject"}),
}  # fmt: skip


def cache_dir() -> Path:
    import botocore  # type: ignore[import-untyped]

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "imagesmith" / f"botocore-{botocore.__version__}"


def trim_endpoints(endpoints: dict[str, Any]) -> dict[str, Any]:
    """botocore's endpoint data (every partition's regions and 300+ services, about half a megabyte
    to unpickle on every run) with only the services imagesmith makes clients for."""
    partitions = [
        {**partition, "services": {k: v for k, v in partition.get("services", {}).items() if k in OPERATIONS}}
        for partition in endpoints.get("partitions", [])
    ]
    return {**endpoints, "partitions": partitions}


def trim_model(model: dict[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """``model`` with only ``operations`` and the shapes they reach; documentation dropped."""
    ops = {name: _undocumented(op) for name, op in model["operations"].items() if name in operations}
    shapes = model["shapes"]
    keep: set[str] = set()
    todo = [ref for op in ops.values() for ref in _operation_refs(op)]
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        todo.extend(_shape_refs(shapes[name]))
    return {
        **{k: v for k, v in model.items() if k not in ("operations", "shapes", "documentation")},
        "operations": ops,
        "shapes": {name: _undocumented(shapes[name]) for name in sorted(keep)},
    }


def _operation_refs(op: dict[str, Any]) -> Iterator[str]:
    for key in ("input", "output"):
        if key in op:
            yield op[key]["shape"]
    for error in op.get("errors", []):
        yield error["shape"]


def _shape_refs(shape: dict[str, Any]) -> Iterator[str]:
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]
    for member in shape.get("members", {}).values():
        yield member["shape"]


def _undocumented(value: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in value.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(out.get("members"), dict):
        out["members"] = {name: _undocumented(ref) for name, ref in out["members"].items()}
    return out


class TrimmedLoader(Loader):  # type: ignore[misc]
    """A botocore ``Loader`` that trims service models and caches what it loads (see the module doc)."""

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self.directory = directory or cache_dir()

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        key = f"{service_name}.{type_name}.{api_version or 'latest'}"
        if type_name == "service-2" and service_name in OPERATIONS:  # a changed list must not hit an old cache
            key += "." + hashlib.sha256(",".join(sorted(OPERATIONS[service_name])).encode()).hexdigest()[:16]
        cached = self._read(key)
        if cached is not None:
            return cached
        model = super().load_service_model(service_name, type_name, api_version)
        if type_name == "service-2" and service_name in OPERATIONS:
            model = trim_model(model, OPERATIONS[service_name])
        self._write(key, model)
        return model

    def load_data_with_path(self, name: str) -> Any:
        if "/" in name:  # a service's file, read by load_service_model (which caches the result)
            return super().load_data_with_path(name)
        key = "data." + name
        if name == "endpoints":  # a changed service list must not hit an old cache
            key += ".trimmed." + hashlib.sha256(",".join(sorted(OPERATIONS)).encode()).hexdigest()[:16]
        cached = self._read(key)
        if cached is None:
            data, path = super().load_data_with_path(name)
            if name == "endpoints":
                data = trim_endpoints(data)
            cached = (data, path)
            self._write(key, cached)
        data, path = cached
        # the cache is per botocore version, not per installation: say where *this* botocore's file is
        # (botocore trusts its own built-in endpoint data more than a file from elsewhere)
        builtin = os.path.join(self.BUILTIN_DATA_PATH, name)
        if path.replace(os.sep, "/").endswith("/botocore/data/" + name):
            path = builtin
        return data, path

    def _read(self, key: str) -> Any:
        try:
            with open(self.directory / f"{key}.pickle", "rb") as stream:
                return pickle.load(stream)  # our own cache, in the user's own directory
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            return None

    def _write(self, key: str, value: Any) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as stream:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.directory / f"{key}.pickle")
        except OSError:
            return
