"""SQL views for reading the database as a dataset: claim_report and attribution

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 06:30:00

`sqlite3`, Datasette, a notebook or a BI tool can read the claim report and the attribution
table without the tracker. `claim_report` has the columns of `export claims`, lists joined as
the CSV writes them (`; `, with `;` and `\\` inside a value escaped by a backslash) in the same
order; `attribution` has one row per (incident, actor, stance) statement of a claim, with the
denial and claim-of-responsibility flags `report attribution` derives from the actor tree.

The SQL is written here, not generated from the models, so that this revision stays what it was
when later ones change the models. Lists are ordered subqueries: SQLite before 3.44 has no
ORDER BY inside group_concat, and keeps the order of an ordered subquery it aggregates.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("claim_report", "attribution")


def _escaped(column: str) -> str:
    return f"replace(replace({column}, '\\', '\\\\'), ';', '\\;')"


def _joined(dialect: str, value: str, source: str, order: str) -> str:
    """`value` over the rows of `source`, in `order`, as one `; `-separated cell (NULL if none)."""
    if dialect == "postgresql":
        return f"(SELECT string_agg({value}, '; ' ORDER BY {order}) FROM {source})"
    ordered = f"SELECT {value} AS v FROM {source} ORDER BY {order}"
    return f"(SELECT group_concat(v, '; ') FROM ({ordered}))"


def _claim_report(dialect: str) -> str:
    subjects = "claim_subject cs JOIN actor sa ON sa.id = cs.actor_id WHERE cs.claim_id = c.id"
    appears = "appearance ap JOIN source s ON s.id = ap.source_id WHERE ap.claim_id = c.id"
    as_text = "CAST(l.from_id AS TEXT)" if dialect == "sqlite" else "l.from_id::text"

    def links(relations: str) -> str:
        return _joined(
            dialect,
            as_text,
            f"link l WHERE l.to_id = c.id AND l.relation IN ({relations})",
            "l.from_id",
        )

    return f"""
CREATE VIEW claim_report AS
SELECT
  c.id,
  c.text,
  c.quote,
  a.name AS claimant,
  c.claimant_as,
  {_joined(dialect, _escaped("sa.name"), subjects, "cs.actor_id")} AS about,
  {_joined(dialect, _escaped("coalesce(cs.as_name, sa.name)"), subjects, "cs.actor_id")}
    AS about_as,
  c.stated,
  {_joined(dialect, _escaped("s.title"), appears, "ap.position")} AS sources,
  (SELECT s.url FROM {appears} AND s.url IS NOT NULL ORDER BY ap.position LIMIT 1)
    AS first_source_url,
  c.verdict,
  c.status,
  c.credibility,
  {_joined(dialect, _escaped("t.tag"), "claim_tag t WHERE t.claim_id = c.id", "t.tag")} AS tags,
  {links("'supports'")} AS supported_by,
  {links("'disputes', 'refutes'")} AS disputed_by,
  c.note,
  c.uid,
  c.created_at,
  c.updated_at
FROM claim c
JOIN actor a ON a.id = c.claimant_id
"""


# An actor's wholes and parts, transitively: clearing oneself, a part or a whole of oneself is
# a denial, blaming them a claim of responsibility (as `report attribution` reads them).
ATTRIBUTION = """
CREATE VIEW attribution AS
WITH RECURSIVE above(part_id, whole_id) AS (
  SELECT part_id, whole_id FROM actor_part
  UNION
  SELECT above.part_id, ap.whole_id FROM above JOIN actor_part ap ON ap.part_id = above.whole_id
),
own(claim_id, actor_id) AS (
  SELECT st.claim_id, st.actor_id
  FROM claim_stance st JOIN claim c ON c.id = st.claim_id
  WHERE c.claimant_id = st.actor_id
     OR EXISTS (SELECT 1 FROM above
                WHERE (above.part_id = st.actor_id AND above.whole_id = c.claimant_id)
                   OR (above.part_id = c.claimant_id AND above.whole_id = st.actor_id))
)
SELECT
  ci.incident_id,
  i.name AS incident,
  st.actor_id,
  a.name AS actor,
  st.stance,
  (st.stance = 'clears' AND o.claim_id IS NOT NULL) AS denial,
  (st.stance = 'blames' AND o.claim_id IS NOT NULL) AS claim_of_responsibility,
  c.claimant_id,
  ca.name AS claimant,
  c.id AS claim_id,
  c.text AS claim,
  c.stated,
  c.confidence,
  c.verdict
FROM claim_stance st
JOIN claim c ON c.id = st.claim_id
JOIN actor a ON a.id = st.actor_id
JOIN actor ca ON ca.id = c.claimant_id
LEFT JOIN claim_incident ci ON ci.claim_id = c.id
LEFT JOIN incident i ON i.id = ci.incident_id
LEFT JOIN own o ON o.claim_id = st.claim_id AND o.actor_id = st.actor_id
WHERE st.stance IN ('blames', 'clears')
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(_claim_report(dialect))
    op.execute(ATTRIBUTION)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
