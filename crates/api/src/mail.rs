//! The e-mail worker: sends the outbox (`plenum_store::notify`) over SMTP with `lettre`.
//!
//! Each due row is claimed first (`queued`/`failed` → `sending`, one conditional UPDATE), then
//! sent, then marked `sent` (or `failed` with the reason and the next attempt: exponential
//! backoff from `retry_base` up to `retry_max`; a permanent SMTP error is not retried). A row is
//! thus sent once by this node even if two workers ran. If Plenum stops between the mail
//! server's acceptance and the `sent` mark, the row goes again after the restart: over SMTP,
//! at-least-once is the best possible; every row carries its own Message-ID
//! (`<outbox-id@plenum>`), so a duplicate is recognisable.
//!
//! Without an SMTP host the worker does not run and the rows wait.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
pub use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use plenum_store::DatabaseConnection;
use plenum_store::notify;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network only).
    None,
    /// STARTTLS on the submission port (default port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, default port 465).
    Tls,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// The SMTP settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `Plenum Musterstadt <ratsinfo@musterstadt.example>`.
    pub from: String,
    /// The wait after the first failed attempt; doubled per attempt.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
}

/// The wait before the next attempt after `attempts` failed ones (1, 2, …).
pub fn backoff(config: &MailConfig, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    config
        .retry_base
        .saturating_mul(factor)
        .min(config.retry_max)
}

/// The running worker; stop it with [`MailWorker::stop`].
pub struct MailWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MailWorker {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn transport(config: &MailConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let params = || TlsParameters::new(config.host.clone()).map_err(|e| e.to_string());
    let tls = match config.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(params()?),
        SmtpTls::Tls => Tls::Wrapper(params()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
        .port(config.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(20)));
    if let Some(user) = &config.user {
        let password = config
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// The domain of the sender address, for Message-IDs.
fn sender_domain(from: &str) -> String {
    from.rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim().to_owned())
        .filter(|d| !d.is_empty() && !d.contains(' '))
        .unwrap_or_else(|| "plenum.invalid".to_owned())
}

/// Builds the message of an outbox row; an error is permanent (a bad address).
fn message(config: &MailConfig, mail: &notify::Mail) -> Result<Message, String> {
    Message::builder()
        .from(config.from.parse().map_err(|e| format!("sender: {e}"))?)
        .to(mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(mail.subject.clone())
        .message_id(Some(format!(
            "<outbox-{}@{}>",
            mail.id,
            sender_domain(&config.from)
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())
}

/// How often the worker queues again the e-mails of a node that stopped while sending (their
/// claim ran out; with several nodes no node need restart for that).
const RELEASE_EVERY: Duration = Duration::from_secs(60);

/// Starts the worker (none without an SMTP host: the queue waits). Rows left `sending` by a
/// stopped server are queued again once their claim ran out: at start, and every minute.
pub async fn start(
    db: DatabaseConnection,
    config: Option<MailConfig>,
    wake: Arc<Notify>,
) -> Option<MailWorker> {
    let config = config?;
    if let Err(err) = notify::release_claims(&db, Utc::now()).await {
        tracing::warn!(error = %err, "could not release e-mails left in sending");
    }
    let transport = match transport(&config) {
        Ok(t) => t,
        Err(err) => {
            tracing::error!(error = %err, "the SMTP settings are unusable; e-mails wait");
            return None;
        }
    };
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut released = tokio::time::Instant::now();
        loop {
            if released.elapsed() >= RELEASE_EVERY {
                released = tokio::time::Instant::now();
                match notify::release_claims(&db, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        count = n,
                        "e-mails whose sending node stopped are queued again"
                    ),
                    Err(err) => {
                        tracing::warn!(error = %err, "could not release e-mails left in sending")
                    }
                }
            }
            let sent_any = run_once(&db, &config, &transport, &stopped).await;
            if *stopped.borrow() {
                return;
            }
            if sent_any {
                continue;
            }
            let wait = match notify::next_due(&db).await {
                Ok(Some(due)) => (due - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(Duration::from_secs(30)),
                // (At most 30 s, so the release of stale claims above runs about every minute.)
                Ok(None) => Duration::from_secs(30),
                Err(_) => Duration::from_secs(5),
            };
            if wait.is_zero() {
                // Due now but claimed by someone else, or the database failed: don't spin.
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
    Some(MailWorker { stop, task })
}

/// Sends what is due now; whether anything was attempted.
async fn run_once(
    db: &DatabaseConnection,
    config: &MailConfig,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    stopped: &watch::Receiver<bool>,
) -> bool {
    let due = match notify::due_mail(db, Utc::now(), 50).await {
        Ok(due) => due,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the e-mail outbox");
            return false;
        }
    };
    let mut attempted = false;
    for id in due {
        // Stopping waits for at most the e-mail being sent (the SMTP timeout), not the batch.
        if *stopped.borrow() {
            break;
        }
        let mail = match notify::claim(db, id, Utc::now()).await {
            Ok(Some(mail)) => mail,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(error = %err, "cannot claim an e-mail");
                continue;
            }
        };
        attempted = true;
        let outcome = match message(config, &mail) {
            Err(err) => Err((err, true)),
            Ok(message) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|err| (err.to_string(), err.is_permanent())),
        };
        let marked = match outcome {
            Ok(()) => notify::mark_sent(db, mail.id, Utc::now()).await,
            Err((reason, permanent)) => {
                let attempts = mail.attempts + 1;
                let next = (!permanent).then(|| {
                    Utc::now()
                        + chrono::Duration::from_std(backoff(config, attempts))
                            .unwrap_or(chrono::Duration::hours(1))
                });
                tracing::info!(outbox = %mail.id, attempts, permanent, error = %reason, "e-mail not sent");
                notify::mark_failed(db, mail.id, &reason, next).await
            }
        };
        if let Err(err) = marked {
            // The row stays `sending` until its claim runs out; then it is queued again.
            tracing::error!(outbox = %mail.id, error = %err, "cannot record the e-mail's state");
        }
    }
    attempted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MailConfig {
        MailConfig {
            host: "localhost".into(),
            port: 25,
            tls: SmtpTls::None,
            user: None,
            password: None,
            from: "Plenum <ratsinfo@musterstadt.example>".into(),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let c = config();
        assert_eq!(backoff(&c, 1), Duration::from_secs(30));
        assert_eq!(backoff(&c, 2), Duration::from_secs(60));
        assert_eq!(backoff(&c, 4), Duration::from_secs(240));
        assert_eq!(backoff(&c, 40), Duration::from_secs(3600));
    }

    #[test]
    fn message_ids_use_the_sender_domain() {
        assert_eq!(sender_domain(&config().from), "musterstadt.example");
        assert_eq!(sender_domain("nobody"), "plenum.invalid");
    }
}
