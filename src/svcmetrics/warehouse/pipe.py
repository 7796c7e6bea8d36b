"""``compute --engine URL`` and ``validate --engine URL``: the pipeline's stages with a
warehouse table instead of log files; the report is completed by the local code (spec 5.2)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlglot import exp

from svcmetrics.answers import answer_lists
from svcmetrics.config import check_profile_fields, profile_model, profile_rows, with_parents
from svcmetrics.diagnose import check_targets
from svcmetrics.errors import ConfigError, UsageError
from svcmetrics.indicators import custom_events, profile_fields
from svcmetrics.models import WarehouseSpec
from svcmetrics.pipeline import (
    LISTED,
    Computed,
    Options,
    build_report,
    count,
    load_inputs,
    log_communities,
)
from svcmetrics.readers import effective_mapping
from svcmetrics.stages import Checked, Inputs
from svcmetrics.warehouse.connection import Connection, redact
from svcmetrics.warehouse.engines import connect
from svcmetrics.warehouse.remote import Warehouse


def _spec(options: Options, inputs: Inputs) -> WarehouseSpec:
    if options.logs:
        raise UsageError("engine_and_logs")
    spec = inputs.config.warehouse
    if spec is None:
        raise ConfigError("warehouse_missing", file=str(options.config or "svcmetrics.yaml"))
    return spec


def _table_profile(connection: Connection, spec: WarehouseSpec, inputs: Inputs) -> Inputs:
    """The inputs with the profile read from ``warehouse.profile`` (one row per community)."""
    assert spec.profile is not None
    if inputs.profile is not None and inputs.profile_name is not None:
        raise ConfigError("warehouse_profile_twice", file=spec.profile)
    table = exp.to_table(spec.profile, dialect=connection.dialect)
    select = exp.select(exp.Star()).from_(table)
    sql = select.sql(dialect=connection.dialect)
    headers = connection.columns(sql)
    rows = [[None if cell is None else str(cell) for cell in row] for row in connection.fetch(sql)]
    columns = inputs.config.profile.columns if inputs.config.profile else {}
    fields = profile_fields(inputs.indicators)
    data, notes = profile_rows(
        headers, rows, list(range(1, len(rows) + 1)), spec.profile, columns, fields
    )
    profile = profile_model(data, spec.profile)
    if inputs.config.parents:
        profile = with_parents(profile, inputs.config, spec.profile)
    check_profile_fields(profile, fields, spec.profile)
    return dataclasses.replace(
        inputs, profile=profile, profile_name=spec.profile, problems=inputs.problems + notes
    )


def validate(
    connection: Connection, url: str, options: Options, limit: int | None
) -> tuple[Checked, Warehouse]:
    """Check the table's rows in the engine (spec 4, 5.2)."""
    today = options.today or dt.date.today()
    inputs = load_inputs(options)
    spec = _spec(options, inputs)
    if spec.profile is not None:
        inputs = _table_profile(connection, spec, inputs)
    config = inputs.config
    events = custom_events(inputs.indicators)
    mapping = effective_mapping(config, spec)
    check_targets(spec.records, mapping.values, events)
    options.stage("check")
    warehouse = Warehouse(connection, url, spec, mapping, events, answer_lists(config.satisfaction))
    if inputs.profile is not None:
        communities = list(inputs.profile.communities)
    else:
        communities = log_communities(warehouse.distinct_communities(), warehouse.community_problem)
    return warehouse.check(inputs, communities, today, options.as_of, limit), warehouse


def check(options: Options) -> Checked:
    """``svcmetrics validate --engine URL``."""
    assert options.engine is not None
    connection = connect(options.engine)
    try:
        # (the first 200 rows of each kind, as spec 5.2 says: a table may hold millions)
        return validate(connection, options.engine, options, limit=LISTED)[0]
    finally:
        connection.close()


def compute(options: Options) -> Computed:
    """``svcmetrics compute --engine URL``: checked and counted in the engine, completed here."""
    assert options.engine is not None
    connection = connect(options.engine)
    try:
        checked, warehouse = validate(connection, options.engine, options, limit=LISTED)
        counted = count(warehouse, options, checked)
    finally:
        connection.close()
    report = build_report(options, counted)
    facts = dataclasses.replace(
        report.facts, inputs=(f"{redact(options.engine)} {warehouse.name}",), encodings=()
    )
    report = dataclasses.replace(report, facts=facts)
    return Computed(report, options.output.render_options(checked.inputs.config))
