/**
 * Typed view of the parts of gstreamer-superficial (a native addon without type declarations)
 * that capture uses. Loaded lazily through createRequire so that importing capture modules that
 * only build strings (source-spec, pipeline-description) never loads GStreamer.
 */
import { createRequire } from 'node:module';

/** Caps structure of a pulled sample, as the binding converts it (fields vary by media type). */
export interface GstSampleCaps {
  readonly name?: string;
  readonly width?: number;
  readonly height?: number;
  readonly format?: string;
  readonly [field: string]: unknown;
}

/** One bus message; `message` is set for errors (and warnings), `name` is the element path. */
export interface GstBusMessage {
  readonly type: string;
  readonly _src_element_name?: string;
  readonly name?: string;
  readonly message?: string;
  readonly [field: string]: unknown;
}

/** Any element found by name: its GObject properties are plain JS properties. */
export interface GstElement {
  [property: string]: unknown;
}

export interface GstAppSink extends GstElement {
  /** One-shot: blocks a libuv threadpool thread until a sample, EOS or flushing (buf null). */
  pull(cb: (buf: Buffer | null, caps: GstSampleCaps) => void): void;
}

export interface GstAppSrc extends GstElement {
  push(buf: Buffer): void;
}

export interface GstPipeline {
  play(): void;
  pause(): void;
  /** Sets state NULL synchronously. */
  stop(): void;
  sendEOS(): void;
  /** Seconds (truncated to an int32 by the binding) and GstSeekFlags; returns whether GStreamer accepted it. */
  seek(seconds: number, flags: number): boolean;
  queryPosition(): number;
  queryDuration(): number;
  findChild(name: string): GstElement | undefined;
  /** Re-polls after each message until the pipeline is in state NULL when a callback returns. */
  pollBus(cb: (msg: GstBusMessage) => void): void;
  'auto-flush-bus': boolean;
}

export interface GstBinding {
  Pipeline: new (description: string) => GstPipeline;
}

/** GST_SEEK_FLAG_FLUSH */
export const SEEK_FLAG_FLUSH = 1;

let binding: GstBinding | null = null;

/** The native binding, loaded on first use. */
export function gst(): GstBinding {
  if (binding === null) {
    const require = createRequire(import.meta.url);
    binding = require('gstreamer-superficial') as GstBinding;
  }
  return binding;
}

/** Narrow an element returned by findChild to an appsink (the binding adds `pull` only to appsinks). */
export function asAppSink(el: GstElement | undefined): GstAppSink | null {
  return el !== undefined && typeof el.pull === 'function' ? (el as GstAppSink) : null;
}
