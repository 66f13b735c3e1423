/**
 * Domains: named appearance shifts with an intensity, mixable and interpolable.
 *
 * A spec is a name (`'night'`), a mix of names with intensities (`{ night: 0.5, fog: 0.5 }`), or
 * the same as text (`'night'`, `'night@0.5+fog@0.5'`). A mix resolves to render parameters by
 * adding each domain's change from `day`, scaled by its intensity; `day` adds nothing.
 */

import { ScenesError } from '../errors.js';

export const DOMAIN_NAMES = ['day', 'night', 'fog', 'rain', 'camera', 'style'] as const;
export type DomainName = (typeof DOMAIN_NAMES)[number];

/** Intensities 0..1 per domain. */
export type DomainMix = Partial<Record<DomainName, number>>;
export type DomainSpec = DomainName | DomainMix;

/** Render parameters every domain maps onto; all interpolate linearly. */
export interface DomainParams {
  /** 0 = daylight, 1 = night: ambient light, sensor noise, lamp and headlight glare. */
  readonly night: number;
  /** 0 = clear, 1 = dense fog: depth-dependent blend toward the fog colour. */
  readonly fog: number;
  /** 0 = dry, 1 = heavy rain: streaks, overcast desaturation. */
  readonly rain: number;
  /** Camera zoom about the frame centre (1 = unchanged). */
  readonly zoom: number;
  /** Camera roll in degrees. */
  readonly rollDeg: number;
  /** Perspective keystone (camera tilt), -1..1, 0 = none. */
  readonly tilt: number;
  /** 0 = normal object palettes/proportions, 1 = the alternative style. */
  readonly style: number;
}

export const DAY: DomainParams = Object.freeze({ night: 0, fog: 0, rain: 0, zoom: 1, rollDeg: 0, tilt: 0, style: 0 });

/** Each named domain at intensity 1. */
export const DOMAIN_PRESETS: Readonly<Record<DomainName, DomainParams>> = Object.freeze({
  day: DAY,
  night: { ...DAY, night: 1 },
  fog: { ...DAY, fog: 1 },
  rain: { ...DAY, rain: 1 },
  // A camera that was knocked and re-zoomed: closer, rolled, tilted.
  camera: { ...DAY, zoom: 1.6, rollDeg: 8, tilt: 0.35 },
  style: { ...DAY, style: 1 },
});

const PARAM_KEYS = Object.keys(DAY) as (keyof DomainParams)[];

function isDomainName(s: string): s is DomainName {
  return (DOMAIN_NAMES as readonly string[]).includes(s);
}

/** Parses `name` or `name@intensity` terms joined by `+`, e.g. `night@0.5+fog@0.5`. */
export function parseDomain(text: string): DomainMix {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new ScenesError(
      'SCENES_ERR_DOMAIN',
      `empty domain (expected one of ${DOMAIN_NAMES.join(', ')}, or a mix like night@0.5+fog@0.5)`,
    );
  const mix: Record<string, number> = {};
  for (const term of trimmed.split('+')) {
    const [name = '', intensityText, extra] = term.trim().split('@');
    if (extra !== undefined) throw new ScenesError('SCENES_ERR_DOMAIN', `"${term}" has more than one @`);
    if (!isDomainName(name)) {
      throw new ScenesError(
        'SCENES_ERR_DOMAIN',
        `unknown domain "${name}" in "${text}" (expected one of ${DOMAIN_NAMES.join(', ')})`,
      );
    }
    const intensity = intensityText === undefined ? 1 : Number(intensityText);
    if (intensityText !== undefined && (intensityText.trim() === '' || !Number.isFinite(intensity))) {
      throw new ScenesError('SCENES_ERR_DOMAIN', `intensity "${intensityText}" of ${name} is not a number`);
    }
    if (name in mix) throw new ScenesError('SCENES_ERR_DOMAIN', `domain ${name} appears twice in "${text}"`);
    mix[name] = intensity;
  }
  validateMix(mix);
  return mix;
}

function validateMix(mix: DomainMix): void {
  for (const [name, v] of Object.entries(mix)) {
    if (!isDomainName(name))
      throw new ScenesError(
        'SCENES_ERR_DOMAIN',
        `unknown domain "${name}" (expected one of ${DOMAIN_NAMES.join(', ')})`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new ScenesError('SCENES_ERR_DOMAIN', `intensity of ${name} must be within 0..1, got ${String(v)}`);
    }
  }
}

/** Canonical text of a spec, e.g. for file metadata and logs. */
export function formatDomain(spec: DomainSpec): string {
  if (typeof spec === 'string') return spec;
  const terms = DOMAIN_NAMES.filter((n) => spec[n] !== undefined).map((n) => (spec[n] === 1 ? n : `${n}@${spec[n]}`));
  return terms.length === 0 ? 'day' : terms.join('+');
}

/** Render parameters of a spec (text specs are parsed). */
export function resolveDomain(spec: DomainSpec | string): DomainParams {
  const mix: DomainMix = typeof spec === 'string' ? parseDomain(spec) : spec;
  validateMix(mix);
  const out: Record<keyof DomainParams, number> = { ...DAY };
  for (const name of DOMAIN_NAMES) {
    const k = mix[name];
    if (k === undefined || k === 0) continue;
    const preset = DOMAIN_PRESETS[name];
    for (const key of PARAM_KEYS) out[key] += (preset[key] - DAY[key]) * k;
  }
  return out;
}

/** Linear interpolation between two parameter sets, `u` in 0..1. */
export function interpolateParams(a: DomainParams, b: DomainParams, u: number): DomainParams {
  const t = Math.max(0, Math.min(1, u));
  const out: Record<keyof DomainParams, number> = { ...a };
  for (const key of PARAM_KEYS) out[key] = a[key] + (b[key] - a[key]) * t;
  return out;
}
