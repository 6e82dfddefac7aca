//! `--notify URL`: a JSON POST to a webhook when something needs a person — a check
//! that escalates or blocks, governed drift recorded by `reconcile`, a post-verify probe
//! that failed after an apply. The body has a Slack-compatible `text` and the decision's
//! structure: addresses, actions, verdicts, the rules behind them. Never a value, and
//! never a finding's message (messages may quote the plan's values).
//!
//! Where to post: every `--notify URL`, and every `iom_notification` of the model whose
//! `on` names the event and whose `workspaces` cover the workspace ([`Targets`]). A
//! model notification's URL is resolved before the command judges or applies anything:
//! one that cannot be (its `url_env` unset or not a URL) is an error then, not silence later.
//!
//! Notifying is best effort by design: each URL gets a few attempts with backoff, each
//! bounded by a timeout, and what failed is handed back for the caller to report. It
//! never changes a verdict or an exit code.

use std::thread;
use std::time::Duration;

use iom_model::{Model, NotificationTarget, Outcome};
use serde::Serialize;

use crate::decide::report::Report;
use crate::living::Reconciliation;
use crate::render::printable;

/// Attempts per URL (the first and two retries).
pub const ATTEMPTS: u32 = 3;
/// The wait before the first retry; it doubles before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Flagged changes named in `text` (all are in `changes`).
const TEXT_CHANGES: usize = 10;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A check escalated.
    Escalate,
    /// A check blocked.
    Block,
    /// `reconcile` recorded governed drift, which holds the workspace's checks.
    Drift,
    /// A post-verify probe failed after a governed apply.
    PostVerifyFailed,
}

impl Event {
    /// The word the body's `event` carries, and a notification's `on` lists.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Escalate => "escalate",
            Event::Block => "block",
            Event::Drift => "drift",
            Event::PostVerifyFailed => "post_verify_failed",
        }
    }
}

/// One webhook a command may post to.
#[derive(Clone, PartialEq)]
struct Target {
    url: String,
    /// The `iom_notification` that declares it; `None` for `--notify`, which posts
    /// every event.
    notification: Option<String>,
    /// The events it posts (a model notification's `on`).
    on: Vec<String>,
}

impl Target {
    /// How a failure names it: the notification, and the URL [`redacted`].
    fn label(&self) -> String {
        match &self.notification {
            Some(name) => format!("notification `{name}` ({})", redacted(&self.url)),
            None => redacted(&self.url),
        }
    }
}

/// The webhooks of one command in one workspace, resolved: `--notify` URLs and the
/// model's notifications that cover the workspace.
#[derive(Default)]
pub struct Targets(Vec<Target>);

impl Targets {
    /// `--notify` URLs (already checked by [`parse_url`]) and every notification of
    /// `model` covering `workspace`, each URL resolved now: a `url_env` that is not set,
    /// or not set to a webhook URL, is an error naming the notification and the
    /// variable (never the value).
    pub fn resolve(cli_urls: &[String], model: &Model, workspace: &str) -> Result<Targets, String> {
        let mut targets: Vec<Target> = cli_urls
            .iter()
            .map(|url| Target {
                url: url.clone(),
                notification: None,
                on: Vec::new(),
            })
            .collect();
        for n in model
            .notifications
            .iter()
            .filter(|n| n.covers_workspace(workspace))
        {
            let url = match &n.target {
                NotificationTarget::Url(url) => url.clone(),
                NotificationTarget::Env(var) => url_from_env(&n.name, var)?,
            };
            targets.push(Target {
                url,
                notification: Some(n.name.clone()),
                on: n.on.clone(),
            });
        }
        Ok(Targets(targets))
    }

    /// Whether there is nowhere to post.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The targets `event` goes to, each URL once (a URL given both ways is posted once).
    fn for_event(&self, event: Event) -> Vec<&Target> {
        let mut chosen: Vec<&Target> = Vec::new();
        for t in &self.0 {
            let wanted = t.notification.is_none() || t.on.iter().any(|e| e == event.as_str());
            if wanted && !chosen.iter().any(|c| c.url == t.url) {
                chosen.push(t);
            }
        }
        chosen
    }
}

/// The URL in `$var` for notification `name`. The error names the variable, never its value.
fn url_from_env(name: &str, var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => match iom_model::validate::webhook_url(&url) {
            Ok(()) => Ok(url),
            Err(why) => Err(format!("notification `{name}`: the URL in ${var} {why}")),
        },
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(format!(
            "notification `{name}`: ${var} (its url_env) is not set; set it to the webhook URL, or narrow the notification's workspaces"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "notification `{name}`: ${var} (its url_env) is not UTF-8"
        )),
    }
}

/// A change as a notification names it.
#[derive(Debug, Clone, Serialize)]
pub struct NotifiedChange {
    /// The resource instance address.
    pub address: String,
    /// Its action class (`create`, `delete`, …).
    pub action: String,
    /// Its verdict.
    pub verdict: Outcome,
    /// `SOURCE / RULE` of each finding that is not an allow.
    pub rules: Vec<String>,
}

