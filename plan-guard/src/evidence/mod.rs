//! What plan-guard writes to the evidence ledger, and the rules read back from it. A
//! `check` record holds the decision (never a value from the plan: the report is built
//! from addresses, names and condition text only) and, for an escalation, who may approve
//! it, resolved from the profiles at check time so the record says which rule applied.
//! `approval` and `apply` records name the decision they belong to.

pub mod checkpoint;
pub mod identity;
pub mod plan_set;
pub mod records;
pub mod signing;
pub mod verify;
pub mod workflow;

use std::collections::{BTreeMap, BTreeSet};

use iom_model::{Model, ModelSpec, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::decide::report::{ChangeReport, Finding, Report};
use crate::decide::surface::ContractSection;
use records::{
    ApprovalRecord, CheckRecord, CheckedChange, ContractVersion, ModelPin, PlanPin,
    RecordedBlastRadius, RecordedContract, RecordedFinding, Stored,
};

/// The ledger kind of a decision.
pub const CHECK: &str = records::Kind::Check.as_str();
/// The ledger kind of an approval.
pub const APPROVAL: &str = records::Kind::Approval.as_str();
/// The ledger kind of a governed apply.
pub const APPLY: &str = records::Kind::Apply.as_str();

/// Who may approve an escalation under one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileApprovers {
    /// The profile's name.
    pub profile: String,
    /// People, with `group:NAME` entries replaced by the group's members.
    pub approvers: Vec<String>,
    /// Whether whoever ran the check is barred from approving it.
    pub require_distinct_approver: bool,
    /// Names bound to OpenSSH ed25519 public keys (`approver_keys`): a record by one of
    /// them counts only when signed with that key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, String>,
    /// Distinct approvers needed (`min_approvals`); 1 when the profile does not say.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub min_approvals: u64,
    /// The groups the profile's approvers name (`group:NAME`), with their members: who
    /// may approve, as the profile says it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<String>>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// The SHA-256 (hex) of a model's governance objects: each kind's objects as canonical
/// JSON, sorted, so the same objects give the same digest whether they were loaded from
/// `--model DIR` or from a store, in whatever order they were declared. A check record
/// keeps it, and `apply` runs the post-verify probes only of the model with this digest.
/// Notifications are left out: they judge nothing (a new webhook does not make a
/// decision stale), and their URLs are secrets.
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
/// What `approve` shows comes from here too: the contract sections, and for each
/// escalated or blocked change its accountable owners and whole blast radius.
pub fn check_record(report: &Report, model: &Model, ungoverned: Outcome) -> CheckRecord {
    let entitled: Vec<Option<Vec<&str>>> = report
        .changes
        .iter()
        .map(|c| (c.verdict == Outcome::Escalate).then(|| change_profiles(c, model)))
        .collect();
    let changes = report
        .changes
        .iter()
        .zip(&entitled)
        .map(|(c, profiles)| checked_change(c, profiles.as_deref()))
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
    CheckRecord {
        version: 1,
        actor: Some(report.actor.clone()),
        approvers: profile_approvers(model, &needed),
        changes,
        contracts: report.contracts.iter().map(recorded_contract).collect(),
        findings: report.findings.iter().map(recorded_finding).collect(),
        model: model_pin(report, model),
        plan: PlanPin {
            format_version: report.plan.format_version.clone(),
            sha256: Some(report.plan.sha256.clone()),
            source: Some(report.plan.source.clone()),
            terraform_version: report.plan.terraform_version.clone(),
        },
        summary: serde_json::to_value(&report.summary).unwrap_or(Value::Null),
        ungoverned: Some(ungoverned.as_str().into()),
        verdict: Some(report.verdict.as_str().into()),
        workspace: Some(report.workspace.clone()),
        set: None,
        members: Vec::new(),
    }
}

/// One change of the report as its check record keeps it; `profiles` are the ones
/// entitled to approve it when it escalates.
fn checked_change(c: &ChangeReport, profiles: Option<&[&str]>) -> CheckedChange {
    // What the approval surface shows of a flagged change: who is accountable for it and
    // everything in its blast radius.
    let flagged = c.verdict >= Outcome::Escalate;
    CheckedChange {
        accountable: flagged.then(|| c.accountable.clone()),
        action: Some(c.action.as_str().into()),
        actions: flagged.then(|| c.actions.clone()),
        address: c.address.clone(),
        approval_profiles: profiles.map(|p| p.iter().map(|s| s.to_string()).collect()),
        blast_radius: RecordedBlastRadius {
            addresses: flagged.then(|| c.blast_radius.addresses.clone()),
            direct: c.blast_radius.direct,
            transitive: c.blast_radius.transitive,
        },
        deposed: c.deposed.clone(),
        findings: c.findings.iter().map(recorded_finding).collect(),
        governed_by: c.governed_by.clone(),
        verdict: Some(c.verdict.as_str().into()),
    }
}

fn recorded_finding(f: &Finding) -> RecordedFinding {
    RecordedFinding {
        message: f.message.clone(),
        outcome: Some(f.outcome.as_str().into()),
        rule: f.rule.clone(),
        source: f.source.clone(),
        waived_by: f.waived_by.clone(),
    }
}

/// A contract section kept whole: its digest is what approvals name, the rest is shown.
fn recorded_contract(section: &ContractSection) -> RecordedContract {
    let mut rest: BTreeMap<String, Value> = match serde_json::to_value(section) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    for named in ["call", "contract", "digest"] {
        rest.remove(named);
    }
    RecordedContract {
        call: section.call.clone(),
        contract: section.contract.clone(),
        digest: section.digest.clone(),
        rest,
    }
}

/// The model a report was judged against: its source, store revision and digest.
fn model_pin(report: &Report, model: &Model) -> ModelPin {
    ModelPin {
        digest: Some(model_digest(&model.spec)),
        // `--model DIR` as given is relative to where the check ran; the record also says
        // which directory that was.
        directory: report
            .model
            .revision
            .is_none()
            .then(|| std::fs::canonicalize(&report.model.source).ok())
            .flatten()
            .map(|d| d.display().to_string()),
        revision: report.model.revision,
        source: Some(report.model.source.clone()),
    }
}

/// The profiles behind one change's escalation, whose approvers are entitled to approve
/// it: the profile a finding names, the profile of the intent a finding names, or for a
/// blueprint rule or contract the profiles of the governing intents that carry it (all
/// governing intents when none does). Intents that govern the change but did not escalate
/// it have no say, and a finding no governing intent stands behind (an ungoverned change)
/// entitles no one.
fn change_profiles<'m>(change: &ChangeReport, model: &'m Model) -> Vec<&'m str> {
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
            let mut groups = BTreeMap::new();
            for entry in &p.approvers {
                match entry.strip_prefix("group:") {
                    Some(group) => {
                        let members = p.groups.get(group).cloned().unwrap_or_default();
                        people.extend(members.iter().cloned());
                        groups.insert(group.to_string(), members);
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
                keys: p.approver_keys.clone(),
                min_approvals: p.min_approvals.unwrap_or(1).max(1),
                groups,
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

    /// Whether an approval record counts under this profile, for a check `author` ran:
    /// its actor may approve, and when the profile binds a key to the actor, the body as
    /// stored is signed with that key. `Err` says why not.
    pub fn counts(&self, approval: Stored<'_, ApprovalRecord>, author: &str) -> Result<(), String> {
        let actor = approval.record.actor.as_deref().unwrap_or("");
        if !self.permits(actor, author) {
            return Err(format!(
                "{actor} may not approve under profile {}",
                self.profile
            ));
        }
        match self.keys.get(actor) {
            None => Ok(()),
            Some(key) => identity::verify_body(key, identity::APPROVAL_NAMESPACE, approval.json)
                .map_err(|why| {
                    format!(
                        "profile {} binds a key to {actor}, and the approval {why} (approve --sign-with the private key)",
                        self.profile
                    )
                }),
        }
    }

    /// With `require_distinct_approver` and bound keys, the check's actor must be proven
    /// too: the check signed (`check --sign-with`) by the key this profile binds to that
    /// name. Otherwise the "distinct" comparison would be against a typed name.
    fn author_proven(&self, check: Stored<'_, CheckRecord>) -> Result<(), String> {
        if !self.require_distinct_approver || self.keys.is_empty() {
            return Ok(());
        }
        let author = check.record.actor.as_deref().unwrap_or("");
        let why = match self.keys.get(author) {
            None => format!("profile {} binds no key to {author}", self.profile),
            Some(key) => match identity::verify_body(key, identity::CHECK_NAMESPACE, check.json) {
                Ok(()) => return Ok(()),
                Err(why) => format!("the check {why}"),
            },
        };
        Err(format!(
            "profile {} requires an approver other than whoever ran the check and binds approvers to keys, but the check's actor {author} is not proven ({why}): check the plan again signed with a key the profile binds (check --sign-with, e.g. the CI key)",
            self.profile
        ))
    }

    /// The distinct actors whose approvals count under this profile.
    fn counted<'a>(
        &self,
        approvals: &[Stored<'a, ApprovalRecord>],
        author: &str,
    ) -> BTreeSet<&'a str> {
        approvals
            .iter()
            .filter(|a| self.counts(**a, author).is_ok())
            .filter_map(|a| a.record.actor.as_deref())
            .collect()
    }

    /// Who may approve under this profile, for a check `author` ran: "one of a, b", or
    /// "2 more of a, b, c" when several approvals are needed.
    pub fn who(&self, author: &str, have: usize) -> String {
        let people: Vec<&str> = self
            .approvers
            .iter()
            .map(String::as_str)
            .filter(|a| !(self.require_distinct_approver && *a == author))
            .collect();
        let more = (self.min_approvals as usize).saturating_sub(have);
        if people.is_empty() {
            "nobody (the profile lists no approver who may)".into()
        } else if self.min_approvals > 1 {
            format!(
                "{more} more of {} ({} distinct approvers needed)",
                people.join(", "),
                self.min_approvals
            )
        } else {
            format!("one of {}", people.join(", "))
        }
    }
}

/// The escalating profiles of an escalated `check` record, and who ran the check; `Err`
/// says why the decision cannot be approved at all: among them, escalating changes no
/// profile entitles anyone to approve (they would otherwise ride along with another
/// change's approval).
fn escalating_profiles(check: &CheckRecord) -> Result<(Vec<ProfileApprovers>, &str), String> {
    let verdict = check.verdict.as_deref().unwrap_or("");
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
    if check.approvers.is_empty() {
        return Err(
            "no profile names approvers for this escalation (is the change governed?)".into(),
        );
    }
    Ok((
        check.approvers.clone(),
        check.actor.as_deref().unwrap_or(""),
    ))
}

/// The addresses of the escalating changes of a `check` record that no profile entitles
/// anyone to approve. `Err` for a record that does not say who may approve each change
/// (an older plan-guard wrote it): it cannot show that every change is covered.
fn unapprovable_changes(check: &CheckRecord) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for change in &check.changes {
        if change.verdict.as_deref() != Some("escalate") {
            continue;
        }
        let Some(profiles) = &change.approval_profiles else {
            return Err(
                "the check record does not say who may approve each change (an older plan-guard wrote it): check the plan again".into(),
            );
        };
        if profiles.is_empty() {
            out.push(change.address.clone());
        }
    }
    Ok(out)
}

