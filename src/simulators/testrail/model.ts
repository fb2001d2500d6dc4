/**
 * The simulator's records: TestRail's entities as the server keeps them, before serialization.
 * Field names follow the vendor's JSON (snake_case) so that json.ts stays a thin projection and a
 * test arranging state reads like the reference (../../../../shared/vendors/testrail.md §3).
 * Run and plan counters are deliberately absent: they are derived from the tests (store.ts).
 */

export interface ProjectRecord {
  id: number;
  name: string;
  announcement: string | null;
  show_announcement: boolean;
  is_completed: boolean;
  completed_on: number | null;
  /** 1 = single suite, 2 = single suite + baselines, 3 = multiple suites (§3.5). */
  suite_mode: 1 | 2 | 3;
}

export interface SuiteRecord {
  id: number;
  project_id: number;
  name: string;
  description: string | null;
  is_master: boolean;
  is_baseline: boolean;
  is_completed: boolean;
  completed_on: number | null;
}

export interface CaseRecord {
  id: number;
  suite_id: number;
  title: string;
  template_id: number;
  type_id: number;
  priority_id: number;
  milestone_id: number | null;
  refs: string | null;
  estimate: string | null;
}

export interface MilestoneRecord {
  id: number;
  project_id: number;
  name: string;
  description: string | null;
  due_on: number | null;
  start_on: number | null;
  started_on: number | null;
  is_started: boolean;
  is_completed: boolean;
  completed_on: number | null;
  parent_id: number | null;
  refs: string | null;
}

export interface UserRecord {
  id: number;
  name: string;
  email: string;
  /** Accepted as the Basic-auth password; TestRail also accepts API keys, modelled as the same secret. */
  password: string | null;
  is_active: boolean;
  role_id: number;
  role: string;
  is_admin: boolean;
  /** Projects the user may see; null = every project (the usual default role). */
  project_ids: number[] | null;
}

export interface RunRecord {
  id: number;
  project_id: number;
  suite_id: number;
  name: string;
  description: string | null;
  milestone_id: number | null;
  assignedto_id: number | null;
  include_all: boolean;
  is_completed: boolean;
  completed_on: number | null;
  config: string | null;
  config_ids: number[];
  plan_id: number | null;
  /** GUID of the plan entry; null for standalone runs. */
  entry_id: string | null;
  created_on: number;
  created_by: number;
  updated_on: number | null;
  refs: string | null;
  start_on: number | null;
  due_on: number | null;
}

export interface TestRecord {
  id: number;
  run_id: number;
  case_id: number;
  /** The current status: the status of the latest result that had one, else 3 (Untested). */
  status_id: number;
  assignedto_id: number | null;
}

export interface ResultRecord {
  id: number;
  test_id: number;
  /** null for comment-only results, which leave the test's status unchanged (§3.4, §3.7). */
  status_id: number | null;
  created_on: number;
  created_by: number;
  assignedto_id: number | null;
  comment: string | null;
  version: string | null;
  elapsed: string | null;
  defects: string | null;
  /** Result custom fields (`custom_*`), passed through as sent. */
  custom: Record<string, unknown>;
}

export interface PlanEntryRecord {
  /** TestRail plan entry ids are GUID strings, not integers (§3.2). */
  id: string;
  suite_id: number;
  name: string;
  description: string | null;
  include_all: boolean;
  refs: string | null;
  /** Runs in the order they were added; a run's entry_index is its entry's 1-based position. */
  run_ids: number[];
}

export interface PlanRecord {
  id: number;
  project_id: number;
  name: string;
  description: string | null;
  milestone_id: number | null;
  assignedto_id: number | null;
  is_completed: boolean;
  completed_on: number | null;
  created_on: number;
  created_by: number;
  refs: string | null;
  start_on: number | null;
  due_on: number | null;
  entries: PlanEntryRecord[];
}

export interface StatusRecord {
  id: number;
  name: string;
  label: string;
  color_dark: number;
  color_medium: number;
  color_bright: number;
  is_system: boolean;
  is_untested: boolean;
  is_final: boolean;
  /** Inactive custom statuses exist but are not listed by get_statuses and cannot be submitted. */
  is_active: boolean;
}

export const UNTESTED = 3;

/** The run/plan counter fields, in the vendor's order (§3.1). */
export const COUNTER_FIELDS = [
  'passed_count',
  'blocked_count',
  'untested_count',
  'retest_count',
  'failed_count',
  'custom_status1_count',
  'custom_status2_count',
  'custom_status3_count',
  'custom_status4_count',
  'custom_status5_count',
  'custom_status6_count',
  'custom_status7_count',
] as const;
export type CounterField = (typeof COUNTER_FIELDS)[number];
export type Counters = Record<CounterField, number>;

