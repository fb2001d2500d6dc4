/**
 * The simulator's state and the manual-run lifecycle of the vendor reference §7: start-or-resume,
 * record step results, complete, restart, delete. Handlers in server.ts only translate HTTP to
 * these calls; tests use the same methods (and the `add…` ones) to arrange and inspect state.
 *
 * Business-rule failures throw EtApiError with ET's status (403 for validation, §9), so the
 * server turns them into `{ "Message": … }` bodies without knowing the rules.
 */
import {
  completedStatus,
  guidFrom,
  normalizeGuid,
  parseOutcome,
  RUN_STATUS,
  toSeconds,
  type EtExecutionPackage,
  type EtProject,
  type EtScript,
  type EtScriptAssignment,
  type EtScriptRun,
  type EtScriptStep,
  type EtStepResult,
  type EtUser,
  type NewAssignment,
  type NewPackage,
  type NewProject,
  type NewRun,
  type NewScript,
  type NewUser,
  type Outcome,
  type RunUpdate,
} from './model';

/** An ET error answer: `{ "Message": message }` (plus `MessageDetail` when given) with `status`. */
export class EtApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'EtApiError';
  }
}

export class EnterpriseTesterStore {
  readonly users = new Map<string, EtUser>();
  readonly projects = new Map<string, EtProject>();
  readonly packages = new Map<string, EtExecutionPackage>();
  readonly scripts = new Map<string, EtScript>();
  readonly assignments = new Map<string, EtScriptAssignment>();
  readonly runs = new Map<string, EtScriptRun>();
  readonly stepResults = new Map<string, EtStepResult>();
  /** The server's clock for runs created or changed through the API; tests may pin it. */
  now: () => Date = () => new Date();
  private serial = 0;

  /** Deterministic: the n-th id a store makes is the same on every start. */
  newId(kind: string): string {
    this.serial += 1;
    return guidFrom(`enterprise-tester-simulator:${kind}:${this.serial}`);
  }

  addUser(input: NewUser): EtUser {
    const user: EtUser = {
      Id: this.ownId(input.Id, 'user'),
      UserName: input.UserName,
      Password: input.Password ?? null,
      Email: input.Email ?? `${input.UserName}@example.com`,
      FirstName: input.FirstName ?? input.UserName,
      LastName: input.LastName ?? '',
      Phone: input.Phone ?? '',
      LastLogIn: input.LastLogIn ? toSeconds(input.LastLogIn) : null,
      Enabled: input.Enabled ?? true,
      IsExternal: input.IsExternal ?? false,
    };
    this.users.set(user.Id, user);
    return user;
  }

  addProject(input: NewProject): EtProject {
    const project: EtProject = {
      Id: this.ownId(input.Id, 'project'),
      Name: input.Name,
      OrganisationId: input.OrganisationId ?? guidFrom('organisation:default'),
      OrganisationName: input.OrganisationName ?? 'Default Organisation',
      ProjectCategoryId: input.ProjectCategoryId ?? null,
      ProjectCategoryName: input.ProjectCategoryName ?? null,
      Description: input.Description ?? '',
      EstimatedEndDate: input.EstimatedEndDate ? toSeconds(input.EstimatedEndDate) : null,
      StartDate: input.StartDate ? toSeconds(input.StartDate) : null,
      ManagerId: input.ManagerId ?? null,
      Slug: input.Slug ?? input.Name.replace(/[^A-Za-z]/g, '').slice(0, 4).toUpperCase(),
      AutoNumberRequirements: input.AutoNumberRequirements ?? true,
      AutoNumberScripts: input.AutoNumberScripts ?? true,
      Independent: input.Independent ?? false,
      RequirementNumberReadOnly: input.RequirementNumberReadOnly ?? false,
      ScriptNumberReadOnly: input.ScriptNumberReadOnly ?? false,
      OrderNumber: input.OrderNumber ?? this.projects.size,
      ProjectTypeId: input.ProjectTypeId ?? null,
    };
    this.projects.set(project.Id, project);
    return project;
  }

