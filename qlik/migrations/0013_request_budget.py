"""A request budget per Qlik API key, shared by every process (qlik/budget.py calls it).

Qlik Cloud allows a key about 1,000 requests a minute, whatever number of syncs, workers and
machines use it, so the budget lives here: one row per key (only its SHA-256) holding when
the key's next request may start, moved atomically by two SECURITY DEFINER functions that
read the database's clock, so every machine agrees on the time.

The table holds no tenant data and the runtime role has no privilege on it: only the
functions below, running as the owner, read or write it. So it needs no RLS policies (and
FORCE without policies would hide its rows from those very functions). EXECUTE is revoked
from PUBLIC; `atlas.db_roles.runtime_privileges_grant` grants it to the runtime role.
"""

from django.db import migrations

REQUEST_BUDGET = """
-- When each key's next request may start. The CHECK keeps a raw key out: only a SHA-256 hex.
CREATE TABLE IF NOT EXISTS atlas_private.qlik_request_budget (
    key_sha256 text PRIMARY KEY CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    next_start timestamptz NOT NULL
);

-- Only the owner (the functions below run as it) touches the table.
REVOKE ALL ON TABLE atlas_private.qlik_request_budget FROM PUBLIC;

-- Reserve the key's next start and return the seconds to wait for it. Starts are spaced by
-- 60/per_minute seconds and never bunched (no burst), so any 60 s holds at most per_minute
-- of them. The clock is read after the row lock is held: a caller that queued on the lock
-- cannot be given a start already overtaken by the one before it.
CREATE OR REPLACE FUNCTION atlas_private.qlik_request_slot(key_hash text, per_minute integer)
RETURNS double precision
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    spacing interval;
    previous timestamptz;
    now_at timestamptz;
    slot_start timestamptz;
BEGIN
    IF per_minute IS NULL OR per_minute <= 0 THEN
        RETURN 0;
    END IF;
    spacing := make_interval(secs => 60.0 / per_minute);
    INSERT INTO atlas_private.qlik_request_budget (key_sha256, next_start)
    VALUES (key_hash, '-infinity')
    ON CONFLICT (key_sha256) DO NOTHING;
    SELECT b.next_start INTO previous
    FROM atlas_private.qlik_request_budget b
    WHERE b.key_sha256 = key_hash
    FOR UPDATE;
    now_at := clock_timestamp();
    slot_start := greatest(previous, now_at);
    UPDATE atlas_private.qlik_request_budget b
    SET next_start = slot_start + spacing
    WHERE b.key_sha256 = key_hash;
    RETURN extract(epoch FROM slot_start - now_at)::double precision;
END
$$;

-- The tenant answered 429 Retry-After: no request with this key starts before now + seconds.
CREATE OR REPLACE FUNCTION atlas_private.qlik_request_hold(key_hash text, seconds double precision)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO atlas_private.qlik_request_budget AS b (key_sha256, next_start)
    VALUES (key_hash, clock_timestamp() + make_interval(secs => greatest(seconds, 0)))
    ON CONFLICT (key_sha256) DO UPDATE
    SET next_start = greatest(b.next_start, EXCLUDED.next_start);
$$;

-- Functions are executable by PUBLIC by default; only the runtime role should spend budget.
REVOKE EXECUTE ON FUNCTION atlas_private.qlik_request_slot(text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION atlas_private.qlik_request_hold(text, double precision) FROM PUBLIC;
"""

REQUEST_BUDGET_REVERSE = """
-- The functions first: they reference the table.
DROP FUNCTION IF EXISTS atlas_private.qlik_request_hold(text, double precision);
DROP FUNCTION IF EXISTS atlas_private.qlik_request_slot(text, integer);

-- Then the budget itself (it is only a rate state: nothing is lost that matters).
DROP TABLE IF EXISTS atlas_private.qlik_request_budget;
"""


class Migration(migrations.Migration):
    dependencies = [("qlik", "0012_datasets_row_level_security")]

    operations = [migrations.RunSQL(REQUEST_BUDGET, reverse_sql=REQUEST_BUDGET_REVERSE)]
