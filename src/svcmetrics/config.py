"""Loading the config and the profile: YAML (safely) into the models, errors into problems."""

from __future__ import annotations

import difflib
import re
import reprlib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from svcmetrics.errors import ConfigError, Problem
from svcmetrics.models import Config, Profile
from svcmetrics.readers import SAFE_LOADER, parse_yaml

DEFAULT_CONFIG = "svcmetrics.yaml"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 4
"""Values shown in messages stay short, whatever a file nests or aliases into them."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through lists, dicts, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
    return found


def _valid_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at ``loc`` (the location of an unknown key) inside ``model``."""
    current: list[type[BaseModel]] = [model]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        following: list[type[BaseModel]] = []
        for candidate in current:
            info = candidate.model_fields.get(str(part))
            if info is None:
                for name, field in candidate.model_fields.items():
                    if field.alias == part or name == part:
                        info = field
            if info is not None:
                following.extend(_models_in(info.annotation))
        if following:
            current = following
    keys: list[str] = []
    for candidate in current:
        for name, field in candidate.model_fields.items():
            keys.append(field.alias or name)
    return keys


_UNION_TAG = re.compile(
    r"^(constrained-\w+|function-\w+.*|(list|dict|tuple)\[.*\]|int|str|float|bool)$"
)


def place(loc: tuple[int | str, ...], data: Any) -> str:
    """A location for people: ``communities[jianguo].households``, not ``communities.1...``."""
    parts: list[str] = []
    current = data
    for part in loc:
        item = (
            current[part]
            if isinstance(current, list) and isinstance(part, int) and part < len(current)
            else None
        )
        if isinstance(part, int):
            name = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{name}]" if name is not None else f"[{part + 1}]")
            current = item
        else:
            parts.append(("." if parts else "") + str(part))
            current = current.get(part) if isinstance(current, dict) else None
    return "".join(parts)


def validation_problems(
    error: ValidationError, model: type[BaseModel], file: str, data: Any = None
) -> list[Problem]:
    """One problem per place, an unknown key naming the closest valid one.

    pydantic reports a value that fits no member of a union once per member, with the
    member's tag in the location; those are folded into one problem for the place.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in error.errors(include_url=False):
        loc = tuple(
            part for part in item["loc"] if not (isinstance(part, str) and _UNION_TAG.match(part))
        )
        where = place(loc, data)
        if where in seen:
            continue
        seen.add(where)
        if item["type"] == "extra_forbidden":
            key = str(loc[-1])
            valid = _valid_keys(model, loc)
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            problems.append(
                Problem(
                    kind="config_unknown_key",
                    file=file,
                    column=where,
                    value=key,
                    params={"closest": close[0] if close else "", "valid": ", ".join(valid)},
                )
            )
            continue
        value = item.get("input")
        problems.append(
            Problem(
                kind="config_invalid",
                file=file,
                column=where,
                value=None if isinstance(value, dict | list) else str(value),
                params={"detail": item["msg"]},
            )
        )
    return problems


class _Loader(SAFE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loading (no tags run), except that a number written with a leading zero stays
    text: ``id: 0101`` is the id 0101, not the octal number 65."""


def _int_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(node.value)
    if len(text) > 1 and text.startswith("0") and text.isdigit():
        return text
    return loader.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_text)


