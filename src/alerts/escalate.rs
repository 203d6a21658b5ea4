//! The escalation chain: per severity and site, ordered steps (who, channel, minutes after the
//! alert opened). Steps are taken while the alert is neither acknowledged nor resolved; the
//! second step onwards moves an open alert to `escalated`. Time is the service's clock (wall
//! clock live, drill time in a drill).

use super::{config::Step, Alerts, ACKNOWLEDGED, RESOLVED};
use crate::store::{AlertRow, StoreError};

/// The steps of `chain` due at `now` for an alert that has taken `taken` steps.
pub fn due(steps: &[Step], taken: i64, opened_at: i64, now: i64) -> Vec<(i64, &Step)> {
    steps
        .iter()
        .enumerate()
        .skip(taken.max(0) as usize)
        .take_while(|(_, s)| opened_at + s.after_minutes * 60_000 <= now)
        .map(|(i, s)| (i as i64 + 1, s))
        .collect()
}

impl Alerts {
    /// Takes the due steps of one alert; returns how many.
    pub(crate) async fn escalate_one(&self, a: &AlertRow, now: i64) -> Result<usize, StoreError> {
        // History found while backfilling pages nobody (see `alerts.backfill_minutes`).
        if a.state == ACKNOWLEDGED || a.state == RESOLVED || a.backfill {
            return Ok(0);
        }
        let Some(chain) = self.config().chain(&a.severity, &a.site) else {
            return Ok(0);
        };
        let steps = due(&chain.steps, a.escalation_step, a.created_at, now);
        let n = steps.len();
        let mut notice = super::notice(a);
        for (number, step) in steps {
            let detail = format!("step {number}: {} via {}", step.who, step.channel);
            self.store()
                .alert_escalation_step(a.id, number, &step.who, &detail, now)
                .await?;
            if number > 1 && notice.state == super::OPEN {
                notice.state = super::ESCALATED.into();
            }
            if let Some(hook) = step.channel.strip_prefix("webhook:") {
                if let Some(w) = &self.inner.webhooks {
                    w.send(Some(hook), &notice, &format!("escalated to {}", step.who));
                }
            }
            tracing::info!(alert = a.id, %detail, "escalation step");
        }
        if n > 0 {
            if let Some(row) = self.store().alert_get(a.id).await? {
                self.publish(&row);
                // The opening itself also goes to every webhook at or above its severity.
                if a.escalation_step == 0 {
                    if let Some(w) = &self.inner.webhooks {
                        w.send(None, &super::notice(&row), "");
                    }
                }
            }
        }
        Ok(n)
    }

    /// Takes every due step of every active alert (call every few seconds).
    pub async fn escalate_due(&self) -> Result<usize, StoreError> {
        let now = self.clock().now_ms();
        let mut n = 0;
        for a in self.store().alerts_active().await? {
            n += self.escalate_one(&a, now).await?;
        }
        Ok(n)
    }

    /// Runs [`Alerts::escalate_due`] every `every` until the process ends.
    pub fn spawn_escalation(&self, every: std::time::Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = me.escalate_due().await {
                    tracing::warn!(error = %e, "escalation tick failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_fall_due_in_order() {
        let steps = vec![
            Step {
                who: "lead".into(),
                channel: "desktop".into(),
                after_minutes: 0,
            },
            Step {
                who: "legal".into(),
                channel: "desktop".into(),
                after_minutes: 10,
            },
            Step {
                who: "exec".into(),
                channel: "desktop".into(),
                after_minutes: 20,
            },
        ];
        let m = 60_000;
        assert_eq!(due(&steps, 0, 0, 0).len(), 1);
        assert_eq!(due(&steps, 1, 0, 9 * m).len(), 0);
        let d = due(&steps, 1, 0, 25 * m);
        assert_eq!(
            d.iter()
                .map(|(n, s)| (*n, s.who.as_str()))
                .collect::<Vec<_>>(),
            vec![(2, "legal"), (3, "exec")]
        );
        assert!(due(&steps, 3, 0, 99 * m).is_empty());
    }
}