/**
 * Status id → counter. 1..5 are the system statuses; custom statuses 6..12 feed
 * custom_status1..7_count (id = N + 5). The reference calls that mapping consistent with the doc
 * example (id 6 named `custom_status1`) and live data, but inferred (§3.7).
 */
export function counterOf(statusId: number): CounterField | undefined {
  const system: Record<number, CounterField> = { 1: 'passed_count', 2: 'blocked_count', 3: 'untested_count', 4: 'retest_count', 5: 'failed_count' };
  if (system[statusId]) return system[statusId];
  if (statusId >= 6 && statusId <= 12) return `custom_status${statusId - 5}_count` as CounterField;
  return undefined;
}

export function zeroCounters(): Counters {
  return Object.fromEntries(COUNTER_FIELDS.map((field) => [field, 0])) as Counters;
}

/**
 * Every status TestRail can know: the five system ones with the default colours observed live,
 * and seven custom slots. Which custom slots are active is a per-installation choice; by default
 * 7 and 8 are, like the live instance in §3.7 (ids 1–5, 7, 8 — no 6), so a client that assumes
 * contiguous ids is caught. Custom colours are the ones that instance showed for 7 and 8.
 */
export function defaultStatuses(): StatusRecord[] {
  const system = (id: number, name: string, colors: [number, number, number], is_final: boolean): StatusRecord => ({
    id,
    name,
    label: name[0].toUpperCase() + name.slice(1),
    color_dark: colors[0],
    color_medium: colors[1],
    color_bright: colors[2],
    is_system: true,
    is_untested: id === UNTESTED,
    is_final,
    is_active: true,
  });
  const custom = (n: number, label: string, colors: [number, number, number], is_final: boolean, is_active: boolean): StatusRecord => ({
    id: n + 5,
    name: `custom_status${n}`,
    label,
    color_dark: colors[0],
    color_medium: colors[1],
    color_bright: colors[2],
    is_system: false,
    is_untested: false,
    is_final,
    is_active,
  });
  return [
    system(1, 'passed', [6667107, 9820525, 12709313], true),
    system(2, 'blocked', [9474192, 13684944, 14737632], true),
    system(3, 'untested', [11579568, 15395562, 15790320], false),
    system(4, 'retest', [13026868, 15593088, 16448182], false),
    system(5, 'failed', [14250867, 15829135, 16631751], true),
    custom(1, 'Custom 1', [0, 10526880, 13684944], false, false),
    custom(2, 'Known Issue', [1538982, 1221344, 10407651], false, true),
    custom(3, 'Skipped', [0, 10526880, 13684944], true, true),
    custom(4, 'Custom 4', [0, 10526880, 13684944], false, false),
    custom(5, 'Custom 5', [0, 10526880, 13684944], false, false),
    custom(6, 'Custom 6', [0, 10526880, 13684944], false, false),
    custom(7, 'Custom 7', [0, 10526880, 13684944], false, false),
  ];
}

// ------------------------------------------------------------------ arrange inputs (store.ts)
// Record fields a test may choose; everything omitted gets TestRail's default or a seed-friendly one.

export type ProjectInput = Partial<Omit<ProjectRecord, 'name'>> & { name: string };
export type SuiteInput = Partial<Omit<SuiteRecord, 'project_id' | 'name'>> & { name: string };
export type CaseInput = Partial<Omit<CaseRecord, 'suite_id' | 'title'>> & { title: string };
export type MilestoneInput = Partial<Omit<MilestoneRecord, 'project_id' | 'name'>> & { name: string };
export type UserInput = Partial<Omit<UserRecord, 'email'>> & { email: string };
export type ResultInput = Partial<Omit<ResultRecord, 'id' | 'test_id'>> & { id?: number };

export interface RunInput extends Partial<Omit<RunRecord, 'project_id'>> {
  /** Cases to instantiate; default: all cases of the suite (include_all), or the first `statuses.length`. */
  case_ids?: number[];
  /**
   * The current status of each test, in case order (3 = untested). Every other status is
   * recorded as a result (created after the run, by its creator), as TestRail would show it.
   */
  statuses?: number[];
}

export type PlanEntryInput = Partial<Omit<PlanEntryRecord, 'run_ids'>> & {
  case_ids?: number[];
  /** One run per configuration; default one run without configuration. */
  runs?: Array<Omit<RunInput, 'plan_id' | 'entry_id' | 'suite_id'>>;
};

export type PlanInput = Partial<Omit<PlanRecord, 'project_id' | 'entries'>> & { entries?: PlanEntryInput[] };
