import { describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { CameraSlot } from './camera-slot.js';
import type { ManagedControl } from './manager-context.js';

/**
 * The artifacts pruning must keep whatever their age: every model serving (primary, candidate), every
 * camera's persisted primary, previous primary and candidate, and what a pending assignment names.
 */
export function protectedVersions(slots: Iterable<CameraSlot>): Set<string> {
  const protect = new Set<string>();
  for (const slot of slots) {
    const r = slot.models?.current();
    if (r) {
      protect.add(r.primary.identity.sha256);
      if (r.candidate) protect.add(r.candidate.identity.sha256);
    }
    const { persisted, desired } = slot;
    for (const d of [
      persisted.primary,
      persisted.previous,
      persisted.candidate,
      desired?.primary,
      desired?.candidate,
    ]) {
      if (d) protect.add(d.sha256);
    }
  }
  return protect;
}

/** Keeps the last K artifacts, never one in use, assigned or a camera's previous primary. */
export function pruneModels(options: {
  readonly slots: Iterable<CameraSlot>;
  readonly control: ManagedControl | null;
  readonly logger: Logger;
}): void {
  const { control, logger } = options;
  if (!control) return;
  try {
    const deleted = control.store.prune(control.settings.keepVersions, protectedVersions(options.slots));
    if (deleted.length > 0) logger.info('old model versions deleted', { sha256: deleted });
  } catch (err) {
    logger.warn('model store pruning failed', { error: describeError(err) });
  }
}
