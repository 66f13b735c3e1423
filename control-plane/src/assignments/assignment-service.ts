import {
  FULL_SPLIT_BASIS_POINTS,
  type AssignmentSnapshot,
  type CameraAssignment,
  type CandidateMode,
  type ModelDescriptor,
  type ModelStatusReport,
  type RollbackPolicy,
  ZERO_ROLLBACK_POLICY,
} from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '@edgefleet/service-kit';
import type {
  AssignmentAction,
  AssignmentHistoryRow,
  AssignmentRow,
  ModelRecord,
  RegistryQueries,
  RegistryStore,
} from '../storage/registry-store.js';
import type { Clock } from '@edgefleet/service-kit';

/**
 * Per-camera model assignments: assign (full, A/B split, shadow), promote, roll back (to the previous
 * primary or a named model), and the automatic rollback a device reports. Every change is one
 * transaction under the camera's lock: the next fleet-wide revision, the new row, a history row and an
 * audit entry; then `assignment.changed` on the bus, which the gRPC watch streams turn into snapshots.
 *
 * "Previous primary" is a stack kept with the assignment (`previousPrimaries`): an assignment or a
 * promotion that replaces the primary pushes the old one, "roll back to previous" pops it, and a rollback
 * to a named model drops everything above that model's place in the stack. So two rollbacks in a row
 * walk back two steps instead of toggling between the last two models.
 */

/** A model by serial (`12`, `"12"`) or by `"name:version"`. */
export type ModelRef = number | string;

export interface AssignSpec {
  readonly model: ModelRef;
  readonly candidate?: ModelRef;
  /** With a candidate; default `split`. */
  readonly mode?: CandidateMode;
  /** Split mode: the candidate's share of frames in percent, (0, 100], two decimals. */
  readonly splitPercent?: number;
  readonly reason?: string;
  /** Fields left out are 0: the agent's configured default. */
  readonly policy?: Partial<RollbackPolicy>;
  /**
   * Assign to a camera the device has not reported yet (pre-provisioning a device before it is installed):
   * the camera record is created with status `provisioned`. Without it an unknown camera is a 404, so a
   * mistyped camera id cannot swallow an assignment that no agent will ever watch.
   */
  readonly provision?: boolean;
}

export interface AssignmentView {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly revision: number;
  readonly primary: ModelRecord;
  readonly candidate: ModelRecord | null;
  readonly candidateMode: CandidateMode | null;
  readonly splitBasisPoints: number;
  readonly rollback: boolean;
  readonly reason: string;
  readonly policy: RollbackPolicy | null;
  readonly previousPrimaries: readonly number[];
  readonly updatedBy: string;
  readonly updatedAt: number;
}

export interface AssignmentServiceDeps {
  readonly registry: RegistryStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Bound of the previous-primaries stack per camera. */
export const MAX_PREVIOUS_PRIMARIES = 32;

interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

function invalid(problems: readonly FieldProblem[]): CpError {
  return new CpError('CP_ERR_VALIDATION', problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
    details: problems,
  });
}

/** What a change writes: a new assignment row, or the removal of the camera's assignment. */
type Change =
  | {
      readonly kind: 'put';
      readonly action: AssignmentAction;
      readonly primarySerial: number;
      readonly candidateSerial: number | null;
      readonly candidateMode: CandidateMode | null;
      readonly splitBasisPoints: number;
      readonly rollback: boolean;
      readonly reason: string;
      readonly policy: RollbackPolicy | null;
      readonly previousPrimaries: readonly number[];
    }
  | { readonly kind: 'delete'; readonly action: AssignmentAction; readonly reason: string };

function pushPrevious(stack: readonly number[], serial: number): number[] {
  return [...stack, serial].slice(-MAX_PREVIOUS_PRIMARIES);
}

/** The stack below the last occurrence of `serial` (rolling back to it forgets what came after it). */
function below(stack: readonly number[], serial: number): number[] {
  const at = stack.lastIndexOf(serial);
  return at < 0 ? [...stack] : stack.slice(0, at);
}

