import { Counter, Gauge, Registry } from 'prom-client';

/**
 * SIEM forwarding metrics. Labels are bounded: transport, format and outcome are small enums; no tenant or
 * destination id, so a thousand tenants do not make a thousand series. Per-destination detail is in the status route.
 */
export function createSiemMetrics(registry: Registry = new Registry()) {
  const events = new Counter({ name: 'custos_siem_events_total', help: 'Audit events a SIEM forwarder handled, by transport, format and outcome (delivered, filtered).', labelNames: ['transport', 'format', 'outcome'] as const, registers: [registry] });
  const rounds = new Counter({ name: 'custos_siem_rounds_total', help: 'Delivery rounds, by transport and outcome (success, failure).', labelNames: ['transport', 'outcome'] as const, registers: [registry] });
  const lag = new Gauge({ name: 'custos_siem_lag_events', help: 'Events waiting, summed over every enabled destination.', registers: [registry] });
  const failing = new Gauge({ name: 'custos_siem_destinations_failing', help: 'Enabled destinations whose last round failed.', registers: [registry] });
  /** Adds these metrics to another registry (the HTTP app's, which /metrics serves). */
  function exposeIn(target: Registry): Registry {
    for (const metric of [events, rounds, lag, failing]) target.registerMetric(metric);
    return target;
  }
  return { registry, events, rounds, lag, failing, exposeIn };
}
export type SiemMetrics = ReturnType<typeof createSiemMetrics>;
