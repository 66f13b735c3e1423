import type { PublishGate } from '../broker/embedded-broker.js';
import type { IngestPipeline } from './ingest-pipeline.js';

/**
 * The ingest's transport on the embedded broker: every authorised publish goes through the pipeline
 * before aedes acknowledges it to the device (see EmbeddedBroker), so PUBACK means committed.
 */
export function embeddedIngestGate(pipeline: IngestPipeline): PublishGate {
  return (_principal, topic, payload) => pipeline.handle(topic, payload);
}