/// A failed post-verify probe, as a notification names it.
#[derive(Debug, Clone, Serialize)]
pub struct NotifiedProbe {
    /// The contract that declares it.
    pub contract: String,
    /// `post_verify.PROBE`.
    pub probe: String,
}

/// The JSON body of one notification.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// One line or a few, for Slack and chat webhooks that show `text`.
    pub text: String,
    /// What happened.
    pub event: Event,
    /// The workspace it happened in.
    pub workspace: String,
    /// The decision (a check's id) or the ledger record (a reconciliation's).
    pub decision_id: String,
    /// The check's verdict, for escalate and block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Outcome>,
    /// The changes that are not allowed, for escalate and block.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<NotifiedChange>,
    /// `SOURCE / RULE` of findings about the plan as a whole (an incomplete plan), for
    /// escalate and block.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan_rules: Vec<String>,
    /// The governed resources that drifted, for drift.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<String>,
    /// The probes that failed, for a failed post-verify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_probes: Vec<NotifiedProbe>,
}

impl Notification {
    /// The notification for a check that escalates or blocks; `None` for allow and warn.
    pub fn for_check(report: &Report) -> Option<Notification> {
        let event = match report.verdict {
            Outcome::Escalate => Event::Escalate,
            Outcome::Block => Event::Block,
            Outcome::Allow | Outcome::Warn => return None,
        };
        let changes: Vec<NotifiedChange> = report
            .changes
            .iter()
            .filter(|c| matches!(c.verdict, Outcome::Escalate | Outcome::Block))
            .map(|c| NotifiedChange {
                address: c.address.clone(),
                action: c.action.as_str().to_string(),
                verdict: c.verdict,
                rules: c
                    .findings
                    .iter()
                    .filter(|f| f.outcome != Outcome::Allow)
                    .map(|f| format!("{} / {}", f.source, f.rule))
                    .collect(),
            })
            .collect();
        let plan_rules: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.outcome != Outcome::Allow)
            .map(|f| format!("{} / {}", f.source, f.rule))
            .collect();
        let mut text = format!(
            "plan-guard: *{}* in workspace `{}`: {} of {} changes (decision `{}`)",
            report.verdict.as_str(),
            slack(&report.workspace),
            changes.len(),
            report.summary.changes,
            slack(&report.decision_id),
        );
        if !plan_rules.is_empty() {
            text.push_str(&format!(
                "\n• the plan as a whole: {}",
                slack(&plan_rules.join(", "))
            ));
        }
        for c in changes.iter().take(TEXT_CHANGES) {
            text.push_str(&format!(
                "\n• {} `{}` {}: {}",
                c.verdict.as_str(),
                slack(&c.address),
                c.action,
                slack(&c.rules.join(", "))
            ));
        }
        if changes.len() > TEXT_CHANGES {
            text.push_str(&format!("\n… and {} more", changes.len() - TEXT_CHANGES));
        }
        Some(Notification {
            text,
            event,
            workspace: report.workspace.clone(),
            decision_id: report.decision_id.clone(),
            verdict: Some(report.verdict),
            changes,
            plan_rules,
            drifted: Vec::new(),
            failed_probes: Vec::new(),
        })
    }

    /// The notification for drift `reconcile` recorded (held, not accepted); `None`
    /// when nothing governed drifted or the drift was accepted.
    pub fn for_drift(found: &Reconciliation, accepted: bool, record: &str) -> Option<Notification> {
        if found.drifted.is_empty() || accepted {
            return None;
        }
        let mut text = format!(
            "plan-guard: *drift* in workspace `{}`: {} governed resource(s) changed outside Terraform; checks are held until reconciled (record `{}`)",
            slack(&found.workspace),
            found.drifted.len(),
            slack(record),
        );
        for a in found.drifted.iter().take(TEXT_CHANGES) {
            text.push_str(&format!("\n• `{}`", slack(a)));
        }
        if found.drifted.len() > TEXT_CHANGES {
            let more = found.drifted.len() - TEXT_CHANGES;
            text.push_str(&format!("\n… and {more} more"));
        }
        Some(Notification {
            text,
            event: Event::Drift,
            workspace: found.workspace.clone(),
            decision_id: record.to_string(),
            verdict: None,
            changes: Vec::new(),
            plan_rules: Vec::new(),
            drifted: found.drifted.clone(),
            failed_probes: Vec::new(),
        })
    }

    /// The notification for a governed apply whose post-verify probes did not all
    /// hold; `None` when they did. The probes' messages stay out: a probe's target is
    /// built from contract inputs.
    pub fn for_post_verify(
        workspace: &str,
        decision_id: &str,
        probes: &[iom_probe::ProbeResult],
    ) -> Option<Notification> {
        let failed: Vec<NotifiedProbe> = probes
            .iter()
            .filter(|p| !p.ok)
            .map(|p| NotifiedProbe {
                contract: p.contract.clone(),
                probe: p.probe.clone(),
            })
            .collect();
        if failed.is_empty() {
            return None;
        }
        let names: Vec<String> = failed
            .iter()
            .map(|p| format!("`contract:{} / {}`", slack(&p.contract), slack(&p.probe)))
            .collect();
        Some(Notification {
            text: format!(
                "plan-guard: *post-verify failed* after the apply of decision `{}` in workspace `{}`: {}",
                slack(decision_id),
                slack(workspace),
                names.join(", ")
            ),
            event: Event::PostVerifyFailed,
            workspace: workspace.to_string(),
            decision_id: decision_id.to_string(),
            verdict: None,
            changes: Vec::new(),
            plan_rules: Vec::new(),
            drifted: Vec::new(),
            failed_probes: failed,
        })
    }
}

