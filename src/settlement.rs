//! What happens once an answer's usage is known (at once for a body, at the
//! end of a stream): its tokens count towards the deployment's `tpm` and
//! the caller's rate limits, the budget reservation is settled at the real
//! cost (alerts for thresholds crossed), and the spend record is queued.
//! Nothing here waits: counters in memory and a bounded queue.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderName, HeaderValue};

use crate::alerts::{AlertContext, Alerter};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::audit::{Attempt, AuditEntry, AuditKind, AuditWriter};
use crate::config::Deployment;
use crate::enforce::guardrails::note_answer;
use crate::enforce::{Enforcer, Pass};
use crate::guardrails::answer::Findings;
use crate::metering::Metered;
use crate::pipeline::{Attempted, Meta};
use crate::router::state::DeploymentState;
use crate::spend::{CallType, SpendRecord, SpendStatus, SpendWriter};

/// The request, as its spend record will name it.
pub struct Ticket {
    pub request_id: String,
    pub call_type: CallType,
    pub model: String,
    pub started_ms: i64,
}

impl Ticket {
    pub fn new(request_id: String, call_type: CallType) -> Ticket {
        Ticket {
            request_id,
            call_type,
            model: String::new(),
            started_ms: unix_millis(),
        }
    }

    fn record(&self, pass: &Pass, group: &str, status: SpendStatus) -> SpendRecord {
        let c = &pass.caller;
        SpendRecord {
            key_hash: c.key_hash.clone(),
            key_alias: c.key_alias.clone(),
            user_id: c.user_id.clone(),
            team_id: c.team_id.clone(),
            end_user: c.end_user.clone(),
            tags: c.tags.clone(),
            status,
            ..SpendRecord::new(
                self.request_id.clone(),
                self.call_type,
                group,
                self.started_ms,
                unix_millis(),
            )
        }
    }
}

/// The books of one answered request, closed exactly once.
pub struct Settlement {
    deployment: Arc<Deployment>,
    group: String,
    /// The deployment's live state, when its tokens are counted (a `tpm`
    /// to keep, or usage-based routing).
    tokens_to: Option<Arc<DeploymentState>>,
    pass: Pass,
    ticket: Ticket,
    /// When the answer's first byte was ready (its head, for a stream).
    first_byte_ms: i64,
    /// `None` with `disable_spend_logs`.
    spend: Option<SpendWriter>,
    alerter: Alerter,
    enforcer: Arc<Enforcer>,
    audit: Option<Audited>,
}

/// What the audit record of an answered request needs besides the books.
struct Audited {
    writer: AuditWriter,
    /// Every deployment tried, with its region.
    attempts: Vec<Attempt>,
    /// What the answer guardrails found (complete once a stream ends).
    answer_findings: Option<Arc<Mutex<Findings>>>,
    store_plaintext: bool,
    prompt: Option<String>,
    response: Option<String>,
}

