import autocannon from 'autocannon';
import { processCpuSeconds } from './process-cpu.js';

/** One endpoint to load. */
export interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  /** Paths to rotate through, one per request (otherwise every request goes to url's path). */
  paths?: string[];
  /** Connections for this target only (default: the plan's). */
  connections?: number;
  /** The server process, to charge its CPU time to the requests it answered. */
  pid?: number;
  /** A fixed request rate over all connections (requests/s), as steady traffic; otherwise as fast as answered. */
  rate?: number;
}

/** How hard and how long: the measured seconds of each target are split into `rounds` slices. */
export interface LoadPlan {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
}

/** What one target achieved over all its measured slices. */
export interface Measurement {
  name: string;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server CPU time per answered request, in microseconds; undefined without a pid or /proc. */
  cpuUsPerRequest: number | undefined;
}

/** One measured stretch of load on a target. */
export interface Slice {
  result: autocannon.Result;
  latencies: number[];
  cpuSeconds: number | undefined;
}

// autocannon's histogram stores whole milliseconds, too coarse for a 5 ms budget; keep each response's own timing.
export function fire(target: Target, connections: number, seconds: number): Promise<Slice> {
  const latencies: number[] = [];
  const cpu = () => (target.pid === undefined ? undefined : processCpuSeconds(target.pid));
  const cpuBefore = cpu();
  return new Promise((resolve, reject) => {
    const paths = target.paths;
    let next = 0;
    const requests = paths?.length ? [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: paths[next++ % paths.length]! }) }] : undefined;
    // Only the options given: autocannon takes an undefined method or body for a value.
    const options = { url: target.url, connections, duration: seconds, headers: target.headers, ...(target.method ? { method: target.method } : {}), ...(target.body === undefined ? {} : { body: target.body }), ...(requests ? { requests } : {}), ...(target.rate ? { overallRate: target.rate } : {}) };
    const instance = autocannon(options, (error, result) => {
      const cpuAfter = cpu();
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve({ result, latencies, cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore });
    });
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}

/** Any failed request means we measured an error path, not the route: refuse the figure. */
export function assertAllOk(target: Target, phase: string, result: autocannon.Result): void {
  const bad = { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, resets: result.resets, mismatches: result.mismatches };
  if (result['2xx'] === 0 || Object.values(bad).some((count) => count > 0)) {
    const codes = JSON.stringify(result.statusCodeStats ?? {});
    throw new Error(`${target.name} (${phase}): not every response was 2xx: 2xx=${result['2xx']} ${JSON.stringify(bad)} status codes ${codes}`);
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** Latency percentiles, rate and CPU of a target over its slices. */
export function summarise(name: string, slices: Slice[]): Measurement {
  const requests = slices.reduce((sum, s) => sum + s.result['2xx'], 0);
  const seconds = slices.reduce((sum, s) => sum + s.result.duration, 0);
  const sorted = Float64Array.from(slices.flatMap((s) => s.latencies)).sort();
  const cpuSeconds = slices.every((s) => s.cpuSeconds !== undefined) ? slices.reduce((sum, s) => sum + s.cpuSeconds!, 0) : undefined;
  return {
    name,
    requests,
    reqPerSec: requests / seconds,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    cpuUsPerRequest: cpuSeconds === undefined ? undefined : (cpuSeconds * 1e6) / requests,
  };
}

/**
 * Warms every target up (discarded), then measures them in alternating slices, so a burst of load from
 * elsewhere on the machine hits all of them alike and the ratios stay fair; throws unless every response was 2xx.
 */
export async function measureInterleaved(targets: Target[], plan: LoadPlan, progress: (line: string) => void = () => {}): Promise<Measurement[]> {
  for (const target of targets) {
    if (plan.warmupSeconds <= 0) break;
    progress(`warming up ${target.name} for ${plan.warmupSeconds} s`);
    assertAllOk(target, 'warm-up', (await fire(target, target.connections ?? plan.connections, plan.warmupSeconds)).result);
  }
  const rounds = Math.max(1, Math.floor(plan.rounds));
  const sliceSeconds = plan.durationSeconds / rounds;
  const slices = targets.map((): Slice[] => []);
  for (let round = 1; round <= rounds; round++) {
    for (const [index, target] of targets.entries()) {
      progress(`measuring ${target.name}, round ${round}/${rounds}, ${sliceSeconds} s`);
      const slice = await fire(target, target.connections ?? plan.connections, sliceSeconds);
      assertAllOk(target, `round ${round}`, slice.result);
      slices[index]!.push(slice);
    }
  }
  return targets.map((target, index) => summarise(target.name, slices[index]!));
}