  addExecutionPackage(input: NewPackage): EtExecutionPackage {
    const parent = input.ParentId ? this.need(this.packages, input.ParentId, 'execution package') : undefined;
    const projectId = parent?.ProjectId ?? input.ProjectId;
    if (!projectId) throw new Error('an execution package needs a ProjectId or a ParentId');
    this.need(this.projects, projectId, 'project');
    const pkg: EtExecutionPackage = {
      Id: this.ownId(input.Id, 'package'),
      ParentId: parent?.Id ?? null,
      ProjectId: this.canon(projectId),
      Name: input.Name,
      Stereotype: input.Stereotype ?? 'Plan',
      OrderNumber: input.OrderNumber ?? [...this.packages.values()].filter((p) => p.ParentId === (parent?.Id ?? null)).length,
    };
    this.packages.set(pkg.Id, pkg);
    return pkg;
  }

  addScript(input: NewScript): EtScript {
    this.need(this.projects, input.ProjectId, 'project');
    const script: EtScript = {
      Id: this.ownId(input.Id, 'script'),
      ProjectId: this.canon(input.ProjectId),
      Name: input.Name,
      Description: input.Description ?? '',
      VersionNumber: input.VersionNumber ?? 1,
      Steps: (input.Steps ?? []).map(fullStep),
      CreatedAt: toSeconds(input.CreatedAt ?? this.now()),
      CreatedById: input.CreatedById ?? null,
    };
    this.scripts.set(script.Id, script);
    return script;
  }

  /** Editing a script's steps makes a new version; later runs copy it, older runs keep theirs. */
  updateScriptSteps(scriptId: string, steps: Array<Partial<EtScriptStep> & { Description: string }>): EtScript {
    const script = this.need(this.scripts, scriptId, 'script');
    script.Steps = steps.map(fullStep);
    script.VersionNumber += 1;
    return script;
  }

  addScriptAssignment(input: NewAssignment): EtScriptAssignment {
    const script = this.need(this.scripts, input.ScriptId, 'script');
    const pkg = this.need(this.packages, input.PackageId, 'execution package');
    if (script.ProjectId !== pkg.ProjectId) throw new Error('script and execution package belong to different projects');
    const assignment: EtScriptAssignment = {
      Id: this.ownId(input.Id, 'assignment'),
      ScriptId: script.Id,
      PackageId: pkg.Id,
      AssignedToId: input.AssignedToId ? this.need(this.users, input.AssignedToId, 'user').Id : null,
      OrderNumber: input.OrderNumber ?? [...this.assignments.values()].filter((a) => a.PackageId === pkg.Id).length,
    };
    this.assignments.set(assignment.Id, assignment);
    return assignment;
  }

  /** Arranges a run as it would look after any history; no lifecycle rule is applied. */
  addScriptRun(assignmentId: string, input: NewRun = {}): EtScriptRun {
    const assignment = this.need(this.assignments, assignmentId, 'script assignment');
    const script = this.need(this.scripts, assignment.ScriptId, 'script');
    const createdAt = toSeconds(input.CreatedAt ?? this.now());
    const runId = this.ownId(input.Id, 'run');
    const stepIds = script.Steps.map((step, i) => {
      const id = input.StepResultIds?.[i] ? this.canon(input.StepResultIds[i]) : this.newId('stepresult');
      this.stepResults.set(id, {
        Id: id,
        RunId: runId,
        Description: step.Description,
        ExpectedResult: step.ExpectedResult,
        Data: step.Data,
        Notes: step.Notes,
        ActualResult: input.ActualResults?.[i] ?? null,
        Outcome: input.Outcomes?.[i] ?? 'NotRun',
        HasIncidents: false,
        HasAttachments: false,
      });
      return id;
    });
    const runBy = input.RunById === undefined ? assignment.AssignedToId : input.RunById;
    const completed = input.Completed ?? false;
    const run: EtScriptRun = {
      Id: runId,
      AssignmentId: assignment.Id,
      ScriptId: script.Id,
      ScriptVersion: input.ScriptVersion ?? script.VersionNumber,
      CreatedAt: createdAt,
      LastUpdatedAt: input.LastUpdatedAt ? toSeconds(input.LastUpdatedAt) : createdAt,
      CreatedById: input.CreatedById === undefined ? runBy : input.CreatedById,
      RunById: runBy,
      LastUpdatedById: runBy,
      ActualDuration: input.ActualDuration ?? '',
      Status: '',
      Completed: completed,
      FieldValues: { ...input.FieldValues },
      StepResultIds: stepIds,
    };
    this.runs.set(run.Id, run);
    run.Status = input.Status ?? (completed ? completedStatus(this.outcomesOf(run)) : RUN_STATUS.inProgress);
    return run;
  }

