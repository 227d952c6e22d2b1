"""The benchmark's query mix: our GraphQL operations, their PostGraphile 5 equivalents and the raw SQL floor.

Every query is parameterised by `fixture` (a dict the harness fills from the seeded database: a grid code, a
volunteer code, a district code …), so the same rows are read by every engine.

The raw SQL floor is the statements our resolvers issue for a request, in the order they issue them, with the
values bound. They were captured from PostgreSQL's statement log (`log_statement = 'all'` on the benchmark
database while one request of each kind ran) and cross-checked against the resolvers; `bench/run --show-sql`
prints them with the fixture's values. A floor request runs them one after another on one connection, as
the server does, so its latency is the database's share of ours.
"""

# --- our GraphQL operations -------------------------------------------------------------------------------

HOME = """
query GridHome($grid: String!) {
  region(code: $grid) {
    code name level volunteerCount activeCareSubjectCount
    team { role name phone duty }
  }
  careSubjects(filter: { inRegion: $grid, status: ACTIVE }, first: 20) {
    totalCount
    nodes { code name category currentRiskLevel daysSinceLastVisit }
  }
  serviceRecords(filter: { inRegion: $grid }, orderBy: { field: STARTED_AT, descending: true }, first: 10) {
    nodes { activity startedAt minutes volunteer { code name } }
  }
}"""

PROFILE = """
query VolunteerProfile($code: String!) {
  volunteer(code: $code) {
    code name status registeredOn
    grid { code name }
    teams { role joinedOn team { code name } }
    badges { badge grantedOn }
    serviceHours
    serviceRecords(first: 20) { totalCount nodes { activity startedAt minutes grid { code } } }
  }
}"""

ANALYST = """
query CrossDomain($district: String!) {
  region(code: $district) {
    code name
    children { code name level children { code name } }
  }
  volunteers(filter: { inRegion: $district }, first: 20) {
    nodes { code status registeredOn grid { code name } serviceRecords(first: 5) { nodes { activity startedAt minutes } } }
  }
  careSubjects(filter: { inRegion: $district, category: AT_RISK_YOUTH }, first: 20) {
    nodes {
      code category status registeredOn grid { code }
      mentorships(first: 3) { nodes { status startedOn mentor { code occupation } } }
    }
  }
}"""

STATISTICS = """
query PartnerStats {
  statistics(measure: SERVICE_HOURS, groupBy: [REGION, PERIOD], regionLevel: DISTRICT, period: MONTH, withTotals: true) {
    measure unit disclosureControlled
    cells { regionCode period value suppressed }
    totals { regionCode period value suppressed }
  }
}"""

VOLUNTEER_BY_CODE = """
query VolunteerByCode($code: String!) {
  volunteer(code: $code) { code status registeredOn }
}"""

REGION_BY_CODE = """
query RegionByCode($code: String!) {
  region(code: $code) { code name level }
}"""

PAGE = """
query VolunteerPage($district: String!, $first: Int!) {
  volunteers(filter: { inRegion: $district }, first: $first) { nodes { code status registeredOn } }
}"""

LOG_BATCH = """
mutation LogBatch($records: [LogServiceInput!]!) {
  logServiceBatch(records: $records) { id minutes }
}"""

# --- the same reads, expressed in PostGraphile's schema (simplify-inflection, pg-aggregates) ---------------
# Both PostGraphile peers answer these: the unscoped one as they are, the scoped one under the token of the caller
# that asks us (bench/run, CALLER_OF), so they may read only columns that caller's role is granted
# (bench/postgraphile/scoped.sql): the home screen's `currentRiskLevel` needs the care worker's sensitive access.

PG_HOME = """
query GridHome($grid: String!) {
  region: regionByCode(code: $grid) {
    code name level
    volunteers { totalCount }
    activeCareSubjects: careSubjects(condition: { status: "ACTIVE" }) { totalCount }
    team: gridTeamMembersByGridId { nodes { role name phone duty } }
    careSubjects(condition: { status: "ACTIVE" }, first: 20, orderBy: PRIMARY_KEY_ASC) {
      totalCount
      nodes {
        code name category currentRiskLevel
        careVisitsBySubjectId(first: 1, orderBy: VISITED_AT_DESC) { nodes { visitedAt } }
      }
    }
    serviceRecordsByGridId(first: 10, orderBy: STARTED_AT_DESC) {
      nodes { activity startedAt minutes volunteer { code name } }
    }
  }
}"""

PG_PROFILE = """
query VolunteerProfile($code: String!) {
  volunteer: volunteerByCode(code: $code) {
    code name status registeredOn
    region { code name }
    volunteerTeamMemberships { nodes { role joinedOn team { code name } } }
    volunteerBadges { nodes { badge grantedOn } }
    hours: serviceRecords { aggregates { sum { minutes } } }
    serviceRecords(first: 20, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { activity startedAt minutes grid { code } } }
  }
}"""

