//! `serve --reports-from URL…`: in the distributed mode the collectors and processors run in
//! other processes, so the query API pulls their sources' health and recent rejections from
//! their ops listeners (`/sources`, `/rejections`, see `ops_server`) every few seconds and serves
//! the merged view at `/v1/sources`, `/readyz` and `/v1/cards/{id}/rejections`. A listener that
//! does not answer keeps its last answer (and is named in a warning).

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use serde::Deserialize;
use tcg_ports::SourceReports;
use tcg_schemas::{CardRejection, ProductId, SourceHealth, UnmappedProduct};

/// How long one pull of one listener may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// What each listener last answered.
#[derive(Debug, Default)]
struct Pulled {
    sources: BTreeMap<String, Vec<SourceHealth>>,
    rejections: BTreeMap<String, Vec<CardRejection>>,
    unmapped: BTreeMap<String, Vec<UnmappedProduct>>,
}

/// The merged reports of the ops listeners at `urls`.
#[derive(Debug)]
pub struct RemoteReports {
    urls: Vec<String>,
    http: reqwest::Client,
    pulled: RwLock<Pulled>,
}

impl RemoteReports {
    /// Reports of the listeners at `urls` (base URLs such as `http://collector:9464`); nothing
    /// is known until the first [`Self::pull`].
    pub fn new(urls: Vec<String>) -> reqwest::Result<Self> {
        Ok(RemoteReports {
            urls: urls
                .into_iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            http: reqwest::Client::builder().timeout(PULL_TIMEOUT).build()?,
            pulled: RwLock::default(),
        })
    }

    /// Pulls every listener once; a listener that fails keeps its last answer.
    pub async fn pull(&self) {
        for url in &self.urls {
            let sources = self.get::<SourceHealth>(&format!("{url}/sources")).await;
            let rejections = self
                .get::<CardRejection>(&format!(
                    "{url}/rejections?limit={}",
                    crate::ops_server::MAX_REJECTIONS
                ))
                .await;
            let unmapped = self
                .get::<UnmappedProduct>(&format!(
                    "{url}/unmapped?limit={}",
                    crate::ops_server::MAX_REJECTIONS
                ))
                .await;
            let mut pulled = self
                .pulled
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match unmapped {
                Ok(u) => {
                    pulled.unmapped.insert(url.clone(), u);
                }
                Err(e) => tracing::warn!(url = %url, error = %e, "pulling the unmapped products"),
            }
            match sources {
                Ok(s) => {
                    pulled.sources.insert(url.clone(), s);
                }
                Err(e) => tracing::warn!(url = %url, error = %e, "pulling the sources' health"),
            }
            match rejections {
                Ok(r) => {
                    pulled.rejections.insert(url.clone(), r);
                }
                Err(e) => tracing::warn!(url = %url, error = %e, "pulling the rejections"),
            }
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> reqwest::Result<Vec<T>> {
        let page: Items<T> = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(page.items)
    }

    /// Pulls now, then every `every` in a task of its own.
    pub async fn spawn(urls: Vec<String>, every: Duration) -> reqwest::Result<Arc<Self>> {
        let reports = Arc::new(Self::new(urls)?);
        reports.pull().await;
        let pulling = reports.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                pulling.pull().await;
            }
        });
        Ok(reports)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Pulled> {
        self.pulled
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every rejection pulled whose product passes `keep`, newest first.
    fn merged(&self, keep: impl Fn(&CardRejection) -> bool, limit: usize) -> Vec<CardRejection> {
        let pulled = self.read();
        let mut all: Vec<CardRejection> = pulled
            .rejections
            .values()
            .flatten()
            .filter(|r| keep(r))
            .cloned()
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.at));
        all.truncate(limit);
        all
    }
}

impl SourceReports for RemoteReports {
    /// Every listener's sources, by name (two collectors of one source are listed twice).
    fn sources(&self) -> Vec<SourceHealth> {
        let mut all: Vec<SourceHealth> = self.read().sources.values().flatten().cloned().collect();
        all.sort_by(|a, b| a.source.cmp(&b.source));
        all
    }

    fn rejections(&self, product: ProductId, limit: usize) -> Vec<CardRejection> {
        self.merged(|r| r.product_id == Some(product), limit)
    }

    fn recent_rejections(&self, limit: usize) -> Vec<CardRejection> {
        self.merged(|_| true, limit)
    }

    fn unmapped(&self, source: Option<&str>, limit: usize) -> Vec<UnmappedProduct> {
        let mut all: Vec<UnmappedProduct> = self
            .read()
            .unmapped
            .values()
            .flatten()
            .filter(|u| source.is_none_or(|s| u.source == s))
            .cloned()
            .collect();
        all.sort_by_key(|u| std::cmp::Reverse(u.last_seen));
        all.truncate(limit);
        all
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tcg_collectors::CollectorMonitor;
    use tcg_schemas::{RejectionStage, Timestamp};

    use super::*;

    fn rejection(product: u64, at: i64, stage: RejectionStage) -> CardRejection {
        CardRejection {
            at: Timestamp::from_secs(at),
            source: "ebay_browse".into(),
            stage,
            product_id: Some(ProductId(product)),
            group_id: None,
            reason: "lot".into(),
            detail: "\"lot of 3\" in the title".into(),
            confidence: None,
            title: Some(format!("lot {at}")),
            item_id: None,
            printing: None,
            price: None,
        }
    }

    async fn listener(monitor: &CollectorMonitor) -> String {
        let app = crate::ops_server::reports_router(Arc::new(monitor.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn a_collectors_and_a_processors_reports_are_merged() {
        let collector = CollectorMonitor::new();
        collector.health.register("tcgcsv");
        collector
            .rejections
            .record(rejection(7, 10, RejectionStage::Collector));
        collector.unmapped.met(
            "cardmarket",
            "273576",
            tcg_collectors::identity::UnmappedReason::Unmapped,
            "Charizard ex",
            None,
            Some("151"),
            Vec::new(),
            Timestamp::from_secs(15),
        );
        let processor = CollectorMonitor::new();
        processor
            .rejections
            .record(rejection(7, 20, RejectionStage::Processor));
        processor
            .rejections
            .record(rejection(8, 30, RejectionStage::Processor));
        let urls = vec![listener(&collector).await, listener(&processor).await];
        // A listener that is down is named in a warning, not an error.
        let mut with_down = urls.clone();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        with_down.push(format!("http://127.0.0.1:{port}"));
        let reports = RemoteReports::new(with_down).unwrap();
        assert!(
            reports.sources().is_empty(),
            "nothing before the first pull"
        );
        reports.pull().await;

        let sources = reports.sources();
        assert_eq!(sources.len(), 1);
        let unmapped = reports.unmapped(Some("cardmarket"), 10);
        assert_eq!(
            unmapped.len(),
            1,
            "the collector's unmapped products are pulled"
        );
        assert_eq!(unmapped[0].external_id, "273576");
        assert!(reports.unmapped(Some("cardkingdom"), 10).is_empty());
        assert_eq!(sources[0].source, "tcgcsv");
        let seven: Vec<i64> = reports
            .rejections(ProductId(7), 10)
            .iter()
            .map(|r| r.at.as_secs())
            .collect();
        assert_eq!(seven, [20, 10], "both processes', newest first");
        assert_eq!(reports.recent_rejections(1)[0].at.as_secs(), 30);

        // The next pull sees what is new.
        collector
            .rejections
            .record(rejection(7, 40, RejectionStage::Collector));
        reports.pull().await;
        assert_eq!(reports.rejections(ProductId(7), 10)[0].at.as_secs(), 40);
    }
}
