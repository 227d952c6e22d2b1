-- The scoped PostGraphile peer: what a city deploying PostGraphile over govgraph's database would have to add so
-- that it shows each caller what govgraph shows them. `bench/run` applies it to the benchmark database before
-- every run (as the superuser, with psql's ON_ERROR_STOP); it can run any number of times.
--
-- * Roles. PostGraphile connects as `govgraph_pg_login` (LOGIN, not a superuser, no BYPASSRLS, NOINHERIT: on its
--   own it reads nothing) and, per request, switches to the role the verified JWT names (`pgSettings.role`, see
--   graphile.scoped.config.mjs): one NOLOGIN role per govgraph role the benchmark's tokens carry, plus one for the
--   home screen's pair of roles, which holds the privileges of both. All of them are members of
--   `govgraph_pg_reader`, the role the row-security policies apply to.
-- * Rows. Every table the shared queries read has row-level security (enabled and forced) and one policy for
--   `govgraph_pg_reader`: the row's region lies in the subtree of the token's region (`jwt.claims.region`, a
--   region code, as in govgraph's tokens), by the same materialized-path range govgraph's scope uses
--   (`path >= p AND path < p-with-its-last-'/'-as-'0'`); rows without a region of their own are visible with the
--   row they belong to, as in govgraph's scope rules (api/src/scope/rules.rs).
-- * Columns. Each role gets SELECT on the columns of the classes govgraph's policy table lets it see in clear
--   (api/src/auth/policy.rs, field classes in the types' descriptions): public columns for everyone with read
--   access, personal ones (names, phones, identity numbers, addresses, a visitor's name, a mentorship's goal) for
--   roles with personal access, sensitive ones (a care subject's risk level, a visit's medication and notes) for
--   roles with sensitive access. A column a role may not read is refused by PostgreSQL ("permission denied"),
--   which PostGraphile answers as a GraphQL error: the usual PostGraphile way to hide a column. (govgraph masks
--   personal values instead, 张*, and needs a stated purpose for sensitive ones; a column privilege cannot depend
--   on a claim, so this peer does not check the purpose.)
--
-- Roles are shared by every database of the cluster; grants, functions and policies belong to this database.

SET client_min_messages = warning;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY[
        'govgraph_pg_reader', 'govgraph_pg_analyst', 'govgraph_pg_partner', 'govgraph_pg_grid_worker',
        'govgraph_pg_care_worker', 'govgraph_pg_volunteer_coordinator', 'govgraph_pg_care_worker__grid_worker'
    ] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'govgraph_pg_login') THEN
        CREATE ROLE govgraph_pg_login LOGIN;
    END IF;
END
$$;

ALTER ROLE govgraph_pg_login LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
ALTER ROLE govgraph_pg_reader NOLOGIN NOSUPERUSER NOBYPASSRLS;

GRANT govgraph_pg_reader TO govgraph_pg_analyst, govgraph_pg_partner, govgraph_pg_grid_worker,
    govgraph_pg_care_worker, govgraph_pg_volunteer_coordinator, govgraph_pg_care_worker__grid_worker;
GRANT govgraph_pg_care_worker, govgraph_pg_grid_worker TO govgraph_pg_care_worker__grid_worker;
-- The login role may switch to each of them (SET ROLE), and inherits nothing from them.
GRANT govgraph_pg_analyst, govgraph_pg_partner, govgraph_pg_grid_worker, govgraph_pg_care_worker,
    govgraph_pg_volunteer_coordinator, govgraph_pg_care_worker__grid_worker TO govgraph_pg_login;

-- The caller's subtree bounds, from the token's region code. SECURITY DEFINER (owned by the superuser that runs
-- this script) so that reading the region table here is not itself subject to the region table's policy.
-- Policies call them as `(SELECT …)`, which PostgreSQL evaluates once per statement.
CREATE SCHEMA IF NOT EXISTS govgraph_pg;

CREATE OR REPLACE FUNCTION govgraph_pg.caller_path() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT path FROM public.region WHERE code = nullif(current_setting('jwt.claims.region', true), '')
$$;

-- The exclusive upper bound of the caller's subtree: the path with its final '/' replaced by '0' (no region
-- visible when the token names no region).
CREATE OR REPLACE FUNCTION govgraph_pg.caller_path_end() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT substr(p, 1, length(p) - 1) || '0' FROM (SELECT govgraph_pg.caller_path() AS p) AS caller
$$;

REVOKE ALL ON FUNCTION govgraph_pg.caller_path(), govgraph_pg.caller_path_end() FROM PUBLIC;
GRANT USAGE ON SCHEMA govgraph_pg TO govgraph_pg_reader;
GRANT EXECUTE ON FUNCTION govgraph_pg.caller_path(), govgraph_pg.caller_path_end() TO govgraph_pg_reader;
GRANT USAGE ON SCHEMA public TO govgraph_pg_reader;

-- Start from nothing, so that a rerun after a change of this file leaves no stale privilege behind (revoking a
-- table's privileges revokes its column privileges too).
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM govgraph_pg_reader, govgraph_pg_analyst, govgraph_pg_partner,
    govgraph_pg_grid_worker, govgraph_pg_care_worker, govgraph_pg_volunteer_coordinator,
    govgraph_pg_care_worker__grid_worker, govgraph_pg_login;

-- Public columns, for every role with read access to the resource.
GRANT SELECT ON region TO govgraph_pg_analyst, govgraph_pg_partner, govgraph_pg_grid_worker,
    govgraph_pg_care_worker, govgraph_pg_volunteer_coordinator;
GRANT SELECT ON grid_team_member TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_care_worker,
    govgraph_pg_volunteer_coordinator;
GRANT SELECT (id, code, gender, region_id, status, registered_on, created_at, updated_at) ON volunteer
    TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_volunteer_coordinator;
GRANT SELECT ON volunteer_team, volunteer_team_membership, volunteer_badge
    TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_volunteer_coordinator;
GRANT SELECT ON service_record TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_volunteer_coordinator;
GRANT SELECT (id, code, category, gender, region_id, status, registered_on, created_at, updated_at) ON care_subject
    TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_care_worker;
GRANT SELECT (id, subject_id, kind, visited_at, created_at) ON care_visit
    TO govgraph_pg_analyst, govgraph_pg_grid_worker, govgraph_pg_care_worker;
GRANT SELECT (id, code, occupation, region_id, active, created_at) ON mentor
    TO govgraph_pg_analyst, govgraph_pg_grid_worker;
GRANT SELECT (id, mentor_id, mentee_id, status, started_on, ended_on, created_at) ON mentorship
    TO govgraph_pg_analyst, govgraph_pg_grid_worker;

-- Personal columns, for roles with personal access.
GRANT SELECT (name, id_number, phone) ON volunteer TO govgraph_pg_grid_worker, govgraph_pg_volunteer_coordinator;
GRANT SELECT (name, id_number, birth_date, phone, address) ON care_subject
    TO govgraph_pg_grid_worker, govgraph_pg_care_worker;
GRANT SELECT (visitor) ON care_visit TO govgraph_pg_grid_worker, govgraph_pg_care_worker;
GRANT SELECT (name, phone) ON mentor TO govgraph_pg_grid_worker;
GRANT SELECT (goal) ON mentorship TO govgraph_pg_grid_worker;

-- Sensitive columns, for roles with sensitive access.
GRANT SELECT (current_risk_level) ON care_subject TO govgraph_pg_care_worker;
GRANT SELECT (medication_taken, notes) ON care_visit TO govgraph_pg_care_worker;

-- Rows: the caller's region subtree, every table the shared queries read.
DO $$
DECLARE
    rule record;
BEGIN
    FOR rule IN SELECT * FROM (VALUES
        -- A region: its own path.
        ('region', 'path >= (SELECT govgraph_pg.caller_path()) AND path < (SELECT govgraph_pg.caller_path_end())'),
        -- By its own region or grid: the region is visible (the region table's policy applies inside). Written
        -- as EXISTS, which leaves PostgreSQL the choice between probing the region of each row (1 µs each, what a
        -- lookup by code wants) and hashing the subtree's regions; `grid_id IN (SELECT id FROM region)` always
        -- hashes them, 2,564 for a city-wide token, about 1 ms per statement.
        ('grid_team_member', 'EXISTS (SELECT 1 FROM region r WHERE r.id = grid_id)'),
        ('volunteer', 'EXISTS (SELECT 1 FROM region r WHERE r.id = region_id)'),
        ('volunteer_team', 'EXISTS (SELECT 1 FROM region r WHERE r.id = region_id)'),
        ('service_record', 'EXISTS (SELECT 1 FROM region r WHERE r.id = grid_id)'),
        ('care_subject', 'EXISTS (SELECT 1 FROM region r WHERE r.id = region_id)'),
        ('mentor', 'EXISTS (SELECT 1 FROM region r WHERE r.id = region_id)'),
        -- With the row it belongs to (whose own policy applies inside).
        ('volunteer_team_membership', 'EXISTS (SELECT 1 FROM volunteer v WHERE v.id = volunteer_id)'),
        ('volunteer_badge', 'EXISTS (SELECT 1 FROM volunteer v WHERE v.id = volunteer_id)'),
        ('care_visit', 'EXISTS (SELECT 1 FROM care_subject s WHERE s.id = subject_id)'),
        -- A mentorship by its mentee, an at-risk youth.
        ('mentorship', 'EXISTS (SELECT 1 FROM care_subject s WHERE s.id = mentee_id AND s.category = ''AT_RISK_YOUTH'')')
    ) AS rules (tbl, predicate) LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', rule.tbl);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', rule.tbl);
        EXECUTE format('DROP POLICY IF EXISTS govgraph_pg_in_subtree ON %I', rule.tbl);
        EXECUTE format('CREATE POLICY govgraph_pg_in_subtree ON %I FOR SELECT TO govgraph_pg_reader USING (%s)',
                       rule.tbl, rule.predicate);
    END LOOP;
END
$$;
