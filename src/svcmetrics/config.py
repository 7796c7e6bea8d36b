"""Loading the config and the profile: YAML (safely) into the models, errors into problems."""

from __future__ import annotations

import re
import reprlib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from svcmetrics import models
from svcmetrics.errors import ConfigError, Problem
from svcmetrics.models import (
    MANGLED_ID,
    MODEL_ERRORS,
    PROFILE_COUNT_FIELDS,
    Config,
    Profile,
    is_total,
    unknown_key_params,
)
from svcmetrics.readers import (
    EXCEL_SUFFIXES,
    SAFE_LOADER,
    match_headers,
    parse_yaml,
    read_table,
    split_sheet,
)

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


_MODEL_NAMES = frozenset(
    name
    for name, value in vars(models).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
)
"""Model names pydantic puts in the location of a union member's errors (``LogSpec``)."""


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


def unknown_key_problem(key: str, valid: Sequence[str], file: str, where: str) -> Problem:
    """An unknown key at ``where``, named with the closest valid key (spec 1.1, 1.3)."""
    return Problem(
        kind="config_unknown_key",
        file=file,
        column=where,
        value=key,
        params=unknown_key_params(key, valid),
    )


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
            part
            for part in item["loc"]
            if not (isinstance(part, str) and (_UNION_TAG.match(part) or part in _MODEL_NAMES))
        )
        where = place(loc, data)
        if where in seen:
            continue
        seen.add(where)
        if item["type"] == "extra_forbidden":
            problems.append(unknown_key_problem(str(loc[-1]), _valid_keys(model, loc), file, where))
            continue
        value = item.get("input")
        shown = None if isinstance(value, dict | list) else str(value)
        if item["type"] in MODEL_ERRORS:  # our validators: a catalogue kind and its params
            params = dict(item.get("ctx") or {})
            if "value" in params:  # the error names what it is about (an unknown key)
                shown = str(params.pop("value"))
            elif shown is None and loc:  # a field's value, never a whole profile
                shown = _SHORT.repr(value)
            problems.append(
                Problem(kind=item["type"], file=file, column=where, value=shown, params=params)
            )
            continue
        kind, params = pydantic_kind(item["type"], item.get("ctx") or {}, item["msg"])
        problems.append(
            Problem(
                kind=kind,
                file=file,
                column=where,
                value=shown,
                params=params,
            )
        )
    return problems


PYDANTIC_KINDS: dict[str, str] = {
    "missing": "config_missing",
    "int_type": "config_not_integer",
    "int_parsing": "config_not_integer",
    "int_from_float": "config_not_integer",
    "greater_than_equal": "config_too_small",
    "greater_than": "config_too_small",
    "less_than_equal": "config_too_large",
    "less_than": "config_too_large",
    "float_type": "config_not_number",
    "float_parsing": "config_not_number",
    "bool_type": "config_not_bool",
    "bool_parsing": "config_not_bool",
    "string_type": "config_not_text",
    "date_type": "config_not_date",
    "date_parsing": "config_not_date",
    "date_from_datetime_parsing": "config_not_date",
    "date_from_datetime_inexact": "config_not_date",
    "literal_error": "config_not_one_of",
    "enum": "config_not_one_of",
    "list_type": "config_expected_list",
    "tuple_type": "config_expected_list",
    "dict_type": "config_expected_mapping",
    "model_type": "config_expected_mapping",
    "model_attributes_type": "config_expected_mapping",
}
"""pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) and
the catalogue kind that says each in the user's language."""


def pydantic_kind(error_type: str, ctx: dict[str, Any], msg: str) -> tuple[str, dict[str, Any]]:
    """The catalogue kind and its parameters for one pydantic error.

    A type without a kind of its own stays ``config_invalid`` with pydantic's words as detail
    (a gap the tests look for: every error a config can trigger has a kind).
    """
    kind = PYDANTIC_KINDS.get(error_type)
    if kind is None:
        return "config_invalid", {"detail": msg}
    limit = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
    expected = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    return kind, {"limit": limit, "expected": expected}


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
    "社區編號": "id",
    "社區": "id",
    "名稱": "name",
    "上級": "parent",
    "居民數": "residents",
    "有服務能力居民數": "residents_capable",
    "戶數": "households",
    "單位數": "units",
}
"""Chinese headers, simplified and traditional, of a profile kept as a table (spec 1.1, 1.4)."""

PROFILE_TEXT_FIELDS: tuple[str, ...] = ("id", "name", "parent")

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", *EXCEL_SUFFIXES)
"""Profiles with these suffixes are tables (one row per community), the others YAML."""