/// The escalating profiles the approval `body` (about to be recorded, signed or not)
/// counts under (at least one); `Err` says why none. Each profile that contributed an
/// escalating finding needs approvals of its own (`min_approvals` distinct approvers,
/// not the check's actor when it says `require_distinct_approver`, each proven by a
/// signature when the profile binds a key to them); one approval may count under several.
pub fn may_approve(
    check: Stored<'_, CheckRecord>,
    approval: Stored<'_, ApprovalRecord>,
) -> Result<Vec<String>, String> {
    let (profiles, author) = escalating_profiles(check.record)?;
    let actor = approval.record.actor.as_deref().unwrap_or("");
    let mut why = Vec::new();
    let mut mine = Vec::new();
    for p in &profiles {
        if !p.approvers.iter().any(|a| a == actor) {
            why.push(format!(
                "{actor} is not an approver of profile {} (approvers: {})",
                p.profile,
                if p.approvers.is_empty() {
                    "none".into()
                } else {
                    p.approvers.join(", ")
                }
            ));
        } else if !p.permits(actor, author) {
            why.push(format!(
                "profile {} requires an approver other than {author}, who ran the check",
                p.profile
            ));
        } else if let Err(e) = p
            .author_proven(check)
            .and_then(|()| p.counts(approval, author))
        {
            why.push(e);
        } else {
            mine.push(p.profile.clone());
        }
    }
    if mine.is_empty() {
        Err(why.join("; "))
    } else {
        Ok(mine)
    }
}

