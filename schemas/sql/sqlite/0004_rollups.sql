-- Hourly and daily candles per (series, source, kind), maintained in the transaction that writes
-- the ticks (processor/store/src/sqlite/rollups.rs), so a history read touches one row per bucket.
-- open/close keep the (ts, listing_id) they came from: a late tick replaces them only when it
-- comes first (or last) in the order the raw ticks are read in, so a rollup equals the candle
-- computed from the raw ticks whatever the order they arrived in. Existing ticks are rolled up
-- here, once.
CREATE TABLE candles_1h (
    sid           INTEGER NOT NULL,
    source        INTEGER NOT NULL,
    kind          INTEGER NOT NULL,
    bucket        INTEGER NOT NULL,
    open_ts       INTEGER NOT NULL,
    open_listing  TEXT    NOT NULL,
    open          INTEGER NOT NULL,
    high          INTEGER NOT NULL,
    low           INTEGER NOT NULL,
    close_ts      INTEGER NOT NULL,
    close_listing TEXT    NOT NULL,
    close         INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (sid, source, kind, bucket)
) WITHOUT ROWID;

CREATE TABLE candles_1d (
    sid           INTEGER NOT NULL,
    source        INTEGER NOT NULL,
    kind          INTEGER NOT NULL,
    bucket        INTEGER NOT NULL,
    open_ts       INTEGER NOT NULL,
    open_listing  TEXT    NOT NULL,
    open          INTEGER NOT NULL,
    high          INTEGER NOT NULL,
    low           INTEGER NOT NULL,
    close_ts      INTEGER NOT NULL,
    close_listing TEXT    NOT NULL,
    close         INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (sid, source, kind, bucket)
) WITHOUT ROWID;

INSERT INTO candles_1h
SELECT sid, source, kind, bucket,
       max(CASE WHEN first = 1 THEN ts END), max(CASE WHEN first = 1 THEN listing_id END),
       max(CASE WHEN first = 1 THEN price_cents END),
       max(price_cents), min(price_cents),
       max(CASE WHEN last = 1 THEN ts END), max(CASE WHEN last = 1 THEN listing_id END),
       max(CASE WHEN last = 1 THEN price_cents END),
       count(*)
FROM (
    SELECT sid, source, kind, ts, listing_id, price_cents,
           ts - ((ts % 3600000000) + 3600000000) % 3600000000 AS bucket,
           row_number() OVER (PARTITION BY sid, source, kind, ts - ((ts % 3600000000) + 3600000000) % 3600000000
                              ORDER BY ts, listing_id) AS first,
           row_number() OVER (PARTITION BY sid, source, kind, ts - ((ts % 3600000000) + 3600000000) % 3600000000
                              ORDER BY ts DESC, listing_id DESC) AS last
    FROM ticks
)
GROUP BY sid, source, kind, bucket;

INSERT INTO candles_1d
SELECT sid, source, kind, bucket,
       max(CASE WHEN first = 1 THEN ts END), max(CASE WHEN first = 1 THEN listing_id END),
       max(CASE WHEN first = 1 THEN price_cents END),
       max(price_cents), min(price_cents),
       max(CASE WHEN last = 1 THEN ts END), max(CASE WHEN last = 1 THEN listing_id END),
       max(CASE WHEN last = 1 THEN price_cents END),
       count(*)
FROM (
    SELECT sid, source, kind, ts, listing_id, price_cents,
           day * 86400000000 AS bucket,
           row_number() OVER (PARTITION BY sid, source, kind, day ORDER BY ts, listing_id) AS first,
           row_number() OVER (PARTITION BY sid, source, kind, day ORDER BY ts DESC, listing_id DESC) AS last
    FROM ticks
)
GROUP BY sid, source, kind, bucket;