def _profile_columns(
    headers: list[str], columns: dict[str, str], fields: Sequence[str], name: str
) -> dict[str, int]:
    """Profile field → index of its column: the header ``columns:`` maps it to, else its
    name or alias; columns of no field are ignored (spec 1.4)."""
    valid = [*PROFILE_TEXT_FIELDS, *fields]
    for key in columns:
        if key not in valid:
            raise ConfigError(
                "profile_errors",
                problems=[unknown_key_problem(key, valid, name, "columns")],
                file=name,
            )
    aliases = {key.lower(): key for key in valid} | PROFILE_ALIASES
    resolved = match_headers(headers, columns, aliases, name)
    if "id" not in resolved:
        found = [header.strip() for header in headers if header.strip()]
        raise ConfigError(
            "profile_no_id_column",
            file=name,
            headers=", ".join(found) or "—",
            first=found[0] if found else "社区编号",
        )
    return resolved


def _total_cell(cells: list[str | None], id_index: int) -> int | None:
    """The cell that makes a row a total row (spec 1.4): the id cell or the first non-empty
    cell holding a total word; None for a row of data."""
    first = next((index for index, cell in enumerate(cells) if cell is not None), None)
    for index in (id_index, first):
        cell = cells[index] if index is not None and index < len(cells) else None
        if is_total(cell):
            return index
    return None


def _table_profile(
    path: Path,
    name: str,
    sheet: str | None,
    columns: dict[str, str],
    fields: Sequence[str],
) -> tuple[dict[str, Any], list[Problem]]:
    """A profile kept as a CSV or Excel table: one row per community, total rows left out
    and ids that Excel turned into scientific notation warned (spec 1.4)."""
    headers, rows, lines = read_table(path, name, sheet)
    return profile_rows(headers, rows, lines, name, columns, fields)


def profile_rows(
    headers: list[str],
    rows: Sequence[Sequence[str | None]],
    lines: Sequence[int],
    name: str,
    columns: dict[str, str],
    fields: Sequence[str],
) -> tuple[dict[str, Any], list[Problem]]:
    """The communities of a profile table's rows (a file's, or a database table's), as
    :func:`_table_profile` reads them."""
    resolved = _profile_columns(headers, columns, fields, name)
    id_index = resolved["id"]
    mangled = re.compile(MANGLED_ID)
    id_header = headers[id_index].strip()
    communities = []
    notes: list[Problem] = []
    missing: list[Problem] = []
    for row, line in zip(rows, lines, strict=True):
        cells = [cell.strip() if cell is not None and cell.strip() else None for cell in row]
        total = _total_cell(cells, id_index)
        if total is not None:
            notes.append(
                Problem("profile_total_row", name, line, headers[total].strip(), cells[total])
            )
            continue
        own = cells[id_index] if id_index < len(cells) else None
        if own is None:
            missing.append(Problem("profile_missing_id", name, line, id_header))
            continue
        if mangled.match(own):
            notes.append(Problem("mangled_id", name, line, id_header, own))
        community: dict[str, Any] = {}
        for key, index in resolved.items():
            text = cells[index] if index < len(cells) else None
            if text is None:
                continue
            whole = key not in PROFILE_TEXT_FIELDS and text.isascii() and text.isdigit()
            community[key] = int(text) if whole else text
        communities.append(community)
    if missing:
        raise ConfigError("profile_errors", problems=missing, file=name)
    return {"communities": communities}, notes


def profile_model(data: Any, name: str) -> Profile:
    """The profile of data read from a file or table, checked against the schema."""
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


def load_profile(
    path: Path,
    name: str,
    columns: dict[str, str] | None = None,
    fields: Sequence[str] = PROFILE_COUNT_FIELDS,
) -> tuple[Profile, list[Problem]]:
    """A profile and the warnings about it: YAML with ``communities:`` (and ``parents:``),
    or a CSV or Excel table (``book.xlsx#sheet``) whose ``columns`` map profile fields to
    headers; of a table only the columns of ``fields`` (the counts indicators read) and of
    id, name and parent are read."""
    file, sheet = split_sheet(str(path))
    notes: list[Problem] = []
    if Path(file).suffix.lower() in TABLE_SUFFIXES:
        data, notes = _table_profile(Path(file), name, sheet, columns or {}, fields)
    elif columns:
        raise ConfigError("profile_columns_not_table", file=name)
    else:
        data = read_yaml(path, name)
    return profile_model(data, name), notes


def check_profile_fields(profile: Profile, allowed: list[str], file: str) -> None:
    """Every count field of every community must be one an indicator reads (spec 1.1)."""
    problems: list[Problem] = []
    for community in profile.communities:
        for key, value in (community.model_extra or {}).items():
            if key not in allowed:
                problems.append(
                    unknown_key_problem(key, allowed, file, f"communities[{community.id}].{key}")
                )
                continue
            try:
                community.count_field_value(key, value)
            except ValidationError:
                problems.append(
                    Problem(
                        kind="profile_bad_count",
                        file=file,
                        column=f"communities[{community.id}].{key}",
                        value=_SHORT.repr(value),
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