PG_ANALYST = """
query CrossDomain($district: String!, $low: String!, $high: String!) {
  region: regionByCode(code: $district) {
    code name
    children: childRegions(orderBy: PRIMARY_KEY_ASC) { nodes { code name level children: childRegions(orderBy: PRIMARY_KEY_ASC) { nodes { code name } } } }
  }
  volunteers(filter: { region: { path: { greaterThanOrEqualTo: $low, lessThan: $high } } }, first: 20, orderBy: PRIMARY_KEY_ASC) {
    nodes { code status registeredOn region { code name } serviceRecords(first: 5, orderBy: PRIMARY_KEY_ASC) { nodes { activity startedAt minutes } } }
  }
  careSubjects(
    filter: { category: { equalTo: "AT_RISK_YOUTH" }, region: { path: { greaterThanOrEqualTo: $low, lessThan: $high } } }
    first: 20, orderBy: PRIMARY_KEY_ASC
  ) {
    nodes {
      code category status registeredOn region { code }
      mentorshipsByMenteeId(first: 3, orderBy: PRIMARY_KEY_ASC) { nodes { status startedOn mentor { code occupation } } }
    }
  }
}"""

PG_VOLUNTEER_BY_CODE = """
query VolunteerByCode($code: String!) {
  volunteer: volunteerByCode(code: $code) { code status registeredOn }
}"""

PG_REGION_BY_CODE = """
query RegionByCode($code: String!) {
  region: regionByCode(code: $code) { code name level }
}"""

PG_PAGE = """
query VolunteerPage($low: String!, $high: String!, $first: Int!) {
  volunteers(filter: { region: { path: { greaterThanOrEqualTo: $low, lessThan: $high } } }, first: $first, orderBy: PRIMARY_KEY_ASC) {
    nodes { code status registeredOn }
  }
}"""

# --- the raw SQL floor ------------------------------------------------------------------------------------

_REGION = ('SELECT "region"."id", "region"."code", "region"."name", "region"."level", "region"."parent_id", '
           '"region"."path", "region"."depth", "region"."created_at" FROM "region"')
_VOLUNTEER = ('SELECT "volunteer"."id", "volunteer"."code", "volunteer"."name", "volunteer"."gender", '
              '"volunteer"."id_number", "volunteer"."phone", "volunteer"."region_id", "volunteer"."status", '
              '"volunteer"."registered_on", "volunteer"."created_at", "volunteer"."updated_at" FROM "volunteer"')
_CARE_SUBJECT = ('SELECT "care_subject"."id", "care_subject"."code", "care_subject"."category", '
                 '"care_subject"."name", "care_subject"."gender", "care_subject"."id_number", '
                 '"care_subject"."birth_date", "care_subject"."phone", "care_subject"."address", '
                 '"care_subject"."region_id", "care_subject"."status", "care_subject"."current_risk_level", '
                 '"care_subject"."registered_on", "care_subject"."created_at", "care_subject"."updated_at" '
                 'FROM "care_subject"')

_VOLUNTEER_CARRIED = ", ".join(
    f'"volunteer"."{column}" AS "gg_volunteer_{column}"' for column in
    ("id", "code", "name", "gender", "id_number", "phone", "region_id", "status", "registered_on", "created_at",
     "updated_at"))


def _col(table, column):
    return f'"{table}"."{column}"'


def _is_grid(path):
    return len([segment for segment in path.split("/") if segment]) == 5


def _in_subtree(column, path):
    """Our scope predicate: the regions of the subtree rooted at `path`, bounds written as literals; a grid's
    subtree is the grid alone (`column = (SELECT id … WHERE path = …)`); a root's is `(no region lies outside
    it) OR column IN (…)`."""
    if _is_grid(path):
        return f'{column} = (SELECT "id" FROM "region" WHERE "region"."path" = (\'{path}\'))'
    listed = f'{column} IN (SELECT "id" FROM "region" WHERE {_path_range(path)})'
    return f'(({_whole_tree_under(path)}) OR {listed})' if _is_root(path) else listed


def _region_path_in(path):
    """The scope of reads of the region table itself: the path range, or for a root `(no region lies outside it)
    OR (the path range)`."""
    if _is_root(path):
        return f'(({_whole_tree_under(path)}) OR ({_path_range(path)}))'
    return _path_range(path)


def _path_range(path):
    high = path.rstrip("/") + "0"
    return f'"region"."path" >= (\'{path}\') AND "region"."path" < (\'{high}\')'


def _whole_tree_under(path):
    high = path.rstrip("/") + "0"
    return (f'(NOT EXISTS(SELECT 1 FROM "region" WHERE "region"."path" < (\'{path}\'))) AND '
            f'(NOT EXISTS(SELECT 1 FROM "region" WHERE "region"."path" >= (\'{high}\')))')


def _is_root(path):
    return len([segment for segment in path.split("/") if segment]) == 1


def _count_under(table, region_id, scope_path, extra="", tag=None):
    kind = "" if tag is None else f'{tag} AS "kind", '
    return (f'SELECT "r"."id" AS "region_id", {kind}COUNT("{table}"."id") AS "n" FROM "region" AS "r" '
            'INNER JOIN "region" AS "g" ON "g"."path" >= "r"."path" AND "g"."path" < '
            '(substr("r"."path", 1, length("r"."path") - 1) || \'0\') '
            f'INNER JOIN "{table}" ON "{table}"."region_id" = "g"."id" WHERE "r"."id" IN ({region_id}) '
            f'AND {_in_subtree(_col(table, "region_id"), scope_path)}{extra} GROUP BY "r"."id"')


