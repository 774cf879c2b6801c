"""Typo-tolerant search on words: fuzzystrmatch and a word edit-distance function.

pg_trgm's similarity compares trigram sets, which misses a transposed short word ("slaes"
shares two of six trigrams with "sales"); an edit distance per word catches it.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

WORD_DISTANCE = r"""
CREATE FUNCTION atlas_private.word_distance(phrase text, word text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path FROM CURRENT
AS $$
    SELECT min(levenshtein_less_equal(part, lower(word), 3))
    FROM regexp_split_to_table(lower(phrase), '[^[:alnum:]]+') AS part
    WHERE part <> ''
$$;
COMMENT ON FUNCTION atlas_private.word_distance(text, text) IS
    'Fewest edits (insert, delete, substitute) from `word` to a word of `phrase`, ignoring case; above 3 means far.';
"""


class Migration(migrations.Migration):
    dependencies = [("qlik", "0006_project_fk_without_own_index")]

    operations = [
        # fuzzystrmatch is a trusted extension (PostgreSQL 13+): the database owner may create it.
        CreateExtension("fuzzystrmatch"),
        migrations.RunSQL(
            WORD_DISTANCE, reverse_sql="DROP FUNCTION atlas_private.word_distance(text, text);"
        ),
    ]