/// A profile still short of approvals, and how many count so far.
pub struct Pending {
    /// The profile and who may approve under it.
    pub profile: ProfileApprovers,
    /// How many distinct approvals count under it so far.
    pub have: usize,
}

/// The escalating profiles of a `check` record that `approvals` (the bodies of its
/// approval records) do not yet approve: empty when the decision is fully approved.
/// `Err` when it cannot be approved at all.
pub fn pending_approval(
    check: Stored<'_, CheckRecord>,
    approvals: &[Stored<'_, ApprovalRecord>],
) -> Result<Vec<Pending>, String> {
    let (profiles, author) = escalating_profiles(check.record)?;
    let mut pending = Vec::new();
    for p in profiles {
        p.author_proven(check)?;
        let have = p.counted(approvals, author).len();
        if (have as u64) < p.min_approvals {
            pending.push(Pending { profile: p, have });
        }
    }
    Ok(pending)
}

/// "profile P by one of a, b; profile Q by one of c": who may still approve.
pub fn describe_pending(check: &CheckRecord, pending: &[Pending]) -> String {
    let author = check.actor.as_deref().unwrap_or("");
    pending
        .iter()
        .map(|p| {
            format!(
                "profile {} by {}",
                p.profile.profile,
                p.profile.who(author, p.have)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The body of an `approval` record of `decision_id`, before it is signed. It names the
/// contract versions (digests) the approval was given on, as the check recorded them.
pub fn approval_record(
    check: &CheckRecord,
    decision_id: &str,
    actor: &str,
    reason: &str,
) -> ApprovalRecord {
    ApprovalRecord {
        version: 1,
        actor: Some(actor.into()),
        contracts: check
            .contracts
            .iter()
            .map(|s| ContractVersion {
                call: s.call.clone(),
                contract: s.contract.clone(),
                digest: s.digest.clone(),
            })
            .collect(),
        decision_id: Some(decision_id.into()),
        plan_sha256: check.plan.sha256.clone(),
        profiles: None,
        reason: Some(reason.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The rules take records as the ledger stores them: these read the JSON bodies the
    // tests write into the typed records, beside the JSON they were read from.
    fn may_approve(check: &Value, approval: &Value) -> Result<Vec<String>, String> {
        let c: CheckRecord = serde_json::from_value(check.clone()).unwrap();
        let a: ApprovalRecord = serde_json::from_value(approval.clone()).unwrap();
        super::may_approve(Stored::new(&c, check), Stored::new(&a, approval))
    }

    fn pending_approval(check: &Value, approvals: &[&Value]) -> Result<Vec<Pending>, String> {
        let c: CheckRecord = serde_json::from_value(check.clone()).unwrap();
        let read: Vec<ApprovalRecord> = approvals
            .iter()
            .map(|a| serde_json::from_value((*a).clone()).unwrap())
            .collect();
        let stored: Vec<_> = read
            .iter()
            .zip(approvals)
            .map(|(r, j)| Stored::new(r, j))
            .collect();
        super::pending_approval(Stored::new(&c, check), &stored)
    }

    fn describe_pending(check: &Value, pending: &[Pending]) -> String {
        let c: CheckRecord = serde_json::from_value(check.clone()).unwrap();
        super::describe_pending(&c, pending)
    }

    fn by(actor: &str) -> Value {
        json!({ "actor": actor })
    }

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
            may_approve(&record("escalate", true), &by("alice")),
            Ok(vec!["prod-safe".to_string()])
        );
        let e = may_approve(&record("escalate", true), &by("mallory")).unwrap_err();
        assert!(
            e.contains(
                "mallory is not an approver of profile prod-safe (approvers: alice, bob, dave)"
            ),
            "{e}"
        );
        let e = may_approve(&record("escalate", true), &by("dave")).unwrap_err();
        assert!(e.contains("requires an approver other than dave"), "{e}");
        assert_eq!(
            may_approve(&record("escalate", false), &by("dave")),
            Ok(vec!["prod-safe".to_string()])
        );
        assert!(
            may_approve(&record("block", false), &by("alice"))
                .unwrap_err()
                .contains("cannot be approved")
        );
        assert!(
            may_approve(&record("allow", false), &by("alice"))
                .unwrap_err()
                .contains("needs no approval")
        );
        let mut none = record("escalate", false);
        none["approvers"] = json!([]);
        assert!(may_approve(&none, &by("alice")).is_err());
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
        assert_eq!(may_approve(&rec, &by("alice")), Ok(vec!["pa".to_string()]));
        assert_eq!(may_approve(&rec, &by("bob")), Ok(vec!["pb".to_string()]));
        let e = may_approve(&rec, &by("carol")).unwrap_err();
        assert!(
            e.contains("carol is not an approver of profile pa (approvers: alice)")
                && e.contains("carol is not an approver of profile pb"),
            "{e}"
        );
        let pending = pending_approval(&rec, &[&by("alice")]).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(describe_pending(&rec, &pending), "profile pb by one of bob");
        assert_eq!(
            pending_approval(&rec, &[&by("dave")]).unwrap().len(),
            2,
            "dave ran the check"
        );
        assert!(
            pending_approval(&rec, &[&by("alice"), &by("bob")])
                .unwrap()
                .is_empty()
        );
    }

    /// `min_approvals = 2`: two distinct approvers; the same one twice is one.
    #[test]
    fn min_approvals_counts_distinct_approvers() {
        let mut rec = record("escalate", true);
        rec["approvers"][0]["min_approvals"] = json!(2);
        let pending = pending_approval(&rec, &[&by("alice"), &by("alice")]).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            describe_pending(&rec, &pending),
            "profile prod-safe by 1 more of alice, bob (2 distinct approvers needed)"
        );
        assert!(
            pending_approval(&rec, &[&by("alice"), &by("dave")])
                .unwrap()
                .len()
                == 1
        );
        assert!(
            pending_approval(&rec, &[&by("alice"), &by("bob")])
                .unwrap()
                .is_empty()
        );
    }

    /// A name bound to a key counts only with a signature; a distinct-approver profile
    /// with keys needs the check's actor proven too.
    #[test]
    fn bound_names_need_signatures() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOi/WSD+jPfGKfdYp0mkFT5HxJkPlx8+qlLssHcHnoLX alice@corp";
        let mut rec = record("escalate", false);
        rec["approvers"][0]["keys"] = json!({ "alice": key });
        let e = may_approve(&rec, &by("alice")).unwrap_err();
        assert!(
            e.contains("binds a key to alice, and the approval it is not signed"),
            "{e}"
        );
        let mut forged = by("alice");
        forged["ssh_signature"] =
            json!("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n");
        assert!(may_approve(&rec, &forged).is_err());
        assert_eq!(
            may_approve(&rec, &by("bob")),
            Ok(vec!["prod-safe".to_string()])
        );
        assert_eq!(pending_approval(&rec, &[&by("alice")]).unwrap().len(), 1);
        rec["approvers"][0]["require_distinct_approver"] = json!(true);
        let e = may_approve(&rec, &by("bob")).unwrap_err();
        assert!(
            e.contains(
                "the check's actor dave is not proven (profile prod-safe binds no key to dave)"
            ),
            "{e}"
        );
        assert!(pending_approval(&rec, &[&by("bob")]).is_err());
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
        let e = may_approve(&rec, &by("alice")).unwrap_err();
        assert!(
            e.starts_with("no one may approve c: no profile stands behind its escalation"),
            "{e}"
        );
        assert!(pending_approval(&rec, &[&by("alice")]).is_err());
        rec["changes"][2]["approval_profiles"] = json!(["prod-safe"]);
        assert_eq!(
            may_approve(&rec, &by("alice")),
            Ok(vec!["prod-safe".to_string()])
        );
        rec["changes"][2]
            .as_object_mut()
            .unwrap()
            .remove("approval_profiles");
        assert!(
            may_approve(&rec, &by("alice"))
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
        let rec = serde_json::to_value(check_record(&report, &model, Outcome::Escalate)).unwrap();
        assert_eq!(rec["ungoverned"], "escalate");
        assert_eq!(rec["model"]["digest"], model_digest(&model.spec));
        assert_eq!(
            rec["approvers"],
            json!([{ "profile": "prod-safe", "approvers": ["alice", "bob", "carol"], "require_distinct_approver": true, "groups": { "platform": ["bob", "carol"] } }])
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
        report.findings.push(crate::decide::report::Finding {
            message: "the plan is incomplete".into(),
            outcome: Outcome::Escalate,
            rule: "incomplete".into(),
            source: "profile:prod-safe".into(),
            waived_by: None,
        });
        report.recount();
        assert_eq!(report.verdict, Outcome::Escalate);
        let rec = serde_json::to_value(check_record(&report, &model, Outcome::Escalate)).unwrap();
        assert_eq!(rec["findings"][0]["rule"], "incomplete");
        assert_eq!(
            may_approve(&rec, &by("alice")),
            Ok(vec!["prod-safe".to_string()])
        );
        assert!(may_approve(&rec, &by("mallory")).is_err());
    }
}

/// The bodies plan-guard writes keep their shape: the records written for a report with
/// every kind of part (an escalated change with its surface, an allowed deposed one, a
/// contract section, a waived plan-level finding) equal the ones the `json!` builders of
/// the build before typed records wrote (`tests/fixtures/records/`), key for key and
/// value for value, so older readers and signatures see the same JSON.
#[cfg(test)]
mod shape_tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/records")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn model() -> Model {
        let spec = iom_model::load_str(
            "g.tf",
            r#"
resource "iom_profile" "p" {
  name      = "prod-safe"
  actions   = { create = "escalate" }
  approvers = ["alice", "group:platform"]
  groups    = { platform = ["bob", "carol"] }
  min_approvals = 2
  require_distinct_approver = true
}
resource "iom_intent" "i" {
  name    = "all"
  profile = "prod-safe"
  owner   = "team-payments"
}
"#,
        )
        .unwrap();
        Model::compile(spec).unwrap()
    }

    fn report() -> Report {
        let mut report = crate::testing::sample_report();
        report.changes[0].governed_by = vec!["all".into()];
        report.changes[0].findings[0].source = "profile:prod-safe".into();
        report.changes[0].accountable = vec![crate::decide::surface::Accountable {
            intent: "all".into(),
            owner: Some("team-payments".into()),
        }];
        let mut allowed = report.changes[0].clone();
        allowed.address = "aws_s3_bucket.logs".into();
        allowed.verdict = Outcome::Allow;
        allowed.deposed = Some("00000001".into());
        allowed.findings[0].outcome = Outcome::Allow;
        allowed.findings[0].waived_by = Some("w-logs".into());
        report.changes.push(allowed);
        report.findings.push(Finding {
            message: "the plan is incomplete".into(),
            outcome: Outcome::Warn,
            rule: "incomplete".into(),
            source: "model".into(),
            waived_by: None,
        });
        report.contracts = vec![serde_json::from_value(json!({
            "call": "module.payments",
            "changes": 1,
            "constraints": [{ "forbid_actions": ["delete"], "outcome": "block", "profile": "prod-safe" }],
            "contract": "payments",
            "digest": "cd".repeat(32),
            "inputs": [{ "checks": ["is a string"], "message": null, "name": "tier", "sensitive": false, "status": "passed", "value": "gold" }],
            "post_verify": [{ "expect_status": 200, "probe": "health", "retries": 2, "target": "http://127.0.0.1:9/health" }],
            "pre_conditions": [{ "check": "tier != ''", "checked": "tier", "message": null, "outcome": "block", "passed": true }],
        }))
        .unwrap()];
        report.recount();
        report
    }

    #[test]
    fn written_records_keep_the_shape_they_had() {
        let check = check_record(&report(), &model(), Outcome::Escalate);
        assert_eq!(serde_json::to_value(&check).unwrap(), fixture("check.json"));
        let approval = approval_record(&check, "pg-1", "bob", "reviewed");
        assert_eq!(
            serde_json::to_value(&approval).unwrap(),
            fixture("approval.json")
        );
        // And what is written reads back as the same record.
        let read: CheckRecord = serde_json::from_value(fixture("check.json")).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), fixture("check.json"));
    }
}
