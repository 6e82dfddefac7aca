//! Network probes for contract pre-conditions (`tcp_reachable`, `http_ok`) and
//! `post_verify`. Every probe has a deadline and all of a check's probes run at once,
//! each on a thread of its own: an unreachable target is a failed probe, never a hang
//! (name resolution, which no socket timeout bounds, included).

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A probe's time limit when its declaration gives none.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;

/// One network probe, with its time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `host:port` accepts a TCP connection.
    #[allow(missing_docs)] // the variant's text says what each field is
    Tcp { target: String, timeout: Duration },
    /// A GET of `url` answers `expect_status`.
    #[allow(missing_docs)]
    Http {
        url: String,
        expect_status: u16,
        timeout: Duration,
    },
}

impl Probe {
    fn timeout(&self) -> Duration {
        match self {
            Probe::Tcp { timeout, .. } | Probe::Http { timeout, .. } => *timeout,
        }
    }

    /// Runs the probe on this thread: `Err` says why it failed.
    pub fn run(&self) -> Result<(), String> {
        match self {
            Probe::Tcp { target, timeout } => tcp(target, *timeout),
            Probe::Http {
                url,
                expect_status,
                timeout,
            } => http(url, *expect_status, *timeout),
        }
    }
}

/// Runs every probe concurrently; results come back in the order given.
pub fn run_all(probes: &[Probe]) -> Vec<Result<(), String>> {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let mut deadline = Duration::ZERO;
    for (i, probe) in probes.iter().enumerate() {
        // A little slack past each probe's own timeout, so the probe reports its own
        // failure when it can.
        deadline = deadline.max(probe.timeout() + Duration::from_millis(250));
        let tx = tx.clone();
        let probe = probe.clone();
        // Detached: a thread stuck in name resolution must not hold the check up.
        thread::spawn(move || {
            let _ = tx.send((i, probe.run()));
        });
    }
    drop(tx);
    let mut results: Vec<Option<Result<(), String>>> = vec![None; probes.len()];
    while let Some(left) = deadline.checked_sub(started.elapsed()) {
        match rx.recv_timeout(left) {
            Ok((i, r)) => {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
            Err(_) => break,
        }
    }
    results
        .into_iter()
        .zip(probes)
        .map(|(r, p)| {
            r.unwrap_or_else(|| Err(format!("no answer within {} ms", p.timeout().as_millis())))
        })
        .collect()
}

fn tcp(target: &str, timeout: Duration) -> Result<(), String> {
    let addrs: Vec<_> = target
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {target}: {e}"))?
        .collect();
    let mut last = format!("{target} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot connect to {target} ({addr}): {e}"),
        }
    }
    Err(last)
}

fn http(url: &str, expect_status: u16, timeout: Duration) -> Result<(), String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let response = client
        .get(url)
        .send()
        .map_err(|e| format!("GET {url} failed: {}", without_url(e)))?;
    let status = response.status().as_u16();
    if status == expect_status {
        Ok(())
    } else {
        Err(format!(
            "GET {url} answered {status}, expected {expect_status}"
        ))
    }
}

/// Why a POST did not succeed, and whether another attempt may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFailure {
    /// What happened, without the URL (a webhook's path is often its secret).
    pub message: String,
    /// A connection error, a timeout, 429 or a 5xx: worth another attempt. Any other
    /// status will not change by asking again.
    pub retryable: bool,
}

/// POSTs `body` as `application/json` to `url` within `timeout` (the whole request,
/// name resolution included); any 2xx status is success.
pub fn post_json(url: &str, body: Vec<u8>, timeout: Duration) -> Result<(), PostFailure> {
    let failure = |message: String, retryable: bool| PostFailure { message, retryable };
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| failure(format!("HTTP client: {}", without_url(e)), false))?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .map_err(|e| failure(without_url(e), true))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let retryable = status.is_server_error() || status.as_u16() == 429;
        Err(failure(format!("answered {}", status.as_u16()), retryable))
    }
}

/// reqwest's errors repeat the URL; the message around them already names it.
fn without_url(e: reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        e.without_url().to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn tcp_probes_a_listening_and_a_closed_port() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let results = run_all(&[
            Probe::Tcp {
                target: open.local_addr().unwrap().to_string(),
                timeout: ms(1000),
            },
            Probe::Tcp {
                target: closed_addr.to_string(),
                timeout: ms(1000),
            },
            Probe::Tcp {
                target: "no-such-host.invalid:80".into(),
                timeout: ms(500),
            },
        ]);
        assert_eq!(results[0], Ok(()));
        assert!(
            results[1].as_ref().unwrap_err().contains("cannot connect"),
            "{results:?}"
        );
        assert!(results[2].is_err());
    }

    /// A one-shot HTTP server answering `status`, or never answering when `status` is 0.
    fn server(status: u16) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let mut s = stream.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                if status == 0 {
                    thread::sleep(Duration::from_secs(5));
                    continue;
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        url
    }

    #[test]
    fn http_compares_the_status_and_a_silent_server_fails_on_time() {
        let http = |url: String, expect_status| Probe::Http {
            url,
            expect_status,
            timeout: ms(800),
        };
        let results = run_all(&[
            http(server(200), 200),
            http(server(503), 200),
            http(server(0), 200),
        ]);
        assert_eq!(results[0], Ok(()));
        assert!(
            results[1]
                .as_ref()
                .unwrap_err()
                .contains("answered 503, expected 200")
        );
        assert!(results[2].is_err(), "{results:?}");
    }
}
