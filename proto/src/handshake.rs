//! The go-plugin handshake: how Terraform (and OpenTofu) start a provider.
//!
//! Terraform runs the provider binary with a few environment variables set
//! and reads exactly one line from its stdout:
//!
//! ```text
//! CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT
//! 1|6|unix|/tmp/plugin123|grpc|MIIB...
//! ```
//!
//! after which it speaks gRPC to that address. Everything here is the
//! environment side of that exchange; nothing touches the network.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;

/// Terraform sets this variable to [`MAGIC_COOKIE_VALUE`] for its plugins.
/// It is not a secret: it only tells a plugin it was started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform sets [`MAGIC_COOKIE_KEY`] to.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Version of go-plugin's own handshake (the line format).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this server speaks.
pub const PROTOCOL_VERSION: u32 = 6;

/// What a person sees when running the provider binary by hand.
pub const NOT_LAUNCHED_BY_TERRAFORM: &str = "\
This binary is a Terraform provider plugin (plugin protocol 6). It is not meant
to be run directly: Terraform or OpenTofu start it themselves when a
configuration uses the provider. To try a local build, point a dev_overrides
entry in a CLI configuration file (TF_CLI_CONFIG_FILE) at the directory that
holds this binary, then run terraform plan.";

/// The handshake environment, read once at start-up.
#[derive(Clone, Debug, Default)]
pub struct HandshakeEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`: set when Terraform started the plugin.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`: the versions the client can speak, e.g. "5,6".
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT`: the client's certificate (PEM) when it wants mTLS.
    pub client_cert: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`: where to create the socket.
    pub unix_socket_dir: Option<PathBuf>,
    /// `PLUGIN_UNIX_SOCKET_GROUP`: group (name or id) to hand the socket to.
    pub unix_socket_group: Option<String>,
    /// `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT`: the TCP port range, when TCP is used.
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`: the top of that range.
    pub max_port: Option<String>,
}

impl HandshakeEnv {
    /// The handshake variables of this process's environment.
    pub fn from_env() -> Self {
        HandshakeEnv::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the variables through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| lookup(key).filter(|v| !v.is_empty());
        HandshakeEnv {
            magic_cookie: get(MAGIC_COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert: get("PLUGIN_CLIENT_CERT"),
            unix_socket_dir: get("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
            unix_socket_group: get("PLUGIN_UNIX_SOCKET_GROUP"),
            min_port: get("PLUGIN_MIN_PORT"),
            max_port: get("PLUGIN_MAX_PORT"),
        }
    }

    /// Whether the magic cookie says Terraform started this process.
    pub fn launched_by_terraform(&self) -> bool {
        self.magic_cookie.as_deref() == Some(MAGIC_COOKIE_VALUE)
    }

    /// Whether the client listed protocol 6. Either way the server answers
    /// with 6, as go-plugin does: a client without it then reports the
    /// mismatch itself, naming both sides' versions. A client that sent no
    /// list predates version negotiation and is answered the same way.
    pub fn client_speaks_protocol_6(&self) -> bool {
        match &self.protocol_versions {
            None => true,
            Some(list) => list
                .split(',')
                .any(|v| v.trim().parse() == Ok(PROTOCOL_VERSION)),
        }
    }

    /// The TCP port range to try, from the environment (0..=0: any free port).
    pub fn port_range(&self) -> Result<(u16, u16), String> {
        let parse = |name: &str, value: &Option<String>| -> Result<u16, String> {
            value.as_deref().map_or(Ok(0), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{name} is not a port number: {v:?}"))
            })
        };
        let min = parse("PLUGIN_MIN_PORT", &self.min_port)?;
        let max = parse("PLUGIN_MAX_PORT", &self.max_port)?;
        match (min, max) {
            (0, 0) => Ok((0, 0)),
            (min, 0) => Ok((min, u16::MAX)),
            (min, max) if min > max => Err(format!(
                "PLUGIN_MIN_PORT ({min}) is greater than PLUGIN_MAX_PORT ({max})"
            )),
            range => Ok(range),
        }
    }
}

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A Unix socket at this path.
    Unix(PathBuf),
    /// A TCP address on loopback.
    Tcp(SocketAddr),
}

/// The one line Terraform reads from stdout (without the newline).
/// `server_cert` is the DER of the server's certificate under AutoMTLS:
/// it goes out as unpadded standard base64, since the line cannot hold PEM.
pub fn handshake_line(address: &Address, server_cert: Option<&[u8]>) -> String {
    let (network, addr) = match address {
        Address::Unix(path) => ("unix", path.display().to_string()),
        Address::Tcp(addr) => ("tcp", addr.to_string()),
    };
    let cert = server_cert
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{addr}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> HandshakeEnv {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HandshakeEnv::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn unix_line_without_tls() {
        let line = handshake_line(&Address::Unix("/tmp/plugin42".into()), None);
        assert_eq!(line, "1|6|unix|/tmp/plugin42|grpc|");
    }

    #[test]
    fn tcp_line_with_certificate_in_unpadded_base64() {
        let addr: SocketAddr = "127.0.0.1:10001".parse().unwrap();
        // Four bytes would need "==" padding in standard base64.
        let line = handshake_line(&Address::Tcp(addr), Some(&[0xfb, 0xff, 0x00, 0x01]));
        assert_eq!(line, "1|6|tcp|127.0.0.1:10001|grpc|+/8AAQ");
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(!env(&[]).launched_by_terraform());
        assert!(!env(&[(MAGIC_COOKIE_KEY, "nope")]).launched_by_terraform());
        assert!(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)]).launched_by_terraform());
    }

    #[test]
    fn protocol_negotiation() {
        assert!(env(&[("PLUGIN_PROTOCOL_VERSIONS", "5,6")]).client_speaks_protocol_6());
        assert!(env(&[("PLUGIN_PROTOCOL_VERSIONS", "6")]).client_speaks_protocol_6());
        assert!(!env(&[("PLUGIN_PROTOCOL_VERSIONS", "4,5")]).client_speaks_protocol_6());
        assert!(env(&[]).client_speaks_protocol_6());
    }

    #[test]
    fn port_ranges() {
        assert_eq!(env(&[]).port_range(), Ok((0, 0)));
        let r = env(&[("PLUGIN_MIN_PORT", "10000"), ("PLUGIN_MAX_PORT", "25000")]);
        assert_eq!(r.port_range(), Ok((10000, 25000)));
        let bad = env(&[("PLUGIN_MIN_PORT", "9"), ("PLUGIN_MAX_PORT", "8")]);
        assert!(bad.port_range().is_err());
        assert!(env(&[("PLUGIN_MIN_PORT", "x")]).port_range().is_err());
    }
}
