-- tcgtracker app store on PostgreSQL, migration 1: the app's own data, as the SQLite migrations
-- 0001 (portfolios, holdings, events, rules, alerts), 0002 (accounts) and 0003 (webhook delivery)
-- left it. Applied once, in one transaction, by `tcg_store::postgres::migrate` (recorded in
-- schema_migrations).
-- Times are microseconds since the Unix epoch (UTC) as BIGINT, exactly as in SQLite. Ids and names
-- are TEXT COLLATE "C": ordered byte by byte as SQLite orders them, whatever the database's locale.
-- Bodies are the JSON text the store wrote, kept verbatim (TEXT).

-- Users, by the name given to `tcgtracker keys create --user NAME`.
CREATE TABLE users (
    name       TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- API keys: only the SHA-256 (hex) of the whole key and its random, non-secret prefix.
CREATE TABLE api_keys (
    key_id     TEXT COLLATE "C" PRIMARY KEY,
    prefix     TEXT COLLATE "C" NOT NULL UNIQUE,
    hash       TEXT    NOT NULL,
    user_name  TEXT COLLATE "C" NOT NULL REFERENCES users (name),
    admin      BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_name);

-- Webhook endpoints with their signing secret, health and secret rotation.
CREATE TABLE webhooks (
    webhook_id            TEXT COLLATE "C" PRIMARY KEY,
    owner                 TEXT COLLATE "C" NOT NULL,
    url                   TEXT    NOT NULL,
    description           TEXT,
    enabled               BOOLEAN NOT NULL,
    secret                TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    disabled_reason       TEXT,   -- why the dispatcher disabled it
    disabled_at           BIGINT,
    failing_since         BIGINT, -- first failure since the last success
    previous_secret       TEXT,   -- still signed with until previous_secret_until
    previous_secret_until BIGINT
);
CREATE INDEX webhooks_owner ON webhooks (owner, created_at);

-- Portfolios, holdings and their events (events are immutable, idempotent by id).
CREATE TABLE portfolios (
    portfolio_id TEXT COLLATE "C" PRIMARY KEY,
    owner        TEXT COLLATE "C" NOT NULL,
    name         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX portfolios_owner ON portfolios (owner);

CREATE TABLE holdings (
    holding_id   TEXT COLLATE "C" PRIMARY KEY,
    portfolio_id TEXT COLLATE "C" NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX holdings_portfolio ON holdings (portfolio_id);

CREATE TABLE portfolio_events (
    event_id     TEXT COLLATE "C" PRIMARY KEY,
    portfolio_id TEXT COLLATE "C" NOT NULL,
    holding_id   TEXT COLLATE "C" NOT NULL,
    at           BIGINT NOT NULL,
    body         TEXT   NOT NULL
);
CREATE INDEX portfolio_events_portfolio ON portfolio_events (portfolio_id, at);

-- Alert rules (upserted and deleted by the query API).
CREATE TABLE alert_rules (
    rule_id    TEXT COLLATE "C" PRIMARY KEY,
    owner      TEXT COLLATE "C" NOT NULL,
    product_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    body       TEXT   NOT NULL
);
CREATE INDEX alert_rules_owner ON alert_rules (owner);
CREATE INDEX alert_rules_product ON alert_rules (product_id);

-- Fired alerts, idempotent by their deterministic id; the full event as JSON in body.
CREATE TABLE alerts (
    alert_id    TEXT COLLATE "C" PRIMARY KEY,
    rule_id     TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C" NOT NULL,
    series_id   TEXT   NOT NULL,
    observed_at BIGINT NOT NULL,
    body        TEXT   NOT NULL
);
CREATE INDEX alerts_owner ON alerts (owner, observed_at);
CREATE INDEX alerts_rule ON alerts (rule_id, observed_at);

-- Alerts not yet fanned out to endpoints, in insertion order. The store queues an alert in the
-- transaction that inserts it (and only when it was new), as SQLite's trigger does.
CREATE TABLE alert_outbox (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id TEXT COLLATE "C" NOT NULL
);

-- One row per (alert, endpoint). state: pending | delivered | failed | abandoned. A pending row is
-- due at next_attempt_at; a dispatcher that claims it (FOR UPDATE SKIP LOCKED) moves
-- next_attempt_at forward by a lease, so a crash mid-POST retries later and no other dispatcher
-- takes it meanwhile. Deleting the endpoint deletes its deliveries and attempts.
CREATE TABLE webhook_deliveries (
    alert_id        TEXT COLLATE "C" NOT NULL,
    webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    PRIMARY KEY (alert_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, state);

-- Every POST: outcome (delivered | http_error | gone | timeout | network | refused | invalid),
-- status, latency, error and the start of the response body.
CREATE TABLE webhook_attempts (
    attempt_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    TEXT COLLATE "C" NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
    alert_id      TEXT COLLATE "C" NOT NULL,
    attempt       INTEGER NOT NULL,
    attempted_at  BIGINT  NOT NULL,
    latency_us    BIGINT  NOT NULL,
    outcome       TEXT    NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX webhook_attempts_hook ON webhook_attempts (webhook_id, attempt_id);

-- Disabling an endpoint (by its owner, a 410 or a failure streak) abandons what is pending for it.
CREATE FUNCTION webhook_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhook_deliveries
       SET state = 'abandoned', next_attempt_at = NULL, updated_at = NEW.updated_at,
           last_error = coalesce(NEW.disabled_reason, 'endpoint disabled by its owner')
     WHERE webhook_id = NEW.webhook_id AND state = 'pending';
    RETURN NULL;
END;
$$;
CREATE TRIGGER webhook_disabled AFTER UPDATE OF enabled ON webhooks
    FOR EACH ROW WHEN (OLD.enabled AND NOT NEW.enabled) EXECUTE FUNCTION webhook_disabled();

-- Enabling it again clears the reason and the failure streak.
CREATE FUNCTION webhook_enabled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.disabled_reason := NULL;
    NEW.disabled_at := NULL;
    NEW.failing_since := NULL;
    RETURN NEW;
END;
$$;
CREATE TRIGGER webhook_enabled BEFORE UPDATE OF enabled ON webhooks
    FOR EACH ROW WHEN (NOT OLD.enabled AND NEW.enabled) EXECUTE FUNCTION webhook_enabled();
