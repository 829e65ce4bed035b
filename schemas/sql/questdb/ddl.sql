-- tcgtracker QuestDB schema. Statements are separated by a line holding only ";;" (the adapter
-- splits on it and runs each one). Every table is WAL, partitioned, with DEDUP UPSERT KEYS so that a
-- replayed ILP batch is a no-op.
--
-- Money: LONG minor units (USD cents in price_cents, the quoted amount in its own currency's minor
-- units in orig_minor). Exact in storage and in first/last/min/max, identical to the SQLite store
-- and works on every QuestDB version (DECIMAL needs 9.2 and ILP v3). Charts divide by 100.
--
-- Mutable data (catalog, portfolios, holdings, rules) is append-the-newest-state: each write appends a
-- row stamped with the write time (updated_at) and reads take
-- (SELECT * FROM t LATEST ON updated_at PARTITION BY id) WHERE deleted = false.

CREATE TABLE IF NOT EXISTS ticks (
    observed_at   TIMESTAMP,
    series        SYMBOL CAPACITY 262144 CACHE,
    source        SYMBOL CAPACITY 16 CACHE,
    kind          SYMBOL CAPACITY 16 CACHE,
    game          SYMBOL CAPACITY 256 CACHE,
    orig_currency SYMBOL CAPACITY 256 CACHE,
    ship_currency SYMBOL CAPACITY 256 CACHE,
    listing_id    VARCHAR,
    product_id    LONG,
    price_cents   LONG,
    orig_minor    LONG,
    ship_minor    LONG,
    confidence    LONG,
    heartbeat     BOOLEAN,
    agreeing      VARCHAR
) TIMESTAMP(observed_at) PARTITION BY DAY WAL
DEDUP UPSERT KEYS(observed_at, series, source, kind, listing_id)
;;
CREATE TABLE IF NOT EXISTS alerts (
    observed_at TIMESTAMP,
    owner       SYMBOL CAPACITY 65536 CACHE,
    series      SYMBOL CAPACITY 262144 CACHE,
    alert_id    VARCHAR,
    rule_id     VARCHAR,
    body        VARCHAR
) TIMESTAMP(observed_at) PARTITION BY DAY WAL
DEDUP UPSERT KEYS(observed_at, alert_id)
;;
CREATE TABLE IF NOT EXISTS card_sets (
    updated_at   TIMESTAMP,
    game         SYMBOL CAPACITY 256 CACHE,
    group_id     LONG,
    category_id  LONG,
    name         VARCHAR,
    abbreviation VARCHAR,
    published_on VARCHAR
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, group_id)
;;
CREATE TABLE IF NOT EXISTS products (
    updated_at  TIMESTAMP,
    game        SYMBOL CAPACITY 256 CACHE,
    product_id  LONG,
    category_id LONG,
    group_id    LONG,
    name        VARCHAR,
    clean_name  VARCHAR,
    number      VARCHAR,
    rarity      VARCHAR,
    image_url   VARCHAR,
    url         VARCHAR
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, product_id)
;;
CREATE TABLE IF NOT EXISTS skus (
    updated_at TIMESTAMP,
    sku_id     LONG,
    product_id LONG,
    printing   VARCHAR,
    condition  VARCHAR,
    language   VARCHAR
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, sku_id)
;;
CREATE TABLE IF NOT EXISTS portfolios (
    updated_at   TIMESTAMP,
    portfolio_id SYMBOL CAPACITY 65536 CACHE,
    owner        SYMBOL CAPACITY 65536 CACHE,
    name         VARCHAR,
    created_at   TIMESTAMP,
    deleted      BOOLEAN
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, portfolio_id)
;;
CREATE TABLE IF NOT EXISTS holdings (
    updated_at   TIMESTAMP,
    holding_id   SYMBOL CAPACITY 262144 CACHE,
    portfolio_id SYMBOL CAPACITY 65536 CACHE,
    body         VARCHAR,
    deleted      BOOLEAN
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, holding_id)
;;
CREATE TABLE IF NOT EXISTS portfolio_events (
    at           TIMESTAMP,
    portfolio_id SYMBOL CAPACITY 65536 CACHE,
    holding_id   SYMBOL CAPACITY 262144 CACHE,
    event_id     VARCHAR,
    body         VARCHAR
) TIMESTAMP(at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(at, event_id)
;;
CREATE TABLE IF NOT EXISTS alert_rules (
    updated_at TIMESTAMP,
    rule_id    SYMBOL CAPACITY 262144 CACHE,
    owner      SYMBOL CAPACITY 65536 CACHE,
    product_id LONG,
    body       VARCHAR,
    deleted    BOOLEAN
) TIMESTAMP(updated_at) PARTITION BY MONTH WAL
DEDUP UPSERT KEYS(updated_at, rule_id)
