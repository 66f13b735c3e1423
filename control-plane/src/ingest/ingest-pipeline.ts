import { parseTopic } from '@edgefleet/proto';
import { describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { IngestStats, MessageKind } from './ingest-stats.js';
import type { MessageHandler } from './message-handler.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { Clock } from '@edgefleet/service-kit';

/**
 * Transport-independent entry of the ingest: one MQTT message in, a promise out that resolves when the
 * message may be acknowledged (its effect committed, or it was rejected for good) and rejects when it
 * must not be (it will come again). Both transports (the embedded broker's publish gate and the MQTT
 * client for external brokers) call `handle` and acknowledge according to its promise.
 */
export interface IngestPipelineDeps {
  readonly handlers: Readonly<Record<MessageKind, MessageHandler>>;
  readonly stats: IngestStats;
  readonly logger: Logger;
  readonly topicPrefix: string;
  readonly clock: Clock;
}

export class IngestPipeline {
  private readonly rejectLog: RateLimitedLog;

  constructor(private readonly deps: IngestPipelineDeps) {
    this.rejectLog = new RateLimitedLog(deps.logger, { burst: 5, windowMs: 10_000, clock: deps.clock });
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseTopic(topic, this.deps.topicPrefix);
    // Not a telemetry topic (another prefix, a future kind): nothing for the ingest to do.
    if (parsed === null) return;
    const { stats } = this.deps;
    stats.received[parsed.kind]++;
    try {
      const outcome = await this.deps.handlers[parsed.kind].handle(parsed.deviceId, payload);
      if (outcome.status === 'stored') {
        stats.stored[parsed.kind]++;
      } else {
        stats.rejected[outcome.reason]++;
        this.rejectLog.warn(outcome.reason, 'ingest rejected a message', {
          reason: outcome.reason,
          topic,
          bytes: payload.length,
          detail: outcome.detail.length > 300 ? `${outcome.detail.slice(0, 300)}…` : outcome.detail,
        });
      }
    } catch (err) {
      stats.abandoned++;
      // Metrics are QoS 0 and periodic: one lost to a database outage is not worth a reconnect.
      if (parsed.kind === 'metrics') {
        this.rejectLog.warn('metrics-failed', 'device metrics not stored', { topic, error: describeError(err) });
        return;
      }
      throw err;
    }
  }
}
