/**
 * Enterprise Tester's entities as the simulator keeps them, plus the pure rules the vendor
 * reference fixes: step outcomes, run status derivation and GUID handling
 * (../shared/vendors/enterprise-tester.md §2, §4, §6).
 *
 * Stored records hold ids and raw values only; the JSON the API answers (PascalCase, Self,
 * Expands, denormalised names) is built in views.ts, so a change to one entity shows up
 * everywhere it is referenced.
 */
import { createHash } from 'node:crypto';

/** StepResult.Outcome: compact, no spaces (§6). */
export const OUTCOMES = ['NotRun', 'Passed', 'Failed', 'Blocked', 'Undetermined'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** ScriptRun.Status display strings: spaced, unlike Outcome (§6, §10). */
export const RUN_STATUS = {
  inProgress: 'In Progress',
  passed: 'Passed',
  failed: 'Failed',
  blocked: 'Blocked',
  undetermined: 'Undetermined',
  notRun: 'Not Run',
} as const;
export type RunStatusText = (typeof RUN_STATUS)[keyof typeof RUN_STATUS];

export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

export interface EtUser {
  Id: string;
  UserName: string;
  /** Null = the account cannot log in through the API (seed colleagues who only appear as names). */
  Password: string | null;
  Email: string;
  FirstName: string;
  LastName: string;
  Phone: string;
  LastLogIn: number | null;
  Enabled: boolean;
  IsExternal: boolean;
}

export interface EtProject {
  Id: string;
  Name: string;
  OrganisationId: string;
  OrganisationName: string;
  ProjectCategoryId: string | null;
  ProjectCategoryName: string | null;
  Description: string;
  EstimatedEndDate: number | null;
  StartDate: number | null;
  ManagerId: string | null;
  Slug: string;
  AutoNumberRequirements: boolean;
  AutoNumberScripts: boolean;
  Independent: boolean;
  RequirementNumberReadOnly: boolean;
  ScriptNumberReadOnly: boolean;
  OrderNumber: number;
  ProjectTypeId: string | null;
}

export interface EtExecutionPackage {
  Id: string;
  ParentId: string | null;
  /** Kept for child packages too (inherited from the root), so TQL `Project = …` needs no walk. */
  ProjectId: string;
  Name: string;
  Stereotype: string;
  OrderNumber: number;
}

export interface EtScriptStep {
  Description: string;
  ExpectedResult: string;
  Data: string | null;
  Notes: string | null;
}

export interface EtScript {
  Id: string;
  ProjectId: string;
  Name: string;
  Description: string;
  /** The script's current version; a new run copies it into ScriptVersion (§7.1). */
  VersionNumber: number;
  Steps: EtScriptStep[];
  CreatedAt: number;
  CreatedById: string | null;
}

export interface EtScriptAssignment {
  Id: string;
  ScriptId: string;
  PackageId: string;
  AssignedToId: string | null;
  OrderNumber: number;
}

export interface EtScriptRun {
  Id: string;
  AssignmentId: string;
  ScriptId: string;
  ScriptVersion: number;
  CreatedAt: number;
  LastUpdatedAt: number;
  CreatedById: string | null;
  RunById: string | null;
  LastUpdatedById: string | null;
  /** Free text such as "5 minutes"; "" when unset (§2). */
  ActualDuration: string;
  Status: string;
  Completed: boolean;
  FieldValues: Record<string, unknown>;
  /** In step order. */
  StepResultIds: string[];
}

export interface EtStepResult {
  Id: string;
  RunId: string;
  Description: string;
  ExpectedResult: string;
  Data: string | null;
  Notes: string | null;
  ActualResult: string | null;
  Outcome: Outcome;
  HasIncidents: boolean;
  HasAttachments: boolean;
}

// What tests and the seed pass to the store's add… methods; omitted fields get defaults.
type Id = { Id?: string };
export type NewUser = Partial<Omit<EtUser, 'LastLogIn'>> & { UserName: string; LastLogIn?: Date | string | null };
export type NewProject = Partial<Omit<EtProject, 'EstimatedEndDate' | 'StartDate'>> & {
  Name: string;
  StartDate?: Date | string | null;
  EstimatedEndDate?: Date | string | null;
};
export type NewPackage = Partial<EtExecutionPackage> & { Name: string };
export type NewScript = Id & {
  ProjectId: string;
  Name: string;
  Description?: string;
  VersionNumber?: number;
  Steps?: Array<Partial<EtScriptStep> & { Description: string }>;
  CreatedAt?: Date | string;
  CreatedById?: string | null;
};
export type NewAssignment = Id & { ScriptId: string; PackageId: string; AssignedToId?: string | null; OrderNumber?: number };
export interface NewRun {
  Id?: string;
  CreatedAt?: Date | string;
  LastUpdatedAt?: Date | string;
  Completed?: boolean;
  /** Defaults to "In Progress", or to the derived final status when Completed. */
  Status?: string;
  /** One per script step, in order; missing entries stay NotRun. */
  Outcomes?: Array<Outcome | undefined>;
  ActualResults?: Array<string | null | undefined>;
  RunById?: string | null;
  CreatedById?: string | null;
  ActualDuration?: string;
  ScriptVersion?: number;
  FieldValues?: Record<string, unknown>;
  /** Fixed step-result ids (the seed uses them); generated otherwise. */
  StepResultIds?: string[];
}

/** The PUT /scriptrun/{id} body (§4.3 UpdateScriptRun), already parsed from JSON. */
export interface RunUpdate {
  AttemptToComplete?: unknown;
  ActualDuration?: unknown;
  StepResults?: unknown;
  FieldValues?: unknown;
}

/**
 * The final Status of a completed run. The precedence is the reference's simulator default
 * (§6, marked unverified): Failed, Blocked, Undetermined, all Passed, else Not Run.
 * Unverified too: a run with no steps at all is "Not Run", not vacuously "Passed" — nothing was
 * executed, which is what a reader of the UI's status list expects.
 */
export function completedStatus(outcomes: readonly Outcome[]): RunStatusText {
  if (outcomes.includes('Failed')) return RUN_STATUS.failed;
  if (outcomes.includes('Blocked')) return RUN_STATUS.blocked;
  if (outcomes.includes('Undetermined')) return RUN_STATUS.undetermined;
  if (outcomes.length > 0 && outcomes.every((o) => o === 'Passed')) return RUN_STATUS.passed;
  return RUN_STATUS.notRun;
}

/** Accepts any casing ("failed", "NOTRUN") and answers the canonical spelling, or null. */
export function parseOutcome(value: unknown): Outcome | null {
  if (typeof value !== 'string') return null;
  const lower = value.trim().toLowerCase();
  return OUTCOMES.find((o) => o.toLowerCase() === lower) ?? null;
}

const GUID_FORMS = [
  /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i,
  /^\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}$/i,
  /^\(([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\)$/i,
  /^([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/i,
];

/**
 * ET is .NET: a Guid parameter binds from the dashed, braced, parenthesised and 32-digit forms,
 * in any case (doc examples send upper case and get lower case back, §2). Null when unparsable.
 */
export function normalizeGuid(value: string): string | null {
  for (const form of GUID_FORMS) {
    const m = form.exec(value.trim());
    if (m) return m.slice(1, 6).join('-').toLowerCase();
  }
  return null;
}

/** A fixed GUID derived from a name: the seed and API-created entities stay reproducible. */
export function guidFrom(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ISO-8601 UTC, whole seconds, `Z` (§2). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Truncates to whole seconds: the API never shows fractions, so stored times carry none. */
export function toSeconds(value: Date | string | number): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`not a date: ${String(value)}`);
  return Math.floor(ms / 1000) * 1000;
}
