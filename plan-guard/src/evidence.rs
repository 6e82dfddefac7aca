//! What plan-guard writes to the evidence ledger, and the rules read back from it. A
//! `check` record holds the decision (never a value from the plan: the report is built
//! from addresses, names and condition text only) and, for an escalation, who may approve
//! it, resolved from the profiles at check time so the record says which rule applied.
//! `approval` and `apply` records name the decision they belong to.

use std::collections::BTreeSet;

use iom_model::{Model, ModelSpec, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::report::Report;

pub const CHECK: &str = "check";
pub const APPROVAL: &str = "approval";
pub const APPLY: &str = "apply";

/// Who may approve an escalation under one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileApprovers {
    pub profile: String,
    /// People, with `group:NAME` entries replaced by the group's members.
    pub approvers: Vec<String>,
    pub require_distinct_approver: bool,
}

/// The SHA-256 (hex) of a model's governance objects: each kind's objects as canonical
/// JSON, sorted, so the same objects give the same digest whether they were loaded from
/// `--model DIR` or from a store, in whatever order they were declared. A check record
/// keeps it, and `apply` runs the post-verify probes only of the model with this digest.
pub fn model_digest(spec: &ModelSpec) -> String {
    fn kind<T: Serialize>(h: &mut Sha256, name: &str, objects: &[T]) {
        let mut each: Vec<String> = objects
            .iter()
            .map(|o| serde_json::to_string(o).unwrap_or_default())
            .collect();
        each.sort();
        h.update(format!("{name}:{}\n", each.len()).as_bytes());
        for o in each {
            h.update(o.as_bytes());
            h.update(b"\n");
        }
    }
    let mut h = Sha256::new();
    kind(&mut h, "profiles", &spec.profiles);
    kind(&mut h, "blueprints", &spec.blueprints);
    kind(&mut h, "intents", &spec.intents);
    kind(&mut h, "contracts", &spec.contracts);
    kind(&mut h, "elements", &spec.elements);
    kind(&mut h, "waivers", &spec.waivers);
    crate::plan::hex_digest(&h.finalize())
}

/// The body of a `check` record. Besides the decision it pins what the decision rests
/// on: the model (`source`, store `revision`, and the `digest` of its objects) and the
/// outcome the check gave ungoverned changes (`--ungoverned`). Each escalating change
/// names the profiles whose approvers may approve it (`approval_profiles`): an empty
/// list is a change no one may approve, which keeps the whole decision unapprovable.
pub fn check_record(report: &Report, model: &Model, ungoverned: Outcome) -> Value {
    let entitled: Vec<Option<Vec<&str>>> = report
        .changes
        .iter()
        .map(|c| (c.verdict == Outcome::Escalate).then(|| change_profiles(c, model)))
        .collect();
    let changes: Vec<Value> = report
        .changes
        .iter()
        .zip(&entitled)
        .map(|(c, profiles)| {
            let mut change = json!({
                "action": c.action,
                "address": c.address,
                "blast_radius": { "direct": c.blast_radius.direct, "transitive": c.blast_radius.transitive },
                "deposed": c.deposed,
                "findings": c.findings,
                "governed_by": c.governed_by,
                "verdict": c.verdict,
            });
            if let Some(profiles) = profiles {
                change["approval_profiles"] = json!(profiles);
            }
            change
        })
        .collect();
    let mut needed: BTreeSet<&str> = entitled.iter().flatten().flatten().copied().collect();
    // A finding about the whole plan (an incomplete plan) that escalates needs an approval
    // under the profile it names.
    for f in report
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Escalate)
    {
        if let Some(p) = f.source.strip_prefix("profile:") {
            needed.extend(model.profiles.get(p).map(|p| p.name.as_str()));
        }
    }
    json!({
        "actor": report.actor,
        "approvers": profile_approvers(model, &needed),
        "changes": changes,
        "findings": report.findings,
        "model": {
            "digest": model_digest(&model.spec),
            // `--model DIR` as given is relative to where the check ran; the record also
            // says which directory that was.
            "directory": report
                .model
                .revision
                .is_none()
                .then(|| std::fs::canonicalize(&report.model.source).ok())
                .flatten()
                .map(|d| d.display().to_string()),
            "revision": report.model.revision,
            "source": report.model.source,
        },
        "plan": report.plan,
        "summary": report.summary,
        "ungoverned": ungoverned,
        "verdict": report.verdict,
        "workspace": report.workspace,
    })
}

