/**
 * Human-readable renderings of the API's answers for the admin commands (`--json` prints the answers
 * themselves).
 */

export interface ModelJson {
  serial: number;
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  keyId: string;
  classNames: string[];
  inputWidth: number;
  inputHeight: number;
  adapter: string;
  parentSerial: number | null;
  createdBy: string;
  createdAt: string;
}

export interface AssignmentJson {
  deviceId: string;
  cameraId: string;
  revision: number;
  primary: ModelJson;
  candidate: ModelJson | null;
  candidateMode: 'split' | 'shadow' | null;
  splitPercent: number;
  rollback: boolean;
  reason: string;
}

export interface AuditJson {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

const ref = (m: ModelJson): string => `${m.name}:${m.version} (serial ${m.serial})`;

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function modelLine(m: ModelJson): string {
  return `${ref(m)}: ${m.adapter} ${m.inputWidth}x${m.inputHeight}, ${m.classNames.length} classes, ${bytes(m.sizeBytes)}, sha256 ${m.sha256}, signed by key ${m.keyId}`;
}

export function assignmentLine(a: AssignmentJson): string {
  const candidate = a.candidate
    ? a.candidateMode === 'shadow'
      ? `, shadow ${ref(a.candidate)}`
      : `, candidate ${ref(a.candidate)} on ${a.splitPercent}% of frames`
    : '';
  const flags = [a.rollback ? 'rollback' : '', a.reason ? `reason: ${a.reason}` : ''].filter(Boolean).join('; ');
  return `${a.deviceId}/${a.cameraId} revision ${a.revision}: primary ${ref(a.primary)}${candidate}${flags ? ` (${flags})` : ''}`;
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function auditLine(e: AuditJson): string {
  const details = Object.keys(e.details).length > 0 ? ` ${JSON.stringify(e.details)}` : '';
  return `${e.at}  #${e.id}  ${e.actor}  ${e.action}  ${e.target}${details}`;
}
