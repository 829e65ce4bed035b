//! A headless Chromium driven over the Chrome DevTools Protocol: navigate, evaluate, wait,
//! screenshot, switch to a phone's viewport; console errors, exceptions and every HTTP answer
//! of 400 or more are recorded.

use std::{
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};

type Socket = tungstenite::WebSocket<TcpStream>;

/// A child process killed when dropped (also when a check fails).
pub struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Browser {
    page: Socket,
    next_id: u64,
    /// Console errors and uncaught exceptions, as they came.
    pub console: Vec<String>,
    /// Every HTTP answer of 400 or more the page received: `status method url`.
    pub bad_responses: Vec<String>,
    /// The viewport: width, height, mobile.
    viewport: (u64, u64, bool),
    // dropped after the socket: the browser, then its profile directory
    _child: Proc,
    _profile: tempfile::TempDir,
}

fn ws_connect(port: u16, path: &str) -> Socket {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}{path}");
    let (socket, _) = tungstenite::client::client(url.as_str(), stream).unwrap();
    socket
}

/// Sends one command and waits for its answer (events met on the way go to `on_event`).
fn command(
    socket: &mut Socket,
    id: u64,
    method: &str,
    params: Value,
    mut on_event: impl FnMut(&Value),
) -> Value {
    let msg = json!({"id": id, "method": method, "params": params});
    socket
        .send(tungstenite::Message::text(msg.to_string()))
        .unwrap();
    loop {
        let m = socket.read().unwrap();
        let tungstenite::Message::Text(text) = m else {
            continue;
        };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        if v["id"] == json!(id) {
            assert!(v["error"].is_null(), "CDP {method} failed: {}", v["error"]);
            return v["result"].clone();
        }
        on_event(&v);
    }
}

impl Browser {
    /// Starts headless Chromium with a fresh profile and opens a page target over CDP.
    pub fn launch(exe: &Path, artifacts: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log_path = artifacts.join("chromium.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Proc(
            Command::new(exe)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-default-apps",
                    "--disable-extensions",
                    "--disable-sync",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--hide-scrollbars",
                    "--mute-audio",
                    "--remote-debugging-port=0",
                    "--window-size=1280,900",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .arg("about:blank")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        // Chromium writes the port it picked and the browser target's path here.
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let text = loop {
            if let Ok(t) = std::fs::read_to_string(&port_file)
                && t.lines().count() >= 2
            {
                break t;
            }
            if let Ok(Some(status)) = child.0.try_wait() {
                panic!("chromium exited ({status}); see {}", log_path.display());
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not start in 30 s; see {}",
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut lines = text.lines();
        let port: u16 = lines.next().unwrap().trim().parse().unwrap();
        let browser_path = lines.next().unwrap().trim().to_owned();
        let mut root = ws_connect(port, &browser_path);
        let target = command(
            &mut root,
            1,
            "Target.createTarget",
            json!({"url": "about:blank"}),
            |_| {},
        );
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let _ = root.close(None);
        let mut browser = Browser {
            page: ws_connect(port, &format!("/devtools/page/{target_id}")),
            next_id: 1,
            console: Vec::new(),
            bad_responses: Vec::new(),
            viewport: (1280, 900, false),
            _child: child,
            _profile: profile,
        };
        browser.send("Page.enable", json!({}));
        browser.send("Runtime.enable", json!({}));
        browser.send("Network.enable", json!({}));
        browser.set_viewport(1280, 900, false);
        browser
    }

    fn set_viewport(&mut self, width: u64, height: u64, mobile: bool) {
        self.viewport = (width, height, mobile);
        self.apply_viewport(height);
    }

    fn apply_viewport(&mut self, height: u64) {
        let (width, _, mobile) = self.viewport;
        self.send(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// A 390×844 phone (touch, mobile layout).
    pub fn phone(&mut self) {
        self.set_viewport(390, 844, true);
        self.send(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true, "maxTouchPoints": 5}),
        );
    }

    /// A 1366×900 desktop.
    pub fn desktop(&mut self) {
        self.send(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": false}),
        );
        self.set_viewport(1366, 900, false);
    }

    pub fn send(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let console = &mut self.console;
        let bad = &mut self.bad_responses;
        command(
            &mut self.page,
            id,
            method,
            params,
            |event| match event["method"].as_str() {
                Some("Runtime.consoleAPICalled") => {
                    let args: Vec<String> = event["params"]["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a["value"].to_string())
                        .collect();
                    console.push(format!(
                        "console.{}: {}",
                        event["params"]["type"].as_str().unwrap_or("log"),
                        args.join(" ")
                    ));
                }
                Some("Runtime.exceptionThrown") => console.push(format!(
                    "exception: {}",
                    event["params"]["exceptionDetails"]
                )),
                Some("Network.responseReceived") => {
                    let r = &event["params"]["response"];
                    if r["status"].as_u64().is_some_and(|s| s >= 400) {
                        bad.push(format!(
                            "{} {}",
                            r["status"],
                            r["url"].as_str().unwrap_or("?")
                        ));
                    }
                }
                _ => {}
            },
        )
    }

    /// Evaluates a JavaScript expression in the page (promises awaited) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Value {
        self.try_eval(expr)
            .unwrap_or_else(|e| panic!("JavaScript failed: {expr}\n{e}"))
    }

    pub fn try_eval(&mut self, expr: &str) -> Result<Value, String> {
        let r = self.send(
            "Runtime.evaluate",
            json!({"expression": expr, "awaitPromise": true, "returnByValue": true}),
        );
        match r.get("exceptionDetails") {
            Some(e) => Err(e.to_string()),
            None => Ok(r["result"]["value"].clone()),
        }
    }

    /// Polls `expr` until it is truthy; returns its value.
    pub fn wait_for(&mut self, what: &str, expr: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            // Errors (the document is not there yet after a navigation) count as "not yet".
            let v = self.try_eval(expr).unwrap_or(Value::Null);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {limit:?} waiting for {what} ({expr}); page console:\n{}\npage text:\n{}",
                    self.console.join("\n"),
                    self.try_eval("document.querySelector('main').innerText.slice(0, 3000)")
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Fails when the page shows a value that was never filled in ("null", "undefined", "NaN",
    /// "[object Object]").
    pub fn assert_no_stray_text(&mut self, what: &str) {
        let found = self.eval(
            "(document.querySelector('main').innerText.match(/\\b(null|undefined|NaN)\\b|\\[object Object\\]/) || [''])[0]",
        );
        assert_eq!(found, json!(""), "{what}: the page shows {found}");
    }

    pub fn go(&mut self, url: &str) {
        self.send("Page.navigate", json!({"url": url}));
    }

    /// A PNG of the whole page (the viewport grows to the document's height for the shot).
    pub fn screenshot(&mut self, path: &Path) {
        let height = self
            .eval("Math.min(4000, document.documentElement.scrollHeight)")
            .as_u64()
            .unwrap_or(900);
        self.apply_viewport(height.max(self.viewport.1));
        std::thread::sleep(Duration::from_millis(400)); // charts redraw on resize
        let shot = self.send("Page.captureScreenshot", json!({"format": "png"}));
        self.apply_viewport(self.viewport.1);
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}
