"""zh/en catalogues: every label, header, status word and message, and the language in force."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from svcmetrics.errors import Problem, SvcmetricsError

LANGS: tuple[str, ...] = ("zh", "en")

# key → (zh, en); ``{name}`` placeholders are filled by str.format.
LABELS: dict[str, tuple[str, str]] = {
    # result fields
    "level": ("层级", "Level"),
    "community": ("社区", "Community"),
    "community_name": ("名称", "Name"),
    "parent": ("上级", "Parent"),
    "period": ("期间", "Period"),
    "indicator": ("指标", "Indicator"),
    "indicator_name": ("指标名称", "Indicator name"),
    "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"),
    "rate": ("比率", "Rate"),
    "sample_size": ("样本量", "Sample size"),
    "ci_low": ("置信下限", "CI low"),
    "ci_high": ("置信上限", "CI high"),
    "change": ("变化(百分点)", "Change (pp)"),
    "change_short": ("变化(百分点)", "Δ pp"),
    "status": ("状态", "Status"),
    "flags": ("标记", "Flags"),
    "service": ("服务项目", "Service"),
    "category": ("服务类别", "Category"),
    "counts": ("分子/分母", "Num/Den"),
    "blank_value": ("(未填)", "(blank)"),
    "notes": ("说明", "Notes"),
    # levels
    "level_community": ("社区", "community"),
    "level_rollup": ("汇总", "roll-up"),
    "level_total": ("合计", "total"),
    "total_name": ("全部社区", "All communities"),
    # statuses
    "status_ok": ("达标", "ok"),
    "status_warn": ("预警", "warn"),
    "status_critical": ("严重", "critical"),
    "status_n/a": ("无法计算", "n/a"),
    # flags
    "flag_no_records": ("本期无记录", "no records"),
    "flag_small_sample": ("样本过少", "small sample"),
    "flag_numerator_above_denominator": ("分子大于分母", "numerator above denominator"),
    "flag_partial_rollup": ("部分汇总", "partial roll-up"),
    "flag_partial_period": ("不完整期间", "partial period"),
    # table and summaries
    "title_period": ("{period} 社区服务指标", "Community service indicators, {period}"),
    "ci": ("n={n}, 95%置信区间 {low}–{high}", "n={n}, 95% CI {low}–{high}"),
    "caption_flags": (
        "比率 = 分子/分母;— 表示分母为 0 或未知,无法计算。",
        "rate = numerator/denominator; — means the denominator is 0 or unknown.",
    ),
    "problems_title": ("问题", "Problems"),
    "problems_more": (
        "……另有 {count} 个问题未列出(用 --format json 查看全部)",
        "… and {count} more (see all with --format json)",
    ),
    "problem_summary": (
        "共 {errors} 个错误、{warnings} 个警告:",
        "Errors: {errors}, warnings: {warnings}.",
    ),
    "skipped_rows": (
        "已跳过 {count} 行无效记录(--skip-invalid):",
        "Skipped {count} invalid rows (--skip-invalid):",
    ),
    "by_kind": ("  {kind}: {count}", "  {kind}: {count}"),
    "validate_ok": ("{rows} 行记录全部有效。", "All {rows} rows are valid."),
    "encoding_used": ("{file}: 编码 {encoding}", "{file}: encoding {encoding}"),
    "breaches_title": ("未达标 {count} 项:", "{count} below target:"),
    "breaches_more": (
        "  ……另有 {count} 项(完整列表见表格或 --format csv 的 status 列)",
        "  … and {count} more (see the table, or the status column of --format csv)",
    ),
    "breach_below": (
        "  {community} {period} {indicator} {rate},低于{status}线 {level}",
        "  {community} {period} {indicator} {rate} is below the {status} level {level}",
    ),
    "breach_above": (
        "  {community} {period} {indicator} {rate},高于{status}线 {level}",
        "  {community} {period} {indicator} {rate} is above the {status} level {level}",
    ),
    "where": ("位置", "Where"),
    "column": ("列", "Column"),
    "value": ("值", "Value"),
    "message": ("问题", "Problem"),
    "hint": ("如何修正", "How to fix"),
    # explain
    "explain_numerator": ("分子", "Numerator"),
    "explain_denominator": ("分母", "Denominator"),
    "explain_meaning": ("含义", "Meaning"),
    "explain_formula": ("公式", "Formula"),
    "explain_formula_text": (
        "{name} = 分子 ÷ 分母(分母为 0 或未知时无法计算)",
        "{name} = numerator ÷ denominator (undefined when the denominator is 0 or unknown)",
    ),
    "explain_survey": (
        "按调查口径计算时,同时给出样本量和 95% Wilson 置信区间;样本少于 {min_sample} 时标记“样本过少”。",
        "On the survey basis the rate carries the sample size and a 95% Wilson interval; "
        "fewer than {min_sample} respondents is flagged small sample.",
    ),
    "rule_distinct": (
        "本期内{party}{event}记录中不同{counted}的个数",
        "distinct {counted} among {party} {event} rows in the period",
    ),
    "rule_rows": ("本期内{party}{event}记录的行数", "number of {party} {event} rows in the period"),
    "rule_condition": ("(且 {field} = {value})", " (where {field} = {value})"),
    "rule_needs_met": (
        "本期提出、且最新状态为“已满足”的需求数(同一单号的多行是同一需求的更新)",
        "needs raised in the period whose latest status is met (rows with one ticket are "
        "updates of one need)",
    ),
    "rule_needs_raised": (
        "本期提出的需求总数(待处理和未满足都算未满足)",
        "needs raised in the period (pending and unmet count as not met)",
    ),
    "rule_satisfied": (
        "最新一次有效回答为“满意”的被调查{party}数(“不清楚”和空白不计)",
        "{party} respondents whose latest counted answer is satisfied (blank and don't know "
        "are not counted)",
    ),
    "rule_respondents": (
        "本期有有效回答的被调查{party}数",
        "{party} respondents with a counted answer in the period",
    ),
    "rule_profile": (
        "社区概况中的 {field}(取本期末日及以前最新的值)",
        "the profile's {field} (its latest value dated on or before the period's last day)",
    ),
    "rule_population": (
        "社区概况中的 {field};本期没有有效回答时无法计算",
        "the profile's {field}; undefined in a period with no counted answer",
    ),
    "party_resident": ("居民", "resident"),
    "party_unit": ("单位", "unit"),
    "party_any": ("", "any"),
    "counted_id": ("编号", "id"),
    "counted_household": ("户号", "household"),
    "counted_ticket": ("单号", "ticket"),
    "event_participate": ("参与", "participate"),
    "event_benefit": ("受益", "benefit"),
    "event_need": ("需求", "need"),
    "event_survey": ("调查", "survey"),
    "interrupted": ("已中断。", "Interrupted."),
    "internal_error": (
        "svcmetrics 内部错误:{detail}。请用 --debug 重新运行,并把输出报告给维护者。",
        "svcmetrics internal error: {detail}. Rerun with --debug and report the output to "
        "the maintainers.",
    ),
    # help texts
    "help_app": (
        "根据服务台账计算社区服务的七项指标(参与率、受益率、需求满足率、满意率)。",
        "Compute the seven community-service indicators (participation, benefit, need "
        "satisfaction, satisfaction) from service logs.",
    ),
    "help_compute": (
        "计算每个社区每个期间的各项指标。",
        "Compute every indicator per community and period.",
    ),
    "help_validate": ("检查台账,列出所有问题。", "Check logs and list every problem."),
    "help_explain": ("说明指标的公式和含义。", "Explain an indicator's formula and meaning."),
    "help_sql": (
        "把各项指标(含自定义指标)输出为一条 SQL 查询,供数据仓库使用。",
        "Print the indicators (built-in and user-defined) as one SQL query for a warehouse.",
    ),
    "help_dialect": ("SQL 方言。", "SQL dialect."),
    "help_init": (
        "生成一套可以直接运行的配置、社区概况和台账示例。",
        "Write a working starter config, profile and log.",
    ),
    "help_init_folder": ("写入的目录(默认当前目录)。", "Folder to write into (default: here)."),
    "init_done": (
        "已写入示例。在 {folder} 中运行 svcmetrics compute 查看结果,然后把数字换成本社区的。",
        "Starter written. Run svcmetrics compute in {folder}, then replace the numbers with "
        "your community's.",
    ),
    "progress_read": ("读取台账", "Reading logs"),
    "progress_check": ("检查记录", "Checking rows"),
    "progress_count": ("计算指标", "Counting"),
    "help_logs": (
        "台账文件(CSV 或 YAML);- 表示标准输入。",
        "Log files (CSV or YAML); - reads standard input.",
    ),
    "help_config": (
        "配置文件(默认 ./svcmetrics.yaml)。",
        "Config file (default ./svcmetrics.yaml).",
    ),
    "help_profile": ("社区概况文件(分母)。", "Community profile file (the denominators)."),
    "help_period": ("统计期间:月、季、年或全部。", "Period: month, quarter, year or all."),
    "help_month": ("只统计这个月(YYYY-MM)。", "Only this month (YYYY-MM)."),
    "help_last": (
        "上一个完整的月、季或年(相对今天或 --as-of)。",
        "The last complete month, quarter or year (before today, or --as-of).",
    ),
    "help_fail_on": (
        "有指标达到此级别(warn 或 critical)时以退出码 1 结束。",
        "Exit 1 when a rate is at or beyond this level (warn or critical).",
    ),
    "help_by": (
        "按服务项目或服务类别分别计算每项指标。",
        "Compute every indicator per service item or per service category.",
    ),
    "help_chart": (
        "以横条图显示最后一期各社区的指标,并标出预警线。",
        "Show the last period as bars per community, with a mark at the threshold.",
    ),
    "help_date_format": (
        "台账的日期格式,例如 %d/%m/%Y(日在前)。",
        "How the logs write dates, for example %d/%m/%Y (day first).",
    ),
    "help_raw_cells": (
        "CSV 单元格原样输出(默认在以 = + - @ 开头的文字前加撇号,防止电子表格把它当公式执行)。",
        "Write CSV text cells as they are (by default a text cell starting with = + - @ gets "
        "a leading apostrophe so that spreadsheets do not run it as a formula).",
    ),
    "help_from": ("起始日期(含)。", "First day (inclusive)."),
    "help_to": ("截止日期(含)。", "Last day (inclusive)."),
    "help_as_of": (
        "忽略此日期之后的记录,重现当日的报表。",
        "Ignore records dated after this day (reproduce an earlier report).",
    ),
    "help_format": ("输出格式。", "Output format."),
    "help_wide": ("CSV 每个社区每期一行。", "CSV with one row per community and period."),
    "help_bom": (
        "CSV 以 UTF-8 BOM 开头(中文 Excel)。",
        "Start CSV with a UTF-8 BOM (Chinese Excel).",
    ),
    "help_output": ("写入文件而不是标准输出。", "Write to this file instead of standard output."),
    "help_lang": ("语言:zh 或 en。", "Language: zh or en."),
    "help_skip_invalid": (
        "跳过无效记录继续计算(并报告跳过了多少)。",
        "Compute from the valid rows (and report what was skipped).",
    ),
    "help_encoding": ("台账的编码(默认自动识别)。", "Encoding of the logs (detected by default)."),
    "help_quiet": ("不输出提示信息。", "No notices on stderr."),
    "help_verbose": ("输出更多信息(如所用编码)。", "More notices (such as the encoding used)."),
    "help_debug": ("出现内部错误时显示回溯。", "Show the traceback of an internal error."),
    "help_version": ("显示版本并退出。", "Show the version and exit."),
    "help_indicator": (
        "指标键名;省略时说明全部指标。",
        "Indicator key; all indicators when omitted.",
    ),
    # charts (HTML page and terminal)
    "list_sep": ("、", ", "),
    "chart_title": ("{indicator}({period})", "{indicator}, {period}"),
    "chart_warn_line": ("预警线", "warn level"),
    "chart_critical_line": ("严重线", "critical level"),
    "chart_no_threshold": ("未设标准线", "no threshold"),
    "chart_warn_at": ("预警线 {level}", "warn level {level}"),
    "chart_critical_at": ("严重线 {level}", "critical level {level}"),
    "chart_lower_better": (
        "(越低越好,高于标准线为越线)",
        " (lower is better: above a level is a breach)",
    ),
    "chart_overrides": ("(部分社区另有标准)", " (some communities have their own levels)"),
    # HTML report
    "html_title": ("社区服务指标报告 {period}", "Community service indicators, {period}"),
    "html_heading": ("社区服务指标报告", "Community service indicators,"),
    "html_communities": ("社区", "Communities"),
    "html_days": ("{start} 至 {end}", "{start} to {end}"),
    "html_data_end": ("数据截至", "Data end on"),
    "html_as_of": ("统计截至(--as-of)", "As of (--as-of)"),
    "html_inputs": ("台账", "Logs"),
    "html_profile": ("社区概况", "Profile"),
    "html_rows": ("记录", "Records"),
    "html_rows_count": ("{rows} 行", "{rows} rows"),
    "html_skipped": (",已跳过 {count} 行无效记录", ", {count} invalid rows skipped"),
    "html_summary_breaches": ("项未达标", "below target"),
    "html_summary_small": ("个小样本", "small samples"),
    "html_summary_problems": ("个数据问题", "data problems"),
    "html_compare_title": ("各社区对比({period})", "Communities compared, {period}"),
    "html_trend_title": ("各期趋势", "Trend across the periods"),
    "html_trend_one_period": (
        "只选了一个期间,没有趋势可画。",
        "Only one period is selected: there is no trend to draw.",
    ),
    "html_breaches_title": ("未达标", "Below target"),
    "html_breaches_none": (
        "没有越过预警线或严重线的指标。",
        "No rate is beyond a warn or critical level.",
    ),
    "html_level": ("标准线", "Level crossed"),
    "html_results_title": ("指标明细", "All results"),
    "html_survey_title": ("调查置信区间", "Survey intervals"),
    "html_survey_note": (
        "按调查口径计算的比率:样本量和 95% Wilson 置信区间(浅色条为区间,竖线为比率)。",
        "Rates on the survey basis: sample size and 95% Wilson interval (the light band is the "
        "interval, the mark the rate).",
    ),
    "html_survey_none": ("没有按调查口径计算的比率。", "No rate on the survey basis."),
    "html_interval": ("95%置信区间", "95% interval"),
    "html_small_title": ("小样本", "Small samples"),
    "html_small_note": (
        "以下调查比率的样本过少,置信区间很宽,仅供参考。",
        "These survey rates rest on few respondents: read them with their intervals.",
    ),
    "html_small_none": ("没有样本过少的调查比率。", "No survey rate has a small sample."),
    "html_problems_none": ("没有数据问题。", "No data problems."),
    "html_footer": ("由 svcmetrics {version} 生成。", "Made by svcmetrics {version}."),
}

# Error and problem messages: key → ((zh message, zh hint), (en message, en hint)).
MESSAGES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "missing_value": (
        (
            "{column} 为空,但此类记录必须填写",
            "填写 {column}(README“输入格式”一节列出了每类记录的必填列)",
        ),
        (
            "{column} is empty but required on this row",
            "fill in {column} (the README's input format section lists what each event needs)",
        ),
    ),
    "bad_value": (
        ("{column} 的值 “{value}” 无法识别", "可用的值:{expected};或在配置的 values: 中映射它"),
        (
            "{column} value '{value}' is not recognised",
            "use one of: {expected}; or map it under values: in the config",
        ),
    ),
    "bad_date": (
        ("日期 “{value}” 无法识别", "写成 2026-11-03;其他写法请在配置中设置 date_format"),
        (
            "date '{value}' is not a date",
            "write it as 2026-11-03, or set date_format in the config",
        ),
    ),
    "date_out_of_range": (
        ("日期 “{value}” 超出合理范围", "检查年份是否笔误;或在配置的 date_range: 中调整范围"),
        (
            "date '{value}' is outside the plausible window",
            "check the year for a typo, or widen date_range in the config",
        ),
    ),
    "unknown_community": (
        ("社区 “{value}” 不在社区概况中", "最接近的是 “{closest}”;改正台账,或把它加入社区概况"),
        (
            "community '{value}' is not in the profile",
            "the closest is '{closest}'; fix the log or add it to the profile",
        ),
    ),
    "unknown_community_far": (
        ("社区 “{value}” 不在社区概况中", "改正台账,或把它加入社区概况"),
        ("community '{value}' is not in the profile", "fix the log or add it to the profile"),
    ),
    "bad_answer": (
        (
            "满意度回答 “{value}” 不在任何列表中",
            "在配置的 satisfaction: 中把它列入 satisfied、not_satisfied 或 excluded",
        ),
        (
            "survey answer '{value}' is in no list",
            "list it under satisfaction: satisfied, not_satisfied or excluded in the config",
        ),
    ),
    "numerator_above_denominator": (
        (
            "{community} {period} {indicator}:分子 {numerator} 大于分母 {denominator}",
            "社区概况可能已过时,请更新分母",
        ),
        (
            "{community} {period} {indicator}: numerator {numerator} is above denominator {denominator}",
            "the profile is probably out of date: update it",
        ),
    ),
    "ambiguous_dates": (
        (
            "日期 “{value}” 有两种读法:月在前是 {month_first}({month_first_format}),日在前是 {day_first}({day_first_format})",
            '在配置中为该文件设置 date_format: "{month_first_format}"(月在前)或 "{day_first_format}"(日在前),或使用 --date-format',
        ),
        (
            "date '{value}' reads two ways: month first {month_first} ({month_first_format}), day first {day_first} ({day_first_format})",
            'set date_format: "{month_first_format}" (month first) or "{day_first_format}" (day first) for this file in the config, or pass --date-format',
        ),
    ),
    "unstated_date_format": (
        (
            "日期 “{value}” 只能读作 {reading}({format}),但没有声明日期格式",
            '在配置中为该文件设置 date_format: "{format}",或使用 --date-format "{format}"',
        ),
        (
            "date '{value}' can only be {reading} ({format}), but no date format is set",
            'set date_format: "{format}" for this file in the config, or pass --date-format "{format}"',
        ),
    ),
    "duplicate_row": (
        (
            "与 {first} 完全相同的重复行",
            "如果是重复录入,请删除其中一行;按人、户、单号去重的指标不受影响",
        ),
        (
            "exact duplicate of {first}",
            "delete one copy if it was entered twice; distinct counts are not affected",
        ),
    ),
    "future_date": (
        ("日期 “{value}” 在今天之后", "检查年份和月份是否笔误"),
        ("date '{value}' is in the future", "check the year and month for a typo"),
    ),
    "mangled_id": (
        (
            "{column} “{value}” 像是被 Excel 转成了科学计数法",
            "在 Excel 中把该列设为“文本”后重新录入或导出;原来的数字已丢失",
        ),
        (
            "{column} '{value}' looks mangled by Excel (scientific notation)",
            "format the column as Text in Excel and re-enter or re-export it; the digits are lost",
        ),
    ),
    "config_unknown_key": (
        ("未知的键 “{value}”", "是不是 “{closest}”?可用的键:{valid}"),
        ("unknown key '{value}'", "did you mean '{closest}'? valid keys: {valid}"),
    ),
    "config_unknown_key_far": (
        ("未知的键 “{value}”", "可用的键:{valid}"),
        ("unknown key '{value}'", "valid keys: {valid}"),
    ),
    "config_invalid_shape": (
        ("值无效:{detail}", "按 README 中“输入格式”一节修改"),
        ("invalid value: {detail}", "fix it as the README's input format section describes"),
    ),
    "config_invalid": (
        ("值 “{value}” 无效:{detail}", "按 README 中“输入格式”一节修改"),
        (
            "invalid value '{value}': {detail}",
            "fix it as the README's input format section describes",
        ),
    ),
    # whole-run errors
    "ambiguous_dates_found": (
        ("日期写法有歧义,未计算。", "在配置中为这些文件设置 date_format"),
        (
            "Dates are ambiguous; nothing was computed.",
            "set date_format for these files in the config",
        ),
    ),
    "invalid_rows": (
        (
            "台账中有 {count} 个无效之处,未计算。",
            "改正上面列出的问题,或用 --skip-invalid 跳过无效行",
        ),
        (
            "The logs have {count} invalid entries; nothing was computed.",
            "fix the problems listed above, or pass --skip-invalid to compute from the valid rows",
        ),
    ),
    "config_errors": (
        ("配置 {file} 有误。", "按上面列出的问题修改"),
        ("The config {file} is not valid.", "fix the problems listed above"),
    ),
    "profile_errors": (
        ("社区概况 {file} 有误。", "按上面列出的问题修改"),
        ("The profile {file} is not valid.", "fix the problems listed above"),
    ),
    "nothing_to_compute": (
        ("没有有效记录,也没有指定期间,无法计算。", "检查台账,或用 --month / --from --to 指定期间"),
        (
            "No valid record and no selected period: nothing to compute.",
            "check the logs, or select a period with --month or --from/--to",
        ),
    ),
    "no_logs": (
        (
            "没有要读取的台账。",
            "在命令行给出台账文件,或在 svcmetrics.yaml 中写 logs:;用 svcmetrics init 生成一套示例",
        ),
        (
            "No logs to read.",
            "give log files on the command line or logs: in svcmetrics.yaml; svcmetrics init writes a working starter",
        ),
    ),
    "file_not_found": (
        (
            "找不到文件 {file}。",
            "检查路径(命令行上的路径相对于当前目录,配置中的路径相对于配置文件所在目录)",
        ),
        (
            "File {file} not found.",
            "check the path (on the command line it is relative to the working directory, "
            "in a config to the config file)",
        ),
    ),
    "not_a_file": (
        ("{file} 不是文件。", "给出一个文件,而不是目录"),
        ("{file} is not a file.", "give a file, not a folder"),
    ),
    "unreadable": (
        ("无法读取 {file}:{detail}。", "检查文件权限"),
        ("Cannot read {file}: {detail}.", "check the file's permissions"),
    ),
    "empty_file": (
        ("{file} 是空的。", "给出含有表头和记录的文件"),
        ("{file} is empty.", "give a file with a header and records"),
    ),
    "binary_file": (
        ("{file} 不是文本文件(含有 NUL 字节)。", "导出为 CSV(逗号分隔)后再读取"),
        ("{file} is not a text file (it holds NUL bytes).", "export it as CSV and read that"),
    ),
    "undecodable": (
        (
            "{file} 既不是 UTF-8 也不是 GB18030 编码(第 {offset} 字节)。",
            "用 --encoding 指定编码,例如 --encoding big5",
        ),
        (
            "{file} is neither UTF-8 nor GB18030 (byte {offset}).",
            "name its encoding with --encoding, for example --encoding cp1252",
        ),
    ),
    "wrong_encoding": (
        (
            "{file} 不是 {encoding} 编码(第 {offset} 字节)。",
            "去掉 --encoding 让 svcmetrics 自动识别,或换一个编码",
        ),
        (
            "{file} is not {encoding} (byte {offset}).",
            "drop --encoding to detect it, or name another encoding",
        ),
    ),
    "unknown_encoding": (
        ("未知的编码 {encoding}。", "使用 utf-8、gb18030、big5 等"),
        ("Unknown encoding {encoding}.", "use utf-8, gb18030, cp1252 or the like"),
    ),
    "no_such_sheet": (
        ("{file} 中没有工作表 “{sheet}”。", "可用的工作表:{sheets}"),
        ("{file} has no sheet '{sheet}'.", "its sheets are: {sheets}"),
    ),
    "bad_excel": (
        ("无法读取 Excel 文件 {file}:{detail}。", "用 Excel 或 WPS 打开后另存为 .xlsx 再试"),
        (
            "Cannot read the workbook {file}: {detail}.",
            "open it in Excel and save it again as .xlsx",
        ),
    ),
    "bad_parquet": (
        ("无法读取 Parquet 文件 {file}:{detail}。", "检查文件是否完整"),
        ("Cannot read the Parquet file {file}: {detail}.", "check that the file is complete"),
    ),
    "bad_csv": (
        ("{file} 第 {line} 行:CSV 格式错误({detail})。", "检查引号是否成对"),
        ("{file} line {line}: malformed CSV ({detail}).", "check that quotes are balanced"),
    ),
    "bad_yaml": (
        ("{file} 第 {line} 行:YAML 格式错误。", "检查缩进和冒号"),
        ("{file} line {line}: malformed YAML.", "check indentation and colons"),
    ),
    "yaml_too_large": (
        ("{file} 超过 {limit} MB,YAML 台账太大。", "大台账请用 CSV 或 Parquet"),
        (
            "{file} is over {limit} MB: too large for a YAML log.",
            "save large logs as CSV or Parquet",
        ),
    ),
    "yaml_too_many_aliases": (
        ("{file} 含有超过 {limit} 个别名(*),拒绝读取。", "展开别名,或检查文件来源"),
        (
            "{file} holds more than {limit} aliases (*); it is not read.",
            "write the values out, and check where the file came from",
        ),
    ),
    "yaml_too_deep": (
        ("{file} 嵌套层数太多,拒绝读取。", "台账和配置只需要两三层缩进"),
        (
            "{file} is nested too deeply to read.",
            "logs and configs need two or three levels of nesting",
        ),
    ),
    "bad_yaml_value": (
        ("{file} 中有无法读取的值:{detail}。", "检查日期(例如 2026-02-30 不存在)和带 !! 的值"),
        (
            "{file} holds a value that cannot be read: {detail}.",
            "check its dates (2026-02-30 does not exist) and values marked with !!",
        ),
    ),
    "yaml_no_records": (
        ("{file} 不是记录列表。", "写成一个映射列表,或在 records: 下给出列表"),
        ("{file} holds no list of records.", "write a list of mappings, or one under records:"),
    ),
    "yaml_not_mapping": (
        (
            "{file} 第 {line} 行:记录必须是映射(键: 值)。",
            "每条记录写成 - date: 2026-11-03 这样的形式",
        ),
        (
            "{file} line {line}: a record must be a mapping (key: value).",
            "write each record as - date: 2026-11-03 …",
        ),
    ),
    "yaml_not_scalar": (
        ("{file} 第 {line} 行:值必须是单个值,不能是列表或映射。", "每个字段只写一个值"),
        (
            "{file} line {line}: a value must be a single value, not a list or mapping.",
            "give one value per field",
        ),
    ),
    "missing_columns": (
        (
            "{file} 缺少必需的列:{fields}。",
            "文件中的列有:{headers};用配置的 columns: 映射或 constants: 补上",
        ),
        (
            "{file} lacks required columns: {fields}.",
            "its columns are: {headers}; map them with columns: or set them with constants: in the config",
        ),
    ),
    "mapped_column_missing": (
        ("{file} 中没有列 “{header}”(配置中映射为 {field})。", "文件的列有:{headers}"),
        (
            "{file} has no column '{header}' (mapped to {field} in the config).",
            "its columns are: {headers}",
        ),
    ),
    "duplicate_column": (
        ("{file} 中 “{first}” 和 “{second}” 都对应 {field}。", "删除或改名其中一列"),
        ("{file}: both '{first}' and '{second}' map to {field}.", "remove or rename one of them"),
    ),
    "bad_value_target": (
        (
            "配置的 values: 把 {field} 的 “{value}” 映射为 “{target}”,它不是 {allowed} 之一"
            "(用于 {file})。",
            "把映射的目标改为 {allowed} 之一",
        ),
        (
            "values: in the config maps {field} '{value}' to '{target}', which is not one of "
            "{allowed} (for {file}).",
            "map it to one of {allowed}",
        ),
    ),
    "constant_and_column": (
        (
            "{file} 已有列 “{header}”,不能再为 {field} 设常量。",
            "删除配置中 constants: 下的 {field}",
        ),
        (
            "{file} has a column '{header}', so {field} cannot also be a constant.",
            "remove {field} from constants: in the config",
        ),
    ),
    "glob_no_match": (
        ("配置中的 {file} 没有匹配到任何文件。", "检查路径;它相对于配置文件所在目录"),
        (
            "{file} in the config matches no file.",
            "check the pattern; it is relative to the config file",
        ),
    ),
    "config_not_mapping": (
        ("配置 {file} 必须是映射(键: 值)。", "参见 README 和 examples/svcmetrics.yaml"),
        (
            "The config {file} must be a mapping (key: value).",
            "see the README and examples/svcmetrics.yaml",
        ),
    ),
    "config_not_utf8": (
        ("配置 {file} 不是 UTF-8 编码。", "用 UTF-8 保存配置文件"),
        ("The config {file} is not UTF-8.", "save it as UTF-8"),
    ),
    "profile_not_mapping": (
        ("社区概况 {file} 必须有 communities: 列表。", "参见 examples/profile.yaml"),
        ("The profile {file} must hold a communities: list.", "see examples/profile.yaml"),
    ),
    "profile_twice": (
        ("同时给出了 --profile 和配置中的 communities:。", "只保留其中一个"),
        ("Both --profile and the config's communities: were given.", "keep only one of them"),
    ),
    "config_duplicate_indicator": (
        ("指标 {key} 重复定义。", "每个指标的 key 必须唯一,且不能与内置指标相同"),
        (
            "Indicator {key} is defined twice.",
            "indicator keys must be unique and differ from the built-ins",
        ),
    ),
    "config_unknown_threshold": (
        ("thresholds: 中的 {key} 不是指标。", "可用的指标:{valid}"),
        ("{key} under thresholds: is not an indicator.", "indicators: {valid}"),
    ),
    "month_and_range": (
        ("--month 不能和 --from/--to 同时使用。", "只用其中一种方式选择期间"),
        ("--month cannot be combined with --from/--to.", "select the period one way"),
    ),
    "month_with_period": (
        ("--month 不能和 --period {period} 同时使用。", "用 --from/--to 选择季度或年度的范围"),
        (
            "--month cannot be combined with --period {period}.",
            "select a quarter or year with --from/--to",
        ),
    ),
    "bad_month": (
        ("“{value}” 不是月份。", "写成 YYYY-MM,例如 2026-11"),
        ("'{value}' is not a month.", "write YYYY-MM, for example 2026-11"),
    ),
    "output_folder_missing": (
        ("输出目录 {folder} 不存在。", "先创建该目录,或换一个 --output 路径"),
        (
            "The output folder {folder} does not exist.",
            "create it first, or choose another --output path",
        ),
    ),
    "bad_day_option": (
        ("{option} 的值 “{value}” 不是日期。", "写成 YYYY-MM-DD,例如 2026-11-03"),
        ("{option}: '{value}' is not a date.", "write YYYY-MM-DD, for example 2026-11-03"),
    ),
    "last_and_range": (
        ("--last 不能和 --month、--from/--to 同时使用。", "只用其中一种方式选择期间"),
        ("--last cannot be combined with --month or --from/--to.", "select the period one way"),
    ),
    "no_last_period": (
        ("日历上没有更早的完整期间。", "检查 --as-of 的日期"),
        ("There is no complete period before that day in the calendar.", "check the --as-of day"),
    ),
    "last_all": (
        ("--last 只能是 month、quarter 或 year。", "例如 --last month"),
        ("--last takes month, quarter or year.", "for example --last month"),
    ),
    "csv_only_option": (
        ("{option} 只适用于 --format csv。", "加上 --format csv,或去掉 {option}"),
        ("{option} applies to --format csv only.", "add --format csv, or drop {option}"),
    ),
    "chart_needs_table": (
        ("--chart 只适用于表格输出。", "去掉 --format,或去掉 --chart"),
        ("--chart draws in the terminal table format only.", "drop --format, or drop --chart"),
    ),
    "init_would_overwrite": (
        ("这些文件已存在,未覆盖:{files}。", "换一个空目录,例如 svcmetrics init 新目录"),
        (
            "These files exist already and were left alone: {files}.",
            "choose an empty folder: svcmetrics init NEWFOLDER",
        ),
    ),
    "unknown_indicator": (
        ("没有名为 {key} 的指标。", "可用的指标:{valid}"),
        ("There is no indicator {key}.", "indicators: {valid}"),
    ),
    "output_unwritable": (
        ("无法写入 {file}:{detail}。", "给出一个文件路径,例如 reports/2026-11.csv"),
        ("Cannot write {file}: {detail}.", "give a file path, for example reports/2026-11.csv"),
    ),
    "bad_date_format": (
        ("{file} 的日期格式 “{format}” 无效。", "使用 %Y、%m、%d、%H、%M、%S 等,例如 %d/%m/%Y"),
        (
            "The date format '{format}' of {file} is not valid.",
            "use %Y, %m, %d, %H, %M, %S and the like, for example %d/%m/%Y",
        ),
    ),
    "range_needs_both": (
        ("--from 和 --to 必须同时给出。", "两个日期都写上"),
        ("--from and --to go together.", "give both days"),
    ),
    "range_reversed": (
        ("--from {start} 晚于 --to {end}。", "交换两个日期"),
        ("--from {start} is after --to {end}.", "swap the two days"),
    ),
    "profile_count_too_large": (
        ("社区 {community} 的 {field} 为 {value},超出可计算的范围。", "检查这个数是否多写了位数"),
        (
            "{field} of community {community} is {value}, beyond what can be computed.",
            "check the number for extra digits",
        ),
    ),
}

KIND_NAMES: dict[str, tuple[str, str]] = {
    "missing_value": ("缺少必填值", "missing value"),
    "bad_value": ("无法识别的值", "unrecognised value"),
    "bad_date": ("日期无效", "bad date"),
    "date_out_of_range": ("日期超出范围", "date out of range"),
    "unknown_community": ("未知社区", "unknown community"),
    "bad_answer": ("无法识别的回答", "unrecognised answer"),
    "numerator_above_denominator": ("分子大于分母", "numerator above denominator"),
    "ambiguous_dates": ("日期有歧义", "ambiguous dates"),
    "unstated_date_format": ("未声明日期格式", "date format not set"),
    "duplicate_row": ("重复行", "duplicate row"),
    "future_date": ("未来日期", "future date"),
    "mangled_id": ("编号被 Excel 改写", "id mangled by Excel"),
    "config_unknown_key": ("未知的键", "unknown key"),
    "config_invalid": ("配置值无效", "invalid config value"),
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, params: Mapping[str, Any]) -> str:
    return template.format_map(_Blank(params))


def _index(lang: str) -> int:
    return 0 if lang == "zh" else 1


def label(key: str, lang: str, **params: Any) -> str:
    """A label in ``lang`` (the key itself when the catalogue has none)."""
    entry = LABELS.get(key)
    if entry is None:
        return key
    return _fill(entry[_index(lang)], params)


def kind_name(kind: str, lang: str) -> str:
    """The name of a kind of problem."""
    entry = KIND_NAMES.get(kind)
    return entry[_index(lang)] if entry else kind


def message(key: str, lang: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The message and the hint of an error or problem kind."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key, ""
    text, hint = entry[_index(lang)]
    return _fill(text, params), _fill(hint, params)


_WITHOUT = {
    "unknown_community": ("closest", "unknown_community_far"),
    "config_unknown_key": ("closest", "config_unknown_key_far"),
    "config_invalid": ("value", "config_invalid_shape"),
}
"""Kinds whose message has a variant for when a parameter is empty."""


def problem_text(problem: Problem, lang: str) -> tuple[str, str]:
    """A problem's message and hint in ``lang``."""
    params = {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "value": problem.value if problem.value is not None else "",
        **problem.params,
    }
    key = problem.kind
    if key in _WITHOUT and not params.get(_WITHOUT[key][0]):
        key = _WITHOUT[key][1]
    return message(key, lang, params)


def error_text(error: SvcmetricsError, lang: str) -> tuple[str, str]:
    """An error's message and hint in ``lang``."""
    return message(error.key, lang, error.params)


def resolve_lang(
    option: str | None, config_lang: str | None, env: Mapping[str, str] | None = None
) -> str:
    """``--lang``, else the config's ``lang``, else the locale (zh* gives zh), else en."""
    for choice in (option, config_lang):
        if choice in LANGS:
            return str(choice)
    environ = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
