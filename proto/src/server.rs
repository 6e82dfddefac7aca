//! `serve`: the lifetime of a provider process, from Terraform starting it
//! to Terraform shutting it down.

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;

use crate::goplugin::{Broker, Controller, Shutdown, Stdio};
use crate::grpc::{ProviderService, Schemas};
use crate::handshake::{self, HandshakeEnv};
use crate::provider::Provider;
use crate::tls::{self, AutoTls};
use crate::transport::{Listener, Stream};
use crate::wire::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use crate::wire::tfplugin6::provider_server::ProviderServer;

/// Terraform's own limit for plugin messages; large schemas and states need it.
const MAX_MESSAGE_SIZE: usize = 64 << 20;
/// A connection that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve; [`ServeOptions::from_env`] is what Terraform expects.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The go-plugin handshake variables.
    pub env: HandshakeEnv,
    /// After shutdown is requested, how long in-flight calls may still run.
    pub grace: Duration,
}

impl ServeOptions {
    /// Options from this process's environment, as Terraform sets it.
    pub fn from_env() -> Self {
        ServeOptions {
            env: HandshakeEnv::from_env(),
            grace: Duration::from_secs(5),
        }
    }
}

/// Why the server could not serve.
#[derive(Debug)]
pub enum ServeError {
    /// The magic cookie is missing: someone ran the binary by hand.
    NotLaunchedByTerraform,
    /// TLS could not be set up.
    Tls(String),
    /// The listener could not be made.
    Io(std::io::Error),
    /// gRPC serving failed.
    Serve(tonic::transport::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::NotLaunchedByTerraform => f.write_str(handshake::NOT_LAUNCHED_BY_TERRAFORM),
            ServeError::Tls(e) => write!(f, "cannot set up TLS for the plugin connection: {e}"),
            ServeError::Io(e) => write!(f, "cannot serve the plugin connection: {e}"),
            ServeError::Serve(e) => write!(f, "plugin server failed: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Serves `provider` to the Terraform that started this process, until it
/// shuts the provider down. For `main`: on failure (including being run by
/// hand) it prints why on stderr and exits with status 1.
pub async fn serve<P: Provider>(provider: P) {
    if let Err(e) = try_serve(provider, ServeOptions::from_env()).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

/// [`serve`], returning errors instead of exiting.
pub async fn try_serve<P: Provider>(provider: P, options: ServeOptions) -> Result<(), ServeError> {
    let env = options.env;
    if !env.launched_by_terraform() {
        return Err(ServeError::NotLaunchedByTerraform);
    }
    crate::log::init_from_env();
    if !env.client_speaks_protocol_6() {
        // Answer with 6 anyway: the client then names the mismatch itself.
        tracing::warn!(
            offered = env.protocol_versions.as_deref().unwrap_or_default(),
            "this provider speaks plugin protocol 6 only"
        );
    }
    let tls = env
        .client_cert
        .as_deref()
        .map(tls::auto_mtls)
        .transpose()
        .map_err(ServeError::Tls)?;
    let listener = Listener::bind(&env).map_err(ServeError::Io)?;

    let schemas = Arc::new(Schemas::new(&provider.schema()));
    let shutdown = Shutdown::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    // go-plugin's client checks this name before using the plugin.
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = ProviderServer::new(ProviderService::new(Arc::new(provider), schemas))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let router = Server::builder()
        .add_service(provider_service)
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller(shutdown.clone())))
        .add_service(GrpcStdioServer::new(Stdio(shutdown.clone())))
        .add_service(GrpcBrokerServer::new(Broker(shutdown.clone())));

    // The handshake line must be the first thing on stdout, and only
    // once the socket accepts connections.
    let line = handshake::handshake_line(
        listener.address(),
        tls.as_ref().map(|t| t.server_cert.as_slice()),
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(ServeError::Io)?;
    drop(stdout);

    watch_signals(shutdown.clone());
    let (connections, incoming) = mpsc::channel(16);
    let acceptor = tokio::spawn(accept_loop(listener, tls, connections, shutdown.clone()));

    let serving =
        router.serve_with_incoming_shutdown(ReceiverStream::new(incoming), shutdown.triggered());
    tokio::pin!(serving);
    let result = tokio::select! {
        result = &mut serving => result.map_err(ServeError::Serve),
        () = shutdown.triggered() => {
            match tokio::time::timeout(options.grace, &mut serving).await {
                Ok(result) => result.map_err(ServeError::Serve),
                // Calls still running past the grace period are abandoned.
                Err(_) => Ok(()),
            }
        }
    };
    shutdown.trigger();
    // The accept loop owns the listener; its end removes the socket file.
    let _ = acceptor.await;
    result
}

/// Accepts connections until shutdown, completing TLS handshakes off the
/// accept path so one slow client cannot hold up the rest.
async fn accept_loop(
    listener: Listener,
    tls: Option<AutoTls>,
    connections: mpsc::Sender<std::io::Result<Stream>>,
    shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.triggered() => return,
        };
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => {
                tracing::error!(error = %e, "accepting a plugin connection failed");
                // Usually a full file table: pause rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match &tls {
            None => {
                if connections.send(Ok(stream)).await.is_err() {
                    return;
                }
            }
            Some(tls) => {
                let acceptor = tls.acceptor.clone();
                let connections = connections.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls_stream)) => {
                            let _ = connections.send(Ok(Stream::new(tls_stream))).await;
                        }
                        Ok(Err(e)) => tracing::error!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::error!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// SIGTERM stops the server gracefully. SIGINT is ignored, as go-plugin
/// plugins do: a Ctrl-C in the terminal reaches the whole process group, and
/// Terraform handles it by asking providers to stop their work (StopProvider)
/// and saving state. Dying at once would lose the results of calls in flight.
fn watch_signals(shutdown: Shutdown) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut interrupts) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move { while interrupts.recv().await.is_some() {} });
        }
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::spawn(async move {
                if terminate.recv().await.is_some() {
                    shutdown.trigger();
                }
            });
        }
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            // Windows delivers Ctrl-C to the console group likewise: ignore it.
            while tokio::signal::ctrl_c().await.is_ok() {}
            drop(shutdown);
        });
    }
}