/// The profiles behind one change's escalation, whose approvers are entitled to approve
/// it: the profile a finding names, the profile of the intent a finding names, or for a
/// blueprint rule or contract the profiles of the governing intents that carry it (all
/// governing intents when none does). Intents that govern the change but did not escalate
/// it have no say, and a finding no governing intent stands behind (an ungoverned change)
/// entitles no one.
fn change_profiles<'m>(change: &crate::report::ChangeReport, model: &'m Model) -> Vec<&'m str> {
    let governing: Vec<_> = model
        .intents
        .iter()
        .filter(|i| change.governed_by.contains(&i.name))
        .collect();
    let mut profiles: BTreeSet<&str> = BTreeSet::new();
    for f in change
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Escalate)
    {
        if let Some(p) = f.source.strip_prefix("profile:") {
            profiles.extend(model.profiles.get(p).map(|p| p.name.as_str()));
        } else if let Some(i) = f.source.strip_prefix("intent:") {
            profiles.extend(
                governing
                    .iter()
                    .filter(|it| it.name == i)
                    .map(|it| it.profile.as_str()),
            );
        } else {
            let carrying: Vec<&str> = governing
                .iter()
                .filter(|it| it.rules.iter().any(|r| r.source == f.source))
                .map(|it| it.profile.as_str())
                .collect();
            if carrying.is_empty() {
                profiles.extend(governing.iter().map(|it| it.profile.as_str()));
            } else {
                profiles.extend(carrying);
            }
        }
    }
    profiles.into_iter().collect()
}

/// Who may approve under each of `needed`, with groups expanded.
fn profile_approvers(model: &Model, needed: &BTreeSet<&str>) -> Vec<ProfileApprovers> {
    model
        .spec
        .profiles
        .iter()
        .filter(|p| needed.contains(p.name.as_str()))
        .map(|p| {
            let mut people = BTreeSet::new();
            for entry in &p.approvers {
                match entry.strip_prefix("group:") {
                    Some(group) => {
                        people.extend(p.groups.get(group).into_iter().flatten().cloned())
                    }
                    None => {
                        people.insert(entry.clone());
                    }
                }
            }
            ProfileApprovers {
                profile: p.name.clone(),
                approvers: people.into_iter().collect(),
                require_distinct_approver: p.require_distinct_approver,
            }
        })
        .collect()
}

impl ProfileApprovers {
    /// Whether `actor` may approve under this profile, for a check `author` ran.
    pub fn permits(&self, actor: &str, author: &str) -> bool {
        self.approvers.iter().any(|a| a == actor)
            && !(self.require_distinct_approver && actor == author)
    }

    /// Who may approve under this profile, for a check `author` ran: "one of a, b".
    pub fn who(&self, author: &str) -> String {
        let people: Vec<&str> = self
            .approvers
            .iter()
            .map(String::as_str)
            .filter(|a| !(self.require_distinct_approver && *a == author))
            .collect();
        if people.is_empty() {
            "nobody (the profile lists no approver who may)".into()
        } else {
            format!("one of {}", people.join(", "))
        }
    }
}

/// The escalating profiles of an escalated `check` record, and who ran the check; `Err`
/// says why the decision cannot be approved at all: among them, escalating changes no
/// profile entitles anyone to approve (they would otherwise ride along with another
/// change's approval).
fn escalating_profiles(check: &Value) -> Result<(Vec<ProfileApprovers>, &str), String> {
    let verdict = check["verdict"].as_str().unwrap_or("");
    match verdict {
        "block" => return Err("the decision is block: a blocked plan cannot be approved".into()),
        "allow" | "warn" => return Err(format!("the decision is {verdict}: it needs no approval")),
        "escalate" => {}
        other => return Err(format!("the record holds an unreadable verdict {other:?}")),
    }
    let unapprovable = unapprovable_changes(check)?;
    if !unapprovable.is_empty() {
        return Err(format!(
            "no one may approve {}: no profile stands behind {} (an ungoverned change, or a finding no governing intent carries); govern {} with an intent whose profile lists approvers, or leave {} out of this plan",
            unapprovable.join(", "),
            if unapprovable.len() == 1 {
                "its escalation"
            } else {
                "their escalations"
            },
            if unapprovable.len() == 1 {
                "it"
            } else {
                "them"
            },
            if unapprovable.len() == 1 {
                "it"
            } else {
                "them"
            },
        ));
    }
    let profiles: Vec<ProfileApprovers> = serde_json::from_value(check["approvers"].clone())
        .map_err(|e| format!("the record's approvers are unreadable: {e}"))?;
    if profiles.is_empty() {
        return Err(
            "no profile names approvers for this escalation (is the change governed?)".into(),
        );
    }
    Ok((profiles, check["actor"].as_str().unwrap_or("")))
}

