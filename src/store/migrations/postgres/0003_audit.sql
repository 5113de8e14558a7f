-- The tamper-evident audit log (src/audit/, docs/audit.md): one row per
-- request, admin action and configuration load, chained by hash. Times are
-- unix milliseconds (UTC); JSON fields are kept as the exact text that was
-- hashed. Same table as the SQLite migration.
CREATE TABLE sy_audit (
    seq                 BIGINT PRIMARY KEY NOT NULL,
    time_ms             BIGINT NOT NULL,
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
    prompt_tokens       BIGINT NOT NULL,
    completion_tokens   BIGINT NOT NULL,
    cost                DOUBLE PRECISION NOT NULL,
    prompt_hmac         TEXT,
    response_hmac       TEXT,
    prompt_plaintext    TEXT,
    response_plaintext  TEXT,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL
);

CREATE INDEX sy_audit_time ON sy_audit (time_ms);

-- Append only: the database itself refuses to change or remove a record
-- (TRUNCATE too, which bypasses row triggers). Someone who can drop these
-- triggers can still tamper; the hash chain and the anchors outside the
-- database are what catch that.
CREATE FUNCTION sy_audit_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sy_audit is append-only: % is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sy_audit_no_update BEFORE UPDATE OR DELETE ON sy_audit
    FOR EACH ROW EXECUTE FUNCTION sy_audit_refuse();

CREATE TRIGGER sy_audit_no_truncate BEFORE TRUNCATE ON sy_audit
    FOR EACH STATEMENT EXECUTE FUNCTION sy_audit_refuse();