impl Settlement {
    pub fn new(gw: &Gateway, meta: &Meta, pass: Pass, ticket: Ticket) -> Settlement {
        let d = &meta.deployment;
        let class = pass_class(&pass);
        Settlement {
            deployment: d.clone(),
            group: meta.group.clone(),
            tokens_to: gw.router.counts_tokens(d).then(|| gw.router.state(d)),
            pass,
            ticket,
            first_byte_ms: unix_millis(),
            spend: (!gw.config.storage.disable_spend_logs).then(|| gw.spend.clone()),
            alerter: gw.alerter.clone(),
            enforcer: gw.enforcer.clone(),
            audit: gw.audit.clone().map(|writer| Audited {
                writer,
                attempts: attempts(gw, &meta.attempted),
                answer_findings: None,
                store_plaintext: plaintext_allowed(gw, &class),
                prompt: None,
                response: None,
            }),
        }
    }

    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }

    /// Whether an audit record will be written (and wants the texts).
    pub fn audited(&self) -> bool {
        self.audit.is_some()
    }

    /// The prompt and the whole answer, hashed (or kept, where the class
    /// allows) in the audit record.
    pub fn set_texts(&mut self, prompt: Option<String>, response: Option<String>) {
        if let Some(a) = &mut self.audit {
            a.prompt = prompt.or(a.prompt.take());
            a.response = response.or(a.response.take());
        }
    }

    /// Where the answer guardrails put what they found, for the audit
    /// record; read when the books are closed.
    pub fn watch_answer(&mut self, findings: Arc<Mutex<Findings>>) {
        if let Some(a) = &mut self.audit {
            a.answer_findings = Some(findings);
        }
    }

    /// The caller's `x-ratelimit-*` headers as they stand.
    pub fn rate_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.pass.headers()
    }

    /// Closes the books with what the answer used; the caller's rate-limit
    /// headers after it.
    pub fn settle(mut self, metered: Metered) -> Vec<(HeaderName, HeaderValue)> {
        let usage = metered.usage;
        if let Some(state) = &self.tokens_to {
            state.used_tokens(usage.total_tokens(), Instant::now());
        }
        if let Some(admission) = self.pass.admission.as_mut() {
            admission.record_tokens(usage.total_tokens());
        }
        let cost = metered.cost.unwrap_or(0.0);
        if let Some(reservation) = self.pass.reservation.take() {
            let alerts = reservation.settle(cost);
            if !alerts.is_empty() && self.alerter.is_enabled() {
                let end_user = self.pass.caller.end_user.as_deref();
                let context = match &self.pass.key {
                    Some(key) => AlertContext::for_key(key, end_user),
                    None => AlertContext {
                        end_user_id: end_user.map(str::to_string),
                        ..AlertContext::default()
                    },
                };
                self.alerter
                    .send_settled(alerts, &context, &self.enforcer.budgets);
            }
        }
        let d = &self.deployment;
        let record = SpendRecord {
            deployment_id: Some(d.id.clone()),
            provider: Some(d.provider.prefix().to_string()),
            api_base: Some(d.api_base.clone()),
            model: Some(d.upstream_model.clone()),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_read_tokens: usage.cached_read_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            total_tokens: usage.total_tokens(),
            cost,
            cost_estimated: usage.estimated,
            ttft_ms: Some(self.first_byte_ms - self.ticket.started_ms),
            http_status: 200,
            ..self
                .ticket
                .record(&self.pass, &self.group, SpendStatus::Success)
        };
        if let Some(a) = self.audit.take() {
            if let Some(f) = a.answer_findings.as_ref().and_then(|f| f.lock().ok()) {
                note_answer(&mut self.pass.guardrail_outcomes, &f);
            }
            let entry = AuditEntry {
                model_group: Some(self.group.clone()),
                attempts: a.attempts,
                prompt_tokens: usage.prompt_tokens as i64,
                completion_tokens: usage.completion_tokens as i64,
                cost,
                prompt: a.prompt,
                response: a.response,
                store_plaintext: a.store_plaintext,
                ..audit_entry(&self.pass, &self.ticket)
            };
            a.writer.record(entry);
        }
        if let Some(spend) = &self.spend {
            spend.record(record);
        }
        self.pass.headers()
    }
}

/// A request that was admitted but failed: its record, at no cost. The
/// pass is dropped with it, releasing its reservation and rate slots.
/// `attempted` lists the deployments tried (none when it failed before).
pub fn failed(gw: &Gateway, pass: Pass, ticket: &Ticket, e: &ApiError, attempted: &[Attempted]) {
    if let Some(writer) = &gw.audit {
        let mut attempts = attempts(gw, attempted);
        // The client's error closes the list: what it was told.
        attempts.push(Attempt {
            deployment_id: String::new(),
            region: None,
            outcome: format!("{} {}", e.status.as_u16(), e.error_type),
        });
        writer.record(AuditEntry {
            model_group: Some(ticket.model.clone()),
            attempts,
            ..audit_entry(&pass, ticket)
        });
    }
    if gw.config.storage.disable_spend_logs {
        return;
    }
    let record = SpendRecord {
        error_type: Some(e.error_type.clone()),
        http_status: e.status.as_u16(),
        ..ticket.record(&pass, &ticket.model, SpendStatus::Failure)
    };
    gw.spend.record(record);
}

/// What every audit record of a request says: when, who, from where, and
/// the data class with what decided it.
fn audit_entry(pass: &Pass, ticket: &Ticket) -> AuditEntry {
    let c = &pass.caller;
    AuditEntry {
        time_ms: ticket.started_ms,
        kind: AuditKind::Request,
        request_id: Some(ticket.request_id.clone()),
        key_hash: c.key_hash.clone(),
        user_id: c.user_id.clone(),
        team_id: c.team_id.clone(),
        caller_addr: c.addr.map(|a| a.to_string()),
        data_class: pass.data_class.as_ref().map(|d| d.name.clone()),
        data_class_reason: pass.data_class.as_ref().map(|d| d.by.clone()),
        guardrails: if pass.guardrail_outcomes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::Object(pass.guardrail_outcomes.clone())
        },
        ..AuditEntry::default()
    }
}

/// The audit record's attempts: each deployment tried, with its region.
fn attempts(gw: &Gateway, attempted: &[Attempted]) -> Vec<Attempt> {
    let regions = &gw.config.compliance.deployment_region;
    attempted
        .iter()
        .map(|a| Attempt {
            deployment_id: a.deployment.id.clone(),
            region: regions.get(a.deployment.index).cloned().flatten(),
            outcome: a.outcome.to_string(),
        })
        .collect()
}

fn pass_class(pass: &Pass) -> usize {
    pass.data_class.as_ref().map_or(0, |d| d.class)
}

/// `compliance.audit.store_plaintext_up_to` admits this class.
fn plaintext_allowed(gw: &Gateway, class: &usize) -> bool {
    gw.config
        .audit
        .as_ref()
        .and_then(|a| a.store_plaintext_up_to)
        .is_some_and(|up_to| *class <= up_to)
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
