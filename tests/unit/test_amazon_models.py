"""The trimmed, cached botocore models: every call imagesmith makes is in them, and they work offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

botocore_session = pytest.importorskip("botocore.session", reason="botocore is a dependency of the amazon builders")

from imagesmith.builders.amazon.models import OPERATIONS, TrimmedLoader, trim_model  # noqa: E402

SOURCE = Path(__file__).resolve().parents[2] / "src" / "imagesmith"
_CALL = re.compile(r'\.call\(\s*"([a-z0-9]+)",\s*"([A-Za-z]+)"')


def calls_in_source() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in SOURCE.rglob("*.py"):
        found.update(_CALL.findall(path.read_text()))
    return found


def test_every_operation_called_in_the_source_is_in_the_trimmed_models() -> None:
    calls = calls_in_source()
    assert ("ec2", "RunInstances") in calls  # the scan itself works
    missing = sorted(f"{service} {op}" for service, op in calls if op not in OPERATIONS.get(service, frozenset()))
    assert missing == []


def make_client(tmp_path: Path, service: str = "ec2") -> object:
    session = botocore_session.Session()
    session.register_component("data_loader", TrimmedLoader(tmp_path))
    session.set_credentials("AK", "SK")
    return session.create_client(service, region_name="us-west-1", endpoint_url="http://127.0.0.1:9")


def test_a_client_from_the_trimmed_model_has_exactly_the_listed_operations(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    names = set(client.meta.service_model.operation_names)  # type: ignore[attr-defined]
    assert names == OPERATIONS["ec2"]
    assert hasattr(client, "run_instances") and not hasattr(client, "describe_hosts")


def test_the_second_session_reads_the_cache(tmp_path: Path) -> None:
    make_client(tmp_path)
    cached = {p.name for p in tmp_path.iterdir()}
    [model] = [name for name in cached if name.startswith("ec2.service-2.latest.")]
    assert not any(name.endswith(".tmp") for name in cached)
    (tmp_path / model).write_bytes(b"not a pickle")  # a broken cache is reloaded
    client = make_client(tmp_path)
    assert hasattr(client, "create_image")


def test_another_operation_list_does_not_reuse_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_client(tmp_path)
    monkeypatch.setitem(OPERATIONS, "ec2", OPERATIONS["ec2"] | {"DescribeHosts"})
    client = make_client(tmp_path)
    assert hasattr(client, "describe_hosts")


def test_an_unwritable_cache_still_gives_a_client(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    client = make_client(blocker / "sub")  # mkdir fails: no cache, still a client
    assert hasattr(client, "create_image")


def test_trimming_keeps_the_shapes_an_operation_reaches() -> None:
    model = {
        "metadata": {"protocol": "ec2"}, "documentation": "big",
        "operations": {"A": {"input": {"shape": "AIn"}, "documentation": "x"}, "B": {"input": {"shape": "BIn"}}},
        "shapes": {
            "AIn": {"type": "structure", "members": {"L": {"shape": "List", "documentation": "y"}}},
            "List": {"type": "list", "member": {"shape": "Str"}}, "Str": {"type": "string"},
            "BIn": {"type": "structure", "members": {}},
        },
    }  # fmt: skip
    trimmed = trim_model(model, frozenset({"A"}))
    assert set(trimmed["operations"]) == {"A"}
    assert set(trimmed["shapes"]) == {"AIn", "List", "Str"}
    assert "documentation" not in trimmed and trimmed["shapes"]["AIn"]["members"]["L"] == {"shape": "List"}


def test_endpoint_data_is_trimmed_to_imagesmiths_services_and_points_at_this_botocore(tmp_path: Path) -> None:
    import botocore.loaders  # type: ignore[import-untyped]

    for _ in range(2):  # written to the cache, then read from it
        data, path = TrimmedLoader(tmp_path).load_data_with_path("endpoints")
        services = {name for partition in data["partitions"] for name in partition["services"]}
        assert services and services <= set(OPERATIONS)
        assert "ec2" in services and "us-west-1" in data["partitions"][0]["regions"]
        assert path == f"{botocore.loaders.Loader.BUILTIN_DATA_PATH}/endpoints"
    assert any(p.name.startswith("data.endpoints.trimmed.") for p in tmp_path.iterdir())
