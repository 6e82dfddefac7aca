//! Terraform addresses, split into their parts: `module.a["k"].module.b[0].aws_x.y[2]`
//! is the module instance path `a["k"]`, `b[0]`, the resource `aws_x.y` and key `2`.

/// One dotted step with its optional `[key]`, key text kept as written (`0`, `"k"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The step's name: `module`, a call's name, a type or a resource name.
    pub name: String,
    /// The `[key]` after it, as written (`0`, `"k"`).
    pub key: Option<String>,
}

/// Splits an address or reference into segments; `None` when brackets or quotes do not close.
pub fn segments(text: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut name = String::new();
    let mut key: Option<String> = None;
    while let Some((_, c)) = chars.next() {
        match c {
            '.' => {
                out.push(Segment {
                    name: std::mem::take(&mut name),
                    key: key.take(),
                });
            }
            '[' => {
                let mut k = String::new();
                let mut in_string = false;
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' if in_string => {
                            k.push(c);
                            if let Some((_, n)) = chars.next() {
                                k.push(n);
                            }
                        }
                        '"' => {
                            in_string = !in_string;
                            k.push(c);
                        }
                        ']' if !in_string => {
                            closed = true;
                            break;
                        }
                        _ => k.push(c),
                    }
                }
                if !closed {
                    return None;
                }
                // `a[0][1]` never occurs in resource addresses; keep the last key.
                key = Some(k);
            }
            _ => name.push(c),
        }
    }
    out.push(Segment { name, key });
    Some(out)
}

/// A resource instance address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceAddress {
    /// Module calls from the root, each with its instance key.
    pub modules: Vec<Segment>,
    /// `aws_x.y` or `data.aws_x.y`.
    pub resource: String,
    /// The instance key, as written.
    pub key: Option<String>,
}

impl InstanceAddress {
    // `segs[i]` and `segs[i + 1]` are behind `i + 1 < segs.len()`, and `i <= segs.len()`.
    /// Parses an instance address; `None` when it is not one.
    #[allow(clippy::indexing_slicing)]
    pub fn parse(address: &str) -> Option<InstanceAddress> {
        let segs = segments(address)?;
        let mut modules = Vec::new();
        let mut i = 0;
        while i + 1 < segs.len() && segs[i].name == "module" && segs[i].key.is_none() {
            modules.push(segs[i + 1].clone());
            i += 2;
        }
        let rest = &segs[i..];
        let (resource, key) = match rest {
            [t, n] if t.key.is_none() => (format!("{}.{}", t.name, n.name), n.key.clone()),
            [d, t, n] if d.name == "data" && d.key.is_none() && t.key.is_none() => {
                (format!("data.{}.{}", t.name, n.name), n.key.clone())
            }
            _ => return None,
        };
        Some(InstanceAddress {
            modules,
            resource,
            key,
        })
    }

    /// The address without any instance keys: the configuration block it comes from.
    pub fn config_address(&self) -> String {
        let mut s = String::new();
        for m in &self.modules {
            s.push_str("module.");
            s.push_str(&m.name);
            s.push('.');
        }
        s.push_str(&self.resource);
        s
    }

    /// The module instance address (`module.a["k"].module.b`), empty for the root.
    pub fn module_address(&self) -> String {
        let mut parts = Vec::with_capacity(self.modules.len());
        for m in &self.modules {
            match &m.key {
                Some(k) => parts.push(format!("module.{}[{k}]", m.name)),
                None => parts.push(format!("module.{}", m.name)),
            }
        }
        parts.join(".")
    }

    /// The names of the module calls from the root.
    pub fn module_names(&self) -> Vec<String> {
        self.modules.iter().map(|m| m.name.clone()).collect()
    }
}

/// Module names of a configuration address (`module.a.module.b.x.y` is `[a, b]`).
pub fn config_module_names(config_address: &str) -> Vec<String> {
    InstanceAddress::parse(config_address)
        .map(|a| a.module_names())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_instances() {
        let a = InstanceAddress::parse(r#"module.a["k.1"].module.b[0].aws_x.y[2]"#).unwrap();
        assert_eq!(a.resource, "aws_x.y");
        assert_eq!(a.key.as_deref(), Some("2"));
        assert_eq!(a.config_address(), "module.a.module.b.aws_x.y");
        assert_eq!(a.module_address(), r#"module.a["k.1"].module.b[0]"#);
        let d = InstanceAddress::parse("data.aws_ami.x").unwrap();
        assert_eq!(d.config_address(), "data.aws_ami.x");
        assert!(InstanceAddress::parse("aws_x").is_none());
        assert!(InstanceAddress::parse("aws_x.y[\"open").is_none());
    }

    #[test]
    fn splits_references() {
        let s = segments(r#"module.m["a]b"].out"#).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].key.as_deref(), Some(r#""a]b""#));
    }
}