/// The addresses of the escalating changes of a `check` record that no profile entitles
/// anyone to approve. `Err` for a record that does not say who may approve each change
/// (an older plan-guard wrote it): it cannot show that every change is covered.
fn unapprovable_changes(check: &Value) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for change in check["changes"].as_array().into_iter().flatten() {
        if change["verdict"] != "escalate" {
            continue;
        }
        let Some(profiles) = change["approval_profiles"].as_array() else {
            return Err(
                "the check record does not say who may approve each change (an older plan-guard wrote it): check the plan again".into(),
            );
        };
        if profiles.is_empty() {
            out.push(change["address"].as_str().unwrap_or("?").to_string());
        }
    }
    Ok(out)
}

/// The escalating profiles `actor` may approve the decision a `check` record holds
/// under (at least one); `Err` says why none. Each profile that contributed an
/// escalating finding needs an approval of its own, from one of its approvers (not the
/// check's actor when it says `require_distinct_approver`); one actor may cover several.
pub fn may_approve(check: &Value, actor: &str) -> Result<Vec<String>, String> {
    let (profiles, author) = escalating_profiles(check)?;
    let mine: Vec<String> = profiles
        .iter()
        .filter(|p| p.permits(actor, author))
        .map(|p| p.profile.clone())
        .collect();
    if !mine.is_empty() {
        return Ok(mine);
    }
    let why: Vec<String> = profiles
        .iter()
        .map(|p| {
            if p.approvers.iter().any(|a| a == actor) {
                format!(
                    "profile {} requires an approver other than {author}, who ran the check",
                    p.profile
                )
            } else {
                format!(
                    "{actor} is not an approver of profile {} (approvers: {})",
                    p.profile,
                    if p.approvers.is_empty() {
                        "none".into()
                    } else {
                        p.approvers.join(", ")
                    }
                )
            }
        })
        .collect();
    Err(why.join("; "))
}

/// The escalating profiles of a `check` record that none of `approvers` (the actors of
/// its approval records) may approve under: empty when the decision is fully approved.
/// `Err` when it cannot be approved at all.
pub fn pending_approval(
    check: &Value,
    approvers: &[&str],
) -> Result<Vec<ProfileApprovers>, String> {
    let (profiles, author) = escalating_profiles(check)?;
    Ok(profiles
        .into_iter()
        .filter(|p| !approvers.iter().any(|a| p.permits(a, author)))
        .collect())
}

