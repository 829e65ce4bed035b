-- Daily candles per (series, source, kind), maintained in the transaction that writes the ticks
-- (processor/store/src/sqlite/rollups.rs, which says why there is no hourly one), so a history of
-- days, weeks or months touches one row per day.
-- open/close keep the (ts, listing_id) they came from: a late tick replaces them only when it
-- comes first (or last) in the order the raw ticks are read in, so a rollup equals the candle
-- computed from the raw ticks whatever the order they arrived in. The rows are clustered by a
-- time part first (`part`: the 28-day span since the epoch), then by series: the writes of one
-- time step touch the pages of that part only (series first made ingest 7x slower: every write
-- batch touched every series' pages), and a series' year is 14 seeks (one per day, as the ticks
-- are, made a history read no faster than reading the ticks). Existing ticks are rolled up here,
-- once.
CREATE TABLE candles_1d (
    part          INTEGER NOT NULL,
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
    PRIMARY KEY (part, sid, source, kind, bucket)
) WITHOUT ROWID;

INSERT INTO candles_1d
SELECT (day - ((day % 28) + 28) % 28) / 28 AS part, sid, source, kind, bucket,
       max(CASE WHEN first = 1 THEN ts END), max(CASE WHEN first = 1 THEN listing_id END),
       max(CASE WHEN first = 1 THEN price_cents END),
       max(price_cents), min(price_cents),
       max(CASE WHEN last = 1 THEN ts END), max(CASE WHEN last = 1 THEN listing_id END),
       max(CASE WHEN last = 1 THEN price_cents END),
       count(*)
FROM (
    SELECT day, sid, source, kind, ts, listing_id, price_cents,
           day * 86400000000 AS bucket,
           row_number() OVER (PARTITION BY sid, source, kind, day ORDER BY ts, listing_id) AS first,
           row_number() OVER (PARTITION BY sid, source, kind, day ORDER BY ts DESC, listing_id DESC) AS last
    FROM ticks
)
GROUP BY day, sid, source, kind, bucket;
