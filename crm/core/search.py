"""C3 search on PostgreSQL for fragments of any length.

Chinese names are short and people search them by one or two characters (华为, 张伟), which
trigram indexes cannot serve (a LIKE pattern needs three characters to give a trigram). So a
searchable table gets one GIN index over the 1- and 2-character grams of its searchable columns
joined together: `crm_grams(col1 || ' ' || col2 …)`. A search first asks that index for the rows
holding every 2-character gram of the term (its single character when it has one), then checks
the exact condition (icontains/istartswith per visible field) on those rows only. The gram test
only narrows: the exact condition decides, so hidden fields (Y5) stay unsearched.

Uppercasing happens inside the database functions on both sides, so the index and the term
agree on case whatever Python would do. Other databases skip the narrowing and scan.
"""

from django.db import connection
from django.db.models import BooleanField, F, Func, TextField, Value

# crm_grams runs once per row when an index is built or a row written, so it is the
# cost of indexing a million customers: characters from string_to_array and pairs of
# neighbours from one unnest, in PL/pgSQL (its plan is cached; a SQL function with
# subqueries is set up again on every call), about five times faster than the
# generate_series/DISTINCT query it replaces. It may repeat a gram: the GIN index keeps
# each key once per row and `@>` ignores repeats, so searches are unchanged.
GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  c text[] := string_to_array(upper(t), NULL);
  n int := cardinality(c);
BEGIN
  RETURN c || ARRAY(SELECT a || b FROM unnest(c[1:n - 1], c[2:n]) AS x(a, b));
END
$$;
"""
TERM_GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_term_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN length(t) = 1 THEN ARRAY[upper(t)] ELSE ARRAY(
    SELECT DISTINCT substr(upper(t), i, 2) FROM generate_series(1, length(t) - 1) i
  ) END
$$;
"""
FUNCTIONS = "".join((GRAMS_FUNCTION, TERM_GRAMS_FUNCTION))
DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS crm_term_grams(text);
DROP FUNCTION IF EXISTS crm_grams(text);
"""


def grams_expression(columns: tuple[str, ...]) -> str:
    """The indexed expression; the index and the query must spell it identically."""
    joined = " || ' ' || ".join(f'"{c}"' for c in columns)
    return f"crm_grams({joined})"


def create_index_sql(index: str, table: str, columns: tuple[str, ...]) -> str:
    return (
        f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" '
        f"USING gin (({grams_expression(columns)}))"
    )


class _Grams(Func):
    function = "crm_grams"
    arg_joiner = " || ' ' || "  # as grams_expression() spells it
    output_field = TextField()


class _TermGrams(Func):
    function = "crm_term_grams"
    output_field = TextField()


class _Holds(Func):
    template = "%(expressions)s"
    arg_joiner = " @> "
    output_field = BooleanField()


def may_contain(columns: tuple[str, ...], term: str) -> Func | None:
    """A condition true for every row whose `columns` could contain `term` (PostgreSQL), or
    None where there is no gram index: then only the exact condition is applied."""
    if connection.vendor != "postgresql" or not term:
        return None
    return _Holds(_Grams(*(F(c) for c in columns)), _TermGrams(Value(term)))