/// Text safe inside Slack's mrkdwn: `&`, `<` and `>` escaped as Slack asks (so no
/// `<!channel>` or link can be forged from an address), controls shown as escapes.
fn slack(s: &str) -> String {
    printable(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "'")
}

/// A URL as messages show it: scheme and host only. A webhook's path and query are
/// usually its secret (Slack's are), and userinfo is a password.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let tail = if rest.len() > authority.len() {
        "/…"
    } else {
        ""
    };
    format!("{scheme}://{host}{tail}")
}

/// `--notify URL` accepts http and https URLs with a host only, as a notification's `url`.
pub fn parse_url(url: &str) -> Result<String, String> {
    iom_model::validate::webhook_url(url).map(|()| url.to_string())
}

/// Sends `n` to every target its event goes to, all at once, each with [`ATTEMPTS`]
/// attempts of at most `timeout` and a doubling backoff; returns one line per target
/// that could not be notified (the URL [`redacted`]).
pub fn send(targets: &Targets, timeout: Duration, n: &Notification) -> Vec<String> {
    let chosen = targets.for_event(n.event);
    if chosen.is_empty() {
        return Vec::new();
    }
    let body = match serde_json::to_vec(n) {
        Ok(b) => b,
        Err(e) => return vec![format!("cannot encode the notification: {e}")],
    };
    let workers: Vec<_> = chosen
        .iter()
        .map(|t| {
            let (url, body) = (t.url.clone(), body.clone());
            thread::spawn(move || send_one(&url, &body, timeout).err())
        })
        .collect();
    workers
        .into_iter()
        .zip(chosen)
        .filter_map(|(w, t)| match w.join() {
            Ok(None) => None,
            Ok(Some(why)) => Some(format!("notifying {} failed: {why}", t.label())),
            Err(_) => Some(format!(
                "notifying {} failed: the sender stopped",
                t.label()
            )),
        })
        .collect()
}

fn send_one(url: &str, body: &[u8], timeout: Duration) -> Result<(), String> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match iom_probe::post_json(url, body.to_vec(), timeout) {
            Ok(()) => return Ok(()),
            Err(f) if !f.retryable || attempt == ATTEMPTS => {
                return Err(format!("{} (attempt {attempt} of {ATTEMPTS})", f.message));
            }
            Err(_) => {
                thread::sleep(backoff);
                backoff *= 2;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_secret_parts() {
        assert_eq!(
            redacted("https://hooks.slack.com/services/T0/B0/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redacted("https://bot:hunter2@chat.example:8443/hook?token=t"),
            "https://chat.example:8443/…"
        );
        assert_eq!(redacted("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(parse_url("https://hooks.example/x").is_ok());
        assert!(parse_url("HTTP://127.0.0.1:8080/").is_ok());
        for bad in [
            "",
            "https://",
            "file:///etc/passwd",
            "hooks.example/x",
            "ftp://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slack_text_cannot_mention_or_link() {
        assert_eq!(
            slack("x[\"<!channel>\"] & <https://evil|click>`"),
            "x[\"&lt;!channel&gt;\"] &amp; &lt;https://evil|click&gt;'"
        );
        assert_eq!(slack("a\nb"), "a\\nb");
    }

    #[test]
    fn drift_that_was_accepted_or_is_not_governed_notifies_nobody() {
        let mut found = Reconciliation {
            workspace: "w".into(),
            drifted_ungoverned: vec!["x.y".into()],
            ..Reconciliation::default()
        };
        assert!(Notification::for_drift(&found, false, "r").is_none());
        found.drifted.push("a.b".into());
        assert!(Notification::for_drift(&found, true, "r").is_none());
        let n = Notification::for_drift(&found, false, "r").unwrap();
        assert_eq!(n.event, Event::Drift);
        assert_eq!(n.drifted, ["a.b"]);
        assert!(n.text.contains("\n• `a.b`"), "{}", n.text);
    }
}
