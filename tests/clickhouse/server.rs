//! A real `clickhouse-server` (Debian's package, installed by `scripts/setup-test-deps.sh`)
//! on a free loopback port, in a temporary directory, stopped when dropped.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password of the `reader` user the tests authenticate as.
pub const READER_PASSWORD: &str = "pw-7f3c9e1a-never-printed";

pub struct Server {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    http: reqwest::blocking::Client,
}

fn binary() -> Option<PathBuf> {
    [
        "/usr/bin/clickhouse-server",
        "/usr/sbin/clickhouse-server",
        "/usr/local/bin/clickhouse-server",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .or_else(|| {
        let out = Command::new("sh").args(["-c", "command -v clickhouse-server"]).output().ok()?;
        let p = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (!p.is_empty()).then(|| PathBuf::from(p))
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn write_config(dir: &Path, http: u16, tcp: u16) {
    let d = dir.display();
    std::fs::write(
        dir.join("config.xml"),
        format!(
            r"<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>300</flush_interval_milliseconds></query_log>
</yandex>
"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("users.xml"),
        format!(
            r"<yandex>
  <profiles><default><log_queries>1</log_queries></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <reader><password>{READER_PASSWORD}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></reader>
  </users>
  <quotas><default></default></quotas>
</yandex>
"
        ),
    )
    .unwrap();
}

/// Say a test is skipped, on the real stderr (not the captured one, so `cargo test` shows
/// it); with `LEAKLINE_REQUIRE_CLICKHOUSE=1` (`scripts/test.sh`, the README's test command,
/// sets it after installing the server) a skip is a failure.
fn skip(test: &str, why: &str) {
    use std::io::Write as _;
    assert!(
        std::env::var("LEAKLINE_REQUIRE_CLICKHOUSE").map_or(true, |v| v.is_empty() || v == "0"),
        "{test}: {why}, and LEAKLINE_REQUIRE_CLICKHOUSE is set"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

impl Server {
    /// Start a server, or `None` (with a visible message) when there is none to start.
    pub fn start(test: &str) -> Option<Server> {
        let Some(bin) = binary() else {
            skip(
                test,
                "clickhouse-server is not installed (scripts/setup-test-deps.sh installs it)",
            );
            return None;
        };
        for attempt in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let (port, tcp) = (free_port(), free_port());
            write_config(dir.path(), port, tcp);
            let child = Command::new(&bin)
                .arg(format!("--config-file={}", dir.path().join("config.xml").display()))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            leakline::ingest::clickhouse::install_tls_provider();
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            let mut server = Server { child, dir, port, http };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if server.ping() {
                    return Some(server);
                }
                if server.child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let log =
                std::fs::read_to_string(server.dir.path().join("error.log")).unwrap_or_default();
            eprintln!("clickhouse-server attempt {attempt} did not answer /ping: {log}");
            drop(server);
        }
        skip(test, "clickhouse-server could not start");
        None
    }

    fn ping(&self) -> bool {
        self.http
            .get(self.url("/ping"))
            .send()
            .ok()
            .and_then(|r| r.text().ok())
            .is_some_and(|t| t.starts_with("Ok"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Run a statement as `default`; panics with the server's message on failure.
    pub fn query(&self, sql: &str) -> String {
        let mut r = self.http.post(self.url("/")).body(sql.to_string()).send().unwrap();
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert!(r.status().is_success(), "{sql}: {text}");
        text
    }

    /// Insert `TabSeparated` rows into `table`.
    pub fn insert_tsv(&self, table: &str, rows: &str) {
        let url = self.url(&format!("/?query=INSERT%20INTO%20{table}%20FORMAT%20TabSeparated"));
        let mut r = self.http.post(url).body(rows.to_string()).send().unwrap();
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert!(r.status().is_success(), "insert into {table}: {text}");
    }

    /// The rows the server read and sent for queries containing `needle` (query log).
    /// The server records a query once its answer is sent: waits (up to 10 s) for one.
    pub fn logged(&self, needle: &str) -> Vec<(u64, u64)> {
        for _ in 0..100 {
            let found = self.logged_now(needle);
            if !found.is_empty() {
                return found;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Vec::new()
    }

    fn logged_now(&self, needle: &str) -> Vec<(u64, u64)> {
        self.query("SYSTEM FLUSH LOGS");
        let text = self.query(&format!(
            "SELECT read_rows, result_rows FROM system.query_log WHERE type = 2 AND query LIKE '%{needle}%' AND query NOT LIKE '%query_log%' ORDER BY event_time FORMAT TabSeparated"
        ));
        text.lines()
            .map(|l| {
                let (a, b) = l.split_once('\t').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
