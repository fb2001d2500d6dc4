/**
 * Stored records → the JSON ET answers (vendor reference §2, §4): PascalCase, GUIDs lower case,
 * timestamps `yyyy-MM-ddTHH:mm:ssZ`, nulls emitted rather than omitted, denormalised names next
 * to ids, absolute `Self` URLs that include the application path, `Expands` and `Links`.
 * Property order follows the vendor's examples.
 */
import { EMPTY_GUID, isoSeconds, RUN_STATUS, type EtExecutionPackage, type EtProject, type EtScript, type EtScriptAssignment, type EtScriptRun, type EtStepResult, type EtUser } from './model';
import type { EnterpriseTesterStore } from './store';

export interface ViewContext {
  store: EnterpriseTesterStore;
  /** Absolute application root as the client reached it, e.g. `http://127.0.0.1:5000/EnterpriseTester`. */
  root: string;
}

type Json = Record<string, unknown>;
type Link = { Href: string; Rel: string };

/** `$expand` names, matched case-insensitively. */
export function parseExpand(value: string | null): Set<string> {
  return new Set((value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/**
 * What `Expands` still offers. The Expand help says expanded names leave the list, and the
 * vendor's FieldValues example does so — but the run examples keep "StepResults" after
 * expanding it (§10), so that one name always stays.
 */
function remaining(all: readonly string[], expand: Set<string>, sticky: readonly string[] = []): string[] {
  return all.filter((name) => sticky.includes(name) || !expand.has(name.toLowerCase()));
}

const userName = (ctx: ViewContext, id: string | null) => (id ? (ctx.store.users.get(id)?.UserName ?? null) : null);
const date = (ms: number | null) => (ms === null ? null : isoSeconds(ms));

/**
 * How a run is shown: `single` for GET/PUT /scriptrun/{id} (the 5.x GET example lists four
 * expansions), `listed` for collections and `created` for POST …/runs (their examples list
 * two). A `created` run's inlined step results carry the empty GUID as RunId (§10).
 */
export type RunShape = 'single' | 'listed' | 'created';

export function runView(ctx: ViewContext, run: EtScriptRun, expand: Set<string>, shape: RunShape): Json {
  const all = shape === 'single' ? ['Assignment', 'Widgets', 'FieldValues', 'StepResults'] : ['Assignment', 'StepResults'];
  const view: Json = {
    Id: run.Id,
    ActualDuration: run.ActualDuration,
    ScriptId: run.ScriptId,
    ScriptVersion: run.ScriptVersion,
    AssignmentId: run.AssignmentId,
    CreatedAt: isoSeconds(run.CreatedAt),
    LastUpdatedAt: isoSeconds(run.LastUpdatedAt),
    CreatedById: run.CreatedById,
    CreatedBy: userName(ctx, run.CreatedById),
    RunById: run.RunById,
    RunBy: userName(ctx, run.RunById),
    LastUpdatedById: run.LastUpdatedById,
    LastUpdatedBy: userName(ctx, run.LastUpdatedById),
    Status: run.Status,
    Completed: run.Completed,
    Expands: remaining(all, expand, ['StepResults']),
  };
  if (expand.has('stepresults')) {
    view.StepResults = ctx.store.getStepResults(run.Id).map((s) => stepResultView(ctx, s, new Set(), shape === 'created' ? 'created' : 'inline'));
  }
  if (expand.has('assignment')) {
    const assignment = ctx.store.assignments.get(run.AssignmentId);
    view.Assignment = assignment ? assignmentView(ctx, assignment, new Set()) : null;
  }
  // No custom-field widgets are configured in the simulator, so the expansion is empty.
  if (expand.has('widgets')) view.Widgets = [];
  if (expand.has('fieldvalues')) view.FieldValues = { ...run.FieldValues };
  view.Self = `${ctx.root}/api/scriptrun/${run.Id}`;
  // The run examples show no Links; §4.1 lists them. The parent-assignment link is a guess (unverified).
  view.Links = [link(`${ctx.root}/api/scriptassignment/${run.AssignmentId}`, 'Assignment')];
  return view;
}

/** `inline` inside a run (no Expands, as in the vendor example); `standalone` for GET /stepresult/{id}. */
export function stepResultView(ctx: ViewContext, step: EtStepResult, expand: Set<string>, mode: 'inline' | 'created' | 'standalone'): Json {
  const view: Json = {
    RunId: mode === 'created' ? EMPTY_GUID : step.RunId,
    Id: step.Id,
    Description: step.Description,
    Data: step.Data,
    Notes: step.Notes,
    ExpectedResult: step.ExpectedResult,
    ActualResult: step.ActualResult,
    Outcome: step.Outcome,
    HasIncidents: step.HasIncidents,
    HasAttachments: step.HasAttachments,
  };
  if (mode === 'standalone') {
    view.Expands = remaining(['Run', 'Attachments', 'Incidents'], expand);
    if (expand.has('run')) {
      const run = ctx.store.runs.get(step.RunId);
      view.Run = run ? runView(ctx, run, new Set(), 'listed') : null;
    }
    if (expand.has('attachments')) view.Attachments = [];
    if (expand.has('incidents')) view.Incidents = [];
  }
  view.Self = `${ctx.root}/api/stepresult/${step.Id}`;
  return view;
}

/** Status mirrors the latest run, "Not Run" before any (§4.4, §6; derivation unverified). */
export function assignmentStatus(ctx: ViewContext, assignment: EtScriptAssignment): string {
  return ctx.store.runsOfAssignment(assignment.Id)[0]?.Status ?? RUN_STATUS.notRun;
}

export function assignmentView(ctx: ViewContext, assignment: EtScriptAssignment, expand: Set<string>): Json {
  const script = ctx.store.scripts.get(assignment.ScriptId);
  const view: Json = {
    Id: assignment.Id,
    ScriptId: assignment.ScriptId,
    Name: script?.Name ?? '',
    Status: assignmentStatus(ctx, assignment),
    AssignedTo: userName(ctx, assignment.AssignedToId),
    AssignedToId: assignment.AssignedToId,
    PackageId: assignment.PackageId,
    Expands: remaining(['Package', 'Runs', 'LastRun', 'Script'], expand),
  };
  if (expand.has('package')) {
    const pkg = ctx.store.packages.get(assignment.PackageId);
    view.Package = pkg ? packageView(ctx, pkg, new Set()) : null;
  }
  const runs = expand.has('runs') || expand.has('lastrun') ? ctx.store.runsOfAssignment(assignment.Id) : [];
  if (expand.has('runs')) view.Runs = runs.map((r) => runView(ctx, r, new Set(), 'listed'));
  if (expand.has('lastrun')) view.LastRun = runs[0] ? runView(ctx, runs[0], new Set(), 'listed') : null;
  if (expand.has('script')) view.Script = script ? scriptView(ctx, script, new Set()) : null;
  view.Self = `${ctx.root}/api/scriptassignment/${assignment.Id}`;
  // "AllRelationships" is documented; "Runs" is likely (unverified).
  view.Links = [
    link(`${ctx.root}/api/scriptassignment/${assignment.Id}/allrelationships`, 'AllRelationships'),
    link(`${ctx.root}/api/scriptassignment/${assignment.Id}/runs`, 'Runs'),
  ];
  return view;
}

export function packageView(ctx: ViewContext, pkg: EtExecutionPackage, expand: Set<string>): Json {
  const view: Json = {
    Id: pkg.Id,
    ParentId: pkg.ParentId,
    ProjectId: pkg.ProjectId,
    Name: pkg.Name,
    Stereotype: pkg.Stereotype,
    OrderNumber: pkg.OrderNumber,
    Expands: remaining(['Children', 'Parent', 'Project', 'AutomatedTestAssignments', 'ScriptAssignments', 'AgileRuns'], expand),
  };
  if (expand.has('children')) view.Children = childPackages(ctx, pkg.Id).map((c) => packageView(ctx, c, new Set()));
  if (expand.has('parent')) {
    const parent = pkg.ParentId ? ctx.store.packages.get(pkg.ParentId) : undefined;
    view.Parent = parent ? packageView(ctx, parent, new Set()) : null;
  }
  if (expand.has('project')) {
    const project = ctx.store.projects.get(pkg.ProjectId);
    view.Project = project ? projectView(ctx, project, new Set()) : null;
  }
  if (expand.has('automatedtestassignments')) view.AutomatedTestAssignments = [];
  if (expand.has('scriptassignments')) {
    view.ScriptAssignments = [...ctx.store.assignments.values()]
      .filter((a) => a.PackageId === pkg.Id)
      .sort((a, b) => a.OrderNumber - b.OrderNumber)
      .map((a) => assignmentView(ctx, a, new Set()));
  }
  if (expand.has('agileruns')) view.AgileRuns = [];
  view.Self = `${ctx.root}/api/executionpackage/${pkg.Id}`;
  const links = [link(`${ctx.root}/api/executionpackage/${pkg.Id}/children`, 'Children')];
  if (pkg.ParentId) links.push(link(`${ctx.root}/api/executionpackage/${pkg.ParentId}`, 'Parent'));
  view.Links = links;
  return view;
}

export function childPackages(ctx: ViewContext, parentId: string): EtExecutionPackage[] {
  return [...ctx.store.packages.values()].filter((p) => p.ParentId === parentId).sort((a, b) => a.OrderNumber - b.OrderNumber);
}

/** `Root|Child` with SystemInfo.PackagePathSeparator (§4.6). */
export function packagePath(ctx: ViewContext, pkg: EtExecutionPackage): string {
  const names = [pkg.Name];
  let parent = pkg.ParentId ? ctx.store.packages.get(pkg.ParentId) : undefined;
  while (parent) {
    names.unshift(parent.Name);
    parent = parent.ParentId ? ctx.store.packages.get(parent.ParentId) : undefined;
  }
  return names.join('|');
}

const PROJECT_EXPANDS = [
  'TimeTrackingConfiguration',
  'ProjectCategory',
  'Statuses',
  'Priorities',
  'RequirementTypes',
  'RequirementStatuses',
  'RequirementDifficulties',
  'IncidentTypes',
  'TestTypes',
  'IncidentResolutions',
  'IncidentStatuses',
  'Versions',
  'Components',
  'ExecutionPackages',
  'ScriptPackages',
  'RequirementPackages',
  'ExternalSystemLinks',
  'Widgets',
];

export function projectView(ctx: ViewContext, project: EtProject, expand: Set<string>): Json {
  const view: Json = {
    Id: project.Id,
    Name: project.Name,
    OrganisationId: project.OrganisationId,
    OrganisationName: project.OrganisationName,
    ProjectCategoryId: project.ProjectCategoryId,
    ProjectCategoryName: project.ProjectCategoryName,
    Description: project.Description,
    EstimatedEndDate: date(project.EstimatedEndDate),
    ManagerId: project.ManagerId,
    ManagerUserName: userName(ctx, project.ManagerId),
    Slug: project.Slug,
    AutoNumberRequirements: project.AutoNumberRequirements,
    AutoNumberScripts: project.AutoNumberScripts,
    Independent: project.Independent,
    RequirementNumberReadOnly: project.RequirementNumberReadOnly,
    ScriptNumberReadOnly: project.ScriptNumberReadOnly,
    OrderNumber: project.OrderNumber,
    StartDate: date(project.StartDate),
    ProjectTypeId: project.ProjectTypeId,
    Expands: remaining(PROJECT_EXPANDS, expand),
  };
  // Only execution packages are modelled; every other expansion is an empty list or null.
  for (const name of PROJECT_EXPANDS) {
    if (!expand.has(name.toLowerCase())) continue;
    if (name === 'ExecutionPackages') {
      view.ExecutionPackages = [...ctx.store.packages.values()]
        .filter((p) => p.ProjectId === project.Id && p.ParentId === null)
        .sort((a, b) => a.OrderNumber - b.OrderNumber)
        .map((p) => packageView(ctx, p, new Set()));
    } else if (name === 'TimeTrackingConfiguration') view.TimeTrackingConfiguration = { HoursPerDay: 8, DaysPerWeek: 5 };
    else if (name === 'ProjectCategory' || name === 'Widgets') view[name] = null;
    else view[name] = [];
  }
  view.Self = `${ctx.root}/api/project/${project.Id}`;
  return view;
}

export function userView(ctx: ViewContext, user: EtUser, expand: Set<string>): Json {
  const view: Json = {
    Id: user.Id,
    UserName: user.UserName,
    Email: user.Email,
    FirstName: user.FirstName,
    LastName: user.LastName,
    Phone: user.Phone,
    LastLogIn: date(user.LastLogIn),
    Enabled: user.Enabled,
    IsExternal: user.IsExternal,
    Expands: remaining(['Groups', 'DisplayName'], expand),
  };
  if (expand.has('groups')) view.Groups = [];
  if (expand.has('displayname')) view.DisplayName = `${user.FirstName} ${user.LastName}`.trim();
  view.Self = `${ctx.root}/api/user/${user.Id}`;
  view.Links = [link(`${ctx.root}/api/user/${user.Id}/permissions/global`, 'GlobalPermissions')];
  return view;
}

export function scriptView(ctx: ViewContext, script: EtScript, expand: Set<string>): Json {
  const project = ctx.store.projects.get(script.ProjectId);
  const view: Json = {
    Id: script.Id,
    Name: script.Name,
    Description: script.Description,
    CreatedAt: isoSeconds(script.CreatedAt),
    CreatedById: script.CreatedById,
    CreatedBy: userName(ctx, script.CreatedById),
    ProjectId: script.ProjectId,
    ProjectName: project?.Name ?? null,
    VersionNumber: script.VersionNumber,
    EstimatedDuration: '',
    Expands: remaining(['Widgets', 'FieldValues', 'Package', 'Assignments', 'Attachments', 'Steps', 'Status', 'Priority', 'Type'], expand),
  };
  if (expand.has('steps')) view.Steps = script.Steps.map((s, i) => ({ ...s, OrderNumber: i }));
  if (expand.has('assignments')) {
    view.Assignments = [...ctx.store.assignments.values()].filter((a) => a.ScriptId === script.Id).map((a) => assignmentView(ctx, a, new Set()));
  }
  view.Self = `${ctx.root}/api/script/${script.Id}`;
  return view;
}

function link(Href: string, Rel: string): Link {
  return { Href, Rel };
}
