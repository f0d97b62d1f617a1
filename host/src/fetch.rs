//! The fetch stage: sends a planned request with its credentials, through the transport's
//! retries, after checking the connector asks only for secrets the config references.

use std::collections::BTreeSet;

use sluice_transport::{Auth, Client, Credential, Event, Response};

use crate::bindings::Planned;
use crate::progress::Progress;
use crate::redact;
use crate::run::ResourceError;

/// Counters of one resource's requests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub requests: u64,
    pub retries: u64,
}

/// Sends requests for the connector.
#[derive(Debug)]
pub struct Fetcher {
    pub client: Client,
    /// Secrets the config references; the connector may ask for no other.
    pub secrets: BTreeSet<String>,
}

impl Fetcher {
    /// Sends `planned` (a request of `resource`) and returns the final response.
    pub(crate) fn send(
        &mut self,
        resource: &str,
        planned: &Planned,
        sent: &mut Sent,
        progress: &mut dyn Progress,
    ) -> Result<Response, ResourceError> {
        if let Some(auth) = &planned.request.auth {
            self.check_secrets(auth)?;
            self.client.prepare(auth)?;
            redact::remember(self.client.redactor());
        }
        let retries = &mut sent.retries;
        let result = self
            .client
            .send(&planned.request, &mut |event| match event {
                Event::Retry {
                    attempt,
                    reason,
                    wait,
                    url,
                } => {
                    *retries += 1;
                    progress.retry(resource, attempt, &reason, wait, url);
                }
            });
        // An OAuth2 token fetched while sending joins the process-wide redactor.
        redact::remember(self.client.redactor());
        let response = result?;
        sent.requests += 1;
        Ok(response)
    }

    fn check_secrets(&self, auth: &Auth) -> Result<(), ResourceError> {
        for c in auth.credentials() {
            if let Credential::Secret(name) = c
                && !self.secrets.contains(name)
            {
                return Err(ResourceError::UnreferencedSecret(name.clone()));
            }
        }
        Ok(())
    }
}
