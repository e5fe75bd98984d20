//! A real headless Chromium, driven through chromedriver on a loopback port of its own.
//!
//! Where chromedriver or Chromium is missing, [`Browser::start`] says the test was skipped and
//! gives `None`, so `cargo test` passes on a machine with only Rust; with `REQUIRE_BROWSER` set
//! (CI) a missing browser fails the test instead.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::helpers::{eventually, free_port, http_client};

/// The desktop window the pages are shown (and photographed) in.
pub const WINDOW: (u32, u32) = (1280, 960);

/// A browser session and the chromedriver behind it (its own process group: ended with it).
pub struct Browser {
    pub client: Client,
    driver: Option<tokio::process::Child>,
}

/// The first of `names` found as a file in `PATH`, or as given when it is a path.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        let given = Path::new(name);
        if given.is_absolute() {
            return given.is_file().then(|| given.to_path_buf());
        }
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The value of an environment variable that is set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium for `test`; `None` (with a line saying so)
    /// where they are not installed, unless `REQUIRE_BROWSER` is set.
    pub async fn start(test: &str) -> Option<Browser> {
        // `CHROMEDRIVER` and `CHROMIUM` name other programs than the ones in `PATH`.
        let program = |setting: &str, names: &[&str]| match var(setting) {
            Some(given) => find_program(&[given.as_str()]),
            None => find_program(names),
        };
        let driver = program("CHROMEDRIVER", &["chromedriver"]);
        let chromium = program(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let (driver, chromium) = match (driver, chromium) {
            (Some(d), Some(c)) => (d, c),
            (d, _) => {
                let missing = if d.is_none() {
                    "chromedriver"
                } else {
                    "chromium"
                };
                assert!(
                    var("REQUIRE_BROWSER").is_none(),
                    "{test}: REQUIRE_BROWSER is set but {missing} is not installed \
                     (apt-get install chromium chromium-driver)"
                );
                println!(
                    "skipped {test}: {missing} not installed (apt-get install chromium chromium-driver)"
                );
                return None;
            }
        };
        let port = free_port();
        let mut command = tokio::process::Command::new(&driver);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().expect("start chromedriver");
        Some(Browser {
            client: connect(port, &chromium).await,
            driver: Some(child),
        })
    }

    /// Ends the browser session and chromedriver.
    pub async fn quit(mut self) {
        self.client.clone().close().await.ok();
        if let Some(mut driver) = self.driver.take() {
            kill_group(&driver);
            driver.wait().await.ok();
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("open page");
    }

    /// Presses each key of `keys` in turn, as a person at the keyboard would: the page's focused
    /// element (or its body) gets them.
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".to_string());
        for key in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.expect("keys");
    }

    /// Presses `key` while `modifier` (e.g. Control) is held.
    pub async fn press_with(&self, modifier: fantoccini::key::Key, key: char) {
        let modifier = char::from(modifier);
        let actions = KeyActions::new("chord".to_string())
            .then(KeyAction::Down { value: modifier })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: modifier });
        self.client.perform_actions(actions).await.expect("chord");
    }

    /// What `script` (a function body: `return ...`) gives on the page now.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Waits until `script` gives a value that is not null or false (while a page loads, a
    /// script may fail: that counts as not yet).
    pub async fn until(&self, what: &str, script: &str) -> Value {
        eventually(what, || async {
            match self.client.execute(script, vec![]).await {
                Ok(Value::Null | Value::Bool(false)) | Err(_) => None,
                Ok(v) => Some(v),
            }
        })
        .await
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.client.find(Locator::Css(css)).await.expect(css);
        element.text().await.expect("text")
    }

    /// Saves a PNG of the window to `dir/name` when `dir` is given.
    pub async fn screenshot(&self, dir: Option<&Path>, name: &str) {
        let Some(dir) = dir else { return };
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot folder");
        std::fs::write(dir.join(name), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    /// A test that failed half-way still ends chromedriver and its Chromium.
    fn drop(&mut self) {
        if let Some(driver) = &self.driver {
            kill_group(driver);
        }
    }
}

/// Ends chromedriver's process group (it and the Chromium it started).
fn kill_group(driver: &tokio::process::Child) {
    if let Some(pid) = driver.id() {
        std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status()
            .ok();
    }
}

/// A session with chromedriver on `port` once it answers, for a headless Chromium at the desktop
/// window size.
async fn connect(port: u16, chromium: &Path) -> Client {
    let base = format!("http://127.0.0.1:{port}");
    let http = http_client();
    eventually("chromedriver to be ready", || async {
        let status: Value = http
            .get(format!("{base}/status"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (status["value"]["ready"] == true).then_some(())
    })
    .await;
    let (width, height) = WINDOW;
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--lang=de-AT", format!("--window-size={width},{height}")],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&base)
        .await
        .expect("a browser session");
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            None,
            Some(Duration::from_secs(30)),
            None,
        ))
        .await
        .expect("timeouts");
    client
}
