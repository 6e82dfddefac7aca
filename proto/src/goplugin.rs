//! go-plugin's side services: the controller Terraform uses to end the
//! process, the stdio stream it opens on start, and the connection broker it
//! starts on every plugin. A provider needs none of their features, but
//! Terraform's client calls them, so they answer properly instead of failing.

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::wire::plugin::{
    ConnInfo, Empty, StdioData, grpc_broker_server::GrpcBroker,
    grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};

/// Tells every part of the server that it is time to stop.
#[derive(Clone)]
pub(crate) struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    pub(crate) fn new() -> Self {
        Shutdown(watch::channel(false).0)
    }

    pub(crate) fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Resolves once shutdown has been triggered.
    pub(crate) async fn triggered(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

pub(crate) struct Controller(pub(crate) Shutdown);

#[tonic::async_trait]
impl GrpcController for Controller {
    /// Terraform calls this when it is done with the provider. The answer
    /// goes out before the server drains and stops.
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.0.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// A stream that sends nothing and ends at shutdown or when the client goes.
fn silent_stream<T: Send + 'static>(shutdown: &Shutdown) -> ReceiverStream<Result<T, Status>> {
    let (tx, rx) = mpsc::channel(1);
    let shutdown = shutdown.clone();
    // The sender is held, unused, until one of the two happens; dropping it
    // ends the stream (graceful shutdown would otherwise wait on it forever).
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.triggered() => {}
            _ = tx.closed() => {}
        }
    });
    ReceiverStream::new(rx)
}

/// The provider writes its logs to stderr, which Terraform already reads
/// directly, so there is nothing to forward over this stream.
pub(crate) struct Stdio(pub(crate) Shutdown);

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<StdioData, Status>>;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(silent_stream(&self.0)))
    }
}

/// Accepts the broker stream and ignores what comes in: providers never
/// ask the host for extra connections, and the host never offers any to them.
pub(crate) struct Broker(pub(crate) Shutdown);

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = ReceiverStream<Result<ConnInfo, Status>>;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        // Keep reading so that the client's sends never stall.
        tokio::spawn(async move { while let Ok(Some(_)) = inbound.message().await {} });
        Ok(Response::new(silent_stream(&self.0)))
    }
}
