"""Checks of OCDS output, offline: the shipped schema (Draft 4, the release schema registered
under its URL), libcoveocds given the standard as a local ZIP, milestone coherence.

libcoveocds reads "the standard" from a ZIP of the standard's repository. What gpw ships (and
what the project's shared/ocds holds) is the release and release-package schemas; the ZIP built
here holds those two files, the closed codelists (``Code`` column) read from the enums of the
release schema itself (a closed codelist's codes are exactly its field's ``enum``), and a Draft 4
stand-in for ``versioned-release-validation-schema.json`` (libcoveocds registers it; only record
packages reference it). The open codelists are not shipped, so libcoveocds cannot report codes
outside them here: the open codes gpw uses are listed in ``states/ocds.py``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from states import ocds

ROOT = "standard-1__1__5/"


@cache
def validator() -> jsonschema.Draft4Validator:
    registry: Registry[Any] = Registry().with_resource(
        ocds.RELEASE_SCHEMA_URL, Resource.from_contents(ocds.schema())
    )
    return jsonschema.Draft4Validator(
        ocds.schema("release-package-schema.json"),
        registry=registry,
        format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
    )


@cache
def release_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(
        ocds.schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def schema_errors(package: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator().iter_errors(package)
    ]


def closed_codelists() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "codelist" in node and node.get("openCodelist") is False:
                enum = node.get("enum") or node.get("items", {}).get("enum") or []
                found[node["codelist"]] = [c for c in enum if c is not None]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(ocds.schema())
    return found


@cache
def standard_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(ROOT, "")
        for name in ("release-schema.json", "release-package-schema.json"):
            archive.writestr(
                f"{ROOT}schema/{name}", (ocds.SCHEMA_DIR / name).read_text(encoding="utf-8")
            )
        archive.writestr(
            f"{ROOT}schema/versioned-release-validation-schema.json",
            json.dumps({"$schema": "http://json-schema.org/draft-04/schema#"}),
        )
        for name, codes in closed_codelists().items():
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(["Code"])
            writer.writerows([c] for c in codes)
            archive.writestr(f"{ROOT}schema/codelists/{name}", text.getvalue())
    return buffer.getvalue()


def cove(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds' report on a release package (API context, all additional checks)."""
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    config = LibCoveOCDSConfig(
        {"standard_zip": standard_zip(), "context": "api", "additional_checks": "all"}
    )
    result: dict[str, Any] = ocds_json_output(
        json_data=package, lib_cove_ocds_config=config, schema_version="1.1"
    )
    return result


def milestones(release: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for section in (release.get("planning", {}), release.get("tender", {})):
        found.extend(section.get("milestones", []))
    for contract in release.get("contracts", []):
        found.extend(contract.get("milestones", []))
        found.extend(contract.get("implementation", {}).get("milestones", []))
    return found


def incoherent(release: dict[str, Any]) -> list[str]:
    """Milestones that break the data-quality checks: ``met`` without ``dateMet``, a
    ``dateMet`` on one not met, a ``dateMet``/``dateModified`` after the release's date."""
    when = datetime.fromisoformat(release["date"])
    bad = []
    for m in milestones(release):
        status = m.get("status")
        if status == "met" and "dateMet" not in m:
            bad.append(f"{m['id']}: met without dateMet")
        if status != "met" and "dateMet" in m:
            bad.append(f"{m['id']}: {status} with dateMet")
        for key in ("dateMet", "dateModified"):
            if key in m and datetime.fromisoformat(m[key]) > when:
                bad.append(f"{m['id']}: {key} {m[key]} after the release date {release['date']}")
    for contract in release.get("contracts", []):
        for t in contract.get("implementation", {}).get("transactions", []):
            if datetime.fromisoformat(t["date"]) > when:
                bad.append(f"{t['id']}: paid after the release date")
    return bad


def check_package(package: dict[str, Any], *, with_cove: bool = True) -> None:
    """Every check: schema, milestone coherence, unique release ids, libcoveocds (no
    validation error, no closed-codelist value outside its list, no additional check failed)."""
    assert schema_errors(package) == []
    ids = [r["id"] for r in package["releases"]]
    assert len(ids) == len(set(ids))
    for release in package["releases"]:
        assert incoherent(release) == [], release["id"]
    if with_cove:
        report = cove(package)
        assert report["validation_errors"] == []
        assert report["additional_closed_codelist_values"] == {}
        assert report["additional_checks"] == {}
