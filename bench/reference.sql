-- The seven built-in indicators, hand-written in DuckDB SQL, for the benchmark.
--
-- Community-level numerators and denominators per calendar month, straight from a
-- spec-format CSV log (canonical English header, dates as YYYY-MM-DD), with the default
-- answer lists and the survey basis (spec 2.1-2.4). Inputs:
--   $log      the log's path
--   profile   a table (community, name, field, as_of, value): one row per profile value,
--             as_of NULL when the value is not dated
-- Output: community, period, indicator, numerator, denominator (NULL when unknown), sorted.
-- It trusts its input (no validation): the benchmark's logs are all valid rows.
WITH raw AS (
    SELECT ordinality AS rn, *
    FROM read_csv(
        $log, header = true, delim = ',', quote = '"', auto_detect = false,
        columns = {
            'date': 'DATE', 'community': 'VARCHAR', 'event': 'VARCHAR', 'party': 'VARCHAR',
            'id': 'VARCHAR', 'household': 'VARCHAR', 'status': 'VARCHAR', 'ticket': 'VARCHAR',
            'service': 'VARCHAR', 'category': 'VARCHAR'
        }
    ) WITH ORDINALITY
),
community_keys AS (       -- a log may name a community by its id or by its name
    SELECT DISTINCT community AS key, community AS id FROM profile
    UNION
    SELECT DISTINCT name, community FROM profile WHERE name IS NOT NULL
),
recs AS (
    SELECT r.rn, r.date AS day, date_trunc('month', r.date) AS month, k.id AS community,
           trim(r.event) AS event, trim(r.party) AS party,
           NULLIF(trim(r.id), '') AS id, NULLIF(trim(r.household), '') AS household,
           NULLIF(trim(r.status), '') AS status, NULLIF(trim(r.ticket), '') AS ticket
    FROM raw r JOIN community_keys k ON k.key = trim(r.community)
),
months AS (               -- from the first to the last month with a record
    SELECT CAST(m AS DATE) AS month
    FROM range(
        (SELECT CAST(min(month) AS TIMESTAMP) FROM recs),
        (SELECT CAST(max(month) AS TIMESTAMP) FROM recs) + INTERVAL 1 DAY,
        INTERVAL 1 MONTH
    ) t(m)
),
grid AS (                 -- every community for every month
    SELECT c.community, m.month
    FROM (SELECT DISTINCT community FROM profile) c CROSS JOIN months m
),
distinct_counts AS (      -- 2.1 participation, 2.2 benefit
    SELECT community, month,
           count(DISTINCT id) FILTER (event = 'participate' AND party = 'resident') AS res_part,
           count(DISTINCT id) FILTER (event = 'participate' AND party = 'unit') AS unit_part,
           count(DISTINCT household) FILTER (event = 'benefit' AND party = 'resident')
               AS res_benefit,
           count(DISTINCT id) FILTER (event = 'benefit' AND party = 'unit') AS unit_benefit
    FROM recs
    WHERE event IN ('participate', 'benefit')
    GROUP BY community, month
),
needs AS (                -- 2.3: one (community, ticket), or one row without a ticket
    SELECT community, date_trunc('month', min(day)) AS month,
           arg_max(status, (day, rn)) AS state      -- latest row; same day: later in input
    FROM recs
    WHERE event = 'need'
    GROUP BY community, COALESCE('t' || ticket, 'r' || CAST(rn AS VARCHAR))
),
need_counts AS (
    SELECT community, month, count(*) FILTER (state = 'met') AS met, count(*) AS raised
    FROM needs
    GROUP BY community, month
),
answers AS (              -- 2.4 with the default lists and the 1-5 scale
    SELECT community, month, party, id, day, rn,
           CASE
               WHEN status IS NULL THEN 'excluded'
               WHEN lower(status) IN ('非常满意', '满意', '比较满意', 'very satisfied', 'satisfied')
                   THEN 'satisfied'
               WHEN lower(status) IN ('基本满意', '一般', '不太满意', '不满意', '非常不满意',
                                      'neutral', 'dissatisfied', 'very dissatisfied')
                   THEN 'not_satisfied'
               WHEN lower(status) IN ('不清楚', '不知道', '说不清', 'don''t know') THEN 'excluded'
               WHEN TRY_CAST(status AS DOUBLE) IN (4, 5) THEN 'satisfied'
               WHEN TRY_CAST(status AS DOUBLE) IN (1, 2, 3) THEN 'not_satisfied'
               WHEN TRY_CAST(status AS DOUBLE) NOT BETWEEN 1 AND 5 THEN 'excluded'
           END AS answer
    FROM recs
    WHERE event = 'survey'
),
respondents AS (          -- excluded answers dropped first, then each one's latest answer
    SELECT community, month, party, arg_max(answer, (day, rn)) AS answer
    FROM answers
    WHERE answer <> 'excluded'
    GROUP BY community, month, party, id
),
survey_counts AS (
    SELECT community, month,
           count(*) FILTER (party = 'resident' AND answer = 'satisfied') AS res_sat,
           count(*) FILTER (party = 'resident') AS res_resp,
           count(*) FILTER (party = 'unit' AND answer = 'satisfied') AS unit_sat,
           count(*) FILTER (party = 'unit') AS unit_resp
    FROM respondents
    GROUP BY community, month
),
profile_values AS (       -- the latest value dated on or before the month's last day,
    SELECT g.community, g.month, p.field,   -- else the earliest one
           COALESCE(
               arg_max(p.value, COALESCE(p.as_of, DATE '0001-01-01'))
                   FILTER (COALESCE(p.as_of, DATE '0001-01-01') <= last_day(g.month)),
               arg_min(p.value, COALESCE(p.as_of, DATE '0001-01-01'))
           ) AS value
    FROM grid g JOIN profile p ON p.community = g.community
    GROUP BY g.community, g.month, p.field
),
denominators AS (
    SELECT community, month,
           max(value) FILTER (field = 'residents_capable') AS residents_capable,
           max(value) FILTER (field = 'households') AS households,
           max(value) FILTER (field = 'units') AS units
    FROM profile_values
    GROUP BY community, month
),
wide AS (
    SELECT g.community, strftime(g.month, '%Y-%m') AS period,
           COALESCE(d.res_part, 0) AS res_part, COALESCE(d.unit_part, 0) AS unit_part,
           COALESCE(d.res_benefit, 0) AS res_benefit,
           COALESCE(d.unit_benefit, 0) AS unit_benefit,
           COALESCE(n.met, 0) AS met, COALESCE(n.raised, 0) AS raised,
           COALESCE(s.res_sat, 0) AS res_sat, COALESCE(s.res_resp, 0) AS res_resp,
           COALESCE(s.unit_sat, 0) AS unit_sat, COALESCE(s.unit_resp, 0) AS unit_resp,
           p.residents_capable, p.households, p.units
    FROM grid g
    LEFT JOIN distinct_counts d ON d.community = g.community AND d.month = g.month
    LEFT JOIN need_counts n ON n.community = g.community AND n.month = g.month
    LEFT JOIN survey_counts s ON s.community = g.community AND s.month = g.month
    LEFT JOIN denominators p ON p.community = g.community AND p.month = g.month
),
results AS (
    SELECT community, period, 1 AS k, 'resident_participation' AS indicator,
           res_part AS numerator, residents_capable AS denominator FROM wide
    UNION ALL SELECT community, period, 2, 'unit_participation', unit_part, units FROM wide
    UNION ALL SELECT community, period, 3, 'resident_benefit', res_benefit, households FROM wide
    UNION ALL SELECT community, period, 4, 'unit_benefit', unit_benefit, units FROM wide
    UNION ALL SELECT community, period, 5, 'need_satisfaction', met, raised FROM wide
    UNION ALL SELECT community, period, 6, 'resident_satisfaction', res_sat, res_resp FROM wide
    UNION ALL SELECT community, period, 7, 'unit_satisfaction', unit_sat, unit_resp FROM wide
)
SELECT community, period, indicator, numerator, denominator
FROM results
ORDER BY period, community, k
