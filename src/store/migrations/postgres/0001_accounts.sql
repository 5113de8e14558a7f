-- Accounts: virtual keys, teams and their members, users, end users
-- (customers) and reusable budgets. JSON values are kept as TEXT, times as
-- unix seconds. Booleans are BOOLEAN here and INTEGER 0/1 in SQLite's file
-- (sqlx's Any driver cannot read a column SQLite declares BOOLEAN).
-- The spend writer adds to `spend` in place (`spend = spend + $1`), so no
-- other statement writes that column except a budget reset.

CREATE TABLE sy_keys (
    token_hash            TEXT PRIMARY KEY,            -- hex SHA-256 of the plaintext key
    key_name              TEXT NOT NULL,               -- masked form, sk-...abcd
    key_alias             TEXT,
    user_id               TEXT,
    team_id               TEXT,
    models                TEXT NOT NULL DEFAULT '[]',
    aliases               TEXT NOT NULL DEFAULT '{}',
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    budget_duration       TEXT,
    budget_reset_at       BIGINT,
    spend                 DOUBLE PRECISION NOT NULL DEFAULT 0,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    max_parallel_requests BIGINT,
    model_rpm_limit       TEXT,
    model_tpm_limit       TEXT,
    model_max_budget      TEXT,
    metadata              TEXT NOT NULL DEFAULT '{}',
    tags                  TEXT NOT NULL DEFAULT '[]',
    allowed_routes        TEXT NOT NULL DEFAULT '[]',
    blocked               BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at            BIGINT,
    data_class            TEXT,
    guardrails            TEXT NOT NULL DEFAULT '[]',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX sy_keys_user_id ON sy_keys (user_id);
CREATE INDEX sy_keys_team_id ON sy_keys (team_id);
CREATE INDEX sy_keys_updated_at ON sy_keys (updated_at);
-- NULLs are distinct, so only keys that have an alias must differ in it.
CREATE UNIQUE INDEX sy_keys_key_alias ON sy_keys (key_alias);

CREATE TABLE sy_teams (
    team_id               TEXT PRIMARY KEY,
    team_alias            TEXT,
    models                TEXT NOT NULL DEFAULT '[]',
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    budget_duration       TEXT,
    budget_reset_at       BIGINT,
    spend                 DOUBLE PRECISION NOT NULL DEFAULT 0,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    max_parallel_requests BIGINT,
    metadata              TEXT NOT NULL DEFAULT '{}',
    tags                  TEXT NOT NULL DEFAULT '[]',
    blocked               BOOLEAN NOT NULL DEFAULT FALSE,
    data_class            TEXT,
    guardrails            TEXT NOT NULL DEFAULT '[]',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX sy_teams_updated_at ON sy_teams (updated_at);

CREATE TABLE sy_team_members (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role    TEXT NOT NULL DEFAULT 'user',              -- admin | user
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX sy_team_members_user_id ON sy_team_members (user_id);

CREATE TABLE sy_users (
    user_id               TEXT PRIMARY KEY,
    user_email            TEXT,
    user_role             TEXT NOT NULL DEFAULT 'internal_user',
    models                TEXT NOT NULL DEFAULT '[]',
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    budget_duration       TEXT,
    budget_reset_at       BIGINT,
    spend                 DOUBLE PRECISION NOT NULL DEFAULT 0,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    max_parallel_requests BIGINT,
    metadata              TEXT NOT NULL DEFAULT '{}',
    data_class            TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX sy_users_updated_at ON sy_users (updated_at);

CREATE TABLE sy_end_users (
    end_user_id          TEXT PRIMARY KEY,             -- the `user` field of a request
    alias                TEXT,
    blocked              BOOLEAN NOT NULL DEFAULT FALSE,
    budget_id            TEXT,                         -- a row of sy_budgets
    max_budget           DOUBLE PRECISION,
    spend                DOUBLE PRECISION NOT NULL DEFAULT 0,
    tpm_limit            BIGINT,
    rpm_limit            BIGINT,
    allowed_model_region TEXT,
    default_model        TEXT,
    metadata             TEXT NOT NULL DEFAULT '{}',
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX sy_end_users_updated_at ON sy_end_users (updated_at);

CREATE TABLE sy_budgets (
    budget_id             TEXT PRIMARY KEY,
    max_budget            DOUBLE PRECISION,
    soft_budget           DOUBLE PRECISION,
    max_parallel_requests BIGINT,
    tpm_limit             BIGINT,
    rpm_limit             BIGINT,
    budget_duration       TEXT,
    budget_reset_at       BIGINT,
    model_max_budget      TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX sy_budgets_updated_at ON sy_budgets (updated_at);

-- What was deleted and when: other gateway instances on the same database
-- read it to drop the row from their in-memory registry.
CREATE TABLE sy_account_deletions (
    kind       TEXT NOT NULL,                          -- key | team | user | end_user | budget
    id         TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
);
CREATE INDEX sy_account_deletions_deleted_at ON sy_account_deletions (deleted_at);
