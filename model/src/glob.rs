//! Globs over workspace names, resource types and resource addresses.
//!
//! Addresses contain instance keys such as `aws_instance.web[0]` or
//! `module.app["eu"]`, which a shell glob would read as character classes. A bracket
//! whose content is a number or a quoted string is therefore an instance key: its
//! brackets, digits and quotes match literally, while `*` and `?` inside a quoted key
//! stay wildcards (`["eu-*"]`), and `[*]` is any key of that resource or call. Any other
//! bracket is a character class as usual.
//!
//! Globs compiled with [`compile_instance_addresses`] (`critical`, element `matches`)
//! also read a module call step without a key as every instance of that call, as intent
//! scopes do: `module.app.x.y` matches `module.app[0].x.y` and `module.app["eu"].x.y`.

use globset::{GlobBuilder, GlobMatcher};
use std::collections::BTreeSet;

/// A compiled list of globs; an empty list matches nothing (callers decide what empty means).
#[derive(Debug, Clone, Default)]
pub struct GlobList {
    matchers: Vec<GlobMatcher>,
    /// Module calls a pattern names without a key, whose instances it covers.
    every_instance: KeylessCalls,
}

/// The module calls whose keyed instances a keyless pattern step covers.
#[derive(Debug, Clone, Default)]
struct KeylessCalls {
    names: BTreeSet<String>,
    /// A pattern names a call with a wildcard (`module.pay*.x`): any call may be one.
    any: bool,
}

/// Above this many keyed module steps that a keyless pattern step may stand for, only
/// the address with all of their keys removed is tried, not every combination.
const MAX_KEY_COMBINATIONS_BITS: usize = 8;

impl GlobList {
    /// Whether the list holds no pattern.
    pub fn is_empty(&self) -> bool {
        self.matchers.is_empty()
    }

    /// Whether any pattern matches `candidate`.
    pub fn is_match(&self, candidate: &str) -> bool {
        if self.matches_literally(candidate) {
            return true;
        }
        let keys = self.keys_covered_in(candidate);
        if keys.is_empty() {
            return false;
        }
        // Each keyed step may be the instance of a step a pattern names without a key:
        // try the address with the keys of every combination of those steps removed.
        if keys.len() > MAX_KEY_COMBINATIONS_BITS {
            return self.matches_literally(&without_keys(candidate, &keys, usize::MAX));
        }
        (1..1usize << keys.len())
            .any(|mask| self.matches_literally(&without_keys(candidate, &keys, mask)))
    }

    fn matches_literally(&self, candidate: &str) -> bool {
        self.matchers.iter().any(|m| m.is_match(candidate))
    }

    /// The byte ranges of the `[key]`s of `candidate`'s module steps whose call a pattern
    /// names without a key.
    fn keys_covered_in(&self, candidate: &str) -> Vec<(usize, usize)> {
        let calls = &self.every_instance;
        if !calls.any && calls.names.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut rest = candidate;
        while let Some((name, key, after)) = split_module_step(rest) {
            if let Some(key) = key
                && (calls.any || calls.names.contains(name))
            {
                let end = candidate.len() - after.len();
                out.push((end - key.len() - 2, end));
            }
            rest = after;
        }
        out
    }
}

/// `candidate` without the key ranges `keys` selected by the bits of `mask`.
fn without_keys(candidate: &str, keys: &[(usize, usize)], mask: usize) -> String {
    let mut out = String::with_capacity(candidate.len());
    let mut at = 0;
    for (i, &(start, end)) in keys.iter().enumerate() {
        if mask & (1 << i.min(usize::BITS as usize - 1)) != 0 {
            out.push_str(&candidate[at..start]);
            at = end;
        }
    }
    out.push_str(&candidate[at..]);
    out
}

/// Compiles plain globs (workspaces, resource types). Errors carry the index of the bad glob.
pub fn compile_plain(patterns: &[String]) -> Result<GlobList, (usize, String)> {
    compile_with(patterns, |p| p.to_string())
}

/// Compiles address globs, with instance-key brackets taken literally.
pub fn compile_addresses(patterns: &[String]) -> Result<GlobList, (usize, String)> {
    compile_with(patterns, escape_instance_keys)
}

/// Compiles address globs like [`compile_addresses`], in which a module call step
/// without a key (`module.app.`) also matches every instance of that call
/// (`module.app[0].`, `module.app["eu"].`), as intent scopes match module addresses.
pub fn compile_instance_addresses(patterns: &[String]) -> Result<GlobList, (usize, String)> {
    let mut list = compile_addresses(patterns)?;
    for p in patterns {
        keyless_calls(p, &mut list.every_instance);
    }
    Ok(list)
}

