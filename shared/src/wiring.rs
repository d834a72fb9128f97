//! Building a [`Chat`] and a token verifier from configuration: the one place
//! a function's `main` turns environment variables into adapters.

use std::sync::Arc;

use crate::auth::{Hs256Verifier, TokenVerifier};
use crate::config::{AuthConfig, Backend, ConfigError, Limits, Source};
use crate::service::Chat;

/// The ports for the configured backend.
pub fn chat(src: &dyn Source) -> Result<Chat, ConfigError> {
    let limits = Limits::from_source(src)?;
    match Backend::from_source(src)? {
        Backend::Memory => {
            tracing::warn!("CHAT_BACKEND=memory: state lives in this process only");
            Ok(Chat::in_memory(limits).0)
        }
    }
}

/// The token verifier for the configured identity provider.
pub fn verifier(src: &dyn Source) -> Result<Arc<dyn TokenVerifier>, ConfigError> {
    let auth = AuthConfig::from_source(src)?;
    Ok(Arc::new(Hs256Verifier::new(
        auth.jwt_secret.expose().as_bytes(),
        auth.issuer.as_deref(),
        auth.audience.as_deref(),
    )))
}