export const cameraTarget = (deviceId: string, cameraId: string): string => `camera:${deviceId}/${cameraId}`;

export class AssignmentService {
  constructor(private readonly deps: AssignmentServiceDeps) {}

  private now(): number {
    return this.deps.clock.now();
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(deviceId: string, cameraId: string): Promise<AssignmentView> {
    const row = await this.deps.registry.getAssignment(deviceId, cameraId);
    if (!row) {
      await this.requireCamera(deviceId, cameraId);
      throw new CpError('CP_ERR_ASSIGNMENT_NOT_FOUND', `${deviceId}/${cameraId}`);
    }
    return this.view(this.deps.registry, row);
  }

  async list(deviceId: string): Promise<AssignmentView[]> {
    await this.requireDevice(deviceId);
    const rows = await this.deps.registry.listAssignments(deviceId);
    return Promise.all(rows.map((r) => this.view(this.deps.registry, r)));
  }

  /** Every camera's assignment in the fleet (device, camera order); each model is read once. */
  async listAll(): Promise<AssignmentView[]> {
    const registry = this.deps.registry;
    const rows = await registry.listAssignments();
    const model = this.modelOnce(registry);
    return Promise.all(rows.map((r) => this.view(registry, r, model)));
  }

  async history(deviceId: string, cameraId: string, limit: number): Promise<AssignmentHistoryRow[]> {
    await this.requireCamera(deviceId, cameraId);
    return this.deps.registry.assignmentHistory(deviceId, cameraId, limit);
  }

  /** The device's full assignment state as the gRPC watch sends it. */
  async snapshot(deviceId: string): Promise<AssignmentSnapshot> {
    const rows = await this.deps.registry.listAssignments(deviceId);
    const model = this.modelOnce(this.deps.registry);
    const cameras: CameraAssignment[] = [];
    for (const row of rows) {
      const primary = descriptor(await model(row.primarySerial));
      const candidate = row.candidateSerial === null ? undefined : descriptor(await model(row.candidateSerial));
      cameras.push({
        cameraId: row.cameraId,
        primary,
        ...(candidate && row.candidateMode ? { candidate, candidateMode: row.candidateMode } : {}),
        splitBasisPoints: row.splitBasisPoints,
        rollback: row.rollback,
        reason: row.reason,
        revision: row.revision,
        ...(row.policy ? { policy: row.policy } : {}),
      });
    }
    return { deviceId, revision: Math.max(0, ...cameras.map((c) => c.revision)), cameras, sentAtMs: this.now() };
  }

  // ---- changes ------------------------------------------------------------------------------------

  /** Full (`model` only), A/B split (`candidate` + `splitPercent`) or shadow (`candidate`, `mode: 'shadow'`). */
  async assign(deviceId: string, cameraId: string, spec: AssignSpec, actor: string): Promise<AssignmentView> {
    const mode = spec.candidate === undefined ? null : (spec.mode ?? 'split');
    const problems: FieldProblem[] = [];
    if (spec.candidate === undefined && spec.mode !== undefined)
      problems.push({ field: 'body.mode', message: 'needs a candidate' });
    if (spec.candidate === undefined && spec.splitPercent !== undefined)
      problems.push({ field: 'body.splitPercent', message: 'needs a candidate' });
    if (mode === 'split' && spec.splitPercent === undefined)
      problems.push({ field: 'body.splitPercent', message: 'required for a split candidate (or mode "shadow")' });
    if (mode === 'shadow' && spec.splitPercent !== undefined)
      problems.push({
        field: 'body.splitPercent',
        message: 'a shadow candidate runs on every frame; leave the split out',
      });
    const basisPoints = spec.splitPercent === undefined ? 0 : Math.round(spec.splitPercent * 100);
    if (
      mode === 'split' &&
      spec.splitPercent !== undefined &&
      (basisPoints < 1 || basisPoints > FULL_SPLIT_BASIS_POINTS)
    ) {
      problems.push({ field: 'body.splitPercent', message: 'must be more than 0 and at most 100' });
    }
    if (problems.length > 0) throw invalid(problems);

    await this.requireDevice(deviceId);
    const camera = await this.deps.registry.getCamera(deviceId, cameraId);
    if (!camera) {
      if (spec.provision !== true) {
        throw new CpError(
          'CP_ERR_CAMERA_NOT_FOUND',
          `${deviceId}/${cameraId} (the device has not reported it; send "provision": true to assign it ahead)`,
        );
      }
      await this.deps.registry.upsertCameras(deviceId, [{ cameraId, status: 'provisioned' }], this.now());
    }
    const primary = await this.resolve(spec.model, 'body.model');
    const candidate = spec.candidate === undefined ? null : await this.resolve(spec.candidate, 'body.candidate');
    if (candidate && candidate.serial === primary.serial)
      throw invalid([{ field: 'body.candidate', message: 'is the primary model itself' }]);
    const policy = spec.policy === undefined ? null : { ...ZERO_ROLLBACK_POLICY, ...spec.policy };

    return this.changed(deviceId, cameraId, actor, async (current) => {
      if (current && primary.serial < current.primarySerial) {
        throw new CpError(
          'CP_ERR_DOWNGRADE',
          `model ${primary.serial} is older than the current primary ${current.primarySerial}; POST …/assignment/rollback with "to" makes the downgrade explicit`,
        );
      }
      const replaced = current !== null && current.primarySerial !== primary.serial;
      return {
        kind: 'put',
        action: 'assign',
        primarySerial: primary.serial,
        candidateSerial: candidate?.serial ?? null,
        candidateMode: mode,
        splitBasisPoints: mode === 'split' ? basisPoints : 0,
        rollback: false,
        reason: spec.reason ?? '',
        // A changed assignment keeps its policy unless a new one is given.
        policy: policy ?? current?.policy ?? null,
        previousPrimaries: replaced
          ? pushPrevious(current.previousPrimaries, current.primarySerial)
          : (current?.previousPrimaries ?? []),
      };
    });
  }

  /** The candidate becomes the primary; the old primary becomes "previous". */
  async promote(
    deviceId: string,
    cameraId: string,
    options: { reason?: string },
    actor: string,
  ): Promise<AssignmentView> {
    await this.requireCamera(deviceId, cameraId);
    return this.changed(deviceId, cameraId, actor, async (current) => {
      if (!current) throw new CpError('CP_ERR_ASSIGNMENT_NOT_FOUND', `${deviceId}/${cameraId}`);
      if (current.candidateSerial === null) throw new CpError('CP_ERR_NO_CANDIDATE', `${deviceId}/${cameraId}`);
      return {
        kind: 'put',
        action: 'promote',
        primarySerial: current.candidateSerial,
        candidateSerial: null,
        candidateMode: null,
        splitBasisPoints: 0,
        // Promoting an older candidate is a downgrade for the agent: mark it so the agent accepts it.
        rollback: current.candidateSerial < current.primarySerial,
        reason: options.reason ?? `promoted model ${current.candidateSerial}`,
        policy: current.policy,
        previousPrimaries: pushPrevious(current.previousPrimaries, current.primarySerial),
      };
    });
  }

  /**
   * Immediately back to the previous primary (or to `to`), candidate removed, `rollback: true` so the
   * agent accepts an older serial. CP_ERR_NO_PREVIOUS_MODEL when there is nothing to go back to.
   */
  async rollback(
    deviceId: string,
    cameraId: string,
    options: { to?: ModelRef; reason?: string },
    actor: string,
  ): Promise<AssignmentView> {
    await this.requireCamera(deviceId, cameraId);
    const target = options.to === undefined ? null : await this.resolve(options.to, 'body.to');
    return this.changed(deviceId, cameraId, actor, async (current) => {
      if (!current) throw new CpError('CP_ERR_ASSIGNMENT_NOT_FOUND', `${deviceId}/${cameraId}`);
      let primarySerial: number;
      let previous: number[];
      if (target) {
        primarySerial = target.serial;
        previous = below(current.previousPrimaries, target.serial);
      } else {
        previous = [...current.previousPrimaries];
        let popped: number | undefined;
        do popped = previous.pop();
        while (popped !== undefined && popped === current.primarySerial);
        if (popped === undefined)
          throw new CpError('CP_ERR_NO_PREVIOUS_MODEL', `${deviceId}/${cameraId} has had no other primary`);
        primarySerial = popped;
      }
      return {
        kind: 'put',
        action: 'rollback',
        primarySerial,
        candidateSerial: null,
        candidateMode: null,
        splitBasisPoints: 0,
        rollback: true,
        reason: options.reason ?? `rollback from model ${current.primarySerial} to ${primarySerial}`,
        policy: current.policy,
        previousPrimaries: previous,
      };
    });
  }

  /**
   * Records an agent's model status report (latest and history, an audit entry when the state changed)
   * and applies the rule for `failed` and `rolled_back` reports: the camera's assignment returns to what
   * the device runs, so the control plane never pushes again a model the device refused.
   * - candidate (split or shadow arm) refused: the candidate is removed;
   * - primary refused: the primary becomes the model of `rolledBackTo`, else the last model the device
   *   reported active as primary on that camera, if the registry knows it; otherwise the assignment is
   *   removed (the device runs its locally configured model).
   * Reports about a model that is no longer assigned there change nothing but the status.
   * Returns the changed assignment, `null` when the assignment was removed or unchanged.
   */
  async recordDeviceReport(
    report: ModelStatusReport,
  ): Promise<{ changed: boolean; assignment: AssignmentView | null }> {
    const { registry } = this.deps;
    const actor = `device:${report.deviceId}`;
    await registry.transaction(async (tx) => {
      const [previous] = (await tx.latestModelStatus(report.deviceId, report.cameraId)).filter(
        (s) => s.arm === report.arm,
      );
      await tx.recordModelStatus({
        deviceId: report.deviceId,
        cameraId: report.cameraId,
        arm: report.arm,
        sha256: report.sha256,
        modelId: report.modelId,
        version: report.version,
        state: report.state,
        reason: report.reason,
        revision: report.revision,
        rolledBackTo: report.rolledBackTo,
        bytesDone: report.bytesDone,
        reportedAt: report.atMs,
      });
      // Progress reports (downloading with more bytes) repeat a state: one audit entry per state change.
      if (!previous || previous.state !== report.state || previous.sha256 !== report.sha256) {
        await tx.appendAudit({
          actor,
          action: 'model-status.report',
          target: cameraTarget(report.deviceId, report.cameraId),
          details: {
            arm: report.arm,
            state: report.state,
            sha256: report.sha256,
            modelId: report.modelId,
            version: report.version,
            revision: report.revision,
            ...(report.reason ? { reason: report.reason } : {}),
            ...(report.rolledBackTo ? { rolledBackTo: report.rolledBackTo } : {}),
          },
        });
      }
    });
    if (report.state !== 'failed' && report.state !== 'rolled_back') return { changed: false, assignment: null };

    let changed = false;
    const reason = `auto-rollback on ${report.deviceId}: ${report.reason || report.state}`;
    const view = await this.change(report.deviceId, report.cameraId, actor, async (current, tx) => {
      if (!current) return null;
      if (report.arm === 'primary') {
        const primary = await this.requireModel(tx, current.primarySerial);
        if (primary.sha256 !== report.sha256) return null;
        const runs = await this.modelTheDeviceRuns(tx, report, primary.sha256);
        changed = true;
        if (!runs) return { kind: 'delete', action: 'auto-rollback', reason };
        return {
          kind: 'put',
          action: 'auto-rollback',
          primarySerial: runs.serial,
          candidateSerial: current.candidateSerial === runs.serial ? null : current.candidateSerial,
          candidateMode: current.candidateSerial === runs.serial ? null : current.candidateMode,
          splitBasisPoints: current.candidateSerial === runs.serial ? 0 : current.splitBasisPoints,
          rollback: true,
          reason,
          policy: current.policy,
          previousPrimaries: below(current.previousPrimaries, runs.serial),
        };
      }
      if (current.candidateSerial === null) return null;
      const candidate = await this.requireModel(tx, current.candidateSerial);
      if (candidate.sha256 !== report.sha256) return null;
      changed = true;
      return {
        kind: 'put',
        action: 'auto-rollback',
        primarySerial: current.primarySerial,
        candidateSerial: null,
        candidateMode: null,
        splitBasisPoints: 0,
        rollback: true,
        reason,
        policy: current.policy,
        previousPrimaries: current.previousPrimaries,
      };
    });
    if (changed)
      this.deps.logger.warn('assignment rolled back by a device report', {
        deviceId: report.deviceId,
        cameraId: report.cameraId,
        arm: report.arm,
        state: report.state,
        reason: report.reason,
      });
    return { changed, assignment: view };
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** `rolledBackTo`, else the last model the device reported active as this camera's primary. */
  private async modelTheDeviceRuns(
    tx: RegistryQueries,
    report: ModelStatusReport,
    refused: string,
  ): Promise<ModelRecord | null> {
    if (report.rolledBackTo !== '' && report.rolledBackTo !== refused) {
      const named = await tx.findModelBySha256(report.rolledBackTo);
      if (named) return named;
    }
    const history = await tx.modelStatusHistory(report.deviceId, 200, report.cameraId);
    const active = history.find((s) => s.arm === 'primary' && s.state === 'active' && s.sha256 !== refused);
    return active ? tx.findModelBySha256(active.sha256) : null;
  }

  /** A change that always writes an assignment row (assign, promote, rollback). */
  private async changed(
    deviceId: string,
    cameraId: string,
    actor: string,
    compute: (current: AssignmentRow | null, tx: RegistryQueries) => Promise<Change>,
  ): Promise<AssignmentView> {
    const view = await this.change(deviceId, cameraId, actor, compute);
    if (!view) throw new CpError('CP_ERR_INTERNAL', `assignment of ${deviceId}/${cameraId} vanished during its change`);
    return view;
  }

  /**
   * One change of one camera's assignment in one transaction. `compute` sees the current row under the
   * camera's lock and returns the change, or null for none (then nothing is written or published).
   */
  private async change(
    deviceId: string,
    cameraId: string,
    actor: string,
    compute: (current: AssignmentRow | null, tx: RegistryQueries) => Promise<Change | null>,
  ): Promise<AssignmentView | null> {
    const result = await this.deps.registry.transaction(async (tx) => {
      await tx.lockCamera(deviceId, cameraId);
      const current = await tx.getAssignment(deviceId, cameraId);
      const change = await compute(current, tx);
      if (!change) return null;
      const revision = await tx.nextRevision();
      const base = { deviceId, cameraId, revision, action: change.action, actor };
      let row: AssignmentRow | null = null;
      if (change.kind === 'put') {
        const write = {
          deviceId,
          cameraId,
          primarySerial: change.primarySerial,
          candidateSerial: change.candidateSerial,
          candidateMode: change.candidateMode,
          splitBasisPoints: change.splitBasisPoints,
          rollback: change.rollback,
          reason: change.reason,
          revision,
          policy: change.policy,
          previousPrimaries: change.previousPrimaries,
          updatedBy: actor,
        };
        await tx.putAssignment(write);
        await tx.appendAssignmentHistory({ ...base, ...write });
        row = (await tx.getAssignment(deviceId, cameraId)) as AssignmentRow;
      } else {
        await tx.deleteAssignment(deviceId, cameraId);
        await tx.appendAssignmentHistory({
          ...base,
          primarySerial: null,
          candidateSerial: null,
          candidateMode: null,
          splitBasisPoints: 0,
          rollback: true,
          reason: change.reason,
          policy: null,
        });
      }
      await tx.appendAudit({
        actor,
        action: `assignment.${change.action}`,
        target: cameraTarget(deviceId, cameraId),
        details: {
          revision,
          previousRevision: current?.revision ?? null,
          fromPrimary: current?.primarySerial ?? null,
          fromCandidate: current?.candidateSerial ?? null,
          ...(change.kind === 'put'
            ? {
                primary: change.primarySerial,
                candidate: change.candidateSerial,
                candidateMode: change.candidateMode,
                splitBasisPoints: change.splitBasisPoints,
                rollback: change.rollback,
              }
            : { removed: true }),
          reason: change.reason,
        },
      });
      return { revision, view: row ? await this.view(tx, row) : null };
    });
    if (!result) return null;
    this.deps.bus.emit('assignment.changed', { deviceId, cameraId, revision: result.revision, source: 'local' });
    return result.view;
  }

  private async view(
    q: RegistryQueries,
    row: AssignmentRow,
    model = (serial: number) => this.requireModel(q, serial),
  ): Promise<AssignmentView> {
    return {
      deviceId: row.deviceId,
      cameraId: row.cameraId,
      revision: row.revision,
      primary: await model(row.primarySerial),
      candidate: row.candidateSerial === null ? null : await model(row.candidateSerial),
      candidateMode: row.candidateMode,
      splitBasisPoints: row.splitBasisPoints,
      rollback: row.rollback,
      reason: row.reason,
      policy: row.policy,
      previousPrimaries: row.previousPrimaries,
      updatedBy: row.updatedBy,
      updatedAt: row.updatedAt,
    };
  }

  /** `requireModel` that reads each serial once (a listing names the same few models many times). */
  private modelOnce(q: RegistryQueries): (serial: number) => Promise<ModelRecord> {
    const models = new Map<number, Promise<ModelRecord>>();
    return (serial) => {
      let m = models.get(serial);
      if (!m) {
        m = this.requireModel(q, serial);
        models.set(serial, m);
      }
      return m;
    };
  }

  private async requireModel(q: RegistryQueries, serial: number): Promise<ModelRecord> {
    const m = await q.getModel(serial);
    if (!m) throw new CpError('CP_ERR_MODEL_NOT_FOUND', `serial ${serial}`);
    return m;
  }

  /** A serial (`12`), or `name:version` (the version is everything after the last colon). */
  async resolve(ref: ModelRef, field: string): Promise<ModelRecord> {
    const text = String(ref).trim();
    let found: ModelRecord | null;
    if (/^\d+$/.test(text)) {
      found = await this.deps.registry.getModel(Number(text));
    } else {
      const at = text.lastIndexOf(':');
      if (at <= 0 || at === text.length - 1)
        throw invalid([{ field, message: `expected a model serial or "name:version", got ${JSON.stringify(text)}` }]);
      found = await this.deps.registry.findModel(text.slice(0, at), text.slice(at + 1));
    }
    if (!found) throw new CpError('CP_ERR_MODEL_NOT_FOUND', `${field}: ${text}`);
    return found;
  }

  private async requireDevice(deviceId: string): Promise<void> {
    if (!(await this.deps.registry.deviceExists(deviceId))) throw new CpError('CP_ERR_DEVICE_NOT_FOUND', deviceId);
  }

  private async requireCamera(deviceId: string, cameraId: string): Promise<void> {
    await this.requireDevice(deviceId);
    if (!(await this.deps.registry.getCamera(deviceId, cameraId)))
      throw new CpError('CP_ERR_CAMERA_NOT_FOUND', `${deviceId}/${cameraId}`);
  }
}

/** The wire form of a registered model. */
export function descriptor(m: ModelRecord): ModelDescriptor {
  return {
    modelId: m.name,
    version: m.version,
    serial: m.serial,
    sha256: m.sha256,
    sizeBytes: m.sizeBytes,
    signature: m.signature,
    keyId: m.keyId,
    classNames: m.classNames,
    inputWidth: m.inputWidth,
    inputHeight: m.inputHeight,
  };
}