  /** Sets a step result directly (arranging a test); the API path is updateRun. */
  setStepResult(stepResultId: string, values: { Outcome?: Outcome; ActualResult?: string | null }): EtStepResult {
    const step = this.need(this.stepResults, stepResultId, 'step result');
    if (values.Outcome !== undefined) step.Outcome = values.Outcome;
    if (values.ActualResult !== undefined) step.ActualResult = values.ActualResult;
    return step;
  }

  getRun(id: string): EtScriptRun | undefined {
    return this.find(this.runs, id);
  }

  hasRun(id: string): boolean {
    return this.getRun(id) !== undefined;
  }

  getStepResult(id: string): EtStepResult | undefined {
    return this.find(this.stepResults, id);
  }

  /** The run's step results in step order (empty for an unknown run). */
  getStepResults(runId: string): EtStepResult[] {
    const run = this.getRun(runId);
    return run ? run.StepResultIds.map((id) => this.stepResults.get(id)!).filter(Boolean) : [];
  }

  outcomesOf(run: EtScriptRun): Outcome[] {
    return this.getStepResults(run.Id).map((s) => s.Outcome);
  }

  /** An assignment's runs, newest first (the order the vendor's runs example shows). */
  runsOfAssignment(assignmentId: string): EtScriptRun[] {
    const id = normalizeGuid(assignmentId) ?? assignmentId;
    return [...this.runs.values()].filter((r) => r.AssignmentId === id).sort(newestFirst);
  }

  /**
   * POST /scriptassignment/{id}/runs (§7.1): the unfinished run if there is one (created=false,
   * answered 200), else a new run from the script's current version with every step NotRun.
   */
  startRun(assignmentId: string, callerId: string, testerId?: string | null): { run: EtScriptRun; created: boolean } {
    const assignment = this.find(this.assignments, assignmentId);
    if (!assignment) throw new EtApiError(404, `Could not find a script assignment with id '${assignmentId}'.`);
    const unfinished = this.runsOfAssignment(assignment.Id).find((r) => !r.Completed);
    if (unfinished) return { run: unfinished, created: false };
    let runBy = callerId;
    if (testerId) {
      const tester = this.find(this.users, testerId);
      // A bad TesterId is a validation failure, which ET reports as 403 (§9); wording unverified.
      if (!tester) throw new EtApiError(403, `The TesterId '${testerId}' does not match an existing user.`);
      runBy = tester.Id;
    }
    const now = toSeconds(this.now());
    const run = this.addScriptRun(assignment.Id, { CreatedAt: new Date(now), RunById: runBy, CreatedById: callerId });
    return { run, created: true };
  }

  /**
   * PUT /scriptrun/{id} (§4.3, §7.2–7.4). Everything is validated before anything changes.
   * After completion step results are frozen but ActualDuration and FieldValues stay editable
   * (vendor README). Unverified choices, each the reading least likely to lose data:
   * - re-sending a step's current values to a completed run is accepted; a change is 403;
   * - AttemptToComplete on a completed run is a no-op (there is no reopen, and no error is
   *   documented for it);
   * - an unknown Outcome text or a step id of another run is a 403 validation failure.
   */
  updateRun(runId: string, update: RunUpdate, callerId: string): EtScriptRun {
    const run = this.getRun(runId);
    if (!run) throw new EtApiError(404, `Could not find a script run with id '${runId}'.`);
    const changes = this.validateStepChanges(run, update.StepResults);
    if (update.ActualDuration !== undefined && update.ActualDuration !== null && typeof update.ActualDuration !== 'string') {
      throw new EtApiError(403, 'ActualDuration must be a string.');
    }
    if (update.FieldValues !== undefined && update.FieldValues !== null && !isPlainObject(update.FieldValues)) {
      throw new EtApiError(403, 'FieldValues must be an object.');
    }
    for (const { step, outcome, actual } of changes) {
      if (outcome !== undefined) step.Outcome = outcome;
      if (actual !== undefined) step.ActualResult = actual;
    }
    if (typeof update.ActualDuration === 'string') run.ActualDuration = update.ActualDuration;
    if (isPlainObject(update.FieldValues)) Object.assign(run.FieldValues, update.FieldValues);
    if (update.AttemptToComplete === true && !run.Completed) {
      run.Completed = true;
      run.Status = completedStatus(this.outcomesOf(run));
    }
    run.LastUpdatedAt = toSeconds(this.now());
    run.LastUpdatedById = callerId;
    return run;
  }

