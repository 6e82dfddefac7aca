//! The listening socket and the connections it yields. Unix platforms use a
//! unix domain socket, as go-plugin does (only reachable by the local user);
//! elsewhere, TCP on 127.0.0.1 within the port range Terraform allows.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

use crate::handshake::{Address, HandshakeEnv};

/// A bound listener; on unix it removes its socket file when dropped.
pub(crate) struct Listener {
    inner: Inner,
    address: Address,
}

enum Inner {
    #[cfg(unix)]
    Unix(tokio::net::UnixListener),
    // Constructed on non-unix platforms (and by the tests).
    #[cfg_attr(unix, allow(dead_code))]
    Tcp(TcpListener),
}

impl Listener {
    /// Binds the platform's default transport.
    pub(crate) fn bind(env: &HandshakeEnv) -> io::Result<Listener> {
        #[cfg(unix)]
        {
            Listener::bind_unix(env)
        }
        #[cfg(not(unix))]
        {
            Listener::bind_tcp(env)
        }
    }

    #[cfg_attr(unix, allow(dead_code))]
    pub(crate) fn bind_tcp(env: &HandshakeEnv) -> io::Result<Listener> {
        let (min, max) = env
            .port_range()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut last_error = None;
        for port in min..=max {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => {
                    listener.set_nonblocking(true)?;
                    let address = Address::Tcp(listener.local_addr()?);
                    let inner = Inner::Tcp(TcpListener::from_std(listener)?);
                    return Ok(Listener { inner, address });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no port in range")))
    }

    #[cfg(unix)]
    fn bind_unix(env: &HandshakeEnv) -> io::Result<Listener> {
        let dir = env
            .unix_socket_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        // A name nobody else is using: try a few random ones.
        let mut attempt = 0;
        let (listener, path) = loop {
            let path = dir.join(format!("plugin{}", random_suffix()));
            match tokio::net::UnixListener::bind(&path) {
                Ok(listener) => break (listener, path),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempt < 8 => attempt += 1,
                Err(e) => return Err(e),
            }
        };
        let listener = Listener {
            inner: Inner::Unix(listener),
            address: Address::Unix(path.clone()),
        };
        if let Some(group) = &env.unix_socket_group {
            hand_to_group(&path, group)?;
        }
        Ok(listener)
    }

    pub(crate) fn address(&self) -> &Address {
        &self.address
    }

    pub(crate) async fn accept(&self) -> io::Result<Stream> {
        match &self.inner {
            #[cfg(unix)]
            Inner::Unix(l) => Ok(Stream(Box::pin(l.accept().await?.0))),
            Inner::Tcp(l) => {
                let (stream, _) = l.accept().await?;
                // gRPC messages are small and latency-bound.
                stream.set_nodelay(true)?;
                Ok(Stream(Box::pin(stream)))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Address::Unix(path) = &self.address {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Lets the named group (or numeric gid) use the socket, as go-plugin does
/// for hosts that run plugins as another user.
#[cfg(unix)]
fn hand_to_group(path: &std::path::Path, group: &str) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let gid = match group.parse::<u32>() {
        Ok(gid) => gid,
        Err(_) => lookup_group(group)?,
    };
    std::os::unix::fs::chown(path, None, Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
}

#[cfg(unix)]
fn lookup_group(name: &str) -> io::Result<u32> {
    let groups = std::fs::read_to_string("/etc/group")?;
    groups
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let group = fields.next()?;
            let gid = fields.nth(1)?.parse().ok()?;
            (group == name).then_some(gid)
        })
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no group {name:?}")))
}

fn random_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per process; mixing in the pid and
    // time keeps names distinct between calls too.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish() % 1_000_000_000
}

/// Any accepted connection, plain or TLS, as one type tonic can serve.
pub(crate) struct Stream(Pin<Box<dyn Io>>);

pub(crate) trait Io: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Io for T {}

impl Stream {
    pub(crate) fn new(io: impl Io + 'static) -> Stream {
        Stream(Box::pin(io))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for Stream {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tcp_binds_inside_the_range() {
        let env = HandshakeEnv {
            min_port: Some("0".into()),
            ..HandshakeEnv::default()
        };
        let listener = Listener::bind_tcp(&env).unwrap();
        let Address::Tcp(addr) = listener.address().clone() else {
            panic!("not tcp")
        };
        assert!(addr.ip().is_loopback());
        let port = addr.port();
        drop(listener);
        let pinned = HandshakeEnv {
            min_port: Some(port.to_string()),
            max_port: Some(port.to_string()),
            ..HandshakeEnv::default()
        };
        let again = Listener::bind_tcp(&pinned).unwrap();
        assert_eq!(again.address(), &Address::Tcp(addr));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn unix_socket_lives_in_the_given_dir_and_is_removed() {
        let dir = std::env::temp_dir().join(format!("tfplugin-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let env = HandshakeEnv {
            unix_socket_dir: Some(dir.clone()),
            ..HandshakeEnv::default()
        };
        let listener = Listener::bind(&env).unwrap();
        let Address::Unix(path) = listener.address().clone() else {
            panic!("not unix")
        };
        assert_eq!(path.parent(), Some(dir.as_path()));
        assert!(path.exists());
        drop(listener);
        assert!(!path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
