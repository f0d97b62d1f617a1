//! The fetch stage: worker threads that send planned requests with their credentials,
//! through the transport's retries, sharing one [`Client`] (one secret cache, one OAuth2
//! token, one redactor). Requests go in through a bounded channel and each answer comes back
//! tagged with its request's `seq`, in whatever order the network answers; retries are
//! reported as they happen.

use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sluice_transport::{Auth, Client, Credential, Event, Response, TransportError};

use crate::bindings::Planned;
use crate::redact;
use crate::run::ResourceError;

/// Counters of one resource's requests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub requests: u64,
    pub retries: u64,
}

/// What comes back from the workers.
#[derive(Debug)]
pub enum Fetched {
    /// Request `seq` failed an attempt and is tried again after `wait`.
    Retry {
        seq: u64,
        attempt: u32,
        reason: String,
        wait: Duration,
        url: String,
    },
    /// The final answer to request `seq`.
    Done {
        seq: u64,
        result: Result<Response, TransportError>,
    },
}

/// Sends requests for the connector on `workers` threads.
#[derive(Debug)]
pub struct Fetcher {
    client: Arc<Client>,
    /// Secrets the config references; the connector may ask for no other.
    secrets: BTreeSet<String>,
    /// Auths already checked and prepared: once per session, not per request.
    prepared: Vec<Auth>,
    /// Patterns of the client's redactor the process-wide redactor has.
    redacting: usize,
    jobs: Option<SyncSender<Planned>>,
    answers: Receiver<Fetched>,
    workers: Vec<JoinHandle<()>>,
}

impl Fetcher {
    /// Starts `workers` threads (at least one) sending through `client`, which other fetch
    /// stages may share (one connection pool, one OAuth2 token).
    pub fn start(
        client: Arc<Client>,
        secrets: BTreeSet<String>,
        workers: usize,
    ) -> std::io::Result<Fetcher> {
        let workers = workers.max(1);
        let (jobs, queue) = sync_channel::<Planned>(workers);
        let (done, answers) = sync_channel(workers * 4);
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(workers);
        for n in 0..workers {
            let (client, queue, done) = (Arc::clone(&client), Arc::clone(&queue), done.clone());
            let thread = std::thread::Builder::new()
                .name(format!("sluice-fetch-{n}"))
                .spawn(move || work(&client, &queue, &done))?;
            threads.push(thread);
        }
        Ok(Fetcher {
            client,
            secrets,
            prepared: Vec::new(),
            redacting: 0,
            jobs: Some(jobs),
            answers,
            workers: threads,
        })
    }

    /// How many requests can be in flight at once.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Checks `planned`'s credentials (once per auth) and hands it to a worker.
    pub(crate) fn submit(&mut self, planned: Planned) -> Result<(), ResourceError> {
        if let Some(auth) = &planned.request.auth
            && !self.prepared.contains(auth)
        {
            self.check_secrets(auth)?;
            self.client.prepare(auth)?;
            self.prepared.push(auth.clone());
            self.remember_secrets();
        }
        let jobs = self.jobs.as_ref().ok_or(ResourceError::FetchStopped)?;
        jobs.send(planned).map_err(|_| ResourceError::FetchStopped)
    }

    /// The next answer of a worker.
    pub(crate) fn next(&mut self) -> Result<Fetched, ResourceError> {
        let fetched = self
            .answers
            .recv()
            .map_err(|_| ResourceError::FetchStopped)?;
        // An OAuth2 token fetched while sending joins the process-wide redactor.
        self.remember_secrets();
        Ok(fetched)
    }

    fn remember_secrets(&mut self) {
        let redactor = self.client.redactor();
        if redactor.len() != self.redacting {
            self.redacting = redactor.len();
            redact::remember(&redactor);
        }
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

impl Drop for Fetcher {
    fn drop(&mut self) {
        drop(self.jobs.take());
        // Workers finish the request in hand and end; answers nobody reads are dropped. The
        // channel disconnects once the last worker (the last sender) is gone.
        while self.answers.recv().is_ok() {}
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn work(client: &Client, queue: &Mutex<Receiver<Planned>>, done: &SyncSender<Fetched>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(planned) = job else {
            return;
        };
        let seq = planned.seq;
        let result = client.send(&planned.request, &mut |event| match event {
            Event::Retry {
                attempt,
                reason,
                wait,
                url,
                ..
            } => {
                let _ = done.send(Fetched::Retry {
                    seq,
                    attempt,
                    reason,
                    wait,
                    url: url.to_string(),
                });
            }
        });
        if done.send(Fetched::Done { seq, result }).is_err() {
            return;
        }
    }
}