def read_yaml(path: Path, name: str) -> Any:
    """Parse a YAML config or profile with the safe loader (tags are never executed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("file_not_found", file=name) from None
    except IsADirectoryError:
        raise ConfigError("not_a_file", file=name) from None
    except UnicodeDecodeError as exc:
        raise ConfigError("config_not_utf8", file=name, offset=exc.start) from exc
    except OSError as exc:
        raise ConfigError("unreadable", file=name, detail=exc.strerror or str(exc)) from exc
    # _Loader is a SafeLoader subclass: no tags run
    return parse_yaml(text, name, lambda text: yaml.load(text, Loader=_Loader), ConfigError)


def load_config(path: Path | None) -> tuple[Config, Path]:
    """The config and the folder its paths are relative to.

    Without ``path``, ``./svcmetrics.yaml`` is used when present, else an empty config.
    """
    if path is None:
        default = Path(DEFAULT_CONFIG)
        if not default.is_file():
            return Config(), Path.cwd()
        path = default
    data = read_yaml(path, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("config_not_mapping", file=str(path))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            "config_errors",
            problems=validation_problems(exc, Config, str(path), data),
            file=str(path),
        ) from None
    return config, path.parent


PROFILE_ALIASES: dict[str, str] = {
    "社区编号": "id",
    "社区": "id",
    "名称": "name",
    "上级": "parent",
    "居民数": "residents",
    "有服务能力居民数": "residents_capable",
    "户数": "households",
    "单位数": "units",
}
"""Chinese headers of a profile kept as a table (spec 1.1)."""


def _table_profile(path: Path, name: str) -> dict[str, Any]:
    """A profile kept as a CSV or Excel table: one row per community."""
    from svcmetrics.readers import read_table

    headers, rows = read_table(path, name)
    keys = [PROFILE_ALIASES.get(header.strip(), header.strip()) for header in headers]
    communities = []
    for row in rows:
        community: dict[str, Any] = {}
        for key, cell in zip(keys, row, strict=False):
            if not key or cell is None or not cell.strip():
                continue
            text = cell.strip()
            is_count = key not in ("id", "name", "parent")
            whole = text.isascii() and text.isdigit()
            community[key] = int(text) if is_count and whole else text
        communities.append(community)
    return {"communities": communities}


def load_profile(path: Path, name: str) -> Profile:
    """A profile: YAML with ``communities:`` (and ``parents:``), or a CSV or Excel table."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".xlsm", ".ods"):
        data: Any = _table_profile(path, name)
    else:
        data = read_yaml(path, name)
    if isinstance(data, list):
        data = {"communities": data}
    if not isinstance(data, dict):
        raise ConfigError("profile_not_mapping", file=name)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            "profile_errors", problems=validation_problems(exc, Profile, name, data), file=name
        ) from None


def check_profile_fields(profile: Profile, allowed: list[str], file: str) -> None:
    """Every count field of every community must be one an indicator reads (spec 1.1)."""
    problems: list[Problem] = []
    for community in profile.communities:
        for key, value in (community.model_extra or {}).items():
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                problems.append(
                    Problem(
                        kind="config_unknown_key",
                        file=file,
                        column=f"communities[{community.id}].{key}",
                        value=key,
                        params={"closest": close[0] if close else "", "valid": ", ".join(allowed)},
                    )
                )
                continue
            try:
                community.count_field_value(key, value)
            except ValueError:
                problems.append(
                    Problem(
                        kind="config_invalid",
                        file=file,
                        column=f"communities[{community.id}].{key}",
                        value=_SHORT.repr(value),
                        params={"detail": "a non-negative integer, or a list of {as_of, value}"},
                    )
                )
    if problems:
        raise ConfigError("profile_errors", problems=problems, file=file)


def with_parents(profile: Profile | None, config: Config, name: str) -> Profile:
    """The profile with the config's ``parents:`` (a profile file's own come first)."""
    communities = profile.communities if profile else (config.communities or [])
    known = {parent.id for parent in profile.parents} if profile else set()
    parents = [
        *(profile.parents if profile else []),
        *(p for p in config.parents if p.id not in known),
    ]
    try:
        return Profile(communities=communities, parents=parents)
    except ValidationError as exc:
        raise ConfigError(
            "profile_errors",
            problems=validation_problems(
                exc,
                Profile,
                name,
                {
                    "communities": [{"id": c.id} for c in communities],
                    "parents": [{"id": p.id} for p in parents],
                },
            ),
            file=name,
        ) from None