/// Adds the module calls `pattern` names without an instance key to `calls`.
fn keyless_calls(pattern: &str, calls: &mut KeylessCalls) {
    let mut from = 0;
    while let Some(found) = pattern[from..].find("module.") {
        let start = from + found;
        from = start + "module.".len();
        let starts_step = pattern[..start]
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, '.' | '*' | '{' | ',' | '}'));
        if !starts_step {
            continue;
        }
        let rest = &pattern[from..];
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if rest[end..].starts_with('[') && !name.contains(['*', '?', '{', '}', ',']) {
            continue; // the step names its instance
        }
        if name.is_empty() || name.contains(['*', '?', '[', ']', '{', '}', ',', '\\']) {
            calls.any = true;
        } else {
            calls.names.insert(name.to_string());
        }
    }
}

fn compile_with(
    patterns: &[String],
    prepare: impl Fn(&str) -> String,
) -> Result<GlobList, (usize, String)> {
    let mut matchers = Vec::with_capacity(patterns.len());
    for (i, p) in patterns.iter().enumerate() {
        if p.is_empty() {
            return Err((i, "empty glob: it would match nothing".to_string()));
        }
        matchers.push(
            build(&prepare(p)).map_err(|e| (i, format!("invalid glob `{p}`: {}", e.kind())))?,
        );
    }
    Ok(GlobList {
        matchers,
        every_instance: KeylessCalls::default(),
    })
}

fn build(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()?
        .compile_matcher())
}

