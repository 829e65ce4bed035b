-- tcgtracker embedded store, migration 2 (PRAGMA user_version = 2): accounts of the query API.
-- Accounts live in SQLite in both modes (embedded and distributed with QuestDB): they are small,
-- relational, mutable rows that need unique keys and transactions, which QuestDB's append-only
-- tables are not made for. Times are microseconds since the Unix epoch (UTC).

-- Users, by the name given to `tcgtracker keys create --user NAME`.
CREATE TABLE users (
    name       TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- API keys. The key itself is never stored: only the SHA-256 (hex) of the whole key, and a short
-- random prefix (also part of the key, not secret) used to find the row and to name the key.
CREATE TABLE api_keys (
    key_id     TEXT    PRIMARY KEY,
    prefix     TEXT    NOT NULL UNIQUE,
    hash       TEXT    NOT NULL,
    user_name  TEXT    NOT NULL REFERENCES users (name),
    admin      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_user ON api_keys (user_name);

-- Webhook endpoints. The signing secret is kept (it is needed to sign every delivery) and shown to
-- the owner once, when the endpoint is created.
CREATE TABLE webhooks (
    webhook_id  TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    description TEXT,
    enabled     INTEGER NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhooks_owner ON webhooks (owner, created_at);
