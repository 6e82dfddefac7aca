//! Globs over workspace names, resource types and resource addresses.
//!
//! Addresses contain instance keys such as `aws_instance.web[0]` or
//! `module.app["eu"]`, which a shell glob would read as character classes. A bracket
//! whose content is a number or a quoted string is therefore an instance key: its
//! brackets, digits and quotes match literally, while `*` and `?` inside a quoted key
//! stay wildcards (`["eu-*"]`), and `[*]` is any key of that resource or call. Any other
//! bracket is a character class as usual.

use globset::{GlobBuilder, GlobMatcher};

/// A compiled list of globs; an empty list matches nothing (callers decide what empty means).
#[derive(Debug, Clone, Default)]
pub struct GlobList {
    matchers: Vec<GlobMatcher>,
}

impl GlobList {
    pub fn is_empty(&self) -> bool {
        self.matchers.is_empty()
    }

    pub fn is_match(&self, candidate: &str) -> bool {
        self.matchers.iter().any(|m| m.is_match(candidate))
    }
}

/// Compiles plain globs (workspaces, resource types). Errors carry the index of the bad glob.
pub fn compile_plain(patterns: &[String]) -> Result<GlobList, (usize, String)> {
    compile_with(patterns, |p| p.to_string())
}

/// Compiles address globs, with instance-key brackets taken literally.
pub fn compile_addresses(patterns: &[String]) -> Result<GlobList, (usize, String)> {
    compile_with(patterns, escape_instance_keys)
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
    Ok(GlobList { matchers })
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