def _union_all(first, second, sqlite):
    """`first UNION ALL second` as sea-query writes it: PostgreSQL gets the second member in parentheses, SQLite
    (whose grammar has no parenthesized members) gets it bare."""
    return f"{first} UNION ALL {second}" if sqlite else f"{first} UNION ALL ({second})"


def _ids(values):
    return ", ".join(str(value) for value in values) or "NULL"


def floor_sql(fixture, sqlite=False):
    """name -> the read statements our server issues for that request, values bound as literals.

    Captured from PostgreSQL's statement log for the queries above, with a token whose region the server has
    already resolved (it remembers region codes, so only a token's first request looks its region up), and
    cross-checked against the resolvers; the text is the same on SQLite but for the `UNION ALL` of the grid's
    counts (see `_union_all`). The home screen's pages carry their nested rows (README, "How a list is read"):
    five reading statements. Its floor leaves out the audit-trail append that follows its reads (on PostgreSQL
    one statement that takes the chain's lock, reads its end and inserts the events with their record lists),
    which the server shares between concurrent requests: writing events outside the server would break the
    benchmark database's hash chain.
    """
    city = f"/{fixture['city']}/"
    grid_path, grid_id, grid = fixture["grid_path"], fixture["grid_id"], fixture["grid"]
    subject_scope = _in_subtree('"care_subject"."region_id"', grid_path)
    active_subjects = f'{subject_scope} AND "care_subject"."status" = \'ACTIVE\''
    record_scope = _in_subtree('"service_record"."grid_id"', grid_path)
    total = f'(SELECT COUNT(*) AS "total" FROM ({_CARE_SUBJECT} WHERE {active_subjects}) AS "matching") AS "gg_total"'
    subjects_with_total = _CARE_SUBJECT.replace(' FROM "care_subject"', f', {total} FROM "care_subject"', 1)
    return {
        "volunteer_by_code": [
            f'{_VOLUNTEER} WHERE "volunteer"."code" = \'{fixture["volunteer"]}\' AND '
            f'{_in_subtree(_col("volunteer", "region_id"), city)} LIMIT 1',
        ],
        "region_by_code": [
            f'{_REGION} WHERE "region"."code" IN (\'{fixture["township"]}\') AND {_region_path_in(city)}',
        ],
        "home": [
            f'{_REGION} WHERE "region"."code" IN (\'{grid}\') AND {_region_path_in(grid_path)}',
            # The page of subjects carries its total (a scalar subquery, as `totalCount` is read) and each
            # subject's newest visit (a correlated subquery): README, "How a list is read".
            'SELECT "care_subject".*, (SELECT MAX("care_visit"."visited_at") AS "last_visit" FROM "care_visit" '
            'WHERE "care_visit"."subject_id" IN (SELECT "care_subject"."id" FROM "care_subject" '
            f'WHERE {subject_scope} AND "id" = "care_visit"."subject_id") '
            'AND "care_visit"."subject_id" = "care_subject"."id") AS "gg_last_visit" '
            f'FROM ({subjects_with_total} WHERE {active_subjects} ORDER BY "care_subject"."id" ASC LIMIT 21) '
            'AS "care_subject" ORDER BY "care_subject"."id" ASC',
            # The page of records carries each record's volunteer, joined under the caller's scope.
            f'SELECT "service_record".*, {_VOLUNTEER_CARRIED} FROM ('
            'SELECT "service_record"."id", "service_record"."volunteer_id", "service_record"."grid_id", '
            '"service_record"."activity", "service_record"."started_at", "service_record"."minutes", '
            f'"service_record"."note", "service_record"."created_at" FROM "service_record" WHERE {record_scope} '
            'ORDER BY "service_record"."started_at" DESC, "service_record"."id" DESC LIMIT 11) AS "service_record" '
            'LEFT JOIN "volunteer" ON "volunteer"."id" = "service_record"."volunteer_id" AND '
            f'{_in_subtree(_col("volunteer", "region_id"), grid_path)} AND TRUE '
            'ORDER BY "service_record"."started_at" DESC, "service_record"."id" DESC',
            # Both counts of a page of regions: one grouped count per kind asked for, in one statement.
            _union_all(
                _count_under("volunteer", grid_id, grid_path, tag=0),
                _count_under("care_subject", grid_id, grid_path, ' AND "care_subject"."status" = \'ACTIVE\'', tag=1),
                sqlite),
            'SELECT "grid_team_member"."id", "grid_team_member"."grid_id", "grid_team_member"."role", '
            '"grid_team_member"."name", "grid_team_member"."phone", "grid_team_member"."duty", '
            f'"grid_team_member"."created_at" FROM "grid_team_member" WHERE "grid_team_member"."grid_id" IN '
            f'({grid_id}) AND {_in_subtree(_col("grid_team_member", "grid_id"), grid_path)} '
            'ORDER BY "grid_team_member"."id" ASC',
        ],
    }
