"""The SQL of bench/_fill.py: the columns of store_case a fill writes, and the one
INSERT … SELECT over generate_series that makes the rows (see _fill's docstring for what
they look like)."""

from __future__ import annotations

# Every column we write; any other column of store_case must be nullable or have a default
# (checked before each fill, so a new NOT NULL column fails loudly instead of silently).
COLUMNS = (
    "matter_id, matter_code, state, version, org_id, org_path, j_district, j_street,"
    " j_community, j_grid, applicant_id, created_by_id, handler_id, pending_role,"
    " pending_level, data, materials, signatures, visited, extensions, overdue, ever_overdue,"
    " outcome, submitted_at, entered_at, deadline, due_at, closed_at, updated_at, event_count,"
    " last_hash"
)

INSERT = f"""
INSERT INTO store_case ({COLUMNS})
SELECT s.matter_id, s.matter_code, s.state, 1, o.org_id, o.path, o.jd, o.js, o.jc, o.jg,
       r.applicant, r.applicant,
       CASE WHEN s.is_open AND NOT s.sign AND r.r4 < %(handed)s THEN r.staff END,
       s.pending_role, s.pending_level,
       jsonb_build_object(
           'applicant_name', (%(sur)s::text[])[1 + r.n %% %(n_sur)s]
                             || (%(giv)s::text[])[1 + (r.n / 7) %% %(n_giv)s]
                             || CASE WHEN r.r5 < 0.6
                                     THEN (%(giv)s::text[])[1 + (r.n / 11) %% %(n_giv)s]
                                     ELSE '' END,
           'contact_phone', '1' || (ARRAY['3','5','7','8'])[1 + (r.n / 3) %% 4]
                            || lpad((r.n %% 1000000000)::text, 9, '0'),
           'location', (%(roads)s::text[])[1 + (r.n / 13) %% %(n_roads)s] || ' '
                       || (1 + (r.n / 17) %% 399)::text || ' 号',
           'area', 1 + (r.n / 19) %% 199,
           'purpose', (%(purposes)s::text[])[1 + (r.n / 23) %% %(n_purposes)s],
           'start_date', '2026-' || lpad((1 + (r.n / 29) %% 12)::text, 2, '0') || '-'
                         || lpad((1 + (r.n / 31) %% 28)::text, 2, '0'),
           'end_date', '2027-' || lpad((1 + (r.n / 37) %% 12)::text, 2, '0') || '-'
                       || lpad((1 + (r.n / 41) %% 28)::text, 2, '0'),
           'safety_commitment', true
       ) || CASE WHEN s.role_field IS NULL THEN '{{}}'::jsonb
                 ELSE jsonb_build_object(s.role_field, s.pending_role) END,
       '{{}}'::jsonb, '[]'::jsonb, s.visited, 0,
       t.overdue, t.overdue OR (NOT s.is_open AND r.r5 < 0.03), s.outcome,
       t.submitted, t.entered, t.deadline, t.submitted + (5 + (r.n / 43) %% 16) * interval '1 day',
       t.closed, coalesce(t.closed, t.entered), 0, repeat('0', 64)
FROM (
    SELECT floor(random() * %(n_slots)s)::int AS si,
           floor(random() * %(n_orgs)s)::int AS oi,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           floor(random() * 2147483647)::bigint AS n,
           (%(applicants)s::bigint[])[1 + floor(random() * %(n_applicants)s)::int] AS applicant,
           (%(staff)s::bigint[])[1 + floor(random() * %(n_staff)s)::int] AS staff
    FROM generate_series(1, %(n)s)
) r
JOIN pg_temp.fill_slot s ON s.slot = r.si
JOIN pg_temp.fill_org o ON o.slot = r.oi
CROSS JOIN LATERAL (
    SELECT e.entered, e.submitted, e.closed, e.deadline,
           coalesce(e.deadline < %(now)s, false) AS overdue
    FROM (
        SELECT CASE WHEN s.is_open THEN %(now)s - r.r1 * interval '3 days'
                    ELSE b.closed END AS entered,
               CASE WHEN s.is_open THEN %(now)s - r.r1 * interval '3 days'
                                       - r.r2 * interval '5 days'
                    ELSE b.submitted END AS submitted,
               CASE WHEN s.is_open THEN NULL ELSE b.closed END AS closed,
               CASE WHEN s.is_open AND s.has_limit
                    THEN %(now)s - r.r1 * interval '3 days' + interval '1 day'
                         + r.r3 * interval '5 days' END AS deadline
        FROM (
            SELECT %(now)s - interval '15 days' - r.r1 * interval '1080 days' AS submitted,
                   %(now)s - interval '15 days' - r.r1 * interval '1080 days'
                   + interval '2 hours' + r.r2 * interval '15 days' AS closed
        ) b
    ) e
) t
"""