/// Rewrites `[0]` and `["key"]` into escaped literal brackets.
fn escape_instance_keys(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if is_instance_key(&after[..close]) => {
                out.push_str("\\[");
                for c in after[..close].chars() {
                    if matches!(c, '[' | ']' | '{' | '}' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("\\]");
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_instance_key(inner: &str) -> bool {
    inner == "*"
        || (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
        || (inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"'))
}

/// Whether `address` lies under the module address `prefix`, step by step: a step
/// without an instance key covers every instance of that call (`module.a.module.b`
/// covers `module.a["k"].module.b[0].x.y`), a step with one only that instance (`[*]`
/// is every instance), and `module.a` does not cover `module.ab`.
pub fn module_prefix_matches(prefix: &str, address: &str) -> bool {
    let mut rest = address;
    let mut steps = prefix.trim_end_matches('.');
    if steps.is_empty() {
        return true;
    }
    while !steps.is_empty() {
        let Some((name, key, more)) = split_module_step(steps) else {
            return false;
        };
        let Some((at_name, at_key, after)) = split_module_step(rest) else {
            return false;
        };
        if name != at_name || key.is_some_and(|k| k != "*" && Some(k) != at_key) {
            return false;
        }
        steps = more.strip_prefix('.').unwrap_or(more);
        rest = after;
    }
    rest.is_empty() || rest.starts_with('.')
}

/// `module.NAME[KEY]` at the start of `text`: (name, key as written, the rest).
fn split_module_step(text: &str) -> Option<(&str, Option<&str>, &str)> {
    let text = text
        .strip_prefix('.')
        .unwrap_or(text)
        .strip_prefix("module.")?;
    let end = text.find(['.', '[']).unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    if !rest.starts_with('[') {
        return Some((name, None, rest));
    }
    // The key may be a quoted string holding `]`, `.` or escaped quotes.
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ']' if !in_string => return Some((name, Some(&rest[1..i]), &rest[i + 1..])),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn instance_keys_are_literal() {
        let g = compile_addresses(&list(&["aws_instance.web[0]", "module.app[\"eu\"].*"])).unwrap();
        assert!(g.is_match("aws_instance.web[0]"));
        assert!(!g.is_match("aws_instance.web0"));
        assert!(g.is_match("module.app[\"eu\"].aws_s3_bucket.b"));
        assert!(!g.is_match("module.app[\"us\"].aws_s3_bucket.b"));
    }

    #[test]
    fn wildcards_inside_instance_keys() {
        let g = compile_addresses(&list(&["terraform_data.fe[*]"])).unwrap();
        assert!(g.is_match("terraform_data.fe[\"k1\"]"));
        assert!(g.is_match("terraform_data.fe[0]"));
        assert!(!g.is_match("terraform_data.fe"));
        assert!(!g.is_match("terraform_data.fee[0]"));
        let g = compile_addresses(&list(&["terraform_data.fe[\"k*\"]"])).unwrap();
        assert!(g.is_match("terraform_data.fe[\"k1\"]"));
        assert!(!g.is_match("terraform_data.fe[\"j1\"]"));
        let g = compile_addresses(&list(&["module.mc[*].terraform_data.x[0]"])).unwrap();
        assert!(g.is_match("module.mc[1].terraform_data.x[0]"));
        assert!(!g.is_match("module.mc[1].terraform_data.x[1]"));
        assert!(module_prefix_matches(
            "module.mc[*]",
            "module.mc[1].terraform_data.x"
        ));
        assert!(!module_prefix_matches(
            "module.mc[*]",
            "module.md[1].terraform_data.x"
        ));
    }

    #[test]
    fn a_keyless_module_step_is_every_instance_of_the_call() {
        let critical =
            compile_instance_addresses(&list(&["module.payments.terraform_data.ledger_db*"]))
                .unwrap();
        for hit in [
            "module.payments.terraform_data.ledger_db[0]",
            "module.payments[0].terraform_data.ledger_db[0]",
            r#"module.payments["eu"].terraform_data.ledger_db"#,
        ] {
            assert!(critical.is_match(hit), "{hit}");
        }
        for miss in [
            "module.payment[0].terraform_data.ledger_db",
            "module.payments[0].module.x.terraform_data.ledger_db",
            "module.other[0].terraform_data.ledger_db",
        ] {
            assert!(!critical.is_match(miss), "{miss}");
        }
        // Plain address globs (waivers) still take a keyless step literally.
        let literal =
            compile_addresses(&list(&["module.payments.terraform_data.ledger_db*"])).unwrap();
        assert!(!literal.is_match("module.payments[0].terraform_data.ledger_db[0]"));
        // Nested calls: a keyed step keeps its key, a keyless one covers every instance.
        let g = compile_instance_addresses(&list(&[r#"module.a.module.b[0].x.y"#])).unwrap();
        assert!(g.is_match(r#"module.a["k.1"].module.b[0].x.y"#));
        assert!(g.is_match("module.a.module.b[0].x.y"));
        assert!(!g.is_match(r#"module.a["k"].module.b[1].x.y"#));
        let g = compile_instance_addresses(&list(&["module.a.module.b.x.y"])).unwrap();
        assert!(g.is_match(r#"module.a[2].module.b["z"].x.y"#));
        // A wildcard call name covers instances of whatever calls it matches.
        let g = compile_instance_addresses(&list(&["module.pay*.terraform_data.x"])).unwrap();
        assert!(g.is_match("module.pay[3].terraform_data.x"));
        assert!(g.is_match("module.payments[3].terraform_data.x"));
        // Deep nesting does not multiply the work beyond its bound.
        let deep = "module.a[0].".repeat(40) + "x.y";
        let g = compile_instance_addresses(&list(&["module.a.*"])).unwrap();
        assert!(g.is_match(&deep));
    }

    #[test]
    fn star_crosses_dots_and_keys() {
        let g = compile_addresses(&list(&["aws_db_instance.*"])).unwrap();
        assert!(g.is_match("aws_db_instance.main"));
        assert!(g.is_match("aws_db_instance.main[2]"));
        assert!(!g.is_match("module.x.aws_db_instance.main"));
        let g = compile_plain(&list(&["aws_*"])).unwrap();
        assert!(g.is_match("aws_s3_bucket"));
    }

    #[test]
    fn bad_globs_name_their_index() {
        let err = compile_plain(&list(&["ok", "aws_[s3"])).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.contains("aws_[s3"), "{}", err.1);
        assert!(compile_plain(&list(&[""])).is_err());
    }

    #[test]
    fn module_prefixes() {
        assert!(module_prefix_matches("module.a", "module.a.x.y"));
        assert!(module_prefix_matches("module.a", "module.a[\"k\"].x.y"));
        assert!(module_prefix_matches("module.a", "module.a.module.b.x.y"));
        assert!(!module_prefix_matches("module.a", "module.ab.x.y"));
        assert!(!module_prefix_matches("module.a", "x.y"));
        let nested = r#"module.region["eu-west-1"].module.cluster[1].terraform_data.x"#;
        assert!(module_prefix_matches(
            "module.region.module.cluster",
            nested
        ));
        assert!(module_prefix_matches(
            r#"module.region["eu-west-1"].module.cluster"#,
            nested
        ));
        assert!(module_prefix_matches(
            "module.region.module.cluster[1]",
            nested
        ));
        assert!(!module_prefix_matches(
            "module.region.module.cluster[0]",
            nested
        ));
        assert!(!module_prefix_matches(
            r#"module.region["us"].module.cluster"#,
            nested
        ));
        assert!(!module_prefix_matches(
            "module.region.module.clusters",
            nested
        ));
        assert!(module_prefix_matches(
            r#"module.m["a.b]"]"#,
            r#"module.m["a.b]"].x.y"#
        ));
        assert!(module_prefix_matches("", "x.y"));
    }
}
