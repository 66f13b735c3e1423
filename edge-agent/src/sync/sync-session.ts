import type { MqttClient } from 'mqtt';

/** One connection attempt, from connect to close. Callbacks check `live` so a gone connection is ignored. */
export interface SyncSession {
  readonly client: MqttClient;
  live: boolean;
  connectedAt: number;
  acks: number;
}

/** What the broker's CONNACK limits (MQTT 5 properties; absent under 3.1.1). */
export interface BrokerLimits {
  readonly receiveMaximum: number | undefined;
  readonly maximumPacketSize: number | undefined;
}
