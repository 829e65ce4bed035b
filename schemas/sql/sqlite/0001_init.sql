-- tcgtracker embedded store, migration 1 (PRAGMA user_version = 1).
-- Prices are integer minor units: USD cents for every *_cents column, the quoted amount in the minor
-- units of its own currency beside it. Times are microseconds since the Unix epoch (UTC).
-- Source and kind are small integer codes (see tcg-store `codes`): append-only, never renumbered.

-- Series ids (text, e.g. "451784/reverse-holofoil/nm/en") mapped to compact integer keys.
CREATE TABLE series (
    sid        INTEGER PRIMARY KEY,
    series_id  TEXT    NOT NULL UNIQUE,
    product_id INTEGER NOT NULL,
    game       TEXT    NOT NULL,
    graded     INTEGER NOT NULL,
    printing   TEXT,
    condition  TEXT,
    language   TEXT,
    grader     TEXT,
    grade      TEXT
);
CREATE INDEX series_product ON series (product_id);

-- Every tick, clustered by UTC day first (day = ts / 86400000000), like QuestDB's PARTITION BY DAY:
-- collectors write in time order, so a batch only touches the tail of the tree (an append, not
-- random page writes all over a multi-GB file). The key is the tick identity (day is a function of
-- ts), so a replay hits it and is ignored. One series' history is one seek per day
-- (day, sid, source, kind) — see the store's range reads.
CREATE TABLE ticks (
    day         INTEGER NOT NULL,
    sid         INTEGER NOT NULL,
    source      INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    listing_id  TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,
    orig_minor  INTEGER NOT NULL,
    orig_ccy    TEXT    NOT NULL,
    ship_minor  INTEGER,
    ship_ccy    TEXT,
    confidence  INTEGER,
    heartbeat   INTEGER NOT NULL,
    PRIMARY KEY (day, sid, source, kind, ts, listing_id)
) WITHOUT ROWID;

-- The newest tick per (series, source, kind) and the first time it was seen, maintained at ingest:
-- latest prices and the "now" side of movers read this small table; first_ts/ts bound the day
-- ranges that history reads visit.
CREATE TABLE latest (
    sid         INTEGER NOT NULL,
    source      INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    first_ts    INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    listing_id  TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,
    orig_minor  INTEGER NOT NULL,
    orig_ccy    TEXT    NOT NULL,
    PRIMARY KEY (sid, source, kind)
) WITHOUT ROWID;

-- Fired alerts, idempotent by their deterministic id; the full event as JSON in body.
CREATE TABLE alerts (
    alert_id    TEXT    PRIMARY KEY,
    rule_id     TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    series_id   TEXT    NOT NULL,
    observed_at INTEGER NOT NULL,
    body        TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_owner ON alerts (owner, observed_at);
CREATE INDEX alerts_rule ON alerts (rule_id, observed_at);

-- The catalog.
CREATE TABLE card_sets (
    group_id     INTEGER PRIMARY KEY,
    category_id  INTEGER NOT NULL,
    game         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    abbreviation TEXT,
    published_on TEXT
);
CREATE INDEX card_sets_name ON card_sets (name COLLATE NOCASE);

CREATE TABLE products (
    product_id  INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL,
    group_id    INTEGER NOT NULL,
    game        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    clean_name  TEXT,
    number      TEXT,
    rarity      TEXT,
    image_url   TEXT,
    url         TEXT
);
CREATE INDEX products_name ON products (name COLLATE NOCASE, product_id);
CREATE INDEX products_group ON products (group_id, name COLLATE NOCASE, product_id);
CREATE INDEX products_number ON products (number COLLATE NOCASE);

CREATE TABLE skus (
    sku_id     INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL,
    printing   TEXT    NOT NULL,
    condition  TEXT    NOT NULL,
    language   TEXT    NOT NULL
);
CREATE INDEX skus_product ON skus (product_id);

-- Portfolios, holdings and their events (events are immutable, idempotent by id).
CREATE TABLE portfolios (
    portfolio_id TEXT    PRIMARY KEY,
    owner        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX portfolios_owner ON portfolios (owner);

CREATE TABLE holdings (
    holding_id   TEXT PRIMARY KEY,
    portfolio_id TEXT NOT NULL,
    body         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX holdings_portfolio ON holdings (portfolio_id);

CREATE TABLE portfolio_events (
    event_id     TEXT    PRIMARY KEY,
    portfolio_id TEXT    NOT NULL,
    holding_id   TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    body         TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX portfolio_events_portfolio ON portfolio_events (portfolio_id, at);

-- Alert rules (upserted and deleted by the query API).
CREATE TABLE alert_rules (
    rule_id    TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body       TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX alert_rules_owner ON alert_rules (owner);
CREATE INDEX alert_rules_product ON alert_rules (product_id);
