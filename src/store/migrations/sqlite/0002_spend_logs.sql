-- One row per request, written in batches by the spend writer (src/spend/).
-- Times are unix milliseconds (UTC), so that the same arithmetic groups by
-- day on SQLite and PostgreSQL alike. Booleans are INTEGER 0/1 here: sqlx's
-- Any driver cannot read a column SQLite declares BOOLEAN (PostgreSQL's
-- file uses BOOLEAN).
CREATE TABLE sy_spend_logs (
    request_id         TEXT PRIMARY KEY NOT NULL,
    call_type          TEXT NOT NULL,
    key_hash           TEXT,
    key_alias          TEXT,
    user_id            TEXT,
    team_id            TEXT,
    end_user           TEXT,
    tags               TEXT NOT NULL DEFAULT '[]',
    model_group        TEXT NOT NULL,
    deployment_id      TEXT,
    provider           TEXT,
    api_base           TEXT,
    model              TEXT,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_read_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens       BIGINT NOT NULL DEFAULT 0,
    cost               DOUBLE PRECISION NOT NULL DEFAULT 0,
    cost_estimated     INTEGER NOT NULL DEFAULT 0 CHECK (cost_estimated IN (0, 1)),
    start_time         BIGINT NOT NULL,
    end_time           BIGINT NOT NULL,
    ttft_ms            BIGINT,
    status             TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    error_type         TEXT,
    http_status        INTEGER NOT NULL,
    cache_hit          INTEGER NOT NULL DEFAULT 0 CHECK (cache_hit IN (0, 1))
);

-- Every index is one more B-tree write per request: these serve the
-- report queries (a date range, scanned by start_time and grouped) and the
-- /spend/logs filters by key and team; filters by user or end user scan the
-- date range.
CREATE INDEX sy_spend_logs_start ON sy_spend_logs (start_time);
CREATE INDEX sy_spend_logs_key ON sy_spend_logs (key_hash, start_time);
CREATE INDEX sy_spend_logs_team ON sy_spend_logs (team_id, start_time);

-- One row per tag of a request: grouping by tag is then a plain join on
-- both databases (no JSON functions, which the two spell differently).
CREATE TABLE sy_spend_log_tags (
    request_id TEXT NOT NULL REFERENCES sy_spend_logs (request_id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    start_time BIGINT NOT NULL,
    cost       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (request_id, tag)
);

CREATE INDEX sy_spend_log_tags_tag ON sy_spend_log_tags (tag, start_time);