  /** DELETE /scriptrun/{id}: the run and its step results go; false when there was none. */
  deleteRun(runId: string): boolean {
    const run = this.getRun(runId);
    if (!run) return false;
    for (const id of run.StepResultIds) this.stepResults.delete(id);
    this.runs.delete(run.Id);
    return true;
  }

  /** Cascades to the assignment's runs (the reference presumes so, §7.6, unverified). */
  deleteAssignment(assignmentId: string): boolean {
    const assignment = this.find(this.assignments, assignmentId);
    if (!assignment) return false;
    for (const run of this.runsOfAssignment(assignment.Id)) this.deleteRun(run.Id);
    this.assignments.delete(assignment.Id);
    return true;
  }

  /** Basic-auth check: user names compare case-insensitively (Windows-style logins), passwords exactly. */
  authenticate(username: string, password: string): EtUser | undefined {
    const lower = username.toLowerCase();
    return [...this.users.values()].find((u) => u.Enabled && u.Password !== null && u.UserName.toLowerCase() === lower && u.Password === password);
  }

  userByName(username: string): EtUser | undefined {
    const lower = username.toLowerCase();
    return [...this.users.values()].find((u) => u.UserName.toLowerCase() === lower);
  }

  /** Case-insensitive lookup by any GUID form (§2). */
  find<T>(map: Map<string, T>, id: string | null | undefined): T | undefined {
    if (!id) return undefined;
    const key = normalizeGuid(id);
    return key ? map.get(key) : undefined;
  }

  private validateStepChanges(run: EtScriptRun, raw: unknown): Array<{ step: EtStepResult; outcome?: Outcome; actual?: string | null }> {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw new EtApiError(403, 'StepResults must be a list of step results.');
    return raw.map((entry: unknown) => {
      const item = isPlainObject(entry) ? entry : {};
      const id = typeof item.Id === 'string' ? normalizeGuid(item.Id) : null;
      const step = id && run.StepResultIds.includes(id) ? this.stepResults.get(id) : undefined;
      if (!step) throw new EtApiError(403, `The step result '${String(item.Id)}' does not belong to script run '${run.Id}'.`);
      let outcome: Outcome | undefined;
      if (item.Outcome !== undefined && item.Outcome !== null) {
        outcome = parseOutcome(item.Outcome) ?? undefined;
        if (!outcome) throw new EtApiError(403, `'${String(item.Outcome)}' is not a valid step result outcome (NotRun, Passed, Failed, Blocked, Undetermined).`);
      }
      let actual: string | null | undefined;
      if (item.ActualResult !== undefined) {
        if (item.ActualResult !== null && typeof item.ActualResult !== 'string') throw new EtApiError(403, 'ActualResult must be a string.');
        actual = item.ActualResult;
      }
      const changes = (outcome !== undefined && outcome !== step.Outcome) || (actual !== undefined && actual !== step.ActualResult);
      if (run.Completed && changes) {
        throw new EtApiError(403, 'The script run has been completed: the outcome and actual result of its step results can no longer be changed.');
      }
      return { step, outcome, actual };
    });
  }

  private ownId(id: string | undefined, kind: string): string {
    if (id === undefined) return this.newId(kind);
    const canon = normalizeGuid(id);
    if (!canon) throw new Error(`not a GUID: ${id}`);
    return canon;
  }

  private canon(id: string): string {
    const canon = normalizeGuid(id);
    if (!canon) throw new Error(`not a GUID: ${id}`);
    return canon;
  }

  private need<T>(map: Map<string, T>, id: string, what: string): T {
    const found = this.find(map, id);
    if (!found) throw new Error(`no ${what} with id ${id}`);
    return found;
  }
}

function fullStep(step: Partial<EtScriptStep> & { Description: string }): EtScriptStep {
  return { Description: step.Description, ExpectedResult: step.ExpectedResult ?? '', Data: step.Data ?? null, Notes: step.Notes ?? null };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Newest first; equal times fall back to the id so every listing is stable. */
export function newestFirst(a: EtScriptRun, b: EtScriptRun): number {
  return b.CreatedAt - a.CreatedAt || a.Id.localeCompare(b.Id);
}