/// "profile P by one of a, b; profile Q by one of c": who may still approve.
pub fn describe_pending(check: &Value, pending: &[ProfileApprovers]) -> String {
    let author = check["actor"].as_str().unwrap_or("");
    pending
        .iter()
        .map(|p| format!("profile {} by {}", p.profile, p.who(author)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The body of an `approval` record: `profiles` are those it approves under.
pub fn approval_record(check: &Value, actor: &str, reason: &str, profiles: &[String]) -> Value {
    json!({
        "actor": actor,
        "plan_sha256": check["plan"]["sha256"],
        "profiles": profiles,
        "reason": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(verdict: &str, distinct: bool) -> Value {
        json!({
            "actor": "dave",
            "verdict": verdict,
            "approvers": [{ "profile": "prod-safe", "approvers": ["alice", "bob", "dave"], "require_distinct_approver": distinct }],
            "plan": { "sha256": "ab" },
        })
    }

    #[test]
    fn approval_rules() {
        assert_eq!(
            may_approve(&record("escalate", true), "alice"),
            Ok(vec!["prod-safe".to_string()])
        );
        let e = may_approve(&record("escalate", true), "mallory").unwrap_err();
        assert!(
            e.contains(
                "mallory is not an approver of profile prod-safe (approvers: alice, bob, dave)"
            ),
            "{e}"
        );
        let e = may_approve(&record("escalate", true), "dave").unwrap_err();
        assert!(e.contains("requires an approver other than dave"), "{e}");
        assert_eq!(
            may_approve(&record("escalate", false), "dave"),
            Ok(vec!["prod-safe".to_string()])
        );
        assert!(
            may_approve(&record("block", false), "alice")
                .unwrap_err()
                .contains("cannot be approved")
        );
        assert!(
            may_approve(&record("allow", false), "alice")
                .unwrap_err()
                .contains("needs no approval")
        );
        let mut none = record("escalate", false);
        none["approvers"] = json!([]);
        assert!(may_approve(&none, "alice").is_err());
    }

    /// Two escalating profiles with different approvers: each approves its own, and the
    /// decision is approved once both have.
    #[test]
    fn each_escalating_profile_needs_its_own_approval() {
        let mut rec = record("escalate", true);
        rec["approvers"] = json!([
            { "profile": "pa", "approvers": ["alice"], "require_distinct_approver": true },
            { "profile": "pb", "approvers": ["bob", "dave"], "require_distinct_approver": true },
        ]);
        assert_eq!(may_approve(&rec, "alice"), Ok(vec!["pa".to_string()]));
        assert_eq!(may_approve(&rec, "bob"), Ok(vec!["pb".to_string()]));
        let e = may_approve(&rec, "carol").unwrap_err();
        assert!(
            e.contains("carol is not an approver of profile pa (approvers: alice)")
                && e.contains("carol is not an approver of profile pb"),
            "{e}"
        );
        let pending = pending_approval(&rec, &["alice"]).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(describe_pending(&rec, &pending), "profile pb by one of bob");
        assert_eq!(
            pending_approval(&rec, &["dave"]).unwrap().len(),
            2,
            "dave ran the check"
        );
        assert!(
            pending_approval(&rec, &["alice", "bob"])
                .unwrap()
                .is_empty()
        );
    }

    /// An escalating change no profile stands behind makes the decision unapprovable,
    /// whoever approves the others; a record that does not say who may approve each
    /// change is not trusted to cover them all.
    #[test]
    fn a_change_no_one_may_approve_keeps_the_decision_unapproved() {
        let mut rec = record("escalate", false);
        rec["changes"] = json!([
            { "address": "module.p.a", "verdict": "escalate", "approval_profiles": ["prod-safe"] },
            { "address": "b", "verdict": "allow" },
            { "address": "c", "verdict": "escalate", "approval_profiles": [] },
        ]);
        let e = may_approve(&rec, "alice").unwrap_err();
        assert!(
            e.starts_with("no one may approve c: no profile stands behind its escalation"),
            "{e}"
        );
        assert!(pending_approval(&rec, &["alice"]).is_err());
        rec["changes"][2]["approval_profiles"] = json!(["prod-safe"]);
        assert_eq!(
            may_approve(&rec, "alice"),
            Ok(vec!["prod-safe".to_string()])
        );
        rec["changes"][2]
            .as_object_mut()
            .unwrap()
            .remove("approval_profiles");
        assert!(
            may_approve(&rec, "alice")
                .unwrap_err()
                .contains("older plan-guard")
        );
    }

    #[test]
    fn groups_expand_to_members() {
        let spec = iom_model::load_str(
            "g.tf",
            r#"
resource "iom_profile" "p" {
  name      = "prod-safe"
  actions   = { create = "escalate" }
  approvers = ["alice", "group:platform"]
  groups    = { platform = ["bob", "carol"] }
  require_distinct_approver = true
}
resource "iom_intent" "i" {
  name    = "all"
  profile = "prod-safe"
}
"#,
        )
        .unwrap();
        let model = Model::compile(spec).unwrap();
        let mut report = crate::testing::sample_report();
        report.changes[0].governed_by = vec!["all".into()];
        report.changes[0].findings[0].source = "profile:prod-safe".into();
        let rec = check_record(&report, &model, Outcome::Escalate);
        assert_eq!(rec["ungoverned"], "escalate");
        assert_eq!(rec["model"]["digest"], model_digest(&model.spec));
        assert_eq!(
            rec["approvers"],
            json!([{ "profile": "prod-safe", "approvers": ["alice", "bob", "carol"], "require_distinct_approver": true }])
        );
        assert_eq!(
            rec["changes"][0]["address"],
            "module.payments.aws_db_instance.main"
        );
        assert_eq!(rec["changes"][0]["approval_profiles"], json!(["prod-safe"]));
        assert_eq!(rec["verdict"], "escalate");
    }

    /// An escalation that comes only from the plan as a whole (an incomplete plan) is
    /// approved under the profile its finding names.
    #[test]
    fn a_plan_level_escalation_needs_its_profiles_approval() {
        let spec = iom_model::load_str(
            "p.tf",
            r#"
resource "iom_profile" "p" {
  name      = "prod-safe"
  approvers = ["alice"]
}
resource "iom_intent" "i" {
  name    = "all"
  profile = "prod-safe"
}
"#,
        )
        .unwrap();
        let model = Model::compile(spec).unwrap();
        let mut report = crate::testing::sample_report();
        report.changes[0].findings.clear();
        report.changes[0].verdict = Outcome::Allow;
        report.findings.push(crate::report::Finding {
            message: "the plan is incomplete".into(),
            outcome: Outcome::Escalate,
            rule: "incomplete".into(),
            source: "profile:prod-safe".into(),
            waived_by: None,
        });
        report.recount();
        assert_eq!(report.verdict, Outcome::Escalate);
        let rec = check_record(&report, &model, Outcome::Escalate);
        assert_eq!(rec["findings"][0]["rule"], "incomplete");
        assert_eq!(
            may_approve(&rec, "alice"),
            Ok(vec!["prod-safe".to_string()])
        );
        assert!(may_approve(&rec, "mallory").is_err());
    }
}
