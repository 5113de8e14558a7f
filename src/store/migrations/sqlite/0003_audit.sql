-- The tamper-evident audit log (src/audit/, docs/audit.md): one row per
-- request, admin action and configuration load, chained by hash. Times are
-- unix milliseconds (UTC); JSON fields are kept as the exact text that was
-- hashed. Same table as the PostgreSQL migration.
CREATE TABLE sy_audit (
    seq                 INTEGER PRIMARY KEY NOT NULL,
    time_ms             INTEGER NOT NULL,
    kind                TEXT NOT NULL,
    request_id          TEXT,
    key_hash            TEXT,
    user_id             TEXT,
    team_id             TEXT,
    caller_addr         TEXT,
    data_class          TEXT,
    data_class_reason   TEXT,
    guardrails          TEXT NOT NULL,
    model_group         TEXT,
    attempts            TEXT NOT NULL,
    prompt_tokens       INTEGER NOT NULL,
    completion_tokens   INTEGER NOT NULL,
    cost                REAL NOT NULL,
    prompt_hmac         TEXT,
    response_hmac       TEXT,
    prompt_plaintext    TEXT,
    response_plaintext  TEXT,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL
);

CREATE INDEX sy_audit_time ON sy_audit (time_ms);

-- Append only: the database itself refuses to change or remove a record.
-- Someone who can drop these triggers can still tamper; the hash chain and
-- the anchors outside the database are what catch that.
CREATE TRIGGER sy_audit_no_update BEFORE UPDATE ON sy_audit
BEGIN
    SELECT RAISE(ABORT, 'sy_audit is append-only: UPDATE is refused');
END;

CREATE TRIGGER sy_audit_no_delete BEFORE DELETE ON sy_audit
BEGIN
    SELECT RAISE(ABORT, 'sy_audit is append-only: DELETE is refused');
END;
